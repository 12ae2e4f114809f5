package flush

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/google/go-cmp/cmp"
)

// Tests against a real InfluxDB 1.8.10 (internal/influxtest): the server is
// built on first use (2-3 minutes, cached) and never skipped.

func TestMain(m *testing.M) { os.Exit(influxtest.Main(m)) }

// realFlusher returns a Flusher writing to srv's database (or bucket when
// not empty), recording its log.
func realFlusher(t *testing.T, srv *influxtest.Server, extra MapGetter) (*Flusher, *logRecorder) {
	t.Helper()
	src := MapGetter{KeyInfluxBucket: srv.Bucket, KeyInfluxToken: srv.Token, KeyInfluxTimeout: "10s", KeyTimeZone: ""}
	for k, v := range extra {
		src[k] = v
	}
	return newTestFlusher(t, srv.URL, src)
}

// noSecret fails when any log line holds the token or its password part.
func noSecret(t *testing.T, rec *logRecorder, secrets ...string) {
	t.Helper()
	for _, l := range rec.all() {
		for _, s := range secrets {
			if s != "" && strings.Contains(l, s) {
				t.Errorf("log line reveals a secret: %s", l)
			}
		}
	}
}

// feed writes lines in batches of n through AddLine + Write.
func feed(t *testing.T, f *Flusher, lines []string, ref time.Time, n int) {
	t.Helper()
	for lo := 0; lo < len(lines); lo += n {
		b := f.NewBatch()
		for _, l := range lines[lo:min(lo+n, len(lines))] {
			b.AddLine(l, ref)
		}
		if got := f.Write(context.Background(), b); got != Delivered {
			t.Fatalf("Write of lines %d..: %v", lo, got)
		}
	}
}

func toInfluxSums(in map[loggen.Key]loggen.Sums) map[influxtest.Key]influxtest.Sums {
	out := make(map[influxtest.Key]influxtest.Sums, len(in))
	for k, v := range in {
		out[influxtest.Key(k)] = influxtest.Sums(v)
	}
	return out
}

func TestRealGeneratedLogSums(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("tzdata: %v", err)
	}
	cases := []struct {
		name string
		opts loggen.Options
	}{
		{"classic all eras", loggen.Options{Seed: 1, Days: 3, Location: berlin, Hosts: []string{"mx1", "mx2"},
			Format: loggen.Classic, Eras: loggen.AllEras, SessionsPerDay: 600, RsyslogMarkers: 0.05,
			Start: time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)}}, // over the DST change
		{"rfc3339 microseconds", loggen.Options{Seed: 2, Days: 2, Location: berlin, Format: loggen.RFC3339,
			SessionsPerDay: 600, RsyslogMarkers: 0.05}},
		// rsyslog's default file format with each repeat copy stamped at its
		// reception: bursts crossing seconds, minutes and midnight, and
		// distinct sessions equal in every field but the time.
		{"rfc3339 reception-stamped copies", loggen.Options{Seed: 3, Days: 2, Location: berlin, Format: loggen.RFC3339,
			SessionsPerDay: 600, RsyslogMarkers: 0.05, RepeatBursts: 0.2, CopyStamps: loggen.CopyReception,
			BoundaryBursts: true, Twins: 0.05}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := influxtest.Shared(t)
			var lines []string
			truth, err := loggen.Generate(tc.opts, func(l loggen.Line) error {
				lines = append(lines, l.Raw)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if truth.SameSecond == 0 || truth.RepeatLines == 0 || truth.MarkerLines == 0 {
				t.Fatalf("the log lacks the hard cases: %+v", truth)
			}
			ref := truth.Last.Add(time.Hour)
			// The window spans the whole log, so that the replay below is
			// all repeats.
			f, rec := realFlusher(t, srv, MapGetter{KeyTimeZone: "Europe/Berlin", KeyBatchSize: "500", KeyDedupWindow: "240h"})
			feed(t, f, lines, ref, 1000)
			want := toInfluxSums(truth.Sessions)
			got := srv.Sums(t, "courier_session", berlin)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("sums (-want +got):\n%s", diff)
			}
			st := f.Stats()
			if st.Records != truth.Lines {
				t.Errorf("Records = %d, want %d", st.Records, truth.Lines)
			}
			// Accounting against the generator's truth. Era30 session ends
			// (no rcvd/sent) are noise to the truth but sessions to us: they
			// become points without byte fields, which the sums ignore.
			var preLogin int64
			for _, s := range truth.PreLogin {
				preLogin += s.Sessions
			}
			if want := truth.TrafficLines + truth.RepeatLines + truth.NoBytesSessions; st.Traffic != want {
				t.Errorf("Traffic = %d, want %d", st.Traffic, want)
			}
			if st.Markers < truth.MarkerLines {
				t.Errorf("Markers = %d, want at least %d", st.Markers, truth.MarkerLines)
			}
			// Pre-login copies are skipped as unauthenticated before dedup.
			if got, want := st.Repeats+st.Unauthenticated, truth.RepeatLines+st.Markers+preLogin; got != want || st.Unauthenticated < preLogin {
				t.Errorf("Repeats %d + Unauthenticated %d = %d, want %d (pre-login %d)", st.Repeats, st.Unauthenticated, got, want, preLogin)
			}
			if want := truth.TrafficLines - preLogin + truth.NoBytesSessions; st.PointsWritten != want {
				t.Errorf("PointsWritten = %d, want %d", st.PointsWritten, want)
			}
			if st.SyntaxErrors != 0 || st.Rejected != 0 || st.Drops != 0 || st.Retries != 0 {
				t.Errorf("stats %+v: want no syntax errors, rejections, drops or retries", st)
			}

			// Everything again through a fresh Flusher (empty seen-set, as
			// after a restart or a back-fill over live data): the same points
			// are rewritten, the sums do not change.
			f2, rec2 := realFlusher(t, srv, MapGetter{KeyTimeZone: "Europe/Berlin", KeyBatchSize: "500"})
			feed(t, f2, lines, ref, 777)
			if diff := cmp.Diff(want, srv.Sums(t, "courier_session", berlin)); diff != "" {
				t.Fatalf("sums after writing everything twice (-want +got):\n%s", diff)
			}
			// And through the first Flusher: all repeats, no request.
			reqs := f.Stats().Requests
			feed(t, f, lines, ref, 1000)
			if got := f.Stats().Requests; got != reqs {
				t.Errorf("replay through the same Flusher made %d requests, want 0", got-reqs)
			}
			noSecret(t, rec)
			noSecret(t, rec2)
		})
	}
}

