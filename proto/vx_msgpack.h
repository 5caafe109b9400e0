/*
 * vx_msgpack.h — the msgpack adapter: the small part of msgpack-c that the
 * protocol encoder/decoder needs, without exposing msgpack types.
 *
 * Writing: vx_mp_* append one msgpack item (or a container header) to a
 * vx_buf. Callers write exactly the number of items a header announces.
 *
 * Reading: vx_mp_doc_parse() checks and unpacks one whole message (no
 * trailing bytes; nesting ≤ VX_MP_MAX_NESTING containers; every declared
 * container count is bounded by the bytes left, so a short hostile message
 * cannot make the unpacker allocate much). The returned doc owns the object
 * tree; nodes (vx_mp_obj) stay valid until vx_mp_doc_free(). String and bin
 * payloads point INTO the input buffer: keep it alive while reading, and
 * copy what must outlive it. Strings are not NUL-terminated.
 */
#ifndef VX_MSGPACK_H
#define VX_MSGPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_value.h"

/* Nesting limit of msgpack-c's unpacker (its compiled-in stack size): a
 * message may nest at most this many arrays/maps, envelope included. */
#define VX_MP_MAX_NESTING 32

/* ---- writing ---- */
void vx_mp_nil(vx_buf *b);
void vx_mp_bool(vx_buf *b, bool v);
void vx_mp_int(vx_buf *b, int64_t v);  /* smallest encoding; ≥ 0 as uint */
void vx_mp_uint(vx_buf *b, uint64_t v);
void vx_mp_float(vx_buf *b, float v);  /* always float32 */
void vx_mp_double(vx_buf *b, double v); /* always float64 */
void vx_mp_str(vx_buf *b, const char *s, size_t len);
void vx_mp_cstr(vx_buf *b, const char *s);
void vx_mp_bin(vx_buf *b, const void *p, size_t len);
void vx_mp_array(vx_buf *b, uint32_t n);
void vx_mp_map(vx_buf *b, uint32_t n);
/* A vx_value: null→nil, bool, int→int, double→float64, string→str,
 * array→array, object→map with str keys. */
void vx_mp_value(vx_buf *b, const vx_value *v);

/* ---- reading ---- */
typedef struct vx_mp_doc vx_mp_doc; /* owns the unpacked tree */
typedef struct vx_mp_obj vx_mp_obj; /* a node of that tree (opaque) */

typedef enum vx_mp_kind {
    VX_MP_NIL,
    VX_MP_BOOL,
    VX_MP_UINT,  /* non-negative integer */
    VX_MP_INT,   /* negative integer */
    VX_MP_FLOAT, /* float32 or float64 */
    VX_MP_STR,
    VX_MP_BIN,
    VX_MP_ARRAY,
    VX_MP_MAP,
    VX_MP_EXT,
} vx_mp_kind;

/* Parses data[0..len). Returns VX_OK and sets *out (free with
 * vx_mp_doc_free), or VX_ERR_PROTO with a message in err. */
int vx_mp_doc_parse(const void *data, size_t len, vx_mp_doc **out, char *err, size_t err_len);
const vx_mp_obj *vx_mp_doc_root(const vx_mp_doc *d);
void vx_mp_doc_free(vx_mp_doc *d);

vx_mp_kind vx_mp_kind_of(const vx_mp_obj *o);
const char *vx_mp_kind_name(vx_mp_kind k); /* "uint", "str", ... for messages */

/* Typed reads: false when o has another kind (or is out of range). */
bool vx_mp_get_bool(const vx_mp_obj *o, bool *out);
bool vx_mp_get_u64(const vx_mp_obj *o, uint64_t *out);    /* UINT only */
bool vx_mp_get_i64(const vx_mp_obj *o, int64_t *out);     /* UINT ≤ INT64_MAX or INT */
bool vx_mp_get_number(const vx_mp_obj *o, double *out);   /* FLOAT, UINT or INT */
bool vx_mp_get_str(const vx_mp_obj *o, const char **p, uint32_t *len);
bool vx_mp_get_bin(const vx_mp_obj *o, const void **p, uint32_t *len);

/* Containers: 0 / NULL when o is not an array (map) or i is out of range. */
uint32_t vx_mp_array_len(const vx_mp_obj *o);
const vx_mp_obj *vx_mp_array_at(const vx_mp_obj *o, uint32_t i);
uint32_t vx_mp_map_len(const vx_mp_obj *o);
const vx_mp_obj *vx_mp_map_key(const vx_mp_obj *o, uint32_t i);
const vx_mp_obj *vx_mp_map_val(const vx_mp_obj *o, uint32_t i);
/* Value of the first member whose key is the string key; NULL when absent
 * (members with non-string keys are skipped). */
const vx_mp_obj *vx_mp_map_find(const vx_mp_obj *o, const char *key);

/* Converts o to a vx_value tree in arena a: nil, bool, int (must fit int64),
 * float, str, array, map with str keys (no NUL in keys). Rejects bin, ext,
 * non-string keys and nesting deeper than VX_VALUE_MAX_DEPTH containers.
 * path names o in error messages. Returns VX_OK or VX_ERR_INVALID. */
int vx_mp_to_value(const vx_mp_obj *o, vx_arena *a, vx_value *out, const char *path, char *err,
                   size_t err_len);

#endif
