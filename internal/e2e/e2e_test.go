package e2e

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // Europe/Berlin without the machine's zone files, as the plugin embeds them

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

func TestMain(m *testing.M) {
	code := m.Run()
	printTable()
	os.Exit(code)
}

// result is one scenario's row of the summary table.
type result struct {
	name              string
	lines, records    int64 // log lines generated, records Fluent Bit processed
	repeats           int64 // repeat copies (and marker-stood-for copies) in the log
	wantSess, gotSess int64
	wantRcvd, gotRcvd int64
	wantSent, gotSent int64
	keysWrong, keys   int
	took              time.Duration
	pass              bool
}

var table struct {
	mu   sync.Mutex
	rows []result
}

func printTable() {
	table.mu.Lock()
	defer table.mu.Unlock()
	if len(table.rows) == 0 {
		return
	}
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scenario\tlines\trecords\trepeat copies\tsessions stored\ttruth\trcvd stored\ttruth\tsent stored\ttruth\tkeys wrong\ttime\tresult\t")
	for _, r := range table.rows {
		verdict := "PASS"
		if !r.pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%s\t%s\t\n", r.name, r.lines, r.records, r.repeats,
			r.gotSess, r.wantSess, r.gotRcvd, r.wantRcvd, r.gotSent, r.wantSent, r.keysWrong, r.keys,
			r.took.Round(100*time.Millisecond), verdict)
	}
	w.Flush()
	fmt.Printf("\nend-to-end summary (Fluent Bit %s):\n%s\n", os.Getenv(envFluentBit), b.String())
}

// logOptions is the generated log of the scenarios: two days (so sessions
// and repeat bursts meet midnight), two hosts, every courier-imap era,
// and the Courier repeat bug frequent enough that repeat copies are most
// of the traffic lines (about 4 copies per session), as on a server that
// has the bug. Formats with microseconds get what real loggers write
// (unless original is set): every repeat copy stamped with its own
// reception time, bursts that cross a minute boundary and midnight, and
// twins (distinct sessions equal in every field but the time, a few
// seconds apart), which must stay two sessions.
func logOptions(seed int64, format loggen.Format, loc *time.Location, start time.Time, original bool) loggen.Options {
	o := loggen.Options{
		Seed: seed, Start: start, Days: 2, Location: loc, Format: format,
		Hosts: []string{"mx1", "mx2"}, Users: 30, SessionsPerDay: 300,
		Eras:         []loggen.Era{loggen.Era30, loggen.Era41, loggen.Era42, loggen.Era509, loggen.Era509, loggen.Era60, loggen.EraPlesk},
		RepeatBursts: 0.3,
		CopyStamps:   loggen.CopyOriginal,
	}
	if format.Micro() && !original {
		o.CopyStamps = loggen.CopyReception
		o.BoundaryBursts = true
		o.Twins = 0.05
	}
	return o
}

