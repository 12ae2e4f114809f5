package parser

import (
	"math"
	"math/bits"
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
// pop3 says that the identifier contains "pop3" (Parser.pop3): the service
// of a session without content fields.
// outer allows repeat markers (they do not nest). extraTrunc is one more
// message length that counts as possibly truncated (the rsyslog repeat
// marker cuts its inner text, which includes a leading space, at 800).
func (p *Parser) parseMessage(msg string, base int, pop3 bool, ev *Event, outer bool, extraTrunc int) (Result, error) {
	full := len(msg)
	if len(msg) == 0 {
		return Skip, nil
	}
	if outer {
		switch msg[0] {
		case 'm':
			if strings.HasPrefix(msg, msgRepeated) {
				return p.repeatedMarker(msg, base, pop3, ev)
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
	res, pos, msgErr := p.parseFields(msg, kwEnd, pop3, ev, full, extraTrunc)
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

// indexIPKey returns the index of the first ", ip=[" in s at or after k, or
// -1: strings.Index(s[k:], ipKey)+k without its set-up. It visits the '['
// bytes in order (users rarely contain one) and checks the 5 bytes before.
func indexIPKey(s string, k int) int {
	for i := k + len(ipKey) - 1; ; i++ {
		if i = indexByteFrom(s, i, '['); i < 0 {
			return -1
		}
		if s[i-5:i] == ", ip=" {
			return i - 5
		}
	}
}

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
func (p *Parser) parseFields(msg string, k int, pop3 bool, ev *Event, full, extraTrunc int) (Result, int, string) {
	ip := indexIPKey(msg, k)
	if ip < 0 {
		return Skip, k, "missing ip=[...] field"
	}
	res, pos, why, again := p.parseSuffix(msg, k, ip, pop3, ev, full, extraTrunc)
	if again || why != "" {
		if last := lastIP(msg, ip+1); last > ip {
			*ev = Event{}
			res, pos, why, _ = p.parseSuffix(msg, k, last, pop3, ev, full, extraTrunc)
		}
	}
	return res, pos, why
}

// parseSuffix parses the fields of msg with the user ending at msg[ip]
// (", ip=["). again reports that another ", ip=[" follows, so that ip was
// not the rightmost split. The fields after the IP take fastSuffix when
// they have one of Courier's complete layouts, parseFieldList otherwise.
func (p *Parser) parseSuffix(msg string, k, ip int, pop3 bool, ev *Event, full, extraTrunc int) (res Result, pos int, why string, again bool) {
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
	if fastSuffix(msg, j, pop3, ev, full, extraTrunc) {
		return Traffic, 0, "", false
	}
	return parseFieldList(msg, j, pop3, ev, full, extraTrunc)
}

// fastSuffix is the fast path of parseSuffix for the complete layouts
// Courier writes (docs/courier-log-formats.md, The session-end lines): the fields
// after "ip=[IP]" at msg[j:] are an optional port, then exactly the
// counters of one layout of suffixLayouts in their order, up to the end of
// msg:
//
//	[, port=[P]], headers=H, body=B, rcvd=X, sent=Y, time=S[, starttls=F]   (IMAP, 4.1.0 on)
//	[, port=[P]], top=T, retr=R, rcvd=X, sent=Y, time=S[, stls=F]           (POP3, 4.1.0 on)
//	[, port=[P]], rcvd=X, sent=Y                                            (IMAP pre-login LOGOUT)
//
// For such a suffix it fills ev as parseFieldList would (Port, the
// counters, TLS, Has, Service) and reports true. Anything else (another
// era, order or field, a port of more than 7 bytes, a counter that
// counter rejects, a message whose length is a logger limit) returns
// false, for parseFieldList; ev is then untouched. Every byte of an
// accepted suffix belongs to a key, a counter or a port without '[', so
// it contains no other ", ip=[": the split at the first one was the
// rightmost.
//
// It makes the fields about 15% cheaper than parseFieldList does:
// each field is checked against the one key the layout expects next (no
// lookup, no duplicate or pairing bookkeeping, no per-field result
// checks), and the counters are read by a leaf loop (layoutCounters).
func fastSuffix(msg string, j int, pop3 bool, ev *Event, full, extraTrunc int) bool {
	if isTruncLen(full) || (extraTrunc != 0 && full == extraTrunc) {
		return false // parseFieldList checks where the TLS flag is
	}
	var port string
	var has uint8
	if hasKey(msg, j, ", port=[") {
		// Ports are short ("54915", "N/A"): the ']' must be in the next
		// word, with no '[' before it (as bracketed would find it).
		v := j + len(", port=[")
		if v+8 > len(msg) {
			return false
		}
		w := load8(msg, v)
		m := eqMask(w, ']') | eqMask(w, '[')
		if m == 0 {
			return false
		}
		e := v + firstByte(m)
		if msg[e] != ']' {
			return false
		}
		port, j, has = msg[v:e], e+1, HasPort
	}
	var layout []fieldKey
	switch {
	case hasKey(msg, j, ", header"):
		layout, has = suffixLayouts.imap[:], has|HasContent|HasBytes|HasTime
	case hasKey(msg, j, ", top="):
		layout, has = suffixLayouts.pop3[:], has|HasContent|HasBytes|HasTime
	case hasKey(msg, j, ", rcvd="):
		layout, has = suffixLayouts.bytes[:], has|HasBytes
	default:
		return false
	}
	var vals [8]int64 // as in parseFieldList
	for i := 0; ; i++ {
		if j, i = layoutCounters(msg, j, layout, i, &vals); i == len(layout) {
			break
		}
		// layoutCounters stopped at field i: the optional TLS flag is
		// absent, or the field needs counter (or is not there).
		fk := &layout[i]
		if fk.bit == fTLS && j == len(msg) {
			break
		}
		if !fk.at(msg, j) {
			return false
		}
		n, e, why := counter(msg, j+fk.kl)
		if why != "" {
			return false
		}
		vals[valSlot(fk.bit)], j = n, e
	}
	if j != len(msg) {
		return false
	}
	switch {
	case layout[0].bit == fHeaders:
		ev.Service = IMAP
	case layout[0].bit == fTop, pop3:
		ev.Service = POP3
	default:
		ev.Service = IMAP
	}
	ev.Port = port
	ev.Has = has
	setCounters(ev, &vals)
	return true
}

// layoutCounters parses the fields layout[i:] at msg[j:] while each has
// its key and a counter of 1-7 digits followed by ',' or the end of msg,
// read as one word (swar.go); values go to vals as in parseFieldList. It
// returns the index after the last counter read and the index in layout
// of the next field (len(layout) when all are read).
//
// It is a leaf function, like fastFields, so that its loop state stays in
// registers: fastSuffix handles the field it stops at.
func layoutCounters(msg string, j int, layout []fieldKey, i int, vals *[8]int64) (int, int) {
	// j is checked as "j >= 0 && j <= len(msg)-8", a form the compiler
	// uses to drop load8's own checks; shift counts are masked with 63 so
	// that no oversized-shift code is emitted (they are 8..56 here).
	for ; i < len(layout); i++ {
		fk := &layout[i]
		if j < 0 || j > len(msg)-8 || load8(msg, j)&fk.mask != fk.word {
			return j, i
		}
		v := j + fk.kl
		if fk.kl > 8 && (v > len(msg) || load8(msg, v-8) != fk.tail) {
			return j, i
		}
		var t uint64
		switch {
		case v <= len(msg)-8:
			t = load8(msg, v) ^ 0x3030303030303030
		case v < len(msg):
			// The last field: the word that ends msg (j+8 <= len(msg)),
			// shifted so that msg[v] is its lowest byte. The zero bytes
			// shifted in (0x30 after the XOR) are non-digits that stand
			// for the end of msg.
			t = load8(msg, len(msg)-8)>>((v+8-len(msg))*8&63) ^ 0x3030303030303030
		default:
			return j, i
		}
		d := digitRun(t)
		if uint(d-1) >= 7 || (v+d < len(msg) && byte(t>>(d*8&63)) != ','^0x30) {
			return j, i // no digit, 8 or more, or not followed by ',' or the end
		}
		vals[fk.slot&7] = int64(swar8(t << ((64 - d*8) & 63)))
		j = v + d
	}
	return j, i
}

// at reports whether msg[j:] starts with the key of fk.
func (fk *fieldKey) at(msg string, j int) bool { return hasKey(msg, j, fk.key) }

// suffixLayouts are the counter sequences fastSuffix accepts; a TLS flag
// at the end of a layout is optional.
var suffixLayouts = struct {
	imap  [6]fieldKey
	pop3  [6]fieldKey
	bytes [2]fieldKey
}{
	imap: [6]fieldKey{
		makeFieldKey(", headers=", fHeaders), makeFieldKey(", body=", fBody),
		makeFieldKey(", rcvd=", fRcvd), makeFieldKey(", sent=", fSent),
		makeFieldKey(", time=", fTime), makeFieldKey(", starttls=", fTLS),
	},
	pop3: [6]fieldKey{
		makeFieldKey(", top=", fTop), makeFieldKey(", retr=", fRetr),
		makeFieldKey(", rcvd=", fRcvd), makeFieldKey(", sent=", fSent),
		makeFieldKey(", time=", fTime), makeFieldKey(", stls=", fTLS),
	},
	bytes: [2]fieldKey{makeFieldKey(", rcvd=", fRcvd), makeFieldKey(", sent=", fSent)},
}

// hasKey reports whether s[j:] starts with key (j <= len(s)); for a
// constant key of at most 8 bytes the comparison compiles to one word
// compare.
func hasKey(s string, j int, key string) bool {
	return len(s)-j >= len(key) && s[j:j+len(key)] == key
}

// parseFieldList parses the fields after "ip=[IP]" at msg[j:], in any
// order, and checks them (the general path of parseSuffix; its results
// are parseSuffix's).
func parseFieldList(msg string, j int, pop3Daemon bool, ev *Event, full, extraTrunc int) (res Result, pos int, why string, again bool) {
	// Counters go to vals (index valSlot(bit)) and into ev at the end:
	// one store per field instead of a pointer chosen per field. Results
	// other than Traffic make the caller discard ev anyway.
	var vals [8]int64
	var seen uint16
	var last uint16
	for j < len(msg) {
		// Fast path (fastFields): the common fields, until one it does
		// not handle; the general path below takes that one.
		if j, seen, last = fastFields(msg, j, ev, &vals, seen, last); j >= len(msg) {
			break
		}
		// General path: the key is read up to '=' and dispatched on its
		// length and first byte, then compared against the constant
		// (inlined); see classify for why not a string switch.
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
		switch len(key) {
		case 2:
			if key == "ip" {
				// Only another ", ip=[" can put ip here: not the rightmost.
				return Skip, ks, "duplicate field ip", j < len(msg) && msg[j] == '['
			}
		case 3:
			if key == "top" {
				bit = fTop
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
					bit = fBody
				}
			case 'r':
				if key == "rcvd" {
					bit = fRcvd
				} else if key == "retr" {
					bit = fRetr
				}
			case 's':
				if key == "sent" {
					bit = fSent
				} else if key == "stls" {
					bit = fTLS
				}
			case 't':
				if key == "time" {
					bit = fTime
				}
			}
		case 7:
			if key == "headers" {
				bit = fHeaders
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
		vals[valSlot(bit)] = n
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
	case pop3Daemon:
		ev.Service = POP3
	default:
		ev.Service = IMAP
	}
	ev.Has = has
	setCounters(ev, &vals)
	return Traffic, 0, "", false
}

// setCounters stores the counters parsed into vals (index valSlot(bit))
// into ev: one store per field at the end instead of a pointer chosen per
// field while parsing.
func setCounters(ev *Event, vals *[8]int64) {
	ev.Headers, ev.Body = vals[valSlot(fHeaders)], vals[valSlot(fBody)]
	ev.Top, ev.Retr = vals[valSlot(fTop)], vals[valSlot(fRetr)]
	ev.Rcvd, ev.Sent = vals[valSlot(fRcvd)], vals[valSlot(fSent)]
	ev.Duration = vals[valSlot(fTime)]
	ev.TLS = vals[valSlot(fTLS)] != 0
}

// valSlot is the index in parseSuffix's vals of the counter with field
// bit b (fHeaders .. fTLS).
func valSlot(b uint16) int { return bits.TrailingZeros16(b) - 1 }

// fastFields is the fast path of parseFieldList: it parses the fields at
// msg[j:] while they are known counters (or port=[...]) seen for the first
// time with a plain value: 1-7 digits followed by ',' or the end of msg (a
// port: up to the ']'). It stops, returning the index of the field it did
// not take, at anything else (an unknown or duplicate field, a longer or
// invalid value, the end), for the general path, which gives the same
// results for everything fastFields takes. Values go to vals as in
// parseSuffix, the port to ev.Port.
//
// It is a separate leaf function so that its loop state stays in
// registers: the 8 bytes at a field are hashed to the one known ", key="
// they can start (fieldKeys), one or two word compares confirm it, and the
// value is read as one word (swar.go).
func fastFields(msg string, j int, ev *Event, vals *[8]int64, seen, last uint16) (int, uint16, uint16) {
	for j+8 <= len(msg) {
		w := load8(msg, j)
		fk := &fieldKeys[keySlot(w)]
		if w&fk.mask != fk.word || fk.bit&^seen == 0 {
			break
		}
		v := j + fk.kl
		if fk.kl > 8 && (v > len(msg) || load8(msg, v-8) != fk.tail) {
			break
		}
		if fk.bit == fPort {
			e := v
			for e < len(msg) && msg[e] != ']' && msg[e] != '[' {
				e++
			}
			if e == len(msg) || msg[e] != ']' {
				break
			}
			ev.Port = msg[v:e]
			j, seen, last = e+1, seen|fPort, fPort
			continue
		}
		var n uint64
		if v+8 <= len(msg) {
			t := load8(msg, v) ^ 0x3030303030303030
			d := digitRun(t)
			if d == 0 || d == 8 || byte(t>>(8*d)) != ','^0x30 {
				break
			}
			n, j = swar8(t<<(64-8*d)), v+d
		} else {
			// The last field of the line: at most 7 bytes remain.
			e := v
			for ; e < len(msg) && isDigit(msg[e]); e++ {
				n = n*10 + uint64(msg[e]-'0')
			}
			if e == v || (e < len(msg) && msg[e] != ',') {
				break
			}
			j = e
		}
		vals[valSlot(fk.bit)] = int64(n)
		seen, last = seen|fk.bit, fk.bit
	}
	return j, seen, last
}

// fieldKey is a known ", key=" for fastFields and suffixLayouts.
type fieldKey struct {
	word, mask uint64 // its first 8 bytes (fewer for short keys) as a word (load8), and their mask
	tail       uint64 // for keys longer than 8 bytes: their last 8 bytes as a word
	kl         int    // len(", key=")
	bit        uint16 // its field bit; 0 in unused slots, which never match
	slot       uint8  // valSlot(bit)
	key        string // ", key="
}

// keySlot hashes bytes 2-4 of a word (the first letters of a key) to a
// slot of fieldKeys. The multiplier was chosen so that the keys Courier
// writes fall in distinct slots (TestFieldKeys checks it).
func keySlot(w uint64) int { return int((w >> 16 & 0xffffff) * 0xc2ce6f447ed4d57b >> 60) }

var fieldKeys = func() (t [16]fieldKey) {
	for _, k := range []struct {
		key string
		bit uint16
	}{
		{", headers=", fHeaders}, {", body=", fBody}, {", top=", fTop}, {", retr=", fRetr},
		{", rcvd=", fRcvd}, {", sent=", fSent}, {", time=", fTime},
		{", starttls=", fTLS}, {", stls=", fTLS}, {", port=[", fPort},
	} {
		fk := makeFieldKey(k.key, k.bit)
		t[keySlot(fk.word)] = fk
	}
	return t
}()

// makeFieldKey returns the fieldKey of key (", name=") and its field bit.
func makeFieldKey(key string, bit uint16) fieldKey {
	var b [8]byte
	n := copy(b[:], key)
	fk := fieldKey{word: load8(string(b[:]), 0), mask: ^uint64(0) >> (64 - 8*n), kl: len(key), bit: bit, key: key}
	if bit != fPort {
		fk.slot = uint8(valSlot(bit))
	}
	if len(key) > 8 {
		fk.tail = load8(key, len(key)-8)
	}
	return fk
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
//
// Counters are most of a traffic line's bytes, and a byte loop pays a
// mispredicted branch at every number's end; so when 8 bytes are left the
// digits are found and converted 8 at a time (swar8). Numbers of 16 or more
// digits and the last bytes of a line take the byte loop (counterTail);
// both give the same results.
func counter(s string, i int) (int64, int, string) {
	if i+8 > len(s) {
		return counterTail(s, i)
	}
	t := load8(s, i) ^ 0x3030303030303030 // digits become 0..9
	k := digitRun(t)
	var n uint64
	switch {
	case k < 8:
		n = swar8(t << (64 - 8*k)) // k = 0 shifts everything out: n = 0
	case i+16 > len(s):
		return counterTail(s, i)
	default:
		t2 := load8(s, i+8) ^ 0x3030303030303030
		k2 := digitRun(t2)
		if k2 == 8 {
			return counterTail(s, i)
		}
		n = swar8(t)*pow10[k2] + swar8(t2<<(64-8*k2))
		k += k2
	}
	return counterEnd(s, i+k, k, n)
}

// counterEnd checks what follows the k digits of a counter that end at
// s[j] and builds counter's results.
func counterEnd(s string, j, k int, n uint64) (int64, int, string) {
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

// counterTail is counter one byte at a time.
func counterTail(s string, i int) (int64, int, string) {
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
	return counterEnd(s, i+k, k, n)
}

// pow10[k] is 10^k for the digit counts of the second word of counter.
var pow10 = [8]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000}

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
func (p *Parser) repeatedMarker(msg string, base int, pop3 bool, ev *Event) (Result, error) {
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
	res, err := p.parseMessage(inner, base+j, pop3, ev, false, extra)
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
