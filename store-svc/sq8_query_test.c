/*
 * sq8_query_test.c — the int16-query × uint8-code kernel: every
 * implementation this CPU runs gives exactly the portable sums (integer
 * arithmetic: no rounding to disagree about) on dims 1..70 and 383..385
 * and at VX_MAX_DIM with the largest codes and query entries (no int32
 * overflow), and the quantisation reports its own error correctly.
 */
#include "sq8_query.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vx_proto.h"
#include "vx_test.h"

static const char *IMPLS[] = {"scalar", "avx2", "avx512"};

static uint64_t rng = 0xC0FFEE1234567ull;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* n rows of dim codes followed by SQ8Q_PAD bytes, as flat_codes lays them out. */
static uint8_t *make_codes(size_t n, size_t dim, int extreme)
{
    uint8_t *c = malloc(n * dim + SQ8Q_PAD);
    for (size_t i = 0; i < n * dim + SQ8Q_PAD; i++)
        c[i] = extreme ? 255 : (uint8_t)next();
    return c;
}

static int64_t ref_dot(const int16_t *qi, const uint8_t *c, size_t dim)
{
    int64_t s = 0;
    for (size_t i = 0; i < dim; i++)
        s += (int64_t)qi[i] * c[i];
    return s;
}

static void check_dim(size_t dim, int extreme, int *tested)
{
    size_t padded = (dim + SQ8Q_PAD - 1) / SQ8Q_PAD * SQ8Q_PAD, n = 5;
    float *q = malloc(dim * sizeof *q);
    int16_t *qi = malloc(padded * sizeof *qi);
    for (size_t i = 0; i < dim; i++)
        q[i] = extreme ? (i & 1 ? -3e38f : 3e38f) : ((float)(next() % 20001) - 10000.0f) / 7777.0f;
    sq8q_query Q = {.qi = qi};
    sq8q_prepare(q, dim, &Q);
    /* the reported error is the real one */
    double e2 = 0, qmax = 0;
    for (size_t i = 0; i < dim; i++) {
        double d = (double)q[i] - (double)Q.qs * qi[i];
        e2 += d * d;
        qmax = fabs((double)qi[i]) > qmax ? fabs((double)qi[i]) : qmax;
    }
    ASSERT(fabs(sqrt(e2) - Q.err) <= 1e-9 * (1 + Q.err));
    ASSERT(qmax * 255.0 * (double)dim <= 2147483647.0);
    for (size_t i = dim; i < padded; i++)
        ASSERT_EQ_INT(qi[i], 0);
    uint8_t *codes = make_codes(n, dim, extreme);
    for (size_t k = 0; k < 3; k++) {
        if (sq8q_force_impl(IMPLS[k]) != 0)
            continue;
        int32_t out[5];
        sq8q_dot_many(qi, codes, n, dim, out);
        for (size_t r = 0; r < n; r++)
            ASSERT_MSG(out[r] == ref_dot(qi, codes + r * dim, dim), "%s dim %zu row %zu", IMPLS[k],
                       dim, r);
        (*tested)++;
    }
    sq8q_force_impl("auto");
    free(q);
    free(qi);
    free(codes);
}

TEST(sq8q_kernels_are_exact)
{
    int tested = 0;
    for (size_t d = 1; d <= 70; d++)
        check_dim(d, 0, &tested);
    for (size_t d = 383; d <= 385; d++)
        check_dim(d, 0, &tested);
    check_dim(VX_MAX_DIM, 0, &tested);
    check_dim(VX_MAX_DIM, 1, &tested); /* every product at its largest: no overflow */
    check_dim(1, 1, &tested);
    ASSERT(tested >= 75);
}

TEST(sq8q_zero_query)
{
    float q[40] = {0};
    int16_t qi[64];
    sq8q_query Q = {.qi = qi};
    sq8q_prepare(q, 40, &Q);
    ASSERT(Q.qs == 0 && Q.err == 0 && Q.abs_sum == 0);
    for (int i = 0; i < 64; i++)
        ASSERT_EQ_INT(qi[i], 0);
}

TEST(sq8q_force_impl_rejects_unknown)
{
    ASSERT_EQ_INT(sq8q_force_impl("sse9"), -1);
    ASSERT_EQ_INT(sq8q_force_impl(NULL), -1);
    ASSERT_EQ_INT(sq8q_force_impl("auto"), 0);
}
