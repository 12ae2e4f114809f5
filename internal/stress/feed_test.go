package stress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
)

// chunk is one record file in the host's format, packed by the host into
// one Fluent Bit chunk per flush.
type chunk struct {
	path    string
	records int
	bytes   int64 // size of the record file
	raw     int64 // bytes of the log lines in it (without escaping)
}

// tailRecord appends one record as Fluent Bit's tail input produces it: the
// raw line under "log", stamped when tail read it (a little after it was
// logged; the reference time of the year inference for classic stamps).
func tailRecord(b []byte, l loggen.Line) []byte {
	b = fbhost.AppendEventTime(b, l.Time.Add(1500*time.Millisecond))
	b = append(b, " log s:"...)
	b = fbhost.AppendEscaped(b, l.Raw)
	return append(b, '\n')
}

// errStop ends a generation early (the consumer went away).
var errStop = errors.New("stress: generation stopped")

// streamChunks generates the log of opts and writes it, as tail records,
// into record files of size records each under dir, sending each finished
// chunk on out (closed at the end). It also writes the raw log to rawLog
// when that is not empty (the same lines, for the CLI). Memory stays flat:
// one chunk is built at a time, and out's capacity bounds how far the
// generator runs ahead of the host. ctx ends it early.
func streamChunks(ctx context.Context, opts loggen.Options, size int, dir, rawLog string, out chan<- chunk) (loggen.Truth, error) {
	defer close(out)
	var raw *bufio.Writer
	if rawLog != "" {
		f, err := os.Create(rawLog)
		if err != nil {
			return loggen.Truth{}, err
		}
		defer f.Close()
		raw = bufio.NewWriterSize(f, 1<<20)
	}
	var (
		f    *os.File
		w    *bufio.Writer
		cur  chunk
		n    int
		line []byte
	)
	finish := func() error {
		if f == nil {
			return nil
		}
		err := w.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		f = nil
		if err != nil {
			return err
		}
		select {
		case out <- cur:
			return nil
		case <-ctx.Done():
			return errStop
		}
	}
	truth, err := loggen.Generate(opts, func(l loggen.Line) error {
		if raw != nil {
			raw.WriteString(l.Raw)
			raw.WriteByte('\n')
		}
		if f == nil {
			n++
			cur = chunk{path: filepath.Join(dir, fmt.Sprintf("chunk%06d", n))}
			var err error
			if f, err = os.Create(cur.path); err != nil {
				return err
			}
			w = bufio.NewWriterSize(f, 256<<10)
		}
		line = tailRecord(line[:0], l)
		w.Write(line)
		cur.records++
		cur.bytes += int64(len(line))
		cur.raw += int64(len(l.Raw))
		if cur.records == size {
			return finish()
		}
		return nil
	})
	if err == nil {
		err = finish()
	}
	if err == nil && raw != nil {
		err = raw.Flush()
	}
	if f != nil {
		f.Close()
	}
	return truth, err
}

// makeChunks generates the whole log of opts at once (the small logs of the
// fault scenarios) and returns its chunks and the expected sums.
func makeChunks(t *testing.T, opts loggen.Options, size int, rawLog string) ([]chunk, loggen.Truth) {
	t.Helper()
	out := make(chan chunk, 1<<16)
	truth, err := streamChunks(context.Background(), opts, size, t.TempDir(), rawLog, out)
	if err != nil {
		t.Fatalf("generating the log: %v", err)
	}
	var cs []chunk
	for c := range out {
		cs = append(cs, c)
	}
	if len(truth.Sessions) == 0 {
		t.Fatal("the generator produced no sessions")
	}
	return cs, truth
}

// chanOf returns a closed channel holding cs.
func chanOf(cs []chunk) <-chan chunk {
	ch := make(chan chunk, len(cs))
	for _, c := range cs {
		ch <- c
	}
	close(ch)
	return ch
}

// retryPolicy is Fluent Bit's scheduler for FLB_RETRY: the n-th retry of a
// chunk waits a random time in [base, min(cap, base*2^n)] (flb_scheduler.c,
// backoff_full_jitter; Fluent Bit's defaults are scheduler.base 5 s and
// scheduler.cap 2000 s), and after limit retries the chunk is dropped
// (Retry_Limit). Other chunks keep flowing while one waits.
type retryPolicy struct {
	base, cap time.Duration
	limit     int
}

