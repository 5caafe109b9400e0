"""Hostile-input tests (SPEC §3: errors are always JSON, no request crashes
a service or leaves partial writes): bad content types, malformed and
pathological JSON, oversized bodies, odd ids and paths, unknown routes and
methods, concurrent clients, and malformed messages sent straight to the
store over nng. setup() stores reference data (again after a crash restart)
that the last test checks is intact after all of it."""

import http.client
import os
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
import vxwire  # noqa: E402
from vxharness import expect, expect_error, quote_id  # noqa: E402

MSG_HEALTH, MSG_COLL_CREATE, MSG_COLL_LIST, MSG_COLL_INFO, MSG_UPSERT, MSG_SEARCH = 1, 10, 11, 12, 20, 30

BASE = [{"id": "base%d" % i, "vector": [float(i), 1.0, 2.0], "metadata": {"i": i}} for i in range(20)]


def raw(s, method, path, body, ctype="application/json"):
    return s.http.request(method, path, body=body, content_type=ctype)


def setup(s):
    """Reference data, (re)created whenever the file's services start."""
    expect(s.http.put("/collections/h_base", {"dimension": 3, "metric": "cosine"}), 201)
    expect(s.http.post("/collections/h_base/points", {"points": BASE}), 200)
    expect(s.http.put("/collections/h_work", {"dimension": 3, "metric": "l2"}), 201)


def test_content_type(s):
    body = b'{"points": [{"id": "ct", "vector": [1, 2, 3]}]}'
    # JSON is UTF-8: a body declared in another charset would be misread
    for ct in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
               "application/jsonx", "application/json; charset=latin-1", "application/json; charset=utf-16"):
        expect_error(raw(s, "POST", "/collections/h_work/points", body, ct), 415, "unsupported_media_type",
                     what="Content-Type %s" % ct)
    expect_error(raw(s, "PUT", "/collections/h_ct", b'{"dimension": 3}', "text/plain"), 415)
    expect_error(s.http.get("/collections/h_ct"), 404, what="415 must not create")
    # a declared non-JSON type is 415 on an empty body too: nothing runs
    for path in ("/collections/h_work/search", "/benchmark", "/collections/h_ct2"):
        r = raw(s, "PUT" if path.endswith("h_ct2") else "POST", path, b"", "text/plain")
        expect_error(r, 415, "unsupported_media_type", what="empty body, text/plain, %s" % path)
    expect_error(s.http.get("/collections/h_ct2"), 404, what="415 must not create")
    # a compressed body is not decoded: 415 (RFC 7694), not a JSON parse of gzip bytes
    r = s.http.request("POST", "/collections/h_work/points", body=body, headers={"Content-Encoding": "gzip"})
    expect_error(r, 415, "unsupported_media_type", mentions="Content-Encoding")
    expect_error(s.http.get("/collections/h_work/points/ct"), 404, what="415 must not write")
    for ct in ("application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"):
        r = raw(s, "POST", "/collections/h_work/points", body, ct)
        assert r.status == 200, "Content-Type %r must be accepted: %r" % (ct, r)


def test_malformed_json(s):
    cases = [
        (b"", "empty body"),
        (b"{", "truncated"),
        (b'{"dimension": 3,}', "trailing comma"),
        (b"{'dimension': 3}", "single quotes"),
        (b'[{"dimension": 3}]', "array instead of object"),
        (b'"dimension"', "string"),
        (b"null", "null"),
        (b"3", "number"),
        (b'{"dimension": 3} {"dimension": 4}', "two documents"),
        (b"[" * 10000 + b"]" * 10000, "10000 nested arrays"),
        (b'{"a":' * 10000 + b"1" + b"}" * 10000, "10000 nested objects"),
        (b"[" * 10000, "10000 unclosed arrays"),
        (b'{"dimension": 3, "metric": "\xff\xfe"}', "invalid UTF-8"),
        (b'{"dimension": 3, "metric": "\\ud800"}', "lone surrogate"),
        (b'{"dimension": 1e400}', "1e400"),
        (b'{"dimension": 99999999999999999999999999}', "integer overflow"),
        (b'{"dimension": -0.0}', "negative zero"),
        (b'\x00\x01\x02', "binary"),
    ]
    for body, what in cases:
        expect_error(raw(s, "PUT", "/collections/h_bad", body), 400, what=what)
    expect_error(s.http.get("/collections/h_bad"), 404, what="malformed bodies created a collection")
    for path in ("/collections/h_work/points", "/collections/h_work/search", "/collections/h_work/points/delete",
                 "/vector", "/search/vector", "/benchmark"):
        for body in (b"", b"[1, 2, 3]", b"{", b"[" * 10000):
            if body == b"" and path == "/benchmark":
                continue  # every benchmark field is optional: an empty body may mean {}
            expect_error(raw(s, "POST", path, body), 400, what="%s %r" % (path, body[:20]))


