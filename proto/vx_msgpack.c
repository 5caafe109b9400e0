/*
 * vx_msgpack.c — the msgpack-c adapter (the only file that includes
 * <msgpack.h>). See vx_msgpack.h for the contract.
 *
 * Parsing is two passes: vx_mp_scan() walks the raw bytes first and checks
 * framing (every item complete, no trailing bytes, no reserved byte 0xc1,
 * nesting ≤ VX_MP_MAX_NESTING, and every container count ≤ the bytes left,
 * since each item takes at least one byte). Only then does
 * msgpack_unpack_next() build the object tree: that bounds what it allocates
 * to O(len) and keeps its error paths for input we already know is good.
 * A vx_mp_obj * is a const msgpack_object * in disguise.
 */
#include "vx_msgpack.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"

struct vx_mp_doc {
    msgpack_unpacked up;
};

#define OBJ(o) ((const msgpack_object *)(const void *)(o))
#define NODE(o) ((const vx_mp_obj *)(const void *)(o))

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ---- writing ---- */

static int buf_write(void *data, const char *p, size_t n)
{
    vx_buf_append((vx_buf *)data, p, n);
    return 0;
}

#define WITH_PACKER(b, stmt)                                                                       \
    do {                                                                                           \
        msgpack_packer pk_;                                                                        \
        msgpack_packer_init(&pk_, (b), buf_write);                                                 \
        stmt;                                                                                      \
    } while (0)

void vx_mp_nil(vx_buf *b) { WITH_PACKER(b, msgpack_pack_nil(&pk_)); }
void vx_mp_bool(vx_buf *b, bool v)
{
    WITH_PACKER(b, v ? msgpack_pack_true(&pk_) : msgpack_pack_false(&pk_));
}
void vx_mp_int(vx_buf *b, int64_t v)
{
    if (v >= 0)
        vx_mp_uint(b, (uint64_t)v);
    else
        WITH_PACKER(b, msgpack_pack_int64(&pk_, v));
}
void vx_mp_uint(vx_buf *b, uint64_t v) { WITH_PACKER(b, msgpack_pack_uint64(&pk_, v)); }
void vx_mp_float(vx_buf *b, float v) { WITH_PACKER(b, msgpack_pack_float(&pk_, v)); }
void vx_mp_double(vx_buf *b, double v) { WITH_PACKER(b, msgpack_pack_double(&pk_, v)); }
void vx_mp_str(vx_buf *b, const char *s, size_t len)
{
    WITH_PACKER(b, msgpack_pack_str(&pk_, len); msgpack_pack_str_body(&pk_, s, len));
}
void vx_mp_cstr(vx_buf *b, const char *s) { vx_mp_str(b, s, strlen(s)); }
void vx_mp_bin(vx_buf *b, const void *p, size_t len)
{
    WITH_PACKER(b, msgpack_pack_bin(&pk_, len); msgpack_pack_bin_body(&pk_, p, len));
}
void vx_mp_array(vx_buf *b, uint32_t n) { WITH_PACKER(b, msgpack_pack_array(&pk_, n)); }
void vx_mp_map(vx_buf *b, uint32_t n) { WITH_PACKER(b, msgpack_pack_map(&pk_, n)); }

void vx_mp_value(vx_buf *b, const vx_value *v)
{
    switch (v->type) {
    case VX_VAL_NULL: vx_mp_nil(b); break;
    case VX_VAL_BOOL: vx_mp_bool(b, v->u.b); break;
    case VX_VAL_INT: vx_mp_int(b, v->u.i); break;
    case VX_VAL_DOUBLE: vx_mp_double(b, v->u.d); break;
    case VX_VAL_STRING: vx_mp_str(b, v->u.str.ptr, v->u.str.len); break;
    case VX_VAL_ARRAY:
        vx_mp_array(b, v->u.arr.n);
        for (uint32_t i = 0; i < v->u.arr.n; i++)
            vx_mp_value(b, &v->u.arr.items[i]);
        break;
    case VX_VAL_OBJECT:
        vx_mp_map(b, v->u.obj.n);
        for (uint32_t i = 0; i < v->u.obj.n; i++) {
            vx_mp_str(b, v->u.obj.items[i].key, v->u.obj.items[i].key_len);
            vx_mp_value(b, &v->u.obj.items[i].value);
        }
        break;
    default: vx_mp_nil(b); break;
    }
}

