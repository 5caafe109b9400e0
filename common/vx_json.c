/*
 * vx_json.c — JSON text <-> vx_value (see vx_json.h).
 *
 * Parsing is a strict RFC 8259 recursive-descent parser written for the
 * gateway's hot path (a search body is ~400 numbers, an upsert batch up to
 * ~400 000): it builds the vx_value tree directly in the caller's arena,
 * with no allocation per node (children are collected on one scratch stack
 * per parse and copied into the arena when their container closes). It
 * replaced jansson here, whose per-number malloc and locale-aware strtod
 * cost ~0.7 µs per number — 260 µs per search request, 190 ms per batch of
 * 1000 vectors (docs/BENCHMARKS.md).
 *
 * Numbers: integers that fit int64 become VX_VAL_INT; anything else is a
 * double: Clinger's exact fast path (≤ 19 significant digits, mantissa
 * ≤ 2^53, |exponent| ≤ 22: one IEEE multiplication or division, correctly
 * rounded) and strtod otherwise. Infinite results (1e400) are errors;
 * underflow to 0 is accepted, as jansson did.
 * Invariants: recursion depth ≤ VX_VALUE_MAX_DEPTH (checked before
 * descending, so hostile nesting cannot exhaust a small thread stack);
 * strings are validated UTF-8 (no overlongs, no surrogates), escapes decoded,
 * \u0000 allowed in values but not in keys; duplicate keys rejected.
 * Writing uses the vx_jsonw streaming writer.
 */
#include "vx_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_jsonw.h"

typedef struct jparse {
    const char *text, *p, *end;
    vx_arena *a;
    vx_member *stk; /* children of the open containers (arrays use .value) */
    size_t n, cap;
    char *err;
    size_t err_len;
} jparse;

/* Formats "invalid JSON at line L, column C (byte B): msg" for position at. */
static int fail_at(jparse *j, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(jparse *j, const char *at, const char *fmt, ...)
{
    if (!j->err || !j->err_len)
        return VX_ERR_INVALID;
    if (at > j->end)
        at = j->end;
    int line = 1, col = 1;
    for (const char *q = j->text; q < at; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            col++; /* columns count characters, not continuation bytes */
        }
    }
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(j->err, j->err_len, "invalid JSON at line %d, column %d (byte %zu): %s", line, col,
             (size_t)(at - j->text), msg);
    return VX_ERR_INVALID;
}

static int fail_unexpected(jparse *j, const char *expected)
{
    if (j->p >= j->end)
        return fail_at(j, j->p, "%s expected, found the end of the text", expected);
    unsigned char c = (unsigned char)*j->p;
    if (c >= 0x20 && c < 0x7F)
        return fail_at(j, j->p, "%s expected, found '%c'", expected, c);
    return fail_at(j, j->p, "%s expected, found byte 0x%02X", expected, c);
}

