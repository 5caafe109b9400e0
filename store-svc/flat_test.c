/*
 * flat_test.c — the bounded scan (8-bit first pass + exact re-score) must
 * return exactly what the plain float32 scan returns: the same slots in the
 * same order with bit-identical scores, for every metric and kernel
 * implementation, with tombstones and filters, on data built to stress the
 * bounds: random, many near-ties (clustered), exact duplicates, constant
 * rows, tiny (subnormal) and huge (near FLT_MAX) components, and k from 1 to
 * beyond the number of rows. Also checks that the first pass prunes (a
 * bounded scan that re-scored everything would pass the equality tests).
 */
#include "flat.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distance.h"
#include "distance_sq8.h"
#include "sq8_query.h"
#include "store_test_util.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_test.h"

static const char *IMPLS[] = {"scalar", "avx2", "avx512"};

/* VX_FLAT_TEST_SEED=N picks another data set (stress runs:
 * for s in $(seq 100); do VX_FLAT_TEST_SEED=$s build/tests/store-svc_flat_test; done) */
static uint64_t rng = 0;
static double urand(void) /* [0, 1) */
{
    if (!rng) {
        const char *seed = getenv("VX_FLAT_TEST_SEED");
        rng = seed ? strtoull(seed, NULL, 10) * 0x9E3779B97F4A7C15ull + 1 : 0x9E3779B97F4A7C15ull;
    }
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / (double)(1ull << 53);
}

/* GRID: small integers, which the codes hold exactly (‖x − x̂‖ = 0): only
 * the query's quantisation and the roundings separate the bounds. */
typedef enum shape { RANDOM, CLUSTERED, DUPLICATES, CONSTANT, TINY, HUGE, MIXED, GRID } shape;

typedef struct fixture {
    uint32_t n, dim;
    vx_metric metric;
    float *base;
    uint64_t *dead;
    unsigned char **meta;
    uint32_t *meta_len;
    vx_buf packed; /* metadata blobs, one per slot */
    flat_codes codes;
} fixture;

static float value(shape s, uint32_t row, uint32_t i, const float *center)
{
    double u = urand() * 2 - 1;
    switch (s) {
    case RANDOM:
        return (float)u;
    case CLUSTERED:
        return center[i] + (float)(u * 1e-3);
    case DUPLICATES:
        return center[i] + (float)(row % 3) * 0.25f; /* three values, each many times */
    case CONSTANT:
        return (float)(row % 5) - 2.0f;
    case TINY:
        return (float)(u * 1e-41); /* subnormal */
    case HUGE:
        return (float)(u * 1e37);
    case GRID:
        return i == 0 ? 0.0f : i == 1 ? 255.0f : (float)(int)(urand() * 256);
    case MIXED:
        return row % 11 == 0 ? (float)(u * 3e38) : row % 13 == 0 ? (float)(u * 1e-39) : (float)u;
    }
    return 0;
}

static void normalise(float *v, uint32_t dim)
{
    double ss = 0;
    for (uint32_t i = 0; i < dim; i++)
        ss += (double)v[i] * v[i];
    if (!(ss > 0))
        return;
    double inv = 1.0 / sqrt(ss);
    for (uint32_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] * inv);
}

static void fixture_make(fixture *f, uint32_t n, uint32_t dim, vx_metric metric, shape s)
{
    memset(f, 0, sizeof *f);
    f->n = n;
    f->dim = dim;
    f->metric = metric;
    f->base = malloc((size_t)n * dim * sizeof(float));
    f->dead = calloc((n + 63) / 64, sizeof(uint64_t));
    f->meta = calloc(n, sizeof *f->meta);
    f->meta_len = calloc(n, sizeof *f->meta_len);
    float *center = malloc(dim * sizeof(float));
    for (uint32_t i = 0; i < dim; i++)
        center[i] = (float)(urand() * 2 - 1);
    size_t *offs = malloc(((size_t)n + 1) * sizeof *offs);
    for (uint32_t r = 0; r < n; r++) {
        float *row = f->base + (size_t)r * dim;
        for (uint32_t i = 0; i < dim; i++)
            row[i] = value(s, r, i, center);
        if (metric == VX_METRIC_COSINE)
            normalise(row, dim);
        if (urand() < 0.1) /* a tenth of the rows are tombstones */
            f->dead[r >> 6] |= 1ull << (r & 63);
        offs[r] = f->packed.len;
        vx_value_pack(tv_obj(1, "g", tv_int((int64_t)(r % 4))), &f->packed);
    }
    offs[n] = f->packed.len;
    for (uint32_t r = 0; r < n; r++) {
        f->meta[r] = f->packed.data + offs[r];
        f->meta_len[r] = (uint32_t)(offs[r + 1] - offs[r]);
    }
    f->codes = FLAT_CODES_INIT(dim);
    if (flat_codes_reserve(&f->codes, n) != VX_OK)
        abort();
    flat_codes_write_all(&f->codes, f->base, n);
    free(center);
    free(offs);
}

