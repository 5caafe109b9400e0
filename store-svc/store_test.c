/*
 * store_test.c — the registry: idempotent create / conflict, drop, list
 * order, create-if-missing, and the locking: concurrent searches and
 * upserts on one collection, and a drop while searches run (run under
 * ASan+UBSan by `make test`: a use-after-free or a race on the collection
 * would show up there).
 */
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "vx_clock.h"
#include "vx_err.h"
#include "vx_test.h"

static vx_coll_config cfg_of(const char *name, uint32_t dim, vx_metric m)
{
    vx_coll_config c = {0};
    c.name = name;
    c.dimension = dim;
    c.metric = m;
    c.index.type = VX_INDEX_FLAT;
    return c;
}

TEST(store_create_idempotent_conflict_drop)
{
    store *s;
    vx_arena a;
    vx_arena_init(&a, 4096);
    ASSERT_EQ_INT(store_open(&s), VX_OK);
    char err[256];
    vx_coll_info info;
    vx_coll_config c = cfg_of("beta", 8, VX_METRIC_DOT);
    c.model = "use-lite";
    ASSERT_EQ_INT(store_create(s, &c, &a, &info, err, sizeof err), VX_OK);
    ASSERT_STR_EQ(info.config.name, "beta");
    ASSERT_STR_EQ(info.config.model, "use-lite");
    ASSERT_EQ_INT(info.count, 0);
    ASSERT_EQ_INT(store_create(s, &c, &a, &info, err, sizeof err), VX_OK); /* same: fine */
    vx_coll_config d = c;
    d.dimension = 9;
    ASSERT_EQ_INT(store_create(s, &d, &a, &info, err, sizeof err), VX_ERR_CONFLICT);
    d = c;
    d.model = NULL;
    ASSERT_EQ_INT(store_create(s, &d, &a, &info, err, sizeof err), VX_ERR_CONFLICT);
    vx_coll_config e = cfg_of("alpha", 4, VX_METRIC_L2);
    ASSERT_EQ_INT(store_create(s, &e, &a, &info, err, sizeof err), VX_OK);
    vx_coll_config bad = cfg_of("no/slash", 4, VX_METRIC_L2);
    ASSERT_EQ_INT(store_create(s, &bad, &a, &info, err, sizeof err), VX_ERR_INVALID);

    vx_coll_info *list;
    uint32_t n;
    store_list(s, &a, &list, &n);
    ASSERT_EQ_INT(n, 2);
    ASSERT_STR_EQ(list[0].config.name, "alpha");
    ASSERT_STR_EQ(list[1].config.name, "beta");

    ASSERT_EQ_INT(store_drop(s, "alpha"), VX_OK);
    ASSERT_EQ_INT(store_drop(s, "alpha"), VX_ERR_NOT_FOUND);
    store_ref *r;
    ASSERT_EQ_INT(store_acquire(s, "alpha", false, &r), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store_acquire(s, "beta", false, &r), VX_OK);
    ASSERT_EQ_INT(coll_config(store_ref_coll(r))->dimension, 8);
    store_release(r);

    /* create-if-missing keeps an existing collection's settings */
    vx_coll_config auto_cfg = cfg_of("beta", 3, VX_METRIC_COSINE);
    bool created;
    ASSERT_EQ_INT(store_acquire_or_create(s, &auto_cfg, &r, &created, err, sizeof err), VX_OK);
    ASSERT(!created);
    ASSERT_EQ_INT(coll_config(store_ref_coll(r))->dimension, 8);
    store_release(r);
    auto_cfg.name = "default";
    ASSERT_EQ_INT(store_acquire_or_create(s, &auto_cfg, &r, &created, err, sizeof err), VX_OK);
    ASSERT(created);
    store_release(r);
    uint64_t nc, np;
    store_stats(s, &nc, &np, NULL);
    ASSERT_EQ_INT(nc, 2);
    ASSERT_EQ_INT(np, 0);
    store_close(s);
    vx_arena_fini(&a);
}

