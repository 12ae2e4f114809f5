package loggen

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin even on a machine without zoneinfo

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkTruth compares the generator's truth with the independent re-count.
func checkTruth(t *testing.T, lines []Line, got Truth, start time.Time) recount {
	t.Helper()
	rc := recountLines(t, lines, start)
	want := rc.truth
	opts := cmp.Options{cmpopts.IgnoreFields(Truth{}, "First", "Last"), cmpopts.EquateEmpty()}
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Fatalf("truth differs from the re-count of the text (-want +got):\n%s", d)
	}
	if got.Lines != got.TrafficLines+got.RepeatLines+got.MarkerLines+got.NoiseLines {
		t.Fatalf("line accounting: %d != %d+%d+%d+%d", got.Lines, got.TrafficLines, got.RepeatLines, got.MarkerLines, got.NoiseLines)
	}
	if len(lines) > 0 {
		if got.First.Truncate(time.Second).After(lines[0].Time) || got.Last.Before(lines[len(lines)-1].Time) {
			t.Fatalf("First %v / Last %v do not bracket the lines %v .. %v", got.First, got.Last, lines[0].Time, lines[len(lines)-1].Time)
		}
	}
	return rc
}

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("zone Europe/Berlin (time/tzdata is embedded): %v", err)
	}
	return loc
}

