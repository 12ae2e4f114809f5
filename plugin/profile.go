package main

import (
	"os"
	"runtime/pprof"
	"sync"

	"github.com/courier-traffic/courier-traffic/flush"
)

// cpuProfileEnv names a file for a Go CPU profile of the plugin inside its
// host (a debugging aid, docs/performance.md): when set at load time, the
// profile runs from the library's load to the exit of the last open
// instance (FLBPluginExitCtx, or FLBPluginExit), and is then written.
// Read it with `go tool pprof out_courier_influxdb.so FILE`. It profiles
// only the Go side: the host's own C code is not sampled.
const cpuProfileEnv = "COURIER_TRAFFIC_CPUPROFILE"

var cpuProfile struct {
	mu sync.Mutex
	f  *os.File
}

func init() { startCPUProfile(os.Getenv(cpuProfileEnv)) }

// startCPUProfile starts a CPU profile into path ("" does nothing);
// failures are logged, never fatal.
func startCPUProfile(path string) {
	if path == "" {
		return
	}
	cpuProfile.mu.Lock()
	defer cpuProfile.mu.Unlock()
	if cpuProfile.f != nil {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		logf(pluginName, flush.LevelWarn, cpuProfileEnv+": "+err.Error())
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		logf(pluginName, flush.LevelWarn, cpuProfileEnv+": "+err.Error())
		return
	}
	cpuProfile.f = f
	logf(pluginName, flush.LevelInfo, "CPU profile to "+path+" until the last instance exits")
}

// stopCPUProfile writes the profile once no instance is open any more.
func stopCPUProfile() {
	registryMu.Lock()
	open := len(registry)
	registryMu.Unlock()
	if open > 0 {
		return
	}
	cpuProfile.mu.Lock()
	defer cpuProfile.mu.Unlock()
	if cpuProfile.f == nil {
		return
	}
	pprof.StopCPUProfile()
	if err := cpuProfile.f.Close(); err != nil {
		logf(pluginName, flush.LevelWarn, cpuProfileEnv+": "+err.Error())
	}
	cpuProfile.f = nil
}
