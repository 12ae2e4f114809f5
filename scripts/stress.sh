#!/usr/bin/env bash
# make stress: proof of "nothing lost, nothing counted twice, nothing crashes".
#
#   1. the scenarios of internal/stress at full size (STRESS=full): InfluxDB
#      killed and restarted a minute later (x3), a fault-injecting proxy,
#      a wrong token then the right one, replays and a CLI back-fill,
#      line-protocol injection, secrets, 10 M records through the plugin in
#      2 MB chunks, and the CLI over a 10-million-line file;
#   2. BenchmarkSustainedFlush (-count BENCHCOUNT), summarised by benchstat
#      when it is installed;
#   3. the parser's and the chunk decoder's fuzz targets for FUZZTIME each
#      (an input that fails is kept by `go test` under the package's
#      testdata/fuzz/ and fails this script);
#   4. the CLI's memory on a 10-million-line file with /usr/bin/time -v.
# Then it prints the summary table (also in build/stress/table.txt).
#
# Knobs (environment): STRESS=short for the CI-sized run (seconds-long
# outages, 200k records); STRESS_OUTAGE, STRESS_RECORDS, STRESS_CLI_LINES,
# STRESS_PACE, STRESS_RETRY_BASE, STRESS_RETRY_CAP (see internal/stress/doc.go);
# BENCHCOUNT (6), BENCHTIME (10x: chunks per benchmark run), FUZZTIME
# (30s full, 5s short), CLI_LINES (10000000; 0 skips step 4).
set -euo pipefail
cd "$(dirname "$0")/.."

export STRESS=${STRESS:-full}
if [[ $STRESS == full ]]; then
  fuzztime=${FUZZTIME:-30s}
  cli_lines=${CLI_LINES:-10000000}
else
  fuzztime=${FUZZTIME:-5s}
  cli_lines=${CLI_LINES:-200000}
fi
benchcount=${BENCHCOUNT:-6}
benchtime=${BENCHTIME:-10x}
out=build/stress
mkdir -p "$out"
rm -f "$out/table.txt"
export STRESS_TABLE=$PWD/$out/table.txt
export CGO_ENABLED=1
INFLUXD="$(scripts/influxd-build.sh | tail -n 1)"
export INFLUXD
status=0

echo "== scenarios (STRESS=$STRESS; $(nproc) cores)"
if ! go test -count=1 -timeout 4h -v -run '^Test' ./internal/stress 2>&1 | tee "$out/test.log" |
  grep -E '^(--- |    [a-z_]+_test.go:[0-9]+: .*: in=|PASS|FAIL|ok|panic)'; then
  status=1
fi
grep -q '^--- FAIL' "$out/test.log" && status=1
grep -qE '^(FAIL|panic)' "$out/test.log" && status=1

echo "== benchmark: BenchmarkSustainedFlush (-benchtime $benchtime -count $benchcount)"
if go test -run '^$' -bench '^BenchmarkSustainedFlush$' -benchtime "$benchtime" -count "$benchcount" \
  ./internal/stress >"$out/bench.txt" 2>&1; then
  grep -E '^(Benchmark|goos|goarch|cpu)' "$out/bench.txt" || true
  if command -v benchstat >/dev/null; then
    benchstat "$out/bench.txt" | tee "$out/benchstat.txt"
  else
    echo "(benchstat not installed: go install golang.org/x/perf/cmd/benchstat@latest; raw runs in $out/bench.txt)"
  fi
else
  cat "$out/bench.txt"
  status=1
fi

echo "== fuzz: parser and chunk decoder, $fuzztime each"
for target in ./parser:FuzzParseLine ./parser:FuzzParseMessage ./flush/chunk:FuzzDecode; do
  pkg=${target%%:*} name=${target##*:}
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" >"$out/fuzz-$name.log" 2>&1; then
    echo "FAIL $pkg $name (the failing input is under $pkg/testdata/fuzz/$name/):"
    tail -n 20 "$out/fuzz-$name.log"
    status=1
  else
    echo "ok   $pkg $name: $(grep -Eo 'execs: [0-9]+' "$out/fuzz-$name.log" | tail -n 1)"
  fi
done

if [[ $cli_lines -gt 0 ]]; then
  echo "== CLI memory: courier-traffic report over $cli_lines lines (/usr/bin/time -v)"
  CGO_ENABLED=0 go build -trimpath -o build/courier-traffic ./cmd/courier-traffic # as make cli
  big=$(mktemp -d)/mail.log
  go run ./cmd/courier-loggen -q -lines "$cli_lines" -sessions 100000 -host mx1,mx2,mx3,mx4 \
    -eras 42,509,60 -users 2000 -seed 9 -tz UTC -o "$big"
  touch -d '2027-01-01' "$big" # the year of classic stamps comes from the mtime
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v build/courier-traffic report --date 2026-07-28 --tz UTC --service all "$big" \
      >"$out/cli-report.txt" 2>"$out/cli-time.txt" || status=1
    grep -E 'Elapsed|Maximum resident|User time|System time' "$out/cli-time.txt" | sed 's/^\t*/  /'
    echo "  file: $(du -h "$big" | cut -f1), $(wc -l <"$big") lines"
  else
    echo "(no /usr/bin/time: apt-get install time)"
  fi
  rm -rf "$(dirname "$big")"
fi

echo
echo "== summary"
cat "$out/table.txt" 2>/dev/null || { echo "no table: the scenarios did not run"; status=1; }
exit $status
