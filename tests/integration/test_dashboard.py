"""The web dashboard (api-gateway/dashboard.h): the gateway serves the page,
its script and its style sheet with the headers that keep stored data from
running as code; the page is reachable without an API key while the data
routes it calls still need one; and the page's own client code
(dashboard/app.js, run by Node in dashboard_check.js) works against the
real gateway: create, page through points, get, filtered search, errors."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
from vxharness import expect_error  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(vx.REPO_ROOT, "api-gateway", "dashboard")
FILES = {"/dashboard": ("index.html", "text/html"),
         "/dashboard/app.js": ("app.js", "text/javascript"),
         "/dashboard/style.css": ("style.css", "text/css")}
ADMIN_KEY = "dashboard-admin-key-0123456789"


def get_ok(svc, path):
    """GET path, asserting 200 (the dashboard's files are not JSON)."""
    r = svc.http.get(path)
    assert r.status == 200, "GET %s: %r" % (path, r)
    return r


def run_node_check(svc, key=""):
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node is not installed (scripts/install-deps.sh installs nodejs)"
    tmp = tempfile.mkdtemp(prefix="vxdash.")
    try:
        app = os.path.join(tmp, "app.js")
        r = get_ok(svc, "/dashboard/app.js")
        with open(app, "wb") as f:
            f.write(r.body)  # what a browser would run, not the repo's copy
        argv = [node, os.path.join(HERE, "dashboard_check.js"), "http://127.0.0.1:%d/" % svc.port, app]
        p = subprocess.run(argv + ([key] if key else []), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        assert p.returncode == 0, "dashboard_check.js failed:\n%s" % out[-3000:]
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_files_are_served_as_built(svc):
    for path, (name, ctype) in FILES.items():
        r = get_ok(svc, path)
        assert r.headers.get("content-type", "").startswith(ctype), (path, r.headers)
        assert r.headers.get("x-content-type-options") == "nosniff", (path, r.headers)
        with open(os.path.join(ASSETS, name), "rb") as f:
            assert r.body == f.read(), "%s is not byte-for-byte api-gateway/dashboard/%s" % (path, name)
    csp = svc.http.get("/dashboard").headers.get("content-security-policy", "")
    for part in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"):
        assert part in csp, "page CSP lacks %r: %r" % (part, csp)
    assert "unsafe-inline" not in csp, csp
    expect_error(svc.http.post("/dashboard", {}), 405)
    expect_error(svc.http.get("/dashboard/index.html"), 404)


def test_page_references_what_exists(svc):
    """Every element app.js looks up is on the page, and every file the page
    loads is served: a typo here would leave a blank dashboard."""
    page = svc.http.get("/dashboard").body.decode()
    script = svc.http.get("/dashboard/app.js").body.decode()
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    wanted = set(re.findall(r"\$\('([^']+)'\)", script))
    assert len(wanted) > 20, wanted
    assert not wanted - ids, "app.js looks up ids the page lacks: %s" % sorted(wanted - ids)
    assert "innerHTML" not in script and "outerHTML" not in script and "insertAdjacentHTML" not in script
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script (the CSP forbids it)"
    assert " style=" not in page and "<style" not in page, "inline style (the CSP forbids it)"
    refs = [r for r in re.findall(r'(?:src|href)="([^"]+)"', page) if r != "data:,"]  # no favicon request
    assert sorted(refs) == ["dashboard/app.js", "dashboard/style.css"], refs
    for ref in refs:  # relative to the page at /dashboard
        get_ok(svc, "/" + ref)


def test_client_code_against_gateway(svc):
    out = run_node_check(svc)
    assert "ok dashboard client against the gateway" in out, out
    assert "ok the page, driven through a stand-in DOM" in out, out


@vx.fresh(embed=False, api_env={"VECTRON_API_KEYS": "admin:" + ADMIN_KEY})
def test_with_api_keys_page_open_data_closed(svc):
    for path in FILES:
        get_ok(svc, path)
    expect_error(svc.http.get("/collections"), 401, "unauthorized")
    out = run_node_check(svc, ADMIN_KEY)
    assert "ok without a key: health only" in out, out


if __name__ == "__main__":
    vx.main(globals())
