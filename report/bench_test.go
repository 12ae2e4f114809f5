package report

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

var (
	benchOnce sync.Once
	benchLog  []byte
	benchRef  time.Time
)

// benchData is a generated one-day log of 200,000 lines with the default
// mix (noise, POP3, pre-login sessions, the repeat bug).
func benchData(b *testing.B) []byte {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		tr, err := loggen.WriteLog(&buf, loggen.Options{Seed: 1, MaxLines: 200_000, SessionsPerDay: 70_000})
		if err != nil {
			b.Fatal(err)
		}
		benchLog, benchRef = buf.Bytes(), tr.Last.Add(time.Minute)
	})
	return benchLog
}

// BenchmarkAggregate measures the report's hot path: line splitting,
// parsing, filtering, dedup and summing, from memory.
func BenchmarkAggregate(b *testing.B) {
	data := benchData(b)
	cfg := mustConfig(b)
	lines := bytes.Count(data, []byte{'\n'})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		a, err := NewAggregator(cfg, Date{2026, 7, 28}, IMAP, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Read(bytes.NewReader(data), benchRef); err != nil {
			b.Fatal(err)
		}
		if a.Stats().Counted == 0 {
			b.Fatal("nothing counted")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
}