func TestTruthRecount(t *testing.T) {
	loc := berlin(t)
	base := Options{Seed: 7, Days: 2, SessionsPerDay: 600, Users: 40}
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"defaults", func(o *Options) {}},
		{"classic all eras", func(o *Options) { o.Eras = AllEras }},
		{"rfc3339 berlin", func(o *Options) { o.Format, o.Location = RFC3339, loc }},
		{"shortiso", func(o *Options) { o.Format = ShortISO; o.Eras = []Era{Era42, Era41} }},
		{"mixed heavy repeats and markers", func(o *Options) {
			o.Format, o.Eras, o.RepeatBursts, o.RsyslogMarkers = Mixed, AllEras, 0.3, 0.3
		}},
		{"port-less eras, few users", func(o *Options) {
			o.Eras, o.Users, o.SessionsPerDay, o.RepeatBursts = []Era{Era41, Era42, EraPlesk}, 3, 2000, 0.1
		}},
		{"several hosts", func(o *Options) { o.Hosts = []string{"mx1", "mx2", "imap.example.com"}; o.Format = Mixed }},
		{"no noise, no repeats", func(o *Options) { o.NoiseRatio, o.RepeatBursts, o.PreLogin = -1, -1, -1 }},
		{"pop3 only, big users", func(o *Options) { o.POP3Share, o.BigUsers = 1, 10 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.mod(&o)
			lines, tr := collect(t, o)
			checkTruth(t, lines, tr, DefaultStart)
			if len(tr.Sessions) == 0 || tr.TrafficLines == 0 {
				t.Fatalf("no sessions generated: %+v", tr)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	o := Options{Seed: 42, Days: 3, SessionsPerDay: 800, Format: Mixed, Eras: AllEras, RsyslogMarkers: 0.05,
		Hosts: []string{"a", "b"}, Location: berlin(t)}
	var b1, b2 bytes.Buffer
	t1, err := WriteLog(&b1, o)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := WriteLog(&b2, o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("two runs with equal Options wrote different logs")
	}
	if d := cmp.Diff(t1, t2); d != "" {
		t.Fatalf("two runs gave different truths (-first +second):\n%s", d)
	}
	// Generate and WriteLog give the same text and truth.
	lines, t3 := collect(t, o)
	var joined strings.Builder
	for _, l := range lines {
		joined.WriteString(l.Raw + "\n")
	}
	if joined.String() != b1.String() {
		t.Fatal("Generate's Raw lines differ from WriteLog's output")
	}
	if d := cmp.Diff(t1, t3); d != "" {
		t.Fatalf("Generate and WriteLog truths differ (-WriteLog +Generate):\n%s", d)
	}
	o.Seed++
	var b3 bytes.Buffer
	if _, err := WriteLog(&b3, o); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b1.Bytes(), b3.Bytes()) {
		t.Fatal("a different seed wrote the same log")
	}
}

func TestFormatsAppear(t *testing.T) {
	lines, tr := collect(t, Options{Seed: 3, SessionsPerDay: 400, Format: Mixed})
	rc := checkTruth(t, lines, tr, DefaultStart)
	for _, s := range []string{"classic", "classic-pid", "rfc3339", "shortiso"} {
		if rc.styles[s] == 0 {
			t.Errorf("Mixed wrote no %s lines (styles %v)", s, rc.styles)
		}
	}
	for _, tc := range []struct {
		f    Format
		want string
	}{{Classic, "classic"}, {RFC3339, "rfc3339"}, {ShortISO, "shortiso"}} {
		t.Run(tc.f.String(), func(t *testing.T) {
			lines, tr := collect(t, Options{Seed: 3, SessionsPerDay: 200, Format: tc.f})
			rc := checkTruth(t, lines, tr, DefaultStart)
			for s, n := range rc.styles {
				if s != tc.want && n > 0 {
					t.Errorf("format %v wrote %d %s lines", tc.f, n, s)
				}
			}
		})
	}
}

func TestErasAppear(t *testing.T) {
	// The authenticated session-end shapes per era (docs/courier-log-formats.md).
	const user = `, user=.*, ip=\[`
	v6 := `(?:::ffff:\d+\.\d+\.\d+\.\d+|::1|2001:db8:[0-9a-f:]+)`
	kw := `^(?:LOGOUT|DISCONNECTED|TIMEOUT|NOTICE: Disconnected during shutdown by signal|I/O error disconnect)`
	tests := []struct {
		era        Era
		imap, pop3 string
		idents     string
	}{
		{Era30, `^(?:LOGOUT|DISCONNECTED|TIMEOUT)` + user + v6 + `\], headers=\d+, body=\d+, time=\d+(, starttls=1)?$`,
			`^(?:LOGOUT|DISCONNECTED|TIMEOUT|I/O error disconnect)` + user + v6 + `\], top=\d+, retr=\d+, time=\d+$`, `^(imaplogin|courierpop3login)$`},
		{Era41, kw + user + v6 + `\], headers=\d+, body=\d+, rcvd=\d+, sent=\d+, time=\d+(, starttls=1)?$`,
			kw + user + v6 + `\], top=\d+, retr=\d+, rcvd=\d+, sent=\d+, time=\d+$`, `^(imapd|imapd-ssl|pop3d|pop3d-ssl)$`},
		{Era42, kw + user + v6 + `\], headers=\d+, body=\d+, rcvd=\d+, sent=\d+, time=\d+(, starttls=1)?$`,
			kw + user + v6 + `\], port=\[\d+\], top=\d+, retr=\d+, rcvd=\d+, sent=\d+, time=\d+(, stls=1)?$`, `^(imapd|imapd-ssl|pop3d|pop3d-ssl)$`},
		{Era509, `^(LOGOUT|DISCONNECTED|TIMEOUT|NOTICE: Disconnected during shutdown by signal)` + user + v6 + `\], port=\[\d+\], headers=\d+, body=\d+, rcvd=\d+, sent=\d+, time=\d+(, starttls=1)?$`,
			`^(LOGOUT|DISCONNECTED|TIMEOUT|I/O error disconnect)` + user + v6 + `\], port=\[\d+\], top=\d+, retr=\d+, rcvd=\d+, sent=\d+, time=\d+(, stls=1)?$`, `^(imapd|imapd-ssl|pop3d|pop3d-ssl)$`},
		{Era60, `^(LOGOUT|DISCONNECTED|TIMEOUT|NOTICE: Disconnected during shutdown by signal)` + user + v6 + `\], port=\[\d+\], headers=\d+, body=\d+, rcvd=\d+, sent=\d+, time=\d+(, starttls=1)?$`,
			`^disc` + user + v6 + `\], port=\[\d+\], top=\d+, retr=\d+, rcvd=\d+, sent=\d+, time=\d+(, stls=1)?$`, `^(imapd|imapd-ssl|pop3d|pop3d-ssl)$`},
		{EraPlesk, `^\d{10}\.\d{6} ` + kw[1:] + user + `\d+\.\d+\.\d+\.\d+\], headers=\d+, body=\d+, time=\d+, rcvd=\d+, sent=\d+, maildir=/var/qmail/mailnames/[^/]+/.+/Maildir$`,
			`^\d{10}\.\d{6} ` + kw[1:] + user + `\d+\.\d+\.\d+\.\d+\], top=\d+, retr=\d+, time=\d+, rcvd=\d+, sent=\d+, maildir=/var/qmail/mailnames/[^/]+/.+/Maildir$`, `^(imapd|imapd-ssl|pop3d|pop3d-ssl)$`},
	}
	endRE := regexp.MustCompile(`user=.*, ip=\[.*(headers|top)=`)
	for _, tc := range tests {
		t.Run(tc.era.String(), func(t *testing.T) {
			imapRE, popRE, identRE := regexp.MustCompile(tc.imap), regexp.MustCompile(tc.pop3), regexp.MustCompile(tc.idents)
			lines, tr := collect(t, Options{Seed: 11, SessionsPerDay: 600, Eras: []Era{tc.era}, RepeatBursts: -1})
			checkTruth(t, lines, tr, DefaultStart)
			var nIMAP, nPOP int
			for _, l := range lines {
				m := endRE.FindStringSubmatch(l.Message)
				if m == nil || strings.HasPrefix(l.Message, "message repeated") {
					continue
				}
				if !identRE.MatchString(l.Ident) {
					t.Errorf("era %v: identifier %q in %q", tc.era, l.Ident, l.Raw)
				}
				re := imapRE
				if m[1] == "top" {
					re = popRE
					nPOP++
				} else {
					nIMAP++
				}
				if !re.MatchString(l.Message) {
					t.Errorf("era %v: session end does not have the era's shape: %q", tc.era, l.Message)
				}
			}
			if nIMAP == 0 || nPOP == 0 {
				t.Errorf("era %v: %d IMAP and %d POP3 session ends", tc.era, nIMAP, nPOP)
			}
			if tc.era == Era30 {
				if len(tr.Sessions) != 0 || tr.NoBytesSessions == 0 {
					t.Errorf("Era30: %d truth buckets (want 0) and %d no-bytes sessions (want > 0)", len(tr.Sessions), tr.NoBytesSessions)
				}
			} else if len(tr.Sessions) == 0 {
				t.Errorf("era %v: no sessions in the truth", tc.era)
			}
		})
	}
}

func TestNewYear(t *testing.T) {
	start := time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC)
	lines, tr := collect(t, Options{Seed: 5, Start: start, Days: 4, SessionsPerDay: 500, Location: berlin(t), Format: Classic})
	checkTruth(t, lines, tr, start)
	want := []string{"2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"}
	if d := cmp.Diff(want, tr.Days()); d != "" {
		t.Errorf("Days() (-want +got):\n%s", d)
	}
	if tr.Last.Year() != 2026 || tr.First.Year() != 2025 {
		t.Errorf("First %v, Last %v: want 2025 .. 2026", tr.First, tr.Last)
	}
	var dec31, jan1 bool
	for _, l := range lines {
		dec31 = dec31 || strings.HasPrefix(l.Raw, "Dec 31 23:")
		jan1 = jan1 || strings.HasPrefix(l.Raw, "Jan  1 00:")
	}
	if !dec31 || !jan1 {
		t.Errorf("no lines around midnight: Dec 31 23h %v, Jan 1 00h %v", dec31, jan1)
	}
}

