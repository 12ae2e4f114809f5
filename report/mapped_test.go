package report

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/flush"
	"github.com/courier-traffic/courier-traffic/internal/loggen"
	"github.com/google/go-cmp/cmp"
)

// writeLog writes content to a file of dir with modification time ref
// (ReadInput's reference time).
func writeLog(t testing.TB, dir, name string, content []byte, ref time.Time) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, ref, ref); err != nil {
		t.Fatal(err)
	}
	return path
}

// readInput is ReadInput of path with the given workers and block size.
// mmap, when not nil, replaces mapFile (with wantMapped, the input must be
// one ReadInput maps).
func readInput(t testing.TB, cfg *flush.Config, svc Service, path string, workers, block int,
	mmap func(*os.File, int64, int) ([]byte, []byte, error), wantMapped bool) (result, *Aggregator) {
	t.Helper()
	a, err := NewAggregator(cfg, Date{2026, 7, 28}, svc, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.workers, a.blockSize = workers, block
	in, err := Open(path, nil, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	mf := mappable(in)
	if wantMapped && mf == nil {
		t.Fatalf("%s: not mapped", path)
	}
	if mf != nil && mmap != nil {
		mf.mmap = mmap
	}
	var res result
	if err := a.read(in.r, mf, in.Ref); err != nil {
		res.Err = err.Error()
	}
	res.Users, res.Stats = a.Users(), a.Stats()
	return res, a
}

// mappedLogs are the edge cases of the mapped path's cutting, as files.
func mappedLogs(t testing.TB) map[string]string {
	t.Helper()
	log, _ := generated(t, loggen.Options{Seed: 31, SessionsPerDay: 300, Users: 30, RsyslogMarkers: 0.2,
		RepeatBursts: 0.2, Start: time.Date(2026, 7, 28, 0, 0, 0, 0, time.UTC)})
	mid := strings.Index(log[len(log)/2:], "\n") + len(log)/2 + 1
	long := "Jul 28 12:00:00 mx imapd: LOGOUT, user=" + strings.Repeat("x", 5000) +
		", ip=[::1], port=[1], headers=0, body=0, rcvd=1, sent=2, time=3\n"
	huge := "Jul 28 12:00:01 mx imapd: " + strings.Repeat("y", maxLine) + ", user=h, rcvd=1, sent=1\n"
	exact := "Jul 28 12:00:02 mx imapd: LOGOUT, user=e, rcvd=1, sent=1, " // a line of exactly maxLine bytes, then "\n"
	exact += strings.Repeat("z", maxLine-len(exact)) + "\n"
	crlf := strings.ReplaceAll(log, "\n", "\r\n")
	return map[string]string{
		"generated":            log,
		"no final newline":     strings.TrimSuffix(log, "\n"),
		"crlf, blank lines":    strings.Replace(crlf, "\r\n", "\r\n\n\r\n", 40),
		"crlf, no final eol":   strings.TrimSuffix(crlf, "\r\n"),
		"one line":             lA[:len(lA)-1],
		"one newline":          "\n",
		"long lines":           log[:mid] + long + lLast + huge + lLast + exact + lLast + long + log[mid:] + long,
		"huge last line":       log + strings.TrimSuffix(huge, "\n"),
		"huge, newline at end": log + huge,
		"rcvd= at the edges":   "rcvd=1\nrcvd=\n" + log + "rcvd=",
	}
}

// TestReadInputMapped: ReadInput of a plain file (mapped) gives the users,
// Stats and errors of AddLine over its lines, whatever cuts the blocks:
// files with and without a final newline, CRLF, lines longer than a block
// and than maxLine, dedup on and off, one and several workers, tiny and
// real blocks.
func TestReadInputMapped(t *testing.T) {
	needMapping(t)
	dir := t.TempDir()
	ref := mappedRef
	for name, log := range mappedLogs(t) {
		path := writeLog(t, dir, strings.ReplaceAll(name, " ", "_")+".log", []byte(log), ref)
		for _, kv := range [][]string{nil, {"dedup", "off"}, {"user_case", "lower"}} {
			cfg := mustConfig(t, kv...)
			want := sequential(t, cfg, Date{2026, 7, 28}, All, []string{log}, ref)
			if want.Stats.Counted == 0 && len(log) > 1000 {
				t.Fatalf("%s: nothing counted: the case tests nothing", name)
			}
			for _, workers := range []int{1, 3} {
				for _, block := range []int{97, 4096, blockSize} {
					t.Run(fmt.Sprintf("%s/%v/workers=%d/block=%d", name, kv, workers, block), func(t *testing.T) {
						got, a := readInput(t, cfg, All, path, workers, block, nil, true)
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("mapped ReadInput vs AddLine (-sequential +mapped):\n%s", diff)
						}
						if a.made > a.inflight() || len(a.pool) != a.made {
							t.Errorf("made %d blocks, %d back in the pool, want at most %d, all back", a.made, len(a.pool), a.inflight())
						}
						for range len(a.pool) {
							if b := <-a.pool; b.mem != nil || b.buf != nil {
								t.Errorf("a block still mapped (%d bytes) or with a read buffer (%d bytes)", len(b.mem), len(b.buf))
							}
						}
					})
				}
			}
		}
	}
}

// TestReadInputMapFails: when mmap fails, at the first block or later
// (also in the middle of a line longer than a block), ReadInput reads the
// rest of the file instead, with the same results.
func TestReadInputMapFails(t *testing.T) {
	needMapping(t)
	dir := t.TempDir()
	ref := mappedRef
	log := mappedLogs(t)["long lines"]
	path := writeLog(t, dir, "mail.log", []byte(log), ref)
	cfg := mustConfig(t)
	want := sequential(t, cfg, Date{2026, 7, 28}, All, []string{log}, ref)
	errMap := errors.New("mmap failed")
	for _, after := range []int{0, 1, 5, 20, 1 << 30} {
		for _, block := range []int{4096, blockSize} {
			t.Run(fmt.Sprintf("after %d/block=%d", after, block), func(t *testing.T) {
				calls := 0
				mmap := func(f *os.File, off int64, n int) ([]byte, []byte, error) {
					if calls++; calls > after {
						return nil, nil, errMap
					}
					return mapFile(f, off, n)
				}
				got, a := readInput(t, cfg, All, path, 2, block, mmap, true)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-sequential +mapped then read):\n%s", diff)
				}
				for range len(a.pool) {
					if b := <-a.pool; b.mem != nil {
						t.Errorf("a block still mapped")
					}
				}
			})
		}
	}
}

