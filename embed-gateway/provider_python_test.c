/*
 * provider_python_test.c — worker supervision (provider_python.h): the real
 * worker (embed-gateway/workers/worker.py, numpy backend) on a tiny random
 * BERT directory built by tests/stubs/tinybert.py, checked against that
 * module's independent reference; a killed worker is restarted by the next
 * call and by the health check alone; misbehaving fake workers (written by
 * this test) give timeouts, crashes, wrong dimensions and bad ready frames,
 * each mapped to its error code, never a vector; workers never see key
 * variables.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provider_python.h"
#include "vx_arena.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_test.h"

#define PY "/usr/bin/python3"

static char g_dir[128];      /* models + fake worker, kept for the whole binary */
static int g_ready = -1;     /* 1 when the fixture was built */
static float g_ref[2][32];   /* reference vectors of TEXTS */
static const char *TEXTS[2] = {"The cat sat on the mat.", "hello, world"};

static const char FAKE[] =
    "import json, os, struct, sys, time\n"
    "mode = os.path.basename(sys.argv[sys.argv.index('--model-dir') + 1])\n"
    "out = sys.stdout.buffer\n"
    "def reply(h, payload=b''):\n"
    "    b = json.dumps(h).encode()\n"
    "    out.write(struct.pack('<II', 4 + len(b) + len(payload), len(b)) + b + payload); out.flush()\n"
    "reply({'ready': True, 'dim': 33 if mode == 'baddim_ready' else 4, 'backend': 'fake'})\n"
    "while True:\n"
    "    h = sys.stdin.buffer.read(4)\n"
    "    if len(h) < 4: sys.exit(0)\n"
    "    req = json.loads(sys.stdin.buffer.read(struct.unpack('<I', h)[0]))\n"
    "    if req['op'] == 'ping': reply({'id': req['id'], 'ok': True, 'pong': True}); continue\n"
    "    n = len(req['texts'])\n"
    "    if mode == 'hang': time.sleep(60)\n"
    "    if mode == 'crash': os._exit(3)\n"
    "    leaked = [k for k in os.environ if 'KEY' in k.upper() or 'TOKEN' in k.upper()]\n"
    "    if leaked: reply({'id': req['id'], 'ok': False, 'error': 'leaked ' + ','.join(leaked)}); continue\n"
    "    dim = 5 if mode == 'wrongdim' else 4\n"
    "    reply({'id': req['id'], 'ok': True, 'n': n, 'dim': dim}, struct.pack('<%df' % (n * dim), *([0.5] * (n * dim))))\n";

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

static int fixture(void)
{
    if (g_ready >= 0)
        return g_ready;
    g_ready = 0;
    snprintf(g_dir, sizeof g_dir, "/tmp/vxpyw.XXXXXX");
    if (!mkdtemp(g_dir))
        return 0;
    char cmd[1024], path[256];
    snprintf(cmd, sizeof cmd,
             "cd tests/stubs && " PY " -c \"import json, tinybert as t; w = t.make_model_dir('%s/tiny', seed=9); "
             "json.dump([list(map(float, t.reference(w, s))) for s in %s], open('%s/ref.json', 'w'))\"",
             g_dir, "['The cat sat on the mat.', 'hello, world']", g_dir);
    if (run(cmd) != 0)
        return 0;
    snprintf(path, sizeof path, "%s/ref.json", g_dir);
    FILE *f = fopen(path, "rb");
    char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    vx_arena a;
    vx_arena_init(&a, 65536);
    vx_value v;
    if (vx_json_parse(buf, n, &a, &v, NULL, 0) != VX_OK || v.type != VX_VAL_ARRAY || v.u.arr.n != 2) {
        vx_arena_fini(&a);
        return 0;
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 32; j++) {
            double d = 0;
            vx_value_as_double(&v.u.arr.items[i].u.arr.items[j], &d);
            g_ref[i][j] = (float)d;
        }
    vx_arena_fini(&a);
    static const char *fakes[] = {"hang", "crash", "wrongdim", "baddim_ready", "good"};
    for (size_t i = 0; i < sizeof fakes / sizeof *fakes; i++) {
        snprintf(path, sizeof path, "%s/%s", g_dir, fakes[i]);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/%s/config.json", g_dir, fakes[i]);
        FILE *c = fopen(path, "w");
        if (!c)
            return 0;
        fputs("{}", c);
        fclose(c);
    }
    snprintf(path, sizeof path, "%s/fake.py", g_dir);
    FILE *s = fopen(path, "w");
    if (!s)
        return 0;
    fputs(FAKE, s);
    fclose(s);
    g_ready = 1;
    return 1;
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
    if (g_dir[0] && g_ready >= 0) {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", g_dir);
    }
}

