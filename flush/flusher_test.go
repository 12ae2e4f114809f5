package flush

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
	"github.com/google/go-cmp/cmp"
)

// logRecorder collects log lines; safe for concurrent use.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) log(level Level, msg string) {
	r.mu.Lock()
	r.lines = append(r.lines, level.String()+": "+msg)
	r.mu.Unlock()
}

func (r *logRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// grep returns the lines containing all of subs.
func (r *logRecorder) grep(subs ...string) []string {
	var out []string
next:
	for _, l := range r.all() {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// fakeInflux stands in for InfluxDB only where the real server cannot give
// the status under test (429, 503, 413 at small sizes, slowness).
type fakeInflux struct {
	t      *testing.T
	mu     sync.Mutex
	bodies [][]byte
	codes  []int // the status answered to bodies[i]
	auth   []string
	// respond decides the answer for a decoded body; nil means 204.
	respond func(body []byte) (int, string)
	delay   time.Duration
}

func (f *fakeInflux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v2/write" {
		http.NotFound(w, r)
		return
	}
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		rd = zr
	}
	body, err := io.ReadAll(rd)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	respond := f.respond
	f.mu.Unlock()
	status, msg := 204, ""
	if respond != nil {
		status, msg = respond(body)
	}
	f.mu.Lock()
	f.codes = append(f.codes, status)
	f.mu.Unlock()
	if status != 204 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":"error","message":%q}`, msg)
		return
	}
	w.WriteHeader(204)
}

func (f *fakeInflux) requests() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...)
}

// accepted returns the bodies answered 204: what a store would hold.
func (f *fakeInflux) accepted() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]byte
	for i, b := range f.bodies {
		if i < len(f.codes) && f.codes[i] == 204 {
			out = append(out, b)
		}
	}
	return out
}

func (f *fakeInflux) setRespond(fn func([]byte) (int, string)) {
	f.mu.Lock()
	f.respond = fn
	f.mu.Unlock()
}

