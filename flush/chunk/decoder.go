package chunk

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// TimeFormat is how an event's timestamp was encoded.
type TimeFormat uint8

const (
	TimeNone  TimeFormat = iota // zero value: no event decoded
	EventTime                   // msgpack ext type 0: uint32 seconds + uint32 nanoseconds
	IntTime                     // non-negative integer: seconds
	FloatTime                   // float: seconds with a fraction
)

func (f TimeFormat) String() string {
	switch f {
	case TimeNone:
		return "none"
	case EventTime:
		return "eventtime"
	case IntTime:
		return "int"
	case FloatTime:
		return "float"
	}
	return "TimeFormat(" + strconv.Itoa(int(f)) + ")"
}

// Event is one decoded log event.
type Event struct {
	Time   time.Time  // the record time (location: time.Local, as time.Unix gives it)
	Format TimeFormat // how Time was encoded
	Record Record     // the record map; valid until the next Decoder.Next
	Index  int        // 0-based position of the event in the chunk, group markers included
	Offset int        // byte offset of the event in the chunk
}

// Precision is the precision the record time carries: time.Second for an
// integer timestamp; otherwise the coarsest of time.Second, time.Millisecond,
// time.Microsecond and time.Nanosecond that represents the fraction exactly.
// Why not always time.Nanosecond for EventTime: the syslog and tail inputs
// fill EventTime from a second-precision stamp (nanoseconds 0); the precision
// decides how identities are compared and how far a point may be moved within
// its unit (flush.PointTime), so claiming nanoseconds would make two sessions
// logged in the same second collide.
func (e *Event) Precision() time.Duration {
	if e.Format == IntTime {
		return time.Second
	}
	ns := e.Time.Nanosecond()
	switch {
	case ns == 0:
		return time.Second
	case ns%1e6 == 0:
		return time.Millisecond
	case ns%1e3 == 0:
		return time.Microsecond
	}
	return time.Nanosecond
}

// Error reports a corrupt chunk: where decoding stopped and why.
type Error struct {
	Offset      int    // byte offset in the chunk where the problem was found
	Event       int    // 0-based index of the event being decoded
	EventOffset int    // byte offset where that event starts
	Msg         string // what was expected, naming the part of the event
	Err         error  // the underlying msgp error, if any
}

