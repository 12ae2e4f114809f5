package flush

import (
	"encoding/binary"
	"math/bits"
)

// murmur3x64 computes MurmurHash3 x64_128 (Austin Appleby, public domain) of
// data with seed 0. It is used because point times must be the same in every
// process and every release: hash/maphash is seeded per process and FNV-128
// is several times slower on the ~100 bytes of an identity.
func murmur3x64(data []byte) (h1, h2 uint64) {
	full := len(data) &^ 15
	var last [16]byte
	copy(last[:], data[full:])
	h1, h2 = murmur3Blocks(0, 0, data[:full])
	return murmur3Final(h1, h2, &last, len(data))
}

// murmur3Blocks mixes data, a whole number of 16-byte blocks, into the
// state h1, h2.
func murmur3Blocks(h1, h2 uint64, data []byte) (uint64, uint64) {
	for ; len(data) >= 16; data = data[16:] {
		h1, h2 = murmur3Block(h1, h2, binary.LittleEndian.Uint64(data), binary.LittleEndian.Uint64(data[8:]))
	}
	return h1, h2
}

// murmur3Final mixes in the last partial block of an n-byte input, padded
// with zeros to 16 bytes, and returns the hash. Zero bytes add nothing to
// the block's words and a zero word mixes to zero, so the reference's
// byte-by-byte tail and its length cases come down to two word loads.
func murmur3Final(h1, h2 uint64, last *[16]byte, n int) (uint64, uint64) {
	h2 ^= mixK2(binary.LittleEndian.Uint64(last[8:]))
	h1 ^= mixK1(binary.LittleEndian.Uint64(last[:8]))

	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1 = fmix64(h1)
	h2 = fmix64(h2)
	h1 += h2
	h2 += h1
	return h1, h2
}

// MurmurHash3 x64_128 multipliers.
const (
	murmur3C1 = 0x87c37b91114253d5
	murmur3C2 = 0x4cf5ad432745937f
)

// murmur3Block mixes the 16-byte block k1, k2 (its two little-endian
// words) into the state h1, h2.
func murmur3Block(h1, h2, k1, k2 uint64) (uint64, uint64) {
	h1 ^= mixK1(k1)
	h1 = bits.RotateLeft64(h1, 27)
	h1 += h2
	h1 = h1*5 + 0x52dce729

	h2 ^= mixK2(k2)
	h2 = bits.RotateLeft64(h2, 31)
	h2 += h1
	h2 = h2*5 + 0x38495ab5
	return h1, h2
}

// mixK1 and mixK2 scramble the first and the second word of a block
// before it is mixed into h1 and h2 (murmur3Block, and the last partial
// block in murmur3Final).
func mixK1(k uint64) uint64 { return bits.RotateLeft64(k*murmur3C1, 31) * murmur3C2 }
func mixK2(k uint64) uint64 { return bits.RotateLeft64(k*murmur3C2, 33) * murmur3C1 }

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}
