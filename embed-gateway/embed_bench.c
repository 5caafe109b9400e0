/*
 * embed_bench.c — the built-in benchmark sentences, timing, contrast and
 * the 2-D PCA projection (see embed_bench.h). Cosines and sums are in
 * double; cosines are clamped to [-1, 1] so rounding never leaves the range
 * the protocol checks. The PCA centres a private copy of the vectors and
 * runs a fixed number of power iterations from a fixed start, so the same
 * input always gives the same picture.
 */
#include "embed_bench.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_clock.h"
#include "vx_err.h"

const char *const embed_bench_group_names[2] = {"cooking", "computing"};

const char *const embed_bench_texts[EMBED_BENCH_N_TEXTS] = {
    "Simmer the tomato sauce for twenty minutes and stir occasionally.",
    "Knead the bread dough until it is smooth and elastic.",
    "Roast the vegetables with olive oil, garlic and rosemary.",
    "Whisk the eggs with sugar before folding in the flour.",
    "The soup needs more salt and a squeeze of lemon.",
    "Marinate the chicken overnight in yogurt and spices.",
    "Bake the cake at 180 degrees until a skewer comes out clean.",
    "Slice the onions thinly and fry them until golden brown.",
    "The compiler reports a type error on line forty two.",
    "Restart the database server after changing its configuration.",
    "This function leaks memory when the input buffer is empty.",
    "Use a hash table to look the keys up in constant time.",
    "The kernel schedules threads across all available CPU cores.",
    "Encrypt the connection with TLS and verify the certificate.",
    "The unit tests fail because the network mock times out.",
    "Profile the program to find which loop dominates the runtime.",
};

static double cosine(const float *a, const float *b, uint32_t d)
{
    double ab = 0, aa = 0, bb = 0;
    for (uint32_t i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (!(aa > 0 && bb > 0))
        return 0;
    double c = ab / sqrt(aa * bb);
    return c > 1 ? 1 : c < -1 ? -1 : c;
}

int embed_bench_contrast_of(const float *vecs, const uint8_t *group, uint32_t n, uint32_t dim,
                            embed_bench_contrast *out)
{
    double within = 0, cross = 0;
    uint64_t nw = 0, nc = 0;
    memset(out, 0, sizeof *out);
    if (dim == 0)
        return VX_ERR_INVALID;
    for (uint32_t i = 0; i < n; i++)
        if (group[i] > 1)
            return VX_ERR_INVALID;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            double c = cosine(vecs + (size_t)i * dim, vecs + (size_t)j * dim, dim);
            if (group[i] == group[j]) {
                within += c;
                nw++;
            } else {
                cross += c;
                nc++;
            }
        }
    if (!nw || !nc)
        return VX_ERR_INVALID;
    out->within = within / (double)nw;
    out->cross = cross / (double)nc;
    out->contrast = out->within - out->cross;
    return VX_OK;
}

int embed_bench_measure(embed_bench_fn fn, void *arg, uint32_t dim, uint32_t repeats, float *vecs,
                        embed_bench_result *out, char *err, size_t err_len)
{
    const char **texts = (const char **)embed_bench_texts;
    uint8_t group[EMBED_BENCH_N_TEXTS];
    memset(out, 0, sizeof *out);
    if (dim == 0 || repeats == 0) {
        snprintf(err, err_len, "%s must be at least 1", dim == 0 ? "dimensions" : "repeats");
        return VX_ERR_INVALID;
    }
    float *one = malloc(sizeof(float) * dim);
    if (!one) {
        snprintf(err, err_len, "out of memory");
        return VX_ERR_NOMEM;
    }
    double best_batch = HUGE_VAL, best_single = HUGE_VAL;
    int rc = VX_OK;
    for (uint32_t r = 0; r < repeats && rc == VX_OK; r++) {
        uint64_t t0 = vx_now_ns();
        rc = fn(arg, texts, EMBED_BENCH_N_TEXTS, vecs, err, err_len);
        double ms = (double)(vx_now_ns() - t0) / 1e6;
        if (rc != VX_OK)
            break;
        best_batch = ms < best_batch ? ms : best_batch;
        t0 = vx_now_ns();
        for (uint32_t i = 0; i < EMBED_BENCH_N_TEXTS && rc == VX_OK; i++)
            rc = fn(arg, texts + i, 1, one, err, err_len);
        ms = (double)(vx_now_ns() - t0) / 1e6 / EMBED_BENCH_N_TEXTS;
        if (rc == VX_OK)
            best_single = ms < best_single ? ms : best_single;
    }
    free(one);
    if (rc != VX_OK)
        return rc;
    for (uint32_t i = 0; i < EMBED_BENCH_N_TEXTS; i++)
        group[i] = (uint8_t)embed_bench_group_of(i);
    out->dim = dim;
    out->batch_ms = best_batch;
    out->single_ms = best_single;
    /* a clock too coarse to see the batch: report the rate of 1 ns */
    out->texts_per_s = EMBED_BENCH_N_TEXTS * 1000.0 / (best_batch > 1e-6 ? best_batch : 1e-6);
    rc = embed_bench_contrast_of(vecs, group, EMBED_BENCH_N_TEXTS, dim, &out->c);
    if (rc != VX_OK)
        snprintf(err, err_len, "contrast: %s", vx_strerror(rc));
    return rc;
}

