#!/usr/bin/env bash
# make bench: the performance figures of docs/performance.md, reproducibly.
#   1. Go benchmarks of the hot paths on ONE core (-cpu 1), BENCHCOUNT runs each,
#      summarised with benchstat (installed into GOBIN on first use):
#      parser (lines/s, allocs), flush (encode, batch path), flush/chunk (our
#      decoder vs fluent-bit-go's), plugin (decode+parse+dedup+encode per chunk),
#      report (the CLI's aggregation), loggen (generator speed).
#      plugin also has BenchmarkHostCPU: the .so inside the C host like Fluent
#      Bit's tail input against a receive-only host, CPU-µs per record added and
#      RSS added (starts a real InfluxDB; HOSTCPU_RECORDS, default 200000).
#   2. The CLI against the classic cron script on the same generated 1M-line
#      log, and its peak RSS at 1M and 10M lines (cmd/courier-traffic/bench/compare.sh).
#   3. The report against `grep -c rcvd=` on 1M-line logs of the realistic and
#      a repeat-heavy mix (scripts/bench-report-grep.sh; both to a pipe).
# Output: build/bench/go.txt (raw), build/bench/benchstat.txt, and the terminal.
# Knobs: BENCHCOUNT (6), BENCHTIME (1s), BENCH (regexp, default .), LINES, BIG_LINES.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench
mkdir -p "$out"
count=${BENCHCOUNT:-6}
benchtime=${BENCHTIME:-1s}
pattern=${BENCH:-.}
gobin=$(go env GOBIN); gobin=${gobin:-$(go env GOPATH)/bin}
if ! command -v benchstat >/dev/null && [ ! -x "$gobin/benchstat" ]; then
  echo "installing benchstat into $gobin" >&2
  go install golang.org/x/perf/cmd/benchstat@latest
fi
benchstat=$(command -v benchstat || echo "$gobin/benchstat")
if ! command -v hyperfine >/dev/null && [ "$(id -u)" -eq 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null 2>&1 ||
    echo "hyperfine not installed; the CLI comparison falls back to /usr/bin/time -v" >&2
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
pkgs=(./parser ./flush ./flush/chunk ./plugin ./report ./internal/loggen)
# -p 1: one package at a time (go test otherwise runs packages in parallel,
# and two benchmark binaries on 2 cores measure each other).
go test -p 1 -run '^$' -bench "$pattern" -benchmem -cpu 1 -count "$count" -benchtime "$benchtime" "${pkgs[@]}" | tee "$out/go.txt"
"$benchstat" "$out/go.txt" | tee "$out/benchstat.txt"

if [ -z "${SKIP_CLI:-}" ]; then
  cmd/courier-traffic/bench/compare.sh "${LINES:-1000000}" "${BIG_LINES:-10000000}"
  scripts/bench-report-grep.sh "${LINES:-1000000}"
fi