// TestReadInputPaths: ReadInput of the same log as a plain file (mapped),
// an empty file, gzip and standard input (read) gives AddLine's results,
// and Open's count callback sees every raw byte once.
func TestReadInputPaths(t *testing.T) {
	dir := t.TempDir()
	ref := mappedRef
	log := mappedLogs(t)["no final newline"]
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(log))
	zw.Close()
	plain := writeLog(t, dir, "mail.log", []byte(log), ref)
	gzName := writeLog(t, dir, "mail.log.1.gz", gz.Bytes(), ref)
	empty := writeLog(t, dir, "empty.log", nil, ref)
	cfg := mustConfig(t)
	want := sequential(t, cfg, Date{2026, 7, 28}, All, []string{log}, ref)
	tests := []struct {
		name, file, stdin string
		mapped            bool
		size              int
		want              result
	}{
		{"plain", plain, "", canMap, len(log), want},
		{"gzip", gzName, "", false, gz.Len(), want},
		{"stdin", "-", log, false, len(log), want},
		{"empty", empty, "", false, 0, result{Users: map[string]Sums{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAggregator(cfg, Date{2026, 7, 28}, All, 0)
			if err != nil {
				t.Fatal(err)
			}
			a.blockSize = 4096
			counted := 0
			in, err := Open(tt.file, strings.NewReader(tt.stdin), ref, func(n int) { counted += n })
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if got := mappable(in) != nil; got != tt.mapped {
				t.Errorf("mapped = %v, want %v", got, tt.mapped)
			}
			var got result
			if err := a.ReadInput(in); err != nil {
				got.Err = err.Error()
			}
			got.Users, got.Stats = a.Users(), a.Stats()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-sequential +ReadInput):\n%s", diff)
			}
			if counted != tt.size {
				t.Errorf("counted %d raw bytes, want %d", counted, tt.size)
			}
		})
	}
}

