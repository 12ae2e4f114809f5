package influxtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// DefaultDB is the database created when Options.DB is empty.
	DefaultDB = "courier"
	// AdminUser and AdminPassword are the credentials created in auth mode;
	// the v2 API takes them as the token "admin:secret".
	AdminUser     = "admin"
	AdminPassword = "secret"

	// startTimeout: startup takes about 5 s idle and 17 s measured while the
	// other core compiled; 60 s leaves room for a loaded CI machine.
	startTimeout = 60 * time.Second
	// stopTimeout: influxd exits about 1 s after SIGTERM; past this it is
	// killed and the stop reported as a failure.
	stopTimeout = 30 * time.Second
	// bindAttempts: a free port is found by binding :0 and closing, so another
	// process may take it before influxd binds; a fresh pair is tried then.
	bindAttempts = 3
)

// Options configures a server started by Start.
type Options struct {
	// Auth switches on auth-enabled and creates the admin user
	// AdminUser:AdminPassword; Server.Token is then "admin:secret".
	Auth bool
	// DB is the database created at start; empty means DefaultDB.
	DB string
	// MaxBodySize sets [http] max-body-size in bytes, for tests of 413
	// answers. Zero keeps influxd's default (25,000,000).
	MaxBodySize int
	// NoFlux switches Flux off (flux-enabled = false). Startup then takes
	// about 0.3 s instead of 5 s (17 s on a busy machine): almost all of a
	// start is the initialisation of Flux's standard library. /api/v2/write
	// and InfluxQL (Exec, Sums) work; /api/v2/query answers 403. Use it for
	// tests that start, restart or kill their own server and read back with
	// Sums.
	NoFlux bool
	// CQRunInterval, when > 0, switches the continuous query service on
	// with this [continuous_queries] run-interval (how often influxd checks
	// whether a CQ is due; a CQ then runs at its RESAMPLE EVERY). Zero keeps
	// CQs off, as every other test wants: they would write on their own.
	CQRunInterval time.Duration
}

// Server is a running (or stopped) influxd, seen through one database.
//
// The fields are set by Start and never change: Restart reuses the same
// ports, so URL stays valid. Use returns a view of the same process with
// another database; views share the process, so Stop on one stops all.
type Server struct {
	URL    string // http://127.0.0.1:PORT
	DB     string // database of this view
	Bucket string // DB + "/autogen", the v2 bucket name of DB's default retention policy
	Token  string // "" or "admin:secret" (Options.Auth): the v2 API token

	p *proc
}

// proc is the process shared by all views of one server.
type proc struct {
	opts     Options
	bin      string
	dir      string // temporary directory: config, meta, data, wal, log
	confPath string
	logPath  string
	httpAddr string
	rpcAddr  string
	client   *http.Client
	tr       *http.Transport
	shared   bool // owned by Main: Stop, Restart and Kill are refused

	mu   sync.Mutex // serializes Stop, Restart, Kill and cleanup
	run  *run       // current or last process
	down bool       // Stop or Kill was called: an exit is expected
}

// run is one influxd process.
type run struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
}

var errAddrInUse = errors.New("address already in use")

// Start starts a private influxd for tb, creates the database, and registers
// a tb.Cleanup that stops the server and removes its directory (kept when
// the test failed or INFLUXTEST_KEEP=1). Any failure is fatal.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := start(opts, tb.Logf)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if err := s.p.stop(syscall.SIGTERM); err != nil {
			tb.Errorf("influxtest: %v", err)
		}
		s.p.finish(tb.Failed(), tb.Logf)
	})
	return s
}

