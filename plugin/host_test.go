package main

import (
	"bufio"
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

	"github.com/courier-traffic/courier-traffic/internal/influxtest"
)

// The end-to-end tests build the real plugin (.so, -buildmode=c-shared) and
// the C host in plugin/testhost, which loads it with dlopen and drives it
// through Fluent Bit's proxy ABI (see host.c for the script language).

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	artifacts.dir = dir
	code := influxtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

var artifacts struct {
	dir  string
	once sync.Once
	so   string
	host string
	err  error
}

// build compiles the plugin and the host once per test binary.
func build(t testing.TB) (so, host string) {
	t.Helper()
	artifacts.once.Do(func() {
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goBin); err != nil {
			goBin = "go"
		}
		so := filepath.Join(artifacts.dir, "out_courier_influxdb.so")
		cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-o", so, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			artifacts.err = fmt.Errorf("go build -buildmode=c-shared: %v\n%s", err, out)
			return
		}
		host := filepath.Join(artifacts.dir, "testhost")
		cmd = exec.Command("cc", "-O1", "-Wall", "-Werror", "-o", host, filepath.Join("testhost", "host.c"),
			"-ldl", "-lpthread", "-lmsgpackc")
		if out, err := cmd.CombinedOutput(); err != nil {
			artifacts.err = fmt.Errorf("cc testhost/host.c (needs Debian's libmsgpack-dev): %v\n%s", err, out)
			return
		}
		artifacts.so, artifacts.host = so, host
	})
	if artifacts.err != nil {
		t.Fatal(artifacts.err)
	}
	return artifacts.so, artifacts.host
}

// result is one "result ..." line of the host.
type result struct {
	Op, Inst string
	Thread   int
	RC       int
	Name     string
}

// logFile collects the plugin's stderr. A file, not a pipe: the host's
// writes land before its result line is printed, so a test reading the log
// after a result sees every line the call logged (a pipe drained by a
// goroutine would race with the test).
type logFile struct{ path string }

func (l *logFile) String() string {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return "(plugin log unreadable: " + err.Error() + ")"
	}
	return string(b)
}

// host is a running testhost process with the plugin loaded.
type host struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *logFile
	dir    string // record files
	nfiles int
	closed bool
}

// hostTimeout bounds one command: a hung plugin fails the test with its log
// instead of running into the test binary's timeout.
const hostTimeout = 3 * time.Minute

func startHost(t testing.TB, env ...string) *host {
	t.Helper()
	so, bin := build(t)
	h := &host{t: t, dir: t.TempDir(), lines: make(chan string, 64)}
	h.stderr = &logFile{path: filepath.Join(h.dir, "plugin.log")}
	logf, err := os.Create(h.stderr.path)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close() // the child has its own descriptor
	h.cmd = exec.Command(bin, so)
	h.cmd.Env = append(os.Environ(), env...)
	h.cmd.Stderr = logf
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(h.close)
	reg := h.read("register")
	want := []result{{Op: "register", Inst: "-", RC: 0, Name: "ok"}}
	if len(reg) != 1 || reg[0] != want[0] {
		t.Fatalf("register: got %+v, want %+v", reg, want)
	}
	return h
}

// do sends one command and returns its results.
func (h *host) do(format string, args ...any) []result {
	h.t.Helper()
	line := fmt.Sprintf(format, args...)
	if _, err := io.WriteString(h.stdin, line+"\n"); err != nil {
		h.t.Fatalf("host: write %q: %v\nplugin log:\n%s", line, err, h.stderr.String())
	}
	return h.read(line)
}

func (h *host) read(what string) []result {
	h.t.Helper()
	var res []result
	timeout := time.After(hostTimeout)
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				h.t.Fatalf("host died during %q\nplugin log:\n%s", what, h.stderr.String())
			}
			switch {
			case l == "end":
				return res
			case strings.HasPrefix(l, "result "):
				res = append(res, parseResult(h.t, l))
			default:
				h.t.Fatalf("host: %q: %s", what, l)
			}
		case <-timeout:
			h.t.Fatalf("host: no answer to %q after %v\nplugin log:\n%s", what, hostTimeout, h.stderr.String())
		}
	}
}

func parseResult(t testing.TB, l string) result {
	t.Helper()
	var r result
	for _, f := range strings.Fields(strings.TrimPrefix(l, "result ")) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "op":
			r.Op = v
		case "inst":
			r.Inst = v
		case "thread":
			r.Thread, _ = strconv.Atoi(v)
		case "rc":
			r.RC, _ = strconv.Atoi(v)
		case "name":
			r.Name = v
		}
	}
	return r
}

// one runs a command that answers exactly one result and returns its name
// (FLB_OK, FLB_ERROR, FLB_RETRY).
func (h *host) one(format string, args ...any) string {
	h.t.Helper()
	res := h.do(format, args...)
	if len(res) != 1 {
		h.t.Fatalf("%s: %d results, want 1: %+v", fmt.Sprintf(format, args...), len(res), res)
	}
	return res[0].Name
}

// configure sets the properties of instance inst (in the given order).
func (h *host) configure(inst string, props ...string) {
	h.t.Helper()
	for i := 0; i+1 < len(props); i += 2 {
		if r := h.do("set %s %s %s", inst, props[i], props[i+1]); len(r) != 0 {
			h.t.Fatalf("set: unexpected results %+v", r)
		}
	}
}

// close quits the host and checks it exits 0 (dlclose included).
func (h *host) close() {
	if h.closed {
		return
	}
	h.closed = true
	io.WriteString(h.stdin, "quit\n")
	h.stdin.Close()
	for range h.lines {
	}
	if err := h.cmd.Wait(); err != nil {
		h.t.Errorf("host exit: %v\nplugin log:\n%s", err, h.stderr.String())
	}
}

// file writes data to a new file in the host's directory.
func (h *host) file(data []byte) string {
	h.t.Helper()
	h.nfiles++
	p := filepath.Join(h.dir, "f"+strconv.Itoa(h.nfiles))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// rec is one record for the host's record-file format.
type rec struct {
	ts string // e:SEC.NSEC | i:SEC | f:FLOAT | g:start | g:end
	kv []string
}

func eventTS(t time.Time) string { return fmt.Sprintf("e:%d.%d", t.Unix(), t.Nanosecond()) }

// escape percent-encodes everything but printable ASCII without '%'.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// records writes recs in the host's record format and returns the path.
// Values are given with their type prefix: "s:text", "b:text", "i:-5", "u:7".
func (h *host) records(recs []rec) string {
	h.t.Helper()
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.ts)
		for i, x := range r.kv {
			b.WriteByte(' ')
			if i%2 == 1 && len(x) >= 2 && x[1] == ':' {
				b.WriteString(x[:2] + escape(x[2:]))
			} else {
				b.WriteString(escape(x))
			}
		}
		b.WriteByte('\n')
	}
	return h.file([]byte(b.String()))
}
