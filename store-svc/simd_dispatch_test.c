/*
 * simd_dispatch_test.c — the choice of a kernel implementation: the best
 * usable level on first use, levels the build lacks (NULL) or the table's
 * own check refuses are skipped and cannot be forced, "auto" restores the
 * best, unknown names change nothing.
 */
#include "simd_dispatch.h"

#include <string.h>

#include "vx_test.h"

typedef struct fake_impl {
    const char *name;
} fake_impl;

static const fake_impl F_SCALAR = {"scalar"}, F_AVX2 = {"avx2"}, F_AVX512 = {"avx512"};

static bool no_avx512(int level)
{
    return level != DIST_SIMD_AVX512;
}

static const char *name_of(simd_table *t)
{
    return ((const fake_impl *)simd_get(t))->name;
}

TEST(simd_picks_the_best_usable_level)
{
    simd_table all = {{&F_SCALAR, &F_AVX2, &F_AVX512}, NULL, NULL};
    const char *want = dist_cpu_simd() == DIST_SIMD_AVX512 ? "avx512"
                       : dist_cpu_simd() == DIST_SIMD_AVX2 ? "avx2"
                                                           : "scalar";
    ASSERT_STR_EQ(name_of(&all), want);

    simd_table checked = {{&F_SCALAR, &F_AVX2, &F_AVX512}, no_avx512, NULL};
    ASSERT(strcmp(name_of(&checked), "avx512") != 0);
    ASSERT_EQ_INT(simd_force(&checked, "avx512"), -1);

    simd_table scalar_only = {{&F_SCALAR, NULL, NULL}, NULL, NULL};
    ASSERT_STR_EQ(name_of(&scalar_only), "scalar");
    ASSERT_EQ_INT(simd_force(&scalar_only, "avx2"), -1);
    ASSERT_STR_EQ(name_of(&scalar_only), "scalar");
}

TEST(simd_force_and_auto)
{
    simd_table t = {{&F_SCALAR, &F_AVX2, &F_AVX512}, NULL, NULL};
    const char *best = name_of(&t);
    ASSERT_EQ_INT(simd_force(&t, "scalar"), 0);
    ASSERT_STR_EQ(name_of(&t), "scalar");
    ASSERT_EQ_INT(simd_force(&t, "sse9"), -1);
    ASSERT_EQ_INT(simd_force(&t, NULL), -1);
    ASSERT_STR_EQ(name_of(&t), "scalar");
    ASSERT_EQ_INT(simd_force(&t, "auto"), 0);
    ASSERT_STR_EQ(name_of(&t), best);
    /* forcing before first use is kept */
    simd_table u = {{&F_SCALAR, &F_AVX2, &F_AVX512}, NULL, NULL};
    ASSERT_EQ_INT(simd_force(&u, "scalar"), 0);
    ASSERT_STR_EQ(name_of(&u), "scalar");
}
