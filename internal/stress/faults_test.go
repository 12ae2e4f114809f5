package stress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/faultproxy"
	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// faultLog is the multi-day log of the fault scenarios: every era and
// transport form, two hosts, repeats of the Courier bug.
func faultLog(s scale, seed int64) loggen.Options {
	return loggen.Options{
		Seed: seed, Days: s.faultDays, SessionsPerDay: s.faultPerDay, Users: 40,
		Location: time.UTC, Format: loggen.Mixed, Hosts: []string{"mx1", "mx2"},
		Eras: []loggen.Era{loggen.Era41, loggen.Era42, loggen.Era509, loggen.Era509, loggen.Era60, loggen.EraPlesk},
	}
}

// faultChunkSize is small enough that a short log has a few dozen chunks
// (kills land in the middle of the feed, not after it).
func faultChunkSize(s scale) int {
	if s.full {
		return 1000
	}
	return 150
}

// props are the plugin properties for srv (or url, when a proxy sits in
// between) plus extra.
func props(srv *influxtest.Server, url string, extra ...string) []string {
	if url == "" {
		url = srv.URL
	}
	p := []string{"influx_url", url, "influx_bucket", srv.Bucket, "stats_interval", "0", "time_zone", "UTC"}
	if srv.Token != "" {
		p = append(p, "influx_token", srv.Token)
	}
	return append(p, extra...)
}

func (s scale) policy() retryPolicy {
	return retryPolicy{base: s.retryBase, cap: s.retryCap, limit: 100}
}

// finish reads back the sums, compares them with the truth and adds the
// row.
func finish(t *testing.T, name string, srv *influxtest.Server, tr loggen.Truth, in int64, h *fbhost.Host, start time.Time, note string) {
	t.Helper()
	want := truthSums(tr)
	got := srv.Sums(t, "", time.UTC)
	checkSums(t, name, want, got)
	stored, lost, doubled := tally(want, got)
	r := row{Scenario: name, RecordsIn: in, Truth: totalSessions(want), Stored: stored, Lost: lost, Doubled: doubled,
		Time: time.Since(start), Note: note}
	if h != nil {
		if m, err := h.Memory(); err == nil {
			r.PeakRSS = m.HWM
		} else {
			t.Error(err)
		}
	}
	addRow(t, r)
}

// flushMargin is what a flush may take beyond its requests' timeouts:
// decoding, parsing, encoding and the host's chunk packing, on a busy
// machine (measured: a few ms per 1,000 records; 2 s leaves room for a
// scheduler stall, not for a request that ignores influx_timeout).
const flushMargin = 2 * time.Second

