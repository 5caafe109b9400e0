/*
 * vx_proto.c — names of message types, metrics and index types, and the
 * semantic checks (limits, name syntax, finite vectors, values that JSON can
 * carry: UTF-8 strings, finite numbers, unique keys; metadata size) that
 * vx_proto_enc.c applies before encoding and vx_proto_dec.c after decoding.
 * The checks only read the message; error text names the field path
 * ("points[3].vector[17] is not finite").
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_msgpack.h"
#include "vx_proto.h"
#include "vx_proto_internal.h"
#include "vx_utf8.h"

const char *vx_msg_name(int type)
{
    switch (type) {
#define VX_MSG_NAME_(name, code, wire) \
    case code: return wire;
        VX_MSG_MAP(VX_MSG_NAME_)
#undef VX_MSG_NAME_
    default: return NULL;
    }
}

static const char *const metric_names[] = {"cosine", "dot", "l2"};
static const char *const index_names[] = {"flat", "hnsw"};

const char *vx_metric_name(vx_metric m)
{
    return (unsigned)m < 3 ? metric_names[m] : NULL;
}

int vx_metric_parse(const char *s, vx_metric *out)
{
    for (unsigned i = 0; s && i < 3; i++)
        if (strcmp(s, metric_names[i]) == 0) {
            *out = (vx_metric)i;
            return VX_OK;
        }
    return VX_ERR_INVALID;
}

const char *vx_index_type_name(vx_index_type t)
{
    return (unsigned)t < 2 ? index_names[t] : NULL;
}

int vx_index_type_parse(const char *s, vx_index_type *out)
{
    for (unsigned i = 0; s && i < 2; i++)
        if (strcmp(s, index_names[i]) == 0) {
            *out = (vx_index_type)i;
            return VX_OK;
        }
    return VX_ERR_INVALID;
}

void vxp_set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ---- field checks; pfx is the path up to the field, e.g. "points[3]." ---- */

typedef struct chk {
    char *err;
    size_t err_len;
    /* Values must also be what JSON can carry (UTF-8, finite, unique keys):
     * true for requests, where data enters; false for replies (they carry
     * stored data, which the gateway renders safely) and for WAL records
     * written before the check existed. */
    bool strict_values;
} chk;

#define FAIL(c, code, ...)                                                                         \
    do {                                                                                           \
        vxp_set_err((c)->err, (c)->err_len, __VA_ARGS__);                                          \
        return (code);                                                                             \
    } while (0)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ != VX_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

static int check_str(chk *c, const char *pfx, const char *f, const char *s, bool required,
                     size_t max)
{
    if (!s) {
        if (required)
            FAIL(c, VX_ERR_INVALID, "%s%s: required", pfx, f);
        return VX_OK;
    }
    size_t n = strlen(s);
    if (n == 0)
        FAIL(c, VX_ERR_INVALID, "%s%s: must not be empty", pfx, f);
    if (n > max)
        FAIL(c, VX_ERR_LIMIT, "%s%s: %zu bytes, the limit is %zu", pfx, f, n, max);
    return VX_OK;
}

static int check_name(chk *c, const char *pfx, const char *f, const char *s)
{
    TRY(check_str(c, pfx, f, s, true, VX_MAX_NAME_LEN));
    for (const char *p = s; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            FAIL(c, VX_ERR_INVALID, "%s%s: \"%s\" may contain only A-Z a-z 0-9 _ -", pfx, f, s);
    }
    return VX_OK;
}

static int check_range(chk *c, const char *pfx, const char *f, uint64_t v, uint64_t lo,
                       uint64_t hi)
{
    if (v < lo)
        FAIL(c, VX_ERR_INVALID, "%s%s: %llu is below the minimum %llu", pfx, f,
             (unsigned long long)v, (unsigned long long)lo);
    if (v > hi)
        FAIL(c, VX_ERR_LIMIT, "%s%s: %llu exceeds the limit %llu", pfx, f, (unsigned long long)v,
             (unsigned long long)hi);
    return VX_OK;
}

