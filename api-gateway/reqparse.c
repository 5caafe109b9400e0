/*
 * reqparse.c — boundary validation of gateway requests (see reqparse.h).
 *
 * Every number limit comes from vx_proto.h; messages name the field with
 * its JSON path so a client can find the mistake.
 */
#include "reqparse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_utf8.h"

static int fail(int code, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int code, char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int decode(const char *s, size_t len, bool plus_space, vx_arena *a, char **out,
                  size_t *out_len)
{
    char *d = vx_arena_alloc(a, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return VX_ERR_INVALID;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return VX_ERR_INVALID;
            d[n++] = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_space) {
            d[n++] = ' ';
        } else {
            d[n++] = (char)c;
        }
    }
    d[n] = '\0';
    *out = d;
    if (out_len)
        *out_len = n;
    return VX_OK;
}

int rq_percent_decode(const char *s, size_t len, vx_arena *a, char **out, size_t *out_len)
{
    return decode(s, len, false, a, out, out_len);
}

int rq_check_id(const char *id, size_t len, const char *field, char *err, size_t err_len)
{
    if (len == 0)
        return fail(VX_ERR_INVALID, err, err_len, "%s: must not be empty", field);
    if (len > VX_MAX_ID_LEN)
        return fail(VX_ERR_LIMIT, err, err_len, "%s: longer than %d bytes", field, VX_MAX_ID_LEN);
    if (memchr(id, 0, len))
        return fail(VX_ERR_INVALID, err, err_len, "%s: must not contain NUL", field);
    if (!vx_utf8_valid(id, len))
        return fail(VX_ERR_INVALID, err, err_len, "%s: is not valid UTF-8", field);
    return VX_OK;
}

int rq_check_name(const char *name, char *err, size_t err_len)
{
    size_t n = strlen(name);
    if (n == 0 || n > VX_MAX_NAME_LEN)
        return fail(VX_ERR_INVALID, err, err_len, "name: must be 1..%d characters",
                    VX_MAX_NAME_LEN);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return fail(VX_ERR_INVALID, err, err_len,
                        "name: only [A-Za-z0-9_-] are allowed (1..%d characters)",
                        VX_MAX_NAME_LEN);
    }
    return VX_OK;
}

