#!/usr/bin/env bash
# Builds the static fedgate binary that the image and the Debian package
# ship: no cgo, no build paths, the version from git, and the module and VCS
# build info kept (fedgate version reads it).
#   bash deploy/build.sh [OUT]        (default dist/fedgate)
# GOOS/GOARCH may be set for another platform.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/fedgate}
version=${FEDGATE_VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
mkdir -p "$(dirname "$out")"
CGO_ENABLED=0 go build -trimpath -buildvcs=auto \
  -ldflags "-s -w -X main.version=$version" \
  -o "$out" ./cmd/fedgate
echo "$out ($version)"
