"""Hostile HTTP at the byte level (SPEC §3; security issue "hostile-input
suite"): slowloris-style partial requests bounded by the gateway's
--request-timeout-ms, oversize headers, control characters / NUL / invalid
and overlong UTF-8 in ids, NaN/Infinity/-0/underflow/1000-digit numbers,
smuggling-ish framing (Content-Length + Transfer-Encoding, duplicate and
negative Content-Length), absurd methods, HTTP/0.9 and 100 KB request lines.
Complements test_hostile.py; test_kinds_counted lists the kinds both files
cover and asserts there are at least 50. Every request gets a 4xx (or the
connection is closed), no service dies, and a point written by setup() reads
back bit-exact at the end.

The gateway runs with --request-timeout-ms 2000 (civetweb's request_timeout_ms
is set from it in api-gateway/web.c), so slow clients are bounded quickly."""

import json
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
from vxharness import expect, expect_error, quote_id  # noqa: E402

TIMEOUT_MS = 2000
BOUND_S = TIMEOUT_MS / 1000.0 * 2 + 3.0  # generous bound on how long a stalled client may hold a connection

# float32-exact values, so "bit-exact" holds through the store's float32 storage
REF = {"id": "ref-1", "vector": [1.5, -0.375, 1048576.0, 2.0 ** -20], "metadata": {"k": "v\u00e9", "n": 7}}

# Kinds covered by test_hostile.py (counted, not re-run here).
KINDS_TEST_HOSTILE = [
    "content-type text/plain", "content-type form-urlencoded", "content-type multipart",
    "content-type near-miss application/jsonx", "empty JSON body", "truncated JSON", "trailing comma",
    "single-quoted JSON", "array instead of object", "bare string document", "null document",
    "bare number document", "two JSON documents", "10000 nested arrays", "10000 nested objects",
    "10000 unclosed arrays", "invalid UTF-8 in JSON string", "lone surrogate escape", "1e400 overflow",
    "26-digit integer overflow", "negative zero dimension", "binary body", "vector beyond float32",
    "huge k", "negative k", "256 MB Content-Length (early 413)", "endless chunked body",
    "control characters in JSON ids (accepted exactly)", "invalid UTF-8 %FF in path id",
    "overlong UTF-8 %C0%AF in path id", "%00 in path id", "bad percent escape %ZZ", "300-byte id",
    "encoded ../ traversal in names", "backslash traversal", "raw ../ in path", "unknown routes",
    "wrong methods (405)", "empty POST bodies", "duplicate JSON keys", "duplicate ids in a batch",
    "16 concurrent clients", "nng garbage bytes", "nng empty message", "nng truncated envelope",
    "nng reserved msgpack byte", "nng 100000 nested arrays", "nng array claiming 2^32-1 elements",
    "nng str claiming 4 GB", "nng version 2", "nng unknown message type", "nng 4-element envelope",
    "nng 6-element envelope", "nng name is a number", "nng bad collection name", "nng body is an array",
    "nng huge dimension", "nng vector bin of wrong length", "nng k 10^6", "nng empty id",
    "nng version is a string", "nng HTTP sent to SP socket", "nng wrong SP protocol",
    "nng absurd frame length",
]
KINDS_HERE = []  # filled by kind() as the tests below run


def kind(name):
    if name not in KINDS_HERE:
        KINDS_HERE.append(name)


def setup(s):
    expect(s.http.put("/collections/hh", {"dimension": 4, "metric": "l2"}), 201)
    expect(s.http.post("/collections/hh/points", {"points": [REF]}), 200)


# ---- raw socket helpers ----------------------------------------------------

def connect(s, timeout=5.0):
    return socket.create_connection(("127.0.0.1", s.port), timeout=timeout)


def read_reply(sock, timeout=5.0):
    """Reads until the headers (and a Content-Length body) arrive or the peer
    closes. Returns (status or None, raw bytes, closed)."""
    sock.settimeout(timeout)
    data = b""
    closed = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        except socket.timeout:
            break
        if not chunk:
            closed = True
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            cl = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if not cl or len(body) >= int(cl[0]):
                break
    status = None
    if data.startswith(b"HTTP/"):
        try:
            status = int(data.split(b" ", 2)[1])
        except (IndexError, ValueError):
            pass
    return status, data, closed


