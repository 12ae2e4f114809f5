package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/courier-traffic/courier-traffic/report"
	"github.com/google/go-cmp/cmp"
)

// writeGenerated writes the log of opts to a file in dir whose modification
// time is just after its last line (the reference for year inference, as
// for a real log), and returns the path and the truth. filter, when not
// nil, drops lines (the truth is then no longer exact).
func writeGenerated(t *testing.T, dir, name string, opts loggen.Options, filter func(loggen.Line) bool) (string, loggen.Truth) {
	t.Helper()
	var buf bytes.Buffer
	truth, err := loggen.Generate(opts, func(l loggen.Line) error {
		if filter == nil || filter(l) {
			buf.WriteString(l.Raw)
			buf.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := truth.Last.Add(time.Minute)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return path, truth
}

// jsonUsers runs report --format json and returns the per-user sums and
// the total row.
func jsonUsers(t *testing.T, args ...string) (map[string]loggen.Sums, loggen.Sums) {
	t.Helper()
	out := mustRun(t, "", append([]string{"report", "--format", "json", "--threshold", "-0"[1:]}, args...)...)
	var rep report.JSONReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	users := map[string]loggen.Sums{}
	for _, r := range rep.Users {
		users[r.User] = loggen.Sums{Sessions: r.Sessions, Rcvd: r.Rcvd, Sent: r.Sent}
	}
	return users, loggen.Sums{Sessions: rep.Total.Sessions, Rcvd: rep.Total.Rcvd, Sent: rep.Total.Sent}
}

// TestReportTruth: for generated logs in every format and era, with the
// Courier repeat bug, rsyslog markers, several hosts, zones with DST and
// New Year, the report of every day and service equals the generator's
// truth.
func TestReportTruth(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("zoneinfo: %v", err)
	}
	tests := []struct {
		name string
		opts loggen.Options
		tz   string
	}{
		{"classic", loggen.Options{Seed: 1, Days: 3, SessionsPerDay: 300, Users: 40}, "UTC"},
		{"rfc3339 all eras", loggen.Options{Seed: 2, Days: 2, SessionsPerDay: 300, Users: 40,
			Format: loggen.RFC3339, Eras: loggen.AllEras}, "UTC"},
		{"mixed, markers, hosts, Berlin DST", loggen.Options{Seed: 3, Days: 2, SessionsPerDay: 300, Users: 40,
			Format: loggen.Mixed, Eras: loggen.AllEras, RsyslogMarkers: 0.05, RepeatBursts: 0.05,
			Hosts: []string{"mx1", "mx2"}, Location: berlin, Start: time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)},
			"Europe/Berlin"},
		{"classic over New Year", loggen.Options{Seed: 4, Days: 3, SessionsPerDay: 200, Users: 30,
			Start: time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)}, "UTC"},
		{"shortiso", loggen.Options{Seed: 5, Days: 1, SessionsPerDay: 300, Users: 40,
			Format: loggen.ShortISO, Location: berlin}, "Europe/Berlin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, truth := writeGenerated(t, t.TempDir(), "mail.log", tt.opts, nil)
			if len(truth.Days()) == 0 {
				t.Fatal("generated log has no sessions")
			}
			for _, day := range truth.Days() {
				for _, svc := range []string{"imap", "pop3", "all"} {
					name := day + "/" + svc
					truthSvc := svc
					if svc == "all" {
						truthSvc = ""
					}
					users, total := jsonUsers(t, "--date", day, "--service", svc, "--tz", tt.tz, path)
					if diff := cmp.Diff(truth.Total(day, truthSvc), users); diff != "" {
						t.Errorf("%s: users (-truth +report):\n%s", name, diff)
					}
					if diff := cmp.Diff(truth.DayTotal(day, truthSvc), total); diff != "" {
						t.Errorf("%s: total row (-truth +report):\n%s", name, diff)
					}
				}
			}
		})
	}
}

// userOf returns the user= value of a Courier message (between "user=" and
// the last ", ip=["), or "".
func userOf(msg string) string {
	i := strings.Index(msg, "user=")
	j := strings.LastIndex(msg, ", ip=[")
	if i < 0 || j < i {
		return ""
	}
	return msg[i+len("user=") : j]
}

var bytesRE = regexp.MustCompile(`rcvd=([0-9]+), sent=([0-9]+)`)

// scriptIsRight returns a line filter that keeps a generated log to what
// the classic script reads right: no user names with blanks or commas, and
// no distinct session whose (user, rcvd, sent, second) equals that of the
// session before it, which the script's uniq would merge (webmail bursts:
// same bytes, another port).
func scriptIsRight() func(loggen.Line) bool {
	prev := map[string]string{}
	return func(l loggen.Line) bool {
		u := userOf(l.Message)
		if strings.ContainsAny(u, " ,") {
			return false
		}
		svc := ""
		switch {
		case strings.Contains(l.Ident, "imapd"):
			svc = "imap"
		case strings.Contains(l.Ident, "pop3d"):
			svc = "pop3"
		}
		m := bytesRE.FindStringSubmatch(l.Message)
		if svc == "" || u == "" || m == nil {
			return true
		}
		tuple := u + " " + m[1] + " " + m[2] + " " + l.Time.Format("15:04:05")
		if prev[svc] == tuple {
			return false
		}
		prev[svc] = tuple
		return true
	}
}

// TestClassicScriptGenerated: on generated Classic logs where the script is
// right (no repeats other than adjacent ones, see scriptIsRight), our output
// is byte-identical to the script's for every day, IMAP and POP3, several
// units and thresholds, including a single-digit day ("Aug  1").
func TestClassicScriptGenerated(t *testing.T) {
	script := classicScript(t)
	opts := loggen.Options{Seed: 7, Days: 3, SessionsPerDay: 400, Users: 60,
		Start:        time.Date(2026, 7, 30, 0, 0, 0, 0, time.UTC),
		Eras:         []loggen.Era{loggen.Era42, loggen.Era509, loggen.Era60},
		RepeatBursts: -1, // its copies interleave: the script's uniq would miss them
	}
	path, truth := writeGenerated(t, t.TempDir(), "mail.log", opts, scriptIsRight())
	for _, day := range truth.Days() {
		// mawk's %d prints 2147483647 for sums of 2^31 bytes and more
		// (TestClassicScriptWrong): compare bytes only below that.
		big := false
		for _, svc := range []string{"imap", "pop3"} {
			big = big || truth.DayTotal(day, svc).Rcvd+truth.DayTotal(day, svc).Sent >= 1<<31
		}
		d, err := time.Parse("2006-01-02", day)
		if err != nil {
			t.Fatal(err)
		}
		date := d.Format("Jan _2")
		for _, svc := range []string{"imap", "pop3"} {
			for unit := range 3 {
				if unit == 0 && big {
					continue
				}
				for _, threshold := range []int64{0, 2900000} {
					t.Run(fmt.Sprintf("%s/%s/%s/%d", day, svc, unitNames[unit], threshold), func(t *testing.T) {
						want := runClassic(t, script, path, date, unit, threshold, svc+"d")
						got := mustRun(t, "", "report", "--date", date, "--year", "2026", "--tz", "UTC",
							"--service", svc, "--unit", unitNames[unit], "--threshold", fmt.Sprint(threshold), path)
						if svc == "pop3" {
							got = strings.Replace(got, "Courier POP3 traffic", "Courier IMAP traffic", 1)
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("(-script +ours):\n%s", diff)
						}
					})
				}
			}
		}
	}
}
