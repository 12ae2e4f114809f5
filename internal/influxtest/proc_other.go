//go:build !linux

package influxtest

import "os/exec"

// startProcess starts cmd. Without Pdeathsig (Linux only) a server outlives a
// test binary that dies without running its cleanups.
func startProcess(cmd *exec.Cmd) error { return cmd.Start() }
