package parser

import (
	"math"
	"strings"
)

const (
	msgRepeated  = "message repeated "
	lastRepeated = "last message repeated "
	repeatedMid  = " times: ["
	repeatedEnd  = " times"
	infoPrefix   = "INFO: "
	shutdownKw   = "NOTICE: Disconnected during shutdown by signal"
)

// isTruncLen reports whether a message of n bytes may have been cut by a
// length limit: courierlogger logs at most 511 bytes (505 once "INFO: " is
// stripped), courier_safe_printf 1023, rsyslog's repeat marker 800.
func isTruncLen(n int) bool {
	return n == 505 || n == 511 || n == 800 || n == 1023
}

// field bits, for duplicate detection and pairing.
const (
	fPort uint16 = 1 << iota
	fHeaders
	fBody
	fTop
	fRetr
	fRcvd
	fSent
	fTime
	fTLS
)

// parseMessage parses a syslog message (the text after "tag: ") into ev.
// base is the offset of msg in the caller's input, for error positions.
// daemon is the identifier, used for the service of pre-login lines.
// outer allows repeat markers (they do not nest). extraTrunc is one more
// message length that counts as possibly truncated (the rsyslog repeat
// marker cuts its inner text, which includes a leading space, at 800).
func (p *Parser) parseMessage(msg string, base int, daemon string, ev *Event, outer bool, extraTrunc int) (Result, error) {
	full := len(msg)
	if len(msg) == 0 {
		return Skip, nil
	}
	if outer {
		switch msg[0] {
		case 'm':
			if strings.HasPrefix(msg, msgRepeated) {
				return p.repeatedMarker(msg, base, daemon, ev)
			}
		case 'l':
			if strings.HasPrefix(msg, lastRepeated) {
				return lastRepeatedMarker(msg, ev)
			}
		}
	}
	i := 0
	if strings.HasPrefix(msg, infoPrefix) {
		i = len(infoPrefix)
		for i < len(msg) && msg[i] == ' ' {
			i++
		}
	}
	// Plesk's courier fork puts an epoch stamp ("1257871619.663804 ")
	// before the keyword.
	if i < len(msg) && isDigit(msg[i]) {
		j := i
		for j < len(msg) && isDigit(msg[j]) {
			j++
		}
		if j < len(msg) && msg[j] == '.' {
			j++
			for j < len(msg) && isDigit(msg[j]) {
				j++
			}
		}
		if j >= len(msg) || msg[j] != ' ' {
			return Skip, nil
		}
		i = j + 1
	}
	comma := indexShort(msg[i:], ',')
	if comma <= 0 {
		return Skip, nil
	}
	kwEnd := i + comma
	keyword := msg[i:kwEnd]
	kind, skip := classify(keyword)
	if skip {
		return Skip, nil
	}
	res, pos, msgErr := p.parseFields(msg, kwEnd, daemon, ev, full, extraTrunc)
	if msgErr != "" {
		if kind == Other {
			// An unknown keyword only counts when it is followed by a
			// valid Courier field suffix; anything else is another line.
			return Skip, nil
		}
		return Skip, &SyntaxError{Pos: base + pos, Msg: msgErr}
	}
	if res == Traffic {
		ev.Kind = kind
		ev.Keyword = keyword
	}
	return res, nil
}

// classify maps a leading keyword to its Kind; skip is true for keywords
// of lines without traffic (LOGIN, Connection, ...) and for text that
// cannot be a keyword. It dispatches on length and first byte because a
// string switch compiles to a binary search with a runtime string
// comparison per step, several times slower on this hot path.
func classify(kw string) (kind Kind, skip bool) {
	switch len(kw) {
	case 2:
		if kw == "ID" {
			return 0, true
		}
	case 4:
		if kw == "disc" {
			return End, false
		}
	case 5:
		if kw == "LOGIN" {
			return 0, true
		}
	case 6:
		switch kw {
		case "LOGOUT":
			return Logout, false
		case "LOCKED":
			return 0, true
		}
	case 7:
		switch kw {
		case "TIMEOUT":
			return Timeout, false
		case "DELETED":
			return 0, true
		}
	case 8:
		if kw == "EXPUNGED" {
			return 0, true
		}
	case 10:
		if kw == "Connection" {
			return 0, true
		}
	case 12:
		switch kw {
		case "DISCONNECTED":
			return Disconnected, false
		case "LOGIN FAILED", "Disconnected":
			return 0, true
		}
	case len("I/O error disconnect"):
		if kw == "I/O error disconnect" {
			return IOError, false
		}
	case len(shutdownKw):
		if kw == shutdownKw {
			return Shutdown, false
		}
	}
	if !isKeyword(kw) {
		return 0, true
	}
	return Other, false
}

