package flush

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// burstLines returns n copies of one IMAP session end as rsyslog's
// RSYSLOG_FileFormat stamps them: each with its own reception time, step
// apart, the first at 06:36:sec plus frac.
func burstLines(user string, port int, sec int, frac, step time.Duration, n int) []string {
	start := time.Date(2026, 7, 3, 6, 36, sec, 0, time.UTC).Add(frac)
	out := make([]string, n)
	for i := range out {
		at := start.Add(time.Duration(i) * step)
		out[i] = fmt.Sprintf("%s mx1 imapd: LOGOUT, user=%s, ip=[::ffff:192.0.2.7], port=[%d], "+
			"headers=10, body=20, rcvd=4711, sent=300, time=5", at.Format("2006-01-02T15:04:05.000000Z07:00"), user, port)
	}
	return out
}

// pointKeys returns what InfluxDB keys a point by, measurement, tags and
// time, for every point of the bodies: the points a store would hold.
func pointKeys(t *testing.T, bodies [][]byte) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	for _, b := range bodies {
		for _, p := range decodeLP(t, b) {
			tags := make([]string, 0, len(p.Tags))
			for k, v := range p.Tags {
				tags = append(tags, k+"="+v)
			}
			sort.Strings(tags)
			keys[fmt.Sprint(p.Measurement, tags, p.Time)] = true
		}
	}
	return keys
}

// writeChunks writes lines through f in chunks of size lines (all of them
// in one when size <= 0) and fails unless each is Delivered.
func writeChunks(t *testing.T, f *Flusher, lines []string, size int) {
	t.Helper()
	if size <= 0 {
		size = len(lines)
	}
	for lo := 0; lo < len(lines); lo += size {
		b := f.NewBatch()
		for _, l := range lines[lo:min(lo+size, len(lines))] {
			b.AddLine(l, refTime)
		}
		if got := f.Write(context.Background(), b); got != Delivered {
			t.Fatalf("Write = %v", got)
		}
	}
}

func TestWriteMicrosecondRepeats(t *testing.T) {
	us := time.Microsecond
	crossing := burstLines("alice", 40112, 47, 900*time.Millisecond, 57*us, 3000) // .9s to 1.07s later
	cases := []struct {
		name   string
		tol    string
		lines  []string
		chunk  int
		points int
	}{
		{"burst in one chunk", "", crossing, 0, 1},
		{"burst over 30 chunks", "", crossing, 100, 1},
		{"burst of copies 0.9s apart, over 10s", "", burstLines("alice", 1, 40, 0, 900*time.Millisecond, 12), 1, 1},
		{"two sessions 1.1s apart", "", append(burstLines("alice", 1, 40, 0, us, 3), burstLines("alice", 1, 41, 100*time.Millisecond, us, 3)...), 2, 2},
		{"copies 0.999998s apart are one session", "", append(burstLines("alice", 1, 40, 0, us, 3), burstLines("alice", 1, 41, 0, us, 3)...), 2, 1},
		{"other port, same microsecond", "", append(burstLines("alice", 1, 40, 0, us, 3), burstLines("alice", 2, 40, 0, us, 3)...), 0, 2},
		// What the definition must not be: a tolerance of 0 counts every
		// copy that carries its own stamp (the bug this replaced).
		{"tolerance 0 counts each stamped copy", "0", crossing[:50], 0, 50},
		{"tolerance 0 still drops identical stamps", "0", append(crossing[:5:5], crossing[:5]...), 0, 5},
		{"tolerance 100ms splits a 0.9s-step burst", "100ms", burstLines("alice", 1, 40, 0, 900*time.Millisecond, 4), 0, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, srv := startFake(t)
			extra := MapGetter{}
			if tc.tol != "" {
				extra[KeyDedupTolerance] = tc.tol
			}
			f, _ := newTestFlusher(t, srv.URL, extra)
			writeChunks(t, f, tc.lines, tc.chunk)
			if got := len(pointKeys(t, fake.accepted())); got != tc.points {
				t.Errorf("%d points stored, want %d", got, tc.points)
			}
			st := f.Stats()
			if st.PointsWritten+st.Repeats != int64(len(tc.lines)) {
				t.Errorf("points %d + repeats %d != %d records", st.PointsWritten, st.Repeats, len(tc.lines))
			}
		})
	}
}