func startFake(t *testing.T) (*fakeInflux, *httptest.Server) {
	t.Helper()
	f := &fakeInflux{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func newTestFlusher(t *testing.T, url string, extra MapGetter) (*Flusher, *logRecorder) {
	t.Helper()
	src := MapGetter{KeyInfluxURL: url, KeyInfluxBucket: "db/autogen", KeyStatsInterval: "0", KeyTimeZone: "UTC"}
	for k, v := range extra {
		src[k] = v
	}
	cfg, err := LoadConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	rec := &logRecorder{}
	f, err := New(cfg, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, rec
}

// logLine formats an IMAP LOGOUT line as Courier >= 5.0.9 writes it.
func logLine(sec int, user string, port int, rcvd int) string {
	return fmt.Sprintf("2026-07-03T06:36:%02d+00:00 mx1 imapd: LOGOUT, user=%s, ip=[::ffff:192.0.2.7], port=[%d], "+
		"headers=10, body=20, rcvd=%d, sent=300, time=5", sec, user, port, rcvd)
}

var refTime = time.Date(2026, 7, 3, 12, 0, 0, 0, time.UTC)

func countLines(bodies [][]byte) int {
	n := 0
	for _, b := range bodies {
		n += bytes.Count(b, []byte("\n"))
	}
	return n
}

func TestWriteDedupTwoPhase(t *testing.T) {
	fake, srv := startFake(t)
	f, _ := newTestFlusher(t, srv.URL, nil)
	lines := []string{logLine(1, "alice", 1000, 10), logLine(1, "alice", 1000, 10), logLine(2, "bob", 1001, 20)}
	fill := func() *Batch {
		b := f.NewBatch()
		for _, l := range lines {
			b.AddLine(l, refTime)
		}
		return b
	}
	// 1. The server fails: nothing is committed.
	fake.setRespond(func([]byte) (int, string) { return 503, "busy" })
	if got := f.Write(context.Background(), fill()); got != Retry {
		t.Fatalf("Write = %v, want retry", got)
	}
	// 2. The retried chunk is written in full (not mistaken for repeats);
	// the in-batch duplicate is dropped.
	fake.setRespond(nil)
	if got := f.Write(context.Background(), fill()); got != Delivered {
		t.Fatalf("Write = %v, want delivered", got)
	}
	reqs := fake.requests()
	if len(reqs) != 2 || countLines(reqs[1:]) != 2 {
		t.Fatalf("requests %d, points in the second %d; want 2 and 2", len(reqs), countLines(reqs[1:]))
	}
	if !bytes.Equal(reqs[0], reqs[1]) {
		t.Errorf("the retried body differs from the first:\n%s\n%s", reqs[0], reqs[1])
	}
	// 3. Everything again: all repeats, no request.
	if got := f.Write(context.Background(), fill()); got != Delivered {
		t.Fatalf("Write = %v, want delivered", got)
	}
	if n := len(fake.requests()); n != 2 {
		t.Errorf("%d requests, want no new one for pure repeats", n)
	}
	st := f.Stats()
	want := Stats{Records: 9, Traffic: 9, Repeats: 1 + 1 + 3, PointsWritten: 2, Requests: 2, Retries: 1}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestWriteEmptyBatch(t *testing.T) {
	fake, srv := startFake(t)
	f, _ := newTestFlusher(t, srv.URL, nil)
	b := f.NewBatch()
	b.AddLine("Jul  3 06:36:47 mx1 postfix/smtpd[1]: connect from x", refTime)
	b.AddLine("Jul  3 06:36:47 mx1 imapd: LOGIN, user=alice, ip=[::ffff:192.0.2.7], port=[1], protocol=IMAP", refTime)
	b.AddInvalid("no log key")
	if b.Len() != 0 {
		t.Fatalf("Len = %d, want 0", b.Len())
	}
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatalf("Write = %v", got)
	}
	if n := len(fake.requests()); n != 0 {
		t.Errorf("%d requests for an empty batch", n)
	}
	want := Stats{Records: 3, NotTraffic: 2, Invalid: 1}
	if diff := cmp.Diff(want, f.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestAddSkips(t *testing.T) {
	fake, srv := startFake(t)
	f, rec := newTestFlusher(t, srv.URL, MapGetter{KeyExcludeIPs: "192.0.2.0/24"})
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 10), refTime) // excluded (v4-mapped)
	b.AddLine("2026-07-03T06:36:01+00:00 mx1 imapd: LOGOUT, ip=[::ffff:198.51.100.1], port=[5], rcvd=56, sent=412", refTime)
	b.AddLine("2026-07-03T06:36:01+00:00 mx1 imapd: LOGOUT, user=x, ip=[::ffff:198.51.100.1], port=[5], headers=1, body=2, rcvd=5x, sent=412", refTime)
	b.AddMessage("imapd", "mx1", baseTime, time.Microsecond,
		"LOGOUT, user=carol, ip=[::ffff:198.51.100.1], port=[5], headers=1, body=2, rcvd=3, sent=4, time=5")
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatalf("Write = %v", got)
	}
	want := Stats{Records: 4, Traffic: 3, SyntaxErrors: 1, Excluded: 1, Unauthenticated: 1, PointsWritten: 1, Requests: 1}
	if diff := cmp.Diff(want, f.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	pts := decodeLP(t, fake.requests()[0])
	if len(pts) != 1 || pts[0].Tags["user"] != "carol" {
		t.Errorf("points = %+v, want carol only", pts)
	}
	// The point stays in its second, whatever the precision.
	if d := pts[0].Time - baseTime.UnixNano(); d < 0 || d >= 1e9 {
		t.Errorf("point time offset %dns outside the logged second", d)
	}
	if len(rec.grep("debug", "syntax error", "rcvd")) != 1 {
		t.Errorf("syntax error not logged at debug: %q", rec.all())
	}
}

func TestCountUnauthenticated(t *testing.T) {
	fake, srv := startFake(t)
	f, _ := newTestFlusher(t, srv.URL, MapGetter{KeyCountUnauthenticated: "on"})
	b := f.NewBatch()
	b.AddLine("2026-07-03T06:36:01+00:00 mx1 imapd: LOGOUT, ip=[::ffff:198.51.100.1], port=[5], rcvd=56, sent=412", refTime)
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatalf("Write = %v", got)
	}
	pts := decodeLP(t, fake.requests()[0])
	if len(pts) != 1 || pts[0].Tags["user"] != "(none)" {
		t.Errorf("points = %+v, want one with user (none)", pts)
	}
}

func TestRepeatMarkers(t *testing.T) {
	marker := "2026-07-03T06:36:01+00:00 mx1 imapd: message repeated 3 times: [ LOGOUT, user=alice, ip=[::ffff:192.0.2.7], port=[1000], headers=10, body=20, rcvd=10, sent=300, time=5]"
	last := "2026-07-03T06:36:09+00:00 mx1 imapd: last message repeated 2 times"
	cases := []struct {
		name       string
		dedup      string
		lines      []string
		wantPoints int
		wantStats  Stats
	}{
		{"dedup on: markers are repeats", "true",
			[]string{logLine(1, "alice", 1000, 10), marker, last},
			1, Stats{Records: 3, Traffic: 1, Markers: 2, Repeats: 2, PointsWritten: 1, Requests: 1}},
		{"dedup off: message repeated expands", "false",
			[]string{logLine(1, "alice", 1000, 10), marker},
			4, Stats{Records: 2, Traffic: 1, Markers: 1, Expanded: 3, PointsWritten: 4, Requests: 1}},
		{"dedup off: last message repeated copies the previous line", "false",
			[]string{logLine(1, "alice", 1000, 10), last},
			3, Stats{Records: 2, Traffic: 1, Markers: 1, Expanded: 2, PointsWritten: 3, Requests: 1}},
		{"dedup off: last message repeated after a non-traffic line", "false",
			[]string{logLine(1, "alice", 1000, 10),
				"2026-07-03T06:36:02+00:00 mx1 imapd: LOGIN FAILED, user=x, ip=[::ffff:192.0.2.50], port=[4]", last},
			1, Stats{Records: 3, Traffic: 1, NotTraffic: 1, Markers: 1, PointsWritten: 1, Requests: 1}},
		{"dedup off: identical lines both counted", "false",
			[]string{logLine(1, "alice", 1000, 10), logLine(1, "alice", 1000, 10)},
			2, Stats{Records: 2, Traffic: 2, PointsWritten: 2, Requests: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, srv := startFake(t)
			f, _ := newTestFlusher(t, srv.URL, MapGetter{KeyDedup: tc.dedup})
			b := f.NewBatch()
			for _, l := range tc.lines {
				b.AddLine(l, refTime)
			}
			if got := f.Write(context.Background(), b); got != Delivered {
				t.Fatalf("Write = %v", got)
			}
			var pts []decodedPoint
			for _, body := range fake.requests() {
				pts = append(pts, decodeLP(t, body)...)
			}
			if len(pts) != tc.wantPoints {
				t.Fatalf("%d points, want %d", len(pts), tc.wantPoints)
			}
			times := map[int64]bool{}
			for _, p := range pts {
				times[p.Time] = true
			}
			if len(times) != len(pts) {
				t.Errorf("copies share point times: %d distinct of %d", len(times), len(pts))
			}
			if diff := cmp.Diff(tc.wantStats, f.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRepeatMarkerAcrossBatches(t *testing.T) {
	fake, srv := startFake(t)
	f, _ := newTestFlusher(t, srv.URL, MapGetter{KeyDedup: "off"})
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1000, 10), refTime)
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatal(got)
	}
	b = f.NewBatch()
	b.AddLine("Jul  3 06:36:09 mx1 imapd: last message repeated 2 times", refTime)
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatal(got)
	}
	reqs := fake.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	first, second := decodeLP(t, reqs[0]), decodeLP(t, reqs[1])
	if len(second) != 2 {
		t.Fatalf("%d copies, want 2", len(second))
	}
	for _, p := range second {
		if p.Time == first[0].Time || p.Tags["user"] != "alice" {
			t.Errorf("copy %+v: want alice at a distinct time", p)
		}
	}
}

func TestDedupOffRetryIsIdempotent(t *testing.T) {
	fake, srv := startFake(t)
	f, _ := newTestFlusher(t, srv.URL, MapGetter{KeyDedup: "off"})
	fill := func() *Batch {
		b := f.NewBatch()
		b.AddLine(logLine(1, "alice", 1000, 10), refTime)
		b.AddLine(logLine(1, "alice", 1000, 10), refTime)
		return b
	}
	fake.setRespond(func([]byte) (int, string) { return 503, "busy" })
	if got := f.Write(context.Background(), fill()); got != Retry {
		t.Fatal(got)
	}
	fake.setRespond(nil)
	if got := f.Write(context.Background(), fill()); got != Delivered {
		t.Fatal(got)
	}
	reqs := fake.requests()
	if !bytes.Equal(reqs[0], reqs[1]) {
		t.Errorf("retry numbered identical records differently:\n%s\n%s", reqs[0], reqs[1])
	}
}

func TestWriteStatuses(t *testing.T) {
	cases := []struct {
		name   string
		status int
		msg    string
		want   Outcome
	}{
		{"429", 429, "too many requests", Retry},
		{"503", 503, "unavailable", Retry},
		{"401", 401, "authorization failed", Retry},
		{"400", 400, `partial write: field type conflict: input field "rcvd" on measurement "courier_session" is type integer, already exists as type string dropped=1`, Drop},
		{"422", 422, "unprocessable", Drop},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, srv := startFake(t)
			fake.setRespond(func([]byte) (int, string) { return tc.status, tc.msg })
			f, rec := newTestFlusher(t, srv.URL, MapGetter{KeyInfluxToken: testToken})
			b := f.NewBatch()
			b.AddLine(logLine(1, "alice", 1000, 10), refTime)
			if got := f.Write(context.Background(), b); got != tc.want {
				t.Fatalf("Write = %v, want %v", got, tc.want)
			}
			if got := rec.grep("error: ", fmt.Sprintf("status %d", tc.status), tc.msg); len(got) != 1 {
				t.Errorf("want one error line with the status and the server message; log:\n%s", strings.Join(rec.all(), "\n"))
			}
			for _, l := range rec.all() {
				if strings.Contains(l, testToken) {
					t.Errorf("token in log: %s", l)
				}
			}
			if a := fake.auth[0]; a != "Token "+testToken {
				t.Errorf("Authorization header %q", a)
			}
		})
	}
}

func TestWriteSplitsOn413(t *testing.T) {
	const limit = 1000 // bytes the fake accepts per request
	fake, srv := startFake(t)
	fake.setRespond(func(body []byte) (int, string) {
		if len(body) > limit {
			return 413, "Request Entity Too Large"
		}
		return 204, ""
	})
	f, rec := newTestFlusher(t, srv.URL, MapGetter{KeyBatchSize: "7"})
	b := f.NewBatch()
	for i := 0; i < 20; i++ {
		b.AddLine(logLine(i, fmt.Sprintf("user%02d", i), 1000+i, i), refTime)
	}
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatalf("Write = %v, want delivered", got)
	}
	users := map[string]int{}
	for _, body := range fake.requests() {
		if len(body) > limit {
			continue
		}
		for _, p := range decodeLP(t, body) {
			users[p.Tags["user"]]++
		}
	}
	if len(users) != 20 {
		t.Errorf("%d users stored, want 20", len(users))
	}
	for u, n := range users {
		if n != 1 {
			t.Errorf("user %s stored %d times", u, n)
		}
	}
	if st := f.Stats(); st.PointsWritten != 20 {
		t.Errorf("PointsWritten = %d, want 20", st.PointsWritten)
	}
	if len(rec.grep("413", "splitting")) == 0 {
		t.Error("split not logged")
	}
}

