package report

import (
	"bytes"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/parser"
)

// Read's pipeline. Three kinds of goroutines:
//
//   - one reader fills blocks of whole lines straight from the input (no
//     line-by-line copy), or maps them from a plain file (mapped.go: no
//     copy at all), and hands each to the workers and, in input order, to
//     the consumer;
//   - GOMAXPROCS workers each turn a block into per-block Stats and a list
//     of records: the sessions that passed every order-independent filter
//     (filter.classify), with their dedup identity already hashed;
//   - the consumer (Read's caller) takes blocks in input order and applies
//     what depends on order, the dedup seen-set, then sums the records
//     (each points to its user's interned name and, once the consumer has
//     seen the user, to the sums: no hashing of names here).
//
// Order matters only for dedup (the first occurrence counts, later ones are
// repeats, and the seen-set's window follows the newest time committed) and
// for "last message repeated" markers, which stand for the line before
// them; the latter is resolved inside the worker, which gets a copy of the
// line that precedes its block. Everything else is a pure function of one
// line, so the result equals AddLine over every line in order (a test checks
// it on generated logs with tiny blocks).
//
// Memory is flat: at most inflight blocks of blockSize bytes exist (read
// or mapped), reused from a per-Aggregator free list (a channel rather
// than a sync.Pool, so that the bound is hard and the garbage collector
// never drops and re-allocates a block mid-run); a line longer than a
// block goes to a separate buffer (or mapping) of at most maxLine bytes.

// maxWorkers caps the workers, and with them the blocks in flight (at
// most 18 MiB of blocks on any machine): past it the reader and the
// in-order consumer, not the parsing, bound the speed anyway.
const maxWorkers = 8

// blockSize is the size of a block: big enough that per-block costs (a
// channel send, a wake-up, a mapping) vanish, small enough to stay in the
// L2 cache between the reader's copy and the worker's scan, and for the
// workers to end together (the last block is the tail of a run).
const blockSize = 1 << 20

type block struct {
	buf  []byte // storage of data: len == the Aggregator's block size; allocated by the read path only
	long []byte // storage of a line longer than buf (at most maxLine bytes)
	mem  []byte // the mapped path's storage of data: a memory map, removed by unmap
	data []byte // lines; only the input's last line, or a line cut at maxLine, lacks its "\n"
	ref  time.Time

	// The line before data's first one and its reference time (dedup off
	// only; hasPrev false when there is none, or the previous input's last
	// line was not a point).
	prev    []byte
	prevRef time.Time
	hasPrev bool

	stats Stats
	recs  []rec
	err   error         // the mapped path: a fault of a shrunk file ended the scan
	done  chan struct{} // the worker's signal to the consumer; capacity 1
}

// rec is a session that passed every order-independent filter: n copies of
// rcvd and sent for user. check says that it is an original record under
// dedup: id and t are its identity and event time (Unix ns). A rec holds
// nothing of the block's data: the consumer never reads the block.
type rec struct {
	user       *userRef
	rcvd, sent int64
	n          int64
	id         flush.ID
	t          int64
	check      bool
	seed       bool // a record of the window before the day: into the seen-set only (filter.seeds)
}

// userRef is a user name interned by a worker (lower-cased under
// user_case lower): a record points to it instead of holding the name, so
// that the consumer, the one goroutine whose work cannot be spread, finds
// the user's sums without hashing the name or even reading it (a name in
// a block another core just parsed is a cache miss), and lower-cases none.
// A worker interns each name it emits once per Read: its table grows with
// the distinct users counted, as the sums do.
type userRef struct {
	name string // a copy: it outlives the block
	sums *Sums  // the consumer's: nil until it sums the first record of the ref
}

// recDensity is the block bytes per record that getBlock makes room for.
const recDensity = 256

// inflight bounds the blocks of one Aggregator: enough to keep every worker
// busy while the consumer catches up and the reader fills the next block.
func (a *Aggregator) inflight() int { return 2*max(a.workers, 1) + 2 }

// getBlock returns a free block, allocating one while fewer than inflight
// exist, else waiting for the consumer to release one.
func (a *Aggregator) getBlock() *block {
	select {
	case b := <-a.pool:
		return b
	default:
	}
	if a.made < a.inflight() {
		a.made++
		// Room for the records of a block of typical lines (a few thousand
		// for 1 MiB), so that recs rarely grows: its regrowth garbage was
		// most of the allocations of a run.
		return &block{recs: make([]rec, 0, a.blockSize/recDensity), done: make(chan struct{}, 1)}
	}
	return <-a.pool
}

