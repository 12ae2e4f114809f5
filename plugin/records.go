package main

import (
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/flush/chunk"
)

// keyTable is the flat list of record keys an instance looks up, in groups:
// log keys, ident keys, host keys, message keys, time keys. One
// Record.Lookup per record fills a value per key in a single pass.
type keyTable struct {
	keys                           []string
	log, ident, host, message, tim [2]int // [start, end) in keys
}

func newKeyTable(cfg *flush.Config) keyTable {
	var t keyTable
	add := func(group []string) [2]int {
		start := len(t.keys)
		t.keys = append(t.keys, group...)
		return [2]int{start, len(t.keys)}
	}
	t.log = add(cfg.LogKeys)
	t.ident = add(cfg.IdentKeys)
	t.host = add(cfg.HostKeys)
	t.message = add(cfg.MessageKeys)
	t.tim = add(cfg.TimeKeys)
	return t
}

// first returns the first value of group that is str or bin.
func first(vals []chunk.Value, group [2]int) ([]byte, bool) {
	for _, v := range vals[group[0]:group[1]] {
		if b, ok := v.Text(); ok {
			return b, true
		}
	}
	return nil, false
}

// firstTime returns the time of the first time key whose value is an
// integer (or decimal string) of microseconds since the epoch.
func firstTime(vals []chunk.Value, group [2]int) (time.Time, bool) {
	for _, v := range vals[group[0]:group[1]] {
		if us, ok := v.Int64(); ok {
			return time.UnixMicro(us), true
		}
	}
	return time.Time{}, false
}

// view returns b as a string without copying. Legal here because every b
// is a view into the chunk, which Fluent Bit keeps alive (and unchanged)
// until FLBPluginFlushCtx returns, and the Batch holding the strings is
// written and discarded before that (flush.Batch keeps them until Write).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// walker is the per-flush scratch: a decoder and the value table. Pooled so
// a flush allocates nothing for decoding.
type walker struct {
	d    chunk.Decoder
	vals []chunk.Value
}

var walkers = sync.Pool{New: func() any { return new(walker) }}

// walkResult summarises one chunk walk.
type walkResult struct {
	records int   // records handed to the batch (AddLine, AddMessage, AddInvalid)
	groups  int   // group markers skipped
	err     error // *chunk.Error when the chunk is corrupt; records before it were added
}

// addChunk decodes data and hands every record to b:
//   - a record with a log key (str or bin): AddLine(raw line, record time),
//     for the tail input;
//   - else a record with a message key: AddMessage(first ident key, first
//     host key, time, precision, message), for the syslog and systemd
//     inputs. The time is the first time key's value (systemd
//     _SOURCE_REALTIME_TIMESTAMP, microseconds, precision time.Microsecond)
//     when present and numeric, else the record time with the precision it
//     was encoded with (chunk.Event.Precision: time.Second for a syslog
//     input record stamped from a second-precision header);
//   - else AddInvalid.
//
// On a corrupt chunk the records before the corruption have been added and
// the *chunk.Error is returned; the caller decides what to do with them.
// data must stay valid and unchanged until b has been written.
func addChunk(b *flush.Batch, t *keyTable, data []byte) walkResult {
	w := walkers.Get().(*walker)
	defer walkers.Put(w)
	w.d.Reset(data)
	if cap(w.vals) < len(t.keys) {
		w.vals = make([]chunk.Value, len(t.keys))
	}
	vals := w.vals[:len(t.keys)]
	var res walkResult
	for w.d.Next() {
		ev := w.d.Event()
		ev.Record.Lookup(t.keys, vals)
		res.records++
		if line, ok := first(vals, t.log); ok {
			b.AddLine(view(line), ev.Time)
			continue
		}
		msg, ok := first(vals, t.message)
		if !ok {
			b.AddInvalid(invalidReason(t, ev))
			continue
		}
		ident, _ := first(vals, t.ident)
		host, _ := first(vals, t.host)
		when, prec := ev.Time, ev.Precision()
		if tt, ok := firstTime(vals, t.tim); ok {
			when, prec = tt, time.Microsecond
		}
		b.AddMessage(view(ident), view(host), when, prec, view(msg))
	}
	res.groups = w.d.GroupMarkers()
	res.err = w.d.Err()
	clear(vals) // drop the views into data before pooling
	return res
}

// invalidReason names the keys that were looked for; it runs only for
// records that are unusable, so its allocations do not matter.
func invalidReason(t *keyTable, ev *chunk.Event) string {
	return "event " + itoa(ev.Index) + " has no string value for any of " +
		strings.Join(t.keys[t.log[0]:t.log[1]], ",") + " (log_key) or " +
		strings.Join(t.keys[t.message[0]:t.message[1]], ",") + " (message_key)"
}