def test_huge_numbers_in_vectors(s):
    for vec in (["1e400", 0, 0], [1e308, 0, 0], [3.5e38, 0, 0], [-3.5e38, 0, 0]):
        body = ('{"points": [{"id": "hn", "vector": [%s, %s, %s]}]}' % tuple(vec)).encode()
        expect_error(raw(s, "POST", "/collections/h_work/points", body), 400, what="vector %r" % (vec,))
    for k in ("1e300", "4294967297", "-4294967295", "1e400"):
        body = ('{"vector": [1, 2, 3], "k": %s}' % k).encode()
        # 1e400 is not a representable JSON number: "invalid JSON" is a fine message too.
        expect_error(raw(s, "POST", "/collections/h_work/search", body), 400,
                     mentions=None if k == "1e400" else "k", what="k=%s" % k)
    expect_error(s.http.get("/collections/h_work/points/hn"), 404)


def test_scores_beyond_float32(s):
    """Any finite float32 vector is stored (SPEC: NaN/Inf are rejected), so a
    dot product or l2 distance can exceed float32 (or its square can): the
    search still answers 200, ranks such points where they belong, gives
    exact scores where they fit float32 and the largest float32 where not."""
    fmax = 3.4028234663852886e38

    def as_f32(x):  # scores are float32, written in their shortest form
        return struct.unpack("<f", struct.pack("<f", x))[0]
    expect(s.http.put("/collections/h_ovf", {"dimension": 3, "metric": "l2", "index": {"type": "flat"}}), 201)
    pts = [{"id": "near", "vector": [0.0, 1.0, 0.0]}, {"id": "far", "vector": [1e20, 0.0, 0.0]},
           {"id": "huge", "vector": [3e38, 3e38, 0.0]}]
    expect(s.http.post("/collections/h_ovf/points", {"points": pts}), 200)
    r = expect(s.http.post("/collections/h_ovf/search", {"vector": [-1e20, 0.0, 0.0], "k": 3}), 200)
    got = [(h["id"], h["score"]) for h in r["results"]]
    assert [g[0] for g in got] == ["near", "far", "huge"], r
    assert abs(got[0][1] - 1e20) < 1e14 and abs(got[1][1] - 2e20) < 1e14, got  # squares overflowed float32
    assert as_f32(got[2][1]) == fmax, got
    expect(s.http.put("/collections/h_ovf_dot", {"dimension": 2, "metric": "dot"}), 201)
    pts = [{"id": "big", "vector": [3e38, 3e38]}, {"id": "small", "vector": [0.0, 1.0]}]
    expect(s.http.post("/collections/h_ovf_dot/points", {"points": pts}), 200)
    for exact in (True, False):
        r = expect(s.http.post("/collections/h_ovf_dot/search", {"vector": [1.0, 1.0], "k": 2, "exact": exact}), 200)
        assert [h["id"] for h in r["results"]] == ["big", "small"], r
        assert as_f32(r["results"][0]["score"]) == fmax and r["results"][1]["score"] == 1.0, r
    for c in ("h_ovf", "h_ovf_dot"):
        expect(s.http.delete("/collections/" + c), 200)


