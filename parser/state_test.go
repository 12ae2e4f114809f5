package parser

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// stateLines are golden inputs and generated lines, in file order: runs of
// lines that share a stamp, other stamps, other identifiers, markers.
func stateLines(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	var lines []string
	for _, file := range files {
		lines = append(lines, readGoldenInput(t, file)...)
	}
	// Runs of lines in each journalctl format.
	lines = append(lines, journalLines(t)...)
	// Generated lines, each followed by the next one under its stamp:
	// runs of equal stamps, as a busy log has them.
	gen := benchLines(3000)
	for i, line := range gen {
		lines = append(lines, line)
		var st stamp
		n := scanStamp(line, &st)
		if i+1 < len(gen) && n > 0 {
			if m := scanStamp(gen[i+1], &st); m > 0 {
				lines = append(lines, line[:n]+gen[i+1][m:])
			}
		}
	}
	return lines
}

// sameParse fails unless ParseLineState(line) with st gave ParseLine's
// results (st.Service must be ServiceUnknown, or the line not filtered).
func sameParse(t *testing.T, line string, res Result, err error, ev *Event, wantRes Result, wantErr error, want *Event) {
	t.Helper()
	if res != wantRes || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) || !reflect.DeepEqual(*ev, *want) {
		t.Errorf("%q:\nstate: %v, %v, %+v\nplain: %v, %v, %+v", line, res, err, *ev, wantRes, wantErr, *want)
	}
}

// TestParseLineStateMemo: with a State (no service filter), every line
// parses exactly as ParseLine parses it, whatever came before: the memo
// hits on runs of equal stamps and must not leak across parsers (other
// zone, fixed year) or reference times.
func TestParseLineStateMemo(t *testing.T) {
	ref, loc := goldenRef(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	parsers := []*Parser{}
	for _, o := range []Options{{Location: loc}, {Location: ny}, {Location: loc, Year: 2019}} {
		p, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		parsers = append(parsers, p)
	}
	refs := []time.Time{ref, ref.AddDate(-3, 0, 0), ref.AddDate(0, 0, 1).In(ny)}
	lines := stateLines(t)
	var st State
	var ev, want Event
	hits := 0
	for i, line := range lines {
		// Mostly the same parser and reference, as in a real run; now and
		// then another one, which must not see the previous one's memo.
		p, r := parsers[0], refs[0]
		if i%7 == 3 {
			p = parsers[i%len(parsers)]
		}
		if i%11 == 5 {
			r = refs[i%len(refs)]
		}
		before := st.memo
		res, err := p.ParseLineState(line, r, &ev, &st)
		wantRes, wantErr := p.ParseLine(line, r, &want)
		sameParse(t, line, res, err, &ev, wantRes, wantErr, &want)
		if st.Other {
			t.Errorf("%q: Other set without a service filter", line)
		}
		if before.n > 0 && before.p == p && len(line) >= before.n && line[:before.n] == string(before.buf[:before.n]) &&
			(before.anyRef || before.ref == r) && res != Skip {
			hits++
		}
	}
	if hits < 100 {
		t.Errorf("the memo served %d of %d lines: the test does not exercise it", hits, len(lines))
	}
}

// TestParseLineStateSameDay: stamps of one date with other clocks, which
// the memo converts from the date (sameDay), give ParseLine's times: every
// 7 minutes of days with DST changes (the zone period cached by the Parser
// ends within the day), in zones east and west, with half-hour offsets and
// a midnight change, with a fixed year and with years inferred from
// reference times from before the date to a year after it (the first
// candidate year may be refused near ref+24h, and then the date's memo
// must not serve).
func TestParseLineStateSameDay(t *testing.T) {
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu",
		"America/Havana", "Pacific/Kiritimati", "Etc/GMT+12"}
	dates := []time.Time{
		time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
	}
	served := 0
	for _, zone := range zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, year := range []int{0, 2026} {
			p, err := New(Options{Location: loc, Year: year})
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%s/year=%d", zone, year), func(t *testing.T) {
				for _, d := range dates {
					refs := []time.Time{d.AddDate(0, 0, 1), d.Add(12 * time.Hour), d.AddDate(0, 0, -1),
						d.Add(-10 * time.Hour), d.AddDate(1, 0, 0), d.AddDate(0, 0, 3)}
					for _, ref := range refs {
						var st State
						var ev, want Event
						for m := 0; m < 24*60; m += 7 {
							line := fmt.Sprintf("%s %2d %02d:%02d:%02d mx imapd: LOGOUT, user=u, ip=[::1], port=[1], "+
								"headers=0, body=0, rcvd=1, sent=1, time=1", d.Month().String()[:3], d.Day(), m/60, m%60, m%59)
							if st.memo.dayOK && st.memo.n == 16 && line[:7] == string(st.memo.buf[:7]) {
								served++
							}
							res, err := p.ParseLineState(line, ref.In(loc), &ev, &st)
							wantRes, wantErr := p.ParseLine(line, ref.In(loc), &want)
							sameParse(t, line, res, err, &ev, wantRes, wantErr, &want)
						}
					}
				}
			})
		}
	}
	if served < 10000 {
		t.Errorf("the date memo served %d lines: the test does not exercise it", served)
	}
}

