package main

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// Benchmarks of the flush path without network: decode a tail chunk in
// Fluent Bit's layout, parse every record, dedup, encode. The budget
// (docs/design.md, Performance budget) is >= 1e6 records/s on one core with the realistic
// mix: Fluent Bit hands the plugin every line of mail.log, and most are not
// traffic (loggen's default mix: ~40% session ends, the rest LOGIN,
// Connection, LOGIN FAILED, pre-auth Disconnected, couriertls, postfix,
// cron, sshd, ...; repeats of the Courier bug included).

const benchRecords = 20000 // records per chunk: a ~2 MB tail chunk

// mixChunk returns a tail chunk of n lines of loggen's default mix, each
// stamped (the Fluent Bit record time) one second after its logged time,
// as tail reads a live log; the number of events a Batch keeps of it; and
// the number of traffic records (Stats.Traffic, which also counts the
// unauthenticated sessions the Batch skips).
func mixChunk(b *testing.B, n int) (data []byte, events, traffic int) {
	b.Helper()
	_, err := loggen.Generate(loggen.Options{Seed: 1, MaxLines: int64(n)}, func(l loggen.Line) error {
		data = appendEvent(data, l.Time.Add(time.Second), "log", l.Raw)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	f, keys := newTestFlusher(b)
	bt := f.NewBatch()
	if res := addChunk(bt, &keys, data); res.err != nil || res.records != n {
		b.Fatalf("chunk: %d records, %v", res.records, res.err)
	}
	events = bt.Len()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Write(ctx, bt)
	traffic = int(f.Stats().Traffic)
	if events == 0 || traffic == n {
		b.Fatalf("%d traffic records of %d: not a mix", traffic, n)
	}
	return data, events, traffic
}

// runFlushPath measures decode + parse + dedup filter + encode of data per
// op (flush.AppendBody, no network); the Batch is recycled like a real
// flush's, so allocation of a fresh one is not measured.
func runFlushPath(b *testing.B, data []byte, records, events int) {
	f, keys := newTestFlusher(b)
	var body []byte
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		bt := f.NewBatch()
		res := addChunk(bt, &keys, data)
		if res.err != nil || bt.Len() != events {
			b.Fatalf("err %v, %d events, want %d", res.err, bt.Len(), events)
		}
		body = f.AppendBody(body[:0], bt)
		f.Discard(bt)
	}
	reportRate(b, records, cpu0)
	if bytes.Count(body, []byte("\n")) == 0 {
		b.Fatal("no points")
	}
}

// BenchmarkFlushPath: the budget's benchmark, a realistic 20,000-record
// tail chunk. Target: >= 1e6 records/s on one core (records/cpu-s).
func BenchmarkFlushPath(b *testing.B) {
	data, events, _ := mixChunk(b, benchRecords)
	runFlushPath(b, data, benchRecords, events)
}

// BenchmarkFlushPathAllTraffic: the worst case, a chunk of session ends
// only (every record parsed, hashed, encoded).
func BenchmarkFlushPathAllTraffic(b *testing.B) {
	runFlushPath(b, benchChunk(benchRecords), benchRecords, benchRecords)
}

// BenchmarkFlushPathWrite: the realistic chunk through Flusher.Write with a
// cancelled context, so the request fails before any connection is made
// (no network): decode + parse + dedup filter + encode + the request
// body's copy, with the Batch recycled as in the plugin's flushes.
func BenchmarkFlushPathWrite(b *testing.B) {
	data, _, traffic := mixChunk(b, benchRecords)
	f, keys := newTestFlusher(b)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		bt := f.NewBatch()
		if res := addChunk(bt, &keys, data); res.err != nil {
			b.Fatal(res.err)
		}
		if out := f.Write(ctx, bt); out != flush.Retry {
			b.Fatalf("Write with a cancelled context: %v, want retry", out)
		}
	}
	reportRate(b, benchRecords, cpu0)
	if s := f.Stats(); s.PointsWritten != 0 || s.Records != int64(benchRecords)*int64(b.N) || s.Traffic != int64(traffic)*int64(b.N) {
		b.Fatalf("stats %+v", s)
	}
}

// cpuTime is the process's user+system CPU time. The machine is shared, so
// wall-clock rates understate the code's speed; records per CPU second
// (GC threads included) is the number to compare with the 1e6/s budget.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportRate(b *testing.B, perOp int, cpu0 time.Duration) {
	recs := float64(perOp) * float64(b.N)
	b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/recs, "cpu-ns/record")
		b.ReportMetric(recs/cpu.Seconds(), "records/cpu-s")
	}
}
