//go:build unix

package parser

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user+system) this process used so far.
// Benchmarks report it per op next to wall time because the build machine
// is shared: under contention wall time measures the neighbours, CPU time
// still measures the parser.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
