package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/conf"
	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// cqZone is the zone of the CQ tests: not UTC, with DST.
const cqZone = "Europe/Berlin"

// statsMeasurement is the plugin's stats_measurement in the tests (the value the shipped
// configs suggest).
const statsMeasurement = "courier_traffic_stats"

// dailyKey is one courier_daily point of the CQs: an empty User or Service is the absent tag
// ("-- total --" and service "all").
type dailyKey struct{ Day, User, Service string }

type dailyVals struct{ Rcvd, Sent, Total, Sessions int64 }

// cqExpected computes, from the generator's truth, the points the four CQs must write.
func cqExpected(truth map[loggen.Key]loggen.Sums) map[dailyKey]dailyVals {
	out := map[dailyKey]dailyVals{}
	for k, s := range truth {
		for _, dk := range []dailyKey{
			{k.Day, k.User, k.Service}, {k.Day, k.User, ""}, {k.Day, "", k.Service}, {k.Day, "", ""},
		} {
			v := out[dk]
			v.Rcvd += s.Rcvd
			v.Sent += s.Sent
			v.Total += s.Rcvd + s.Sent
			v.Sessions += s.Sessions
			out[dk] = v
		}
	}
	return out
}

// lastDSTDay returns the latest local day before `before` whose length is not 24 hours.
func lastDSTDay(t *testing.T, loc *time.Location, before time.Time) time.Time {
	t.Helper()
	d := time.Date(before.Year(), before.Month(), before.Day(), 0, 0, 0, 0, loc)
	for range 400 {
		prev := time.Date(d.Year(), d.Month(), d.Day()-1, 0, 0, 0, 0, loc)
		if d.Sub(prev) != 24*time.Hour {
			return prev
		}
		d = prev
	}
	t.Fatalf("%s has no DST change in the 400 days before %s", loc, before)
	return time.Time{}
}

// cqData is generated traffic written into a server through the plugin's flush code.
type cqData struct {
	srv     *influxtest.Server
	loc     *time.Location
	truth   map[loggen.Key]loggen.Sums
	repeats []int64 // Stats().Repeats of every flusher (each wrote one stats point on Close)
}

// write generates days local days from first (a calendar date) and writes them through a new
// flusher (with stats_measurement, so its Close writes a stats point).
func (d *cqData) write(t *testing.T, seed int64, first time.Time, days, users, perDay int) {
	t.Helper()
	var lines []string
	truth, err := loggen.Generate(loggen.Options{
		Seed:           seed,
		Start:          time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC),
		Days:           days,
		Location:       d.loc,
		Hosts:          []string{"mx1", "mx2"},
		Users:          users,
		SessionsPerDay: perDay,
		Format:         loggen.RFC3339,
		Eras:           []loggen.Era{loggen.Era41, loggen.Era509, loggen.Era60},
	}, func(l loggen.Line) error {
		lines = append(lines, l.Raw)
		return nil
	})
	if err != nil {
		t.Fatalf("loggen: %v", err)
	}
	cfg, err := flush.LoadConfig(flush.MapGetter{
		flush.KeyInfluxURL:        d.srv.URL,
		flush.KeyInfluxBucket:     d.srv.Bucket,
		flush.KeyTimeZone:         d.loc.String(),
		flush.KeyStatsInterval:    "0",
		flush.KeyStatsMeasurement: statsMeasurement,
	})
	if err != nil {
		t.Fatalf("flush config: %v", err)
	}
	f, err := flush.New(cfg, func(level flush.Level, msg string) {
		if level <= flush.LevelWarn {
			t.Logf("flush %v: %s", level, msg)
		}
	})
	if err != nil {
		t.Fatalf("flush.New: %v", err)
	}
	ref := truth.Last.Add(time.Minute)
	b := f.NewBatch()
	for _, l := range lines {
		b.AddLine(l, ref)
	}
	if out := f.Write(context.Background(), b); out != flush.Delivered {
		t.Fatalf("flush.Write: %v (stats %v)", out, f.Stats())
	}
	d.repeats = append(d.repeats, f.Stats().Repeats)
	f.Close()
	if d.truth == nil {
		d.truth = map[loggen.Key]loggen.Sums{}
	}
	for k, s := range truth.Sessions {
		v := d.truth[k]
		v.Sessions += s.Sessions
		v.Rcvd += s.Rcvd
		v.Sent += s.Sent
		d.truth[k] = v
	}
}

