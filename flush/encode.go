package flush

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/parser"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Tag and field keys of the session schema (docs/design.md, Schema).
const (
	tagHost      = "host"
	tagService   = "service"
	tagUser      = "user"
	fieldRcvd    = "rcvd"
	fieldSent    = "sent"
	fieldHeaders = "headers"
	fieldBody    = "body"
	fieldTop     = "top"
	fieldRetr    = "retr"
	fieldDur     = "duration"
	fieldTLS     = "tls"
	fieldIP      = "ip"
	fieldPort    = "port"
	fieldEvent   = "event"
	fieldDaemon  = "daemon"
)

// Encoder appends session points in line protocol, through the
// line-protocol/v2 encoder (never string building). The zero value is not
// usable: use NewEncoder. An Encoder is used by one goroutine at a time.
// It keeps the encoded parts that repeat between points (see Append) in
// bounded caches: at most maxSeries series prefixes and maxTails
// event/daemon pairs, a few hundred kilobytes at worst, reused across the
// batches of a pooled Batch.
type Encoder struct {
	enc         lineprotocol.Encoder
	measurement string
	lowerUser   bool
	err         error // first error of the current point not seen by enc

	badMeasurement error // set by NewEncoder: every Append fails with it

	// Caches of the Encoder's own output for the parts of a point that
	// repeat (see Append): the series prefix per (host, service, user), the
	// event and daemon fields per (kind, daemon), and each field key as the
	// first field (" key=") and as a later one (",key="), and what EndLine
	// writes around a timestamp's digits. scratch produces them.
	series map[seriesKey]string
	tails  map[tailKey]tailEntry
	// lastTail is the key of the tail used last, valid while tails is
	// non-nil; its daemon is a cached copy, never the caller's string.
	lastTail      tailKey
	lastTailBytes string
	keys          [numFields][2]string
	scratch       lineprotocol.Encoder
	// tsOpen and tsClose are what EndLine writes around the decimal
	// nanoseconds (" " and "\n"), cut from the scratch Encoder's output in
	// NewEncoder; intSuffix is the length of the kind suffix that
	// IntValue.AppendBytes writes after the same decimal digits ("i").
	tsOpen, tsClose string
	intSuffix       int
}

// seriesKey identifies a series prefix. Its strings are copies: the
// caller's event strings alias a buffer that is reused.
type seriesKey struct {
	host, user string
	service    parser.Service
}

type tailKey struct {
	daemon string
	kind   parser.Kind
}

// tailEntry keeps the owned copy of its key next to the cached bytes, so
// that a map hit can remember the key (lastTail) without keeping the
// caller's string, which aliases a chunk freed after the flush.
type tailEntry struct {
	key   tailKey
	bytes string
}

// Bounds of the caches: a site has few hosts and services and, per batch,
// at most a few thousand users; past the bound a cache starts afresh.
const (
	maxSeries = 4096
	maxTails  = 256
)

// Field indexes into Encoder.keys, in line order.
const (
	fRcvd = iota
	fSent
	fHeaders
	fBody
	fTop
	fRetr
	fDur
	fTLS
	fIP
	fPort
	numFields
)

var fieldNames = [numFields]string{fRcvd: fieldRcvd, fSent: fieldSent, fHeaders: fieldHeaders, fBody: fieldBody,
	fTop: fieldTop, fRetr: fieldRetr, fDur: fieldDur, fTLS: fieldTLS, fIP: fieldIP, fPort: fieldPort}

var errInvalidUTF8 = errors.New("invalid UTF-8")

