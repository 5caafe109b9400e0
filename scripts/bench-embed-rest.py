#!/usr/bin/env python3
"""bench-embed-rest.py — latency of POST /embed through the REST gateway for
a fresh text (a cache miss: the model runs) and a repeated text (a cache
hit), over ONE keep-alive HTTP connection, one request at a time; the same
two cases straight over the bus to vectron-embed (EMBED, no gateway); and the
embed service's HEALTH cache counters before/after each phase, which prove
that the "hit" phase hit and the "fresh" phase missed. Run by
scripts/bench-embed.sh, which starts the services.

    bench-embed-rest.py --port P --embed-url ipc://... --api-log FILE [--n N]

Three views of one request, printed as p50 / p99 / mean in microseconds:
  client   the HTTP round trip seen here (Python http.client: request
           formatting, loopback TCP, response parsing included)
  gateway  the api-gateway's own time for the request, from its log line
           "POST /embed 200 <ms> id=<X-Request-Id>" (routing, auth, JSON
           parse, the bus call, JSON output of 512 floats)
  bus      the api-gateway's time for the EMBED call alone, from its debug
           line "upstream: embed embed rc=0 <us> us" (needs --log-level
           debug): nng round trip + vectron-embed's work
and "direct": EMBED sent over the bus from this script (Python msgpack +
the Unix socket included). With --api-pid / --embed-pid it also prints the
CPU time each service spent per request in each phase (the sum over the
process's threads of /proc/PID/task/*/schedstat, ns resolution): unlike the
wall-clock views, other load on a shared machine does not inflate it.
stdlib only.
"""
import argparse
import http.client
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import vxwire  # noqa: E402

MSG_HEALTH, MSG_EMBED = 1, 50
WORDS = ["river", "market", "guitar", "password", "garden", "engine", "library", "window", "planet", "coffee",
         "winter", "doctor", "bridge", "camera", "forest", "letter"]


def fresh_text(i):
    # 10-16 tokens, never repeated within a run (i is unique; the run tag too)
    return "Fresh text %d %s: the %s near the %s was seen by the %s." % (
        i, RUN_TAG, WORDS[i % 16], WORDS[(i // 16) % 16], WORDS[(i // 256) % 16])


REPEATED = "A man is playing a guitar on the corner of the street."
RUN_TAG = "r%d" % (time.time_ns() % 1000000)


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * p))]


def row(name, xs):
    if not xs:
        return "%-34s (no data)" % name
    return "%-34s n=%4d  p50 %8.1f  p99 %8.1f  mean %8.1f us" % (
        name, len(xs), pct(xs, 0.5), pct(xs, 0.99), statistics.fmean(xs))


def health(url):
    c = vxwire.ReqClient(url)
    try:
        rep = c.call(MSG_HEALTH, {})
    finally:
        c.close()
    body = rep[4]
    stats = body.get("stats", body) if isinstance(body, dict) else {}
    hits = misses = None

    def walk(o):
        nonlocal hits, misses
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "cache_hits":
                    hits = v
                elif k == "cache_misses":
                    misses = v
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(stats if stats else body)
    return hits, misses


