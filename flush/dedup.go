package flush

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
)

// ID is the 128-bit identity of a record (see Identity).
type ID struct{ Hi, Lo uint64 }

// identityVersion is hashed first: changing what goes into an identity must
// change this, since point times derive from it (old and new points would
// no longer overwrite each other).
const identityVersion = 1

// Identity returns the identity of a traffic event: a MurmurHash3-128 over
// host, daemon, service, kind and keyword, user (as logged), ip, port,
// every counter, the field bits, TLS and the time truncated to
// ev.Precision. Equal records give equal identities in every process and
// release; it does not allocate when the strings total fewer than 192 bytes.
//
// The hash input is, little-endian: identityVersion, byte(Service),
// byte(Kind), Has, TLS (0/1), the Unix seconds (8 bytes) and nanoseconds
// (4 bytes) of the truncated time, Rcvd, Sent, Headers, Body, Top, Retr,
// Duration (8 bytes each), then Host, Daemon, Keyword, User, IP and Port,
// each as its length (4 bytes) and its bytes. Point times derive from it:
// changing it means changing identityVersion.
func Identity(ev *parser.Event) ID {
	sec, nsec := truncTime(ev.Time, ev.Precision)
	var tls uint64
	if ev.TLS {
		tls = 1
	}
	// The first 64 bytes of the input are the head up to the first 7
	// bytes of Retr: mix them as four blocks of words formed in registers
	// (sec at byte 5, nsec at 13, the counters at 17, 25, ..., 65) rather
	// than storing and loading them.
	s, ns := uint64(sec), uint64(uint32(nsec))
	rcvd, sent, hdrs := uint64(ev.Rcvd), uint64(ev.Sent), uint64(ev.Headers)
	body, top, retr, dur := uint64(ev.Body), uint64(ev.Top), uint64(ev.Retr), uint64(ev.Duration)
	var h1, h2 uint64
	h1, h2 = murmur3Block(h1, h2,
		identityVersion|uint64(ev.Service)<<8|uint64(ev.Kind)<<16|uint64(ev.Has)<<24|tls<<32|s<<40,
		s>>24|ns<<40)
	h1, h2 = murmur3Block(h1, h2, ns>>24|rcvd<<8, rcvd>>56|sent<<8)
	h1, h2 = murmur3Block(h1, h2, sent>>56|hdrs<<8, hdrs>>56|body<<8)
	h1, h2 = murmur3Block(h1, h2, body>>56|top<<8, top>>56|retr<<8)

	// The rest, the last 9 bytes of the head and the strings, goes
	// through a buffer. Its zero bytes past the end pad the last block
	// for murmur3Final.
	var arr [identityBuf]byte
	b := binary.LittleEndian.AppendUint64(arr[:0], retr>>56|dur<<8)
	b = append(b, byte(dur>>56))
	b = appendString(b, ev.Host)
	b = appendString(b, ev.Daemon)
	b = appendString(b, ev.Keyword)
	b = appendString(b, ev.User)
	b = appendString(b, ev.IP)
	b = appendString(b, ev.Port)
	n := len(b)
	if n+16 > len(arr) {
		// Not 16 zero bytes left in arr (b may have moved off it): add them.
		b = append(b, make([]byte, 16)...)
	}
	full := n &^ 15
	h1, h2 = murmur3Blocks(h1, h2, b[:full])
	h1, h2 = murmur3Final(h1, h2, (*[16]byte)(b[full:full+16]), 64+n)
	return ID{Hi: h1, Lo: h2}
}

// identityBuf is the size of Identity's buffer, for the last 9 bytes of the
// head, 4*6 of length prefixes, strings of up to 191 bytes and 16 bytes of
// padding.
const identityBuf = 9 + 4*6 + 191 + 16

