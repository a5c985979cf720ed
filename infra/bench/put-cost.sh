#!/usr/bin/env bash
# Cost per put in the AzKv node (issue 18 §1), for a machine too busy for throughput figures: one node,
# 1 partition, Azurite on disk, `azkv bench http --workload put` (64 connections, 256 B values, 10,000
# keys) after a warm-up run. Prints, over the measured run: puts (records appended, from /metrics),
# node CPU µs per put (/proc/PID/stat utime+stime), bytes allocated per put (dotnet-counters,
# System.Runtime dotnet.gc.heap.total_allocated summed over a window of the run plus ~5 s, so a little
# idle allocation is included: compare runs with similar put counts), records per Append Block and the
# load average before and after, Azurite's CPU per put and per append, the generator's CPU per put, the
# sum of the three (the machine's CPU per put, and the put rate its cores could carry at that cost), the
# machine's idle share, and the writer loop's time per batch in each phase (idle, gather, decide,
# commit, apply: azkv_writer_phase_duration_milliseconds). All CPU figures are read from /proc over one
# window inside the measured run, so they share their denominator (records appended in that window).
# With ETCD=1 it then does the same for etcd (on disk, next to the stopped AzKv node): etcd's and the
# generator's CPU per put (puts from etcd_mvcc_put_total), so the two stores' cost per put can be set
# side by side from one script.
# usage: infra/bench/put-cost.sh DIR_OF_AZKV_DLL [measured_seconds=10] [warmup_seconds=12] [generator_dll]
# Needs dotnet-counters (dotnet tool install -g dotnet-counters); installs Azurite itself (infra/azurite/install.sh).
# The generator is DIR_OF_AZKV_DLL/azkv.dll unless a 4th argument names another build (use one generator for an A/B).
set -euo pipefail
dir=$1; secs=${2:-10}; warm=${3:-12}
repo=$(cd "$(dirname "$0")/../.." && pwd)
gen=${4:-$dir/azkv.dll}
azurite_main="$repo/infra/azurite/node_modules/azurite/dist/src/blob/main.js"
bash "$repo/infra/azurite/install.sh"
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
until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$blob_port/"; do kill -0 $apid || { cat "$work/azurite.log" >&2; exit 1; }; sleep 0.3; done
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
# The generator's own process: a background function runs in a subshell whose child is dotnet.
leaf() { local p=$1 c; while c=$(pgrep -P "$p" | head -1) && [[ -n "$c" ]]; do p=$c; done; echo "$p"; }
idle() { awk '/^cpu /{print $5+$6, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
phases="idle gather decide commit apply"
phase_sums() { local p; for p in $phases; do m "azkv_writer_phase_duration_milliseconds_sum{phase=\"$p\"}"; done | tr '\n' ' '; }
"${DOTNET_COUNTERS:-$HOME/.dotnet/tools/dotnet-counters}" collect -p $npid --counters System.Runtime --format csv -o "$work/counters.csv" --refresh-interval 1 --duration 00:00:$(printf %02d $((secs+5))) >"$work/dc.log" 2>&1 &
dcp=$!
# The generator runs 2 s longer on each side of the window, so the window sees only steady load.
b --seconds $((secs+4)) >"$work/bench.txt" 2>&1 &
gjob=$!
sleep 2
gpid=$(leaf "$gjob")
r0=$(m azkv_wal_records_per_append_sum); a0=$(m azkv_wal_records_per_append_count); c0=$(cpu); z0=$(cpu $apid); g0=$(cpu $gpid); ph0=$(phase_sums)
read -r i0 t0 < <(idle); s0=$(date +%s.%N)
sleep "$secs"
c1=$(cpu); z1=$(cpu $apid); g1=$(cpu $gpid); r1=$(m azkv_wal_records_per_append_sum); a1=$(m azkv_wal_records_per_append_count); ph1=$(phase_sums)
read -r i1 t1 < <(idle); s1=$(date +%s.%N)
wait $gjob || true
wait $dcp || true
load1=$(cut -d' ' -f1-3 /proc/loadavg)
tck=$(getconf CLK_TCK)
alloc=$(awk -F, 'NR>1 && $0 ~ /total_allocated/ {s+=$NF} END {printf "%.0f", s}' "$work/counters.csv")
puts=$((r1-r0))
python3 - <<PY
tck=$tck; puts=max($puts,1); alloc=$alloc; cores=$(nproc); seconds=$s1-$s0
node=($c1-$c0)/tck*1e6/puts; azurite=($z1-$z0)/tck*1e6/puts; generator=($g1-$g0)/tck*1e6/puts
total=node+azurite+generator
print(f"puts={$puts} in {seconds:.1f} s = {$puts/seconds:.0f}/s, node_cpu_us_per_put={node:.1f} alloc_B_per_put={alloc/puts:.0f} rec_per_append={($r1-$r0)/max($a1-$a0,1):.1f} load_before='$load0' load_after='$load1'")
print(f"azurite_cpu_us_per_put={azurite:.1f} azurite_cpu_ms_per_append={($z1-$z0)/tck*1e3/max($a1-$a0,1):.2f} generator_cpu_us_per_put={generator:.1f} machine_idle_pct={($i1-$i0)*100/max($t1-$t0,1):.0f} of {cores} cores")
print(f"azkv_total_cpu_us_per_put={total:.1f} (node+Azurite+generator): {cores} cores carry at most {cores*1e6/total:.0f} puts/s at this cost")
# The writer loop's cycle per batch (azkv.writer.phase.duration): where the time between two appends goes.
appends=max($a1-$a0,1)
before=[float(x) for x in "$ph0".split()]; after=[float(x) for x in "$ph1".split()]
print("per batch, ms: " + " ".join(f"{p}={(a-b)/appends:.3f}" for p, b, a in zip("$phases".split(), before, after)))
PY
grep -i "ops/s\|put" "$work/bench.txt" | head -3

if [[ "${ETCD:-0}" == 1 ]]; then
  # The same window for etcd, with the AzKv node and Azurite stopped first so they take no CPU.
  kill "$npid" "$apid" 2>/dev/null; wait "$npid" "$apid" 2>/dev/null || true; npid=""; apid=""
  eports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
  read etcd_client etcd_peer <<<"$eports"
  nice etcd --name bench --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "bench=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
    --logger zap --log-level warn >"$work/etcd.log" 2>&1 &
  epid=$!
  trap 'kill "$epid" 2>/dev/null; cleanup' EXIT
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$etcd_client/health" 2>/dev/null; do kill -0 $epid; sleep 0.3; done
  eurl="http://127.0.0.1:$etcd_client"
  e() { DOTNET_TieredPGO=0 nice dotnet "$gen" bench http --url "$eurl" --target etcd --workload put --connections 64 --value-bytes 256 --keys 10000 --warmup-seconds 0 "$@"; }
  eputs() { curl -s "$eurl/metrics" | awk '$1=="etcd_mvcc_put_total" {print $2}'; }
  e --seconds "$warm" >/dev/null 2>&1
  e --seconds $((secs+4)) >"$work/etcd-bench.txt" 2>&1 &
  gjob=$!
  sleep 2
  gpid=$(leaf "$gjob")
  p0=$(eputs); c0=$(cpu $epid); g0=$(cpu $gpid); read -r i0 t0 < <(idle); s0=$(date +%s.%N)
  sleep "$secs"
  p1=$(eputs); c1=$(cpu $epid); g1=$(cpu $gpid); read -r i1 t1 < <(idle); s1=$(date +%s.%N)
  wait $gjob || true
  python3 - <<PY
tck=$tck; puts=max(int(float("$p1"))-int(float("$p0")),1); cores=$(nproc); seconds=$s1-$s0
etcd=($c1-$c0)/tck*1e6/puts; generator=($g1-$g0)/tck*1e6/puts
print(f"etcd: puts={puts} in {seconds:.1f} s = {puts/seconds:.0f}/s, etcd_cpu_us_per_put={etcd:.1f} generator_cpu_us_per_put={generator:.1f} machine_idle_pct={($i1-$i0)*100/max($t1-$t0,1):.0f}")
print(f"etcd_total_cpu_us_per_put={etcd+generator:.1f} (etcd+generator): {cores} cores carry at most {cores*1e6/(etcd+generator):.0f} puts/s at this cost")
PY
fi
echo "work=$work"