static int check_vec(chk *c, const char *pfx, const char *f, const float *v, uint32_t dim,
                     bool required)
{
    if (!v) {
        if (required)
            FAIL(c, VX_ERR_INVALID, "%s%s: required", pfx, f);
        return VX_OK;
    }
    if (dim == 0)
        FAIL(c, VX_ERR_INVALID, "%s%s: empty vector", pfx, f);
    if (dim > VX_MAX_DIM)
        FAIL(c, VX_ERR_LIMIT, "%s%s: dimension %u exceeds the limit %d", pfx, f, dim, VX_MAX_DIM);
    for (uint32_t i = 0; i < dim; i++)
        if (!isfinite(v[i]))
            FAIL(c, VX_ERR_INVALID, "%s%s[%u] is not finite", pfx, f, i);
    return VX_OK;
}

static bool same_key(const vx_member *x, const vx_member *y)
{
    return x->key_len == y->key_len && !memcmp(x->key, y->key, x->key_len);
}

static int member_key_cmp(const void *a, const void *b)
{
    const vx_member *x = *(const vx_member *const *)a, *y = *(const vx_member *const *)b;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return memcmp(x->key, y->key, x->key_len);
}

/* The first key of obj that occurs twice, or NULL. Pairwise for small
 * objects, by sorting pointers for large ones (metadata may hold thousands
 * of keys); *nomem on allocation failure. */
static const vx_member *duplicate_key(const vx_value *obj, bool *nomem)
{
    uint32_t n = obj->u.obj.n;
    const vx_member *items = obj->u.obj.items, *dup = NULL;
    *nomem = false;
    if (n <= 16) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++)
                if (same_key(&items[i], &items[j]))
                    return &items[i];
        return NULL;
    }
    const vx_member **sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted) {
        *nomem = true;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        sorted[i] = &items[i];
    qsort(sorted, n, sizeof *sorted, member_key_cmp);
    for (uint32_t i = 1; i < n && !dup; i++)
        if (same_key(sorted[i - 1], sorted[i]))
            dup = sorted[i];
    free(sorted);
    return dup;
}

/* What a JSON client can read back: UTF-8 strings and keys, finite numbers,
 * unique keys (a bus client could otherwise store what the gateway cannot
 * render and strict msgpack readers reject). depth: containers around v;
 * max: containers allowed. */
static int check_value_tree(chk *c, const char *pfx, const char *f, const vx_value *v, int depth,
                            int max)
{
    switch (v->type) {
    case VX_VAL_NULL:
    case VX_VAL_BOOL:
    case VX_VAL_INT: return VX_OK;
    case VX_VAL_DOUBLE:
        if (c->strict_values && !isfinite(v->u.d))
            FAIL(c, VX_ERR_INVALID, "%s%s: contains a number that is not finite", pfx, f);
        return VX_OK;
    case VX_VAL_STRING:
        if (c->strict_values && !vx_utf8_valid(v->u.str.ptr, v->u.str.len))
            FAIL(c, VX_ERR_INVALID, "%s%s: contains a string that is not valid UTF-8", pfx, f);
        return VX_OK;
    case VX_VAL_ARRAY:
    case VX_VAL_OBJECT: break;
    default: FAIL(c, VX_ERR_INVALID, "%s%s: unknown value type %d", pfx, f, (int)v->type);
    }
    if (depth >= max)
        FAIL(c, VX_ERR_INVALID, "%s%s: nesting deeper than %d levels", pfx, f, max);
    if (v->type == VX_VAL_ARRAY) {
        for (uint32_t i = 0; i < v->u.arr.n; i++)
            TRY(check_value_tree(c, pfx, f, &v->u.arr.items[i], depth + 1, max));
        return VX_OK;
    }
    for (uint32_t i = 0; i < v->u.obj.n; i++) {
        const vx_member *m = &v->u.obj.items[i];
        if (!m->key || memchr(m->key, 0, m->key_len))
            FAIL(c, VX_ERR_INVALID, "%s%s: object key missing or contains NUL", pfx, f);
        if (c->strict_values && !vx_utf8_valid(m->key, m->key_len))
            FAIL(c, VX_ERR_INVALID, "%s%s: contains a key that is not valid UTF-8", pfx, f);
        TRY(check_value_tree(c, pfx, f, &m->value, depth + 1, max));
    }
    if (!c->strict_values)
        return VX_OK;
    bool nomem;
    const vx_member *dup = duplicate_key(v, &nomem);
    if (nomem)
        FAIL(c, VX_ERR_NOMEM, "%s%s: out of memory", pfx, f);
    if (dup)
        FAIL(c, VX_ERR_INVALID, "%s%s: duplicate key \"%.*s\"", pfx, f,
             dup->key_len > 64 ? 64 : (int)dup->key_len, dup->key);
    return VX_OK;
}

