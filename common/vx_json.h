/*
 * vx_json.h — JSON text <-> vx_value trees: the gateway's JSON boundary.
 * (The parser is our own since jansson's cost ~0.7 µs per number; jansson
 * remains only as the reference implementation in vx_json_test.c.)
 *
 * Parsing is strict: one JSON value per text (trailing garbage is an
 * error), duplicate object keys are rejected, integers that fit int64 become
 * VX_VAL_INT, other numbers VX_VAL_DOUBLE (numbers that overflow a double,
 * such as 1e400, are rejected by the parser), nesting deeper than
 * VX_VALUE_MAX_DEPTH is rejected. Strings must be valid UTF-8; "\u0000" is
 * accepted in string values (their len counts it) but rejected in keys.
 *
 * Ownership: the tree and all its strings live in the caller's arena.
 * vx_json_write appends to a caller-owned vx_buf.
 */
#ifndef VX_JSON_H
#define VX_JSON_H

#include <stddef.h>

#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_value.h"

/* Parses len bytes of JSON text into *out (nodes allocated in a).
 * Returns VX_OK, or VX_ERR_INVALID with a message such as
 * "invalid JSON at line 1, column 7 (byte 6): ..." written into err
 * (NUL-terminated, truncated to err_len; err may be NULL). */
int vx_json_parse(const char *text, size_t len, vx_arena *a, vx_value *out, char *err,
                  size_t err_len);

/* Appends the compact JSON text of v to out (no NUL). Doubles that are not
 * finite are written as null (JSON cannot carry them). */
void vx_json_write(const vx_value *v, vx_buf *out);

#endif
