package flush

import (
	"math/rand/v2"
	"testing"
)

// TestSeqTableMatchesMap drives seqTable and a Go map with the same random
// puts, overwrites and deletes over few keys whose slots collide (small
// IDs, equal low words) and many, across growth; every lookup must agree.
func TestSeqTableMatchesMap(t *testing.T) {
	for _, keys := range []int{7, 300, 5000} {
		r := rand.New(rand.NewPCG(uint64(keys), 1))
		var tb seqTable
		ref := map[ID]uint64{}
		key := func() ID {
			k := uint64(r.IntN(keys))
			if k%3 == 0 {
				return ID{Hi: k, Lo: 1} // same low word
			}
			return ID{Hi: k * 0x9e3779b97f4a7c15, Lo: k}
		}
		for i := 0; i < 200000; i++ {
			k := key()
			switch r.IntN(3) {
			case 0:
				v := r.Uint64() >> 1
				tb.put(k, v)
				ref[k] = v
			case 1:
				tb.del(k)
				delete(ref, k)
			}
			k = key()
			got, ok := tb.get(k)
			want, wok := ref[k]
			if ok != wok || got != want {
				t.Fatalf("keys %d, op %d: get(%v) = %d, %v; want %d, %v", keys, i, k, got, ok, want, wok)
			}
			if tb.len() != len(ref) {
				t.Fatalf("keys %d, op %d: len %d, want %d", keys, i, tb.len(), len(ref))
			}
		}
		tb.reset()
		if _, ok := tb.get(key()); ok || tb.len() != 0 {
			t.Fatal("reset left keys")
		}
	}
}