static void skip_ws(jparse *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int push(jparse *j, const vx_member *m)
{
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 256;
        vx_member *s = realloc(j->stk, cap * sizeof(*s));
        if (!s)
            return VX_ERR_NOMEM;
        j->stk = s;
        j->cap = cap;
    }
    j->stk[j->n++] = *m;
    return VX_OK;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    unsigned cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at j->p (on the opening quote) → arena copy, NUL-terminated. */
static int parse_string(jparse *j, const char **out, uint32_t *out_len)
{
    const char *start = ++j->p;
    const char *q = start;
    bool escapes = false;
    /* pass 1: find the closing quote, validating UTF-8 and control bytes */
    for (;;) {
        if (q >= j->end)
            return fail_at(j, q, "unterminated string");
        unsigned char c = (unsigned char)*q;
        if (c == '"')
            break;
        if (c == '\\') {
            escapes = true;
            q += 2;
            continue;
        }
        if (c < 0x20)
            return fail_at(j, q, "control character 0x%02X in a string (escape it)", c);
        if (c < 0x80) {
            q++;
            continue;
        }
        size_t n = utf8_seq((const unsigned char *)q, (const unsigned char *)j->end);
        if (!n)
            return fail_at(j, q, "invalid UTF-8 in a string");
        q += n;
    }
    size_t raw = (size_t)(q - start);
    if (raw > UINT32_MAX)
        return fail_at(j, start, "string too long");
    j->p = q + 1;
    if (!escapes) {
        *out = vx_arena_strndup(j->a, start, raw);
        *out_len = (uint32_t)raw;
        return VX_OK;
    }
    /* pass 2: decode escapes (the result is never longer than the source) */
    char *o = vx_arena_alloc(j->a, raw + 1), *w = o;
    for (const char *s = start; s < q;) {
        if (*s != '\\') {
            *w++ = *s++;
            continue;
        }
        char e = s[1];
        const char *esc = s;
        s += 2;
        switch (e) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '/': *w++ = '/'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (q - s < 4 || hex4(s, &cp))
                return fail_at(j, esc, "invalid \\u escape");
            s += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail_at(j, esc, "invalid Unicode escape (lone low surrogate)");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (q - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) || lo < 0xDC00 ||
                    lo > 0xDFFF)
                    return fail_at(j, esc, "invalid Unicode escape (unpaired surrogate)");
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            w += put_utf8(w, cp);
            break;
        }
        default: return fail_at(j, esc, "invalid escape in a string");
        }
    }
    *w = '\0';
    *out = o;
    *out_len = (uint32_t)(w - o);
    return VX_OK;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Copies number text [s, s+n) NUL-terminated into local (64 bytes) or the
 * heap; NULL when out of memory. Free with free_text. */
static char *number_text(const char *s, size_t n, char *local)
{
    char *buf = n < 64 ? local : malloc(n + 1);
    if (buf) {
        memcpy(buf, s, n);
        buf[n] = '\0';
    }
    return buf;
}

static void free_text(char *buf, const char *local)
{
    if (buf != local)
        free(buf);
}

/* Stores a DOUBLE parsed from text [s, s+n). When d is a float32 rounding
 * midpoint, strtof (one correct rounding of the decimal) tells which side of
 * it the text lay on (vx_value.h, f32_side). */
static int set_double(const char *s, size_t n, double d, vx_value *out)
{
    out->type = VX_VAL_DOUBLE;
    out->u.d = d;
    out->f32_side = 0;
    if (vx_is_f32_midpoint(d)) {
        char local[64], *buf = number_text(s, n, local);
        if (!buf)
            return VX_ERR_NOMEM;
        out->f32_side = (double)strtof(buf, NULL) > d ? 1 : -1;
        free_text(buf, local);
    }
    return VX_OK;
}

