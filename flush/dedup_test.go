package flush

import (
	"fmt"
	"strings"
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

func TestIdentitySubSecond(t *testing.T) {
	// Point identities are per second whatever the precision: copies of a
	// session stamped microseconds apart within one second share a point.
	a := imapEvent("alice", baseTime.Add(123456*time.Nanosecond), 1)
	a.Precision = time.Microsecond
	b := a
	b.Time = baseTime.Add(999999 * time.Microsecond) // same second
	c := a
	c.Time = baseTime.Add(time.Second) // next second
	if Identity(&a) != Identity(&b) {
		t.Error("same second, different identity")
	}
	if Identity(&a) == Identity(&c) {
		t.Error("different seconds, same identity")
	}
	// Keys ignore the time altogether.
	if Key(&a) != Key(&c) {
		t.Error("Key depends on the time")
	}
	if Key(&a) == Identity(&a) {
		t.Error("Key equals Identity")
	}
	for _, m := range fieldChanges {
		if m.name == "second" {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			ev := a
			m.mut(&ev)
			if Key(&ev) == Key(&a) {
				t.Errorf("changing %s leaves the key unchanged", m.name)
			}
		})
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
				// Whatever the precision, the point stays in its second.
				lo := tc.at.Truncate(time.Second)
				if pt.Before(lo) || !pt.Before(lo.Add(time.Second)) {
					t.Fatalf("PointTime %v outside [%v, %v)", pt, lo, lo.Add(time.Second))
				}
				if again := PointTime(&ev, Identity(&ev)); !again.Equal(pt) {
					t.Fatalf("PointTime not deterministic: %v vs %v", pt, again)
				}
				seenTimes[pt] = true
			}
			// 200 distinct sessions in one second: a collision would be a
			// broken hash (probability 200²/2/1e9).
			if len(seenTimes) != 200 {
				t.Errorf("%d distinct point times for 200 sessions", len(seenTimes))
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