// TestParseLineStateService: a line skipped by State.Service is never a
// session end or marker of that service; every other line parses as
// ParseLine parses it.
func TestParseLineStateService(t *testing.T) {
	ref, loc := goldenRef(t)
	p, err := New(Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	lines := append(stateLines(t),
		// Identifiers against fields: the fields win (Event.Service).
		"Jul 29 06:36:47 mx pop3d: LOGOUT, user=u, ip=[::1], headers=1, body=2, rcvd=3, sent=4, time=5",
		"Jul 29 06:36:47 mx imapd: LOGOUT, user=u, ip=[::1], top=1, retr=2, rcvd=3, sent=4, time=5",
		"Jul 29 06:36:47 mx imapd: LOGOUT, user=top=, ip=[::1], rcvd=3, sent=4",
		"Jul 29 06:36:47 mx pop3d: LOGOUT, user=headers=, ip=[::1], rcvd=3, sent=4",
		"Jul 29 06:36:47 mx pop3d: message repeated 2 times: [ LOGOUT, user=u, ip=[::1], top=1, retr=2, rcvd=3, sent=4, time=5]",
		"Jul 29 06:36:47 mx pop3d: last message repeated 2 times",
		"Jul 29 06:36:47 mx pop3d: LOGOUT, user=u, ip=[::1], top=x, retr=2, rcvd=3, sent=4, time=5",
	)
	for _, svc := range []Service{IMAP, POP3} {
		t.Run(svc.String(), func(t *testing.T) {
			st := State{Service: svc}
			var ev, want Event
			other := 0
			for _, line := range lines {
				res, err := p.ParseLineState(line, ref, &ev, &st)
				wantRes, wantErr := p.ParseLine(line, ref, &want)
				if !st.Other {
					sameParse(t, line, res, err, &ev, wantRes, wantErr, &want)
					continue
				}
				other++
				if res != Skip || err != nil || !reflect.DeepEqual(ev, Event{}) {
					t.Errorf("%q: skipped by the filter but got %v, %v, %+v", line, res, err, ev)
				}
				if wantRes == Repeat || (wantRes == Traffic && want.Service == svc) {
					t.Errorf("%q: skipped as not %v, but ParseLine says %v %v", line, svc, wantRes, want.Service)
				}
			}
			if other == 0 {
				t.Errorf("no line was skipped as another service's")
			}
		})
	}
}

// stampTime is the time line's stamp converts to with p and ref, the one
// a State's window judges; ok is false when it has none.
func stampTime(p *Parser, line string, ref time.Time) (time.Time, bool) {
	var stm stamp
	if scanStamp(trimEOL(line), &stm) == 0 {
		return time.Time{}, false
	}
	return p.time(&stm, ref)
}

// checkWindow checks one ParseLineState call through st's window: the
// line was skipped exactly when its stamp converts to a time outside
// the window, and then as Skip, nil and a zero Event; else it parsed as
// ParseLine parses it (st.Service must be ServiceUnknown).
func checkWindow(t *testing.T, p *Parser, st *State, line string, ref time.Time, res Result, err error, ev *Event) {
	t.Helper()
	var want Event
	wantRes, wantErr := p.ParseLine(line, ref, &want)
	tt, ok := stampTime(p, line, ref)
	outside := ok && st.Until > st.Since && (tt.Unix() < st.Since || tt.Unix() >= st.Until)
	switch {
	case st.Outside != outside:
		t.Errorf("%q (stamp %v, %v): Outside = %v, window [%d, %d)", line, tt, ok, st.Outside, st.Since, st.Until)
	case outside:
		if res != Skip || err != nil || !reflect.DeepEqual(*ev, Event{}) {
			t.Errorf("%q: skipped by the window but got %v, %v, %+v", line, res, err, *ev)
		}
	default:
		sameParse(t, line, res, err, ev, wantRes, wantErr, &want)
	}
}

// TestParseLineStateWindow: State's window skips the lines whose stamps
// are outside it, and only those; the others parse as ParseLine parses
// them, memo hits included.
func TestParseLineStateWindow(t *testing.T) {
	ref, loc := goldenRef(t)
	p, err := New(Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	lines := stateLines(t)
	var secs []int64
	for _, line := range lines {
		if tt, ok := stampTime(p, line, ref); ok {
			secs = append(secs, tt.Unix())
		}
	}
	slices.Sort(secs)
	windows := []struct {
		name         string
		since, until int64
	}{
		{"middle half", secs[len(secs)/4], secs[3*len(secs)/4]},
		{"one second", secs[len(secs)/2], secs[len(secs)/2] + 1},
		{"everything", secs[0], secs[len(secs)-1] + 1},
		{"off", 5, 5},
	}
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			st := State{Since: w.since, Until: w.until}
			var ev Event
			outside := 0
			for _, line := range lines {
				res, err := p.ParseLineState(line, ref, &ev, &st)
				checkWindow(t, p, &st, line, ref, res, err, &ev)
				if st.Outside {
					outside++
				}
			}
			if want := w.name == "middle half" || w.name == "one second"; want != (outside > 0) {
				t.Errorf("%d of %d lines outside the window", outside, len(lines))
			}
		})
	}
}

