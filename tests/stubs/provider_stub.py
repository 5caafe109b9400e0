#!/usr/bin/python3
"""provider_stub — a local HTTPS server speaking the embedding APIs of
OpenAI, Cohere and Hugging Face Inference, for Vectron's tests.

    provider_stub.py make-certs DIR
        Makes a throw-away CA and a server certificate for 127.0.0.1 /
        localhost with the openssl CLI: DIR/ca.pem, DIR/server.pem,
        DIR/server.key.
    provider_stub.py serve --cert DIR/server.pem --key DIR/server.key
                           [--port 0] [--api-key stub-key]
        Serves HTTPS on 127.0.0.1 and prints "PORT <n>" on stdout once
        it accepts connections.

Routes (the real formats):
    POST /v1/embeddings        OpenAI   {"model", "input": [..]} -> {"data": [{"index", "embedding"}]}
                               (data deliberately in reverse order; clients must use "index")
    POST /v1/embed             Cohere   {"model", "texts": [..], "input_type"} -> {"embeddings": [[..]]}
    POST /pipeline/feature-extraction/<model>, POST /models/<model>
                               Hugging Face {"inputs": [..]} -> [[..], ..]
Every route needs "Authorization: Bearer <api-key>" (401 otherwise).

The vector of a text is a pure function of its UTF-8 bytes (see vector()),
so tests can recompute the expected values independently:
    s = sum of the bytes;  v[j] = ((s + 7*j) % 101) / 100 - 0.5
Default dimensions: OpenAI 1536 (or the request's "dimensions"), Cohere
1024, Hugging Face 384.

Control (no auth): POST /_stub/config with a JSON object sets the failure
mode for the next requests to the provider routes; POST /_stub/reset clears
it and the counters; GET or POST /_stub/stats returns the counters and the
last provider request. Modes ("times": how many requests fail before normal
answers resume; absent = all of them):
    ok            normal answers
    status        answer "status" (e.g. 429, 500) with a JSON error body;
                  "retry_after" adds a Retry-After header (seconds)
    slow          sleep "delay" seconds, then answer normally
    malformed     a truncated JSON body
    wrong_dim     vectors with dim + 1 components
    wrong_count   one vector fewer than texts
    nonfinite     one component is 1e39 (finite for JSON, infinite as float32)
    oversize      a valid JSON body of "size" bytes (default 4 MiB)
    token_level   Hugging Face only: 3-D token-level output whose mean over
                  tokens is the normal vector
    close         close the connection without answering
"""

import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time

LOCK = threading.Lock()
STATE = {"mode": "ok", "times": None, "status": 500, "retry_after": None, "delay": 5.0,
         "size": 4 << 20, "dim": None, "message": None}
STATS = {"requests": 0, "by_route": {}, "last": None, "auth_failures": 0}


def vector(text, dim):
    s = sum(text.encode("utf-8"))
    return [((s + 7 * j) % 101) / 100.0 - 0.5 for j in range(dim)]


