/*
 * distance.c — dot product and squared-L2 kernels with runtime dispatch.
 *
 * Three implementations of each kernel: portable C (four independent
 * accumulators so the compiler can pipeline), AVX2+FMA and AVX-512F. The
 * SIMD versions are compiled per function with __attribute__((target(...)))
 * so the binary itself needs only baseline x86-64; the best implementation
 * the CPU supports is chosen on first use (simd_dispatch.h) from a table
 * of implementations.
 *
 * Invariants: every kernel accepts any dim >= 1 and any float-aligned
 * pointer (unaligned loads only; tails use masked loads on AVX-512 and
 * AVX2, so no kernel reads past the last element). The _many kernels score
 * two rows per pass, taken from the two halves of the block (two sequential
 * streams, see MANY_BODY_AVX2), so a scan over a large base is bound by
 * memory bandwidth rather than by FMA latency.
 */
#include "distance.h"
#include "simd_dispatch.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DIST_X86 1
#else
#define DIST_X86 0
#endif

typedef float (*dist_pair_fn)(const float *, const float *, size_t);
typedef void (*dist_many_fn)(const float *, const float *, size_t, size_t, float *);

typedef struct dist_impl {
    const char *name;
    dist_pair_fn dot;
    dist_pair_fn l2sq;
    dist_many_fn dot_many;
    dist_many_fn l2sq_many;
} dist_impl;

/* ---- portable C ------------------------------------------------------------ */

static float dot_scalar(const float *a, const float *b, size_t dim)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < dim; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static float l2sq_scalar(const float *a, const float *b, size_t dim)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
        float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i < dim; i++) {
        float d = a[i] - b[i];
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

static void dot_many_scalar(const float *q, const float *base, size_t n, size_t dim, float *out)
{
    for (size_t r = 0; r < n; r++)
        out[r] = dot_scalar(q, base + r * dim, dim);
}

static void l2sq_many_scalar(const float *q, const float *base, size_t n, size_t dim, float *out)
{
    for (size_t r = 0; r < n; r++)
        out[r] = l2sq_scalar(q, base + r * dim, dim);
}

#if DIST_X86
/* ---- AVX2 + FMA -------------------------------------------------------------- */

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/* Mask selecting the first r (0..7) lanes, for _mm256_maskload_ps. */
AVX2 static inline __m256i tailmask256(size_t r)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), idx);
}

