/*
 * sq8_bound_scan.c — measures a proposed exact-search design against the
 * float32 scan the store uses today (store-svc/flat.c), on a bench dataset
 * (inner product over normalised vectors, like a cosine collection).
 *
 * The design: a first pass scores every vector's 8-bit codes
 * (store-svc/distance_sq8.h, 384 bytes a vector instead of 1 536) and gives
 * each an interval that provably holds its float32 score:
 *
 *   approx = lo·Σq + scale·Σ q[i]·code[i]
 *   |q·x − approx| ≤ ‖q‖·‖x − x̂‖            (Cauchy–Schwarz; ‖x − x̂‖ stored per vector)
 *                  + γ·‖q‖₁·(|lo| + 255·scale)  (rounding of the approximate sum)
 *                  + γ·‖q‖·‖x‖                 (rounding of the float32 kernel)
 *
 * with γ = 2·(dim + 16)·FLT_EPSILON (twice the classic bound). Keeping the k
 * best lower bounds gives L_k, a value at least k vectors reach; a vector
 * whose upper bound is below L_k cannot be in the top k. The candidates left
 * are re-scored with the float32 kernel and go through the same topk heap as
 * the scan, so the result should be the same slots in the same order (ties
 * by slot). The tool checks that per query and counts the candidates.
 *
 * Not product code: it is the measurement behind a proposed change (see
 * docs/BENCHMARKS.md, "A bounded 8-bit pass"). The re-rank scores a row with
 * dist_dot_many(n = 1), whose summation order can differ from the
 * two-row pass of the scan in the last bit; the tool reports that separately.
 *
 *   sq8_bound_scan DATASET_DIR [N] [QUERIES] [K]     (dim 384, float32 files of gen_data.py)
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distance.h"
#include "distance_sq8.h"
#include "topk.h"

#define DIM 384
#define BLOCK 1024
#define MAX_K 1000

typedef struct coded {
    uint8_t *codes; /* n × DIM */
    float *lo, *scale;
    float *err_norm; /* ‖x − x̂‖, rounded up */
    float *norm;     /* ‖x‖, rounded up */
} coded;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static float *load_floats(const char *dir, const char *file, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    float *v = malloc(n * sizeof *v);
    FILE *f = fopen(path, "rb");
    if (!v || !f || fread(v, sizeof *v, n, f) != n) {
        perror(path);
        exit(2);
    }
    fclose(f);
    return v;
}

static void normalise(float *v)
{
    double s = 0;
    for (size_t i = 0; i < DIM; i++)
        s += (double)v[i] * v[i];
    float r = (float)(1.0 / sqrt(s));
    for (size_t i = 0; i < DIM; i++)
        v[i] *= r;
}

static void encode_all(const float *x, size_t n, coded *c)
{
    c->codes = aligned_alloc(64, n * DIM);
    c->lo = malloc(n * sizeof(float));
    c->scale = malloc(n * sizeof(float));
    c->err_norm = malloc(n * sizeof(float));
    c->norm = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *v = x + i * DIM;
        uint8_t *code = c->codes + i * DIM;
        sq8_encode(v, DIM, code, &c->lo[i], &c->scale[i]);
        double e2 = 0, x2 = 0;
        for (size_t j = 0; j < DIM; j++) {
            double d = (double)v[j] - ((double)c->lo[i] + (double)c->scale[i] * code[j]);
            e2 += d * d;
            x2 += (double)v[j] * v[j];
        }
        c->err_norm[i] = nextafterf((float)sqrt(e2), INFINITY);
        c->norm[i] = nextafterf((float)sqrt(x2), INFINITY);
    }
}

/* Today's scan: blocks of dist_dot_many into the topk heap. */
static uint32_t float_scan(const float *q, const float *x, size_t n, uint32_t k, topk_item *out)
{
    float scores[BLOCK];
    topk t;
    topk_init(&t, out, k, true);
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t m = n - b < BLOCK ? n - b : BLOCK;
        dist_dot_many(q, x + b * DIM, m, DIM, scores);
        for (size_t j = 0; j < m; j++)
            if (topk_would_accept(&t, scores[j], (uint32_t)(b + j)))
                topk_push(&t, scores[j], (uint32_t)(b + j));
    }
    return topk_finish(&t);
}

typedef struct query_consts {
    float qsum, qnorm, fp_approx, fp_exact;
} query_consts;

static query_consts query_constants(const float *q)
{
    double n2 = 0, n1 = 0, s = 0;
    for (size_t j = 0; j < DIM; j++) {
        n2 += (double)q[j] * q[j];
        n1 += fabs(q[j]);
        s += q[j];
    }
    double gamma = 2.0 * (DIM + 16) * FLT_EPSILON;
    query_consts c = {(float)s, (float)(sqrt(n2) * (1 + 1e-6)), (float)(gamma * n1), (float)(gamma * sqrt(n2))};
    return c;
}

