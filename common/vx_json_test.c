/*
 * vx_json_test.c — JSON parsing into vx_value trees and writing back.
 */
#include <stdio.h>
#include <string.h>

#include "vx_err.h"
#include "vx_json.h"
#include "vx_test.h"

static int parse(vx_arena *a, const char *s, vx_value *v, char *err)
{
    return vx_json_parse(s, strlen(s), a, v, err, 256);
}

TEST(json_parses_types)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_value v;
    char err[256];
    int rc = parse(&a, "{\"i\": 42, \"d\": 1.5, \"s\": \"h\\u00e9\", \"b\": true, \"n\": null,"
                       " \"a\": [1, -2, 3e2], \"big\": -9223372036854775808}",
                   &v, err);
    ASSERT_MSG(rc == VX_OK, "%s", err);
    ASSERT_EQ_INT(v.type, VX_VAL_OBJECT);
    ASSERT_EQ_INT(v.u.obj.n, 7);
    ASSERT_STR_EQ(v.u.obj.items[0].key, "i"); /* insertion order kept */
    const vx_value *x = vx_value_get(&v, "i");
    ASSERT(x && x->type == VX_VAL_INT && x->u.i == 42);
    x = vx_value_get(&v, "d");
    ASSERT(x && x->type == VX_VAL_DOUBLE && x->u.d == 1.5);
    x = vx_value_get(&v, "s");
    ASSERT(x && x->type == VX_VAL_STRING && x->u.str.len == 3);
    ASSERT(memcmp(x->u.str.ptr, "h\xc3\xa9", 3) == 0);
    x = vx_value_get(&v, "b");
    ASSERT(x && x->type == VX_VAL_BOOL && x->u.b);
    x = vx_value_get(&v, "n");
    ASSERT(x && x->type == VX_VAL_NULL);
    x = vx_value_get(&v, "a");
    ASSERT(x && x->type == VX_VAL_ARRAY && x->u.arr.n == 3);
    ASSERT_EQ_INT(x->u.arr.items[1].u.i, -2);
    ASSERT(x->u.arr.items[2].type == VX_VAL_DOUBLE && x->u.arr.items[2].u.d == 300.0);
    x = vx_value_get(&v, "big");
    ASSERT(x && x->type == VX_VAL_INT && x->u.i == INT64_MIN);
    vx_arena_fini(&a);
}

TEST(json_scalars_at_top_level)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_value v;
    char err[256];
    ASSERT_EQ_INT(parse(&a, "7", &v, err), VX_OK);
    ASSERT(v.type == VX_VAL_INT && v.u.i == 7);
    ASSERT_EQ_INT(parse(&a, "\"a\\u0000b\"", &v, err), VX_OK);
    ASSERT(v.type == VX_VAL_STRING && v.u.str.len == 3 && v.u.str.ptr[1] == 0);
    vx_arena_fini(&a);
}