AVX2 static float dot_avx2(const float *a, const float *b, size_t dim)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= dim; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < dim) {
        __m256i m = tailmask256(dim - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

AVX2 static float l2sq_avx2(const float *a, const float *b, size_t dim)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; i + 8 <= dim; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    if (i < dim) {
        __m256i m = tailmask256(dim - i);
        __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* Two streams per pass: rows r and r + h of the n rows (h = n / 2) are
 * scored together, so the scan reads two independent sequential streams.
 * Measured on the 2-vCPU Zen 4 host (docs/BENCHMARKS.md): two streams keep
 * more of the hardware prefetcher's lines in flight than one stream or
 * interleaved neighbouring rows with software prefetch (+25-30 % QPS on a
 * 154 MB scan, above a plain one-stream read loop). Two accumulators per
 * row hide the FMA latency. An odd last row goes through the same pair body
 * (as both rows of its pair), so a row's score is the same function of the
 * query and the row wherever the row sits, n = 1 included: the bounded scan
 * (flat.h) re-scores single rows and must get the plain scan's bits. */
#define MANY_BODY_AVX2(OP)                                                               \
    size_t h = n / 2;                                                                    \
    for (size_t r = 0; r < h + (n & 1); r++) {                                           \
        size_t rx = r < h ? r : n - 1, ry = r < h ? r + h : n - 1;                       \
        const float *x = base + rx * dim, *y = base + ry * dim;                          \
        __m256 sx0 = _mm256_setzero_ps(), sx1 = _mm256_setzero_ps();                     \
        __m256 sy0 = _mm256_setzero_ps(), sy1 = _mm256_setzero_ps();                     \
        size_t i = 0;                                                                    \
        for (; i + 16 <= dim; i += 16) {                                                 \
            __m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);         \
            OP(sx0, q0, _mm256_loadu_ps(x + i));                                         \
            OP(sx1, q1, _mm256_loadu_ps(x + i + 8));                                     \
            OP(sy0, q0, _mm256_loadu_ps(y + i));                                         \
            OP(sy1, q1, _mm256_loadu_ps(y + i + 8));                                     \
        }                                                                                \
        for (; i + 8 <= dim; i += 8) {                                                   \
            __m256 q0 = _mm256_loadu_ps(q + i);                                          \
            OP(sx0, q0, _mm256_loadu_ps(x + i));                                         \
            OP(sy0, q0, _mm256_loadu_ps(y + i));                                         \
        }                                                                                \
        if (i < dim) {                                                                   \
            __m256i m = tailmask256(dim - i);                                            \
            __m256 q0 = _mm256_maskload_ps(q + i, m);                                    \
            OP(sx1, q0, _mm256_maskload_ps(x + i, m));                                   \
            OP(sy1, q0, _mm256_maskload_ps(y + i, m));                                   \
        }                                                                                \
        out[rx] = hsum256(_mm256_add_ps(sx0, sx1));                                      \
        out[ry] = hsum256(_mm256_add_ps(sy0, sy1));                                      \
    }

#define OP_DOT256(s, a, b) (s) = _mm256_fmadd_ps((a), (b), (s))
#define OP_L2_256(s, a, b)                                                               \
    do {                                                                                 \
        __m256 d_ = _mm256_sub_ps((a), (b));                                             \
        (s) = _mm256_fmadd_ps(d_, d_, (s));                                              \
    } while (0)

AVX2 static void dot_many_avx2(const float *q, const float *base, size_t n, size_t dim,
                               float *out)
{
    MANY_BODY_AVX2(OP_DOT256)
}

AVX2 static void l2sq_many_avx2(const float *q, const float *base, size_t n, size_t dim,
                                float *out)
{
    MANY_BODY_AVX2(OP_L2_256)
}

/* ---- AVX-512F ----------------------------------------------------------------- */

#define AVX512 __attribute__((target("avx512f")))

AVX512 static inline __mmask16 tailmask512(size_t r)
{
    return (__mmask16)((1u << r) - 1u);
}

AVX512 static float dot_avx512(const float *a, const float *b, size_t dim)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= dim; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < dim) {
        __mmask16 m = tailmask512(dim - i);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i),
                             s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

AVX512 static float l2sq_avx512(const float *a, const float *b, size_t dim)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
        s2 = _mm512_fmadd_ps(d2, d2, s2);
        s3 = _mm512_fmadd_ps(d3, d3, s3);
    }
    for (; i + 16 <= dim; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < dim) {
        __mmask16 m = tailmask512(dim - i);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* Same two-stream scheme as the AVX2 version, with 16 lanes. */
#define MANY_BODY_AVX512(OP)                                                             \
    size_t h = n / 2;                                                                    \
    for (size_t r = 0; r < h + (n & 1); r++) {                                           \
        size_t rx = r < h ? r : n - 1, ry = r < h ? r + h : n - 1;                       \
        const float *x = base + rx * dim, *y = base + ry * dim;                          \
        __m512 sx0 = _mm512_setzero_ps(), sx1 = _mm512_setzero_ps();                     \
        __m512 sy0 = _mm512_setzero_ps(), sy1 = _mm512_setzero_ps();                     \
        size_t i = 0;                                                                    \
        for (; i + 32 <= dim; i += 32) {                                                 \
            __m512 q0 = _mm512_loadu_ps(q + i), q1 = _mm512_loadu_ps(q + i + 16);        \
            OP(sx0, q0, _mm512_loadu_ps(x + i));                                         \
            OP(sx1, q1, _mm512_loadu_ps(x + i + 16));                                    \
            OP(sy0, q0, _mm512_loadu_ps(y + i));                                         \
            OP(sy1, q1, _mm512_loadu_ps(y + i + 16));                                    \
        }                                                                                \
        for (; i + 16 <= dim; i += 16) {                                                 \
            __m512 q0 = _mm512_loadu_ps(q + i);                                          \
            OP(sx0, q0, _mm512_loadu_ps(x + i));                                         \
            OP(sy0, q0, _mm512_loadu_ps(y + i));                                         \
        }                                                                                \
        if (i < dim) {                                                                   \
            __mmask16 m = tailmask512(dim - i);                                          \
            __m512 q0 = _mm512_maskz_loadu_ps(m, q + i);                                 \
            OP(sx1, q0, _mm512_maskz_loadu_ps(m, x + i));                                \
            OP(sy1, q0, _mm512_maskz_loadu_ps(m, y + i));                                \
        }                                                                                \
        out[rx] = _mm512_reduce_add_ps(_mm512_add_ps(sx0, sx1));                         \
        out[ry] = _mm512_reduce_add_ps(_mm512_add_ps(sy0, sy1));                         \
    }

#define OP_DOT512(s, a, b) (s) = _mm512_fmadd_ps((a), (b), (s))
#define OP_L2_512(s, a, b)                                                               \
    do {                                                                                 \
        __m512 d_ = _mm512_sub_ps((a), (b));                                             \
        (s) = _mm512_fmadd_ps(d_, d_, (s));                                              \
    } while (0)

AVX512 static void dot_many_avx512(const float *q, const float *base, size_t n, size_t dim,
                                   float *out)
{
    MANY_BODY_AVX512(OP_DOT512)
}

AVX512 static void l2sq_many_avx512(const float *q, const float *base, size_t n, size_t dim,
                                    float *out)
{
    MANY_BODY_AVX512(OP_L2_512)
}
#endif /* DIST_X86 */

/* ---- dispatch ----------------------------------------------------------------- */

static const dist_impl IMPL_SCALAR = {"scalar", dot_scalar, l2sq_scalar, dot_many_scalar,
                                      l2sq_many_scalar};
#if DIST_X86
static const dist_impl IMPL_AVX2 = {"avx2", dot_avx2, l2sq_avx2, dot_many_avx2, l2sq_many_avx2};
static const dist_impl IMPL_AVX512 = {"avx512", dot_avx512, l2sq_avx512, dot_many_avx512,
                                      l2sq_many_avx512};
static simd_table g_table = {{&IMPL_SCALAR, &IMPL_AVX2, &IMPL_AVX512}, NULL, NULL};
#else
static simd_table g_table = {{&IMPL_SCALAR, NULL, NULL}, NULL, NULL};
#endif

dist_simd dist_cpu_simd(void)
{
#if DIST_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return DIST_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return DIST_SIMD_AVX2;
#endif
    return DIST_SIMD_SCALAR;
}

static inline const dist_impl *impl(void)
{
    return simd_get(&g_table);
}

float dist_dot(const float *a, const float *b, size_t dim)
{
    return impl()->dot(a, b, dim);
}

float dist_l2sq(const float *a, const float *b, size_t dim)
{
    return impl()->l2sq(a, b, dim);
}

void dist_dot_many(const float *q, const float *base, size_t n, size_t dim, float *out)
{
    impl()->dot_many(q, base, n, dim, out);
}

void dist_l2sq_many(const float *q, const float *base, size_t n, size_t dim, float *out)
{
    impl()->l2sq_many(q, base, n, dim, out);
}

const char *dist_impl_name(void)
{
    return impl()->name;
}

int dist_force_impl(const char *name)
{
    return simd_force(&g_table, name);
}

float dist_norm(const float *v, size_t dim)
{
    return sqrtf(dist_dot(v, v, dim));
}

void dist_normalise(const float *v, size_t dim, float *out)
{
    double ss = 0;
    for (size_t i = 0; i < dim; i++)
        ss += (double)v[i] * v[i];
    double inv = 1.0 / sqrt(ss);
    for (size_t i = 0; i < dim; i++)
        out[i] = (float)(v[i] * inv);
}
