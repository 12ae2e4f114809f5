package parser

import (
	"math"
	"time"
)

// stampKind tells which timestamp form a header carried.
type stampKind uint8

const (
	stampClassic stampKind = iota + 1 // "Jul  3 06:36:47", "Jul 03 06:36:47.123456": no year, no zone
	stampRFC3339                      // "2024-06-10T09:20:38.412907+02:00"; also short-full with UTC, GMT or a numeric zone
	stampUnix                         // journalctl short-unix "1783060607.123456": Unix seconds in unix
	stampAbbr                         // journalctl short-full "Fri 2026-07-03 06:36:47 CEST": wall time, zone abbreviation in abbr
)

// stamp is a lexically scanned timestamp. Scanning only checks the shape and
// converts the digits; turning it into a time.Time (year inference, zone
// lookups) is deferred until the line turned out to be Courier traffic,
// because that is the expensive part and most lines are skipped.
type stamp struct {
	kind      stampKind
	year      int
	month     time.Month
	day       int
	hour      int
	min       int
	sec       int
	nsec      int
	offset    int // seconds east of UTC (RFC 3339 only)
	precision time.Duration
	unix      int64  // Unix seconds (stampUnix only)
	abbr      uint64 // zone abbreviation, packed by packAbbr (stampAbbr only)
}

// monthOf maps a three-letter English month abbreviation to its number,
// 0 if s is not one. A switch on the packed bytes avoids a map lookup.
func monthOf(a, b, c byte) time.Month {
	switch uint32(a)<<16 | uint32(b)<<8 | uint32(c) {
	case 'J'<<16 | 'a'<<8 | 'n':
		return time.January
	case 'F'<<16 | 'e'<<8 | 'b':
		return time.February
	case 'M'<<16 | 'a'<<8 | 'r':
		return time.March
	case 'A'<<16 | 'p'<<8 | 'r':
		return time.April
	case 'M'<<16 | 'a'<<8 | 'y':
		return time.May
	case 'J'<<16 | 'u'<<8 | 'n':
		return time.June
	case 'J'<<16 | 'u'<<8 | 'l':
		return time.July
	case 'A'<<16 | 'u'<<8 | 'g':
		return time.August
	case 'S'<<16 | 'e'<<8 | 'p':
		return time.September
	case 'O'<<16 | 'c'<<8 | 't':
		return time.October
	case 'N'<<16 | 'o'<<8 | 'v':
		return time.November
	case 'D'<<16 | 'e'<<8 | 'c':
		return time.December
	}
	return 0
}

func isDigit(c byte) bool { return c-'0' <= 9 }

// digits2 converts the two decimal digits at s[i:i+2]; ok is false if either
// byte is not a digit or the slice is too short.
func digits2(s string, i int) (int, bool) {
	if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return 0, false
	}
	return int(s[i]-'0')*10 + int(s[i+1]-'0'), true
}

// clock scans "hh:mm:ss" at s[i:] and checks the ranges. The common case
// is checked and converted as one word: six digits with ':' in bytes 2
// and 5 (see swar.go); anything else takes the byte path, which gives the
// same answer.
func clock(s string, i int, st *stamp) bool {
	h, m, sec, ok := clockWord(s, i)
	if !ok {
		return clockBytes(s, i, st)
	}
	st.hour, st.min, st.sec = h, m, sec
	return true
}

// clockWord is clock's one-word path: ok is false when s[i:i+8] is not
// "hh:mm:ss" with six digits and the ranges hold, or is too short.
func clockWord(s string, i int) (h, m, sec int, ok bool) {
	if i < 0 || i > len(s)-8 {
		return 0, 0, 0, false
	}
	w := load8(s, i)
	t := w ^ 0x3030303030303030
	if ((t+0x7676767676767676)|t)&highs != 0x0000800000800000 || w&0x0000ff0000ff0000 != 0x00003a00003a0000 {
		return 0, 0, 0, false
	}
	u := t*10 + t>>8 // byte 0: hh, byte 3: mm, byte 6: ss (no byte exceeds 100)
	h, m, sec = int(u&0xff), int(u>>24&0xff), int(u>>48&0xff)
	return h, m, sec, h <= 23 && m <= 59 && sec <= 59
}

// clockBytes is clock one byte at a time.
func clockBytes(s string, i int, st *stamp) bool {
	if i+8 > len(s) || s[i+2] != ':' || s[i+5] != ':' {
		return false
	}
	h, ok1 := digits2(s, i)
	m, ok2 := digits2(s, i+3)
	sec, ok3 := digits2(s, i+6)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return false
	}
	st.hour, st.min, st.sec = h, m, sec
	return true
}

