package stress

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
)

func TestMain(m *testing.M) {
	code := fbhost.Main(func() int { return influxtest.Main(m) })
	if err := writeTable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// scale holds the sizes of a run: the short defaults keep plain `go test`
// well under two minutes on two cores; STRESS=full (make stress) gives the
// sizes of the issue. Every knob can be set on its own (see doc.go).
type scale struct {
	full        bool
	outage      time.Duration // how long InfluxDB stays down after each kill
	kills       int           // kills per run of the kill scenario
	faultDays   int           // days of the fault scenarios' logs
	faultPerDay int           // sessions per day of the fault scenarios' logs
	pace        time.Duration // Fluent Bit's Flush interval between new chunks
	retryBase   time.Duration // scheduler.base
	retryCap    time.Duration // scheduler.cap
	loadRecords int64         // records of the sustained-load scenario
	cliLines    int64         // lines of the CLI's memory run
}

var scaleOnce = sync.OnceValues(func() (scale, error) {
	s := scale{
		outage: 2 * time.Second, kills: 3, faultDays: 3, faultPerDay: 400,
		pace: 100 * time.Millisecond, retryBase: 200 * time.Millisecond, retryCap: 2 * time.Second,
		loadRecords: 200_000, cliLines: 200_000,
	}
	if os.Getenv("STRESS") == "full" {
		s = scale{
			full: true, outage: time.Minute, kills: 3, faultDays: 14, faultPerDay: 2000,
			pace: time.Second, retryBase: 5 * time.Second, retryCap: 30 * time.Second,
			loadRecords: 10_000_000, cliLines: 10_000_000,
		}
	}
	for _, d := range []struct {
		env string
		p   *time.Duration
	}{{"STRESS_OUTAGE", &s.outage}, {"STRESS_PACE", &s.pace}, {"STRESS_RETRY_BASE", &s.retryBase}, {"STRESS_RETRY_CAP", &s.retryCap}} {
		if v := os.Getenv(d.env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x < 0 {
				return s, fmt.Errorf("%s=%q: want a duration like 5s or 1m", d.env, v)
			}
			*d.p = x
		}
	}
	for _, n := range []struct {
		env string
		p   *int64
	}{{"STRESS_RECORDS", &s.loadRecords}, {"STRESS_CLI_LINES", &s.cliLines}} {
		if v := os.Getenv(n.env); v != "" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x < 20_000 {
				return s, fmt.Errorf("%s=%q: want a number of at least 20000", n.env, v)
			}
			*n.p = x
		}
	}
	return s, nil
})

func getScale(t testing.TB) scale {
	t.Helper()
	s, err := scaleOnce()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// row is one line of the summary table.
type row struct {
	Scenario  string
	RecordsIn int64 // records handed to the plugin (or lines to the CLI), repeats of a replay included
	Truth     int64 // sessions the generator wrote (each counted once)
	Stored    int64 // sessions found (points in InfluxDB, or rows of the CLI report)
	Lost      int64 // sum over day/service/user of max(0, truth - stored) sessions
	Doubled   int64 // sum over day/service/user of max(0, stored - truth) sessions
	PeakRSS   int64 // bytes: the host's VmHWM (or the CLI's ru_maxrss)
	AfterRSS  int64 // bytes: the host's VmRSS after the load (0: not measured)
	Time      time.Duration
	Note      string
}

var table struct {
	mu   sync.Mutex
	rows []row
}

func addRow(t testing.TB, r row) {
	t.Helper()
	t.Logf("%s: in=%d truth=%d stored=%d lost=%d doubled=%d peak_rss=%s rss_after=%s time=%v %s",
		r.Scenario, r.RecordsIn, r.Truth, r.Stored, r.Lost, r.Doubled, mb(r.PeakRSS), mb(r.AfterRSS), r.Time.Round(time.Millisecond), r.Note)
	table.mu.Lock()
	table.rows = append(table.rows, r)
	table.mu.Unlock()
}

func mb(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// writeTable prints the table to stdout and, when STRESS_TABLE names a
// file, writes it there too (go test hides a passing package's stdout in
// package-list mode; scripts/stress.sh prints the file).
func writeTable() error {
	table.mu.Lock()
	rows := append([]row(nil), table.rows...)
	table.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Scenario < rows[j].Scenario })
	var b strings.Builder
	mode := "short"
	if s, _ := scaleOnce(); s.full {
		mode = "full"
	}
	fmt.Fprintf(&b, "stress (%s run, %d cores, GOMAXPROCS %d, %s/%s, %s)\n", mode, runtime.NumCPU(),
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trecords in\tsessions\tstored\tlost\tdoubled\tpeak RSS\tRSS after\ttime\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", r.Scenario, r.RecordsIn, r.Truth, r.Stored,
			r.Lost, r.Doubled, mb(r.PeakRSS), mb(r.AfterRSS), r.Time.Round(100*time.Millisecond))
	}
	tw.Flush()
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(&b, "  %s: %s\n", r.Scenario, r.Note)
		}
	}
	fmt.Print(b.String())
	if p := os.Getenv("STRESS_TABLE"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("STRESS_TABLE: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(b.String()); err != nil {
			return fmt.Errorf("STRESS_TABLE: %w", err)
		}
	}
	return nil
}

// tally compares read-back sums with the truth: stored sessions, and the
// lost and doubled sessions summed over the day/service/user keys.
func tally(want, got map[influxtest.Key]influxtest.Sums) (stored, lost, doubled int64) {
	for k, g := range got {
		stored += g.Sessions
		if d := g.Sessions - want[k].Sessions; d > 0 {
			doubled += d
		}
	}
	for k, w := range want {
		if d := w.Sessions - got[k].Sessions; d > 0 {
			lost += d
		}
	}
	return stored, lost, doubled
}

// checkSums fails t unless got equals want exactly (sessions and byte
// sums per day, service and user).
func checkSums(t *testing.T, what string, want, got map[influxtest.Key]influxtest.Sums) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: sums (-want +got):\n%s", what, diff)
	}
}

func totalSessions(m map[influxtest.Key]influxtest.Sums) int64 {
	var n int64
	for _, s := range m {
		n += s.Sessions
	}
	return n
}
