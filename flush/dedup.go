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

// Identity returns the point identity of a traffic event: a
// MurmurHash3-128 over host, daemon, service, kind and keyword, user (as
// logged), ip, port, every counter, the field bits, TLS and the time
// truncated to its cell: the second (or ev.Precision when that is coarser).
// Equal records of one second give equal identities in every process and
// release; it does not allocate when the strings total fewer than 192
// bytes. Point times derive from it (PointTime), so all copies of a
// session within one second land on one point whatever their sub-second
// stamps; which records are copies of one session is RepeatSet's business.
//
// The hash input is, little-endian: identityVersion, byte(Service),
// byte(Kind), Has, TLS (0/1), the Unix seconds (8 bytes) and nanoseconds
// (4 bytes) of the truncated time, Rcvd, Sent, Headers, Body, Top, Retr,
// Duration (8 bytes each), then Host, Daemon, Keyword, User, IP and Port,
// each as its length (4 bytes) and its bytes. Point times derive from it:
// changing it means changing identityVersion. (For second-precision lines
// it is unchanged since the first release, so their points stay where
// earlier releases wrote them.)
func Identity(ev *parser.Event) ID {
	sec, nsec := truncTime(ev.Time, cellPrecision(ev.Precision))
	return identity(ev, identityVersion, sec, nsec)
}

// Key returns the repeat key of a traffic event: the hash of Identity
// with every field but the time (version keyVersion, time zero). Copies of
// one session have equal keys whatever their stamps; RepeatSet decides by
// their times whether they are copies.
func Key(ev *parser.Event) ID { return identity(ev, keyVersion, 0, 0) }

// keyVersion keeps Key's inputs apart from Identity's.
const keyVersion = 2

// cellPrecision is the unit a point's time is truncated to: the second,
// or a coarser logged precision.
func cellPrecision(p time.Duration) time.Duration { return max(p, time.Second) }

func identity(ev *parser.Event, version uint64, sec, nsec int64) ID {
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
		version|uint64(ev.Service)<<8|uint64(ev.Kind)<<16|uint64(ev.Has)<<24|tls<<32|s<<40,
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

// PointTime returns the timestamp of the point for an event with point
// identity id (Identity, or a Copy of it): the event's time truncated to
// its cell (the second) plus an offset of id mod the cell in nanoseconds.
// It is deterministic, never leaves the logged second (nor, so, the local
// day or hour), and separates distinct records of one second with
// probability 1 - 1e-9 per pair.
func PointTime(ev *parser.Event, id ID) time.Time {
	p := cellPrecision(ev.Precision)
	sec, nsec := truncTime(ev.Time, p)
	nsec += int64(id.Lo % uint64(p))
	// For precisions above a second the offset may exceed 1e9 ns;
	// time.Unix normalises it.
	return time.Unix(sec, nsec)
}

// Dedup is the plugin's seen-set of committed chains (a RepeatSet under a
// lock): the copies of the sessions whose points InfluxDB has accepted.
// Batches are checked against it, and commit to it only what was
// delivered (Flusher.Write), so a retried chunk is not mistaken for
// repeats of itself.
//
// All methods are safe for concurrent use.
type Dedup struct {
	mu    sync.Mutex
	set   *RepeatSet
	clock bool
	start time.Time // the clock's origin (monotonic)
	// retried is the clock when a write last answered Retry (-1: never):
	// the guard is on while that is less than the window ago.
	retried int64
}

// NewDedup returns an empty seen-set with RepeatSet's tolerance and bounds;
// with clock, the process's monotonic clock guards eviction while a write
// answered Retry less than the window ago (RepeatSet.SetNow and SetGuard,
// Config.DedupClock): only a retry brings a chunk back, and without one
// the set keeps the window of event time, even through a backlog.
func NewDedup(tol, window time.Duration, max int, clock bool) *Dedup {
	return &Dedup{set: NewRepeatSet(tol, window, max), clock: clock, start: time.Now(), retried: -1}
}

// tick sets the set's clock and guard; d.mu is held.
func (d *Dedup) tick() {
	if d.clock {
		now := int64(time.Since(d.start))
		d.set.SetNow(now)
		d.set.SetGuard(d.retried >= 0 && now-d.retried < d.set.window)
	}
}

// retry notes that a write answered Retry (before its delivered chains are
// committed, so that the guard protects them too).
func (d *Dedup) retry() {
	d.mu.Lock()
	d.retried = int64(time.Since(d.start))
	d.mu.Unlock()
}

// Check is RepeatSet.Check under the lock, for callers that commit as they
// go (tests, single-phase tools).
func (d *Dedup) Check(ev *parser.Event) (repeat bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tick()
	return d.set.Check(Key(ev), ev.Time.UnixNano())
}

// Len returns the number of live chains.
func (d *Dedup) Len() int {
	d.mu.Lock()
	n := d.set.Len()
	d.mu.Unlock()
	return n
}

// commit adds delivered chains under one lock.
func (d *Dedup) commit(chains []Chain) {
	if len(chains) == 0 {
		return
	}
	d.mu.Lock()
	d.tick()
	for _, c := range chains {
		d.set.Add(c)
	}
	d.mu.Unlock()
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