/* ---- threads ---- */

#define DIM 16
typedef struct {
    store *s;
    const char *name;
    atomic_int *stop;
    int id;
    long ops;
    int failures;
    int not_found;
    char why[256];
} worker;

static void fill(float *v, uint64_t *seed)
{
    for (int i = 0; i < DIM; i++) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((*seed >> 40) % 2000) / 1000.0f - 0.999f;
    }
}

static void *searcher(void *arg)
{
    worker *w = arg;
    vx_arena a;
    vx_arena_init(&a, 1 << 16);
    uint64_t seed = 1000 + (uint64_t)w->id;
    float q[DIM];
    while (!atomic_load(w->stop)) {
        fill(q, &seed);
        vx_search_req req = {0};
        req.vector = q;
        req.dim = DIM;
        req.k = 10;
        req.with_metadata = true;
        store_ref *r;
        int rc = store_acquire(w->s, w->name, false, &r);
        if (rc == VX_ERR_NOT_FOUND) {
            w->not_found++;
            vx_arena_reset(&a);
            continue;
        }
        vx_search_rep rep;
        char err[256];
        uint64_t count = coll_count(store_ref_coll(r));
        bool asc = coll_config(store_ref_coll(r))->metric == VX_METRIC_L2;
        rc = coll_search(store_ref_coll(r), &req, &a, &rep, err, sizeof err);
        store_release(r);
        uint32_t want = count < 10 ? (uint32_t)count : 10;
        if (rc != VX_OK || rep.n_hits != want) {
            snprintf(w->why, sizeof w->why, "rc %d hits %u want %u", rc, rc ? 0 : rep.n_hits, want);
            w->failures++;
        } else {
            for (uint32_t i = 1; i < rep.n_hits; i++)
                if ((asc ? rep.hits[i].score < rep.hits[i - 1].score
                         : rep.hits[i].score > rep.hits[i - 1].score) ||
                    rep.hits[i].id[0] != 'p') {
                    snprintf(w->why, sizeof w->why, "hits out of order at %u", i);
                    w->failures++;
                }
        }
        w->ops++;
        vx_arena_reset(&a);
    }
    vx_arena_fini(&a);
    return NULL;
}

static void *writer(void *arg)
{
    worker *w = arg;
    uint64_t seed = 7;
    char ids[8][32];
    float vecs[8][DIM];
    int next = 0;
    while (!atomic_load(w->stop)) {
        vx_point pts[8];
        for (int i = 0; i < 8; i++) {
            /* half new ids, half overwrites of recent ones */
            int k = i % 2 ? next++ : (next > 50 ? next - 50 + i : i);
            snprintf(ids[i], sizeof ids[i], "p%d", k);
            fill(vecs[i], &seed);
            pts[i] = (vx_point){ids[i], vecs[i], DIM, NULL};
        }
        store_ref *r;
        if (store_acquire(w->s, w->name, true, &r) != VX_OK) {
            w->not_found++;
            continue;
        }
        char err[256];
        if (coll_upsert(store_ref_coll(r), pts, 8, err, sizeof err) != VX_OK)
            w->failures++;
        if (next % 5 == 0) {
            const char *del = ids[1];
            coll_delete_ids(store_ref_coll(r), &del, 1);
        }
        store_release(r);
        w->ops++;
    }
    return NULL;
}

static int run_threads(store *s, const char *name, int n_search, int ms, bool drop_midway,
                       worker *ws)
{
    atomic_int stop;
    atomic_init(&stop, 0);
    pthread_t th[8];
    for (int i = 0; i <= n_search; i++) {
        ws[i] = (worker){s, name, &stop, i, 0, 0, 0, ""};
        pthread_create(&th[i], NULL, i == n_search ? writer : searcher, &ws[i]);
    }
    vx_sleep_ms((uint32_t)ms / 2);
    int drop_rc = VX_OK;
    if (drop_midway)
        drop_rc = store_drop(s, name);
    vx_sleep_ms((uint32_t)ms / 2);
    atomic_store(&stop, 1);
    for (int i = 0; i <= n_search; i++)
        pthread_join(th[i], NULL);
    return drop_rc;
}