def send_raw(s, payload, timeout=5.0):
    sock = connect(s, timeout)
    try:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered and closed early
        return read_reply(sock, timeout)
    finally:
        sock.close()


def json_error_problem(status, data, what):
    """None when a raw answer with a status is a JSON error (SPEC §3: errors
    are always JSON, Content-Type application/json, {"error": {code, message}})."""
    if status is None:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    ctype = [l.split(b":", 1)[1].strip().lower() for l in head.split(b"\r\n")
             if l.lower().startswith(b"content-type:")]
    if not ctype or not ctype[0].startswith(b"application/json"):
        return "%s: error Content-Type %r, want application/json: %r" % (what, ctype, data[:160])
    try:
        err = json.loads(body.decode("utf-8"))["error"]
        assert isinstance(err["code"], str) and err["code"] and isinstance(err["message"], str)
    except Exception:  # noqa: BLE001
        return "%s: error body is not {\"error\": {code, message}}: %r" % (what, body[:160])
    return None


def expect_rejected(s, payload, what, allow_close=True):
    """A 4xx answer, or (when allowed) the connection closed without one."""
    status, data, closed = send_raw(s, payload)
    ok = (status is not None and 400 <= status < 500) or (allow_close and status is None and closed)
    assert ok, "%s: want 4xx%s, got status %r closed=%r %r" % (
        what, " or close" if allow_close else "", status, closed, data[:200])
    alive(s, what)
    return status, data


def alive(s, what=""):
    c = vx.Client(s.port, timeout=5)
    try:
        t0 = time.time()
        r = c.get("/collections/hh")
        took = time.time() - t0
    finally:
        c.close()
    assert r.status == 200, "after %s: GET /collections/hh -> %r" % (what, r)
    assert took < 2.0, "after %s: a normal request took %.1f s" % (what, took)
    dead = s.dead()
    assert not dead, "after %s: %s" % (what, dead)


