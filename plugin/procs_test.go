package main

import (
	"runtime"
	"sync"
	"testing"
)

// The test binary runs procs.go's init too: give it back its processors,
// and keep in-process flushes from changing them.
func init() {
	if procs.adaptive {
		runtime.GOMAXPROCS(procs.full)
	}
	procs.adaptive = false
}

// TestProcsAdaptive: one P from the start, the full count from the first
// overlap of two flushes on, for good; an explicit GOMAXPROCS is left alone.
func TestProcsAdaptive(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: nothing to adapt")
	}
	saved := runtime.GOMAXPROCS(0)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(saved)
		procs.adaptive, procs.full, procs.widen = false, 0, sync.Once{}
	})

	initProcs("3")
	if procs.adaptive || runtime.GOMAXPROCS(0) != saved {
		t.Fatalf("GOMAXPROCS=3 set: adaptive %v, GOMAXPROCS %d, want untouched %d", procs.adaptive, runtime.GOMAXPROCS(0), saved)
	}

	initProcs("")
	if !procs.adaptive || runtime.GOMAXPROCS(0) != 1 || procs.full != saved {
		t.Fatalf("after init: adaptive %v, GOMAXPROCS %d, full %d", procs.adaptive, runtime.GOMAXPROCS(0), procs.full)
	}
	leave := enterFlush()
	leave()
	leave = enterFlush()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("flushes one after another: GOMAXPROCS %d, want 1", got)
	}
	leave2 := enterFlush() // overlaps the first
	leave2()
	leave()
	if got := runtime.GOMAXPROCS(0); got != saved {
		t.Fatalf("after an overlap: GOMAXPROCS %d, want %d", got, saved)
	}
	enterFlush()()
	if got, n := runtime.GOMAXPROCS(0), procs.inflight.Load(); got != saved || n != 0 {
		t.Fatalf("later: GOMAXPROCS %d, in flight %d", got, n)
	}
}