// start is Start without a testing.TB, for Shared (the server outlives the
// test that starts it).
func start(opts Options, logf func(string, ...any)) (*Server, error) {
	if opts.DB == "" {
		opts.DB = DefaultDB
	}
	if opts.MaxBodySize < 0 {
		return nil, fmt.Errorf("influxtest: Options.MaxBodySize %d: must be >= 0", opts.MaxBodySize)
	}
	bin, err := findBinary(logf)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "influxtest-")
	if err != nil {
		return nil, fmt.Errorf("influxtest: temp dir: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // loopback only, whatever HTTP_PROXY says
	p := &proc{
		opts:     opts,
		bin:      bin,
		dir:      dir,
		confPath: filepath.Join(dir, "influxdb.conf"),
		logPath:  filepath.Join(dir, "influxd.log"),
		tr:       tr,
		// Generous: a Flux query over a large generated data set is slow on
		// a busy machine; a hung server still ends the test.
		client: &http.Client{Transport: tr, Timeout: 2 * time.Minute},
	}
	for attempt := 1; ; attempt++ {
		p.httpAddr, p.rpcAddr, err = freePorts()
		if err == nil {
			err = os.WriteFile(p.confPath, []byte(p.config()), 0o644)
		}
		if err == nil {
			p.mu.Lock()
			err = p.launchLocked()
			p.mu.Unlock()
		}
		if err == nil {
			break
		}
		if !errors.Is(err, errAddrInUse) || attempt == bindAttempts {
			return nil, fmt.Errorf("%w (directory kept: %s)", err, dir)
		}
	}
	s := &Server{URL: "http://" + p.httpAddr, DB: opts.DB, Bucket: opts.DB + "/autogen", p: p}
	if opts.Auth {
		// The first admin user may be created without credentials; every
		// later request needs them.
		q := fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES", quoteIdent(AdminUser), AdminPassword)
		if _, err := s.execLabel(q, "CREATE USER "+AdminUser+" (password redacted)"); err != nil {
			p.kill()
			return nil, fmt.Errorf("influxtest: creating the admin user: %w", err)
		}
		s.Token = AdminUser + ":" + AdminPassword
	}
	if err := s.execErr("CREATE DATABASE " + quoteIdent(opts.DB)); err != nil {
		p.kill()
		return nil, fmt.Errorf("influxtest: creating database %q: %w", opts.DB, err)
	}
	return s, nil
}

// freePorts returns two distinct free loopback addresses. Both listeners are
// held until both are chosen so that the kernel cannot hand out one port
// twice.
func freePorts() (httpAddr, rpcAddr string, err error) {
	l1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", fmt.Errorf("influxtest: free port: %w", err)
	}
	defer l1.Close()
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", fmt.Errorf("influxtest: free port: %w", err)
	}
	defer l2.Close()
	return l1.Addr().String(), l2.Addr().String(), nil
}

// config is the influxd configuration: loopback only, nothing phoned home,
// no self-monitoring writes (they would add series to every test's counts
// and CPU to a shared machine), Flux on unless NoFlux.
func (p *proc) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reporting-disabled = true\n")
	fmt.Fprintf(&b, "bind-address = %q\n", p.rpcAddr)
	fmt.Fprintf(&b, "[meta]\n  dir = %q\n", filepath.Join(p.dir, "meta"))
	fmt.Fprintf(&b, "[data]\n  dir = %q\n  wal-dir = %q\n  query-log-enabled = false\n",
		filepath.Join(p.dir, "data"), filepath.Join(p.dir, "wal"))
	fmt.Fprintf(&b, "[monitor]\n  store-enabled = false\n")
	if p.opts.CQRunInterval > 0 {
		fmt.Fprintf(&b, "[continuous_queries]\n  enabled = true\n  log-enabled = true\n  run-interval = %q\n", p.opts.CQRunInterval.String())
	} else {
		fmt.Fprintf(&b, "[continuous_queries]\n  enabled = false\n")
	}
	fmt.Fprintf(&b, "[http]\n  bind-address = %q\n  auth-enabled = %t\n", p.httpAddr, p.opts.Auth)
	fmt.Fprintf(&b, "  log-enabled = false\n  flux-enabled = %t\n  pprof-enabled = false\n", !p.opts.NoFlux)
	if p.opts.MaxBodySize > 0 {
		fmt.Fprintf(&b, "  max-body-size = %d\n", p.opts.MaxBodySize)
	}
	fmt.Fprintf(&b, "[logging]\n  suppress-logo = true\n")
	return b.String()
}

// influxdEnv drops INFLUXDB_* variables: influxd reads them as overrides of
// the configuration (INFLUXDB_HTTP_BIND_ADDRESS would move the server off
// loopback).
func influxdEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INFLUXDB_") {
			env = append(env, kv)
		}
	}
	return env
}

// launchLocked starts influxd with the current config and waits until it
// answers /ping. p.mu must be held.
func (p *proc) launchLocked() error {
	f, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("influxtest: log file: %w", err)
	}
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return fmt.Errorf("influxtest: log file: %w", err)
	}
	cmd := exec.Command(p.bin, "run", "-config", p.confPath)
	cmd.Dir = p.dir
	cmd.Env = influxdEnv()
	cmd.Stdout, cmd.Stderr = f, f
	err = StartProcess(cmd)
	f.Close() // the child holds its own descriptor
	if err != nil {
		return fmt.Errorf("influxtest: starting %s: %w", p.bin, err)
	}
	r := &run{cmd: cmd, done: make(chan struct{})}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	p.run, p.down = r, false
	if err := p.waitReady(r, off); err != nil {
		p.down = true
		_ = cmd.Process.Kill()
		<-r.done
		return err
	}
	return nil
}