def post_points(body):
    return (b"POST /collections/hh/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body


# ---- tests -----------------------------------------------------------------

def test_slowloris(s):
    """Stalled and trickling clients are cut off within a bounded wait while a
    normal client is served promptly."""
    out = {}

    def conn_idle():  # connects, sends nothing
        sk = connect(s, 30)
        return sk

    def conn_partial_line():
        sk = connect(s, 30)
        sk.sendall(b"GET /colle")
        return sk

    def conn_partial_headers():
        sk = connect(s, 30)
        sk.sendall(b"GET /collections/hh HTTP/1.1\r\nHost: x\r\nX-Slow: aaa")
        return sk

    def conn_short_body():  # declares 1000 bytes, sends 10, stalls
        sk = connect(s, 30)
        sk.sendall(b"POST /collections/hh/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 1000\r\n\r\n{\"points\":")
        return sk

    def trickle(name, head, step, every=0.4):
        """Sends head, then `step` bytes every `every` s until the server closes or answers."""
        sk = connect(s, 30)
        sk.sendall(head)
        t0 = time.time()
        sk.setblocking(False)
        result = None
        while time.time() - t0 < BOUND_S + 6:
            try:
                d = sk.recv(4096)
                result = ("answered" if d else "closed", d[:80])
                break
            except BlockingIOError:
                pass
            except OSError as e:
                result = ("closed", repr(e))
                break
            try:
                sk.send(step)
            except OSError as e:
                result = ("closed", repr(e))
                break
            time.sleep(every)
        out[name] = (result, time.time() - t0)
        sk.close()

    stalled = {"idle connection": conn_idle(), "partial request line": conn_partial_line(),
               "partial headers": conn_partial_headers(), "body shorter than Content-Length": conn_short_body()}
    threads = [
        threading.Thread(target=trickle, args=("headers trickled a byte at a time",
                                               b"GET /collections/hh HTTP/1.1\r\nHost: x\r\n", b"X")),
        threading.Thread(target=trickle, args=("body trickled slower than declared",
                                               b"POST /collections/hh/points HTTP/1.1\r\nHost: x\r\n"
                                               b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
                                               b" ")),
    ]
    for th in threads:
        th.start()
    t0 = time.time()
    # meanwhile a normal client is served promptly, several times
    for _ in range(5):
        alive(s, "slow clients connected")
        time.sleep(0.2)
    problems = []
    for name, sk in stalled.items():
        kind("slowloris: " + name)
        sk.settimeout(max(0.1, BOUND_S - (time.time() - t0)))
        try:
            d = sk.recv(4096)
            st = d.split(b" ", 2)[1] if d.startswith(b"HTTP/") else b""
            if d and not (st.startswith(b"4") or st.startswith(b"5")):
                problems.append("%s: unexpected answer %r" % (name, d[:80]))
        except socket.timeout:
            problems.append("%s: still open after %.1f s (request timeout %d ms)" %
                            (name, time.time() - t0, TIMEOUT_MS))
        except OSError:
            pass  # reset: closed
        finally:
            sk.close()
    for th in threads:
        th.join(BOUND_S + 10)
    for name, (result, took) in out.items():
        kind("slowloris: " + name)
        if name == "body trickled slower than declared" and result is None:
            # Known limitation (docs/SECURITY.md): civetweb 1.15's mg_read
            # waits for a whole buffer, so a body trickled a byte at a time
            # holds its worker thread until the declared length arrives; the
            # gateway's own body deadline only runs between reads. What this
            # test asserts for it is that other clients stay served (above).
            # The shipped nginx proxy buffers bodies (client_body_timeout).
            print("KNOWN LIMITATION %s: held %.1f s (other clients served)" % (name, took))
            continue
        if result is None:
            problems.append("%s: server neither answered nor closed within %.1f s" % (name, took))
        elif took > BOUND_S:
            problems.append("%s: cut off only after %.1f s (bound %.1f s)" % (name, took, BOUND_S))
    alive(s, "slowloris")
    assert not problems, "; ".join(problems)


def test_oversize_headers(s):
    problems = []
    for name, payload in (
            ("64 KiB header value", b"GET /collections/hh HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"),
            ("1000 headers", b"GET /collections/hh HTTP/1.1\r\nHost: x\r\n" +
             b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\n"),
            ("1 MiB of headers", b"GET /collections/hh HTTP/1.1\r\nHost: x\r\n" +
             b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(1000)) + b"\r\n")):
        kind(name)
        status, data, closed = send_raw(s, payload)
        if not ((status is not None and 400 <= status < 500) or (status is None and closed)):
            problems.append("%s: want 4xx or close, got %r closed=%r %r" % (name, status, closed, data[:60]))
        if json_error_problem(status, data, name):
            problems.append(json_error_problem(status, data, name))
        alive(s, name)
    kind("header line without colon")
    status, data, _ = send_raw(s, b"GET /collections/hh HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n")
    if status is not None and status != 400:  # malformed, not a wrong method (GET is fine)
        problems.append("header without colon: want 400, got %r" % data[:80])
    if json_error_problem(status, data, "header without colon"):
        problems.append(json_error_problem(status, data, "header without colon"))
    alive(s, "header without colon")
    assert not problems, "; ".join(problems)


def test_ids_control_and_utf8(s):
    base = "/collections/hh/points/"
    for name, path in (("control characters %01%1F%7F in path id", base + "a%01%1F%7Fb"),
                       ("NUL %00 in collection name", "/collections/h%00h/points/ref-1"),
                       ("invalid UTF-8 in collection name", "/collections/h%FFh"),
                       ("overlong NUL %C0%80 in path id", base + "a%C0%80b"),
                       ("UTF-16 surrogate %ED%A0%80 in path id", base + "x%ED%A0%80"),
                       ("truncated UTF-8 %E2%82 in path id", base + "x%E2%82")):
        kind(name)
        r = s.http.get(path)
        assert r.status in (400, 404), "%s: %r" % (path, r)
        expect_error(r, r.status, what=path)
    kind("raw control bytes in request line")
    expect_rejected(s, b"GET /collections/hh/points/a\x01\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", "raw control bytes")
    kind("raw invalid UTF-8 bytes in request line")
    expect_rejected(s, b"GET /collections/hh/points/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", "raw 0xFF in path")
    for name, body in (("NUL \\u0000 in JSON id", b'{"points": [{"id": "a\\u0000b", "vector": [1,2,3,4]}]}'),
                       ("raw NUL byte in JSON id", b'{"points": [{"id": "a\x00b", "vector": [1,2,3,4]}]}'),
                       ("overlong UTF-8 in JSON id", b'{"points": [{"id": "a\xc0\xafb", "vector": [1,2,3,4]}]}'),
                       ("encoded surrogate bytes in JSON id",
                        b'{"points": [{"id": "a\xed\xa0\x80", "vector": [1,2,3,4]}]}'),
                       ("raw newline inside JSON string", b'{"points": [{"id": "a\nb", "vector": [1,2,3,4]}]}'),
                       ("non-string id", b'{"points": [{"id": {"x": 1}, "vector": [1,2,3,4]}]}')):
        kind(name)
        st, data = expect_rejected(s, post_points(body), name, allow_close=False)
        assert st == 400, "%s: %r" % (name, data[:200])
    r = s.http.get(base + quote_id("a\u0000b"))
    assert r.status in (400, 404), r


def test_special_numbers(s):
    for name, lit in (("NaN literal", "NaN"), ("Infinity literal", "Infinity"), ("-Infinity literal", "-Infinity"),
                      ("nan string as number", '"nan"'), ("1000-digit number", "9" * 1000),
                      ("1000-digit fraction", "0." + "1" * 1000 + "e999999999")):
        kind(name + " in vector")
        body = ('{"points": [{"id": "num", "vector": [%s, 0, 0, 0]}]}' % lit).encode()
        st, data = expect_rejected(s, post_points(body), name, allow_close=False)
        assert st == 400, "%s: %r" % (name, data[:200])
        kind(name + " as k")
        r = s.http.request("POST", "/collections/hh/search", body=('{"vector": [1,2,3,4], "k": %s}' % lit).encode())
        expect_error(r, 400, what="k=%s" % lit[:20])
    expect_error(s.http.get("/collections/hh/points/num"), 404, what="a rejected number wrote a point")
    # -0 and 1e-400 (underflow) are valid JSON numbers: either rejected with 400 or stored consistently.
    for name, lit in (("-0 in vector", "-0"), ("1e-400 underflow in vector", "1e-400")):
        kind(name)
        body = ('{"points": [{"id": "z", "vector": [%s, 1, 1, 1]}]}' % lit).encode()
        r = s.http.request("POST", "/collections/hh/points", body=body)
        if r.status == 200:
            got = expect(s.http.get("/collections/hh/points/z"), 200)["vector"]
            assert got[0] == 0.0 and got[1:] == [1.0, 1.0, 1.0], "%s read back %r" % (name, got)
        else:
            expect_error(r, 400, what=name)
    kind("1000-digit dimension")
    expect_error(s.http.request("PUT", "/collections/hh_num", body=b'{"dimension": ' + b"9" * 1000 + b"}"), 400)
    kind("fractional dimension")
    expect_error(s.http.request("PUT", "/collections/hh_num", body=b'{"dimension": 3.5}'), 400)
    expect_error(s.http.get("/collections/hh_num"), 404)


def test_smuggling(s):
    smuggled = b"PUT /collections/smuggled HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" \
               b"Content-Length: 16\r\n\r\n{\"dimension\": 3}"
    cases = (
        ("Content-Length and Transfer-Encoding both",
         b"POST /collections/hh/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled),
        ("duplicate differing Content-Length",
         b"POST /collections/hh/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Content-Length: 2\r\nContent-Length: 200\r\n\r\n{}" + smuggled),
        ("negative Content-Length",
         b"POST /collections/hh/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Content-Length: -5\r\n\r\n" + smuggled),
        ("non-numeric Content-Length",
         b"POST /collections/hh/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Content-Length: 12abc\r\n\r\n" + smuggled),
        ("unknown Transfer-Encoding",
         b"POST /collections/hh/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Transfer-Encoding: gzip, identity\r\n\r\n{}" + smuggled),
        ("bad chunk size",
         b"POST /collections/hh/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n" + smuggled),
    )
    executed = []
    for name, payload in cases:
        kind("smuggling: " + name)
        sk = connect(s)
        try:
            sk.sendall(payload)
            # Read every answer until the server closes or stays silent: a
            # pipelined (smuggled) request is processed after the first answer.
            data = b""
            sk.settimeout(1.5)
            try:
                while True:
                    d = sk.recv(65536)
                    if not d:
                        break
                    data += d
            except OSError:
                pass
        finally:
            sk.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
        # The first request may be answered (its own body is a 400); what must
        # never happen is a 2xx/5xx, or the request after the ambiguous body
        # being executed (RFC 9112 6.3: reject or close the connection).
        assert status is None or 400 <= status < 500, "%s: %r" % (name, data[:200])
        first = data.split(b"HTTP/1.1 ")[1] if data.count(b"HTTP/1.1 ") > 1 else None
        assert json_error_problem(status, data if first is None else b"HTTP/1.1 " + first, name) is None, \
            json_error_problem(status, data, name)
        alive(s, name)
        if s.http.get("/collections/smuggled").status != 404:
            executed.append(name)
            expect(s.http.delete("/collections/smuggled"), 200)
    assert not executed, "the request smuggled after an ambiguous body was executed for: %s" % "; ".join(executed)


def test_request_line(s):
    for name, payload in (
            ("absurd method FOOBAR", b"FOOBAR /collections/hh HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("lower-case method", b"get /collections/hh HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("8 KiB method", b"A" * 8192 + b" /collections/hh HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("CONNECT method", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("TRACE method", b"TRACE /collections/hh HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("HTTP/0.9 request line", b"GET /collections/hh\r\n\r\n"),
            ("HTTP/9.9 version", b"GET /collections/hh HTTP/9.9\r\nHost: x\r\n\r\n"),
            ("garbage version", b"GET /collections/hh FOO/1.1\r\nHost: x\r\n\r\n"),
            ("100 KB request line", b"GET /collections/hh/points/" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("absolute-form URI to another host", b"GET http://169.254.169.254/latest HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("TLS handshake on plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64),
            ("only CRLFs", b"\r\n" * 5000),
    ):
        kind(name)
        status, data, closed = send_raw(s, payload)
        if name == "lower-case method" and status is not None and status < 400:
            continue  # civetweb may treat methods case-insensitively; a normal answer is fine
        if name == "HTTP/9.9 version" and status == 505:
            assert json_error_problem(status, data, name) is None, json_error_problem(status, data, name)
            alive(s, name)
            continue  # 505 HTTP Version Not Supported is the right answer
        if name in ("absurd method FOOBAR", "lower-case method", "TRACE method"):
            # SPEC §3: a wrong method is a 405 (civetweb itself knows none of these)
            assert status == 405 and b"\r\nAllow: " in data, "%s: want 405 with Allow, got %r" % (name, data[:200])
        assert json_error_problem(status, data, name) is None, json_error_problem(status, data, name)
        assert (status is not None and 400 <= status < 500) or (status is None and closed), \
            "%s: status %r closed=%r %r" % (name, status, closed, data[:200])
        assert b"169.254" not in data, "absolute-form URI was proxied"
        alive(s, name)


def test_kinds_counted(s):
    kinds = KINDS_TEST_HOSTILE + [k for k in KINDS_HERE if k not in KINDS_TEST_HOSTILE]
    print("hostile kinds covered (%d in test_hostile.py + %d here = %d):" %
          (len(KINDS_TEST_HOSTILE), len(KINDS_HERE), len(kinds)))
    for i, k in enumerate(kinds, 1):
        print("  %3d %s" % (i, k))
    assert len(set(kinds)) == len(kinds)
    assert len(KINDS_HERE) >= 40, "this file's tests did not all run: %d kinds" % len(KINDS_HERE)
    assert len(kinds) >= 50, len(kinds)


def test_data_intact(s):
    got = expect(s.http.get("/collections/hh/points/" + REF["id"]), 200)
    assert [struct.pack("<f", v) for v in got["vector"]] == [struct.pack("<f", v) for v in REF["vector"]], \
        "ref vector changed (float32 bits): %r" % got
    assert got["metadata"] == REF["metadata"], got
    h = expect(s.http.get("/health"), 200)
    assert not s.dead(), s.dead()
    assert h["services"]["store"] not in (None, False, "down", "unavailable"), h


if __name__ == "__main__":
    vx.main(globals(), on_start=setup, extra_api_args=("--request-timeout-ms", str(TIMEOUT_MS)))
