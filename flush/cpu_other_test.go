//go:build !linux

package flush

import "time"

// threadCPU is only implemented on Linux; elsewhere the CPU metrics are
// not reported.
func threadCPU() (time.Duration, bool) { return 0, false }