// isKeyword reports whether s can be an unknown future session-end keyword:
// a letter, then letters, spaces and '/'.
func isKeyword(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && c != ' ' && c != '/' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return (c|0x20)-'a' < 26 }

// lastIP returns the index of the rightmost ", ip=[" in s at or after from,
// or -1. It is the slow path of parseFields; see there.
func lastIP(s string, from int) int {
	for i := len(s) - 1; i >= from+5; i-- {
		if s[i] == '[' && s[i-1] == '=' && s[i-2] == 'p' && s[i-3] == 'i' && s[i-4] == ' ' && s[i-5] == ',' {
			return i - 5
		}
	}
	return -1
}

const ipKey = ", ip=["

// parseFields parses ", user=U, ip=[IP], key=value, ..." starting at
// msg[k] (the comma after the keyword). On failure it returns a non-empty
// message and the position it refers to; the error value is built by the
// caller so that an unknown keyword can be skipped without allocating.
//
// User names are logged unescaped, so the user is everything up to the
// RIGHTMOST ", ip=[": the suffix after it is machine-generated. Finding
// the rightmost one costs a scan of the whole line, so the fast path splits
// at the first one and parses forward; parseSuffix reports when the rest
// contains another ", ip=[" (or fails), and only then is the line parsed
// again at the rightmost split. Both paths give the same result.
func (p *Parser) parseFields(msg string, k int, daemon string, ev *Event, full, extraTrunc int) (Result, int, string) {
	ip := strings.Index(msg[k:], ipKey)
	if ip < 0 {
		return Skip, k, "missing ip=[...] field"
	}
	ip += k
	res, pos, why, again := p.parseSuffix(msg, k, ip, daemon, ev, full, extraTrunc)
	if again || why != "" {
		if last := lastIP(msg, ip+1); last > ip {
			*ev = Event{}
			res, pos, why, _ = p.parseSuffix(msg, k, last, daemon, ev, full, extraTrunc)
		}
	}
	return res, pos, why
}

// bracketed returns the index of the first ']' in s, -1 if there is none,
// or -2 if a '[' comes first (no IP or port contains one).
func bracketed(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ']':
			return i
		case '[':
			return -2
		}
	}
	return -1
}