static inline void bounds(const query_consts *qc, const coded *c, size_t i, float raw, float *lower,
                          float *upper)
{
    float approx = c->lo[i] * qc->qsum + c->scale[i] * raw;
    float slack = qc->qnorm * c->err_norm[i] + qc->fp_approx * (fabsf(c->lo[i]) + 255.0f * c->scale[i]) +
                  qc->fp_exact * c->norm[i] + FLT_MIN;
    *lower = approx - slack;
    *upper = approx + slack;
}

/* The proposed scan; *n_cand: vectors re-scored exactly. */
static uint32_t bounded_scan(const float *q, const float *x, const coded *c, size_t n, uint32_t k,
                             uint32_t *cand, topk_item *low_store, topk_item *out, uint32_t *n_cand)
{
    query_consts qc = query_constants(q);
    topk low;
    topk_init(&low, low_store, k, true);
    uint32_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        float lower, upper;
        bounds(&qc, c, i, sq8_dot(q, c->codes + i * DIM, DIM), &lower, &upper);
        if (low.n == low.k && upper < low.items[0].score)
            continue;
        cand[nc++] = (uint32_t)i;
        if (topk_would_accept(&low, lower, (uint32_t)i))
            topk_push(&low, lower, (uint32_t)i);
    }
    float lk = low.n == low.k ? low.items[0].score : -INFINITY;
    topk t;
    topk_init(&t, out, k, true);
    uint32_t kept = 0;
    for (uint32_t j = 0; j < nc; j++) {
        size_t i = cand[j];
        float lower, upper, s;
        bounds(&qc, c, i, sq8_dot(q, c->codes + i * DIM, DIM), &lower, &upper);
        if (upper < lk)
            continue;
        kept++;
        dist_dot_many(q, x + i * DIM, 1, DIM, &s);
        if (topk_would_accept(&t, s, (uint32_t)i))
            topk_push(&t, s, (uint32_t)i);
    }
    *n_cand = kept;
    return topk_finish(&t);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sq8_bound_scan DATASET_DIR [N] [QUERIES] [K]\n");
        return 2;
    }
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
    int nq = argc > 3 ? atoi(argv[3]) : 200;
    uint32_t k = argc > 4 ? (uint32_t)atoi(argv[4]) : 10;
    if (n == 0 || nq <= 0 || k == 0 || k > MAX_K) {
        fprintf(stderr, "sq8_bound_scan: bad N, QUERIES or K\n");
        return 2;
    }
    float *x = load_floats(argv[1], "base.f32", n * DIM);
    float *qs = load_floats(argv[1], "query.f32", (size_t)nq * DIM);
    for (size_t i = 0; i < n; i++)
        normalise(x + i * DIM);
    for (int i = 0; i < nq; i++)
        normalise(qs + (size_t)i * DIM);
    coded c;
    double t0 = now_ms();
    encode_all(x, n, &c);
    printf("encode: %.0f ms for %zu vectors (%s float kernel, %s code kernel)\n", now_ms() - t0, n,
           dist_impl_name(), sq8_impl_name());

    double *t_float = malloc((size_t)nq * sizeof(double)), *t_bound = malloc((size_t)nq * sizeof(double));
    uint32_t *cand = malloc(n * sizeof *cand);
    static topk_item a[MAX_K], b[MAX_K], low[MAX_K];
    unsigned long cand_sum = 0;
    uint32_t cand_max = 0;
    int slot_mismatch = 0, last_bit_only = 0;
    for (int qi = 0; qi < nq; qi++) {
        const float *q = qs + (size_t)qi * DIM;
        double s = now_ms();
        uint32_t na = float_scan(q, x, n, k, a);
        t_float[qi] = now_ms() - s;
        uint32_t nc = 0;
        s = now_ms();
        uint32_t nb = bounded_scan(q, x, &c, n, k, cand, low, b, &nc);
        t_bound[qi] = now_ms() - s;
        cand_sum += nc;
        cand_max = nc > cand_max ? nc : cand_max;
        bool same_slots = na == nb, same_bits = na == nb;
        for (uint32_t j = 0; j < na && j < nb; j++) {
            same_slots = same_slots && a[j].slot == b[j].slot;
            same_bits = same_bits && a[j].slot == b[j].slot && a[j].score == b[j].score;
        }
        slot_mismatch += !same_slots;
        last_bit_only += same_slots && !same_bits;
    }
    qsort(t_float, (size_t)nq, sizeof(double), cmp_double);
    qsort(t_bound, (size_t)nq, sizeof(double), cmp_double);
    printf("n %zu, k %u, %d queries: float32 scan p50 %.3f ms p90 %.3f | 8-bit pass + re-rank p50 %.3f ms "
           "p90 %.3f | re-ranked per query: mean %.1f, max %u | different slots or order: %d queries; "
           "same slots, a score differing in the last bit: %d\n",
           n, k, nq, t_float[nq / 2], t_float[nq * 9 / 10], t_bound[nq / 2], t_bound[nq * 9 / 10],
           (double)cand_sum / nq, cand_max, slot_mismatch, last_bit_only);
    return slot_mismatch ? 1 : 0;
}
