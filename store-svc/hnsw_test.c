/*
 * hnsw_test.c — the HNSW index against exact brute force on clustered
 * synthetic data: recall@10 in IP and L2 space, after deleting and
 * re-inserting 20% of the points, with a filter, after concurrent inserts
 * from two threads, across save/load, plus corrupt and truncated inputs to
 * hnsw_load. The graph walks 8-bit codes and re-ranks with the rows of the
 * data set (hnsw_rows_vector): returned distances must be exactly the float32 ones.
 * (Loading graphs saved before quantisation: hnsw_v1_test.c.)
 * Sizes shrink under the sanitizers to keep the run short.
 */
#include "hnsw.h"
#include "distance.h"
#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define N_BASE 4000
#define N_QUERY 50
#else
#define N_BASE 10000
#define N_QUERY 200
#endif
#define DIM 48
#define K 10
#ifndef NOISE
#define NOISE 1.5f /* clusters overlap: recall@10 at ef=64 is ~0.97, not 1 */
#endif

typedef struct dataset {
    float *base;  /* N_BASE x DIM */
    float *query; /* N_QUERY x DIM */
} dataset;

static uint64_t rs;
static double urand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return ((double)(rs >> 11) + 0.5) / (double)(1ull << 53);
}
static float grand(void)
{
    return (float)(sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand()));
}

/* Gaussian mixture: 50 centres, points = centre + NOISE * N(0, 1). */
static void make_data(dataset *ds, uint64_t seed, int normalise)
{
    rs = seed;
    const int nc = 50;
    float *cent = malloc(sizeof(float) * nc * DIM);
    ds->base = malloc(sizeof(float) * N_BASE * DIM);
    ds->query = malloc(sizeof(float) * N_QUERY * DIM);
    for (int i = 0; i < nc * DIM; i++)
        cent[i] = grand();
    for (int set = 0; set < 2; set++) {
        float *out = set ? ds->query : ds->base;
        int n = set ? N_QUERY : N_BASE;
        for (int i = 0; i < n; i++) {
            int c = (int)(urand() * nc) % nc;
            float *v = out + (size_t)i * DIM;
            for (int j = 0; j < DIM; j++)
                v[j] = cent[c * DIM + j] + NOISE * grand();
            if (normalise) {
                float nrm = dist_norm(v, DIM);
                for (int j = 0; j < DIM; j++)
                    v[j] /= nrm;
            }
        }
    }
    free(cent);
}

static void free_data(dataset *ds)
{
    free(ds->base);
    free(ds->query);
}

typedef struct brute_filter {
    int mod, rem;
} brute_filter;

static bool mod_filter(void *ctx, uint32_t label)
{
    const brute_filter *f = ctx;
    return (int)(label % (uint32_t)f->mod) == f->rem;
}

/* Exact top-K over the labels in live[] (NULL = all), honouring a filter. */
static void brute_topk(const float *base, const unsigned char *live, hnsw_space sp,
                       const float *q, brute_filter *f, uint32_t *out)
{
    float best[K];
    for (int i = 0; i < K; i++) {
        best[i] = INFINITY;
        out[i] = UINT32_MAX;
    }
    for (uint32_t i = 0; i < N_BASE; i++) {
        if (live && !live[i])
            continue;
        if (f && !mod_filter(f, i))
            continue;
        const float *v = base + (size_t)i * DIM;
        float d = sp == HNSW_SPACE_IP ? -dist_dot(q, v, DIM) : dist_l2sq(q, v, DIM);
        if (d >= best[K - 1])
            continue;
        int j = K - 1;
        while (j > 0 && best[j - 1] > d) {
            best[j] = best[j - 1];
            out[j] = out[j - 1];
            j--;
        }
        best[j] = d;
        out[j] = i;
    }
}

