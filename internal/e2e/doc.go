// Package e2e runs end-to-end scenarios against a real Fluent Bit: the
// binary named by COURIER_E2E_FLUENT_BIT, loading the plugin .so built by
// `make plugin` (COURIER_E2E_PLUGIN overrides its path), writing into a real
// InfluxDB 1.8.10 test server (internal/influxtest). `make e2e
// FLUENT_BIT=/path/to/fluent-bit` runs them; docs/e2e.md is the user's
// guide. Without COURIER_E2E_FLUENT_BIT every test skips, so `go test ./...`
// (make test) does not run them and does not need Fluent Bit.
//
// Every scenario generates a log and its exact truth with internal/loggen,
// feeds it to Fluent Bit through one input, waits until Fluent Bit's own
// monitoring API (/api/v1/metrics, /api/v1/storage) says everything was
// processed (no sleeping), stops Fluent Bit with SIGINT, and compares the
// sessions, rcvd and sent stored in InfluxDB per local day, service and
// user with the truth, exactly.
//
// The Fluent Bit configuration is not written by the tests: each scenario
// takes the shipped conf/fluent-bit.conf (and conf/parsers.conf), switches
// on the input alternative it tests the way an admin would (removing the
// leading '#' of the commented block), and changes only what a test run
// must: file and directory paths, ports, the monitoring server (on, on
// loopback), a short Flush interval and retry back-off, and the plugin
// path (given with -e). The plugin's [OUTPUT] section is used as shipped,
// fed through its ${INFLUX_*} and ${COURIER_TIME_ZONE} variables.
//
// # Scenarios
//
// The generated logs (two days, two hosts, every courier-imap era, the
// Courier repeat bug on about a third of the traffic lines) carry, in the
// microsecond formats, what real loggers write: a reception stamp of its
// own on every repeat copy, bursts across a minute boundary and midnight,
// and twins (distinct sessions equal in every field but the time).
//
//   - TestTail: the tail input over a file, one subtest per line format:
//     classic syslog stamps (no year, no zone; Europe/Berlin) with rsyslog
//     "message repeated" markers; RFC 3339 with microseconds and
//     byte-identical repeat copies; RFC 3339 with reception-stamped copies
//     (rsyslog's default file format since Debian 12).
//   - TestTailYAML: the same through the shipped conf/fluent-bit.yaml,
//     the plugin loaded by its plugins: list.
//   - TestSyslogTCP: the syslog input in TCP mode with Fluent Bit's stock
//     syslog-rfc5424 parser, fed RFC 5424 messages over a TCP connection;
//     and the shipped courier-syslog-line parser fed rsyslog's
//     RSYSLOG_ForwardFormat.
//   - TestSystemd: the systemd input reading a journal directory written by
//     systemd-journal-remote from the generator's journal export stream,
//     with the shipped Systemd_Filter list.
//   - TestRestartReplay: tail with its offset DB and filesystem
//     buffering, the log growing while Fluent Bit runs; Fluent Bit is
//     SIGKILLed twice (once with chunks on disk it could not deliver) and
//     restarted (the chunks are replayed, lines read again from an offset
//     not yet saved), and InfluxDB is SIGKILLed and restarted while Fluent
//     Bit keeps retrying. The stored numbers must still be exact.
//   - TestControlToleranceZero: the negative control. TestTail/rfc3339's
//     log with the plugin's dedup_tolerance set to 0 must store more than
//     the truth, which shows that the reception-stamped copies reach the
//     plugin through Fluent Bit with stamps of their own.
//
// InfluxDB runs with authentication on; the plugin gets its token from
// ${INFLUX_TOKEN}. COURIER_E2E_KEEP=1 keeps each scenario's directory
// (configuration, Fluent Bit's log, storage); a failing scenario's is
// always kept.
//
// Each scenario also prints one RESULT line (stored against truth); the
// summary table of all of them is printed at the end of the run.
package e2e