static python_worker *real_worker(uint32_t health_ms, char *err)
{
    python_options o = {.python = PY, .script = "embed-gateway/workers/worker.py", .health_interval_ms = health_ms};
    python_worker *w = NULL;
    setenv("VECTRON_WORKER_BACKEND", "numpy", 1);
    if (python_worker_create(&w, "tiny", g_dir, "tiny", 32, &o, err, 300) != VX_OK)
        return NULL;
    return w;
}

static python_worker *fake_worker(const char *mode, uint32_t dim, uint32_t call_ms, char *err)
{
    char script[200];
    snprintf(script, sizeof script, "%s/fake.py", g_dir);
    python_options o = {.python = PY, .script = script, .call_timeout_ms = call_ms, .start_timeout_ms = 10000};
    python_worker *w = NULL;
    if (python_worker_create(&w, mode, g_dir, mode, dim, &o, err, 300) != VX_OK)
        return NULL;
    return w;
}

static float maxdiff(const float *a, const float *b, int n)
{
    float m = 0;
    for (int i = 0; i < n; i++)
        m = fabsf(a[i] - b[i]) > m ? fabsf(a[i] - b[i]) : m;
    return m;
}

TEST(python_missing_dir_or_config_is_unavailable)
{
    ASSERT_MSG(fixture(), "could not build the fixture in %s", g_dir);
    python_worker *w = NULL;
    char err[300];
    python_options o = {.python = PY};
    ASSERT_EQ_INT(python_worker_create(&w, "x", g_dir, "absent", 32, &o, err, sizeof err), VX_ERR_EMBED_UNAVAILABLE);
    ASSERT(strstr(err, "does not exist") && strstr(err, "never downloaded"));
    char d[200];
    snprintf(d, sizeof d, "%s/noconfig", g_dir);
    mkdir(d, 0700);
    ASSERT_EQ_INT(python_worker_create(&w, "x", g_dir, "noconfig", 32, &o, err, sizeof err),
                  VX_ERR_EMBED_UNAVAILABLE);
    ASSERT(strstr(err, "config.json"));
}

TEST(python_real_worker_matches_reference_and_survives_kill)
{
    ASSERT_MSG(fixture(), "could not build the fixture in %s", g_dir);
    char err[300] = "";
    python_worker *w = real_worker(0, err);
    ASSERT_MSG(w, "create: %s", err);
    ASSERT_EQ_INT(python_worker_pid(w), 0); /* started on first use */
    float out[2 * 32];
    int rc = python_worker_embed(w, TEXTS, 2, vx_now_us() + 30000000, out, err, sizeof err);
    pid_t pid1 = python_worker_pid(w);
    float d0 = maxdiff(out, g_ref[0], 32), d1 = maxdiff(out + 32, g_ref[1], 32);
    if (pid1 > 0)
        kill(pid1, SIGKILL);
    vx_sleep_ms(100);
    memset(out, 0, sizeof out);
    int rc2 = python_worker_embed(w, TEXTS + 1, 1, vx_now_us() + 30000000, out, err, sizeof err);
    pid_t pid2 = python_worker_pid(w);
    uint32_t starts = python_worker_starts(w);
    float d2 = maxdiff(out, g_ref[1], 32);
    python_worker_destroy(w);
    ASSERT_MSG(rc == VX_OK, "embed: %s", err);
    ASSERT_MSG(d0 < 1e-5f && d1 < 1e-5f, "differs from the reference by %g / %g", d0, d1);
    ASSERT(pid1 > 0);
    ASSERT_MSG(rc2 == VX_OK, "after kill: %s", err);
    ASSERT(pid2 > 0 && pid2 != pid1);
    ASSERT_EQ_INT(starts, 2);
    ASSERT(d2 < 1e-5f);
}

