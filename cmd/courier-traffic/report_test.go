package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQuickstartLog keeps testdata/quickstart/mail.log equal to what
// seedLog constructs (go test -update rewrites it).
func TestQuickstartLog(t *testing.T) {
	path := quickstartLog(t)
	want := seedLog()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if string(got) != want {
		t.Errorf("%s differs from seedLog(); run go test -update and review the diff", path)
	}
}

// TestSeedExample: the article's example report, reproduced byte for byte
// from the constructed log.
func TestSeedExample(t *testing.T) {
	got := mustRun(t, "", "report", "--date", "Jul 23", "--year", "2026", "--tz", "UTC", quickstartLog(t))
	if diff := cmp.Diff(seedExample, got); diff != "" {
		t.Errorf("report of the quick-start log (-article +ours):\n%s", diff)
	}
	// The defaults reproduce it too: yesterday (testNow is Jul 24) and a
	// year inferred from the reference time.
	got = mustRun(t, string(mustRead(t, quickstartLog(t))), "report", "--tz", "UTC", "-")
	if diff := cmp.Diff(seedExample, got); diff != "" {
		t.Errorf("report with default date from stdin (-article +ours):\n%s", diff)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// demoCommand returns the arguments of the Makefile's demo target (the
// README's main-job command), so the test runs exactly what users run.
func demoCommand(t *testing.T) []string {
	t.Helper()
	mk := string(mustRead(t, filepath.Join(repoRoot(t), "Makefile")))
	m := regexp.MustCompile(`(?m)^demo:.*\n\t\$\(GO\) run \./cmd/courier-traffic (.*)$`).FindStringSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no `demo:` target running $(GO) run ./cmd/courier-traffic ...")
	}
	return shellWords(t, m[1])
}

// shellWords splits a command line with single and double quotes (enough
// for the Makefile's recipe; no expansions).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '$' || c == '`' || c == '\\':
			t.Fatalf("demo command %q uses shell expansion; update shellWords", s)
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("demo command %q: unterminated quote", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// TestDemoCommand runs the README's main-job command (make demo) as a real
// process from the repository root and checks its output: the article's
// report.
func TestDemoCommand(t *testing.T) {
	args := demoCommand(t)
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = repoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("courier-traffic %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if diff := cmp.Diff(seedExample, string(out)); diff != "" {
		t.Errorf("make demo output (-article +ours):\n%s", diff)
	}
}

// TestReportGolden covers the flags over the quick-start log.
func TestReportGolden(t *testing.T) {
	log := quickstartLog(t)
	base := []string{"report", "--date", "Jul 23", "--year", "2026", "--tz", "UTC"}
	tests := []struct {
		name string
		args []string
	}{
		{"default.txt", nil},
		{"pop3.txt", []string{"--service", "pop3"}},
		{"all.txt", []string{"--service", "all"}},
		{"kib-threshold-1mb.txt", []string{"--unit", "KiB", "--threshold", "1MB"}},
		{"bytes.txt", []string{"--unit", "B", "--threshold", "0"}},
		{"top2.txt", []string{"--top", "2"}},
		{"gb-ties.txt", []string{"--unit", "GB", "--threshold", "0", "--top", "3"}}, // 0 GB ties ordered like sort -nr -k 2
		{"iso-date.txt", []string{"--date", "2026-07-22", "--threshold", "0"}},
		{"all.json", []string{"--service", "all", "--format", "json"}},
		{"all.csv", []string{"--service", "all", "--format", "csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append(append([]string(nil), base...), tt.args...), log)
			golden(t, filepath.Join("golden", tt.name), mustRun(t, "", args...))
		})
	}
}

// TestInputs: the same report from a plain file, a gzip file, stdin, the
// file split in two (several files are one stream) and with the flags after
// the file.
func TestInputs(t *testing.T) {
	data := mustRead(t, quickstartLog(t))
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	gzPath := filepath.Join(dir, "mail.log.2.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	// Split mid-way, between two lines, into an old gzip part and a plain part.
	cut := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	var gz1 bytes.Buffer
	zw = gzip.NewWriter(&gz1)
	zw.Write(data[:cut])
	zw.Close()
	part1 := filepath.Join(dir, "mail.log.1.gz")
	part2 := filepath.Join(dir, "mail.log")
	os.WriteFile(part1, gz1.Bytes(), 0o644)
	os.WriteFile(part2, data[cut:], 0o644)

	flags := []string{"--date", "Jul 23", "--year", "2026", "--tz", "UTC"}
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"plain", "", append([]string{"report"}, append(flags, quickstartLog(t))...)},
		{"gzip", "", append([]string{"report"}, append(flags, gzPath)...)},
		{"stdin", string(data), append([]string{"report"}, append(flags, "-")...)},
		{"two files", "", append([]string{"report"}, append(flags, part1, part2)...)},
		{"flags after the file", "", append([]string{"report", quickstartLog(t)}, flags...)},
		{"double dash", "", append(append([]string{"report"}, flags...), "--", quickstartLog(t))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(seedExample, mustRun(t, tt.stdin, tt.args...)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrors: usage errors exit 2 naming the flag; failures exit 1 with
// the reason; nothing is printed on stdout then.
func TestErrors(t *testing.T) {
	log := quickstartLog(t)
	missing := filepath.Join(t.TempDir(), "missing.log")
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string
		noStderr string
	}{
		{"no command", nil, 2, "Usage:", ""},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{"bad flag", []string{"report", "--nope", log}, 2, "flag provided but not defined: -nope", ""},
		{"bad date", []string{"report", "--date", "Foo 3", log}, 2, "--date", ""},
		{"bad unit", []string{"report", "--unit", "PB", log}, 2, "--unit", ""},
		{"bad threshold", []string{"report", "--threshold", "3XB", log}, 2, "--threshold", ""},
		{"bad service", []string{"report", "--service", "smtp", log}, 2, "--service", ""},
		{"bad format", []string{"report", "--format", "xml", log}, 2, "--format", ""},
		{"negative top", []string{"report", "--top", "-1", log}, 2, "--top", ""},
		{"bad year", []string{"report", "--year", "10000", log}, 2, "--year", ""},
		{"bad zone", []string{"report", "--tz", "Mars/Olympus", log}, 2, "time_zone", ""},
		{"tz and time-zone differ", []string{"report", "--tz", "UTC", "--time-zone", "Europe/Berlin", log}, 2, "--tz and --time-zone", ""},
		{"bad plugin key", []string{"report", "--dedup-window", "soon", log}, 2, "dedup_window", ""},
		{"missing file", []string{"report", missing}, 1, "missing.log", ""},
		{"files with influx", []string{"report", "--influx-url", "http://127.0.0.1:1", log}, 2, "give no files", ""},
		{"token and token file", []string{"report", "--influx-url", "http://127.0.0.1:1", "--influx-token", "s3cret-token", "--influx-token-file", tokenFile}, 2, "influx_token", "s3cret"},
		{"influx unreachable", []string{"report", "--influx-url", "http://127.0.0.1:1", "--influx-token-file", tokenFile, "--influx-timeout", "2s"}, 1, "127.0.0.1:1", "s3cret"},
		{"backfill without files", []string{"backfill"}, 2, "no files", ""},
		{"backfill bad batch size", []string{"backfill", "--batch-size", "0", log}, 2, "batch_size", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.stderr)
			}
			if tt.noStderr != "" && strings.Contains(r.stderr, tt.noStderr) {
				t.Errorf("stderr leaks %q: %s", tt.noStderr, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
	t.Run("help exits 0", func(t *testing.T) {
		for _, args := range [][]string{{"help"}, {"report", "-h"}, {"backfill", "--help"}} {
			if r := runCLI(t, "", args...); r.code != 0 {
				t.Errorf("%v: exit %d, want 0", args, r.code)
			}
		}
	})
}

// wrongLog has what the classic script gets wrong (README notes): a repeat
// that is not adjacent, RFC 3339 and journald short-iso stamps, user names
// with a comma and with a blank, sums over 2^31 bytes, two distinct
// sessions with equal bytes in one second (another port: uniq merges them),
// a pre-login session, and a Courier line without byte counters.
const wrongLog = `Jul 23 08:00:00 mx imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], headers=0, body=0, rcvd=1000000, sent=2000000, time=5
Jul 23 08:00:01 mx imapd: LOGOUT, user=bob, ip=[::ffff:192.0.2.2], headers=0, body=0, rcvd=1500000, sent=1500000, time=5
Jul 23 08:00:00 mx imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.1], headers=0, body=0, rcvd=1000000, sent=2000000, time=5
2026-07-23T09:00:00.123456+00:00 mx imapd: LOGOUT, user=carol, ip=[::ffff:192.0.2.3], port=[1], headers=0, body=0, rcvd=3000000, sent=1000000, time=5
2026-07-23T11:00:00+0200 mx imapd[77]: LOGOUT, user=carol, ip=[::ffff:192.0.2.3], port=[2], headers=0, body=0, rcvd=3000000, sent=1000000, time=5
Jul 23 10:00:00 mx imapd: LOGOUT, user=doe, john, ip=[::ffff:192.0.2.4], port=[3], headers=0, body=0, rcvd=4000000, sent=0, time=5
Jul 23 10:00:01 mx imapd: LOGOUT, user=jane doe, ip=[::ffff:192.0.2.5], port=[4], headers=0, body=0, rcvd=5000000, sent=0, time=5
Jul 23 12:00:00 mx imapd: LOGOUT, user=big, ip=[::ffff:192.0.2.6], port=[5], headers=0, body=0, rcvd=2000000000, sent=1000000000, time=5
Jul 23 12:00:01 mx imapd: LOGOUT, user=big, ip=[::ffff:192.0.2.6], port=[6], headers=0, body=0, rcvd=2000000000, sent=1000000000, time=5
Jul 23 12:00:02 mx imapd: LOGOUT, ip=[::ffff:192.0.2.7], port=[7], rcvd=9000000, sent=9000000
Jul 23 12:00:03 mx imaplogin: LOGOUT, user=old, ip=[::ffff:127.0.0.1], headers=0, body=955, time=0
Jul 23 13:00:00 mx imapd: LOGOUT, user=web, ip=[::ffff:127.0.0.1], port=[40001], headers=0, body=0, rcvd=2000000, sent=1000000, time=0
Jul 23 13:00:00 mx imapd: LOGOUT, user=web, ip=[::ffff:127.0.0.1], port=[40002], headers=0, body=0, rcvd=2000000, sent=1000000, time=0
`

// TestWhereTheScriptIsWrong pins our (right) answers on wrongLog.
func TestWhereTheScriptIsWrong(t *testing.T) {
	got := mustRun(t, wrongLog, "report", "--date", "Jul 23", "--year", "2026", "--tz", "UTC", "--unit", "B", "-")
	want := "== Courier IMAP traffic stats per user of Jul 23 ==\n\n" +
		"                         big 6000000000 B   [#    2: r 4000000000 s 2000000000 ]\n" +
		"                       carol 8000000 B   [#    2: r 6000000 s 2000000 ]\n" +
		"                         web 6000000 B   [#    2: r 4000000 s 2000000 ]\n" +
		"                    jane doe 5000000 B   [#    1: r 5000000 s     0 ]\n" +
		"                   doe, john 4000000 B   [#    1: r 4000000 s     0 ]\n" +
		"                       alice 3000000 B   [#    1: r 1000000 s 2000000 ]\n" +
		"                         bob 3000000 B   [#    1: r 1500000 s 1500000 ]\n" +
		"\n" +
		"                 -- total -- 6029000000 B   [#   10: r 4021500000 s 2007500000 ]\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	golden(t, filepath.Join("golden", "script-wrong.txt"), got)
}