int rq_query_get(const char *query, const char *key, vx_arena *a, const char **out)
{
    *out = NULL;
    if (!query)
        return VX_ERR_NOT_FOUND;
    size_t klen = strlen(key);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t nlen = eq ? (size_t)(eq - p) : plen;
        if (nlen == klen && memcmp(p, key, klen) == 0) {
            char *v;
            size_t n;
            const char *vs = eq ? eq + 1 : p + plen;
            size_t vlen = eq ? plen - nlen - 1 : 0;
            if (decode(vs, vlen, true, a, &v, &n) || memchr(v, 0, n)) /* %00 */
                return VX_ERR_INVALID;
            *out = v;
            return VX_OK;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return VX_ERR_NOT_FOUND;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1000000000000ull)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

int rq_query_uint(const char *query, const char *key, uint32_t min, uint32_t max, uint32_t def,
                  vx_arena *a, uint32_t *out, char *err, size_t err_len)
{
    const char *s;
    int rc = rq_query_get(query, key, a, &s);
    if (rc == VX_ERR_NOT_FOUND) {
        *out = def;
        return VX_OK;
    }
    uint64_t v;
    if (rc || !parse_u64(s, &v))
        return fail(VX_ERR_INVALID, err, err_len, "%s: must be an integer in %u..%u", key, min,
                    max);
    if (v < min || v > max) /* above a maximum is a limit (PROTOCOL.md §7) */
        return fail(v > max ? VX_ERR_LIMIT : VX_ERR_INVALID, err, err_len, "%s: must be in %u..%u",
                    key, min, max);
    *out = (uint32_t)v;
    return VX_OK;
}

int rq_require_object(const vx_value *body, char *err, size_t err_len)
{
    if (!body || body->type != VX_VAL_OBJECT)
        return fail(VX_ERR_INVALID, err, err_len, "body: must be a JSON object");
    return VX_OK;
}

int rq_get_uint(const vx_value *obj, const char *key, const char *field, uint32_t min,
                uint32_t max, uint32_t def, bool required, uint32_t *out, char *err,
                size_t err_len)
{
    const vx_value *v = vx_value_get(obj, key);
    if (!v || (v->type == VX_VAL_NULL && !required)) {
        if (required)
            return fail(VX_ERR_INVALID, err, err_len, "%s: is required", field);
        *out = def;
        return VX_OK;
    }
    int64_t i;
    if (v->type == VX_VAL_INT)
        i = v->u.i;
    else if (v->type == VX_VAL_DOUBLE && v->u.d == floor(v->u.d)) /* 3.0, 1e30 */
        i = v->u.d > 9e15 ? INT64_MAX : v->u.d < -9e15 ? INT64_MIN : (int64_t)v->u.d;
    else
        return fail(VX_ERR_INVALID, err, err_len, "%s: must be an integer", field);
    if (i < (int64_t)min || i > (int64_t)max) /* above a maximum is a limit (PROTOCOL.md §7) */
        return fail(i > (int64_t)max ? VX_ERR_LIMIT : VX_ERR_INVALID, err, err_len,
                    "%s: must be in %u..%u", field, min, max);
    *out = (uint32_t)i;
    return VX_OK;
}

int rq_get_bool(const vx_value *obj, const char *key, const char *field, bool def, bool *out,
                char *err, size_t err_len)
{
    const vx_value *v = vx_value_get(obj, key);
    if (!v || v->type == VX_VAL_NULL) {
        *out = def;
        return VX_OK;
    }
    if (v->type != VX_VAL_BOOL)
        return fail(VX_ERR_INVALID, err, err_len, "%s: must be true or false", field);
    *out = v->u.b;
    return VX_OK;
}

int rq_get_string(const vx_value *obj, const char *key, const char *field, size_t max_len,
                  bool required, const char **out, char *err, size_t err_len)
{
    const vx_value *v = vx_value_get(obj, key);
    *out = NULL;
    if (!v || v->type == VX_VAL_NULL) {
        if (required)
            return fail(VX_ERR_INVALID, err, err_len, "%s: is required", field);
        return VX_OK;
    }
    if (v->type != VX_VAL_STRING)
        return fail(VX_ERR_INVALID, err, err_len, "%s: must be a string", field);
    if (v->u.str.len == 0)
        return fail(VX_ERR_INVALID, err, err_len, "%s: must not be empty", field);
    if (v->u.str.len > max_len)
        return fail(VX_ERR_LIMIT, err, err_len, "%s: longer than %zu bytes", field, max_len);
    if (memchr(v->u.str.ptr, 0, v->u.str.len))
        return fail(VX_ERR_INVALID, err, err_len, "%s: must not contain NUL", field);
    *out = v->u.str.ptr;
    return VX_OK;
}

int rq_vector(const vx_value *v, const char *field, uint32_t expect_dim, vx_arena *a,
              float **out, uint32_t *dim, char *err, size_t err_len)
{
    if (!v || v->type != VX_VAL_ARRAY)
        return fail(VX_ERR_INVALID, err, err_len, "%s: must be an array of numbers", field);
    uint32_t n = v->u.arr.n;
    if (n == 0 || n > VX_MAX_DIM)
        return fail(n ? VX_ERR_LIMIT : VX_ERR_INVALID, err, err_len,
                    "%s: dimension must be 1..%d (got %u)", field, VX_MAX_DIM, n);
    if (expect_dim && n != expect_dim)
        return fail(VX_ERR_INVALID, err, err_len, "%s: dimension %u, expected %u", field, n,
                    expect_dim);
    float *f = vx_arena_alloc(a, n * sizeof(float));
    for (uint32_t i = 0; i < n; i++) {
        float x;
        if (!vx_value_as_float(&v->u.arr.items[i], &x))
            return fail(VX_ERR_INVALID, err, err_len, "%s[%u]: must be a number", field, i);
        if (!isfinite(x))
            return fail(VX_ERR_INVALID, err, err_len, "%s[%u]: not a finite float32", field, i);
        f[i] = x;
    }
    *out = f;
    *dim = n;
    return VX_OK;
}

int rq_parse_points(const vx_value *body, vx_arena *a, rq_points *out, char *err, size_t err_len)
{
    char field[64];
    memset(out, 0, sizeof(*out));
    int rc = rq_require_object(body, err, err_len);
    if (rc)
        return rc;
    const vx_value *pts = vx_value_get(body, "points");
    if (!pts || pts->type != VX_VAL_ARRAY)
        return fail(VX_ERR_INVALID, err, err_len, "points: must be an array of points");
    uint32_t n = pts->u.arr.n;
    if (n == 0)
        return fail(VX_ERR_INVALID, err, err_len, "points: must not be empty");
    if (n > VX_MAX_BATCH)
        return fail(VX_ERR_LIMIT, err, err_len, "points: at most %d per request (got %u)",
                    VX_MAX_BATCH, n);
    out->points = vx_arena_alloc(a, n * sizeof(vx_point));
    out->texts = vx_arena_alloc(a, n * sizeof(char *));
    for (uint32_t i = 0; i < n; i++) {
        const vx_value *p = &pts->u.arr.items[i];
        vx_point *pt = &out->points[i];
        if (p->type != VX_VAL_OBJECT)
            return fail(VX_ERR_INVALID, err, err_len, "points[%u]: must be an object", i);
        const vx_value *id = vx_value_get(p, "id");
        snprintf(field, sizeof(field), "points[%u].id", i);
        if (!id || id->type == VX_VAL_NULL)
            return fail(VX_ERR_INVALID, err, err_len, "%s: is required", field);
        if (id->type != VX_VAL_STRING)
            return fail(VX_ERR_INVALID, err, err_len, "%s: must be a string", field);
        if ((rc = rq_check_id(id->u.str.ptr, id->u.str.len, field, err, err_len)))
            return rc;
        pt->id = id->u.str.ptr;
        const vx_value *vec = vx_value_get(p, "vector");
        const vx_value *text = vx_value_get(p, "text");
        if (vec && vec->type == VX_VAL_NULL)
            vec = NULL;
        if (text && text->type == VX_VAL_NULL)
            text = NULL;
        if (vec && text)
            return fail(VX_ERR_INVALID, err, err_len,
                        "points[%u]: give either vector or text, not both", i);
        if (!vec && !text)
            return fail(VX_ERR_INVALID, err, err_len, "points[%u]: vector or text is required",
                        i);
        if (vec) {
            float *f;
            snprintf(field, sizeof(field), "points[%u].vector", i);
            /* each against the collection's dimension, in the store, so the
             * error names the point that differs from it (not from points[0]) */
            if ((rc = rq_vector(vec, field, 0, a, &f, &pt->dim, err, err_len)))
                return rc;
            pt->vector = f;
        } else {
            snprintf(field, sizeof(field), "points[%u].text", i);
            if ((rc = rq_get_string(p, "text", field, VX_MAX_TEXT_LEN, true, &out->texts[i], err,
                                    err_len)))
                return rc;
            out->n_text++;
        }
        const vx_value *md = vx_value_get(p, "metadata");
        if (md && md->type != VX_VAL_NULL) {
            if (md->type != VX_VAL_OBJECT)
                return fail(VX_ERR_INVALID, err, err_len, "points[%u].metadata: must be an object",
                            i);
            vx_buf packed = VX_BUF_INIT;
            vx_value_pack(md, &packed);
            size_t plen = packed.len;
            vx_buf_free(&packed);
            if (plen > VX_MAX_METADATA_BYTES)
                return fail(VX_ERR_LIMIT, err, err_len,
                            "points[%u].metadata: larger than %d bytes", i,
                            VX_MAX_METADATA_BYTES);
            pt->metadata = md;
        }
    }
    out->n = n;
    return VX_OK;
}

int rq_parse_search(const vx_value *body, vx_arena *a, vx_search_req *req, const char **text,
                    char *err, size_t err_len)
{
    int rc = rq_require_object(body, err, err_len);
    if (rc)
        return rc;
    memset(req, 0, sizeof(*req));
    *text = NULL;
    const vx_value *vec = vx_value_get(body, "vector");
    if (vec && vec->type == VX_VAL_NULL)
        vec = NULL;
    if ((rc = rq_get_string(body, "text", "text", VX_MAX_TEXT_LEN, false, text, err, err_len)))
        return rc;
    if (vec && *text)
        return fail(VX_ERR_INVALID, err, err_len, "vector/text: give one of them, not both");
    if (!vec && !*text)
        return fail(VX_ERR_INVALID, err, err_len, "vector: vector or text is required");
    if (vec) {
        float *f;
        if ((rc = rq_vector(vec, "vector", 0, a, &f, &req->dim, err, err_len)))
            return rc;
        req->vector = f;
    }
    if ((rc = rq_get_uint(body, "k", "k", 1, VX_MAX_K, 10, false, &req->k, err, err_len)))
        return rc;
    const vx_value *ef = vx_value_get(body, "ef");
    if (ef && ef->type != VX_VAL_NULL &&
        (rc = rq_get_uint(body, "ef", "ef", VX_HNSW_EF_MIN, VX_HNSW_EF_MAX, 0, false, &req->ef,
                          err, err_len)))
        return rc;
    if ((rc = rq_get_bool(body, "exact", "exact", false, &req->exact, err, err_len)) ||
        (rc = rq_get_bool(body, "with_vector", "with_vector", false, &req->with_vector, err,
                          err_len)) ||
        (rc = rq_get_bool(body, "with_metadata", "with_metadata", true, &req->with_metadata, err,
                          err_len)))
        return rc;
    const vx_value *f = vx_value_get(body, "filter");
    if (f && f->type != VX_VAL_NULL) {
        if (f->type != VX_VAL_OBJECT)
            return fail(VX_ERR_INVALID, err, err_len, "filter: must be an object");
        req->filter = f;
    }
    return VX_OK;
}

int rq_parse_coll_create(const vx_value *body, vx_coll_config *cfg, char *err, size_t err_len)
{
    int rc = rq_require_object(body, err, err_len);
    if (rc)
        return rc;
    memset(cfg, 0, sizeof(*cfg));
    if ((rc = rq_get_uint(body, "dimension", "dimension", 1, VX_MAX_DIM, 0, true, &cfg->dimension,
                          err, err_len)))
        return rc;
    const char *metric = NULL;
    if ((rc = rq_get_string(body, "metric", "metric", 16, false, &metric, err, err_len)))
        return rc;
    cfg->metric = VX_METRIC_COSINE;
    if (metric && vx_metric_parse(metric, &cfg->metric) != VX_OK)
        return fail(VX_ERR_INVALID, err, err_len, "metric: must be cosine, dot or l2");
    cfg->index.type = VX_INDEX_HNSW;
    cfg->index.m = VX_HNSW_M_DEFAULT;
    cfg->index.ef_construction = VX_HNSW_EFC_DEFAULT;
    const vx_value *ix = vx_value_get(body, "index");
    if (ix && ix->type != VX_VAL_NULL) {
        if (ix->type != VX_VAL_OBJECT)
            return fail(VX_ERR_INVALID, err, err_len, "index: must be an object");
        const char *type = NULL;
        if ((rc = rq_get_string(ix, "type", "index.type", 16, false, &type, err, err_len)))
            return rc;
        if (type && vx_index_type_parse(type, &cfg->index.type) != VX_OK)
            return fail(VX_ERR_INVALID, err, err_len, "index.type: must be hnsw or flat");
        if ((rc = rq_get_uint(ix, "m", "index.m", VX_HNSW_M_MIN, VX_HNSW_M_MAX, VX_HNSW_M_DEFAULT,
                              false, &cfg->index.m, err, err_len)) ||
            (rc = rq_get_uint(ix, "ef_construction", "index.ef_construction", VX_HNSW_EFC_MIN,
                              VX_HNSW_EFC_MAX, VX_HNSW_EFC_DEFAULT, false,
                              &cfg->index.ef_construction, err, err_len)))
            return rc;
    }
    return rq_get_string(body, "model", "model", VX_MAX_MODEL_LEN, false, &cfg->model, err,
                         err_len);
}

int rq_parse_delete(const vx_value *body, vx_arena *a, vx_delete_req *req, char *err,
                    size_t err_len)
{
    int rc = rq_require_object(body, err, err_len);
    if (rc)
        return rc;
    memset(req, 0, sizeof(*req));
    const vx_value *ids = vx_value_get(body, "ids");
    const vx_value *f = vx_value_get(body, "filter");
    if (ids && ids->type == VX_VAL_NULL)
        ids = NULL;
    if (f && f->type == VX_VAL_NULL)
        f = NULL;
    if (!ids == !f)
        return fail(VX_ERR_INVALID, err, err_len, "ids/filter: give exactly one of them");
    if (f) {
        if (f->type != VX_VAL_OBJECT)
            return fail(VX_ERR_INVALID, err, err_len, "filter: must be an object");
        req->filter = f;
        return VX_OK;
    }
    if (ids->type != VX_VAL_ARRAY)
        return fail(VX_ERR_INVALID, err, err_len, "ids: must be an array of strings");
    if (ids->u.arr.n > VX_MAX_BATCH)
        return fail(VX_ERR_LIMIT, err, err_len, "ids: at most %d per request", VX_MAX_BATCH);
    req->ids = vx_arena_alloc(a, (ids->u.arr.n + 1) * sizeof(char *));
    for (uint32_t i = 0; i < ids->u.arr.n; i++) {
        const vx_value *id = &ids->u.arr.items[i];
        char field[32];
        snprintf(field, sizeof(field), "ids[%u]", i);
        if (id->type != VX_VAL_STRING)
            return fail(VX_ERR_INVALID, err, err_len, "%s: must be a string", field);
        if ((rc = rq_check_id(id->u.str.ptr, id->u.str.len, field, err, err_len)))
            return rc;
        req->ids[i] = id->u.str.ptr;
    }
    req->n_ids = ids->u.arr.n;
    return VX_OK;
}