// scanStamp recognises a timestamp at the start of line followed by one
// space and returns the index just after that space, or 0 if line does not
// start with a timestamp this parser knows.
func scanStamp(line string, st *stamp) int {
	if len(line) < minLine {
		return 0
	}
	if isDigit(line[0]) {
		// "YYYY-" or journalctl -o short-unix's ten digits of seconds;
		// both are tail calls, so nothing here is kept across a call.
		if line[4] != '-' {
			return scanUnix(line, st)
		}
		return scanRFC3339(line, st)
	}
	// Classic BSD stamp: "Mmm dd hh:mm:ss " with a space-padded day;
	// "Mmm d hh:mm:ss " (unpadded) is tolerated, and so is a zero-padded
	// day (journalctl -o short).
	month := monthOf(line[0], line[1], line[2])
	if month == 0 || line[3] != ' ' {
		// Not a month: journalctl -o short-full starts with a weekday.
		return scanFull(line, st)
	}
	var day, i int
	switch {
	case line[4] == ' ' && isDigit(line[5]):
		day, i = int(line[5]-'0'), 6
	case isDigit(line[4]) && isDigit(line[5]):
		day, i = int(line[4]-'0')*10+int(line[5]-'0'), 6
	case isDigit(line[4]):
		day, i = int(line[4]-'0'), 5
	default:
		return 0
	}
	if day < 1 || day > 31 || line[i] != ' ' || !clock(line, i+1, st) {
		return 0
	}
	i += 9
	if i >= len(line) || line[i] != ' ' {
		// journalctl -o short-precise: "Mmm dd hh:mm:ss.ffffff ".
		return classicFraction(line, i, month, day, st)
	}
	st.kind = stampClassic
	st.month = month
	st.day = day
	st.nsec = 0
	st.offset = 0
	st.precision = time.Second
	return i + 1
}

// fracScale turns the n digits of a fraction read as nsec into
// nanoseconds and the precision they were written with; ok is false for
// no digit.
func fracScale(nsec, n int) (int, time.Duration, bool) {
	var prec time.Duration
	switch {
	case n == 0:
		return 0, 0, false
	case n <= 3:
		prec = time.Millisecond
	case n <= 6:
		prec = time.Microsecond
	default:
		prec = time.Nanosecond
	}
	for ; n < 9; n++ {
		nsec *= 10
	}
	return nsec, prec, true
}

