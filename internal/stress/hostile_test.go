package stress

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/faultproxy"
	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
)

// The fuzz targets of the "hostile input" section are the parser's
// (parser/fuzz_test.go: FuzzParseLine, FuzzParseMessage) and the chunk
// decoder's (flush/chunk/fuzz_test.go: FuzzDecode); scripts/stress.sh runs
// them for a bounded time each, and `go test -fuzz` keeps any input that
// fails under the package's testdata/fuzz/. This file covers what fuzzing
// cannot judge: what ends up in InfluxDB.

// hostileUsers and hostileHosts carry every byte the line protocol treats
// specially, plus what it cannot carry at all.
var (
	hostileUsers = []string{
		"comma,user", "equals=user", "space user", `quote"user`, `back\slash`, "new\nline",
		"bad\xffutf8", `trailing\`, "x,host=evil", `y sent=999i`, "tab\tuser", "cr\ruser",
		`"`, `\`, "=", ",", "é-ünïcode@example.org", "a,b=c d\"e\\f",
	}
	hostileHosts = []string{
		"mx", "h,tag=1", "h=1", `h"1`, `h\1`, "h\xfe", "h\n1", "h 1",
	}
)

// injected is one hostile record and how to recognise its point.
type injected struct {
	host, user string
	rcvd       int64 // unique per record: the key to find its point
	style      string
}

// TestInjection: sessions whose user name or host carries line-protocol
// syntax, newlines or invalid UTF-8, sent as syslog-input records (host and
// message as fields) and as tail records (a raw line). Each is either
// stored exactly (host and user tags byte-equal to the input, its own rcvd
// and sent) or not stored and counted (rejected, syntax_errors,
// not_traffic or invalid in the plugin's final stats). Nothing else is
// written: no other measurement, tag key or field key, and as many points
// as records stored.
func TestInjection(t *testing.T) {
	start := time.Now()
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true})
	h := startHost(t, "COURIER_TRAFFIC_LOG_LEVEL=debug")
	if err := h.Init("a", props(srv, "")...); err != nil {
		t.Fatalf("%v\n%s", err, h.Log())
	}
	base := time.Date(2026, 7, 28, 10, 0, 0, 0, time.UTC)
	var recs []injected
	var b []byte
	for _, host := range hostileHosts {
		for _, user := range hostileUsers {
			for _, style := range []string{"syslog", "tail"} {
				in := injected{host: host, user: user, rcvd: int64(1000 + len(recs)), style: style}
				recs = append(recs, in)
				ts := base.Add(time.Duration(len(recs)) * time.Second)
				msg := fmt.Sprintf("LOGOUT, user=%s, ip=[::ffff:192.0.2.7], port=[%d], headers=0, body=0, rcvd=%d, sent=%d, time=5, starttls=1",
					user, 40000+len(recs), in.rcvd, 2*in.rcvd)
				b = append(b, "e:"...)
				b = strconv.AppendInt(b, ts.Unix(), 10)
				if style == "syslog" {
					b = append(b, " host s:"...)
					b = fbhost.AppendEscaped(b, host)
					b = append(b, " ident s:imapd message s:"...)
					b = fbhost.AppendEscaped(b, msg)
				} else {
					b = append(b, " log s:"...)
					b = fbhost.AppendEscaped(b, ts.Format(time.RFC3339)+" "+host+" imapd: "+msg)
				}
				b = append(b, '\n')
			}
		}
	}
	path := filepath.Join(t.TempDir(), "hostile")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.One("flush a " + path + " v2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != fbhost.OK {
		t.Fatalf("flush: %s, want FLB_OK (bad records are skipped, never fail a chunk)\n%s", got.Name, tail(h.Log(), 20))
	}
	peak, _ := h.Memory()
	if err := h.Exit("a"); err != nil {
		t.Fatal(err)
	}
	stats := finalStats(t, h.Log())

	type point struct {
		host, user string
		sent       int64
	}
	points := map[int64][]point{}
	res, err := srv.Query(`SELECT "host", "user", rcvd, sent FROM courier_session`)
	if err != nil {
		t.Fatal(err)
	}
	var npoints int64
	for _, r := range res {
		if r.Err != "" {
			t.Fatal(r.Err)
		}
		for _, ser := range r.Series {
			for _, v := range ser.Values {
				if len(v) != 5 {
					t.Fatalf("row %v: want time, host, user, rcvd, sent", v)
				}
				host, _ := v[1].(string)
				user, _ := v[2].(string)
				rcvd, err1 := v[3].(json.Number).Int64()
				sent, err2 := v[4].(json.Number).Int64()
				if err1 != nil || err2 != nil {
					t.Fatalf("row %v: rcvd/sent not integers", v)
				}
				points[rcvd] = append(points[rcvd], point{host, user, sent})
				npoints++
			}
		}
	}
	var stored, skipped int64
	var skippedCases []string
	for _, in := range recs {
		ps := points[in.rcvd]
		delete(points, in.rcvd)
		switch {
		case len(ps) == 0:
			skipped++
			skippedCases = append(skippedCases, fmt.Sprintf("%s host=%q user=%q", in.style, in.host, in.user))
		case len(ps) == 1 && ps[0] == point{in.host, in.user, 2 * in.rcvd}:
			stored++
		default:
			t.Errorf("%s record host=%q user=%q rcvd=%d: stored as %+v, want exactly host=%q user=%q sent=%d",
				in.style, in.host, in.user, in.rcvd, ps, in.host, in.user, 2*in.rcvd)
		}
	}
	for rcvd, ps := range points {
		t.Errorf("points no record produced: rcvd=%d %+v", rcvd, ps)
	}
	counted := stats["rejected"] + stats["syntax_errors"] + stats["not_traffic"] + stats["invalid"]
	if skipped != counted {
		t.Errorf("%d records not stored, but the stats count %d (rejected %d, syntax_errors %d, not_traffic %d, invalid %d)",
			skipped, counted, stats["rejected"], stats["syntax_errors"], stats["not_traffic"], stats["invalid"])
	}
	if stats["points_written"] != stored || npoints != stored {
		t.Errorf("points_written %d, points in InfluxDB %d, records stored exactly %d: want all equal",
			stats["points_written"], npoints, stored)
	}
	if stored == 0 {
		t.Errorf("nothing stored: every hostile record was refused, even the representable ones")
	}
	checkSchema(t, srv)
	t.Logf("not stored (counted), %d records: %s", len(skippedCases), strings.Join(skippedCases, "; "))
	addRow(t, row{Scenario: "line-protocol injection", RecordsIn: int64(len(recs)), Truth: int64(len(recs)),
		Stored: stored, PeakRSS: peak.HWM, Time: time.Since(start),
		Note: fmt.Sprintf("%d stored byte-exact, %d refused and counted (rejected %d, syntax_errors %d, not_traffic %d); none altered",
			stored, skipped, stats["rejected"], stats["syntax_errors"], stats["not_traffic"])})
}