// NewEncoder returns an Encoder for measurement; lowerUser lower-cases the
// user tag (user_case lower).
func NewEncoder(measurement string, lowerUser bool) *Encoder {
	e := &Encoder{measurement: measurement, lowerUser: lowerUser}
	e.enc.SetPrecision(lineprotocol.Nanosecond)
	// Lax mode skips the encoder's validation of the measurement, the keys
	// and the tag values: the first two are checked once here (the keys are
	// constants), the tag values by validTagValue on every point. Profiles
	// showed the repeated key checks at ~20% of the encoding time.
	e.enc.SetLax(true)
	if !validTagValue(measurement) {
		e.badMeasurement = fmt.Errorf("invalid measurement %q", measurement)
	}
	e.scratch.SetPrecision(lineprotocol.Nanosecond)
	e.scratch.SetLax(true)
	// The key fragments are what AddField writes before a value: the
	// separator (' ' for the first field of a line, ',' after it), the
	// escaped key and '='. They are cut from the scratch Encoder's output
	// for a field whose value bytes are known (IntValue(0): "0i").
	zero := lineprotocol.IntValue(0)
	zl := len(zero.AppendBytes(nil))
	for i, name := range fieldNames {
		e.scratch.SetBuffer(nil)
		e.scratch.StartLine("")
		e.scratch.AddField(name, zero)
		first := string(e.scratch.Bytes())
		e.scratch.AddField(name, zero)
		both := string(e.scratch.Bytes())
		e.keys[i] = [2]string{first[:len(first)-zl], both[len(first) : len(both)-zl]}
	}
	// The timestamp fragments: EndLine(t) writes tsOpen, the decimal
	// nanoseconds (strconv.AppendInt, as IntValue.AppendBytes writes them
	// before its suffix) and tsClose. Cut them from a line ending at Unix
	// nanosecond 1, whose digits are IntValue(1)'s without the suffix.
	one := lineprotocol.IntValue(1).AppendBytes(nil)
	e.intSuffix = len(one) - len("1")
	e.scratch.SetBuffer(nil)
	e.scratch.StartLine("")
	e.scratch.AddField("", zero)
	n := len(e.scratch.Bytes())
	e.scratch.EndLine(time.Unix(0, 1))
	end := string(e.scratch.Bytes()[n:])
	digits := string(one[:len(one)-e.intSuffix])
	k := strings.Index(end, digits)
	e.tsOpen, e.tsClose = end[:k], end[k+len(digits):]
	return e
}

