package parser

import (
	"strings"
	"time"
)

// The timestamps of journalctl's text output formats that the classic and
// RFC 3339 scanners do not take themselves. scanStamp reaches these
// functions where it would have given up: the classic path pays nothing
// for them, the RFC 3339 path one byte compare (byte 4 is '-'):
//
//	short-precise  "Jul 03 06:36:47.123456"            classicFraction
//	short-full     "Fri 2026-07-03 06:36:47 CEST"      scanFull
//	short-unix     "1783060607.123456"                 scanUnix
//
// short and short-iso(-precise) are classic and RFC 3339 stamps. Like those
// scanners, these decide on the stamp's bytes up to and including the space
// after it and read nothing beyond (the stamp memo relies on it).

// fraction scans the digits of a fraction of a second at line[i:] (after
// the '.'): 1 to 9 digits. It returns the index after them, the fraction in
// nanoseconds and the precision the digit count gives (as scanRFC3339: up
// to 3 digits milliseconds, up to 6 microseconds, else nanoseconds); ok is
// false when there is no digit.
func fraction(line string, i int) (end, nsec int, prec time.Duration, ok bool) {
	start := i
	for i < len(line) && isDigit(line[i]) && i-start < 9 {
		nsec = nsec*10 + int(line[i]-'0')
		i++
	}
	nsec, prec, ok = fracScale(nsec, i-start)
	return i, nsec, prec, ok
}

// classicFraction finishes a classic stamp whose clock ends at line[i] with
// something other than a space: a fraction "Mmm dd hh:mm:ss.f{1,9} "
// (journalctl -o short-precise) is a classic stamp with that fraction and
// its precision; anything else is no stamp (0).
func classicFraction(line string, i int, month time.Month, day int, st *stamp) int {
	if i >= len(line) || line[i] != '.' {
		return 0
	}
	i, nsec, prec, ok := fraction(line, i+1)
	if !ok || i >= len(line) || line[i] != ' ' {
		return 0
	}
	st.kind = stampClassic
	st.month = month
	st.day = day
	st.nsec = nsec
	st.offset = 0
	st.precision = prec
	return i + 1
}

// unixDigits is the number of digits of a short-unix stamp's seconds:
// journalctl prints them as "%10" (space-padded to ten), and every time
// from 2001-09-09 to 2286-11-20 has ten digits.
const unixDigits = 10

// scanUnix scans journalctl -o short-unix: "ssssssssss[.f{1,9}] ", ten
// digits of Unix seconds and an optional fraction (journalctl prints six
// digits). scanStamp calls it for a line that starts with a digit but
// has no '-' in byte 4, so is no RFC 3339 stamp.
func scanUnix(line string, st *stamp) int {
	var secs int64
	i := 0
	for ; i < unixDigits; i++ {
		if i >= len(line) || !isDigit(line[i]) {
			return 0
		}
		secs = secs*10 + int64(line[i]-'0')
	}
	nsec, prec := 0, time.Second
	if i < len(line) && line[i] == '.' {
		var ok bool
		if i, nsec, prec, ok = fraction(line, i+1); !ok {
			return 0
		}
	}
	if i >= len(line) || line[i] != ' ' {
		return 0
	}
	st.kind = stampUnix
	st.unix = secs
	st.nsec = nsec
	st.offset = 0
	st.precision = prec
	return i + 1
}

// weekdayOK reports whether a, b, c spell an English weekday abbreviation.
func weekdayOK(a, b, c byte) bool {
	switch uint32(a)<<16 | uint32(b)<<8 | uint32(c) {
	case 'M'<<16 | 'o'<<8 | 'n', 'T'<<16 | 'u'<<8 | 'e', 'W'<<16 | 'e'<<8 | 'd', 'T'<<16 | 'h'<<8 | 'u',
		'F'<<16 | 'r'<<8 | 'i', 'S'<<16 | 'a'<<8 | 't', 'S'<<16 | 'u'<<8 | 'n':
		return true
	}
	return false
}

// maxAbbr is the longest zone abbreviation scanFull takes: packAbbr packs
// it into one word (tzdata's are 3 to 6 bytes).
const maxAbbr = 8

// packAbbr packs a zone abbreviation of up to maxAbbr bytes into a word,
// the first byte lowest; a longer one packs to 0, which no scanned
// abbreviation packs to.
func packAbbr(s string) uint64 {
	if len(s) > maxAbbr {
		return 0
	}
	var w uint64
	for i := len(s) - 1; i >= 0; i-- {
		w = w<<8 | uint64(s[i])
	}
	return w
}