TEST(python_health_check_restarts_a_dead_worker_without_requests)
{
    ASSERT_MSG(fixture(), "could not build the fixture in %s", g_dir);
    char err[300] = "";
    python_worker *w = real_worker(200, err);
    ASSERT_MSG(w, "create: %s", err);
    float out[32];
    int rc = python_worker_embed(w, TEXTS, 1, 0, out, err, sizeof err);
    pid_t pid1 = python_worker_pid(w);
    if (pid1 > 0)
        kill(pid1, SIGKILL);
    pid_t pid2 = 0;
    for (int i = 0; i < 100 && ((pid2 = python_worker_pid(w)) == pid1 || pid2 == 0); i++)
        vx_sleep_ms(100);
    python_worker_destroy(w);
    ASSERT_MSG(rc == VX_OK, "embed: %s", err);
    ASSERT(pid1 > 0);
    ASSERT_MSG(pid2 > 0 && pid2 != pid1, "supervisor did not restart the worker (pid %d)", (int)pid2);
}

TEST(python_hung_worker_times_out_and_is_killed)
{
    ASSERT_MSG(fixture(), "could not build the fixture in %s", g_dir);
    char err[300] = "";
    python_worker *w = fake_worker("hang", 4, 500, err);
    ASSERT_MSG(w, "create: %s", err);
    float out[4];
    uint64_t t0 = vx_now_us();
    int rc = python_worker_embed(w, TEXTS, 1, 0, out, err, sizeof err);
    uint64_t ms = (vx_now_us() - t0) / 1000;
    pid_t after = python_worker_pid(w);
    python_worker_destroy(w);
    ASSERT_EQ_INT(rc, VX_ERR_TIMEOUT);
    ASSERT_MSG(ms < 3000, "took %llu ms", (unsigned long long)ms);
    ASSERT_EQ_INT(after, 0);
}

TEST(python_crashing_worker_is_unavailable_then_backs_off)
{
    ASSERT_MSG(fixture(), "could not build the fixture in %s", g_dir);
    char err[300] = "", err2[300] = "";
    python_worker *w = fake_worker("crash", 4, 5000, err);
    ASSERT_MSG(w, "create: %s", err);
    float out[4];
    int rc = python_worker_embed(w, TEXTS, 1, 0, out, err, sizeof err);
    int rc2 = python_worker_embed(w, TEXTS, 1, 0, out, err2, sizeof err2);
    uint32_t starts = python_worker_starts(w);
    python_worker_destroy(w);
    ASSERT_EQ_INT(rc, VX_ERR_EMBED_UNAVAILABLE);
    ASSERT_MSG(strstr(err, "died") && strstr(err, "status 3"), "message: %s", err);
    ASSERT_EQ_INT(starts, 2); /* first try + one retry, then the backoff holds */
    ASSERT_EQ_INT(rc2, VX_ERR_EMBED_UNAVAILABLE);
    ASSERT_MSG(strstr(err2, "restarting"), "message: %s", err2);
}

TEST(python_wrong_dimensions_are_rejected)
{
    ASSERT_MSG(fixture(), "could not build the fixture in %s", g_dir);
    char err[300] = "";
    python_worker *w = fake_worker("wrongdim", 4, 5000, err);
    ASSERT_MSG(w, "create: %s", err);
    float out[2 * 4];
    int rc = python_worker_embed(w, TEXTS, 2, 0, out, err, sizeof err);
    python_worker_destroy(w);
    ASSERT_EQ_INT(rc, VX_ERR_UPSTREAM);
    ASSERT_MSG(strstr(err, "expected 2 × 4"), "message: %s", err);

    w = fake_worker("baddim_ready", 4, 5000, err);
    ASSERT_MSG(w, "create: %s", err);
    rc = python_worker_embed(w, TEXTS, 1, 0, out, err, sizeof err);
    python_worker_destroy(w);
    ASSERT_EQ_INT(rc, VX_ERR_EMBED_UNAVAILABLE);
    ASSERT_MSG(strstr(err, "33 dimensions, the registry says 4"), "message: %s", err);

    /* a good worker; it must not see key variables of the service */
    setenv("VX_TEST_OPENAI_API_KEY", "sk-never-for-workers", 1);
    setenv("HF_API_TOKEN", "hf-never-for-workers", 1);
    w = fake_worker("good", 4, 5000, err);
    ASSERT_MSG(w, "create: %s", err);
    rc = python_worker_embed(w, TEXTS, 2, 0, out, err, sizeof err);
    python_worker_destroy(w);
    unsetenv("VX_TEST_OPENAI_API_KEY");
    unsetenv("HF_API_TOKEN");
    ASSERT_MSG(rc == VX_OK, "good fake: %s", err);
    ASSERT(out[0] == 0.5f && out[7] == 0.5f);
}