func (p retryPolicy) wait(n int, r *rand.Rand) time.Duration {
	hi := p.base << min(n, 30)
	if hi > p.cap || hi <= 0 {
		hi = p.cap
	}
	if hi <= p.base {
		return p.base
	}
	return p.base + time.Duration(r.Int64N(int64(hi-p.base)+1))
}

// feeder drives one plugin instance the way Fluent Bit's engine does with
// workers 0: one flush at a time, a new chunk every pace (Fluent Bit's
// Flush interval), retried chunks interleaved when their backoff is due.
type feeder struct {
	h      *fbhost.Host
	inst   string
	layout string // v1, v2, v2a32
	policy retryPolicy
	pace   time.Duration
	// bound, when set, is the longest a flush of n records may take; a
	// slower flush is recorded in feedStats.Slow.
	bound func(records int) time.Duration
	// progress, when set, is called after the first attempt of each new
	// chunk with the number of new chunks flushed so far.
	progress func(n int)
	// keep keeps the record files (for a replay); by default a delivered
	// chunk's file is removed, so a long run does not fill the disk.
	keep bool
}

// feedStats is what a feed saw.
type feedStats struct {
	Chunks, Records int64 // chunks (records) delivered with FLB_OK
	Bytes           int64 // record-file bytes delivered
	Raw             int64 // log-line bytes delivered
	Flushes         int64 // FlushCtx calls, retries included
	Retries         int64 // FLB_RETRY answers
	Dropped         []chunk
	MaxFlush        time.Duration
	Slow            []string // flushes over bound
	Busy            time.Duration
}

type pendingChunk struct {
	c        chunk
	attempts int
	due      time.Time
}

// run flushes every chunk of in until it is delivered, dropped (FLB_ERROR
// or the retry limit) or ctx ends. A host failure is returned as an error.
func (f *feeder) run(ctx context.Context, in <-chan chunk) (feedStats, error) {
	var st feedStats
	rng := rand.New(rand.NewPCG(1, 2))
	var pending []pendingChunk
	var lastNew time.Time
	news := 0
	flush := func(p pendingChunk) error {
		got, d, err := f.h.One("flush " + f.inst + " " + p.c.path + " " + f.layout)
		if err != nil {
			return err
		}
		st.Flushes++
		st.Busy += d
		st.MaxFlush = max(st.MaxFlush, d)
		if f.bound != nil {
			if b := f.bound(p.c.records); d > b {
				st.Slow = append(st.Slow, fmt.Sprintf("%s (%d records, attempt %d): %v > bound %v, answer %s",
					filepath.Base(p.c.path), p.c.records, p.attempts+1, d, b, got.Name))
			}
		}
		switch got.Name {
		case fbhost.OK:
			st.Chunks++
			st.Records += int64(p.c.records)
			st.Bytes += p.c.bytes
			st.Raw += p.c.raw
			if !f.keep {
				os.Remove(p.c.path)
			}
		case fbhost.Retry:
			st.Retries++
			if p.attempts >= f.policy.limit {
				st.Dropped = append(st.Dropped, p.c)
				break
			}
			p.due = time.Now().Add(f.policy.wait(p.attempts, rng))
			p.attempts++
			pending = append(pending, p)
		default:
			st.Dropped = append(st.Dropped, p.c)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		slices.SortFunc(pending, func(a, b pendingChunk) int { return a.due.Compare(b.due) })
		if len(pending) > 0 && !time.Now().Before(pending[0].due) {
			p := pending[0]
			pending = pending[1:]
			if err := flush(p); err != nil {
				return st, err
			}
			continue
		}
		if in == nil && len(pending) == 0 {
			return st, nil
		}
		var timer <-chan time.Time
		if len(pending) > 0 {
			timer = time.After(time.Until(pending[0].due))
		}
		select {
		case c, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			if f.pace > 0 {
				time.Sleep(time.Until(lastNew.Add(f.pace)))
				lastNew = time.Now()
			}
			if err := flush(pendingChunk{c: c}); err != nil {
				return st, err
			}
			news++
			if f.progress != nil {
				f.progress(news)
			}
		case <-timer:
		case <-ctx.Done():
		}
	}
}

// truthSums converts the generator's truth to the read-back type.
func truthSums(tr loggen.Truth) map[influxtest.Key]influxtest.Sums {
	want := make(map[influxtest.Key]influxtest.Sums, len(tr.Sessions))
	for k, s := range tr.Sessions {
		want[influxtest.Key(k)] = influxtest.Sums(s)
	}
	return want
}
