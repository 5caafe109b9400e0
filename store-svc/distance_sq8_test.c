/*
 * distance_sq8_test.c — 8-bit quantisation and the float32 × uint8 kernels:
 * encode/decode round trips (error bound, extremes, constant vectors), and
 * every kernel implementation this CPU supports against a double-precision
 * reference on dims 1..70 (every tail length of every vector width) plus
 * 383/384/385/1000, at pointers offset from any alignment. Buffers end
 * exactly at the last element so the sanitizer build catches any over-read.
 */
#include "distance_sq8.h"
#include "vx_test.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

static const char *IMPLS[] = {"scalar", "avx2", "avx512"};

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / (double)(1ull << 53)) * 2.0f - 1.0f;
}

static size_t test_dim(size_t i)
{
    static const size_t big[] = {383, 384, 385, 1000};
    return i < 70 ? i + 1 : big[i - 70];
}
#define N_DIMS 74

TEST(sq8_encode_roundtrip)
{
    for (size_t di = 0; di < N_DIMS; di++) {
        size_t d = test_dim(di);
        float *v = malloc(d * sizeof *v), *back = malloc(d * sizeof *back);
        uint8_t *c = malloc(d);
        for (size_t i = 0; i < d; i++)
            v[i] = frand() * 3.0f + 0.5f;
        float lo, scale;
        sq8_encode(v, d, c, &lo, &scale);
        float mn = v[0], mx = v[0];
        for (size_t i = 1; i < d; i++) {
            mn = fminf(mn, v[i]);
            mx = fmaxf(mx, v[i]);
        }
        ASSERT(lo == mn);
        ASSERT_NEAR(scale, ((double)mx - mn) / 255.0, 1e-6);
        double sum = 0;
        float s = sq8_decode(c, d, lo, scale, back);
        bool has0 = false, has255 = false;
        for (size_t i = 0; i < d; i++) {
            ASSERT_MSG(fabsf(back[i] - v[i]) <= scale * 0.5f * 1.001f + 1e-6f,
                       "dim %zu comp %zu: %g -> %g (scale %g)", d, i, v[i], back[i], scale);
            sum += back[i];
            has0 |= c[i] == 0;
            has255 |= c[i] == 255;
        }
        ASSERT_NEAR(s, sum, 1e-4 * (fabs(sum) + d));
        ASSERT(d == 1 || (has0 && has255)); /* the full code range is used */
        free(v);
        free(back);
        free(c);
    }
}

TEST(sq8_encode_constant_and_extreme)
{
    float v[5] = {2.5f, 2.5f, 2.5f, 2.5f, 2.5f}, back[5];
    uint8_t c[5];
    float lo, scale;
    sq8_encode(v, 5, c, &lo, &scale);
    ASSERT(lo == 2.5f && scale == 0.0f);
    sq8_decode(c, 5, lo, scale, back);
    for (int i = 0; i < 5; i++)
        ASSERT(c[i] == 0 && back[i] == 2.5f);
    /* a range wider than FLT_MAX: the scale stays finite, codes in range */
    float w[3] = {-FLT_MAX, 0.0f, FLT_MAX};
    sq8_encode(w, 3, c, &lo, &scale);
    ASSERT(isfinite(lo) && isfinite(scale) && scale > 0);
    ASSERT(c[0] == 0 && c[2] == 255 && (c[1] == 127 || c[1] == 128));
    /* subnormal range: scale underflows to 0, codes all 0 */
    float t[2] = {0.0f, 1e-44f};
    sq8_encode(t, 2, c, &lo, &scale);
    ASSERT(scale >= 0.0f && isfinite(scale));
    /* deterministic */
    uint8_t c2[3];
    float lo2, scale2;
    sq8_encode(w, 3, c2, &lo2, &scale2);
    sq8_encode(w, 3, c, &lo, &scale);
    ASSERT(memcmp(c, c2, 3) == 0 && lo == lo2 && scale == scale2);
}

static double ref_dot(const float *q, const uint8_t *c, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++)
        s += (double)q[i] * c[i];
    return s;
}

