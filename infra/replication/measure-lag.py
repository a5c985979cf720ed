#!/usr/bin/env python3
"""Measures cross-region replication lag under a steady write load.

Usage: measure-lag.py WRITE_URL READ_URL [RATE_PER_S] [DURATION_S] [WRITERS]

One thread PUTs keys lag/<i> to WRITE_URL (a node of region A) at RATE_PER_S (default 50) for
DURATION_S seconds (default 30), from WRITERS threads (default: one per 25 writes/s asked, so one
writer's PUT latency does not cap the rate; each thread keeps its share of the schedule). Another follows READ_URL (a node of region B) with
`GET /v1/watch?prefix=lag/` as a server-sent event stream. For every write, the lag is the time
from region A acknowledging the PUT (durable in A's WAL) to region B announcing the change on its
watch stream (durable in B's WAL: B applies through its writer before publishing). Prints count,
missing, p50, p90, p99 and max in milliseconds, and region B's own apply-lag histogram average
from /metrics (`azkv_replication_apply_lag_milliseconds`, now minus the record's HLC at apply).

Start the regions with `dotnet run --project src/AzKv.Cli -c Release -- up --regions 2 --nodes 1`
(Event Hubs, the default transport; `--transport blobtail` for the blob tail) and pass the two node
URLs it prints. It prints the transport region B reports for region A (`/v1/cluster`). Loopback only; bounded by DURATION_S + 15 s.
"""
import json, sys, threading, time, urllib.request

write_url, read_url = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 50.0
duration = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
writers = int(sys.argv[5]) if len(sys.argv) > 5 else max(1, int(-(-rate // 25)))
acked, seen, lock = {}, {}, threading.Lock()
stop = threading.Event()
run_id = str(int(time.time()))

def follow():
    req = urllib.request.Request(f"{read_url}/v1/watch?prefix=lag/{run_id}/", headers={"Accept": "text/event-stream"})
    with urllib.request.urlopen(req, timeout=duration + 30) as stream:
        ready.set()
        for raw in stream:
            if stop.is_set():
                return
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                key = json.loads(line[6:])["key"]
                now = time.monotonic()
                with lock:
                    seen.setdefault(key, now)

ready = threading.Event()
follower = threading.Thread(target=follow, daemon=True)
follower.start()
ready.wait(10)
time.sleep(0.5)

start = time.monotonic()

def write(w):
    i = w
    while True:
        due = start + i / rate
        if due - start >= duration or time.monotonic() - start >= duration:
            return  # past the window: a loaded machine writes fewer, it never runs over
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        key = f"lag/{run_id}/{i}"
        req = urllib.request.Request(f"{write_url}/v1/kv/{key}", data=b"x" * 256, method="PUT", headers={"Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
                with lock:
                    acked[key] = time.monotonic()
        except Exception as e:  # noqa: BLE001 - reported as not acknowledged
            print(f"PUT {key} failed: {e}", file=sys.stderr)
        i += writers

threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - start

deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    with lock:
        if all(k in seen for k in acked):
            break
    time.sleep(0.1)
stop.set()

with lock:
    lags = sorted((seen[k] - t) * 1000 for k, t in acked.items() if k in seen)
    missing = sum(1 for k in acked if k not in seen)
def pct(p):
    return lags[min(len(lags) - 1, int(round(p / 100 * (len(lags) - 1))))] if lags else float("nan")
print(f"writes acknowledged {len(acked)} in {elapsed:.1f}s ({len(acked) / elapsed:.1f}/s achieved, {rate:g}/s asked, {writers} writer(s)); seen in the other region {len(lags)}; missing {missing}")
print(f"replication lag ms (ack in A -> change on B's watch): p50 {pct(50):.1f} p90 {pct(90):.1f} p99 {pct(99):.1f} max {lags[-1] if lags else float('nan'):.1f}")
cluster = json.loads(urllib.request.urlopen(f"{read_url}/v1/cluster", timeout=10).read().decode())
print("region B reads region A over: " + ", ".join(f"{r['region']}={r.get('transport', 'blobtail')}" for r in cluster.get("replication", [])))
metrics = urllib.request.urlopen(f"{read_url}/metrics", timeout=10).read().decode()
sums = [float(l.split()[-1]) for l in metrics.splitlines() if l.startswith("azkv_replication_apply_lag_milliseconds_sum")]
counts = [float(l.split()[-1]) for l in metrics.splitlines() if l.startswith("azkv_replication_apply_lag_milliseconds_count")]
if counts and sum(counts) > 0:
    print(f"region B apply lag (server metric, now - record HLC): mean {sum(sums) / sum(counts):.1f} ms over {int(sum(counts))} records")
sys.exit(1 if missing else 0)
