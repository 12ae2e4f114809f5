// Package fbhost drives the real plugin the way Fluent Bit does, for tests:
// it builds the c-shared plugin (.so) and the C host plugin/testhost/host.c
// (a stand-in for Fluent Bit's Go proxy that dlopens the .so and calls the
// FLBPlugin* exports), starts the host as a child process, sends it script
// commands on stdin and reads its "result op=... rc=... name=..." answers.
// See host.c's header comment for the script language and the record-file
// format this package writes.
//
// The package is pure Go (no cgo): the cgo lives in the .so and the C host,
// both built by Build with the go tool and cc on the PATH.
//
// # Building and its cache
//
// Build and BuildBinary compile once per process and per (module root,
// package): the first call builds, later calls return the cached paths, or
// the cached error. The artifacts live in one temporary directory per
// process (os.MkdirTemp, "fbhost-*"), created on the first build; Cleanup
// removes it and forgets the cache. A TestMain runs its tests through Main,
// which calls Cleanup after them.
// Build and BuildBinary are safe for concurrent use (concurrent callers of
// one key wait for the same build). The C host needs Debian's
// libmsgpack-dev (-lmsgpackc); a missing library is a build error that
// says so.
//
// # Driving a host
//
// Start returns a running Host whose plugin has answered FLBPluginRegister.
// A Host is driven by one goroutine at a time: Do, One, Set, Init, Exit,
// File, Records and Close must not overlap. Log, LogPath, Pid and Memory
// only read the log file or /proc and may be called from any goroutine at
// any time, also while a command runs. Every method returns its error,
// never calls t.Fatal or panics, so a host may be driven from a goroutine
// that is not the test's (the stress scenarios kill InfluxDB on the test
// goroutine while another one flushes); test packages wrap the methods in
// thin testing.TB helpers where they want t.Fatal.
//
// A command that gets no "end" within Options.Timeout, an unreadable
// answer or a host that died breaks the Host: the protocol is out of step,
// so every later command returns the same error. An "error ..." line of the
// host (a script error) is returned as an error, but the Host stays usable.
//
// The host's stderr (the plugin's log) goes to a file in Options.Dir, not a
// pipe: the host's writes land before it prints its result line, so Log,
// read after a command returned, holds every line the command logged.
//
// Error messages name the command but never the value of a "set" command:
// values may be tokens, and secrets must not reach test logs. The plugin's
// log (Log) is the plugin's own output and not filtered.
//
// # Record files
//
// Record, AppendRecord, Escape, AppendEscaped and EventTime write the
// host's record-file format: one record per line, TS KEY VALUE ..., every
// token percent-encoded where it would break the line apart.
package fbhost
