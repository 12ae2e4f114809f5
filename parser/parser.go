package parser

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Parser parses Courier log lines. It is immutable after New and safe for
// concurrent use by any number of goroutines.
type Parser struct {
	idents []string // accepted syslog identifiers, exact match
	pop3   []bool   // pop3[k]: idents[k] contains "pop3" (the service of a session without content fields)
	lens   uint64   // bit n set: some identifier has length n (n < 64); rejects most tags at once
	loc    *time.Location
	year   int

	// span caches the zone period of loc that the last classic stamp fell
	// in (see localTime). It is a memo, not state: results never depend on
	// it, so the Parser behaves as immutable.
	span atomic.Pointer[zoneSpan]
	// ref caches the civil date of the last reference day (see refDate),
	// a memo like span.
	ref atomic.Uint64
}

// New validates opts and returns a Parser.
//
// An empty opts.Identifiers means DefaultIdentifiers. An identifier that is
// empty or contains a space, ':', '[' or ']' is an error naming
// "identifiers": such a string could never match a syslog tag. A nil
// opts.Location means time.Local. opts.Year must be 0 (infer) or 1..9999.
// New copies opts.Identifiers; the caller may reuse the slice.
func New(opts Options) (*Parser, error) {
	ids := opts.Identifiers
	if len(ids) == 0 {
		ids = DefaultIdentifiers
	}
	p := &Parser{idents: make([]string, 0, len(ids)), loc: opts.Location, year: opts.Year}
	for i, id := range ids {
		if id == "" {
			return nil, errors.New("parser: identifiers: entry " + strconv.Itoa(i) + " is empty")
		}
		if strings.ContainsAny(id, " \t:[]") {
			return nil, errors.New("parser: identifiers: " + strconv.Quote(id) +
				" contains a space, ':' or a bracket and cannot match a syslog tag")
		}
		p.idents = append(p.idents, id)
		p.pop3 = append(p.pop3, strings.Contains(id, "pop3"))
		if len(id) < 64 {
			p.lens |= 1 << len(id)
		}
	}
	if p.loc == nil {
		p.loc = time.Local
	}
	if opts.Year < 0 || opts.Year > 9999 {
		return nil, errors.New("parser: year: " + strconv.Itoa(opts.Year) + " is outside 1..9999 (0 = infer)")
	}
	return p, nil
}

// known reports whether ident is one of the configured identifiers.
func (p *Parser) known(ident string) bool { return p.identIndex(ident) >= 0 }

// identIndex returns the index of ident in p.idents, or -1.
func (p *Parser) identIndex(ident string) int {
	if len(ident) < 64 && p.lens&(1<<len(ident)) == 0 {
		return -1
	}
	for k, id := range p.idents {
		if len(id) == len(ident) && id == ident {
			return k
		}
	}
	return -1
}

// trimEOL removes one trailing "\n" or "\r\n" (and a lone trailing "\r").
func trimEOL(s string) string {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
	}
	if n := len(s); n > 0 && s[n-1] == '\r' {
		s = s[:n-1]
	}
	return s
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// ParseLine parses one raw syslog line: a classic ("Jul  3 06:36:47") or
// RFC 3339 timestamp, the host, the tag ("ident:" or "ident[pid]:"), one
// space and the message. A trailing "\n" or "\r\n" is ignored.
//
// ref is the reference time for year-less timestamps (Fluent Bit's record
// time, or a file's modification time); it is unused when Options.Year is
// set or the stamp is RFC 3339.
//
// Results:
//   - Traffic, nil: ev holds the session end.
//   - Repeat, nil: ev holds Repeats (and the repeated session's fields
//     for "message repeated N times: [ ... ]").
//   - Skip, nil: not Courier traffic (another identifier, LOGIN, a blank
//     line, ...); ev is the zero Event.
//   - Skip, *SyntaxError: a line with no recognisable syslog header, or a
//     Courier line that claims to be traffic but is broken (bad counter,
//     missing field, possibly truncated); ev is the zero Event.
//
// ev is reset on every call; its strings alias line.
func (p *Parser) ParseLine(line string, ref time.Time, ev *Event) (Result, error) {
	return p.ParseLineState(line, ref, ev, nil)
}

