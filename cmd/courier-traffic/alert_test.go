package main

import (
	"encoding/csv"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/influxtest"
)

// TestAlertAbove: report --influx-url ... --alert-above N against the real server lists
// exactly the users above N (from the generator's truth) and exits 3; nobody above N prints
// nothing and exits 0.
func TestAlertAbove(t *testing.T) {
	srv := influxtest.Shared(t)
	loc, err := time.LoadLocation(cqZone)
	if err != nil {
		t.Fatal(err)
	}
	d := cqData{srv: srv, loc: loc}
	// testNow is 2026-07-24 06:25 UTC: "yesterday" (the default --date) is 2026-07-23.
	d.write(t, 5, time.Date(2026, 7, 23, 0, 0, 0, 0, time.UTC), 1, 10, 80)
	const day = "2026-07-23"
	totals := map[string]int64{}
	for k, s := range d.truth {
		if k.Day == day {
			totals[k.User] += s.Rcvd + s.Sent
		}
	}
	var sorted []int64
	for _, v := range totals {
		sorted = append(sorted, v)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	limit := sorted[len(sorted)/2]
	var want []string
	for u, v := range totals {
		if v > limit {
			want = append(want, u+"="+strconv.FormatInt(v, 10))
		}
	}
	sort.Strings(want)
	if len(want) < 2 {
		t.Fatalf("only %d users above %d: the test means little", len(want), limit)
	}

	base := []string{"report", "--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--tz", cqZone, "--service", "all"}
	for _, lang := range []string{"flux", "influxql"} {
		checkAlert(t, append(base, "--influx-query-language", lang), day, limit, want)
	}
	var r result

	// Flux and InfluxQL give the same report for every service.
	for _, svc := range []string{"imap", "pop3", "all"} {
		args := []string{"report", "--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--tz", cqZone,
			"--service", svc, "--format", "json", "--threshold", "0"}
		flux := mustRun(t, "", append(args, "--influx-query-language", "flux")...)
		ql := mustRun(t, "", append(args, "--influx-query-language", "influxql")...)
		if flux != ql || strings.Count(flux, `"user"`) < 5 {
			t.Errorf("service %s: Flux and InfluxQL reports differ or are nearly empty:\n%s\n%s", svc, flux, ql)
		}
	}

	// --top limits the rows printed, not the alert.
	r = runCLI(t, "", append(base, "--alert-above", strconv.FormatInt(limit, 10), "--top", "1")...)
	if r.code != exitAlert || strings.Count(r.stdout, "\n") != 5 {
		t.Errorf("--top 1: exit %d, stdout %q", r.code, r.stdout)
	}

	// Nobody above the largest total: silence and exit 0 (cron mails nothing).
	r = runCLI(t, "", append(base, "--alert-above", strconv.FormatInt(sorted[len(sorted)-1], 10))...)
	if r.code != exitOK || r.stdout != "" || r.stderr != "" {
		t.Errorf("nobody above: exit %d, stdout %q, stderr %q; want 0 and silence", r.code, r.stdout, r.stderr)
	}

	// Usage errors stay 2, failures 1.
	r = runCLI(t, "", append(base, "--alert-above", "3MB", "--threshold", "1MB")...)
	if r.code != exitUsage {
		t.Errorf("--alert-above with --threshold: exit %d, want %d", r.code, exitUsage)
	}
	r = runCLI(t, "", append(base, "--alert-above", "lots")...)
	if r.code != exitUsage {
		t.Errorf("--alert-above lots: exit %d, want %d", r.code, exitUsage)
	}
	r = runCLI(t, "", "report", "--influx-url", "http://127.0.0.1:1", "--alert-above", "1")
	if r.code != exitFail {
		t.Errorf("unreachable server: exit %d, want %d (stderr %q)", r.code, exitFail, r.stderr)
	}
}

// checkAlert runs report args --format csv --alert-above limit and checks that it exits 3 and
// lists exactly want ("user=total") for day.
func checkAlert(t *testing.T, args []string, day string, limit int64, want []string) {
	t.Helper()
	r := runCLI(t, "", append(args, "--format", "csv", "--alert-above", strconv.FormatInt(limit, 10))...)
	if r.code != exitAlert {
		t.Fatalf("%v: exit %d, want %d (stderr %q)", args, r.code, exitAlert, r.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, r.stdout)
	}
	var got []string
	for _, rec := range recs[1:] {
		if rec[3] == "-- total --" {
			continue
		}
		if rec[0] != day {
			t.Errorf("row of day %q, want %s", rec[0], day)
		}
		got = append(got, rec[3]+"="+rec[7])
	}
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%v: users above %d (-want +got):\n%s", args, limit, diff)
	}
	if !strings.Contains(r.stderr, strconv.Itoa(len(want))+" user(s) above "+strconv.FormatInt(limit, 10)+" bytes on "+day) {
		t.Errorf("stderr %q does not name the count, the limit and the day", r.stderr)
	}
}
