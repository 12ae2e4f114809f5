package stress

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// loadChunk is the chunk size of the load scenarios: about what Fluent Bit
// hands an output under load (its chunks are cut near 2 MB; 20,000 tail
// records of generated mail.log lines are about 2.5 MB of msgpack).
const loadChunk = 20_000

// loadLog is a long log cut at exactly records lines: many users, four
// hosts, every transport form.
func loadLog(seed, records int64) loggen.Options {
	return loggen.Options{
		Seed: seed, SessionsPerDay: 100_000, Users: 2000, Location: time.UTC, Format: loggen.Mixed,
		Hosts: []string{"mx1", "mx2", "mx3", "mx4"}, MaxLines: records,
		Eras: []loggen.Era{loggen.Era42, loggen.Era509, loggen.Era60},
	}
}

// packedSize is the size of the v2 msgpack chunk the host packs from a
// record file of tail records: per record [[ts, {}], {"log": raw}] is
// 2 array headers, a fixext8 time (10), an empty map, a one-entry map, the
// key "log" (4) and the string header and bytes of the line.
func packedSize(records, rawBytes int64) int64 {
	return records*(1+1+10+1+1+4+3) + rawBytes
}

// rssGrowthLimit is how far the host's RSS may grow from its plateau
// (measured after a tenth of the load) to the end. The live state of the
// plugin is bounded (the dedup seen-set by dedup_window and
// dedup_max_entries, pooled batches), so the RSS stays near the plateau
// whatever the record count: full runs measured -0.4 MB and +3.8 MB (GC
// and seen-set timing); a leak of 4 bytes per record over the ten million
// records of a full run crosses this.
const rssGrowthLimit = 32 << 20

// TestLoad: sustained flushes of 2 MB chunks (STRESS_RECORDS records: 200k
// short, 10 M full) through the real .so into InfluxDB. Reports records per
// second, the host's peak RSS (VmHWM) and its RSS after the load (VmRSS),
// and checks the sums exactly.
func TestLoad(t *testing.T) {
	s := getScale(t)
	start := time.Now()
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true})
	h := startHost(t)
	if err := h.Init("a", props(srv, "", "influx_timeout", "60s")...); err != nil {
		t.Fatalf("%v\n%s", err, h.Log())
	}
	chunks := make(chan chunk, 2) // the generator runs at most two chunks ahead
	type gen struct {
		tr  loggen.Truth
		err error
	}
	genDone := make(chan gen, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	go func() {
		tr, err := streamChunks(ctx, loadLog(505, s.loadRecords), loadChunk, dir, "", chunks)
		genDone <- gen{tr, err}
	}()
	total := int((s.loadRecords + loadChunk - 1) / loadChunk)
	var plateau fbhost.Memory
	f := &feeder{h: h, inst: "a", layout: "v2", policy: s.policy(),
		progress: func(n int) {
			if n == max(1, total/10) {
				m, err := h.Memory()
				if err != nil {
					t.Error(err)
				}
				plateau = m
			}
		}}
	st, err := f.run(ctx, chunks)
	checkFeed(t, st, err, h)
	g := <-genDone
	if g.err != nil {
		t.Fatalf("generator: %v", g.err)
	}
	after, err := h.Memory()
	if err != nil {
		t.Fatal(err)
	}
	feedTime := time.Since(start)
	if st.Records != s.loadRecords {
		t.Errorf("delivered %d records, want %d", st.Records, s.loadRecords)
	}
	if after.RSS > plateau.RSS+rssGrowthLimit {
		t.Errorf("host RSS grew from %s (after %d of %d chunks) to %s: more than %s",
			mb(plateau.RSS), max(1, total/10), total, mb(after.RSS), mb(rssGrowthLimit))
	}
	if err := h.Exit("a"); err != nil {
		t.Fatal(err)
	}
	stats := finalStats(t, h.Log())
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	// CPU of the host process (plugin + the host's chunk packing), exact
	// from wait4: records per CPU-second is the plugin's cost without
	// InfluxDB's share of a shared machine.
	cpu := h.ProcessState().UserTime() + h.ProcessState().SystemTime()
	want := truthSums(g.tr)
	got := srv.Sums(t, "", time.UTC)
	checkSums(t, "load", want, got)
	stored, lost, doubled := tally(want, got)
	avgChunk := packedSize(st.Records, st.Raw) / max(st.Chunks, 1)
	addRow(t, row{Scenario: "load: 2 MB chunks", RecordsIn: st.Records, Truth: totalSessions(want), Stored: stored,
		Lost: lost, Doubled: doubled, PeakRSS: after.HWM, AfterRSS: after.RSS, Time: feedTime,
		Note: fmt.Sprintf("%d chunks of %d records (~%.1f MB msgpack each); %.0f records/s inside FlushCtx, InfluxDB's write included "+
			"(%.0f/s wall with the generator); host CPU %v = %.0f records per CPU-second; "+
			"RSS %s after a tenth; points_written %d, repeats %d; longest flush %v",
			st.Chunks, loadChunk, float64(avgChunk)/(1<<20), float64(st.Records)/st.Busy.Seconds(),
			float64(st.Records)/feedTime.Seconds(), cpu.Round(10*time.Millisecond), float64(st.Records)/cpu.Seconds(),
			mb(plateau.RSS), stats["points_written"], stats["repeats"], st.MaxFlush.Round(time.Millisecond))})
}