// TestRepeatsIdempotentPoints: the ways a record reaches the plugin again
// (a retried chunk, a restart that re-reads, a back-fill over live data,
// chunks out of order) must store no point that the first delivery did not
// store, and the count of sessions stays exact.
func TestRepeatsIdempotentPoints(t *testing.T) {
	us := time.Microsecond
	// Three sessions: a burst of alice's crossing into second 48, bob's
	// burst inside second 50, and a distinct session of alice's with
	// equal fields 3s after her burst.
	alice := burstLines("alice", 40112, 47, 990*time.Millisecond, 23*us, 1000) // .990 .. 48.013
	bob := burstLines("bob", 5, 50, 100*time.Millisecond, 311*us, 1000)        // .100 .. .411
	alice2 := burstLines("alice", 40112, 51, 0, 23*us, 10)
	log := append(append(append([]string{}, alice...), bob...), alice2...)

	ref := func(t *testing.T) map[string]bool {
		fake, srv := startFake(t)
		f, _ := newTestFlusher(t, srv.URL, nil)
		writeChunks(t, f, log, 250)
		return pointKeys(t, fake.accepted())
	}
	want := ref(t)
	if len(want) != 3 {
		t.Fatalf("first delivery stored %d points, want 3", len(want))
	}
	cases := []struct {
		name string
		// run replays the log in some way into the flushers it makes with
		// mk, all writing to one store.
		run func(t *testing.T, mk func() *Flusher, fake *fakeInflux)
		// same: the union with the first delivery adds no point.
		same bool
	}{
		{"same log again, other chunking", func(t *testing.T, mk func() *Flusher, _ *fakeInflux) {
			writeChunks(t, mk(), log, 333)
		}, true},
		{"every chunk retried once", func(t *testing.T, mk func() *Flusher, fake *fakeInflux) {
			f := mk()
			for lo := 0; lo < len(log); lo += 250 {
				for try := 0; ; try++ {
					if try == 0 {
						fake.setRespond(func([]byte) (int, string) { return 503, "busy" })
					} else {
						fake.setRespond(nil)
					}
					b := f.NewBatch()
					for _, l := range log[lo:min(lo+250, len(log))] {
						b.AddLine(l, refTime)
					}
					if f.Write(context.Background(), b) == Delivered {
						break
					}
				}
			}
		}, true},
		{"restart re-reads from inside a burst, same second", func(t *testing.T, mk func() *Flusher, _ *fakeInflux) {
			writeChunks(t, mk(), log[:300], 100) // alice's head and part of her second 48
			writeChunks(t, mk(), log[200:], 100) // from alice's copy 200, still in second 47
		}, true},
		{"back-fill over live data", func(t *testing.T, mk func() *Flusher, _ *fakeInflux) {
			live := mk()
			writeChunks(t, live, log[:1500], 100)
			writeChunks(t, mk(), log, 0) // backfill of the whole log, another process
			writeChunks(t, live, log[1500:], 100)
		}, true},
		{"chunks out of order", func(t *testing.T, mk func() *Flusher, _ *fakeInflux) {
			f := mk()
			writeChunks(t, f, log[1000:], 100)
			writeChunks(t, f, log[500:1000], 100)
			writeChunks(t, f, log[:500], 100)
		}, false}, // counts right, but alice's point is anchored at her later copies: see below
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, srv := startFake(t)
			var fs []*Flusher
			mk := func() *Flusher {
				f, _ := newTestFlusher(t, srv.URL, nil)
				fs = append(fs, f)
				return f
			}
			tc.run(t, mk, fake)
			got := pointKeys(t, fake.accepted())
			if tc.same {
				for k := range got {
					if !want[k] {
						t.Errorf("point %s is not one of the first delivery's: a double", k)
					}
				}
			}
			// Within one process every session is one point.
			for i, f := range fs {
				if st := f.Stats(); st.PointsWritten > 3 {
					t.Errorf("flusher %d wrote %d points for 3 sessions", i, st.PointsWritten)
				}
			}
			if len(fs) == 1 && len(got) != 3 {
				t.Errorf("%d points stored, want 3", len(got))
			}
		})
	}

	// What can still double, exactly: a process that never saw a session's
	// first second (a restart whose re-read starts inside a burst, past
	// the second of the copy the earlier process anchored the point to)
	// anchors a new point.
	t.Run("documented double: re-read starts in a later second of a burst", func(t *testing.T) {
		fake, srv := startFake(t)
		f1, _ := newTestFlusher(t, srv.URL, nil)
		writeChunks(t, f1, log[:600], 100) // alice anchored at 47.990...
		f2, _ := newTestFlusher(t, srv.URL, nil)
		writeChunks(t, f2, log[600:], 100) // starts at 48.003...: alice again
		if got := len(pointKeys(t, fake.accepted())); got != 4 {
			t.Errorf("%d points stored; want 4 (3 sessions, alice's burst twice)", got)
		}
	})
}

