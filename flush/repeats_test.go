package flush

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// ns is a time in Unix ns at baseTime plus d.
func ns(d time.Duration) int64 { return baseTime.Add(d).UnixNano() }

func TestRepeatSetCheck(t *testing.T) {
	a, b := ID{1, 1}, ID{2, 2}
	type rec struct {
		key    ID
		at     time.Duration
		repeat bool
	}
	us := time.Microsecond
	// A burst of 3000 copies 337µs apart: about a second long, starting
	// 0.4s before the next second, so it crosses it.
	burst := func(key ID, start time.Duration, n int, step time.Duration) []rec {
		var rs []rec
		for i := 0; i < n; i++ {
			rs = append(rs, rec{key, start + time.Duration(i)*step, i > 0})
		}
		return rs
	}
	cases := []struct {
		name string
		tol  time.Duration
		recs []rec
	}{
		{"classic copies in one second", time.Second, []rec{{a, 0, false}, {a, 0, true}, {a, 0, true}}},
		{"classic copies in adjacent seconds are two sessions", time.Second,
			[]rec{{a, 0, false}, {a, time.Second, false}, {a, time.Second, true}}},
		{"microsecond copies", time.Second, []rec{{a, 100001 * us, false}, {a, 100057 * us, true}, {a, 100090 * us, true}}},
		{"burst across a second", time.Second, burst(a, 600*time.Millisecond, 3000, 337*us)},
		{"burst across midnight", time.Second, burst(a, 17*time.Hour+23*time.Minute+12*time.Second+999*time.Millisecond, 50, 900*time.Millisecond)},
		{"chain grows: 10 copies 0.9s apart span 8.1s", time.Second, burst(a, 0, 10, 900*time.Millisecond)},
		{"gap of exactly the tolerance starts a session", time.Second,
			[]rec{{a, 0, false}, {a, 999 * time.Millisecond, true}, {a, 1999 * time.Millisecond, false}}},
		{"other keys never merge", time.Second, []rec{{a, 0, false}, {b, 0, false}, {a, 1, true}, {b, 2, true}}},
		{"out of order: an earlier copy extends the chain backwards", time.Second,
			[]rec{{a, 5 * time.Second, false}, {a, 4200 * time.Millisecond, true}, {a, 3300 * time.Millisecond, true}, {a, 2 * time.Second, false}}},
		{"tolerance 0: equal times only", 0,
			[]rec{{a, 0, false}, {a, 0, true}, {a, 1, false}, {a, 1, true}, {a, time.Second, false}}},
		{"tolerance 100ms", 100 * time.Millisecond,
			[]rec{{a, 0, false}, {a, 99 * time.Millisecond, true}, {a, 199 * time.Millisecond, false}, {a, 250 * time.Millisecond, true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewRepeatSet(tc.tol, 10*time.Minute, 1000)
			for i, r := range tc.recs {
				if got := s.Check(r.key, ns(r.at)); got != r.repeat {
					t.Fatalf("record %d (%v at +%v): repeat = %v, want %v", i, r.key, r.at, got, r.repeat)
				}
			}
		})
	}
}

func TestRepeatSetNextK(t *testing.T) {
	s := NewRepeatSet(0, time.Hour, 100)
	key := ID{7, 7}
	cell := baseTime.Unix()
	for k := uint32(0); k < 4; k++ {
		if got := s.NextK(key, cell); got != k {
			t.Fatalf("NextK = %d, want %d", got, k)
		}
		s.Add(Chain{Key: key, First: ns(time.Duration(k)), Last: ns(time.Duration(k)), Cell: cell, K: k})
	}
	if got := s.NextK(key, cell+1); got != 0 {
		t.Errorf("NextK of an empty later cell = %d, want 0", got)
	}
	if got := s.NextK(key, cell-1); got != 0 {
		t.Errorf("NextK of an empty earlier cell = %d, want 0", got)
	}
	if got := s.NextK(ID{8, 8}, cell); got != 0 {
		t.Errorf("NextK of another key = %d, want 0", got)
	}
}

func TestRepeatSetWindow(t *testing.T) {
	s := NewRepeatSet(time.Second, 10*time.Minute, 100)
	offsets := []time.Duration{0, 5 * time.Minute, 9 * time.Minute, 11 * time.Minute}
	for i, d := range offsets {
		s.Check(ID{uint64(i), 1}, ns(d))
	}
	// Newest is 11m: the chain at 0 is older than 1m and gone (its copy
	// is new again); 5m and 9m stay.
	for i, want := range []bool{false, true, true, true} {
		if got := s.Check(ID{uint64(i), 1}, ns(offsets[i])); got != want {
			t.Errorf("copy of the chain at +%v: repeat = %v, want %v", offsets[i], got, want)
		}
	}
}

func TestRepeatSetMax(t *testing.T) {
	s := NewRepeatSet(time.Second, time.Hour, 3)
	for i := 0; i < 5; i++ {
		s.Check(ID{uint64(i), 1}, ns(time.Duration(i)*time.Second))
	}
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	// Oldest go first: 0 and 1 are new again (Check adds them back, which
	// in turn evicts 2 and 3), then 4 is still held.
	for _, tc := range []struct {
		i    int
		want bool
	}{{4, true}, {0, false}} {
		if got := s.Check(ID{uint64(tc.i), 1}, ns(time.Duration(tc.i)*time.Second)); got != tc.want {
			t.Errorf("chain %d: repeat = %v, want %v", tc.i, got, tc.want)
		}
	}
}

func TestRepeatSetCompaction(t *testing.T) {
	s := NewRepeatSet(time.Second, time.Hour, 100)
	for i := 0; i < 10000; i++ {
		s.Check(ID{uint64(i), 1}, ns(time.Duration(i)*time.Second))
	}
	if s.Len() != 100 || cap(s.chains) > 4096 || s.index.len() != 100 {
		t.Errorf("Len %d, index %d, capacity %d: want 100 live, 100 indexed, bounded capacity",
			s.Len(), s.index.len(), cap(s.chains))
	}
	// A key with many chains whose oldest are dropped stays consistent.
	key := ID{1 << 40, 1}
	for i := 0; i < 1000; i++ {
		s.Check(key, ns(time.Duration(20000+2*i)*time.Second))
	}
	if got := s.Check(key, ns(time.Duration(20000+2*999)*time.Second+time.Millisecond)); !got {
		t.Error("copy of the newest chain of a key with dropped chains is not a repeat")
	}
}

// refChains is the definition written as plainly as possible: every chain
// ever started, checked in order, no bounds.
type refChains struct {
	tol    int64
	chains []struct {
		key         ID
		first, last int64
	}
}

func (r *refChains) check(key ID, t int64) bool {
	for i := len(r.chains) - 1; i >= 0; i-- {
		c := &r.chains[i]
		if c.key != key {
			continue
		}
		if (t >= c.first && t <= c.last) || (t < c.first && c.first-t < r.tol) || (t > c.last && t-c.last < r.tol) {
			c.first, c.last = min(c.first, t), max(c.last, t)
			return true
		}
	}
	r.chains = append(r.chains, struct {
		key         ID
		first, last int64
	}{key, t, t})
	return false
}

// TestRepeatSetReference checks RepeatSet against refChains on random
// streams of few keys and times that wander forwards and backwards.
func TestRepeatSetReference(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		tol := time.Duration(r.IntN(3)) * 500 * time.Millisecond
		s := NewRepeatSet(tol, 0, 1<<30)
		ref := &refChains{tol: int64(tol)}
		at := int64(0)
		for i := 0; i < 400; i++ {
			key := ID{uint64(r.IntN(4)), 0}
			at += int64(r.IntN(1500)-300) * int64(time.Millisecond)
			want := ref.check(key, at)
			if got := s.Check(key, at); got != want {
				t.Fatalf("seed %d, record %d (key %v at %d ms, tol %v): repeat = %v, reference says %v",
					seed, i, key, at/1e6, tol, got, want)
			}
		}
	}
}