// appendString appends len(s) (4 bytes, little-endian) and s. The length
// prefix keeps ("ab","c") and ("a","bc") apart.
func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Copy returns the identity of the k-th occurrence of a record (k = 0 is the
// record itself). Distinct occurrences (legitimately identical sessions
// with dedup off, or the copies a repeat marker stands for) need distinct
// point times, and a retried chunk must give the same ones again: so the
// copy identity is a pure function of the identity and k.
func (id ID) Copy(k int) ID {
	if k == 0 {
		return id
	}
	kk := uint64(k)
	return ID{
		Hi: fmix64(id.Hi ^ fmix64(kk+0x9e3779b97f4a7c15)),
		Lo: fmix64(id.Lo ^ fmix64(kk^0xc2b2ae3d27d4eb4f) ^ id.Hi),
	}
}

// truncTime splits t into Unix seconds and nanoseconds truncated to prec
// (prec <= 1ns means no truncation).
func truncTime(t time.Time, prec time.Duration) (sec int64, nsec int64) {
	sec, nsec = t.Unix(), int64(t.Nanosecond())
	switch {
	case prec <= time.Nanosecond:
	case prec < time.Second:
		nsec -= nsec % int64(prec)
	default:
		nsec = 0
		if p := int64(prec / time.Second); p > 1 {
			m := sec % p
			if m < 0 {
				m += p
			}
			sec -= m
		}
	}
	return sec, nsec
}

// PointTime returns the timestamp of the point for an event with identity
// id: the logged time truncated to ev.Precision plus an offset of
// id mod ev.Precision nanoseconds. It is deterministic, never leaves the
// logged unit (a second-precision line stays in its second), and separates
// distinct records logged in the same unit with probability
// 1 - 1/precision-in-ns per pair.
func PointTime(ev *parser.Event, id ID) time.Time {
	sec, nsec := truncTime(ev.Time, ev.Precision)
	if p := ev.Precision; p > time.Nanosecond {
		nsec += int64(id.Lo % uint64(p))
		// For precisions above a second the offset may exceed 1e9 ns;
		// time.Unix normalises it.
	}
	return time.Unix(sec, nsec)
}

// Dedup is the bounded seen-set of committed record identities
// (DESIGN.md section 3). It counts occurrences per identity so that the
// same structure serves dedup on (any committed occurrence makes a record a
// repeat) and dedup off (the n-th occurrence gets the copy identity n).
//
// Bounds: an entry is evicted once its event time is older than the newest
// committed event time minus the window, or, when there are more than max
// entries, oldest-committed first. Eviction runs on Add. Records older than
// the window (a back-fill of old data after newer data) are still checked
// against what remains; identities already evicted count as new.
//
// All methods are safe for concurrent use.
type Dedup struct {
	mu     sync.Mutex
	window int64 // ns
	max    int
	counts map[ID]uint32
	queue  []dedupEntry // commit order; queue[head:] are live
	head   int
	newest int64 // Unix ns of the newest committed event
}

type dedupEntry struct {
	id ID
	t  int64
}

// NewDedup returns an empty seen-set keeping window of event time and at
// most max entries (max < 1 means 1; window <= 0 means no time bound).
func NewDedup(window time.Duration, max int) *Dedup {
	if max < 1 {
		max = 1
	}
	return &Dedup{window: int64(window), max: max, counts: make(map[ID]uint32)}
}

// Identity is the package function Identity; a method for callers holding
// only a *Dedup.
func (d *Dedup) Identity(ev *parser.Event) ID { return Identity(ev) }

// Seen returns the number of committed occurrences of id (0: never seen, or
// evicted).
func (d *Dedup) Seen(id ID) int {
	d.mu.Lock()
	n := d.counts[id]
	d.mu.Unlock()
	return int(n)
}

// Add commits n more occurrences of id, whose event time is t, and evicts
// what the bounds require.
func (d *Dedup) Add(id ID, t time.Time, n int) {
	d.mu.Lock()
	d.addLocked(id, t.UnixNano(), n)
	d.evictLocked()
	d.mu.Unlock()
}

// Len returns the number of identities held.
func (d *Dedup) Len() int {
	d.mu.Lock()
	n := len(d.counts)
	d.mu.Unlock()
	return n
}

func (d *Dedup) addLocked(id ID, t int64, n int) {
	if n <= 0 {
		return
	}
	c, ok := d.counts[id]
	if !ok {
		d.queue = append(d.queue, dedupEntry{id: id, t: t})
	}
	if c+uint32(n) < c { // saturate instead of wrapping
		c = ^uint32(0)
	} else {
		c += uint32(n)
	}
	d.counts[id] = c
	if t > d.newest {
		d.newest = t
	}
}

func (d *Dedup) evictLocked() {
	limit := int64(-1 << 63)
	if d.window > 0 && d.newest-d.window < d.newest {
		limit = d.newest - d.window
	}
	for d.head < len(d.queue) {
		e := d.queue[d.head]
		if len(d.counts) <= d.max && e.t >= limit {
			break
		}
		delete(d.counts, e.id)
		d.queue[d.head] = dedupEntry{}
		d.head++
	}
	// Compact once the dead prefix dominates, so memory stays bounded by
	// about twice the live entries.
	if d.head > 1024 && d.head > len(d.queue)/2 {
		n := copy(d.queue, d.queue[d.head:])
		clear(d.queue[n:])
		d.queue = d.queue[:n]
		d.head = 0
	}
}

// lookup sets seen[i] to the committed occurrences of ids[i], under one lock.
func (d *Dedup) lookup(ids []ID, seen []uint32) {
	d.mu.Lock()
	for i, id := range ids {
		seen[i] = d.counts[id]
	}
	d.mu.Unlock()
}

// commit adds the given occurrences under one lock.
func (d *Dedup) commit(entries []commitEntry) {
	if len(entries) == 0 {
		return
	}
	d.mu.Lock()
	for _, e := range entries {
		d.addLocked(e.id, e.t, int(e.n))
	}
	d.evictLocked()
	d.mu.Unlock()
}

type commitEntry struct {
	id ID
	t  int64
	n  uint32
}

// RepeatTracker remembers the previous traffic event per host and per
// host+daemon, for rsyslog's "last message repeated N times" marker, which
// names no message. Remember copies the strings, so the input may be reused.
// It holds at most a few thousand keys (it is reset when full: hosts are
// few). Safe for concurrent use.
type RepeatTracker struct {
	mu   sync.Mutex
	last map[string]parser.Event
}

const maxRepeatKeys = 4096

// NewRepeatTracker returns an empty tracker.
func NewRepeatTracker() *RepeatTracker {
	return &RepeatTracker{last: make(map[string]parser.Event)}
}

func repeatKey(host, daemon string) string { return host + "\x00" + daemon }

// Remember records ev as the latest traffic event of its host and of its
// host+daemon.
func (r *RepeatTracker) Remember(ev *parser.Event) {
	c := cloneEvent(ev)
	r.mu.Lock()
	if len(r.last) >= maxRepeatKeys {
		clear(r.last)
	}
	r.last[repeatKey(c.Host, c.Daemon)] = c
	r.last[repeatKey(c.Host, "\x00any")] = c
	r.mu.Unlock()
}

// Lookup returns the latest traffic event of host and daemon; daemon ""
// (a marker without a tag, as old sysklogd writes) matches any daemon of
// the host.
func (r *RepeatTracker) Lookup(host, daemon string) (parser.Event, bool) {
	if daemon == "" {
		daemon = "\x00any"
	}
	r.mu.Lock()
	ev, ok := r.last[repeatKey(host, daemon)]
	r.mu.Unlock()
	return ev, ok
}

// cloneEvent copies ev with its strings in one fresh allocation, so the
// copy outlives the input it was parsed from.
func cloneEvent(ev *parser.Event) parser.Event {
	c := *ev
	strs := [...]*string{&c.Host, &c.Daemon, &c.Keyword, &c.User, &c.IP, &c.Port}
	n := 0
	for _, s := range strs {
		n += len(*s)
	}
	buf := make([]byte, 0, n)
	for _, s := range strs {
		buf = append(buf, *s...)
	}
	all := string(buf)
	off := 0
	for _, s := range strs {
		l := len(*s)
		*s = all[off : off+l]
		off += l
	}
	return c
}