func checkFeed(t *testing.T, st feedStats, err error, h *fbhost.Host) {
	t.Helper()
	if err != nil {
		t.Fatalf("feed: %v\nplugin log (tail):\n%s", err, tail(h.Log(), 30))
	}
	if len(st.Dropped) > 0 {
		t.Errorf("%d chunk(s) dropped (FLB_ERROR or retry limit), first %s\nplugin log (tail):\n%s",
			len(st.Dropped), st.Dropped[0].path, tail(h.Log(), 30))
	}
	for _, s := range st.Slow {
		t.Errorf("flush over its bound: %s", s)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestKillRestart: InfluxDB is killed (SIGKILL, a crash) several times in
// the middle of a multi-day log and started again after an outage
// (STRESS_OUTAGE: 2 s short, 1 min full). The plugin answers FLB_RETRY
// while it is down, the driver retries like Fluent Bit's scheduler while
// new chunks keep coming, and the final sums equal the truth exactly.
func TestKillRestart(t *testing.T) {
	s := getScale(t)
	start := time.Now()
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true})
	size := 50
	if s.full {
		size = 300
	}
	chunks, tr := makeChunks(t, faultLog(s, 101), size, "")
	h := startHost(t)
	if err := h.Init("a", props(srv, "", "influx_timeout", "5s")...); err != nil {
		t.Fatalf("%v\n%s", err, h.Log())
	}
	// New chunks keep coming while InfluxDB is down (one per pace), so the
	// log is cut into kills+1 segments of up-time chunks around the
	// outages: every kill lands in the middle of the feed.
	perOutage := int(s.outage / max(s.pace, time.Millisecond))
	seg := (len(chunks) - s.kills*perOutage) / (s.kills + 1)
	if seg < 2 {
		t.Fatalf("%d chunks are too few for %d outages of %v at one chunk per %v: lower STRESS_OUTAGE or raise STRESS_PACE",
			len(chunks), s.kills, s.outage, s.pace)
	}
	var progress atomic.Int64
	// influx_timeout 5s, batch_size 5000 (the default): one request per
	// chunk, so no flush may take longer than 5 s plus the margin.
	f := &feeder{h: h, inst: "a", layout: "v2", policy: s.policy(), pace: s.pace,
		progress: func(n int) { progress.Store(int64(n)) },
		bound:    func(records int) time.Duration { return time.Duration((records+4999)/5000)*5*time.Second + flushMargin }}
	type result struct {
		st  feedStats
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		st, err := f.run(ctx, chanOf(chunks))
		done <- result{st, err}
	}()
	rng := rand.New(rand.NewPCG(7, 7))
	next := int64(seg)
	var killedAt []string
	for k := 1; k <= s.kills; k++ {
		for progress.Load() < next {
			select {
			case r := <-done:
				t.Fatalf("feed ended before kill %d (chunk %d of %d): %v", k, progress.Load(), len(chunks), r.err)
			case <-time.After(5 * time.Millisecond):
			}
		}
		// Land inside a flush rather than between two.
		time.Sleep(time.Duration(rng.Int64N(int64(s.pace) + 1)))
		srv.Kill(t)
		at := progress.Load()
		killedAt = append(killedAt, fmt.Sprint(at))
		t.Logf("kill %d at chunk %d/%d; down for %v", k, at, len(chunks), s.outage)
		time.Sleep(s.outage)
		srv.Restart(t)
		next = progress.Load() + int64(seg)
	}
	r := <-done
	checkFeed(t, r.st, r.err, h)
	if r.st.Retries == 0 {
		t.Errorf("no FLB_RETRY during %d outages: the kills missed the feed", s.kills)
	}
	finish(t, "influxdb killed x"+fmt.Sprint(s.kills), srv, tr, int64(tr.Lines), h, start,
		fmt.Sprintf("SIGKILL at chunks %s of %d (one new chunk per %v), down %v each; %d flushes, %d FLB_RETRY, longest flush %v",
			strings.Join(killedAt, ", "), len(chunks), s.pace, s.outage, r.st.Flushes, r.st.Retries, r.st.MaxFlush.Round(time.Millisecond)))
}

// TestProxyFaults: a proxy between the plugin and InfluxDB adds latency
// (below and above influx_timeout), resets connections and answers 503 and
// 429, first mixed, then 503 only for a while. The sums are exact, and no
// flush blocks longer than the design promises:
//
//	ceil(records / batch_size) * influx_timeout + margin
//
// A flush makes one request per batch_size points (a chunk has at most one
// point per record), stops at the first request that needs a retry, and
// each request, connection included, is bounded by influx_timeout
// (http.Client.Timeout). The margin covers decoding, encoding and the
// host's chunk packing on a busy machine (2 s; none of it comes near).
func TestProxyFaults(t *testing.T) {
	s := getScale(t)
	start := time.Now()
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true})
	proxy, err := faultproxy.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	timeout, batch := time.Second, 50
	if s.full {
		timeout, batch = 5*time.Second, 250
	}
	mixed := []faultproxy.Fault{
		{Latency: timeout / 5}, {Reset: true}, {Status: 503}, {}, {Status: 429},
		{Latency: timeout + timeout/2}, {}, {Status: 503}, {Latency: timeout / 2}, {Reset: true}, {},
	}
	// The phases are sized from the requests a fault-free run makes (one
	// per batch_size records of each chunk): half of them see the mixed
	// faults, a quarter the sustained 503s, and the rest go through.
	opts := faultLog(s, 202)
	chunks, tr := makeChunks(t, opts, faultChunkSize(s), "")
	var requests int64
	for _, c := range chunks {
		requests += int64((c.records + batch - 1) / batch)
	}
	const healthy = 5
	window, outage := requests/2, requests/4
	proxy.SetPlan(func(n int64) faultproxy.Fault {
		switch {
		case n <= healthy:
			return faultproxy.Fault{}
		case n <= healthy+window:
			return mixed[n%int64(len(mixed))]
		case n <= healthy+window+outage:
			return faultproxy.Fault{Status: 503}
		}
		return faultproxy.Fault{}
	})
	h := startHost(t)
	if err := h.Init("a", props(srv, proxy.URL, "influx_timeout", timeout.String(), "batch_size", fmt.Sprint(batch))...); err != nil {
		t.Fatalf("%v\n%s", err, h.Log())
	}
	bound := func(records int) time.Duration {
		return time.Duration((records+batch-1)/batch)*timeout + flushMargin
	}
	f := &feeder{h: h, inst: "a", layout: "v2a32", policy: s.policy(), pace: s.pace / 5, bound: bound}
	st, err := f.run(context.Background(), chanOf(chunks))
	checkFeed(t, st, err, h)
	c := proxy.Counts()
	if c.Reset == 0 || c.Status == 0 || st.Retries == 0 || c.Requests <= healthy+window+outage {
		t.Errorf("faults not exercised: proxy %+v, %d FLB_RETRY; the plan's phases end at request %d",
			c, st.Retries, healthy+window+outage)
	}
	finish(t, "proxy latency/reset/503/429", srv, tr, int64(tr.Lines), h, start,
		fmt.Sprintf("%d flushes, %d FLB_RETRY; proxy: %d requests, %d resets, %d injected 429/503; "+
			"longest flush %v, bound ceil(records/%d)*%v+%v = %v for a full chunk",
			st.Flushes, st.Retries, c.Requests, c.Reset, c.Status, st.MaxFlush.Round(time.Millisecond),
			batch, timeout, flushMargin, bound(faultChunkSize(s))))
}