/* recall@K of the index over all queries. */
static double recall(hnsw_index *ix, const dataset *ds, const unsigned char *live, hnsw_space sp,
                     uint32_t ef, brute_filter *f)
{
    size_t hit = 0, total = 0;
    for (int qi = 0; qi < N_QUERY; qi++) {
        const float *q = ds->query + (size_t)qi * DIM;
        uint32_t truth[K], got[K], n = 0;
        float d[K];
        brute_topk(ds->base, live, sp, q, f, truth);
        hnsw_rows src = {ds->base, DIM};
        if (hnsw_search(ix, q, K, ef, f ? mod_filter : NULL, f, hnsw_rows_vector, &src, got, d, &n) != 0)
            return -1;
        for (uint32_t i = 1; i < n; i++)
            if (d[i] < d[i - 1])
                return -2; /* not sorted best first */
        for (int i = 0; i < K; i++) {
            if (truth[i] == UINT32_MAX)
                continue;
            total++;
            for (uint32_t j = 0; j < n; j++)
                if (got[j] == truth[i]) {
                    hit++;
                    break;
                }
        }
    }
    return total ? (double)hit / (double)total : 1.0;
}

static hnsw_index *build(const dataset *ds, hnsw_space sp)
{
    hnsw_index *ix = NULL;
    if (hnsw_create(&ix, DIM, sp, 16, 100, 42) != 0)
        return NULL;
    for (uint32_t i = 0; i < N_BASE; i++)
        if (hnsw_insert(ix, i, ds->base + (size_t)i * DIM) != 0) {
            hnsw_destroy(ix);
            return NULL;
        }
    return ix;
}

TEST(hnsw_rejects_bad_params)
{
    hnsw_index *ix = NULL;
    ASSERT_EQ_INT(hnsw_create(&ix, 0, HNSW_SPACE_IP, 16, 100, 1), VX_ERR_INVALID);
    ASSERT_EQ_INT(hnsw_create(&ix, 8, HNSW_SPACE_IP, 1, 100, 1), VX_ERR_INVALID);
    ASSERT_EQ_INT(hnsw_create(&ix, 8, HNSW_SPACE_IP, 16, 1, 1), VX_ERR_INVALID);
    ASSERT_EQ_INT(hnsw_create(&ix, 8, (hnsw_space)7, 16, 100, 1), VX_ERR_INVALID);
    ASSERT(ix == NULL);
    ASSERT_EQ_INT(hnsw_create(&ix, 4, HNSW_SPACE_L2, 16, 100, 1), 0);
    float v[4] = {1, 2, NAN, 4};
    ASSERT_EQ_INT(hnsw_insert(ix, 1, v), VX_ERR_INVALID);
    ASSERT_EQ_INT(hnsw_insert(ix, UINT32_MAX, (float[4]){0}), VX_ERR_INVALID);
    ASSERT_EQ_INT(hnsw_remove(ix, 5), VX_ERR_NOT_FOUND);
    uint32_t lab[3], n = 9;
    ASSERT_EQ_INT(hnsw_search(ix, (float[4]){0}, 3, 10, NULL, NULL, NULL, NULL, lab, NULL, &n), 0);
    ASSERT_EQ_INT(n, 0); /* empty index */
    hnsw_destroy(ix);
}

