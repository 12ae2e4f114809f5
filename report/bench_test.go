package report

import (
	"bytes"
	"os"
	"path/filepath"
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

var (
	benchRepeatOnce sync.Once
	benchRepeatLog  []byte
)

// benchRepeatData is a one-day log of 200,000 lines where every session
// end is followed by 1-20 copies (Courier's repeat bug), each stamped at
// its reception in microseconds (rsyslog's RFC 3339 file format).
func benchRepeatData(b *testing.B) []byte {
	benchRepeatOnce.Do(func() {
		var buf bytes.Buffer
		_, err := loggen.WriteLog(&buf, loggen.Options{Seed: 1, MaxLines: 200_000, SessionsPerDay: 20_000,
			Format: loggen.RFC3339, RepeatBursts: 1, CopyStamps: loggen.CopyReception})
		if err != nil {
			b.Fatal(err)
		}
		benchRepeatLog = buf.Bytes()
	})
	return benchRepeatLog
}

// BenchmarkReportRepeats is the pipeline (dedup on) over the repeat-heavy
// log: most lines are copies, compared through the seen-set.
func BenchmarkReportRepeats(b *testing.B) {
	data := benchRepeatData(b)
	cfg := mustConfig(b)
	lines := bytes.Count(data, []byte{'\n'})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for range b.N {
		a, err := NewAggregator(cfg, Date{2026, 7, 28}, IMAP, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Read(bytes.NewReader(data), time.Date(2026, 7, 29, 0, 0, 0, 0, time.UTC)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
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

// BenchmarkReport compares the sequential reference (EachLine + AddLine,
// one goroutine) with Read's pipeline (blocks, GOMAXPROCS workers, in-order
// dedup) on the same generated day, from memory, dedup on (the default) and
// off (every line parsed). MB/s is log bytes; with -cpu 1 the pipeline has
// one worker.
func BenchmarkReport(b *testing.B) {
	data := benchData(b)
	lines := bytes.Count(data, []byte{'\n'})
	for _, dedup := range []string{"on", "off"} {
		cfg := mustConfig(b, "dedup", dedup)
		for _, mode := range []string{"sequential", "pipeline"} {
			b.Run("dedup="+dedup+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for range b.N {
					a, err := NewAggregator(cfg, Date{2026, 7, 28}, IMAP, 0)
					if err != nil {
						b.Fatal(err)
					}
					if mode == "sequential" {
						err = EachLine(bytes.NewReader(data), func(l []byte) { a.AddLine(l, benchRef) })
					} else {
						err = a.Read(bytes.NewReader(data), benchRef)
					}
					if err != nil {
						b.Fatal(err)
					}
					if a.Stats().Counted == 0 {
						b.Fatal("nothing counted")
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
			})
		}
	}
}

// BenchmarkReportFile is the CLI's path: Open a file of the generated day
// (page cache, no decompression) and ReadInput it.
func BenchmarkReportFile(b *testing.B) {
	data := benchData(b)
	path := filepath.Join(b.TempDir(), "mail.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	cfg := mustConfig(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for range b.N {
		a, err := NewAggregator(cfg, Date{2026, 7, 28}, IMAP, 0)
		if err != nil {
			b.Fatal(err)
		}
		in, err := Open(path, nil, benchRef, nil)
		if err != nil {
			b.Fatal(err)
		}
		err = a.ReadInput(in)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		if a.Stats().Counted == 0 {
			b.Fatal("nothing counted")
		}
	}
}
