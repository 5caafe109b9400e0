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
