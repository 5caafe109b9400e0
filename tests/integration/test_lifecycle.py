"""Process lifecycle tests: --help of each binary, configuration errors,
clean SIGTERM/SIGINT shutdown, and the gateway's behaviour when the store
goes away (503 backend_unavailable, fast) and comes back (recovers without
a gateway restart). Data surviving a restart is test_durability.py's job."""

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
import vxwire  # noqa: E402
from vxharness import expect, expect_error  # noqa: E402

HELP_KEYS = {
    vx.STORE_BIN: ["--listen", "--data-dir", "VECTRON_DATA_DIR"],
    vx.API_BIN: ["--store-url", "--embed-url", "--port", "--bind", "VECTRON_PORT"],
    vx.EMBED_BIN: ["--listen"],
}


def run(argv, timeout=10):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          env=vx.service_env(), stdin=subprocess.DEVNULL)


@vx.no_services
def test_help_lists_keys(_):
    for binary, keys in HELP_KEYS.items():
        if binary == vx.EMBED_BIN and not vx.have_embed():
            print("    (vectron-embed not built: its --help not checked)")
            continue
        r = run([binary, "--help"])
        out = r.stdout.decode("utf-8", "replace")
        assert r.returncode == 0, "%s --help exited %d: %s" % (binary, r.returncode, r.stderr[:300])
        for k in keys:
            assert k in out, "%s --help does not list %s:\n%s" % (os.path.basename(binary), k, out[:1500])


