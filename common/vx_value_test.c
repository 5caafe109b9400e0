/*
 * vx_value_test.c — value trees and the packed format: exact bytes of the
 * documented encoding, round trips of every type, hostile inputs (every
 * truncation, trailing bytes, bad tags, huge counts, NUL in keys, depth),
 * packed_find, and numeric equality across int/double.
 */
#include "vx_value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_test.h"

/* ---- small builders ------------------------------------------------------ */

static vx_value v_null(void) { return (vx_value){.type = VX_VAL_NULL}; }
static vx_value v_bool(bool b) { return (vx_value){.type = VX_VAL_BOOL, .u.b = b}; }
static vx_value v_int(int64_t i) { return (vx_value){.type = VX_VAL_INT, .u.i = i}; }
static vx_value v_dbl(double d) { return (vx_value){.type = VX_VAL_DOUBLE, .u.d = d}; }
static vx_value v_str(const char *s, uint32_t len)
{
    return (vx_value){.type = VX_VAL_STRING, .u.str = {s, len}};
}
static vx_value v_arr(vx_arena *a, uint32_t n, const vx_value *items)
{
    vx_value *it = vx_arena_alloc(a, n * sizeof *it + 1);
    if (n)
        memcpy(it, items, n * sizeof *it);
    return (vx_value){.type = VX_VAL_ARRAY, .u.arr = {it, n}};
}
static vx_value v_obj(vx_arena *a, uint32_t n, const char *const *keys, const vx_value *vals)
{
    vx_member *m = vx_arena_alloc(a, n * sizeof *m + 1);
    for (uint32_t i = 0; i < n; i++) {
        m[i].key = keys[i];
        m[i].key_len = (uint32_t)strlen(keys[i]);
        m[i].value = vals[i];
    }
    return (vx_value){.type = VX_VAL_OBJECT, .u.obj = {m, n}};
}

/* A tree with every type, nested: {"name": "doc\0x", "n": -42, "score": 0.5,
 * "ok": true, "no": false, "nil": null, "tags": ["a", 1, [2.5, {}], []],
 * "meta": {"deep": {"x": 9223372036854775807}}} */
static vx_value sample(vx_arena *a)
{
    vx_value inner_arr[2] = {v_dbl(2.5), v_obj(a, 0, NULL, NULL)};
    vx_value tags[4] = {v_str("a", 1), v_int(1), v_arr(a, 2, inner_arr), v_arr(a, 0, NULL)};
    const char *dk[1] = {"x"};
    vx_value dv[1] = {v_int(INT64_MAX)};
    const char *mk[1] = {"deep"};
    vx_value mv[1] = {v_obj(a, 1, dk, dv)};
    const char *keys[8] = {"name", "n", "score", "ok", "no", "nil", "tags", "meta"};
    vx_value vals[8] = {v_str("doc\0x", 5), v_int(-42), v_dbl(0.5), v_bool(true),
                        v_bool(false), v_null(), v_arr(a, 4, tags), v_obj(a, 1, mk, mv)};
    return v_obj(a, 8, keys, vals);
}

/* ---- the documented byte format ------------------------------------------ */