/* ---- PCA ---- */

#define PCA_ITERATIONS 300

/* w = Xcᵀ (Xc v); xv is n scratch doubles */
static void cov_apply(const double *xc, uint32_t n, uint32_t dim, const double *v, double *w,
                      double *xv)
{
    for (uint32_t i = 0; i < n; i++) {
        double s = 0;
        for (uint32_t k = 0; k < dim; k++)
            s += xc[(size_t)i * dim + k] * v[k];
        xv[i] = s;
    }
    memset(w, 0, sizeof(double) * dim);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < dim; k++)
            w[k] += xc[(size_t)i * dim + k] * xv[i];
}

static double dot(const double *a, const double *b, uint32_t dim)
{
    double s = 0;
    for (uint32_t k = 0; k < dim; k++)
        s += a[k] * b[k];
    return s;
}

/* v := v − (v·u)u for the unit vectors u[0..n_prev), then v /= |v|.
 * Returns false when nothing is left (v in the span of u). */
static bool orth_normalize(double *v, const double *const *u, int n_prev, uint32_t dim)
{
    for (int p = 0; p < n_prev; p++) {
        double d = dot(v, u[p], dim);
        for (uint32_t k = 0; k < dim; k++)
            v[k] -= d * u[p][k];
    }
    double norm = sqrt(dot(v, v, dim));
    if (!(norm > 1e-300))
        return false;
    for (uint32_t k = 0; k < dim; k++)
        v[k] /= norm;
    return true;
}

/* The leading eigenvector of XcᵀXc orthogonal to u[0..n_prev), into v;
 * v = 0 when the data has no variance left in that space. */
static void power_iterate(const double *xc, uint32_t n, uint32_t dim, const double *const *u,
                          int n_prev, double *v, double *w, double *xv)
{
    uint64_t s = 0x9e3779b97f4a7c15ull + (uint64_t)n_prev;
    for (uint32_t k = 0; k < dim; k++) { /* fixed pseudo-random start */
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v[k] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
    }
    if (!orth_normalize(v, u, n_prev, dim)) {
        memset(v, 0, sizeof(double) * dim);
        return;
    }
    for (int it = 0; it < PCA_ITERATIONS; it++) {
        cov_apply(xc, n, dim, v, w, xv);
        if (!orth_normalize(w, u, n_prev, dim)) { /* no variance left */
            memset(v, 0, sizeof(double) * dim);
            return;
        }
        memcpy(v, w, sizeof(double) * dim);
    }
}

int embed_bench_pca2(const float *vecs, uint32_t n, uint32_t dim, double *xy)
{
    if (n < 2 || dim == 0)
        return VX_ERR_INVALID;
    double *xc = malloc(sizeof(double) * ((size_t)n * dim + 4 * (size_t)dim + n));
    if (!xc)
        return VX_ERR_NOMEM;
    double *v1 = xc + (size_t)n * dim, *v2 = v1 + dim, *w = v2 + dim, *mean = w + dim;
    double *xv = mean + dim;
    memset(mean, 0, sizeof(double) * dim);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < dim; k++)
            mean[k] += vecs[(size_t)i * dim + k];
    for (uint32_t k = 0; k < dim; k++)
        mean[k] /= n;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < dim; k++)
            xc[(size_t)i * dim + k] = vecs[(size_t)i * dim + k] - mean[k];
    const double *u[2] = {v1, v2};
    power_iterate(xc, n, dim, u, 0, v1, w, xv);
    power_iterate(xc, n, dim, u, 1, v2, w, xv);
    for (int c = 0; c < 2; c++) {
        double big = 0;
        for (uint32_t i = 0; i < n; i++) {
            double p = dot(xc + (size_t)i * dim, u[c], dim);
            xy[2 * i + c] = p;
            if (fabs(p) > fabs(big))
                big = p;
        }
        if (big < 0)
            for (uint32_t i = 0; i < n; i++)
                xy[2 * i + c] = -xy[2 * i + c];
    }
    free(xc);
    return VX_OK;
}
