// Package influxtest runs a real InfluxDB 1.8.10 server (influxd) for tests.
//
// InfluxDB 1.8.10 is the newest server that builds in pure Go; it serves the
// v2-compatible write API (/api/v2/write, bucket "db/rp", token
// "user:password") and Flux 0.65 on /api/v2/query, which is what the plugin
// uses. Its limits compared with InfluxDB 2.x (no to(), no tasks API, unknown
// retention policy answers 500 instead of 404) are listed in CONTRIBUTING.md,
// The InfluxDB test server.
//
// The package is imported only from _test.go files. Two ways to get a server:
//
//   - Start(tb, opts) starts a private server for one test and stops it in
//     tb.Cleanup. Use it for tests that Stop, Restart or Kill the server, or
//     that need Options the shared server does not have. With
//     Options.NoFlux a start takes about 0.3 s instead of 5 s.
//
//   - Shared(tb) returns a view of one server per test binary (startup costs
//     about 5 s, 17 s on a busy machine) with a fresh database for the calling
//     test, dropped in tb.Cleanup. It requires the package's TestMain (below)
//     so that the server is stopped and its temporary directory removed when
//     the tests end; Shared fails the test with that hint otherwise.
//
//     func TestMain(m *testing.M) { os.Exit(influxtest.Main(m)) }
//
// # Finding the binary
//
// Start looks for influxd in this order: $INFLUXD; the build cache of
// scripts/influxd-build.sh ($INFLUXD_BIN_DIR, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/courier-traffic/influxd-v1.8.10/influxd);
// else it runs scripts/influxd-build.sh (found by walking up from the working
// directory to go.mod), which takes 2-3 minutes once. Any failure is a
// tb.Fatal naming what was tried, never a skip: a test that silently does not
// run is worse than a red one.
//
// # Server process
//
// Each server gets a fresh temporary directory holding influxdb.conf, the
// meta, data and wal directories and influxd.log. It binds only to loopback
// (HTTP and RPC on free ports), with reporting, the monitor store and the
// HTTP access log switched off and Flux switched on (unless NoFlux). It is
// ready when its own log says "Listening on HTTP" and /ping answers 204: a
// /ping alone could come from another process that took the port. Environment variables
// named INFLUXDB_* are not passed to influxd, because influxd reads them as
// configuration overrides. On Linux the child gets SIGKILL when the test
// binary dies (Pdeathsig), so a test timeout does not leave servers behind.
//
// When a test fails, the cleanup prints the path and the last lines of
// influxd.log and keeps the directory; INFLUXTEST_KEEP=1 keeps it (and the
// per-test databases) always.
//
// # Contracts
//
// The methods that talk to the server (Exec, Query, Write, TryWrite, Flux,
// Sums, CreateDatabase, DropDatabase, NewDatabase) are safe for concurrent
// use. Stop, Restart and Kill are serialized with each other; requests racing
// with them fail with connection errors, which is why they are refused on a
// shared server. Methods taking a testing.TB report failures with tb.Fatalf
// and must be called from the test's goroutine; the Try* and Query variants
// return errors instead. Errors and logs never contain the token.
package influxtest
