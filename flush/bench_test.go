package flush

import (
	"runtime"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/courier-traffic/courier-traffic/parser"
)

// cpuMeter reports CPU time per item of the benchmark's own thread.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU(b *testing.B) *cpuMeter {
	b.Helper()
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	c, ok := threadCPU()
	return &cpuMeter{start: c, ok: ok}
}

func (m *cpuMeter) report(b *testing.B, unit string) {
	b.Helper()
	end, ok := threadCPU()
	if !m.ok || !ok || b.N == 0 {
		return
	}
	per := float64(end-m.start) / float64(b.N)
	b.ReportMetric(per, "cpu-ns/"+unit)
	if per > 0 {
		b.ReportMetric(1e9/per, unit+"s/cpu-s")
	}
}

// benchLines returns a realistic generated log (noise, repeats, all eras).
func benchLines(b *testing.B, n int64) ([]string, time.Time) {
	return benchLog(b, loggen.Options{Seed: 7, MaxLines: n, Eras: loggen.AllEras, Format: loggen.Classic})
}

// benchRepeatLines returns a repeat-heavy log as rsyslog's RFC 3339 file
// format writes it: every session end followed by a burst of 1-20 copies
// (the Courier bug), each copy stamped at its reception in microseconds.
func benchRepeatLines(b *testing.B, n int64) ([]string, time.Time) {
	return benchLog(b, loggen.Options{Seed: 7, MaxLines: n, Format: loggen.RFC3339, RepeatBursts: 1,
		CopyStamps: loggen.CopyReception})
}

func benchLog(b *testing.B, opts loggen.Options) ([]string, time.Time) {
	b.Helper()
	var lines []string
	truth, err := loggen.Generate(opts,
		func(l loggen.Line) error {
			lines = append(lines, l.Raw)
			return nil
		})
	if err != nil {
		b.Fatal(err)
	}
	return lines, truth.Last.Add(time.Hour)
}

// benchEvents parses the traffic events out of a generated log.
func benchEvents(b *testing.B) []parser.Event {
	b.Helper()
	lines, ref := benchLines(b, 20000)
	p, err := parser.New(parser.Options{Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	var evs []parser.Event
	for _, l := range lines {
		var ev parser.Event
		if res, err := p.ParseLine(l, ref, &ev); err == nil && res == parser.Traffic {
			evs = append(evs, ev)
		}
	}
	return evs
}

// BenchmarkEncode: parsed events -> request body: identity, point time and
// line-protocol encoding per record.
func BenchmarkEncode(b *testing.B) {
	evs := benchEvents(b)
	enc := NewEncoder("courier_session", false)
	buf := make([]byte, 0, 1<<20)
	var bytes int
	for i := range evs {
		var err error
		buf, err = enc.Append(buf[:0], &evs[i], evs[i].Time)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(buf)
	}
	b.SetBytes(int64(bytes / len(evs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		if i%len(evs) == 0 {
			buf = buf[:0]
		}
		var err error
		buf, err = enc.Append(buf, ev, PointTime(ev, Identity(ev)))
		if err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, "record")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkBatchPath: raw lines -> AddLine (parse, skip, identity) -> dedup
// filter (seen-set lookups, in-batch map) -> encoded body, in chunks of 1000
// lines as Fluent Bit would flush them; no network. Counted per input line.
func BenchmarkBatchPath(b *testing.B) {
	lines, ref := benchLines(b, 100000)
	benchBatchPath(b, lines, ref)
}

// BenchmarkBatchPathRepeats is BenchmarkBatchPath on the repeat-heavy log:
// most records are copies found by RepeatSet (Key, Match, Extend).
func BenchmarkBatchPathRepeats(b *testing.B) {
	lines, ref := benchRepeatLines(b, 100000)
	benchBatchPath(b, lines, ref)
}

func benchBatchPath(b *testing.B, lines []string, ref time.Time) {
	cfg, err := LoadConfig(MapGetter{KeyStatsInterval: "0", KeyTimeZone: "UTC"})
	if err != nil {
		b.Fatal(err)
	}
	f, err := New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// Commit half of the log so that the lookups hit a populated seen-set.
	warm := f.NewBatch()
	for _, l := range lines[:len(lines)/2] {
		warm.AddLine(l, ref)
	}
	f.filter(warm)
	for _, p := range warm.points {
		f.dedup.commit([]Chain{warm.pending.chains[p.chain]})
	}
	f.release(warm)

	const chunk = 1000
	body := make([]byte, 0, 1<<20)
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU(b)
	for done := 0; done < b.N; {
		lo := done % len(lines)
		n := min(chunk, b.N-done, len(lines)-lo)
		batch := f.NewBatch()
		for _, l := range lines[lo : lo+n] {
			batch.AddLine(l, ref)
		}
		body = f.AppendBody(body[:0], batch)
		size += len(body)
		f.release(batch)
		done += n
	}
	cpu.report(b, "line")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(size)/float64(b.N), "body-B/line")
}

// BenchmarkRepeatSet: Check on a stream of sessions each followed by 9
// copies 50 µs apart (9 in 10 records are repeats), the set at its
// steady size for a 10-minute window.
func BenchmarkRepeatSet(b *testing.B) {
	s := NewRepeatSet(time.Second, 10*time.Minute, 1000000)
	b.ReportAllocs()
	t0 := int64(1783060607) * 1e9
	t := t0
	for i := range b.N {
		s.SetNow(t - t0) // the clock runs at the log's pace
		sess := uint64(i / 10)
		if i%10 == 0 {
			t += 100 * int64(time.Millisecond)
		} else {
			t += 50 * int64(time.Microsecond)
		}
		s.Check(ID{sess * 0x9e3779b97f4a7c15, sess}, t)
	}
}

// BenchmarkIdentity: the record identity alone (dedup and point times).
func BenchmarkIdentity(b *testing.B) { benchKey(b, Identity) }

// BenchmarkLocalKey: the process-local dedup key of the CLI report, on
// the same events as BenchmarkIdentity (whose strings sit in one run of
// their lines, as parsed).
func BenchmarkLocalKey(b *testing.B) { benchKey(b, LocalKey) }

func benchKey(b *testing.B, key func(*parser.Event) ID) {
	evs := benchEvents(b)
	b.ReportAllocs()
	b.ResetTimer()
	var x uint64
	for i := 0; i < b.N; i++ {
		x += key(&evs[i%len(evs)]).Lo
	}
	if x == 0 && b.N > 1 {
		b.Fatal("keys are all zero")
	}
}
