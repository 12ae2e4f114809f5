#!/usr/bin/env bash
# Starts a real InfluxDB 1.8.10 on loopback (free ports) with the v2-compatible
# API (/api/v2/write, /api/v2/query with Flux), creates the database, and prints
# where it is, for the Makefile and for humans:
#
#   INFLUX_URL=http://127.0.0.1:PORT
#   INFLUX_BUCKET=courier/autogen
#   INFLUX_TOKEN=                  (admin:secret with INFLUXD_AUTH=1)
#   INFLUXD_PID=12345
#   INFLUXD_RUN_DIR=/tmp/influxd.XXXXXX
#
# The same lines are kept in $INFLUXD_RUN_DIR/env. Typical use:
#   eval "$(scripts/influxd-start.sh)"; export INFLUX_URL INFLUX_BUCKET INFLUX_TOKEN
#   ...
#   scripts/influxd-stop.sh "$INFLUXD_RUN_DIR"
#
# Environment (all optional):
#   INFLUXD           the influxd binary (default: scripts/influxd-build.sh, which builds it once)
#   INFLUXD_RUN_DIR   directory for config, data and log (default: a new mktemp dir,
#                     removed by influxd-stop.sh). An existing run dir is started again
#                     with its config: same ports, same data, same auth setting.
#   INFLUXD_PORT, INFLUXD_RPC_PORT   fixed ports instead of free ones
#   INFLUXD_DB        database to create (default courier)
#   INFLUXD_AUTH=1    auth-enabled, with the admin user admin:secret (token "admin:secret")
#   INFLUXD_NO_FLUX=1 flux-enabled = false: starts in about 0.3 s instead of 5 s (Flux's
#                     initialisation); writes and InfluxQL work, /api/v2/query answers 403
# The log is $INFLUXD_RUN_DIR/influxd.log. Nothing listens beyond 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

BIN=${INFLUXD:-$("$here/influxd-build.sh")}
[ -x "$BIN" ] || { echo "influxd-start: $BIN is not executable (set INFLUXD or run scripts/influxd-build.sh)" >&2; exit 1; }

if [ -n "${INFLUXD_RUN_DIR:-}" ]; then
  mkdir -p "$INFLUXD_RUN_DIR"
  RUN_DIR=$(cd "$INFLUXD_RUN_DIR" && pwd) # absolute: config and pid file must not depend on the cwd
else
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/influxd.XXXXXX")
  touch "$RUN_DIR/.created-by-influxd-start" # lets influxd-stop.sh remove what we created
fi
CONF=$RUN_DIR/influxdb.conf
PIDFILE=$RUN_DIR/influxd.pid
LOG=$RUN_DIR/influxd.log
STATE=$RUN_DIR/state

# is_ours PID: the process runs influxd with this run dir's config (guards
# against a stale pid file whose pid was reused by another process).
is_ours() {
  local args
  if [ -r "/proc/$1/cmdline" ]; then
    args=$(tr '\0' ' ' <"/proc/$1/cmdline")
  else
    args=$(ps -p "$1" -o args= 2>/dev/null || true)
  fi
  [[ "$args" == *"$CONF"* ]]
}

print_env() {
  echo "INFLUX_URL=http://127.0.0.1:$HTTP_PORT"
  echo "INFLUX_BUCKET=$DB/autogen"
  echo "INFLUX_TOKEN=$TOKEN"
  echo "INFLUXD_PID=$(cat "$PIDFILE")"
  echo "INFLUXD_RUN_DIR=$RUN_DIR"
}

if [ -f "$STATE" ]; then
  # shellcheck disable=SC1090 # written below: HTTP_PORT, RPC_PORT, AUTH, NO_FLUX, DB
  . "$STATE"
  DB=${INFLUXD_DB:-$DB}
  REUSED=1
else
  AUTH=${INFLUXD_AUTH:-0}
  NO_FLUX=${INFLUXD_NO_FLUX:-0}
  DB=${INFLUXD_DB:-courier}
  REUSED=0
fi
TOKEN=
[ "$AUTH" = 1 ] && TOKEN=admin:secret

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && is_ours "$(cat "$PIDFILE")"; then
  echo "influxd-start: already running in $RUN_DIR (pid $(cat "$PIDFILE"))" >&2
  print_env
  exit 0
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below Linux's ephemeral range (32768-60999), so that no outgoing connection
# holds the port; the start is retried if someone takes it anyway.
pick_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 12000))
    if [ "$p" != "${1:-}" ] && port_free "$p"; then echo "$p"; return 0; fi
  done
  echo "influxd-start: no free port found" >&2
  return 1
}