// State is what a goroutine that parses many lines may keep between
// ParseLineState calls: a memo of the last converted timestamp (most
// session ends of a busy log share the second of the one before, most of
// the others its date, and the conversion is a good part of a line's
// cost), an optional time window and an optional service filter. The zero
// value is ready; a State belongs to one goroutine at a time and may be
// used with any Parser (the memo remembers whose it is).
type State struct {
	// Service, when IMAP or POP3, lets ParseLineState skip a line that
	// cannot be a session end of that service without parsing its
	// message: a tagged line whose identifier names the other service (it
	// contains "pop3", or does not) and whose message lacks the field that
	// would make it this service's ("headers=" for IMAP, "top=" for POP3;
	// see Event.Service). Repeat markers are never skipped this way.
	// ServiceUnknown (the zero value) skips nothing.
	Service Service
	// Other is set by every call: true when the line was skipped by
	// Service (the result is then Skip, nil). Such a line could have been
	// a session end of the other service, or broken (a *SyntaxError
	// without the filter), never one of this service.
	Other bool

	// Since and Until, when Until > Since, are a window of Unix seconds
	// that lets ParseLineState skip a line whose timestamp converts to a
	// time outside [Since, Until) (t.Unix() < Since or >= Until) right
	// after the timestamp, without parsing the rest: the report's day.
	// Repeat markers are skipped too. A line whose stamp does not convert
	// is parsed as without the window. Until <= Since skips nothing.
	Since, Until int64
	// Outside is set by every call: true when the line was skipped by the
	// window (the result is then Skip, nil). Such a line could have been
	// anything, a session end of another day included.
	Outside bool

	memo stampMemo
}

// stampMemo is the last timestamp ParseLineState converted: its bytes
// (with the space after it), the Parser and reference time it was
// converted with, and the result. Its time and precision are a pure
// function of those (scanStamp reads no byte past the stamp), so a line
// that starts with the same bytes gets the same time.
type stampMemo struct {
	p      *Parser
	n      int // len of the stamp in buf; 0: empty
	buf    [maxStampLen]byte
	anyRef bool // the time does not depend on ref (RFC 3339, or Options.Year)
	ref    time.Time
	t      time.Time
	prec   time.Duration

	// For a classic stamp "Mmm dd hh:mm:ss " (16 bytes) whose year does not
	// depend on its clock: dayOK, and dayLocal, the date's midnight in
	// local seconds (daysFromCivil*86400). A stamp of the same date and
	// another clock is then converted from them (sameDay).
	dayOK    bool
	dayLocal int64
	dayWord  uint64 // the stamp's first 7 bytes ("Mmm dd "), as load8 reads them
}

// minLine is the length below which scanStamp finds no timestamp.
const minLine = 16

// maxStampLen bounds the stamps the memo keeps: the longest RFC 3339
// form, "2024-06-10T09:20:38.123456789+02:00 ", is 36 bytes.
const maxStampLen = 40