TEST(hnsw_small_exact)
{
    /* a handful of points: every search is exhaustive, so results are exact */
    hnsw_index *ix = NULL;
    static float pts[120][2]; /* by label */
    hnsw_rows src = {&pts[0][0], 2};
    ASSERT_EQ_INT(hnsw_create(&ix, 2, HNSW_SPACE_L2, 4, 16, 7), 0);
    for (uint32_t i = 0; i < 20; i++) {
        pts[100 + i][0] = (float)i;
        ASSERT_EQ_INT(hnsw_insert(ix, 100 + i, pts[100 + i]), 0);
    }
    ASSERT_EQ_INT(hnsw_count(ix), 20);
    uint32_t lab[3], n = 0;
    float d[3];
    ASSERT_EQ_INT(hnsw_search(ix, (float[2]){7.2f, 0}, 3, 16, NULL, NULL, hnsw_rows_vector, &src, lab, d,
                              &n),
                  0);
    ASSERT_EQ_INT(n, 3);
    ASSERT_EQ_INT(lab[0], 107);
    ASSERT_EQ_INT(lab[1], 108);
    ASSERT_EQ_INT(lab[2], 106);
    ASSERT(d[0] == (7.2f - 7.0f) * (7.2f - 7.0f)); /* exact float distance */
    /* replace label 107 far away: it must not come back near 7.2 */
    pts[107][0] = 1000;
    ASSERT_EQ_INT(hnsw_insert(ix, 107, pts[107]), 0);
    ASSERT_EQ_INT(hnsw_count(ix), 20);
    ASSERT_EQ_INT(hnsw_search(ix, (float[2]){7.2f, 0}, 3, 16, NULL, NULL, hnsw_rows_vector, &src, lab, d,
                              &n),
                  0);
    ASSERT_EQ_INT(lab[0], 108);
    ASSERT_EQ_INT(lab[1], 106);
    ASSERT_EQ_INT(hnsw_remove(ix, 108), 0);
    ASSERT_EQ_INT(hnsw_remove(ix, 108), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(hnsw_search(ix, (float[2]){7.2f, 0}, 3, 16, NULL, NULL, hnsw_rows_vector, &src, lab, d,
                              &n),
                  0);
    ASSERT_EQ_INT(lab[0], 106);
    ASSERT_EQ_INT(lab[1], 109);
    ASSERT_EQ_INT(hnsw_count(ix), 19);
    ASSERT(!hnsw_contains(ix, 108));
    ASSERT(hnsw_contains(ix, 107) && !hnsw_contains(ix, 99) && !hnsw_contains(ix, 1u << 30));
    /* k larger than the index returns everything live */
    uint32_t all[40];
    ASSERT_EQ_INT(
        hnsw_search(ix, (float[2]){0, 0}, 40, 40, NULL, NULL, hnsw_rows_vector, &src, all, NULL, &n), 0);
    ASSERT_EQ_INT(n, 19);
    hnsw_destroy(ix);
}

static void recall_case(hnsw_space sp)
{
    dataset ds;
    make_data(&ds, sp == HNSW_SPACE_IP ? 11 : 12, sp == HNSW_SPACE_IP);
    hnsw_index *ix = build(&ds, sp);
    ASSERT(ix);
    ASSERT_EQ_INT(hnsw_count(ix), N_BASE);
    double r = recall(ix, &ds, NULL, sp, 64, NULL);
    fprintf(stderr, "    recall@10 %s ef=64: %.4f\n", sp == HNSW_SPACE_IP ? "ip" : "l2", r);
    ASSERT_MSG(r >= 0.93, "recall@10 ef=64 = %.4f", r);
    double r16 = recall(ix, &ds, NULL, sp, 16, NULL);
    fprintf(stderr, "    recall@10 ef=16: %.4f\n", r16);
    ASSERT_MSG(r16 <= r + 1e-9 && r16 > 0.6, "recall@10 ef=16 = %.4f vs ef=64 %.4f", r16, r);
    /* codes + layer-0 links per node, not float vectors */
    size_t mem = hnsw_memory_bytes(ix);
    ASSERT_MSG(mem > (size_t)N_BASE * (DIM + 2 * 16 * 4) && mem < (size_t)N_BASE * 400,
               "memory %zu bytes for %d nodes", mem, N_BASE);
    hnsw_destroy(ix);
    free_data(&ds);
}

TEST(hnsw_recall_ip)
{
    recall_case(HNSW_SPACE_IP);
}

TEST(hnsw_recall_l2)
{
    recall_case(HNSW_SPACE_L2);
}

TEST(hnsw_recall_after_churn)
{
    dataset ds;
    make_data(&ds, 13, 1);
    hnsw_index *ix = build(&ds, HNSW_SPACE_IP);
    ASSERT(ix);
    double fresh = recall(ix, &ds, NULL, HNSW_SPACE_IP, 64, NULL);
    unsigned char *live = malloc(N_BASE);
    memset(live, 1, N_BASE);
    /* delete 20%, check they are gone, then re-insert them */
    for (uint32_t i = 0; i < N_BASE; i += 5) {
        ASSERT_EQ_INT(hnsw_remove(ix, i), 0);
        live[i] = 0;
    }
    ASSERT_EQ_INT(hnsw_count(ix), N_BASE - N_BASE / 5);
    double deleted = recall(ix, &ds, live, HNSW_SPACE_IP, 64, NULL);
    ASSERT_MSG(deleted >= fresh - 0.02, "after delete %.4f vs fresh %.4f", deleted, fresh);
    for (uint32_t i = 0; i < N_BASE; i += 5)
        ASSERT_EQ_INT(hnsw_insert(ix, i, ds.base + (size_t)i * DIM), 0);
    ASSERT_EQ_INT(hnsw_count(ix), N_BASE);
    double churn = recall(ix, &ds, NULL, HNSW_SPACE_IP, 64, NULL);
    fprintf(stderr, "    recall@10 fresh %.4f, 20%% deleted %.4f, re-inserted %.4f\n", fresh,
            deleted, churn);
    ASSERT_MSG(churn >= fresh - 0.01, "after churn %.4f vs fresh %.4f", churn, fresh);
    ASSERT(!hnsw_needs_rebuild(ix)); /* 20% of 120% nodes are tombstones */
    free(live);
    hnsw_destroy(ix);
    free_data(&ds);
}

TEST(hnsw_filtered_search)
{
    dataset ds;
    make_data(&ds, 14, 1);
    hnsw_index *ix = build(&ds, HNSW_SPACE_IP);
    ASSERT(ix);
    brute_filter f = {10, 3};
    hnsw_rows src = {ds.base, DIM};
    double r = recall(ix, &ds, NULL, HNSW_SPACE_IP, 64, &f);
    fprintf(stderr, "    filtered recall@10 (10%% selectivity, ef=64): %.4f\n", r);
    ASSERT_MSG(r >= 0.9, "filtered recall %.4f", r);
    /* every result matches and k come back when k match */
    for (int qi = 0; qi < 20; qi++) {
        uint32_t lab[K], n = 0;
        ASSERT_EQ_INT(hnsw_search(ix, ds.query + (size_t)qi * DIM, K, 16, mod_filter, &f, hnsw_rows_vector,
                                  &src, lab, NULL, &n),
                      0);
        ASSERT_EQ_INT(n, K);
        for (uint32_t i = 0; i < n; i++)
            ASSERT(lab[i] % 10 == 3);
    }
    /* a very selective filter (3 labels in the index) still finds them all */
    brute_filter rare = {N_BASE / 3 + 1, 1};
    uint32_t lab[K], n = 0;
    ASSERT_EQ_INT(
        hnsw_search(ix, ds.query, K, 10, mod_filter, &rare, hnsw_rows_vector, &src, lab, NULL, &n), 0);
    ASSERT_EQ_INT(n, 3);
    /* a filter nothing matches: no results, no error */
    brute_filter none = {N_BASE + 7, N_BASE + 5};
    n = 9;
    ASSERT_EQ_INT(
        hnsw_search(ix, ds.query, K, 10, mod_filter, &none, hnsw_rows_vector, &src, lab, NULL, &n), 0);
    ASSERT_EQ_INT(n, 0);
    hnsw_destroy(ix);
    free_data(&ds);
}

typedef struct ins_arg {
    hnsw_index *ix;
    const dataset *ds;
    uint32_t from, step;
    int rc;
} ins_arg;

static void *ins_thread(void *p)
{
    ins_arg *a = p;
    a->rc = 0;
    for (uint32_t i = a->from; i < N_BASE && a->rc == 0; i += a->step)
        a->rc = hnsw_insert(a->ix, i, a->ds->base + (size_t)i * DIM);
    return NULL;
}

static void *search_thread(void *p)
{
    ins_arg *a = p;
    a->rc = 0;
    for (int r = 0; r < 3 && a->rc == 0; r++)
        for (int qi = 0; qi < N_QUERY && a->rc == 0; qi++) {
            uint32_t lab[K], n;
            hnsw_rows src = {a->ds->base, DIM};
            a->rc = hnsw_search(a->ix, a->ds->query + (size_t)qi * DIM, K, 32, NULL, NULL, hnsw_rows_vector,
                                &src, lab, NULL, &n);
            for (uint32_t i = 0; i < n; i++)
                if (lab[i] >= N_BASE)
                    a->rc = -100;
        }
    return NULL;
}

TEST(hnsw_concurrent_insert_and_search)
{
    dataset ds;
    make_data(&ds, 15, 1);
    hnsw_index *ix = NULL;
    ASSERT_EQ_INT(hnsw_create(&ix, DIM, HNSW_SPACE_IP, 16, 100, 9), 0);
    ins_arg a[3] = {{ix, &ds, 0, 2, 0}, {ix, &ds, 1, 2, 0}, {ix, &ds, 0, 1, 0}};
    pthread_t t[3];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, ins_thread, &a[i]);
    pthread_create(&t[2], NULL, search_thread, &a[2]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ_INT(a[0].rc, 0);
    ASSERT_EQ_INT(a[1].rc, 0);
    ASSERT_EQ_INT(a[2].rc, 0);
    ASSERT_EQ_INT(hnsw_count(ix), N_BASE);
    double r = recall(ix, &ds, NULL, HNSW_SPACE_IP, 64, NULL);
    fprintf(stderr, "    recall@10 after 2-thread build: %.4f\n", r);
    ASSERT_MSG(r >= 0.93, "recall after concurrent build %.4f", r);
    hnsw_destroy(ix);
    free_data(&ds);
}

TEST(hnsw_save_load_roundtrip)
{
    dataset ds;
    make_data(&ds, 16, 1);
    hnsw_index *ix = build(&ds, HNSW_SPACE_IP);
    ASSERT(ix);
    for (uint32_t i = 0; i < N_BASE; i += 7)
        hnsw_remove(ix, i);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(hnsw_save(ix, &b), 0);
    hnsw_index *ix2 = NULL;
    ASSERT_EQ_INT(hnsw_load(&ix2, b.data, b.len, UINT32_MAX), 0);
    ASSERT_EQ_INT(hnsw_count(ix2), hnsw_count(ix));
    ASSERT_EQ_INT(hnsw_dim(ix2), DIM);
    for (int qi = 0; qi < N_QUERY; qi++) {
        uint32_t l1[K], l2[K], n1, n2;
        float d1[K], d2[K];
        const float *q = ds.query + (size_t)qi * DIM;
        hnsw_rows src = {ds.base, DIM};
        ASSERT_EQ_INT(hnsw_search(ix, q, K, 32, NULL, NULL, hnsw_rows_vector, &src, l1, d1, &n1), 0);
        ASSERT_EQ_INT(hnsw_search(ix2, q, K, 32, NULL, NULL, hnsw_rows_vector, &src, l2, d2, &n2), 0);
        ASSERT_EQ_INT(n1, n2);
        for (uint32_t i = 0; i < n1; i++) {
            ASSERT_EQ_INT(l1[i], l2[i]);
            ASSERT(d1[i] == d2[i]);
        }
    }
    /* the loaded index accepts inserts and removes */
    ASSERT_EQ_INT(hnsw_insert(ix2, 0, ds.base), 0);
    ASSERT_EQ_INT(hnsw_remove(ix2, 1), 0);
    ASSERT_EQ_INT(hnsw_count(ix2), hnsw_count(ix));
    hnsw_destroy(ix2);
    /* an empty index round-trips too */
    hnsw_index *e = NULL, *e2 = NULL;
    vx_buf eb = VX_BUF_INIT;
    ASSERT_EQ_INT(hnsw_create(&e, 3, HNSW_SPACE_L2, 8, 50, 1), 0);
    ASSERT_EQ_INT(hnsw_save(e, &eb), 0);
    ASSERT_EQ_INT(hnsw_load(&e2, eb.data, eb.len, UINT32_MAX), 0);
    ASSERT_EQ_INT(hnsw_count(e2), 0);
    hnsw_destroy(e);
    hnsw_destroy(e2);
    vx_buf_free(&eb);
    vx_buf_free(&b);
    hnsw_destroy(ix);
    free_data(&ds);
}

TEST(hnsw_load_rejects_corrupt)
{
    hnsw_index *ix = NULL;
    ASSERT_EQ_INT(hnsw_create(&ix, 5, HNSW_SPACE_L2, 4, 20, 3), 0);
    rs = 99;
    for (uint32_t i = 0; i < 300; i++) {
        float v[5];
        for (int j = 0; j < 5; j++)
            v[j] = grand();
        ASSERT_EQ_INT(hnsw_insert(ix, i, v), 0);
    }
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(hnsw_save(ix, &b), 0);
    hnsw_destroy(ix);
    hnsw_index *out = NULL;
    vx_log_set_level(VX_LOG_ERROR); /* hundreds of expected warnings */
    /* every truncation fails cleanly */
    for (size_t len = 0; len < b.len; len += (len < 200 ? 1 : 97))
        ASSERT_MSG(hnsw_load(&out, b.data, len, UINT32_MAX) == VX_ERR_CORRUPT && out == NULL,
                   "truncated to %zu accepted", len);
    /* every single-byte flip is detected (checksum + field checks) */
    unsigned char *copy = malloc(b.len);
    for (size_t pos = 0; pos < b.len; pos += (pos < 128 ? 1 : 61)) {
        memcpy(copy, b.data, b.len);
        copy[pos] ^= 0x5A;
        ASSERT_MSG(hnsw_load(&out, copy, b.len, UINT32_MAX) == VX_ERR_CORRUPT && out == NULL,
                   "flip at %zu accepted", pos);
    }
    /* labels 0..299: a limit of 300 loads, 299 (label 299 too large) does not */
    ASSERT_EQ_INT(hnsw_load(&out, b.data, b.len, 300), 0);
    ASSERT_EQ_INT(hnsw_count(out), 300);
    hnsw_destroy(out);
    out = NULL;
    ASSERT_MSG(hnsw_load(&out, b.data, b.len, 299) == VX_ERR_CORRUPT && out == NULL,
               "a label above the limit was accepted");
    /* extra trailing bytes are rejected too */
    vx_buf_append(&b, "x", 1);
    ASSERT_EQ_INT(hnsw_load(&out, b.data, b.len, UINT32_MAX), VX_ERR_CORRUPT);
    vx_log_set_level(VX_LOG_INFO);
    free(copy);
    vx_buf_free(&b);
}

/* Rewrites the trailing checksum so only the field checks can catch an edit. */
static void reseal(unsigned char *p, size_t len)
{
    uint32_t crc = vx_crc32c(0, p, len - 4);
    memcpy(p + len - 4, &crc, 4);
}

TEST(hnsw_load_validates_fields_behind_valid_checksum)
{
    hnsw_index *ix = NULL;
    ASSERT_EQ_INT(hnsw_create(&ix, 3, HNSW_SPACE_IP, 4, 20, 5), 0);
    rs = 7;
    for (uint32_t i = 0; i < 200; i++)
        ASSERT_EQ_INT(hnsw_insert(ix, i, (float[3]){grand(), grand(), grand()}), 0);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(hnsw_save(ix, &b), 0);
    hnsw_destroy(ix);
    uint32_t stride, n;
    memcpy(&stride, b.data + 28, 4);
    memcpy(&n, b.data + 32, 4);
    ASSERT_EQ_INT(n, 200);
    unsigned char *c = malloc(b.len);
    hnsw_index *out = NULL;
    vx_log_set_level(VX_LOG_ERROR);
    struct {
        size_t off;
        uint32_t val;
        const char *what;
    } edits[] = {
        {128 + 16, 200, "layer-0 neighbour id out of range"},
        {128 + 5 * (size_t)stride + 16, 0xFFFFFFFFu, "neighbour id NONE"},
        {128 + 12, 9, "layer-0 count above m0"},
        {36, 200, "entry point out of range"},
        {44, 199, "live count"},
        {16, 0, "dim 0"},
        {20, 1000, "m out of range"},
        {28, 128, "stride"},
        {32, 201, "node count vs size"},
        {128 + 56, 0xBF800000u, "negative scale"},
        {128 + 3 * (size_t)stride + 52, 0x7FC00000u, "lo NaN"},
        {128 + 7 * (size_t)stride + 56, 0x7F800000u, "scale infinite"},
        {8, 3, "version 3"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        memcpy(c, b.data, b.len);
        memcpy(c + edits[i].off, &edits[i].val, 4);
        reseal(c, b.len);
        ASSERT_MSG(hnsw_load(&out, c, b.len, UINT32_MAX) == VX_ERR_CORRUPT && out == NULL, "accepted: %s",
                   edits[i].what);
    }
    /* two live nodes with one label */
    memcpy(c, b.data, b.len);
    uint32_t lab0;
    memcpy(&lab0, c + 128, 4);
    memcpy(c + 128 + stride, &lab0, 4);
    reseal(c, b.len);
    ASSERT_EQ_INT(hnsw_load(&out, c, b.len, UINT32_MAX), VX_ERR_CORRUPT);
    vx_log_set_level(VX_LOG_INFO);
    /* the untouched bytes still load */
    ASSERT_EQ_INT(hnsw_load(&out, b.data, b.len, UINT32_MAX), 0);
    ASSERT_EQ_INT(hnsw_count(out), 200);
    hnsw_destroy(out);
    free(c);
    vx_buf_free(&b);
}

typedef struct churn_arg {
    hnsw_index *ix;
    const dataset *ds;
    int rc;
} churn_arg;

static void *churn_thread(void *p)
{
    churn_arg *a = p;
    for (uint32_t i = 0; i < N_BASE / 2 && a->rc == 0; i += 3) {
        if (hnsw_remove(a->ix, i) != 0)
            a->rc = -1;
        else if (hnsw_insert(a->ix, i, a->ds->base + (size_t)i * DIM) != 0)
            a->rc = -2;
    }
    return NULL;
}

static void *filtered_search_thread(void *p)
{
    churn_arg *a = p;
    brute_filter f = {10, 3};
    for (int qi = 0; qi < N_QUERY && a->rc == 0; qi++) {
        uint32_t lab[K], n = 0;
        hnsw_rows src = {a->ds->base, DIM};
        if (hnsw_search(a->ix, a->ds->query + (size_t)qi * DIM, K, 32, mod_filter, &f, hnsw_rows_vector,
                        &src, lab, NULL, &n) != 0)
            a->rc = -3;
        for (uint32_t i = 0; i < n; i++)
            if (lab[i] >= N_BASE || lab[i] % 10 != 3)
                a->rc = -4;
    }
    return NULL;
}

TEST(hnsw_concurrent_remove_reinsert_and_filtered_search)
{
    dataset ds;
    make_data(&ds, 17, 1);
    hnsw_index *ix = build(&ds, HNSW_SPACE_IP);
    ASSERT(ix);
    churn_arg a = {ix, &ds, 0}, b = {ix, &ds, 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, churn_thread, &a);
    pthread_create(&t2, NULL, filtered_search_thread, &b);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ASSERT_EQ_INT(a.rc, 0);
    ASSERT_EQ_INT(b.rc, 0);
    ASSERT_EQ_INT(hnsw_count(ix), N_BASE);
    ASSERT_EQ_INT(hnsw_node_count(ix), N_BASE + (N_BASE / 2 + 2) / 3);
    double r = recall(ix, &ds, NULL, HNSW_SPACE_IP, 64, NULL);
    ASSERT_MSG(r >= 0.93, "recall after concurrent churn %.4f", r);
    hnsw_destroy(ix);
    free_data(&ds);
}

/* ---- exact re-rank --------------------------------------------------------------- */

static const float *odd_rows_only(void *ctx, uint32_t label)
{
    return label % 2 ? hnsw_rows_vector(ctx, label) : NULL;
}

static void rerank_case(hnsw_space sp)
{
    dataset ds;
    make_data(&ds, sp == HNSW_SPACE_IP ? 21 : 22, sp == HNSW_SPACE_IP);
    hnsw_index *ix = build(&ds, sp);
    ASSERT(ix);
    hnsw_rows src = {ds.base, DIM};
    size_t hit_exact = 0, hit_codes = 0;
    for (int qi = 0; qi < N_QUERY; qi++) {
        const float *q = ds.query + (size_t)qi * DIM;
        uint32_t lab[K], truth[K], n = 0, na = 0, alab[K];
        float d[K], ad[K];
        ASSERT_EQ_INT(hnsw_search(ix, q, K, 64, NULL, NULL, hnsw_rows_vector, &src, lab, d, &n), 0);
        ASSERT_EQ_INT(n, K);
        for (uint32_t i = 0; i < n; i++) {
            const float *v = ds.base + (size_t)lab[i] * DIM;
            float want = sp == HNSW_SPACE_IP ? -dist_dot(q, v, DIM) : dist_l2sq(q, v, DIM);
            ASSERT_MSG(d[i] == want, "query %d rank %u: %.9g, exact %.9g", qi, i, d[i], want);
            ASSERT(i == 0 || d[i - 1] <= d[i]);
        }
        /* without re-rank the distances are the codes' approximation */
        ASSERT_EQ_INT(hnsw_search(ix, q, K, 64, NULL, NULL, NULL, NULL, alab, ad, &na), 0);
        ASSERT_EQ_INT(na, K);
        for (uint32_t i = 0; i < na; i++) {
            const float *v = ds.base + (size_t)alab[i] * DIM;
            float want = sp == HNSW_SPACE_IP ? -dist_dot(q, v, DIM) : dist_l2sq(q, v, DIM);
            ASSERT_MSG(fabsf(ad[i] - want) <= 0.02f * (1.0f + fabsf(want)),
                       "quantised %.6g vs exact %.6g", ad[i], want);
        }
        brute_topk(ds.base, NULL, sp, q, NULL, truth);
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                hit_exact += lab[j] == truth[i];
                hit_codes += alab[j] == truth[i];
            }
        /* labels the caller has no vector for are left out */
        ASSERT_EQ_INT(hnsw_search(ix, q, K, 64, NULL, NULL, odd_rows_only, &src, lab, d, &n), 0);
        ASSERT(n > 0);
        for (uint32_t i = 0; i < n; i++)
            ASSERT(lab[i] % 2 == 1);
    }
    fprintf(stderr, "    %s recall@10 ef=64: re-ranked %.4f, codes only %.4f\n",
            sp == HNSW_SPACE_IP ? "ip" : "l2", (double)hit_exact / (N_QUERY * K),
            (double)hit_codes / (N_QUERY * K));
    ASSERT(hit_exact >= hit_codes);
    hnsw_destroy(ix);
    free_data(&ds);
}

TEST(hnsw_rerank_returns_exact_scores_ip)
{
    rerank_case(HNSW_SPACE_IP);
}

TEST(hnsw_rerank_returns_exact_scores_l2)
{
    rerank_case(HNSW_SPACE_L2);
}
