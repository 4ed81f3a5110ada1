#!/usr/bin/env bash
# Builds fedgate's image with podman from deploy/Containerfile.
#   bash deploy/image/build.sh [TAG] [BINARY]
# TAG defaults to localhost/fedgate:latest. BINARY is a static fedgate
# already built by deploy/build.sh (CI reuses the one it built); without
# it, this script builds one.
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-localhost/fedgate:latest}
bin=${2:-}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
if [ -z "$bin" ]; then
  bin="$ctx/fedgate"
  bash deploy/build.sh "$bin" >/dev/null
elif ! go version -m "$bin" 2>/dev/null | grep -q 'CGO_ENABLED=0'; then
  echo "$bin is not a static build (CGO_ENABLED=0): use deploy/build.sh" >&2
  exit 1
fi
[ -s "$ca" ] || { echo "no CA bundle at $ca (Debian: ca-certificates; or set CA_BUNDLE)" >&2; exit 1; }

mkdir -p "$ctx/etc/ssl/certs" "$ctx/etc/fedgate" "$ctx/var/lib/fedgate"
[ "$bin" = "$ctx/fedgate" ] || cp "$bin" "$ctx/fedgate"
cp "$ca" "$ctx/etc/ssl/certs/ca-certificates.crt"
cp deploy/image/fedgate.yaml "$ctx/etc/fedgate/fedgate.yaml"
# The runtime user: numeric, so Kubernetes' runAsNonRoot can check it.
printf 'root:x:0:0:root:/:/sbin/nologin\nfedgate:x:65532:65532:fedgate:/var/lib/fedgate:/sbin/nologin\n' >"$ctx/etc/passwd"
printf 'root:x:0:\nfedgate:x:65532:\n' >"$ctx/etc/group"

podman build --quiet -t "$tag" -f deploy/Containerfile "$ctx"
