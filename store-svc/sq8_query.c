/*
 * sq8_query.c — see sq8_query.h. Dispatch as in distance.c: the SIMD
 * kernels are compiled per function with target attributes (the binary
 * needs only baseline x86-64) and the best one is chosen on first use
 * (simd_dispatch.h).
 */
#include "sq8_query.h"

#include <math.h>
#include <string.h>

#include "distance.h"
#include "simd_dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SQ8Q_X86 1
#else
#define SQ8Q_X86 0
#endif

void sq8q_prepare(const float *q, size_t dim, sq8q_query *Q)
{
    size_t padded = (dim + SQ8Q_PAD - 1) / SQ8Q_PAD * SQ8Q_PAD;
    double mx = 0;
    for (size_t i = 0; i < dim; i++)
        mx = fabs((double)q[i]) > mx ? fabs((double)q[i]) : mx;
    double qmax = (double)(2147483647u / (255u * (unsigned)dim));
    if (qmax > 32767)
        qmax = 32767;
    memset(Q->qi, 0, padded * sizeof *Q->qi);
    Q->qs = (float)(mx / qmax);
    Q->err = 0;
    Q->abs_sum = 0;
    if (!(Q->qs > 0)) { /* q = 0 (or below float's range): every qi 0 */
        Q->qs = 0;
        for (size_t i = 0; i < dim; i++)
            Q->err += (double)q[i] * q[i];
        Q->err = sqrt(Q->err);
        return;
    }
    double e2 = 0;
    for (size_t i = 0; i < dim; i++) {
        double v = nearbyint((double)q[i] / Q->qs);
        v = v > qmax ? qmax : v < -qmax ? -qmax : v;
        Q->qi[i] = (int16_t)v;
        double d = (double)q[i] - (double)Q->qs * v;
        e2 += d * d;
        Q->abs_sum += fabs((double)Q->qs * v);
    }
    Q->err = sqrt(e2);
}

/* ---- portable C -------------------------------------------------------------- */

static void dot_many_scalar(const int16_t *qi, const uint8_t *codes, size_t n, size_t dim,
                            int32_t *out)
{
    for (size_t r = 0; r < n; r++) {
        const uint8_t *c = codes + r * dim;
        int32_t s = 0;
        for (size_t i = 0; i < dim; i++)
            s += (int32_t)qi[i] * (int32_t)c[i];
        out[r] = s;
    }
}

#if SQ8Q_X86
/* ---- AVX2: 16 codes per step ------------------------------------------------- */

#define AVX2 __attribute__((target("avx2")))

AVX2 static inline int32_t hsum256_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

AVX2 static void dot_many_avx2(const int16_t *qi, const uint8_t *codes, size_t n, size_t dim,
                               int32_t *out)
{
    for (size_t r = 0; r < n; r++) {
        const uint8_t *c = codes + r * dim;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        for (size_t i = 0; i < dim; i += 32) { /* qi is padded to 32 */
            __m256i c0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(c + i)));
            __m256i c1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(c + i + 16)));
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(c0, _mm256_loadu_si256((const __m256i *)(qi + i))));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(c1, _mm256_loadu_si256((const __m256i *)(qi + i + 16))));
        }
        out[r] = hsum256_epi32(_mm256_add_epi32(s0, s1));
    }
}

/* ---- AVX-512BW: 32 codes per step --------------------------------------------- */

#define AVX512BW __attribute__((target("avx512f,avx512bw")))

AVX512BW static void dot_many_avx512(const int16_t *qi, const uint8_t *codes, size_t n,
                                     size_t dim, int32_t *out)
{
    /* two rows at once (two independent streams, as distance.c's scan) */
    size_t r = 0;
    for (; r + 2 <= n; r += 2) {
        const uint8_t *x = codes + r * dim, *y = x + dim;
        __m512i sx = _mm512_setzero_si512(), sy = _mm512_setzero_si512();
        for (size_t i = 0; i < dim; i += 32) {
            __m512i q = _mm512_loadu_si512((const void *)(qi + i));
            __m512i cx = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(x + i)));
            __m512i cy = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(y + i)));
            sx = _mm512_add_epi32(sx, _mm512_madd_epi16(cx, q));
            sy = _mm512_add_epi32(sy, _mm512_madd_epi16(cy, q));
        }
        out[r] = _mm512_reduce_add_epi32(sx);
        out[r + 1] = _mm512_reduce_add_epi32(sy);
    }
    for (; r < n; r++) {
        const uint8_t *x = codes + r * dim;
        __m512i sx = _mm512_setzero_si512();
        for (size_t i = 0; i < dim; i += 32)
            sx = _mm512_add_epi32(sx, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(
                                                             (const __m256i *)(x + i))),
                                                         _mm512_loadu_si512((const void *)(qi + i))));
        out[r] = _mm512_reduce_add_epi32(sx);
    }
}
#endif /* SQ8Q_X86 */

/* ---- dispatch ------------------------------------------------------------------ */

typedef void (*dot_many_fn)(const int16_t *, const uint8_t *, size_t, size_t, int32_t *);
typedef struct sq8q_impl {
    const char *name;
    dot_many_fn dot_many;
} sq8q_impl;

static const sq8q_impl IMPL_SCALAR = {"scalar", dot_many_scalar};
#if SQ8Q_X86
static const sq8q_impl IMPL_AVX2 = {"avx2", dot_many_avx2};
static const sq8q_impl IMPL_AVX512 = {"avx512", dot_many_avx512};

/* The AVX-512 kernel needs BW on top of F (which the level means). */
static bool has_bw(int level)
{
    return level != DIST_SIMD_AVX512 || __builtin_cpu_supports("avx512bw");
}
static simd_table g_table = {{&IMPL_SCALAR, &IMPL_AVX2, &IMPL_AVX512}, has_bw, NULL};
#else
static simd_table g_table = {{&IMPL_SCALAR, NULL, NULL}, NULL, NULL};
#endif

void sq8q_dot_many(const int16_t *qi, const uint8_t *codes, size_t n, size_t dim, int32_t *out)
{
    ((const sq8q_impl *)simd_get(&g_table))->dot_many(qi, codes, n, dim, out);
}

const char *sq8q_impl_name(void)
{
    return ((const sq8q_impl *)simd_get(&g_table))->name;
}

int sq8q_force_impl(const char *name)
{
    return simd_force(&g_table, name);
}
