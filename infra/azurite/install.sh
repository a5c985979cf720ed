#!/usr/bin/env bash
# Installs the pinned Azurite (npm ci here) unless it is installed, for the bench scripts; the same rule
# as AzuriteProcess.EnsureInstalledAsync: under the same lock file (.install.lock, flock), and an install
# counts as finished only when node_modules/.azkv-installed holds package-lock.json's SHA-256, written
# after npm ci succeeded (Azurite's files appear while npm is still unpacking).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1 | tr a-f A-F)
installed() { [[ "$(cat "$dir/node_modules/.azkv-installed" 2>/dev/null)" == "$hash" ]]; }
installed && exit 0
exec 9>"$dir/.install.lock"
flock 9
installed && exit 0
echo "installing the pinned Azurite (npm ci in $dir)..." >&2
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { echo "npm ci in $dir failed" >&2; exit 1; }
mkdir -p "$dir/node_modules"
printf '%s' "$hash" >"$dir/node_modules/.azkv-installed"