/* An optional object (metadata, filter, stats); max_packed 0 = no size limit.
 * outer: msgpack containers around it in its message (envelope, body, ...):
 * the unpacker nests at most VX_MP_MAX_NESTING, so deep values lose levels. */
static int check_object(chk *c, const char *pfx, const char *f, const vx_value *v,
                        size_t max_packed, int outer)
{
    int max = VX_MP_MAX_NESTING - outer;
    if (max > VX_VALUE_MAX_DEPTH)
        max = VX_VALUE_MAX_DEPTH;
    if (!v)
        return VX_OK;
    if (v->type != VX_VAL_OBJECT)
        FAIL(c, VX_ERR_INVALID, "%s%s: must be an object", pfx, f);
    TRY(check_value_tree(c, pfx, f, v, 0, max));
    if (max_packed) {
        vx_buf b = VX_BUF_INIT;
        vx_value_pack(v, &b);
        size_t n = b.len;
        vx_buf_free(&b);
        if (n > max_packed)
            FAIL(c, VX_ERR_LIMIT, "%s%s: %zu bytes packed, the limit is %zu", pfx, f, n,
                 max_packed);
    }
    return VX_OK;
}

static int check_coll_config(chk *c, const char *pfx, const vx_coll_config *cc)
{
    TRY(check_name(c, pfx, "name", cc->name));
    TRY(check_range(c, pfx, "dimension", cc->dimension, 1, VX_MAX_DIM));
    if (!vx_metric_name(cc->metric))
        FAIL(c, VX_ERR_INVALID, "%smetric: unknown metric %d", pfx, (int)cc->metric);
    if (!vx_index_type_name(cc->index.type))
        FAIL(c, VX_ERR_INVALID, "%sindex.type: unknown index type %d", pfx, (int)cc->index.type);
    if (cc->index.type == VX_INDEX_HNSW) {
        TRY(check_range(c, pfx, "index.m", cc->index.m, VX_HNSW_M_MIN, VX_HNSW_M_MAX));
        TRY(check_range(c, pfx, "index.ef_construction", cc->index.ef_construction,
                        VX_HNSW_EFC_MIN, VX_HNSW_EFC_MAX));
    }
    return check_str(c, pfx, "model", cc->model, false, VX_MAX_MODEL_LEN);
}

static int check_point(chk *c, const char *pfx, const vx_point *p, bool vector_required, int outer)
{
    TRY(check_str(c, pfx, "id", p->id, true, VX_MAX_ID_LEN));
    TRY(check_vec(c, pfx, "vector", p->vector, p->dim, vector_required));
    return check_object(c, pfx, "metadata", p->metadata, VX_MAX_METADATA_BYTES, outer);
}

static int check_count(chk *c, const char *f, const void *items, uint32_t n, uint32_t lo,
                       uint32_t hi)
{
    TRY(check_range(c, "", f, n, lo, hi));
    if (n && !items)
        FAIL(c, VX_ERR_INVALID, "%s: %u entries but no array", f, n);
    return VX_OK;
}

static int check_ids(chk *c, const char *f, const char *const *ids, uint32_t n, uint32_t lo)
{
    TRY(check_count(c, f, ids, n, lo, VX_MAX_BATCH));
    char pfx[48];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(pfx, sizeof pfx, "%s[%u]", f, i);
        TRY(check_str(c, pfx, "", ids[i], true, VX_MAX_ID_LEN));
    }
    return VX_OK;
}

