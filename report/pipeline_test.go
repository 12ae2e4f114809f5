package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/google/go-cmp/cmp"
)

// result is what an Aggregator reports.
type result struct {
	Users map[string]Sums
	Stats Stats
	Err   string
}

// sequential is the reference: AddLine over every line of every input, in
// order, one goroutine (the Aggregator before the pipeline).
func sequential(t testing.TB, cfg *flush.Config, date Date, svc Service, inputs []string, ref time.Time) result {
	t.Helper()
	a, err := NewAggregator(cfg, date, svc, 0)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	for _, in := range inputs {
		if err := EachLine(strings.NewReader(in), func(l []byte) { a.AddLine(l, ref) }); err != nil {
			t.Fatal(err)
		}
	}
	res.Users, res.Stats = a.Users(), a.Stats()
	return res
}

// parallel is Read over every input with the given workers and block size.
// readers wraps each input (iotest readers that split or fail reads).
func parallel(t testing.TB, cfg *flush.Config, date Date, svc Service, inputs []string, ref time.Time,
	workers, block int, wrap func(io.Reader) io.Reader) result {
	t.Helper()
	a, err := NewAggregator(cfg, date, svc, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.workers, a.blockSize = workers, block
	var res result
	for _, in := range inputs {
		var r io.Reader = strings.NewReader(in)
		if wrap != nil {
			r = wrap(r)
		}
		if err := a.Read(r, ref); err != nil {
			res.Err = err.Error()
			break
		}
	}
	res.Users, res.Stats = a.Users(), a.Stats()
	return res
}

// generated returns a log of opts and a reference time just after it.
func generated(t testing.TB, opts loggen.Options) (string, time.Time) {
	t.Helper()
	var buf bytes.Buffer
	tr, err := loggen.WriteLog(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), tr.Last.Add(time.Minute)
}

// TestPipelineEqualsSequential: Read (blocks, parallel workers, in-order
// dedup) gives the same users and Stats as AddLine line by line, on
// generated logs of every format and era, with the Courier repeat bug,
// rsyslog markers, several hosts and odd line endings, dedup on and off,
// for block sizes that cut lines everywhere (97 bytes: most lines are
// longer than a block) and the real one.
func TestPipelineEqualsSequential(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("zoneinfo: %v", err)
	}
	logs := []struct {
		name string
		opts loggen.Options
		edit func(string) string
		tz   string
		date Date
	}{
		{name: "classic", opts: loggen.Options{Seed: 11, SessionsPerDay: 400, Users: 30}, date: Date{2026, 7, 28}},
		{name: "rfc3339 all eras, repeats and markers", opts: loggen.Options{Seed: 12, Days: 2, SessionsPerDay: 300, Users: 30,
			Format: loggen.RFC3339, Eras: loggen.AllEras, RepeatBursts: 0.2, RsyslogMarkers: 0.2}, date: Date{2026, 7, 29}},
		{name: "mixed, hosts, Berlin", opts: loggen.Options{Seed: 13, Days: 2, SessionsPerDay: 300, Users: 30,
			Format: loggen.Mixed, Eras: loggen.AllEras, RepeatBursts: 0.1, RsyslogMarkers: 0.3, Hosts: []string{"mx1", "mx2"},
			Location: berlin, Start: time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)}, tz: "Europe/Berlin", date: Date{2026, 3, 29}},
		{name: "shortiso, CRLF, blank lines, no final newline", opts: loggen.Options{Seed: 14, SessionsPerDay: 300, Users: 30,
			Format: loggen.ShortISO, RsyslogMarkers: 0.2},
			edit: func(s string) string {
				s = strings.ReplaceAll(s, "\n", "\r\n")
				s = strings.Replace(s, "\r\n", "\r\n\n\n", 50)
				return strings.TrimSuffix(s, "\r\n")
			}, date: Date{2026, 7, 28}},
		{name: "long lines", opts: loggen.Options{Seed: 15, SessionsPerDay: 100, Users: 10, RsyslogMarkers: 0.3},
			edit: func(s string) string {
				// Lines longer than a block, one longer than maxLine with
				// "rcvd=" beyond the cut (EachLine drops it), markers after them.
				i := strings.Index(s[len(s)/2:], "\n") + len(s)/2 + 1
				long := "Jul 28 12:00:00 mx imapd: LOGOUT, user=" + strings.Repeat("x", 3000) +
					", ip=[::1], port=[1], headers=0, body=0, rcvd=1, sent=2, time=3\n"
				huge := "Jul 28 12:00:01 mx imapd: " + strings.Repeat("y", maxLine) + lA
				// "rcvd=" where a line starts and ends.
				edges := "rcvd=1\nrcvd=\nJul 28 12:00:02 mx imapd: LOGOUT, user=y, ip=[::1], port=[2], rcvd=\n"
				return s[:i] + long + lLast + huge + lLast + edges + long + s[i:] + long
			}, date: Date{2026, 7, 28}},
		{name: "runs of identical lines of every outcome", opts: loggen.Options{Seed: 16, SessionsPerDay: 50, Users: 5},
			edit: func(string) string {
				// Each line 3 times in a row (the worker replays a line
				// identical to the one before it instead of parsing it), then
				// interleaved; the day is Jul 23 (see date).
				var b strings.Builder
				for _, l := range []string{lA, lB, lP, lPre, lOld, lX, lBad, lPrev, lNext, lMsg, lLast,
					lPopI, lPopBad, lPopPre, lPopOld, lImapP, lComma} {
					b.WriteString(l + l + l)
				}
				b.WriteString(lA + lB + lA + lB + lBad + lA + lBad)
				return b.String()
			}, date: day},
	}
	cfgs := []struct {
		name string
		kv   []string
	}{
		{"dedup on", nil},
		{"dedup off", []string{"dedup", "off"}},
		{"lower, exclude, small window", []string{"user_case", "lower", "exclude_ips", "127.0.0.1/32", "dedup_window", "30s", "dedup_max_entries", "50"}},
		{"dedup off, lower, exclude", []string{"dedup", "off", "user_case", "lower", "exclude_ips", "127.0.0.1/32"}},
	}
	for _, lg := range logs {
		log, ref := generated(t, lg.opts)
		if lg.edit != nil {
			log = lg.edit(log)
		}
		// Two inputs too: the second starts in the middle of a burst of
		// markers and repeats, so state crosses inputs.
		cut := strings.Index(log[len(log)/3:], "last message repeated")
		if cut < 0 {
			cut = len(log) / 3
		} else {
			cut += len(log) / 3
			cut = strings.LastIndex(log[:cut], "\n") + 1
		}
		splits := map[string][]string{"one input": {log}, "two inputs": {log[:cut], log[cut:]}}
		for _, c := range cfgs {
			kv := c.kv
			if lg.tz != "" {
				kv = append([]string{"time_zone", lg.tz}, kv...)
			}
			cfg := mustConfig(t, kv...)
			for sname, inputs := range splits {
				for _, svc := range []Service{IMAP, All} {
					want := sequential(t, cfg, lg.date, svc, inputs, ref)
					if want.Stats.Counted == 0 {
						t.Fatalf("%s/%s: nothing counted: the case tests nothing", lg.name, c.name)
					}
					for _, workers := range []int{1, 3} {
						for _, block := range []int{97, 4096, blockSize} {
							name := fmt.Sprintf("%s/%s/%s/svc=%d/workers=%d/block=%d", lg.name, c.name, sname, svc, workers, block)
							t.Run(name, func(t *testing.T) {
								got := parallel(t, cfg, lg.date, svc, inputs, ref, workers, block, nil)
								if diff := cmp.Diff(want, got); diff != "" {
									t.Errorf("Read vs AddLine (-sequential +parallel):\n%s", diff)
								}
							})
						}
					}
				}
			}
		}
	}
}

