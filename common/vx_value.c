/*
 * vx_value.c — value trees: lookup, equality, and the packed encoding
 * (format in vx_value.h).
 *
 * The decoders treat their input as hostile (it comes from disk, the bus
 * and fuzzers): every read is bounds-checked against the remaining length,
 * counts are checked against the bytes left before anything is allocated
 * (an array item takes at least 1 byte, an object member at least 5), keys
 * may not contain NUL, nesting is limited to VX_VALUE_MAX_DEPTH containers,
 * and vx_value_unpack requires the buffer to hold exactly one value.
 * Depth: a scalar has depth 0, a container 1 + the depth of its deepest
 * child; anything deeper than VX_VALUE_MAX_DEPTH is VX_ERR_CORRUPT.
 * Decoded trees own copies of all strings (in the arena), never pointers
 * into the input.
 */
#include "vx_value.h"

#include <math.h>
#include <string.h>

#include "vx_err.h"

enum {
    VX_TAG_NULL = 0,
    VX_TAG_FALSE = 1,
    VX_TAG_TRUE = 2,
    VX_TAG_INT = 3,
    VX_TAG_DOUBLE = 4,
    VX_TAG_STRING = 5,
    VX_TAG_ARRAY = 6,
    VX_TAG_OBJECT = 7,
};

/* ---- lookups and equality ----------------------------------------------- */

const vx_value *vx_value_get(const vx_value *obj, const char *key)
{
    if (!obj || obj->type != VX_VAL_OBJECT || !key)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < obj->u.obj.n; i++) {
        const vx_member *m = &obj->u.obj.items[i];
        if (m->key_len == klen && memcmp(m->key, key, klen) == 0)
            return &m->value;
    }
    return NULL;
}

bool vx_is_f32_midpoint(double d)
{
    double a = fabs(d);
    if (!(a > 0) || a > 0x1p128)
        return false; /* 0, NaN, beyond the overflow threshold */
    if (a < 0x1p-126) { /* float32 subnormals: steps of 2^-149 */
        double t = a * 0x1p150; /* exact; a midpoint is an odd integer here */
        return t == trunc(t) && fmod(t, 2.0) == 1.0;
    }
    /* normal: 29 more fraction bits than float32; a midpoint has 100…0 there */
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    return (bits & ((UINT64_C(1) << 29) - 1)) == UINT64_C(1) << 28;
}

bool vx_value_as_float(const vx_value *v, float *out)
{
    if (!v)
        return false;
    if (v->type == VX_VAL_INT) {
        *out = (float)v->u.i; /* one rounding, not via double */
        return true;
    }
    if (v->type != VX_VAL_DOUBLE)
        return false;
    float f = (float)v->u.d;
    if (v->f32_side > 0 && (double)f < v->u.d)
        f = nextafterf(f, INFINITY);
    else if (v->f32_side < 0 && (double)f > v->u.d)
        f = nextafterf(f, -INFINITY);
    *out = f;
    return true;
}

bool vx_value_as_double(const vx_value *v, double *out)
{
    if (!v)
        return false;
    if (v->type == VX_VAL_INT) {
        *out = (double)v->u.i;
        return true;
    }
    if (v->type == VX_VAL_DOUBLE) {
        *out = v->u.d;
        return true;
    }
    return false;
}

/* Exact comparison of an int64 with a double (no rounding surprises:
 * 2^53 + 1 is not equal to 2^53 as a double). */
static bool vx_int_eq_double(int64_t i, double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return false; /* NaN or outside int64 */
    if (d != floor(d))
        return false;
    return (int64_t)d == i;
}

bool vx_value_equal(const vx_value *a, const vx_value *b)
{
    if (!a || !b)
        return a == b;
    if (a->type == VX_VAL_INT && b->type == VX_VAL_DOUBLE)
        return vx_int_eq_double(a->u.i, b->u.d);
    if (a->type == VX_VAL_DOUBLE && b->type == VX_VAL_INT)
        return vx_int_eq_double(b->u.i, a->u.d);
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case VX_VAL_NULL:
        return true;
    case VX_VAL_BOOL:
        return a->u.b == b->u.b;
    case VX_VAL_INT:
        return a->u.i == b->u.i;
    case VX_VAL_DOUBLE:
        return a->u.d == b->u.d;
    case VX_VAL_STRING:
        return a->u.str.len == b->u.str.len &&
               (a->u.str.len == 0 || memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0);
    case VX_VAL_ARRAY:
        if (a->u.arr.n != b->u.arr.n)
            return false;
        for (uint32_t i = 0; i < a->u.arr.n; i++)
            if (!vx_value_equal(&a->u.arr.items[i], &b->u.arr.items[i]))
                return false;
        return true;
    case VX_VAL_OBJECT:
        /* member order does not matter; keys are unique within an object */
        if (a->u.obj.n != b->u.obj.n)
            return false;
        for (uint32_t i = 0; i < a->u.obj.n; i++) {
            const vx_member *m = &a->u.obj.items[i];
            const vx_value *other = NULL;
            for (uint32_t j = 0; j < b->u.obj.n; j++) {
                const vx_member *o = &b->u.obj.items[j];
                if (o->key_len == m->key_len && memcmp(o->key, m->key, m->key_len) == 0) {
                    other = &o->value;
                    break;
                }
            }
            if (!other || !vx_value_equal(&m->value, other))
                return false;
        }
        return true;
    }
    return false;
}