TEST(value_pack_exact_bytes)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    const char *k[1] = {"ab"};
    vx_value items[3] = {v_int(-2), v_str("hi", 2), v_bool(true)};
    vx_value vals[1] = {v_arr(&a, 3, items)};
    vx_value obj = v_obj(&a, 1, k, vals);
    vx_value_pack(&obj, &b);
    static const unsigned char want[] = {
        7,    1,    0,    0,    0,    /* object, 1 member */
        2,    0,    0,    0,    'a',  'b', /* key "ab" */
        6,    3,    0,    0,    0,    /* array of 3 */
        3,    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* int -2 LE */
        5,    2,    0,    0,    0,    'h',  'i', /* string "hi" */
        2,                              /* true */
    };
    ASSERT_EQ_INT(b.len, sizeof want);
    ASSERT(memcmp(b.data, want, sizeof want) == 0);
    vx_buf_reset(&b);
    vx_value d = v_dbl(1.0); /* 0x3ff0000000000000 */
    vx_value_pack(&d, &b);
    static const unsigned char wd[] = {4, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    ASSERT_EQ_INT(b.len, 9);
    ASSERT(memcmp(b.data, wd, 9) == 0);
    vx_buf_reset(&b);
    vx_value n = v_null(), f = v_bool(false);
    vx_value_pack(&n, &b);
    vx_value_pack(&f, &b);
    ASSERT_EQ_INT(b.len, 2);
    ASSERT_EQ_INT(b.data[0], 0);
    ASSERT_EQ_INT(b.data[1], 1);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* ---- round trips --------------------------------------------------------- */

TEST(value_round_trip_every_type)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    vx_value in = sample(&a);
    vx_value_pack(&in, &b);
    vx_value out;
    ASSERT_EQ_INT(vx_value_unpack(b.data, b.len, &a, &out), VX_OK);
    ASSERT(vx_value_equal(&in, &out));
    /* decoded strings are copies, NUL-terminated, and keep inner NULs */
    const vx_value *name = vx_value_get(&out, "name");
    ASSERT(name && name->type == VX_VAL_STRING);
    ASSERT_EQ_INT(name->u.str.len, 5);
    ASSERT(memcmp(name->u.str.ptr, "doc\0x", 5) == 0);
    ASSERT_EQ_INT(name->u.str.ptr[5], '\0');
    ASSERT(name->u.str.ptr < (const char *)b.data ||
           name->u.str.ptr >= (const char *)b.data + b.len);
    ASSERT_STR_EQ(out.u.obj.items[0].key, "name");
    const vx_value *deep = vx_value_get(vx_value_get(vx_value_get(&out, "meta"), "deep"), "x");
    ASSERT(deep && deep->type == VX_VAL_INT && deep->u.i == INT64_MAX);
    /* re-packing gives identical bytes */
    vx_buf b2 = VX_BUF_INIT;
    vx_value_pack(&out, &b2);
    ASSERT_EQ_INT(b2.len, b.len);
    ASSERT(memcmp(b.data, b2.data, b.len) == 0);
    /* scalars alone, with edge values */
    vx_value scalars[] = {v_null(),         v_bool(false),      v_bool(true), v_int(0),
                          v_int(INT64_MIN), v_dbl(-0.0),        v_dbl(1e308), v_dbl(5e-324),
                          v_str("", 0),     v_arr(&a, 0, NULL), v_obj(&a, 0, NULL, NULL)};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        vx_buf_reset(&b);
        vx_value_pack(&scalars[i], &b);
        ASSERT_EQ_INT(vx_value_unpack(b.data, b.len, &a, &out), VX_OK);
        ASSERT_EQ_INT(out.type, scalars[i].type);
        ASSERT_MSG(vx_value_equal(&scalars[i], &out), "scalar %zu differs", i);
    }
    /* -0.0 keeps its sign bit */
    vx_buf_reset(&b);
    vx_value nz = v_dbl(-0.0);
    vx_value_pack(&nz, &b);
    ASSERT_EQ_INT(vx_value_unpack(b.data, b.len, &a, &out), VX_OK);
    ASSERT(signbit(out.u.d));
    vx_buf_free(&b);
    vx_buf_free(&b2);
    vx_arena_fini(&a);
}

/* ---- hostile input ------------------------------------------------------- */