func TestWrite413SinglePoint(t *testing.T) {
	fake, srv := startFake(t)
	fake.setRespond(func([]byte) (int, string) { return 413, "Request Entity Too Large" })
	f, rec := newTestFlusher(t, srv.URL, nil)
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	b.AddLine(logLine(2, "bob", 2, 2), refTime)
	if got := f.Write(context.Background(), b); got != Retry {
		t.Fatalf("Write = %v, want retry (see Classify: an operator can raise the limit)", got)
	}
	// 2 points, then the first half alone, which stops the batch.
	if n := len(fake.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if len(rec.grep("error: ", "status 413")) != 1 {
		t.Errorf("413 on a single point not logged at error level:\n%s", strings.Join(rec.all(), "\n"))
	}
}

func TestWriteTimeout(t *testing.T) {
	fake, srv := startFake(t)
	fake.delay = 5 * time.Second
	f, rec := newTestFlusher(t, srv.URL, MapGetter{KeyInfluxTimeout: "200ms"})
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	if got := f.Write(context.Background(), b); got != Retry {
		t.Fatalf("Write = %v, want retry", got)
	}
	if len(rec.grep("error: ", "no response", "timeout")) != 1 {
		t.Errorf("timeout not logged as such:\n%s", strings.Join(rec.all(), "\n"))
	}
}

func TestWriteContextDeadline(t *testing.T) {
	fake, srv := startFake(t)
	fake.delay = 5 * time.Second
	f, _ := newTestFlusher(t, srv.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	if got := f.Write(ctx, b); got != Retry {
		t.Fatalf("Write = %v, want retry", got)
	}
}

func TestWriteBatchSizeAndGzip(t *testing.T) {
	for _, gz := range []string{"true", "false"} {
		t.Run("gzip="+gz, func(t *testing.T) {
			var encodings []string
			var mu sync.Mutex
			fake := &fakeInflux{t: t}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				encodings = append(encodings, r.Header.Get("Content-Encoding")+"|"+r.URL.Query().Get("precision")+
					"|"+r.URL.Query().Get("bucket")+"|"+r.Header.Get("User-Agent"))
				mu.Unlock()
				fake.ServeHTTP(w, r)
			}))
			defer srv.Close()
			f, _ := newTestFlusher(t, srv.URL, MapGetter{KeyBatchSize: "3", KeyInfluxGzip: gz})
			b := f.NewBatch()
			for i := 0; i < 7; i++ {
				b.AddLine(logLine(i, "u", i, i), refTime)
			}
			if got := f.Write(context.Background(), b); got != Delivered {
				t.Fatal(got)
			}
			reqs := fake.requests()
			var sizes []int
			for _, r := range reqs {
				sizes = append(sizes, bytes.Count(r, []byte("\n")))
			}
			if diff := cmp.Diff([]int{3, 3, 1}, sizes); diff != "" {
				t.Errorf("points per request (-want +got):\n%s", diff)
			}
			wantEnc := ""
			if gz == "true" {
				wantEnc = "gzip"
			}
			for _, e := range encodings {
				parts := strings.Split(e, "|")
				if parts[0] != wantEnc || parts[1] != "ns" || parts[2] != "db/autogen" || !strings.Contains(parts[3], ApplicationName) {
					t.Errorf("request encoding|precision|bucket|agent = %q", e)
				}
			}
		})
	}
}

