package flush

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/courier-traffic/courier-traffic/parser"
)

var baseTime = time.Date(2026, 7, 3, 6, 36, 47, 0, time.UTC)

// imapEvent builds a complete IMAP session end, as the parser would.
func imapEvent(user string, at time.Time, rcvd int64) parser.Event {
	return parser.Event{
		Time: at, Precision: time.Second, Host: "mx1", Daemon: "imapd",
		Service: parser.IMAP, Kind: parser.Logout, Keyword: "LOGOUT",
		User: user, IP: "::ffff:192.0.2.7", Port: "40112",
		Rcvd: rcvd, Sent: 2000, Headers: 300, Body: 4000, Duration: 12,
		Has: parser.HasPort | parser.HasBytes | parser.HasTime | parser.HasContent,
	}
}

func TestMurmur3Vectors(t *testing.T) {
	// Reference values of MurmurHash3_x64_128 with seed 0.
	cases := []struct {
		in     string
		h1, h2 uint64
	}{
		{"", 0, 0},
		{"hello", 0xcbd8a7b341bd9b02, 0x5b1e906a48ae1d19},
		{"The quick brown fox jumps over the lazy dog", 0xe34bbc7bbc071b6c, 0x7a433ca9c49a9347},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			h1, h2 := murmur3x64([]byte(tc.in))
			if h1 != tc.h1 || h2 != tc.h2 {
				t.Errorf("murmur3(%q) = %016x%016x, want %016x%016x", tc.in, h1, h2, tc.h1, tc.h2)
			}
		})
	}
}

// fieldChanges change one field of imapEvent each (or the split between
// two strings): each must change a record's identity, and its LocalKey.
var fieldChanges = []struct {
	name string
	mut  func(e *parser.Event)
}{
	{"host", func(e *parser.Event) { e.Host = "mx2" }},
	{"daemon", func(e *parser.Event) { e.Daemon = "imapd-ssl" }},
	{"service", func(e *parser.Event) { e.Service = parser.POP3 }},
	{"kind", func(e *parser.Event) { e.Kind = parser.Timeout }},
	{"keyword", func(e *parser.Event) { e.Keyword = "logout" }},
	{"user", func(e *parser.Event) { e.User = "Alice" }},
	{"ip", func(e *parser.Event) { e.IP = "::ffff:192.0.2.8" }},
	{"port", func(e *parser.Event) { e.Port = "40113" }},
	{"rcvd", func(e *parser.Event) { e.Rcvd++ }},
	{"sent", func(e *parser.Event) { e.Sent++ }},
	{"headers", func(e *parser.Event) { e.Headers++ }},
	{"body", func(e *parser.Event) { e.Body++ }},
	{"top", func(e *parser.Event) { e.Top++ }},
	{"retr", func(e *parser.Event) { e.Retr++ }},
	{"duration", func(e *parser.Event) { e.Duration++ }},
	{"tls", func(e *parser.Event) { e.TLS = true }},
	{"has", func(e *parser.Event) { e.Has &^= parser.HasPort }},
	{"second", func(e *parser.Event) { e.Time = e.Time.Add(time.Second) }},
	{"string boundary", func(e *parser.Event) { e.Host, e.Daemon = "mx1i", "mapd" }},
}

func TestIdentity(t *testing.T) {
	base := imapEvent("alice", baseTime, 100)
	id := Identity(&base)

	// Same record from different memory, and a sub-precision time difference
	// (a second-precision line has no sub-second part to differ in).
	same := imapEvent(strings.Clone("alice"), baseTime.Add(999*time.Millisecond), 100)
	if got := Identity(&same); got != id {
		t.Errorf("identity of an equal record differs: %v vs %v", got, id)
	}

	for _, m := range fieldChanges {
		t.Run(m.name, func(t *testing.T) {
			ev := base
			m.mut(&ev)
			if got := Identity(&ev); got == id {
				t.Errorf("changing %s leaves the identity unchanged", m.name)
			}
		})
	}
}