TEST(json_errors_name_position)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_value v;
    char err[256];
    ASSERT_EQ_INT(parse(&a, "{\"a\": 1,\n \"b\": }", &v, err), VX_ERR_INVALID);
    ASSERT_MSG(strstr(err, "line 2") != NULL, "%s", err);
    ASSERT_MSG(strstr(err, "column") != NULL, "%s", err);
    ASSERT_EQ_INT(parse(&a, "", &v, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(parse(&a, "{} x", &v, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(parse(&a, "{\"a\":1,\"a\":2}", &v, err), VX_ERR_INVALID);
    ASSERT_MSG(strstr(err, "duplicate") != NULL, "%s", err);
    ASSERT_EQ_INT(parse(&a, "[1e400]", &v, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(parse(&a, "[NaN]", &v, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(parse(&a, "{\"a\\u0000\": 1}", &v, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(vx_json_parse("\"\xff\"", 3, &a, &v, err, sizeof(err)), VX_ERR_INVALID);
    vx_arena_fini(&a);
}

TEST(json_depth_limit)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_value v;
    char err[256], text[200];
    int d = VX_VALUE_MAX_DEPTH;
    memset(text, '[', (size_t)d);
    memset(text + d, ']', (size_t)d);
    text[2 * d] = 0;
    ASSERT_MSG(parse(&a, text, &v, err) == VX_OK, "%s", err);
    memset(text, '[', (size_t)d + 1);
    memset(text + d + 1, ']', (size_t)d + 1);
    text[2 * d + 2] = 0;
    ASSERT_EQ_INT(parse(&a, text, &v, err), VX_ERR_INVALID);
    ASSERT_MSG(strstr(err, "nesting") != NULL, "%s", err);
    vx_arena_fini(&a);
}

TEST(json_round_trip)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_value v, w;
    char err[256];
    const char *src = "{\"k\":[1,2.5,\"x\\\"y\\n\",null,false,{\"z\":{}}],\"e\":[]}";
    ASSERT_EQ_INT(parse(&a, src, &v, err), VX_OK);
    vx_buf b = VX_BUF_INIT;
    vx_json_write(&v, &b);
    vx_buf_terminate(&b);
    ASSERT_STR_EQ((char *)b.data, src);
    ASSERT_EQ_INT(vx_json_parse((char *)b.data, b.len, &a, &w, err, sizeof(err)), VX_OK);
    ASSERT(vx_value_equal(&v, &w));
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* Regression: 10 000 unclosed '[' crashed the gateway (jansson recursed past
 * a civetweb worker's stack). Parse on a 128 KiB thread stack, as small as a
 * server thread's, and expect a clean error, also with brackets in strings. */
#include <pthread.h>
#include <stdlib.h>

static void *json_deep_parse_thread(void *arg)
{
    int *rc = arg;
    size_t n = 100000;
    char *text = malloc(n + 1);
    memset(text, '[', n);
    text[n] = 0;
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_value v;
    char err[256];
    rc[0] = vx_json_parse(text, n, &a, &v, err, sizeof err);
    /* brackets inside strings do not count as nesting */
    const char *s = "{\"k\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}";
    rc[1] = vx_json_parse(s, strlen(s), &a, &v, err, sizeof err);
    vx_arena_fini(&a);
    free(text);
    return NULL;
}

TEST(json_deep_nesting_on_small_stack)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    pthread_t t;
    int rc[2] = {1, 1};
    ASSERT(pthread_create(&t, &attr, json_deep_parse_thread, rc) == 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    ASSERT_EQ_INT(rc[0], VX_ERR_INVALID);
    ASSERT_EQ_INT(rc[1], VX_OK);
}

/* ---- the parser against references --------------------------------------- */
#include <errno.h>
#include <jansson.h>
#include <math.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Every number must parse to exactly strtod's double (the fast path must be
 * correctly rounded), in the formats clients send: %.9g of floats (vectors),
 * %.17g of doubles, short decimals, long mantissas, extreme exponents. */
TEST(json_numbers_bit_exact_with_strtod)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    char text[128], err[256];
    int bad = 0;
    for (int i = 0; i < 300000 && bad < 5; i++) {
        uint64_t r = rnd();
        double x;
        memcpy(&x, &r, sizeof x);
        switch (i % 6) {
        case 0: snprintf(text, sizeof text, "%.9g", (double)(float)((double)(int64_t)r / 9.2e18)); break;
        case 1: if (!isfinite(x)) continue; snprintf(text, sizeof text, "%.17g", x); break;
        case 2: snprintf(text, sizeof text, "%.*f", (int)(r % 12), (double)(int64_t)(r >> 20) / 1e6); break;
        case 3: snprintf(text, sizeof text, "%llu.%llue%d", (unsigned long long)(r % 100000000000ull),
                         (unsigned long long)(r >> 40), (int)(r % 60) - 30); break;
        case 4: snprintf(text, sizeof text, "-0.%019llu%llu", (unsigned long long)(r % 10000000000000000000ull),
                         (unsigned long long)(r >> 50)); break;
        default: snprintf(text, sizeof text, "%.9ge%d", (double)(r % 1000) / 7.0, (int)(r % 700) - 350); break;
        }
        double ref = strtod(text, NULL);
        vx_value v;
        int rc = vx_json_parse(text, strlen(text), &a, &v, err, sizeof err);
        if (isinf(ref)) {
            if (rc != VX_ERR_INVALID)
                bad++;
            continue;
        }
        double got;
        if (rc != VX_OK || !vx_value_as_double(&v, &got) || memcmp(&got, &ref, sizeof got) != 0) {
            if (!(rc == VX_OK && v.type == VX_VAL_INT && got == ref)) {
                fprintf(stderr, "  %s: rc %d got %.17g want %.17g\n", text, rc, got, ref);
                bad++;
            }
        }
        vx_arena_reset(&a);
    }
    ASSERT_EQ_INT(bad, 0);
    vx_value v;
    /* integers: int64 range exact, beyond it a double */
    ASSERT_EQ_INT(vx_json_parse("9223372036854775807", 19, &a, &v, err, sizeof err), VX_OK);
    ASSERT(v.type == VX_VAL_INT && v.u.i == INT64_MAX);
    ASSERT_EQ_INT(vx_json_parse("123456789012345678901", 21, &a, &v, err, sizeof err), VX_OK);
    ASSERT(v.type == VX_VAL_DOUBLE && v.u.d == 123456789012345678901.0);
    ASSERT_EQ_INT(vx_json_parse("-0", 2, &a, &v, err, sizeof err), VX_OK);
    ASSERT(v.type == VX_VAL_INT && v.u.i == 0);
    ASSERT_EQ_INT(vx_json_parse("1e-400", 6, &a, &v, err, sizeof err), VX_OK); /* underflow: 0 */
    ASSERT(v.type == VX_VAL_DOUBLE && v.u.d == 0.0);
    const char *invalid[] = {"01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "1.5e", "--1", "Infinity"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
        ASSERT_MSG(vx_json_parse(invalid[i], strlen(invalid[i]), &a, &v, err, sizeof err) ==
                       VX_ERR_INVALID, "%s accepted", invalid[i]);
    vx_arena_fini(&a);
}

/* The exact decimal of m (a double: finite binary fractions have finite
 * decimals) with digits appended (+1) or borrowed (-1) far beyond its last
 * digit: a text just above / below m in magnitude that still parses to m. */
static void decimal_beside(double m, int side, char *out, size_t len)
{
    char digits[1200];
    snprintf(digits, sizeof digits, "%.1100f", fabs(m)); /* exact for |m| >= 2^-150 */
    size_t n = strlen(digits);
    while (n > 0 && digits[n - 1] == '0')
        digits[--n] = '\0';
    if (side > 0) {
        snprintf(out, len, "%s%s00000000000000000000000000001", m < 0 ? "-" : "", digits);
        return;
    }
    /* subtract one unit of the last place: borrow through trailing zeros */
    size_t k = n;
    while (k-- > 0 && (digits[k] == '.' || digits[k] == '0'))
        if (digits[k] == '0')
            digits[k] = '9';
    digits[k] -= 1; /* |m| > 0: a nonzero digit exists */
    snprintf(out, len, "%s%s99999999999999999999999999999", m < 0 ? "-" : "", digits);
}

/* A float32 is the decimal rounded once (what strtof gives), also when the
 * double nearest the decimal lies exactly halfway between two floats:
 * (float)double would then round to even whichever side the text was on. */
TEST(json_numbers_round_to_float32_once)
{
    vx_arena a;
    vx_arena_init(&a, 1 << 16);
    static char text[1300];
    char err[256];
    int bad = 0, midpoints = 0;
    for (int i = 0; i < 20000 && bad < 5; i++) {
        uint64_t r = rnd();
        uint32_t fbits = (uint32_t)r;
        float lo;
        memcpy(&lo, &fbits, sizeof lo);
        if (!isfinite(lo) || lo == 0)
            continue;
        float hi = nextafterf(lo, lo > 0 ? INFINITY : -INFINITY);
        double m = isfinite(hi) ? ((double)lo + (double)hi) / 2 /* exact */
                                : (double)lo + (lo > 0 ? 0x1p103 : -0x1p103); /* the overflow threshold */
        if (fabs(m) < 0x1p-150)
            continue;
        ASSERT_MSG(vx_is_f32_midpoint(m), "%.17g is a midpoint", m);
        ASSERT_MSG(!vx_is_f32_midpoint((double)lo), "%.9g is a float", (double)lo);
        for (int side = -1; side <= 1; side++) {
            if (side == 0)
                snprintf(text, sizeof text, "%.1100f", m);
            else
                decimal_beside(m, side, text, sizeof text);
            vx_value v;
            float got, want = strtof(text, NULL);
            double d;
            if (vx_json_parse(text, strlen(text), &a, &v, err, sizeof err) != VX_OK ||
                !vx_value_as_float(&v, &got) || !vx_value_as_double(&v, &d) || d != strtod(text, NULL) ||
                memcmp(&got, &want, sizeof got) != 0) {
                fprintf(stderr, "  side %d of %.17g: got %.9g want %.9g\n", side, m, (double)got,
                        (double)want);
                bad++;
            }
            midpoints += d == m;
            vx_arena_reset(&a);
        }
    }
    ASSERT_EQ_INT(bad, 0);
    ASSERT_MSG(midpoints > 30000, "only %d texts parsed to the midpoint itself", midpoints);
    /* the same through the fast path (≤ 19 digits) and for integers */
    vx_value v;
    float f;
    ASSERT_EQ_INT(vx_json_parse("1.0000000596046448", 18, &a, &v, err, sizeof err), VX_OK);
    ASSERT(v.u.d == 1 + 0x1p-24 && vx_value_as_float(&v, &f) && f == 1 + 0x1p-23f);
    ASSERT_EQ_INT(vx_json_parse("-1.0000000596046447", 19, &a, &v, err, sizeof err), VX_OK);
    ASSERT(v.u.d == -(1 + 0x1p-24) && vx_value_as_float(&v, &f) && f == -1.0f);
    ASSERT_EQ_INT(vx_json_parse("1152921573326323713", 19, &a, &v, err, sizeof err), VX_OK); /* 2^60+2^36+1 */
    ASSERT(v.type == VX_VAL_INT && vx_value_as_float(&v, &f) && f == 0x1p60f + 0x1p37f);
    ASSERT(!vx_is_f32_midpoint(0.0) && !vx_is_f32_midpoint(NAN) && !vx_is_f32_midpoint(INFINITY));
    ASSERT(vx_is_f32_midpoint(0x1p-150) && !vx_is_f32_midpoint(0x1p-149));
    vx_arena_fini(&a);
}

/* jansson tree → vx_value, to compare the two parsers. */
static void from_jansson(json_t *j, vx_arena *a, vx_value *out)
{
    memset(out, 0, sizeof *out);
    switch (json_typeof(j)) {
    case JSON_NULL: out->type = VX_VAL_NULL; break;
    case JSON_TRUE: out->type = VX_VAL_BOOL; out->u.b = true; break;
    case JSON_FALSE: out->type = VX_VAL_BOOL; break;
    case JSON_INTEGER: out->type = VX_VAL_INT; out->u.i = json_integer_value(j); break;
    case JSON_REAL: out->type = VX_VAL_DOUBLE; out->u.d = json_real_value(j); break;
    case JSON_STRING:
        out->type = VX_VAL_STRING;
        out->u.str.len = (uint32_t)json_string_length(j);
        out->u.str.ptr = vx_arena_strndup(a, json_string_value(j), out->u.str.len);
        break;
    case JSON_ARRAY:
        out->type = VX_VAL_ARRAY;
        out->u.arr.n = (uint32_t)json_array_size(j);
        out->u.arr.items = vx_arena_alloc(a, (out->u.arr.n + 1) * sizeof(vx_value));
        for (uint32_t i = 0; i < out->u.arr.n; i++)
            from_jansson(json_array_get(j, i), a, &out->u.arr.items[i]);
        break;
    case JSON_OBJECT: {
        out->type = VX_VAL_OBJECT;
        out->u.obj.items = vx_arena_alloc(a, (json_object_size(j) + 1) * sizeof(vx_member));
        uint32_t i = 0;
        for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it), i++) {
            out->u.obj.items[i].key = vx_arena_strdup(a, json_object_iter_key(it));
            out->u.obj.items[i].key_len = (uint32_t)json_object_iter_key_len(it);
            from_jansson(json_object_iter_value(it), a, &out->u.obj.items[i].value);
        }
        out->u.obj.n = i;
        break;
    }
    }
}

/* Random documents and random corruptions of them: accepted by exactly the
 * same inputs as jansson (strict mode, duplicates rejected), to the same
 * tree. Integers stay below 19 digits (jansson rejects larger ones, we
 * return doubles, by design) and nesting below the depth limit. */
static void gen_doc(vx_buf *b, int depth)
{
    static const char *const atoms[] = {
        "0", "-1", "42", "3.25", "-0.5e-3", "1E+2", "true", "false", "null", "\"\"",
        "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\u4e2d\\ud83d\\ude00\"",
        "\"h\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"", "0.000123456789", "123456789012345678"};
    uint64_t r = rnd();
    if (depth > 4 || r % 3 == 0) {
        const char *s = atoms[(r >> 8) % (sizeof atoms / sizeof *atoms)];
        vx_buf_append(b, s, strlen(s));
        return;
    }
    int n = (int)((r >> 16) % 5);
    bool obj = (r >> 24) & 1;
    vx_buf_append(b, obj ? "{" : "[", 1);
    for (int i = 0; i < n; i++) {
        if (i)
            vx_buf_append(b, (r >> (30 + i)) & 1 ? ", " : ",", (r >> (30 + i)) & 1 ? 2 : 1);
        if (obj) {
            char k[16];
            int kn = snprintf(k, sizeof k, "\"k%d\":", (int)((rnd() % 6)));
            vx_buf_append(b, k, (size_t)kn);
        }
        gen_doc(b, depth + 1);
    }
    vx_buf_append(b, obj ? "}" : "]", 1);
}

TEST(json_accepts_and_rejects_like_jansson)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    char err[256];
    static const char mutations[] = "{}[]\",:\\ \n0-.eEtfnu\x01\xc3\xff\x80";
    int bad = 0, accepted = 0, rejected = 0;
    for (int i = 0; i < 40000 && bad < 5; i++) {
        vx_buf b = VX_BUF_INIT;
        gen_doc(&b, 0);
        int muts = (int)(rnd() % 3); /* 0: valid as generated (bar duplicate keys) */
        for (int m = 0; m < muts && b.len; m++) {
            size_t at = rnd() % b.len;
            uint64_t op = rnd();
            if (op % 3 == 0)
                b.data[at] = (unsigned char)mutations[(op >> 8) % (sizeof mutations - 1)];
            else if (op % 3 == 1)
                memmove(b.data + at, b.data + at + 1, b.len - at - 1), b.len--;
            else
                b.len = at; /* truncate */
        }
        json_error_t je;
        json_t *j = json_loadb((const char *)b.data, b.len,
                               JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        vx_value ours, theirs;
        int rc = vx_json_parse((const char *)b.data, b.len, &a, &ours, err, sizeof err);
        /* jansson accepts NUL in keys; we reject it (header contract) */
        bool nul_key = j && rc == VX_ERR_INVALID && strstr(err, "NUL");
        if ((j != NULL) != (rc == VX_OK) && !nul_key) {
            fprintf(stderr, "  disagree on [%.*s]: jansson %s, ours %s\n", (int)b.len, b.data,
                    j ? "ok" : je.text, rc ? err : "ok");
            bad++;
        } else if (j && rc == VX_OK) {
            from_jansson(j, &a, &theirs);
            if (!vx_value_equal(&ours, &theirs)) {
                fprintf(stderr, "  different trees for [%.*s]\n", (int)b.len, b.data);
                bad++;
            }
            accepted++;
        } else {
            rejected++;
        }
        if (j)
            json_decref(j);
        vx_buf_free(&b);
        vx_arena_reset(&a);
    }
    ASSERT_EQ_INT(bad, 0);
    ASSERT(accepted > 1000 && rejected > 1000); /* both sides exercised */
    vx_arena_fini(&a);
}