def make_certs(d):
    os.makedirs(d, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Vectron test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")


def take_mode():
    """The mode for this request (consumes one of "times")."""
    with LOCK:
        mode = STATE["mode"]
        if mode != "ok" and STATE["times"] is not None:
            if STATE["times"] <= 0:
                return "ok", dict(STATE)
            STATE["times"] -= 1
        return mode, dict(STATE)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, status, obj=None, raw=None, headers=()):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_stub/stats":
            with LOCK:
                return self.send_json(200, STATS)
        self.send_json(404, {"error": "no route %s" % self.path})

    def do_POST(self):
        raw = self.read_body()
        if self.path.startswith("/_stub/"):
            return self.control(raw)
        if self.path == "/v1/embeddings":
            route = "openai"
        elif self.path == "/v1/embed":
            route = "cohere"
        elif self.path.startswith("/pipeline/feature-extraction/") or self.path.startswith("/models/"):
            route = "huggingface"
        else:
            return self.send_json(404, {"error": "no route %s" % self.path})
        try:
            req = json.loads(raw.decode("utf-8"))
        except ValueError:
            req = None
        auth_ok = self.headers.get("Authorization") == "Bearer " + self.server.api_key
        with LOCK:
            STATS["requests"] += 1
            STATS["by_route"][route] = STATS["by_route"].get(route, 0) + 1
            STATS["last"] = {"route": route, "path": self.path, "body": req, "auth_ok": auth_ok,
                             "content_type": self.headers.get("Content-Type"),
                             "expect": self.headers.get("Expect")}
            if not auth_ok:
                STATS["auth_failures"] += 1
        if not auth_ok:
            return self.send_json(401, {"error": {"message": "invalid api key"}})
        texts = None
        if isinstance(req, dict):
            texts = req.get({"openai": "input", "cohere": "texts", "huggingface": "inputs"}[route])
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return self.send_json(400, {"error": {"message": "bad request body"}})
        if route == "cohere" and req.get("input_type") not in ("search_document", "search_query",
                                                             "classification", "clustering"):
            return self.send_json(400, {"message": "input_type is required for v3 models"})
        mode, st = take_mode()
        if mode == "status":
            hdrs = [("Retry-After", str(st["retry_after"]))] if st["retry_after"] is not None else []
            return self.send_json(st["status"], {"error": {"message": st["message"] or "injected failure"}},
                                  headers=hdrs)
        if mode == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if mode == "slow":
            time.sleep(st["delay"])
        if mode == "malformed":
            return self.send_json(200, raw=b'{"data": [{"index": 0, "embedding": [0.1, 0.2')
        if mode == "oversize":
            pad = b" " * st["size"]
            return self.send_json(200, raw=b'{"pad": "' + pad + b'"}')
        dim = st["dim"] or {"openai": req.get("dimensions") or 1536, "cohere": 1024, "huggingface": 384}[route]
        if mode == "wrong_dim":
            dim += 1
        vecs = [vector(t, dim) for t in texts]
        if mode == "wrong_count":
            vecs = vecs[:-1]
        if mode == "nonfinite" and vecs:
            vecs[0][0] = 1e39
        if route == "openai":
            data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vecs)]
            data.reverse()
            out = {"object": "list", "data": data, "model": req.get("model"),
                   "usage": {"prompt_tokens": 1, "total_tokens": 1}}
        elif route == "cohere":
            out = {"id": "stub", "embeddings": vecs, "texts": texts, "meta": {"api_version": {"version": "1"}}}
        else:
            if mode == "token_level":
                out = [[[x - 0.25 for x in v], v, [x + 0.25 for x in v]] for v in vecs]
            else:
                out = vecs
        self.send_json(200, out)

    def control(self, raw):
        if self.path == "/_stub/stats":
            with LOCK:
                return self.send_json(200, STATS)
        if self.path == "/_stub/reset":
            with LOCK:
                STATE.update({"mode": "ok", "times": None, "status": 500, "retry_after": None,
                              "delay": 5.0, "size": 4 << 20, "dim": None, "message": None})
                STATS.update({"requests": 0, "by_route": {}, "last": None, "auth_failures": 0})
            return self.send_json(200, {"ok": True})
        if self.path == "/_stub/config":
            try:
                cfg = json.loads(raw.decode("utf-8"))
            except ValueError:
                return self.send_json(400, {"error": "bad JSON"})
            with LOCK:
                STATE.update(cfg)
            return self.send_json(200, {"ok": True})
        self.send_json(404, {"error": "no route %s" % self.path})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # TLS handshakes refused by clients (the certificate test) and
        # connections dropped by timing-out clients are expected here.
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def serve(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", default="stub-key")
    a = ap.parse_args(argv)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.api_key = a.api_key
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "make-certs":
        make_certs(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
