#!/usr/bin/env bash
# AzKv next to etcd on this machine (issue 9). Starts, on loopback only and on free ports:
#   - one etcd member (Debian's etcd-server, installed if missing), data dir on disk, default
#     durability (fsync of its WAL per batch);
#   - Azurite (the repository's pinned copy) with ON-DISK persistence (--location);
#   - one AzKv node (Release build) on that Azurite;
# then drives both with the same generator (`azkv bench http`: same keys, values, connections)
# for the put, get and mixed workloads, measures the HTTP ceiling (GET /healthz of the AzKv
# node), writes bench-results.json and stops everything it started.
#
# Usage: infra/bench/compare-etcd.sh [--out FILE] [--seconds N] [--warmup N] [--connections N]
#          [--value-bytes N] [--keys N] [--partitions N] [--jit-warmup N] [--server-dll PATH] [--keep]
#          [--workloads put,get,mixed,watch] [--watchers N] [--watch-rate N] [--watch-seconds N]
# Bounded: about (3 workloads x 2 targets + 1) x (seconds + warmup) plus pre-loads and start-up,
# plus the watch workload (`azkv bench watch`, 2 x (connect + watch-seconds + warm-up + settle)).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$PWD/bench-results.json"
seconds=10
warmup=2
connections=64
value_bytes=256
keys=10000
# One node owns every partition, each with its own WAL (append blob) and writer loop; a
# cluster's default is 32. On Azurite every Append Block costs the emulator's single thread
# ~1.6 ms of CPU whatever its size, so 64 connections spread over 32 WALs (2 writes per append)
# measure Azurite; one WAL lets group commit put ~50 writes in each append. See README.md here.
partitions=1
# The node to run: the azkv.dll just built, or another build (--server-dll) to compare builds.
server_dll=""
# Load before anything is measured: the AzKv node's JIT tiers its hot paths up in the first
# seconds (longer on a busy machine); etcd gets the same load.
jit_warmup=15
keep=0
workloads="put,get,mixed,watch"
# Watch fan-out (issue 18): W watch streams, each its own connection, and a writer at a fixed rate.
watchers=10000
watch_rate=20
watch_seconds=30

while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --value-bytes) value_bytes=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --jit-warmup) jit_warmup=$2; shift 2 ;;
    --server-dll) server_dll=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --workloads) workloads=$2; shift 2 ;;
    --watchers) watchers=$2; shift 2 ;;
    --watch-rate) watch_rate=$2; shift 2 ;;
    --watch-seconds) watch_seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "compare-etcd.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[compare-etcd] %s\n' "$*" >&2; }
has_workload() { [[ ",$workloads," == *",$1,"* ]]; }

# Every watch stream is a socket in the generator and one in the server: raise this shell's
# descriptor limit (inherited by everything started below) as far as the hard limit allows.
if has_workload watch; then
  want=$((watchers + 4096))
  hard=$(ulimit -Hn)
  if [[ $hard != unlimited && $hard -lt $want ]]; then
    log "the descriptor limit (hard $hard) is below $want; watch uses what there is"
    want=$hard
  fi
  ulimit -n "$want"
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# --- etcd ------------------------------------------------------------------------------------
if ! command -v etcd >/dev/null 2>&1; then
  log "installing etcd-server from Debian"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >/dev/null \
    || { as_root apt-get update >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >/dev/null; }
fi
etcd_version=$(etcd --version | sed -n 's/^etcd Version: //p')

# --- Azurite and the AzKv build ----------------------------------------------------------------
bash "$repo/infra/azurite/install.sh"
azurite_main="$repo/infra/azurite/node_modules/azurite/dist/src/blob/main.js"

log "building AzKv (Release)"
for attempt in 1 2 3; do
  # Other builds may hold files of the tree for a moment: retry.
  if timeout 600 dotnet build "$repo/src/AzKv.Cli" -c Release -nologo -v quiet >"${TMPDIR:-/tmp}/azkv-bench-build.log" 2>&1; then
    break
  fi
  if [[ $attempt -eq 3 ]]; then
    cat "${TMPDIR:-/tmp}/azkv-bench-build.log" >&2
    exit 1
  fi
  sleep 5
