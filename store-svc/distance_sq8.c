/*
 * distance_sq8.c — 8-bit scalar quantisation (encode/decode) and the
 * float32-query × uint8-code kernels of distance_sq8.h, with runtime
 * dispatch in the style of distance.c.
 *
 * Three implementations of each kernel: portable C (four accumulators),
 * AVX2+FMA (8 codes per step: zero-extend to i32, convert, FMA) and
 * AVX-512F (16 codes per step). The SIMD versions are compiled per function
 * with __attribute__((target(...))), so the binary needs only baseline
 * x86-64; the best one the CPU supports is chosen on first use
 * (simd_dispatch.h).
 *
 * Invariants: every kernel accepts any dim >= 1 and any alignment, and
 * reads exactly dim codes and dim floats: the code tail (fewer than one
 * vector's worth) is copied into a zeroed local block, the float tail is
 * read with masked loads. Encoding has a single (portable) implementation,
 * so codes are bit-identical on every machine.
 */
#include "distance_sq8.h"

#include "distance.h"
#include "simd_dispatch.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SQ8_X86 1
#else
#define SQ8_X86 0
#endif

typedef float (*sq8_dot_fn)(const float *, const uint8_t *, size_t);
typedef float (*sq8_l2_fn)(const float *, const uint8_t *, size_t, float, float);
typedef float (*sq8_dec_fn)(const uint8_t *, size_t, float, float, float *);

typedef struct sq8_impl {
    const char *name;
    sq8_dot_fn dot;
    sq8_l2_fn l2sq;
    sq8_dec_fn decode;
} sq8_impl;

/* ---- encoding (portable only: codes must not depend on the CPU) ------------- */

void sq8_encode(const float *v, size_t dim, uint8_t *codes, float *lo, float *scale)
{
    float mn = v[0], mx = v[0];
    for (size_t i = 1; i < dim; i++) {
        mn = v[i] < mn ? v[i] : mn;
        mx = v[i] > mx ? v[i] : mx;
    }
    double range = (double)mx - (double)mn; /* in double: cannot overflow */
    float s = (float)(range / 255.0);
    *lo = mn;
    if (!(range > 0) || s == 0.0f) {
        *scale = 0.0f;
        memset(codes, 0, dim);
        return;
    }
    *scale = s;
    double inv = 255.0 / range;
    for (size_t i = 0; i < dim; i++) {
        double t = ((double)v[i] - (double)mn) * inv + 0.5;
        codes[i] = t >= 255.0 ? 255 : (uint8_t)t;
    }
}

/* ---- portable C ------------------------------------------------------------- */

static float dot_scalar(const float *q, const uint8_t *c, size_t dim)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        s0 += q[i] * (float)c[i];
        s1 += q[i + 1] * (float)c[i + 1];
        s2 += q[i + 2] * (float)c[i + 2];
        s3 += q[i + 3] * (float)c[i + 3];
    }
    for (; i < dim; i++)
        s0 += q[i] * (float)c[i];
    return (s0 + s1) + (s2 + s3);
}

static float l2_scalar(const float *q, const uint8_t *c, size_t dim, float lo, float scale)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        float d0 = q[i] - lo - scale * (float)c[i];
        float d1 = q[i + 1] - lo - scale * (float)c[i + 1];
        float d2 = q[i + 2] - lo - scale * (float)c[i + 2];
        float d3 = q[i + 3] - lo - scale * (float)c[i + 3];
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i < dim; i++) {
        float d = q[i] - lo - scale * (float)c[i];
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

static float decode_scalar(const uint8_t *c, size_t dim, float lo, float scale, float *out)
{
    float s = 0;
    for (size_t i = 0; i < dim; i++) {
        out[i] = lo + scale * (float)c[i];
        s += out[i];
    }
    return s;
}

#if SQ8_X86
/* ---- AVX2 + FMA: 8 codes per step --------------------------------------------- */

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/* Codes c[0..8) as floats. */
AVX2 static inline __m256 codes8(const uint8_t *c)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)c)));
}

/* The last r (1..7) codes and floats: codes through a zeroed block, floats
 * masked (lanes >= r are 0). */
AVX2 static inline __m256 tail_codes8(const uint8_t *c, size_t r)
{
    uint8_t blk[8] = {0};
    memcpy(blk, c, r);
    return codes8(blk);
}

AVX2 static inline __m256i tailmask256(size_t r)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), idx);
}

