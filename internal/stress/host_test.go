package stress

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file is the minimal copy of plugin/host_test.go's driver that the
// stress scenarios need (that file lives in package main of plugin/ and
// cannot be imported). Differences: every method returns an error instead
// of calling t.Fatal, because the fault scenarios drive the host from one
// goroutine while the test goroutine kills and restarts InfluxDB; each
// command is timed; the host's memory is read from /proc.

// artifacts are built once per test binary into a temporary directory.
var artifacts struct {
	dir  string
	once sync.Once
	so   string // out_courier_influxdb.so (c-shared, the real plugin)
	host string // plugin/testhost/host.c, Fluent Bit's Go proxy stand-in
	cli  string // cmd/courier-traffic
	err  error
}

// moduleRoot walks up from the working directory (go test runs in the
// package directory) to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func goBinary() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// build compiles the plugin, the C host and the CLI once per test binary.
func build(tb testing.TB) {
	tb.Helper()
	artifacts.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			artifacts.err = err
			return
		}
		run := func(what string, name string, args ...string) bool {
			cmd := exec.Command(name, args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				artifacts.err = fmt.Errorf("%s: %v\n%s", what, err, out)
				return false
			}
			return true
		}
		so := filepath.Join(artifacts.dir, "out_courier_influxdb.so")
		host := filepath.Join(artifacts.dir, "testhost")
		cli := filepath.Join(artifacts.dir, "courier-traffic")
		if !run("go build -buildmode=c-shared ./plugin", goBinary(), "build", "-buildmode=c-shared", "-o", so, "./plugin") ||
			!run("cc plugin/testhost/host.c (needs Debian's libmsgpack-dev)", "cc", "-O2", "-Wall", "-Werror", "-o", host,
				filepath.Join("plugin", "testhost", "host.c"), "-ldl", "-lpthread", "-lmsgpackc") ||
			!run("go build ./cmd/courier-traffic", goBinary(), "build", "-o", cli, "./cmd/courier-traffic") {
			return
		}
		artifacts.so, artifacts.host, artifacts.cli = so, host, cli
	})
	if artifacts.err != nil {
		tb.Fatal(artifacts.err)
	}
}

// Return codes of FLBPluginFlushCtx as the host names them.
const (
	flbOK    = "FLB_OK"
	flbRetry = "FLB_RETRY"
	flbError = "FLB_ERROR"
)

// hostTimeout bounds one command: a hung plugin ends the scenario with its
// log instead of running into the test binary's timeout. It is far above
// any flush bound the scenarios check.
const hostTimeout = 5 * time.Minute

// host is a running testhost process with the real plugin loaded. Its
// methods are not safe for concurrent use: one goroutine drives it.
type host struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string
	logPath string // the plugin's stderr (a file: complete when a result line arrives)
	dir     string
	nfiles  int
	closed  bool
}

// startHost starts the host in a new directory under tb.TempDir; the
// caller must close it (a registered cleanup closes it too).
func startHost(tb testing.TB, env ...string) *host {
	tb.Helper()
	build(tb)
	h := &host{dir: tb.TempDir(), lines: make(chan string, 64)}
	h.logPath = filepath.Join(h.dir, "plugin.log")
	logf, err := os.Create(h.logPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close() // the child has its own descriptor
	h.cmd = exec.Command(artifacts.host, artifacts.so)
	h.cmd.Env = append(os.Environ(), env...)
	h.cmd.Stderr = logf
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	tb.Cleanup(func() {
		if err := h.close(); err != nil {
			tb.Error(err)
		}
	})
	res, err := h.read("register")
	if err != nil {
		tb.Fatal(err)
	}
	if len(res) != 1 || !strings.Contains(res[0], "name=ok") {
		tb.Fatalf("register: %q\n%s", res, h.log())
	}
	return h
}

// log returns the plugin's output so far.
func (h *host) log() string {
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		return "(plugin log unreadable: " + err.Error() + ")"
	}
	return string(b)
}