static double ref_l2(const float *q, const uint8_t *c, size_t d, float lo, float scale)
{
    double s = 0;
    for (size_t i = 0; i < d; i++) {
        double x = (double)q[i] - ((double)lo + (double)scale * c[i]);
        s += x * x;
    }
    return s;
}

TEST(sq8_kernels_match_reference)
{
    int tested = 0;
    for (size_t ii = 0; ii < sizeof IMPLS / sizeof *IMPLS; ii++) {
        if (sq8_force_impl(IMPLS[ii]) != 0)
            continue; /* CPU lacks it */
        tested++;
        for (size_t di = 0; di < N_DIMS; di++) {
            size_t d = test_dim(di);
            for (size_t off = 0; off < 4; off++) {
                /* the buffers end exactly where the data ends */
                float *qb = malloc((d + off) * sizeof *qb), *q = qb + off;
                uint8_t *cb = malloc(d + 3 * off), *c = cb + 3 * off;
                float *out = malloc(d * sizeof *out);
                for (size_t i = 0; i < d; i++) {
                    q[i] = frand();
                    c[i] = (uint8_t)(frand() * 127.5f + 128.0f);
                }
                float lo = frand() * 0.5f, scale = 0.004f + 0.01f * fabsf(frand());
                double rd = ref_dot(q, c, d), rl = ref_l2(q, c, d, lo, scale);
                double tol_d = 1e-5 * (255.0 * d + 1), tol_l = 1e-5 * (rl + 1);
                float gd = sq8_dot(q, c, d), gl = sq8_l2sq(q, c, d, lo, scale);
                ASSERT_MSG(fabs(gd - rd) <= tol_d, "%s dot dim %zu off %zu: %g vs %g",
                           IMPLS[ii], d, off, gd, rd);
                ASSERT_MSG(fabs(gl - rl) <= tol_l, "%s l2 dim %zu off %zu: %g vs %g",
                           IMPLS[ii], d, off, gl, rl);
                double sum = 0;
                float gs = sq8_decode(c, d, lo, scale, out);
                for (size_t i = 0; i < d; i++) {
                    double want = (double)lo + (double)scale * c[i];
                    ASSERT_MSG(fabs(out[i] - want) <= 1e-6 * (fabs(want) + 1),
                               "%s decode dim %zu comp %zu", IMPLS[ii], d, i);
                    sum += out[i];
                }
                ASSERT_MSG(fabs(gs - sum) <= 1e-5 * (fabs(sum) + d), "%s decode sum dim %zu",
                           IMPLS[ii], d);
                free(qb);
                free(cb);
                free(out);
            }
        }
    }
    ASSERT(sq8_force_impl("auto") == 0);
    ASSERT(tested >= 1);
    ASSERT(sq8_force_impl("no-such") == -1);
}

TEST(sq8_asymmetric_distance_approximates_exact)
{
    /* lo·Σq + scale·dot is the inner product with the dequantised vector,
     * within the quantisation error of the exact fp32 inner product */
    size_t d = 384;
    float *q = malloc(d * sizeof *q), *v = malloc(d * sizeof *v);
    uint8_t *c = malloc(d);
    double qn = 0, vn = 0;
    for (size_t i = 0; i < d; i++) {
        q[i] = frand();
        v[i] = frand();
        qn += (double)q[i] * q[i];
        vn += (double)v[i] * v[i];
    }
    float lo, scale;
    sq8_encode(v, d, c, &lo, &scale);
    double qsum = 0, exact = 0, l2 = 0;
    for (size_t i = 0; i < d; i++) {
        qsum += q[i];
        exact += (double)q[i] * v[i];
        l2 += ((double)q[i] - v[i]) * ((double)q[i] - v[i]);
    }
    double ip = lo * qsum + scale * sq8_dot(q, c, d);
    /* error per component ≤ scale/2: |Σ q_i e_i| ≤ (scale/2)·Σ|q_i| */
    ASSERT_NEAR(ip, exact, 0.5 * scale * sqrt(qn) * sqrt((double)d));
    ASSERT_NEAR(sq8_l2sq(q, c, d, lo, scale), l2, 0.05 * l2);
    (void)vn;
    free(q);
    free(v);
    free(c);
}
