package flush

import "time"

// RepeatSet is the one definition of a repeat, shared by the plugin's
// seen-set (Dedup), `courier-traffic backfill` (which writes through
// Dedup) and the CLI report (which uses a RepeatSet directly), so the
// three cannot drift apart.
//
// A record is keyed by Key: every field but the time. The copies of one
// session form a chain: a record repeats an earlier one when a chain of
// its key holds a copy whose time is less than the tolerance away from
// the record's, or, for a tolerance of 0, equal to it. Precisely, with
// [First, Last] the time span of a chain's copies, the record's time t is
// part of the chain when First-tol < t < Last+tol, or First <= t <= Last.
// A part of the chain extends it, so a burst of copies collapses however
// long it runs (across a second, a minute, midnight), as long as each copy
// is close to another; and the order in which copies arrive does not
// matter (a chain grows at both ends).
//
// For second-precision stamps and a tolerance of at most 1s this is the
// classic rule (equal key and equal second); for microsecond stamps it
// takes a logger's reception time on each copy into account.
//
// A new chain is anchored at its first record: Cell is that record's
// Unix second, and K the number of live chains of the same key already
// anchored in that second (NextK), so that distinct sessions that share
// every field and a second (possible with a tolerance under 1s, or with
// dedup off where every record is a chain of its own) get distinct points:
// Identity(ev).Copy(K).
//
// Bounds: chains are kept in creation order; the oldest is dropped once its
// Last is older than the newest time seen minus the window, or while there
// are more than max chains. Eviction walks from the oldest end and stops at
// the first chain that may stay. A record of a dropped chain starts a new
// chain. With a clock (SetNow, the plugin's) and the guard on (SetGuard), a
// chain is also kept while it was created or extended less than the window
// ago by that clock: a chunk that spans more than the window of event time
// (a backlog read at once) and is retried must not drop the chains its own
// retry needs, nor the chain of a burst whose tail another pending chunk
// holds.
//
// A RepeatSet is not safe for concurrent use (Dedup locks around it). It
// does not allocate per record once its table and queue have grown.
type RepeatSet struct {
	tol    int64 // ns
	window int64 // ns; <= 0: no time bound
	max    int

	// index maps a key to the sequence number of its newest live chain;
	// chains of one key are linked newest to oldest through prev.
	index  seqTable
	chains []Chain // chains[i] has sequence number base+i; chains[:head] are dead
	head   int
	base   uint64
	newest int64 // Unix ns of the newest time seen
	clock  bool  // SetNow was called
	guard  bool  // SetGuard(true): the clock guards eviction
	now    int64 // the caller's clock, ns
}

// Chain is one session's run of copies in a RepeatSet.
type Chain struct {
	Key         ID
	First, Last int64 // Unix ns of the earliest and latest copy
	Cell        int64 // Unix second of the anchor (the chain's first record)
	K           uint32
	prev        uint64 // sequence number + 1 of the previous chain of Key; 0: none
	// hiLast, on the newest chain of a key, bounds the Last of all live
	// chains of the key: a time past it by the tolerance needs no walk.
	hiLast int64
	// touched is the clock (SetNow) when the chain was added or extended.
	touched int64
}

// NewRepeatSet returns an empty set with tolerance tol (< 0 means 0),
// keeping window of event time (<= 0: no time bound) and at most
// maxChains chains (< 1 means 1).
func NewRepeatSet(tol, window time.Duration, maxChains int) *RepeatSet {
	return &RepeatSet{tol: int64(max(tol, 0)), window: int64(window), max: max(maxChains, 1)}
}

// SetNow sets the clock reading (ns, any monotonic origin) that Add and
// Repeat stamp chains with; while the guard is on (SetGuard), eviction
// keeps a chain touched less than the window ago. Without a call the set
// has no clock.
func (s *RepeatSet) SetNow(ns int64) { s.clock, s.now = true, ns }

// SetGuard switches the clock's guard of eviction on or off. The chains
// are stamped by SetNow either way, so a guard switched on protects what
// was touched before.
func (s *RepeatSet) SetGuard(on bool) { s.guard = on }

// Len returns the number of live chains.
func (s *RepeatSet) Len() int { return len(s.chains) - s.head }

// Reset empties the set, keeping its bounds and storage.
func (s *RepeatSet) Reset() {
	s.index.reset()
	clear(s.chains)
	s.chains = s.chains[:0]
	s.head, s.base, s.newest = 0, 0, 0
}

// live returns the chain with sequence number seq, nil when it was dropped.
func (s *RepeatSet) live(seq uint64) *Chain {
	if seq < s.base+uint64(s.head) || seq >= s.base+uint64(len(s.chains)) {
		return nil
	}
	return &s.chains[seq-s.base]
}