// getBuf is getBlock for the read path: the block has its buf.
func (a *Aggregator) getBuf() *block {
	b := a.getBlock()
	if b.buf == nil {
		b.buf = make([]byte, a.blockSize)
	}
	return b
}

func (a *Aggregator) putBlock(b *block) {
	clear(b.recs) // drop the references to the workers' userRefs
	b.recs, b.data, b.stats, b.err = b.recs[:0], nil, Stats{}, nil
	if cap(b.long) > a.blockSize {
		b.long = nil // a rare long line: do not keep up to maxLine per block
	}
	a.pool <- b
}

// stream is the reader's state for one input.
type stream struct {
	a     *Aggregator
	r     io.Reader   // the read path's input (the mapped path's after a failed mapping)
	mf    *mappedFile // the mapped path's input; nil: read r
	cur   *block      // the mapped path: the block the reader holds
	ref   time.Time
	work  chan *block // to the workers, any order
	order chan *block // to the consumer, input order
	err   error       // the read error (not io.EOF); written before order is closed

	// Dedup off: the last line handed on so far (a copy), for the next
	// block's prev. At the end, the input's last line.
	trackPrev bool
	last      []byte
	lastRef   time.Time
	hasLast   bool
	emitted   bool // a line was handed on
}

// read runs the pipeline over one input (see the comment at the top): r,
// or mf when it is not nil (mapped.go).
func (a *Aggregator) read(r io.Reader, mf *mappedFile, ref time.Time) error {
	if a.pool == nil {
		a.pool = make(chan *block, a.inflight())
	}
	n := a.inflight()
	s := &stream{a: a, r: r, mf: mf, ref: ref, work: make(chan *block, n), order: make(chan *block, n)}
	if a.seen == nil {
		s.trackPrev = true
		if a.prevOK {
			// The previous input ended with a point: a marker opening this
			// input stands for it, as with AddLine.
			s.last, s.lastRef, s.hasLast = append(s.last, a.prevLine...), a.prevRef, true
		}
	}
	var wg sync.WaitGroup
	for range max(a.workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if mf != nil {
				debug.SetPanicOnFault(true) // for mf.catch; the goroutine ends here
			}
			w := worker{f: &a.f, st: a.f.state(), users: make(map[string]*userRef)}
			for b := range s.work {
				if mf != nil {
					w.scanMapped(b, mf)
				} else {
					w.scan(b)
				}
				b.done <- struct{}{}
			}
		}()
	}
	go s.produce()
	var err error // the first block's fault: later blocks are not accounted
	for b := range s.order {
		<-b.done
		if err == nil {
			if err = b.err; err == nil {
				a.apply(b)
			}
		}
		a.putBlock(b)
	}
	wg.Wait()
	if mf != nil {
		a.unmapPool()
	}
	if s.trackPrev && s.emitted {
		// What AddLine would have left: the last line, if it was a point.
		res, err := a.p.ParseLine(view(s.last), ref, &a.prevEv)
		a.prevOK = err == nil && res == parser.Traffic && a.f.isPoint(&a.prevEv)
		a.prevLine, a.prevRef = append(a.prevLine[:0], s.last...), ref
	}
	if err != nil {
		return err
	}
	return s.err
}

// apply is the in-order part: the seen-set, then the sums.
func (a *Aggregator) apply(b *block) {
	a.stats.add(&b.stats)
	for i := range b.recs {
		r := &b.recs[i]
		if r.seed {
			a.seen.Check(r.id, r.t)
			continue
		}
		if r.check && a.seen.Check(r.id, r.t) {
			a.stats.Repeats += r.n
			continue
		}
		u := r.user
		if u.sums == nil {
			u.sums = a.sums(u.name, false)
		}
		a.addSums(u.sums, r.n, r.rcvd, r.sent)
	}
}

// maxZeroReads bounds the consecutive (0, nil) answers of a misbehaving
// reader, as bufio does, before io.ErrNoProgress.
const maxZeroReads = 100