int vxp_check_request(const vx_request *m, unsigned flags, char *err, size_t err_len)
{
    chk cc = {err, err_len, !(flags & VX_PROTO_DECODE_LOGGED)}, *c = &cc;
    char pfx[48];
    if (!vx_msg_name((int)m->type))
        FAIL(c, VX_ERR_INVALID, "type: unknown message type %d", (int)m->type);
    switch (m->type) {
    case VX_MSG_HEALTH:
    case VX_MSG_COLL_LIST:
    case VX_MSG_MODELS: return VX_OK;
    case VX_MSG_COLL_CREATE: return check_coll_config(c, "", &m->body.coll_create);
    case VX_MSG_COLL_INFO:
    case VX_MSG_COLL_DELETE: return check_name(c, "", "name", m->body.coll_name.name);
    case VX_MSG_POINTS_UPSERT: {
        const vx_upsert_req *u = &m->body.upsert;
        TRY(check_name(c, "", "collection", u->collection));
        TRY(check_count(c, "points", u->points, u->n_points, 1, VX_MAX_BATCH));
        for (uint32_t i = 0; i < u->n_points; i++) {
            snprintf(pfx, sizeof pfx, "points[%u].", i);
            TRY(check_point(c, pfx, &u->points[i], true, 4));
        }
        return VX_OK;
    }
    case VX_MSG_POINTS_GET:
        TRY(check_name(c, "", "collection", m->body.get.collection));
        return check_str(c, "", "id", m->body.get.id, true, VX_MAX_ID_LEN);
    case VX_MSG_POINTS_DELETE: {
        const vx_delete_req *d = &m->body.del;
        TRY(check_name(c, "", "collection", d->collection));
        if ((d->ids != NULL) == (d->filter != NULL))
            FAIL(c, VX_ERR_INVALID, "ids, filter: exactly one of them is required");
        if (d->ids)
            return check_ids(c, "ids", d->ids, d->n_ids, 1);
        return check_object(c, "", "filter", d->filter, 0, 2);
    }
    case VX_MSG_POINTS_LIST: {
        const vx_list_req *l = &m->body.list;
        TRY(check_name(c, "", "collection", l->collection));
        TRY(check_range(c, "", "limit", l->limit, 1, VX_MAX_LIST_LIMIT));
        return check_str(c, "", "cursor", l->cursor, false, VX_MAX_CURSOR_LEN);
    }
    case VX_MSG_SEARCH: {
        const vx_search_req *s = &m->body.search;
        TRY(check_name(c, "", "collection", s->collection));
        TRY(check_vec(c, "", "vector", s->vector, s->dim, true));
        TRY(check_range(c, "", "k", s->k, 1, VX_MAX_K));
        if (s->ef != 0)
            TRY(check_range(c, "", "ef", s->ef, VX_HNSW_EF_MIN, VX_HNSW_EF_MAX));
        return check_object(c, "", "filter", s->filter, 0, 2);
    }
    case VX_MSG_EVENTS_SINCE:
        return check_range(c, "", "limit", m->body.events.limit, 1, VX_MAX_LIST_LIMIT);
    case VX_MSG_EMBED: {
        const vx_embed_req *e = &m->body.embed;
        TRY(check_str(c, "", "model", e->model, false, VX_MAX_MODEL_LEN));
        TRY(check_count(c, "texts", e->texts, e->n_texts, 1, VX_MAX_TEXTS));
        for (uint32_t i = 0; i < e->n_texts; i++) {
            if (!e->texts[i])
                FAIL(c, VX_ERR_INVALID, "texts[%u]: required", i);
            size_t n = strlen(e->texts[i]);
            if (n > VX_MAX_TEXT_LEN)
                FAIL(c, VX_ERR_LIMIT, "texts[%u]: %zu bytes, the limit is %d", i, n,
                     VX_MAX_TEXT_LEN);
            if (!vx_utf8_valid(e->texts[i], n))
                FAIL(c, VX_ERR_INVALID, "texts[%u]: not valid UTF-8", i);
        }
        return VX_OK;
    }
    case VX_MSG_MODELS_BENCH: {
        const vx_models_bench_req *r = &m->body.models_bench;
        if (r->models) {
            TRY(check_count(c, "models", r->models, r->n_models, 1, VX_MAX_LIST_LIMIT));
            for (uint32_t i = 0; i < r->n_models; i++) {
                snprintf(pfx, sizeof pfx, "models[%u]", i);
                TRY(check_str(c, pfx, "", r->models[i], true, VX_MAX_MODEL_LEN));
            }
        }
        return check_range(c, "", "repeats", r->repeats, 1, VX_MAX_BENCH_REPEATS);
    }
    }
    return VX_OK;
}

