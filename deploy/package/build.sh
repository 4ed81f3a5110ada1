#!/usr/bin/env bash
# Builds the Debian package with nfpm.
#   bash deploy/package/build.sh [OUTDIR] [BINARY]
# BINARY is a static fedgate from deploy/build.sh (CI reuses the one it
# built); without it, this script builds one.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-dist}
bin=${2:-}
if [ -z "$bin" ]; then
  bin=dist/fedgate
  bash deploy/build.sh "$bin" >/dev/null
fi
# A Debian version: the tag without its v, or 0.0.0~git<date>.<commit>.
describe=$(git describe --tags --exact-match 2>/dev/null || true)
if [ -n "$describe" ]; then
  version=${describe#v}
else
  version="0.0.0~git$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S 2>/dev/null || date +%Y%m%d%H%M%S).$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
fi
mkdir -p "$out" dist/package
cp "$bin" dist/package/fedgate
FEDGATE_DEB_VERSION=${FEDGATE_DEB_VERSION:-$version} GOARCH=${GOARCH:-$(go env GOARCH)} \
  nfpm package --config deploy/package/nfpm.yaml --packager deb --target "$out/"