def test_reply_above_the_bus_limit(s):
    """A search whose reply would exceed the bus's 64 MiB message limit (every
    parameter within its own limit) is a 400 limit_exceeded naming the size,
    and does not disturb other clients: nng closes the connection on an
    oversized message, which failed every call in flight with 503."""
    dim = 4096
    expect(s.http.put("/collections/h_wide", {"dimension": dim, "metric": "dot", "index": {"type": "flat"}}), 201)
    pad = "x" * 60000
    vec = [((d * 7) % 13) / 8.0 for d in range(dim)]
    for b in range(10):
        pts = [{"id": "w%d" % (b * 100 + i), "vector": vec, "metadata": {"pad": pad}} for i in range(100)]
        expect(s.http.post("/collections/h_wide/points", {"points": pts}), 200)
    stop = threading.Event()
    errors = []
    done = [0]

    def small_calls():
        c = vx.Client(s.port)
        try:
            while not stop.is_set():
                r = c.get("/collections/h_base/points/base3")
                if r.status != 200:
                    errors.append(r)
                done[0] += 1
        finally:
            c.close()

    threads = [threading.Thread(target=small_calls) for _ in range(3)]
    for th in threads:
        th.start()
    try:
        for _ in range(3):
            r = s.http.post("/collections/h_wide/search", {"vector": vec, "k": 1000, "with_vector": True})
            expect_error(r, 400, code="limit_exceeded", mentions="bus message limit")
        r = expect(s.http.post("/collections/h_wide/search", {"vector": vec, "k": 50, "with_vector": True}), 200)
        assert len(r["results"]) == 50 and len(r["results"][0]["vector"]) == dim, len(r["results"])
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert not errors, "other clients failed during the oversized reply: %r" % errors[:3]
    assert done[0] > 0
    h = expect(s.http.get("/health"), 200)
    assert h["services"]["store"] == "ok", h
    expect(s.http.delete("/collections/h_wide"), 200)


@vx.fresh(embed=False, extra_api_args=("--max-body-bytes", str(128 << 20)))
def test_request_above_the_bus_limit(s):
    """With the HTTP body limit raised above the bus's 64 MiB message limit, a
    batch that fits the body but not one bus message is a 413 naming the
    bus limit, at once (the store would drop it unanswered), and writes
    nothing."""
    dim = 1024
    expect(s.http.put("/collections/h_busreq", {"dimension": dim, "metric": "dot", "index": {"type": "flat"}}), 201)
    vec = [0.25] * dim
    pad = "y" * 65000
    pts = [{"id": "r%d" % i, "vector": vec, "metadata": {"p": pad}} for i in range(1000)]
    t0 = time.time()
    r = s.http.post("/collections/h_busreq/points", {"points": pts})
    expect_error(r, 413, code="payload_too_large", mentions="bus")
    assert time.time() - t0 < 20, "took %.1f s" % (time.time() - t0)
    assert expect(s.http.get("/collections/h_busreq"), 200)["count"] == 0


def test_huge_body_rejected_early(s):
    declared = 256 << 20
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    try:
        t0 = time.time()
        sock.sendall(("POST /collections/h_work/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n" % declared).encode())
        try:
            sock.sendall(b'{"points": [' + b" " * (256 << 10))
        except OSError:
            pass  # the server may already have answered and closed
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        took = time.time() - t0
        assert data.startswith(b"HTTP/1.1 413") or data.startswith(b"HTTP/1.0 413"), \
            "a %d MB body must get 413, got %r" % (declared >> 20, data[:200])
        assert took < 3.0, "413 took %.1f s: the server read the body first" % took
    finally:
        sock.close()
    r = s.http.get("/collections/h_base")
    assert r.status == 200, r