func TestDedupConcurrent(t *testing.T) {
	d := NewDedup(time.Second, time.Hour, 1000, true)
	var wg sync.WaitGroup
	var mu sync.Mutex
	news := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				ev := imapEvent("u", baseTime.Add(time.Duration(i)*time.Second), int64(i))
				if !d.Check(&ev) {
					mu.Lock()
					news++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	// 500 distinct records, each checked by 8 goroutines: one is new.
	if d.Len() != 500 || news != 500 {
		t.Errorf("Len = %d, new = %d; want 500 and 500", d.Len(), news)
	}
}

func TestRepeatSetClockGuard(t *testing.T) {
	// Guard off: the clock stamps, but eviction follows event time alone.
	off := NewRepeatSet(time.Second, 10*time.Minute, 100)
	off.SetNow(0)
	off.Check(ID{1, 1}, ns(0))
	off.SetNow(int64(time.Second))
	off.Check(ID{2, 2}, ns(time.Hour))
	if off.Check(ID{1, 1}, ns(time.Millisecond)) {
		t.Fatal("guard off: a chain older than the window by event time was kept")
	}

	s := NewRepeatSet(time.Second, 10*time.Minute, 100)
	s.SetNow(0)
	s.SetGuard(true)
	s.Check(ID{1, 1}, ns(0))
	// An hour of event time later, a moment later by the clock: the chain
	// stays (a chunk spanning a backlog must keep what its retry needs).
	s.SetNow(int64(time.Second))
	s.Check(ID{2, 2}, ns(time.Hour))
	if !s.Check(ID{1, 1}, ns(time.Millisecond)) {
		t.Fatal("chain dropped although touched a second ago by the clock")
	}
	// Old in event time and untouched for longer than the window: gone.
	s.SetNow(int64(11 * time.Minute))
	s.Check(ID{3, 3}, ns(time.Hour+time.Second))
	if s.Check(ID{1, 1}, ns(2*time.Millisecond)) {
		t.Fatal("chain kept although old by event time and by the clock")
	}
	// The maximum still rules.
	m := NewRepeatSet(time.Second, 10*time.Minute, 2)
	m.SetNow(0)
	m.SetGuard(true)
	for i := 0; i < 5; i++ {
		m.Check(ID{uint64(i), 9}, ns(time.Duration(i)*time.Hour))
	}
	if m.Len() != 2 {
		t.Errorf("Len = %d, want 2", m.Len())
	}
}

// FuzzRepeatSet checks RepeatSet against refChains on any stream: each pair
// of input bytes is a key (low 2 bits) and a signed time step in units of
// 100 ms (the rest), so chains form, break, grow at both ends and meet.
func FuzzRepeatSet(f *testing.F) {
	f.Add([]byte{0, 10, 0, 10, 1, 200, 0, 5, 0, 250}, uint8(10))
	f.Add([]byte{4, 4, 4, 4, 4, 4, 4, 4}, uint8(0))
	f.Add([]byte{3, 130, 3, 126, 2, 128}, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, tolTenths uint8) {
		tol := time.Duration(tolTenths%40) * 100 * time.Millisecond
		s := NewRepeatSet(tol, 0, 1<<30)
		ref := &refChains{tol: int64(tol)}
		at := int64(1783060607) * 1e9
		for i := 0; i+1 < len(data); i += 2 {
			key := ID{uint64(data[i] & 3), 9}
			at += int64(int8(data[i+1])) * int64(100*time.Millisecond) / 4
			want := ref.check(key, at)
			if got := s.Check(key, at); got != want {
				t.Fatalf("record %d (key %v, t %d, tol %v): repeat = %v, reference says %v", i/2, key, at, tol, got, want)
			}
		}
	})
}
