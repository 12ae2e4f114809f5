package loggen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// journalRemote finds systemd-journal-remote (Debian package
// systemd-journal-remote) and journalctl, or skips loudly.
func journalRemote(t *testing.T) (remote, journalctl string) {
	t.Helper()
	remote, err := exec.LookPath("systemd-journal-remote")
	if err != nil {
		for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
			if _, err := os.Stat(p); err == nil {
				remote = p
				break
			}
		}
	}
	if remote == "" {
		t.Skip("SKIPPED, NOT PASSED: systemd-journal-remote not found (install the Debian package systemd-journal-remote; scripts/install-deps.sh does): the export stream is not checked against a real journal file")
	}
	journalctl, err = exec.LookPath("journalctl")
	if err != nil {
		t.Skip("SKIPPED, NOT PASSED: journalctl not found (Debian package systemd): the journal file cannot be read back")
	}
	return remote, journalctl
}

// journalJSON reads `journalctl -o json` output: one object per entry,
// values strings, byte arrays (for binary fields) or null (never here: --all).
func journalJSON(t *testing.T, out []byte) []map[string]string {
	t.Helper()
	var entries []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("journalctl JSON %q: %v", sc.Text(), err)
		}
		e := map[string]string{}
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				e[k] = v
			case []any: // a value that is not valid UTF-8 text: its bytes
				b := make([]byte, len(v))
				for i, x := range v {
					b[i] = byte(x.(float64))
				}
				e[k] = string(b)
			default:
				t.Fatalf("journalctl JSON field %s = %v (%T)", k, v, v)
			}
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

// An export stream through the real systemd-journal-remote gives a journal
// file whose entries, read back by journalctl, are the generated ones, and
// whose re-counted truth is the generator's.
func TestJournalRemote(t *testing.T) {
	remote, journalctl := journalRemote(t)
	loc := berlin(t)
	start := time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC) // over the spring DST change
	tests := []struct {
		name string
		o    Options
	}{
		{"boundary bursts, twins, two hosts", Options{Seed: 31, Start: start, Days: 2, SessionsPerDay: 400, Users: 20,
			Location: loc, Format: Export, Hosts: []string{"mx1", "imap.example.com"}, Eras: AllEras,
			RepeatBursts: 0.1, BoundaryBursts: true, Twins: 0.05}},
		{"utc, port-less, heavy repeats", Options{Seed: 32, SessionsPerDay: 600, Format: Export, Eras: []Era{Era41, Era42}, RepeatBursts: 0.3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines, tr := collect(t, tc.o)
			var stream bytes.Buffer
			if _, err := WriteLog(&stream, tc.o); err != nil {
				t.Fatal(err)
			}
			// One hand-made entry with a newline in MESSAGE: the binary
			// field form frameExport writes must be accepted as well.
			const multi = "two\nlines"
			var tmp []byte
			extra := fmt.Sprintf("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=%032x\n_HOSTNAME=other\nSYSLOG_IDENTIFIER=test\nMESSAGE=",
				tr.Last.UnixMicro()+1, 7)
			b := frameExport(append([]byte(extra), multi...), len(extra), &tmp)
			stream.Write(append(b, '\n'))

			dir := t.TempDir()
			file := filepath.Join(dir, "x.journal")
			cmd := exec.Command(remote, "--output="+file, "-")
			cmd.Stdin = &stream
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
			cmd = exec.Command(journalctl, "--file", file, "-o", "json", "--all", "--no-pager")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			entries := journalJSON(t, out)
			if len(entries) != len(lines)+1 {
				t.Fatalf("journal holds %d entries, generated %d + 1", len(entries), len(lines))
			}
			if got := entries[len(entries)-1]["MESSAGE"]; got != multi {
				t.Fatalf("binary MESSAGE read back as %q", got)
			}
			entries = entries[:len(lines)]
			ps := make([]parsedLine, len(entries))
			for i, e := range entries {
				want := map[string]string{}
				for _, kv := range exportFields(t, lines[i].Raw) {
					want[kv[0]] = kv[1]
				}
				// journalctl adds __CURSOR (and __SEQNUM/__SEQNUM_ID in newer versions).
				got := map[string]string{}
				for k, v := range e {
					if k != "__CURSOR" && k != "__SEQNUM" && k != "__SEQNUM_ID" {
						got[k] = v
					}
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("entry %d (-generated +journal):\n%s", i, d)
				}
				if us, _ := strconv.ParseInt(e["_SOURCE_REALTIME_TIMESTAMP"], 10, 64); us != lines[i].Time.UnixMicro() {
					t.Fatalf("entry %d: _SOURCE_REALTIME_TIMESTAMP %d, Line.Time %v", i, us, lines[i].Time)
				}
				ps[i] = fromJournal(t, e, locOrUTC(tc.o.Location), "journal entry "+strconv.Itoa(i))
			}
			rc := recountParsed(t, ps)
			opts := cmp.Options{cmpopts.IgnoreFields(Truth{}, "First", "Last"), cmpopts.EquateEmpty()}
			if d := cmp.Diff(rc.truth, tr, opts); d != "" {
				t.Fatalf("truth re-counted from the journal differs (-journal +generator):\n%s", d)
			}
			if tr.RepeatLines == 0 || rc.stamped != int(tr.RepeatLines) || rc.crossSec == 0 {
				t.Fatalf("journal: %d copies, %d with their own stamp, %d across a second", tr.RepeatLines, rc.stamped, rc.crossSec)
			}
			if tc.o.BoundaryBursts && (rc.crossDay < 2 || rc.twins == 0) {
				t.Fatalf("journal: %d bursts across midnight, %d twins", rc.crossDay, rc.twins)
			}
			t.Logf("%d entries, %d sessions, %d copies (%d across a second, %d a minute, %d a day), %d twins",
				len(entries), tr.TrafficLines, tr.RepeatLines, rc.crossSec, rc.crossMin, rc.crossDay, rc.twins)
		})
	}
}

func locOrUTC(l *time.Location) *time.Location {
	if l == nil {
		return time.UTC
	}
	return l
}
