package chunk

import (
	"errors"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// FuzzDecode: for any input the decoder ends cleanly (having consumed every
// byte) or with a positioned *Error; it never panics, and the views it hands
// out lie inside the input. Seeds: testdata/fuzz/FuzzDecode plus the layouts
// below.
func FuzzDecode(f *testing.F) {
	emptyMeta := msgp.AppendMapHeader(nil, 0)
	f.Add(bigChunk(2))
	f.Add(v1(nil, fixArray, eventTime(1700000000, 1, true), record(bin("ident"), "imapd", "n", uint64(1)<<40)))
	f.Add(v2(nil, array16, floatTime(1.5), record("m", 1), record("MESSAGE", bin("x"), "t", "123")))
	f.Add(v2(nil, fixArray, eventTime(0xFFFFFFFE, 0, false), emptyMeta, record()))
	f.Add(v1(nil, fixArray, intTime(7), record("a", record("b", []byte{0x92, 0xc0, 0xc3}))))
	keys := []string{"log", "ident", "host", "MESSAGE", "_SOURCE_REALTIME_TIMESTAMP"}
	vals := make([]Value, len(keys))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data)
		events := 0
		for d.Next() {
			events++
			ev := d.Event()
			if ev.Offset < 0 || ev.Offset >= len(data) || ev.Index < events-1 {
				t.Fatalf("event %d: Offset %d Index %d outside a %d-byte chunk", events, ev.Offset, ev.Index, len(data))
			}
			_ = ev.Precision()
			ev.Record.Lookup(keys, vals)
			for _, v := range vals {
				checkInside(t, data, v.Bytes)
				v.Int64()
			}
			ev.Record.Range(func(k []byte, v Value) bool {
				checkInside(t, data, k)
				checkInside(t, data, v.Bytes)
				return true
			})
		}
		if err := d.Err(); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Err() = %v (%T), want *Error", err, err)
			}
			if e.Offset < e.EventOffset || e.Offset > len(data) || e.Event != d.Events()-1 || e.Error() == "" {
				t.Fatalf("bad position in %+v for a %d-byte chunk", e, len(data))
			}
		} else if d.Offset() != len(data) {
			t.Fatalf("clean end at %d of %d bytes", d.Offset(), len(data))
		}
		if events+d.GroupMarkers() > d.Events() {
			t.Fatalf("%d events + %d markers > %d walked", events, d.GroupMarkers(), d.Events())
		}
	})
}

// checkInside fails when the non-empty view v does not point into data.
func checkInside(t *testing.T, data, v []byte) {
	t.Helper()
	if len(v) == 0 {
		return
	}
	for i := range data {
		if &data[i] == &v[0] {
			if i+len(v) > len(data) {
				t.Fatalf("view of %d bytes at %d overruns a %d-byte chunk", len(v), i, len(data))
			}
			return
		}
	}
	t.Fatalf("view %q does not point into the chunk", v)
}
