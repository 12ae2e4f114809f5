package influxtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	influxhttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// session is one point of the courier_session schema (docs/design.md, Schema),
// reduced to what Sums reads.
type session struct {
	t             time.Time
	service, user string
	rcvd, sent    int64
}

// encode writes sessions as line protocol with the project's encoder (never
// by string concatenation).
func encode(t *testing.T, ss []session) []byte {
	t.Helper()
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	for _, s := range ss {
		enc.StartLine("courier_session")
		enc.AddTag("host", "mx1")
		enc.AddTag("service", s.service)
		enc.AddTag("user", s.user)
		enc.AddField("rcvd", lineprotocol.IntValue(s.rcvd))
		enc.AddField("sent", lineprotocol.IntValue(s.sent))
		enc.AddField("tls", lineprotocol.BoolValue(true))
		enc.EndLine(s.t)
	}
	if err := enc.Err(); err != nil {
		t.Fatalf("encoding line protocol: %v", err)
	}
	return enc.Bytes()
}

// expect computes in Go what Sums must read back from the server.
func expect(ss []session, loc *time.Location) map[Key]Sums {
	want := make(map[Key]Sums)
	for _, s := range ss {
		k := Key{Day: s.t.In(loc).Format("2006-01-02"), Service: s.service, User: s.user}
		v := want[k]
		want[k] = Sums{Sessions: v.Sessions + 1, Rcvd: v.Rcvd + s.rcvd, Sent: v.Sent + s.sent}
	}
	return want
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("loading Europe/Berlin: %v", err)
	}
	return loc
}

func TestWriteReadBack(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	loc := berlin(t)
	ss := []session{
		{t: time.Date(2024, 7, 29, 6, 36, 47, 123, loc), service: "imap", user: "alice", rcvd: 48, sent: 292},
		{t: time.Date(2024, 7, 29, 7, 1, 2, 0, loc), service: "imap", user: "alice", rcvd: 1000, sent: 14084220},
	}
	status, msg, err := s.TryWrite(s.Bucket, encode(t, ss))
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("TryWrite = %d, %q, %v; want 204", status, msg, err)
	}

	want := map[Key]Sums{{Day: "2024-07-29", Service: "imap", User: "alice"}: {Sessions: 2, Rcvd: 1048, Sent: 14084512}}
	if diff := cmp.Diff(want, s.Sums(t, "courier_session", loc)); diff != "" {
		t.Errorf("Sums mismatch (-want +got):\n%s", diff)
	}

	rows := s.Flux(t, fmt.Sprintf(`
from(bucket: %q)
  |> range(start: 2024-07-28T00:00:00Z, stop: 2024-07-30T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "courier_session" and (r._field == "rcvd" or r._field == "sent"))
  |> group(columns: ["user", "_field"])
  |> sum()`, s.Bucket))
	got := project(rows, "user", "_field", "_value")
	wantRows := []map[string]string{
		{"user": "alice", "_field": "rcvd", "_value": "1048"},
		{"user": "alice", "_field": "sent", "_value": "14084512"},
	}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("Flux sums mismatch (-want +got):\n%s", diff)
	}
}

// project keeps the named columns of rows, sorted for a stable comparison.
func project(rows []map[string]string, cols ...string) []map[string]string {
	out := make([]map[string]string, 0, len(rows))
	for _, r := range rows {
		m := make(map[string]string, len(cols))
		for _, c := range cols {
			m[c] = r[c]
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		return fmt.Sprint(out[i]) < fmt.Sprint(out[j])
	})
	return out
}

