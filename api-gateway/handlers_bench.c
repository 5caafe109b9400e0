/*
 * handlers_bench.c — POST /benchmark (SPEC §3.2).
 *
 * Runs on a scratch collection "_vx_bench_<8 hex: creation time, unix
 * seconds><8 hex: random>" that is created first
 * and ALWAYS deleted afterwards (also on errors), so user data is never
 * touched. Bounds (400 otherwise): vector_count 1..100000, dimension
 * 1..VX_MAX_DIM, search_count 1..10000, and vector_count × dimension <=
 * API_BENCH_MAX_FLOATS (keeps the scratch collection under ~200 MB).
 * Vectors are uniform random in [-1, 1). Inserts go in batches of
 * VX_MAX_BATCH; "insert.operations" counts vectors, avg is per vector.
 * "search" times search_count k=10 searches with random queries.
 * "persistence": with test_persistence, a POINTS_GET of every inserted
 * vector (read-back), else null.
 *
 * A run cut short by a crash of the store or the gateway cannot delete its
 * scratch collection, which the store has logged. So each run first removes
 * every scratch collection created more than API_BENCH_STALE_S ago that is
 * not a run in flight in this gateway (PUT refuses the prefix, so these are
 * only ever ours). The age matters when several gateways share a store: a
 * younger one may be another gateway's run in flight. Names without a
 * plausible time (more than a day ahead: the random names of earlier
 * versions) count as stale.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

#define API_BENCH_MAX_VECTORS 100000
#define API_BENCH_MAX_SEARCHES 10000
#define API_BENCH_MAX_FLOATS 50000000ull
#define API_BENCH_MAX_RUNNING 8 /* concurrent runs per gateway (503 beyond) */
/* A scratch collection this old is a leftover: the longest run the bounds
 * allow takes minutes, not half an hour. */
#define API_BENCH_STALE_S 1800

/* Scratch collections of the runs in flight in this process. */
static pthread_mutex_t bench_mu = PTHREAD_MUTEX_INITIALIZER;
static char bench_running[API_BENCH_MAX_RUNNING][32];

/* The slot holding name ("" finds a free one), or -1. Caller holds bench_mu. */
static int bench_slot(const char *name)
{
    for (int i = 0; i < API_BENCH_MAX_RUNNING; i++)
        if (strcmp(bench_running[i], name) == 0)
            return i;
    return -1;
}

/* Records name as in flight; false when API_BENCH_MAX_RUNNING already run. */
static bool bench_register(const char *name)
{
    pthread_mutex_lock(&bench_mu);
    int i = bench_slot("");
    if (i >= 0)
        snprintf(bench_running[i], sizeof bench_running[i], "%s", name);
    pthread_mutex_unlock(&bench_mu);
    return i >= 0;
}

static void bench_unregister(const char *name)
{
    pthread_mutex_lock(&bench_mu);
    int i = bench_slot(name);
    if (i >= 0)
        bench_running[i][0] = '\0';
    pthread_mutex_unlock(&bench_mu);
}

static bool bench_is_running(const char *name)
{
    pthread_mutex_lock(&bench_mu);
    bool yes = bench_slot(name) >= 0;
    pthread_mutex_unlock(&bench_mu);
    return yes;
}

