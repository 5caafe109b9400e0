/*
 * coll_index_bg_test.c — the background rebuild (coll_index_bg.c): a
 * delete past the tombstone threshold only marks the graph due (the old
 * graph keeps answering, without the deleted points); a build driven step
 * by step with upserts, overwrites and deletes between its chunks ends
 * with a graph holding exactly the live points with their current rows
 * (recall against the exact scan, overwritten points found by their new
 * vectors, deleted ones never returned); a collection dropped mid-build
 * discards the build; and the store's rebuilder thread does the same on
 * its own.
 */
#include "coll_index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rebuilder.h"
#include "store.h"
#include "store_test_util.h"
#include "vx_err.h"
#include "vx_test.h"

#define DIM 16
#define N0 3000u

static int g_wakes;
static void count_wake(void *arg)
{
    (void)arg;
    g_wakes++;
}

static vx_coll_config cfg_of(const char *name)
{
    vx_coll_config cfg = {0};
    cfg.name = name;
    cfg.dimension = DIM;
    cfg.metric = VX_METRIC_L2;
    cfg.index.type = VX_INDEX_HNSW;
    cfg.index.m = 12;
    cfg.index.ef_construction = 64;
    return cfg;
}

static void vec_of(uint32_t i, uint32_t version, float *v)
{
    uint64_t s = 0x9e3779b97f4a7c15ull * (i + 1) + version * 7919u;
    for (int d = 0; d < DIM; d++)
        v[d] = tu_randf(&s) * 4.0f;
}

/* Upserts ids p<from..to) with version ver of their vectors. */
static int put(collection *c, uint32_t from, uint32_t to, uint32_t ver)
{
    static float rows[1000 * DIM];
    for (uint32_t b = from; b < to; b += 1000) {
        uint32_t n = to - b < 1000 ? to - b : 1000;
        tu_reset();
        vx_point *p = vx_arena_alloc(&tu_arena, n * sizeof *p);
        for (uint32_t i = 0; i < n; i++) {
            vec_of(b + i, ver, rows + (size_t)i * DIM);
            p[i].id = vx_arena_sprintf(&tu_arena, "p%u", b + i);
            p[i].vector = rows + (size_t)i * DIM;
            p[i].dim = DIM;
        }
        char err[256];
        int rc = coll_upsert(c, p, n, err, sizeof err);
        if (rc)
            return rc;
    }
    return VX_OK;
}

static void del(collection *c, uint32_t from, uint32_t to, uint32_t step)
{
    tu_reset();
    for (uint32_t i = from; i < to; i += step) {
        const char *id = vx_arena_sprintf(&tu_arena, "p%u", i);
        coll_delete_ids(c, &id, 1);
    }
    coll_index_flush(coll_ann_mut(c), c);
}

/* An ANN search (k, ef) for p<i>'s version ver vector, answered in a. */
static int search_for(collection *c, uint32_t i, uint32_t ver, uint32_t k, uint32_t ef,
                      vx_arena *a, vx_search_rep *rep)
{
    float v[DIM];
    vec_of(i, ver, v);
    vx_search_req req = {0};
    req.vector = v;
    req.dim = DIM;
    req.k = k;
    req.ef = ef;
    char err[256];
    return coll_search(c, &req, a, rep, err, sizeof err);
}

/* The top hit of an ANN search for p<i>'s version ver vector, or NULL. */
static const char *top(collection *c, uint32_t i, uint32_t ver)
{
    tu_reset();
    vx_search_rep rep;
    if (search_for(c, i, ver, 1, 64, &tu_arena, &rep) || rep.n_hits == 0)
        return NULL;
    return rep.hits[0].id;
}

static bool is_id(const char *got, uint32_t i)
{
    char want[32];
    snprintf(want, sizeof want, "p%u", i);
    return got && strcmp(got, want) == 0;
}

