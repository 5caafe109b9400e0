/*
 * filter_test.c — every operator, type mismatches, missing fields, arrays
 * in metadata, and the errors of bad filters (naming the path).
 */
#include "filter.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "store_test_util.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_test.h"

static vx_buf meta_buf;

/* Packs a metadata object for evaluation. */
static void set_meta(const vx_value *m)
{
    vx_buf_reset(&meta_buf);
    if (m)
        vx_value_pack(m, &meta_buf);
}

/* Compiles f and evaluates it on the current metadata: 1/0, or -1 when
 * compilation fails. */
static int eval(const vx_value *f)
{
    const vx_filter *cf;
    char err[256];
    if (filter_compile(f, &tu_arena, &cf, err, sizeof err) != VX_OK)
        return -1;
    if (!cf)
        return 1;
    return filter_match(cf, meta_buf.len ? meta_buf.data : NULL, meta_buf.len);
}

static const vx_value *sample(void)
{
    return tv_obj(7, "price", tv_int(10), "rating", tv_dbl(4.5), "name", tv_str("banana"),
                  "tags", tv_arr(3, tv_str("fruit"), tv_str("yellow"), tv_int(7)), "ok", tv_bool(1),
                  "none", tv_null(), "nested", tv_obj(1, "a", tv_int(1)));
}

TEST(filter_equality_and_types)
{
    tu_reset();
    set_meta(sample());
    ASSERT_EQ_INT(eval(tv_obj(1, "price", tv_int(10))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "price", tv_dbl(10.0))), 1); /* int vs double */
    ASSERT_EQ_INT(eval(tv_obj(1, "rating", tv_dbl(4.5))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "price", tv_int(11))), 0);
    ASSERT_EQ_INT(eval(tv_obj(1, "price", tv_str("10"))), 0); /* type mismatch */
    ASSERT_EQ_INT(eval(tv_obj(1, "name", tv_str("banana"))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "name", tv_str("banan"))), 0);
    ASSERT_EQ_INT(eval(tv_obj(1, "ok", tv_bool(1))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "ok", tv_bool(0))), 0);
    ASSERT_EQ_INT(eval(tv_obj(1, "ok", tv_int(1))), 0);
    ASSERT_EQ_INT(eval(tv_obj(1, "none", tv_null())), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "missing", tv_null())), 0);
    ASSERT_EQ_INT(eval(tv_obj(1, "nested", tv_int(1))), 0); /* object never equals a scalar */
    ASSERT_EQ_INT(eval(tv_obj(2, "price", tv_int(10), "name", tv_str("banana"))), 1);
    ASSERT_EQ_INT(eval(tv_obj(2, "price", tv_int(10), "name", tv_str("apple"))), 0);
    ASSERT_EQ_INT(eval(tv_obj(0)), 1);
    ASSERT_EQ_INT(eval(NULL), 1);
}

TEST(filter_comparisons)
{
    tu_reset();
    set_meta(sample());
#define OP1(field, op, v) tv_obj(1, field, tv_obj(1, op, v))
    ASSERT_EQ_INT(eval(OP1("price", "$gt", tv_int(9))), 1);
    ASSERT_EQ_INT(eval(OP1("price", "$gt", tv_int(10))), 0);
    ASSERT_EQ_INT(eval(OP1("price", "$gte", tv_int(10))), 1);
    ASSERT_EQ_INT(eval(OP1("price", "$gte", tv_dbl(10.5))), 0);
    ASSERT_EQ_INT(eval(OP1("price", "$lt", tv_dbl(10.5))), 1);
    ASSERT_EQ_INT(eval(OP1("price", "$lte", tv_int(9))), 0);
    ASSERT_EQ_INT(eval(OP1("rating", "$lt", tv_int(5))), 1);
    ASSERT_EQ_INT(eval(OP1("name", "$gt", tv_str("apple"))), 1); /* bytewise */
    ASSERT_EQ_INT(eval(OP1("name", "$gt", tv_str("bananas"))), 0);
    ASSERT_EQ_INT(eval(OP1("name", "$lt", tv_str("bananas"))), 1);
    ASSERT_EQ_INT(eval(OP1("name", "$gt", tv_int(1))), 0); /* string vs number: false */
    ASSERT_EQ_INT(eval(OP1("price", "$lt", tv_str("z"))), 0);
    ASSERT_EQ_INT(eval(OP1("missing", "$gt", tv_int(0))), 0);
    ASSERT_EQ_INT(eval(OP1("price", "$eq", tv_int(10))), 1);
    ASSERT_EQ_INT(eval(OP1("price", "$ne", tv_int(10))), 0);
    ASSERT_EQ_INT(eval(OP1("price", "$ne", tv_int(3))), 1);
    ASSERT_EQ_INT(eval(OP1("price", "$ne", tv_str("10"))), 1); /* mismatch: not equal */
    ASSERT_EQ_INT(eval(OP1("missing", "$ne", tv_int(3))), 1);  /* missing: $ne true */
    /* range: several operators in one object are ANDed */
    ASSERT_EQ_INT(eval(tv_obj(1, "price", tv_obj(2, "$gt", tv_int(5), "$lt", tv_int(20)))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "price", tv_obj(2, "$gt", tv_int(5), "$lt", tv_int(10)))), 0);
}