/* ---- framing pre-scan ---- */

static uint64_t rd_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Returns NULL when data[0..len) is exactly one well-framed item within
 * the limits, else a static description of the problem. */
static const char *vx_mp_scan(const unsigned char *p, size_t len)
{
    /* stack[d]: items still to read in the container at nesting d */
    uint64_t stack[VX_MP_MAX_NESTING + 1];
    int depth = 0;
    size_t off = 0;
    stack[0] = 1;
    while (depth >= 0) {
        if (stack[depth] == 0) {
            depth--;
            continue;
        }
        stack[depth]--;
        if (off >= len)
            return "truncated message";
        unsigned c = p[off++];
        size_t left = len - off;
        uint64_t skip = 0, children = 0;
        int hdr = 0; /* length-field bytes */
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            /* fixint, nil, bool */
        } else if (c <= 0x8f) {
            children = 2u * (c & 0x0f);
        } else if (c <= 0x9f) {
            children = c & 0x0f;
        } else if (c <= 0xbf) {
            skip = c & 0x1f;
        } else if (c == 0xc1) {
            return "reserved byte 0xc1";
        } else if (c >= 0xc4 && c <= 0xc6) { /* bin 8/16/32 */
            hdr = 1 << (c - 0xc4);
        } else if (c >= 0xc7 && c <= 0xc9) { /* ext 8/16/32 */
            hdr = 1 << (c - 0xc7);
        } else if (c == 0xca) {
            skip = 4;
        } else if (c == 0xcb) {
            skip = 8;
        } else if (c >= 0xcc && c <= 0xcf) {
            skip = 1u << (c - 0xcc);
        } else if (c >= 0xd0 && c <= 0xd3) {
            skip = 1u << (c - 0xd0);
        } else if (c >= 0xd4 && c <= 0xd8) { /* fixext: type + 1..16 */
            skip = 1 + (1u << (c - 0xd4));
        } else if (c >= 0xd9 && c <= 0xdb) { /* str 8/16/32 */
            hdr = 1 << (c - 0xd9);
        } else if (c == 0xdc || c == 0xdd) {
            hdr = c == 0xdc ? 2 : 4;
        } else { /* 0xde, 0xdf map 16/32 */
            hdr = c == 0xde ? 2 : 4;
        }
        if (hdr) {
            if (left < (size_t)hdr)
                return "truncated message";
            uint64_t n = rd_be(p + off, hdr);
            off += (size_t)hdr;
            left -= (size_t)hdr;
            if (c >= 0xdc && c <= 0xdd)
                children = n;
            else if (c >= 0xde)
                children = 2 * n;
            else if (c >= 0xc7 && c <= 0xc9)
                skip = n + 1; /* type byte + data */
            else
                skip = n;
        }
        if (skip > left)
            return "truncated message";
        off += (size_t)skip;
        left -= (size_t)skip;
        bool container = (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf);
        if (container) {
            if (children > left)
                return "container count exceeds message size";
            if (depth + 1 > VX_MP_MAX_NESTING)
                return "nesting too deep";
            stack[++depth] = children;
        }
    }
    if (off != len)
        return "trailing bytes after message";
    return NULL;
}

/* ---- reading ---- */

int vx_mp_doc_parse(const void *data, size_t len, vx_mp_doc **out, char *err, size_t err_len)
{
    *out = NULL;
    if (!data && len > 0)
        return VX_ERR_PROTO;
    const char *why = vx_mp_scan(data, len);
    if (why) {
        set_err(err, err_len, "malformed msgpack: %s", why);
        return VX_ERR_PROTO;
    }
    vx_mp_doc *d = calloc(1, sizeof *d);
    if (!d) {
        set_err(err, err_len, "out of memory");
        return VX_ERR_NOMEM;
    }
    msgpack_unpacked_init(&d->up);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&d->up, data, len, &off);
    if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
        set_err(err, err_len, "malformed msgpack (unpack returned %d at offset %zu of %zu)", (int)r,
                off, len);
        vx_mp_doc_free(d);
        return VX_ERR_PROTO;
    }
    *out = d;
    return VX_OK;
}