bool api_is_bench_scratch_name(const char *name)
{
    size_t n = strlen(API_BENCH_PREFIX);
    if (strncmp(name, API_BENCH_PREFIX, n) != 0 || strlen(name) != n + 16)
        return false;
    for (const char *p = name + n; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* True when scratch collection name (api_is_bench_scratch_name) was created
 * more than API_BENCH_STALE_S ago, or carries no plausible creation time. */
static bool bench_is_stale(const char *name, uint64_t now_s)
{
    char hex[9];
    memcpy(hex, name + strlen(API_BENCH_PREFIX), 8);
    hex[8] = '\0';
    uint64_t created = strtoull(hex, NULL, 16);
    return created + API_BENCH_STALE_S < now_s || created > now_s + 86400;
}

/* Deletes the scratch collections that interrupted runs left behind. Best
 * effort: a failure is logged and the run goes on. */
static void bench_sweep(api_ctx *c, vx_arena *a)
{
    vx_request req;
    vx_reply rep;
    char err[128];
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_COLL_LIST;
    vx_arena_reset(a);
    if (upstream_call(c->srv->up, UP_STORE, &req, a, &rep, err, sizeof(err)))
        return;
    for (uint32_t i = 0; i < rep.body.coll_list.n_colls; i++) {
        const char *name = rep.body.coll_list.colls[i].config.name;
        if (!api_is_bench_scratch_name(name) || bench_is_running(name) ||
            !bench_is_stale(name, vx_wall_ms() / 1000))
            continue;
        vx_request del;
        vx_reply drep;
        memset(&del, 0, sizeof(del));
        del.type = VX_MSG_COLL_DELETE;
        del.body.coll_name.name = name;
        if (upstream_call(c->srv->up, UP_STORE, &del, a, &drep, err, sizeof(err)))
            VX_WARN("benchmark: could not remove %s, left by an interrupted run: %s", name, err);
        else
            VX_INFO("benchmark: removed %s, left by an interrupted run", name);
    }
}

typedef struct bench_phase {
    const char *name;
    double total_ms;
    uint64_t ops;
} bench_phase;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill_random(float *v, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((double)(rng_next(s) >> 11) / 4503599627370496.0 - 1.0);
}

static void write_phase(vx_jsonw *w, const bench_phase *p)
{
    vx_jsonw_begin_object(w);
    vx_jsonw_key(w, "name");
    vx_jsonw_string(w, p->name);
    vx_jsonw_key(w, "total_time_ms");
    api_write_ms(w, p->total_ms);
    vx_jsonw_key(w, "avg_time_ms");
    api_write_ms(w, p->ops ? p->total_ms / (double)p->ops : 0.0);
    vx_jsonw_key(w, "operations");
    vx_jsonw_uint(w, p->ops);
    vx_jsonw_end_object(w);
}

/* One store call with a scratch arena; answers the error on failure. */
static int bench_call(api_ctx *c, vx_request *req, vx_arena *a)
{
    vx_reply rep;
    vx_arena_reset(a);
    int rc = upstream_call(c->srv->up, UP_STORE, req, a, &rep, c->err, sizeof(c->err));
    if (rc)
        api_send_error(c, rc, "benchmark: %s", c->err);
    return rc;
}

void h_benchmark(api_ctx *c)
{
    uint32_t nvec, dim, nsearch;
    bool persist;
    int rc = rq_require_object(c->body, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_get_uint(c->body, "vector_count", "vector_count", 1, API_BENCH_MAX_VECTORS, 1000,
                         false, &nvec, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_get_uint(c->body, "dimension", "dimension", 1, VX_MAX_DIM, 384, false, &dim,
                         c->err, sizeof(c->err));
    if (!rc)
        rc = rq_get_uint(c->body, "search_count", "search_count", 1, API_BENCH_MAX_SEARCHES, 100,
                         false, &nsearch, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_get_bool(c->body, "test_persistence", "test_persistence", false, &persist, c->err,
                         sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    if ((uint64_t)nvec * dim > API_BENCH_MAX_FLOATS) {
        api_send_error(c, VX_ERR_INVALID, "vector_count: vector_count x dimension must be <= %llu",
                       (unsigned long long)API_BENCH_MAX_FLOATS);
        return;
    }

    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) || seed == 0)
        seed = vx_wall_ms() | 1;
    char name[32];
    snprintf(name, sizeof(name), API_BENCH_PREFIX "%08llx%08llx",
             (unsigned long long)(vx_wall_ms() / 1000) & 0xffffffffull,
             (unsigned long long)seed & 0xffffffffull);
    if (!bench_register(name)) {
        api_send_error(c, VX_ERR_OVERLOADED, "benchmark: %d runs already in progress",
                       API_BENCH_MAX_RUNNING);
        return;
    }
    vx_arena scratch;
    vx_arena_init(&scratch, 64 * 1024);
    bench_sweep(c, &scratch);
    vx_request req;
    bool created = false;
    bench_phase ins = {"insert", 0, 0}, srch = {"search", 0, 0}, per = {"persistence", 0, 0};
    uint32_t batch = VX_MAX_BATCH;
    float *vecs = vx_arena_alloc(c->arena, (size_t)batch * dim * sizeof(float));
    vx_point *pts = vx_arena_alloc(c->arena, batch * sizeof(vx_point));
    char (*ids)[16] = vx_arena_alloc(c->arena, (size_t)batch * 16);

    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_COLL_CREATE;
    req.body.coll_create.name = name;
    req.body.coll_create.dimension = dim;
    req.body.coll_create.metric = VX_METRIC_COSINE;
    req.body.coll_create.index.type = VX_INDEX_HNSW;
    req.body.coll_create.index.m = VX_HNSW_M_DEFAULT;
    req.body.coll_create.index.ef_construction = VX_HNSW_EFC_DEFAULT;
    if (bench_call(c, &req, &scratch))
        goto done;
    created = true;

    for (uint32_t off = 0; off < nvec; off += batch) {
        uint32_t n = nvec - off < batch ? nvec - off : batch;
        fill_random(vecs, (size_t)n * dim, &seed);
        for (uint32_t i = 0; i < n; i++) {
            snprintf(ids[i], 16, "v%u", off + i);
            pts[i] = (vx_point){.id = ids[i], .vector = vecs + (size_t)i * dim, .dim = dim};
        }
        memset(&req, 0, sizeof(req));
        req.type = VX_MSG_POINTS_UPSERT;
        req.body.upsert.collection = name;
        req.body.upsert.points = pts;
        req.body.upsert.n_points = n;
        uint64_t t0 = vx_now_ns();
        if (bench_call(c, &req, &scratch))
            goto done;
        ins.total_ms += (double)(vx_now_ns() - t0) / 1e6;
        ins.ops += n;
    }

    for (uint32_t i = 0; i < nsearch; i++) {
        fill_random(vecs, dim, &seed);
        memset(&req, 0, sizeof(req));
        req.type = VX_MSG_SEARCH;
        req.body.search.collection = name;
        req.body.search.vector = vecs;
        req.body.search.dim = dim;
        req.body.search.k = nvec < 10 ? nvec : 10;
        uint64_t t0 = vx_now_ns();
        if (bench_call(c, &req, &scratch))
            goto done;
        srch.total_ms += (double)(vx_now_ns() - t0) / 1e6;
        srch.ops++;
    }

    for (uint32_t i = 0; persist && i < nvec; i++) {
        char id[16];
        snprintf(id, sizeof(id), "v%u", i);
        memset(&req, 0, sizeof(req));
        req.type = VX_MSG_POINTS_GET;
        req.body.get.collection = name;
        req.body.get.id = id;
        req.body.get.with_vector = true;
        uint64_t t0 = vx_now_ns();
        if (bench_call(c, &req, &scratch))
            goto done;
        per.total_ms += (double)(vx_now_ns() - t0) / 1e6;
        per.ops++;
    }

    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "params");
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "vector_count");
    vx_jsonw_uint(&w, nvec);
    vx_jsonw_key(&w, "dimension");
    vx_jsonw_uint(&w, dim);
    vx_jsonw_key(&w, "search_count");
    vx_jsonw_uint(&w, nsearch);
    vx_jsonw_key(&w, "test_persistence");
    vx_jsonw_bool(&w, persist);
    vx_jsonw_end_object(&w);
    vx_jsonw_key(&w, "insert");
    write_phase(&w, &ins);
    vx_jsonw_key(&w, "search");
    write_phase(&w, &srch);
    vx_jsonw_key(&w, "persistence");
    if (persist)
        write_phase(&w, &per);
    else
        vx_jsonw_null(&w);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);

done:
    if (created) {
        memset(&req, 0, sizeof(req));
        req.type = VX_MSG_COLL_DELETE;
        req.body.coll_name.name = name;
        vx_reply rep;
        char err[128];
        vx_arena_reset(&scratch);
        if (upstream_call(c->srv->up, UP_STORE, &req, &scratch, &rep, err, sizeof(err)))
            VX_WARN("benchmark: could not delete scratch collection %s: %s (the next run "
                    "removes it)", name, err);
    }
    bench_unregister(name);
    vx_arena_fini(&scratch);
}