func TestIdentityMicrosecondPrecision(t *testing.T) {
	a := imapEvent("alice", baseTime.Add(123456*time.Nanosecond), 1)
	a.Precision = time.Microsecond
	b := a
	b.Time = baseTime.Add(123999 * time.Nanosecond) // same microsecond
	c := a
	c.Time = baseTime.Add(124000 * time.Nanosecond) // next microsecond
	if Identity(&a) != Identity(&b) {
		t.Error("same microsecond, different identity")
	}
	if Identity(&a) == Identity(&c) {
		t.Error("different microseconds, same identity")
	}
}

func TestPointTime(t *testing.T) {
	cases := []struct {
		name string
		prec time.Duration
		at   time.Time
	}{
		{"second", time.Second, baseTime.Add(500 * time.Millisecond)},
		{"millisecond", time.Millisecond, baseTime.Add(1234567 * time.Nanosecond)},
		{"microsecond", time.Microsecond, baseTime.Add(1234567 * time.Nanosecond)},
		{"nanosecond", time.Nanosecond, baseTime.Add(1234567 * time.Nanosecond)},
		{"before 1970", time.Second, time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seenTimes := map[time.Time]bool{}
			for i := 0; i < 200; i++ {
				ev := imapEvent(fmt.Sprintf("user%d", i), tc.at, int64(i))
				ev.Precision = tc.prec
				id := Identity(&ev)
				pt := PointTime(&ev, id)
				lo := tc.at.Truncate(tc.prec)
				if pt.Before(lo) || !pt.Before(lo.Add(tc.prec)) {
					t.Fatalf("PointTime %v outside [%v, %v)", pt, lo, lo.Add(tc.prec))
				}
				if again := PointTime(&ev, Identity(&ev)); !again.Equal(pt) {
					t.Fatalf("PointTime not deterministic: %v vs %v", pt, again)
				}
				seenTimes[pt] = true
			}
			// 200 distinct sessions in one unit: with a unit of 1µs or more
			// a collision would be a broken hash (probability < 2e-2 only
			// for the 1µs unit: 200²/2/1000); nanosecond units cannot
			// separate them at all.
			switch {
			case tc.prec >= time.Millisecond && len(seenTimes) != 200:
				t.Errorf("%d distinct point times for 200 sessions", len(seenTimes))
			case tc.prec == time.Nanosecond && len(seenTimes) != 1:
				t.Errorf("nanosecond precision got %d times, want the logged one", len(seenTimes))
			}
		})
	}
}

func TestPointTimeGolden(t *testing.T) {
	// The offsets are part of the stored data: a change here means points
	// written by older releases no longer overwrite themselves on replay.
	ev := imapEvent("alice", baseTime, 100)
	got := PointTime(&ev, Identity(&ev)).UnixNano()
	const want = int64(1783060607000000000) // + offset checked below
	if got/1e9*1e9 != want {
		t.Fatalf("PointTime second = %d, want %d", got/1e9*1e9, want)
	}
	if off := got - want; off != goldenOffset {
		t.Errorf("PointTime offset = %d, want %d (identity scheme changed?)", off, goldenOffset)
	}
}

const goldenOffset = 291239100

func TestIDCopy(t *testing.T) {
	ev := imapEvent("alice", baseTime, 100)
	id := Identity(&ev)
	if id.Copy(0) != id {
		t.Error("Copy(0) != id")
	}
	seen := map[ID]int{id: 0}
	for k := 1; k <= 1000; k++ {
		c := id.Copy(k)
		if prev, dup := seen[c]; dup {
			t.Fatalf("Copy(%d) == Copy(%d)", k, prev)
		}
		seen[c] = k
		if c != id.Copy(k) {
			t.Fatalf("Copy(%d) not deterministic", k)
		}
	}
}

