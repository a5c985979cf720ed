#!/usr/bin/env bash
# A flood from one principal does not slow another's reads (issue 16): starts one local node
# (`azkv up`, auth on, Release build) with a per-principal limit of RATE requests/s (BURST bucket),
# makes two writer tokens (subjects "flooder" and "reader-b") with `azkv token create`, runs
# measure-flood.py (B's GET latency alone, then under A's flood) and stops the node.
#
# Usage: infra/security/measure-flood.sh [SECONDS] [FLOODERS] [RATE] [BURST] [B_RATE]   (defaults 20 4 200 200 40)
# B_RATE (B's GETs per second) must stay under RATE, or B is limited by its own bucket.
# Loopback only; bounded by the build, the start-up (at most 120 s) and about 2 x SECONDS + 10 s.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-20}
flooders=${2:-4}
rate=${3:-200}
burst=${4:-200}
b_rate=${5:-40}
data=$(mktemp -d)

dotnet build "$repo/src/AzKv.Cli" -c Release -v q -nologo >/dev/null
cli=(dotnet "$repo/src/AzKv.Cli/bin/Release/net10.0/azkv.dll")

AzKv__Auth__RequestsPerSecond=$rate AzKv__Auth__Burst=$burst "${cli[@]}" up --data "$data" >"$data/up.out" 2>"$data/up.err" &
up=$!
trap 'kill -TERM $up 2>/dev/null || true; wait $up 2>/dev/null || true; rm -rf "$data"' EXIT

for _ in $(seq 1 240); do
  grep -qx ready "$data/up.out" && break
  kill -0 $up 2>/dev/null || { cat "$data/up.err" >&2; exit 1; }
  sleep 0.5
done
grep -qx ready "$data/up.out" || { echo "azkv up did not get ready" >&2; exit 1; }

url=$(awk '$1 == "node" { print $4; exit }' "$data/up.out")
key="$data/auth/signing.key"
token_a=$("${cli[@]}" token create --role writer --subject flooder --key-file "$key")
token_b=$("${cli[@]}" token create --role writer --subject reader-b --key-file "$key")
echo "limit $rate requests/s per principal, burst $burst; $(nproc) cores"
python3 "$repo/infra/security/measure-flood.py" "$url" "$token_a" "$token_b" "$seconds" "$flooders" "$b_rate"