func (e *Error) Error() string {
	s := "chunk: event " + strconv.Itoa(e.Event) + " (at byte " + strconv.Itoa(e.EventOffset) +
		"): byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// errNotEvent is the cause of an *Error for well-formed msgpack that is not
// an event (wrong element count, timestamp type or range). Truncated data
// wraps msgp.ErrShortBytes instead, so callers can tell the two apart.
var errNotEvent = errors.New("not an event")

// Decoder walks the events of one chunk. The zero value is an empty decoder;
// use NewDecoder or Reset.
type Decoder struct {
	data    []byte
	rest    []byte
	index   int
	groups  int
	ev      Event
	err     error
	entries []entry // the current record's key/value table, reused
}

// entry is one key/value pair of the current record. key is nil for a key
// that is neither str nor bin (valid msgpack, never matched).
type entry struct {
	key []byte
	val []byte // the raw msgpack encoding of the value
}

// NewDecoder returns a decoder over data. data is not copied: see the
// package doc for the lifetime of the views it hands out.
func NewDecoder(data []byte) *Decoder {
	d := &Decoder{}
	d.Reset(data)
	return d
}

// Reset makes d decode data from the start, keeping its scratch memory.
func (d *Decoder) Reset(data []byte) {
	d.data = data
	d.rest = data
	d.index = 0
	d.groups = 0
	d.ev = Event{}
	d.err = nil
	d.entries = d.entries[:0]
}

// Next decodes the next event, skipping group markers. It returns false at
// the end of the chunk or at the first error; Err tells which.
func (d *Decoder) Next() bool {
	for d.err == nil && len(d.rest) > 0 {
		group, err := d.decodeEvent()
		d.index++
		if err != nil {
			d.err = err
			return false
		}
		if group {
			d.groups++
			continue
		}
		return true
	}
	return false
}

// Event returns the event decoded by the last successful Next. The pointer
// stays the same for the whole decode; its contents change with each Next.
func (d *Decoder) Event() *Event { return &d.ev }

// Err returns nil after a clean end of the chunk, or the *Error that stopped
// the decoder.
func (d *Decoder) Err() error { return d.err }

// Offset is the number of bytes consumed so far.
func (d *Decoder) Offset() int { return len(d.data) - len(d.rest) }

// Events is the number of events walked so far, group markers included.
func (d *Decoder) Events() int { return d.index }

// GroupMarkers is the number of group start/end events skipped so far.
func (d *Decoder) GroupMarkers() int { return d.groups }

// fail builds the *Error for a problem at b (a suffix of d.data).
func (d *Decoder) fail(b []byte, msg string, err error) *Error {
	return &Error{
		Offset:      len(d.data) - len(b),
		Event:       d.index,
		EventOffset: d.ev.Offset,
		Msg:         msg,
		Err:         err,
	}
}

// decodeEvent decodes the event at d.rest into d.ev and advances d.rest.
// It reports whether the event was a group marker.
func (d *Decoder) decodeEvent() (group bool, err error) {
	b := d.rest
	d.ev.Offset = len(d.data) - len(b)
	d.ev.Index = d.index
	d.ev.Record = Record{}

	n, o, e := msgp.ReadArrayHeaderBytes(b)
	if e != nil {
		return false, d.fail(b, "event: expected a 2-element array", e)
	}
	if n != 2 {
		return false, d.fail(b, "event: expected a 2-element array, got "+strconv.FormatUint(uint64(n), 10)+" elements", errNotEvent)
	}
	b = o

	// V2 layout: the first element is the [ts, metadata] header.
	if msgp.NextType(b) == msgp.ArrayType {
		hn, o, e := msgp.ReadArrayHeaderBytes(b)
		if e != nil {
			return false, d.fail(b, "event header: expected [timestamp, metadata]", e)
		}
		if hn != 2 {
			return false, d.fail(b, "event header: expected [timestamp, metadata], got "+strconv.FormatUint(uint64(hn), 10)+" elements", errNotEvent)
		}
		b = o
		if group, b, err = d.decodeTime(b); err != nil {
			return false, err
		}
		if msgp.NextType(b) != msgp.MapType {
			return false, d.fail(b, "metadata: expected a map", typeError(b))
		}
		if o, e = msgp.Skip(b); e != nil {
			return false, d.fail(b, "metadata", e)
		}
		b = o
	} else if group, b, err = d.decodeTime(b); err != nil {
		return false, err
	}

	b, err = d.decodeRecord(b)
	if err != nil {
		return false, err
	}
	d.rest = b
	return group, nil
}

// typeError describes the msgpack type found at b, for error messages.
func typeError(b []byte) error {
	if len(b) == 0 {
		return msgp.ErrShortBytes
	}
	return errors.New("got " + msgp.NextType(b).String())
}

// maxSeconds bounds integer and float timestamps so that time.Unix and the
// nanosecond arithmetic cannot overflow (year ~2262 is far beyond any log).
const maxSeconds = math.MaxInt64 / int64(time.Second)

// decodeTime decodes the timestamp at b into d.ev.Time and d.ev.Format.
func (d *Decoder) decodeTime(b []byte) (group bool, rest []byte, err error) {
	if len(b) == 0 {
		return false, b, d.fail(b, "timestamp", msgp.ErrShortBytes)
	}
	switch b[0] {
	case 0xd7, 0xc7: // fixext8, ext8
		var payload []byte
		if b[0] == 0xd7 {
			if len(b) < 10 {
				return false, b, d.fail(b, "timestamp: EventTime", msgp.ErrShortBytes)
			}
			if b[1] != 0 {
				return false, b, d.fail(b, "timestamp: expected EventTime (ext type 0), got ext type "+strconv.Itoa(int(int8(b[1]))), errNotEvent)
			}
			payload, rest = b[2:10], b[10:]
		} else {
			if len(b) < 3 {
				return false, b, d.fail(b, "timestamp: EventTime", msgp.ErrShortBytes)
			}
			if b[1] != 8 || b[2] != 0 {
				return false, b, d.fail(b, "timestamp: expected EventTime (ext type 0, 8 bytes), got ext type "+
					strconv.Itoa(int(int8(b[2])))+" with "+strconv.Itoa(int(b[1]))+" bytes", errNotEvent)
			}
			if len(b) < 11 {
				return false, b, d.fail(b, "timestamp: EventTime", msgp.ErrShortBytes)
			}
			payload, rest = b[3:11], b[11:]
		}
		sec := binary.BigEndian.Uint32(payload)
		nsec := binary.BigEndian.Uint32(payload[4:])
		if sec >= 0xFFFFFFFE {
			return true, rest, nil
		}
		if nsec >= 1e9 {
			return false, b, d.fail(b, "timestamp: EventTime nanoseconds "+strconv.FormatUint(uint64(nsec), 10)+" >= 1e9", errNotEvent)
		}
		d.ev.Time = time.Unix(int64(sec), int64(nsec))
		d.ev.Format = EventTime
		return false, rest, nil
	}

	switch msgp.NextType(b) {
	case msgp.IntType:
		i, o, e := msgp.ReadInt64Bytes(b)
		if e != nil {
			return false, b, d.fail(b, "timestamp: integer", e)
		}
		if i == -1 || i == -2 {
			return true, o, nil
		}
		if i < 0 || i > maxSeconds {
			return false, b, d.fail(b, "timestamp: integer seconds "+strconv.FormatInt(i, 10)+" out of range", errNotEvent)
		}
		d.ev.Time, d.ev.Format = time.Unix(i, 0), IntTime
		return false, o, nil
	case msgp.UintType:
		u, o, e := msgp.ReadUint64Bytes(b)
		if e != nil {
			return false, b, d.fail(b, "timestamp: integer", e)
		}
		if u == 0xFFFFFFFF || u == 0xFFFFFFFE {
			return true, o, nil
		}
		if u > uint64(maxSeconds) {
			return false, b, d.fail(b, "timestamp: integer seconds "+strconv.FormatUint(u, 10)+" out of range", errNotEvent)
		}
		d.ev.Time, d.ev.Format = time.Unix(int64(u), 0), IntTime
		return false, o, nil
	case msgp.Float32Type, msgp.Float64Type:
		f, o, e := msgp.ReadFloat64Bytes(b)
		if e != nil {
			return false, b, d.fail(b, "timestamp: float", e)
		}
		if f == -1 || f == -2 {
			return true, o, nil
		}
		if !(f >= 0 && f < float64(maxSeconds)) { // also rejects NaN
			return false, b, d.fail(b, "timestamp: float seconds "+strconv.FormatFloat(f, 'g', -1, 64)+" out of range", errNotEvent)
		}
		sec := math.Floor(f)
		// A float64 near the current epoch resolves ~0.2 µs: round to the
		// microsecond so the noise digits do not look like nanoseconds.
		usec := int64(math.Round((f - sec) * 1e6))
		d.ev.Time, d.ev.Format = time.Unix(int64(sec), usec*1e3), FloatTime
		return false, o, nil
	}
	return false, b, d.fail(b, "timestamp: expected EventTime, integer or float", typeError(b))
}

// decodeRecord validates the record map at b and fills d.entries.
func (d *Decoder) decodeRecord(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, d.fail(b, "record: expected a map", msgp.ErrShortBytes)
	}
	if msgp.NextType(b) != msgp.MapType {
		return b, d.fail(b, "record: expected a map", typeError(b))
	}
	n, o, e := msgp.ReadMapHeaderBytes(b)
	if e != nil {
		return b, d.fail(b, "record: map header", e)
	}
	b = o
	d.entries = d.entries[:0]
	for i := uint32(0); i < n; i++ {
		var key []byte
		switch msgp.NextType(b) {
		case msgp.StrType:
			key, o, e = msgp.ReadStringZC(b)
		case msgp.BinType:
			key, o, e = msgp.ReadBytesZC(b)
			if e == nil && key == nil {
				key = o[:0] // an empty bin key is still a key, not "no key"
			}
		default:
			o, e = msgp.Skip(b)
		}
		if e != nil {
			return b, d.fail(b, "record: key "+strconv.FormatUint(uint64(i), 10), e)
		}
		b = o
		o, e = msgp.Skip(b)
		if e != nil {
			return b, d.fail(b, "record: value of key "+strconv.Quote(string(key)), e)
		}
		d.entries = append(d.entries, entry{key: key, val: b[:len(b)-len(o)]})
		b = o
	}
	d.ev.Record = Record{entries: d.entries}
	return b, nil
}

