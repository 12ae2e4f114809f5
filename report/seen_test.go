package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
)

// TestSeenSetMatchesDedup runs seenSet and flush.Dedup (the plugin's
// seen-set, whose semantics the report must keep) side by side on the same
// stream of records, the way the report uses them: is it held, else commit
// it. The streams repeat identities near and far, go back in time (a
// back-fill), push past the window and past max entries, and include the
// zero identity; every answer and the number held must agree.
func TestSeenSetMatchesDedup(t *testing.T) {
	tests := []struct {
		window time.Duration
		max    int
		ids    int   // distinct identities drawn from
		step   int64 // mean event-time step, ns
		n      int
		grid   int64 // when not 0, times are multiples of it (second-precision logs): ties with the window's edge
	}{
		{10 * time.Minute, 1_000_000, 5000, int64(time.Second), 50_000, 0},
		{time.Second, 1_000_000, 3000, int64(10 * time.Millisecond), 50_000, 0},
		{time.Hour, 300, 2000, int64(time.Second), 50_000, 0},
		{0, 50, 200, int64(time.Second), 20_000, 0},
		{0, 0, 5, int64(time.Second), 1000, 0},
		{time.Minute, 1, 3, int64(time.Second), 1000, 0},
		{10 * time.Minute, 20_000, 1 << 17, int64(time.Millisecond), 60_000, 0}, // mostly new: growth, compaction
		{5 * time.Second, 1_000_000, 40, int64(time.Second), 5000, int64(time.Second)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("window=%v/max=%d/ids=%d", tt.window, tt.max, tt.ids), func(t *testing.T) {
			d := flush.NewDedup(tt.window, tt.max)
			s := newSeenSet(tt.window, tt.max)
			x := uint64(tt.ids)*0x9e3779b97f4a7c15 + 1
			next := func() uint64 { // xorshift64*
				x ^= x >> 12
				x ^= x << 25
				x ^= x >> 27
				return x * 0x2545f4914f6cdd1d
			}
			now := int64(1_800_000_000) * int64(time.Second)
			var repeats int
			for i := range tt.n {
				k := next() % uint64(tt.ids)
				// Identities share low bits now and then, so probe runs
				// collide and removals shift entries back.
				id := flush.ID{Hi: k * 0x51ed27, Lo: (k % 4093) * 0x9e3779b97f4a7c15}
				if k == 0 {
					id = flush.ID{}
				}
				r := next()
				now += int64(r % uint64(2*tt.step+1))
				tm := now
				if r%50 == 0 {
					tm -= int64(r % uint64(20*time.Minute)) // an older record
				}
				if tt.grid != 0 {
					tm -= tm % tt.grid
				}
				want := d.Seen(id) > 0
				if !want {
					d.Add(id, time.Unix(0, tm), 1)
				}
				if got := s.check(id, tm); got != want {
					t.Fatalf("record %d (id %x, t %d): seenSet repeat=%v, flush.Dedup %v", i, id, tm, got, want)
				}
				if want {
					repeats++
				}
				if s.len() != d.Len() {
					t.Fatalf("record %d: seenSet holds %d, flush.Dedup %d", i, s.len(), d.Len())
				}
			}
			if repeats == 0 || repeats == tt.n {
				t.Errorf("%d repeats of %d records: the case tests one branch only", repeats, tt.n)
			}
		})
	}
}
