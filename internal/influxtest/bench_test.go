package influxtest

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rssMB reads VmRSS of pid from /proc (Linux); 0 where unavailable.
func rssMB(b *testing.B, pid int) float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb / 1024
		}
	}
	return 0
}

// benchOptions are the two kinds of server: Flux's initialisation is almost
// all of a start.
var benchOptions = []struct {
	name string
	opts Options
}{
	{"flux", Options{}},
	{"noflux", Options{NoFlux: true}},
}

// BenchmarkStart measures a start with a fresh directory (config written,
// empty meta and data, database created): what Start and Shared cost.
// Run with -benchtime=3x; a start with Flux takes about 5 s.
func BenchmarkStart(b *testing.B) {
	for _, bo := range benchOptions {
		b.Run(bo.name, func(b *testing.B) {
			var rss float64
			for b.Loop() {
				s, err := start(bo.opts, b.Logf)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				rss = rssMB(b, s.Pid())
				if err := s.p.stop(syscall.SIGTERM); err != nil {
					b.Fatal(err)
				}
				s.p.finish(b.Failed(), b.Logf)
				b.StartTimer()
			}
			b.ReportMetric(rss, "MB-rss-idle")
		})
	}
}

// BenchmarkRestart measures Restart (SIGTERM, wait, start, /ping) on a data
// directory that holds 100,000 points in 1,000 series (a day of a mid-sized
// site), and the RSS after a Sums over them.
func BenchmarkRestart(b *testing.B) {
	for _, bo := range benchOptions {
		b.Run(bo.name, func(b *testing.B) {
			s := Start(b, bo.opts)
			var lp strings.Builder
			t0 := time.Date(2024, 7, 29, 0, 0, 0, 0, time.UTC).UnixNano()
			for i := range 100_000 {
				fmt.Fprintf(&lp, "courier_session,host=mx1,service=imap,user=u%d rcvd=%di,sent=%di %d\n", i%1000, i, 2*i, t0+int64(i)*int64(time.Second))
				if (i+1)%10_000 == 0 {
					s.Write(b, lp.String())
					lp.Reset()
				}
			}
			var rss float64
			for b.Loop() {
				s.Restart(b)
				b.StopTimer()
				if n := len(s.Sums(b, "", time.UTC)); n != 2000 {
					b.Fatalf("Sums has %d keys; want 2000 (1000 users on 2 UTC days)", n)
				}
				rss = rssMB(b, s.Pid())
				b.StartTimer()
			}
			b.ReportMetric(rss, "MB-rss-after-sums")
		})
	}
}