func TestConcurrentWriters(t *testing.T) {
	fake, srv := startFake(t)
	f, _ := newTestFlusher(t, srv.URL, nil)
	const writers, perWriter = 6, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				b := f.NewBatch()
				// Every writer also writes a line all others write too.
				b.AddLine(logLine(i%60, "shared", 1, i), refTime)
				b.AddLine(logLine(i%60, fmt.Sprintf("w%d", w), 2, i), refTime)
				if got := f.Write(context.Background(), b); got != Delivered {
					t.Errorf("Write = %v", got)
				}
			}
		}(w)
	}
	wg.Wait()
	st := f.Stats()
	if st.Records != 2*writers*perWriter {
		t.Errorf("Records = %d", st.Records)
	}
	// Distinct points: perWriter per writer plus perWriter shared ones; the
	// shared ones may be written more than once while in flight (same
	// point, idempotent), never fewer.
	distinct := map[string]bool{}
	for _, body := range fake.requests() {
		for _, p := range decodeLP(t, body) {
			distinct[fmt.Sprint(p.Tags["user"], p.Time)] = true
		}
	}
	if want := writers*perWriter + perWriter; len(distinct) != want {
		t.Errorf("%d distinct points, want %d", len(distinct), want)
	}
	if st.PointsWritten+st.Repeats != 2*writers*perWriter {
		t.Errorf("written %d + repeats %d != records %d", st.PointsWritten, st.Repeats, 2*writers*perWriter)
	}
}

