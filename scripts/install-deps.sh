#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine, and nothing twice:
#   - Debian packages: gcc (cgo, the C test host), libmsgpack-dev (the C test host
#     builds chunks with msgpack-c exactly like Fluent Bit), nodejs + npm (the real
#     Flux parser, @influxdata/flux, runs under node), docker-compose (validates
#     docker/compose.yaml), curl, time (/usr/bin/time measures the CLI's peak RSS),
#     systemd-journal-remote (turns the tests' journal export streams into real journal
#     files for journalctl; journalctl itself comes with systemd);
#   - for the packages (make package; make test checks the amd64 ones): lintian, rpm and
#     rpm2cpio (rpm -qlp, the .rpm's objects), groff-base (the man page's roff), and the arm64
#     cross compiler for the cgo plugin: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross;
#   - the InfluxDB 1.8.10 test server, built once into the cache (scripts/influxd-build.sh).
# Run as root (CI is root); otherwise it prints the apt-get command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
command -v gcc >/dev/null || need+=(gcc)
have_pkg libmsgpack-dev || need+=(libmsgpack-dev)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/time ] || need+=(time)
command -v lintian >/dev/null || need+=(lintian)
command -v rpm >/dev/null || need+=(rpm)
command -v rpm2cpio >/dev/null || need+=(rpm2cpio)
command -v groff >/dev/null || need+=(groff-base)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/crt1.o ] || need+=(libc6-dev-arm64-cross)
[ -x /lib/systemd/systemd-journal-remote ] || [ -x /usr/lib/systemd/systemd-journal-remote ] || need+=(systemd-journal-remote)
command -v journalctl >/dev/null || need+=(systemd)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing Debian packages: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing Debian packages; run: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

scripts/influxd-build.sh >/dev/null
