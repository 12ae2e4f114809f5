package loggen

import "encoding/binary"

// secSet is a set of 64-bit keys that is emptied once per logged second.
// reset is O(1): entries carry the generation that wrote them, so a stale
// entry reads as empty. Open addressing with linear probing; 0 keys are
// remapped because 0 marks an empty slot.
type secSet struct {
	keys []uint64
	gens []uint32
	gen  uint32
	n    int
}

func newSecSet() secSet {
	return secSet{keys: make([]uint64, 64), gens: make([]uint32, 64), gen: 1}
}

func (s *secSet) reset() {
	s.gen++
	s.n = 0
	if s.gen == 0 { // wrapped after 4 billion seconds: clear for real
		clear(s.gens)
		s.gen = 1
	}
}

func fix0(k uint64) uint64 {
	if k == 0 {
		return 1
	}
	return k
}

func (s *secSet) has(k uint64) bool {
	k = fix0(k)
	m := uint64(len(s.keys) - 1)
	for i := k & m; ; i = (i + 1) & m {
		if s.gens[i] != s.gen {
			return false
		}
		if s.keys[i] == k {
			return true
		}
	}
}

func (s *secSet) add(k uint64) {
	k = fix0(k)
	if 2*(s.n+1) > len(s.keys) {
		s.grow()
	}
	m := uint64(len(s.keys) - 1)
	for i := k & m; ; i = (i + 1) & m {
		if s.gens[i] != s.gen {
			s.keys[i], s.gens[i] = k, s.gen
			s.n++
			return
		}
		if s.keys[i] == k {
			return
		}
	}
}

func (s *secSet) grow() {
	old, oldGens, g := s.keys, s.gens, s.gen
	s.keys = make([]uint64, 2*len(old))
	s.gens = make([]uint32, 2*len(old))
	s.gen, s.n = 1, 0
	for i, k := range old {
		if oldGens[i] == g {
			s.add(k)
		}
	}
}

// mix folds v into the hash h (a multiply-xorshift round: deterministic,
// unlike hash/maphash, so that output never depends on the process).
func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	h ^= h >> 29
	return h
}

// hashBytes folds b into h eight bytes at a time.
func hashBytes(h uint64, b []byte) uint64 {
	for len(b) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * i)
	}
	return mix(h, tail|uint64(len(b))<<56)
}