// FuzzParseLineState: two lines through one State (the second may hit the
// first one's memo) give ParseLine's results, and the service filter skips
// nothing of its own service.
func FuzzParseLineState(f *testing.F) {
	lines := stateLines(f)
	for i := 1; i < len(lines); i += 3 {
		f.Add(lines[i-1], lines[i], uint8(i%3))
	}
	ref, loc := goldenRef(f)
	p, err := New(Options{Location: loc})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, first, second string, svc uint8) {
		st := State{Service: Service(svc % 3)}
		var ev, want Event
		for _, line := range []string{first, second} {
			res, err := p.ParseLineState(line, ref, &ev, &st)
			wantRes, wantErr := p.ParseLine(line, ref, &want)
			if !st.Other {
				sameParse(t, line, res, err, &ev, wantRes, wantErr, &want)
				continue
			}
			if st.Service == ServiceUnknown || res != Skip || err != nil {
				t.Errorf("%q: Other with service %v: %v, %v", line, st.Service, res, err)
			}
			if wantRes == Repeat || (wantRes == Traffic && want.Service == st.Service) {
				t.Errorf("%q: skipped as not %v, but ParseLine says %v %v", line, st.Service, wantRes, want.Service)
			}
		}
		// The same lines through a window of the day around ref.
		day := ref.Truncate(24 * time.Hour).Unix()
		wst := State{Since: day, Until: day + 86400}
		for _, line := range []string{first, second} {
			res, err := p.ParseLineState(line, ref, &ev, &wst)
			checkWindow(t, p, &wst, line, ref, res, err, &ev)
		}
	})
}
