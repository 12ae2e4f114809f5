package loggen

import (
	"io"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. The machine is shared, so
// lines per CPU-second is the stable number; lines/s (wall) is also shown.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkWriteLog measures the CLI's path: about 100k lines per op.
func BenchmarkWriteLog(b *testing.B) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"classic", Options{Seed: 1, SessionsPerDay: 25000}},
		{"mixed-all-eras", Options{Seed: 1, SessionsPerDay: 25000, Format: Mixed, Eras: AllEras, RsyslogMarkers: 0.02}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var lines int64
			var w countWriter
			start, cpu0 := time.Now(), cpuTime(b)
			for i := 0; i < b.N; i++ {
				tr, err := WriteLog(&w, tc.o)
				if err != nil {
					b.Fatal(err)
				}
				lines += tr.Lines
			}
			b.SetBytes(w.n / int64(b.N))
			b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
			b.ReportMetric(float64(lines)/(cpuTime(b)-cpu0).Seconds(), "lines/cpu-s")
			b.ReportMetric(float64(lines)/float64(b.N), "lines/op")
		})
	}
}

// BenchmarkGenerate includes building a Line (one string per line).
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	var lines int64
	start, cpu0 := time.Now(), cpuTime(b)
	for i := 0; i < b.N; i++ {
		tr, err := Generate(Options{Seed: 1, SessionsPerDay: 25000}, func(l Line) error {
			_, err := io.WriteString(io.Discard, l.Raw)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		lines += tr.Lines
	}
	b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
	b.ReportMetric(float64(lines)/(cpuTime(b)-cpu0).Seconds(), "lines/cpu-s")
}
