package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// The plugin's cost inside its host (docs/performance.md, "The plugin inside
// its host"): the C host plays Fluent Bit's tail input and engine (chunks of
// up to hostChunkBytes of msgpack, Fluent Bit 4.2.8's array32 layout, one
// flush at a time: one worker thread), once with the built-in no-op plugin
// ("noop": receives the chunks, decodes nothing, like the null output) and
// once with the real .so writing to a real InfluxDB over HTTP with gzip. The
// CPU of each host process is exact (wait4's rusage: user + sys, start-up,
// init and exit included), so the plugin's cost is the difference per
// record, measured with both hosts run back to back on the same chunk files
// (interleaved: noop, plugin, noop, plugin, ...). InfluxDB runs in its own
// process and is not counted.
//
// Knobs: HOSTCPU_RECORDS (records per mix, default 200000), HOSTCPU_PACE
// (a pause between flushes, default 0: a backlog, the tail input reading a
// file that is already there), HOSTCPU_ENV (one VAR=value added to the
// plugin host's environment, e.g. GOGC=200, to compare runtime settings),
// HOSTCPU_PROPS (plugin keys added to the instance, key=value,...: e.g.
// dedup_max_entries=250000 took a 1M-record realistic backlog from 120 to
// 96 MB added RSS), HOSTCPU_COMPARE (another build of the .so, e.g. of an earlier commit: it
// runs in every round too, right after the working tree's, and its figures
// are reported as compare-*).

// hostChunkBytes is where a chunk is cut: Fluent Bit's input chunks are
// cut near 2 MB (FLB_INPUT_CHUNK_FS_MAX_SIZE, 2,048,000 bytes).
const hostChunkBytes = 2_048_000

// hostMix is a log the benchmark feeds.
type hostMix struct {
	name string
	opts loggen.Options
}

func hostMixes(records int64) []hostMix {
	return []hostMix{
		// the realistic mix: loggen's defaults, one day of records lines
		{"realistic", loggen.Options{Seed: 11, MaxLines: records}},
		// repeat-heavy: every traffic line repeated 1-20 times, each copy
		// with its own reception stamp (rsyslog's RFC 3339 format)
		{"repeats", loggen.Options{Seed: 12, MaxLines: records, RepeatBursts: 1,
			Format: loggen.RFC3339, CopyStamps: loggen.CopyReception}},
	}
}

// oneDay sizes o's day so that it holds about o.MaxLines lines, as
// courier-loggen -lines N -days 1 does.
func oneDay(tb testing.TB, o loggen.Options) loggen.Options {
	r, err := o.Resolved()
	if err != nil {
		tb.Fatal(err)
	}
	o.SessionsPerDay = int(math.Ceil(float64(o.MaxLines) / r.EstimatedLinesPerSession()))
	return o
}

// appendEvent32 appends [[EventTime, {}], {"log": line}] with array32
// headers, as Fluent Bit 4.2.8's tail input packs a record.
func appendEvent32(b []byte, ts time.Time, line string) []byte {
	b = append(b, 0xdd, 0, 0, 0, 2, 0xdd, 0, 0, 0, 2, 0xd7, 0)
	sec, nsec := uint32(ts.Unix()), uint32(ts.Nanosecond())
	b = append(b, byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec), byte(nsec>>24), byte(nsec>>16), byte(nsec>>8), byte(nsec))
	b = append(b, 0x80, 0x81, 0xa3, 'l', 'o', 'g')
	n := len(line)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 256:
		b = append(b, 0xd9, byte(n))
	case n < 1<<16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, line...)
}

