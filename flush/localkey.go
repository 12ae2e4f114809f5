package flush

import (
	"encoding/binary"
	"hash/maphash"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/parser"
)

// localSeed seeds LocalKey's hash of the strings, once per process.
var localSeed = maphash.MakeSeed()

// LocalKey returns a 128-bit key of the fields Key hashes (every field but
// the time): two events get equal local keys when they get equal Keys, and
// different ones otherwise except for hash collisions. Unlike Identity it is seeded per
// process: a key must never be stored, sent or compared across processes,
// and it is no point time. It is for in-process dedup (the report's
// seen-set), where only equality matters: there it takes a third fewer
// instructions than Identity (557 against 823 per call, cachegrind over
// the CLI's benchmark log) and the CLI 4% less CPU time; alone, on cold
// strings, the two cost about the same (BenchmarkLocalKey).
//
// It is cheaper because an event parsed from a Courier line of the usual
// layout has its six strings in one run of the line,
//
//	HOST DAEMON: KEYWORD, user=USER, ip=[IP], port=[PORT
//
// which is hashed in place (hash/maphash, AES-based where the CPU has it)
// instead of being copied into a buffer. Any other event gets the same run
// built in a buffer (localSpan), so where the strings come from never
// changes the key. The run's 64-bit hash, the strings' lengths (with
// them the run decodes to one set of strings) and the fixed-size fields
// are then mixed as MurmurHash3 blocks from registers.
//
// Collisions: two events that differ in a fixed-size field or a length
// collide as two inputs of a 128-bit hash do; two that differ in the
// strings alone (same counters, same lengths) as a seeded
// 64-bit hash does, about 2^-64 per such pair.
//
// Safe for concurrent use; it allocates only when a run does not fit
// localSpanBuf bytes.
func LocalKey(ev *parser.Event) ID {
	var sh uint64
	if span, ok := inPlaceSpan(ev); ok {
		sh = maphash.String(localSeed, span)
	} else {
		sh = hashLocalSpan(ev)
	}
	var tls uint64
	if ev.TLS {
		tls = 1
	}
	var h1, h2 uint64
	h1, h2 = murmur3Block(h1, h2,
		uint64(ev.Service)|uint64(ev.Kind)<<8|uint64(ev.Has)<<16|tls<<24, 0)
	h1, h2 = murmur3Block(h1, h2, uint64(ev.Rcvd), uint64(ev.Sent))
	h1, h2 = murmur3Block(h1, h2, uint64(ev.Headers), uint64(ev.Body))
	h1, h2 = murmur3Block(h1, h2, uint64(ev.Top), uint64(ev.Retr))
	h1, h2 = murmur3Block(h1, h2, uint64(ev.Duration), uint64(uint32(len(ev.Host)))|uint64(len(ev.Daemon))<<32)
	h1, h2 = murmur3Block(h1, h2, uint64(uint32(len(ev.Keyword)))|uint64(len(ev.User))<<32,
		uint64(uint32(len(ev.IP)))|uint64(len(ev.Port))<<32)
	h1, h2 = murmur3Block(h1, h2, sh, localKeyVersion)
	var last [16]byte
	h1, h2 = murmur3Final(h1, h2, &last, 7*16)
	return ID{Hi: h1, Lo: h2}
}

// localKeyVersion is mixed into every key; it keeps LocalKey's inputs
// apart from Identity's by construction (a different length and layout),
// though the two are never compared.
const localKeyVersion = 0x4c4b32 // "LK2": no time since repeats are chains (RepeatSet)

// The separators of LocalKey's run of strings, as Courier writes them.
const (
	sepDaemon  = " "
	sepKeyword = ": "
	sepUser    = ", user="
	sepIP      = ", ip=["
	sepPort    = "], port=["
)

// The separators as the high bytes of a little-endian word (wordBefore).
var (
	sepUserWord = wordOf(sepUser)
	sepIPWord   = wordOf(sepIP)
	sepPortWord = wordOf(sepPort[:8])
)

// wordOf returns the bytes of s (at most 8) as a little-endian word.
func wordOf(s string) uint64 {
	var w uint64
	for i := len(s) - 1; i >= 0; i-- {
		w = w<<8 | uint64(s[i])
	}
	return w
}

// wordBefore returns s[end-8:end] as a little-endian word (s[end-1] in the
// highest byte). The caller checks 8 <= end <= len(s).
func wordBefore(s string, end uintptr) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[end-8:end]), 8))
}

// localSpanBuf is the size of hashLocalSpan's buffer on the stack.
const localSpanBuf = 256

// hashLocalSpan hashes the run of ev's strings built by localSpan. It is
// apart from LocalKey so that only this rarer path clears the buffer.
//
//go:noinline
func hashLocalSpan(ev *parser.Event) uint64 {
	var buf [localSpanBuf]byte
	return maphash.Bytes(localSeed, localSpan(buf[:0], ev))
}

// localSpan appends the run of ev's strings and their separators to b.
func localSpan(b []byte, ev *parser.Event) []byte {
	b = append(b, ev.Host...)
	b = append(b, sepDaemon...)
	b = append(b, ev.Daemon...)
	b = append(b, sepKeyword...)
	b = append(b, ev.Keyword...)
	b = append(b, sepUser...)
	b = append(b, ev.User...)
	b = append(b, sepIP...)
	b = append(b, ev.IP...)
	b = append(b, sepPort...)
	return append(b, ev.Port...)
}

// inPlaceSpan returns the run localSpan would build for ev when ev's
// strings already form it in memory: each starts right after the previous
// one and its separator, and the separators hold the right bytes. It only
// compares addresses until they show that the separators lie between the
// strings, in the memory they were cut from; then it reads them.
func inPlaceSpan(ev *parser.Event) (string, bool) {
	if ev.Host == "" || ev.Daemon == "" || ev.Keyword == "" || ev.User == "" || ev.IP == "" || ev.Port == "" {
		return "", false
	}
	h := uintptr(unsafe.Pointer(unsafe.StringData(ev.Host)))
	d := h + uintptr(len(ev.Host)+len(sepDaemon))
	k := d + uintptr(len(ev.Daemon)+len(sepKeyword))
	u := k + uintptr(len(ev.Keyword)+len(sepUser))
	i := u + uintptr(len(ev.User)+len(sepIP))
	p := i + uintptr(len(ev.IP)+len(sepPort))
	if d != uintptr(unsafe.Pointer(unsafe.StringData(ev.Daemon))) ||
		k != uintptr(unsafe.Pointer(unsafe.StringData(ev.Keyword))) ||
		u != uintptr(unsafe.Pointer(unsafe.StringData(ev.User))) ||
		i != uintptr(unsafe.Pointer(unsafe.StringData(ev.IP))) ||
		p != uintptr(unsafe.Pointer(unsafe.StringData(ev.Port))) {
		return "", false
	}
	span := unsafe.String(unsafe.StringData(ev.Host), int(p-h)+len(ev.Port))
	// The longer separators are checked as the last bytes of the 8-byte
	// word that ends where they end: every such word starts within span,
	// since the run up to ", user=" is at least "H D: K, user=", 13 bytes.
	if span[d-h-1] != ' ' || span[k-h-2] != ':' || span[k-h-1] != ' ' ||
		wordBefore(span, u-h)>>8 != sepUserWord ||
		wordBefore(span, i-h)>>16 != sepIPWord ||
		wordBefore(span, p-h-1) != sepPortWord || span[p-h-1] != '[' {
		return "", false
	}
	return span, true
}
