package flush

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
)

// Batch collects the traffic events of one flush (a Fluent Bit chunk, a
// slice of a file). A Batch is used by one goroutine. The strings passed to
// AddLine and AddMessage are kept without copying until Write returns; after
// Write the Batch must not be used (it is recycled).
type Batch struct {
	f     *Flusher
	items []item
	// prev is the index of the item the previous record of this batch added,
	// -1 when that record added none; hadRecord tells whether there was a
	// previous record at all. Together they resolve "last message repeated
	// N times", which stands for the line just before it.
	prev      int
	hadRecord bool

	records, traffic, notTraffic, syntaxErrors, invalid, repeats,
	excluded, unauthenticated, markers, expanded int64

	// Scratch for Write/AppendBody, kept across uses of the pooled Batch.
	// pending holds the chains this batch starts (no bounds: a batch is
	// small); the delivered ones are committed to the Flusher's Dedup.
	pending *RepeatSet
	points  []pointRef
	body    []byte
	ends    []int // ends[i]: end offset in body of encoded point i
	encoded []int // encoded[i]: index in points of encoded point i
	commits []Chain
	enc     *Encoder
	// pst is AddLine's parser.State: its timestamp memo serves the lines
	// of a chunk that share a second (no service filter: every session
	// is a point).
	pst parser.State
}

type item struct {
	ev  parser.Event
	key ID  // Key(ev)
	n   int // occurrences this item stands for: 1, or N for an expanded repeat marker
}

type pointRef struct {
	item  int
	id    ID  // point identity of this occurrence (the point's time derives from it)
	chain int // its chain: index in the batch's pending set
}

// NewBatch returns an empty batch for one flush.
func (f *Flusher) NewBatch() *Batch {
	b := f.pool.Get().(*Batch)
	b.prev = -1
	return b
}

func (f *Flusher) release(b *Batch) {
	// Drop references to the caller's strings: the kept items and the slot
	// past them that a skipped record was parsed into.
	clear(b.items[:min(len(b.items)+1, cap(b.items))])
	b.items = b.items[:0]
	b.prev, b.hadRecord = -1, false
	b.records, b.traffic, b.notTraffic, b.syntaxErrors, b.invalid, b.repeats = 0, 0, 0, 0, 0, 0
	b.excluded, b.unauthenticated, b.markers, b.expanded = 0, 0, 0, 0
	if b.pending != nil {
		b.pending.Reset()
	}
	if cap(b.body) > 64<<20 {
		b.body = nil // do not pin an exceptional buffer forever
	}
	f.pool.Put(b)
}

// Len returns the number of traffic events held (an expanded repeat marker
// counts once).
func (b *Batch) Len() int { return len(b.items) }

// slot returns a zeroed Event at the end of items without growing Len.
func (b *Batch) slot() *parser.Event {
	n := len(b.items)
	if n == cap(b.items) {
		b.items = append(b.items, item{})[:n]
	}
	it := &b.items[:n+1][n]
	return &it.ev
}

// AddLine parses a raw syslog line; ref is the record time (year inference
// for year-less stamps). It never fails: see the package doc for what is
// counted and skipped.
func (b *Batch) AddLine(line string, ref time.Time) {
	ev := b.slot()
	res, err := b.f.parser.ParseLineState(line, ref, ev, &b.pst)
	b.handle(res, err, line)
}

// AddMessage parses the parts of a structured record (syslog or systemd
// input): identifier, host, time, and prec, the precision the source logged
// t with (time.Second for classic syslog, time.Microsecond for systemd's
// _SOURCE_REALTIME_TIMESTAMP). prec bounds the deterministic sub-precision
// offset of the point time: with prec <= 1ns distinct sessions logged at
// the same instant cannot be told apart.
func (b *Batch) AddMessage(ident, host string, t time.Time, prec time.Duration, msg string) {
	ev := b.slot()
	res, err := b.f.parser.ParseMessage(ident, host, t, prec, msg, ev)
	b.handle(res, err, msg)
}

// AddInvalid counts a record that could not be read at all (for example a
// record without a log or message key). reason is logged at debug level.
func (b *Batch) AddInvalid(reason string) {
	b.records++
	b.invalid++
	b.hadRecord, b.prev = true, -1
	b.f.log(LevelDebug, "invalid record: "+reason)
}