// Record is a view of one record map. The zero Record is empty.
type Record struct {
	entries []entry
}

// Len is the number of key/value pairs, non-string keys included.
func (r Record) Len() int { return len(r.entries) }

// Get returns the value of the first entry whose key (str or bin) equals key
// exactly (case-sensitive), and whether there was one.
func (r Record) Get(key string) (Value, bool) {
	for i := range r.entries {
		if k := r.entries[i].key; k != nil && string(k) == key {
			return decodeValue(r.entries[i].val), true
		}
	}
	return Value{}, false
}

// Lookup fills vals[i] with the value of keys[i] (Type Absent when the
// record has no such key) in one pass over the record, so that checking a
// dozen configured key names costs one walk. It panics if len(vals) <
// len(keys), a programming error.
func (r Record) Lookup(keys []string, vals []Value) {
	vals = vals[:len(keys)]
	clear(vals)
	for i := range r.entries {
		k := r.entries[i].key
		if k == nil {
			continue
		}
		for j, want := range keys {
			if vals[j].Type == Absent && string(k) == want {
				vals[j] = decodeValue(r.entries[i].val)
			}
		}
	}
}

// Range calls fn for each entry in order until fn returns false. Keys that
// are neither str nor bin are passed as nil.
func (r Record) Range(fn func(key []byte, v Value) bool) {
	for i := range r.entries {
		if !fn(r.entries[i].key, decodeValue(r.entries[i].val)) {
			return
		}
	}
}