func TestRealSameSecondSessions(t *testing.T) {
	srv := influxtest.Shared(t)
	f, _ := realFlusher(t, srv, MapGetter{KeyTimeZone: "UTC"})
	b := f.NewBatch()
	b.AddLine(logLine(5, "alice", 40001, 100), refTime)
	b.AddLine(logLine(5, "alice", 40002, 100), refTime) // another session, same second, same bytes
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatal(got)
	}
	got := srv.Sums(t, "", time.UTC)
	want := map[influxtest.Key]influxtest.Sums{
		{Day: "2026-07-03", Service: "imap", User: "alice"}: {Sessions: 2, Rcvd: 200, Sent: 600},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
}

func TestRealHostileNames(t *testing.T) {
	srv := influxtest.Shared(t)
	f, _ := realFlusher(t, srv, nil)
	b := f.NewBatch()
	user := `a,b=c d"\x`
	host := "mail host, one=1"
	b.AddMessage("imapd", host, refTime, time.Second,
		"LOGOUT, user="+user+", ip=[::ffff:192.0.2.7], port=[1], headers=1, body=2, rcvd=3, sent=4, time=5")
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatal(got)
	}
	res := srv.Exec(t, `SELECT rcvd, host, "user" FROM courier_session`)
	if len(res) != 1 || len(res[0].Series) != 1 || len(res[0].Series[0].Values) != 1 {
		t.Fatalf("query result %+v", res)
	}
	row := res[0].Series[0].Values[0]
	if got := fmt.Sprint(row[2], "|", row[3]); got != host+"|"+user {
		t.Errorf("stored host|user = %q, want %q", got, host+"|"+user)
	}
}

