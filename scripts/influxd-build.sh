#!/usr/bin/env bash
# Builds (once, cached) the InfluxDB 1.8.10 server used by the tests and prints
# the path of the binary. The build uses `go install pkg@version`, so InfluxDB's
# 2020-era dependency graph never enters this project's go.mod.
#
# Cache: $INFLUXD_BIN_DIR, default $HOME/.cache/courier-traffic/influxd-v1.8.10.
# Cold build: about 2.5 minutes on 2 cores; afterwards this script returns at once.
set -euo pipefail
INFLUXD_VERSION=${INFLUXD_VERSION:-v1.8.10}
BIN_DIR=${INFLUXD_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/courier-traffic/influxd-$INFLUXD_VERSION}
if [ ! -x "$BIN_DIR/influxd" ]; then
  mkdir -p "$BIN_DIR"
  # Test binaries of several packages may ask for the server at once: one
  # builds, the others wait for it instead of compiling the same thing.
  exec 9>"$BIN_DIR/.build.lock"
  if command -v flock >/dev/null; then flock 9; fi
fi
if [ ! -x "$BIN_DIR/influxd" ]; then
  echo "building influxd $INFLUXD_VERSION into $BIN_DIR (once; about 2-3 minutes)" >&2
  tmp=$(mktemp -d "$BIN_DIR/.build.XXXXXX")
  GOBIN="$tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go install -trimpath -ldflags "-s -w -X main.version=${INFLUXD_VERSION#v}" \
    "github.com/influxdata/influxdb/cmd/influxd@$INFLUXD_VERSION"
  mv "$tmp/influxd" "$BIN_DIR/influxd"
  rmdir "$tmp"
fi
echo "$BIN_DIR/influxd"
