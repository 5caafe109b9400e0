/*
 * distance.h — distance kernels, the innermost loop of every search.
 *
 * Each kernel has a portable C version and AVX2+FMA / AVX-512 versions
 * chosen once at start-up from the CPU's features (runtime dispatch through
 * function pointers, set on first use, thread-safe). All versions compute
 * the same quantity; results may differ in the last bits (summation order).
 *
 * Vectors are float32, any dimension ≥ 1, any alignment.
 */
#ifndef DISTANCE_H
#define DISTANCE_H

#include <stddef.h>

/* Inner product a·b. */
float dist_dot(const float *a, const float *b, size_t dim);
/* Squared Euclidean distance |a-b|². */
float dist_l2sq(const float *a, const float *b, size_t dim);

/* Scores one query against n vectors stored contiguously (row i at
 * base + i*dim): out[i] = dot(q, row i) / l2sq(q, row i). These are the
 * flat-scan kernels; they stream base once. Within one implementation,
 * out[i] depends only on q and row i (not on n or the row's position), so
 * scoring a single row with n = 1 gives the bits a scan gives it. */
void dist_dot_many(const float *q, const float *base, size_t n, size_t dim, float *out);
void dist_l2sq_many(const float *q, const float *base, size_t n, size_t dim, float *out);

/* The widest SIMD level this CPU runs (AVX-512F, else AVX2 with FMA, else
 * none): what the kernels here and in distance_sq8.c dispatch on. */
typedef enum dist_simd { DIST_SIMD_SCALAR, DIST_SIMD_AVX2, DIST_SIMD_AVX512 } dist_simd;
dist_simd dist_cpu_simd(void);
/* Name of the implementation in use: "avx512", "avx2" or "scalar". */
const char *dist_impl_name(void);
/* Forces an implementation (tests compare them); returns 0, or -1 when the
 * CPU lacks it. "auto" restores the best one. Not thread-safe. */
int dist_force_impl(const char *name);

/* L2 norm of v. */
float dist_norm(const float *v, size_t dim);

/* out = v / ‖v‖ (‖v‖ > 0), the norm in double: the one normalisation of
 * cosine rows and queries, so a stored vector searched for itself scores
 * exactly as its row. out may be v. */
void dist_normalise(const float *v, size_t dim, float *out);

#endif
