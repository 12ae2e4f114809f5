package parser

import "math/bits"

// Word-at-a-time ("SWAR") scanning. Most of a line's cost is short scans
// (a host, an identifier, an IP address, a counter) whose byte loops pay a
// mispredicted branch where they stop; testing 8 bytes per step with plain
// integer arithmetic pays it once per scan. Loads are ordinary bounds-checked
// string indexing (no unsafe): a word is read only when 8 bytes remain, and
// the last bytes of a string take a byte loop, so any input is safe.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load8 returns s[i:i+8] as a little-endian word, the byte s[i] lowest (the
// compiler turns the byte loads into one 8-byte load). The caller checks
// i+8 <= len(s).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// eqMask flags the bytes of w equal to c: the lowest set bit of the result
// is the high bit of the first such byte (0 if none). Subtracting 1 from a
// byte borrows from the next one only when the byte is 0, so bytes above
// the first match may be flagged wrongly, never bytes below it.
func eqMask(w uint64, c byte) uint64 {
	x := w ^ (ones * uint64(c))
	return (x - ones) &^ x & highs
}

// firstByte returns the index in a word of the byte flagged by the lowest
// set bit of a non-zero mask from eqMask.
func firstByte(m uint64) int { return bits.TrailingZeros64(m) >> 3 }

// indexByteFrom returns the index of the first c in s at or after i, or -1.
func indexByteFrom(s string, i int, c byte) int {
	for ; i+8 <= len(s); i += 8 {
		if m := eqMask(load8(s, i), c); m != 0 {
			return i + firstByte(m)
		}
	}
	for ; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// indexShort is strings.IndexByte for a match expected within a few bytes
// (a host name, a keyword): a word loop beats the call and set-up of the
// vectorised version there.
func indexShort(s string, c byte) int {
	return indexByteFrom(s, 0, c)
}

// bracketed returns the index of the first ']' in s, -1 if there is none,
// or -2 if a '[' comes first (no IP or port contains one).
func bracketed(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := load8(s, i)
		if m := eqMask(w, ']') | eqMask(w, '['); m != 0 {
			if i += firstByte(m); s[i] == ']' {
				return i
			}
			return -2
		}
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case ']':
			return i
		case '[':
			return -2
		}
	}
	return -1
}

// tagEnd returns the index of the first byte that ends a syslog identifier
// (':', '[' or ' ') in s at or after i, or len(s).
func tagEnd(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		w := load8(s, i)
		if m := eqMask(w, ':') | eqMask(w, '[') | eqMask(w, ' '); m != 0 {
			return i + firstByte(m)
		}
	}
	for ; i < len(s) && !tagStop[s[i]]; i++ {
	}
	return i
}

// tagStop marks the bytes that end a syslog identifier.
var tagStop = [256]bool{':': true, '[': true, ' ': true}

// digitRun returns how many of the 8 bytes of t (a word XORed with
// 0x30...30, first byte lowest) are digits before the first non-digit
// byte. A byte is a digit iff its value is 0..9: adding 0x76 sets the high
// bit of a byte of 10..0x7f, and bytes of 0x80 and more have it already.
// Only bytes >= 0x8a carry into the next byte, and that byte follows a
// non-digit, so the lowest flagged byte is exactly the first non-digit.
func digitRun(t uint64) int {
	nd := ((t + 0x7676767676767676) | t) & highs
	return bits.TrailingZeros64(nd) >> 3 // 8 when all are digits
}

// swar8 converts the 8 digit values (0..9) of t, first digit in the lowest
// byte, into their decimal value: pairs, then quads, then the octet
// (D. Lemire's parse_eight_digits_unrolled). Leading zero bytes are
// leading zeros.
func swar8(t uint64) uint64 {
	t = t*10 + t>>8 // byte 2m: 10*d[2m] + d[2m+1]
	t = ((t&0x000000ff000000ff)*(100+1000000<<32) + (t>>16&0x000000ff000000ff)*(1+10000<<32)) >> 32
	return t & 0xffffffff
}