func TestDedupWindow(t *testing.T) {
	d := NewDedup(10*time.Minute, 100)
	ids := make([]ID, 4)
	times := []time.Time{baseTime, baseTime.Add(5 * time.Minute), baseTime.Add(9 * time.Minute), baseTime.Add(11 * time.Minute)}
	for i, at := range times {
		ev := imapEvent("u", at, int64(i))
		ids[i] = Identity(&ev)
		d.Add(ids[i], at, 1)
	}
	// Newest is 11m: everything older than 1m is gone; 5m and 9m stay.
	want := []int{0, 1, 1, 1}
	for i, id := range ids {
		if got := d.Seen(id); got != want[i] {
			t.Errorf("Seen(entry at +%v) = %d, want %d", times[i].Sub(baseTime), got, want[i])
		}
	}
	// Event time rules, not wall clock: an old record added now does not
	// move the window back.
	d.Add(ids[0], baseTime, 1)
	if d.Seen(ids[3]) != 1 {
		t.Error("adding an old record evicted a newer one")
	}
}

func TestDedupMaxEntries(t *testing.T) {
	d := NewDedup(time.Hour, 3)
	var ids []ID
	for i := 0; i < 5; i++ {
		ev := imapEvent("u", baseTime.Add(time.Duration(i)*time.Second), int64(i))
		id := Identity(&ev)
		ids = append(ids, id)
		d.Add(id, ev.Time, 1)
	}
	if d.Len() != 3 {
		t.Errorf("Len = %d, want 3", d.Len())
	}
	for i, id := range ids {
		want := 0
		if i >= 2 {
			want = 1
		}
		if got := d.Seen(id); got != want {
			t.Errorf("Seen(ids[%d]) = %d, want %d (oldest go first)", i, got, want)
		}
	}
}

func TestDedupCounts(t *testing.T) {
	d := NewDedup(time.Hour, 10)
	ev := imapEvent("u", baseTime, 1)
	id := Identity(&ev)
	d.Add(id, ev.Time, 2)
	d.Add(id, ev.Time, 3)
	if got := d.Seen(id); got != 5 {
		t.Errorf("Seen = %d, want 5", got)
	}
	if d.Len() != 1 {
		t.Errorf("Len = %d, want 1", d.Len())
	}
}

func TestDedupCompaction(t *testing.T) {
	d := NewDedup(time.Hour, 100)
	for i := 0; i < 10000; i++ {
		ev := imapEvent("u", baseTime.Add(time.Duration(i)*time.Second), int64(i))
		d.Add(Identity(&ev), ev.Time, 1)
	}
	if d.Len() != 100 {
		t.Fatalf("Len = %d, want 100", d.Len())
	}
	d.mu.Lock()
	live, held := len(d.queue)-d.head, cap(d.queue)
	d.mu.Unlock()
	if live != 100 || held > 4096 {
		t.Errorf("queue holds %d live in capacity %d; want 100 live and bounded capacity", live, held)
	}
}

func TestDedupConcurrent(t *testing.T) {
	d := NewDedup(time.Hour, 1000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				ev := imapEvent("u", baseTime.Add(time.Duration(i)*time.Second), int64(i%50))
				id := Identity(&ev)
				d.Seen(id)
				d.Add(id, ev.Time, 1)
			}
		}(g)
	}
	wg.Wait()
	// 500 distinct records, each added by 8 goroutines.
	if d.Len() != 500 {
		t.Errorf("Len = %d, want 500", d.Len())
	}
	ev := imapEvent("u", baseTime, 0)
	if got := d.Seen(Identity(&ev)); got != 8 {
		t.Errorf("Seen = %d, want 8", got)
	}
}

func TestRepeatTracker(t *testing.T) {
	r := NewRepeatTracker()
	buf := []byte("alice")
	ev := imapEvent(unsafe.String(&buf[0], len(buf)), baseTime, 1)
	r.Remember(&ev)
	buf[0] = 'X' // the tracker must not alias the input
	cases := []struct {
		host, daemon string
		ok           bool
	}{
		{"mx1", "imapd", true},
		{"mx1", "", true},
		{"mx1", "pop3d", false},
		{"mx2", "imapd", false},
	}
	for _, tc := range cases {
		t.Run(tc.host+"/"+tc.daemon, func(t *testing.T) {
			got, ok := r.Lookup(tc.host, tc.daemon)
			if ok != tc.ok {
				t.Fatalf("Lookup ok = %v, want %v", ok, tc.ok)
			}
			if ok && (got.User != "alice" || got.Rcvd != 1) {
				t.Errorf("Lookup = %+v", got)
			}
		})
	}
}