func TestStatsLogging(t *testing.T) {
	fake, srv := startFake(t)
	src := MapGetter{KeyInfluxURL: srv.URL, KeyStatsInterval: "20ms", KeyStatsMeasurement: "courier_plugin_stats",
		KeyInfluxToken: testToken}
	cfg, err := LoadConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	rec := &logRecorder{}
	f, err := New(cfg, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	f.Write(context.Background(), b)
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.grep("stats (periodic)")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	f.Close()
	f.Close() // idempotent
	if len(rec.grep("info: ", "stats (periodic)", "records=1")) == 0 {
		t.Errorf("no periodic stats line:\n%s", strings.Join(rec.all(), "\n"))
	}
	if got := rec.grep("info: ", "stats (final)", "points_written=1"); len(got) != 1 {
		t.Errorf("want one final stats line, got %q", got)
	}
	var statsPoints []decodedPoint
	for _, body := range fake.requests() {
		for _, p := range decodeLP(t, body) {
			if p.Measurement == "courier_plugin_stats" {
				statsPoints = append(statsPoints, p)
			}
		}
	}
	if len(statsPoints) < 2 {
		t.Fatalf("%d stats points, want periodic + final", len(statsPoints))
	}
	last := statsPoints[len(statsPoints)-1]
	if last.Fields["points_written"] != int64(1) || last.Tags["measurement"] != "courier_session" {
		t.Errorf("final stats point %+v", last)
	}
}

func TestAppendBodyCommitsNothing(t *testing.T) {
	fake, srv := startFake(t)
	f, _ := newTestFlusher(t, srv.URL, nil)
	b := f.NewBatch()
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	body1 := f.AppendBody(nil, b)
	body2 := f.AppendBody(nil, b)
	if !bytes.Equal(body1, body2) || bytes.Count(body1, []byte("\n")) != 1 {
		t.Fatalf("AppendBody: %q then %q; want the same single point", body1, body2)
	}
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatal(got)
	}
	if reqs := fake.requests(); len(reqs) != 1 || !bytes.Equal(reqs[0], body1) {
		t.Errorf("Write sent %q, AppendBody gave %q", reqs, body1)
	}
}

