package loggen

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkReception asserts what CopyReception promises about the text: copies
// carry their own, increasing stamps, less than 500 ms apart, and the log is
// in time order.
func checkReception(t *testing.T, rc recount, tr Truth) {
	t.Helper()
	if tr.RepeatLines == 0 || rc.stamped != int(tr.RepeatLines) {
		t.Errorf("%d of %d copies have their own stamp: want all, and some", rc.stamped, tr.RepeatLines)
	}
	if rc.maxStep >= 500_000 || rc.maxStep <= 0 {
		t.Errorf("largest step between copies %d µs: want 1 .. 499999", rc.maxStep)
	}
	if rc.backwards != 0 {
		t.Errorf("%d lines earlier than a line before them: reception stamps put the log in time order", rc.backwards)
	}
}

func TestNewFormats(t *testing.T) {
	loc := berlin(t)
	// PRI and tag of one Courier line per format: mail.info, no PID.
	shapes := map[Format]*regexp.Regexp{
		RFC5424: regexp.MustCompile(`^<22>1 2026-07-\d\dT\d\d:\d\d:\d\d\.\d{6}\+02:00 mx[12] (imapd|imapd-ssl|pop3d|pop3d-ssl) - - - (LOGOUT|DISCONNECTED|TIMEOUT), user=`),
		Forward: regexp.MustCompile(`^<22>2026-07-\d\dT\d\d:\d\d:\d\d\.\d{6}\+02:00 mx[12] (imapd|imapd-ssl|pop3d|pop3d-ssl): (LOGOUT|DISCONNECTED|TIMEOUT), user=`),
		Export: regexp.MustCompile(`^__REALTIME_TIMESTAMP=\d{16}\n__MONOTONIC_TIMESTAMP=\d+\n_BOOT_ID=[0-9a-f]{32}\n_TRANSPORT=syslog\nPRIORITY=6\nSYSLOG_FACILITY=2\n` +
			`SYSLOG_IDENTIFIER=(imapd|imapd-ssl|pop3d|pop3d-ssl)\n_PID=\d+\n_COMM=courierlogger\n_HOSTNAME=mx[12]\n_SOURCE_REALTIME_TIMESTAMP=\d{16}\nMESSAGE=(LOGOUT|DISCONNECTED|TIMEOUT), user=[^\n]*\n$`),
	}
	own := map[Format]*regexp.Regexp{ // programs that log their own PID
		RFC5424: regexp.MustCompile(`^<(22|78|86)>1 \S+ mx[12] (postfix/smtpd|postfix/qmgr|CRON|sshd|imapd) \d+ - - `),
		Forward: regexp.MustCompile(`^<(22|78|86)>\S+ mx[12] (postfix/smtpd|postfix/qmgr|CRON|sshd|imapd)\[\d+\]: `),
		Export:  regexp.MustCompile(`\nSYSLOG_PID=(\d+)\n_PID=(\d+)\n_COMM=(smtpd|qmgr|cron|sshd|imapd)\n`),
	}
	for _, f := range []Format{RFC5424, Forward, Export} {
		t.Run(f.String(), func(t *testing.T) {
			o := Options{Seed: 21, Days: 2, SessionsPerDay: 800, Users: 30, Format: f, Location: loc,
				Hosts: []string{"mx1", "mx2"}, Eras: []Era{Era509, Era42, EraPlesk}, RepeatBursts: 0.1}
			if f != Export {
				o.RsyslogMarkers = 0.05
			}
			lines, tr := collect(t, o)
			rc := checkTruth(t, lines, tr, DefaultStart)
			checkReception(t, rc, tr)
			if rc.styles[f.String()] != len(lines) {
				t.Errorf("styles %v: want only %v", rc.styles, f)
			}
			if rc.crossSec == 0 {
				t.Error("no burst crosses a second")
			}
			var shaped, owned int
			for _, l := range lines {
				if shapes[f].MatchString(l.Raw) {
					shaped++
				}
				if m := own[f].FindStringSubmatch(l.Raw); m != nil {
					owned++
					if f == Export && m[1] != m[2] {
						t.Errorf("SYSLOG_PID %s != _PID %s", m[1], m[2])
					}
				}
			}
			if shaped == 0 || owned == 0 {
				t.Errorf("%d Courier session ends and %d own-PID lines have the expected shape", shaped, owned)
			}
			if f != Export && (tr.MarkerLines == 0) {
				t.Error("no rsyslog markers")
			}
		})
	}
}

// CopyOriginal (the default of the older formats) writes what earlier
// versions wrote: the golden file pins Mixed; this pins the choice.
func TestCopyStampsDefault(t *testing.T) {
	for _, f := range []Format{Classic, RFC3339, ShortISO, Mixed} {
		o := Options{Seed: 5, SessionsPerDay: 300, Format: f, RepeatBursts: 0.2}
		var a, b bytes.Buffer
		if _, err := WriteLog(&a, o); err != nil {
			t.Fatal(err)
		}
		o.CopyStamps = CopyOriginal
		if _, err := WriteLog(&b, o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%v: the default is not CopyOriginal", f)
		}
	}
	for _, f := range []Format{RFC5424, Forward, Export} {
		r, err := Options{Format: f}.Resolved()
		if err != nil || r.CopyStamps != CopyReception {
			t.Errorf("%v: default copy stamps %v, %v; want reception", f, r.CopyStamps, err)
		}
	}
}

