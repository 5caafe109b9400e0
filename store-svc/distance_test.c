/*
 * distance_test.c — every kernel implementation this CPU supports against a
 * double-precision reference: dims 1..70 (all tail lengths of every vector
 * width) plus 384 and 768, pointers offset from any SIMD alignment, and the
 * _many kernels against the single-pair kernels row by row.
 */
#include "distance.h"
#include "vx_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *IMPLS[] = {"scalar", "avx2", "avx512"};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / (double)(1ull << 53)) * 2.0f - 1.0f;
}

static double ref_dot(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++)
        s += (double)a[i] * b[i];
    return s;
}

static double ref_l2(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++) {
        double x = (double)a[i] - b[i];
        s += x * x;
    }
    return s;
}

/* Relative tolerance scaled by the sum of absolute terms (float rounding). */
static int close_enough(double got, double want, double absmag)
{
    return fabs(got - want) <= 1e-5 * absmag + 1e-6;
}

TEST(dist_impls_match_reference)
{
    static const size_t extra_dims[] = {384, 768};
    float *buf_a = malloc((768 + 8) * sizeof(float));
    float *buf_b = malloc((768 + 8) * sizeof(float));
    ASSERT(buf_a && buf_b);
    for (size_t i = 0; i < 768 + 8; i++) {
        buf_a[i] = frand();
        buf_b[i] = frand();
    }
    int tested = 0;
    for (size_t k = 0; k < sizeof IMPLS / sizeof *IMPLS; k++) {
        if (dist_force_impl(IMPLS[k]) != 0)
            continue;
        tested++;
        ASSERT_STR_EQ(dist_impl_name(), IMPLS[k]);
        for (size_t di = 0; di < 70 + 2; di++) {
            size_t d = di < 70 ? di + 1 : extra_dims[di - 70];
            for (size_t off = 0; off < 4; off++) {
                const float *a = buf_a + off, *b = buf_b + (3 - off) + 1; /* misaligned */
                double mag_dot = 0, mag_l2 = 0;
                for (size_t i = 0; i < d; i++) {
                    mag_dot += fabs((double)a[i] * b[i]);
                    mag_l2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
                }
                double gd = dist_dot(a, b, d), gl = dist_l2sq(a, b, d);
                ASSERT_MSG(close_enough(gd, ref_dot(a, b, d), mag_dot),
                           "%s dot d=%zu off=%zu: %.9g vs %.9g", IMPLS[k], d, off, gd,
                           ref_dot(a, b, d));
                ASSERT_MSG(close_enough(gl, ref_l2(a, b, d), mag_l2),
                           "%s l2sq d=%zu off=%zu: %.9g vs %.9g", IMPLS[k], d, off, gl,
                           ref_l2(a, b, d));
                ASSERT_NEAR(dist_norm(a, d), sqrt(ref_dot(a, a, d)), 1e-5 * sqrt(d) + 1e-6);
            }
        }
    }
    dist_force_impl("auto");
    free(buf_a);
    free(buf_b);
    ASSERT(tested >= 1);
}

TEST(dist_many_equals_pairwise)
{
    static const size_t dims[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65, 100, 384, 385};
    static const size_t ns[] = {0, 1, 3, 4, 5, 9, 17};
    const size_t maxd = 385, maxn = 17;
    float *base = malloc((maxd * maxn + 1) * sizeof(float));
    float *q = malloc((maxd + 1) * sizeof(float));
    float out[17], out2[17];
    ASSERT(base && q);
    for (size_t i = 0; i < maxd * maxn + 1; i++)
        base[i] = frand();
    for (size_t i = 0; i < maxd + 1; i++)
        q[i] = frand();
    for (size_t k = 0; k < sizeof IMPLS / sizeof *IMPLS; k++) {
        if (dist_force_impl(IMPLS[k]) != 0)
            continue;
        for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
            for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
                size_t d = dims[di], n = ns[ni];
                const float *b = base + 1, *qq = q + 1; /* unaligned rows */
                for (size_t r = 0; r < maxn; r++)
                    out[r] = out2[r] = -12345.0f; /* sentinel beyond n */
                dist_dot_many(qq, b, n, d, out);
                dist_l2sq_many(qq, b, n, d, out2);
                for (size_t r = 0; r < n; r++) {
                    float want_d = dist_dot(qq, b + r * d, d);
                    float want_l = dist_l2sq(qq, b + r * d, d);
                    ASSERT_NEAR(out[r], want_d, 1e-5 * (1 + fabs(want_d)) + 1e-4);
                    ASSERT_NEAR(out2[r], want_l, 1e-5 * (1 + fabs(want_l)) + 1e-4);
                    ASSERT(close_enough(out[r], ref_dot(qq, b + r * d, d), (double)d));
                }
                for (size_t r = n; r < maxn; r++) {
                    ASSERT(out[r] == -12345.0f);
                    ASSERT(out2[r] == -12345.0f);
                }
            }
        }
    }
    dist_force_impl("auto");
    free(base);
    free(q);
}

/* The bounded scan (flat.h) re-scores single rows with n = 1 and must get
 * the bits the scan gave them: a row's score may not depend on n or on the
 * row's position (first or second of a pair, or the odd last row). */
TEST(dist_many_score_does_not_depend_on_position)
{
    const size_t maxn = 9, dims[] = {1, 7, 16, 33, 384, 385};
    float *base = malloc(385 * maxn * sizeof(float)), q[385], out[9], one, one2;
    ASSERT(base);
    for (size_t i = 0; i < 385 * maxn; i++)
        base[i] = frand() * 1000.0f;
    for (size_t i = 0; i < 385; i++)
        q[i] = frand();
    for (size_t k = 0; k < sizeof IMPLS / sizeof *IMPLS; k++) {
        if (dist_force_impl(IMPLS[k]) != 0)
            continue;
        for (size_t di = 0; di < sizeof dims / sizeof *dims; di++)
            for (size_t n = 1; n <= maxn; n++) {
                size_t d = dims[di];
                float out2[9];
                dist_dot_many(q, base, n, d, out);
                dist_l2sq_many(q, base, n, d, out2);
                for (size_t r = 0; r < n; r++) {
                    dist_dot_many(q, base + r * d, 1, d, &one);
                    dist_l2sq_many(q, base + r * d, 1, d, &one2);
                    ASSERT_MSG(memcmp(&one, &out[r], sizeof one) == 0, "%s dot n %zu row %zu",
                               IMPLS[k], n, r);
                    ASSERT_MSG(memcmp(&one2, &out2[r], sizeof one2) == 0, "%s l2 n %zu row %zu",
                               IMPLS[k], n, r);
                }
            }
    }
    dist_force_impl("auto");
    free(base);
}

TEST(dist_force_impl_rejects_unknown)
{
    ASSERT_EQ_INT(dist_force_impl("sse9"), -1);
    ASSERT_EQ_INT(dist_force_impl(NULL), -1);
    ASSERT_EQ_INT(dist_force_impl("auto"), 0);
    const char *n = dist_impl_name();
    ASSERT(strcmp(n, "scalar") == 0 || strcmp(n, "avx2") == 0 || strcmp(n, "avx512") == 0);
    /* identical vectors: l2sq exactly 0 in every implementation */
    float v[37];
    for (int i = 0; i < 37; i++)
        v[i] = (float)i * 0.25f;
    ASSERT(dist_l2sq(v, v, 37) == 0.0f);
}