func TestRejectedPointsSkipped(t *testing.T) {
	fake, srv := startFake(t)
	f, rec := newTestFlusher(t, srv.URL, nil)
	b := f.NewBatch()
	b.AddMessage("imapd", "mx1", baseTime, time.Second,
		"LOGOUT, user=bad\xffname, ip=[::ffff:192.0.2.7], port=[1], headers=1, body=2, rcvd=3, sent=4, time=5")
	b.AddLine(logLine(1, "alice", 1, 1), refTime)
	if got := f.Write(context.Background(), b); got != Delivered {
		t.Fatal(got)
	}
	st := f.Stats()
	if st.Traffic != 2 || st.Rejected != 1 || st.PointsWritten != 1 {
		t.Errorf("stats %+v: want 2 traffic, 1 rejected, 1 written", st)
	}
	if len(rec.grep("warn: ", "rejected")) != 1 {
		t.Errorf("rejection not logged:\n%s", strings.Join(rec.all(), "\n"))
	}
	if n := len(fake.requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
}

func TestNewRejectsNilConfig(t *testing.T) {
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// The parser fills the event the Flusher keeps: a sanity check that the
// traffic line of the tests parses as expected.
func TestLogLineParses(t *testing.T) {
	p, err := parser.New(parser.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	var ev parser.Event
	res, err := p.ParseLine(logLine(7, "alice", 1000, 10), refTime, &ev)
	if err != nil || res != parser.Traffic || ev.User != "alice" || ev.Rcvd != 10 || ev.Port != "1000" {
		t.Fatalf("ParseLine = %v, %v, %+v", res, err, ev)
	}
}