static int parse_number(jparse *j, vx_value *out)
{
    const char *s = j->p, *q = s;
    bool neg = false, is_int = true;
    uint64_t mant = 0;
    int digits = 0, dexp = 0; /* value = mant * 10^dexp while digits <= 19 */
    if (*q == '-') {
        neg = true;
        q++;
    }
    if (q >= j->end || *q < '0' || *q > '9')
        return fail_at(j, s, "invalid number");
    if (*q == '0') {
        q++;
        if (q < j->end && *q >= '0' && *q <= '9')
            return fail_at(j, s, "invalid number (leading zero)");
    } else {
        while (q < j->end && *q >= '0' && *q <= '9') {
            if (digits < 19)
                mant = mant * 10 + (uint64_t)(*q - '0');
            else
                dexp++;
            digits++;
            q++;
        }
    }
    if (q < j->end && *q == '.') {
        is_int = false;
        q++;
        if (q >= j->end || *q < '0' || *q > '9')
            return fail_at(j, s, "invalid number (digits expected after '.')");
        while (q < j->end && *q >= '0' && *q <= '9') {
            if (mant == 0 && *q == '0') {
                dexp--; /* leading zero: not significant */
            } else if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*q - '0');
                dexp--;
                digits++;
            } else {
                digits++; /* beyond 19 digits: not exact, strtod decides */
            }
            q++;
        }
    }
    if (q < j->end && (*q == 'e' || *q == 'E')) {
        is_int = false;
        q++;
        bool eneg = false;
        if (q < j->end && (*q == '+' || *q == '-'))
            eneg = *q++ == '-';
        if (q >= j->end || *q < '0' || *q > '9')
            return fail_at(j, s, "invalid number (digits expected in the exponent)");
        int e = 0;
        while (q < j->end && *q >= '0' && *q <= '9') {
            if (e < 100000)
                e = e * 10 + (*q - '0');
            q++;
        }
        dexp += eneg ? -e : e;
    }
    j->p = q;
    if (is_int && digits <= 18) {
        out->type = VX_VAL_INT;
        out->u.i = neg ? -(int64_t)mant : (int64_t)mant;
        return VX_OK;
    }
    size_t n = (size_t)(q - s);
    if (digits <= 19 && mant <= (1ull << 53) && dexp >= -22 && dexp <= 22) {
        double d = (double)mant;
        d = dexp < 0 ? d / pow10_exact[-dexp] : d * pow10_exact[dexp];
        return set_double(s, n, neg ? -d : d, out);
    }
    /* slow path: strtod on a NUL-terminated copy */
    char local[64], *buf = number_text(s, n, local);
    if (!buf)
        return VX_ERR_NOMEM;
    if (is_int) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            free_text(buf, local);
            out->type = VX_VAL_INT;
            out->u.i = v;
            return VX_OK;
        }
    }
    double d = strtod(buf, NULL);
    free_text(buf, local);
    if (isinf(d))
        return fail_at(j, s, "number out of range");
    return set_double(s, n, d, out);
}

static int key_cmp(const void *x, const void *y)
{
    const vx_member *a = *(const vx_member *const *)x, *b = *(const vx_member *const *)y;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return memcmp(a->key, b->key, a->key_len);
}

/* Members base..j->n of the object being closed: any key twice? */
static int check_duplicates(jparse *j, size_t base, const char *obj_start)
{
    size_t n = j->n - base;
    if (n < 2)
        return VX_OK; /* (and j->stk may still be NULL: no pointer arithmetic on it) */
    const vx_member *m = j->stk + base;
    const vx_member *dup = NULL;
    if (n <= 16) {
        for (size_t x = 1; x < n && !dup; x++)
            for (size_t y = 0; y < x && !dup; y++)
                if (m[x].key_len == m[y].key_len && memcmp(m[x].key, m[y].key, m[x].key_len) == 0)
                    dup = &m[x];
    } else {
        const vx_member **idx = malloc(n * sizeof(*idx));
        if (!idx)
            return VX_ERR_NOMEM;
        for (size_t x = 0; x < n; x++)
            idx[x] = &m[x];
        qsort(idx, n, sizeof(*idx), key_cmp);
        for (size_t x = 1; x < n && !dup; x++)
            if (key_cmp(&idx[x - 1], &idx[x]) == 0)
                dup = idx[x];
        free(idx);
    }
    if (dup)
        return fail_at(j, obj_start, "duplicate object key \"%.*s\"",
                       (int)(dup->key_len > 64 ? 64 : dup->key_len), dup->key);
    return VX_OK;
}

