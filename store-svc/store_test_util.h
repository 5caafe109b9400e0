/*
 * store_test_util.h — helpers shared by store-svc's unit tests: terse
 * builders of vx_value trees in a test arena, and a seeded PRNG.
 * Everything is allocated in tu_arena (reset by tu_reset between tests).
 */
#ifndef STORE_TEST_UTIL_H
#define STORE_TEST_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "vx_arena.h"
#include "vx_value.h"

static vx_arena tu_arena;
static int tu_arena_ready;

static inline void tu_reset(void)
{
    if (!tu_arena_ready) {
        vx_arena_init(&tu_arena, 1 << 16);
        tu_arena_ready = 1;
    } else {
        vx_arena_reset(&tu_arena);
    }
}

static inline vx_value *tv_new(vx_value_type t)
{
    if (!tu_arena_ready)
        tu_reset();
    vx_value *v = vx_arena_alloc(&tu_arena, sizeof *v);
    v->type = t;
    return v;
}
static inline vx_value *tv_null(void) { return tv_new(VX_VAL_NULL); }
static inline vx_value *tv_bool(int b) { vx_value *v = tv_new(VX_VAL_BOOL); v->u.b = b; return v; }
static inline vx_value *tv_int(int64_t i) { vx_value *v = tv_new(VX_VAL_INT); v->u.i = i; return v; }
static inline vx_value *tv_dbl(double d) { vx_value *v = tv_new(VX_VAL_DOUBLE); v->u.d = d; return v; }
static inline vx_value *tv_str(const char *s)
{
    vx_value *v = tv_new(VX_VAL_STRING);
    v->u.str.ptr = vx_arena_strdup(&tu_arena, s);
    v->u.str.len = (uint32_t)strlen(s);
    return v;
}
/* tv_arr(n, v1, ..., vn) */
static inline vx_value *tv_arr(uint32_t n, ...)
{
    vx_value *v = tv_new(VX_VAL_ARRAY);
    v->u.arr.items = vx_arena_alloc(&tu_arena, (n ? n : 1) * sizeof(vx_value));
    v->u.arr.n = n;
    va_list ap;
    va_start(ap, n);
    for (uint32_t i = 0; i < n; i++)
        v->u.arr.items[i] = *va_arg(ap, vx_value *);
    va_end(ap);
    return v;
}
/* tv_obj(n, "k1", v1, ..., "kn", vn) */
static inline vx_value *tv_obj(uint32_t n, ...)
{
    vx_value *v = tv_new(VX_VAL_OBJECT);
    v->u.obj.items = vx_arena_alloc(&tu_arena, (n ? n : 1) * sizeof(vx_member));
    v->u.obj.n = n;
    va_list ap;
    va_start(ap, n);
    for (uint32_t i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *);
        v->u.obj.items[i].key = k;
        v->u.obj.items[i].key_len = (uint32_t)strlen(k);
        v->u.obj.items[i].value = *va_arg(ap, vx_value *);
    }
    va_end(ap);
    return v;
}

/* xorshift64*: deterministic test data */
static inline uint64_t tu_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}
static inline float tu_randf(uint64_t *s) /* [-1, 1) */
{
    return (float)((tu_rand(s) >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

#endif