// reportJSON is the part of `courier-traffic report --format json` the
// memory run checks.
type reportJSON struct {
	Date  string `json:"date"`
	Users []struct {
		User     string `json:"user"`
		Sessions int64  `json:"sessions"`
		Rcvd     int64  `json:"rcvd"`
		Sent     int64  `json:"sent"`
	} `json:"users"`
}

// TestCLIMemory: `courier-traffic report` over a generated file of
// STRESS_CLI_LINES lines (200k short, 10 M full). The peak RSS is wait4's
// ru_maxrss, the figure `/usr/bin/time -v` prints as "Maximum resident set
// size"; the report of the log's middle day must equal the truth.
func TestCLIMemory(t *testing.T) {
	s := getScale(t)
	cli := cliBinary(t)
	path := filepath.Join(t.TempDir(), "mail.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := loadLog(606, s.cliLines)
	opts.Format = loggen.Classic // what the classic script reads
	tr, err := loggen.WriteLog(f, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	ref := tr.Last.Add(time.Hour) // the year of classic stamps comes from the mtime
	if err := os.Chtimes(path, ref, ref); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	days := tr.Days()
	day := days[len(days)/2]
	// The peak RSS comes from /usr/bin/time, as in scripts/stress.sh, not from
	// this process's wait4: Go starts children with CLONE_VM|CLONE_VFORK, and
	// Linux folds the parent's memory high-water mark into the child's
	// ru_maxrss at exec, so the figure would be this test binary's (which
	// holds the generator's truth), not the CLI's.
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		t.Fatalf("/usr/bin/time (Debian package time) is needed to measure the CLI's peak RSS: %v", err)
	}
	rssFile := filepath.Join(t.TempDir(), "maxrss")
	start := time.Now()
	cmd := exec.Command(timeBin, "-f", "%M", "-o", rssFile, cli, "report", "--date", day, "--tz", "UTC",
		"--service", "all", "--threshold", "0", "--format", "json", path)
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("courier-traffic report: %v\n%s", err, out)
	}
	rss, err := os.ReadFile(rssFile)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(rss)), 10, 64)
	if err != nil {
		t.Fatalf("/usr/bin/time -f %%M wrote %q: %v", rss, err)
	}
	peak := kb << 10
	var rep reportJSON
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report JSON: %v\n%.500s", err, out)
	}
	type sums struct{ Sessions, Rcvd, Sent int64 }
	got := map[string]sums{}
	for _, u := range rep.Users {
		got[u.User] = sums{u.Sessions, u.Rcvd, u.Sent}
	}
	want := map[string]sums{}
	for u, v := range tr.Total(day, "") {
		want[u] = sums{v.Sessions, v.Rcvd, v.Sent}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report of %s (-want +got):\n%s", day, diff)
	}
	var stored, lost, doubled, truth int64
	for u, w := range want {
		truth += w.Sessions
		lost += max(0, w.Sessions-got[u].Sessions)
	}
	for u, g := range got {
		stored += g.Sessions
		doubled += max(0, g.Sessions-want[u].Sessions)
	}
	addRow(t, row{Scenario: "CLI report", RecordsIn: tr.Lines, Truth: truth, Stored: stored, Lost: lost, Doubled: doubled,
		PeakRSS: peak, Time: elapsed,
		Note: fmt.Sprintf("%.0f lines/s over a %.0f MB file (%d days; day %s checked); peak RSS by /usr/bin/time -f %%M",
			float64(tr.Lines)/elapsed.Seconds(), float64(fi.Size())/(1<<20), len(days), day)})
}

// BenchmarkSustainedFlush: one op is one FlushCtx of a 2 MB chunk (20,000
// tail records) through the real .so into a real InfluxDB, the chunks
// generated before the timer starts. Compare runs with benchstat
// (scripts/stress.sh runs it with -count 6).
func BenchmarkSustainedFlush(b *testing.B) {
	srv := influxtest.Start(b, influxtest.Options{NoFlux: true})
	h := startHost(b)
	if err := h.Init("a", props(srv, "", "influx_timeout", "60s")...); err != nil {
		b.Fatalf("%v\n%s", err, h.Log())
	}
	out := make(chan chunk, b.N)
	if _, err := streamChunks(context.Background(), loadLog(707, int64(b.N)*loadChunk), loadChunk, b.TempDir(), "", out); err != nil {
		b.Fatal(err)
	}
	var cs []chunk
	var raw int64
	for c := range out {
		cs = append(cs, c)
		raw += c.raw
	}
	if len(cs) != b.N {
		b.Fatalf("%d chunks generated, want %d", len(cs), b.N)
	}
	b.SetBytes(packedSize(int64(loadChunk*b.N), raw) / int64(b.N))
	b.ResetTimer()
	for _, c := range cs {
		got, _, err := h.One("flush a " + c.path + " v2")
		if err != nil {
			b.Fatal(err)
		}
		if got.Name != fbhost.OK {
			b.Fatalf("flush: %s\n%s", got.Name, tail(h.Log(), 20))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*loadChunk)/b.Elapsed().Seconds(), "records/s")
	if m, err := h.Memory(); err == nil {
		b.ReportMetric(float64(m.HWM)/(1<<20), "peakRSS-MB")
	}
}