static int parse_value(jparse *j, vx_value *out, int depth)
{
    if (depth > VX_VALUE_MAX_DEPTH)
        return fail_at(j, j->p, "nesting deeper than %d levels", VX_VALUE_MAX_DEPTH);
    skip_ws(j);
    if (j->p >= j->end)
        return fail_unexpected(j, "a value");
    const char *start = j->p;
    int rc;
    switch (*j->p) {
    case '{': {
        size_t base = j->n;
        j->p++;
        skip_ws(j);
        if (j->p < j->end && *j->p == '}') {
            j->p++;
        } else {
            for (;;) {
                skip_ws(j);
                if (j->p >= j->end || *j->p != '"')
                    return fail_unexpected(j, "a string key");
                vx_member m;
                const char *kat = j->p;
                if ((rc = parse_string(j, &m.key, &m.key_len)))
                    return rc;
                if (memchr(m.key, 0, m.key_len))
                    return fail_at(j, kat, "object key contains NUL");
                skip_ws(j);
                if (j->p >= j->end || *j->p != ':')
                    return fail_unexpected(j, "':'");
                j->p++;
                if ((rc = parse_value(j, &m.value, depth + 1)) || (rc = push(j, &m)))
                    return rc;
                skip_ws(j);
                if (j->p < j->end && *j->p == ',') {
                    j->p++;
                    continue;
                }
                if (j->p < j->end && *j->p == '}') {
                    j->p++;
                    break;
                }
                return fail_unexpected(j, "',' or '}'");
            }
        }
        size_t n = j->n - base;
        if (n > UINT32_MAX)
            return fail_at(j, start, "object too large");
        if ((rc = check_duplicates(j, base, start)))
            return rc;
        out->type = VX_VAL_OBJECT;
        out->u.obj.n = (uint32_t)n;
        out->u.obj.items = NULL;
        if (n) {
            out->u.obj.items = vx_arena_alloc(j->a, n * sizeof(vx_member));
            memcpy(out->u.obj.items, j->stk + base, n * sizeof(vx_member));
        }
        j->n = base;
        return VX_OK;
    }
    case '[': {
        size_t base = j->n;
        j->p++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ']') {
            j->p++;
        } else {
            for (;;) {
                vx_member m = {0};
                if ((rc = parse_value(j, &m.value, depth + 1)) || (rc = push(j, &m)))
                    return rc;
                skip_ws(j);
                if (j->p < j->end && *j->p == ',') {
                    j->p++;
                    continue;
                }
                if (j->p < j->end && *j->p == ']') {
                    j->p++;
                    break;
                }
                return fail_unexpected(j, "',' or ']'");
            }
        }
        size_t n = j->n - base;
        if (n > UINT32_MAX)
            return fail_at(j, start, "array too large");
        out->type = VX_VAL_ARRAY;
        out->u.arr.n = (uint32_t)n;
        out->u.arr.items = NULL;
        if (n) {
            out->u.arr.items = vx_arena_alloc(j->a, n * sizeof(vx_value));
            for (size_t i = 0; i < n; i++)
                out->u.arr.items[i] = j->stk[base + i].value;
        }
        j->n = base;
        return VX_OK;
    }
    case '"':
        out->type = VX_VAL_STRING;
        return parse_string(j, &out->u.str.ptr, &out->u.str.len);
    case 't':
    case 'f':
    case 'n': {
        static const char *const lit[] = {"true", "false", "null"};
        int k = *j->p == 't' ? 0 : *j->p == 'f' ? 1 : 2;
        size_t len = strlen(lit[k]);
        if ((size_t)(j->end - j->p) < len || memcmp(j->p, lit[k], len) != 0)
            return fail_unexpected(j, "a value");
        j->p += len;
        out->type = k == 2 ? VX_VAL_NULL : VX_VAL_BOOL;
        out->u.b = k == 0;
        return VX_OK;
    }
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return parse_number(j, out);
        return fail_unexpected(j, "a value");
    }
}

int vx_json_parse(const char *text, size_t len, vx_arena *a, vx_value *out, char *err,
                  size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (err && err_len)
        err[0] = '\0';
    jparse j = {.text = text, .p = text, .end = text + len, .a = a, .err = err, .err_len = err_len};
    int rc = parse_value(&j, out, 1);
    if (!rc) {
        skip_ws(&j);
        if (j.p < j.end)
            rc = fail_unexpected(&j, "the end of the text");
    }
    free(j.stk);
    if (rc) {
        if (rc == VX_ERR_NOMEM && err && err_len)
            snprintf(err, err_len, "out of memory while parsing JSON");
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

void vx_json_write(const vx_value *v, vx_buf *out)
{
    vx_jsonw w;
    vx_jsonw_init(&w, out);
    vx_jsonw_value(&w, v);
}
