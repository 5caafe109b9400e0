/*
 * simd_dispatch.c — see simd_dispatch.h.
 */
#include "simd_dispatch.h"

#include <string.h>

static const char *const LEVEL_NAMES[3] = {"scalar", "avx2", "avx512"};

static bool usable(const simd_table *t, int level)
{
    return t->impl[level] && (int)dist_cpu_simd() >= level &&
           (!t->extra_check || t->extra_check(level));
}

static const void *best(const simd_table *t)
{
    for (int level = 2; level > 0; level--)
        if (usable(t, level))
            return t->impl[level];
    return t->impl[DIST_SIMD_SCALAR];
}

const void *simd_choose(simd_table *t)
{
    const void *want = best(t), *none = NULL;
    /* the first to publish wins; a concurrent simd_force is kept */
    if (!__atomic_compare_exchange_n(&t->current, &none, want, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return none;
    return want;
}

int simd_force(simd_table *t, const char *name)
{
    if (!name)
        return -1;
    const void *want = NULL;
    if (strcmp(name, "auto") == 0)
        want = best(t);
    for (int level = 0; level < 3 && !want; level++)
        if (strcmp(name, LEVEL_NAMES[level]) == 0 && usable(t, level))
            want = t->impl[level];
    if (!want)
        return -1;
    __atomic_store_n(&t->current, want, __ATOMIC_RELEASE);
    return 0;
}
