//go:build !linux

package influxtest

import "os/exec"

// StartProcess starts cmd. Without Pdeathsig (Linux only) a server outlives a
// test binary that dies without running its cleanups.
func StartProcess(cmd *exec.Cmd) error { return cmd.Start() }
