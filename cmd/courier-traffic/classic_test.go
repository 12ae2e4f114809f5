package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// classicScript returns the path of the classic script, $COURIER_CLASSIC_SCRIPT,
// skipping loudly when it or its tools are absent: it is someone else's
// work, stays outside the project and is never copied into it.
func classicScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("COURIER_CLASSIC_SCRIPT")
	if path == "" {
		t.Skip("SKIPPED: COURIER_CLASSIC_SCRIPT is not set; set it to a copy of the classic script to compare against it")
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("SKIPPED: the classic script is not available (%v); set COURIER_CLASSIC_SCRIPT to compare against it", err)
	}
	for _, tool := range []string{"bash", "sed", "uniq", "awk", "sort"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPED: the classic script needs %s, not found: %v", tool, err)
		}
	}
	return path
}

// runClassic runs the classic script on log for date ("Jul 23") with the
// given UNIT (0 = B, 1 = KB, ...), THRESHOLD and SVC, in the C locale.
func runClassic(t *testing.T, script, log, date string, unit int, threshold int64, svc string) string {
	t.Helper()
	cmd := exec.Command("bash", script, date, log)
	cmd.Env = append(os.Environ(), "LC_ALL=C", fmt.Sprintf("UNIT=%d", unit),
		fmt.Sprintf("THRESHOLD=%d", threshold), "SVC="+svc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("classic script: %v\n%s", err, stderr.String())
	}
	return string(out)
}

var unitNames = []string{"B", "KB", "MB", "GB", "TB"}

// TestClassicScriptQuickstart: on the quick-start log (where the script is
// right) the output is byte-identical to the script's for every unit and a
// range of thresholds, and identical but for the header's service name for
// POP3 (the script always says IMAP).
func TestClassicScriptQuickstart(t *testing.T) {
	script := classicScript(t)
	log := quickstartLog(t)
	for _, svc := range []string{"imap", "pop3"} {
		for unit := range 4 {
			for _, threshold := range []int64{0, 2900000, 12509000, 50000000, 1 << 40} {
				name := fmt.Sprintf("%s/%s/%d", svc, unitNames[unit], threshold)
				t.Run(name, func(t *testing.T) {
					want := runClassic(t, script, log, "Jul 23", unit, threshold, svc+"d")
					got := mustRun(t, "", "report", "--date", "Jul 23", "--year", "2026", "--tz", "UTC",
						"--service", svc, "--unit", unitNames[unit], "--threshold", fmt.Sprint(threshold), log)
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

// TestClassicScriptWrong documents, by running it, where the script is
// wrong on wrongLog and we are right (the README's notes): its output must
// differ from ours.
func TestClassicScriptWrong(t *testing.T) {
	script := classicScript(t)
	log := filepath.Join(t.TempDir(), "mail.log")
	if err := os.WriteFile(log, []byte(wrongLog), 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := runClassic(t, script, log, "Jul 23", 0, 2900000, "imapd")
	ours := mustRun(t, "", "report", "--date", "Jul 23", "--year", "2026", "--tz", "UTC", "--unit", "B", log)
	for _, s := range []string{
		"2147483647",                   // its %d of a sum over 2^31 bytes
		"                         doe", // the user "doe, john" cut at the comma
		"                        jane", // the user "jane doe" cut at the blank
	} {
		if !strings.Contains(theirs, s) {
			t.Errorf("the classic script's output no longer shows %q; update the README notes\n%s", s, theirs)
		}
		if strings.Contains(ours, s+" ") && s != "2147483647" {
			t.Errorf("our output shows the script's mistake %q\n%s", s, ours)
		}
	}
	if strings.Contains(theirs, "carol") {
		t.Errorf("the classic script now reads RFC 3339 stamps; update the README notes\n%s", theirs)
	}
	if strings.Contains(ours, "2147483647") {
		t.Errorf("our output prints mawk's 2147483647\n%s", ours)
	}
	// alice's non-adjacent repeat: the script counts her twice (6 MB), we once.
	if !strings.Contains(theirs, "alice 6000000 B   [#    2:") {
		t.Errorf("the classic script no longer double-counts a non-adjacent repeat; update the README notes\n%s", theirs)
	}
	// web's two sessions in one second with equal bytes: the script's uniq
	// merges them (3 MB, one session), we count both.
	if !strings.Contains(theirs, "web 3000000 B   [#    1:") {
		t.Errorf("the classic script no longer merges equal sessions of one second; update the README notes\n%s", theirs)
	}
}
