package fbhost

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one command when Options.Timeout is 0: far above
// any flush the tests make, so that only a hung plugin reaches it, and it
// then fails with the plugin's log instead of running into the test
// binary's own timeout.
const DefaultTimeout = 5 * time.Minute

// Noop, as Options.Plugin, makes the host load no .so and use its built-in
// no-op plugin: it answers FLB_OK and never reads a chunk (the
// receive-only baseline of plugin/hostcpu_test.go, like Fluent Bit's null
// output).
const Noop = "noop"

// Options say what Start runs and where.
type Options struct {
	Plugin string // the plugin .so (Build's so), or Noop
	Binary string // the C host (Build's host)
	// Dir must exist and is owned by the caller (a t.TempDir): Start makes
	// one new directory in it for the plugin's log and the record files
	// of File and Records. Close leaves it, so the log stays readable.
	Dir string
	// Env is added to the test process's environment for the host, e.g.
	// COURIER_TRAFFIC_LOG_LEVEL=debug.
	Env []string
	// Timeout bounds each command, and Close; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Host is a running host process with the plugin loaded. See the package
// documentation for which methods may run concurrently.
type Host struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	lines    chan string
	scanErr  error // set by the reader before it closes lines
	dir      string
	logPath  string
	timeout  time.Duration
	nfiles   int
	broken   error // sticky: the protocol is out of step
	hung     bool  // broken by a timeout: Close kills instead of asking
	closed   bool
	closeErr error
}

// Start starts the host and waits for its answer to FLBPluginRegister,
// which must be "ok". On error nothing is left running.
func Start(o Options) (*Host, error) {
	if o.Plugin == "" || o.Binary == "" || o.Dir == "" {
		return nil, errors.New("fbhost: Start needs Options.Plugin, Binary and Dir")
	}
	dir, err := os.MkdirTemp(o.Dir, "host-")
	if err != nil {
		return nil, fmt.Errorf("fbhost: %w", err)
	}
	h := &Host{dir: dir, logPath: filepath.Join(dir, "plugin.log"), timeout: o.Timeout, lines: make(chan string, 64)}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	logf, err := os.Create(h.logPath)
	if err != nil {
		return nil, fmt.Errorf("fbhost: plugin log: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	h.cmd = exec.Command(o.Binary, o.Plugin)
	h.cmd.Env = append(os.Environ(), o.Env...)
	h.cmd.Stderr = logf
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("fbhost: %w", err)
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("fbhost: %w", err)
	}
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("fbhost: starting the host: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		h.scanErr = sc.Err()
		close(h.lines)
	}()
	res, err := h.read("register")
	if err == nil {
		if want := (Result{Op: "register", Inst: "-", Name: "ok"}); len(res) != 1 || res[0] != want {
			err = fmt.Errorf("fbhost: register: got %+v, want %+v", res, want)
		}
	}
	if err != nil {
		h.hung = true // whatever state it is in, it goes
		h.broken = err
		h.Close()
		return nil, fmt.Errorf("%w\nplugin log:\n%s", err, h.Log())
	}
	return h, nil
}

// Do sends one command (a line of host.c's script language, without the
// newline) and returns the results it answered, in order; commands such as
// set answer none. An "error ..." line of the host is returned as an error
// (the host stays usable); so is a result line ParseResult refuses. A
// timeout or the host's death breaks the Host (see the package
// documentation). Use Close, not "quit".
func (h *Host) Do(cmd string) ([]Result, error) {
	what := describe(cmd)
	switch {
	case h.closed:
		return nil, fmt.Errorf("fbhost: %s: host closed", what)
	case h.broken != nil:
		return nil, h.broken
	case strings.ContainsRune(cmd, '\n'):
		return nil, fmt.Errorf("fbhost: %s: a command is one line", what)
	case cmd == "quit":
		return nil, errors.New("fbhost: quit: use Close")
	}
	if _, err := io.WriteString(h.stdin, cmd+"\n"); err != nil {
		h.broken = fmt.Errorf("fbhost: host: write %s: %w", what, err)
		return nil, h.broken
	}
	return h.read(what)
}

// read collects the answer to one command, up to its "end".
func (h *Host) read(what string) ([]Result, error) {
	var res []Result
	var problems []string
	timer := time.NewTimer(h.timeout)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				msg := fmt.Sprintf("fbhost: host died during %s", what)
				if h.scanErr != nil {
					msg += fmt.Sprintf(" (reading its output: %v)", h.scanErr)
				}
				if len(problems) > 0 {
					msg += ": " + strings.Join(problems, "; ")
				}
				h.broken = errors.New(msg)
				return nil, h.broken
			}
			switch {
			case l == "end":
				if len(problems) > 0 {
					return nil, fmt.Errorf("fbhost: host: %s: %s", what, strings.Join(problems, "; "))
				}
				return res, nil
			case strings.HasPrefix(l, "result "):
				r, err := ParseResult(l)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				res = append(res, r)
			default:
				problems = append(problems, l) // "error ...", or anything the host should not print
			}
		case <-timer.C:
			h.broken = fmt.Errorf("fbhost: host: no answer to %s after %v", what, h.timeout)
			h.hung = true
			return nil, h.broken
		}
	}
}

