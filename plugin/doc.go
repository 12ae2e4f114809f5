// Command out_courier_influxdb is the Fluent Bit output plugin (a c-shared
// library, not a program):
//
//	go build -buildmode=c-shared -o build/out_courier_influxdb.so ./plugin
//
// Fluent Bit loads it with Plugins_File / -e and calls the exported
// FLBPlugin* functions (exports.go, the only cgo file; the call order and
// threads are in docs/design.md, Plugin boundary):
//
//   - FLBPluginRegister: registers the output "courier_influxdb". Returns 0,
//     or -1 only if def is nil or registration panicked.
//   - FLBPluginInit, once per [OUTPUT] section: reads every key of
//     flush.Keys() through FLBPluginConfigKey (case-insensitive; Fluent Bit
//     has already substituted ${ENV}), validates them with flush.LoadConfig,
//     starts a flush.Flusher and stores the instance with
//     FLBPluginSetContext. It logs the effective configuration (token
//     masked) and returns FLB_OK, or logs the offending key and returns
//     FLB_ERROR, which makes Fluent Bit exit.
//   - FLBPluginFlushCtx, per chunk and per retry, possibly on several worker
//     threads at once for one instance (workers N): decodes the chunk with
//     flush/chunk (no copy: the records are views into Fluent Bit's buffer,
//     valid until the call returns), hands every record to a flush.Batch
//     (records.go: log_key -> AddLine; message_key -> AddMessage; neither ->
//     AddInvalid), writes it and answers Delivered -> FLB_OK,
//     Retry -> FLB_RETRY, Drop -> FLB_ERROR. A corrupt chunk: the records
//     before the corruption are written, then FLB_ERROR (FLB_RETRY if that
//     write must be retried); never FLB_OK for part of a chunk.
//   - FLBPluginExitCtx, per instance (also for instances whose init never
//     ran: an unknown context is ignored): waits for in-flight flushes and
//     closes the instance; later flushes answer FLB_ERROR. FLBPluginExit
//     (the fallback without ExitCtx) closes every open instance. Both are
//     idempotent.
//   - FLBPluginUnregister: frees the strings of the registration.
//
// Every export recovers panics, logs them with the stack and returns its
// failure code: a panic crossing into Fluent Bit would kill it.
//
// Logs go to stderr in Fluent Bit's own format,
// "[2006/01/02 15:04:05] [error] [output:courier_influxdb:courier_influxdb.N] msg",
// N being the instance's init order (0-based, as Fluent Bit numbers
// instances). Fluent Bit does not pass an output's log_level to Go plugins;
// the environment variable COURIER_TRAFFIC_LOG_LEVEL (error, warn, info,
// debug; default info) sets the plugin's level. The token never appears in
// a log line.
//
// Debugging aid: COURIER_TRAFFIC_CPUPROFILE=FILE writes a Go CPU profile of
// the plugin inside its host, from the library's load until the last
// instance exits (profile.go; docs/performance.md).
//
// The plugin's Go runtime runs with one P (GOMAXPROCS 1) until two flushes
// overlap (workers > 1), then with the machine's default; a GOMAXPROCS in
// Fluent Bit's environment overrides this (procs.go).
//
// Tests: records_test.go tests the chunk walk in pure Go; plugin_test.go
// builds this .so and the C host in testhost/ (a stand-in for Fluent Bit's
// Go proxy, needs Debian's libmsgpack-dev) and checks return codes and the
// sums read back from a real InfluxDB (internal/influxtest).
package main