// num converts an InfluxQL answer's value.
func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("value %v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("value %v: %v (a float where an integer is expected?)", v, err)
	}
	return i
}

// readDaily reads every point of db.rp.courier_daily.
func readDaily(t *testing.T, srv *influxtest.Server, rp string, loc *time.Location) (map[dailyKey]dailyVals, error) {
	res, err := srv.Query(fmt.Sprintf(`SELECT "rcvd", "sent", "total", "sessions" FROM "%s"."%s"."courier_daily" GROUP BY "user", "service"`, srv.DB, rp))
	if err != nil {
		return nil, err
	}
	if res[0].Err != "" {
		return nil, fmt.Errorf("%s", res[0].Err)
	}
	out := map[dailyKey]dailyVals{}
	for _, s := range res[0].Series {
		for _, v := range s.Values {
			k := dailyKey{time.Unix(0, num(t, v[0])).In(loc).Format("2006-01-02"), s.Tags["user"], s.Tags["service"]}
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("two points for %v", k)
			}
			out[k] = dailyVals{num(t, v[1]), num(t, v[2]), num(t, v[3]), num(t, v[4])}
		}
	}
	return out, nil
}

// waitDaily polls courier_daily until it equals want or the deadline passes; it returns how
// long it took.
func waitDaily(t *testing.T, srv *influxtest.Server, loc *time.Location, want map[dailyKey]dailyVals, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got map[dailyKey]dailyVals
	var err error
	for {
		got, err = readDaily(t, srv, "daily", loc)
		if err == nil && cmp.Equal(want, got) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("courier_daily after %v: %v", limit, err)
	}
	t.Fatalf("courier_daily after %v differs from the truth (-want +got):\n%s", limit, cmp.Diff(want, got))
	return 0
}

// cqFixture is a private server with the CQ service on, sessions of three local days (the
// last DST day before yesterday, yesterday and today, in cqZone) and the CQs installed.
type cqFixture struct {
	cqData
	today, yesterday, dst time.Time
	forDays               int
}

func newCQFixture(t *testing.T) *cqFixture {
	t.Helper()
	loc, err := time.LoadLocation(cqZone)
	if err != nil {
		t.Fatal(err)
	}
	// The CQ service checks every 200 ms; each CQ runs at its RESAMPLE EVERY (1s here).
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true, CQRunInterval: 200 * time.Millisecond})
	now := time.Now().In(loc)
	f := &cqFixture{cqData: cqData{srv: srv, loc: loc}}
	f.today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	f.yesterday = f.today.AddDate(0, 0, -1)
	f.dst = lastDSTDay(t, loc, f.yesterday)
	// FOR reaches back to the DST day with a margin of two days (a run shortly after midnight).
	f.forDays = int(f.today.Sub(f.dst).Hours()/24) + 3
	f.write(t, 1, f.dst, 1, 12, 120)
	f.write(t, 2, f.yesterday, 2, 12, 120)
	return f
}

// install runs `courier-traffic influxql install` against the fixture's server.
func (f *cqFixture) install(t *testing.T) string {
	t.Helper()
	return mustRun(t, "", "influxql", "install", "--influx-url", f.srv.URL, "--database", f.srv.DB,
		"--tz", cqZone, "--every", "1s", "--for", fmt.Sprintf("%dd", f.forDays))
}