def cpu_ns(pid):
    """CPU time of every thread of pid, in ns (0 when pid is None)."""
    if not pid:
        return 0
    total = 0
    base = "/proc/%d/task" % pid
    for t in os.listdir(base):
        try:
            with open("%s/%s/schedstat" % (base, t)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total


def http_phase(conn, texts):
    rtts, ids = [], []
    for t in texts:
        body = json.dumps({"text": t}).encode()
        s = time.perf_counter_ns()
        conn.request("POST", "/embed", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        e = time.perf_counter_ns()
        if r.status != 200:
            sys.exit("POST /embed: %d %s" % (r.status, data[:200]))
        if len(json.loads(data)["embedding"]) != 512:
            sys.exit("POST /embed: not 512 floats")
        rtts.append((e - s) / 1000.0)
        ids.append(r.getheader("X-Request-Id"))
    return rtts, ids


def direct_phase(url, texts):
    c = vxwire.ReqClient(url)
    out = []
    try:
        for t in texts:
            s = time.perf_counter_ns()
            rep = c.call(MSG_EMBED, {"model": "use-lite", "texts": [t]}, deadline_ms=10000)
            e = time.perf_counter_ns()
            if rep[3] != 0:
                sys.exit("EMBED over the bus: status %r %r" % (rep[3], rep[4]))
            out.append((e - s) / 1000.0)
    finally:
        c.close()
    return out


LINE = re.compile(r"POST /embed 200 ([0-9.]+) ms id=(\S+)")
UP = re.compile(r"upstream: embed embed rc=0 (\d+) us")


def gateway_times(log_path, ids):
    """{request id: (gateway us, bus us or None)} from the api log."""
    want, res, last_up = set(ids), {}, None
    with open(log_path, errors="replace") as f:
        for line in f:
            m = UP.search(line)
            if m:
                last_up = float(m.group(1))
                continue
            m = LINE.search(line)
            if m and m.group(2) in want:
                res[m.group(2)] = (float(m.group(1)) * 1000.0, last_up)
                last_up = None
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--embed-url", required=True)
    ap.add_argument("--api-log", required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--api-pid", type=int)
    ap.add_argument("--embed-pid", type=int)
    a = ap.parse_args()
    n = a.n
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
    http_phase(conn, [REPEATED] * 5 + [fresh_text(10 ** 6 + i) for i in range(5)])  # warm-up
    cpu = {}

    def cpu_mark():
        return cpu_ns(a.api_pid), cpu_ns(a.embed_pid)

    def cpu_note(name, c0):
        c1 = cpu_mark()
        cpu[name] = ((c1[0] - c0[0]) / n / 1000.0, (c1[1] - c0[1]) / n / 1000.0)
    h0 = health(a.embed_url)
    c0 = cpu_mark()
    fr, fr_ids = http_phase(conn, [fresh_text(i) for i in range(n)])
    cpu_note("fresh", c0)
    h1 = health(a.embed_url)
    c0 = cpu_mark()
    hr, hr_ids = http_phase(conn, [REPEATED] * n)
    cpu_note("hit", c0)
    h2 = health(a.embed_url)
    dfr = direct_phase(a.embed_url, [fresh_text(2 * 10 ** 6 + i) for i in range(n)])
    dhr = direct_phase(a.embed_url, [REPEATED] * n)
    h3 = health(a.embed_url)
    conn.close()
    time.sleep(0.3)  # let the gateway flush its log lines
    gt = gateway_times(a.api_log, fr_ids + hr_ids)

    def split(ids):
        g = [gt[i][0] for i in ids if i in gt]
        b = [gt[i][1] for i in ids if i in gt and gt[i][1] is not None]
        return g, b
    fg, fb = split(fr_ids)
    hg, hb = split(hr_ids)

    def delta(x, y):
        return None if x[0] is None or y[0] is None else (y[0] - x[0], y[1] - x[1])
    print("embed HEALTH cache (hits, misses) delta: fresh phase %s, hit phase %s, direct phases %s"
          % (delta(h0, h1), delta(h1, h2), delta(h2, h3)))
    print(row("fresh  client HTTP round trip", fr))
    print(row("fresh  gateway (api log)", fg))
    print(row("fresh  bus call (api debug log)", fb))
    print(row("fresh  direct EMBED over the bus", dfr))
    print(row("hit    client HTTP round trip", hr))
    print(row("hit    gateway (api log)", hg))
    print(row("hit    bus call (api debug log)", hb))
    print(row("hit    direct EMBED over the bus", dhr))
    if a.api_pid or a.embed_pid:
        for k in ("fresh", "hit"):
            print("%-6s CPU per request: vectron-api %.1f us, vectron-embed %.1f us (all threads)"
                  % (k, cpu[k][0], cpu[k][1]))
    if hg and hb:
        print(row("hit    gateway minus bus call", [g - b for g, b in
                                                    ((gt[i][0], gt[i][1]) for i in hr_ids if i in gt and gt[i][1])]))


if __name__ == "__main__":
    main()