// fill reads into p until it is full or a read fails. It returns the
// bytes read and the failed read's error (io.EOF at the end of the input).
func (s *stream) fill(p []byte) (int, error) {
	n, zero := 0, 0
	for n < len(p) {
		m, err := s.r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			zero = 0
		} else if zero++; zero >= maxZeroReads {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// produce is the reader: it cuts the input into blocks of whole lines,
// mapped (produceMapped) or read (produceRead).
func (s *stream) produce() {
	defer close(s.order)
	defer close(s.work)
	if s.mf != nil {
		debug.SetPanicOnFault(true) // for mf.catch; the goroutine ends here
		defer func() {
			if b := s.cur; b != nil { // a fault while the reader held it
				b.unmap()
				s.a.putBlock(b)
			}
		}()
		defer s.mf.catch(&s.err)
		if s.produceMapped() {
			return
		}
	}
	s.produceRead()
}

// produceRead is the read path's reader. The bytes after a block's last
// newline are copied to the start of the next block; a line that does not
// fit a whole block goes alone into a block of its own (cut at maxLine
// bytes, as EachLine cuts it).
func (s *stream) produceRead() {
	b := s.a.getBuf()
	n := 0 // bytes in b.buf
	for {
		m, err := s.fill(b.buf[n:])
		n += m
		if err != nil {
			s.end(b, n, err)
			return
		}
		data := b.buf[:n]
		i := bytes.LastIndexByte(data, '\n')
		if i < 0 {
			// One line fills the whole block.
			var ok bool
			if n, ok = s.long(b, n); !ok {
				return
			}
			continue
		}
		next := s.a.getBuf()
		n = copy(next.buf, data[i+1:])
		s.emit(b, data[:i+1])
		b = next
	}
}

// long handles a line that fills b.buf[:n] without its newline: it hands
// on the line's first maxLine bytes (with the newline if it is within
// them) in a block of its own, skips the rest of the line, and leaves what
// follows the line at the start of b.buf. It returns the bytes now in
// b.buf, and false when the input ended (or failed) and b is released.
func (s *stream) long(b *block, n int) (int, bool) {
	lb := s.a.getBlock()
	lb.long = append(lb.long[:0], b.buf[:min(n, maxLine)]...)
	for {
		m, err := s.fill(b.buf)
		chunk := b.buf[:m]
		if j := bytes.IndexByte(chunk, '\n'); j >= 0 {
			lb.long = appendMax(lb.long, chunk[:j+1], maxLine)
			s.emit(lb, lb.long)
			n = copy(b.buf, chunk[j+1:])
			if err != nil {
				// Rare: the input ended within this read. Hand on the rest
				// and stop (produce's loop would read again and see EOF;
				// this saves nothing but keeps one path for errors).
				s.end(b, n, err)
				return 0, false
			}
			return n, true
		}
		lb.long = appendMax(lb.long, chunk, maxLine)
		if err != nil {
			s.emit(lb, lb.long)
			s.end(b, 0, err)
			return 0, false
		}
	}
}

// end finishes the read path at the read error err (io.EOF at the end of
// the input): it hands on the last n bytes in b.buf (the input's last
// line, without its newline) or releases b, and keeps err unless it is
// io.EOF.
func (s *stream) end(b *block, n int, err error) {
	if n > 0 {
		s.emit(b, b.buf[:n])
	} else {
		s.a.putBlock(b)
	}
	if err != io.EOF {
		s.err = err
	}
}

// appendMax appends p to b without growing b beyond limit bytes.
func appendMax(b, p []byte, limit int) []byte {
	return append(b, p[:max(0, min(len(p), limit-len(b)))]...)
}

// emit hands data (lines of b's storage) to the workers and the consumer.
func (s *stream) emit(b *block, data []byte) {
	b.data, b.ref = data, s.ref
	if s.trackPrev {
		b.prev = append(b.prev[:0], s.last...)
		b.prevRef, b.hasPrev = s.lastRef, s.hasLast
		s.last = append(s.last[:0], lastLine(data)...)
		s.lastRef, s.hasLast = s.ref, true
	}
	s.emitted = true
	s.work <- b
	s.order <- b
}

// lastLine returns the last line of data (non-empty), as EachLine passes it.
func lastLine(data []byte) []byte {
	if data[len(data)-1] != '\n' {
		return data[bytes.LastIndexByte(data, '\n')+1:]
	}
	body := data[:len(data)-1]
	return trimEOL(data[bytes.LastIndexByte(body, '\n')+1:])
}

// worker turns blocks into Stats and records. Each worker goroutine has
// its own (the Events are its scratch space).
type worker struct {
	f     *filter
	evs   [2]parser.Event
	st    parser.State        // see filter.state
	last  parsedLine          // dedup on: the last line parseRcvd parsed, and what it gave
	users map[string]*userRef // interned names, by the name as parsed
}

// user returns the userRef of name (as parsed; it may alias the block).
func (w *worker) user(name string) *userRef {
	if u := w.users[name]; u != nil {
		return u
	}
	u := &userRef{name: strings.Clone(name)}
	w.users[u.name] = u
	if w.f.lower {
		u.name = strings.ToLower(u.name) // no allocation when already lower case
	}
	return u
}

// view is an unsafe.String of b: no copy. The parser's strings alias b,
// which stays unchanged (and mapped) until the block is released, after
// the consumer used the records; records keep no view (worker.user copies
// the names).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (w *worker) scan(b *block) {
	if w.f.dedup {
		w.last = parsedLine{} // it aliased the previous block
		w.scanRcvd(b)
	} else {
		w.scanAll(b)
	}
}

// scanMapped is scan over the mapped file mf's bytes, recovering a fault
// (the file shrank) into b.err.
func (w *worker) scanMapped(b *block, mf *mappedFile) {
	defer mf.catch(&b.err)
	w.scan(b)
}

// scanRcvd is the dedup-on scan: with dedup on only a line with "rcvd="
// can change a sum or a counter other than Skipped (AddLine's rule), so
// only those lines are parsed. The lines are walked with IndexByte (SIMD)
// for their ends, and a second cursor jumps from one 'v' to the next (the
// rarest byte of "rcvd=" in mail logs: about one every other line): a line
// is looked at only when the next 'v' falls inside it.
func (w *worker) scanRcvd(b *block) {
	data := b.data
	st := &b.stats
	var lines, parsed int64
	nextV := -1 // the next 'v' at or after pos+2 (len(data): none); -1 before the first search
	for pos := 0; pos < len(data); {
		end, next := len(data), len(data) // the line is data[pos:end]; the next one starts at next
		if e := bytes.IndexByte(data[pos:], '\n'); e >= 0 {
			end, next = pos+e, pos+e+1
		}
		lines++
		if nextV < pos+2 {
			nextV = indexFrom(data, pos+2, 'v')
		}
		// A match has its 'v' at pos+2 or later and its '=' before end.
		for nextV+3 <= end {
			i := nextV
			if data[i-2] == 'r' && data[i-1] == 'c' && data[i+1] == 'd' && data[i+2] == '=' {
				line := data[pos:end]
				if end < len(data) && len(line) > 0 && line[len(line)-1] == '\r' {
					line = line[:len(line)-1] // "\r\n", as EachLine trims it
				}
				parsed++
				w.parseRcvd(b, line)
				break
			}
			nextV = indexFrom(data, i+1, 'v')
		}
		pos = next
	}
	st.Lines += lines
	st.Skipped += lines - parsed
}

// indexFrom returns the index of the first c in data at or after from, or
// len(data).
func indexFrom(data []byte, from int, c byte) int {
	if from >= len(data) {
		return len(data)
	}
	if i := bytes.IndexByte(data[from:], c); i >= 0 {
		return from + i
	}
	return len(data)
}

// parsedLine is the last line parseRcvd parsed in the current block (a view
// of it) and its outcome, for replay.
type parsedLine struct {
	line    []byte
	outcome outcome
	rec     rec // outcome counted: the record it gave, identity included
	ok      bool
}

// outcome is what parseRcvd did with a line.
type outcome uint8

const (
	outOther      outcome = iota // skipped by the service filter
	outOtherDay                  // skipped by the day window
	outSyntax                    // a syntax error
	outTraffic                   // a session end, w.evs[0]; counted or not by classify
	outCounted                   // a session end that classify counted: rec
	outMarker                    // a repeat marker of w.evs[0].Repeats copies
	outNotTraffic                // anything else
)

// parseRcvd accounts one line holding "rcvd=", dedup on.
//
// A line byte-identical to the one parseRcvd accounted just before (in
// this block) is not parsed again: the parse is a pure function of the
// bytes, the block's reference time and the filter, so it would give the
// same event, the same filter decisions and the same identity. The
// outcome is replayed instead, and a counted session's record is emitted
// again, to be found a repeat by the consumer's seen-set like any other.
// Courier's own repeat bug writes runs of such lines (the reason the
// classic script pipes through uniq).
func (w *worker) parseRcvd(b *block, line []byte) {
	ev := &w.evs[0]
	if l := &w.last; l.ok && bytes.Equal(line, l.line) {
		switch l.outcome {
		case outTraffic:
			w.f.classify(ev, 1, &b.stats)
		case outCounted:
			b.recs = append(b.recs, l.rec) // classify counted it: no counter to add
			if l.rec.seed {
				b.stats.OtherDay++ // classify counted it there
			}
		default:
			w.count(b, l.outcome)
		}
		return
	}
	res, err := w.f.p.ParseLineState(view(line), b.ref, ev, &w.st)
	var out outcome
	switch {
	case w.st.Outside:
		out = outOtherDay
	case w.st.Other:
		out = outOther
	case err != nil:
		out = outSyntax
	case res == parser.Traffic:
		out = outTraffic
	case res == parser.Repeat:
		out = outMarker
	default:
		out = outNotTraffic
	}
	if out != outTraffic {
		w.count(b, out)
	} else if n := len(b.recs); w.emit(b, ev, 1, true) && len(b.recs) > n {
		out, w.last.rec = outCounted, b.recs[n]
	}
	w.last.line, w.last.outcome, w.last.ok = line, out, true
}

// count adds a line of outcome out, other than a session end, to b's
// Stats (a marker's copies are w.evs[0].Repeats).
func (w *worker) count(b *block, out outcome) {
	st := &b.stats
	switch out {
	case outOtherDay:
		st.OtherDay++
	case outOther:
		st.OtherService++
	case outSyntax:
		st.SyntaxErrors++
	case outMarker:
		st.Markers++
		st.Repeats += int64(w.evs[0].Repeats)
	default:
		st.NotTraffic++
	}
}

// scanAll is the dedup-off scan: every line is parsed, as AddLine does
// (its counters and the "last message repeated" rule need every line).
// The previous line's Event stays in the other slot of w.evs while it is
// a point, so a marker needs no second parse.
func (w *worker) scanAll(b *block) {
	st := &b.stats
	cur := 0           // slot of w.evs for the next line
	prevPoint := false // the previous line is a point, its Event in w.evs[1-cur]
	if b.hasPrev {
		ev := &w.evs[1]
		res, err := w.f.p.ParseLineState(view(b.prev), b.prevRef, ev, &w.st)
		prevPoint = err == nil && res == parser.Traffic && w.f.isPoint(ev)
	}
	data := b.data
	for len(data) > 0 {
		var line []byte
		if e := bytes.IndexByte(data, '\n'); e >= 0 {
			line, data = trimEOL(data[:e+1]), data[e+1:]
		} else {
			line, data = data, nil
		}
		st.Lines++
		hadPrev := prevPoint
		prevPoint = false
		ev := &w.evs[cur]
		res, err := w.f.p.ParseLineState(view(line), b.ref, ev, &w.st)
		switch {
		case err != nil:
			st.SyntaxErrors++
		case res == parser.Traffic:
			if w.emit(b, ev, 1, true) {
				prevPoint, cur = true, 1-cur
			}
		case res == parser.Repeat:
			w.repeat(b, ev, hadPrev, &w.evs[1-cur])
		default:
			st.NotTraffic++
		}
	}
}

// repeat is Aggregator.repeat with dedup off, with the previous line's
// Event at hand (prev, valid when hadPrev).
func (w *worker) repeat(b *block, ev *parser.Event, hadPrev bool, prev *parser.Event) {
	b.stats.Markers++
	n := int64(ev.Repeats)
	if n <= 0 {
		return
	}
	if ev.Service != parser.ServiceUnknown {
		w.emit(b, ev, n, false)
		return
	}
	if !hadPrev || prev.Host != ev.Host || (ev.Daemon != "" && prev.Daemon != ev.Daemon) {
		return
	}
	w.emit(b, prev, n, false)
}

// emit is the order-independent half of Aggregator.add: the filters, then
// a record for the consumer. It reports classify's point.
func (w *worker) emit(b *block, ev *parser.Event, n int64, check bool) (point bool) {
	f := w.f
	count, point := f.classify(ev, n, &b.stats)
	if !count {
		if check && f.seeds(ev) {
			b.recs = append(b.recs, rec{check: true, seed: true, id: flush.LocalKey(ev), t: ev.Time.UnixNano()})
		}
		return point
	}
	r := rec{user: w.user(ev.User), rcvd: ev.Rcvd, sent: ev.Sent, n: n}
	if check && f.dedup {
		r.check, r.id, r.t = true, flush.LocalKey(ev), ev.Time.UnixNano()
	}
	b.recs = append(b.recs, r)
	return true
}
