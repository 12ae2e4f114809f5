package parser

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// journalFormats are the journalctl -o text formats the parser reads.
var journalFormats = []string{"short", "short-precise", "short-iso", "short-iso-precise", "short-full", "short-unix"}

// journalStamp formats tm as journalctl -o format prints it (tm in the
// journal's zone; systemd's formats, with Go's layouts).
func journalStamp(format string, tm time.Time) string {
	switch format {
	case "short":
		return tm.Format("Jan 02 15:04:05")
	case "short-precise":
		return tm.Format("Jan 02 15:04:05.000000")
	case "short-iso":
		return tm.Format("2006-01-02T15:04:05-0700")
	case "short-iso-precise":
		return tm.Format("2006-01-02T15:04:05.000000-0700")
	case "short-full":
		return tm.Format("Mon 2006-01-02 15:04:05 MST")
	case "short-unix":
		return fmt.Sprintf("%d.%06d", tm.Unix(), tm.Nanosecond()/1000)
	}
	panic("unknown format " + format)
}

// journalPrecision is the precision of format's stamps.
func journalPrecision(format string) time.Duration {
	switch format {
	case "short-precise", "short-iso-precise", "short-unix":
		return time.Microsecond
	}
	return time.Second
}

func TestParseLineJournal(t *testing.T) {
	ref, _ := goldenRef(t) // 2024-12-20 12:00 Europe/Berlin
	p := newTestParser(t, Options{})
	const msg = "LOGOUT, user=alice, ip=[::ffff:203.0.113.7], port=[51234], headers=1520, body=48211, rcvd=912, sent=53877, time=37, starttls=1"
	ev := func(tm time.Time, prec time.Duration, host string) Event {
		return Event{Time: tm, Precision: prec, Host: host, Daemon: "imapd", Service: IMAP, Kind: Logout,
			Keyword: "LOGOUT", User: "alice", IP: "::ffff:203.0.113.7", Port: "51234",
			Rcvd: 912, Sent: 53877, Headers: 1520, Body: 48211, Duration: 37, TLS: true,
			Has: HasPort | HasBytes | HasTime | HasContent}
	}
	zone := func(name string, off int) *time.Location { return time.FixedZone(name, off) }
	july3 := berlin(t, 2024, 7, 3, 6, 36, 47, 0) // a Wednesday, CEST
	line := func(stamp string) string { return stamp + " mx imapd[1234]: " + msg }
	const noStamp = "no syslog timestamp"
	runLineCases(t, p, ref, []lineCase{
		// short: classic with a zero-padded day, year inferred.
		{name: "short", line: line("Jul 03 06:36:47"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short no hostname", line: "Jul 03 06:36:47 imapd[1234]: " + msg, want: Traffic, wantEv: ev(july3, time.Second, "")},
		{name: "short day 00", line: line("Jul 00 06:36:47"), want: Skip, wantErr: noStamp},
		// short-precise: classic with a fraction.
		{name: "short-precise", line: line("Jul 03 06:36:47.123456"), want: Traffic,
			wantEv: ev(july3.Add(123456*time.Microsecond), time.Microsecond, "mx")},
		{name: "short-precise space-padded day", line: line("Jul  3 06:36:47.123456"), want: Traffic,
			wantEv: ev(july3.Add(123456*time.Microsecond), time.Microsecond, "mx")},
		{name: "short-precise millis", line: line("Jul 03 06:36:47.5"), want: Traffic,
			wantEv: ev(july3.Add(500*time.Millisecond), time.Millisecond, "mx")},
		{name: "short-precise nanos", line: line("Jul 03 06:36:47.000000001"), want: Traffic,
			wantEv: ev(july3.Add(1), time.Nanosecond, "mx")},
		{name: "short-precise no such date", line: line("Feb 30 06:36:47.123456"), want: Skip, wantErr: "no such date"},
		{name: "short-precise ten digits", line: line("Jul 03 06:36:47.1234567890"), want: Skip, wantErr: noStamp},
		{name: "short-precise empty fraction", line: line("Jul 03 06:36:47."), want: Skip, wantErr: noStamp},
		{name: "short-precise comma", line: line("Jul 03 06:36:47,123456"), want: Skip, wantErr: noStamp},
		{name: "short-precise letter", line: line("Jul 03 06:36:47.12x"), want: Skip, wantErr: noStamp},
		// short-iso(-precise): RFC 3339 with "+hhmm".
		{name: "short-iso", line: line("2024-07-03T06:36:47+0200"), want: Traffic,
			wantEv: ev(july3.In(zone("", 7200)), time.Second, "mx")},
		{name: "short-iso-precise", line: line("2024-07-03T06:36:47.123456+0200"), want: Traffic,
			wantEv: ev(july3.Add(123456*time.Microsecond), time.Microsecond, "mx")},
		{name: "short-iso utc", line: line("2024-07-03T04:36:47+0000"), want: Traffic,
			wantEv: ev(july3.UTC(), time.Second, "mx")},
		{name: "short-iso colon offset", line: line("2024-07-03T04:36:47.123456+00:00"), want: Traffic,
			wantEv: ev(july3.Add(123456*time.Microsecond).UTC(), time.Microsecond, "mx")},
		// short-full: weekday, date, time, zone.
		{name: "short-full CEST", line: line("Wed 2024-07-03 06:36:47 CEST"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full CET", line: line("Tue 2024-12-03 06:36:47 CET"), want: Traffic,
			wantEv: ev(berlin(t, 2024, 12, 3, 6, 36, 47, 0), time.Second, "mx")},
		{name: "short-full UTC", line: line("Wed 2024-07-03 04:36:47 UTC"), want: Traffic, wantEv: ev(july3.UTC(), time.Second, "mx")},
		{name: "short-full GMT", line: line("Wed 2024-07-03 04:36:47 GMT"), want: Traffic, wantEv: ev(july3.UTC(), time.Second, "mx")},
		{name: "short-full +0530", line: line("Wed 2024-07-03 10:06:47 +0530"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full +05:30", line: line("Wed 2024-07-03 10:06:47 +05:30"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full +05", line: line("Wed 2024-07-03 09:36:47 +05"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full -03", line: line("Wed 2024-07-03 01:36:47 -03"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full +1245", line: line("Wed 2024-07-03 17:21:47 +1245"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full fraction", line: line("Wed 2024-07-03 06:36:47.123456 CEST"), want: Traffic,
			wantEv: ev(july3.Add(123456*time.Microsecond), time.Microsecond, "mx")},
		// The clocks go back in Berlin at 03:00 CEST = 02:00 CET on 2024-10-27:
		// the abbreviation picks the instant in the repeated hour.
		{name: "short-full repeated hour CEST", line: line("Sun 2024-10-27 02:30:00 CEST"), want: Traffic,
			wantEv: ev(time.Date(2024, 10, 27, 0, 30, 0, 0, time.UTC), time.Second, "mx")},
		{name: "short-full repeated hour CET", line: line("Sun 2024-10-27 02:30:00 CET"), want: Traffic,
			wantEv: ev(time.Date(2024, 10, 27, 1, 30, 0, 0, time.UTC), time.Second, "mx")},
		{name: "short-full repeated hour CEST fraction", line: line("Sun 2024-10-27 02:59:59.999999 CEST"), want: Traffic,
			wantEv: ev(time.Date(2024, 10, 27, 0, 59, 59, 999999000, time.UTC), time.Microsecond, "mx")},
		{name: "short-full repeated hour CET start", line: line("Sun 2024-10-27 02:00:00 CET"), want: Traffic,
			wantEv: ev(time.Date(2024, 10, 27, 1, 0, 0, 0, time.UTC), time.Second, "mx")},
		// An abbreviation the zone does not use then: the configured zone.
		{name: "short-full foreign abbreviation", line: line("Wed 2024-07-03 06:36:47 EDT"), want: Traffic,
			wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full CET in summer", line: line("Wed 2024-07-03 06:36:47 CET"), want: Traffic,
			wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full skipped hour", line: line("Sun 2024-03-31 02:30:00 CET"), want: Traffic,
			wantEv: ev(berlin(t, 2024, 3, 31, 2, 30, 0, 0), time.Second, "mx")},
		// The weekday is a name, not checked against the date.
		{name: "short-full wrong weekday", line: line("Mon 2024-07-03 06:36:47 CEST"), want: Traffic,
			wantEv: ev(july3, time.Second, "mx")},
		{name: "short-full no weekday", line: line("Fre 2024-07-03 06:36:47 CEST"), want: Skip, wantErr: noStamp},
		{name: "short-full lower-case weekday", line: line("wed 2024-07-03 06:36:47 CEST"), want: Skip, wantErr: noStamp},
		{name: "short-full no zone", line: "Wed 2024-07-03 06:36:47 mx imapd[1234]: " + msg, want: Skip, wantErr: noStamp},
		{name: "short-full zone too long", line: line("Wed 2024-07-03 06:36:47 ABCDEFGHI"), want: Skip, wantErr: noStamp},
		{name: "short-full zone with digit", line: line("Wed 2024-07-03 06:36:47 CEST1"), want: Skip, wantErr: noStamp},
		{name: "short-full double space", line: line("Wed 2024-07-03 06:36:47  CEST"), want: Skip, wantErr: noStamp},
		{name: "short-full bad offset", line: line("Wed 2024-07-03 06:36:47 +0560"), want: Skip, wantErr: noStamp},
		{name: "short-full odd offset", line: line("Wed 2024-07-03 06:36:47 +053"), want: Skip, wantErr: noStamp},
		{name: "short-full one-digit offset", line: line("Wed 2024-07-03 06:36:47 +5"), want: Skip, wantErr: noStamp},
		{name: "short-full no such date", line: line("Fri 2024-02-30 06:36:47 CET"), want: Skip, wantErr: noStamp},
		{name: "short-full month 13", line: line("Fri 2024-13-01 06:36:47 CET"), want: Skip, wantErr: noStamp},
		{name: "short-full hour 24", line: line("Wed 2024-07-03 24:36:47 CEST"), want: Skip, wantErr: noStamp},
		// short-unix: ten digits of Unix seconds.
		{name: "short-unix", line: line("1719981407.123456"), want: Traffic,
			wantEv: ev(july3.Add(123456*time.Microsecond), time.Microsecond, "mx")},
		{name: "short-unix no fraction", line: line("1719981407"), want: Traffic, wantEv: ev(july3, time.Second, "mx")},
		{name: "short-unix millis", line: line("1719981407.123"), want: Traffic,
			wantEv: ev(july3.Add(123*time.Millisecond), time.Millisecond, "mx")},
		{name: "short-unix nine digits", line: line("172000300.123456"), want: Skip, wantErr: noStamp},
		{name: "short-unix eleven digits", line: line("17199814070.123456"), want: Skip, wantErr: noStamp},
		{name: "short-unix space-padded", line: line(" 172000300.123456"), want: Skip, wantErr: noStamp},
		{name: "short-unix empty fraction", line: line("1719981407."), want: Skip, wantErr: noStamp},
		{name: "short-unix letter", line: line("1719981407.12a"), want: Skip, wantErr: noStamp},
		// Not supported: no wall time.
		{name: "short-monotonic", line: line("[ 1234.567890]"), want: Skip, wantErr: noStamp},
		{name: "short-delta", line: line("[ 1234.567890 <    0.000123>]"), want: Skip, wantErr: noStamp},
		// journalctl's lines between entries.
		{name: "boot marker", line: "-- Boot 5f0c6ec4b6b34ea5a2c8a4f3a8b7c1d2 --", want: Skip},
		{name: "no entries", line: "-- No entries --", want: Skip},
		{name: "journal begins", line: "-- Journal begins at Mon 2024-07-01 00:00:01 CEST, ends at Wed 2024-07-03 06:36:47 CEST. --", want: Skip},
		{name: "logs begin crlf", line: "-- Logs begin at Mon 2024-07-01 00:00:01 CEST, end at Wed 2024-07-03 06:36:47 CEST. --\r\n", want: Skip},
		{name: "marker unterminated", line: "-- Boot 5f0c6ec4b6b34ea5a2c8a4f3a8b7c1d2", want: Skip, wantErr: noStamp},
	})
}

// TestParseLineJournalPOP3: a POP3 session end in every format.
func TestParseLineJournalPOP3(t *testing.T) {
	ref, loc := goldenRef(t)
	p := newTestParser(t, Options{})
	tm := time.Date(2024, 7, 3, 6, 36, 47, 123456000, loc)
	for _, f := range journalFormats {
		t.Run(f, func(t *testing.T) {
			line := journalStamp(f, tm) + " mx pop3d[77]: LOGOUT, user=bob, ip=[::1], port=[1], top=0, retr=10, rcvd=2, sent=30, time=4, stls=1"
			var ev Event
			res, err := p.ParseLine(line, ref, &ev)
			checkInvariants(t, line, res, err, &ev)
			prec := journalPrecision(f)
			if res != Traffic || err != nil || ev.Service != POP3 || ev.Retr != 10 || ev.Host != "mx" || ev.Daemon != "pop3d" {
				t.Fatalf("%q: %v, %v, %+v", line, res, err, ev)
			}
			if want := tm.Truncate(prec); !ev.Time.Equal(want) || ev.Precision != prec {
				t.Errorf("%q: time %v %v, want %v %v", line, ev.Time, ev.Precision, want, prec)
			}
		})
	}
}

// journalZones are zones with DST (abbreviated and numeric), half- and
// quarter-hour offsets, and none.
var journalZones = []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
	"Pacific/Chatham", "America/Sao_Paulo", "Asia/Kolkata", "UTC"}

// journalDays are days with clock changes in the zones above (2026) and
// around New Year.
var journalDays = []time.Time{
	time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 27, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC),
}

// journalRun returns instants from `from` for two days: bursts of three
// lines a few microseconds apart (the first two in the same microsecond),
// a burst every 17m13.1234567s, so seconds, minutes, hours, days and
// clock changes are crossed (and an hour repeated by one, three times).
func journalRun(from time.Time) []time.Time {
	var ts []time.Time
	for tm := from; tm.Before(from.Add(48 * time.Hour)); tm = tm.Add(17*time.Minute + 13123456700) {
		ts = append(ts, tm, tm.Add(300), tm.Add(57*time.Microsecond))
	}
	return ts
}

// TestParseLineJournalRoundTrip: every instant written by journalctl in
// every format, in zones with and without DST, reads back as that instant
// (to the format's precision), and through one State as ParseLine reads
// it. Year-less formats (short, short-precise) give the instant too,
// except in the hour repeated when the clocks go back, where they read as
// time.Date reads that wall time; short-full's abbreviation (or numeric
// zone) resolves that hour.
func TestParseLineJournalRoundTrip(t *testing.T) {
	const msg = " mx imapd[9]: LOGOUT, user=u, ip=[::1], port=[2], headers=0, body=5, rcvd=1, sent=9, time=3"
	hits := 0
	for _, zone := range journalZones {
		loc := mustLoad(t, zone)
		for _, year := range []int{0, 2026} {
			p, err := New(Options{Location: loc, Year: year})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range journalFormats {
				t.Run(fmt.Sprintf("%s/year=%d/%s", zone, year, f), func(t *testing.T) {
					var st State
					var ev, want Event
					prec := journalPrecision(f)
					for _, day := range journalDays {
						// The reference time: the file's mtime, a day after.
						ref := day.Add(48 * time.Hour)
						for _, tm := range journalRun(day.Add(-12 * time.Hour)) {
							tm = tm.In(loc)
							line := journalStamp(f, tm) + msg
							if n := st.memo.n; n > 0 && strings.HasPrefix(line, string(st.memo.buf[:n])) {
								hits++
							}
							res, err := p.ParseLineState(line, ref, &ev, &st)
							wantRes, wantErr := p.ParseLine(line, ref, &want)
							sameParse(t, line, res, err, &ev, wantRes, wantErr, &want)
							if res != Traffic || err != nil {
								t.Fatalf("%q: %v, %v", line, res, err)
							}
							exact := tm.Truncate(prec)
							if f == "short" || f == "short-precise" {
								// The wall time in loc, of the year inferred from ref.
								y := tm.Year()
								if year != 0 {
									y = year
								}
								exact = time.Date(y, tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(),
									exact.Nanosecond(), loc)
							}
							if !ev.Time.Equal(exact) || ev.Precision != prec {
								t.Fatalf("%q: time %v %v, want %v %v", line, ev.Time, ev.Precision, exact, prec)
							}
						}
					}
				})
			}
		}
	}
	if hits < 1000 {
		t.Errorf("the memo served %d lines: the test does not exercise it", hits)
	}
}

// journalLines returns Courier and other lines (benchLines' mix) under
// journalctl stamps: a run of lines in each format (journalFormatLines),
// plus a run that alternates short and short-precise stamps of one date.
func journalLines(t testing.TB) []string {
	t.Helper()
	var lines []string
	for _, f := range journalFormats {
		lines = append(lines, journalFormatLines(t, f, 240)...)
	}
	return append(lines, journalFormatLines(t, "mixed", 240)...)
}

// journalFormatLines returns 2n lines under stamps of format ("mixed":
// short and short-precise in turn) in Europe/Berlin: benchLines(n)'s
// lines in bursts of three (a few microseconds apart, then 73 seconds
// on), each followed by the next one under the same stamp, as stateLines
// builds them; they start a minute before the clocks go back.
func journalFormatLines(t testing.TB, format string, n int) []string {
	t.Helper()
	loc := mustLoad(t, "Europe/Berlin")
	gen := benchLines(n)
	rest := make([]string, len(gen))
	for i, l := range gen {
		var st stamp
		rest[i] = l[scanStamp(l, &st):]
	}
	var lines []string
	tm := time.Date(2024, 10, 26, 23, 58, 59, 999990000, loc) // the night the clocks go back
	for i, r := range rest {
		g := format
		if format == "mixed" {
			g = journalFormats[i%2]
		}
		s := journalStamp(g, tm)
		lines = append(lines, s+" "+r, s+" "+rest[(i+1)%len(rest)])
		if i%3 == 2 {
			tm = tm.Add(73*time.Second + 1234567)
		} else {
			tm = tm.Add(3 * time.Microsecond)
		}
	}
	return lines
}

// BenchmarkParseLineJournal: benchLines' mix under each journalctl
// format's stamps, through one State as the report's workers parse
// (precise formats: few stamps repeat, so the memo rarely serves).
func BenchmarkParseLineJournal(b *testing.B) {
	for _, f := range journalFormats {
		b.Run(f, func(b *testing.B) {
			lines := journalFormatLines(b, f, 2048)
			p, _ := benchParser(b)
			ref := time.Date(2024, 12, 20, 12, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			b.SetBytes(int64(totalBytes(lines) / len(lines)))
			var st State
			var ev Event
			b.ResetTimer()
			cpu0 := processCPU()
			j := 0
			for i := 0; i < b.N; i++ {
				if j == len(lines) {
					j = 0
				}
				if _, err := p.ParseLineState(lines[j], ref, &ev, &st); err != nil {
					b.Fatal(err)
				}
				j++
			}
			reportCPU(b, cpu0)
		})
	}
}

// TestParseLineNoAllocsJournal: the new stamps allocate nothing either,
// the abbreviation's slow path (another zone period) included.
func TestParseLineNoAllocsJournal(t *testing.T) {
	ref, loc := goldenRef(t)
	p, err := New(Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	const msg = " mx imapd[1]: LOGOUT, user=alice, ip=[::1], port=[40112], headers=1, body=22, rcvd=333, sent=4444, time=5"
	var lines []string
	for _, s := range []string{"Jun 10 09:20:38.123456", "Mon 2024-06-10 09:20:38 CEST", "Sun 2024-10-27 02:30:00 CEST",
		"Sun 2024-10-27 02:30:00 CET", "Mon 2024-06-10 09:20:38 EST", "Mon 2024-06-10 09:20:38 +0530", "1718004038.123456"} {
		lines = append(lines, s+msg)
	}
	var ev Event
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		line := lines[i%len(lines)]
		if res, err := p.ParseLine(line, ref, &ev); err != nil || res != Traffic {
			t.Fatalf("%q: %v, %v", line, res, err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("ParseLine allocates %.2f times per line, want 0", allocs)
	}
}

// TestShortPreciseYear: a short-precise stamp's year is InferYear's with
// the fraction, also right at ref+24h, where the fraction decides.
func TestShortPreciseYear(t *testing.T) {
	loc := mustLoad(t, "Europe/Berlin")
	p, err := New(Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	ref := time.Date(2025, 12, 31, 10, 0, 0, 500000000, loc)
	limit := ref.Add(24 * time.Hour)
	for _, tm := range []time.Time{limit, limit.Add(-time.Microsecond), limit.Add(time.Microsecond), limit.Add(-time.Hour), ref} {
		line := tm.Format("Jan 02 15:04:05.000000") + " mx imapd: LOGOUT, ip=[::1], rcvd=1, sent=2"
		var ev Event
		res, err := p.ParseLine(line, ref, &ev)
		want, ok := InferYear(tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), loc, ref)
		if res != Traffic || err != nil || !ok || !ev.Time.Equal(want) {
			t.Errorf("%q: %v, %v, %v; want %v", line, res, err, ev.Time, want)
		}
	}
}

// TestParseLineStateShortStamp: a stamp shorter than the 16 bytes
// scanStamp needs of a line (an unpadded classic day, short-unix without a
// fraction) is not served from the memo to a line too short to have a
// timestamp at all.
func TestParseLineStateShortStamp(t *testing.T) {
	ref, _ := goldenRef(t)
	p := newTestParser(t, Options{})
	const msg = " mx imapd: LOGOUT, user=u, ip=[::1], headers=0, body=0, rcvd=1, sent=1"
	for _, stamp := range []string{"Jun 3 06:36:47", "1719981407", "1719981407.1"} {
		t.Run(stamp, func(t *testing.T) {
			var st State
			var ev, want Event
			for _, line := range []string{stamp + msg, stamp + " ", stamp + " mx", stamp + msg[:4]} {
				res, err := p.ParseLineState(line, ref, &ev, &st)
				wantRes, wantErr := p.ParseLine(line, ref, &want)
				sameParse(t, line, res, err, &ev, wantRes, wantErr, &want)
			}
		})
	}
}

// TestShortFullRepeatedWallTime: the abbreviation picks the instant of a
// repeated wall time whichever of the two time.Date takes: in Berlin the
// later one (the zone period before gives CEST), in New York the earlier
// one; when New York's clocks went from local mean time to EST in 1883
// (back by 3m58s) there is no period before LMT, and EST comes from the
// period after.
func TestShortFullRepeatedWallTime(t *testing.T) {
	const msg = " mx imapd: LOGOUT, ip=[::1], rcvd=1, sent=2"
	for _, tc := range []struct {
		zone, stamp string
		want        time.Time
	}{
		{"Europe/Berlin", "Sun 2026-10-25 02:10:00 CEST", time.Date(2026, 10, 25, 0, 10, 0, 0, time.UTC)},
		{"Europe/Berlin", "Sun 2026-10-25 02:10:00 CET", time.Date(2026, 10, 25, 1, 10, 0, 0, time.UTC)},
		{"America/New_York", "Sun 2026-11-01 01:10:00 EDT", time.Date(2026, 11, 1, 5, 10, 0, 0, time.UTC)},
		{"America/New_York", "Sun 2026-11-01 01:10:00 EST", time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC)},
		{"America/New_York", "Sun 1883-11-18 12:01:00 LMT", time.Date(1883, 11, 18, 16, 57, 2, 0, time.UTC)},
		{"America/New_York", "Sun 1883-11-18 12:01:00 EST", time.Date(1883, 11, 18, 17, 1, 0, 0, time.UTC)},
		// Moscow went from MSK+4 to MSK+3: the abbreviation cannot tell the
		// two 01:30 apart, and the wall time reads as time.Date reads it.
		{"Europe/Moscow", "Sun 2014-10-26 01:30:00 MSK", time.Date(2014, 10, 25, 22, 30, 0, 0, time.UTC)},
	} {
		t.Run(tc.zone+"/"+tc.stamp, func(t *testing.T) {
			loc := mustLoad(t, tc.zone)
			var y, mo, d, h, mi, sec int
			if _, err := fmt.Sscanf(tc.stamp[4:23], "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec); err != nil {
				t.Fatal(err)
			}
			if tc.zone == "Europe/Moscow" && !tc.want.Equal(time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc)) {
				t.Fatalf("time.Date reads %s as %v", tc.stamp, time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc).UTC())
			}
			// The same answer whatever zone period the Parser has cached:
			// none, the day before's, the day after's.
			for _, warm := range []time.Duration{0, -24 * time.Hour, 24 * time.Hour} {
				p := newTestParser(t, Options{Location: loc})
				var ev Event
				if warm != 0 {
					w := tc.want.Add(warm).In(loc).Format("Mon 2006-01-02 15:04:05 MST") + msg
					if res, err := p.ParseLine(w, time.Time{}, &ev); res != Traffic || err != nil {
						t.Fatalf("%q: %v, %v", w, res, err)
					}
				}
				res, err := p.ParseLine(tc.stamp+msg, time.Time{}, &ev)
				if res != Traffic || err != nil || !ev.Time.Equal(tc.want) {
					t.Errorf("after %v: %v, %v, %v; want %v", warm, res, err, ev.Time.UTC(), tc.want)
				}
			}
		})
	}
}

// FuzzJournalStamp: any instant journalctl can print in short-unix (Unix
// seconds of ten digits), written in any journalctl format in one of
// journalZones, reads back as that instant to the format's precision (the
// year-less formats as time.Date reads their wall time, the year inferred
// from a reference time an hour later), through ParseLine and through a
// State that saw the instant a moment before.
func FuzzJournalStamp(f *testing.F) {
	for i, d := range journalDays {
		f.Add(d.Unix(), uint32(123456789), uint8(i), uint8(i))
	}
	f.Add(int64(1719981407), uint32(0), uint8(4), uint8(0))
	f.Add(int64(9999999999), uint32(999999999), uint8(5), uint8(3))
	f.Add(int64(1000000000), uint32(1), uint8(1), uint8(2))
	locs := make([]*time.Location, len(journalZones))
	parsers := make([]*Parser, len(journalZones))
	for i, z := range journalZones {
		locs[i] = mustLoad(f, z)
		p, err := New(Options{Location: locs[i]})
		if err != nil {
			f.Fatal(err)
		}
		parsers[i] = p
	}
	const msg = " mx imapd[9]: LOGOUT, user=u, ip=[::1], port=[2], headers=0, body=5, rcvd=1, sent=9, time=3"
	f.Fuzz(func(t *testing.T, sec int64, nsec uint32, format, zone uint8) {
		if sec < 0 {
			sec = -(sec + 1)
		}
		sec = 1_000_000_000 + sec%9_000_000_000 // ten digits
		k := int(zone) % len(journalZones)
		p, loc := parsers[k], locs[k]
		fm := journalFormats[int(format)%len(journalFormats)]
		prec := journalPrecision(fm)
		tm := time.Unix(sec, int64(nsec%1_000_000_000)).In(loc)
		ref := tm.Add(time.Hour)
		want := tm.Truncate(prec)
		if fm == "short" || fm == "short-precise" {
			want = time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), want.Nanosecond(), loc)
		}
		var st State
		var ev, plain Event
		before := journalStamp(fm, tm.Add(-time.Duration(nsec%5000)*time.Millisecond)) + msg
		if _, err := p.ParseLineState(before, ref, &ev, &st); err != nil {
			t.Fatalf("%q: %v", before, err)
		}
		line := journalStamp(fm, tm) + msg
		res, err := p.ParseLineState(line, ref, &ev, &st)
		wantRes, wantErr := p.ParseLine(line, ref, &plain)
		sameParse(t, line, res, err, &ev, wantRes, wantErr, &plain)
		if res != Traffic || err != nil || !ev.Time.Equal(want) || ev.Precision != prec {
			t.Fatalf("%q (%s): %v, %v, %v %v; want %v %v", line, journalZones[k], res, err, ev.Time, ev.Precision, want, prec)
		}
	})
}
