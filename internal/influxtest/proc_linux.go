//go:build linux

package influxtest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Pdeathsig is delivered when the *thread* that forked the child exits, not
// the process. Go threads come and go, so all servers are forked from one
// goroutine locked to its thread for the life of the test binary: the signal
// then fires exactly when the test binary dies (a panic, a -timeout, a
// SIGKILL), and no orphaned influxd keeps a port and a core busy.
var launcher struct {
	once sync.Once
	reqs chan launchReq
}

type launchReq struct {
	cmd  *exec.Cmd
	errc chan error
}

// StartProcess starts cmd so that it is killed when the test binary dies
// (see launcher). The e2e tests start Fluent Bit through it too.
func StartProcess(cmd *exec.Cmd) error {
	launcher.once.Do(func() {
		launcher.reqs = make(chan launchReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive every child
			for r := range launcher.reqs {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	errc := make(chan error, 1)
	launcher.reqs <- launchReq{cmd: cmd, errc: errc}
	return <-errc
}