// ParseLineState is ParseLine with the caller's State st (nil: none). The
// results are ParseLine's, except for the lines st.Service skips (Skip,
// nil, st.Other set) and those st's window skips (Skip, nil, st.Outside
// set).
func (p *Parser) ParseLineState(line string, ref time.Time, ev *Event, st *State) (Result, error) {
	*ev = Event{}
	line = trimEOL(line)
	var memo *stampMemo
	if st != nil {
		st.Other, st.Outside = false, false
		memo = &st.memo
	}
	var stm stamp
	var i int
	hit := false
	if memo != nil && memo.p == p && (memo.anyRef || ref == memo.ref) {
		// The memo holds a conversion this call would make: its stamp, or
		// (sameDay) its date.
		hit = memo.n > 0 && len(line) >= memo.n && line[:memo.n] == string(memo.buf[:memo.n])
		if !hit && memo.dayOK {
			hit = p.sameDay(memo, line)
		}
	}
	if hit {
		i = memo.n
	} else if i = scanStamp(line, &stm); i == 0 {
		if isBlank(line) || journalMarker(line) {
			return Skip, nil
		}
		return Skip, &SyntaxError{Pos: 0, Msg: "no syslog timestamp at the start of the line"}
	}
	hostStart := i
	// The time: from the memo, or converted once the line turns out to
	// need it (have).
	var t time.Time
	var prec time.Duration
	have := hit
	if hit {
		t, prec = memo.t, memo.prec
	}
	if st != nil && st.Until > st.Since {
		// The window needs the time now. A stamp that does not convert
		// leaves the line to the rest, as without the window.
		if !have {
			t, prec, have = p.convert(memo, line, hostStart, &stm, ref)
		}
		if s := t.Unix(); have && (s < st.Since || s >= st.Until) {
			st.Outside = true
			return Skip, nil
		}
	}
	// Host: one token. A first token that is itself a known "ident:" tag
	// means the writer left the host out.
	sp := indexShort(line[i:], ' ')
	if sp <= 0 {
		return Skip, nil
	}
	host := line[i : i+sp]
	if host[len(host)-1] == ':' {
		if id, _, ok := scanTag(line, i); ok && p.known(id) {
			host, i = "", hostStart
		}
	}
	if host != "" {
		i += sp + 1
	}

	ident, msgStart, ok := scanTag(line, i)
	var res Result
	var err error
	switch {
	case ok:
		k := p.identIndex(ident)
		if k < 0 {
			return Skip, nil
		}
		if st != nil && st.Service != ServiceUnknown && otherService(st.Service, p.pop3[k], line[msgStart:]) {
			st.Other = true
			return Skip, nil
		}
		res, err = p.parseMessage(line[msgStart:], msgStart, p.pop3[k], ev, true, 0)
	case strings.HasPrefix(line[i:], lastRepeated):
		// sysklogd writes the marker without any tag.
		ident = ""
		res, err = lastRepeatedMarker(line[i:], ev)
	default:
		return Skip, nil
	}
	if err != nil || res == Skip {
		*ev = Event{}
		return Skip, err
	}
	if !have {
		if t, prec, have = p.convert(memo, line, hostStart, &stm, ref); !have {
			*ev = Event{}
			return Skip, &SyntaxError{Pos: 0, Msg: "timestamp: no such date (day " +
				strconv.Itoa(stm.day) + " of " + stm.month.String() + ")"}
		}
	}
	ev.Time = t
	ev.Precision = prec
	ev.Host = host
	ev.Daemon = ident
	return res, nil
}

// convert converts the scanned stamp stm, line's first n bytes, with ref
// and remembers the result in memo (nil: none); ok is false when the date
// does not exist.
func (p *Parser) convert(memo *stampMemo, line string, n int, stm *stamp, ref time.Time) (t time.Time, prec time.Duration, ok bool) {
	if t, ok = p.time(stm, ref); ok {
		p.remember(memo, line, n, stm, ref, t)
	}
	return t, stm.precision, ok
}

// remember stores in memo (nil: none) the time t that line's stamp, the
// first n bytes of line, converted to with ref. A stamp longer than the
// memo's buffer is not kept, nor one shorter than 16 bytes (an unpadded
// classic day, short-unix without a fraction): scanStamp refuses every
// line shorter than 16 bytes, so such a stamp does not decide alone
// whether a line that starts with it has a timestamp.
func (p *Parser) remember(memo *stampMemo, line string, n int, stm *stamp, ref time.Time, t time.Time) {
	if memo == nil || n > maxStampLen || n < minLine {
		return
	}
	memo.p, memo.n = p, copy(memo.buf[:], line[:n])
	memo.anyRef = stm.kind != stampClassic || p.year != 0
	memo.ref, memo.t, memo.prec = ref, t, stm.precision
	memo.dayOK = false
	if stm.kind != stampClassic || n != 16 {
		return
	}
	y := p.year
	if y == 0 {
		// The year is inferred (Parser.time): the first candidate year
		// is taken for every clock of the date when the date exists in
		// it and even its last second, in the zone furthest west (UTC-12;
		// 15h leave room for historical offsets), is before ref+24h.
		y = p.firstYear(stm.month, stm.day, ref.Unix())
		if stm.day > daysIn(stm.month, y) {
			return
		}
	}
	day := daysFromCivil(y, stm.month, stm.day) * 86400
	if p.year == 0 && day+86400+15*3600 > ref.Unix()+86400 {
		return
	}
	memo.dayLocal = day
	memo.dayWord = load8(line, 0) & dayMask
	memo.dayOK = true
}

// dayMask keeps the first 7 bytes of a load8 word.
const dayMask = 1<<56 - 1