func TestInfluxQLContinuousQueries(t *testing.T) {
	f := newCQFixture(t)
	t0 := time.Now()
	out := f.install(t)
	for _, want := range []string{
		`created retention policy "daily"`,
		`created continuous query "courier_daily_user_service"`, `created continuous query "courier_daily_user"`,
		`created continuous query "courier_daily_service"`, `created continuous query "courier_daily_total"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	want := cqExpected(f.truth)
	dstDay := f.dst.Format("2006-01-02")
	if n := f.dst.AddDate(0, 0, 1).Sub(f.dst); n == 24*time.Hour {
		t.Fatalf("%s is not a DST day", dstDay)
	} else if want[dailyKey{dstDay, "", ""}].Sessions == 0 {
		t.Fatalf("no sessions on the DST day %s (%v)", dstDay, n)
	}
	took := waitDaily(t, f.srv, f.loc, want, 60*time.Second)
	t.Logf("CQs (every 1s, for %dd) wrote %d points equal to the truth of %s (DST, %v), %s and %s after %v",
		f.forDays, len(want), dstDay, f.dst.AddDate(0, 0, 1).Sub(f.dst),
		f.yesterday.Format("2006-01-02"), f.today.Format("2006-01-02"), took.Round(10*time.Millisecond))

	// Late data: more sessions of yesterday (Fluent Bit retrying after an outage) are counted
	// by the next runs.
	f.write(t, 3, f.yesterday, 1, 5, 40)
	took = waitDaily(t, f.srv, f.loc, cqExpected(f.truth), 60*time.Second)
	t.Logf("late sessions of yesterday counted after %v", took.Round(10*time.Millisecond))

	// Idempotent: a second install replaces the four CQs, nothing else.
	out = f.install(t)
	if strings.Count(out, "replaced continuous query") != 4 || strings.Contains(out, "created") {
		t.Errorf("second install:\n%s", out)
	}
	res := f.srv.Exec(t, "SHOW CONTINUOUS QUERIES")
	n := 0
	for _, s := range res[0].Series {
		if s.Name == f.srv.DB {
			n += len(s.Values)
		}
	}
	if n != 4 {
		t.Errorf("%d continuous queries on %s after two installs, want 4", n, f.srv.DB)
	}
	t.Logf("install, two CQ waits and a reinstall: %v", time.Since(t0).Round(10*time.Millisecond))

	t.Run("Chronograf", func(t *testing.T) { testChronografCells(t, f) })
	t.Run("TopQueries", func(t *testing.T) { testTopQueries(t, f) })
	t.Run("AlertWithoutFlux", func(t *testing.T) { testAlertWithoutFlux(t, f) })

	out = mustRun(t, "", "influxql", "uninstall", "--influx-url", f.srv.URL, "--database", f.srv.DB)
	if strings.Count(out, "dropped continuous query") != 4 {
		t.Errorf("uninstall:\n%s", out)
	}
}

// TestInfluxQLBackfill: --backfill-days computes the sums of past days at once, on a server
// whose CQ service is off.
func TestInfluxQLBackfill(t *testing.T) {
	srv := influxtest.Shared(t)
	loc, err := time.LoadLocation(cqZone)
	if err != nil {
		t.Fatal(err)
	}
	d := cqData{srv: srv, loc: loc}
	// testNow (the CLI's clock in tests) is 2026-07-24: back-fill the 3 days before it.
	d.write(t, 4, time.Date(2026, 7, 21, 0, 0, 0, 0, time.UTC), 3, 8, 60)
	out := mustRun(t, "", "influxql", "install", "--influx-url", srv.URL, "--database", srv.DB, "--tz", cqZone, "--backfill-days", "3")
	if strings.Count(out, "backfilled") != 4 {
		t.Errorf("install --backfill-days output:\n%s", out)
	}
	got, err := readDaily(t, srv, "daily", loc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cqExpected(d.truth), got); diff != "" {
		t.Errorf("back-filled courier_daily (-want +got):\n%s", diff)
	}
}

func TestInfluxQLPrintAndFlags(t *testing.T) {
	out := mustRun(t, "", "influxql", "print", "--tz", "Europe/Vienna", "--database", `we"ird`, "--daily-rp", "forever")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("print: %d lines, want 5:\n%s", len(lines), out)
	}
	for _, want := range []string{`ON "we\"ird"`, `INTO "we\"ird"."forever"."courier_daily"`, `FROM "we\"ird"."autogen"."courier_session"`,
		`tz('Europe/Vienna')`, "RESAMPLE EVERY 10m FOR 2d"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("print: %q lacks %q", lines[1], want)
		}
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"influxql", "print"}, "--tz: give the IANA zone"},
		{[]string{"influxql", "print", "--tz", "Mars/Olympus"}, "unknown time zone"},
		{[]string{"influxql", "print", "--tz", "UTC", "--for", "1d"}, "at least 2d"},
		{[]string{"influxql", "print", "--tz", "UTC", "--every", "10 minutes"}, "not an InfluxQL duration"},
		{[]string{"influxql", "install", "--tz", "UTC"}, "--influx-url: required"},
		{[]string{"influxql", "frobnicate"}, "unknown subcommand"},
	} {
		r := runCLI(t, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, exitUsage, tc.msg)
		}
	}
}