AVX2 static float dot_avx2(const float *q, const uint8_t *c, size_t dim)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), codes8(c + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), codes8(c + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), codes8(c + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), codes8(c + i + 24), s3);
    }
    for (; i + 8 <= dim; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), codes8(c + i), s0);
    if (i < dim) {
        __m256 qv = _mm256_maskload_ps(q + i, tailmask256(dim - i));
        s1 = _mm256_fmadd_ps(qv, tail_codes8(c + i, dim - i), s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* d = q − (lo + scale·c); s += d² */
#define L2_STEP256(s, qv, cv)                                                            \
    do {                                                                                 \
        __m256 d_ = _mm256_sub_ps((qv), _mm256_fmadd_ps(vs, (cv), vlo));                 \
        (s) = _mm256_fmadd_ps(d_, d_, (s));                                              \
    } while (0)

AVX2 static float l2_avx2(const float *q, const uint8_t *c, size_t dim, float lo, float scale)
{
    const __m256 vlo = _mm256_set1_ps(lo), vs = _mm256_set1_ps(scale);
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        L2_STEP256(s0, _mm256_loadu_ps(q + i), codes8(c + i));
        L2_STEP256(s1, _mm256_loadu_ps(q + i + 8), codes8(c + i + 8));
    }
    for (; i + 8 <= dim; i += 8)
        L2_STEP256(s0, _mm256_loadu_ps(q + i), codes8(c + i));
    if (i < dim) {
        __m256i m = tailmask256(dim - i);
        __m256 d = _mm256_sub_ps(_mm256_maskload_ps(q + i, m),
                                 _mm256_fmadd_ps(vs, tail_codes8(c + i, dim - i), vlo));
        d = _mm256_and_ps(d, _mm256_castsi256_ps(m)); /* lanes past the end: 0 */
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return hsum256(_mm256_add_ps(s0, s1));
}

AVX2 static float decode_avx2(const uint8_t *c, size_t dim, float lo, float scale, float *out)
{
    const __m256 vlo = _mm256_set1_ps(lo), vs = _mm256_set1_ps(scale);
    __m256 s = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        __m256 x = _mm256_fmadd_ps(vs, codes8(c + i), vlo);
        _mm256_storeu_ps(out + i, x);
        s = _mm256_add_ps(s, x);
    }
    float t = hsum256(s);
    for (; i < dim; i++) {
        out[i] = lo + scale * (float)c[i];
        t += out[i];
    }
    return t;
}

/* ---- AVX-512F: 16 codes per step -------------------------------------------- */

#define AVX512 __attribute__((target("avx512f")))

AVX512 static inline __m512 codes16(const uint8_t *c)
{
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)c)));
}

AVX512 static inline __m512 tail_codes16(const uint8_t *c, size_t r)
{
    uint8_t blk[16] = {0};
    memcpy(blk, c, r);
    return codes16(blk);
}

AVX512 static inline __mmask16 tailmask512(size_t r)
{
    return (__mmask16)((1u << r) - 1u);
}

AVX512 static float dot_avx512(const float *q, const uint8_t *c, size_t dim)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), codes16(c + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), codes16(c + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 32), codes16(c + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 48), codes16(c + i + 48), s3);
    }
    for (; i + 16 <= dim; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), codes16(c + i), s0);
    if (i < dim) {
        __m512 qv = _mm512_maskz_loadu_ps(tailmask512(dim - i), q + i);
        s1 = _mm512_fmadd_ps(qv, tail_codes16(c + i, dim - i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

#define L2_STEP512(s, qv, cv)                                                            \
    do {                                                                                 \
        __m512 d_ = _mm512_sub_ps((qv), _mm512_fmadd_ps(vs, (cv), vlo));                 \
        (s) = _mm512_fmadd_ps(d_, d_, (s));                                              \
    } while (0)

AVX512 static float l2_avx512(const float *q, const uint8_t *c, size_t dim, float lo,
                              float scale)
{
    const __m512 vlo = _mm512_set1_ps(lo), vs = _mm512_set1_ps(scale);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        L2_STEP512(s0, _mm512_loadu_ps(q + i), codes16(c + i));
        L2_STEP512(s1, _mm512_loadu_ps(q + i + 16), codes16(c + i + 16));
    }
    for (; i + 16 <= dim; i += 16)
        L2_STEP512(s0, _mm512_loadu_ps(q + i), codes16(c + i));
    if (i < dim) {
        __mmask16 m = tailmask512(dim - i);
        __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, q + i),
                                       _mm512_fmadd_ps(vs, tail_codes16(c + i, dim - i), vlo));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512 static float decode_avx512(const uint8_t *c, size_t dim, float lo, float scale,
                                  float *out)
{
    const __m512 vlo = _mm512_set1_ps(lo), vs = _mm512_set1_ps(scale);
    __m512 s = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        __m512 x = _mm512_fmadd_ps(vs, codes16(c + i), vlo);
        _mm512_storeu_ps(out + i, x);
        s = _mm512_add_ps(s, x);
    }
    if (i < dim) {
        __mmask16 m = tailmask512(dim - i);
        __m512 x = _mm512_maskz_mov_ps(m, _mm512_fmadd_ps(vs, tail_codes16(c + i, dim - i), vlo));
        _mm512_mask_storeu_ps(out + i, m, x);
        s = _mm512_add_ps(s, x);
    }
    return _mm512_reduce_add_ps(s);
}
#endif /* SQ8_X86 */

/* ---- dispatch ------------------------------------------------------------------ */

static const sq8_impl IMPL_SCALAR = {"scalar", dot_scalar, l2_scalar, decode_scalar};
#if SQ8_X86
static const sq8_impl IMPL_AVX2 = {"avx2", dot_avx2, l2_avx2, decode_avx2};
static const sq8_impl IMPL_AVX512 = {"avx512", dot_avx512, l2_avx512, decode_avx512};
static simd_table g_table = {{&IMPL_SCALAR, &IMPL_AVX2, &IMPL_AVX512}, NULL, NULL};
#else
static simd_table g_table = {{&IMPL_SCALAR, NULL, NULL}, NULL, NULL};
#endif

static inline const sq8_impl *impl(void)
{
    return simd_get(&g_table);
}

float sq8_dot(const float *q, const uint8_t *codes, size_t dim)
{
    return impl()->dot(q, codes, dim);
}

float sq8_l2sq(const float *q, const uint8_t *codes, size_t dim, float lo, float scale)
{
    return impl()->l2sq(q, codes, dim, lo, scale);
}

float sq8_decode(const uint8_t *codes, size_t dim, float lo, float scale, float *out)
{
    return impl()->decode(codes, dim, lo, scale, out);
}

const char *sq8_impl_name(void)
{
    return impl()->name;
}

int sq8_force_impl(const char *name)
{
    return simd_force(&g_table, name);
}