/* Integers beyond 2^53 against doubles compare exactly, both ways round
 * (a double conversion of the integer would make 2^53 + 1 equal 2^53). */
TEST(filter_big_integers_against_doubles)
{
    const double two53 = 9007199254740992.0, two63 = 9223372036854775808.0;
    tu_reset();
    set_meta(tv_obj(3, "y", tv_int(9007199254740993LL), "max", tv_int(INT64_MAX), "min", tv_int(INT64_MIN)));
    ASSERT_EQ_INT(eval(tv_obj(1, "y", tv_dbl(two53))), 0);
    ASSERT_EQ_INT(eval(OP1("y", "$gt", tv_dbl(two53))), 1);
    ASSERT_EQ_INT(eval(OP1("y", "$lt", tv_dbl(two53 + 2))), 1);
    ASSERT_EQ_INT(eval(OP1("y", "$in", tv_arr(2, tv_dbl(two53), tv_dbl(two53 + 2)))), 0);
    ASSERT_EQ_INT(eval(OP1("max", "$lt", tv_dbl(two63))), 1); /* (double)INT64_MAX == 2^63 */
    ASSERT_EQ_INT(eval(tv_obj(1, "max", tv_dbl(two63))), 0);
    ASSERT_EQ_INT(eval(tv_obj(1, "min", tv_dbl(-two63))), 1); /* -2^63 is exact */
    ASSERT_EQ_INT(eval(OP1("min", "$lt", tv_dbl(-two63 + 2048))), 1);
    ASSERT_EQ_INT(eval(OP1("max", "$lt", tv_dbl(INFINITY))), 1);
    ASSERT_EQ_INT(eval(OP1("min", "$gt", tv_dbl(-INFINITY))), 1);
    /* fractions: 3 vs 2.5 / 3.5 / -2.5 */
    set_meta(tv_obj(2, "p", tv_int(3), "n", tv_int(-3)));
    ASSERT_EQ_INT(eval(OP1("p", "$gt", tv_dbl(2.5))), 1);
    ASSERT_EQ_INT(eval(OP1("p", "$lt", tv_dbl(3.5))), 1);
    ASSERT_EQ_INT(eval(OP1("n", "$lt", tv_dbl(-2.5))), 1);
    ASSERT_EQ_INT(eval(OP1("n", "$gt", tv_dbl(-3.5))), 1);
    ASSERT_EQ_INT(eval(OP1("n", "$gte", tv_dbl(-3.0))), 1);
    /* the stored side a double, the filter an integer */
    set_meta(tv_obj(1, "d", tv_dbl(two53)));
    ASSERT_EQ_INT(eval(tv_obj(1, "d", tv_int(9007199254740993LL))), 0);
    ASSERT_EQ_INT(eval(OP1("d", "$lt", tv_int(9007199254740993LL))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "d", tv_int(9007199254740992LL))), 1);
}

