#!/usr/bin/env python3
"""Measures whether a flood from one principal slows another principal's reads (issue 16).

Usage: measure-flood.py URL TOKEN_A TOKEN_B [SECONDS] [FLOODERS] [B_RATE]

Principal B (TOKEN_B, a writer) stores flood/key, then GETs it at B_RATE per second (default 40, under
its own limit) for SECONDS (default 20) with nobody else calling: the baseline. Then FLOODERS processes
(default 4) each keep one connection busy as principal A (TOKEN_A), alternating GET and PUT of
flood/a-<n> as fast as the node answers (far above A's limit: most answers are 429), while B measures
again. Prints B's p50/p99/max in ms for both phases, A's served / 429 counts and request rate, and
the 1-minute load average at the end of each phase. Loopback only; bounded by about 2 x SECONDS + 10 s.

Run infra/security/measure-flood.sh to start a local node (`azkv up`) with a low per-principal limit,
make the two tokens and run this.
"""
import http.client, multiprocessing as mp, os, sys, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
token_a, token_b = sys.argv[2], sys.argv[3]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
flooders = int(sys.argv[5]) if len(sys.argv) > 5 else 4
b_rate = float(sys.argv[6]) if len(sys.argv) > 6 else 40.0


def connect():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def request(conn, method, path, token, body=None):
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = "text/plain"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def measure_b():
    conn = connect()
    latencies, refused, start = [], 0, time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        due = start + i / b_rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        t0 = time.perf_counter()
        status = request(conn, "GET", "/v1/kv/flood/key", token_b)
        latencies.append((time.perf_counter() - t0) * 1000)
        refused += status != 200
        i += 1
    return latencies, refused


def flood(n, stop, served, limited):
    conn = connect()
    i = 0
    while not stop.is_set():
        if i % 2:
            status = request(conn, "PUT", f"/v1/kv/flood/a-{n}", token_a, body="x")
        else:
            status = request(conn, "GET", "/v1/kv/flood/key", token_a)
        with (limited if status == 429 else served).get_lock():
            (limited if status == 429 else served).value += 1
        i += 1


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-p * len(s) // 100) - 1))]


def report(name, latencies, refused):
    print(f"B {name}: {len(latencies)} GETs, {refused} not 200, p50 {pct(latencies, 50):.2f} ms, "
          f"p99 {pct(latencies, 99):.2f} ms, max {max(latencies):.2f} ms, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    conn = connect()
    assert request(conn, "PUT", "/v1/kv/flood/key", token_b, body="value") in (200, 201)
    print(f"node {sys.argv[1]}, {seconds:.0f} s per phase, B at {b_rate:.0f} GET/s, {flooders} flood connections as A")
    report("alone", *measure_b())

    stop, served, limited = mp.Event(), mp.Value("q", 0), mp.Value("q", 0)
    workers = [mp.Process(target=flood, args=(n, stop, served, limited)) for n in range(flooders)]
    for w in workers:
        w.start()
    time.sleep(1)
    before = served.value + limited.value
    t0 = time.monotonic()
    latencies, refused = measure_b()
    elapsed = time.monotonic() - t0
    during = served.value + limited.value - before
    report("under A's flood", latencies, refused)
    stop.set()
    for w in workers:
        w.join(10)
    print(f"A: {served.value} served, {limited.value} refused with 429, {during / elapsed:.0f} requests/s during B's measurement")