// TestReadInputShrank: a file truncated while ReadInput maps it ends the
// read with an error naming the file (the pages past the new end would
// SIGBUS), not a crash, whether the reader or a worker touches them.
func TestReadInputShrank(t *testing.T) {
	needMapping(t)
	dir := t.TempDir()
	ref := mappedRef
	log := mappedLogs(t)["generated"]
	for _, size := range []int64{0, 1000, int64(len(log) / 2)} {
		t.Run(fmt.Sprintf("truncated to %d", size), func(t *testing.T) {
			path := writeLog(t, dir, "mail.log", []byte(log), ref)
			a, err := NewAggregator(mustConfig(t), Date{2026, 7, 28}, All, 0)
			if err != nil {
				t.Fatal(err)
			}
			a.blockSize = 4096
			in, err := Open(path, nil, ref, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if err := os.Truncate(path, size); err != nil {
				t.Fatal(err)
			}
			err = a.ReadInput(in)
			if !errors.Is(err, errShrank) || !strings.Contains(err.Error(), "mail.log") {
				t.Errorf("ReadInput = %v, want errShrank naming mail.log", err)
			}
			if got := a.Stats().Lines; got > int64(strings.Count(log[:size], "\n")) {
				t.Errorf("%d lines accounted, more than the %d left", got, strings.Count(log[:size], "\n"))
			}
		})
	}

	t.Run("worker", func(t *testing.T) {
		path, mf, b := mapWhole(t, dir, "worker.log", log)
		defer b.unmap()
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { // as Read's workers run
			defer close(done)
			debug.SetPanicOnFault(true)
			w := worker{f: &mustAggregator(t).f, users: make(map[string]*userRef)}
			w.scanMapped(b, mf)
		}()
		<-done
		if !errors.Is(b.err, errShrank) {
			t.Errorf("block error = %v, want errShrank", b.err)
		}
	})

	t.Run("other faults panic on", func(t *testing.T) {
		_, mf, b := mapWhole(t, dir, "bug.log", log)
		data := b.data
		b.unmap() // a use after unmap: a bug, not a shrunk file
		recovered := make(chan any)
		go func() {
			defer func() { recovered <- recover() }()
			debug.SetPanicOnFault(true)
			var err error
			defer mf.catch(&err)
			_ = bytes.IndexByte(data, 0)
		}()
		if r := <-recovered; r == nil {
			t.Errorf("a fault of an unshrunk file was recovered, want a panic")
		}
	})
}

// mappedRef is the reference time (and file mtime) of the mapped-path
// tests: the evening of their logs' day.
var mappedRef = time.Date(2026, 7, 28, 23, 59, 0, 0, time.UTC)

// needMapping skips a test of the mapped read path where it does not exist.
func needMapping(t *testing.T) {
	t.Helper()
	if !canMap {
		t.Skip("SKIPPED: the mapped read path exists on Linux only (canMap is false on this OS)")
	}
}

// mapWhole writes log to dir/name, opens it and maps all of it as one
// block (the input is closed when the test ends; the caller unmaps).
func mapWhole(t *testing.T, dir, name, log string) (string, *mappedFile, *block) {
	t.Helper()
	path := writeLog(t, dir, name, []byte(log), mappedRef)
	in, err := Open(path, nil, mappedRef, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	mf := mappable(in)
	b := &block{ref: mappedRef}
	if err := mf.mapBlock(b, 0, len(log)); err != nil {
		t.Fatal(err)
	}
	return path, mf, b
}

func mustAggregator(t testing.TB) *Aggregator {
	t.Helper()
	a, err := NewAggregator(mustConfig(t), Date{2026, 7, 28}, All, 0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOtherDay: filter.otherDay, on Unix seconds, equals the two
// time.Time comparisons it replaces, at and around the bounds (fractions
// of a second included), in zones with odd offsets and DST, and far away.
func TestOtherDay(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns", "Pacific/Apia"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatalf("zoneinfo: %v", err)
		}
		for _, d := range []Date{{2026, 7, 28}, {2026, 3, 29}, {2026, 10, 25}, {2011, 12, 30}, {1, 1, 1}, {9999, 12, 31}} {
			var f filter
			f.setDay(d, loc)
			start, end := d.Bounds(loc)
			var times []time.Time
			for _, b := range []time.Time{start, end} {
				for _, delta := range []time.Duration{-time.Hour, -time.Second - 1, -time.Second, -1, 0, 1,
					time.Second - 1, time.Second, time.Second + 1, time.Hour} {
					times = append(times, b.Add(delta), b.Add(delta).In(time.UTC))
				}
			}
			times = append(times, time.Time{}, time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(20000, 1, 1, 0, 0, 0, 5, loc))
			for _, tm := range times {
				if got, want := f.otherDay(tm), tm.Before(start) || !tm.Before(end); got != want {
					t.Errorf("%s %v: otherDay(%v) = %v, want %v", zone, d, tm, got, want)
				}
			}
		}
	}
}