// TestContinuousQueriesEmbedded: the binary carries the shipped file.
func TestContinuousQueriesEmbedded(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "conf", "influxql", "courier_daily_cq.influxql"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != conf.ContinuousQueries {
		t.Error("conf.ContinuousQueries differs from conf/influxql/courier_daily_cq.influxql")
	}
	stmts, err := renderCQs(conf.ContinuousQueries, cqParams{"db", "autogen", "courier_session", "daily", "courier_daily", "UTC", "10m", "2d"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range stmts {
		names = append(names, s.name)
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"courier_daily_service", "courier_daily_total", "courier_daily_user", "courier_daily_user_service"}, names); diff != "" {
		t.Errorf("CQ names (-want +got):\n%s", diff)
	}
}

// testTopQueries runs conf/influxql/courier_daily_top.influxql over the CQs' output, as its
// header documents (database and zone edited, bind parameters), for the sum over services and
// for IMAP, and compares the ranked rows and the total rows with the truth.
func testTopQueries(t *testing.T, f *cqFixture) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "conf", "influxql", "courier_daily_top.influxql"))
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			stmts = append(stmts, l)
		}
	}
	if len(stmts) != 2 {
		t.Fatalf("%d statements, want 2", len(stmts))
	}
	q := strings.NewReplacer(`"courier"."daily"`, `"`+f.srv.DB+`"."daily"`, "tz('UTC')", "tz('"+cqZone+"')").Replace(strings.Join(stmts, "\n"))
	want := cqExpected(f.truth)
	var totals []int64
	for k, v := range want {
		if k.User != "" && k.Service == "" {
			totals = append(totals, v.Total)
		}
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	threshold := totals[len(totals)/2]
	for _, svc := range []string{"", "imap"} {
		params, err := json.Marshal(map[string]any{
			"day_start": f.dst.Format(time.RFC3339), "day_stop": f.today.AddDate(0, 0, 1).Format(time.RFC3339),
			"threshold": threshold, "service": svc,
		})
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"db": {f.srv.DB}, "q": {q}, "params": {string(params)}, "epoch": {"ns"}}
		resp, err := http.PostForm(f.srv.URL+"/query", form)
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			Results []influxtest.Result `json:"results"`
		}
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber()
		err = dec.Decode(&ans)
		resp.Body.Close()
		if err != nil || len(ans.Results) != 2 || ans.Results[0].Err != "" || ans.Results[1].Err != "" {
			t.Fatalf("service %q: %v %+v", svc, err, ans.Results)
		}
		// rank per day: the row's position; ties (equal totals) get the same expected rank.
		type row struct {
			Day, User  string
			Rank       int
			Total, Ses int64
		}
		var exp, got []row
		perDay := map[string][]row{}
		for k, v := range want {
			if k.Service == svc && (k.User == "" || v.Total > threshold) {
				perDay[k.Day] = append(perDay[k.Day], row{k.Day, k.User, 0, v.Total, v.Sessions})
			}
		}
		for _, rows := range perDay {
			sort.Slice(rows, func(i, j int) bool {
				return rows[i].User != "" && (rows[j].User == "" || rows[i].Total > rows[j].Total)
			})
			for i := range rows {
				if rows[i].User != "" {
					rows[i].Rank = i + 1
				}
				exp = append(exp, rows[i])
			}
		}
		for _, s := range ans.Results[0].Series {
			day, n := "", 0
			for _, r := range s.Values {
				d := time.Unix(0, num(t, r[0])).In(f.loc).Format("2006-01-02")
				if d != day {
					day, n = d, 0
				}
				n++
				got = append(got, row{d, r[2].(string), n, num(t, r[1]), num(t, r[5])})
			}
		}
		for _, s := range ans.Results[1].Series {
			for _, r := range s.Values {
				got = append(got, row{time.Unix(0, num(t, r[0])).In(f.loc).Format("2006-01-02"), "", 0, num(t, r[3]), num(t, r[4])})
			}
		}
		// Equal totals may come in either order: their ranks are not compared.
		norm := func(rows []row) []row {
			tot := map[[2]string]int{}
			for _, r := range rows {
				tot[[2]string{r.Day, strconv.FormatInt(r.Total, 10)}]++
			}
			for i := range rows {
				if tot[[2]string{rows[i].Day, strconv.FormatInt(rows[i].Total, 10)}] > 1 {
					rows[i].Rank = -1
				}
			}
			sort.Slice(rows, func(i, j int) bool {
				if rows[i].Day != rows[j].Day {
					return rows[i].Day < rows[j].Day
				}
				return rows[i].User < rows[j].User
			})
			return rows
		}
		if len(exp) < 10 {
			t.Fatalf("service %q: only %d expected rows", svc, len(exp))
		}
		if diff := cmp.Diff(norm(exp), norm(got)); diff != "" {
			t.Errorf("service %q, threshold %d: ranking (-want +got):\n%s", svc, threshold, diff)
		}
	}
}