TEST(value_every_truncation_is_corrupt)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    vx_value in = sample(&a);
    vx_value_pack(&in, &b);
    vx_value out;
    for (size_t n = 0; n < b.len; n++) {
        /* a fresh heap copy of exactly n bytes, so ASan catches overreads */
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, b.data, n);
        int rc = vx_value_unpack(copy, n, &a, &out);
        free(copy);
        ASSERT_MSG(rc == VX_ERR_CORRUPT, "prefix of %zu/%zu bytes gave %d", n, b.len, rc);
        ASSERT_EQ_INT(out.type, VX_VAL_NULL);
    }
    ASSERT_EQ_INT(vx_value_unpack(NULL, 0, &a, &out), VX_ERR_CORRUPT);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(value_trailing_bytes_are_corrupt)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    vx_value in = sample(&a), out;
    vx_value_pack(&in, &b);
    vx_buf_putc(&b, 0);
    ASSERT_EQ_INT(vx_value_unpack(b.data, b.len, &a, &out), VX_ERR_CORRUPT);
    /* two values back to back are not one value */
    unsigned char two[] = {0, 0};
    ASSERT_EQ_INT(vx_value_unpack(two, 2, &a, &out), VX_ERR_CORRUPT);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(value_bad_tags_and_lengths)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_value out;
    for (int tag = 8; tag < 256; tag++) {
        unsigned char t = (unsigned char)tag;
        ASSERT_EQ_INT(vx_value_unpack(&t, 1, &a, &out), VX_ERR_CORRUPT);
    }
    /* a bad tag inside an array */
    unsigned char arr[] = {6, 2, 0, 0, 0, 0, 9};
    ASSERT_EQ_INT(vx_value_unpack(arr, sizeof arr, &a, &out), VX_ERR_CORRUPT);
    /* string length beyond the buffer (and near UINT32_MAX) */
    unsigned char s1[] = {5, 10, 0, 0, 0, 'a', 'b'};
    ASSERT_EQ_INT(vx_value_unpack(s1, sizeof s1, &a, &out), VX_ERR_CORRUPT);
    unsigned char s2[] = {5, 0xff, 0xff, 0xff, 0xff, 'a'};
    ASSERT_EQ_INT(vx_value_unpack(s2, sizeof s2, &a, &out), VX_ERR_CORRUPT);
    /* huge counts are refused before allocating */
    size_t before = a.total;
    unsigned char big_arr[] = {6, 0xff, 0xff, 0xff, 0xff, 0, 0, 0};
    ASSERT_EQ_INT(vx_value_unpack(big_arr, sizeof big_arr, &a, &out), VX_ERR_CORRUPT);
    unsigned char big_obj[] = {7, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0};
    ASSERT_EQ_INT(vx_value_unpack(big_obj, sizeof big_obj, &a, &out), VX_ERR_CORRUPT);
    ASSERT(a.total - before < 1024);
    /* a key with a NUL byte */
    unsigned char nulkey[] = {7, 1, 0, 0, 0, 2, 0, 0, 0, 'a', 0, 0};
    ASSERT_EQ_INT(vx_value_unpack(nulkey, sizeof nulkey, &a, &out), VX_ERR_CORRUPT);
    /* the same with a clean key decodes */
    unsigned char okkey[] = {7, 1, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 0};
    ASSERT_EQ_INT(vx_value_unpack(okkey, sizeof okkey, &a, &out), VX_OK);
    ASSERT(vx_value_get(&out, "ab") && vx_value_get(&out, "ab")->type == VX_VAL_NULL);
    /* an empty key is allowed */
    unsigned char empty_key[] = {7, 1, 0, 0, 0, 0, 0, 0, 0, 2};
    ASSERT_EQ_INT(vx_value_unpack(empty_key, sizeof empty_key, &a, &out), VX_OK);
    ASSERT(vx_value_get(&out, "") && vx_value_get(&out, "")->u.b == true);
    vx_arena_fini(&a);
}

TEST(value_random_bytes_never_crash)
{
    /* fuzz-style: random mutations of a valid encoding must either decode
     * into a tree that re-packs to the same bytes, or be CORRUPT */
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT, again = VX_BUF_INIT;
    vx_value in = sample(&a), out;
    vx_value_pack(&in, &b);
    unsigned seed = 12345;
    int decoded = 0;
    for (int iter = 0; iter < 20000; iter++) {
        unsigned char *m = malloc(b.len);
        memcpy(m, b.data, b.len);
        int flips = 1 + (int)(rand_r(&seed) % 3);
        for (int f = 0; f < flips; f++)
            m[rand_r(&seed) % b.len] = (unsigned char)rand_r(&seed);
        size_t len = b.len - (rand_r(&seed) % 4 == 0 ? rand_r(&seed) % b.len : 0);
        vx_arena_reset(&a);
        int rc = vx_value_unpack(m, len, &a, &out);
        if (rc == VX_OK) {
            decoded++;
            vx_buf_reset(&again);
            vx_value_pack(&out, &again);
            ASSERT_EQ_INT(again.len, len);
            ASSERT(memcmp(again.data, m, len) == 0);
        } else {
            ASSERT_EQ_INT(rc, VX_ERR_CORRUPT);
        }
        vx_packed pv;
        if (vx_value_packed_find(m, len, "tags", 4, &pv)) {
            ASSERT(pv.p >= m && pv.p + pv.len <= m + len);
            vx_value tv;
            ASSERT_EQ_INT(vx_value_packed_decode(pv, &a, &tv), VX_OK);
        }
        free(m);
    }
    ASSERT(decoded > 0); /* some mutations (e.g. in string bytes) stay valid */
    vx_buf_free(&b);
    vx_buf_free(&again);
    vx_arena_fini(&a);
}

