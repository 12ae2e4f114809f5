// Package stress proves the product's promise, "nothing lost, nothing
// counted twice, nothing crashes", under faults, load and hostile input. It
// is a test-only package: everything is in _test.go files and this file
// holds only the documentation.
//
// Every scenario drives the real plugin: the c-shared .so built from
// ./plugin, loaded by the C host plugin/testhost/host.c (Fluent Bit's Go
// proxy stand-in), writing to a real InfluxDB 1.8.10 (internal/influxtest),
// sometimes through internal/faultproxy. The expected numbers come from
// internal/loggen's truth, never from the code under test. "Lost" and
// "doubled" compare, per local day, service and user, the sessions read
// back from InfluxDB with the truth: fewer is lost, more is doubled, both
// summed in sessions; every scenario also requires the rcvd/sent sums to be
// exact.
//
// # Scenarios
//
//   - TestKillRestart: InfluxDB SIGKILLed several times in the middle of a
//     multi-day log and restarted after an outage.
//   - TestProxyFaults: latency below and above influx_timeout, connection
//     resets, 503 and 429; also checks that no flush blocks longer than
//     ceil(records/batch_size) * influx_timeout + 2 s.
//   - TestWrongTokenThenFix: 401 answers FLB_RETRY; a restart with the
//     right token delivers the kept chunks.
//   - TestReplayAndBackfill: the same log fed three times and back-filled
//     with the CLI: sums unchanged.
//   - TestInjection: user names and hosts with ',', '=', space, '"', '\',
//     newline and invalid UTF-8 are stored exactly or rejected with a
//     count; nothing else is written.
//   - TestSecrets: the token never appears in the plugin's or the CLI's
//     output, even when the server echoes it in an error.
//   - TestLoad: sustained flushes of 2 MB chunks (20,000 tail records):
//     records per second, the host's peak RSS (VmHWM) and RSS after the
//     load (VmRSS), which must not grow past the early plateau.
//   - TestCLIMemory: `courier-traffic report` over a generated file: peak
//     RSS from wait4's ru_maxrss (the figure /usr/bin/time -v prints) and
//     the report compared with the truth.
//   - BenchmarkSustainedFlush: the load scenario per chunk, for benchstat.
//
// # Retries
//
// The driver (feeder) behaves like Fluent Bit's engine with workers 0: one
// flush at a time, a new chunk every "pace" (Fluent Bit's Flush interval),
// and a chunk answered FLB_RETRY is flushed again after Fluent Bit's
// backoff (a random wait in [base, min(cap, base*2^n)], scheduler.base and
// scheduler.cap) while new chunks keep flowing, up to 100 retries.
//
// # Sizes and knobs
//
// Plain `go test ./internal/stress` runs the short version of everything
// (small logs, 2-second outages; well under two minutes on two cores).
// STRESS=full (make stress, scripts/stress.sh) runs the sizes:
// 1-minute outages, 10 million records through the plugin and a
// 10-million-line file through the CLI. Single knobs override either:
//
//	STRESS_OUTAGE      how long InfluxDB stays down after each kill (2s | 1m)
//	STRESS_PACE        interval between new chunks (100ms | 1s, Fluent Bit's default Flush)
//	STRESS_RETRY_BASE  Fluent Bit scheduler.base (200ms | 5s)
//	STRESS_RETRY_CAP   Fluent Bit scheduler.cap (2s | 30s)
//	STRESS_RECORDS     records of TestLoad (200000 | 10000000)
//	STRESS_CLI_LINES   lines of TestCLIMemory (200000 | 10000000)
//	STRESS_TABLE       also append the summary table to this file
//
// The summary table (scenario, records in, sessions, stored, lost, doubled,
// peak RSS, RSS after, time) is printed by TestMain after the tests, with
// the machine's core count.
package stress
