/*
 * vx_value.h — a JSON-like value tree (null, bool, int, double, string,
 * array, object), the in-memory form of point metadata and search filters
 * as they travel between JSON (api-gateway), msgpack (proto/) and the store.
 *
 * Trees are built in a vx_arena and never freed node by node. Strings carry
 * an explicit length and are also NUL-terminated (ids/keys cannot contain
 * NUL; string values may, so always use len).
 *
 * The packed form (vx_value_pack) is Vectron's own compact, self-describing
 * binary encoding, used by the store to keep metadata per point in one
 * allocation and to persist it. Format (little-endian):
 *   tag u8: 0 null, 1 false, 2 true, 3 int (i64), 4 double (f64),
 *           5 string (u32 len + bytes), 6 array (u32 n + n values),
 *           7 object (u32 n + n × (u32 keylen + key bytes + value))
 * vx_value_packed_find() looks a top-level key up in packed bytes without
 * allocating, so filters can be evaluated during a scan.
 */
#ifndef VX_VALUE_H
#define VX_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_arena.h"
#include "vx_buf.h"

/* Nesting deeper than this is rejected by every decoder (JSON, msgpack, packed). */
#define VX_VALUE_MAX_DEPTH 24

typedef enum vx_value_type {
    VX_VAL_NULL = 0,
    VX_VAL_BOOL,
    VX_VAL_INT,
    VX_VAL_DOUBLE,
    VX_VAL_STRING,
    VX_VAL_ARRAY,
    VX_VAL_OBJECT,
} vx_value_type;

typedef struct vx_value vx_value;
typedef struct vx_member vx_member;

struct vx_value {
    vx_value_type type;
    /* DOUBLE parsed from JSON text (vx_json.c) only, else 0: +1 / -1 when u.d
     * fell exactly on a float32 rounding midpoint that the decimal text lay
     * above / below, so that (float)u.d would round it the wrong way (a
     * double rounding); vx_value_as_float uses it. */
    int8_t f32_side;
    union {
        bool b;
        int64_t i;
        double d;
        struct { const char *ptr; uint32_t len; } str;
        struct { vx_value *items; uint32_t n; } arr;
        struct { vx_member *items; uint32_t n; } obj;
    } u;
};

struct vx_member {
    const char *key; /* NUL-terminated, key_len bytes */
    uint32_t key_len;
    vx_value value;
};

/* Object member lookup (linear; objects are small). NULL when absent. */
const vx_value *vx_value_get(const vx_value *obj, const char *key);
/* Numeric view of INT/DOUBLE; returns false for other types. */
bool vx_value_as_double(const vx_value *v, double *out);
/* INT/DOUBLE rounded once to float32, as the number the user wrote would
 * round (a JSON decimal is not rounded to double and then again to float:
 * see f32_side); ±inf beyond float32. False for other types. */
bool vx_value_as_float(const vx_value *v, float *out);
/* Whether d lies exactly halfway between two adjacent float32 values (or
 * between FLT_MAX and 2^128, the overflow threshold). */
bool vx_is_f32_midpoint(double d);
/* Deep equality; INT and DOUBLE compare numerically (1 == 1.0). */
bool vx_value_equal(const vx_value *a, const vx_value *b);

/* Appends the packed encoding of v to out. */
void vx_value_pack(const vx_value *v, vx_buf *out);
/* Decodes packed bytes (the whole buffer must be exactly one value) into a
 * tree in arena a. Every length and tag is checked; depth is limited.
 * Returns VX_OK or VX_ERR_CORRUPT. */
int vx_value_unpack(const void *data, size_t len, vx_arena *a, vx_value *out);

/* A view of one packed value inside a larger packed buffer. */
typedef struct vx_packed {
    const unsigned char *p;
    size_t len;
} vx_packed;

/* Finds key in a packed top-level object. Returns true and sets *out to the
 * member's packed value; false when data is not an object or lacks the key. */
bool vx_value_packed_find(const void *data, size_t len, const char *key, size_t key_len,
                          vx_packed *out);
/* Decodes a packed view into a tree (as vx_value_unpack). */
int vx_value_packed_decode(vx_packed v, vx_arena *a, vx_value *out);

#endif