/* ---- packing ------------------------------------------------------------ */

static void vx_put_u32(vx_buf *out, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    vx_buf_append(out, b, 4);
}

static void vx_put_u64(vx_buf *out, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    vx_buf_append(out, b, 8);
}

void vx_value_pack(const vx_value *v, vx_buf *out)
{
    switch (v->type) {
    case VX_VAL_BOOL:
        vx_buf_putc(out, v->u.b ? VX_TAG_TRUE : VX_TAG_FALSE);
        return;
    case VX_VAL_INT:
        vx_buf_putc(out, VX_TAG_INT);
        vx_put_u64(out, (uint64_t)v->u.i);
        return;
    case VX_VAL_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &v->u.d, 8);
        vx_buf_putc(out, VX_TAG_DOUBLE);
        vx_put_u64(out, bits);
        return;
    }
    case VX_VAL_STRING:
        vx_buf_putc(out, VX_TAG_STRING);
        vx_put_u32(out, v->u.str.len);
        vx_buf_append(out, v->u.str.ptr, v->u.str.len);
        return;
    case VX_VAL_ARRAY:
        vx_buf_putc(out, VX_TAG_ARRAY);
        vx_put_u32(out, v->u.arr.n);
        for (uint32_t i = 0; i < v->u.arr.n; i++)
            vx_value_pack(&v->u.arr.items[i], out);
        return;
    case VX_VAL_OBJECT:
        vx_buf_putc(out, VX_TAG_OBJECT);
        vx_put_u32(out, v->u.obj.n);
        for (uint32_t i = 0; i < v->u.obj.n; i++) {
            const vx_member *m = &v->u.obj.items[i];
            vx_put_u32(out, m->key_len);
            vx_buf_append(out, m->key, m->key_len);
            vx_value_pack(&m->value, out);
        }
        return;
    case VX_VAL_NULL:
    default:
        vx_buf_putc(out, VX_TAG_NULL);
        return;
    }
}

/* ---- reading packed bytes ----------------------------------------------- */

typedef struct {
    const unsigned char *p;
    size_t left;
} vx_rd;

static bool vx_rd_u8(vx_rd *r, unsigned char *v)
{
    if (r->left < 1)
        return false;
    *v = r->p[0];
    r->p++;
    r->left--;
    return true;
}

static bool vx_rd_u32(vx_rd *r, uint32_t *v)
{
    if (r->left < 4)
        return false;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    r->left -= 4;
    return true;
}

static bool vx_rd_u64(vx_rd *r, uint64_t *v)
{
    if (r->left < 8)
        return false;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | r->p[i];
    *v = x;
    r->p += 8;
    r->left -= 8;
    return true;
}

static bool vx_rd_bytes(vx_rd *r, size_t n, const unsigned char **p)
{
    if (r->left < n)
        return false;
    *p = r->p;
    r->p += n;
    r->left -= n;
    return true;
}

/* Reads an object key: u32 length + bytes without NUL. */
static bool vx_rd_key(vx_rd *r, const unsigned char **key, uint32_t *len)
{
    if (!vx_rd_u32(r, len) || !vx_rd_bytes(r, *len, key))
        return false;
    return *len == 0 || memchr(*key, '\0', *len) == NULL;
}

/* Skips one value, validating its structure. depth: containers around it. */
static bool vx_skip(vx_rd *r, int depth)
{
    unsigned char tag;
    uint32_t n;
    uint64_t u;
    const unsigned char *p;
    if (!vx_rd_u8(r, &tag))
        return false;
    switch (tag) {
    case VX_TAG_NULL:
    case VX_TAG_FALSE:
    case VX_TAG_TRUE:
        return true;
    case VX_TAG_INT:
    case VX_TAG_DOUBLE:
        return vx_rd_u64(r, &u);
    case VX_TAG_STRING:
        return vx_rd_u32(r, &n) && vx_rd_bytes(r, n, &p);
    case VX_TAG_ARRAY:
        if (depth >= VX_VALUE_MAX_DEPTH || !vx_rd_u32(r, &n) || n > r->left)
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!vx_skip(r, depth + 1))
                return false;
        return true;
    case VX_TAG_OBJECT:
        if (depth >= VX_VALUE_MAX_DEPTH || !vx_rd_u32(r, &n) || n > r->left / 5)
            return false;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t klen;
            if (!vx_rd_key(r, &p, &klen) || !vx_skip(r, depth + 1))
                return false;
        }
        return true;
    default:
        return false;
    }
}