func (b *Batch) handle(res parser.Result, err error, input string) {
	b.records++
	prevItem, hadRecord := b.prev, b.hadRecord
	b.hadRecord, b.prev = true, -1
	ev := &b.items[:len(b.items)+1][len(b.items)].ev
	if err != nil {
		b.syntaxErrors++
		b.f.log(LevelDebug, "courier syntax error: "+err.Error()+": "+truncate(input, 200))
		return
	}
	switch res {
	case parser.Traffic:
		b.traffic++
		if b.skip(ev) {
			return
		}
		b.push(Key(ev), 1)
	case parser.Repeat:
		b.markers++
		if b.f.cfg.Dedup {
			// A marker stands for copies of a line already counted: with
			// dedup on they are repeats by definition.
			b.repeats++
			return
		}
		n := ev.Repeats
		if n <= 0 {
			return
		}
		if ev.Service != parser.ServiceUnknown {
			// "message repeated N times: [ msg ]": ev holds msg's fields.
			if b.skip(ev) {
				return
			}
			b.expanded += int64(n)
			b.push(Key(ev), n)
			return
		}
		// "last message repeated N times": the previous line of the host.
		host, daemon := ev.Host, ev.Daemon
		var src parser.Event
		switch {
		case hadRecord:
			if prevItem < 0 {
				return // the previous line was not a counted session
			}
			src = b.items[prevItem].ev
			if src.Host != host || (daemon != "" && src.Daemon != daemon) {
				return
			}
		default:
			var ok bool
			if src, ok = b.f.repeats.Lookup(host, daemon); !ok {
				return
			}
		}
		*ev = src
		b.expanded += int64(n)
		b.push(Key(ev), n)
	default:
		b.notTraffic++
	}
}

// skip counts and reports events that do not become points.
func (b *Batch) skip(ev *parser.Event) bool {
	if ev.User == "" && !b.f.cfg.CountUnauthenticated {
		b.unauthenticated++
		return true
	}
	if b.f.excluded(ev.IP) {
		b.excluded++
		return true
	}
	return false
}

