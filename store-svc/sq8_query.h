/*
 * sq8_query.h — the integer kernel of the bounded exact scan (flat.h): a
 * float32 query quantised to int16, scored against rows of 8-bit codes
 * (distance_sq8.h) with exact integer arithmetic.
 *
 * Quantisation: qs = max|q[i]| / qmax and qi[i] = round(q[i] / qs), where
 * qmax = min(32767, (2^31 − 1) / (255·dim)), so no sum of dim products
 * code·qi can overflow an int32 in any order. The sums are therefore exact
 * and the same on every implementation; what the quantisation loses is
 * bounded by the caller with sq8q_query.err = ‖q − qs·qi‖ (Cauchy–Schwarz:
 * |Σ (q[i] − qs·qi[i])·code[i]| ≤ err·‖code‖ ≤ err·255·√dim).
 *
 * Implementations: portable C, AVX2 (16 codes per step: zero-extend to
 * int16, pmaddwd) and AVX-512BW (32 codes per step), chosen once at first
 * use like distance.h. The SIMD kernels read whole steps: qi holds
 * roundup(dim, SQ8Q_PAD) entries (zeros past dim) and the code rows must be
 * followed by SQ8Q_PAD readable bytes (flat_codes allocates them); the
 * bytes read past a row's end meet zero query entries, so they add nothing.
 */
#ifndef SQ8_QUERY_H
#define SQ8_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define SQ8Q_PAD 32

typedef struct sq8q_query {
    int16_t *qi;  /* roundup(dim, SQ8Q_PAD) entries, caller's storage */
    float qs;     /* scale: q[i] ≈ qs·qi[i] */
    double err;   /* ‖q − qs·qi‖ (computed in double) */
    double abs_sum; /* Σ|qs·qi[i]| */
} sq8q_query;

/* Quantises q (dim finite floats) into Q->qi (storage for
 * roundup(dim, SQ8Q_PAD) entries, set by the caller) and fills the rest of Q. */
void sq8q_prepare(const float *q, size_t dim, sq8q_query *Q);

/* out[r] = Σ qi[i]·codes[r·dim + i] for the n rows at codes. */
void sq8q_dot_many(const int16_t *qi, const uint8_t *codes, size_t n, size_t dim, int32_t *out);

/* "avx512" (AVX-512BW), "avx2" or "scalar". */
const char *sq8q_impl_name(void);
/* Forces an implementation (tests compare them); 0, or -1 when the CPU lacks
 * it. "auto" restores the best one. Not thread-safe. */
int sq8q_force_impl(const char *name);

#endif