// scanFull scans journalctl -o short-full (systemd's "pretty" timestamp):
// "Www YYYY-MM-DD hh:mm:ss[.f{1,9}] ZONE ". The weekday must be one of the
// seven English abbreviations but is not checked against the date (the
// date decides; journalctl always writes the matching one). ZONE is
//   - "UTC" or "GMT": UTC (an RFC 3339 stamp with offset 0);
//   - a numeric offset "+hh", "+hhmm" or "+hh:mm" (or '-'), which
//     journalctl prints for zones without an abbreviation: that offset
//     (an RFC 3339 stamp);
//   - else 3 to maxAbbr ASCII letters, an abbreviation such as "CEST":
//     the wall time is read in the Parser's zone (see journalTime).
//
// Anything else, a missing zone included, is no stamp (0).
func scanFull(line string, st *stamp) int {
	// "Www YYYY-MM-DD hh:mm:ss " is 24 bytes; the zone and its space follow.
	if len(line) < 26 || !weekdayOK(line[0], line[1], line[2]) || line[3] != ' ' ||
		line[8] != '-' || line[11] != '-' || line[14] != ' ' {
		return 0
	}
	y1, ok1 := digits2(line, 4)
	y2, ok2 := digits2(line, 6)
	mo, ok3 := digits2(line, 9)
	d, ok4 := digits2(line, 12)
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 || !clockBytes(line, 15, st) {
		return 0
	}
	year := y1*100 + y2
	if d > daysIn(time.Month(mo), year) {
		return 0
	}
	i := 23
	nsec, prec := 0, time.Second
	if line[i] == '.' {
		var ok bool
		if i, nsec, prec, ok = fraction(line, i+1); !ok || i >= len(line) {
			return 0
		}
	}
	if line[i] != ' ' {
		return 0
	}
	i++
	z := i
	for i < len(line) && line[i] != ' ' && i-z <= maxAbbr {
		i++
	}
	if i >= len(line) || i-z > maxAbbr {
		return 0
	}
	zone := line[z:i]
	kind, offset, abbr := stampAbbr, 0, uint64(0)
	switch {
	case zone == "UTC" || zone == "GMT":
		kind = stampRFC3339
	case zone != "" && (zone[0] == '+' || zone[0] == '-'):
		off, ok := numericZone(zone)
		if !ok {
			return 0
		}
		kind, offset = stampRFC3339, off
	default:
		if len(zone) < 3 {
			return 0
		}
		for k := 0; k < len(zone); k++ {
			if !isLetter(zone[k]) {
				return 0
			}
		}
		abbr = packAbbr(zone)
	}
	st.kind = kind
	st.year = year
	st.month = time.Month(mo)
	st.day = d
	st.nsec = nsec
	st.offset = offset
	st.precision = prec
	st.abbr = abbr
	return i + 1
}

// numericZone reads a numeric zone "+hh", "+hhmm" or "+hh:mm" (or with
// '-') as seconds east of UTC, with scanRFC3339's ranges.
func numericZone(z string) (int, bool) {
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	oh, ok := digits2(z, 1)
	if !ok || oh > 23 {
		return 0, false
	}
	om := 0
	switch len(z) {
	case 3:
	case 5, 6:
		k := 3
		if len(z) == 6 {
			if z[3] != ':' {
				return 0, false
			}
			k = 4
		}
		if om, ok = digits2(z, k); !ok || om > 59 {
			return 0, false
		}
	default:
		return 0, false
	}
	return sign * (oh*3600 + om*60), true
}

// journalTime converts the stamps of kinds stampUnix and stampAbbr (see
// Parser.time); neither depends on the reference time.
//
// A short-unix stamp is its instant, shown in the Parser's zone.
//
// A short-full stamp with a zone abbreviation is its wall time read in the
// Parser's zone (Options.Location), as a classic stamp of that date would
// be (time.Date's instant, t below). The abbreviation picks between the
// two instants of a wall time repeated when the clocks go back: when t's
// abbreviation is not the stamp's but that of the zone period just before
// or after t's is, and the wall time read with that period's offset is an
// instant with that abbreviation and offset, that instant is taken
// ("02:30:00 CEST" and "02:30:00 CET" on the night the clocks go back in
// Europe/Berlin are an hour apart). When both instants have the
// abbreviation (Moscow's MSK in 2014), t is taken. An abbreviation the
// zone does not use there (the journal was written in another zone than
// the one configured) does not drop the line: the wall time is read in the
// configured zone all the same. Abbreviations are ambiguous ("IST", "CST"
// name several zones), so none is looked up on its own; "UTC" and "GMT"
// (and numeric zones) never get here, scanFull made them offsets. Like
// localTime, the result never depends on the zone period p has cached.
func (p *Parser) journalTime(st *stamp) time.Time {
	if st.kind == stampUnix {
		return time.Unix(st.unix, int64(st.nsec)).In(p.loc)
	}
	clock := int64(st.hour*3600 + st.min*60 + st.sec)
	local := daysFromCivil(st.year, st.month, st.day)*86400 + clock
	// localTime's fast path (cachedUTC) with the cached period's
	// abbreviation: t is in that period, so that is t's abbreviation.
	if s := p.span.Load(); s != nil && s.abbr == st.abbr && local >= s.start && local < s.end {
		if utc := local - s.offset; utc >= s.start && utc < s.end {
			return time.Unix(utc, int64(st.nsec)).In(p.loc)
		}
	}
	t := p.localTime(st.year, st.month, st.day, clock, st.nsec)
	name, _ := t.Zone()
	if packAbbr(name) == st.abbr {
		return t
	}
	start, end := t.ZoneBounds()
	if !start.IsZero() {
		if c, ok := p.abbrCandidate(local, st, start.Add(-time.Second)); ok {
			return c
		}
	}
	if !end.IsZero() {
		if c, ok := p.abbrCandidate(local, st, end); ok {
			return c
		}
	}
	return t
}

// abbrCandidate returns the instant of wall time local (seconds of local
// time counted as UTC) plus st.nsec in the zone period of p.loc that
// contains the instant at, when that period's abbreviation is st.abbr and
// the instant has that abbreviation and offset.
func (p *Parser) abbrCandidate(local int64, st *stamp, at time.Time) (time.Time, bool) {
	name, off := at.Zone()
	if packAbbr(name) != st.abbr {
		return time.Time{}, false
	}
	c := time.Unix(local-int64(off), int64(st.nsec)).In(p.loc)
	if cn, coff := c.Zone(); coff != off || cn != name {
		return time.Time{}, false
	}
	return c, true
}

// journalMarker reports whether line is one of journalctl's own lines
// between entries ("-- Boot 5f0c...  --", "-- No entries --", "-- Logs
// begin at ... --"): not a log line, so Skip without an error.
func journalMarker(line string) bool {
	return len(line) >= 6 && strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --")
}