TEST(bg_rebuild_with_writes_between_chunks)
{
    coll_index_set_bg_min(1000);
    coll_index_set_rebuilder(count_wake, NULL);
    g_wakes = 0;
    vx_coll_config cfg = cfg_of("bg");
    collection *c = NULL;
    char err[256];
    ASSERT_EQ_INT(coll_create(&cfg, &c, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(put(c, 0, N0, 0), VX_OK);
    coll_index *ix = coll_ann_mut(c);
    coll_index_stats st;
    coll_index_get_stats(ix, &st);
    uint64_t rebuilds0 = st.rebuilds;

    /* delete 40 %: the graph is only marked due, and still answers */
    del(c, 0, N0, 5);
    del(c, 1, N0, 5);
    ASSERT_MSG(g_wakes >= 1, "the rebuilder was not woken");
    ASSERT_MSG(coll_index_rebuild_due(ix), "not due after deleting 40 %%");
    coll_index_get_stats(ix, &st);
    ASSERT_EQ_INT(st.rebuilds, rebuilds0);
    ASSERT_MSG(st.nodes > st.live, "no tombstones: rebuilt synchronously?");
    ASSERT_MSG(top(c, 0, 0) == NULL || !is_id(top(c, 0, 0), 0), "a deleted point was returned");
    ASSERT_MSG(is_id(top(c, 2, 0), 2), "a live point was not found while due");

    /* the build, with writes between its chunks */
    coll_index_build *b = NULL;
    ASSERT_EQ_INT(coll_index_build_begin(ix, c, &b), VX_OK);
    ASSERT_MSG(b != NULL, "begin found nothing due");
    bool done = false;
    int chunk = 0;
    while (!done) {
        ASSERT_EQ_INT(coll_index_build_copy(b, ix, c, &done), VX_OK);
        ASSERT_EQ_INT(coll_index_build_insert(b), VX_OK);
        if (chunk++ == 0) {
            ASSERT_EQ_INT(put(c, N0, N0 + 500, 0), VX_OK); /* new points */
            ASSERT_EQ_INT(put(c, 2, 3, 1), VX_OK);         /* p2 overwritten (copied) */
            ASSERT_EQ_INT(put(c, N0 - 3, N0 - 2, 1), VX_OK); /* overwritten before its copy */
            del(c, 3, 4, 1);                                 /* copied, then deleted */
            del(c, N0 - 2, N0 - 1, 1);                       /* deleted before its copy */
        }
    }
    ASSERT_EQ_INT(coll_index_build_finish(ix, c, b), VX_OK);
    coll_index_get_stats(ix, &st);
    ASSERT_EQ_INT(st.rebuilds, rebuilds0 + 1);
    ASSERT_EQ_INT(st.live, coll_count(c));
    ASSERT_MSG(st.nodes - st.live < st.live / 10, "%llu nodes for %llu live after the rebuild",
               (unsigned long long)st.nodes, (unsigned long long)st.live);
    ASSERT_MSG(!coll_index_rebuild_due(ix), "still due after finish");
    ASSERT_MSG(is_id(top(c, 2, 1), 2), "p2 not found by its new vector");
    ASSERT_MSG(is_id(top(c, N0 - 3, 1), N0 - 3), "p%u not found by its new vector", N0 - 3);
    ASSERT_MSG(!is_id(top(c, 3, 0), 3), "p3 (deleted during the build) returned");
    ASSERT_MSG(!is_id(top(c, N0 - 2, 0), N0 - 2), "p%u (deleted during the build) returned", N0 - 2);
    uint32_t found = 0, tried = 0;
    for (uint32_t i = N0; i < N0 + 500; i += 5, tried++)
        found += is_id(top(c, i, 0), i);
    ASSERT_MSG(found >= tried * 9 / 10, "new points found %u of %u", found, tried);
    found = tried = 0;
    for (uint32_t i = 2; i < N0 - 5; i += 5, tried++) /* i % 5 == 2: never deleted */
        found += is_id(top(c, i, i == 2), i);
    ASSERT_MSG(found >= tried * 9 / 10, "old points found %u of %u", found, tried);

    /* without a rebuilder, a graph that becomes due is rebuilt at once */
    coll_index_set_rebuilder(NULL, NULL);
    del(c, N0, N0 + 500, 1);
    del(c, 0, N0, 3);
    coll_index_get_stats(ix, &st);
    ASSERT_MSG(st.rebuilds >= rebuilds0 + 2, "no synchronous rebuild");
    ASSERT_EQ_INT(st.live, coll_count(c));
    ASSERT_MSG(!coll_index_rebuild_due(ix) && !st.rebuilding, "due after a synchronous rebuild");
    coll_index_set_bg_min(COLL_INDEX_BG_MIN);
    coll_destroy(c);
}

TEST(bg_rebuild_abandoned_when_the_collection_goes)
{
    coll_index_set_bg_min(1000);
    coll_index_set_rebuilder(count_wake, NULL);
    vx_coll_config cfg = cfg_of("gone");
    collection *c = NULL, *c2 = NULL;
    char err[256];
    ASSERT_EQ_INT(coll_create(&cfg, &c, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(put(c, 0, N0, 0), VX_OK);
    del(c, 0, N0, 2);
    coll_index_build *b = NULL;
    ASSERT_EQ_INT(coll_index_build_begin(coll_ann_mut(c), c, &b), VX_OK);
    ASSERT_MSG(b != NULL, "not due");
    bool done;
    ASSERT_EQ_INT(coll_index_build_copy(b, coll_ann_mut(c), c, &done), VX_OK);
    /* a namesake: another index, so the build must not touch it */
    ASSERT_EQ_INT(coll_create(&cfg, &c2, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(put(c2, 0, 10, 0), VX_OK);
    ASSERT_MSG(coll_index_uid(coll_ann_mut(c2)) != coll_index_uid(coll_ann_mut(c)), "uid reused");
    ASSERT_EQ_INT(coll_index_build_copy(b, coll_ann_mut(c2), c2, &done), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(coll_index_build_finish(coll_ann_mut(c2), c2, b), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(coll_count(c2), 10);
    coll_index_set_rebuilder(NULL, NULL);
    coll_index_set_bg_min(COLL_INDEX_BG_MIN);
    coll_destroy(c2);
    coll_destroy(c);
}

TEST(bg_rebuilder_thread_rebuilds_a_due_graph)
{
    coll_index_set_bg_min(1000);
    store *st;
    ASSERT_EQ_INT(store_open(&st), VX_OK);
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_coll_info info;
    char err[256];
    vx_coll_config cfg = cfg_of("thr");
    ASSERT_EQ_INT(store_create(st, &cfg, &a, &info, err, sizeof err), VX_OK);
    store_ref *r;
    ASSERT_EQ_INT(store_acquire(st, "thr", true, &r), VX_OK);
    ASSERT_EQ_INT(put(store_ref_coll(r), 0, N0, 0), VX_OK);
    store_release(r);
    rebuilder *rb;
    ASSERT_EQ_INT(rebuilder_start(&rb, st), VX_OK);
    ASSERT_EQ_INT(store_acquire(st, "thr", true, &r), VX_OK);
    del(store_ref_coll(r), 0, N0, 2); /* 50 %: due, the thread is woken */
    store_release(r);
    for (int i = 0; i < 1000 && rebuilder_count(rb) == 0; i++)
        usleep(10000);
    ASSERT_EQ_INT(rebuilder_count(rb), 1);
    ASSERT_EQ_INT(store_acquire(st, "thr", false, &r), VX_OK);
    coll_index_stats s;
    coll_index_get_stats(coll_ann(store_ref_coll(r)), &s);
    ASSERT_EQ_INT(s.live, N0 / 2);
    ASSERT_EQ_INT(s.nodes, N0 / 2);
    ASSERT_MSG(is_id(top(store_ref_coll(r), 1, 0), 1), "p1 not found after the rebuild");
    store_release(r);
    rebuilder_stop(rb);
    coll_index_set_bg_min(COLL_INDEX_BG_MIN);
    store_close(st);
    vx_arena_fini(&a);
}

/* Searches and writes from other threads while the rebuilder rebuilds
 * (make test runs it under ASan; by hand under ThreadSanitizer:
 * make SANITIZE=thread BUILD=build-tsan build-tsan/tests/store-svc_coll_index_bg_test):
 * no search fails, and the graph ends with exactly the live points. */
typedef struct {
    store *st;
    bool stop; /* atomic */
    int failures;
    unsigned long searches;
} bg_ctx;

static void *bg_searcher(void *p)
{
    bg_ctx *x = p;
    vx_arena a;
    vx_arena_init(&a, 1 << 14);
    for (uint32_t i = 0; !__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE); i++) {
        store_ref *r;
        if (store_acquire(x->st, "mix", false, &r) != VX_OK) {
            x->failures++;
            continue;
        }
        vx_arena_reset(&a);
        vx_search_rep rep;
        if (search_for(store_ref_coll(r), i % 8000, 0, 5, 32, &a, &rep) != VX_OK)
            x->failures++;
        store_release(r);
        x->searches++;
    }
    vx_arena_fini(&a);
    return NULL;
}

/* A store holding the empty collection "mix" (the one bg_searcher reads). */
static store *open_mix_store(void)
{
    store *st = NULL;
    if (store_open(&st) != VX_OK)
        return NULL;
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_coll_info info;
    char err[256];
    vx_coll_config cfg = cfg_of("mix");
    int rc = store_create(st, &cfg, &a, &info, err, sizeof err);
    vx_arena_fini(&a);
    if (rc != VX_OK) {
        store_close(st);
        return NULL;
    }
    return st;
}

TEST(bg_rebuild_beside_searches_and_writes)
{
    coll_index_set_bg_min(1000);
    bg_ctx x = {0};
    ASSERT((x.st = open_mix_store()) != NULL);
    store_ref *r;
    ASSERT_EQ_INT(store_acquire(x.st, "mix", true, &r), VX_OK);
    ASSERT_EQ_INT(put(store_ref_coll(r), 0, 8000, 0), VX_OK);
    store_release(r);
    rebuilder *rb;
    ASSERT_EQ_INT(rebuilder_start(&rb, x.st), VX_OK);
    pthread_t th;
    pthread_create(&th, NULL, bg_searcher, &x);
    /* three cycles: delete half of a range (due), then write more points
     * and overwrite some while the rebuild may run */
    for (uint32_t cycle = 0; cycle < 3; cycle++) {
        ASSERT_EQ_INT(store_acquire(x.st, "mix", true, &r), VX_OK);
        if (cycle < 2)
            del(store_ref_coll(r), cycle, 8000, 2); /* the even ids, then the odd ones */
        else
            del(store_ref_coll(r), 8000, 9600, 1); /* the points of cycles 0 and 1 */
        store_release(r);
        for (uint32_t j = 0; j < 8; j++) {
            ASSERT_EQ_INT(store_acquire(x.st, "mix", true, &r), VX_OK);
            ASSERT_EQ_INT(put(store_ref_coll(r), 8000 + cycle * 800 + j * 100,
                              8000 + cycle * 800 + j * 100 + 100, 0), VX_OK);
            ASSERT_EQ_INT(put(store_ref_coll(r), j * 7, j * 7 + 3, cycle + 1), VX_OK);
            store_release(r);
            usleep(2000);
        }
        for (int i = 0; i < 1000 && rebuilder_count(rb) <= cycle; i++)
            usleep(10000);
    }
    __atomic_store_n(&x.stop, true, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    unsigned long rebuilt = rebuilder_count(rb);
    rebuilder_stop(rb);
    ASSERT_MSG(x.failures == 0, "%d searches failed", x.failures);
    ASSERT_MSG(x.searches > 0, "no search ran");
    ASSERT_MSG(rebuilt >= 1, "no background rebuild");
    ASSERT_EQ_INT(store_acquire(x.st, "mix", false, &r), VX_OK);
    coll_index_stats s;
    coll_index_get_stats(coll_ann(store_ref_coll(r)), &s);
    ASSERT_EQ_INT(s.live, coll_count(store_ref_coll(r)));
    store_release(r);
    coll_index_set_bg_min(COLL_INDEX_BG_MIN);
    store_close(x.st);
}

/* What a restart after kill -9 leaves (coll_index.h, "links deferred by WAL
 * replay"): a replayed tail queued, not linked. The rebuilder links it in
 * chunks while other threads search and write (overwrite and delete queued
 * points): no search fails, and the graph ends with exactly the live
 * points, overwritten ones under their new vectors. */
TEST(bg_rebuilder_links_a_replayed_tail_beside_searches_and_writes)
{
    bg_ctx x = {0};
    ASSERT((x.st = open_mix_store()) != NULL);
    store_ref *r;
    ASSERT_EQ_INT(store_acquire(x.st, "mix", true, &r), VX_OK);
    collection *c = store_ref_coll(r);
    ASSERT_EQ_INT(put(c, 0, 3000, 0), VX_OK);
    coll_index_defer_links(coll_ann_mut(c)); /* as the replay does */
    ASSERT_EQ_INT(put(c, 3000, 8000, 0), VX_OK);
    coll_index_end_deferred_links(coll_ann_mut(c), c);
    ASSERT_EQ_INT(coll_index_backlog_size(coll_ann(c)), 5000);
    store_release(r);

    pthread_t th;
    pthread_create(&th, NULL, bg_searcher, &x);
    rebuilder *rb;
    ASSERT_EQ_INT(rebuilder_start(&rb, x.st), VX_OK); /* its first pass catches up */
    for (uint32_t j = 0; j < 10; j++) {
        ASSERT_EQ_INT(store_acquire(x.st, "mix", true, &r), VX_OK);
        ASSERT_EQ_INT(put(store_ref_coll(r), 3000 + j * 500, 3000 + j * 500 + 5, 1), VX_OK);
        store_release(r);
        ASSERT_EQ_INT(store_acquire(x.st, "mix", true, &r), VX_OK);
        del(store_ref_coll(r), 3010 + j * 500, 3015 + j * 500, 1);
        store_release(r);
        usleep(20000);
    }
    uint32_t left = 1;
    for (int i = 0; i < 3000 && left; i++) {
        ASSERT_EQ_INT(store_acquire(x.st, "mix", false, &r), VX_OK);
        left = coll_index_backlog_size(coll_ann(store_ref_coll(r)));
        store_release(r);
        if (left)
            usleep(10000);
    }
    __atomic_store_n(&x.stop, true, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    rebuilder_stop(rb);
    ASSERT_MSG(left == 0, "%u replayed points still unlinked after 30 s", left);
    ASSERT_MSG(x.failures == 0, "%d searches failed", x.failures);
    ASSERT_EQ_INT(store_acquire(x.st, "mix", false, &r), VX_OK);
    c = store_ref_coll(r);
    coll_index_stats s;
    coll_index_get_stats(coll_ann(c), &s);
    ASSERT_EQ_INT(s.live, coll_count(c));
    ASSERT_EQ_INT(coll_count(c), 8000 - 50);
    for (uint32_t j = 0; j < 10; j++) {
        ASSERT_MSG(is_id(top(c, 3000 + j * 500, 1), 3000 + j * 500), "overwrite %u not found",
                   3000 + j * 500);
        ASSERT_MSG(!is_id(top(c, 3010 + j * 500, 0), 3010 + j * 500), "deleted %u returned",
                   3010 + j * 500);
        ASSERT_MSG(is_id(top(c, 3100 + j * 500, 0), 3100 + j * 500), "replayed %u not found",
                   3100 + j * 500);
    }
    store_release(r);
    store_close(x.st);
}