@vx.no_services
def test_bad_configuration_is_refused(_):
    tmp = tempfile.mkdtemp(prefix="vxcfg.")
    try:
        # (A data dir that is a file is test_durability.py's: it needs persistence.)
        for argv, what, *named in (([vx.API_BIN, "--no-such-flag", "1"], "unknown flag"),
                           ([vx.API_BIN, "--port", "99999"], "port out of range"),
                           ([vx.API_BIN, "--port", "abc"], "port not a number"),
                           ([vx.STORE_BIN, "--listen", "ipc://%s/s.sock" % tmp, "--data-dir", tmp, "--bogus"],
                            "store: unknown flag"),
                           ([vx.STORE_BIN, "--listen", "bogus://x", "--data-dir", tmp], "store: bad URL"),
                           ([vx.EMBED_BIN, "--listen", "ipc://%s/e.sock" % tmp, "--ca-file", tmp + "/none.pem"],
                            "embed: a CA file that does not exist", "ca_file"),
                           ([vx.EMBED_BIN, "--listen", "ipc://%s/e.sock" % tmp, "--ca-file", tmp],
                            "embed: a CA file that is a directory", "ca_file"),
                           ([vx.EMBED_BIN, "--listen", "ipc://%s/e.sock" % tmp, "--openai-base-url", "ftp://x"],
                            "embed: a base URL that is not https", "openai_base_url")):
            try:
                r = run(argv, timeout=5)
            except subprocess.TimeoutExpired:
                raise AssertionError("%s: %s kept running for 5 s instead of refusing" % (what, " ".join(argv)))
            err = (r.stderr + r.stdout).decode("utf-8", "replace")
            assert r.returncode != 0, "%s: %s exited 0" % (what, " ".join(argv))
            assert r.returncode > 0, "%s: killed by signal %d" % (what, -r.returncode)
            assert err.strip(), "%s: no message" % what
            for word in named:
                assert word in err, "%s: the message does not name %s: %s" % (what, word, err[-500:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@vx.fresh
def test_sigterm_each_service_cleanly(s):
    expect(s.http.put("/collections/lc", {"dimension": 2}), 201)
    expect(s.http.post("/collections/lc/points", {"points": [{"id": "a", "vector": [1, 2]}]}), 200)
    # An idle keep-alive connection must not hold up shutdown.
    keep = vx.Client(s.port)
    keep.get("/health")
    for attr in ("api", "embed", "store"):
        p = getattr(s, attr)
        if p is None:
            continue
        t0 = time.time()
        problem = p.stop(signal.SIGTERM)
        assert problem is None, problem
        assert time.time() - t0 < 5, "%s took %.1f s to stop" % (attr, time.time() - t0)
        setattr(s, attr, None)
    keep.close()


@vx.fresh
def test_sigint_stops_cleanly(s):
    # Ctrl-C of `make run` reaches every service as SIGINT.
    for attr in ("api", "embed", "store"):
        p = getattr(s, attr)
        if p is None:
            continue
        p.p.send_signal(signal.SIGINT)
        try:
            rc = p.p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill9()
            raise AssertionError("%s ignored SIGINT for 5 s" % attr)
        p.log.close()
        setattr(s, attr, None)
        assert rc == 0, "%s exited %d on SIGINT, want 0" % (attr, rc)


@vx.fresh
def test_store_down_then_back(s):
    expect(s.http.put("/collections/lc_down", {"dimension": 2}), 201)
    s.stop_store()
    for method, path, body in (("GET", "/collections", None), ("GET", "/collections/lc_down", None),
                               ("POST", "/collections/lc_down/points", {"points": [{"id": "x", "vector": [1, 2]}]}),
                               ("POST", "/collections/lc_down/search", {"vector": [1, 2], "k": 1}),
                               ("POST", "/vector", {"id": "x", "vector": [1, 2]}), ("GET", "/vectors", None)):
        t0 = time.time()
        r = s.http.request(method, path, json_body=body)
        took = time.time() - t0
        expect_error(r, 503, "backend_unavailable", what="%s %s with the store down" % (method, path))
        assert took < 2.0, "%s %s took %.2f s with the store down (want < 2 s)" % (method, path, took)
    r = s.http.get("/health")
    assert r.status in (200, 503), r
    assert r.json.get("status") == "degraded", "health with the store down: %r" % r.json
    # Bad input is still 400 without the store (validated at the gateway).
    expect_error(s.http.put("/collections/bad%2Fname", {"dimension": 2}), 400)

    s.start_store()
    deadline = time.time() + 5
    while True:
        r = s.http.get("/collections")
        if r.status == 200 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert r.status == 200, "gateway did not recover within 5 s of the store's restart: %r" % r
    expect(s.http.put("/collections/lc_after", {"dimension": 3}), 201)
    expect(s.http.post("/collections/lc_after/points", {"points": [{"id": "y", "vector": [1, 2, 3]}]}), 200)
    assert expect(s.http.get("/collections/lc_after/points/y"), 200)["vector"] == [1.0, 2.0, 3.0]
    assert expect(s.http.get("/health"), 200)["services"]["store"] not in (None, False, "down", "unavailable")


@vx.fresh
def test_health_with_a_hung_store(s):
    """A hung (not dead) store: /health and /metrics answer within about a
    second (API_HEALTH_TIMEOUT_MS), not after the whole request timeout, so a
    load balancer's health check does not time out; once the store runs
    again it is "ok" at once."""
    expect(s.http.get("/health"), 200)
    os.kill(s.store.p.pid, signal.SIGSTOP)
    try:
        for path in ("/health", "/metrics"):
            t0 = time.time()
            r = s.http.get(path)
            took = time.time() - t0
            assert r.status == 200, r
            assert took < 3.0, "%s took %.1f s with the store hung" % (path, took)
        assert expect(s.http.get("/health"), 200)["services"]["store"] == "unavailable"
    finally:
        os.kill(s.store.p.pid, signal.SIGCONT)
    deadline = time.time() + 5
    while expect(s.http.get("/health"), 200)["services"]["store"] != "ok":
        assert time.time() < deadline, "the store is not ok 5 s after SIGCONT"
        time.sleep(0.1)


@vx.fresh
def test_store_killed_mid_traffic(s):
    # kill -9 of the store while a client writes: every request in flight or
    # after ends within 5 s with 200 (before the kill), 503 or 504 (JSON),
    # never hangs, and the gateway itself survives and recovers.
    expect(s.http.put("/collections/lc_kill", {"dimension": 2}), 201)
    results = []
    stop = threading.Event()

    def writer():
        c = vx.Client(s.port, timeout=8)
        i = 0
        try:
            while not stop.is_set():
                t0 = time.time()
                try:
                    r = c.post("/collections/lc_kill/points", {"points": [{"id": "w%d" % i, "vector": [1, 2]}]})
                    results.append((r.status, time.time() - t0, r))
                except OSError as e:
                    results.append((None, time.time() - t0, e))
                    c.close()
                i += 1
        finally:
            c.close()

    th = threading.Thread(target=writer)
    th.start()
    time.sleep(0.3)
    s.store.kill9()
    s.store = None
    time.sleep(3)
    stop.set()
    th.join(20)
    assert not th.is_alive(), "a request hung for more than 20 s after the store was killed"
    slow = [(st, round(t, 1)) for st, t, _ in results if t >= 5]
    assert not slow, "requests took >= 5 s after kill -9 of the store (need a deadline -> 504): %r" % slow[:5]
    bad = [(st, r) for st, _, r in results if st not in (200, 503, 504)]
    assert not bad, "unexpected answers: %r" % bad[:5]
    for st, _, r in results:
        if st != 200:
            expect_error(r, st)
    assert any(st in (503, 504) for st, _, _ in results), "no request saw the store down"
    s.start_store()
    deadline = time.time() + 5
    while s.http.get("/collections").status != 200 and time.time() < deadline:
        time.sleep(0.1)
    assert s.http.get("/collections").status == 200, "gateway did not recover after kill -9 of the store"


@vx.no_services
def test_store_serves_a_list_of_listen_urls(_):
    """--listen with a tcp and an ipc URL (what make run does): the gateway
    works over the ipc one, and a program speaking nng over tcp sees the same
    data."""
    port = vx.free_port()
    tcp = "tcp://127.0.0.1:%d" % port
    s = vx.Services(embed=False)
    s.extra_store_args = ["--listen", "%s,%s" % (s.store_url, tcp)]
    try:
        s.start()
        expect(s.http.put("/collections/both", {"dimension": 2}), 201)
        c = vxwire.ReqClient(tcp)
        try:
            rep = c.call(11, {})  # collection list, over tcp
        finally:
            c.close()
        assert rep[3] == 0, "collection list over tcp failed: %r" % rep  # [version, type, id, status, body]
        names = [c["name"] for c in rep[4]["collections"]]
        assert names == ["both"], "the tcp listener does not see the collection made over ipc: %r" % rep
    finally:
        problems = s.stop(quiet=True)
        s.cleanup()
    assert not problems, problems


@vx.fresh
def test_store_stops_while_a_client_does_not_read(s):
    """A program speaking nng that sends requests with large replies and never
    reads them must not keep the store from stopping: its replies wait for a
    pipe that makes no progress (a once-seen hang in shutdown). The store
    exits within its close grace period plus a poll."""
    dim, n = 1024, 300  # replies of ~1.2 MB: far more than the socket buffers hold
    expect(s.http.put("/collections/unread", {"dimension": dim, "metric": "dot"}), 201)
    vec = [((d * 5) % 11) / 4.0 for d in range(dim)]
    pts = [{"id": "u%d" % i, "vector": vec} for i in range(n)]
    expect(s.http.post("/collections/unread/points", {"points": pts}), 200)
    c = vxwire.ReqClient(s.store_url)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        body = {"collection": "unread", "vector": struct.pack("<%df" % dim, *vec), "k": n,
                "with_vector": True}
        for _ in range(4):  # the client reads none of them
            c.send_raw(vxwire.pack([1, 30, 5, 0, body]))
        time.sleep(1.0)
        t0 = time.time()
        problem = s.store.stop(signal.SIGTERM, timeout=15)
        took = time.time() - t0
        s.store = None
    finally:
        c.close()
    assert problem is None, problem
    assert took < 10, "the store took %.1f s to stop" % took


def test_make_install_runs_what_the_units_name(_):
    """`make install` (staged in DESTDIR, PREFIX /opt/vectron) puts every file
    the installed systemd units name where they name it, and the three
    services started with the units' ExecStart lines (bus and port added)
    serve: health ok, text embedded by the installed model."""
    tmp = tempfile.mkdtemp(prefix="vxinstall.")
    procs = []
    try:
        dest = os.path.join(tmp, "root")
        r = subprocess.run(["make", "--no-print-directory", "install", "DESTDIR=" + dest,
                            "PREFIX=/opt/vectron"], cwd=vx.REPO_ROOT, capture_output=True, timeout=600)
        assert r.returncode == 0, (r.stdout + r.stderr).decode("utf-8", "replace")[-2000:]
        units = os.path.join(dest, "opt/vectron/lib/systemd/system")
        argv = {}
        for svc in ("store", "embed", "api"):
            with open(os.path.join(units, "vectron-%s.service" % svc)) as f:
                line = [l for l in f if l.startswith("ExecStart=")][0]
            words = line[len("ExecStart="):].split()
            # absolute paths live under DESTDIR; the store's data dir is ours
            argv[svc] = [dest + w if w.startswith(("/opt/", "/etc/")) else w for w in words]
            assert argv[svc][0].startswith(dest + "/opt/vectron/bin/"), words
            for w in argv[svc]:
                if w.startswith(dest):
                    assert os.path.exists(w), "%s names %s, which make install did not install" % (svc, w)
        argv["store"] = [a if a != "/var/lib/vectron" else os.path.join(tmp, "data") for a in argv["store"]]
        store_url, embed_url = "ipc://%s/s.sock" % tmp, "ipc://%s/e.sock" % tmp
        port = vx.free_port()
        argv["store"] += ["--listen", store_url, "--events-url", "ipc://%s/ev.sock" % tmp]
        argv["embed"] += ["--listen", embed_url]
        argv["api"] += ["--store-url", store_url, "--embed-url", embed_url, "--port", str(port)]
        for svc in ("store", "embed", "api"):
            procs.append(vx.Proc(svc, argv[svc], os.path.join(tmp, svc + ".log")))
        deadline = time.time() + 20
        while True:
            try:
                h = vx.Client(port, timeout=2).get("/health")
                if h.status == 200 and h.json["status"] == "ok":
                    break
            except OSError:
                pass
            assert time.time() < deadline, "installed services not healthy: %s" % open(
                os.path.join(tmp, "api.log")).read()[-1500:]
            time.sleep(0.1)
        e = expect(vx.Client(port).post("/embed", {"text": "installed"}), 200)
        assert e["dimensions"] == 512 and len(e["embedding"]) == 512, e
    finally:
        problems = [p.stop() for p in reversed(procs)]
        shutil.rmtree(tmp, ignore_errors=True)
    assert not any(problems), problems


def _poll_values(path):
    with open(path, "rb") as f:
        data = f.read()
    return list(struct.unpack("<%di" % (len(data) // 4), data[:len(data) // 4 * 4]))


@vx.no_services
def test_cpu_poll_hint_held_only_while_serving(_):
    """--cpu-poll-ms: the gateway writes 0 to the CPU latency QoS device when a
    request starts and -1 (no constraint) once the linger after the last one
    has passed. A regular file stands in for /dev/cpu_dma_latency and records
    every value the kernel would have seen."""
    tmp = tempfile.mkdtemp(prefix="vxpoll.")
    dev = os.path.join(tmp, "cpu_dma_latency")
    open(dev, "wb").close()
    store_dev = os.path.join(tmp, "store_cpu_dma_latency")
    open(store_dev, "wb").close()
    s = vx.Services(embed=False, extra_api_args=["--cpu-poll-device", dev, "--cpu-poll-ms", "150"],
                    extra_store_args=["--cpu-poll-device", store_dev, "--cpu-poll-ms", "150"])
    try:
        s.start()  # start() itself sends GET /health
        expect(s.http.get("/collections"), 200)  # a bus request: the store holds its own hint
        time.sleep(0.6)
        sv = _poll_values(store_dev)
        assert sv and sv == [0, -1] * (len(sv) // 2), "store: hold/release sequence %r" % sv
        time.sleep(0.6)
        v = _poll_values(dev)
        assert v and v[-1] == -1 and len(v) % 2 == 0, "after the start-up request and the linger: %r" % v
        assert v == [0, -1] * (len(v) // 2), "holds and releases must alternate: %r" % v
        n = len(v)
        expect(s.http.get("/health"), 200)
        v = _poll_values(dev)
        assert v[n:] == [0], "right after a request the hint must be held: %r" % v[n:]
        for _ in range(5):  # back to back within the linger: no extra writes
            expect(s.http.get("/health"), 200)
        assert _poll_values(dev)[n:] == [0], "requests within the linger rewrote it: %r" % _poll_values(dev)[n:]
        time.sleep(0.6)
        assert _poll_values(dev)[n:] == [0, -1], "not released after the linger: %r" % _poll_values(dev)[n:]
    finally:
        problems = s.stop(quiet=True)
        s.cleanup()
    assert not problems, problems
    # --cpu-poll-ms 0: never touched; an unwritable device: still serves
    for args in (["--cpu-poll-device", dev, "--cpu-poll-ms", "0"],
                 ["--cpu-poll-device", os.path.join(tmp, "missing", "dev")]):
        open(dev, "wb").close()
        s = vx.Services(embed=False, extra_api_args=args, extra_store_args=args)
        try:
            s.start()
            expect(s.http.get("/health"), 200)
            assert _poll_values(dev) == [], "%s: device written: %r" % (args, _poll_values(dev))
            for name in ("api", "store"):
                log = s.log_tail(name, 50)
                assert "cpu poll off" in log, "%s: %s start-up line does not say cpu poll off:\n%s" % (args, name, log)
        finally:
            problems = s.stop(quiet=True)
            s.cleanup()
        assert not problems, problems
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    vx.main(globals())