static void pack_nested_arrays(vx_buf *b, int levels)
{
    for (int i = 0; i < levels; i++) {
        vx_buf_putc(b, 6);
        unsigned char one[4] = {1, 0, 0, 0};
        vx_buf_append(b, one, 4);
    }
    vx_buf_putc(b, 0);
}

TEST(value_depth_limit)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    vx_value out;
    pack_nested_arrays(&b, VX_VALUE_MAX_DEPTH);
    ASSERT_EQ_INT(vx_value_unpack(b.data, b.len, &a, &out), VX_OK);
    vx_buf_reset(&b);
    pack_nested_arrays(&b, VX_VALUE_MAX_DEPTH + 1);
    ASSERT_EQ_INT(vx_value_unpack(b.data, b.len, &a, &out), VX_ERR_CORRUPT);
    /* deep nesting that is not even terminated: still a clean refusal */
    vx_buf_reset(&b);
    for (int i = 0; i < 100000; i++) {
        unsigned char lvl[5] = {7, 1, 0, 0, 0};
        unsigned char key[5] = {1, 0, 0, 0, 'k'};
        vx_buf_append(&b, lvl, 5);
        vx_buf_append(&b, key, 5);
    }
    ASSERT_EQ_INT(vx_value_unpack(b.data, b.len, &a, &out), VX_ERR_CORRUPT);
    vx_packed pv;
    ASSERT(!vx_value_packed_find(b.data, b.len, "k", 1, &pv));
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* ---- packed_find --------------------------------------------------------- */

TEST(value_packed_find_hits_and_misses)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    vx_value in = sample(&a), out;
    vx_value_pack(&in, &b);
    vx_packed pv;
    /* every top-level key is found and decodes to the member's value */
    for (uint32_t i = 0; i < in.u.obj.n; i++) {
        const vx_member *m = &in.u.obj.items[i];
        ASSERT_MSG(vx_value_packed_find(b.data, b.len, m->key, m->key_len, &pv), "key %s",
                   m->key);
        ASSERT_EQ_INT(vx_value_packed_decode(pv, &a, &out), VX_OK);
        ASSERT(vx_value_equal(&m->value, &out));
    }
    ASSERT(vx_value_packed_find(b.data, b.len, "n", 1, &pv));
    ASSERT_EQ_INT(pv.len, 9);
    ASSERT_EQ_INT(pv.p[0], 3);
    /* misses: absent key, prefix of a key, nested key, key + extra */
    ASSERT(!vx_value_packed_find(b.data, b.len, "absent", 6, &pv));
    ASSERT(!vx_value_packed_find(b.data, b.len, "na", 2, &pv));
    ASSERT(!vx_value_packed_find(b.data, b.len, "deep", 4, &pv));
    ASSERT(!vx_value_packed_find(b.data, b.len, "names", 5, &pv));
    ASSERT(!vx_value_packed_find(b.data, b.len, "", 0, &pv));
    /* key_len is honoured (the key need not be NUL-terminated) */
    ASSERT(vx_value_packed_find(b.data, b.len, "okXYZ", 2, &pv));
    ASSERT_EQ_INT(pv.len, 1);
    ASSERT_EQ_INT(pv.p[0], 2);
    /* not an object */
    vx_buf arr = VX_BUF_INIT;
    vx_value av = v_arr(&a, 0, NULL);
    vx_value_pack(&av, &arr);
    ASSERT(!vx_value_packed_find(arr.data, arr.len, "n", 1, &pv));
    ASSERT(!vx_value_packed_find(NULL, 0, "n", 1, &pv));
    /* truncated before the wanted key: not found, no overread */
    ASSERT(vx_value_packed_find(b.data, b.len, "meta", 4, &pv));
    size_t meta_off = (size_t)(pv.p - b.data);
    unsigned char *cut = malloc(meta_off);
    memcpy(cut, b.data, meta_off);
    ASSERT(!vx_value_packed_find(cut, meta_off, "meta", 4, &pv));
    ASSERT(vx_value_packed_find(cut, meta_off, "name", 4, &pv));
    free(cut);
    vx_buf_free(&arr);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* ---- lookups and equality ------------------------------------------------ */