func TestCopyReception(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		name string
		o    Options
	}{
		{"rfc3339", Options{Format: RFC3339, RepeatBursts: 0.2}},
		{"rfc3339 berlin all eras markers", Options{Format: RFC3339, Location: loc, Eras: AllEras, RepeatBursts: 0.3, RsyslogMarkers: 0.1}},
		{"rfc5424 original stamps", Options{Format: RFC5424, CopyStamps: CopyOriginal, RepeatBursts: 0.2}},
		{"forward several hosts", Options{Format: Forward, Hosts: []string{"a", "b", "c"}, RepeatBursts: 0.2}},
		{"export few users", Options{Format: Export, Users: 3, Eras: []Era{Era41, EraPlesk}, RepeatBursts: 0.5, Location: loc}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Seed, o.Days, o.SessionsPerDay = 17, 2, 1500
			if o.CopyStamps == 0 {
				o.CopyStamps = CopyReception
			}
			lines, tr := collect(t, o)
			rc := checkTruth(t, lines, tr, DefaultStart)
			if o.CopyStamps == CopyOriginal {
				if rc.stamped != 0 || tr.RepeatLines == 0 {
					t.Fatalf("original stamps: %d of %d copies have their own stamp", rc.stamped, tr.RepeatLines)
				}
				return
			}
			checkReception(t, rc, tr)
			if rc.crossSec == 0 {
				t.Error("no burst crosses a second")
			}
			// Copies repeat the message byte for byte, Plesk's epoch included.
			for i := 1; i < len(lines); i++ {
				if strings.Contains(lines[i].Message, "maildir=") && lines[i].Message == lines[i-1].Message && lines[i].Time.Equal(lines[i-1].Time) {
					t.Fatalf("a copy with its original's stamp: %q", lines[i].Raw)
				}
			}
		})
	}
}

// BoundaryBursts: long bursts across a minute, and across local midnight
// (so also a minute, an hour and a day), every day.
func TestBoundaryBursts(t *testing.T) {
	loc := berlin(t)
	for _, f := range []Format{RFC3339, RFC5424, Export} {
		t.Run(f.String(), func(t *testing.T) {
			start := time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC) // a 25-hour day in Berlin
			const days = 3
			o := Options{Seed: 3, Start: start, Days: days, SessionsPerDay: 200, Format: f, Location: loc,
				CopyStamps: CopyReception, BoundaryBursts: true, Eras: AllEras}
			lines, tr := collect(t, o)
			rc := checkTruth(t, lines, tr, start)
			checkReception(t, rc, tr)
			if rc.crossDay < days || rc.crossMin < 2*days {
				t.Errorf("%d bursts cross a day, %d a minute: want >= %d and >= %d", rc.crossDay, rc.crossMin, days, 2*days)
			}
			// The last day's midnight burst runs into the next day, after
			// the truth's last session day.
			after := time.Date(2026, 10, 27, 0, 0, 0, 0, loc)
			var spill int
			for _, l := range lines {
				if !l.Time.Before(after) {
					spill++
					if !strings.Contains(l.Message, ", rcvd=") {
						t.Fatalf("a non-copy after the last day: %q", l.Raw)
					}
				}
			}
			if spill == 0 {
				t.Error("the last midnight burst does not cross midnight")
			}
			if d := cmp.Diff([]string{"2026-10-24", "2026-10-25", "2026-10-26"}, tr.Days()); d != "" {
				t.Errorf("Days (-want +got):\n%s", d)
			}
		})
	}
}

// Twins are distinct sessions with every field but the time equal, a
// second or more apart: the checker's 1 s window must keep them apart, and
// the generator keeps every other pair of equal lines under 1 s apart a
// repeat.
func TestTwins(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"port-less, classic", Options{Eras: []Era{Era41, Era42}, Format: Classic}},
		{"port-less, rfc3339 reception", Options{Eras: []Era{Era41, Era42, EraPlesk}, Format: RFC3339, CopyStamps: CopyReception}},
		{"export, all eras", Options{Eras: AllEras, Format: Export}},
		{"mixed, original stamps, markers", Options{Eras: AllEras, Format: Mixed, RsyslogMarkers: 0.1}},
		{"forward, webmail users", Options{Format: Forward, Users: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Seed, o.SessionsPerDay, o.Twins, o.RepeatBursts = 8, 1500, 0.2, 0.3
			lines, tr := collect(t, o)
			rc := checkTruth(t, lines, tr, DefaultStart)
			if rc.twins < 100 {
				t.Fatalf("%d twins: want many", rc.twins)
			}
			if rc.minTwinGap < 1_000_000 {
				t.Fatalf("twins %d µs apart: want >= 1 s", rc.minTwinGap)
			}
			t.Logf("%d twins, the closest %v apart", rc.twins, time.Duration(rc.minTwinGap)*time.Microsecond)
		})
	}
}