// Sessions that start before midnight and end after it count on the day of
// their end line; DST days of 23 and 25 hours keep their slots.
func TestMidnightAndDST(t *testing.T) {
	loc := berlin(t)
	for _, start := range []time.Time{time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC)} {
		t.Run(start.Format("2006-01-02"), func(t *testing.T) {
			lines, tr := collect(t, Options{Seed: 9, Start: start, Days: 3, SessionsPerDay: 800, Location: loc, Format: RFC3339})
			checkTruth(t, lines, tr, start)
			offsets := map[string]bool{}
			logins := map[string]string{} // user -> day of the last LOGIN
			crossed := 0
			loginRE := regexp.MustCompile(`^LOGIN, user=(.*), ip=`)
			for _, l := range lines {
				offsets[l.Raw[26:32]] = true
				p := parseHeader(t, l.Raw, start, loc)
				if m := loginRE.FindStringSubmatch(l.Message); m != nil {
					logins[m[1]] = p.day
				} else if m := trafficRE.FindStringSubmatch(l.Message); m != nil && m[1] != "" && logins[m[1]] != "" && logins[m[1]] < p.day {
					crossed++
				}
			}
			if !offsets["+01:00"] || !offsets["+02:00"] {
				t.Errorf("offsets seen %v: want both +01:00 and +02:00", offsets)
			}
			if crossed == 0 {
				t.Error("no session logged in before midnight and out after it")
			}
			if len(tr.Days()) != 3 {
				t.Errorf("Days() = %v, want 3 days", tr.Days())
			}
		})
	}
}

