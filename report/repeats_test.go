package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// truthDay converts the generator's truth for one day and service into the
// report's sums.
func truthDay(tr loggen.Truth, day, service string) map[string]Sums {
	out := map[string]Sums{}
	for u, s := range tr.Total(day, service) {
		out[u] = Sums{Sessions: s.Sessions, Rcvd: s.Rcvd, Sent: s.Sent}
	}
	return out
}

// TestReceptionStampedRepeatsMatchTruth: logs whose repeat copies carry
// their own reception stamps (rsyslog's RFC 3339 file format), with bursts
// across seconds, minutes and midnight, and distinct sessions equal in
// every field but the time, give the generator's exact truth for every
// day, through AddLine and through Read, in UTC and Berlin.
func TestReceptionStampedRepeatsMatchTruth(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("zoneinfo: %v", err)
	}
	cases := []struct {
		name string
		tz   string
		opts loggen.Options
	}{
		{"utc", "UTC", loggen.Options{Seed: 31, Days: 3, SessionsPerDay: 400, Users: 20, Format: loggen.RFC3339,
			RepeatBursts: 0.3, RsyslogMarkers: 0.1, CopyStamps: loggen.CopyReception, BoundaryBursts: true, Twins: 0.1}},
		{"berlin, DST change, all eras", "Europe/Berlin", loggen.Options{Seed: 32, Days: 3, SessionsPerDay: 300, Users: 20,
			Format: loggen.RFC3339, Eras: loggen.AllEras, Location: berlin, Start: time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC),
			RepeatBursts: 0.3, CopyStamps: loggen.CopyReception, BoundaryBursts: true, Twins: 0.1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tr, err := loggen.WriteLog(&buf, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tr.RepeatLines == 0 {
				t.Fatal("the log has no repeat copies")
			}
			log, ref := buf.String(), tr.Last.Add(time.Minute)
			cfg := mustConfig(t, "time_zone", tc.tz)
			for _, d := range tr.Days() {
				date, err := ParseDate(d, time.Now(), 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, svc := range []Service{All, IMAP, POP3} {
					want := truthDay(tr, d, svc.truthName())
					seq := sequential(t, cfg, date, svc, []string{log}, ref)
					if diff := cmp.Diff(want, seq.Users); diff != "" {
						t.Errorf("%s %v, AddLine (-truth +got):\n%s", d, svc, diff)
					}
					par := parallel(t, cfg, date, svc, []string{log}, ref, 2, 4096, nil)
					if diff := cmp.Diff(want, par.Users); diff != "" {
						t.Errorf("%s %v, Read (-truth +got):\n%s", d, svc, diff)
					}
				}
			}
		})
	}
}

// truthName is the generator's name of a service ("" for All).
func (s Service) truthName() string {
	switch s {
	case IMAP:
		return loggen.IMAP
	case POP3:
		return loggen.POP3
	}
	return ""
}

// capture is an InfluxDB write endpoint that keeps the points it was sent
// (a stand-in for the store: the real server's tests are in flush and
// cmd/courier-traffic); points with equal series and time merge, as they
// do in InfluxDB.
type capture struct {
	mu     sync.Mutex
	points map[string]map[string]int64 // series+time -> fields
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Encoding") == "gzip" {
		http.Error(w, err.Error(), 400)
		return
	}
	dec := lineprotocol.NewDecoderWithBytes(body)
	c.mu.Lock()
	defer c.mu.Unlock()
	for dec.Next() {
		m, _ := dec.Measurement()
		key := string(m)
		user := ""
		for {
			k, v, err := dec.NextTag()
			if err != nil || k == nil {
				break
			}
			key += "," + string(k) + "=" + string(v)
			if string(k) == "user" {
				user = string(v)
			}
		}
		fields := map[string]int64{}
		for {
			k, v, err := dec.NextField()
			if err != nil || k == nil {
				break
			}
			if v.Kind() == lineprotocol.Int {
				fields[string(k)] = v.IntV()
			}
		}
		ts, _ := dec.Time(lineprotocol.Nanosecond, time.Time{})
		fields["_user_"+user] = 0
		c.points[key+" "+fmt.Sprint(ts.UnixNano())] = fields
	}
	w.WriteHeader(204)
}