// ValueType classifies a record value.
type ValueType uint8

const (
	Absent ValueType = iota // no such key
	String                  // msgpack str; Bytes is the content
	Binary                  // msgpack bin; Bytes is the content
	Int                     // signed integer; Int is the value
	Uint                    // unsigned integer encoding; Uint is the value
	Other                   // anything else (nil, bool, float, array, map, ext); Bytes is the raw msgpack
)

func (t ValueType) String() string {
	switch t {
	case Absent:
		return "absent"
	case String:
		return "str"
	case Binary:
		return "bin"
	case Int:
		return "int"
	case Uint:
		return "uint"
	case Other:
		return "other"
	}
	return "ValueType(" + strconv.Itoa(int(t)) + ")"
}

// Value is one record value. Bytes is a view into the chunk.
type Value struct {
	Type  ValueType
	Bytes []byte
	Int   int64
	Uint  uint64
}

// Text returns the content of a str or bin value (Fluent Bit inputs write
// either for the same field) and whether the value was one.
func (v Value) Text() ([]byte, bool) {
	if v.Type == String || v.Type == Binary {
		return v.Bytes, true
	}
	return nil, false
}

// Int64 returns an integer value, or a str/bin value that is a plain
// decimal number (systemd's _SOURCE_REALTIME_TIMESTAMP is a string), and
// whether the value was one that fits an int64.
func (v Value) Int64() (int64, bool) {
	switch v.Type {
	case Int:
		return v.Int, true
	case Uint:
		if v.Uint > math.MaxInt64 {
			return 0, false
		}
		return int64(v.Uint), true
	case String, Binary:
		return parseDecimal(v.Bytes)
	}
	return 0, false
}

// parseDecimal parses an optionally negative decimal integer without
// allocating (strconv.ParseInt would need a string conversion).
func parseDecimal(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// decodeValue classifies raw, the already validated encoding of one value.
func decodeValue(raw []byte) Value {
	switch msgp.NextType(raw) {
	case msgp.StrType:
		if v, _, err := msgp.ReadStringZC(raw); err == nil {
			return Value{Type: String, Bytes: v}
		}
	case msgp.BinType:
		if v, _, err := msgp.ReadBytesZC(raw); err == nil {
			return Value{Type: Binary, Bytes: v}
		}
	case msgp.IntType:
		if i, _, err := msgp.ReadInt64Bytes(raw); err == nil {
			return Value{Type: Int, Int: i}
		}
	case msgp.UintType:
		if u, _, err := msgp.ReadUint64Bytes(raw); err == nil {
			return Value{Type: Uint, Uint: u}
		}
	}
	return Value{Type: Other, Bytes: raw}
}
