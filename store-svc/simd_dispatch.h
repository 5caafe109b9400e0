/*
 * simd_dispatch.h — picks one implementation of a family of SIMD kernels
 * per process: the best the CPU runs, chosen on first use, or one forced by
 * name (tests compare them). distance.c, distance_sq8.c and sq8_query.c
 * each keep their kernels in a table of this kind.
 *
 * An implementation is a caller-defined struct whose first member is
 * `const char *name` ("scalar", "avx2" or "avx512"); the table lists one per
 * level (dist_simd, distance.h), NULL where the build has none. A level is
 * usable when the CPU reaches it (dist_cpu_simd) and the table's own check,
 * if any, agrees (e.g. AVX-512BW on top of AVX-512F).
 *
 * Thread safety: simd_get may be called from any thread at any time (the
 * choice is published with release/acquire atomics; the first callers may
 * all compute it, and all compute the same one). simd_force is for tests
 * and is not synchronised with kernels running on other threads.
 */
#ifndef SIMD_DISPATCH_H
#define SIMD_DISPATCH_H

#include <stdbool.h>

#include "distance.h"

typedef struct simd_table {
    const void *impl[3];          /* by dist_simd level; NULL = none */
    bool (*extra_check)(int level); /* NULL = the CPU level alone decides */
    const void *current;          /* __atomic; NULL until first use */
} simd_table;

/* The first-use path of simd_get. */
const void *simd_choose(simd_table *t);

/* The implementation in use (the best usable one on first call). Inline:
 * every kernel call goes through it. */
static inline const void *simd_get(simd_table *t)
{
    const void *p = __atomic_load_n(&t->current, __ATOMIC_ACQUIRE);
    return __builtin_expect(p != NULL, 1) ? p : simd_choose(t);
}
/* "auto" (the best), "scalar", "avx2" or "avx512": 0, or -1 when unknown or
 * not usable on this CPU (the choice is then unchanged). */
int simd_force(simd_table *t, const char *name);

#endif