const vx_mp_obj *vx_mp_doc_root(const vx_mp_doc *d) { return NODE(&d->up.data); }

void vx_mp_doc_free(vx_mp_doc *d)
{
    if (!d)
        return;
    msgpack_unpacked_destroy(&d->up);
    free(d);
}

vx_mp_kind vx_mp_kind_of(const vx_mp_obj *o)
{
    switch (OBJ(o)->type) {
    case MSGPACK_OBJECT_NIL: return VX_MP_NIL;
    case MSGPACK_OBJECT_BOOLEAN: return VX_MP_BOOL;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return VX_MP_UINT;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return VX_MP_INT;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return VX_MP_FLOAT;
    case MSGPACK_OBJECT_STR: return VX_MP_STR;
    case MSGPACK_OBJECT_BIN: return VX_MP_BIN;
    case MSGPACK_OBJECT_ARRAY: return VX_MP_ARRAY;
    case MSGPACK_OBJECT_MAP: return VX_MP_MAP;
    default: return VX_MP_EXT;
    }
}

const char *vx_mp_kind_name(vx_mp_kind k)
{
    static const char *const names[] = {"nil", "bool", "uint", "int", "float",
                                        "str", "bin",  "array", "map", "ext"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

bool vx_mp_get_bool(const vx_mp_obj *o, bool *out)
{
    if (OBJ(o)->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *out = OBJ(o)->via.boolean;
    return true;
}

bool vx_mp_get_u64(const vx_mp_obj *o, uint64_t *out)
{
    if (OBJ(o)->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *out = OBJ(o)->via.u64;
    return true;
}

bool vx_mp_get_i64(const vx_mp_obj *o, int64_t *out)
{
    if (OBJ(o)->type == MSGPACK_OBJECT_POSITIVE_INTEGER && OBJ(o)->via.u64 <= (uint64_t)INT64_MAX) {
        *out = (int64_t)OBJ(o)->via.u64;
        return true;
    }
    if (OBJ(o)->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = OBJ(o)->via.i64;
        return true;
    }
    return false;
}

bool vx_mp_get_number(const vx_mp_obj *o, double *out)
{
    switch (OBJ(o)->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = OBJ(o)->via.f64; return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)OBJ(o)->via.u64; return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)OBJ(o)->via.i64; return true;
    default: return false;
    }
}

bool vx_mp_get_str(const vx_mp_obj *o, const char **p, uint32_t *len)
{
    if (OBJ(o)->type != MSGPACK_OBJECT_STR)
        return false;
    *p = OBJ(o)->via.str.ptr;
    *len = OBJ(o)->via.str.size;
    return true;
}

bool vx_mp_get_bin(const vx_mp_obj *o, const void **p, uint32_t *len)
{
    if (OBJ(o)->type != MSGPACK_OBJECT_BIN)
        return false;
    *p = OBJ(o)->via.bin.ptr;
    *len = OBJ(o)->via.bin.size;
    return true;
}

uint32_t vx_mp_array_len(const vx_mp_obj *o)
{
    return OBJ(o)->type == MSGPACK_OBJECT_ARRAY ? OBJ(o)->via.array.size : 0;
}

const vx_mp_obj *vx_mp_array_at(const vx_mp_obj *o, uint32_t i)
{
    if (i >= vx_mp_array_len(o))
        return NULL;
    return NODE(&OBJ(o)->via.array.ptr[i]);
}

uint32_t vx_mp_map_len(const vx_mp_obj *o)
{
    return OBJ(o)->type == MSGPACK_OBJECT_MAP ? OBJ(o)->via.map.size : 0;
}

const vx_mp_obj *vx_mp_map_key(const vx_mp_obj *o, uint32_t i)
{
    if (i >= vx_mp_map_len(o))
        return NULL;
    return NODE(&OBJ(o)->via.map.ptr[i].key);
}

const vx_mp_obj *vx_mp_map_val(const vx_mp_obj *o, uint32_t i)
{
    if (i >= vx_mp_map_len(o))
        return NULL;
    return NODE(&OBJ(o)->via.map.ptr[i].val);
}

const vx_mp_obj *vx_mp_map_find(const vx_mp_obj *o, const char *key)
{
    size_t klen = strlen(key);
    uint32_t n = vx_mp_map_len(o);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *k = &OBJ(o)->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            (klen == 0 || memcmp(k->via.str.ptr, key, klen) == 0))
            return NODE(&OBJ(o)->via.map.ptr[i].val);
    }
    return NULL;
}