// older returns the previous live chain of c's key, nil when there is
// none (or it was dropped).
func (s *RepeatSet) older(c *Chain) *Chain {
	if c.prev == 0 {
		return nil
	}
	return s.live(c.prev - 1)
}

// part reports whether t (Unix ns) belongs to c under tolerance tol.
func part(c *Chain, t, tol int64) bool {
	switch {
	case t < c.First:
		return c.First-t < tol
	case t > c.Last:
		return t-c.Last < tol
	}
	return true
}

// Repeat reports whether t is part of a live chain of key, and if so
// extends that chain to t: the copy is a repeat. One index lookup: the
// chain it finds first is the key's newest, which holds hiLast.
func (s *RepeatSet) Repeat(key ID, t int64) bool {
	seq, ok := s.index.get(key)
	if !ok {
		return false
	}
	newest := s.live(seq)
	if newest == nil || t > newest.hiLast && t-newest.hiLast >= s.tol {
		return false
	}
	for c := newest; c != nil; c = s.older(c) {
		if part(c, t, s.tol) {
			c.First = min(c.First, t)
			c.Last = max(c.Last, t)
			c.touched = s.now
			newest.hiLast = max(newest.hiLast, t)
			s.newest = max(s.newest, t)
			return true
		}
	}
	return false
}

// NextK returns the K for a new chain of key anchored in second cell: one
// more than the newest live chain of key in that cell has, 0 when there is
// none. (Chains get K = 0, 1, 2, ... in a cell in creation order, so this
// is their number unless the oldest were dropped.)
func (s *RepeatSet) NextK(key ID, cell int64) uint32 {
	seq, ok := s.index.get(key)
	if !ok {
		return 0
	}
	c := s.live(seq)
	// A chain's anchor is no later than its Last, so a cell past the
	// second of every Last holds no chain.
	if c == nil || cell > cellOf(c.hiLast) {
		return 0
	}
	for ; c != nil; c = s.older(c) {
		if c.Cell == cell {
			return c.K + 1
		}
	}
	return 0
}

// Add appends a chain (its Key, First, Last, Cell and K as given; the link
// is set here) and drops what the bounds require.
func (s *RepeatSet) Add(c Chain) {
	c.prev, c.hiLast, c.touched = 0, c.Last, s.now
	if seq, ok := s.index.get(c.Key); ok {
		if n := s.live(seq); n != nil {
			c.prev, c.hiLast = seq+1, max(n.hiLast, c.Last)
		}
	}
	s.index.put(c.Key, s.base+uint64(len(s.chains)))
	if len(s.chains) == cap(s.chains) {
		// Double, as append does only for small slices (it grows large
		// ones by 1.25x): a set that grows to N chains then allocates
		// and copies about 2N chains in all instead of 5N, which a fresh
		// process pays in page faults (a backlog through the plugin).
		s.chains = append(make([]Chain, 0, max(2*cap(s.chains), 1024)), s.chains...)
	}
	s.chains = append(s.chains, c)
	s.newest = max(s.newest, c.Last)
	s.evict()
}

// Check is the single-phase use of the set: it reports whether t is part
// of a chain of key (and extends it), or else starts a chain of key at t.
func (s *RepeatSet) Check(key ID, t int64) (repeat bool) {
	if s.Repeat(key, t) {
		return true
	}
	s.Add(Chain{Key: key, First: t, Last: t, Cell: cellOf(t)})
	return false
}

// cellOf returns the Unix second of t (Unix ns), rounding down.
func cellOf(t int64) int64 {
	sec := t / 1e9
	if t%1e9 < 0 {
		sec--
	}
	return sec
}

func (s *RepeatSet) evict() {
	// Without a clock no chain is kept for its touch (touched is past
	// every stamp); without a window none for its time.
	limit, touched := int64(-1<<63), int64(1<<63-1)
	if s.window > 0 && s.newest-s.window < s.newest {
		limit = s.newest - s.window
	}
	if s.clock && s.guard && s.window > 0 {
		touched = s.now - s.window
	}
	for s.head < len(s.chains) {
		c := &s.chains[s.head]
		if len(s.chains)-s.head <= s.max && (c.Last >= limit || c.touched >= touched) {
			break
		}
		seq := s.base + uint64(s.head)
		if v, ok := s.index.get(c.Key); ok && v == seq {
			s.index.del(c.Key)
		}
		*c = Chain{}
		s.head++
	}
	// Compact once the dead prefix dominates, so memory stays bounded by
	// about twice the live chains.
	if s.head > 1024 && s.head > len(s.chains)/2 {
		n := copy(s.chains, s.chains[s.head:])
		clear(s.chains[n:])
		s.chains = s.chains[:n]
		s.base += uint64(s.head)
		s.head = 0
	}
}
