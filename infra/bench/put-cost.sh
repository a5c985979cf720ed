#!/usr/bin/env bash
# Cost per put in the AzKv node (issue 18 §1), for a machine too busy for throughput figures: one node,
# 1 partition, Azurite on disk, `azkv bench http --workload put` (64 connections, 256 B values, 10,000
# keys) after a warm-up run. Prints, over the measured run: puts (records appended, from /metrics),
# node CPU µs per put (/proc/PID/stat utime+stime), bytes allocated per put (dotnet-counters,
# System.Runtime dotnet.gc.heap.total_allocated summed over a window of the run plus ~5 s, so a little
# idle allocation is included: compare runs with similar put counts), records per Append Block and the
# load average before and after, Azurite's CPU per put and per append, the machine's idle share, and the writer loop's time per batch in each phase (idle, gather, decide,
# commit, apply: azkv_writer_phase_duration_milliseconds).
# usage: infra/bench/put-cost.sh DIR_OF_AZKV_DLL [measured_seconds=10] [warmup_seconds=12] [generator_dll]
# Needs dotnet-counters (dotnet tool install -g dotnet-counters) and infra/azurite installed (npm ci).
# The generator is DIR_OF_AZKV_DLL/azkv.dll unless a 4th argument names another build (use one generator for an A/B).
set -euo pipefail
dir=$1; secs=${2:-10}; warm=${3:-12}
repo=$(cd "$(dirname "$0")/../.." && pwd)
gen=${4:-$dir/azkv.dll}
azurite_main="$repo/infra/azurite/node_modules/azurite/dist/src/blob/main.js"
work=$(mktemp -d "${TMPDIR:-/tmp}/azkv-put-cost.XXXXXX")
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read blob_port node_port <<<"$ports"
cleanup() { [[ -n "${npid:-}" ]] && kill "$npid" 2>/dev/null; [[ -n "${apid:-}" ]] && kill "$apid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
nice node "$azurite_main" --blobHost 127.0.0.1 --blobPort "$blob_port" --location "$work/azurite" --disableTelemetry --disableProductStyleUrl --silent >"$work/azurite.log" 2>&1 &
apid=$!
until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$blob_port/"; do sleep 0.3; done
devkey="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$devkey;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;"
nice dotnet "$dir/azkv.dll" serve "--AzKv:Urls=http://127.0.0.1:$node_port" --AzKv:NodeId=bench-1 \
  "--AzKv:Storage:ConnectionString=$conn" --AzKv:Storage:Container=azkv-bench --AzKv:Cluster:PartitionCount=1 \
  --Logging:LogLevel:Default=Warning >"$work/azkv.log" 2>&1 &
npid=$!
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$node_port/readyz" 2>/dev/null; do kill -0 $npid; sleep 0.3; done
url="http://127.0.0.1:$node_port"
b() { DOTNET_TieredPGO=0 nice dotnet "$gen" bench http --url "$url" --target azkv --workload put --connections 64 --value-bytes 256 --keys 10000 --warmup-seconds 0 "$@"; }
b --seconds "$warm" >/dev/null 2>&1
m() { curl -s "$url/metrics" | awk -v pat="$1" 'index($0,pat)==1 {s+=$NF} END {printf "%.0f\n", s}'; }
cpu() { awk '{print $14+$15}' /proc/${1:-$npid}/stat; }
idle() { awk '/^cpu /{print $5+$6, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
phases="idle gather decide commit apply"
phase_sums() { local p; for p in $phases; do m "azkv_writer_phase_duration_milliseconds_sum{phase=\"$p\"}"; done | tr '\n' ' '; }
r0=$(m azkv_wal_records_per_append_sum); a0=$(m azkv_wal_records_per_append_count); c0=$(cpu); z0=$(cpu $apid); ph0=$(phase_sums)
"${DOTNET_COUNTERS:-$HOME/.dotnet/tools/dotnet-counters}" collect -p $npid --counters System.Runtime --format csv -o "$work/counters.csv" --refresh-interval 1 --duration 00:00:$(printf %02d $((secs+5))) >"$work/dc.log" 2>&1 &
dcp=$!
sleep 1
read -r i0 t0 < <(idle)
b --seconds "$secs" >"$work/bench.txt" 2>&1
read -r i1 t1 < <(idle)
wait $dcp || true
c1=$(cpu); z1=$(cpu $apid); r1=$(m azkv_wal_records_per_append_sum); a1=$(m azkv_wal_records_per_append_count); ph1=$(phase_sums)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
tck=$(getconf CLK_TCK)
alloc=$(awk -F, 'NR>1 && $0 ~ /total_allocated/ {s+=$NF} END {printf "%.0f", s}' "$work/counters.csv")
puts=$((r1-r0))
python3 - <<PY
puts=$puts; cpu=($c1-$c0)/$tck; alloc=$alloc
print(f"puts={puts} node_cpu_us_per_put={cpu*1e6/max(puts,1):.1f} alloc_B_per_put={alloc/max(puts,1):.0f} rec_per_append={($r1-$r0)/max($a1-$a0,1):.1f} load_before='$load0' load_after='$load1'")
cores=$(nproc)
print(f"azurite_cpu_us_per_put={($z1-$z0)/$tck*1e6/max(puts,1):.1f} azurite_cpu_ms_per_append={($z1-$z0)/$tck*1e3/max($a1-$a0,1):.2f} machine_idle_pct={($i1-$i0)*100/max($t1-$t0,1):.0f} of {cores} cores while the generator ran")
# The writer loop's cycle per batch (azkv.writer.phase.duration): where the time between two appends goes.
appends=max($a1-$a0,1)
before=[float(x) for x in "$ph0".split()]; after=[float(x) for x in "$ph1".split()]
print("per batch, ms: " + " ".join(f"{p}={(a-b)/appends:.3f}" for p, b, a in zip("$phases".split(), before, after)))
PY
grep -i "ops/s\|put" "$work/bench.txt" | head -3
echo "work=$work"