write_conf() {
  cat >"$CONF" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$RPC_PORT"
[meta]
  dir = "$RUN_DIR/meta"
[data]
  dir = "$RUN_DIR/data"
  wal-dir = "$RUN_DIR/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:$HTTP_PORT"
  auth-enabled = $([ "$AUTH" = 1 ] && echo true || echo false)
  log-enabled = false
  flux-enabled = $([ "$NO_FLUX" = 1 ] && echo false || echo true)
  pprof-enabled = false
[logging]
  suppress-logo = true
CONF
  printf 'HTTP_PORT=%q\nRPC_PORT=%q\nAUTH=%q\nNO_FLUX=%q\nDB=%q\n' "$HTTP_PORT" "$RPC_PORT" "$AUTH" "$NO_FLUX" "$DB" >"$STATE"
}

# launch: start influxd detached (all three descriptors redirected, so that
# $(...) and make do not wait for it) and poll /ping for up to 60 s.
# Returns 2 if the ports were taken, 1 on other failures.
launch() {
  local start pid
  : >>"$LOG"
  start=$(wc -c <"$LOG")
  (
    # influxd reads INFLUXDB_* as overrides of the config (bind addresses too).
    for v in $(compgen -e | grep '^INFLUXDB_' || true); do unset "$v"; done
    exec "$BIN" run -config "$CONF" </dev/null >>"$LOG" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$PIDFILE"
  for _ in $(seq 1 600); do
    # Our own log line first: a /ping alone could be answered by another
    # server that holds the port while ours fails to bind.
    if tail -c +"$((start + 1))" "$LOG" | grep -q 'msg="Listening on HTTP"' &&
      curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$HTTP_PORT/ping"; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      if tail -c +"$((start + 1))" "$LOG" | grep -q "address already in use"; then return 2; fi
      echo "influxd-start: influxd exited during startup; log $LOG:" >&2
      tail -n 40 "$LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "influxd-start: influxd did not answer /ping within 60 s; log $LOG:" >&2
  tail -n 40 "$LOG" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  return 1
}

attempts=1
[ "$REUSED" = 0 ] && [ -z "${INFLUXD_PORT:-}" ] && attempts=3
for attempt in $(seq 1 "$attempts"); do
  if [ "$REUSED" = 0 ]; then
    HTTP_PORT=${INFLUXD_PORT:-$(pick_port)}
    RPC_PORT=${INFLUXD_RPC_PORT:-$(pick_port "$HTTP_PORT")}
    write_conf
  fi
  rc=0
  for p in "$HTTP_PORT" "$RPC_PORT"; do
    port_free "$p" || { rc=2; break; }
  done
  [ "$rc" = 0 ] && { launch || rc=$?; }
  [ "$rc" = 0 ] && break
  if [ "$rc" = 2 ] && [ "$attempt" -lt "$attempts" ]; then continue; fi
  [ "$rc" = 2 ] && echo "influxd-start: port $HTTP_PORT or $RPC_PORT is in use" >&2
  if [ -f "$RUN_DIR/.created-by-influxd-start" ]; then
    if [ -f "$LOG" ]; then
      echo "influxd-start: kept $RUN_DIR for its log; remove it with scripts/influxd-stop.sh $RUN_DIR" >&2
    else
      rm -rf "$RUN_DIR"
    fi
  fi
  exit 1
done

query() { # query INFLUXQL: POST /query, fail on HTTP errors and statement errors
  local out auth=()
  [ -n "$TOKEN" ] && auth=(-u "$TOKEN")
  out=$(curl -sS --fail-with-body "${auth[@]}" -XPOST "http://127.0.0.1:$HTTP_PORT/query" --data-urlencode "q=$1") || {
    echo "influxd-start: $1: $out" >&2
    return 1
  }
  if [[ "$out" == *'"error"'* ]]; then echo "influxd-start: $1: $out" >&2; return 1; fi
}

if [ "$AUTH" = 1 ] && [ ! -f "$RUN_DIR/.admin-created" ]; then
  # The first admin user needs no credentials; everything after it does.
  saved=$TOKEN TOKEN=
  query "CREATE USER admin WITH PASSWORD 'secret' WITH ALL PRIVILEGES"
  TOKEN=$saved
  touch "$RUN_DIR/.admin-created"
fi
query "CREATE DATABASE \"$DB\""

print_env | tee "$RUN_DIR/env"
