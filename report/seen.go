package report

import (
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
)

// seenSet is the report's dedup seen-set: flush.Dedup's bounds and
// eviction order, exactly (TestSeenSetMatchesDedup runs both on the same
// operations), as one call per record for the pipeline's consumer, the one
// goroutine whose work cannot be spread: no lock, one probe sequence
// instead of a lookup then an insert, and the key's own bits as the hash
// (a flush.LocalKey is already a 128-bit hash; a map hashes it again).
//
// Bounds, as flush.Dedup's: an entry is evicted once its event time is
// older than the newest committed event time minus the window, or, when
// there are more than max entries, oldest-committed first; eviction walks
// the commit order from its oldest end and stops at the first entry that
// may stay.
type seenSet struct {
	window int64 // ns; <= 0: no time bound
	max    int

	// Open addressing with linear probing over a power-of-two table kept
	// at most half full; the zero ID marks an empty slot (the identity
	// {0, 0} itself lives in hasZero).
	slots   []flush.ID
	n       int // entries, hasZero included
	hasZero bool

	queue  []seenEntry // commit order; queue[head:] are the entries
	head   int
	newest int64 // Unix ns of the newest committed event
}

type seenEntry struct {
	id flush.ID
	t  int64
}

// newSeenSet returns an empty set with flush.NewDedup's bounds.
func newSeenSet(window time.Duration, max int) *seenSet {
	if max < 1 {
		max = 1
	}
	return &seenSet{window: int64(window), max: max, slots: make([]flush.ID, 1024)}
}

// check is flush.Dedup's Seen(id) > 0 ? repeat : Add(id, t, 1): it
// reports whether id is held; if not, it commits id with event time t
// (Unix ns) and evicts what the bounds require.
func (s *seenSet) check(id flush.ID, t int64) (repeat bool) {
	if id == (flush.ID{}) {
		if s.hasZero {
			return true
		}
		s.hasZero = true
	} else {
		if 2*(s.n+1) > len(s.slots) {
			s.grow()
		}
		mask := uint64(len(s.slots) - 1)
		i := id.Lo & mask
		for s.slots[i] != (flush.ID{}) {
			if s.slots[i] == id {
				return true
			}
			i = (i + 1) & mask
		}
		s.slots[i] = id
	}
	s.n++
	s.queue = append(s.queue, seenEntry{id: id, t: t})
	if t > s.newest {
		s.newest = t
	}
	s.evict()
	return false
}

// evict is flush.Dedup.evictLocked.
func (s *seenSet) evict() {
	limit := int64(-1 << 63)
	if s.window > 0 && s.newest-s.window < s.newest {
		limit = s.newest - s.window
	}
	for s.head < len(s.queue) {
		e := s.queue[s.head]
		if s.n <= s.max && e.t >= limit {
			break
		}
		s.remove(e.id)
		s.queue[s.head] = seenEntry{}
		s.head++
	}
	if s.head > 1024 && s.head > len(s.queue)/2 {
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue = s.queue[:n]
		s.head = 0
	}
}

// remove deletes id, which is held, closing the gap by shifting back the
// entries of the probe run after it (no tombstones: lookups stay short).
func (s *seenSet) remove(id flush.ID) {
	s.n--
	if id == (flush.ID{}) {
		s.hasZero = false
		return
	}
	mask := uint64(len(s.slots) - 1)
	i := id.Lo & mask
	for s.slots[i] != id {
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		e := s.slots[j]
		if e == (flush.ID{}) {
			break
		}
		// e stays when its home slot k lies cyclically in (i, j]: moving
		// it before its home would hide it from lookups.
		k := e.Lo & mask
		if i <= j && i < k && k <= j || i > j && (i < k || k <= j) {
			continue
		}
		s.slots[i] = e
		i = j
	}
	s.slots[i] = flush.ID{}
}

// grow doubles the table.
func (s *seenSet) grow() {
	old := s.slots
	s.slots = make([]flush.ID, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, id := range old {
		if id == (flush.ID{}) {
			continue
		}
		i := id.Lo & mask
		for s.slots[i] != (flush.ID{}) {
			i = (i + 1) & mask
		}
		s.slots[i] = id
	}
}

// len returns the number of identities held.
func (s *seenSet) len() int { return s.n }