/* The measured numbers of a MODELS_BENCH entry: finite; times and rates
 * ≥ 0; mean cosines in [-1, 1] and their difference in [-2, 2] (plus a
 * rounding margin). */
static int check_model_bench(chk *c, const char *pfx, const vx_model_bench *mb)
{
    TRY(check_str(c, pfx, "id", mb->id, true, VX_MAX_MODEL_LEN));
    TRY(check_range(c, pfx, "dimensions", mb->dimensions, 0, VX_MAX_DIM));
    TRY(check_str(c, pfx, "reason", mb->reason, !mb->available, 4096));
    if (!mb->available || mb->reason)
        return VX_OK;
    const struct {
        const char *f;
        double v, lo, hi;
    } nums[] = {
        {"single_ms", mb->single_ms, 0, HUGE_VAL},   {"batch_ms", mb->batch_ms, 0, HUGE_VAL},
        {"texts_per_s", mb->texts_per_s, 0, HUGE_VAL}, {"contrast", mb->contrast, -2.001, 2.001},
        {"within", mb->within, -1.001, 1.001},       {"cross", mb->cross, -1.001, 1.001},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (!isfinite(nums[i].v))
            FAIL(c, VX_ERR_INVALID, "%s%s: not a finite number", pfx, nums[i].f);
        if (nums[i].v < nums[i].lo || nums[i].v > nums[i].hi)
            FAIL(c, VX_ERR_INVALID, "%s%s: %g is outside [%g, %g]", pfx, nums[i].f, nums[i].v,
                 nums[i].lo, nums[i].hi);
    }
    return VX_OK;
}