// TestWrongTokenThenFix: the plugin starts with a wrong token; every chunk
// answers FLB_RETRY (401 is retried: the admin can fix it). Fluent Bit keeps
// the chunks (filesystem storage) and the admin restarts it with the right
// token: the pending chunks are flushed by the new process and nothing is
// lost.
func TestWrongTokenThenFix(t *testing.T) {
	s := getScale(t)
	start := time.Now()
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true, Auth: true})
	chunks, tr := makeChunks(t, faultLog(s, 303), faultChunkSize(s), "")

	h1 := startHost(t)
	wrong := append(props(srv, "", "influx_timeout", "5s"), "influx_token", wrongToken)
	// influx_token is read first-match: drop the right one from props.
	wrong = withoutKey(wrong, "influx_token", srv.Token)
	if err := h1.Init("a", wrong...); err != nil {
		t.Fatalf("%v\n%s", err, h1.Log())
	}
	f1 := &feeder{h: h1, inst: "a", layout: "v2", policy: retryPolicy{base: s.retryBase / 4, cap: s.retryBase, limit: 2}}
	st1, err := f1.run(context.Background(), chanOf(chunks))
	if err != nil {
		t.Fatalf("feed with the wrong token: %v\n%s", err, h1.Log())
	}
	if st1.Chunks != 0 || len(st1.Dropped) != len(chunks) {
		t.Fatalf("wrong token: %d chunks delivered, %d left of %d; want 0 delivered, all left for the retry",
			st1.Chunks, len(st1.Dropped), len(chunks))
	}
	if err := h1.Exit("a"); err != nil {
		t.Fatal(err)
	}
	log1 := h1.Log()
	if err := h1.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log1, "401") && !strings.Contains(strings.ToLower(log1), "authoriz") {
		t.Errorf("the plugin log does not say why the writes failed (401/authorization):\n%s", tail(log1, 10))
	}
	if got := srv.Sums(t, "", time.UTC); len(got) != 0 {
		t.Fatalf("points written with the wrong token: %v", got)
	}

	h2 := startHost(t)
	if err := h2.Init("a", props(srv, "", "influx_timeout", "5s")...); err != nil {
		t.Fatalf("%v\n%s", err, h2.Log())
	}
	f2 := &feeder{h: h2, inst: "a", layout: "v2", policy: s.policy()}
	st2, err := f2.run(context.Background(), chanOf(st1.Dropped))
	checkFeed(t, st2, err, h2)
	checkNoSecret(t, "plugin log, wrong token", log1, wrongToken, srv.Token)
	checkNoSecret(t, "plugin log, right token", h2.Log(), wrongToken, srv.Token)
	finish(t, "wrong token, then fixed", srv, tr, int64(tr.Lines), h2, start,
		fmt.Sprintf("%d FLB_RETRY with the wrong token; %d chunks re-flushed after the fix", st1.Retries, len(st1.Dropped)))
}

