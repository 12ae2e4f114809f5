package chunk

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tinylib/msgp/msgp"
)

type gotEvent struct {
	Time   time.Time
	Format TimeFormat
	Prec   time.Duration
	Index  int
	Offset int
	Fields []string // "key=type:value" in record order
}

// decodeAll walks a whole chunk and renders every event.
func decodeAll(t testing.TB, data []byte) ([]gotEvent, int, error) {
	t.Helper()
	var got []gotEvent
	d := NewDecoder(data)
	for d.Next() {
		ev := d.Event()
		g := gotEvent{Time: ev.Time, Format: ev.Format, Prec: ev.Precision(), Index: ev.Index, Offset: ev.Offset}
		ev.Record.Range(func(k []byte, v Value) bool {
			key := "<non-string key>"
			if k != nil {
				key = string(k)
			}
			g.Fields = append(g.Fields, key+"="+describe(v))
			return true
		})
		got = append(got, g)
	}
	if d.Err() == nil && d.Offset() != len(data) {
		t.Errorf("clean end at offset %d, want %d", d.Offset(), len(data))
	}
	return got, d.GroupMarkers(), d.Err()
}

func TestDecodeLayoutsAndTimes(t *testing.T) {
	emptyMeta := msgp.AppendMapHeader(nil, 0)
	rec := record("log", "a line")
	recLen := len(rec)
	ts := eventTime(1700000000, 123456789, false)
	at := func(sec int64, nsec int64) time.Time { return time.Unix(sec, nsec) }

	type tc struct {
		name       string
		data       []byte
		want       []gotEvent
		wantGroups int
	}
	var cases []tc
	for _, f := range []arrayForm{fixArray, array16, array32} {
		for _, ext8 := range []bool{false, true} {
			ts := eventTime(1700000000, 123456789, ext8)
			hdr := len(appendArray(nil, f, 2))
			cases = append(cases,
				tc{
					name: "v1/" + f.String() + "/ext8=" + map[bool]string{false: "no", true: "yes"}[ext8],
					data: v1(v1(nil, f, ts, rec), f, ts, record("log", "second")),
					want: []gotEvent{
						{Time: at(1700000000, 123456789), Format: EventTime, Prec: time.Nanosecond, Index: 0, Offset: 0, Fields: []string{"log=str:a line"}},
						{Time: at(1700000000, 123456789), Format: EventTime, Prec: time.Nanosecond, Index: 1, Offset: hdr + len(ts) + recLen, Fields: []string{"log=str:second"}},
					},
				},
				tc{
					name: "v2/" + f.String() + "/ext8=" + map[bool]string{false: "no", true: "yes"}[ext8],
					data: v2(v2(nil, f, ts, emptyMeta, rec), f, ts, record("meta", 1), record("log", "second")),
					want: []gotEvent{
						{Time: at(1700000000, 123456789), Format: EventTime, Prec: time.Nanosecond, Index: 0, Offset: 0, Fields: []string{"log=str:a line"}},
						{Time: at(1700000000, 123456789), Format: EventTime, Prec: time.Nanosecond, Index: 1, Offset: 2*hdr + len(ts) + 1 + recLen, Fields: []string{"log=str:second"}},
					},
				})
		}
	}
	one := func(ts []byte, when time.Time, format TimeFormat, prec time.Duration) []gotEvent {
		return []gotEvent{{Time: when, Format: format, Prec: prec, Fields: []string{"log=str:a line"}}}
	}
	cases = append(cases,
		tc{name: "empty chunk", data: nil},
		tc{name: "eventtime whole second", data: v2(nil, array32, eventTime(1700000000, 0, false), emptyMeta, rec),
			want: one(nil, at(1700000000, 0), EventTime, time.Second)},
		tc{name: "eventtime milliseconds", data: v2(nil, fixArray, eventTime(1700000000, 250000000, false), emptyMeta, rec),
			want: one(nil, at(1700000000, 250000000), EventTime, time.Millisecond)},
		tc{name: "eventtime microseconds", data: v2(nil, fixArray, eventTime(1700000000, 250001000, false), emptyMeta, rec),
			want: one(nil, at(1700000000, 250001000), EventTime, time.Microsecond)},
		tc{name: "positive fixint time", data: v1(nil, fixArray, intTime(5), rec),
			want: one(nil, at(5, 0), IntTime, time.Second)},
		tc{name: "int64 time", data: v1(nil, fixArray, []byte{0xd3, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00}, rec),
			want: one(nil, at(0x6553f100, 0), IntTime, time.Second)},
		tc{name: "uint32 time", data: v1(nil, fixArray, uintTime(1700000000), rec),
			want: one(nil, at(1700000000, 0), IntTime, time.Second)},
		tc{name: "uint64 time", data: v1(nil, fixArray, []byte{0xcf, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00}, rec),
			want: one(nil, at(0x6553f100, 0), IntTime, time.Second)},
		tc{name: "float64 time", data: v2(nil, fixArray, floatTime(1700000000.25), emptyMeta, rec),
			want: one(nil, at(1700000000, 250000000), FloatTime, time.Millisecond)},
		tc{name: "float64 time rounded to microseconds", data: v2(nil, fixArray, floatTime(1700000000.123456), emptyMeta, rec),
			want: one(nil, at(1700000000, 123456000), FloatTime, time.Microsecond)},
		tc{name: "float64 whole seconds", data: v1(nil, fixArray, floatTime(1700000000), rec),
			want: one(nil, at(1700000000, 0), FloatTime, time.Second)},
		tc{name: "float32 time", data: v1(nil, fixArray, float32Time(1024.5), rec),
			want: one(nil, at(1024, 500000000), FloatTime, time.Millisecond)},
		tc{name: "group markers skipped",
			data: v2(v2(v2(nil, fixArray, eventTime(0xFFFFFFFF, 0, false), emptyMeta, record("resource", "x")),
				array32, ts, emptyMeta, rec),
				fixArray, eventTime(0xFFFFFFFE, 0, false), emptyMeta, record()),
			want: []gotEvent{{Time: at(1700000000, 123456789), Format: EventTime, Prec: time.Nanosecond, Index: 1,
				Offset: 2 + 10 + 1 + len(record("resource", "x")), Fields: []string{"log=str:a line"}}},
			wantGroups: 2},
		tc{name: "integer group markers skipped",
			data:       v1(v1(v1(nil, fixArray, intTime(-1), record()), fixArray, uintTime(0xFFFFFFFE), record()), fixArray, floatTime(-2), record()),
			wantGroups: 3},
		tc{name: "str and bin keys and values, ints, others, non-string key",
			data: v1(nil, fixArray, ts, record(
				"ident", "imapd",
				bin("host"), bin("mail"),
				"MESSAGE", bin("LOGOUT, user=a"),
				"_SOURCE_REALTIME_TIMESTAMP", int64(1700000000123456),
				"neg", -7,
				"big", uint64(math.MaxUint64),
				[]byte{0x05}, "int key",
				"nil", nil,
				"flag", true,
				"nested", record("a", 1),
			)),
			want: []gotEvent{{Time: at(1700000000, 123456789), Format: EventTime, Prec: time.Nanosecond, Fields: []string{
				"ident=str:imapd",
				"host=bin:mail",
				"MESSAGE=bin:LOGOUT, user=a",
				"_SOURCE_REALTIME_TIMESTAMP=int:1700000000123456",
				"neg=int:-7",
				"big=uint:18446744073709551615",
				"<non-string key>=str:int key",
				"nil=other:c0",
				"flag=other:c3",
				"nested=other:81a16101",
			}}}},
		tc{name: "metadata with content skipped",
			data: v2(nil, array16, ts, record("otlp", record("k", "v"), "n", 3), rec),
			want: []gotEvent{{Time: at(1700000000, 123456789), Format: EventTime, Prec: time.Nanosecond, Fields: []string{"log=str:a line"}}}},
	)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, groups, err := decodeAll(t, c.data)
			if err != nil {
				t.Fatalf("Err() = %v, want nil", err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if groups != c.wantGroups {
				t.Errorf("GroupMarkers() = %d, want %d", groups, c.wantGroups)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	emptyMeta := msgp.AppendMapHeader(nil, 0)
	rec := record("log", "x")
	ts := eventTime(1700000000, 0, false)
	good := v2(nil, array32, ts, emptyMeta, rec)
	g := len(good)

	cases := []struct {
		name       string
		data       []byte
		wantEvents int    // good events before the error
		want       Error  // Offset, Event, EventOffset compared
		wantMsg    string // substring of Msg
		wantCause  error  // errors.Is target; nil = any
	}{
		{name: "not an array", data: record("log", "x"),
			want: Error{Offset: 0}, wantMsg: "expected a 2-element array"},
		{name: "array of 3", data: append(msgp.AppendArrayHeader(nil, 3), append(append(ts, rec...), 0xc0)...),
			want: Error{Offset: 0}, wantMsg: "got 3 elements", wantCause: errNotEvent},
		{name: "header of 1", data: append(append(msgp.AppendArrayHeader(nil, 2), msgp.AppendArrayHeader(nil, 1)...), append(ts, rec...)...),
			want: Error{Offset: 1}, wantMsg: "event header", wantCause: errNotEvent},
		{name: "string timestamp", data: v1(nil, fixArray, msgp.AppendString(nil, "2024-01-01"), rec),
			want: Error{Offset: 1}, wantMsg: "expected EventTime, integer or float"},
		{name: "ext type 1", data: v1(nil, fixArray, []byte{0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0}, rec),
			want: Error{Offset: 1}, wantMsg: "ext type 1", wantCause: errNotEvent},
		{name: "ext8 of 4 bytes", data: v1(nil, fixArray, []byte{0xc7, 4, 0, 0, 0, 0, 0}, rec),
			want: Error{Offset: 1}, wantMsg: "with 4 bytes", wantCause: errNotEvent},
		{name: "msgpack timestamp ext -1", data: v1(nil, fixArray, msgp.AppendTimeExt(nil, time.Unix(1, 0)), rec),
			want: Error{Offset: 1}, wantMsg: "timestamp"},
		{name: "nanoseconds out of range", data: v1(nil, fixArray, eventTime(1, 1e9, false), rec),
			want: Error{Offset: 1}, wantMsg: "nanoseconds", wantCause: errNotEvent},
		{name: "negative integer time", data: v1(nil, fixArray, intTime(-5), rec),
			want: Error{Offset: 1}, wantMsg: "out of range", wantCause: errNotEvent},
		{name: "huge uint time", data: v1(nil, fixArray, uintTime(math.MaxUint64), rec),
			want: Error{Offset: 1}, wantMsg: "out of range", wantCause: errNotEvent},
		{name: "NaN float time", data: v1(nil, fixArray, floatTime(math.NaN()), rec),
			want: Error{Offset: 1}, wantMsg: "out of range", wantCause: errNotEvent},
		{name: "record is an array", data: v1(nil, fixArray, ts, msgp.AppendArrayHeader(nil, 0)),
			want: Error{Offset: 11}, wantMsg: "record: expected a map"},
		{name: "metadata is a string", data: v2(nil, fixArray, ts, msgp.AppendString(nil, "m"), rec),
			want: Error{Offset: 12}, wantMsg: "metadata: expected a map"},
		{name: "invalid prefix in a value", data: v1(nil, fixArray, ts, append(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "log"), 0xc1)),
			want: Error{Offset: 16}, wantMsg: `value of key "log"`},
		{name: "second event truncated", data: append(append([]byte{}, good...), good[:g-1]...), wantEvents: 1,
			want: Error{Offset: g + g - 2, Event: 1, EventOffset: g}, wantMsg: `value of key "log"`, wantCause: msgp.ErrShortBytes},
		{name: "garbage after a group marker", data: append(v2(nil, fixArray, eventTime(0xFFFFFFFF, 0, false), emptyMeta, record()), 0xc1),
			want: Error{Offset: 14, Event: 1, EventOffset: 14}, wantMsg: "expected a 2-element array"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := decodeAll(t, c.data)
			if len(got) != c.wantEvents {
				t.Errorf("decoded %d events before the error, want %d", len(got), c.wantEvents)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Err() = %v (%T), want *Error", err, err)
			}
			gotPos := Error{Offset: e.Offset, Event: e.Event, EventOffset: e.EventOffset}
			if diff := cmp.Diff(c.want, gotPos); diff != "" {
				t.Errorf("position (-want +got):\n%s\nerror: %v", diff, err)
			}
			if !strings.Contains(e.Msg, c.wantMsg) {
				t.Errorf("Msg = %q, want it to contain %q", e.Msg, c.wantMsg)
			}
			if c.wantCause != nil && !errors.Is(err, c.wantCause) {
				t.Errorf("errors.Is(%v, %v) = false", err, c.wantCause)
			}
			if !strings.Contains(err.Error(), "byte ") || !strings.Contains(err.Error(), "event ") {
				t.Errorf("Error() = %q, want the byte offset and event index", err.Error())
			}
		})
	}
}

// TestTruncatedEveryOffset cuts a chunk of mixed layouts at every byte: a cut
// on an event boundary is a clean end; any other cut is an *Error wrapping
// msgp.ErrShortBytes that names the partial event. Never a panic.
func TestTruncatedEveryOffset(t *testing.T) {
	emptyMeta := msgp.AppendMapHeader(nil, 0)
	var data []byte
	var bounds []int // end offset of each event
	add := func(b []byte) { data = b; bounds = append(bounds, len(b)) }
	add(v2(data, array32, eventTime(1700000000, 5, false), emptyMeta, record("log", "first line", "n", 300)))
	add(v1(data, fixArray, eventTime(1700000001, 0, true), record(bin("ident"), bin("imapd"), "host", "mx")))
	add(v2(data, array16, intTime(1700000002), record("k", "v"), record("MESSAGE", "m", "_SOURCE_REALTIME_TIMESTAMP", "1700000002000001")))
	add(v1(data, fixArray, floatTime(1700000003.5), record("nested", record("a", []byte{0x92, 0x01, 0x02}))))
	add(v2(data, fixArray, eventTime(0xFFFFFFFF, 0, false), emptyMeta, record()))

	for cut := 0; cut <= len(data); cut++ {
		complete := 0
		for complete < len(bounds) && bounds[complete] <= cut {
			complete++
		}
		d := NewDecoder(data[:cut])
		n := 0
		for d.Next() {
			n++
		}
		wantEvents := min(complete, 4) // the 5th is a group marker
		if n != wantEvents {
			t.Errorf("cut %d: %d events, want %d", cut, n, wantEvents)
		}
		atBoundary := cut == 0 || (complete > 0 && bounds[complete-1] == cut)
		err := d.Err()
		if atBoundary {
			if err != nil {
				t.Errorf("cut %d (event boundary): Err() = %v, want nil", cut, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("cut %d: Err() = %v, want *Error", cut, err)
			continue
		}
		start := 0
		if complete > 0 {
			start = bounds[complete-1]
		}
		if e.Event != complete || e.EventOffset != start || e.Offset < start || e.Offset > cut {
			t.Errorf("cut %d: error at event %d (start %d) byte %d, want event %d (start %d), byte in [%d,%d]: %v",
				cut, e.Event, e.EventOffset, e.Offset, complete, start, start, cut, err)
		}
		if !errors.Is(err, msgp.ErrShortBytes) {
			t.Errorf("cut %d: %v does not wrap msgp.ErrShortBytes", cut, err)
		}
	}
}

// TestCorruptEveryOffset overwrites each byte with values that are invalid
// or change structure: the decoder must end cleanly or with a positioned
// *Error, and never read outside the chunk (a panic would fail the test).
func TestCorruptEveryOffset(t *testing.T) {
	data := bigChunk(3)
	data = v1(data, fixArray, eventTime(1, 2, true), record(bin("x"), int64(-300), "y", 1.5))
	for i := range data {
		for _, bad := range []byte{0xc1, 0xff, 0x00, 0xdd, 0xdf, 0xc7, 0x7f} {
			c := append([]byte{}, data...)
			c[i] = bad
			d := NewDecoder(c)
			for d.Next() {
				d.Event().Record.Range(func([]byte, Value) bool { return true })
			}
			if err := d.Err(); err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(c) || e.EventOffset > e.Offset {
					t.Errorf("byte %d = %#x: Err() = %v, want a positioned *Error", i, bad, err)
				}
			} else if d.Offset() != len(c) {
				t.Errorf("byte %d = %#x: clean end at %d, want %d", i, bad, d.Offset(), len(c))
			}
		}
	}
}

func TestRecordLookup(t *testing.T) {
	ts := eventTime(1700000000, 0, false)
	data := v1(nil, fixArray, ts, record(
		"MESSAGE", bin("msg"),
		"log", "raw",
		"log", "duplicate: first wins",
		"Host", "wrong case",
		"_SOURCE_REALTIME_TIMESTAMP", "1700000000123456",
		"ts_int", uint64(1700000000123456),
		"ts_bad", "17000x",
		"SYSLOG_IDENTIFIER", bin("imapd"),
	))
	d := NewDecoder(data)
	if !d.Next() {
		t.Fatalf("Next() = false: %v", d.Err())
	}
	r := d.Event().Record
	keys := []string{"log", "host", "ident", "SYSLOG_IDENTIFIER", "MESSAGE", "_SOURCE_REALTIME_TIMESTAMP", "ts_int", "ts_bad"}
	vals := make([]Value, len(keys))
	r.Lookup(keys, vals)
	var got []string
	for i := range keys {
		got = append(got, keys[i]+"="+describe(vals[i]))
	}
	want := []string{
		"log=str:raw",
		"host=absent",
		"ident=absent",
		"SYSLOG_IDENTIFIER=bin:imapd",
		"MESSAGE=bin:msg",
		"_SOURCE_REALTIME_TIMESTAMP=str:1700000000123456",
		"ts_int=uint:1700000000123456",
		"ts_bad=str:17000x",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lookup (-want +got):\n%s", diff)
	}
	for i, k := range keys {
		v, ok := r.Get(k)
		if ok != (vals[i].Type != Absent) || describe(v) != describe(vals[i]) {
			t.Errorf("Get(%q) = %s, %v; Lookup gave %s", k, describe(v), ok, describe(vals[i]))
		}
	}

	ints := []struct {
		v      Value
		want   int64
		wantOK bool
	}{
		{vals[5], 1700000000123456, true},
		{vals[6], 1700000000123456, true},
		{vals[7], 0, false},
		{Value{Type: Int, Int: -4}, -4, true},
		{Value{Type: Uint, Uint: math.MaxUint64}, 0, false},
		{Value{Type: String, Bytes: []byte("-9223372036854775808")}, math.MinInt64, true},
		{Value{Type: String, Bytes: []byte("9223372036854775808")}, 0, false},
		{Value{Type: String, Bytes: []byte("99999999999999999999")}, 0, false},
		{Value{Type: String, Bytes: []byte("")}, 0, false},
		{Value{Type: String, Bytes: []byte("-")}, 0, false},
		{Value{Type: Other, Bytes: []byte{0xc0}}, 0, false},
	}
	for _, c := range ints {
		n, ok := c.v.Int64()
		if n != c.want || ok != c.wantOK {
			t.Errorf("%s.Int64() = %d, %v, want %d, %v", describe(c.v), n, ok, c.want, c.wantOK)
		}
	}
	if _, ok := vals[0].Text(); !ok {
		t.Errorf("Text() of a str: ok = false")
	}
	if _, ok := vals[6].Text(); ok {
		t.Errorf("Text() of a uint: ok = true")
	}
}

// TestZeroAllocs: decoding and looking up keys allocate nothing after the
// decoder's entry table has grown (the plugin's flush path depends on it).
func TestZeroAllocs(t *testing.T) {
	data := bigChunk(200)
	d := NewDecoder(data)
	keys := []string{"log", "ident", "MESSAGE"}
	vals := make([]Value, len(keys))
	for d.Next() {
	}
	allocs := testing.AllocsPerRun(20, func() {
		d.Reset(data)
		for d.Next() {
			d.Event().Record.Lookup(keys, vals)
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per chunk = %v, want 0", allocs)
	}
}