// checkSchema fails unless the database holds only courier_session with
// the tags and fields of the schema (docs/design.md, Schema).
func checkSchema(t *testing.T, srv *influxtest.Server) {
	t.Helper()
	list := func(q string) []string {
		t.Helper()
		res, err := srv.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res {
			for _, s := range r.Series {
				for _, v := range s.Values {
					if name, ok := v[0].(string); ok {
						out = append(out, name)
					}
				}
			}
		}
		slices.Sort(out)
		return out
	}
	if got := list("SHOW MEASUREMENTS"); !slices.Equal(got, []string{"courier_session"}) {
		t.Errorf("measurements %q, want only courier_session", got)
	}
	if got := list("SHOW TAG KEYS FROM courier_session"); !slices.Equal(got, []string{"host", "service", "user"}) {
		t.Errorf("tag keys %q, want host, service, user", got)
	}
	allowed := []string{"body", "daemon", "duration", "event", "headers", "ip", "port", "rcvd", "retr", "sent", "tls", "top"}
	for _, k := range list("SHOW FIELD KEYS FROM courier_session") {
		if !slices.Contains(allowed, k) {
			t.Errorf("field key %q is not in the schema %q", k, allowed)
		}
	}
}

var statRE = regexp.MustCompile(`([a-z_]+)=(\d+)`)

// finalStats parses the plugin's "stats (final): k=v ..." log line.
func finalStats(t *testing.T, log string) map[string]int64 {
	t.Helper()
	for _, l := range strings.Split(log, "\n") {
		_, after, ok := strings.Cut(l, "stats (final): ")
		if !ok {
			continue
		}
		m := map[string]int64{}
		for _, kv := range statRE.FindAllStringSubmatch(after, -1) {
			m[kv[1]], _ = strconv.ParseInt(kv[2], 10, 64)
		}
		return m
	}
	t.Fatalf("no final stats line in the plugin log:\n%s", tail(log, 10))
	return nil
}

