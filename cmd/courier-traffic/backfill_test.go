package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/google/go-cmp/cmp"
)

// truthSums converts the generator's truth to the read-back form.
func truthSums(tr loggen.Truth) map[influxtest.Key]influxtest.Sums {
	out := map[influxtest.Key]influxtest.Sums{}
	for k, s := range tr.Sessions {
		out[influxtest.Key{Day: k.Day, Service: k.Service, User: k.User}] = influxtest.Sums(s)
	}
	return out
}

var summaryRE = regexp.MustCompile(`^backfill: (\d+) lines, (\d+) sessions, (\d+) repeats dropped, (\d+) points written, \S+\n$`)

// summary parses backfill's last line into its four counts.
func summary(t *testing.T, out string) [4]int64 {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backfill summary %q does not match %v", out, summaryRE)
	}
	var n [4]int64
	for i := range n {
		fmt.Sscan(m[i+1], &n[i])
	}
	return n
}

// TestBackfill writes generated history (two rotated files, one gzip, with
// the repeat bug, rsyslog markers and an overlap between the files) into a
// real InfluxDB: the stored sums equal the truth; a second run changes
// nothing; and `report --influx-url` prints the same table as `report` from
// the files.
func TestBackfill(t *testing.T) {
	srv := influxtest.Shared(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts := loggen.Options{Seed: 11, Days: 2, SessionsPerDay: 400, Users: 40, Location: berlin,
		Format: loggen.Mixed, Eras: loggen.AllEras, RsyslogMarkers: 0.05, RepeatBursts: 0.05,
		Hosts: []string{"mx1", "mx2"}, Start: time.Date(2026, 7, 22, 0, 0, 0, 0, time.UTC)}
	full, truth := writeGenerated(t, dir, "all.log", opts, nil)
	// Split into mail.log.1.gz (first 60%) and mail.log (from 40%): the
	// middle fifth is in both files, as when a back-fill overlaps.
	data := mustRead(t, full)
	cut := func(f float64) int {
		i := int(float64(len(data)) * f)
		return i + strings.IndexByte(string(data[i:]), '\n') + 1
	}
	old := filepath.Join(dir, "mail.log.1.gz")
	cur := filepath.Join(dir, "mail.log")
	writeGzip(t, old, data[:cut(0.6)])
	if err := os.WriteFile(cur, data[cut(0.4):], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, cur} {
		mt := truth.Last.Add(time.Minute)
		os.Chtimes(p, mt, mt)
	}

	args := []string{"backfill", "--influx-url", srv.URL, "--influx-bucket", srv.Bucket,
		"--time-zone", "Europe/Berlin", "--batch-size", "500", old, cur}
	first := summary(t, mustRun(t, "", args...))
	if diff := cmp.Diff(truthSums(truth), srv.Sums(t, "courier_session", berlin)); diff != "" {
		t.Fatalf("InfluxDB after back-fill (-truth +stored):\n%s", diff)
	}
	var sessions int64
	for _, s := range truth.Sessions {
		sessions += s.Sessions
	}
	if first[3] < sessions {
		t.Errorf("summary: %d points written, want at least the %d sessions with bytes", first[3], sessions)
	}
	if first[2] == 0 {
		t.Errorf("summary: no repeats dropped, but the files overlap and have repeat bursts: %v", first)
	}

	// Again: the same points land on themselves.
	second := summary(t, mustRun(t, "", args...))
	if second[3] != first[3] {
		t.Errorf("second run wrote %d points, first %d: deterministic points must be the same", second[3], first[3])
	}
	if diff := cmp.Diff(truthSums(truth), srv.Sums(t, "courier_session", berlin)); diff != "" {
		t.Errorf("InfluxDB after a second back-fill (-truth +stored):\n%s", diff)
	}

	// The report from InfluxDB equals the report from the files.
	for _, day := range truth.Days() {
		for _, svc := range []string{"imap", "pop3", "all"} {
			base := []string{"report", "--date", day, "--service", svc, "--tz", "Europe/Berlin", "--threshold", "1MB"}
			fromFiles := mustRun(t, "", append(base, full)...)
			fromInflux := mustRun(t, "", append(base, "--influx-url", srv.URL, "--influx-bucket", srv.Bucket)...)
			if diff := cmp.Diff(fromFiles, fromInflux); diff != "" {
				t.Errorf("%s %s: report --influx-url (-files +influx):\n%s", day, svc, diff)
			}
		}
	}
}

// TestBackfillFailure: a server that cannot take the points ends the run
// with exit 1, the reason (the server's message) and the summary so far.
func TestBackfillFailure(t *testing.T) {
	srv := influxtest.Shared(t)
	log := quickstartLog(t)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"missing database", []string{"--influx-url", srv.URL, "--influx-bucket", "no_such_db/autogen"}, "database not found"},
		{"nothing listening", []string{"--influx-url", "http://127.0.0.1:1", "--influx-timeout", "2s"}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"backfill"}, tt.args...), log)
			r := runCLI(t, "", args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) || !strings.Contains(r.stderr, "run it again") {
				t.Errorf("stderr %q lacks the reason %q", r.stderr, tt.stderr)
			}
			if n := summary(t, r.stdout); n[3] != 0 {
				t.Errorf("summary says %d points written", n[3])
			}
		})
	}
}