static void fixture_free(fixture *f)
{
    free(f->base);
    free(f->dead);
    free(f->meta);
    free(f->meta_len);
    vx_buf_free(&f->packed);
    flat_codes_free(&f->codes);
}

static flat_view view_of(const fixture *f)
{
    flat_view v = {f->base, f->n, f->dim, f->dead, f->meta, f->meta_len, f->metric, &f->codes};
    return v;
}

/* Runs both scans for query q; 1 when they agree bit for bit. */
static int same_answer(const fixture *f, const float *q, uint32_t k, const vx_filter *filter)
{
    flat_view v = view_of(f);
    topk_item *a = malloc(k * sizeof *a), *b = malloc(k * sizeof *b), *s = malloc(k * sizeof *s);
    uint32_t na = flat_search_plain(&v, q, k, filter, a);
    uint32_t nb = flat_search(&v, q, k, filter, b, s);
    int ok = na == nb;
    for (uint32_t i = 0; ok && i < na; i++)
        ok = a[i].slot == b[i].slot && memcmp(&a[i].score, &b[i].score, sizeof(float)) == 0;
    if (!ok)
        fprintf(stderr, "  plain %u hits, bounded %u hits (k %u, dim %u, metric %d)\n", na, nb, k,
                f->dim, (int)f->metric);
    free(a);
    free(b);
    free(s);
    return ok;
}

static void make_query(const fixture *f, shape s, float *q)
{
    if (urand() < 0.3) { /* a stored row, sometimes: distance 0, score 1 */
        uint32_t r = (uint32_t)(urand() * f->n);
        memcpy(q, f->base + (size_t)r * f->dim, f->dim * sizeof(float));
        return;
    }
    float *center = f->base; /* clustered data: near the cluster */
    for (uint32_t i = 0; i < f->dim; i++)
        q[i] = s == CLUSTERED ? center[i] + (float)((urand() * 2 - 1) * 1e-3) : value(s, 1, i, center);
    if (f->metric == VX_METRIC_COSINE)
        normalise(q, f->dim);
}

static const vx_metric METRICS[] = {VX_METRIC_COSINE, VX_METRIC_DOT, VX_METRIC_L2};

TEST(bounded_scan_equals_plain_scan)
{
    static const uint32_t dims[] = {1, 3, 17, 64, 384};
    static const uint32_t ks[] = {1, 10, 100, 1000, 6000};
    static const shape shapes[] = {RANDOM, CLUSTERED, DUPLICATES, CONSTANT, TINY, HUGE, MIXED, GRID};
    float *q = malloc(384 * sizeof(float));
    int tested = 0;
    for (size_t impl = 0; impl < 3; impl++) {
        if (dist_force_impl(IMPLS[impl]) != 0 || sq8q_force_impl(IMPLS[impl]) != 0)
            continue;
        for (size_t m = 0; m < 3; m++)
            for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
                for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
                    fixture f;
                    uint32_t n = FLAT_BOUNDED_MIN_SLOTS + 1 + (uint32_t)(urand() * 600);
                    fixture_make(&f, n, dims[di], METRICS[m], shapes[si]);
                    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                        make_query(&f, shapes[si], q);
                        ASSERT_MSG(same_answer(&f, q, ks[ki], NULL), "impl %s metric %d shape %d",
                                   IMPLS[impl], (int)METRICS[m], (int)shapes[si]);
                        tested++;
                    }
                    fixture_free(&f);
                }
    }
    dist_force_impl("auto");
    sq8q_force_impl("auto");
    free(q);
    ASSERT(tested >= 3 * 8 * 5 * 5);
}

