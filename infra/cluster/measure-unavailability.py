#!/usr/bin/env python3
"""Measures per-key unavailability of an AzKv cluster while one event happens under a write load.

Usage: measure-unavailability.py BASE_URL DURATION_S EVENT_AT_S "SHELL COMMAND"

8 writer threads PUT keys load/<writer>/<0..49> through BASE_URL (a front end) for DURATION_S
seconds; at EVENT_AT_S the shell command runs (e.g. "kill -9 <pid of an owner>", "kill -TERM
<pid>", or a command starting another node). Afterwards every acknowledged key is read back and
compared with its last acknowledged value. Prints the number of lost or wrong keys and, per key,
the window between its first and last failed write (p50 and max).

The figures in docs/cluster.md came from: Azurite on 127.0.0.1, three nodes started with
`dotnet src/AzKv.Server/bin/Debug/net10.0/AzKv.Server.dll --AzKv:Urls=http://127.0.0.1:1810<i>
--AzKv:NodeId=n<i> --AzKv:Storage:ConnectionString=<Azurite> --AzKv:Partition:LeaseDurationSeconds=15`
and a front end with `--AzKv:Roles=frontend`, then for example
`measure-unavailability.py http://127.0.0.1:18109 45 5 "kill -9 $(cat n3.pid)"`.
Loopback only; bounded by DURATION_S.
"""
import sys, time, threading, urllib.request, json, collections
base = sys.argv[1]; duration = float(sys.argv[2]); kill_at = float(sys.argv[3]); kill_cmd = sys.argv[4]
acked = {}; lock = threading.Lock(); fails = collections.defaultdict(list); start = time.time()
import subprocess
def worker(w):
    i = 0
    while time.time() - start < duration:
        key = f"load/{w}/{i % 50}"; val = f"{w}-{i}"
        req = urllib.request.Request(f"{base}/v1/kv/{key}", data=val.encode(), method="PUT")
        t = time.time()
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                with lock: acked[key] = val
        except Exception as e:
            with lock: fails[key].append(t - start)
        i += 1
threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
[t.start() for t in threads]
time.sleep(kill_at); killed = time.time() - start; subprocess.run(kill_cmd, shell=True)
[t.join() for t in threads]
# verify every acknowledged write is readable with its last value
bad = 0
for k, v in acked.items():
    try:
        with urllib.request.urlopen(f"{base}/v1/kv/{k}", timeout=10) as r:
            if r.read().decode() != v: bad += 1
    except Exception: bad += 1
windows = sorted(max(ts) - min(ts) for ts in fails.values() if ts)
print(f"killed at {killed:.1f}s; acked keys {len(acked)}; failed attempts {sum(len(v) for v in fails.values())}; lost/wrong {bad}")
if windows: print(f"per-key unavailability window (first..last failure) p50 {windows[len(windows)//2]:.1f}s max {windows[-1]:.1f}s over {len(windows)} keys")