// validTagValue is the encoder's own check (validMeasurementOrKey), which
// lax mode skips: non-empty, valid UTF-8, no control characters, and no
// trailing backslash (it would escape the separator after it).
func validTagValue(s string) bool {
	if s == "" || s[len(s)-1] == '\\' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// addTag adds a tag after validating its value (lax mode).
func (e *Encoder) addTag(key, value string) {
	if !validTagValue(value) {
		if e.err == nil {
			e.err = fmt.Errorf("invalid tag value %s=%q", key, value)
		}
		return
	}
	e.enc.AddTag(key, value)
}

// Append appends to dst one point for ev stamped t (normally PointTime) and
// returns the extended slice. Schema: tags host (omitted when ev.Host is
// ""), service, user ("(none)" when ev.User is ""); integer fields rcvd and
// sent (only when the line carried them, parser.HasBytes), headers and body
// (IMAP) or top and retr (POP3) when parser.HasContent, duration when
// parser.HasTime; tls (bool); ip, port, event, daemon (strings, omitted when
// empty). An event without byte counters is still a point, with the fields
// it has: the session happened and its duration and content counters are
// real.
//
// A value the line protocol cannot carry (invalid UTF-8, control
// characters, a tag value ending in a backslash) makes Append return dst
// unchanged and the error; the caller counts the point as rejected.
// Append does not retain dst or any string of ev.
//
// Every byte comes from the line-protocol library. Most of a point repeats
// from point to point (the measurement and tags of a series, the field
// keys, the event and daemon fields), and the library escapes each key and
// value again on every call, which made that the bulk of the encoding
// time; so Append reuses the Encoder's own output for those parts (see
// appendCached) and has only the values that change encoded per point.
func (e *Encoder) Append(dst []byte, ev *parser.Event, t time.Time) ([]byte, error) {
	if e.badMeasurement != nil {
		return dst, e.badMeasurement
	}
	if out, ok := e.appendCached(dst, ev, t); ok {
		return out, nil
	}
	return e.appendPlain(dst, ev, t)
}

// userValue is the user tag value for a logged user.
func (e *Encoder) userValue(user string) string {
	switch {
	case user == "":
		return unauthenticatedUserValue
	case e.lowerUser:
		// ToLower returns its argument unchanged (no allocation) when there
		// is nothing to lower, which is the common case.
		return strings.ToLower(user)
	}
	return user
}

// appendCached is Append assembled from the Encoder's output for the parts
// of a point, in the order appendPlain makes the calls:
//
//   - the series prefix: StartLine(measurement) and the AddTag calls,
//     encoded once per (host, service, user) (seriesPrefix);
//   - per field, the bytes AddField writes before the value (separator,
//     escaped key, '='), cut once per Encoder from its output (NewEncoder),
//     then the value's bytes from lineprotocol.Value.AppendBytes, the call
//     AddField makes for them;
//   - the event and daemon fields, encoded once per (kind, daemon) (tail);
//   - the timestamp as EndLine writes it (appendTimestamp).
//
// The result equals appendPlain's byte for byte because the Encoder's
// output for a line is the concatenation of what each call appends, and
// what a call appends depends only on its arguments and on whether it adds
// the first field of the line (TestEncoderCacheMatchesPlain and
// FuzzEncoderCache compare the two for hostile names). A part the line
// protocol cannot carry is never cached: ok is false and Append takes the
// plain path, which returns the error.
func (e *Encoder) appendCached(dst []byte, ev *parser.Event, t time.Time) (out []byte, ok bool) {
	prefix, ok := e.seriesPrefix(ev)
	if !ok {
		return dst, false
	}
	tail, ok := e.tail(ev)
	if !ok {
		return dst, false
	}
	var ip, port lineprotocol.Value
	if ev.IP != "" {
		if ip, ok = stringValue(ev.IP); !ok {
			return dst, false
		}
	}
	if ev.Port != "" {
		if port, ok = stringValue(ev.Port); !ok {
			return dst, false
		}
	}
	out = append(dst, prefix...)
	later := 0 // index into e.keys[f]: 0 for the first field, then 1
	field := func(f int, v lineprotocol.Value) {
		out = append(out, e.keys[f][later]...)
		later = 1
		out = v.AppendBytes(out)
	}
	if ev.Has&parser.HasBytes != 0 {
		field(fRcvd, lineprotocol.IntValue(ev.Rcvd))
		field(fSent, lineprotocol.IntValue(ev.Sent))
	}
	if ev.Has&parser.HasContent != 0 {
		if ev.Service == parser.POP3 {
			field(fTop, lineprotocol.IntValue(ev.Top))
			field(fRetr, lineprotocol.IntValue(ev.Retr))
		} else {
			field(fHeaders, lineprotocol.IntValue(ev.Headers))
			field(fBody, lineprotocol.IntValue(ev.Body))
		}
	}
	if ev.Has&parser.HasTime != 0 {
		field(fDur, lineprotocol.IntValue(ev.Duration))
	}
	field(fTLS, lineprotocol.BoolValue(ev.TLS))
	if ev.IP != "" {
		field(fIP, ip)
	}
	if ev.Port != "" {
		field(fPort, port)
	}
	out = append(out, tail...)
	if out, ok = e.appendTimestamp(out, t); !ok {
		// Only dst's spare capacity was written: dst is unchanged.
		return dst, false
	}
	return out, true
}

// stringValue is the string field value of s without a copy (see
// addString); ok is false for invalid UTF-8.
func stringValue(s string) (lineprotocol.Value, bool) {
	v, err := lineprotocol.NewValueFromBytes(lineprotocol.String, unsafe.Slice(unsafe.StringData(s), len(s)))
	return v, err == nil
}

// seriesPrefix returns the Encoder's output for StartLine(measurement) and
// the tags of ev, as appendPlain adds them; ok is false when a tag value is
// invalid (nothing is cached then).
func (e *Encoder) seriesPrefix(ev *parser.Event) (string, bool) {
	if p, ok := e.series[seriesKey{host: ev.Host, user: ev.User, service: ev.Service}]; ok {
		return p, true
	}
	svc, user := ev.Service.String(), e.userValue(ev.User)
	if (ev.Host != "" && !validTagValue(ev.Host)) || !validTagValue(svc) || !validTagValue(user) {
		return "", false
	}
	s := &e.scratch
	s.SetBuffer(nil)
	s.StartLine(e.measurement)
	if ev.Host != "" {
		s.AddTag(tagHost, ev.Host)
	}
	s.AddTag(tagService, svc)
	s.AddTag(tagUser, user)
	if s.Err() != nil {
		s.ClearErr()
		return "", false
	}
	p := string(s.Bytes())
	if e.series == nil || len(e.series) >= maxSeries {
		e.series = make(map[seriesKey]string)
	}
	e.series[seriesKey{host: strings.Clone(ev.Host), user: strings.Clone(ev.User), service: ev.Service}] = p
	return p, true
}

// tail returns the Encoder's output for the event and daemon fields of ev
// (never the first fields of a line: tls precedes them); ok is false when
// one is invalid.
func (e *Encoder) tail(ev *parser.Event) (string, bool) {
	// Consecutive points mostly share kind and daemon: check the last
	// entry before hashing the key.
	if e.lastTail.kind == ev.Kind && e.lastTail.daemon == ev.Daemon && e.tails != nil {
		return e.lastTailBytes, true
	}
	if t, ok := e.tails[tailKey{daemon: ev.Daemon, kind: ev.Kind}]; ok {
		e.lastTail, e.lastTailBytes = t.key, t.bytes
		return t.bytes, true
	}
	s := &e.scratch
	s.SetBuffer(nil)
	s.StartLine("")
	s.AddField(fieldTLS, lineprotocol.BoolValue(false))
	n := len(s.Bytes())
	for _, f := range [...]struct{ key, val string }{{fieldEvent, ev.Kind.String()}, {fieldDaemon, ev.Daemon}} {
		if f.val == "" {
			continue
		}
		v, ok := stringValue(f.val)
		if !ok {
			return "", false
		}
		s.AddField(f.key, v)
	}
	if s.Err() != nil {
		s.ClearErr()
		return "", false
	}
	t := string(s.Bytes()[n:])
	if e.tails == nil || len(e.tails) >= maxTails {
		e.tails = make(map[tailKey]tailEntry)
	}
	k := tailKey{daemon: strings.Clone(ev.Daemon), kind: ev.Kind}
	e.tails[k] = tailEntry{key: k, bytes: t}
	e.lastTail, e.lastTailBytes = k, t
	return t, true
}

// minTime and maxTime bound the timestamps EndLine accepts (Unix
// nanoseconds in an int64).
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// appendTimestamp appends what EndLine(t) writes (" <ns>\n") to dst: the
// fragments cut in NewEncoder around the digits of IntValue(t.UnixNano())
// without its kind suffix (the same strconv.AppendInt call EndLine makes,
// precision nanoseconds). ok is false, and dst is returned unchanged, for a
// time EndLine treats specially: zero (no timestamp) or out of range (an
// error): appendPlain handles those.
func (e *Encoder) appendTimestamp(dst []byte, t time.Time) ([]byte, bool) {
	if t.IsZero() || t.Before(minTime) || t.After(maxTime) {
		return dst, false
	}
	out := append(dst, e.tsOpen...)
	out = lineprotocol.IntValue(t.UnixNano()).AppendBytes(out)
	out = append(out[:len(out)-e.intSuffix], e.tsClose...)
	return out, true
}

// appendPlain is Append through the Encoder alone, call by call: the
// reference for appendCached, and its fallback for every point it does
// not take (a value the line protocol cannot carry ends here, with its
// error).
func (e *Encoder) appendPlain(dst []byte, ev *parser.Event, t time.Time) ([]byte, error) {
	enc := &e.enc
	enc.SetBuffer(dst)
	enc.StartLine(e.measurement)
	if ev.Host != "" {
		e.addTag(tagHost, ev.Host)
	}
	e.addTag(tagService, ev.Service.String())
	e.addTag(tagUser, e.userValue(ev.User))
	if ev.Has&parser.HasBytes != 0 {
		enc.AddField(fieldRcvd, lineprotocol.IntValue(ev.Rcvd))
		enc.AddField(fieldSent, lineprotocol.IntValue(ev.Sent))
	}
	if ev.Has&parser.HasContent != 0 {
		if ev.Service == parser.POP3 {
			enc.AddField(fieldTop, lineprotocol.IntValue(ev.Top))
			enc.AddField(fieldRetr, lineprotocol.IntValue(ev.Retr))
		} else {
			enc.AddField(fieldHeaders, lineprotocol.IntValue(ev.Headers))
			enc.AddField(fieldBody, lineprotocol.IntValue(ev.Body))
		}
	}
	if ev.Has&parser.HasTime != 0 {
		enc.AddField(fieldDur, lineprotocol.IntValue(ev.Duration))
	}
	enc.AddField(fieldTLS, lineprotocol.BoolValue(ev.TLS))
	e.addString(fieldIP, ev.IP)
	e.addString(fieldPort, ev.Port)
	e.addString(fieldEvent, ev.Kind.String())
	e.addString(fieldDaemon, ev.Daemon)
	enc.EndLine(t)
	err := enc.Err()
	if err == nil {
		err = e.err
	}
	if err != nil {
		enc.ClearErr()
		e.err = nil
		// The encoder already cut its partial line; on our own error the
		// complete line sits past len(dst) and is simply not returned.
		return dst, err
	}
	return enc.Bytes(), nil
}

// addString adds a string field without copying s: NewValueFromBytes keeps
// a reference and AppendBytes only reads it, before Append returns. The
// UTF-8 check stays on; a failure poisons the line like any encoder error.
func (e *Encoder) addString(key, s string) {
	if s == "" {
		return
	}
	v, err := lineprotocol.NewValueFromBytes(lineprotocol.String, unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("field %s: %w", key, errInvalidUTF8)
		}
		return
	}
	e.enc.AddField(key, v)
}
