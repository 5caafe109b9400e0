/*
 * vx_json.c — JSON text <-> vx_value, the jansson adapter (see vx_json.h).
 *
 * Parsing goes through jansson (json_loadb with JSON_REJECT_DUPLICATES,
 * JSON_DECODE_ANY, JSON_ALLOW_NUL), then the jansson tree is copied into the
 * caller's arena and released before returning, so no jansson object ever
 * escapes this file. Writing uses the vx_jsonw streaming writer.
 */
#include "vx_json.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vx_err.h"
#include "vx_jsonw.h"

static void set_err(char *err, size_t err_len, const char *fmt, const char *a)
{
    if (err && err_len)
        snprintf(err, err_len, fmt, a);
}

/* Copies j into *out. Returns VX_OK or VX_ERR_INVALID (err filled). */
static int convert(const json_t *j, int depth, vx_arena *a, vx_value *out, char *err,
                   size_t err_len)
{
    if (depth > VX_VALUE_MAX_DEPTH) {
        if (err && err_len)
            snprintf(err, err_len, "invalid JSON: nesting deeper than %d levels",
                     VX_VALUE_MAX_DEPTH);
        return VX_ERR_INVALID;
    }
    switch (json_typeof(j)) {
    case JSON_NULL: out->type = VX_VAL_NULL; return VX_OK;
    case JSON_TRUE: out->type = VX_VAL_BOOL; out->u.b = true; return VX_OK;
    case JSON_FALSE: out->type = VX_VAL_BOOL; out->u.b = false; return VX_OK;
    case JSON_INTEGER:
        out->type = VX_VAL_INT;
        out->u.i = (int64_t)json_integer_value(j);
        return VX_OK;
    case JSON_REAL:
        out->type = VX_VAL_DOUBLE;
        out->u.d = json_real_value(j);
        return VX_OK;
    case JSON_STRING: {
        size_t n = json_string_length(j);
        if (n > UINT32_MAX) {
            set_err(err, err_len, "invalid JSON: %s", "string too long");
            return VX_ERR_INVALID;
        }
        out->type = VX_VAL_STRING;
        out->u.str.ptr = vx_arena_strndup(a, json_string_value(j), n);
        out->u.str.len = (uint32_t)n;
        return VX_OK;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        out->type = VX_VAL_ARRAY;
        out->u.arr.n = (uint32_t)n;
        out->u.arr.items = n ? vx_arena_alloc(a, n * sizeof(vx_value)) : NULL;
        for (size_t i = 0; i < n; i++) {
            int rc = convert(json_array_get(j, i), depth + 1, a, &out->u.arr.items[i], err,
                             err_len);
            if (rc)
                return rc;
        }
        return VX_OK;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0;
        out->type = VX_VAL_OBJECT;
        out->u.obj.n = (uint32_t)n;
        out->u.obj.items = n ? vx_arena_alloc(a, n * sizeof(vx_member)) : NULL;
        for (void *it = json_object_iter((json_t *)j); it && i < n;
             it = json_object_iter_next((json_t *)j, it), i++) {
            const char *key = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            if (memchr(key, 0, klen)) {
                set_err(err, err_len, "invalid JSON: %s", "object key contains NUL");
                return VX_ERR_INVALID;
            }
            vx_member *m = &out->u.obj.items[i];
            m->key = vx_arena_strndup(a, key, klen);
            m->key_len = (uint32_t)klen;
            int rc = convert(json_object_iter_value(it), depth + 1, a, &m->value, err, err_len);
            if (rc)
                return rc;
        }
        out->u.obj.n = (uint32_t)i;
        return VX_OK;
    }
    }
    set_err(err, err_len, "invalid JSON: %s", "unknown value type");
    return VX_ERR_INVALID;
}

/* Nesting depth of JSON text, counted on the raw bytes (brackets outside
 * strings) and stopping as soon as it passes limit. jansson parses
 * recursively and would exhaust a small thread stack on input such as
 * 10 000 '[' before any depth check of ours could run, so this runs first. */
static int json_text_too_deep(const char *text, size_t len, int limit)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return 1;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

int vx_json_parse(const char *text, size_t len, vx_arena *a, vx_value *out, char *err,
                  size_t err_len)
{
    json_error_t je;
    memset(out, 0, sizeof(*out));
    if (err && err_len)
        err[0] = '\0';
    if (json_text_too_deep(text, len, VX_VALUE_MAX_DEPTH)) {
        if (err && err_len)
            snprintf(err, err_len, "invalid JSON: nesting deeper than %d levels",
                     VX_VALUE_MAX_DEPTH);
        return VX_ERR_INVALID;
    }
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
                           &je);
    if (!j) {
        if (err && err_len)
            snprintf(err, err_len, "invalid JSON at line %d, column %d (byte %d): %s", je.line,
                     je.column, je.position, je.text);
        return VX_ERR_INVALID;
    }
    int rc = convert(j, 1, a, out, err, err_len);
    json_decref(j);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

void vx_json_write(const vx_value *v, vx_buf *out)
{
    vx_jsonw w;
    vx_jsonw_init(&w, out);
    vx_jsonw_value(&w, v);
}