done
azkv_dll="$repo/src/AzKv.Cli/bin/Release/net10.0/azkv.dll"
# The generator is a new process per run: without tiered PGO's instrumented tier its code
# settles within the warm-up instead of spending CPU the servers need. Same for both targets.
# Each run is bounded: its own watchdog closes connections a stuck server holds; `timeout` is the
# backstop (pre-load, warm-up, measure, plus slack). --foreground keeps Ctrl-C reaching it.
bench_limit() { echo $((jit_warmup + warmup + seconds + 180)); }
bench() { DOTNET_TieredPGO=0 timeout --foreground -k 10 "$(bench_limit)" dotnet "$azkv_dll" bench http "$@"; }
# The 1/5/15-minute load averages: other work on the machine moves every number.
load() { cut -d' ' -f1-3 /proc/loadavg; }

# --- processes, stopped on exit ----------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/azkv-bench.XXXXXX")
node_pid=""
azurite_pid=""
etcd_pid=""

stop() {
  local pid=$1 name=$2 grace=$3
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "$name did not stop in ${grace} s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  # The node first: it hands its partitions over while storage is still up.
  stop "$node_pid" "the AzKv node" 20
  stop "$etcd_pid" "etcd" 10
  stop "$azurite_pid" "Azurite" 10
  if [[ $keep -eq 1 || $status -ne 0 ]]; then
    log "logs and data kept in $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Four free loopback ports, held open together so they are distinct.
read -r etcd_client etcd_peer blob_port azkv_port < <(node -e '
  const net = require("net"); const servers = [];
  let left = 4; const ports = [];
  for (let i = 0; i < 4; i++) {
    const s = net.createServer(); servers.push(s);
    s.listen(0, "127.0.0.1", () => { ports.push(s.address().port); if (--left === 0) { console.log(ports.join(" ")); servers.forEach(x => x.close()); } });
  }')

log "work dir $work; etcd :$etcd_client, Azurite :$blob_port, AzKv :$azkv_port"

mkdir -p "$work/etcd" "$work/azurite"
etcd --name bench \
  --data-dir "$work/etcd/data" \
  --listen-client-urls "http://127.0.0.1:$etcd_client" \
  --advertise-client-urls "http://127.0.0.1:$etcd_client" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "bench=http://127.0.0.1:$etcd_peer" \
  --initial-cluster-state new \
  --logger zap --log-level warn \
  >"$work/etcd.log" 2>&1 &
etcd_pid=$!

node "$azurite_main" \
  --blobHost 127.0.0.1 --blobPort "$blob_port" \
  --location "$work/azurite" \
  --disableTelemetry --disableProductStyleUrl --silent \
  >"$work/azurite.log" 2>&1 &
azurite_pid=$!

wait_for() {
  local what=$1 url=$2 pid=$3 logfile=$4 deadline=$((SECONDS + 90))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$what exited before it was ready; the end of $logfile:"
      tail -n 20 "$logfile" >&2
      return 1
    fi
    if (( SECONDS > deadline )); then
      log "$what did not become ready at $url; see $work"
      return 1
    fi
    sleep 0.3
  done
}

# Azurite answers 400 on its root; any HTTP answer means it listens.
deadline=$((SECONDS + 60))
until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$blob_port/"; do
  (( SECONDS <= deadline )) || { log "Azurite did not start; see $work/azurite.log"; exit 1; }
  kill -0 "$azurite_pid" 2>/dev/null || { log "Azurite exited:"; tail -n 20 "$work/azurite.log" >&2; exit 1; }
  sleep 0.3
done

devkey="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
connection="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$devkey;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;"
dotnet "${server_dll:-$azkv_dll}" serve \
  "--AzKv:Urls=http://127.0.0.1:$azkv_port" \
  "--AzKv:NodeId=bench-1" \
  "--AzKv:Storage:ConnectionString=$connection" \
  "--AzKv:Storage:Container=azkv-bench" \
  "--AzKv:Cluster:PartitionCount=$partitions" \
  "--Logging:LogLevel:Default=Warning" \
  >"$work/azkv.log" 2>&1 &
node_pid=$!

wait_for etcd "http://127.0.0.1:$etcd_client/health" "$etcd_pid" "$work/etcd.log"
wait_for "the AzKv node" "http://127.0.0.1:$azkv_port/readyz" "$node_pid" "$work/azkv.log"
log "etcd $etcd_version and AzKv ($partitions partitions on Azurite, on disk) are ready; $(nproc) cores"

common=(--connections "$connections" --value-bytes "$value_bytes" --keys "$keys")
azkv_url="http://127.0.0.1:$azkv_port"
etcd_url="http://127.0.0.1:$etcd_client"
if (( jit_warmup > 0 )); then
  log "warming both servers up: ${jit_warmup} s of mixed load each (not recorded)"
  bench --target azkv --url "$azkv_url" --workload mixed "${common[@]}" --seconds "$jit_warmup" --warmup-seconds 0 >/dev/null 2>&1
  bench --target etcd --url "$etcd_url" --workload mixed "${common[@]}" --seconds "$jit_warmup" --warmup-seconds 0 >/dev/null 2>&1
fi

common+=(--seconds "$seconds" --warmup-seconds "$warmup")
# Runs one measured workload; notes the load average before and after it next to its result.
measure() {
  local name=$1; shift
  local before; before=$(load)
  log "$name: load average before $before"
  bench "$@" "${common[@]}" --json "$work/$name.json"
  printf '%s\n%s\n' "$before" "$(load)" >"$work/$name.load"
  log "$name: load average after $(load)"
}
for workload in put get mixed; do
  has_workload "$workload" || continue
  measure "azkv-$workload" --target azkv --url "$azkv_url" --workload "$workload"
  measure "etcd-$workload" --target etcd --url "$etcd_url" --workload "$workload"
done
if has_workload put || has_workload get || has_workload mixed; then
  measure ceiling --target azkv --url "$azkv_url" --workload ceiling
fi

# Watch fan-out: the same generator against both (SSE for AzKv, the v3 gateway's watch stream for
# etcd), the server's RSS and CPU read from /proc by the generator (--server-pid).
watch_limit=$((watch_seconds + 2 + 15 + 240))
measure_watch() {
  local name=$1 pid=$2; shift 2
  local before; before=$(load)
  log "$name: load average before $before"
  # A run that did not deliver everything exits 1: that is a result, recorded, not a failure of the script.
  DOTNET_TieredPGO=0 timeout --foreground -k 10 "$watch_limit" dotnet "$azkv_dll" bench watch "$@" \
    --watchers "$watchers" --rate "$watch_rate" --seconds "$watch_seconds" --server-pid "$pid" --json "$work/$name.json" || true
  [[ -s "$work/$name.json" ]] || { log "$name wrote no result"; exit 1; }
  printf '%s\n%s\n' "$before" "$(load)" >"$work/$name.load"
  log "$name: load average after $(load)"
}
if has_workload watch; then
  measure_watch azkv-watch "$node_pid" --target azkv --url "$azkv_url"
  measure_watch etcd-watch "$etcd_pid" --target etcd --url "$etcd_url"
fi

# Every acknowledged put is in the WAL on Azurite's disk: the node's blobs are there.
wal_bytes=$(du -sb "$work/azurite" | cut -f1)

node - "$work" "$out" "$etcd_version" "$partitions" "$wal_bytes" "${server_dll:-$azkv_dll}" <<'EOF'
const fs = require("fs");
const [work, out, etcdVersion, partitions, azuriteBytes, serverDll] = process.argv.slice(2);
const run = name => ({ ...JSON.parse(fs.readFileSync(`${work}/${name}.json`, "utf8")).runs[0], name });
const loadOf = name => {
  const [before, after] = fs.readFileSync(`${work}/${name}.load`, "utf8").trim().split("\n");
  return { before: before.split(" ").map(Number), after: after.split(" ").map(Number) };
};
const pick = r => ({
  opsPerSec: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, p999Ms: r.p999Ms, maxMs: r.maxMs,
  errors: r.errors, connectionsOpened: r.connectionsOpened, loadAverage: loadOf(r.name),
  ...(r.recordsPerAppend !== undefined ? { recordsPerAppend: r.recordsPerAppend, appends: r.appends } : {}),
});
const has = name => fs.existsSync(`${work}/${name}.json`);
const ceiling = has("ceiling") ? run("ceiling") : null;
const workloads = ["put", "get", "mixed"].filter(name => has(`azkv-${name}`)).map(name => {
  const azkv = run(`azkv-${name}`), etcd = run(`etcd-${name}`);
  return {
    name,
    azkv: pick(azkv),
    etcd: pick(etcd),
    ratio: etcd.opsPerSec > 0 ? Math.round(azkv.opsPerSec / etcd.opsPerSec * 100) / 100 : null,
    p99NotWorse: azkv.p99Ms <= etcd.p99Ms,
  };
});
if (has("azkv-watch")) {
  const pickWatch = name => {
    const r = run(name);
    return {
      watchers: r.watchers, delivered: r.delivered, p50Ms: r.p50Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, rssMiB: r.rssMiB ?? null,
      p999Ms: r.p999Ms, putP50Ms: r.putP50Ms, putP99Ms: r.putP99Ms, rssIdleMiB: r.rssIdleMiB ?? null, cpuPercent: r.cpuPercent ?? null, generatorCpuPercent: r.generatorCpuPercent,
      watchersRequested: r.watchersRequested, writes: r.writes, writeErrors: r.writeErrors, received: r.received, expected: r.expected,
      reconnects: r.reconnects, connectSeconds: r.connectSeconds, rate: r.rate, seconds: r.seconds, loadAverage: loadOf(name),
    };
  };
  const azkv = pickWatch("azkv-watch"), etcd = pickWatch("etcd-watch");
  workloads.push({ name: "watch", azkv, etcd, p99NotWorse: azkv.delivered >= etcd.delivered && azkv.p99Ms <= etcd.p99Ms });
}
const put = has("azkv-put") ? run("azkv-put") : {}, get = has("azkv-get") ? run("azkv-get") : {};
const result = {
  workloads,
  httpCeiling: ceiling ? { opsPerSec: ceiling.opsPerSec, p50Ms: ceiling.p50Ms, p99Ms: ceiling.p99Ms, p999Ms: ceiling.p999Ms, loadAverage: loadOf("ceiling") } : null,
  recordsPerAppend: put.recordsPerAppend ?? null,
  getShareOfCeiling: ceiling && ceiling.opsPerSec > 0 && get.opsPerSec !== undefined ? Math.round(get.opsPerSec / ceiling.opsPerSec * 100) / 100 : null,
  cores: require("os").cpus().length,
  connections: put.connections ?? null,
  valueBytes: put.valueBytes ?? null,
  keys: put.keys ?? null,
  secondsPerWorkload: put.seconds ?? null,
  warmupSeconds: put.warmupSeconds ?? null,
  azkv: { partitions: Number(partitions), storage: "Azurite 3.35.0, --location on disk", azuriteDiskBytes: Number(azuriteBytes), server: serverDll },
  etcd: { version: etcdVersion, storage: "single member, --data-dir on disk, default fsync" },
  note: "generator, AzKv, Azurite and etcd share the machine's cores; etcd is driven through its v3 JSON gateway, gets are serializable",
  finishedAt: new Date().toISOString(),
};
fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
EOF
log "wrote $out"
cat "$out"