func TestSameSecondDistinctSessions(t *testing.T) {
	lines, tr := collect(t, Options{Seed: 1, Days: 2})
	rc := checkTruth(t, lines, tr, DefaultStart)
	if tr.SameSecond == 0 || rc.sameSecPorts == 0 {
		t.Fatalf("no distinct same-second sessions of one user (SameSecond %d, with different ports %d)", tr.SameSecond, rc.sameSecPorts)
	}
}

// Port-less eras with a tiny user base make identical identities likely; the
// generator must re-draw instead of writing accidental repeats. The re-count
// fails on any two distinct lines with equal host, daemon, second and message.
func TestNoAccidentalIdenticalLines(t *testing.T) {
	o := Options{Seed: 2, Users: 4, BigUsers: -1, SessionsPerDay: 8000, Eras: []Era{Era30, Era41, Era42, EraPlesk},
		Format: Mixed, NoiseRatio: 4, PreLogin: 0.5}
	lines, tr := collect(t, o)
	checkTruth(t, lines, tr, DefaultStart)
	if tr.SameSecond == 0 {
		t.Fatal("the stress setting produced no same-second sessions: it tests nothing")
	}
	// White box: the same run re-drew colliding counters, so the re-count
	// above really saw lines that would otherwise have been identical.
	ro, err := o.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(ro, func(*item, []byte, int, int) error { return nil })
	g.run()
	if g.redraws == 0 {
		t.Fatal("no counters were re-drawn: the stress setting tests nothing")
	}
	t.Logf("%d re-draws, %d same-second sessions in %d lines", g.redraws, tr.SameSecond, tr.Lines)
}

func TestMaxLines(t *testing.T) {
	for _, n := range []int64{1, 777, 20000} {
		lines, tr := collect(t, Options{Seed: 4, SessionsPerDay: 300, MaxLines: n, RepeatBursts: 0.2, RsyslogMarkers: 0.2})
		if int64(len(lines)) != n || tr.Lines != n {
			t.Fatalf("MaxLines %d: got %d lines, truth says %d", n, len(lines), tr.Lines)
		}
		checkTruth(t, lines, tr, DefaultStart)
	}
}

