#!/bin/sh
# Installs the npm test peers (oidc-provider, jose) from the committed lock file.
# Idempotent: skips the install when node_modules already matches package-lock.json.
set -eu
cd "$(dirname "$0")"
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.fedgate-lock-stamp 2>/dev/null; then
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
cp package-lock.json node_modules/.fedgate-lock-stamp
