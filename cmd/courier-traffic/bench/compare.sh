#!/usr/bin/env bash
# Compares `courier-traffic report` with the classic sed|uniq|awk script on the
# same generated log (default 1,000,000 lines, one day: the script's worst
# case, every line of the reported day), and on a log of as many lines over a
# week (the everyday case: mail.log rotates weekly), checks that both print the
# same report where the script is right, and measures our peak RSS as the
# input grows (1M and 10M lines, streamed through stdin so no 1.2 GB file is
# written). Uses hyperfine when installed, else /usr/bin/time -v.
#
# The speed-up is given twice: in wall-clock time (report spreads its parsing
# over every core, so this one depends on how many cores are free) and in CPU
# time, user+sys (the script's CPU time is its sed, uniq and awk children).
#
#   cmd/courier-traffic/bench/compare.sh [LINES] [BIG_LINES]
#
# The classic script stays outside the project: $COURIER_CLASSIC_SCRIPT names a
# copy; without it only our side runs.
set -euo pipefail
cd "$(dirname "$0")/../../.."
lines=${1:-1000000}
big=${2:-10000000}
work=$(mktemp -d /tmp/courier-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
script=${COURIER_CLASSIC_SCRIPT:-}
have_script=false
[ -n "$script" ] && [ -f "$script" ] && have_script=true

# The CLI as `make cli` and the Docker image build it: static.
CGO_ENABLED=0 go build -trimpath -o "$work/courier-traffic" ./cmd/courier-traffic
go build -trimpath -o "$work/courier-loggen" ./cmd/courier-loggen
"$work/courier-loggen" -lines "$lines" -days 1 -q -o "$work/mail.log"
echo "log: $lines lines, $(du -h "$work/mail.log" | cut -f1), day Jul 28 2026"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (other work on the cores slows the wall clock)"

ours=("$work/courier-traffic" report --date 'Jul 28' --year 2026 --tz UTC "$work/mail.log")
theirs=(env LC_ALL=C bash "$script" 'Jul 28' "$work/mail.log")

# speedup A_WALL A_CPU B_WALL B_CPU: the script's times (A) over ours (B).
speedup() {
  awk -v tw="$1" -v tc="$2" -v ow="$3" -v oc="$4" 'BEGIN {
    printf "speed-up: %.0fx wall clock, %.0fx CPU time (user+sys)\n", tw / (ow > 0 ? ow : 1e-3), tc / (oc > 0 ? oc : 1e-3) }'
}

if command -v hyperfine >/dev/null; then
  # Ours takes a fraction of a second: many runs; the script takes seconds.
  hyperfine --warmup 3 --runs 20 --export-csv "$work/ours.csv" -n courier-traffic "${ours[*]@Q}"
  if $have_script; then
    hyperfine --warmup 1 --runs 3 --export-csv "$work/theirs.csv" -n classic-script "${theirs[*]@Q}"
    # CSV columns: command,mean,stddev,median,user,system,min,max (seconds).
    read -r ow oc < <(awk -F, 'NR == 2 { print $2, $5 + $6 }' "$work/ours.csv")
    read -r tw tc < <(awk -F, 'NR == 2 { print $2, $5 + $6 }' "$work/theirs.csv")
    speedup "$tw" "$tc" "$ow" "$oc"
  fi
else
  measure() { # name, command...: the best of 3 runs by elapsed time
    local name=$1; shift
    local best=""
    for _ in 1 2 3; do
      /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt"
      local e
      e=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
      if [ -z "$best" ] || awk "BEGIN{exit !($e < $best)}"; then best=$e; cp "$work/time.txt" "$work/best-$name.txt"; fi
    done
    local u s
    u=$(awk -F': ' '/User time/ {print $2}' "$work/best-$name.txt")
    s=$(awk -F': ' '/System time/ {print $2}' "$work/best-$name.txt")
    printf '%-16s %8.3f s elapsed  user %s s  sys %s s  max RSS %s KB\n' "$name" "$best" "$u" "$s" \
      "$(awk -F': ' '/Maximum resident/ {print $2}' "$work/best-$name.txt")"
    awk -v e="$best" -v u="$u" -v s="$s" 'BEGIN { print e, u + s }' >"$work/times-$name"
  }
  measure courier-traffic "${ours[@]}"
  if $have_script; then
    measure classic-script "${theirs[@]}"
    read -r ow oc <"$work/times-courier-traffic"
    read -r tw tc <"$work/times-classic-script"
    speedup "$tw" "$tc" "$ow" "$oc"
  fi
fi