// TestPipelineReaders: short reads, reads that return data with io.EOF,
// and a read error in the middle (the lines before it are accounted, the
// error is returned, as EachLine does).
func TestPipelineReaders(t *testing.T) {
	log, ref := generated(t, loggen.Options{Seed: 21, SessionsPerDay: 200, Users: 20, RsyslogMarkers: 0.2})
	errBoom := errors.New("boom")
	half := strings.Index(log[len(log)/2:], "\n") + len(log)/2 + 1
	failing := func(r io.Reader) io.Reader {
		return io.MultiReader(io.LimitReader(r, int64(half-7)), iotest.ErrReader(errBoom))
	}
	tests := []struct {
		name    string
		wrap    func(io.Reader) io.Reader
		want    string // the input the reference sees
		wantErr string
	}{
		{"one byte at a time", iotest.OneByteReader, log, ""},
		{"data with EOF", iotest.DataErrReader, log, ""},
		{"half reads", iotest.HalfReader, log, ""},
		{"error mid-line", failing, log[:half-7], "boom"},
	}
	for _, dedup := range []string{"on", "off"} {
		cfg := mustConfig(t, "dedup", dedup)
		for _, tt := range tests {
			t.Run(tt.name+"/dedup "+dedup, func(t *testing.T) {
				want := sequential(t, cfg, Date{2026, 7, 28}, All, []string{tt.want}, ref)
				want.Err = tt.wantErr
				got := parallel(t, cfg, Date{2026, 7, 28}, All, []string{log}, ref, 2, 4096, tt.wrap)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-sequential +parallel):\n%s", diff)
				}
			})
		}
	}
}

