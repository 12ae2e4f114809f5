#!/usr/bin/env bash
# packaging/build.sh OUTDIR [ARCH...] builds the courier-traffic .deb and .rpm of each ARCH
# (amd64, arm64; default both) into OUTDIR and writes OUTDIR/SHA256SUMS. `make package` runs it
# with build/dist; the package test (internal/pkgtest) runs it with a temporary directory.
#
#   FORMATS="deb rpm"   which packages (default both)
#   MAINTAINER=...      the Maintainer field (default: the one of packaging/changelog)
#   SOURCE_DATE_EPOCH   the build date the binaries report (default: the commit time, which
#                       the Go toolchain records; so a commit always gives the same date)
#
# The version is the top entry of packaging/changelog ("0.1.0-1": upstream 0.1.0, release 1).
# The plugin is a cgo c-shared object: amd64 is built with the host's gcc, arm64 with Debian's
# cross compiler aarch64-linux-gnu-gcc (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross). Both link
# against Debian 12's glibc 2.36 headers but need no symbol newer than GLIBC_MIN below (the
# package test checks the ELF symbol versions), so they load on Debian 12, Ubuntu 22.04,
# RHEL 9 and newer. The CLI is static (CGO_ENABLED=0) and runs on any Linux of its arch.
set -euo pipefail

# nfpm, pinned: a Go module run with `go run`, so no other tool is needed.
NFPM="${NFPM:-github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0}"
# The oldest glibc the plugin supports: pthread_* moved into libc.so.6 as GLIBC_2.34, and a cgo
# object built on any glibc >= 2.34 references them there.
GLIBC_MIN=2.34
GO="${GO:-go}"
FORMATS="${FORMATS:-deb rpm}"

cd "$(dirname "$0")/.."
root="$PWD"
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [amd64|arm64]..." >&2; exit 2; }
out="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)

top="$(head -n 1 packaging/changelog)"
full="$(sed -E -n 's/^courier-traffic \(([0-9][0-9A-Za-z.+~]*-[0-9]+)\) .*/\1/p' <<<"$top")"
[ -n "$full" ] || { echo "packaging/changelog: no 'courier-traffic (VERSION-RELEASE)' in: $top" >&2; exit 1; }
version="${full%-*}"
release="${full##*-}"
maintainer="${MAINTAINER:-$(sed -n -E 's/^ -- (.+>)  .*/\1/p' packaging/changelog | head -n 1)}"

# -buildvcs=auto: the commit and its time go into the binaries (courier-traffic version, the
# plugin's start line) whatever GOFLAGS says, and nothing breaks outside a git checkout.
ldflags="-s -w -X github.com/courier-traffic/courier-traffic/buildinfo.Version=$full"
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  ldflags+=" -X github.com/courier-traffic/courier-traffic/buildinfo.Date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/courier-traffic-pkg.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Files that do not depend on the architecture, generated once. The man page and the
# completion come from the CLI's own flag definitions (courier-traffic man, completion bash).
common="$work/common"
mkdir -p "$common/etc" "$common/share"
CGO_ENABLED=0 "$GO" build -buildvcs=auto -trimpath -ldflags="$ldflags" -o "$work/host-cli" ./cmd/courier-traffic
"$work/host-cli" man | gzip -9n >"$common/courier-traffic.1.gz"
"$work/host-cli" completion bash >"$common/courier-traffic.bash"
gzip -9n <packaging/changelog >"$common/changelog.Debian.gz"
install -m 0644 packaging/copyright "$common/copyright"
install -m 0644 LICENSE "$common/LICENSE"
install -m 0644 packaging/lintian-overrides "$common/lintian-overrides"
# The configuration: the repository's, with the plugin path of the package. The source install
# and the Docker image use /usr/local/lib; the packages must not (Debian policy), so the path is
# replaced and its presence checked.
src_so=/usr/local/lib/courier-traffic/out_courier_influxdb.so
pkg_so=/usr/lib/courier-traffic/out_courier_influxdb.so
for f in fluent-bit.conf fluent-bit.yaml plugins.conf parsers.conf; do
  sed "s#$src_so#$pkg_so#g" "conf/$f" >"$common/etc/$f"
done
for f in plugins.conf fluent-bit.yaml; do
  grep -q "^ *\(Path \|- \)$pkg_so\$" "$common/etc/$f" || { echo "conf/$f: no plugin path $src_so to replace" >&2; exit 1; }
done
for d in flux influxdb influxql sql grafana chronograf; do
  [ -d "conf/$d" ] && cp -r "conf/$d" "$common/share/$d"
done
find "$common/share" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +

for arch in "${arches[@]}"; do
  case "$arch" in
    amd64) triplet=x86_64-linux-gnu ;;
    arm64) triplet=aarch64-linux-gnu ;;
    *) echo "unsupported arch $arch (amd64, arm64)" >&2; exit 2 ;;
  esac
  cc=gcc
  [ "$("$GO" env GOHOSTARCH)" = "$arch" ] || cc="$triplet-gcc"
  command -v "$cc" >/dev/null || { echo "$cc not found: apt-get install gcc-$triplet libc6-dev-${arch}-cross" >&2; exit 1; }
  stage="$work/$arch"
  cp -r "$common" "$stage"
  # Hardened like Debian's default build flags: fortified C (the cgo glue), bindnow (with the
  # relro Go already sets); the compiler's .comment section removed (lintian).
  CGO_ENABLED=1 GOOS=linux GOARCH="$arch" CC="$cc" CGO_CFLAGS="-O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong" \
    "$GO" build -buildvcs=auto -buildmode=c-shared -trimpath -ldflags="$ldflags -extldflags=-Wl,-z,now" \
    -o "$stage/out_courier_influxdb.so" ./plugin
  rm -f "$stage/out_courier_influxdb.h"
  strip="strip"
  [ "$cc" = gcc ] || strip="$triplet-strip"
  "$strip" --remove-section=.comment "$stage/out_courier_influxdb.so"
  CGO_ENABLED=0 GOOS=linux GOARCH="$arch" "$GO" build -buildvcs=auto -trimpath -ldflags="$ldflags" -o "$stage/courier-traffic" ./cmd/courier-traffic
  sed -e "s#@ARCH@#$arch#g" -e "s#@VERSION@#$version#g" -e "s#@RELEASE@#$release#g" -e "s#@GLIBC@#$GLIBC_MIN#g" \
    -e "s#@MAINTAINER@#$maintainer#g" -e "s#@STAGE@#$stage#g" packaging/nfpm.yaml >"$stage/nfpm.yaml"
  for fmt in $FORMATS; do
    "$GO" run "$NFPM" package --config "$stage/nfpm.yaml" --packager "$fmt" --target "$out/" >&2
  done
done

cd "$out"
ls *.deb *.rpm 2>/dev/null | LC_ALL=C sort | xargs sha256sum >SHA256SUMS
cat SHA256SUMS
