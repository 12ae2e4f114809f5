#!/usr/bin/env bash
# Stops an influxd started by scripts/influxd-start.sh, by its pid file.
#
#   scripts/influxd-stop.sh [RUN_DIR]     (default: $INFLUXD_RUN_DIR)
#
# SIGTERM, then up to 30 s for a clean shutdown (it takes about 1 s), then
# SIGKILL. A run dir that influxd-start.sh created itself (mktemp) is removed
# afterwards unless INFLUXD_KEEP=1; a run dir you named is kept, so that the
# next influxd-start.sh brings the same data back on the same ports.
# Stopping a server that is not running is not an error.
set -euo pipefail
RUN_DIR=${1:-${INFLUXD_RUN_DIR:-}}
if [ -z "$RUN_DIR" ]; then
  echo "usage: $0 RUN_DIR   (or set INFLUXD_RUN_DIR; influxd-start.sh prints it)" >&2
  exit 2
fi
if [ ! -d "$RUN_DIR" ]; then
  echo "influxd-stop: $RUN_DIR does not exist; nothing to stop" >&2
  exit 0
fi
RUN_DIR=$(cd "$RUN_DIR" && pwd)
CONF=$RUN_DIR/influxdb.conf
PIDFILE=$RUN_DIR/influxd.pid

# is_ours PID: the process runs influxd with this run dir's config; a stale pid
# file must never make us kill an unrelated process that got the same pid.
is_ours() {
  local args
  if [ -r "/proc/$1/cmdline" ]; then
    args=$(tr '\0' ' ' <"/proc/$1/cmdline")
  else
    args=$(ps -p "$1" -o args= 2>/dev/null || true)
  fi
  [[ "$args" == *"$CONF"* ]]
}

if [ -f "$PIDFILE" ]; then
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null && is_ours "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "influxd-stop: pid $pid did not exit within 30 s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    echo "influxd-stop: pid $pid from $PIDFILE is not running influxd for $RUN_DIR; nothing to stop" >&2
  fi
  rm -f "$PIDFILE"
else
  echo "influxd-stop: no pid file in $RUN_DIR; nothing to stop" >&2
fi

if [ -f "$RUN_DIR/.created-by-influxd-start" ] && [ "${INFLUXD_KEEP:-0}" != 1 ]; then
  rm -rf "$RUN_DIR"
fi