static int check_reply_body(chk *c, const vx_reply *m)
{
    char pfx[64];
    switch (m->type) {
    case VX_MSG_COLL_CREATE:
    case VX_MSG_COLL_INFO: return check_coll_config(c, "", &m->body.coll_info.config);
    case VX_MSG_COLL_LIST: {
        const vx_list_colls_rep *l = &m->body.coll_list;
        TRY(check_count(c, "collections", l->colls, l->n_colls, 0, UINT32_MAX));
        for (uint32_t i = 0; i < l->n_colls; i++) {
            snprintf(pfx, sizeof pfx, "collections[%u].", i);
            TRY(check_coll_config(c, pfx, &l->colls[i].config));
        }
        return VX_OK;
    }
    case VX_MSG_POINTS_UPSERT:
    case VX_MSG_POINTS_DELETE:
    case VX_MSG_COLL_DELETE:
        return check_str(c, "", "durability", m->body.write.durability, false, VX_MAX_NAME_LEN);
    case VX_MSG_POINTS_GET: return check_point(c, "", &m->body.point, false, 2);
    case VX_MSG_POINTS_LIST: {
        const vx_list_rep *l = &m->body.list;
        TRY(check_count(c, "points", l->points, l->n_points, 0, VX_MAX_LIST_LIMIT));
        for (uint32_t i = 0; i < l->n_points; i++) {
            snprintf(pfx, sizeof pfx, "points[%u].", i);
            TRY(check_point(c, pfx, &l->points[i], false, 4));
        }
        return check_str(c, "", "next_cursor", l->next_cursor, false, VX_MAX_CURSOR_LEN);
    }
    case VX_MSG_SEARCH: {
        const vx_search_rep *s = &m->body.search;
        TRY(check_count(c, "hits", s->hits, s->n_hits, 0, VX_MAX_K));
        for (uint32_t i = 0; i < s->n_hits; i++) {
            const vx_search_hit *h = &s->hits[i];
            snprintf(pfx, sizeof pfx, "hits[%u].", i);
            TRY(check_str(c, pfx, "id", h->id, true, VX_MAX_ID_LEN));
            if (!isfinite(h->score))
                FAIL(c, VX_ERR_INVALID, "%sscore: not a finite float32", pfx);
            TRY(check_vec(c, pfx, "vector", h->vector, h->dim, false));
            TRY(check_object(c, pfx, "metadata", h->metadata, VX_MAX_METADATA_BYTES, 4));
        }
        return VX_OK;
    }
    case VX_MSG_HEALTH:
        TRY(check_str(c, "", "service", m->body.health.service, true, VX_MAX_NAME_LEN));
        TRY(check_str(c, "", "version", m->body.health.version, true, VX_MAX_NAME_LEN));
        return check_object(c, "", "stats", m->body.health.stats, 0, 2);
    case VX_MSG_EVENTS_SINCE: {
        const vx_events_rep *e = &m->body.events;
        TRY(check_count(c, "events", e->events, e->n_events, 0, VX_MAX_LIST_LIMIT));
        for (uint32_t i = 0; i < e->n_events; i++) {
            const vx_event *ev = &e->events[i];
            snprintf(pfx, sizeof pfx, "events[%u].", i);
            TRY(check_name(c, pfx, "collection", ev->collection));
            TRY(check_str(c, pfx, "op", ev->op, true, VX_MAX_NAME_LEN));
            snprintf(pfx, sizeof pfx, "events[%u].ids", i);
            TRY(check_ids(c, pfx, ev->ids, ev->n_ids, 0));
        }
        return VX_OK;
    }
    case VX_MSG_EMBED: {
        const vx_embed_rep *e = &m->body.embed;
        TRY(check_str(c, "", "model", e->model, true, VX_MAX_MODEL_LEN));
        TRY(check_range(c, "", "dim", e->dim, 1, VX_MAX_DIM));
        TRY(check_range(c, "", "n", e->n, 1, VX_MAX_TEXTS));
        if (!e->vectors)
            FAIL(c, VX_ERR_INVALID, "vectors: required");
        for (uint64_t i = 0; i < (uint64_t)e->n * e->dim; i++)
            if (!isfinite(e->vectors[i]))
                FAIL(c, VX_ERR_INVALID, "vectors[%llu][%llu] is not finite",
                     (unsigned long long)(i / e->dim), (unsigned long long)(i % e->dim));
        return VX_OK;
    }
    case VX_MSG_MODELS: {
        const vx_models_rep *r = &m->body.models;
        TRY(check_str(c, "", "default", r->default_model, false, VX_MAX_MODEL_LEN));
        TRY(check_count(c, "models", r->models, r->n_models, 0, VX_MAX_LIST_LIMIT));
        for (uint32_t i = 0; i < r->n_models; i++) {
            const vx_model_info *mi = &r->models[i];
            snprintf(pfx, sizeof pfx, "models[%u].", i);
            TRY(check_str(c, pfx, "id", mi->id, true, VX_MAX_MODEL_LEN));
            TRY(check_str(c, pfx, "provider", mi->provider, true, VX_MAX_NAME_LEN));
            TRY(check_str(c, pfx, "model_name", mi->model_name, false, VX_MAX_ID_LEN));
            TRY(check_range(c, pfx, "dimensions", mi->dimensions, 0, VX_MAX_DIM));
            TRY(check_str(c, pfx, "reason", mi->reason, false, 4096));
        }
        return VX_OK;
    }
    case VX_MSG_MODELS_BENCH: {
        const vx_models_bench_rep *r = &m->body.models_bench;
        TRY(check_str(c, "", "default", r->default_model, false, VX_MAX_MODEL_LEN));
        TRY(check_count(c, "models", r->models, r->n_models, 0, VX_MAX_LIST_LIMIT));
        for (uint32_t i = 0; i < r->n_models; i++) {
            snprintf(pfx, sizeof pfx, "models[%u].", i);
            TRY(check_model_bench(c, pfx, &r->models[i]));
        }
        return VX_OK;
    }
    }
    return VX_OK;
}

int vxp_check_reply(const vx_reply *m, char *err, size_t err_len)
{
    chk cc = {err, err_len, false}, *c = &cc;
    /* type 0: the error reply to a request whose type could not be read */
    if (!vx_msg_name((int)m->type) && !(m->type == 0 && m->status < 0))
        FAIL(c, VX_ERR_INVALID, "type: unknown message type %d", (int)m->type);
    if (m->status > 0)
        FAIL(c, VX_ERR_INVALID, "status: %d is not VX_OK or a negative error code",
             (int)m->status);
    if (m->status != VX_OK)
        return VX_OK;
    return check_reply_body(c, m);
}
