package loggen

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng wraps a PCG by value: direct (inlinable) calls instead of the
// rand.Source interface, because the generator draws ~20 numbers per line.
type rng struct{ pcg rand.PCG }

func newRNG(seed int64) rng {
	var r rng
	// The second PCG word is a fixed odd constant: the seed alone decides the stream.
	r.pcg.Seed(uint64(seed), 0x9e3779b97f4a7c15)
	return r
}

func (r *rng) u64() uint64 { return r.pcg.Uint64() }

// n returns a uniform int64 in [0, n); n <= 0 gives 0. Lemire's
// multiply-shift: the bias (< n/2^64) is irrelevant here and it never loops,
// which keeps the stream position independent of the values drawn.
func (r *rng) n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int64(hi)
}

// between returns a uniform int64 in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + r.n(hi-lo+1) }

// f returns a uniform float64 in [0, 1).
func (r *rng) f() float64 { return float64(r.u64()>>11) * 0x1p-53 }

// p reports true with probability p.
func (r *rng) p(p float64) bool { return p > 0 && r.f() < p }

// pareto draws a heavy-tailed value >= xm with tail index alpha, capped.
func (r *rng) pareto(xm, alpha, limit float64) int64 {
	u := 1 - r.f()                         // (0, 1]
	v := xm * math.Exp(-math.Log(u)/alpha) // xm / u^(1/alpha); Exp(Log) is twice as fast as Pow
	if v > limit || math.IsInf(v, 0) {
		v = limit
	}
	return int64(v)
}

// logUniform draws a value whose logarithm is uniform in [log lo, log hi].
func (r *rng) logUniform(lo, hi float64) int64 {
	return int64(math.Exp(math.Log(lo) + r.f()*(math.Log(hi)-math.Log(lo))))
}

// pick returns an index drawn from cumulative weights cw (last = total).
func (r *rng) pick(cw []int32) int {
	x := int32(r.n(int64(cw[len(cw)-1])))
	for i, c := range cw {
		if x < c {
			return i
		}
	}
	return len(cw) - 1
}

func cumulative(w ...int32) []int32 {
	out := make([]int32, len(w))
	var s int32
	for i, v := range w {
		s += v
		out[i] = s
	}
	return out
}