// sums adds the stored points per user.
func (c *capture) sums() map[string]Sums {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]Sums{}
	for _, f := range c.points {
		for k := range f {
			if u, ok := strings.CutPrefix(k, "_user_"); ok {
				s := out[u]
				s.Sessions++
				s.Rcvd += f["rcvd"]
				s.Sent += f["sent"]
				out[u] = s
			}
		}
	}
	return out
}

// TestReportAndPluginAgreeOnRepeats is the differential test that keeps
// the report and the plugin on one definition of a repeat: random streams
// of few distinct sessions, each copied in bursts whose copies wander
// forwards and backwards in time by up to 1.5 s (so chains form, break,
// grow at both ends, and meet other chains), rendered as RFC 3339 lines,
// go through the report (AddLine and Read) and through flush's batches
// into a store; the report's sums must equal the stored points' sums, for
// several tolerances. A copy of a flush.RepeatSet decision in report that
// drifted (another comparison, another key) fails here.
func TestReportAndPluginAgreeOnRepeats(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		for _, tol := range []string{"0s", "300ms", "1s", "2s"} {
			r := rand.New(rand.NewPCG(seed, 7))
			base := time.Date(2026, 7, 23, 11, 0, 0, 0, time.UTC)
			var lines []string
			at := base
			for i := 0; i < 600; i++ {
				if len(lines) > 0 && r.IntN(6) == 0 {
					lines = append(lines, lines[len(lines)-1]) // byte-identical, as classic loggers write copies
					continue
				}
				user := fmt.Sprintf("u%d", r.IntN(3))
				port := r.IntN(2) // port-less-like collisions: few distinct field sets
				at = at.Add(time.Duration(r.IntN(1500)-400) * time.Millisecond)
				if r.IntN(4) == 0 {
					at = at.Add(time.Duration(r.IntN(900)) * time.Microsecond)
				}
				lines = append(lines, fmt.Sprintf("%s mx imapd: LOGOUT, user=%s, ip=[::1], port=[%d], headers=0, body=0, rcvd=%d, sent=7, time=1",
					at.Format("2006-01-02T15:04:05.000000Z07:00"), user, port, 100+port))
			}
			log := strings.Join(lines, "\n") + "\n"
			cfg := mustConfig(t, "dedup_tolerance", tol)
			ref := at.Add(time.Hour)

			store := &capture{points: map[string]map[string]int64{}}
			srv := httptest.NewServer(store)
			pcfg := mustConfig(t, "dedup_tolerance", tol, "influx_url", srv.URL, "influx_bucket", "db", "stats_interval", "0",
				"influx_gzip", "false")
			f, err := flush.New(pcfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			for lo := 0; lo < len(lines); lo += 37 {
				b := f.NewBatch()
				for _, l := range lines[lo:min(lo+37, len(lines))] {
					b.AddLine(l, ref)
				}
				if out := f.Write(context.Background(), b); out != flush.Delivered {
					t.Fatalf("Write = %v", out)
				}
			}
			f.Close()
			srv.Close()
			plugin := store.sums()

			seq := sequential(t, cfg, day, All, []string{log}, ref)
			par := parallel(t, cfg, day, All, []string{log}, ref, 2, 512, nil)
			if diff := cmp.Diff(plugin, seq.Users); diff != "" {
				t.Fatalf("seed %d, tolerance %s: report (AddLine) and plugin differ (-plugin +report):\n%s", seed, tol, diff)
			}
			if diff := cmp.Diff(plugin, par.Users); diff != "" {
				t.Fatalf("seed %d, tolerance %s: report (Read) and plugin differ (-plugin +report):\n%s", seed, tol, diff)
			}
			if seq.Stats.Repeats == 0 || seq.Stats.Counted < 3 {
				t.Fatalf("seed %d, tolerance %s: %d repeats, %d counted: the stream tests too little", seed, tol,
					seq.Stats.Repeats, seq.Stats.Counted)
			}
		}
	}
}

