package flush

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time consumed by the calling OS thread. The
// benchmarks lock their goroutine to a thread and report CPU time per
// record next to wall time: on the shared 2-core machine wall time mostly
// measures the other processes.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