// waitReady polls /ping until influxd answers 204, the process exits, or
// startTimeout passes. off is the log size before this launch, so that only
// this run's output is searched for a bind failure.
func (p *proc) waitReady(r *run, off int64) error {
	deadline := time.Now().Add(startTimeout)
	ping := &http.Client{Transport: p.tr, Timeout: 2 * time.Second}
	for {
		select {
		case <-r.done:
			out := p.logSince(off)
			if strings.Contains(out, "address already in use") {
				return fmt.Errorf("influxtest: influxd could not bind %s or %s: %w", p.httpAddr, p.rpcAddr, errAddrInUse)
			}
			return fmt.Errorf("influxtest: influxd exited during startup (%v); log %s:\n%s", r.err, p.logPath, tail(out, 40))
		default:
		}
		// Our own log line first: a /ping alone could be answered by another
		// process that took the port while ours fails to bind.
		if strings.Contains(p.logSince(off), `msg="Listening on HTTP"`) {
			resp, err := ping.Get("http://" + p.httpAddr + "/ping")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusNoContent {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("influxtest: influxd did not answer /ping within %v; log %s:\n%s", startTimeout, p.logPath, tail(p.logSince(off), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *proc) logSince(off int64) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	if off > int64(len(b)) {
		off = 0
	}
	return string(b[off:])
}

// stop sends sig and waits for the exit. It reports an exit that nobody
// asked for (a crash) as an error, once.
func (p *proc) stop(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopLocked(sig)
}

func (p *proc) stopLocked(sig syscall.Signal) error {
	r := p.run
	if r == nil {
		return nil
	}
	defer p.tr.CloseIdleConnections() // kept-alive connections lead to the dead process
	select {
	case <-r.done:
		if !p.down {
			p.down = true
			return fmt.Errorf("influxd exited unexpectedly (%v); log %s:\n%s", r.err, p.logPath, tail(p.logSince(0), 40))
		}
		return nil
	default:
	}
	p.down = true
	if err := r.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling influxd (pid %d): %w", r.cmd.Process.Pid, err)
	}
	select {
	case <-r.done:
		return nil
	case <-time.After(stopTimeout):
		_ = r.cmd.Process.Kill()
		<-r.done
		return fmt.Errorf("influxd (pid %d) did not exit within %v of %v; killed", r.cmd.Process.Pid, stopTimeout, sig)
	}
}

// kill ends the process after a failed start; errors do not matter then.
func (p *proc) kill() { _ = p.stop(syscall.SIGKILL) }

// running reports whether the current process is alive.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return false
	}
	select {
	case <-p.run.done:
		return false
	default:
		return true
	}
}

// finish removes the directory, or keeps it and prints the log when the test
// failed or INFLUXTEST_KEEP=1.
func (p *proc) finish(failed bool, logf func(string, ...any)) {
	switch {
	case failed:
		logf("influxtest: influxd log %s (directory kept):\n%s", p.logPath, tail(p.logSince(0), 50))
	case keep():
		logf("influxtest: INFLUXTEST_KEEP=1: kept %s", p.dir)
	default:
		if err := os.RemoveAll(p.dir); err != nil {
			logf("influxtest: removing %s: %v", p.dir, err)
		}
	}
}

func keep() bool { return os.Getenv("INFLUXTEST_KEEP") == "1" }

// Dir is the server's temporary directory (config, meta, data, wal, log).
func (s *Server) Dir() string { return s.p.dir }

// LogPath is the path of influxd's log, for debugging.
func (s *Server) LogPath() string { return s.p.logPath }

// Pid is the process id of the running influxd, or 0 when it is stopped.
func (s *Server) Pid() int {
	if !s.p.running() {
		return 0
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return s.p.run.cmd.Process.Pid
}

// Stop sends SIGTERM and waits until influxd has exited. The data directory
// is kept, so Restart brings the same data back. Stopping a stopped server
// does nothing.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.refuseShared(tb, "Stop")
	if err := s.p.stop(syscall.SIGTERM); err != nil {
		tb.Fatalf("influxtest: Stop: %v", err)
	}
}

// Kill sends SIGKILL (a crash) and waits for the exit. Points whose write
// was answered survive: the WAL is fsynced before influxd answers.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	s.refuseShared(tb, "Kill")
	if err := s.p.stop(syscall.SIGKILL); err != nil {
		tb.Fatalf("influxtest: Kill: %v", err)
	}
}

// Restart starts influxd again on the same ports and data directory, after
// stopping it (SIGTERM) if it is running, and waits until it answers /ping.
// It fails if another process has taken one of the ports meanwhile.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.refuseShared(tb, "Restart")
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.stopLocked(syscall.SIGTERM); err != nil {
		tb.Fatalf("influxtest: Restart: %v", err)
	}
	// A /ping answered by an intruder on our port would pass for a start.
	for _, addr := range []string{p.httpAddr, p.rpcAddr} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			tb.Fatalf("influxtest: Restart: port %s was taken while the server was down: %v", addr, err)
		}
		l.Close()
	}
	if err := p.launchLocked(); err != nil {
		tb.Fatalf("influxtest: Restart: %v", err)
	}
}

func (s *Server) refuseShared(tb testing.TB, op string) {
	tb.Helper()
	if s.p.shared {
		tb.Fatalf("influxtest: %s on the shared server would break the other tests; use Start for a private server", op)
	}
}
