#!/usr/bin/env bash
# Compares `courier-traffic report` with the classic sed|uniq|awk script on the
# same generated log (default 1,000,000 lines, one day: the script's worst and
# most common case, yesterday's rotated mail.log), checks that both print the
# same report where the script is right, and measures our peak RSS as the
# input grows (1M and 10M lines, streamed through stdin so no 1.2 GB file is
# written). Uses hyperfine when installed, else /usr/bin/time -v.
#
#   cmd/courier-traffic/bench/compare.sh [LINES] [BIG_LINES]
#
# The classic script stays outside the project: $COURIER_CLASSIC_SCRIPT or
# ../shared/baseline/courier-traffic-imap; without it only our side runs.
set -euo pipefail
cd "$(dirname "$0")/../../.."
lines=${1:-1000000}
big=${2:-10000000}
work=$(mktemp -d /tmp/courier-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
script=${COURIER_CLASSIC_SCRIPT:-../shared/baseline/courier-traffic-imap}

go build -trimpath -o "$work/courier-traffic" ./cmd/courier-traffic
go build -trimpath -o "$work/courier-loggen" ./cmd/courier-loggen
"$work/courier-loggen" -lines "$lines" -days 1 -q -o "$work/mail.log"
echo "log: $lines lines, $(du -h "$work/mail.log" | cut -f1), day Jul 28 2026"

ours=("$work/courier-traffic" report --date 'Jul 28' --year 2026 --tz UTC "$work/mail.log")
theirs=(env LC_ALL=C bash "$script" 'Jul 28' "$work/mail.log")

if command -v hyperfine >/dev/null; then
  if [ -f "$script" ]; then
    hyperfine --warmup 1 --runs 5 -n courier-traffic "${ours[*]@Q}" -n classic-script "${theirs[*]@Q}"
  else
    hyperfine --warmup 1 --runs 5 -n courier-traffic "${ours[*]@Q}"
  fi
else
  measure() { # name, command...: elapsed seconds and peak RSS of the best of 3 runs
    local name=$1; shift
    local best=""
    for _ in 1 2 3; do
      /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt"
      local e
      e=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
      if [ -z "$best" ] || awk "BEGIN{exit !($e < $best)}"; then best=$e; cp "$work/time.txt" "$work/best-$name.txt"; fi
    done
    printf '%-16s %8.3f s elapsed  user %s s  sys %s s  max RSS %s KB\n' "$name" "$best" \
      "$(awk -F': ' '/User time/ {print $2}' "$work/best-$name.txt")" \
      "$(awk -F': ' '/System time/ {print $2}' "$work/best-$name.txt")" \
      "$(awk -F': ' '/Maximum resident/ {print $2}' "$work/best-$name.txt")"
    echo "$best"  > "$work/elapsed-$name"
  }
  measure courier-traffic "${ours[@]}"
  if [ -f "$script" ]; then
    measure classic-script "${theirs[@]}"
    awk -v a="$(cat "$work/elapsed-classic-script")" -v b="$(cat "$work/elapsed-courier-traffic")" \
      'BEGIN { printf "speed-up: %.0fx (wall clock, best of 3)\n", a / b }'
  fi
fi

if [ -f "$script" ]; then
  # Where the script is right both print the same users; generated logs hold
  # user names with blanks and commas, interleaved repeats and sums over 2^31,
  # so the full outputs differ by design (see the README notes).
  "${ours[@]}" >"$work/ours.txt"
  "${theirs[@]}" >"$work/theirs.txt"
  echo "rows: ours $(grep -c ' \[#' "$work/ours.txt"), script $(grep -c ' \[#' "$work/theirs.txt")"
fi

# Memory must stay flat as the input grows: stream 1x and 10x through stdin.
for n in "$lines" "$big"; do
  /usr/bin/time -f "%M" -o "$work/rss" \
    "$work/courier-traffic" report --date 'Jul 28' --year 2026 --tz UTC - \
    < <("$work/courier-loggen" -lines "$n" -days 1 -q) >/dev/null
  echo "max RSS at $n lines: $(cat "$work/rss") KB"
done