// checkNoSecret fails if text contains a token or its password part (the
// part after "user:", when long enough not to be a common word).
func checkNoSecret(t *testing.T, what, text string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if tok == "" {
			continue
		}
		needles := []string{tok}
		if _, pw, ok := strings.Cut(tok, ":"); ok && len(pw) >= 8 {
			needles = append(needles, pw)
		}
		for _, n := range needles {
			if i := strings.Index(text, n); i >= 0 {
				lo, hi := max(0, i-80), min(len(text), i+len(n)+40)
				t.Errorf("%s contains the token (or its password): ...%q...", what, text[lo:hi])
			}
		}
	}
}

// TestSecrets: the token never appears in any output: the plugin's log at
// debug level (its configuration line, every error) with a refused token,
// with a server that echoes the token in its error body, and with no
// server at all; and the CLI's output with a refused token given as a
// flag and through $INFLUX_TOKEN.
func TestSecrets(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true, Auth: true})
	proxy, err := faultproxy.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	proxy.Set(faultproxy.Fault{Status: 401,
		Body: `{"code":"unauthorized","message":"token ` + wrongToken + ` (password ` + passwordOf(wrongToken) + `) is not valid"}`})
	closed := closedPort(t)
	rec := []byte(fmt.Sprintf("e:%d log s:%s\n", time.Date(2026, 7, 28, 10, 0, 0, 0, time.UTC).Unix(),
		fbhost.AppendEscaped(nil, "2026-07-28T10:00:00Z mx imapd: LOGOUT, user=bob, ip=[::1], port=[1], headers=0, body=0, rcvd=1, sent=2, time=3")))
	path := filepath.Join(t.TempDir(), "one")
	if err := os.WriteFile(path, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url, see string
	}{
		{"refused token", srv.URL, "status 401"},
		{"server echoes the token", proxy.URL, "is not valid"},
		{"no server", closed, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHost(t, "COURIER_TRAFFIC_LOG_LEVEL=debug")
			p := withoutKey(props(srv, tc.url, "influx_timeout", "2s"), "influx_token", srv.Token)
			if err := h.Init("a", append(p, "influx_token", wrongToken)...); err != nil {
				t.Fatalf("%v\n%s", err, h.Log())
			}
			got, _, err := h.One("flush a " + path + " v1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != fbhost.Retry {
				t.Errorf("flush: %s, want FLB_RETRY", got.Name)
			}
			if err := h.Exit("a"); err != nil {
				t.Fatal(err)
			}
			log := h.Log()
			if !strings.Contains(log, "[error]") {
				t.Errorf("no error logged for the failed write:\n%s", log)
			}
			checkNoSecret(t, "plugin log", log, wrongToken)
			// The failure's reason is logged (the check above is not vacuous).
			if !strings.Contains(log, tc.see) {
				t.Errorf("plugin log lacks %q:\n%s", tc.see, log)
			}
		})
	}
	cli := cliBinary(t)
	logFile := filepath.Join(t.TempDir(), "mail.log")
	if err := os.WriteFile(logFile, []byte("2026-07-28T10:00:00Z mx imapd: LOGOUT, user=bob, ip=[::1], port=[1], headers=0, body=0, rcvd=1, sent=2, time=3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		url  string
		see  string
	}{
		{"cli flag, refused", []string{"--influx-token", wrongToken}, nil, srv.URL, "status 401"},
		{"cli env, refused, verbose", []string{"--verbose"}, []string{"INFLUX_TOKEN=" + wrongToken}, srv.URL, "status 401"},
		{"cli flag, echoed", []string{"--influx-token", wrongToken, "--verbose"}, nil, proxy.URL, "is not valid"},
		{"cli flag, no server", []string{"--influx-token", wrongToken, "--influx-timeout", "2s"}, nil, closed, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"backfill", "--no-progress", "--tz", "UTC", "--influx-url", tc.url, "--influx-bucket", srv.Bucket}, tc.args...)
			cmd := exec.Command(cli, append(args, logFile)...)
			cmd.Env = append(os.Environ(), tc.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Errorf("backfill with a refused token succeeded:\n%s", out)
			}
			checkNoSecret(t, "CLI output", string(out), wrongToken)
			if !strings.Contains(string(out), tc.see) {
				t.Errorf("CLI output lacks %q:\n%s", tc.see, out)
			}
		})
	}
}

func passwordOf(tok string) string { _, pw, _ := strings.Cut(tok, ":"); return pw }

// closedPort returns a loopback URL where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	return url
}
