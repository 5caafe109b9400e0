"""crash_procs — the processes of a crash run: one vectron-store that is
killed and restarted over and over on the same data dir and ipc:// socket,
and one vectron-api that stays up across the store's restarts.

Invariants: after kill_store() returns, the killed process has been reaped
(nothing it received can still be applied); start_store() returns only once
the new store answers HEALTH and COLL_LIST on the bus (it is serving), or
raises with the tail of the store log. Each process's output is appended to
a log file in the temp dir. Stdlib only.
"""

import os
import signal
import socket
import subprocess
import time

import vxharness  # HTTP client (tests/integration, not modified here)
import vxwire

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(os.path.join(REPO, os.environ.get("VX_BIN", "build/bin")))

MSG_HEALTH, MSG_COLL_CREATE, MSG_COLL_LIST, MSG_COLL_INFO = 1, 10, 11, 12


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def store_options(store_bin):
    """The set of --options vectron-store's --help mentions."""
    try:
        out = subprocess.run([store_bin, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=10).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {w.rstrip(",=") for w in out.split() if w.startswith("--")}


class Services:
    def __init__(self, tmp, fsync="always", snapshot_wal_bytes=None, extra_store_args=()):
        self.tmp = tmp
        self.data_dir = os.path.join(tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.store_url = "ipc://%s/store.sock" % tmp
        self.store_bin = os.path.join(BIN, "vectron-store")
        self.api_bin = os.path.join(BIN, "vectron-api")
        opts = store_options(self.store_bin)
        self.has_persistence = "--fsync" in opts
        self.store_args = ["--listen", self.store_url, "--data-dir", self.data_dir, "--log-level", "info"]
        if "--events-url" in opts:  # never the default TCP port: other stores may run here
            self.store_args += ["--events-url", "ipc://%s/events.sock" % tmp]
        if self.has_persistence:
            self.store_args += ["--fsync", fsync]
        if snapshot_wal_bytes and "--snapshot-wal-bytes" in opts:
            self.store_args += ["--snapshot-wal-bytes", str(snapshot_wal_bytes)]
        self.store_args += list(extra_store_args)
        self.store = self.api = None
        self.port = None
        self.cli = None
        self.store_log = os.path.join(tmp, "store.log")
        self.api_log = os.path.join(tmp, "api.log")

    # -- store ------------------------------------------------------------
    def _spawn(self, argv, log_path):
        log = open(log_path, "ab")
        log.write(("=== %s %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        log.flush()
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO)
        log.close()
        return p

    def start_store(self, wait=True, timeout=60.0):
        sock = self.store_url[len("ipc://"):]
        if os.path.exists(sock):
            os.unlink(sock)  # left by a killed store
        self.close_client()
        t0 = time.time()
        self.store = self._spawn([self.store_bin] + self.store_args, self.store_log)
        if not wait:
            return 0.0
        deadline = t0 + timeout
        last = None
        while time.time() < deadline:
            if self.store.poll() is not None:
                raise RuntimeError("store exited with status %s during start-up\n%s"
                                   % (self.store.returncode, self.log_tail(20)))
            if os.path.exists(sock):
                try:
                    h = self.call(MSG_HEALTH, {}, timeout=2.0)
                    l = self.call(MSG_COLL_LIST, {}, timeout=5.0)
                    if h[3] == 0 and l[3] == 0:
                        return time.time() - t0
                    last = "health %r / list status %r" % (h[3], l[3])
                except (OSError, vxwire.SPError, ValueError) as e:
                    last = repr(e)
                    self.close_client()
            time.sleep(0.005)
        raise RuntimeError("store not serving %.0f s after start (%s)\n%s" % (timeout, last, self.log_tail(20)))

    def kill_store(self):
        if self.store is not None:
            if self.store.poll() is None:
                self.store.send_signal(signal.SIGKILL)
            self.store.wait()
        self.close_client()

    def stop_store(self, timeout=15.0):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        self.close_client()
        if self.store is None:
            return None
        if self.store.poll() is not None:
            return self.store.returncode
        self.store.send_signal(signal.SIGTERM)
        try:
            return self.store.wait(timeout)
        except subprocess.TimeoutExpired:
            self.store.kill()
            self.store.wait()
            return None

    def store_alive(self):
        return self.store is not None and self.store.poll() is None

    # -- bus client of the controller --------------------------------------
    def call(self, mtype, body, timeout=10.0):
        if self.cli is None:
            self.cli = vxwire.ReqClient(self.store_url, timeout=timeout)
        self.cli.sock.settimeout(timeout)
        try:
            return self.cli.call(mtype, body, request_id=int(time.time() * 1000) & 0xffffffff,
                                 deadline_ms=int(timeout * 1000))
        except Exception:
            self.close_client()
            raise

    def close_client(self):
        if self.cli is not None:
            self.cli.close()
            self.cli = None

    # -- api ----------------------------------------------------------------
    def start_api(self):
        for _ in range(5):
            self.port = free_port()
            self.api = self._spawn([self.api_bin, "--store-url", self.store_url,
                                    "--embed-url", "ipc://%s/embed.sock" % self.tmp,
                                    "--port", str(self.port), "--bind", "127.0.0.1"], self.api_log)
            deadline = time.time() + 10
            while time.time() < deadline and self.api.poll() is None:
                try:
                    vxharness.Client(self.port, timeout=2).get("/health")
                    return
                except OSError:
                    time.sleep(0.05)
            if self.api.poll() is None:
                break
        raise RuntimeError("vectron-api did not start\n%s" % self.log_tail(20, self.api_log))

    def restart_api(self):
        if self.api is not None and self.api.poll() is None:
            self.api.send_signal(signal.SIGTERM)
            try:
                self.api.wait(10)
            except subprocess.TimeoutExpired:
                self.api.kill()
                self.api.wait()
        self.start_api()

    def http_client(self):
        return vxharness.Client(self.port, timeout=30)

    def wait_api_sees_store(self, coll, timeout=15.0):
        """Waits until the gateway has reconnected to the restarted store."""
        c = self.http_client()
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                try:
                    if c.get("/collections/%s" % coll).status not in (502, 503, 504):
                        return
                except OSError:
                    pass
                time.sleep(0.01)
        finally:
            c.close()
        raise RuntimeError("the gateway does not reach the restarted store (GET /collections/%s)" % coll)

    def create_collections(self, colls):
        c = self.http_client()
        try:
            for name, dim, metric, index in colls:
                r = c.put("/collections/%s" % name, {"dimension": dim, "metric": metric, "index": index})
                if r.status != 201:
                    raise RuntimeError("PUT /collections/%s: %r" % (name, r))
        finally:
            c.close()

    def create_missing_collections(self, colls):
        for name, dim, metric, index in colls:
            if self.call(MSG_COLL_INFO, {"name": name})[3] == -2:
                rep = self.call(MSG_COLL_CREATE, {"name": name, "dimension": dim, "metric": metric,
                                                  "index": index})
                if rep[3] != 0:
                    raise RuntimeError("re-creating %s: %r" % (name, rep))

    # -- both -----------------------------------------------------------------
    def stop_all(self):
        self.close_client()
        if self.api is not None and self.api.poll() is None:
            self.api.send_signal(signal.SIGTERM)
            try:
                self.api.wait(10)
            except subprocess.TimeoutExpired:
                self.api.kill()
                self.api.wait()
        if self.store_alive():
            self.stop_store()

    def sanitizer_reports(self):
        """Sanitizer lines (ASan/UBSan/LSan/TSan) in the store and api logs: a
        store that a sanitizer stopped would otherwise pass for a kill -9."""
        out = []
        for path in (self.store_log, self.api_log):
            try:
                with open(path, "rb") as f:
                    data = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            out += ["[%s] %s" % (os.path.basename(path), l.strip()) for l in data.splitlines()
                    if any(m in l for m in vxharness.SANITIZER_MARKERS)]
        return out

    def log_tail(self, lines=20, path=None):
        path = path or self.store_log
        try:
            with open(path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - 64 * 1024))
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    [%s] %s" % (os.path.basename(path), l) for l in data[-lines:])