// recentStart is a start day 20 days ago: year-less classic stamps are
// given the year that puts them in the past of the record time (now), so
// a fixed date would be read as next year's once the calendar passes it.
func recentStart() time.Time {
	return time.Now().UTC().AddDate(0, 0, -20)
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// generated is a log in memory with its truth.
type generated struct {
	opts  loggen.Options
	truth loggen.Truth
	lines []loggen.Line
}

func generate(t testing.TB, opts loggen.Options) generated {
	t.Helper()
	g := generated{opts: opts}
	tr, err := loggen.Generate(opts, func(l loggen.Line) error {
		g.lines = append(g.lines, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g.truth = tr
	if int64(len(g.lines)) != tr.Lines {
		t.Fatalf("generator: %d lines emitted, truth says %d", len(g.lines), tr.Lines)
	}
	return g
}

// raw is the log as a file holds it.
func (g generated) raw(from, to int) []byte {
	var b bytes.Buffer
	for _, l := range g.lines[from:to] {
		b.WriteString(l.Raw)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// influxEnv is the environment the shipped [OUTPUT] reads.
func influxEnv(srv *influxtest.Server, zone string) []string {
	return []string{
		"INFLUX_URL=" + srv.URL,
		"INFLUX_ORG=",
		"INFLUX_BUCKET=" + srv.Bucket,
		"INFLUX_TOKEN=" + srv.Token,
		"COURIER_TIME_ZONE=" + zone,
	}
}

// startInflux starts a private InfluxDB with authentication on: the
// plugin gets its token through ${INFLUX_TOKEN} as an admin would set it.
func startInflux(t *testing.T) *influxtest.Server {
	t.Helper()
	return influxtest.Start(t, influxtest.Options{NoFlux: true, Auth: true})
}

// compare reads back the per day/service/user sums (days cut in the log's
// zone by InfluxDB) and requires them to equal the truth exactly. It logs
// a RESULT line and adds the scenario to the summary table.
func compare(t *testing.T, name string, srv *influxtest.Server, g generated, records int64, began time.Time) {
	t.Helper()
	r, want, got := measure(t, name, srv, g, records, began)
	r.pass = r.keysWrong == 0 && r.wantSess > 0
	if r.wantSess == 0 {
		t.Errorf("%s: the truth has no sessions: the scenario proves nothing", name)
	}
	if !r.pass {
		t.Errorf("%s: stored sums differ from the truth (-truth +stored), first lines:\n%s", name, head(cmp.Diff(want, got), 40))
	}
	addRow(r)
}

// measure reads back the sums and compares them with the truth; it logs
// the RESULT line.
func measure(t *testing.T, name string, srv *influxtest.Server, g generated, records int64, began time.Time) (r result, want, got map[influxtest.Key]influxtest.Sums) {
	t.Helper()
	got = srv.Sums(t, "", g.opts.Location)
	want = make(map[influxtest.Key]influxtest.Sums, len(g.truth.Sessions))
	for k, s := range g.truth.Sessions {
		want[influxtest.Key(k)] = influxtest.Sums(s)
	}
	r = result{name: name, lines: g.truth.Lines, records: records,
		repeats: g.truth.RepeatLines + g.truth.MarkerRepeats, took: time.Since(began)}
	keys := map[influxtest.Key]bool{}
	for k, s := range want {
		keys[k] = true
		r.wantSess += s.Sessions
		r.wantRcvd += s.Rcvd
		r.wantSent += s.Sent
	}
	for k, s := range got {
		keys[k] = true
		r.gotSess += s.Sessions
		r.gotRcvd += s.Rcvd
		r.gotSent += s.Sent
	}
	r.keys = len(keys)
	for k := range keys {
		if want[k] != got[k] {
			r.keysWrong++
		}
	}
	t.Logf("RESULT %s: sessions stored %d / truth %d (x%.2f), rcvd stored %d / truth %d, sent stored %d / truth %d; day/service/user keys wrong %d of %d; %d lines (%d repeat copies, %d marker lines), %d records through Fluent Bit, %s",
		name, r.gotSess, r.wantSess, float64(r.gotSess)/float64(max(r.wantSess, 1)), r.gotRcvd, r.wantRcvd, r.gotSent, r.wantSent,
		r.keysWrong, r.keys, g.truth.Lines, g.truth.RepeatLines, g.truth.MarkerLines, records, r.took.Round(100*time.Millisecond))
	return r, want, got
}

func addRow(r result) {
	table.mu.Lock()
	table.rows = append(table.rows, r)
	table.mu.Unlock()
}

func head(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

// idents lists the values of every active line "key NAME=VALUE" of the
// section (name, plugin) whose key is key: the shipped Systemd_Filter.
func (c *classicConf) filterValues(t testing.TB, name, plugin, key, field string) []string {
	t.Helper()
	s := c.find(t, name, plugin)
	var out []string
	for _, l := range c.lines[s.start:s.end] {
		k, v, ok := property(l)
		if !ok || !strings.EqualFold(k, key) {
			continue
		}
		f, val, ok := strings.Cut(v, "=")
		if ok && f == field {
			out = append(out, val)
		}
	}
	sort.Strings(out)
	return out
}
