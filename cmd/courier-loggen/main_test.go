package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

func runOK(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	if code := run(args, &o, &e); code != 0 {
		t.Fatalf("run %q = %d, stderr:\n%s", args, code, e.String())
	}
	return o.String(), e.String()
}

func TestWritesLogAndTruth(t *testing.T) {
	dir := t.TempDir()
	logPath, truthPath := filepath.Join(dir, "mail.log"), filepath.Join(dir, "truth.json")
	_, stderr := runOK(t, "-seed", "3", "-start", "2025-12-30", "-days", "3", "-users", "20", "-sessions", "300",
		"-format", "mixed", "-eras", "all", "-tz", "Europe/Berlin", "-host", "mx1,mx2", "-markers", "0.05",
		"-o", logPath, "-truth", truthPath)
	if !strings.Contains(stderr, " lines (") {
		t.Errorf("no summary on stderr: %q", stderr)
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("zone Europe/Berlin (time/tzdata is embedded, so this cannot be missing): %v", err)
	}
	var want bytes.Buffer
	wantTruth, err := loggen.WriteLog(&want, loggen.Options{Seed: 3, Start: time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC),
		Days: 3, Users: 20, SessionsPerDay: 300, Format: loggen.Mixed, Eras: loggen.AllEras, Location: loc,
		Hosts: []string{"mx1", "mx2"}, RsyslogMarkers: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), got) {
		t.Fatal("the command's log differs from loggen.WriteLog with the same options")
	}
	js, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	var gotTruth loggen.Truth
	if err := json.Unmarshal(js, &gotTruth); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantTruth, gotTruth); d != "" {
		t.Fatalf("truth file (-want +got):\n%s", d)
	}
	// Sorted and stable: marshalling the read-back truth gives the same bytes.
	again, err := json.MarshalIndent(gotTruth, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(again)+"\n" != string(js) {
		t.Error("truth JSON does not round-trip byte for byte")
	}
}

func TestLinesFlag(t *testing.T) {
	out, _ := runOK(t, "-lines", "12345", "-days", "2", "-q")
	if n := strings.Count(out, "\n"); n != 12345 {
		t.Fatalf("-lines 12345 wrote %d lines", n)
	}
	// With -lines and no -sessions, the sessions are sized for -days days.
	c, err := parseFlags([]string{"-lines", "1000000", "-days", "10"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.opts.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	perDay := float64(c.opts.SessionsPerDay) * r.EstimatedLinesPerSession()
	if perDay < 100000 || perDay > 101000 {
		t.Errorf("-lines 1e6 -days 10: %d sessions/day make %.0f lines/day, want ~100000", c.opts.SessionsPerDay, perDay)
	}
}

func TestZeroMeansNone(t *testing.T) {
	out, _ := runOK(t, "-noise", "0", "-prelogin", "0", "-repeats", "0", "-sessions", "200", "-q")
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.Contains(l, ", rcvd=") {
			t.Fatalf("-noise 0 -prelogin 0 -repeats 0 wrote a non-traffic line: %q", l)
		}
		if strings.Contains(l, ": LOGOUT, ip=") {
			t.Fatalf("-prelogin 0 wrote a pre-login line: %q", l)
		}
	}
	if n := strings.Count(out, "\n"); n < 150 || n > 200 {
		t.Errorf("%d lines for 200 sessions", n)
	}
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-format", "xml"}, "-format"},
		{[]string{"-eras", "509,7"}, "-eras"},
		{[]string{"-tz", "Mars/Olympus"}, "-tz"},
		{[]string{"-start", "2026-13-01"}, "-start"},
		{[]string{"-days", "0"}, "-days"},
		{[]string{"-pop3", "2"}, "POP3Share"},
		{[]string{"-host", "a,,b"}, "Hosts[1]"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"-copy-stamps", "receipt"}, "-copy-stamps"},
		{[]string{"-copy-stamps", "reception"}, "no microseconds"},
		{[]string{"-format", "export", "-copy-stamps", "original"}, "export needs reception"},
		{[]string{"-format", "rfc3339", "-boundary-bursts"}, "BoundaryBursts"},
		{[]string{"-format", "export", "-markers", "0.1"}, "RsyslogMarkers"},
		{[]string{"-twins", "1.5"}, "Twins"},
		{[]string{"-nope"}, "-nope"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var o, e bytes.Buffer
			if code := run(tc.args, &o, &e); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			if !strings.Contains(e.String(), tc.want) {
				t.Fatalf("stderr %q does not mention %q", e.String(), tc.want)
			}
			if o.Len() != 0 {
				t.Fatalf("wrote %d bytes of log despite the error", o.Len())
			}
		})
	}
}

func TestUnwritableOutput(t *testing.T) {
	var o, e bytes.Buffer
	if code := run([]string{"-o", filepath.Join(t.TempDir(), "no", "such", "dir", "x.log")}, &o, &e); code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, e.String())
	}
}

// The new flags map onto the new Options fields.
func TestStampFlags(t *testing.T) {
	tests := []struct {
		args []string
		o    loggen.Options
	}{
		{[]string{"-format", "rfc5424"}, loggen.Options{Format: loggen.RFC5424}},
		{[]string{"-format", "forward", "-copy-stamps", "original"}, loggen.Options{Format: loggen.Forward, CopyStamps: loggen.CopyOriginal}},
		{[]string{"-format", "rfc3339", "-copy-stamps", "reception", "-boundary-bursts", "-twins", "0.1"},
			loggen.Options{Format: loggen.RFC3339, CopyStamps: loggen.CopyReception, BoundaryBursts: true, Twins: 0.1}},
		{[]string{"-format", "export", "-days", "2", "-boundary-bursts"}, loggen.Options{Format: loggen.Export, Days: 2, BoundaryBursts: true}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, _ := runOK(t, append([]string{"-q", "-sessions", "200", "-seed", "4"}, tc.args...)...)
			o := tc.o
			o.Seed, o.SessionsPerDay = 4, 200
			var want bytes.Buffer
			if _, err := loggen.WriteLog(&want, o); err != nil {
				t.Fatal(err)
			}
			if want.String() != out {
				t.Fatalf("%q: the command's log differs from loggen.WriteLog(%+v)", tc.args, o)
			}
		})
	}
}