def test_chunked_bodies(s):
    # A chunked upload (no Content-Length) is a normal HTTP request ...
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    try:
        c.request("POST", "/collections/h_work/points", body=iter([b'{"points": [{"id": "chunked", ',
                                                                   b'"vector": [1, 2, 3]}]}']),
                  headers={"Content-Type": "application/json"}, encode_chunked=True)
        r = c.getresponse()
        assert r.status == 200, "chunked upsert: %d %r" % (r.status, r.read()[:200])
        r.read()
    finally:
        c.close()
    assert expect(s.http.get("/collections/h_work/points/chunked"), 200)["vector"] == [1.0, 2.0, 3.0]
    # ... and an endless one is cut off with 413 once it passes the body limit.
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    try:
        sock.sendall(b"POST /collections/h_work/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n"
        sent = 0
        data = b""
        while sent < 400:  # MB
            r, _, _ = select.select([sock], [], [], 0)
            if r:
                break
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += 1
        while b"\r\n\r\n" not in data:
            try:
                more = sock.recv(65536)
            except OSError:
                break
            if not more:
                break
            data += more
        assert sent < 400, "the server took 400 MB of chunked body without answering"
        assert b" 413 " in data.split(b"\r\n")[0], "endless chunked body after %d MB: %r" % (sent, data[:200])
    finally:
        sock.close()
    assert s.http.get("/collections/h_base").status == 200


def test_odd_ids(s):
    # Control characters are valid UTF-8 and not NUL: accepted and exact.
    ids = ["ctl\u0001\u001f", "\u007f", "new\nline", "\ufeffbom"]
    expect(s.http.post("/collections/h_work/points",
                       {"points": [{"id": i, "vector": [1, 2, 3]} for i in ids]}), 200)
    for i in ids:
        assert expect(s.http.get("/collections/h_work/points/" + quote_id(i)), 200)["id"] == i, repr(i)
    # Invalid UTF-8 in a JSON id is invalid JSON; in a path it is no id.
    expect_error(raw(s, "POST", "/collections/h_work/points",
                     b'{"points": [{"id": "bad\xff", "vector": [1, 2, 3]}]}'), 400)
    for path in ("/collections/h_work/points/bad%FF", "/collections/h_work/points/%C0%AF",
                 "/collections/h_work/points/a%00b", "/collections/h_work/points/%ZZ"):
        r = s.http.get(path)
        assert r.status in (400, 404), "%s: %r" % (path, r)
        expect_error(r, r.status, what=path)
    expect_error(s.http.get("/collections/h_work/points/" + "x" * 300), 400, mentions="id", what="300-byte id")


def test_path_traversal(s):
    before = sorted(os.listdir(s.tmp))
    data_before = sorted(os.listdir(s.data_dir))
    for enc in ("..%2F..%2Fescape", "%2E%2E%2F%2E%2E%2Fescape", "..%5C..%5Cescape", "%2Fetc%2Fescape",
                "a%2F..%2F..%2Fescape"):
        expect_error(s.http.put("/collections/" + enc, {"dimension": 3}), 400, mentions="name", what=enc)
        r = s.http.get("/collections/%s/points/x" % enc)
        assert r.status in (400, 404), "%s: %r" % (enc, r)
        expect_error(r, r.status)
    for path in ("/collections/../../etc/passwd", "/../../etc/passwd", "/collections/h_base/../../x"):
        r = s.http.get(path)
        assert 400 <= r.status < 500, "%s: %r" % (path, r)
        assert b"root:" not in r.body, "path traversal leaked a file"
    assert sorted(os.listdir(s.tmp)) == before, "files appeared next to the data dir"
    assert not any("escape" in f for f in os.listdir(s.data_dir)), os.listdir(s.data_dir)
    assert not os.path.exists("/escape") and not os.path.exists("/etc/escape")
    assert set(data_before) <= set(os.listdir(s.data_dir))


def test_unknown_routes_and_methods(s):
    for method, path in (("GET", "/nope"), ("GET", "/collections/h_base/nope"), ("POST", "/collectionsX"),
                         ("GET", "/collections/h_base/points/x/y/z"), ("GET", "/api/v2")):
        expect_error(s.http.request(method, path), 404, "not_found", what="%s %s" % (method, path))
    for method, path in (("PATCH", "/collections/h_base"), ("POST", "/collections"), ("PUT", "/health"),
                         ("DELETE", "/collections"), ("PUT", "/collections/h_base/search"),
                         ("GET", "/collections/h_base/search"), ("PATCH", "/vector/x"), ("GET", "/benchmark"),
                         ("DELETE", "/vectors"), ("POST", "/collections/h_base/points/base1"), ("GET", "/vector")):
        expect_error(s.http.request(method, path, body=b"{}"), 405, "method_not_allowed",
                     what="%s %s" % (method, path))
    assert expect(s.http.get("/collections/h_base"), 200)["count"] == len(BASE)
    # a 404 can be traced in the access log: the unmatched path is logged
    # (a matched route is logged by its pattern, which keeps ids out)
    expect_error(s.http.get("/no-such-route-%s" % os.getpid()), 404)
    deadline = time.time() + 2
    want = "GET /no-such-route-%s 404" % os.getpid()
    while want not in open(s.api.log_path, encoding="utf-8", errors="replace").read():
        assert time.time() < deadline, "access log has no %r" % want
        time.sleep(0.05)


def test_empty_post_bodies(s):
    for method, path in (("POST", "/collections/h_work/points"), ("POST", "/collections/h_work/search"),
                         ("PUT", "/collections/h_empty"), ("POST", "/vector"), ("POST", "/embed")):
        r = s.http.request(method, path, headers={"Content-Type": "application/json", "Content-Length": "0"})
        assert r.status in (400, 503) if path == "/embed" else r.status == 400, "%s %s empty: %r" % (method, path, r)
        expect_error(r, r.status)


def test_duplicate_keys_and_ids(s):
    r = raw(s, "PUT", "/collections/h_dup", b'{"dimension": 4, "dimension": 8}')
    if r.status == 201:  # accepted: then one value consistently (last wins, as JSON parsers do)
        assert r.json["dimension"] in (4, 8), r.json
    else:
        expect_error(r, 400, mentions="dimension")
    r = s.http.post("/collections/h_work/points",
                    {"points": [{"id": "dupid", "vector": [1, 1, 1]}, {"id": "dupid", "vector": [2, 2, 2]}]})
    if r.status == 200:
        got = expect(s.http.get("/collections/h_work/points/dupid"), 200)["vector"]
        assert got == [2.0, 2.0, 2.0], "duplicate id in a batch: last must win, got %r" % got
        ids = [p["id"] for p in expect(s.http.get("/collections/h_work/points?limit=1000"), 200)["points"]]
        assert ids.count("dupid") == 1, "duplicate id listed twice"
    else:
        expect_error(r, 400, mentions="dupid")
        expect_error(s.http.get("/collections/h_work/points/dupid"), 404)


def test_concurrent_clients(s):
    expect(s.http.put("/collections/h_conc", {"dimension": 4, "metric": "dot", "index": {"type": "hnsw"}}), 201)
    errors = []

    def worker(t):
        c = vx.Client(s.port)
        try:
            for i in range(50):
                pid = "t%d-%d" % (t, i)
                vec = [float(t), float(i), 1.0, -1.0]
                op = i % 5
                if op in (0, 1):
                    r = c.post("/collections/h_conc/points", {"points": [{"id": pid, "vector": vec,
                                                                          "metadata": {"t": t, "i": i}}]})
                    assert r.status == 200 and r.json.get("upserted") == 1, r
                    g = c.get("/collections/h_conc/points/" + pid)
                    assert g.status == 200 and g.json["vector"] == vec and g.json["metadata"] == {"t": t, "i": i}, g
                elif op == 2:
                    r = c.post("/collections/h_conc/search", {"vector": [1, 1, 1, 1], "k": 5, "filter": {"t": t}})
                    assert r.status == 200, r
                    assert all(h["metadata"]["t"] == t for h in r.json["results"]), r
                elif op == 3:
                    r = c.get("/collections/h_base/points/base%d" % (i % 20))
                    assert r.status == 200 and r.json["metadata"] == {"i": i % 20}, r
                else:
                    r = c.get("/collections/h_conc/points/missing-%d" % t)
                    assert r.status == 404 and r.json["error"]["code"] == "not_found", r
        except Exception as e:  # noqa: BLE001
            errors.append("thread %d: %r" % (t, e))
        finally:
            c.close()

    # 40 clients: more than the gateway's default 24 calls in flight per
    # backend (the rest wait for a slot; none may get 503)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads), "a client thread hung"
    assert not errors, "; ".join(errors[:5])
    # 40 threads x 20 upserts of distinct ids.
    assert expect(s.http.get("/collections/h_conc"), 200)["count"] == 40 * 20


def test_many_keep_alive_connections(s):
    """A client pool of 60 keep-alive connections used round-robin: every
    connection is served at once (civetweb 1.15 holds a worker thread per
    open connection, so a thread count below the pool size made requests
    on the extra connections wait for an idle one's keep-alive timeout)."""
    clients = [vx.Client(s.port, timeout=30) for _ in range(60)]
    try:
        slowest = 0.0
        for _ in range(2):
            for c in clients:
                t0 = time.time()
                r = c.get("/health")
                slowest = max(slowest, time.time() - t0)
                assert r.status == 200, r
        assert slowest < 1.0, "a request on a pooled connection waited %.2f s" % slowest
    finally:
        for c in clients:
            c.close()


# ---- straight to the store over nng ----------------------------------------

def store_client(s):
    return vxwire.ReqClient(s.store_url, timeout=5)


def check_health(s):
    c = store_client(s)
    try:
        rep = c.call(MSG_HEALTH, {}, request_id=7)
    finally:
        c.close()
    assert isinstance(rep, list) and len(rep) == 5, "reply envelope: %r" % (rep,)
    assert rep[:4] == [1, MSG_HEALTH, 7, 0], "health reply [version, type, id, status]: %r" % (rep[:4],)
    assert isinstance(rep[4], dict) and rep[4].get("service") == "store", rep[4]
    return rep


def test_nng_well_formed(s):
    check_health(s)
    c = store_client(s)
    try:
        rep = c.call(MSG_COLL_LIST, {}, request_id=2 ** 40)
        assert rep[:4] == [1, MSG_COLL_LIST, 2 ** 40, 0], rep[:4]
        assert "h_base" in repr(rep[4]), "store's collection list lacks h_base: %r" % (rep[4],)
        rep = c.call(MSG_COLL_INFO, {"name": "no_such_coll"}, request_id=9)
        assert rep[1] == MSG_COLL_INFO and rep[2] == 9 and rep[3] == -2, "missing collection: %r" % (rep,)
        assert isinstance(rep[4], dict) and rep[4].get("code") == "not_found" and rep[4].get("message"), rep
    finally:
        c.close()


def expect_error_reply(s, payload, what, must_reply=True):
    """Sends payload; the store answers status < 0 (or, for unreadable input
    when must_reply is False, may stay silent) and then still serves."""
    c = store_client(s)
    try:
        c.sock.settimeout(2.0)
        c.send_raw(payload)
        try:
            _, body = c.recv_raw()
        except (socket.timeout, vxwire.SPError) as e:
            assert not must_reply, "%s: no error reply (%s)" % (what, e)
            return
        rep = vxwire.unpack(body)
        assert isinstance(rep, list) and len(rep) == 5, "%s: reply %r" % (what, rep)
        assert isinstance(rep[3], int) and rep[3] < 0, "%s: status %r, want < 0" % (what, rep[3])
        assert isinstance(rep[4], dict) and isinstance(rep[4].get("code"), str) and rep[4].get("message"), \
            "%s: error body %r" % (what, rep[4])
    finally:
        c.close()
        check_health(s)


def test_nng_malformed_messages(s):
    env = vxwire.pack([1, MSG_HEALTH, 7, 0, {}])
    for payload, what in ((b"garbage!", "garbage"), (b"", "empty"), (env[:3], "truncated envelope"),
                          (b"\xc1", "reserved byte"), (b"\x91" * 100000, "100000 nested arrays"),
                          (b"\xdd\xff\xff\xff\xff", "array of 2^32-1 elements"),
                          (b"\xdb\xff\xff\xff\xff" + b"x", "str claiming 4 GB")):
        expect_error_reply(s, payload, what, must_reply=False)
    for env_obj, what in (([2, MSG_HEALTH, 7, 0, {}], "version 2"), ([1, 999, 7, 0, {}], "unknown type"),
                          ([1, MSG_HEALTH, 7, 0], "4 elements"), ([1, MSG_HEALTH, 7, 0, {}, 1], "6 elements"),
                          ([1, MSG_COLL_INFO, 7, 0, {"name": 5}], "name is a number"),
                          ([1, MSG_COLL_INFO, 7, 0, {"name": "../../x"}], "bad name"),
                          ([1, MSG_COLL_INFO, 7, 0, []], "body is an array"),
                          ([1, MSG_COLL_CREATE, 7, 0, {"name": "nng_c", "dimension": 10 ** 9}], "huge dimension"),
                          ([1, MSG_SEARCH, 7, 0, {"collection": "h_base", "vector": b"\x00" * 11, "k": 3}],
                           "vector bin of 11 bytes"),
                          ([1, MSG_SEARCH, 7, 0, {"collection": "h_base", "vector": b"\x00" * 12, "k": 10 ** 6}],
                           "k 10^6"),
                          ([1, MSG_UPSERT, 7, 0, {"collection": "h_base", "points": [{"id": "", "vector": b""}]}],
                           "empty id"),
                          (["x", MSG_HEALTH, 7, 0, {}], "version is a string")):
        expect_error_reply(s, vxwire.pack(env_obj), what)
    c = store_client(s)
    try:
        rep = c.call(MSG_COLL_INFO, {"name": "h_base"}, request_id=3)
        assert rep[3] == 0, "h_base info over nng: %r" % (rep,)
    finally:
        c.close()
    assert expect(s.http.get("/collections/h_base"), 200)["count"] == len(BASE)
    expect_error(s.http.get("/collections/nng_c"), 404, what="a rejected nng create wrote something")


def test_nng_bad_framing(s):
    # Wrong SP header, wrong protocol, absurd frame length: the store drops
    # the connection and keeps serving others.
    for hello in (b"HTTP/1.1\r\n", b"\x00SP\x00\x00\x10\x00\x00", b"\x00SP\x00\x00\x30\x00\x00" +
                  b"\x01" + struct.pack(">Q", 1 << 40) + b"\x80\x00\x00\x01"):
        sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sk.settimeout(2)
        try:
            sk.connect(s.store_url[len("ipc://"):])
            sk.sendall(hello)
            try:
                sk.recv(64)
            except OSError:
                pass
        finally:
            sk.close()
        check_health(s)


def test_nng_peer_closing_mid_handshake(s):
    """A peer that connects and closes before finishing the SP handshake (a
    port probe, a client killed while connecting): nng 1.5.2 then never
    accepts on that listener again (nanomsg/nng#1518). The store's listener
    watchdog restarts it, so new clients are served again within seconds."""
    for first_bytes in (b"", b"\x00SP"):
        sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sk.connect(s.store_url[len("ipc://"):])
        if first_bytes:
            sk.sendall(first_bytes)
        sk.close()
        time.sleep(0.1)
        deadline = time.time() + 10
        while True:
            try:
                check_health(s)  # a new connection each time
                break
            except (OSError, vxwire.SPError, AssertionError):
                if time.time() > deadline:
                    raise AssertionError("no new connection is served 10 s after a peer closed mid-handshake")
                time.sleep(0.2)


def test_everything_still_intact(s):
    info = expect(s.http.get("/collections/h_base"), 200)
    assert info["count"] == len(BASE) and info["dimension"] == 3 and info["metric"] == "cosine", info
    for p in BASE:
        got = expect(s.http.get("/collections/h_base/points/" + p["id"]), 200)
        assert got["vector"] == p["vector"] and got["metadata"] == p["metadata"], got
    h = expect(s.http.get("/health"), 200)
    assert h["services"]["store"] not in (None, False, "down", "unavailable"), h


if __name__ == "__main__":
    vx.main(globals(), on_start=setup)
