#!/usr/bin/env bash
# The report against `grep -c rcvd=` (issue 16's floor): the same generated 1M-line one-day log
# of the realistic mix and of a repeat-heavy mix (every traffic line repeated 1-20 times, each copy
# with its own reception stamp), `courier-traffic report` and `grep -c rcvd=` timed by hyperfine.
# Target: the report within 2.5x of grep's wall time on both.
#
# CAUTION: GNU grep stops at the first match when its standard output is /dev/null (hyperfine's
# default), which makes it look about 20x faster than it is. Both commands are therefore timed with
# their output to a pipe (hyperfine -N --output=pipe), as a real consumer reads them.
# Usage: scripts/bench-report-grep.sh [LINES]   (default 1000000; needs hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
if ! command -v hyperfine >/dev/null; then
  echo "bench-report-grep: hyperfine missing (apt-get install hyperfine); skipped" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$work/courier-traffic" ./cmd/courier-traffic
go build -trimpath -o "$work/courier-loggen" ./cmd/courier-loggen
"$work/courier-loggen" -lines "$lines" -days 1 -q -o "$work/realistic.log"
"$work/courier-loggen" -lines "$lines" -days 1 -q -repeats 1 -format rfc3339 -copy-stamps reception \
  -o "$work/repeats.log"
echo "report vs grep -c rcvd=: $lines lines per log, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mix in realistic repeats; do
  log=$work/$mix.log
  hyperfine -N --output=pipe --warmup 3 --runs 20 --export-csv "$work/$mix.csv" \
    -n "report ($mix)" "$work/courier-traffic report --date 'Jul 28' --year 2026 --tz UTC $log" \
    -n "grep ($mix)" "grep -c rcvd= $log" >"$work/$mix.txt"
  # CSV: command,mean,stddev,median,user,system,min,max (seconds)
  awk -F, -v mix="$mix" -v size="$(du -h "$log" | cut -f1)" '
    NR == 2 { rm = $4; rc = $5 + $6 } NR == 3 { gm = $4; gc = $5 + $6 }
    END { printf "%-9s (%s): report median %.0f ms (CPU %.0f ms), grep median %.0f ms (CPU %.0f ms): %.2fx wall (target <= 2.5x)\n",
          mix, size, rm * 1000, rc * 1000, gm * 1000, gc * 1000, rm / gm }' "$work/$mix.csv"
done