// TestRepeatsLongChunks: chunks that span more than dedup_window of event
// time (a backlog read at once), with bursts split between chunks, each
// failing after its first request and retried at once, or retried after
// the next chunk was delivered: the store holds exactly one point per
// session. Without failures the seen-set keeps only the window of event
// time (the clock's guard is off), however long the backlog.
func TestRepeatsLongChunks(t *testing.T) {
	opts := loggen.Options{Seed: 40, Days: 2, SessionsPerDay: 250, Users: 20, RepeatBursts: 0.3,
		CopyStamps: loggen.CopyReception, BoundaryBursts: true, Twins: 0.1, Format: loggen.RFC3339}
	var lines []string
	tr, err := loggen.Generate(opts, func(l loggen.Line) error { lines = append(lines, l.Raw); return nil })
	if err != nil {
		t.Fatal(err)
	}
	ref := tr.Last.Add(time.Hour)
	chunks := func(size int) [][]string {
		var out [][]string
		for lo := 0; lo < len(lines); lo += size {
			out = append(out, lines[lo:min(lo+size, len(lines))])
		}
		return out
	}
	write := func(f *Flusher, c []string) Outcome {
		b := f.NewBatch()
		for _, l := range c {
			b.AddLine(l, ref)
		}
		return f.Write(context.Background(), b)
	}
	var sessions int64
	for _, s := range tr.Sessions {
		sessions += s.Sessions
	}
	for _, size := range []int{150, 300, 700} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			cs := chunks(size)
			// failSecond makes the second request of the next write fail.
			failSecond := func(fake *fakeInflux) {
				reqs := 0
				fake.setRespond(func([]byte) (int, string) {
					reqs++
					if reqs == 2 {
						return 503, "busy"
					}
					return 204, ""
				})
			}
			fake, srv := startFake(t)
			f, _ := newTestFlusher(t, srv.URL, MapGetter{KeyBatchSize: "7"})
			for i, c := range cs {
				failSecond(fake)
				first := write(f, c)
				fake.setRespond(nil)
				if first == Retry {
					if got := write(f, c); got != Delivered {
						t.Fatalf("chunk %d retried: %v", i, got)
					}
				}
			}
			if got := len(pointKeys(t, fake.accepted())); got != int(sessions) {
				t.Errorf("every chunk retried at once: %d points, want %d sessions", got, sessions)
			}

			// No failure: the guard stays off and the set holds about the
			// window's sessions, not the backlog's.
			_, srv0 := startFake(t)
			f0, _ := newTestFlusher(t, srv0.URL, nil)
			for i, c := range cs {
				if got := write(f0, c); got != Delivered {
					t.Fatalf("chunk %d: %v", i, got)
				}
			}
			if n := f0.dedup.Len(); n > int(sessions)/4 {
				t.Errorf("after a backlog without failures the set holds %d of %d sessions", n, sessions)
			}

			// Each chunk fails after its first request (batch_size 7: the
			// rest is not sent), the next one is delivered, then the
			// failed one is retried.
			fake2, srv2 := startFake(t)
			f2, _ := newTestFlusher(t, srv2.URL, MapGetter{KeyBatchSize: "7"})
			retried := 0
			for i := 0; i < len(cs); i += 2 {
				reqs := 0
				fake2.setRespond(func([]byte) (int, string) {
					reqs++
					if reqs == 2 { // the second request of chunk i fails
						return 503, "busy"
					}
					return 204, ""
				})
				first := write(f2, cs[i])
				fake2.setRespond(nil)
				if first == Retry {
					retried++
				}
				if i+1 < len(cs) {
					if got := write(f2, cs[i+1]); got != Delivered {
						t.Fatalf("chunk %d: %v", i+1, got)
					}
				}
				if first == Retry {
					if got := write(f2, cs[i]); got != Delivered {
						t.Fatalf("chunk %d retried: %v", i, got)
					}
				}
			}
			if retried < 3 {
				t.Fatalf("only %d chunks failed: the case tests too little", retried)
			}
			got := pointKeys(t, fake2.accepted())
			if len(got) != int(sessions) {
				t.Errorf("retried chunks: %d points, want %d sessions", len(got), sessions)
			}
		})
	}
}