// parseSuffix parses the fields of msg with the user ending at msg[ip]
// (", ip=["). again reports that another ", ip=[" follows, so that ip was
// not the rightmost split.
func (p *Parser) parseSuffix(msg string, k, ip int, daemon string, ev *Event, full, extraTrunc int) (res Result, pos int, why string, again bool) {
	if ip != k {
		const userKey = ", user="
		if !strings.HasPrefix(msg[k:], userKey) {
			return Skip, k, "expected user= or ip= after the keyword", false
		}
		ev.User = msg[k+len(userKey) : ip]
	}
	j := ip + len(ipKey)
	end := bracketed(msg[j:])
	switch {
	case end == -1:
		return Skip, j, "ip: missing ]", false
	case end == -2:
		// Cannot come from Courier; the split may be wrong.
		return Skip, j, "ip: unexpected [", true
	}
	ev.IP = msg[j : j+end]
	j += end + 1

	var seen uint16
	var last uint16
	for j < len(msg) {
		// Fast path: the byte after ", " selects the one known field it
		// can be, and a constant prefix compare (inlined) confirms it.
		if j+2 < len(msg) {
			var bit uint16
			var dst *int64
			var kl int
			rest := msg[j:]
			switch msg[j+2] {
			case 'h':
				if strings.HasPrefix(rest, ", headers=") {
					bit, dst, kl = fHeaders, &ev.Headers, len(", headers=")
				}
			case 'b':
				if strings.HasPrefix(rest, ", body=") {
					bit, dst, kl = fBody, &ev.Body, len(", body=")
				}
			case 'r':
				if strings.HasPrefix(rest, ", rcvd=") {
					bit, dst, kl = fRcvd, &ev.Rcvd, len(", rcvd=")
				} else if strings.HasPrefix(rest, ", retr=") {
					bit, dst, kl = fRetr, &ev.Retr, len(", retr=")
				}
			case 's':
				if strings.HasPrefix(rest, ", sent=") {
					bit, dst, kl = fSent, &ev.Sent, len(", sent=")
				} else if strings.HasPrefix(rest, ", starttls=") {
					bit, kl = fTLS, len(", starttls=")
				} else if strings.HasPrefix(rest, ", stls=") {
					bit, kl = fTLS, len(", stls=")
				}
			case 't':
				if strings.HasPrefix(rest, ", time=") {
					bit, dst, kl = fTime, &ev.Duration, len(", time=")
				} else if strings.HasPrefix(rest, ", top=") {
					bit, dst, kl = fTop, &ev.Top, len(", top=")
				}
			}
			if bit != 0 && seen&bit == 0 {
				seen |= bit
				last = bit
				n, e, why := counter(msg, j+kl)
				if why != "" {
					return Skip, j + kl, rest[2:kl-1] + ": " + why, false
				}
				j = e
				if dst != nil {
					*dst = n
				} else {
					ev.TLS = n != 0
				}
				continue
			}
		}
		// General path: port, unknown fields, duplicates and errors.
		if j+1 >= len(msg) || msg[j] != ',' || msg[j+1] != ' ' {
			return Skip, j, "expected \", \" before the next field", false
		}
		j += 2
		ks := j
		for j < len(msg) && keyChar[msg[j]] {
			j++
		}
		if j < len(msg) && msg[j] != '=' {
			return Skip, j, "field name " + quoteKey(msg[ks:j+1]) + " without =: line cut short?", false
		}
		if j >= len(msg) || j == ks {
			return Skip, ks, "field without name=value: line cut short?", false
		}
		key := msg[ks:j]
		j++ // '='
		var bit uint16
		var dst *int64
		// Dispatch on length and first byte, then compare against the
		// constant (inlined); see classify for why not a string switch.
		switch len(key) {
		case 2:
			if key == "ip" {
				// Only another ", ip=[" can put ip here: not the rightmost.
				return Skip, ks, "duplicate field ip", j < len(msg) && msg[j] == '['
			}
		case 3:
			if key == "top" {
				bit, dst = fTop, &ev.Top
			}
		case 4:
			switch key[0] {
			case 'p':
				if key == "port" {
					if seen&fPort != 0 {
						return Skip, ks, "duplicate field port", false
					}
					seen |= fPort
					last = fPort
					if j >= len(msg) || msg[j] != '[' {
						return Skip, j, "port: expected [", false
					}
					e := bracketed(msg[j+1:])
					switch {
					case e == -1:
						return Skip, j, "port: missing ]", false
					case e == -2:
						// Cannot come from Courier; the split may be wrong.
						return Skip, j, "port: unexpected [", true
					}
					ev.Port = msg[j+1 : j+1+e]
					j += e + 2
					continue
				}
			case 'b':
				if key == "body" {
					bit, dst = fBody, &ev.Body
				}
			case 'r':
				if key == "rcvd" {
					bit, dst = fRcvd, &ev.Rcvd
				} else if key == "retr" {
					bit, dst = fRetr, &ev.Retr
				}
			case 's':
				if key == "sent" {
					bit, dst = fSent, &ev.Sent
				} else if key == "stls" {
					bit = fTLS
				}
			case 't':
				if key == "time" {
					bit, dst = fTime, &ev.Duration
				}
			}
		case 7:
			if key == "headers" {
				bit, dst = fHeaders, &ev.Headers
			}
		case 8:
			if key == "starttls" {
				bit = fTLS
			}
		}
		if bit == 0 {
			// Unknown fields (Plesk's maildir=...) are ignored; their value
			// runs to the next ", name=".
			var amb bool
			j, amb = nextField(msg, j)
			if amb {
				return Skip, j, "unexpected ip=[ in a field value", true
			}
			last = 0
			continue
		}
		if seen&bit != 0 {
			return Skip, ks, "duplicate field " + key, false
		}
		seen |= bit
		last = bit
		n, e, why := counter(msg, j)
		if why != "" {
			return Skip, j, key + ": " + why, false
		}
		j = e
		if dst != nil {
			*dst = n
		} else {
			ev.TLS = n != 0
		}
	}

	if isTruncLen(full) || (extraTrunc != 0 && full == extraTrunc) {
		if last != fTLS {
			return Skip, full, "message length is a logger limit and the TLS flag is not last: possibly truncated", false
		}
	}
	if (seen&fRcvd != 0) != (seen&fSent != 0) {
		return Skip, len(msg), "rcvd and sent must come together: line cut short?", false
	}
	if (seen&fHeaders != 0) != (seen&fBody != 0) {
		return Skip, len(msg), "headers and body must come together: line cut short?", false
	}
	if (seen&fTop != 0) != (seen&fRetr != 0) {
		return Skip, len(msg), "top and retr must come together: line cut short?", false
	}
	imap, pop3 := seen&fHeaders != 0, seen&fTop != 0
	if imap && pop3 {
		return Skip, len(msg), "both headers/body (IMAP) and top/retr (POP3)", false
	}
	if !imap && !pop3 && seen&fRcvd == 0 {
		// A session end without counters (POP3 pre-login LOGOUT, the
		// unauthenticated shutdown notice) carries no traffic.
		return Skip, 0, "", false
	}
	var has uint8
	if seen&fPort != 0 {
		has |= HasPort
	}
	if seen&fRcvd != 0 {
		has |= HasBytes
	}
	if seen&fTime != 0 {
		has |= HasTime
	}
	switch {
	case imap:
		has |= HasContent
		ev.Service = IMAP
	case pop3:
		has |= HasContent
		ev.Service = POP3
	case strings.Contains(daemon, "pop3"):
		ev.Service = POP3
	default:
		ev.Service = IMAP
	}
	ev.Has = has
	return Traffic, 0, "", false
}