TEST(bounded_scan_applies_the_filter_during_the_scan)
{
    tu_reset();
    float q[64];
    for (size_t m = 0; m < 3; m++) {
        fixture f;
        fixture_make(&f, 3 * FLAT_BOUNDED_MIN_SLOTS, 64, METRICS[m], RANDOM);
        const vx_filter *filter;
        char err[128];
        ASSERT_EQ_INT(filter_compile(tv_obj(1, "g", tv_int(2)), &tu_arena, &filter, err, sizeof err),
                      VX_OK);
        for (int i = 0; i < 20; i++) {
            make_query(&f, RANDOM, q);
            ASSERT(same_answer(&f, q, 10, filter));
            ASSERT(same_answer(&f, q, 500, filter));
        }
        /* a filter that matches nothing */
        ASSERT_EQ_INT(filter_compile(tv_obj(1, "g", tv_int(9)), &tu_arena, &filter, err, sizeof err),
                      VX_OK);
        flat_view v = view_of(&f);
        topk_item out[10], scratch[10];
        ASSERT_EQ_INT(flat_search(&v, q, 10, filter, out, scratch), 0);
        fixture_free(&f);
    }
}

/* The point of the bounded scan: on ordinary data it must not read the
 * float32 rows it can rule out from their codes. */
TEST(bounded_scan_does_not_read_hopeless_rows)
{
    fixture f;
    fixture_make(&f, 20000, 128, VX_METRIC_COSINE, RANDOM);
    float q[128];
    make_query(&f, RANDOM, q);
    flat_view v = view_of(&f);
    topk_item want[10], got[10], scratch[10];
    uint32_t n = flat_search_plain(&v, q, 10, NULL, want);
    ASSERT_EQ_INT(n, 10);
    /* Rows whose float32 score is far below the 10th: their float rows are
     * set to the query itself (a perfect score) WITHOUT updating the codes.
     * The bounded scan reads a float row only to re-score a candidate; if it
     * re-scored any of these it would return one of them first. */
    float tenth = want[9].score;
    uint32_t poisoned = 0;
    for (uint32_t r = 0; r < f.n; r++) {
        float *row = f.base + (size_t)r * f.dim;
        if (flat_is_dead(f.dead, r) || dist_dot(q, row, f.dim) > tenth - 0.25f)
            continue;
        memcpy(row, q, sizeof q);
        poisoned++;
    }
    ASSERT(poisoned > f.n / 2);
    ASSERT_EQ_INT(flat_search(&v, q, 10, NULL, got, scratch), 10);
    for (int i = 0; i < 10; i++)
        ASSERT_EQ_INT(got[i].slot, want[i].slot);
    fixture_free(&f);
}

TEST(small_views_and_views_without_codes_use_the_plain_scan)
{
    fixture f;
    fixture_make(&f, 100, 8, VX_METRIC_DOT, RANDOM);
    float q[8];
    make_query(&f, RANDOM, q);
    ASSERT(same_answer(&f, q, 10, NULL));
    flat_view v = view_of(&f);
    v.codes = NULL;
    topk_item a[5], b[5], s[5];
    ASSERT_EQ_INT(flat_search(&v, q, 5, NULL, a, s), flat_search_plain(&v, q, 5, NULL, b));
    for (int i = 0; i < 5; i++)
        ASSERT_EQ_INT(a[i].slot, b[i].slot);
    fixture_free(&f);
}

TEST(bounded_scan_at_the_largest_dimension)
{
    fixture f;
    fixture_make(&f, FLAT_BOUNDED_MIN_SLOTS + 3, VX_MAX_DIM, VX_METRIC_L2, RANDOM);
    float *q = malloc(VX_MAX_DIM * sizeof *q);
    for (int i = 0; i < 3; i++) {
        make_query(&f, RANDOM, q);
        ASSERT(same_answer(&f, q, 10, NULL));
    }
    free(q);
    fixture_free(&f);
}