// TestBackfillStdin: "-" reads standard input.
func TestBackfillStdin(t *testing.T) {
	srv := influxtest.Shared(t)
	out := mustRun(t, string(mustRead(t, quickstartLog(t))), "backfill", "--influx-url", srv.URL,
		"--influx-bucket", srv.Bucket, "--time-zone", "UTC", "-")
	n := summary(t, out)
	// seedLog: 1027 IMAP + 13 POP3 sessions of Jul 23, 10 on the days
	// around, one pre-login session (not a point) and one adjacent repeat.
	if want := [4]int64{n[0], 1052, 1, 1050}; n != want {
		t.Errorf("summary counts = %v, want %v", n, want)
	}
	got := mustRun(t, "", "report", "--date", "2026-07-23", "--tz", "UTC", "--influx-url", srv.URL, "--influx-bucket", srv.Bucket)
	if diff := cmp.Diff(seedExample, got); diff != "" {
		t.Errorf("report from InfluxDB (-article +ours):\n%s", diff)
	}
}

// TestBackfillProgress: on a terminal the progress bar counts the file's
// bytes to 100%; the summary still goes to stdout.
func TestBackfillProgress(t *testing.T) {
	srv := influxtest.Shared(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"backfill", "--influx-url", srv.URL, "--influx-bucket", srv.Bucket,
		"--time-zone", "UTC", quickstartLog(t)}, env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		now:        func() time.Time { return testNow },
		isTerminal: func(io.Writer) bool { return true },
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	size := len(mustRead(t, quickstartLog(t)))
	if !strings.Contains(errb.String(), "100%") || !strings.Contains(errb.String(), "backfill") {
		t.Errorf("stderr has no finished progress bar over %d bytes: %q", size, errb.String())
	}
	summary(t, out.String())
}

// TestBackfillYear: an old year-less (classic syslog) file whose
// modification time is years later (copied, restored from a backup) is
// back-filled into the year --year names; inferred from
// the mtime it would land in 2026.
func TestBackfillYear(t *testing.T) {
	srv := influxtest.Shared(t)
	dir := t.TempDir()
	opts := loggen.Options{Seed: 5, Days: 1, SessionsPerDay: 200, Users: 20, Location: time.UTC,
		Format: loggen.Classic, Start: time.Date(2024, 7, 22, 0, 0, 0, 0, time.UTC)}
	file, truth := writeGenerated(t, dir, "mail.log.9", opts, nil)
	mt := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(file, mt, mt); err != nil {
		t.Fatal(err)
	}
	args := []string{"backfill", "--influx-url", srv.URL, "--influx-bucket", srv.Bucket, "--tz", "UTC", "--no-progress"}
	mustRun(t, "", append(args, "--year", "2024", file)...)
	if diff := cmp.Diff(truthSums(truth), srv.Sums(t, "courier_session", time.UTC)); diff != "" {
		t.Fatalf("InfluxDB after back-fill with --year 2024 (-truth +stored):\n%s", diff)
	}
	if r := runCLI(t, "", append(args, "--year", "-1", file)...); r.code != 2 || !strings.Contains(r.stderr, "--year") {
		t.Errorf("--year -1: exit %d, stderr %q; want a usage error naming --year", r.code, r.stderr)
	}
}