TEST(value_get_and_as_double)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_value in = sample(&a);
    ASSERT(vx_value_get(&in, "n")->u.i == -42);
    ASSERT(vx_value_get(&in, "missing") == NULL);
    ASSERT(vx_value_get(&in, "nam") == NULL);
    vx_value i = v_int(3);
    ASSERT(vx_value_get(&i, "n") == NULL);
    ASSERT(vx_value_get(NULL, "n") == NULL);
    double d = 0;
    ASSERT(vx_value_as_double(vx_value_get(&in, "n"), &d) && d == -42.0);
    ASSERT(vx_value_as_double(vx_value_get(&in, "score"), &d) && d == 0.5);
    ASSERT(!vx_value_as_double(vx_value_get(&in, "name"), &d));
    ASSERT(!vx_value_as_double(vx_value_get(&in, "ok"), &d));
    ASSERT(!vx_value_as_double(NULL, &d));
    vx_arena_fini(&a);
}

TEST(value_equality_rules)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_value i1 = v_int(1), d1 = v_dbl(1.0), d15 = v_dbl(1.5);
    ASSERT(vx_value_equal(&i1, &d1));
    ASSERT(vx_value_equal(&d1, &i1));
    ASSERT(!vx_value_equal(&i1, &d15));
    /* no rounding: 2^53 + 1 differs from the double 2^53 */
    vx_value big = v_int(9007199254740993LL), bigd = v_dbl(9007199254740992.0);
    ASSERT(!vx_value_equal(&big, &bigd));
    vx_value big2 = v_int(9007199254740992LL);
    ASSERT(vx_value_equal(&big2, &bigd));
    vx_value imax = v_int(INT64_MAX), d63 = v_dbl(9223372036854775808.0);
    ASSERT(!vx_value_equal(&imax, &d63));
    vx_value nan = v_dbl(NAN);
    ASSERT(!vx_value_equal(&nan, &nan));
    vx_value z = v_int(0), nz = v_dbl(-0.0);
    ASSERT(vx_value_equal(&z, &nz));
    /* type differences */
    vx_value t = v_bool(true), n = v_null(), s1 = v_str("1", 1);
    ASSERT(!vx_value_equal(&t, &i1));
    ASSERT(!vx_value_equal(&n, &z));
    ASSERT(!vx_value_equal(&s1, &i1));
    ASSERT(vx_value_equal(&n, &n));
    /* strings compare all bytes, including after a NUL */
    vx_value sa = v_str("a\0b", 3), sb = v_str("a\0c", 3), sc = v_str("a", 1);
    ASSERT(!vx_value_equal(&sa, &sb));
    ASSERT(!vx_value_equal(&sa, &sc));
    /* arrays are ordered, objects are not */
    vx_value x[2] = {v_int(1), v_int(2)}, y[2] = {v_int(2), v_int(1)}, yd[2] = {v_dbl(1), v_int(2)};
    vx_value ax = v_arr(&a, 2, x), ay = v_arr(&a, 2, y), ayd = v_arr(&a, 2, yd);
    ASSERT(!vx_value_equal(&ax, &ay));
    ASSERT(vx_value_equal(&ax, &ayd));
    const char *k1[2] = {"a", "b"}, *k2[2] = {"b", "a"}, *k3[2] = {"a", "c"};
    vx_value o1 = v_obj(&a, 2, k1, x), o2 = v_obj(&a, 2, k2, y), o3 = v_obj(&a, 2, k3, x);
    vx_value o4 = v_obj(&a, 1, k1, x);
    ASSERT(vx_value_equal(&o1, &o2));
    ASSERT(!vx_value_equal(&o1, &o3));
    ASSERT(!vx_value_equal(&o1, &o4));
    ASSERT(!vx_value_equal(&o4, &o1));
    vx_value s = sample(&a), s2 = sample(&a);
    ASSERT(vx_value_equal(&s, &s2));
    vx_arena_fini(&a);
}
