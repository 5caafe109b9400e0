"""embedproc — helpers for end-to-end tests of the embed gateway's
providers: start vectron-embed with an explicit environment (vxharness's
own start strips every *KEY* / *_TOKEN variable, which is right for the
other tests but not for these), and start the HTTPS provider stub.

EmbedProc mimics vxharness.Proc (alive / stop / kill9 / p), so a test can
hang it on a vxharness.Services object as `.embed` and get the usual crash
checks, clean-SIGTERM checks and log tails.
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
STUB = os.path.join(HERE, "provider_stub.py")
PYTHON = "/usr/bin/python3"


class EmbedProc:
    def __init__(self, bin_path, url, log_path, env_extra, args=()):
        self.name = "embed"
        env = {k: v for k, v in os.environ.items()
               if "KEY" not in k.upper() and not k.upper().endswith("_TOKEN")
               and not k.startswith("VECTRON_")}
        env.update(env_extra)
        self.log = open(log_path, "ab")
        argv = [bin_path, "--listen", url] + list(args)
        self.log.write(("=== start %s: %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        self.log.flush()
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  cwd=REPO_ROOT, env=env)
        sock = url[len("ipc://"):]
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError("vectron-embed exited with status %s during start-up" % self.p.returncode)
            if os.path.exists(sock):
                return
            time.sleep(0.02)
        raise RuntimeError("vectron-embed did not create %s" % sock)

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        problem = None
        if self.p.poll() is not None:
            problem = "embed had already exited with status %s" % self.p.returncode
        else:
            self.p.send_signal(sig)
            try:
                rc = self.p.wait(timeout)
                if rc != 0:
                    problem = "embed exited with status %d after SIGTERM (want 0)" % rc
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                problem = "embed did not exit within %.0f s of SIGTERM (killed)" % timeout
        self.log.close()
        return problem

    def kill9(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.log.close()

    def children(self):
        """Pids of the direct child processes (python workers)."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.p.pid:
                    out.append(int(pid))
            except (OSError, IndexError, ValueError):
                pass
        return out


class Stub:
    """The HTTPS provider stub with a CA made for this run."""

    def __init__(self, tmp, api_key):
        self.dir = os.path.join(tmp, "stubcerts")
        subprocess.run([PYTHON, STUB, "make-certs", self.dir], check=True)
        self.ca = os.path.join(self.dir, "ca.pem")
        self.p = subprocess.Popen([PYTHON, STUB, "serve", "--cert", os.path.join(self.dir, "server.pem"),
                                   "--key", os.path.join(self.dir, "server.key"), "--api-key", api_key],
                                  stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.p.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise RuntimeError("stub did not start: %r" % line)
        self.port = int(line.split()[1])
        self.base = "https://127.0.0.1:%d" % self.port

    def control(self, what, obj=None):
        import http.client
        import json
        import ssl
        ctx = ssl.create_default_context(cafile=self.ca)
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        c.request("POST", "/_stub/" + what, body=json.dumps(obj or {}), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = json.loads(r.read().decode())
        c.close()
        return data

    def mode(self, **cfg):
        self.control("reset")
        self.control("config", cfg)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def stub_vector(text, dim):
    s = sum(text.encode("utf-8"))
    return [((s + 7 * j) % 101) / 100.0 - 0.5 for j in range(dim)]


def wait_available(http, model, timeout=10.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        r = http.get("/models")
        if r.status == 200:
            last = r.json
            m = last.get("models", {}).get(model)
            if m is not None:
                return m
        time.sleep(0.1)
    raise AssertionError("GET /models never listed %s: %r" % (model, last))


sys.path.insert(0, HERE)
