package conftest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/courier-traffic/courier-traffic/report"
)

func TestMain(m *testing.M) { os.Exit(influxtest.Main(m)) }

// rankRow is one courier_daily row (user ranking) or courier_daily_domain row (Name is then
// the domain; Users is set).
type rankRow struct {
	Day, Name, Service                       string
	Rcvd, Sent, Total, Sessions, Rank, Users int64
}

const totalUser = "-- total --"

// domainOf mirrors the task's domainOf: the part after the last "@", else "(none)".
func domainOf(user string) string {
	if i := strings.LastIndexByte(user, '@'); i >= 0 && i+1 < len(user) {
		return user[i+1:]
	}
	return "(none)"
}

// rankSort orders rows as the ranking defines: total descending, then name ascending.
func rankSort(rows []rankRow) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Total != rows[j].Total {
			return rows[i].Total > rows[j].Total
		}
		return rows[i].Name < rows[j].Name
	})
}

// expectedRanking computes, from the generator's truth, the rows the task must write for one
// day: users whose rcvd+sent over both services is above threshold, ranked, with a row per
// service they used and one for "all"; the "-- total --" rows over all users (rank 0); and the
// per-domain totals over all users, ranked per service.
func expectedRanking(truth loggen.Truth, day string, threshold int64) (users, domains []rankRow) {
	per := map[[2]string]*rankRow{} // (user, service) -> sums; service "all" included
	add := func(name, service string, s loggen.Sums) {
		k := [2]string{name, service}
		r := per[k]
		if r == nil {
			r = &rankRow{Day: day, Name: name, Service: service}
			per[k] = r
		}
		r.Rcvd += s.Rcvd
		r.Sent += s.Sent
		r.Total += s.Rcvd + s.Sent
		r.Sessions += s.Sessions
	}
	for k, s := range truth.Sessions {
		if k.Day != day {
			continue
		}
		for _, svc := range []string{k.Service, "all"} {
			add(k.User, svc, s)
			add(totalUser, svc, s)
		}
	}
	var all []rankRow
	for k, r := range per {
		if k[1] == "all" && k[0] != totalUser && r.Total > threshold {
			all = append(all, *r)
		}
	}
	rankSort(all)
	rank := map[string]int64{}
	for i, r := range all {
		rank[r.Name] = int64(i + 1)
	}
	dom := map[[2]string]*rankRow{}
	for k, r := range per {
		if k[0] == totalUser {
			users = append(users, *r) // rank 0
			continue
		}
		if n, ok := rank[k[0]]; ok {
			row := *r
			row.Rank = n
			users = append(users, row)
		}
		dk := [2]string{domainOf(k[0]), k[1]}
		d := dom[dk]
		if d == nil {
			d = &rankRow{Day: day, Name: dk[0], Service: dk[1]}
			dom[dk] = d
		}
		d.Rcvd += r.Rcvd
		d.Sent += r.Sent
		d.Total += r.Total
		d.Sessions += r.Sessions
		d.Users++
	}
	bySvc := map[string][]rankRow{}
	for _, d := range dom {
		bySvc[d.Service] = append(bySvc[d.Service], *d)
	}
	for _, rows := range bySvc {
		rankSort(rows)
		for i := range rows {
			rows[i].Rank = int64(i + 1)
			domains = append(domains, rows[i])
		}
	}
	return users, domains
}

// sortRows gives row lists a canonical order for comparison.
func sortRows(rows []rankRow) []rankRow {
	out := append([]rankRow(nil), rows...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Service < b.Service
	})
	return out
}

// generated is a generated log written into a test database through flush.
type generated struct {
	srv   *influxtest.Server
	truth loggen.Truth
	loc   *time.Location
	lines []string  // the generated log, in order
	ref   time.Time // reference time for its year-less lines
	cfg   *flush.Config
}