func TestRealFieldTypeConflictDrops(t *testing.T) {
	srv := influxtest.Shared(t)
	// A string rcvd in the same shard makes the integer rcvd conflict.
	srv.Write(t, fmt.Sprintf(`courier_session,host=mx1,service=imap,user=zed rcvd="lots" %d`, refTime.UnixNano()))
	f, rec := realFlusher(t, srv, nil)
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	if got := f.Write(context.Background(), b); got != Drop {
		t.Fatalf("Write = %v, want drop", got)
	}
	if got := rec.grep("error: ", "status 400", "field type conflict"); len(got) != 1 {
		t.Errorf("want the server message in one error line; log:\n%s", strings.Join(rec.all(), "\n"))
	}
	if st := f.Stats(); st.Drops != 1 || st.PointsDropped != 1 || st.PointsWritten != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRealMissingDatabaseRetries(t *testing.T) {
	srv := influxtest.Shared(t)
	f, rec := realFlusher(t, srv, MapGetter{KeyInfluxBucket: "no_such_db/autogen"})
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	if got := f.Write(context.Background(), b); got != Retry {
		t.Fatalf("Write = %v, want retry", got)
	}
	if got := rec.grep("error: ", "status 404", "database not found"); len(got) != 1 {
		t.Errorf("want the server message in one error line; log:\n%s", strings.Join(rec.all(), "\n"))
	}
}

// TestRealPrivateServer covers what needs a server of its own: auth, a
// small max-body-size (413), stop and restart.
func TestRealPrivateServer(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true, MaxBodySize: 4000})
	if srv.Token == "" {
		t.Fatal("influxtest gave no token with Auth on")
	}
	_, password, _ := strings.Cut(srv.Token, ":")
	const wrong = "admin:not-the-password"

	t.Run("wrong token retries", func(t *testing.T) {
		f, rec := realFlusher(t, srv, MapGetter{KeyInfluxToken: wrong})
		b := f.NewBatch()
		b.AddLine(logLine(1, "alice", 1, 1), refTime)
		if got := f.Write(context.Background(), b); got != Retry {
			t.Fatalf("Write = %v, want retry", got)
		}
		if got := rec.grep("error: ", "status 401"); len(got) != 1 {
			t.Errorf("want one error line with status 401; log:\n%s", strings.Join(rec.all(), "\n"))
		}
		noSecret(t, rec, wrong, "not-the-password")
	})

	t.Run("right token, 413 splits", func(t *testing.T) {
		// Uncompressed: influxd limits the body as sent.
		f, rec := realFlusher(t, srv, MapGetter{KeyInfluxGzip: "false"})
		b := f.NewBatch()
		for i := 0; i < 60; i++ {
			b.AddLine(logLine(i%60, fmt.Sprintf("user%02d", i), 1000+i, i), refTime)
		}
		if got := f.Write(context.Background(), b); got != Delivered {
			t.Fatalf("Write = %v, want delivered", got)
		}
		if len(rec.grep("status 413")) == 0 {
			t.Errorf("no 413 seen: max-body-size not in effect?\n%s", strings.Join(rec.all(), "\n"))
		}
		sums := srv.Sums(t, "", time.UTC)
		if len(sums) != 60 {
			t.Errorf("%d users stored, want 60", len(sums))
		}
		noSecret(t, rec, srv.Token, password)
	})

	t.Run("stopped server retries, restart stores once", func(t *testing.T) {
		f, rec := realFlusher(t, srv, MapGetter{KeyInfluxTimeout: "3s"})
		fill := func() *Batch {
			b := f.NewBatch()
			b.AddLine(logLine(30, "carol", 7, 1000), refTime)
			b.AddLine(logLine(31, "carol", 8, 2000), refTime)
			return b
		}
		srv.Stop(t)
		if got := f.Write(context.Background(), fill()); got != Retry {
			t.Fatalf("Write to a stopped server = %v, want retry", got)
		}
		if got := rec.grep("error: ", "no response"); len(got) != 1 {
			t.Errorf("want one error line for the connection failure; log:\n%s", strings.Join(rec.all(), "\n"))
		}
		srv.Restart(t)
		if got := f.Write(context.Background(), fill()); got != Delivered {
			t.Fatalf("retried Write = %v, want delivered", got)
		}
		// A second retry (Fluent Bit may resend) changes nothing either.
		if got := f.Write(context.Background(), fill()); got != Delivered {
			t.Fatal(got)
		}
		sums := srv.Sums(t, "", time.UTC)
		want := influxtest.Sums{Sessions: 2, Rcvd: 3000, Sent: 600}
		if got := sums[influxtest.Key{Day: "2026-07-03", Service: "imap", User: "carol"}]; got != want {
			t.Errorf("carol = %+v, want %+v", got, want)
		}
		noSecret(t, rec, srv.Token, password)
	})
}