static int to_value(const msgpack_object *o, int depth, vx_arena *a, vx_value *out,
                    const char *path, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: out->type = VX_VAL_NULL; return VX_OK;
    case MSGPACK_OBJECT_BOOLEAN:
        out->type = VX_VAL_BOOL;
        out->u.b = o->via.boolean;
        return VX_OK;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            set_err(err, err_len, "%s: integer %llu does not fit in int64", path,
                    (unsigned long long)o->via.u64);
            return VX_ERR_INVALID;
        }
        out->type = VX_VAL_INT;
        out->u.i = (int64_t)o->via.u64;
        return VX_OK;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        out->type = VX_VAL_INT;
        out->u.i = o->via.i64;
        return VX_OK;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        out->type = VX_VAL_DOUBLE;
        out->u.d = o->via.f64;
        return VX_OK;
    case MSGPACK_OBJECT_STR:
        out->type = VX_VAL_STRING;
        out->u.str.ptr = vx_arena_strndup(a, o->via.str.ptr, o->via.str.size);
        out->u.str.len = o->via.str.size;
        return VX_OK;
    case MSGPACK_OBJECT_ARRAY:
    case MSGPACK_OBJECT_MAP:
        if (depth >= VX_VALUE_MAX_DEPTH) {
            set_err(err, err_len, "%s: nesting deeper than %d levels", path, VX_VALUE_MAX_DEPTH);
            return VX_ERR_INVALID;
        }
        break;
    default:
        set_err(err, err_len, "%s: %s is not allowed in a value", path,
                o->type == MSGPACK_OBJECT_BIN ? "bin" : "ext");
        return VX_ERR_INVALID;
    }
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        uint32_t n = o->via.array.size;
        out->type = VX_VAL_ARRAY;
        out->u.arr.n = n;
        out->u.arr.items = n ? vx_arena_alloc(a, (size_t)n * sizeof(vx_value)) : NULL;
        for (uint32_t i = 0; i < n; i++) {
            int rc = to_value(&o->via.array.ptr[i], depth + 1, a, &out->u.arr.items[i], path, err,
                              err_len);
            if (rc != VX_OK)
                return rc;
        }
        return VX_OK;
    }
    uint32_t n = o->via.map.size;
    out->type = VX_VAL_OBJECT;
    out->u.obj.n = n;
    out->u.obj.items = n ? vx_arena_alloc(a, (size_t)n * sizeof(vx_member)) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR) {
            set_err(err, err_len, "%s: object keys must be strings", path);
            return VX_ERR_INVALID;
        }
        if (memchr(k->via.str.ptr, 0, k->via.str.size)) {
            set_err(err, err_len, "%s: object key contains NUL", path);
            return VX_ERR_INVALID;
        }
        vx_member *m = &out->u.obj.items[i];
        m->key = vx_arena_strndup(a, k->via.str.ptr, k->via.str.size);
        m->key_len = k->via.str.size;
        int rc = to_value(&o->via.map.ptr[i].val, depth + 1, a, &m->value, path, err, err_len);
        if (rc != VX_OK)
            return rc;
    }
    return VX_OK;
}

int vx_mp_to_value(const vx_mp_obj *o, vx_arena *a, vx_value *out, const char *path, char *err,
                   size_t err_len)
{
    return to_value(OBJ(o), 0, a, out, path, err, err_len);
}