if $have_script; then
  # Paired rounds: on a shared VM whose speed drifts by tens of percent
  # between minutes, a ratio of two separate hyperfine runs mixes two
  # machine speeds. Each round runs the script once and ours 5 times right
  # after it; the ratio is taken per round, and the median round reported.
  # The script runs under LC_ALL=C (its fastest: byte-wise sed) and, when
  # the machine has it, under C.UTF-8 (the default locale of Debian
  # containers and of a cron job on a system with a UTF-8 LANG; sed's regex
  # engine is slower there).
  rounds=${ROUNDS:-5}
  locales=(C)
  if locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then locales+=(C.UTF-8); fi
  secs() { # command... -> "wall cpu" of one run, in seconds (wall from
    # bash's microsecond clock: time's %e has a 10 ms resolution)
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S' -o "$work/t1" "$@" >/dev/null
    local t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" '{ print b - a, $1 + $2 }' "$work/t1"
  }
  # paired LABEL LOCALE DATE LOG: ROUNDS rounds of the script (under
  # LC_ALL=LOCALE) once, then ours 5 times, on LOG for DATE; prints each
  # round and the median ratios.
  paired() {
    local label=$1 loc=$2 date=$3 log=$4 r tw tc ow oc
    : >"$work/ratios"
    for r in $(seq "$rounds"); do
      read -r tw tc < <(secs env LC_ALL="$loc" bash "$script" "$date" "$log")
      for _ in 1 2 3 4 5; do
        secs "$work/courier-traffic" report --date "$date" --year 2026 --tz UTC "$log"
      done | sort -n | sed -n 3p >"$work/o"
      read -r ow oc <"$work/o"
      echo "$tw $tc $ow $oc" | awk -v r="$r" -v l="$label" -v loc="$loc" '{
        printf "%sround %d (script LC_ALL=%s): script %.2f s (CPU %.2f s), ours median of 5 %.0f ms (CPU %.0f ms): %.0fx wall, %.0fx CPU\n",
          l, r, loc, $1, $2, $3 * 1000, $4 * 1000, $1 / ($3 > 0 ? $3 : 1e-3), $2 / ($4 > 0 ? $4 : 1e-3) }'
      echo "$tw $tc $ow $oc" | awk '{ print $1 / ($3 > 0 ? $3 : 1e-3), $2 / ($4 > 0 ? $4 : 1e-3) }' >>"$work/ratios"
    done
    sort -n -k1 "$work/ratios" | awk -v l="$label" -v loc="$loc" '{ w[NR] = $1 } END {
      printf "paired speed-up, %sscript under LC_ALL=%s: median %.0fx wall (rounds: %.0fx .. %.0fx)\n", l, loc, w[int((NR + 1) / 2)], w[1], w[NR] }'
    sort -n -k2 "$work/ratios" | awk -v l="$label" -v loc="$loc" '{ c[NR] = $2 } END {
      printf "paired speed-up, %sscript under LC_ALL=%s: median %.0fx CPU time\n", l, loc, c[int((NR + 1) / 2)] }'
  }
  for loc in "${locales[@]}"; do
    paired "" "$loc" 'Jul 28' "$work/mail.log"
  done

  # The everyday input: /var/log/mail.log rotates weekly (Debian's
  # logrotate default), so the cron job reads a week to report one day.
  # The same number of lines over 7 days; the report is for the 3rd.
  "$work/courier-loggen" -lines "$lines" -days 7 -q -o "$work/week.log"
  paired "week-long log, one day reported: " C 'Jul 30' "$work/week.log"

  # Where the script is right both print the same users; generated logs hold
  # user names with blanks and commas, interleaved repeats and sums over 2^31,
  # so the full outputs differ by design (see the README notes).
  "${ours[@]}" >"$work/ours.txt"
  "${theirs[@]}" >"$work/theirs.txt"
  echo "rows: ours $(grep -c ' \[#' "$work/ours.txt"), script $(grep -c ' \[#' "$work/theirs.txt")"
fi

# Memory must stay flat as the input grows: the file, then 1x and 10x
# streamed through stdin.
/usr/bin/time -f "%M" -o "$work/rss" "${ours[@]}" >/dev/null
echo "max RSS, $lines-line file: $(cat "$work/rss") KB"
for n in "$lines" "$big"; do
  /usr/bin/time -f "%M" -o "$work/rss" \
    "$work/courier-traffic" report --date 'Jul 28' --year 2026 --tz UTC - \
    < <("$work/courier-loggen" -lines "$n" -days 1 -q) >/dev/null
  echo "max RSS at $n lines through stdin: $(cat "$work/rss") KB"
done