// With reception stamps and port-less eras of a few users, sessions with
// equal fields less than a second apart would be common; the generator must
// re-draw them (the re-count would count them as repeats).
func TestDistinctWindow(t *testing.T) {
	for _, f := range []Format{RFC3339, Export} {
		t.Run(f.String(), func(t *testing.T) {
			o := Options{Seed: 2, Users: 4, BigUsers: -1, SessionsPerDay: 8000, Eras: []Era{Era41, Era42, EraPlesk},
				Format: f, CopyStamps: CopyReception, NoiseRatio: 4, PreLogin: 0.5, RepeatBursts: 0.2}
			lines, tr := collect(t, o)
			checkTruth(t, lines, tr, DefaultStart)
			ro, err := o.Resolved()
			if err != nil {
				t.Fatal(err)
			}
			g := newGen(ro, func(*item, []byte, int, int) error { return nil })
			g.run()
			if g.redraws == 0 {
				t.Fatal("no counters were re-drawn: the setting tests nothing")
			}
			if len(g.win) > 5000 {
				t.Fatalf("the window holds %d identities at the end: it does not forget", len(g.win))
			}
		})
	}
}

func TestExportFraming(t *testing.T) {
	var tmp []byte
	for _, msg := range []string{"LOGOUT, user=a", "two\nlines", "", "\n"} {
		b := append([]byte("_HOSTNAME=mx\nMESSAGE="), msg...)
		b = frameExport(b, len("_HOSTNAME=mx\nMESSAGE="), &tmp)
		f := exportFields(t, string(b))
		if d := cmp.Diff([][2]string{{"_HOSTNAME", "mx"}, {"MESSAGE", msg}}, f); d != "" {
			t.Errorf("%q (-want +got):\n%s", msg, d)
		}
		if strings.Contains(msg, "\n") {
			want := append([]byte("_HOSTNAME=mx\nMESSAGE\n"), binary.LittleEndian.AppendUint64(nil, uint64(len(msg)))...)
			if !bytes.HasPrefix(b, want) || !bytes.HasSuffix(b, []byte(msg+"\n")) {
				t.Errorf("%q: not the binary form: %q", msg, b)
			}
		}
	}
}

func TestNewOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"reception classic", Options{CopyStamps: CopyReception}, "no microseconds"},
		{"reception mixed", Options{Format: Mixed, CopyStamps: CopyReception}, "no microseconds"},
		{"original export", Options{Format: Export, CopyStamps: CopyOriginal}, "export needs reception"},
		{"unknown stamps", Options{CopyStamps: 7}, "CopyStamps"},
		{"boundary without reception", Options{Format: RFC3339, BoundaryBursts: true}, "BoundaryBursts"},
		{"markers in the journal", Options{Format: Export, RsyslogMarkers: 0.1}, "RsyslogMarkers"},
		{"twins", Options{Twins: 2}, "Twins"},
		{"format", Options{Format: Export + 1}, "Format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.o.Resolved(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one with %q", err, tc.want)
			}
		})
	}
	for _, f := range []Format{RFC5424, Forward, Export} {
		got, err := ParseFormat(" " + strings.ToUpper(f.String()))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, got, err)
		}
	}
	for s, want := range map[string]CopyStamps{"": CopyAuto, "auto": CopyAuto, "Original": CopyOriginal, "reception": CopyReception} {
		if got, err := ParseCopyStamps(s); err != nil || got != want {
			t.Errorf("ParseCopyStamps(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseCopyStamps("receipt"); err == nil {
		t.Error("ParseCopyStamps(receipt) accepted")
	}
}

// The reception-stamped formats are pinned like the mixed log: a change of
// their bytes must be deliberate (go test -update, then review the diff).
func TestGoldenStamps(t *testing.T) {
	loc := berlin(t)
	start := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"rfc5424", Options{Format: RFC5424, BoundaryBursts: true, Twins: 0.2, RsyslogMarkers: 0.1, Eras: AllEras}},
		{"forward", Options{Format: Forward, Twins: 0.2, Eras: []Era{Era42, EraPlesk}}},
		{"export", Options{Format: Export, Twins: 0.2, Eras: AllEras}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Seed, o.SessionsPerDay, o.Users, o.RepeatBursts = 2026, 25, 8, 0.2
			o.Hosts, o.Start, o.Location = []string{"mx1", "mx2"}, start, loc
			var log bytes.Buffer
			tr, err := WriteLog(&log, o)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(tr, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				got  []byte
			}{{tc.name + ".log", log.Bytes()}, {tc.name + ".truth.json", append(js, '\n')}} {
				path := filepath.Join("testdata", "golden", f.name)
				if *update {
					if err := os.WriteFile(path, f.got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(f.got), "\n")); d != "" {
					t.Errorf("%s changed (-want +got); if intended, run go test -update and review the diff:\n%s", f.name, d)
				}
			}
		})
	}
}