// testAlertWithoutFlux: on a 1.x server without Flux (the fixture's), report --alert-above
// reads with --influx-query-language influxql; with Flux it fails (exit 1), not silently.
func testAlertWithoutFlux(t *testing.T, f *cqFixture) {
	day := f.yesterday.Format("2006-01-02")
	var want []string
	var totals []int64
	for k, v := range cqExpected(f.truth) {
		if k.Day == day && k.User != "" && k.Service == "" {
			totals = append(totals, v.Total)
		}
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	limit := totals[len(totals)/2]
	for k, v := range cqExpected(f.truth) {
		if k.Day == day && k.User != "" && k.Service == "" && v.Total > limit {
			want = append(want, k.User+"="+strconv.FormatInt(v.Total, 10))
		}
	}
	sort.Strings(want)
	base := []string{"report", "--influx-url", f.srv.URL, "--influx-bucket", f.srv.Bucket, "--tz", cqZone, "--service", "all", "--date", day}
	checkAlert(t, append(base, "--influx-query-language", "influxql"), day, limit, want)
	if r := runCLI(t, "", append(base, "--alert-above", "1")...); r.code != exitFail {
		t.Errorf("Flux on a server without Flux: exit %d, want %d (stderr %q)", r.code, exitFail, r.stderr)
	}
}

// TestInfluxQLInstallAuth: with auth on, install works with user:password (basic auth) and
// fails with exit 1, naming no password, without it.
func TestInfluxQLInstallAuth(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true, NoFlux: true})
	args := []string{"influxql", "install", "--influx-url", srv.URL, "--database", srv.DB, "--tz", "UTC"}
	if r := runCLI(t, "", args...); r.code != exitFail || !strings.Contains(r.stderr, "401") {
		t.Errorf("without credentials: exit %d, stderr %q; want %d and a 401", r.code, r.stderr, exitFail)
	}
	r := runCLI(t, "", append(args, "--influx-token", "admin:wrong-password")...)
	if r.code != exitFail || strings.Contains(r.stderr+r.stdout, "wrong-password") {
		t.Errorf("wrong password: exit %d, stderr %q; want %d and no password", r.code, r.stderr, exitFail)
	}
	out := mustRun(t, "", append(args, "--influx-token", srv.Token)...)
	if strings.Count(out, "created continuous query") != 4 {
		t.Errorf("with credentials:\n%s", out)
	}
}
