package flush

// seqTable maps an ID to a sequence number: RepeatSet's index. It is an
// open-addressing table with linear probing over a power-of-two array kept
// at most half full, deleting by shifting back the rest of a probe run (no
// tombstones, so lookups stay short however many keys come and go). It
// replaced a Go map: the report's consumer goroutine, the one part of the
// report that cannot be spread over cores, calls it once per record.
//
// IDs are hashes already, but not all of their bits vary (tests use small
// IDs), so the slot comes from a Fibonacci hash of both words.
type seqTable struct {
	slots []seqSlot
	n     int
	shift uint8 // 64 - log2(len(slots))
}

type seqSlot struct {
	key ID
	v   uint64 // sequence number + 1; 0: empty slot
}

const seqTableMin = 1024

func (t *seqTable) home(k ID) uint64 {
	return ((k.Lo ^ k.Hi*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9) >> t.shift
}

func (t *seqTable) init(size int) {
	t.slots = make([]seqSlot, size)
	t.n = 0
	s := uint8(64)
	for x := size; x > 1; x >>= 1 {
		s--
	}
	t.shift = s
}

// get returns the value of k.
func (t *seqTable) get(k ID) (uint64, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.home(k); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == 0 {
			return 0, false
		}
		if s.key == k {
			return s.v - 1, true
		}
	}
}

// put sets the value of k.
func (t *seqTable) put(k ID, seq uint64) {
	if t.slots == nil {
		t.init(seqTableMin)
	}
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	i := t.home(k)
	for ; t.slots[i].v != 0; i = (i + 1) & mask {
		if t.slots[i].key == k {
			t.slots[i].v = seq + 1
			return
		}
	}
	t.slots[i] = seqSlot{key: k, v: seq + 1}
	t.n++
}

// del removes k if present.
func (t *seqTable) del(k ID) {
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := t.home(k)
	for ; t.slots[i].key != k || t.slots[i].v == 0; i = (i + 1) & mask {
		if t.slots[i].v == 0 {
			return
		}
	}
	t.n--
	for j := i; ; {
		j = (j + 1) & mask
		e := t.slots[j]
		if e.v == 0 {
			break
		}
		// e stays when its home h lies cyclically in (i, j]: moving it
		// before its home would hide it from lookups.
		h := t.home(e.key)
		if i <= j && i < h && h <= j || i > j && (i < h || h <= j) {
			continue
		}
		t.slots[i] = e
		i = j
	}
	t.slots[i] = seqSlot{}
}

func (t *seqTable) grow() {
	old := t.slots
	t.init(2 * len(old))
	mask := uint64(len(t.slots) - 1)
	for _, e := range old {
		if e.v == 0 {
			continue
		}
		i := t.home(e.key)
		for t.slots[i].v != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = e
		t.n++
	}
}

// reset empties the table, keeping its array.
func (t *seqTable) reset() {
	clear(t.slots)
	t.n = 0
}

// len returns the number of keys.
func (t *seqTable) len() int { return t.n }