// scanRFC3339 scans "YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm|±hhmm) ".
func scanRFC3339(line string, st *stamp) int {
	if len(line) < 21 || line[4] != '-' || line[7] != '-' || line[10] != 'T' {
		return 0
	}
	y1, ok1 := digits2(line, 0)
	y2, ok2 := digits2(line, 2)
	mo, ok3 := digits2(line, 5)
	d, ok4 := digits2(line, 8)
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 || !clock(line, 11, st) {
		return 0
	}
	year := y1*100 + y2
	if d > daysIn(time.Month(mo), year) {
		return 0
	}
	i := 19
	nsec, prec := 0, time.Second
	if line[i] == '.' {
		i++
		start := i
		if i+8 <= len(line) {
			// Up to 8 digits in one word (swar.go); a 9th is read below.
			t := load8(line, i) ^ 0x3030303030303030
			d := digitRun(t)
			nsec = int(swar8(t << (64 - 8*d)))
			i += d
		}
		for i < len(line) && isDigit(line[i]) && i-start < 9 {
			nsec = nsec*10 + int(line[i]-'0')
			i++
		}
		var ok bool
		if nsec, prec, ok = fracScale(nsec, i-start); !ok {
			return 0
		}
	}
	if i >= len(line) {
		return 0
	}
	offset := 0
	switch line[i] {
	case 'Z':
		i++
	case '+', '-':
		sign := 1
		if line[i] == '-' {
			sign = -1
		}
		oh, ok := digits2(line, i+1)
		if !ok {
			return 0
		}
		i += 3
		if i < len(line) && line[i] == ':' {
			i++
		}
		om, ok := digits2(line, i)
		if !ok || oh > 23 || om > 59 {
			return 0
		}
		i += 2
		offset = sign * (oh*3600 + om*60)
	default:
		return 0
	}
	if i >= len(line) || line[i] != ' ' {
		return 0
	}
	st.kind = stampRFC3339
	st.year = year
	st.month = time.Month(mo)
	st.day = d
	st.nsec = nsec
	st.offset = offset
	st.precision = prec
	return i + 1
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 of the
// proleptic Gregorian date y-m-d. It lets RFC 3339 stamps become a
// time.Time without time.Date and without a *time.Location per offset,
// and classic stamps without time.Date (see localTime).
func daysFromCivil(y int, m time.Month, d int) int64 {
	// Years 1900-2199 are read from tables: a few loads instead of the
	// divisions of daysFromCivilSlow, which gives the same results (a test
	// compares them) for any year.
	if k := uint(y - civilBase); k < uint(len(yearStart)-1) && m >= time.January && m <= time.December {
		start := yearStart[k]
		leap := 0
		if yearStart[k+1]-start == 366 {
			leap = 1
		}
		return int64(start) + int64(monthStart[leap][m-1]) + int64(d) - 1
	}
	return daysFromCivilSlow(y, m, d)
}

// civilBase is the first year of yearStart.
const civilBase = 1900

// yearStart[k] is daysFromCivil(civilBase+k, 1, 1); the last entry only
// tells the length of the year before it.
var yearStart = func() (t [301]int32) {
	for k := range t {
		t[k] = int32(daysFromCivilSlow(civilBase+k, time.January, 1))
	}
	return t
}()

// monthStart[leap][m-1] is the day of the year (from 0) on which month m
// starts.
var monthStart = func() (t [2][12]int32) {
	for leap := range t {
		y := 2023 + leap // 2023 is a common year, 2024 a leap year
		for m := range t[leap] {
			t[leap][m] = int32(daysFromCivilSlow(y, time.Month(m+1), 1) - daysFromCivilSlow(y, time.January, 1))
		}
	}
	return t
}()

// daysFromCivilSlow is daysFromCivil for any year (H. Hinnant's
// algorithm).
func daysFromCivilSlow(y int, m time.Month, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mp := int64(m) + 9
	if m > 2 {
		mp = int64(m) - 3
	}
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// Offsets in 15-minute steps from -14:00 to +14:00 cover every zone in use.
// The zones are built once so that a parsed RFC 3339 time keeps the offset
// it was written with, without a time.FixedZone allocation per line.
const (
	zoneStep  = 15 * 60
	zoneLimit = 14 * 3600
)

var fixedZones = func() [2*zoneLimit/zoneStep + 1]*time.Location {
	var z [2*zoneLimit/zoneStep + 1]*time.Location
	for i := range z {
		off := i*zoneStep - zoneLimit
		if off == 0 {
			z[i] = time.UTC
			continue
		}
		sign, a := byte('+'), off
		if a < 0 {
			sign, a = '-', -a
		}
		h, m := a/3600, a%3600/60
		name := string([]byte{sign, byte('0' + h/10), byte('0' + h%10), ':', byte('0' + m/10), byte('0' + m%10)})
		z[i] = time.FixedZone(name, off)
	}
	return z
}()

// zoneFor returns a shared zone for offset, or UTC for offsets no zone
// uses (the instant is still right; only the display offset differs).
func zoneFor(offset int) *time.Location {
	if offset%zoneStep != 0 || offset < -zoneLimit || offset > zoneLimit {
		return time.UTC
	}
	return fixedZones[(offset+zoneLimit)/zoneStep]
}

// time converts a scanned stamp. Classic stamps take their year from
// p.year or the rule of InferYear(ref) and their zone from p.loc; the result
// equals InferYear's (a test checks this), computed with integer arithmetic
// and the cached zone span instead of two time.Date calls per line.
func (p *Parser) time(st *stamp, ref time.Time) (time.Time, bool) {
	if st.kind == stampRFC3339 {
		secs := daysFromCivil(st.year, st.month, st.day)*86400 +
			int64(st.hour*3600+st.min*60+st.sec) - int64(st.offset)
		return time.Unix(secs, int64(st.nsec)).In(zoneFor(st.offset)), true
	}
	if st.kind != stampClassic {
		return p.journalTime(st), true
	}
	clock := int64(st.hour*3600 + st.min*60 + st.sec)
	if p.year != 0 {
		if st.day > daysIn(st.month, p.year) {
			return time.Time{}, false
		}
		return p.localTime(p.year, st.month, st.day, clock, st.nsec), true
	}
	// The rule of InferYear: the latest year whose candidate is not after
	// ref+24h, starting from ref's UTC year (see there).
	refSec, refNsec := ref.Unix(), int64(ref.Nanosecond())
	y := p.firstYear(st.month, st.day, refSec)
	limit := refSec + 86400
	for end := y - 9; y > end; y-- {
		if st.day > daysIn(st.month, y) {
			continue
		}
		t := p.localTime(y, st.month, st.day, clock, st.nsec)
		if u := t.Unix(); u < limit || (u == limit && int64(t.Nanosecond()) <= refNsec) {
			return t, true
		}
	}
	return time.Time{}, false
}

// refDate returns civilFromDays(day). The reference time is the same day
// for long runs of lines (a Fluent Bit chunk, a file), so the last result
// is kept, packed into one word so that neither a hit nor a miss
// allocates; like span, it is a memo that never changes a result. Days
// whose date does not fit the packing are computed every time.
//
// Packing: bits 0-31 the day (int32), 32-47 the year, 48-55 the month
// (never 0 in a valid entry), 56-63 the day of the month.
func (p *Parser) refDate(day int64) (int, time.Month, int) {
	if r := p.ref.Load(); r != 0 && int64(int32(uint32(r))) == day {
		return int(uint16(r >> 32)), time.Month(uint8(r >> 48)), int(uint8(r >> 56))
	}
	y, m, d := civilFromDays(day)
	if int64(int32(day)) == day && y >= 0 && y <= 0xffff {
		p.ref.Store(uint64(uint32(int32(day))) | uint64(y)<<32 | uint64(m)<<48 | uint64(d)<<56)
	}
	return y, m, d
}

// zoneSpan is one period of constant UTC offset of p.loc, in Unix seconds
// [start, end).
type zoneSpan struct {
	start, end, offset int64
	abbr               uint64 // the period's zone abbreviation, packed by packAbbr (see journalTime)
}

// localTime returns time.Date(y, m, d, 0, 0, 0, nsec, p.loc) plus clock
// seconds, as time.Date would compute it. time.Date looks the zone up
// twice; here the last zone period used is cached (an atomic pointer, so
// the Parser stays safe for concurrent use): when both the local time read
// as UTC and the resulting instant fall in that period, time.Date would
// have found the same offset. Otherwise (first use, near a transition, a
// gap or an overlap) it calls time.Date and caches the period it landed in.
func (p *Parser) localTime(y int, m time.Month, d int, clock int64, nsec int) time.Time {
	if utc, ok := p.cachedUTC(daysFromCivil(y, m, d)*86400 + clock); ok {
		return time.Unix(utc, int64(nsec)).In(p.loc)
	}
	hh, mm, ss := int(clock/3600), int(clock/60%60), int(clock%60)
	t := time.Date(y, m, d, hh, mm, ss, nsec, p.loc)
	start, end := t.ZoneBounds()
	name, off := t.Zone()
	span := &zoneSpan{start: math.MinInt64, end: math.MaxInt64, offset: int64(off), abbr: packAbbr(name)}
	if !start.IsZero() {
		span.start = start.Unix()
	}
	if !end.IsZero() {
		span.end = end.Unix()
	}
	p.span.Store(span)
	return t
}

// cachedUTC converts local, seconds of local wall time counted as if it
// were UTC, to Unix seconds with the cached zone period (localTime's fast
// path): ok is false unless both local and the result fall in it.
func (p *Parser) cachedUTC(local int64) (utc int64, ok bool) {
	s := p.span.Load()
	if s == nil || local < s.start || local >= s.end {
		return 0, false
	}
	utc = local - s.offset
	return utc, utc >= s.start && utc < s.end
}

// firstYear is the first candidate year of Parser.time's inference for a
// classic stamp of month and day, with ref at Unix second refSec: ref's
// UTC year, or the next one for Jan 1-2 when ref is Dec 29-31.
func (p *Parser) firstYear(month time.Month, day int, refSec int64) int {
	refY, refM, refD := p.refDate(floorDiv(refSec, 86400))
	if month == time.January && day <= 2 && refM == time.December && refD >= 29 {
		return refY + 1
	}
	return refY
}

// floorDiv is a/b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// civilFromDays is the inverse of daysFromCivil (H. Hinnant's algorithm).
func civilFromDays(z int64) (int, time.Month, int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return int(y), time.Month(m), int(d)
}

// InferYear implements docs/design.md, Time, for year-less syslog stamps: it
// returns month/day/clock in loc in the year that puts it closest to ref
// without being more than 24 hours after ref. Because candidates are a
// year (or, for February 29, four or eight years) apart, that is the latest
// candidate not after ref+24h. It returns false when no year within the
// search range has that date (February 29 exists only in leap years; April
// 31 never) or when an argument is out of range. A nil loc means UTC.
//
// InferYear usually calls time.Date once: it starts at ref's UTC year and
// tries the following year only when a New Year's Day line meets a
// reference time in the last days of December.
func InferYear(month time.Month, day, hour, min, sec, nsec int, loc *time.Location, ref time.Time) (time.Time, bool) {
	if month < time.January || month > time.December || day < 1 || day > 31 ||
		hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59 ||
		nsec < 0 || nsec > 999_999_999 {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	// UTC fields need no zone lookup. Local zones are at most 14h away, so
	// the local year of ref differs from its UTC year only near New Year;
	// the candidate search below absorbs that.
	refY, refM, refD := ref.UTC().Date()
	limit := ref.Add(24 * time.Hour)
	y := refY
	if month == time.January && day <= 2 && refM == time.December && refD >= 29 {
		y++
	}
	// February 29 recurs at most 8 years apart (e.g. 2096 -> 2104).
	for end := y - 9; y > end; y-- {
		if day > daysIn(month, y) {
			continue
		}
		t := time.Date(y, month, day, hour, min, sec, nsec, loc)
		if !t.After(limit) {
			return t, true
		}
	}
	return time.Time{}, false
}
