/*
 * coll_codes_test.c — the 8-bit codes of a flat collection across a
 * snapshot restore: the restore leaves them out (restart time), exact
 * searches meanwhile give the same answers through the plain scan,
 * coll_codes_catch_up encodes the rest chunk by chunk, and writes during
 * and after the catch-up keep the codes current.
 */
#include "collection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coll_snapshot.h"
#include "snapshot.h"
#include "store.h"
#include "store_test_util.h"
#include "vx_err.h"
#include "vx_test.h"

#define DIM 24
#define N 6000 /* > FLAT_BOUNDED_MIN_SLOTS */

static uint64_t seed = 0x51ED2701ull;
static float frand(void)
{
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(seed >> 11) / (double)(1ull << 53)) * 2.0f - 1.0f;
}

static void put_points(collection *c, uint32_t from, uint32_t n, const char *prefix)
{
    vx_point *pts = vx_arena_alloc(&tu_arena, n * sizeof *pts);
    memset(pts, 0, n * sizeof *pts);
    for (uint32_t i = 0; i < n; i++) {
        char *id = vx_arena_alloc(&tu_arena, 32);
        snprintf(id, 32, "%s%u", prefix, from + i);
        float *v = vx_arena_alloc(&tu_arena, DIM * sizeof *v);
        for (int d = 0; d < DIM; d++)
            v[d] = frand();
        pts[i].id = id;
        pts[i].vector = v;
        pts[i].dim = DIM;
    }
    char err[256];
    for (uint32_t b = 0; b < n; b += 1000) {
        uint32_t m = n - b < 1000 ? n - b : 1000;
        if (coll_upsert(c, pts + b, m, err, sizeof err) != VX_OK)
            abort();
    }
}

/* The top 20 ids and scores for a fixed query, as one string. */
static void answer(const collection *c, const float *q, char *out, size_t len)
{
    vx_search_req req = {0};
    req.vector = q;
    req.dim = DIM;
    req.k = 20;
    vx_search_rep rep;
    char err[256];
    out[0] = '\0';
    if (coll_search_exact(c, &req, &tu_arena, &rep, err, sizeof err) != VX_OK)
        return;
    size_t at = 0;
    for (uint32_t i = 0; i < rep.n_hits && at < len; i++)
        at += (size_t)snprintf(out + at, len - at, "%s:%a ", rep.hits[i].id, (double)rep.hits[i].score);
}

TEST(restored_flat_collection_catches_up_its_codes)
{
    tu_reset();
    char dir[] = "/tmp/vx-codes-XXXXXX";
    ASSERT(mkdtemp(dir));
    vx_coll_config cfg = {0};
    cfg.name = "f";
    cfg.dimension = DIM;
    cfg.metric = VX_METRIC_L2;
    cfg.index.type = VX_INDEX_FLAT;
    collection *c;
    char err[256];
    ASSERT_EQ_INT(coll_create(&cfg, &c, err, sizeof err), VX_OK);
    put_points(c, 0, N, "p");
    ASSERT_EQ_INT(coll_codes_catch_up(c, 100), 0); /* written as they came */
    float q[DIM];
    for (int d = 0; d < DIM; d++)
        q[d] = frand();
    static char before[4096], during[4096], after[4096];
    answer(c, q, before, sizeof before);
    ASSERT(strlen(before) > 20);

    snap_writer *w;
    char path[512];
    ASSERT_EQ_INT(snap_writer_open(&w, dir, 7), VX_OK);
    ASSERT_EQ_INT(csnap_write_meta(w, 7), VX_OK);
    ASSERT_EQ_INT(csnap_write(w, c, 7), VX_OK);
    ASSERT_EQ_INT(snap_writer_commit(w, path, sizeof path), VX_OK);
    coll_destroy(c);

    store *st;
    snap *s;
    ASSERT_EQ_INT(store_open(&st), VX_OK);
    ASSERT_EQ_INT(snap_open(&s, path, 0, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(csnap_load(st, s, err, sizeof err), VX_OK);
    store_ref *ref;
    ASSERT_EQ_INT(store_acquire(st, "f", true, &ref), VX_OK);
    collection *r = store_ref_coll(ref);
    answer(r, q, during, sizeof during);
    ASSERT_STR_EQ(during, before);
    /* the restore left the codes out; the catch-up encodes them in chunks */
    uint32_t left = coll_codes_catch_up(r, 1000);
    ASSERT_EQ_INT(left, N - 1000);
    /* a write in the middle of the catch-up: an overwrite and a new slot */
    put_points(r, 5, 1, "p");
    put_points(r, N, 1, "p");
    ASSERT_EQ_INT(coll_codes_catch_up(r, 1000), N + 1 - 2000);
    /* codes still incomplete: this answer comes from the plain scan */
    static char plain[4096];
    answer(r, q, plain, sizeof plain);
    ASSERT(strlen(plain) > 20);
    while (coll_codes_catch_up(r, 1000) > 0)
        ;
    answer(r, q, after, sizeof after);
    ASSERT_STR_EQ(after, plain);
    store_release(ref);
    snap_close(s);
    store_close(st);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ_INT(system(cmd), 0);
}