// wrongToken is a syntactically valid 1.8 token ("user:password") that the
// server refuses; its password part is distinctive so that a leak is found.
const wrongToken = "admin:Wr0ngPassw0rd-7f3b9c"

func withoutKey(props []string, key, value string) []string {
	var out []string
	for i := 0; i+1 < len(props); i += 2 {
		if props[i] == key && props[i+1] == value {
			continue
		}
		out = append(out, props[i], props[i+1])
	}
	return out
}

// TestReplayAndBackfill: the same log fed twice to one plugin instance
// (dedup drops the repeats), again to a fresh process (empty seen-set: the
// points are rewritten onto themselves), and back-filled with the CLI over
// the data the plugin wrote: the sums never change.
func TestReplayAndBackfill(t *testing.T) {
	s := getScale(t)
	cli := cliBinary(t) // built before the clock starts
	start := time.Now()
	srv := influxtest.Start(t, influxtest.Options{NoFlux: true})
	rawLog := filepath.Join(t.TempDir(), "mail.log")
	chunks, tr := makeChunks(t, faultLog(s, 404), faultChunkSize(s), rawLog)
	// The CLI takes the year of classic stamps from the file's mtime.
	ref := tr.Last.Add(time.Hour)
	if err := os.Chtimes(rawLog, ref, ref); err != nil {
		t.Fatal(err)
	}
	want := truthSums(tr)
	pol := s.policy()
	var in int64
	var peak int64

	h1 := startHost(t)
	if err := h1.Init("a", props(srv, "")...); err != nil {
		t.Fatalf("%v\n%s", err, h1.Log())
	}
	for pass := 1; pass <= 2; pass++ {
		f := &feeder{h: h1, inst: "a", layout: "v1", policy: pol, keep: true}
		st, err := f.run(context.Background(), chanOf(chunks))
		checkFeed(t, st, err, h1)
		in += st.Records
		checkSums(t, fmt.Sprintf("same process, feed %d", pass), want, srv.Sums(t, "", time.UTC))
	}
	if m, err := h1.Memory(); err == nil {
		peak = m.HWM
	}
	if err := h1.Exit("a"); err != nil {
		t.Fatal(err)
	}
	if err := h1.Close(); err != nil {
		t.Fatal(err)
	}
	// The final stats of the first process: the second feed was all repeats.
	if !strings.Contains(h1.Log(), "repeats=") {
		t.Errorf("no final stats in the plugin log:\n%s", tail(h1.Log(), 5))
	}

	h2 := startHost(t)
	if err := h2.Init("a", props(srv, "")...); err != nil {
		t.Fatalf("%v\n%s", err, h2.Log())
	}
	f := &feeder{h: h2, inst: "a", layout: "v2a32", policy: pol, keep: true}
	st, err := f.run(context.Background(), chanOf(chunks))
	checkFeed(t, st, err, h2)
	in += st.Records
	checkSums(t, "fresh process, feed 3", want, srv.Sums(t, "", time.UTC))
	if m, err := h2.Memory(); err == nil {
		peak = max(peak, m.HWM)
	}

	cmd := exec.Command(cli, "backfill", "--no-progress", "--tz", "UTC", "--influx-url", srv.URL,
		"--influx-bucket", srv.Bucket, rawLog)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("courier-traffic backfill: %v\n%s", err, out)
	}
	in += int64(tr.Lines)
	t.Logf("backfill: %s", strings.TrimSpace(string(out)))
	got := srv.Sums(t, "", time.UTC)
	checkSums(t, "after the CLI back-fill", want, got)
	stored, lost, doubled := tally(want, got)
	addRow(t, row{Scenario: "replay x3 + CLI backfill", RecordsIn: in, Truth: totalSessions(want), Stored: stored,
		Lost: lost, Doubled: doubled, PeakRSS: peak, Time: time.Since(start),
		Note: fmt.Sprintf("the %d-line log fed 3 times through the plugin (2 processes) and once through `courier-traffic backfill`", tr.Lines)})
}
