/*
 * vx_jsonw.c — streaming JSON writer (see vx_jsonw.h).
 *
 * Invariant: w->need_comma[d] is true when the container open at depth d
 * already holds a value (so the next one needs a comma). Depth 0 is the top
 * level, which holds at most one value.
 */
#include "vx_jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vx_fmtfloat.h"
#include "vx_log.h"

static void jsonw_die(const char *what)
{
    VX_ERROR("vx_jsonw: programming error: %s", what);
    abort();
}

void vx_jsonw_init(vx_jsonw *w, vx_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

/* Called before every value: writes the separating comma when needed. */
static void before_value(vx_jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        vx_buf_putc(w->out, ',');
    w->need_comma[w->depth] = true;
}

static void open_container(vx_jsonw *w, char c)
{
    before_value(w);
    if (w->depth >= VX_JSONW_MAX_DEPTH)
        jsonw_die("nesting too deep");
    vx_buf_putc(w->out, (unsigned char)c);
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_container(vx_jsonw *w, char c)
{
    if (w->depth <= 0 || w->after_key)
        jsonw_die("unbalanced end");
    w->depth--;
    vx_buf_putc(w->out, (unsigned char)c);
}

void vx_jsonw_begin_object(vx_jsonw *w) { open_container(w, '{'); }
void vx_jsonw_end_object(vx_jsonw *w) { close_container(w, '}'); }
void vx_jsonw_begin_array(vx_jsonw *w) { open_container(w, '['); }
void vx_jsonw_end_array(vx_jsonw *w) { close_container(w, ']'); }

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

void vx_json_escape(vx_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    vx_buf_reserve(out, len + 2);
    vx_buf_putc(out, '"');
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
            size_t j = i;
            while (j < len && p[j] >= 0x20 && p[j] != '"' && p[j] != '\\' && p[j] < 0x7f)
                j++;
            vx_buf_append(out, p + i, j - i);
            i = j;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq_len(p + i, len - i);
            if (n == 0) {
                vx_buf_append(out, "\xEF\xBF\xBD", 3); /* U+FFFD */
                i++;
            } else {
                vx_buf_append(out, p + i, n);
                i += n;
            }
            continue;
        }
        switch (c) {
        case '"': vx_buf_append(out, "\\\"", 2); break;
        case '\\': vx_buf_append(out, "\\\\", 2); break;
        case '\n': vx_buf_append(out, "\\n", 2); break;
        case '\r': vx_buf_append(out, "\\r", 2); break;
        case '\t': vx_buf_append(out, "\\t", 2); break;
        case '\b': vx_buf_append(out, "\\b", 2); break;
        case '\f': vx_buf_append(out, "\\f", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            vx_buf_append(out, e, 6);
        }
        }
        i++;
    }
    vx_buf_putc(out, '"');
}

void vx_jsonw_key(vx_jsonw *w, const char *key)
{
    if (w->depth <= 0 || w->after_key)
        jsonw_die("key outside an object");
    if (w->need_comma[w->depth])
        vx_buf_putc(w->out, ',');
    w->need_comma[w->depth] = true;
    vx_json_escape(w->out, key, strlen(key));
    vx_buf_putc(w->out, ':');
    w->after_key = true;
}

void vx_jsonw_string(vx_jsonw *w, const char *s) { vx_jsonw_string_n(w, s, strlen(s)); }

void vx_jsonw_string_n(vx_jsonw *w, const char *s, size_t len)
{
    before_value(w);
    vx_json_escape(w->out, s, len);
}

void vx_jsonw_int(vx_jsonw *w, int64_t v)
{
    before_value(w);
    vx_buf_printf(w->out, "%" PRId64, v);
}

void vx_jsonw_uint(vx_jsonw *w, uint64_t v)
{
    before_value(w);
    vx_buf_printf(w->out, "%" PRIu64, v);
}

/* Numbers: the shortest decimal that reads back as exactly v, in "%g"
 * style (vx_fmtfloat.h), formatted in place; finite output is always a
 * valid JSON number ("3", "-0", "0.1", "1e-07"). */
void vx_jsonw_double(vx_jsonw *w, double v)
{
    before_value(w);
    if (!isfinite(v)) {
        vx_buf_append(w->out, "null", 4);
        return;
    }
    vx_buf_reserve(w->out, VX_FMT_BUFSZ);
    w->out->len += vx_fmt_double(v, (char *)w->out->data + w->out->len);
}

void vx_jsonw_float(vx_jsonw *w, float v)
{
    before_value(w);
    if (!isfinite(v)) {
        vx_buf_append(w->out, "null", 4);
        return;
    }
    vx_buf_reserve(w->out, VX_FMT_BUFSZ);
    w->out->len += vx_fmt_float(v, (char *)w->out->data + w->out->len);
}

void vx_jsonw_bool(vx_jsonw *w, bool v)
{
    before_value(w);
    if (v)
        vx_buf_append(w->out, "true", 4);
    else
        vx_buf_append(w->out, "false", 5);
}

void vx_jsonw_null(vx_jsonw *w)
{
    before_value(w);
    vx_buf_append(w->out, "null", 4);
}

void vx_jsonw_raw(vx_jsonw *w, const char *json, size_t len)
{
    before_value(w);
    vx_buf_append(w->out, json, len);
}

void vx_jsonw_float_array(vx_jsonw *w, const float *v, size_t n)
{
    vx_jsonw_begin_array(w);
    for (size_t i = 0; i < n; i++)
        vx_jsonw_float(w, v[i]);
    vx_jsonw_end_array(w);
}

void vx_jsonw_value(vx_jsonw *w, const vx_value *v)
{
    if (!v) {
        vx_jsonw_null(w);
        return;
    }
    switch (v->type) {
    case VX_VAL_NULL: vx_jsonw_null(w); break;
    case VX_VAL_BOOL: vx_jsonw_bool(w, v->u.b); break;
    case VX_VAL_INT: vx_jsonw_int(w, v->u.i); break;
    case VX_VAL_DOUBLE: vx_jsonw_double(w, v->u.d); break;
    case VX_VAL_STRING: vx_jsonw_string_n(w, v->u.str.ptr, v->u.str.len); break;
    case VX_VAL_ARRAY:
        vx_jsonw_begin_array(w);
        for (uint32_t i = 0; i < v->u.arr.n; i++)
            vx_jsonw_value(w, &v->u.arr.items[i]);
        vx_jsonw_end_array(w);
        break;
    case VX_VAL_OBJECT:
        vx_jsonw_begin_object(w);
        for (uint32_t i = 0; i < v->u.obj.n; i++) {
            const vx_member *m = &v->u.obj.items[i];
            if (w->need_comma[w->depth])
                vx_buf_putc(w->out, ',');
            w->need_comma[w->depth] = true;
            vx_json_escape(w->out, m->key, m->key_len);
            vx_buf_putc(w->out, ':');
            w->after_key = true;
            vx_jsonw_value(w, &m->value);
        }
        vx_jsonw_end_object(w);
        break;
    default: vx_jsonw_null(w); break;
    }
}