TEST(store_concurrent_search_and_upsert)
{
    store *s;
    ASSERT_EQ_INT(store_open(&s), VX_OK);
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_coll_info info;
    char err[256];
    vx_coll_config c = cfg_of("hot", DIM, VX_METRIC_COSINE);
    ASSERT_EQ_INT(store_create(s, &c, &a, &info, err, sizeof err), VX_OK);
    worker ws[4];
    run_threads(s, "hot", 3, 800, false, ws);
    for (int i = 0; i < 4; i++) {
        ASSERT_MSG(ws[i].failures == 0, "worker %d: %d failures (%s)", i, ws[i].failures, ws[i].why);
        ASSERT_MSG(ws[i].ops > 0, "worker %d made no progress", i);
    }
    store_close(s);
    vx_arena_fini(&a);
}

TEST(store_drop_while_searching)
{
    store *s;
    ASSERT_EQ_INT(store_open(&s), VX_OK);
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_coll_info info;
    char err[256];
    vx_coll_config c = cfg_of("doomed", DIM, VX_METRIC_L2);
    ASSERT_EQ_INT(store_create(s, &c, &a, &info, err, sizeof err), VX_OK);
    worker ws[4];
    ASSERT_EQ_INT(run_threads(s, "doomed", 3, 600, true, ws), VX_OK);
    for (int i = 0; i < 4; i++) {
        ASSERT_MSG(ws[i].failures == 0, "worker %d: %d failures (%s)", i, ws[i].failures, ws[i].why);
        ASSERT_MSG(ws[i].not_found > 0, "worker %d never saw the drop", i);
    }
    store_ref *r;
    ASSERT_EQ_INT(store_acquire(s, "doomed", false, &r), VX_ERR_NOT_FOUND);
    store_close(s);
    vx_arena_fini(&a);
}

/* PUT and DELETE of one name from several threads: a create answers VX_OK
 * (or, after many lost races in a row, VX_ERR_CONFLICT with a message),
 * never NOT_FOUND, and a drop answers VX_OK or NOT_FOUND. */
typedef struct {
    store *s;
    int creates_ok, drops, bad;
    char why[256];
} churn_worker;

static void *churn_main(void *p)
{
    churn_worker *w = p;
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_coll_config c = cfg_of("churn", 4, VX_METRIC_DOT);
    char err[256];
    for (int i = 0; i < 3000; i++) {
        vx_arena_reset(&a);
        vx_coll_info info;
        err[0] = 0;
        int rc = store_create(w->s, &c, &a, &info, err, sizeof err);
        if (rc == VX_OK && info.config.dimension == 4)
            w->creates_ok++;
        else if (!(rc == VX_ERR_CONFLICT && err[0]) && !w->bad++)
            snprintf(w->why, sizeof w->why, "create: %s (%s)", vx_strerror(rc), err);
        rc = store_drop(w->s, "churn");
        if (rc == VX_OK)
            w->drops++;
        else if (rc != VX_ERR_NOT_FOUND && !w->bad++)
            snprintf(w->why, sizeof w->why, "drop: %s", vx_strerror(rc));
    }
    vx_arena_fini(&a);
    return NULL;
}

TEST(store_create_and_drop_race)
{
    store *s;
    ASSERT_EQ_INT(store_open(&s), VX_OK);
    churn_worker ws[4] = {{.s = s}, {.s = s}, {.s = s}, {.s = s}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, churn_main, &ws[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        ASSERT_MSG(ws[i].bad == 0, "worker %d: %d bad answers, first %s", i, ws[i].bad, ws[i].why);
        ASSERT_MSG(ws[i].creates_ok > 0 && ws[i].drops > 0, "worker %d made no progress", i);
    }
    store_close(s);
}