// writeGenerated generates two local days of Courier logs from two mail hosts (all byte-
// counting eras, mixed transports, repeats and noise included), and writes them through the
// plugin's own flush code into a fresh database of the shared test server.
func writeGenerated(t *testing.T) generated {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Vienna")
	if err != nil {
		t.Fatalf("zone: %v", err)
	}
	var lines []string
	truth, err := loggen.Generate(loggen.Options{
		Seed:           20260728,
		Start:          time.Date(2026, 7, 28, 0, 0, 0, 0, time.UTC),
		Days:           2,
		Location:       loc,
		Hosts:          []string{"mx1", "mx2"},
		Users:          30,
		SessionsPerDay: 400,
		Format:         loggen.Mixed,
		Eras:           []loggen.Era{loggen.Era41, loggen.Era42, loggen.Era509, loggen.Era60, loggen.EraPlesk},
	}, func(l loggen.Line) error {
		lines = append(lines, l.Raw)
		return nil
	})
	if err != nil {
		t.Fatalf("loggen: %v", err)
	}

	srv := influxtest.Shared(t)
	cfg, err := flush.LoadConfig(flush.MapGetter{
		flush.KeyInfluxURL:     srv.URL,
		flush.KeyInfluxBucket:  srv.Bucket,
		flush.KeyInfluxToken:   srv.Token,
		flush.KeyTimeZone:      loc.String(),
		flush.KeyStatsInterval: "0",
	})
	if err != nil {
		t.Fatalf("flush config: %v", err)
	}
	f, err := flush.New(cfg, func(level flush.Level, msg string) { t.Logf("flush %v: %s", level, msg) })
	if err != nil {
		t.Fatalf("flush.New: %v", err)
	}
	defer f.Close()
	// The reference time for year-less lines: just after the last line, as the CLI does with
	// the file's modification time.
	ref := truth.Last.Add(time.Minute)
	const chunk = 1000
	for i := 0; i < len(lines); i += chunk {
		b := f.NewBatch()
		for _, l := range lines[i:min(i+chunk, len(lines))] {
			b.AddLine(l, ref)
		}
		if out := f.Write(context.Background(), b); out != flush.Delivered {
			t.Fatalf("flush.Write lines %d..: %v (stats %v)", i, out, f.Stats())
		}
	}
	return generated{srv: srv, truth: truth, loc: loc, lines: lines, ref: ref, cfg: cfg}
}