// TestSumsDays checks that the server cuts local days as Go does, across
// both 2024 DST changes in Berlin, and that the zone matters.
func TestSumsDays(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	loc := berlin(t)
	ss := []session{
		{t: time.Date(2024, 3, 30, 23, 30, 0, 0, loc), service: "imap", user: "alice", rcvd: 1, sent: 10},
		{t: time.Date(2024, 3, 31, 0, 30, 0, 0, loc), service: "imap", user: "alice", rcvd: 2, sent: 20},
		{t: time.Date(2024, 3, 31, 23, 30, 0, 0, loc), service: "imap", user: "alice", rcvd: 4, sent: 40},
		{t: time.Date(2024, 3, 31, 23, 30, 0, 0, loc), service: "pop3", user: "alice", rcvd: 8, sent: 80},
		{t: time.Date(2024, 10, 27, 0, 30, 0, 0, loc), service: "imap", user: "bob", rcvd: 16, sent: 160},
		{t: time.Date(2024, 10, 27, 2, 30, 0, 0, loc), service: "imap", user: "bob", rcvd: 32, sent: 320},
		{t: time.Date(2024, 10, 27, 23, 30, 0, 0, loc), service: "imap", user: "bob", rcvd: 64, sent: 640},
		{t: time.Date(2024, 10, 28, 0, 0, 0, 0, loc), service: "imap", user: "bob", rcvd: 128, sent: 1280},
	}
	if cmp.Equal(expect(ss, loc), expect(ss, time.UTC)) {
		t.Fatal("test data does not tell Berlin days from UTC days")
	}
	s.Write(t, string(encode(t, ss)))

	for _, tc := range []struct {
		name string
		loc  *time.Location
	}{
		{"Europe/Berlin", loc},
		{"UTC", time.UTC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := expect(ss, tc.loc)
			if diff := cmp.Diff(want, s.Sums(t, "courier_session", tc.loc)); diff != "" {
				t.Errorf("Sums mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("absent measurement", func(t *testing.T) {
		if diff := cmp.Diff(map[Key]Sums{}, s.Sums(t, "no_such_measurement", loc)); diff != "" {
			t.Errorf("Sums mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestClientWrite writes and reads with influxdb-client-go/v2, the client
// the flush package uses, and pins the error type it returns.
func TestClientWrite(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	client := influxdb2.NewClient(s.URL, s.Token)
	defer client.Close()
	ctx := context.Background()

	ss := []session{
		{t: time.Date(2024, 7, 29, 10, 0, 0, 0, time.UTC), service: "pop3", user: "carol", rcvd: 88, sent: 16288},
		{t: time.Date(2024, 7, 29, 11, 0, 0, 0, time.UTC), service: "pop3", user: "carol", rcvd: 12, sent: 100},
	}
	w := client.WriteAPIBlocking("", s.Bucket)
	if err := w.WriteRecord(ctx, strings.Split(strings.TrimSpace(string(encode(t, ss))), "\n")...); err != nil {
		t.Fatalf("WriteRecord: %v", err)
	}
	if diff := cmp.Diff(expect(ss, time.UTC), s.Sums(t, "", time.UTC)); diff != "" {
		t.Errorf("Sums mismatch (-want +got):\n%s", diff)
	}

	res, err := client.QueryAPI("").Query(ctx, fmt.Sprintf(`from(bucket: %q)
  |> range(start: 2024-07-29T00:00:00Z, stop: 2024-07-30T00:00:00Z)
  |> filter(fn: (r) => r._field == "sent")
  |> sum()`, s.Bucket))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	var sent []any
	for res.Next() {
		sent = append(sent, res.Record().Value())
	}
	if err := res.Err(); err != nil {
		t.Fatalf("Query result: %v", err)
	}
	if diff := cmp.Diff([]any{int64(16388)}, sent); diff != "" {
		t.Errorf("QueryAPI sum(sent) mismatch (-want +got):\n%s", diff)
	}

	t.Run("missing database error", func(t *testing.T) {
		err := client.WriteAPIBlocking("", "no_such_db/autogen").WriteRecord(ctx, "m f=1i 1")
		var he *influxhttp.Error
		if !errors.As(err, &he) {
			t.Fatalf("WriteRecord error = %T %v; want *http.Error", err, err)
		}
		if he.StatusCode != http.StatusNotFound {
			t.Errorf("StatusCode = %d (%v); want 404", he.StatusCode, he)
		}
		t.Logf("client error: %v", he)
	})
}

// TestWriteStatus records the answers of the real server that the flush
// package's outcome mapping depends on (docs/design.md, Delivery and retries).
func TestWriteStatus(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	s.Write(t, "courier_session,host=mx1,service=imap,user=u rcvd=1i 1722227807000000000\n")
	s.Exec(t, fmt.Sprintf(`CREATE RETENTION POLICY "short" ON %s DURATION 1h REPLICATION 1`, quoteIdent(s.DB)))

	for _, tc := range []struct {
		name       string
		bucket     string
		body       string
		gzip       bool
		wantStatus int
		wantMsg    string // substring of the server's message
	}{
		{name: "ok", bucket: s.Bucket, body: "courier_session,host=mx1,service=imap,user=u rcvd=2i 1722227808000000000", wantStatus: 204},
		{name: "gzip body", bucket: s.Bucket, body: "courier_session,host=mx1,service=imap,user=u rcvd=3i 1722227809000000000", gzip: true, wantStatus: 204},
		{name: "bucket without rp", bucket: s.DB, body: "courier_session,host=mx1,service=imap,user=u rcvd=4i 1722227810000000000", wantStatus: 204},
		{name: "field type conflict", bucket: s.Bucket, body: "courier_session,host=mx1,service=imap,user=u rcvd=1.5 1722227811000000000", wantStatus: 400, wantMsg: "partial write: field type conflict"},
		{name: "bad line protocol", bucket: s.Bucket, body: "courier_session,host=mx1 1722227812000000000", wantStatus: 400, wantMsg: "unable to parse"},
		{name: "half bad line protocol", bucket: s.Bucket, body: "courier_session,host=mx1,service=imap,user=u rcvd=5i 1722227813000000000\ngarbage", wantStatus: 400, wantMsg: "unable to parse"},
		{name: "beyond retention", bucket: s.DB + "/short", body: "courier_session,host=mx1,service=imap,user=u rcvd=1i 946684800000000000", wantStatus: 400, wantMsg: "partial write: points beyond retention policy dropped=1"},
		{name: "missing database", bucket: "no_such_db/autogen", body: "m f=1i 1", wantStatus: 404, wantMsg: "database not found"},
		{name: "empty bucket", bucket: "", body: "m f=1i 1", wantStatus: 404},
		{name: "unknown retention policy", bucket: s.DB + "/nope", body: "m f=1i 1", wantStatus: 500, wantMsg: "retention policy not found: nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := rawWrite(t, s, tc.bucket, tc.body, tc.gzip)
			t.Logf("HTTP %d %q", status, msg)
			if status != tc.wantStatus || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("write to %q = HTTP %d %q; want %d with %q", tc.bucket, status, msg, tc.wantStatus, tc.wantMsg)
			}
		})
	}

	t.Run("partial write keeps the good lines", func(t *testing.T) {
		// "half bad line protocol" above: the valid first line is written
		// although the answer is 400, so dropping such a chunk loses nothing
		// that a retry could have saved, and replaying it is idempotent.
		got := s.Exec(t, `SELECT rcvd FROM courier_session WHERE time = 1722227813000000000`)
		if len(got) != 1 || len(got[0].Series) != 1 || len(got[0].Series[0].Values) != 1 {
			t.Errorf("point before the bad line: got %+v; want 1 row", got)
		}
	})
}

// rawWrite posts body (gzipped if asked) to /api/v2/write.
func rawWrite(t *testing.T, s *Server, bucket, body string, gz bool) (int, string) {
	t.Helper()
	if !gz {
		status, msg, err := s.TryWrite(bucket, []byte(body))
		if err != nil {
			t.Fatalf("TryWrite: %v", err)
		}
		return status, msg
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	u := s.URL + "/api/v2/write?" + url.Values{"bucket": {bucket}, "precision": {"ns"}}.Encode()
	req, err := http.NewRequest(http.MethodPost, u, &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("gzip write: %v", err)
	}
	defer resp.Body.Close()
	var msg bytes.Buffer
	if _, err := msg.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, errorMessage(msg.Bytes())
}

func TestBodyTooLarge(t *testing.T) {
	s := Start(t, Options{MaxBodySize: 1000, NoFlux: true})
	line := "courier_session,host=mx1,service=imap,user=u rcvd=1i,sent=1i "
	var small, large strings.Builder
	for i := 0; small.Len() < 500; i++ {
		fmt.Fprintf(&small, "%s%d\n", line, 1722227807000000000+i)
	}
	for i := 0; large.Len() < 2000; i++ {
		fmt.Fprintf(&large, "%s%d\n", line, 1722227807000000000+i)
	}
	for _, tc := range []struct {
		name       string
		body       string
		wantStatus int
		wantMsg    string
	}{
		{"under the limit", small.String(), 204, ""},
		{"over the limit", large.String(), 413, "Request Entity Too Large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, msg, err := s.TryWrite(s.Bucket, []byte(tc.body))
			if err != nil {
				t.Fatalf("TryWrite: %v", err)
			}
			t.Logf("%d bytes: HTTP %d %q", len(tc.body), status, msg)
			if status != tc.wantStatus || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("HTTP %d %q; want %d with %q", status, msg, tc.wantStatus, tc.wantMsg)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	s := Start(t, Options{Auth: true, DB: "authdb"})
	if s.Token != "admin:secret" || s.Bucket != "authdb/autogen" {
		t.Fatalf("Token, Bucket = %q, %q; want admin:secret, authdb/autogen", s.Token, s.Bucket)
	}
	body := "courier_session,host=mx1,service=imap,user=u rcvd=1i,sent=2i 1722227807000000000"
	for _, tc := range []struct {
		name       string
		token      string
		wantStatus int
	}{
		{"no token", "", 401},
		{"wrong password", "admin:wrong", 401},
		{"unknown user", "nobody:secret", 401},
		{"right token", "admin:secret", 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := *s
			v.Token = tc.token
			status, msg, err := v.TryWrite(s.Bucket, []byte(body))
			if err != nil {
				t.Fatalf("TryWrite: %v", err)
			}
			t.Logf("HTTP %d %q", status, msg)
			if status != tc.wantStatus {
				t.Errorf("HTTP %d %q; want %d", status, msg, tc.wantStatus)
			}
			if strings.Contains(msg, "secret") {
				t.Errorf("server message %q echoes the password", msg)
			}
		})
	}
	want := map[Key]Sums{{Day: "2024-07-29", Service: "imap", User: "u"}: {Sessions: 1, Rcvd: 1, Sent: 2}}
	if diff := cmp.Diff(want, s.Sums(t, "", time.UTC)); diff != "" {
		t.Errorf("Sums with credentials mismatch (-want +got):\n%s", diff)
	}
	t.Run("query without credentials", func(t *testing.T) {
		v := *s
		v.Token = ""
		if _, err := v.Query("SHOW DATABASES"); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
			t.Errorf("Query without credentials: err = %v; want HTTP 401", err)
		}
	})
	t.Run("flux with token", func(t *testing.T) {
		rows := s.Flux(t, fmt.Sprintf(`from(bucket: %q) |> range(start: 2024-07-29T00:00:00Z, stop: 2024-07-30T00:00:00Z) |> filter(fn: (r) => r._field == "sent")`, s.Bucket))
		if diff := cmp.Diff([]map[string]string{{"_value": "2"}}, project(rows, "_value")); diff != "" {
			t.Errorf("Flux mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestStopRestart(t *testing.T) {
	s := Start(t, Options{NoFlux: true})
	loc := berlin(t)
	first := []session{{t: time.Date(2024, 7, 29, 6, 0, 0, 0, loc), service: "imap", user: "alice", rcvd: 10, sent: 100}}
	s.Write(t, string(encode(t, first)))
	url, pid := s.URL, s.Pid()

	s.Stop(t)
	if s.Pid() != 0 {
		t.Errorf("Pid after Stop = %d; want 0", s.Pid())
	}
	_, _, err := s.TryWrite(s.Bucket, encode(t, first))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("write while stopped: err = %v; want connection refused", err)
	}
	s.Stop(t) // stopping a stopped server is a no-op

	s.Restart(t)
	if s.URL != url {
		t.Errorf("URL after Restart = %s; want %s", s.URL, url)
	}
	if s.Pid() == 0 || s.Pid() == pid {
		t.Errorf("Pid after Restart = %d; want a new process (old %d)", s.Pid(), pid)
	}
	if diff := cmp.Diff(expect(first, loc), s.Sums(t, "", loc)); diff != "" {
		t.Errorf("Sums after Restart mismatch (-want +got):\n%s", diff)
	}

	// A crash right after an answered write loses nothing: the WAL is
	// fsynced before influxd answers.
	second := append(first, session{t: time.Date(2024, 7, 30, 6, 0, 0, 0, loc), service: "pop3", user: "bob", rcvd: 5, sent: 50})
	s.Write(t, string(encode(t, second[1:])))
	s.Kill(t)
	if _, _, err := s.TryWrite(s.Bucket, encode(t, first)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("write after Kill: err = %v; want connection refused", err)
	}
	s.Restart(t)
	if diff := cmp.Diff(expect(second, loc), s.Sums(t, "", loc)); diff != "" {
		t.Errorf("Sums after Kill and Restart mismatch (-want +got):\n%s", diff)
	}

	// Restart of a running server stops it first.
	pid = s.Pid()
	s.Restart(t)
	if s.Pid() == pid {
		t.Errorf("Restart of a running server kept pid %d", pid)
	}
}

func TestNoFlux(t *testing.T) {
	s := Start(t, Options{NoFlux: true})
	ss := []session{{t: time.Date(2024, 7, 29, 6, 0, 0, 0, time.UTC), service: "imap", user: "alice", rcvd: 10, sent: 100}}
	s.Write(t, string(encode(t, ss)))
	if diff := cmp.Diff(expect(ss, time.UTC), s.Sums(t, "", time.UTC)); diff != "" {
		t.Errorf("Sums mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.TryFlux(`buckets()`); err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("TryFlux with Flux off: err = %v; want HTTP 403", err)
	}
}

// fakeTB records a Fatalf and ends the goroutine as testing.T does, so that
// the fatal paths of the harness can be tested.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalOf runs fn with a fakeTB in its own goroutine and returns the fatal
// message ("" if fn returned normally).
func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.fatal
}

// TestBinaryErrors covers the lookup failures that must stop a test with a
// clear message (never a skip). It swaps the memoized binary, so it must not
// run in parallel with tests that start servers.
func TestBinaryErrors(t *testing.T) {
	binary.mu.Lock()
	saved := binary.path
	binary.mu.Unlock()
	t.Cleanup(func() {
		binary.mu.Lock()
		binary.path = saved
		binary.mu.Unlock()
	})
	notExec := filepath.Join(t.TempDir(), "influxd")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, influxd, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope"), "no such file"},
		{"directory", t.TempDir(), "not an executable file"},
		{"not executable", notExec, "not an executable file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			binary.mu.Lock()
			binary.path = ""
			binary.mu.Unlock()
			t.Setenv("INFLUXD", tc.influxd)
			msg := fatalOf(t, func(tb testing.TB) { Start(tb, Options{}) })
			for _, w := range []string{"$INFLUXD", tc.influxd, tc.want} {
				if !strings.Contains(msg, w) {
					t.Errorf("Start fatal message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestSharedRefusesStop(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	for name, op := range map[string]func(testing.TB){"Stop": s.Stop, "Kill": s.Kill, "Restart": s.Restart} {
		msg := fatalOf(t, op)
		if !strings.Contains(msg, name+" on the shared server") {
			t.Errorf("%s on a shared server: fatal %q; want a refusal", name, msg)
		}
	}
	s.Write(t, "m f=1i 1") // still up
}

func TestSumsRejectsLocal(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	msg := fatalOf(t, func(tb testing.TB) { s.Sums(tb, "", time.Local) })
	if !strings.Contains(msg, "not an IANA zone name") {
		t.Errorf("Sums(time.Local) fatal %q; want a hint about IANA names", msg)
	}
}

func TestFluxError(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	for _, tc := range []struct{ name, query, want string }{
		{"to() is not implemented", `from(bucket: "x/autogen") |> range(start: -1h) |> to(bucket: "y")`, "not implemented"},
		{"syntax", `from(bucket: `, "HTTP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.TryFlux(tc.query)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("TryFlux error = %v; want one containing %q", err, tc.want)
			}
		})
	}
}