// sameDay converts line's stamp from memo when it is a classic stamp of
// memo's date (its first 7 bytes, "Mmm dd ", equal memo's) with another
// clock and memo.dayOK is set; the caller has checked that memo was made
// by p with the reference time at hand (or does not depend on it). It
// then stores the stamp and its time in memo and
// reports true. The time is Parser.time's: the date, so the year, is
// memo's, and the instant is computed as localTime computes it in the zone
// period it has cached; outside that period it reports false, and the
// stamp is converted as usual.
func (p *Parser) sameDay(memo *stampMemo, line string) bool {
	if len(line) < 16 || line[15] != ' ' || load8(line, 0)&dayMask != memo.dayWord {
		return false
	}
	// A clock that clock's word path does not take (clockBytes would
	// reject it too) is left to scanStamp.
	h, m, sec, ok := clockWord(line, 7)
	if !ok {
		return false
	}
	utc, ok := p.cachedUTC(memo.dayLocal + int64(h*3600+m*60+sec))
	if !ok {
		return false
	}
	copy(memo.buf[7:16], line[7:16])
	memo.t = time.Unix(utc, 0).In(p.loc)
	return true
}

// otherService reports whether a message msg tagged with an identifier
// that contains "pop3" (or not) cannot be a session end of svc (see
// State.Service): the identifier names the other service and msg lacks
// the field that would override it. parseFieldList and
// fastSuffix decide a session's service by headers= (IMAP) or top= (POP3)
// and else by whether the identifier contains "pop3"; a field needs its
// "name=" in the message. Repeat markers are left to parseMessage (they
// are counted as markers whatever they repeat).
func otherService(svc Service, pop3 bool, msg string) bool {
	// The first byte first: a Courier message starts with its keyword, so
	// the two prefix compares (calls) are skipped on almost every line.
	if len(msg) > 0 && (msg[0] == msgRepeated[0] || msg[0] == lastRepeated[0]) &&
		(strings.HasPrefix(msg, msgRepeated) || strings.HasPrefix(msg, lastRepeated)) {
		return false
	}
	switch svc {
	case IMAP:
		return pop3 && !strings.Contains(msg, "headers=")
	case POP3:
		return !pop3 && !strings.Contains(msg, "top=")
	}
	return false
}

// scanTag scans a syslog tag "ident:" or "ident[pid]:" at line[i:] followed
// by a space or the end of the line. It returns the identifier and the index
// of the message (after the space).
func scanTag(line string, i int) (ident string, msg int, ok bool) {
	j := tagEnd(line, i)
	if j == i || j >= len(line) {
		return "", 0, false
	}
	ident = line[i:j]
	if line[j] == '[' {
		k := j + 1
		for k < len(line) && isDigit(line[k]) {
			k++
		}
		if k == j+1 || k >= len(line) || line[k] != ']' {
			return "", 0, false
		}
		j = k + 1
		if j >= len(line) {
			return "", 0, false
		}
	}
	if line[j] != ':' {
		return "", 0, false
	}
	j++
	if j == len(line) {
		return ident, j, true
	}
	if line[j] != ' ' {
		return "", 0, false
	}
	return ident, j + 1, true
}

// ParseMessage parses the parts of a structured record (Fluent Bit's syslog
// and systemd inputs): the identifier (a "[pid]" suffix is stripped), the
// host, the record time t with its precision (0 means time.Second) and the
// message text. The identifier must be configured, else the result is Skip.
// Results and the aliasing of ev's strings (to ident, host and msg) are as
// for ParseLine; ev.Time is t as given.
func (p *Parser) ParseMessage(ident, host string, t time.Time, prec time.Duration, msg string, ev *Event) (Result, error) {
	*ev = Event{}
	if k := strings.IndexByte(ident, '['); k >= 0 {
		ident = ident[:k]
	}
	k := p.identIndex(ident)
	if k < 0 {
		return Skip, nil
	}
	msg = trimEOL(msg)
	res, err := p.parseMessage(msg, 0, p.pop3[k], ev, true, 0)
	if err != nil || res == Skip {
		*ev = Event{}
		return Skip, err
	}
	if prec <= 0 {
		prec = time.Second
	}
	ev.Time = t
	ev.Precision = prec
	ev.Host = host
	ev.Daemon = ident
	return res, nil
}