func TestEmitError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	tr, err := Generate(Options{Seed: 1}, func(Line) error {
		if n == 100 {
			return boom
		}
		n++
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap boom", err)
	}
	if tr.Lines != 100 {
		t.Fatalf("truth counts %d lines, want the 100 written", tr.Lines)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteLogError(t *testing.T) {
	_, err := WriteLog(&failWriter{n: 1 << 20}, Options{Days: 5})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the writer's error", err)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name  string
		o     Options
		field string
	}{
		{"days", Options{Days: -1}, "Days"},
		{"users", Options{Users: -3}, "Users"},
		{"sessions", Options{SessionsPerDay: -1}, "SessionsPerDay"},
		{"format", Options{Format: 9}, "Format"},
		{"era", Options{Eras: []Era{Era509, 0}}, "Eras[1]"},
		{"pop3", Options{POP3Share: 1.5}, "POP3Share"},
		{"repeats NaN", Options{RepeatBursts: nan()}, "RepeatBursts"},
		{"host", Options{Hosts: []string{"ok", "bad host"}}, "Hosts[1]"},
		{"start", Options{Start: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}, "Start"},
		{"maxlines", Options{MaxLines: -5}, "MaxLines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(tc.o, func(Line) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err = %v, want one naming %s", err, tc.field)
			}
		})
	}
	o, err := Options{}.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	again, err := o.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(o, again, cmpopts.IgnoreUnexported(time.Location{})); d != "" {
		t.Fatalf("Resolved is not idempotent (-once +twice):\n%s", d)
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestParseNames(t *testing.T) {
	for _, f := range []Format{Classic, RFC3339, ShortISO, Mixed} {
		got, err := ParseFormat(strings.ToUpper(f.String()))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
	got, err := ParseEras("509, era42,plesk,30,41,60")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Era{Era509, Era42, EraPlesk, Era30, Era41, Era60}, got); d != "" {
		t.Errorf("ParseEras (-want +got):\n%s", d)
	}
	if all, _ := ParseEras("all"); len(all) != len(AllEras) {
		t.Errorf("ParseEras(all) = %v", all)
	}
	for _, bad := range []string{"", "5.0.9", "509,", "xml"} {
		if _, err := ParseEras(bad); err == nil {
			t.Errorf("ParseEras(%q) accepted", bad)
		}
	}
	if _, err := ParseFormat("json"); err == nil {
		t.Error("ParseFormat(json) accepted")
	}
}

func TestUsers(t *testing.T) {
	lines, tr := collect(t, Options{Seed: 8, Users: 30, Days: 3})
	checkTruth(t, lines, tr, DefaultStart)
	users := tr.Users()
	has := func(pred func(string) bool) bool {
		for _, u := range users {
			if pred(u) {
				return true
			}
		}
		return false
	}
	shapes := map[string]func(string) bool{
		"@domain":    func(u string) bool { return strings.Contains(u, "@") },
		"dot":        func(u string) bool { return strings.Contains(strings.Split(u, "@")[0], ".") },
		"plus":       func(u string) bool { return strings.Contains(u, "+") },
		"mixed case": func(u string) bool { return u != strings.ToLower(u) },
		"comma":      func(u string) bool { return strings.Contains(u, ", ") },
		"space only": func(u string) bool { return strings.Contains(u, " ") && !strings.Contains(u, ",") },
	}
	for name, pred := range shapes {
		if !has(pred) {
			t.Errorf("no user name with %s among %q", name, users)
		}
	}
	var maxRcvd int64
	for _, s := range tr.Sessions {
		maxRcvd = max(maxRcvd, s.Rcvd)
	}
	if maxRcvd < 10_000_000 {
		t.Errorf("largest daily rcvd %d: big users should upload >= 10 MB", maxRcvd)
	}
}

func TestGolden(t *testing.T) {
	o := Options{Seed: 2026, SessionsPerDay: 60, Users: 12, Format: Mixed, Eras: AllEras, RepeatBursts: 0.1,
		RsyslogMarkers: 0.1, Hosts: []string{"mx1", "mx2"}, Start: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), Days: 2,
		Location: berlin(t)}
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
	}{{"mixed.log", log.Bytes()}, {"mixed.truth.json", append(js, '\n')}} {
		path := filepath.Join("testdata", "golden", f.name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
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
}
