/*
 * vx_jsonw.h — a small streaming JSON writer into a vx_buf (no jansson):
 * the gateway builds every response with it, without an intermediate tree.
 *
 * The writer inserts commas itself: it keeps one "needs a comma" bit per
 * open container (up to VX_JSONW_MAX_DEPTH levels). After vx_jsonw_key the
 * next value is the member's value. Strings are escaped per RFC 8259:
 * '"', '\\' and control characters (< 0x20, 0x7f) are escaped, and bytes
 * that are not valid UTF-8 are replaced with U+FFFD, so the output is always
 * valid UTF-8 JSON. Floats and doubles are written with the fewest digits
 * that read back to the same value (vx_fmtfloat.h: %g-style layout); NaN
 * and infinities are written as null.
 *
 * Ownership: the writer does not own out; the caller frees it.
 * Misuse (unbalanced end calls, depth overflow) is a programming error and
 * aborts (it never depends on input data: callers bound nesting).
 */
#ifndef VX_JSONW_H
#define VX_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_buf.h"
#include "vx_value.h"

#define VX_JSONW_MAX_DEPTH 64

typedef struct vx_jsonw {
    vx_buf *out;
    int depth;
    bool after_key;                          /* the next value follows a key */
    bool need_comma[VX_JSONW_MAX_DEPTH + 1]; /* per open container */
} vx_jsonw;

void vx_jsonw_init(vx_jsonw *w, vx_buf *out);
void vx_jsonw_begin_object(vx_jsonw *w);
void vx_jsonw_end_object(vx_jsonw *w);
void vx_jsonw_begin_array(vx_jsonw *w);
void vx_jsonw_end_array(vx_jsonw *w);
/* Object member name (NUL-terminated). */
void vx_jsonw_key(vx_jsonw *w, const char *key);
void vx_jsonw_string(vx_jsonw *w, const char *s);
void vx_jsonw_string_n(vx_jsonw *w, const char *s, size_t len);
void vx_jsonw_int(vx_jsonw *w, int64_t v);
void vx_jsonw_uint(vx_jsonw *w, uint64_t v);
void vx_jsonw_double(vx_jsonw *w, double v);
void vx_jsonw_float(vx_jsonw *w, float v);
void vx_jsonw_bool(vx_jsonw *w, bool v);
void vx_jsonw_null(vx_jsonw *w);
/* A whole vx_value tree (NULL writes null). */
void vx_jsonw_value(vx_jsonw *w, const vx_value *v);
/* [v0, v1, ...] written as floats. */
void vx_jsonw_float_array(vx_jsonw *w, const float *v, size_t n);
/* Appends pre-encoded JSON text as one value (caller guarantees validity). */
void vx_jsonw_raw(vx_jsonw *w, const char *json, size_t len);

/* Escapes s as a JSON string literal (with quotes) into out. */
void vx_json_escape(vx_buf *out, const char *s, size_t len);

#endif
