package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/courier-traffic/courier-traffic/flush"
)

// TestRecovered: a panic in an exported function becomes the export's
// failure code instead of crossing into Fluent Bit.
func TestRecovered(t *testing.T) {
	cases := []struct {
		name string
		fail int
	}{
		{"flush-like", codeError},
		{"register-like", -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := func() (code int) {
				code = codeOK
				defer recovered("FLBPluginTest", &code, c.fail)
				var in *instance
				return in.flushChunk(nil) // nil instance: panics
			}()
			if got != c.fail {
				t.Errorf("code = %d, want %d", got, c.fail)
			}
		})
	}
	ok := func() (code int) {
		defer recovered("FLBPluginTest", &code, codeError)
		return codeRetry
	}()
	if ok != codeRetry {
		t.Errorf("without a panic: code = %d, want %d", ok, codeRetry)
	}
}

func TestLevelFromEnv(t *testing.T) {
	cases := map[string]flush.Level{
		"": flush.LevelInfo, "ERROR": flush.LevelError, "warn": flush.LevelWarn,
		" debug ": flush.LevelDebug, "bogus": flush.LevelInfo,
	}
	for v, want := range cases {
		t.Setenv(logLevelEnv, v)
		if got := levelFromEnv(); got != want {
			t.Errorf("%s=%q: level %v, want %v", logLevelEnv, v, got, want)
		}
	}
}

// TestConcurrentFlushChunk runs flushChunk from several goroutines on one
// instance against a loopback stub that accepts every write, racing with
// close at the end (run with -race; the C-host test covers the real ABI).
func TestConcurrentFlushChunk(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		requests++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	in, err := newInstance(flush.MapGetter{"influx_url": srv.URL, "stats_interval": "0", "time_zone": "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	data := benchChunk(500)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = in.flushChunk(data)
		}()
	}
	wg.Wait()
	in.close()
	in.close()
	for i, c := range codes {
		if c != codeOK {
			t.Errorf("flush %d: code %d, want FLB_OK", i, c)
		}
	}
	if c := in.flushChunk(data); c != codeError {
		t.Errorf("flush after close: code %d, want FLB_ERROR", c)
	}
	s := in.f.Stats()
	if s.Traffic != 8*500 || s.PointsWritten+s.Repeats != 8*500 || s.PointsWritten < 500 || requests == 0 {
		t.Errorf("stats %+v, %d requests", s, requests)
	}
}