static int vx_decode(vx_rd *r, int depth, vx_arena *a, vx_value *out)
{
    unsigned char tag;
    uint32_t n;
    uint64_t u;
    const unsigned char *p;
    memset(out, 0, sizeof *out);
    if (!vx_rd_u8(r, &tag))
        return VX_ERR_CORRUPT;
    switch (tag) {
    case VX_TAG_NULL:
        out->type = VX_VAL_NULL;
        return VX_OK;
    case VX_TAG_FALSE:
    case VX_TAG_TRUE:
        out->type = VX_VAL_BOOL;
        out->u.b = tag == VX_TAG_TRUE;
        return VX_OK;
    case VX_TAG_INT:
        if (!vx_rd_u64(r, &u))
            return VX_ERR_CORRUPT;
        out->type = VX_VAL_INT;
        out->u.i = (int64_t)u;
        return VX_OK;
    case VX_TAG_DOUBLE:
        if (!vx_rd_u64(r, &u))
            return VX_ERR_CORRUPT;
        out->type = VX_VAL_DOUBLE;
        memcpy(&out->u.d, &u, 8);
        return VX_OK;
    case VX_TAG_STRING:
        if (!vx_rd_u32(r, &n) || !vx_rd_bytes(r, n, &p))
            return VX_ERR_CORRUPT;
        out->type = VX_VAL_STRING;
        out->u.str.ptr = vx_arena_strndup(a, (const char *)p, n);
        out->u.str.len = n;
        return VX_OK;
    case VX_TAG_ARRAY: {
        if (depth >= VX_VALUE_MAX_DEPTH || !vx_rd_u32(r, &n) || n > r->left)
            return VX_ERR_CORRUPT;
        vx_value *items = n ? vx_arena_alloc(a, (size_t)n * sizeof *items) : NULL;
        for (uint32_t i = 0; i < n; i++) {
            int rc = vx_decode(r, depth + 1, a, &items[i]);
            if (rc != VX_OK)
                return rc;
        }
        out->type = VX_VAL_ARRAY;
        out->u.arr.items = items;
        out->u.arr.n = n;
        return VX_OK;
    }
    case VX_TAG_OBJECT: {
        if (depth >= VX_VALUE_MAX_DEPTH || !vx_rd_u32(r, &n) || n > r->left / 5)
            return VX_ERR_CORRUPT;
        vx_member *items = n ? vx_arena_alloc(a, (size_t)n * sizeof *items) : NULL;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t klen;
            if (!vx_rd_key(r, &p, &klen))
                return VX_ERR_CORRUPT;
            items[i].key = vx_arena_strndup(a, (const char *)p, klen);
            items[i].key_len = klen;
            int rc = vx_decode(r, depth + 1, a, &items[i].value);
            if (rc != VX_OK)
                return rc;
        }
        out->type = VX_VAL_OBJECT;
        out->u.obj.items = items;
        out->u.obj.n = n;
        return VX_OK;
    }
    default:
        return VX_ERR_CORRUPT;
    }
}

int vx_value_unpack(const void *data, size_t len, vx_arena *a, vx_value *out)
{
    vx_rd r = {data, len};
    if (!data && len)
        return VX_ERR_CORRUPT;
    int rc = vx_decode(&r, 0, a, out);
    if (rc == VX_OK && r.left != 0)
        rc = VX_ERR_CORRUPT; /* trailing bytes */
    if (rc != VX_OK)
        memset(out, 0, sizeof *out); /* never hand out a half-built tree */
    return rc;
}

bool vx_value_packed_find(const void *data, size_t len, const char *key, size_t key_len,
                          vx_packed *out)
{
    vx_rd r = {data, len};
    unsigned char tag;
    uint32_t n;
    if (!data || !vx_rd_u8(&r, &tag) || tag != VX_TAG_OBJECT || !vx_rd_u32(&r, &n) ||
        n > r.left / 5)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *k;
        uint32_t klen;
        if (!vx_rd_key(&r, &k, &klen))
            return false;
        const unsigned char *start = r.p;
        if (!vx_skip(&r, 1))
            return false;
        if (klen == key_len && (key_len == 0 || memcmp(k, key, key_len) == 0)) {
            out->p = start;
            out->len = (size_t)(r.p - start);
            return true;
        }
    }
    return false;
}

int vx_value_packed_decode(vx_packed v, vx_arena *a, vx_value *out)
{
    return vx_value_unpack(v.p, v.len, a, out);
}