// describe names a command for error messages: the value of a set
// command may be a token and is left out.
func describe(cmd string) string {
	if f := strings.SplitN(cmd, " ", 4); len(f) == 4 && f[0] == "set" {
		return strconv.Quote(strings.Join(f[:3], " ")) + " (value hidden)"
	}
	return strconv.Quote(cmd)
}

// One runs a command that answers exactly one result (init, exit, flush,
// flushraw, exitall, unregister) and returns it with the command's wall
// time, the host's round trip included.
func (h *Host) One(cmd string) (Result, time.Duration, error) {
	start := time.Now()
	res, err := h.Do(cmd)
	d := time.Since(start)
	if err != nil {
		return Result{}, d, err
	}
	if len(res) != 1 {
		return Result{}, d, fmt.Errorf("fbhost: %s: %d results, want 1: %+v", describe(cmd), len(res), res)
	}
	return res[0], d, nil
}

// Configure adds the properties props (key, value, key, value, ...) to
// instance inst, in order. Keys and inst are single words; a value may
// hold spaces but no newline. As in Fluent Bit, a key set twice keeps its
// first value.
func (h *Host) Configure(inst string, props ...string) error {
	if len(props)%2 != 0 {
		return fmt.Errorf("fbhost: configure %s: %d keys and values, want pairs", inst, len(props))
	}
	if inst == "" || strings.ContainsAny(inst, " \n") {
		return fmt.Errorf("fbhost: configure: instance %q is not one word", inst)
	}
	for i := 0; i < len(props); i += 2 {
		if k := props[i]; k == "" || strings.ContainsAny(k, " \n") {
			return fmt.Errorf("fbhost: configure %s: key %q is not one word", inst, k)
		}
		res, err := h.Do("set " + inst + " " + props[i] + " " + props[i+1])
		if err != nil {
			return err
		}
		if len(res) != 0 {
			return fmt.Errorf("fbhost: set %s %s: unexpected results %+v", inst, props[i], res)
		}
	}
	return nil
}

// Init configures inst with props (see Configure) and runs FLBPluginInit
// for it; an answer other than FLB_OK is an error.
func (h *Host) Init(inst string, props ...string) error {
	if err := h.Configure(inst, props...); err != nil {
		return err
	}
	return h.expectOK("init " + inst)
}

// Exit runs FLBPluginExitCtx for inst (the plugin logs its final
// statistics); an answer other than FLB_OK is an error.
func (h *Host) Exit(inst string) error { return h.expectOK("exit " + inst) }

func (h *Host) expectOK(cmd string) error {
	r, _, err := h.One(cmd)
	if err != nil {
		return err
	}
	if r.Name != OK {
		return fmt.Errorf("fbhost: %s: %s", cmd, r.Name)
	}
	return nil
}

// Close asks the host to quit (it dlcloses the plugin and exits 0) and
// waits for it; a non-zero exit is the error. A host broken by a timeout,
// or one that does not exit within the timeout, is killed. Later calls
// return nil, so a test may close explicitly and in a cleanup as well.
func (h *Host) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	if !h.hung {
		_, _ = io.WriteString(h.stdin, "quit\n") // a dead host's broken pipe shows in Wait
	}
	h.stdin.Close()
	if h.hung {
		_ = h.cmd.Process.Kill()
	}
	killed := false
	timer := time.NewTimer(h.timeout)
	defer timer.Stop()
	for open := true; open; {
		select {
		case _, open = <-h.lines:
		case <-timer.C:
			_ = h.cmd.Process.Kill() // its stdout closes, and the drain ends
			killed = true
		}
	}
	err := h.cmd.Wait()
	switch {
	case killed:
		return fmt.Errorf("fbhost: host did not exit within %v of quit; killed", h.timeout)
	case h.hung:
		return nil // killed on purpose: the command's timeout was the error
	case err != nil:
		return fmt.Errorf("fbhost: host exit: %w", err)
	}
	return nil
}

// File writes data to a new file in the host's directory and returns its
// path (for flushraw, or a record file built by hand).
func (h *Host) File(data []byte) (string, error) {
	h.nfiles++
	p := filepath.Join(h.dir, "f"+strconv.Itoa(h.nfiles))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return "", fmt.Errorf("fbhost: %w", err)
	}
	return p, nil
}

// Records writes recs as a record file in the host's directory and
// returns its path (for flush INST PATH LAYOUT). An invalid record is an
// error naming its index; nothing is written then.
func (h *Host) Records(recs []Record) (string, error) {
	var b []byte
	for i, r := range recs {
		var err error
		if b, err = AppendRecord(b, r); err != nil {
			return "", fmt.Errorf("record %d: %w", i, err)
		}
	}
	return h.File(b)
}

// Log returns the plugin's log (the host's stderr) so far, or a note
// saying why it cannot be read.
func (h *Host) Log() string {
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		return "(plugin log unreadable: " + err.Error() + ")"
	}
	return string(b)
}

// LogPath is the file holding the plugin's log.
func (h *Host) LogPath() string { return h.logPath }

// Pid is the host's process id.
func (h *Host) Pid() int { return h.cmd.Process.Pid }

// ProcessState is the host's exit state (user and system CPU time, exit
// code) once Close returned, nil before.
func (h *Host) ProcessState() *os.ProcessState { return h.cmd.ProcessState }

// Memory reads the host's resident memory from /proc (Linux only); it
// fails once the host has exited.
func (h *Host) Memory() (Memory, error) { return ProcMemory(h.Pid()) }