// writeHostChunks generates the mix and writes it as raw chunk files in
// dir; it returns their paths and the number of records.
func writeHostChunks(tb testing.TB, o loggen.Options, dir string) ([]string, int64) {
	var files []string
	var buf []byte
	var n int64
	cut := func() {
		if len(buf) == 0 {
			return
		}
		p := filepath.Join(dir, "chunk"+strconv.Itoa(len(files)))
		if err := os.WriteFile(p, buf, 0o600); err != nil {
			tb.Fatal(err)
		}
		files = append(files, p)
		buf = buf[:0]
	}
	_, err := loggen.Generate(oneDay(tb, o), func(l loggen.Line) error {
		// the tail input stamps a record when it reads it: a second
		// after it was logged, for a live log
		next := appendEvent32(nil, l.Time.Add(time.Second), l.Raw)
		if len(buf)+len(next) > hostChunkBytes {
			cut()
		}
		buf = append(buf, next...)
		n++
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	cut()
	return files, n
}

// hostRun is what one host process cost.
type hostRun struct {
	cpu time.Duration // user + sys of the whole process
	sys time.Duration // of which sys (page faults, I/O)
	hwm int64         // VmHWM before it quit
	// anon and file split VmRSS before it quit (RssAnon, RssFile): the
	// .so's pages are file-backed, shared with the page cache
	anon, file int64
}

// rssSplit reads RssAnon and RssFile of pid (bytes).
func rssSplit(tb testing.TB, pid int) (anon, file int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "RssAnon":
			anon = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return anon, file
}

// runHostOnce starts a host with plugin ("noop" or the .so), inits it with
// props, flushes every file once (flushraw: the host copies the chunk,
// calls FlushCtx, poisons and frees the copy), exits the instance and
// quits.
func runHostOnce(tb testing.TB, bin, plugin string, env []string, files []string, pace time.Duration, props ...string) hostRun {
	tb.Helper()
	h, err := fbhost.Start(fbhost.Options{Plugin: plugin, Binary: bin, Dir: tb.TempDir(), Env: env, Timeout: hostTimeout})
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	if err := h.Init("a", props...); err != nil {
		tb.Fatalf("%v\n%s", err, h.Log())
	}
	for _, f := range files {
		r, _, err := h.One("flushraw a " + f)
		if err != nil {
			tb.Fatalf("%v\n%s", err, h.Log())
		}
		if r.Name != fbhost.OK {
			tb.Fatalf("flush %s: %s\n%s", f, r.Name, h.Log())
		}
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	if err := h.Exit("a"); err != nil {
		tb.Fatalf("%v\n%s", err, h.Log())
	}
	m, err := h.Memory()
	if err != nil {
		tb.Fatal(err)
	}
	anon, file := rssSplit(tb, h.Pid())
	if err := h.Close(); err != nil {
		tb.Fatalf("%v\n%s", err, h.Log())
	}
	ps := h.ProcessState()
	return hostRun{cpu: ps.UserTime() + ps.SystemTime(), sys: ps.SystemTime(), hwm: m.HWM, anon: anon, file: file}
}

func envInt(tb testing.TB, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// BenchmarkHostCPU: one op is one noop host and one plugin host over the
// same chunk files (interleaved). Metrics: cpu-µs/record of each host,
// added-cpu-µs/record (plugin minus noop; target <= 1), added-RSS-MB
// (VmHWM, plugin minus noop; target <= 30), and the RSS at the end split
// into anonymous memory and file-backed pages (the .so's code and data,
// shared with the page cache): added-anon-MB, added-file-MB. Not a timed test: the targets
// are checked by reading the numbers (docs/performance.md).
func BenchmarkHostCPU(b *testing.B) {
	records := envInt(b, "HOSTCPU_RECORDS", 200_000)
	var pace time.Duration
	if v := os.Getenv("HOSTCPU_PACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("HOSTCPU_PACE=%q: %v", v, err)
		}
		pace = d
	}
	var env []string
	if v := os.Getenv("HOSTCPU_ENV"); v != "" {
		env = append(env, v)
	}
	other := os.Getenv("HOSTCPU_COMPARE")
	root, err := fbhost.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	so, bin, err := fbhost.Build(root)
	if err != nil {
		b.Fatal(err)
	}
	srv := influxtest.Start(b, influxtest.Options{NoFlux: true})
	props := []string{"influx_url", srv.URL, "influx_bucket", srv.Bucket, "influx_gzip", "true",
		"stats_interval", "0", "time_zone", "UTC"}
	if srv.Token != "" {
		props = append(props, "influx_token", srv.Token)
	}
	// HOSTCPU_PROPS adds plugin keys: "dedup_max_entries=250000,influx_gzip=false".
	if v := os.Getenv("HOSTCPU_PROPS"); v != "" {
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			if !ok {
				b.Fatalf("HOSTCPU_PROPS: %q is not key=value", kv)
			}
			props = append(props, strings.TrimSpace(k), strings.TrimSpace(val))
		}
	}
	for _, mix := range hostMixes(records) {
		b.Run(mix.name, func(b *testing.B) {
			files, n := writeHostChunks(b, mix.opts, b.TempDir())
			var base, plug, cmp hostRun
			runs := 0
			for b.Loop() {
				nb := runHostOnce(b, bin, fbhost.Noop, nil, files, pace)
				np := runHostOnce(b, bin, so, env, files, pace, props...)
				base.cpu += nb.cpu
				plug.cpu += np.cpu
				base.sys += nb.sys
				plug.sys += np.sys
				base.hwm = max(base.hwm, nb.hwm)
				plug.hwm = max(plug.hwm, np.hwm)
				base.anon, base.file = max(base.anon, nb.anon), max(base.file, nb.file)
				plug.anon, plug.file = max(plug.anon, np.anon), max(plug.file, np.file)
				if other != "" {
					nc := runHostOnce(b, bin, other, env, files, pace, props...)
					cmp.cpu += nc.cpu
					cmp.hwm = max(cmp.hwm, nc.hwm)
				}
				runs++
			}
			recs := float64(n) * float64(runs)
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / recs }
			b.ReportMetric(us(base.cpu), "noop-cpu-µs/record")
			b.ReportMetric(us(plug.cpu), "plugin-cpu-µs/record")
			b.ReportMetric(us(plug.cpu-base.cpu), "added-cpu-µs/record")
			b.ReportMetric(float64(plug.hwm-base.hwm)/(1<<20), "added-RSS-MB")
			b.ReportMetric(float64(plug.anon-base.anon)/(1<<20), "added-anon-MB")
			b.ReportMetric(float64(plug.file-base.file)/(1<<20), "added-file-MB")
			b.ReportMetric(float64(n)/float64(len(files)), "records/chunk")
			if other != "" {
				b.ReportMetric(us(cmp.cpu-base.cpu), "compare-added-cpu-µs/record")
				b.ReportMetric(float64(cmp.hwm-base.hwm)/(1<<20), "compare-added-RSS-MB")
			}
			b.Logf("%s: %d records in %d chunks, %d round(s): CPU noop %v (sys %v), plugin %v (sys %v); VmHWM noop %.1f MB, plugin %.1f MB",
				mix.name, n, len(files), runs, base.cpu, base.sys, plug.cpu, plug.sys, float64(base.hwm)/(1<<20), float64(plug.hwm)/(1<<20))
		})
	}
}

// TestHostCPUChunks: the benchmark's chunks decode whole in the plugin and
// are cut below 2 MB.
func TestHostCPUChunks(t *testing.T) {
	for _, mix := range hostMixes(5000) {
		files, n := writeHostChunks(t, mix.opts, t.TempDir())
		if n != 5000 || len(files) == 0 {
			t.Fatalf("%s: %d records in %d files", mix.name, n, len(files))
		}
		f, keys := newTestFlusher(t)
		var got int
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > hostChunkBytes {
				t.Errorf("%s: chunk of %d bytes", p, len(data))
			}
			bt := f.NewBatch()
			res := addChunk(bt, &keys, data)
			if res.err != nil {
				t.Fatalf("%s: %v", p, res.err)
			}
			got += res.records
			f.Discard(bt)
		}
		if got != 5000 {
			t.Errorf("%s: %d records decoded, want 5000", mix.name, got)
		}
	}
}

// TestNoopHost: the host's built-in no-op plugin (the benchmark's
// baseline) registers, inits, answers every flush FLB_OK without reading
// the chunk (garbage included) and exits.
func TestNoopHost(t *testing.T) {
	root, err := fbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, bin, err := fbhost.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := fbhost.Start(fbhost.Options{Plugin: fbhost.Noop, Binary: bin, Dir: t.TempDir(), Timeout: hostTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Init("a"); err != nil {
		t.Fatal(err)
	}
	p, err := h.File([]byte{0xc1, 0xc1, 0xc1})
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"flushraw a " + p, "exit a"} {
		r, _, err := h.One(cmd)
		if err != nil || r.Name != fbhost.OK {
			t.Fatalf("%s: %+v, %v", cmd, r, err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}