// journalctlStamps re-renders a generated RFC 3339 line's stamp as each
// `journalctl -o` text format with a wall time would print it, in loc.
// seconds says the format prints whole seconds only.
var journalctlStamps = []struct {
	name    string
	seconds bool
	format  func(t time.Time) string
}{
	{"short", true, func(t time.Time) string { return t.Format("Jan 02 15:04:05") }},
	{"short-precise", false, func(t time.Time) string { return t.Format("Jan 02 15:04:05.000000") }},
	{"short-iso", true, func(t time.Time) string { return t.Format("2006-01-02T15:04:05-0700") }},
	{"short-iso-precise", false, func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000-0700") }},
	{"short-full", true, func(t time.Time) string { return t.Format("Mon 2006-01-02 15:04:05 MST") }},
	{"short-unix", false, func(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }},
}

// TestJournalctlFormatsMatchTruth: the same reception-stamped log (bursts
// across seconds, minutes and midnight, twins, a DST change) printed in
// every journalctl text format with microseconds gives the generator's
// truth per day, as `journalctl ... | courier-traffic report -` would. The
// formats that print whole seconds lose what tells a burst that crosses a
// second from two sessions a second apart, as a classic log does: they
// count such a burst twice (docs/repeats.md), never fewer than the truth,
// and all of them alike.
func TestJournalctlFormatsMatchTruth(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("zoneinfo: %v", err)
	}
	var buf bytes.Buffer
	tr, err := loggen.WriteLog(&buf, loggen.Options{Seed: 33, Days: 3, SessionsPerDay: 200, Users: 15,
		Format: loggen.RFC3339, Location: berlin, Start: time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC),
		RepeatBursts: 0.3, CopyStamps: loggen.CopyReception, BoundaryBursts: true, Twins: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	ref := tr.Last.Add(time.Minute)
	cfg := mustConfig(t, "time_zone", "Europe/Berlin")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	var secondsSums map[string]map[string]Sums // per day, of the first whole-second format
	for _, jf := range journalctlStamps {
		t.Run(jf.name, func(t *testing.T) {
			var b strings.Builder
			for _, l := range lines {
				stamp, rest, _ := strings.Cut(l, " ")
				ts, err := time.Parse(time.RFC3339Nano, stamp)
				if err != nil {
					t.Fatalf("generated stamp %q: %v", stamp, err)
				}
				b.WriteString(jf.format(ts.In(berlin)) + " " + rest + "\n")
			}
			log := b.String()
			for _, d := range tr.Days() {
				date, err := ParseDate(d, time.Now(), 0)
				if err != nil {
					t.Fatal(err)
				}
				got := parallel(t, cfg, date, All, []string{log}, ref, 2, 1<<14, nil)
				if got.Stats.SyntaxErrors != 0 {
					t.Errorf("%s: %d syntax errors", d, got.Stats.SyntaxErrors)
				}
				want := truthDay(tr, d, "")
				if !jf.seconds {
					if diff := cmp.Diff(want, got.Users); diff != "" {
						t.Errorf("%s (-truth +got):\n%s", d, diff)
					}
					continue
				}
				for u, w := range want {
					if g := got.Users[u]; g.Sessions < w.Sessions {
						t.Errorf("%s: %s has %d sessions, fewer than the truth's %d", d, u, g.Sessions, w.Sessions)
					}
				}
				if secondsSums == nil {
					secondsSums = map[string]map[string]Sums{}
				}
				if prev, ok := secondsSums[d]; !ok {
					secondsSums[d] = got.Users
				} else if diff := cmp.Diff(prev, got.Users); diff != "" {
					t.Errorf("%s: whole-second formats disagree (-first +%s):\n%s", d, jf.name, diff)
				}
			}
		})
	}
}
