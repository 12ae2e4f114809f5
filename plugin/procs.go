package main

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/courier-traffic/courier-traffic/flush"
)

// The plugin's Go runtime is a guest in Fluent Bit's process, and Fluent
// Bit hands an output one chunk at a time unless the output has several
// workers (which it does not tell the plugin). One flush at a time needs
// one P, and more cost CPU and memory: on two cores, one P took 0.3 µs of
// CPU per record and 4-6 MB of RSS off a run (docs/performance.md, The
// plugin inside its host): fewer per-P caches, and the GC's workers no
// longer spin on the other core waiting for the flushing thread to stop
// for its stack scan.
//
// So the runtime starts with one P, and takes back the machine's default
// the first time two flushes overlap (workers > 1), for good. A GOMAXPROCS
// set in the environment is the operator's choice and is left alone.
var procs struct {
	adaptive bool // GOMAXPROCS was not set: started at 1
	full     int  // the runtime's default, restored on overlap
	inflight atomic.Int32
	widen    sync.Once
}

func init() { initProcs(os.Getenv("GOMAXPROCS")) }

// initProcs starts the runtime at one P unless env (the GOMAXPROCS
// environment variable) says otherwise.
func initProcs(env string) {
	if env != "" || runtime.GOMAXPROCS(0) <= 1 {
		return
	}
	procs.adaptive = true
	procs.full = runtime.GOMAXPROCS(1)
}

// enterFlush counts a flush in; the returned function counts it out. The
// first overlap of two flushes restores the full GOMAXPROCS.
func enterFlush() (leave func()) {
	if procs.inflight.Add(1) > 1 && procs.adaptive {
		procs.widen.Do(func() {
			runtime.GOMAXPROCS(procs.full)
			logf(pluginName, flush.LevelInfo, "concurrent flushes (workers > 1): GOMAXPROCS "+strconv.Itoa(procs.full))
		})
	}
	return leaveFlush
}

func leaveFlush() { procs.inflight.Add(-1) }