TEST(filter_in_nin_and_arrays)
{
    tu_reset();
    set_meta(sample());
    ASSERT_EQ_INT(eval(OP1("name", "$in", tv_arr(2, tv_str("apple"), tv_str("banana")))), 1);
    ASSERT_EQ_INT(eval(OP1("name", "$in", tv_arr(1, tv_str("apple")))), 0);
    ASSERT_EQ_INT(eval(OP1("price", "$in", tv_arr(2, tv_dbl(10.0), tv_str("x")))), 1);
    ASSERT_EQ_INT(eval(OP1("price", "$in", tv_arr(0))), 0);
    ASSERT_EQ_INT(eval(OP1("price", "$nin", tv_arr(0))), 1);
    ASSERT_EQ_INT(eval(OP1("price", "$nin", tv_arr(1, tv_int(10)))), 0);
    ASSERT_EQ_INT(eval(OP1("missing", "$in", tv_arr(1, tv_int(10)))), 0);
    ASSERT_EQ_INT(eval(OP1("missing", "$nin", tv_arr(1, tv_int(10)))), 1);
    /* metadata arrays: any element */
    ASSERT_EQ_INT(eval(tv_obj(1, "tags", tv_str("yellow"))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "tags", tv_str("green"))), 0);
    ASSERT_EQ_INT(eval(OP1("tags", "$gt", tv_int(6))), 1);
    ASSERT_EQ_INT(eval(OP1("tags", "$gt", tv_int(7))), 0);
    ASSERT_EQ_INT(eval(OP1("tags", "$ne", tv_str("fruit"))), 0);
    ASSERT_EQ_INT(eval(OP1("tags", "$ne", tv_str("green"))), 1);
    ASSERT_EQ_INT(eval(OP1("tags", "$in", tv_arr(2, tv_str("red"), tv_str("fruit")))), 1);
    ASSERT_EQ_INT(eval(OP1("tags", "$nin", tv_arr(2, tv_str("red"), tv_str("fruit")))), 0);
}

TEST(filter_and_or_nesting)
{
    tu_reset();
    set_meta(sample());
    vx_value *yes = tv_obj(1, "price", tv_int(10)), *no = tv_obj(1, "price", tv_int(1));
    ASSERT_EQ_INT(eval(tv_obj(1, "$and", tv_arr(2, yes, yes))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "$and", tv_arr(2, yes, no))), 0);
    ASSERT_EQ_INT(eval(tv_obj(1, "$or", tv_arr(2, no, yes))), 1);
    ASSERT_EQ_INT(eval(tv_obj(1, "$or", tv_arr(2, no, no))), 0);
    ASSERT_EQ_INT(eval(tv_obj(2, "$or", tv_arr(2, no, yes), "name", tv_str("apple"))), 0);
    ASSERT_EQ_INT(
        eval(tv_obj(1, "$or", tv_arr(2, no, tv_obj(1, "$and", tv_arr(2, yes, tv_obj(0)))))), 1);
    /* no metadata at all: only negative operators match */
    set_meta(NULL);
    ASSERT_EQ_INT(eval(yes), 0);
    ASSERT_EQ_INT(eval(OP1("price", "$ne", tv_int(1))), 1);
}

static void expect_error(const vx_value *f, const char *want_substr)
{
    const vx_filter *cf;
    char err[256] = "";
    int rc = filter_compile(f, &tu_arena, &cf, err, sizeof err);
    if (rc != VX_ERR_INVALID)
        vx_test_fail(__FILE__, __LINE__, "expected VX_ERR_INVALID for %s, got %d", want_substr, rc);
    else if (!strstr(err, want_substr))
        vx_test_fail(__FILE__, __LINE__, "error \"%s\" does not contain \"%s\"", err, want_substr);
}

TEST(filter_bad_filters_name_the_path)
{
    tu_reset();
    expect_error(OP1("price", "$gt", tv_bool(1)), "filter.price.$gt: expected a number");
    expect_error(OP1("price", "$regex", tv_str("x")), "filter.price.$regex: unknown operator");
    expect_error(tv_obj(1, "$not", tv_obj(0)), "filter.$not: unknown operator");
    expect_error(OP1("price", "$in", tv_int(3)), "filter.price.$in: expected an array");
    expect_error(OP1("price", "$in", tv_arr(1, tv_arr(0))), "filter.price.$in[0]");
    expect_error(OP1("price", "$eq", tv_obj(0)), "filter.price.$eq: expected a scalar");
    expect_error(tv_obj(1, "price", tv_obj(0)), "filter.price: expected at least one operator");
    expect_error(tv_obj(1, "tags", tv_arr(1, tv_str("a"))), "filter.tags: expected a scalar");
    expect_error(tv_obj(1, "$and", tv_arr(0)), "filter.$and: expected a non-empty array");
    expect_error(tv_obj(1, "$or", tv_obj(0)), "filter.$or: expected a non-empty array");
    expect_error(tv_obj(1, "$or", tv_arr(1, tv_int(1))), "filter.$or[0]: expected an object");
    expect_error(tv_arr(0), "filter: expected an object");
    /* depth bound */
    vx_value *f = tv_obj(1, "a", tv_int(1));
    for (int i = 0; i < FILTER_MAX_DEPTH + 2; i++)
        f = tv_obj(1, "$and", tv_arr(1, f));
    expect_error(f, "nested too deeply");
    vx_buf_free(&meta_buf);
}
