"""vxharness — black-box harness for Vectron's end-to-end tests.

Starts the real service binaries on loopback (store, api, and embed when it
exists) in a fresh temporary data directory, talks HTTP to the gateway with a
small keep-alive client, and runs the `test_*` functions of a test file with a
minimal runner whose LAST output line is exactly `N passed, N failed`
(scripts/run-tests.sh parses it; exit code 1 when anything failed).

Invariants:
- Every test gets a `Services` object whose processes are alive when the test
  starts; after every test the harness checks they are still alive, and a
  dead service turns that test into a failure (then the services are
  restarted from scratch so the remaining tests still run).
- Stopping is always SIGTERM and must end with exit code 0 within 5 s;
  anything else (crash, hang, non-zero status) is reported as a failure.
- A skipped test (raise Skip) prints `SKIP name: reason` and is counted
  neither as passed nor as failed.
- Each service's stdout+stderr goes to a log file in the temp dir; the tail
  of every log is printed under a failing test.

Stdlib only; run with /usr/bin/python3.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.path.abspath(os.path.join(REPO_ROOT, os.environ.get("VX_BIN", "build/bin")))
STORE_BIN = os.path.join(BIN_DIR, "vectron-store")
API_BIN = os.path.join(BIN_DIR, "vectron-api")
EMBED_BIN = os.path.join(BIN_DIR, "vectron-embed")

SANITIZER_MARKERS = ("runtime error:", "AddressSanitizer", "LeakSanitizer", "ThreadSanitizer")

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
HTTP_TIMEOUT_S = 15.0


class Skip(Exception):
    """Raised by a test that cannot run here (e.g. the embed service is missing)."""


class StartError(Exception):
    pass


def have_embed():
    return os.access(EMBED_BIN, os.X_OK)


_help_cache = {}


def _supports(binary, flag):
    """True when `binary --help` lists flag (binaries grow flags over time)."""
    if binary not in _help_cache:
        try:
            r = subprocess.run([binary, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=10, stdin=subprocess.DEVNULL)
            _help_cache[binary] = r.stdout.decode("utf-8", "replace")
        except (OSError, subprocess.TimeoutExpired):
            _help_cache[binary] = ""
    return flag in _help_cache[binary]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body        # raw bytes
        self._json = None
        self._json_err = None
        try:
            self._json = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError) as e:
            self._json_err = e

    @property
    def json(self):
        if self._json_err is not None:
            raise AssertionError("response body is not JSON (%s): %r" % (self._json_err, self.body[:300]))
        return self._json

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, self.body[:400])


class Client:
    """Keep-alive HTTP/1.1 client on http.client. One per thread."""

    def __init__(self, port, host="127.0.0.1", timeout=HTTP_TIMEOUT_S):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, json_body=None, headers=None,
                content_type="application/json", timeout=None):
        """body: raw bytes/str; json_body: an object to serialize. Returns Response."""
        hdrs = {}
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False)  # raw UTF-8, as real clients send
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and content_type is not None:
            hdrs["Content-Type"] = content_type
        if headers:
            hdrs.update(headers)
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=timeout or self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
                if r.will_close:
                    self.close()
                return resp
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A server may close an idle keep-alive connection: retry once
                # on a fresh connection, but never mask a failure of a new one.
                if not reused or attempt == 1:
                    raise
            except Exception:
                self.close()
                raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, obj=None, **kw):
        return self.request("POST", path, json_body=obj, **kw)

    def put(self, path, obj=None, **kw):
        return self.request("PUT", path, json_body=obj, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


# --------------------------------------------------------------------------
# Assertions shared by the tests
# --------------------------------------------------------------------------

def expect(resp, status, what=""):
    """Asserts the HTTP status and returns the parsed JSON body."""
    assert resp.status == status, "%sexpected HTTP %d, got %r" % (what + ": " if what else "", status, resp)
    return resp.json


def expect_error(resp, status, code=None, mentions=None, what=""):
    """Asserts an error response: status, JSON shape {"error": {"code", "message"}},
    optionally the code and that the message mentions one of `mentions`."""
    prefix = what + ": " if what else ""
    assert resp.status == status, "%sexpected HTTP %d, got %r" % (prefix, status, resp)
    ctype = resp.headers.get("content-type", "")
    assert "application/json" in ctype, "%serror Content-Type is %r, want application/json" % (prefix, ctype)
    body = resp.json
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), \
        "%serror body must be {\"error\": {...}}: %r" % (prefix, body)
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], "%serror.code missing: %r" % (prefix, body)
    assert isinstance(err.get("message"), str) and err["message"], "%serror.message missing: %r" % (prefix, body)
    if code is not None:
        assert err["code"] == code, "%serror.code %r, want %r (%r)" % (prefix, err["code"], code, body)
    if mentions is not None:
        opts = [mentions] if isinstance(mentions, str) else list(mentions)
        low = err["message"].lower()
        assert any(m.lower() in low for m in opts), \
            "%serror.message %r does not mention any of %r" % (prefix, err["message"], opts)
    return err


def quote_id(s):
    """Percent-encodes a point id or name for a path segment (also '/')."""
    from urllib.parse import quote
    return quote(s, safe="")


# --------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------

def service_env():
    """The environment for services: ours minus provider keys (so remote
    models are deterministically unavailable) and the settings the flags
    given here must decide (port, data dir, bus URLs)."""
    env = {}
    for k, v in os.environ.items():
        ku = k.upper()
        if "KEY" in ku or ku.endswith("_TOKEN") or ku in (
                "VECTRON_PORT", "VECTRON_DATA_DIR", "VECTRON_BIND", "VECTRON_STORE_URL",
                "VECTRON_EMBED_URL", "VECTRON_LISTEN"):
            continue
        env[k] = v
    return env


class Proc:
    def __init__(self, name, argv, log_path, extra_env=None):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.log = open(log_path, "ab")
        self.log.write(("=== start %s: %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        self.log.flush()
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=REPO_ROOT,
                                  env=dict(service_env(), **(extra_env or {})))

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Signals and waits. Returns None when it exited 0 in time, else a problem string."""
        problem = None
        if self.p.poll() is not None:
            problem = "%s had already exited with status %s" % (self.name, self.p.returncode)
        else:
            self.p.send_signal(sig)
            try:
                rc = self.p.wait(timeout)
                if rc != 0 and sig == signal.SIGTERM:
                    problem = "%s exited with status %d after SIGTERM (want 0)" % (self.name, rc)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                problem = "%s did not exit within %.0f s of SIGTERM (killed)" % (self.name, timeout)
        self.log.close()
        return problem

    def kill9(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.log.close()


class Services:
    """The running services of one test file (or one test that needs a clean state).

    Attributes: tmp, data_dir, store_url, embed_url, events_url, port, http (Client),
    store, api, embed (Proc or None)."""

    def __init__(self, embed="auto", store=True, extra_api_args=(), extra_store_args=(), api_env=None):
        self.tmp = tempfile.mkdtemp(prefix="vxe2e.")
        self.data_dir = os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir)
        self.store_url = "ipc://%s/store.sock" % self.tmp
        self.embed_url = "ipc://%s/embed.sock" % self.tmp
        self.events_url = "ipc://%s/events.sock" % self.tmp
        self.want_embed = have_embed() if embed == "auto" else bool(embed)
        self.want_store = store
        self.extra_api_args = list(extra_api_args)
        self.extra_store_args = list(extra_store_args)
        self.api_env = dict(api_env or {})  # e.g. VECTRON_API_KEYS (service_env strips *KEY*)
        self.store = self.api = self.embed = None
        self.port = None
        self.http = None
        self.problems = []  # unclean stops seen so far

    # -- start / stop -----------------------------------------------------
    def log_path(self, name):
        return os.path.join(self.tmp, name + ".log")

    def start(self):
        try:
            if self.want_store:
                self.start_store()
            if self.want_embed:
                self._need(EMBED_BIN)
                self.embed = Proc("embed", [EMBED_BIN, "--listen", self.embed_url], self.log_path("embed"))
                self._wait_ipc(self.embed, self.embed_url)
            self._start_api()
        except Exception:
            self.stop(quiet=True)
            raise
        return self

    def _need(self, path):
        if not os.access(path, os.X_OK):
            raise StartError("binary %s is missing (build it: make %s)" % (path, os.path.relpath(path, REPO_ROOT)))

    def _wait_ipc(self, proc, url):
        path = url[len("ipc://"):]
        deadline = time.time() + START_TIMEOUT_S
        while time.time() < deadline:
            if not proc.alive():
                raise StartError("%s exited with status %s during start-up\n%s"
                                 % (proc.name, proc.p.returncode, self.log_tail(proc.name)))
            if os.path.exists(path):
                return
            time.sleep(0.02)
        raise StartError("%s did not create %s within %.0f s\n%s"
                         % (proc.name, path, START_TIMEOUT_S, self.log_tail(proc.name)))

    def start_store(self):
        self._need(STORE_BIN)
        sock = self.store_url[len("ipc://"):]
        if os.path.exists(sock):
            os.unlink(sock)  # a stale socket file left by a killed store
        argv = [STORE_BIN, "--listen", self.store_url, "--data-dir", self.data_dir]
        if _supports(STORE_BIN, "--events-url"):
            # never the default TCP port: several stores run at once
            argv += ["--events-url", self.events_url]
        self.store = Proc("store", argv + self.extra_store_args, self.log_path("store"))
        self._wait_ipc(self.store, self.store_url)
        if self.api is not None and self.api.alive() and self.http is not None:
            self.wait_gateway_sees_store()

    def wait_gateway_sees_store(self, timeout_s=15):
        """A restarted store's socket file exists before a running gateway has
        re-dialled it (nng's reconnect backs off up to 1 s): until then the
        gateway answers 503. Waits until /health shows the store "ok"; gives
        up quietly (the test's own checks then say what is wrong) when the
        gateway does not answer /health with 200, e.g. behind auth."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            r = self.http.get("/health")
            if r.status != 200:
                return
            try:
                if r.json["services"]["store"] == "ok":
                    return
            except (AssertionError, KeyError, TypeError):
                return
            time.sleep(0.05)

    def _start_api(self):
        self._need(API_BIN)
        last = None
        for _ in range(5):
            self.port = free_port()
            argv = [API_BIN, "--store-url", self.store_url, "--embed-url", self.embed_url,
                    "--port", str(self.port), "--bind", "127.0.0.1"] + self.extra_api_args
            self.api = Proc("api", argv, self.log_path("api"), self.api_env)
            self.http = Client(self.port)
            deadline = time.time() + START_TIMEOUT_S
            while time.time() < deadline:
                if not self.api.alive():
                    break
                try:
                    Client(self.port, timeout=2).get("/health")
                    return
                except OSError:
                    time.sleep(0.05)
            if self.api.alive():
                self.api.kill9()
                raise StartError("api did not answer GET /health within %.0f s\n%s"
                                 % (START_TIMEOUT_S, self.log_tail("api")))
            last = "api exited with status %s during start-up\n%s" % (self.api.p.returncode, self.log_tail("api"))
            self.api.kill9()
            if "in use" not in last.lower():
                break  # not a port collision: retrying will not help
        raise StartError(last)

    def stop(self, quiet=False):
        """SIGTERM every service (api first). Returns the list of problems."""
        problems = []
        if self.http:
            self.http.close()
        for attr in ("api", "embed", "store"):
            p = getattr(self, attr)
            if p is not None:
                pr = p.stop()
                if pr:
                    problems.append(pr)
                setattr(self, attr, None)
        if not quiet:
            self.problems.extend(problems)
        return problems

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def restart_store(self, sig=signal.SIGTERM):
        """Stops the store (asserting a clean SIGTERM exit, or kill -9 when
        sig is SIGKILL) and starts it again on the same URL and data dir."""
        if sig == signal.SIGKILL:
            self.store.kill9()
        else:
            pr = self.store.stop(sig)
            assert pr is None, pr
        self.start_store()

    def stop_store(self):
        pr = self.store.stop()
        self.store = None
        assert pr is None, pr

    def dead(self):
        """Names and statuses of services that should run but do not."""
        out = []
        for attr in ("store", "embed", "api"):
            p = getattr(self, attr)
            if p is not None and not p.alive():
                out.append("%s died (status %s)" % (attr, p.p.returncode))
        return out

    def sanitizer_reports(self):
        """New ASan/UBSan/LSan lines in the service logs since the last call
        (UBSan reports without stopping the process, so look for them)."""
        out = []
        if not hasattr(self, "_log_offsets"):
            self._log_offsets = {}
        for name in ("store", "embed", "api"):
            path = self.log_path(name)
            try:
                with open(path, "rb") as f:
                    f.seek(self._log_offsets.get(name, 0))
                    data = f.read()
                    self._log_offsets[name] = f.tell()
            except OSError:
                continue
            for line in data.decode("utf-8", "replace").splitlines():
                if any(m in line for m in SANITIZER_MARKERS):
                    out.append("[%s] %s" % (name, line.strip()))
        return out

    def log_tail(self, name, lines=20):
        try:
            with open(self.log_path(name), "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    [%s] %s" % (name, l) for l in data[-lines:])

    def all_logs(self):
        return "\n".join(t for t in (self.log_tail(n) for n in ("store", "embed", "api")) if t)


# --------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------

def fresh(fn=None, **overrides):
    """Decorator: the test gets its own freshly started services (clean state).
    @fresh or @fresh(embed=False): keyword arguments override the file's
    Services settings for this test."""
    def mark(f):
        f.vx_fresh = overrides
        return f
    return mark(fn) if fn is not None else mark


def no_services(fn):
    """Decorator: the test starts whatever it needs itself (gets None)."""
    fn.vx_no_services = True
    return fn


def _tests(module_globals):
    fns = [(n, f) for n, f in module_globals.items() if n.startswith("test_") and callable(f)]
    fns.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    return fns


def main(module_globals, on_start=None, **service_kw):
    """Runs the test_* functions of a test file. Each takes one argument: the
    Services object (shared by the file, or fresh for @fresh tests).
    on_start(services), when given, runs after the shared services start
    (and again after a crash restarted them): reference data goes there."""
    only = sys.argv[1:]  # optional: names of tests to run
    passed = failed = skipped = 0
    shared = None
    shared_err = None

    def start_shared():
        s = Services(**service_kw)
        try:
            s.start()
        except Exception as e:  # noqa: BLE001 — reported per test below
            s.cleanup()
            return None, "services did not start: %s" % e
        if on_start is not None:
            try:
                on_start(s)
            except Exception as e:  # noqa: BLE001
                return s, "set-up of reference data failed: %r\n%s" % (e, traceback.format_exc())
        return s, None

    for name, fn in _tests(module_globals):
        if only and name not in only:
            continue
        own = None
        t0 = time.time()
        try:
            if getattr(fn, "vx_no_services", False):
                svc = None
            elif getattr(fn, "vx_fresh", None) is not None:
                own = Services(**dict(service_kw, **fn.vx_fresh))
                try:
                    own.start()
                except Exception as e:
                    raise StartError("services did not start: %s" % e)
                svc = own
            else:
                if shared is None and shared_err is None:
                    shared, shared_err = start_shared()
                if shared_err:
                    raise StartError(shared_err)
                svc = shared
            fn(svc)
            if svc is not None:
                dead = svc.dead()
                assert not dead, "a service crashed during the test: %s" % "; ".join(dead)
            if own is not None:
                pr = own.stop()
                assert not pr, "unclean shutdown: %s" % "; ".join(pr)
            if svc is not None:
                san = svc.sanitizer_reports()
                assert not san, "sanitizer report during the test:\n    %s" % "\n    ".join(san[:10])
            print("ok %s (%.2fs)" % (name, time.time() - t0))
            passed += 1
        except Skip as e:
            print("SKIP %s: %s (not counted)" % (name, e))
            skipped += 1
        except Exception as e:  # noqa: BLE001
            failed += 1
            print("FAIL %s: %s" % (name, str(e).splitlines()[0] if str(e) else type(e).__name__))
            tb = traceback.format_exc().rstrip().splitlines()
            print("\n".join("    " + l for l in tb[-25:]))
            svc_for_logs = own or shared
            if svc_for_logs is not None:
                for line in svc_for_logs.sanitizer_reports()[:10]:  # consumed here, not blamed on the next test
                    print("    !! %s" % line)
            if svc_for_logs is not None and svc_for_logs.dead():
                print("    !! %s" % "; ".join(svc_for_logs.dead()))
            if svc_for_logs is not None:
                logs = svc_for_logs.all_logs()
                if logs:
                    print("    --- service logs (tail) ---")
                    print(logs)
            if shared is not None and shared.dead():
                print("    !! restarting services after a crash")
                shared.stop(quiet=True)
                shared.cleanup()
                shared, shared_err = start_shared()
        finally:
            if own is not None:
                own.stop(quiet=True)
                own.cleanup()
            sys.stdout.flush()

    if shared is not None:
        problems = shared.stop()
        problems += shared.sanitizer_reports()[:10]
        if problems:
            failed += 1
            print("FAIL shutdown: %s" % "; ".join(problems))
            print(shared.all_logs())
        else:
            print("ok shutdown (SIGTERM, exit 0)")
            passed += 1
        shared.cleanup()
    if skipped:
        print("(%d skipped, not counted)" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