// push keeps the event parsed into the slot at the end of items.
func (b *Batch) push(key ID, n int) {
	i := len(b.items)
	b.items = b.items[:i+1]
	b.items[i].key = key
	b.items[i].n = n
	b.prev = i
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// filter computes the points of b under the repeat definition of
// RepeatSet. With dedup on, an item that is part of a committed chain
// (copies of a delivered session) or of a chain started earlier in this
// batch is a repeat and extends that chain; any other item starts a chain
// and becomes a point. With dedup off every occurrence starts a chain and
// becomes a point. A new chain anchored in second c is numbered K after
// the chains of its key already anchored in c (committed or in this
// batch), and its point identity is Identity(ev).Copy(K): so a retried
// batch, a replay and a back-fill give the same points as the first
// delivery (see the package doc for what can still differ). Extending a
// committed chain is final at once (a repeat stays a repeat whatever
// happens to this batch); the new chains wait in b.pending for their
// delivery. It returns the number of occurrences dropped as repeats.
func (f *Flusher) filter(b *Batch) (repeats int64) {
	if b.pending == nil {
		b.pending = NewRepeatSet(f.cfg.DedupTolerance, 0, 1<<62)
	}
	pend := b.pending
	pend.Reset()
	b.points = b.points[:0]
	dedupOn := f.cfg.Dedup
	d := f.dedup
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tick()
	for i := range b.items {
		it := &b.items[i]
		t := it.ev.Time.UnixNano()
		if dedupOn {
			if d.set.Repeat(it.key, t) || pend.Repeat(it.key, t) {
				repeats += int64(it.n)
				continue
			}
		}
		sec, _ := truncTime(it.ev.Time, cellPrecision(it.ev.Precision))
		k := max(d.set.NextK(it.key, sec), pend.NextK(it.key, sec))
		var id ID
		for j := 0; j < it.n; j++ {
			if dedupOn && j > 0 {
				repeats++
				continue
			}
			if j == 0 {
				id = Identity(&it.ev)
			}
			kj := k + uint32(j)
			b.points = append(b.points, pointRef{item: i, id: id.Copy(int(kj)), chain: pend.Len()})
			pend.Add(Chain{Key: it.key, First: t, Last: t, Cell: sec, K: kj})
		}
	}
	return repeats
}

// encode fills b.body with the filtered points, one line each, and returns
// the number rejected by the encoder and the first rejection.
func (f *Flusher) encode(b *Batch, dst []byte) (body []byte, rejected int64, firstErr error) {
	if b.enc == nil {
		b.enc = NewEncoder(f.cfg.Measurement, f.cfg.LowerUser)
	}
	b.ends = b.ends[:0]
	b.encoded = b.encoded[:0]
	for pi, p := range b.points {
		ev := &b.items[p.item].ev
		var err error
		dst, err = b.enc.Append(dst, ev, PointTime(ev, p.id))
		if err != nil {
			rejected++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		b.ends = append(b.ends, len(dst))
		b.encoded = append(b.encoded, pi)
	}
	return dst, rejected, firstErr
}

// AppendBody appends to dst the line-protocol body Write would send for b
// (after dedup filtering against committed identities and within the
// batch); nothing is committed, counted or sent, and b stays usable. For
// benchmarks, tests and the CLI's dry runs.
func (f *Flusher) AppendBody(dst []byte, b *Batch) []byte {
	f.filter(b)
	body, _, _ := f.encode(b, dst)
	return body
}

// Discard recycles b without writing it, as Write does after sending:
// for callers that only wanted AppendBody (dry runs, benchmarks). Nothing
// is counted. b must not be used afterwards.
func (f *Flusher) Discard(b *Batch) { f.release(b) }

// Write dedups the batch, encodes its points and writes them in batch_size
// requests with the client's blocking write API, splitting a request in
// halves on 413. It returns the outcome for the whole batch: Retry as soon
// as one request needs a retry (the rest is not sent: the caller resends
// everything and rewritten points overwrite themselves), else Drop if a
// request was dropped, else Delivered. An empty batch (after dedup) is
// Delivered without a request.
//
// Identities are committed to the seen-set only for requests that were
// Delivered; with dedup off, only when the whole batch was not Retry (so a
// retried batch numbers its identical records the same way again). b must
// not be used after Write. ctx bounds the whole call (nil means
// context.Background()).
func (f *Flusher) Write(ctx context.Context, b *Batch) (out Outcome) {
	defer f.release(b)
	if ctx == nil {
		ctx = context.Background()
	}
	s := &f.stats
	s.records.Add(b.records)
	s.traffic.Add(b.traffic)
	s.notTraffic.Add(b.notTraffic)
	s.syntaxErrors.Add(b.syntaxErrors)
	s.invalid.Add(b.invalid)
	s.excluded.Add(b.excluded)
	s.unauthenticated.Add(b.unauthenticated)
	s.markers.Add(b.markers)
	s.expanded.Add(b.expanded)
	repeats := b.repeats
	defer func() {
		s.repeats.Add(repeats)
		switch out {
		case Retry:
			s.retries.Add(1)
		case Drop:
			s.drops.Add(1)
		}
	}()
	if len(b.items) == 0 {
		return Delivered
	}
	if !f.cfg.Dedup {
		f.rememberLast(b)
	}
	repeats += f.filter(b)
	if len(b.points) == 0 {
		return Delivered
	}
	body, rejected, firstErr := f.encode(b, b.body[:0])
	b.body = body
	if rejected > 0 {
		s.rejected.Add(rejected)
		f.log(LevelWarn, fmt.Sprintf("%d point(s) rejected by the line-protocol encoder and skipped; first: %s",
			rejected, firstErr))
	}
	if len(b.ends) == 0 {
		return Delivered
	}
	b.commits = b.commits[:0]
	out = Delivered
	total := len(b.ends)
	for lo := 0; lo < total; lo += f.cfg.BatchSize {
		hi := min(lo+f.cfg.BatchSize, total)
		o := f.send(ctx, b, lo, hi)
		if o == Retry {
			out = Retry
			break
		}
		if o == Drop {
			out = Drop
		}
	}
	if out == Retry {
		f.dedup.retry()
	}
	if out != Retry || f.cfg.Dedup {
		f.dedup.commit(b.commits)
	}
	return out
}

// send writes encoded points [lo, hi) in one request, or in halves on 413.
func (f *Flusher) send(ctx context.Context, b *Batch, lo, hi int) Outcome {
	start := 0
	if lo > 0 {
		start = b.ends[lo-1]
	}
	status, msg, err := f.post(ctx, b.body[start:b.ends[hi-1]])
	n := hi - lo
	if status == 413 && n > 1 {
		f.log(LevelWarn, fmt.Sprintf("write of %d points: status 413 (%s): splitting in halves", n, msg))
		mid := lo + n/2
		o1 := f.send(ctx, b, lo, mid)
		if o1 == Retry {
			return Retry
		}
		o2 := f.send(ctx, b, mid, hi)
		if o2 == Delivered {
			return o1
		}
		return o2
	}
	o := Classify(status, err)
	switch o {
	case Delivered:
		f.stats.pointsWritten.Add(int64(n))
		for _, pi := range b.encoded[lo:hi] {
			b.commits = append(b.commits, b.pending.chains[b.points[pi].chain])
		}
	case Retry:
		f.log(LevelError, fmt.Sprintf("write of %d points to bucket %q failed: %s: will retry",
			n, f.cfg.InfluxBucket, describe(status, msg)))
	case Drop:
		f.stats.pointsDropped.Add(int64(n))
		f.log(LevelError, fmt.Sprintf("write of %d points to bucket %q rejected: %s: dropped",
			n, f.cfg.InfluxBucket, describe(status, msg)))
	}
	return o
}

func describe(status int, msg string) string {
	if status == 0 {
		return "no response (" + msg + ")"
	}
	return "status " + strconv.Itoa(status) + " (" + msg + ")"
}

// rememberLast hands the batch's last record, when it was a counted
// session, to the repeat tracker: a "last message repeated" marker that
// starts the next batch refers to it.
func (f *Flusher) rememberLast(b *Batch) {
	if b.prev >= 0 && b.prev == len(b.items)-1 {
		f.repeats.Remember(&b.items[b.prev].ev)
	}
}