// thresholdFor picks a threshold between the users' daily totals, so that the ranking has
// users on both sides of it.
func thresholdFor(t *testing.T, truth loggen.Truth, day string) int64 {
	t.Helper()
	var totals []int64
	for _, s := range truth.Total(day, "") {
		totals = append(totals, s.Rcvd+s.Sent)
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	if len(totals) < 4 {
		t.Fatalf("day %s: only %d users with traffic", day, len(totals))
	}
	return totals[len(totals)/2]
}

// dayBounds returns the local midnights around day, refusing DST days: the Flux 0.65 driver
// adds a fixed 24h with experimental.addDuration.
func dayBounds(t *testing.T, day string, loc *time.Location) (time.Time, time.Time) {
	t.Helper()
	start, err := time.ParseInLocation("2006-01-02", day, loc)
	if err != nil {
		t.Fatal(err)
	}
	stop := start.AddDate(0, 0, 1)
	if stop.Sub(start) != 24*time.Hour {
		t.Fatalf("day %s is a DST day; pick test days without a change", day)
	}
	return start, stop
}

// pipelineProgram builds the Flux program run on the test server: the task's imports that
// Flux 0.65 has, its settings (bucket and threshold replaced), the ranking pipeline section,
// and a driver yielding userRanking and domainTotals per day.
func pipelineProgram(t *testing.T, bucket string, threshold int64, starts []time.Time) string {
	t.Helper()
	src := readRepoFile(t, fluxTaskPath)
	var b strings.Builder
	for _, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(l, "import ") && l != `import "timezone"` {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("import \"experimental\"\n\n")
	settings := section(t, src, "// BEGIN settings", "// END settings")
	settings = setSetting(t, settings, "influx_bucket", strconv.Quote(bucket))
	settings = setSetting(t, settings, "threshold", strconv.FormatInt(threshold, 10))
	b.WriteString(settings)
	b.WriteString(section(t, src, "// BEGIN ranking pipeline", "// END ranking pipeline"))
	for i, start := range starts {
		fmt.Fprintf(&b, "start%d = %s\nstop%d = experimental.addDuration(d: 1d, to: start%d)\n", i, start.Format(time.RFC3339), i, i)
		fmt.Fprintf(&b, "userRanking(start: start%d, stop: stop%d) |> yield(name: \"users%d\")\n", i, i, i)
		fmt.Fprintf(&b, "domainTotals(start: start%d, stop: stop%d) |> yield(name: \"domains%d\")\n", i, i, i)
	}
	return b.String()
}

func fluxInt(t *testing.T, row map[string]string, col string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(row[col], 10, 64)
	if err != nil {
		t.Fatalf("column %s = %q: %v (row %v)", col, row[col], err, row)
	}
	return v
}

// TestRankingPipelineOnServer runs the task's ranking pipeline on the real Flux engine of the
// test server over data written by flush from a generated log, and compares every row with
// the ranking computed from the generator's truth.
func TestRankingPipelineOnServer(t *testing.T) {
	g := writeGenerated(t)
	days := g.truth.Days()
	if len(days) < 2 {
		t.Fatalf("generated days %v, want 2", days)
	}
	days = days[:2]
	multiHost := false
	for k := range g.truth.Hosts {
		for k2 := range g.truth.Hosts {
			if k.Key == k2.Key && k.Host != k2.Host {
				multiHost = true
			}
		}
	}
	if !multiHost {
		t.Fatal("no user has sessions on two hosts on one day: the fleet ranking is not exercised")
	}
	threshold := thresholdFor(t, g.truth, days[0])

	var starts []time.Time
	var wantUsers, wantDomains []rankRow
	for _, d := range days {
		start, _ := dayBounds(t, d, g.loc)
		starts = append(starts, start)
		u, dm := expectedRanking(g.truth, d, threshold)
		wantUsers = append(wantUsers, u...)
		wantDomains = append(wantDomains, dm...)
	}

	rows := g.srv.Flux(t, pipelineProgram(t, g.srv.Bucket, threshold, starts))
	var gotUsers, gotDomains []rankRow
	for _, r := range rows {
		tm, err := time.Parse(time.RFC3339Nano, r["_time"])
		if err != nil {
			t.Fatalf("_time %q: %v", r["_time"], err)
		}
		row := rankRow{
			Day: tm.In(g.loc).Format("2006-01-02"), Service: r["service"],
			Rcvd: fluxInt(t, r, "rcvd"), Sent: fluxInt(t, r, "sent"), Total: fluxInt(t, r, "total"),
			Sessions: fluxInt(t, r, "sessions"), Rank: fluxInt(t, r, "rank"),
		}
		switch {
		case strings.HasPrefix(r["result"], "users"):
			if r["_measurement"] != "courier_daily" {
				t.Errorf("user row _measurement %q", r["_measurement"])
			}
			row.Name = r["user"]
			gotUsers = append(gotUsers, row)
		case strings.HasPrefix(r["result"], "domains"):
			if r["_measurement"] != "courier_daily_domain" {
				t.Errorf("domain row _measurement %q", r["_measurement"])
			}
			row.Name = r["domain"]
			row.Users = fluxInt(t, r, "users")
			gotDomains = append(gotDomains, row)
		default:
			t.Fatalf("unexpected result %q", r["result"])
		}
	}
	if len(wantUsers) < 10 {
		t.Fatalf("only %d expected user rows: the test data is too small to mean much", len(wantUsers))
	}
	t.Logf("%d days, threshold %d: %d user rows, %d domain rows", len(days), threshold, len(wantUsers), len(wantDomains))
	if diff := cmp.Diff(sortRows(wantUsers), sortRows(gotUsers)); diff != "" {
		t.Errorf("courier_daily rows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sortRows(wantDomains), sortRows(gotDomains)); diff != "" {
		t.Errorf("courier_daily_domain rows (-want +got):\n%s", diff)
	}

	// The CLI (`courier-traffic report --service all --unit B --threshold N`) over the same log
	// must give the task's service="all" rows: same users, same sums, same order.
	t.Run("CLI", func(t *testing.T) {
		unit, err := report.ParseUnit("B")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range days {
			date, err := report.ParseDate(d, time.Now(), 0)
			if err != nil {
				t.Fatal(err)
			}
			agg, err := report.NewAggregator(g.cfg, date, report.All, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range g.lines {
				agg.AddLine([]byte(l), g.ref)
			}
			table := report.NewTable(report.Params{Date: date, Service: report.All, Unit: unit, Threshold: threshold}, agg.Users())
			var got, want []rankRow
			for i, r := range table.Rows {
				got = append(got, rankRow{Day: d, Name: r.User, Service: "all", Rcvd: r.Rcvd, Sent: r.Sent,
					Total: r.Total(), Sessions: r.Sessions, Rank: int64(i + 1)})
			}
			var wantTotal []rankRow
			for _, r := range gotUsers {
				switch {
				case r.Day != d || r.Service != "all":
				case r.Name == totalUser:
					wantTotal = append(wantTotal, r)
				default:
					want = append(want, r)
				}
			}
			sort.Slice(want, func(i, j int) bool { return want[i].Rank < want[j].Rank })
			// The task orders equal totals by user name, the classic script (and so the CLI) by
			// the printed line: ranks are compared only where totals differ.
			for _, rows := range [][]rankRow{want, got} {
				for i := 1; i < len(rows); i++ {
					if rows[i].Total == rows[i-1].Total {
						rows[i].Rank, rows[i-1].Rank = 0, 0
					}
				}
			}
			want = append(want, wantTotal...)
			got = append(got, rankRow{Day: d, Name: totalUser, Service: "all", Rcvd: table.Total.Rcvd,
				Sent: table.Total.Sent, Total: table.Total.Total(), Sessions: table.Total.Sessions})
			if len(got) < 5 {
				t.Fatalf("%s: only %d CLI rows: the comparison means little", d, len(got))
			}
			if diff := cmp.Diff(sortRows(want), sortRows(got)); diff != "" {
				t.Errorf("%s: task rows vs CLI report rows (-task +cli):\n%s", d, diff)
			}
		}
	})

	t.Run("InfluxQL", func(t *testing.T) {
		var want []rankRow
		for _, r := range wantUsers {
			if r.Service == "all" {
				want = append(want, r)
			}
		}
		start, _ := dayBounds(t, days[0], g.loc)
		_, stop := dayBounds(t, days[len(days)-1], g.loc)
		got := runInfluxQL(t, g, start, stop, threshold)
		if diff := cmp.Diff(sortRows(want), sortRows(got)); diff != "" {
			t.Errorf("InfluxQL rows (-want +got):\n%s", diff)
		}
	})
}

// influxQLResponse is the JSON answer of InfluxDB 1.x's /query.
type influxQLResponse struct {
	Results []struct {
		Err    string `json:"error"`
		Series []struct {
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]json.Number   `json:"values"`
		} `json:"series"`
	} `json:"results"`
}

// runInfluxQL runs conf/influxql/courier_daily_ranking.influxql as documented in its header
// (zone name edited, bind parameters) and returns its rows with the ranks the client assigns.
func runInfluxQL(t *testing.T, g generated, start, stop time.Time, threshold int64) []rankRow {
	t.Helper()
	var stmts []string
	for _, l := range strings.Split(readRepoFile(t, influxQLPath), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			stmts = append(stmts, l)
		}
	}
	if len(stmts) != 2 {
		t.Fatalf("%s: %d statements, want 2", influxQLPath, len(stmts))
	}
	q := strings.Join(stmts, "\n")
	tzRe := regexp.MustCompile(`tz\('UTC'\)`)
	if n := len(tzRe.FindAllString(q, -1)); n != 3 {
		t.Fatalf("%s: %d tz('UTC') clauses, want 3", influxQLPath, n)
	}
	q = tzRe.ReplaceAllLiteralString(q, "tz('"+g.loc.String()+"')")
	params, err := json.Marshal(map[string]any{
		"day_start": start.Format(time.RFC3339), "day_stop": stop.Format(time.RFC3339), "threshold": threshold,
	})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"db": {g.srv.DB}, "q": {q}, "params": {string(params)}, "epoch": {"ns"}}
	resp, err := http.PostForm(g.srv.URL+"/query", form)
	if err != nil {
		t.Fatalf("influxql: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("influxql: HTTP %d: %s %v", resp.StatusCode, body, err)
	}
	var ans influxQLResponse
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&ans); err != nil {
		t.Fatalf("influxql answer: %v", err)
	}
	if len(ans.Results) != 2 {
		t.Fatalf("influxql: %d results, want 2: %s", len(ans.Results), body)
	}
	num := func(n json.Number) int64 {
		v, err := n.Int64()
		if err != nil {
			t.Fatalf("influxql value %q: %v", n, err)
		}
		return v
	}
	perDay := map[string][]rankRow{}
	var rows []rankRow
	for i, res := range ans.Results {
		if res.Err != "" {
			t.Fatalf("influxql statement %d: %s", i, res.Err)
		}
		for _, s := range res.Series {
			if diff := cmp.Diff([]string{"time", "rcvd", "sent", "total", "sessions"}, s.Columns); diff != "" {
				t.Fatalf("influxql statement %d columns (-want +got):\n%s", i, diff)
			}
			for _, v := range s.Values {
				r := rankRow{
					Day:     time.Unix(0, num(v[0])).In(g.loc).Format("2006-01-02"),
					Service: "all", Rcvd: num(v[1]), Sent: num(v[2]), Total: num(v[3]), Sessions: num(v[4]),
				}
				if i == 0 {
					r.Name = s.Tags["user"]
					perDay[r.Day] = append(perDay[r.Day], r)
				} else {
					r.Name = totalUser
					rows = append(rows, r)
				}
			}
		}
	}
	for _, dayRows := range perDay {
		rankSort(dayRows)
		for i := range dayRows {
			dayRows[i].Rank = int64(i + 1)
			rows = append(rows, dayRows[i])
		}
	}
	return rows
}
