package influxtest

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
)

// shared holds the servers of Shared, one per distinct Options (DB aside),
// for the life of the test binary.
var shared struct {
	mu      sync.Mutex
	active  bool // Main is running the tests
	servers map[Options]*sharedServer
}

type sharedServer struct {
	srv *Server
	err error // a failed start is remembered: later tests fail fast with it
}

// Main runs the tests and then stops the shared servers and removes their
// directories (kept when a test failed or INFLUXTEST_KEEP=1). Call it from
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(influxtest.Main(m)) }
//
// A shared server that crashed during the tests turns a passing run into
// exit code 1.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.active = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.active = false
	for _, e := range shared.servers {
		if e.srv == nil {
			continue
		}
		p := e.srv.p
		if err := p.stop(syscall.SIGTERM); err != nil {
			fmt.Fprintf(os.Stderr, "influxtest: shared server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		p.finish(code != 0, logStderr)
	}
	shared.servers = nil
	return code
}

// Shared returns the test binary's shared server (no auth, started on first
// use) seen through a new database of its own, which tb.Cleanup drops. Tests
// using it may run in parallel. It must not be stopped: Stop, Restart and
// Kill fail the test.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	return SharedWith(tb, Options{})
}

// SharedWith is Shared for a server started with opts (opts.DB is ignored:
// every test gets its own database). Each distinct Options value has its
// own server.
func SharedWith(tb testing.TB, opts Options) *Server {
	tb.Helper()
	opts.DB = ""
	shared.mu.Lock()
	if !shared.active {
		shared.mu.Unlock()
		tb.Fatalf("influxtest: Shared needs the package's TestMain to be\n\tfunc TestMain(m *testing.M) { os.Exit(influxtest.Main(m)) }\nso that the shared server is stopped after the tests")
	}
	e := shared.servers[opts]
	if e == nil {
		// Held during the start (about 5 s): parallel tests wait for the one
		// server instead of each starting their own.
		e = &sharedServer{}
		e.srv, e.err = start(opts, tb.Logf)
		if e.srv != nil {
			e.srv.p.shared = true
		}
		if shared.servers == nil {
			shared.servers = make(map[Options]*sharedServer)
		}
		shared.servers[opts] = e
	}
	shared.mu.Unlock()
	if e.err != nil {
		tb.Fatalf("%v", e.err)
	}
	v := e.srv.Use(e.srv.NewDatabase(tb))
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("influxtest: shared influxd log: %s", v.LogPath())
		}
	})
	return v
}