func isKeyChar(c byte) bool { return keyChar[c] }

// keyChar marks the bytes of a field name: letters, digits, '_' and '-'.
var keyChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[c] = isLetter(b) || isDigit(b) || b == '_' || b == '-'
	}
	return t
}()

// quoteKey renders a (possibly hostile) field-name fragment for an error
// message: short and printable.
func quoteKey(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			c = '?'
		}
		b = append(b, c)
	}
	return string(append(b, '"'))
}

// nextField returns the index of the next ", name=" at or after j, or
// len(s), and whether one of the ", name=" boundaries it passed (or stopped
// at) is ", ip=[" (see parseFields).
func nextField(s string, j int) (int, bool) {
	for {
		c := strings.Index(s[j:], ", ")
		if c < 0 {
			return len(s), false
		}
		j += c
		k := j + 2
		for k < len(s) && keyChar[s[k]] {
			k++
		}
		if k > j+2 && k < len(s) && s[k] == '=' {
			return j, strings.HasPrefix(s[j:], ipKey)
		}
		j += 2
	}
}

// counter parses a non-negative decimal int64 at s[i:] that ends at ","
// or the end of s. It returns the value, the index after it, and a reason
// when it is not a valid counter: a wrong number must never get through.
func counter(s string, i int) (int64, int, string) {
	t := s[i:]
	if len(t) > 19 {
		t = t[:19]
	}
	var n uint64
	k := 0
	for ; k < len(t); k++ {
		c := t[k] - '0'
		if c > 9 {
			break
		}
		n = n*10 + uint64(c)
	}
	if k == 19 {
		// 18 digits always fit; longer numbers take the checked path.
		return counterLong(s, i)
	}
	j := i + k
	if j < len(s) && s[j] != ',' {
		if s[j] == '-' && k == 0 {
			return 0, j, "negative value"
		}
		return 0, j, "not a decimal number"
	}
	if k == 0 {
		return 0, j, "empty value"
	}
	return int64(n), j, ""
}

// counterLong is counter with an overflow check on every digit.
func counterLong(s string, i int) (int64, int, string) {
	var n int64
	j := i
	for ; j < len(s) && s[j] != ','; j++ {
		d := int64(s[j] - '0')
		if s[j]-'0' > 9 {
			return 0, j, "not a decimal number"
		}
		if n > (math.MaxInt64-d)/10 {
			return 0, j, "value overflows int64"
		}
		n = n*10 + d
	}
	return n, j, ""
}

// repeatedMarker parses rsyslog's "message repeated N times: [ msg]".
// rsyslog writes the inner message with its leading space and cuts it at
// 800 bytes (`[%.800s]`).
func (p *Parser) repeatedMarker(msg string, base int, daemon string, ev *Event) (Result, error) {
	i := len(msgRepeated)
	n, j, ok := repeatCount(msg, i)
	if !ok || !strings.HasPrefix(msg[j:], repeatedMid) {
		return Skip, nil
	}
	j += len(repeatedMid)
	inner := msg[j:]
	closed := strings.HasSuffix(inner, "]")
	if closed {
		inner = inner[:len(inner)-1]
	}
	extra := 0
	if len(inner) > 0 && inner[0] == ' ' {
		inner = inner[1:]
		j++
		extra = 799 // 800 including the space
	}
	res, err := p.parseMessage(inner, base+j, daemon, ev, false, extra)
	if err != nil {
		return Skip, err
	}
	if res != Traffic {
		return Skip, nil
	}
	if !closed {
		return Skip, &SyntaxError{Pos: base + len(msg), Msg: "repeat marker without closing ]: possibly truncated"}
	}
	ev.Repeats = n
	return Repeat, nil
}

// lastRepeatedMarker parses "last message repeated N times" (sysklogd and
// old rsyslog). The marker carries no message: Service stays 0.
func lastRepeatedMarker(msg string, ev *Event) (Result, error) {
	n, j, ok := repeatCount(msg, len(lastRepeated))
	if !ok || msg[j:] != repeatedEnd {
		return Skip, nil
	}
	ev.Repeats = n
	return Repeat, nil
}

// repeatCount parses the decimal N of a repeat marker at s[i:].
func repeatCount(s string, i int) (int, int, bool) {
	n, j := 0, i
	for j < len(s) && isDigit(s[j]) {
		if n > (math.MaxInt32-9)/10 {
			return 0, j, false
		}
		n = n*10 + int(s[j]-'0')
		j++
	}
	return n, j, j > i
}