// stuckReader answers (0, nil) forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// TestPipelineNoProgress: a reader that never answers ends Read with
// io.ErrNoProgress, as bufio ends EachLine, instead of spinning forever.
func TestPipelineNoProgress(t *testing.T) {
	a, err := NewAggregator(mustConfig(t), day, All, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Read(io.MultiReader(strings.NewReader(lA), stuckReader{}), ref); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("Read = %v, want io.ErrNoProgress", err)
	}
	if got := a.Users()["alice"].Sessions; got != 1 {
		t.Errorf("the line before the stuck read: %d sessions of alice, want 1", got)
	}
}

// TestPipelineMemory: the pipeline never holds more than inflight blocks,
// whatever the input's size, and keeps them between inputs.
func TestPipelineMemory(t *testing.T) {
	log, ref := generated(t, loggen.Options{Seed: 22, SessionsPerDay: 2000, Users: 20})
	a, err := NewAggregator(mustConfig(t), Date{2026, 7, 28}, All, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.workers, a.blockSize = 2, 4096
	for range 3 {
		if err := a.Read(strings.NewReader(log), ref); err != nil {
			t.Fatal(err)
		}
	}
	if blocks := len(log) / 4096; blocks <= a.inflight() {
		t.Fatalf("log of %d blocks does not exceed the %d in flight: the test tests nothing", blocks, a.inflight())
	}
	if a.made > a.inflight() || len(a.pool) != a.made {
		t.Errorf("made %d blocks, %d back in the pool, want at most %d, all back", a.made, len(a.pool), a.inflight())
	}
}

// FuzzPipeline: for any input, Read with tiny blocks and several workers
// equals AddLine line by line.
func FuzzPipeline(f *testing.F) {
	for _, s := range []string{lA, lB, lP, lPre, lOld, lX, lBad, lPrev, lNext, lLast, lMsg, lRFC, lISO, lComma,
		lA + lA + lLast, lA + lLast + lB + "\r\n" + lLast + "\n\n" + lLast, "rcvd=\n" + lA[:len(lA)-1] + "rcvd=\r\nrcvd=1"} {
		f.Add(s, false, uint8(7))
		f.Add(s, true, uint8(64))
	}
	cfgs := map[bool]*flush.Config{true: mustConfig(f), false: mustConfig(f, "dedup", "off")}
	f.Fuzz(func(t *testing.T, log string, dedup bool, block uint8) {
		inputs := []string{log}
		if i := strings.LastIndex(log, lLast[:10]); i > 0 {
			inputs = []string{log[:i], log[i:]} // a marker opening the second input
		}
		want := sequential(t, cfgs[dedup], day, All, inputs, ref)
		got := parallel(t, cfgs[dedup], day, All, inputs, ref, 3, int(block)+1, nil)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-sequential +parallel):\n%s", diff)
		}
	})
}