// do sends one command and returns its result lines.
func (h *host) do(line string) ([]string, error) {
	if _, err := io.WriteString(h.stdin, line+"\n"); err != nil {
		return nil, fmt.Errorf("host: write %q: %w", line, err)
	}
	return h.read(line)
}

func (h *host) read(what string) ([]string, error) {
	var res []string
	timeout := time.NewTimer(hostTimeout)
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				return nil, fmt.Errorf("host died during %q", what)
			}
			switch {
			case l == "end":
				return res, nil
			case strings.HasPrefix(l, "result "):
				res = append(res, l)
			default:
				return nil, fmt.Errorf("host: %q: %s", what, l)
			}
		case <-timeout.C:
			return nil, fmt.Errorf("host: no answer to %q after %v", what, hostTimeout)
		}
	}
}

// one runs a command that answers exactly one result and returns its name
// (FLB_OK, FLB_RETRY, FLB_ERROR) and the command's wall time.
func (h *host) one(line string) (string, time.Duration, error) {
	start := time.Now()
	res, err := h.do(line)
	d := time.Since(start)
	if err != nil {
		return "", d, err
	}
	if len(res) != 1 {
		return "", d, fmt.Errorf("%s: %d results, want 1: %q", line, len(res), res)
	}
	_, name, ok := strings.Cut(res[0], " name=")
	if !ok {
		return "", d, fmt.Errorf("%s: result without name: %q", line, res[0])
	}
	name, _, _ = strings.Cut(name, " ")
	return name, d, nil
}

// init sets the properties of instance inst (key, value, key, value, ...)
// and runs FLBPluginInit; anything but FLB_OK is an error.
func (h *host) init(inst string, props ...string) error {
	for i := 0; i+1 < len(props); i += 2 {
		res, err := h.do("set " + inst + " " + props[i] + " " + props[i+1])
		if err != nil {
			return err
		}
		if len(res) != 0 {
			return fmt.Errorf("set %s: unexpected results %q", props[i], res)
		}
	}
	got, _, err := h.one("init " + inst)
	if err != nil {
		return err
	}
	if got != flbOK {
		return fmt.Errorf("init %s: %s", inst, got)
	}
	return nil
}

// exit runs FLBPluginExitCtx for inst: the Flusher logs its final stats.
func (h *host) exit(inst string) error {
	got, _, err := h.one("exit " + inst)
	if err == nil && got != flbOK {
		err = fmt.Errorf("exit %s: %s", inst, got)
	}
	return err
}

// close quits the host and reports a non-zero exit (dlclose included).
func (h *host) close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	_, _ = io.WriteString(h.stdin, "quit\n")
	h.stdin.Close()
	for range h.lines {
	}
	if err := h.cmd.Wait(); err != nil {
		return fmt.Errorf("host exit: %v\nplugin log:\n%s", err, h.log())
	}
	return nil
}

// file returns a new path in the host's directory.
func (h *host) file() string {
	h.nfiles++
	return filepath.Join(h.dir, "chunk"+strconv.Itoa(h.nfiles))
}

// memory is the host process's resident memory from /proc/PID/status:
// VmHWM is the peak ("high water mark"), VmRSS the current size, in bytes.
type memory struct{ HWM, RSS int64 }

func (h *host) memory() (memory, error) { return procMemory(h.cmd.Process.Pid) }

func procMemory(pid int) (memory, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memory{}, fmt.Errorf("reading the host's memory: %w", err)
	}
	var m memory
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmHWM":
			dst = &m.HWM
		case "VmRSS":
			dst = &m.RSS
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status %s %q: %w", pid, k, v, err)
		}
		*dst = kb << 10
	}
	if m.HWM == 0 || m.RSS == 0 {
		return memory{}, fmt.Errorf("/proc/%d/status has no VmHWM/VmRSS", pid)
	}
	return m, nil
}
