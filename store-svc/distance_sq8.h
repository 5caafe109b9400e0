/*
 * distance_sq8.h — 8-bit scalar-quantised vectors and the asymmetric
 * distance kernels that score a float32 query against them (the HNSW
 * graph's traversal distances, see hnsw_int.h).
 *
 * Quantisation is per vector, with no training: lo = min(v), scale =
 * (max(v) − lo) / 255, code[i] = round((v[i] − lo) / scale), so v[i] is
 * represented by lo + scale·code[i] with an error of at most scale / 2 (plus
 * float rounding). A constant vector gets scale 0 and all codes 0.
 *
 * Kernels have a portable C version and AVX2+FMA / AVX-512F versions chosen
 * once on first use (simd_dispatch.h; thread-safe), like distance.h. All
 * versions compute the same quantity; results may differ in the last bits
 * (summation order). Any dim >= 1, any alignment; no kernel reads past the
 * last code or the last float.
 */
#ifndef DISTANCE_SQ8_H
#define DISTANCE_SQ8_H

#include <stddef.h>
#include <stdint.h>

/* Quantises v (dim finite floats) into codes[dim]; *lo and *scale as above.
 * Deterministic: the same v always gives the same bytes. */
void sq8_encode(const float *v, size_t dim, uint8_t *codes, float *lo, float *scale);

/* out[i] = lo + scale·codes[i]; returns Σ out[i]. */
float sq8_decode(const uint8_t *codes, size_t dim, float lo, float scale, float *out);

/* Σ q[i]·codes[i] (the raw code dot product: the inner product with the
 * dequantised vector is lo·Σq + scale·sq8_dot). */
float sq8_dot(const float *q, const uint8_t *codes, size_t dim);

/* Σ (q[i] − lo − scale·codes[i])²: squared L2 distance to the dequantised
 * vector, computed per component (no |q|² − 2q·x + |x|² cancellation). */
float sq8_l2sq(const float *q, const uint8_t *codes, size_t dim, float lo, float scale);

/* Name of the implementation in use: "avx512", "avx2" or "scalar". */
const char *sq8_impl_name(void);
/* Forces an implementation (tests compare them); 0, or -1 when the CPU lacks
 * it. "auto" restores the best one. Not thread-safe. */
int sq8_force_impl(const char *name);

#endif
