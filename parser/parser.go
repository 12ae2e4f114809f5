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
func (p *Parser) known(ident string) bool {
	if len(ident) < 64 && p.lens&(1<<len(ident)) == 0 {
		return false
	}
	for _, id := range p.idents {
		if len(id) == len(ident) && id == ident {
			return true
		}
	}
	return false
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
	*ev = Event{}
	line = trimEOL(line)
	var st stamp
	i := scanStamp(line, &st)
	if i == 0 {
		if isBlank(line) {
			return Skip, nil
		}
		return Skip, &SyntaxError{Pos: 0, Msg: "no syslog timestamp at the start of the line"}
	}
	// Host: one token. A first token that is itself a known "ident:" tag
	// means the writer left the host out.
	hostStart := i
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
		if !p.known(ident) {
			return Skip, nil
		}
		res, err = p.parseMessage(line[msgStart:], msgStart, ident, ev, true, 0)
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
	t, ok := p.time(&st, ref)
	if !ok {
		*ev = Event{}
		return Skip, &SyntaxError{Pos: 0, Msg: "timestamp: no such date (day " +
			strconv.Itoa(st.day) + " of " + st.month.String() + ")"}
	}
	ev.Time = t
	ev.Precision = st.precision
	ev.Host = host
	ev.Daemon = ident
	return res, nil
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
	if !p.known(ident) {
		return Skip, nil
	}
	msg = trimEOL(msg)
	res, err := p.parseMessage(msg, 0, ident, ev, true, 0)
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
