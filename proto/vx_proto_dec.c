/*
 * vx_proto_dec.c — decodes msgpack into vx_request / vx_reply (PROTOCOL.md).
 *
 * Two layers: this file checks framing and types (wrong type, missing
 * required key → VX_ERR_PROTO naming the key) and copies strings and vectors
 * into the caller's arena; then vxp_check_* (vx_proto.c) checks the limits
 * the encoder checks too (→ VX_ERR_INVALID / VX_ERR_LIMIT). Unknown keys are
 * ignored; nil counts as absent for optional keys. Counts are checked
 * against their limit before anything is allocated for them.
 */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "vx_msgpack.h"
#include "vx_proto.h"
#include "vx_proto_internal.h"

typedef struct dec {
    vx_arena *a;
    char *err;
    size_t err_len;
} dec;

typedef const vx_mp_obj obj;

#define FAIL(d, code, ...)                                                                         \
    do {                                                                                           \
        vxp_set_err((d)->err, (d)->err_len, __VA_ARGS__);                                          \
        return (code);                                                                             \
    } while (0)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ != VX_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

/* Looks key up in map; *o = NULL when absent or nil. */
static int field(dec *d, obj *map, const char *pfx, const char *key, bool required, obj **o)
{
    *o = vx_mp_map_find(map, key);
    if (*o && vx_mp_kind_of(*o) == VX_MP_NIL)
        *o = NULL;
    if (!*o && required)
        FAIL(d, VX_ERR_PROTO, "%s%s: required", pfx, key);
    return VX_OK;
}

static int wrong(dec *d, const char *pfx, const char *key, const char *want, obj *o)
{
    FAIL(d, VX_ERR_PROTO, "%s%s: expected %s, got %s", pfx, key, want,
         vx_mp_kind_name(vx_mp_kind_of(o)));
}

/* string without NUL, copied; NULL when optional and absent */
static int str_obj(dec *d, obj *o, const char *pfx, const char *key, const char **out)
{
    const char *p;
    uint32_t n;
    if (!vx_mp_get_str(o, &p, &n))
        return wrong(d, pfx, key, "str", o);
    if (memchr(p, 0, n))
        FAIL(d, VX_ERR_INVALID, "%s%s: contains a NUL byte", pfx, key);
    *out = vx_arena_strndup(d->a, p, n);
    return VX_OK;
}

static int rd_str(dec *d, obj *map, const char *pfx, const char *key, bool required,
                  const char **out)
{
    obj *o;
    *out = NULL;
    TRY(field(d, map, pfx, key, required, &o));
    return o ? str_obj(d, o, pfx, key, out) : VX_OK;
}

static int rd_u64(dec *d, obj *map, const char *pfx, const char *key, bool required,
                  uint64_t def, uint64_t *out)
{
    obj *o;
    *out = def;
    TRY(field(d, map, pfx, key, required, &o));
    if (o && !vx_mp_get_u64(o, out))
        return wrong(d, pfx, key, "uint", o);
    return VX_OK;
}

static int rd_u32(dec *d, obj *map, const char *pfx, const char *key, bool required,
                  uint32_t def, uint32_t *out)
{
    uint64_t v;
    TRY(rd_u64(d, map, pfx, key, required, def, &v));
    if (v > UINT32_MAX)
        FAIL(d, VX_ERR_LIMIT, "%s%s: %llu does not fit in 32 bits", pfx, key,
             (unsigned long long)v);
    *out = (uint32_t)v;
    return VX_OK;
}

static int rd_bool(dec *d, obj *map, const char *pfx, const char *key, bool def, bool *out)
{
    obj *o;
    *out = def;
    TRY(field(d, map, pfx, key, false, &o));
    if (o && !vx_mp_get_bool(o, out))
        return wrong(d, pfx, key, "bool", o);
    return VX_OK;
}

/* a number (float, int or uint) as double; *out = 0 when optional and absent */
static int rd_double(dec *d, obj *map, const char *pfx, const char *key, bool required,
                     double *out)
{
    obj *o;
    *out = 0;
    TRY(field(d, map, pfx, key, required, &o));
    if (o && !vx_mp_get_number(o, out))
        return wrong(d, pfx, key, "float", o);
    return VX_OK;
}

/* bin of little-endian float32 → 16-byte aligned copy; max_floats bounds it */
static int rd_floats(dec *d, obj *map, const char *pfx, const char *key, bool required,
                     uint64_t max_floats, const float **out, uint32_t *n_out)
{
    obj *o;
    const void *p;
    uint32_t n;
    *out = NULL;
    *n_out = 0;
    TRY(field(d, map, pfx, key, required, &o));
    if (!o)
        return VX_OK;
    if (!vx_mp_get_bin(o, &p, &n))
        return wrong(d, pfx, key, "bin (float32 little-endian)", o);
    if (n % sizeof(float))
        FAIL(d, VX_ERR_PROTO, "%s%s: %u bytes is not a multiple of 4", pfx, key, n);
    if (n / sizeof(float) > max_floats)
        FAIL(d, VX_ERR_LIMIT, "%s%s: %u floats, the limit is %llu", pfx, key,
             (unsigned)(n / sizeof(float)), (unsigned long long)max_floats);
    if (n == 0)
        FAIL(d, VX_ERR_INVALID, "%s%s: empty vector", pfx, key);
    float *v = vx_arena_alloc(d->a, n);
    memcpy(v, p, n);
    *out = v;
    *n_out = n / (uint32_t)sizeof(float);
    return VX_OK;
}

/* optional value (metadata, filter, stats); must be a map when present */
static int rd_object(dec *d, obj *map, const char *pfx, const char *key, const vx_value **out)
{
    obj *o;
    char path[96];
    *out = NULL;
    TRY(field(d, map, pfx, key, false, &o));
    if (!o)
        return VX_OK;
    if (vx_mp_kind_of(o) != VX_MP_MAP)
        return wrong(d, pfx, key, "map", o);
    snprintf(path, sizeof path, "%s%s", pfx, key);
    vx_value *v = vx_arena_alloc(d->a, sizeof *v);
    TRY(vx_mp_to_value(o, d->a, v, path, d->err, d->err_len));
    *out = v;
    return VX_OK;
}

/* array with at most max entries; *n = 0 and *arr = NULL when absent */
static int rd_array(dec *d, obj *map, const char *pfx, const char *key, bool required,
                    uint32_t max, obj **arr, uint32_t *n)
{
    *n = 0;
    TRY(field(d, map, pfx, key, required, arr));
    if (!*arr)
        return VX_OK;
    if (vx_mp_kind_of(*arr) != VX_MP_ARRAY)
        return wrong(d, pfx, key, "array", *arr);
    *n = vx_mp_array_len(*arr);
    if (*n > max)
        FAIL(d, VX_ERR_LIMIT, "%s%s: %u entries, the limit is %u", pfx, key, *n, max);
    return VX_OK;
}

static int rd_strs(dec *d, obj *map, const char *pfx, const char *key, bool required,
                   uint32_t max, const char ***out, uint32_t *n)
{
    obj *arr;
    char ipfx[64];
    *out = NULL;
    TRY(rd_array(d, map, pfx, key, required, max, &arr, n));
    if (!arr)
        return VX_OK;
    const char **s = vx_arena_alloc(d->a, (size_t)(*n ? *n : 1) * sizeof(char *));
    for (uint32_t i = 0; i < *n; i++) {
        snprintf(ipfx, sizeof ipfx, "%s%s[%u]", pfx, key, i);
        TRY(str_obj(d, vx_mp_array_at(arr, i), ipfx, "", &s[i]));
    }
    *out = s;
    return VX_OK;
}

/* n elements (at least one, so the pointer is never NULL) */
static void *alloc_n(dec *d, uint32_t n, size_t size)
{
    return vx_arena_alloc(d->a, (size_t)(n ? n : 1) * size);
}

static int need_map(dec *d, obj *o, const char *path)
{
    if (vx_mp_kind_of(o) != VX_MP_MAP)
        FAIL(d, VX_ERR_PROTO, "%s: expected map, got %s", path, vx_mp_kind_name(vx_mp_kind_of(o)));
    return VX_OK;
}

/* ---- bodies ---- */

static int dec_coll(dec *d, obj *b, const char *pfx, vx_coll_config *c, vx_coll_info *info)
{
    const char *s;
    obj *idx;
    TRY(rd_str(d, b, pfx, "name", true, &c->name));
    TRY(rd_u32(d, b, pfx, "dimension", true, 0, &c->dimension));
    TRY(rd_str(d, b, pfx, "metric", false, &s));
    c->metric = VX_METRIC_COSINE;
    if (s && vx_metric_parse(s, &c->metric) != VX_OK)
        FAIL(d, VX_ERR_INVALID, "%smetric: \"%s\" is not cosine, dot or l2", pfx, s);
    c->index.type = VX_INDEX_FLAT;
    c->index.m = VX_HNSW_M_DEFAULT;
    c->index.ef_construction = VX_HNSW_EFC_DEFAULT;
    TRY(field(d, b, pfx, "index", false, &idx));
    if (idx) {
        char ipfx[80];
        snprintf(ipfx, sizeof ipfx, "%sindex.", pfx);
        if (vx_mp_kind_of(idx) != VX_MP_MAP)
            return wrong(d, pfx, "index", "map", idx);
        TRY(rd_str(d, idx, ipfx, "type", false, &s));
        if (s && vx_index_type_parse(s, &c->index.type) != VX_OK)
            FAIL(d, VX_ERR_INVALID, "%stype: \"%s\" is not flat or hnsw", ipfx, s);
        TRY(rd_u32(d, idx, ipfx, "m", false, VX_HNSW_M_DEFAULT, &c->index.m));
        TRY(rd_u32(d, idx, ipfx, "ef_construction", false, VX_HNSW_EFC_DEFAULT,
                   &c->index.ef_construction));
    }
    TRY(rd_str(d, b, pfx, "model", false, &c->model));
    if (info) {
        TRY(rd_u64(d, b, pfx, "count", true, 0, &info->count));
        TRY(rd_u64(d, b, pfx, "memory_bytes", false, 0, &info->memory_bytes));
    }
    return VX_OK;
}

static int dec_point(dec *d, obj *o, const char *pfx, vx_point *p, bool vector_required)
{
    TRY(need_map(d, o, pfx));
    TRY(rd_str(d, o, pfx, "id", true, &p->id));
    TRY(rd_floats(d, o, pfx, "vector", vector_required, VX_MAX_DIM, &p->vector, &p->dim));
    return rd_object(d, o, pfx, "metadata", &p->metadata);
}

static int dec_points(dec *d, obj *b, uint32_t max, bool vector_required, vx_point **out,
                      uint32_t *n)
{
    obj *arr;
    char pfx[48];
    TRY(rd_array(d, b, "", "points", true, max, &arr, n));
    vx_point *p = vx_arena_alloc(d->a, (size_t)(*n ? *n : 1) * sizeof *p);
    for (uint32_t i = 0; i < *n; i++) {
        snprintf(pfx, sizeof pfx, "points[%u].", i);
        TRY(dec_point(d, vx_mp_array_at(arr, i), pfx, &p[i], vector_required));
    }
    *out = p;
    return VX_OK;
}

static int dec_request_body(dec *d, obj *b, vx_request *m)
{
    switch (m->type) {
    case VX_MSG_HEALTH:
    case VX_MSG_COLL_LIST:
    case VX_MSG_MODELS: return VX_OK;
    case VX_MSG_COLL_CREATE: return dec_coll(d, b, "", &m->body.coll_create, NULL);
    case VX_MSG_COLL_INFO:
    case VX_MSG_COLL_DELETE: return rd_str(d, b, "", "name", true, &m->body.coll_name.name);
    case VX_MSG_POINTS_UPSERT: {
        vx_upsert_req *u = &m->body.upsert;
        TRY(rd_str(d, b, "", "collection", true, &u->collection));
        TRY(dec_points(d, b, VX_MAX_BATCH, true, &u->points, &u->n_points));
        return rd_bool(d, b, "", "create_if_missing", false, &u->create_if_missing);
    }
    case VX_MSG_POINTS_GET:
        TRY(rd_str(d, b, "", "collection", true, &m->body.get.collection));
        TRY(rd_str(d, b, "", "id", true, &m->body.get.id));
        return rd_bool(d, b, "", "with_vector", true, &m->body.get.with_vector);
    case VX_MSG_POINTS_DELETE: {
        vx_delete_req *x = &m->body.del;
        TRY(rd_str(d, b, "", "collection", true, &x->collection));
        TRY(rd_strs(d, b, "", "ids", false, VX_MAX_BATCH, &x->ids, &x->n_ids));
        return rd_object(d, b, "", "filter", &x->filter);
    }
    case VX_MSG_POINTS_LIST: {
        vx_list_req *l = &m->body.list;
        TRY(rd_str(d, b, "", "collection", true, &l->collection));
        TRY(rd_u32(d, b, "", "limit", false, VX_DEFAULT_LIST_LIMIT, &l->limit));
        TRY(rd_str(d, b, "", "cursor", false, &l->cursor));
        return rd_bool(d, b, "", "with_vector", false, &l->with_vector);
    }
    case VX_MSG_SEARCH: {
        vx_search_req *s = &m->body.search;
        TRY(rd_str(d, b, "", "collection", true, &s->collection));
        TRY(rd_floats(d, b, "", "vector", true, VX_MAX_DIM, &s->vector, &s->dim));
        TRY(rd_u32(d, b, "", "k", false, 10, &s->k));
        TRY(rd_object(d, b, "", "filter", &s->filter));
        TRY(rd_u32(d, b, "", "ef", false, 0, &s->ef));
        TRY(rd_bool(d, b, "", "exact", false, &s->exact));
        TRY(rd_bool(d, b, "", "with_vector", false, &s->with_vector));
        return rd_bool(d, b, "", "with_metadata", true, &s->with_metadata);
    }
    case VX_MSG_EVENTS_SINCE:
        TRY(rd_u64(d, b, "", "after_lsn", false, 0, &m->body.events.after_lsn));
        return rd_u32(d, b, "", "limit", false, VX_DEFAULT_LIST_LIMIT, &m->body.events.limit);
    case VX_MSG_EMBED:
        TRY(rd_str(d, b, "", "model", false, &m->body.embed.model));
        return rd_strs(d, b, "", "texts", true, VX_MAX_TEXTS, &m->body.embed.texts,
                       &m->body.embed.n_texts);
    case VX_MSG_MODELS_BENCH: {
        vx_models_bench_req *r = &m->body.models_bench;
        TRY(rd_strs(d, b, "", "models", false, VX_MAX_LIST_LIMIT, &r->models, &r->n_models));
        return rd_u32(d, b, "", "repeats", false, VX_DEFAULT_BENCH_REPEATS, &r->repeats);
    }
    }
    return VX_OK;
}

/* Reads the envelope: [version, type, request_id, x, body]; sets *type as
 * soon as it is known. x is deadline_ms (request) or status (reply).
 * type_zero_ok: type 0 is accepted (a reply to a request whose type could
 * not be read, §3; the caller checks that it is an error reply). */
static int dec_envelope(dec *d, obj *root, bool type_zero_ok, vx_msg_type *type,
                        uint32_t *version, uint64_t *request_id, obj **x, obj **body)
{
    uint64_t v;
    if (vx_mp_kind_of(root) != VX_MP_ARRAY || vx_mp_array_len(root) != 5)
        FAIL(d, VX_ERR_PROTO, "envelope: expected an array of 5 elements");
    if (!vx_mp_get_u64(vx_mp_array_at(root, 0), &v))
        FAIL(d, VX_ERR_PROTO, "version: expected uint");
    if (v != VX_PROTO_VERSION)
        FAIL(d, VX_ERR_PROTO, "version: %llu is not supported (this side speaks %d)",
             (unsigned long long)v, VX_PROTO_VERSION);
    *version = (uint32_t)v;
    if (!vx_mp_get_u64(vx_mp_array_at(root, 1), &v))
        FAIL(d, VX_ERR_PROTO, "type: expected uint");
    /* request_id first, so that even an unknown type's error reply echoes it */
    if (!vx_mp_get_u64(vx_mp_array_at(root, 2), request_id))
        FAIL(d, VX_ERR_PROTO, "request_id: expected uint");
    if (v > 0xffff || (!vx_msg_name((int)v) && !(v == 0 && type_zero_ok)))
        FAIL(d, VX_ERR_PROTO, "type: unknown message type %llu", (unsigned long long)v);
    *type = (vx_msg_type)v;
    *x = vx_mp_array_at(root, 3);
    *body = vx_mp_array_at(root, 4);
    return need_map(d, *body, "body");
}

static int decode_request(dec *d, obj *root, unsigned flags, vx_request *m)
{
    obj *x, *body;
    uint64_t v;
    TRY(dec_envelope(d, root, false, &m->type, &m->version, &m->request_id, &x, &body));
    if (!vx_mp_get_u64(x, &v) || v > UINT32_MAX)
        FAIL(d, VX_ERR_PROTO, "deadline_ms: expected uint32");
    m->deadline_ms = (uint32_t)v;
    TRY(dec_request_body(d, body, m));
    return vxp_check_request(m, flags, d->err, d->err_len);
}

/* Reads one msgpack unsigned integer (positive fixint, uint8..uint64) at
 * *pos; false if the bytes there are anything else or cut short. */
static bool peek_uint(const unsigned char *p, size_t len, size_t *pos, uint64_t *out)
{
    if (*pos >= len)
        return false;
    unsigned char tag = p[(*pos)++];
    size_t n; /* bytes after the tag */
    switch (tag) {
    case 0xcc: n = 1; break;
    case 0xcd: n = 2; break;
    case 0xce: n = 4; break;
    case 0xcf: n = 8; break;
    default:
        if (tag > 0x7f)
            return false;
        n = 0;
    }
    if (len - *pos < n)
        return false;
    uint64_t v = n ? 0 : tag;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[(*pos)++];
    *out = v;
    return true;
}

/* When the message is not well-formed msgpack (cut short, trailing bytes,
 * nested too deep), its type and request_id may still be read from the
 * envelope's fixed prefix: 0x95 (array of 5), 0x01 (version 1), then the
 * type and the request_id as msgpack uints. The type is kept only when it is
 * a known one (a reply's type must be decodable), the id whenever read. */
static void peek_envelope(const unsigned char *p, size_t len, vx_request *m)
{
    size_t pos = 2;
    uint64_t type, id;
    if (len < 3 || p[0] != 0x95 || p[1] != VX_PROTO_VERSION || !peek_uint(p, len, &pos, &type))
        return;
    if (type <= 0xffff && vx_msg_name((int)type))
        m->type = (vx_msg_type)type;
    if (peek_uint(p, len, &pos, &id))
        m->request_id = id;
}

int vx_proto_decode_request(const void *data, size_t len, vx_arena *a, vx_request *m, char *err,
                            size_t err_len)
{
    return vx_proto_decode_request_flags(data, len, a, m, 0, err, err_len);
}

int vx_proto_decode_request_flags(const void *data, size_t len, vx_arena *a, vx_request *m,
                                  unsigned flags, char *err, size_t err_len)
{
    dec d = {a, err, err_len};
    vx_mp_doc *doc = NULL;
    memset(m, 0, sizeof *m);
    if (err && err_len)
        err[0] = '\0';
    int rc = vx_mp_doc_parse(data, len, &doc, err, err_len);
    if (rc == VX_OK)
        rc = decode_request(&d, vx_mp_doc_root(doc), flags, m);
    else if (data)
        peek_envelope(data, len, m);
    vx_mp_doc_free(doc);
    return rc;
}

/* ---- replies ---- */

static int dec_reply_body(dec *d, obj *b, vx_reply *m)
{
    obj *arr;
    char pfx[64];
    switch (m->type) {
    case VX_MSG_COLL_CREATE:
    case VX_MSG_COLL_INFO:
        return dec_coll(d, b, "", &m->body.coll_info.config, &m->body.coll_info);
    case VX_MSG_COLL_LIST: {
        vx_list_colls_rep *l = &m->body.coll_list;
        TRY(rd_array(d, b, "", "collections", true, UINT32_MAX, &arr, &l->n_colls));
        l->colls = alloc_n(d, l->n_colls, sizeof *l->colls);
        for (uint32_t i = 0; i < l->n_colls; i++) {
            snprintf(pfx, sizeof pfx, "collections[%u].", i);
            obj *o = vx_mp_array_at(arr, i);
            TRY(need_map(d, o, pfx));
            TRY(dec_coll(d, o, pfx, &l->colls[i].config, &l->colls[i]));
        }
        return VX_OK;
    }
    case VX_MSG_POINTS_UPSERT:
    case VX_MSG_POINTS_DELETE:
    case VX_MSG_COLL_DELETE: {
        vx_write_rep *w = &m->body.write;
        TRY(rd_u32(d, b, "", "n", true, 0, &w->n));
        TRY(rd_u64(d, b, "", "count", false, 0, &w->count));
        TRY(rd_u64(d, b, "", "lsn", false, 0, &w->lsn));
        return rd_str(d, b, "", "durability", false, &w->durability);
    }
    case VX_MSG_POINTS_GET: return dec_point(d, b, "", &m->body.point, false);
    case VX_MSG_POINTS_LIST: {
        vx_list_rep *l = &m->body.list;
        TRY(dec_points(d, b, VX_MAX_LIST_LIMIT, false, &l->points, &l->n_points));
        return rd_str(d, b, "", "next_cursor", false, &l->next_cursor);
    }
    case VX_MSG_SEARCH: {
        vx_search_rep *s = &m->body.search;
        TRY(rd_array(d, b, "", "hits", true, VX_MAX_K, &arr, &s->n_hits));
        s->hits = alloc_n(d, s->n_hits, sizeof *s->hits);
        for (uint32_t i = 0; i < s->n_hits; i++) {
            vx_search_hit *h = &s->hits[i];
            obj *o = vx_mp_array_at(arr, i), *sc;
            double score;
            snprintf(pfx, sizeof pfx, "hits[%u].", i);
            TRY(need_map(d, o, pfx));
            TRY(rd_str(d, o, pfx, "id", true, &h->id));
            TRY(field(d, o, pfx, "score", true, &sc));
            if (!vx_mp_get_number(sc, &score))
                return wrong(d, pfx, "score", "float", sc);
            if (!(score >= -FLT_MAX && score <= FLT_MAX)) /* also NaN; keeps the cast defined */
                FAIL(d, VX_ERR_INVALID, "%sscore: not a finite float32", pfx);
            h->score = (float)score;
            TRY(rd_object(d, o, pfx, "metadata", &h->metadata));
            TRY(rd_floats(d, o, pfx, "vector", false, VX_MAX_DIM, &h->vector, &h->dim));
        }
        TRY(rd_u64(d, b, "", "took_us", false, 0, &s->took_us));
        return rd_bool(d, b, "", "used_index", false, &s->used_index);
    }
    case VX_MSG_HEALTH:
        TRY(rd_str(d, b, "", "service", true, &m->body.health.service));
        TRY(rd_str(d, b, "", "version", true, &m->body.health.version));
        return rd_object(d, b, "", "stats", &m->body.health.stats);
    case VX_MSG_EVENTS_SINCE: {
        vx_events_rep *e = &m->body.events;
        TRY(rd_array(d, b, "", "events", true, VX_MAX_LIST_LIMIT, &arr, &e->n_events));
        e->events = alloc_n(d, e->n_events, sizeof *e->events);
        for (uint32_t i = 0; i < e->n_events; i++) {
            vx_event *ev = &e->events[i];
            obj *o = vx_mp_array_at(arr, i);
            snprintf(pfx, sizeof pfx, "events[%u].", i);
            TRY(need_map(d, o, pfx));
            TRY(rd_u64(d, o, pfx, "lsn", true, 0, &ev->lsn));
            TRY(rd_str(d, o, pfx, "collection", true, &ev->collection));
            TRY(rd_str(d, o, pfx, "op", true, &ev->op));
            TRY(rd_strs(d, o, pfx, "ids", false, VX_MAX_BATCH, &ev->ids, &ev->n_ids));
        }
        return rd_u64(d, b, "", "last_lsn", true, 0, &e->last_lsn);
    }
    case VX_MSG_EMBED: {
        vx_embed_rep *e = &m->body.embed;
        uint32_t nf;
        TRY(rd_str(d, b, "", "model", true, &e->model));
        TRY(rd_u32(d, b, "", "dim", true, 0, &e->dim));
        TRY(rd_u32(d, b, "", "n", true, 0, &e->n));
        if (e->dim > VX_MAX_DIM || e->n > VX_MAX_TEXTS)
            FAIL(d, VX_ERR_LIMIT, "n, dim: %u × %u exceeds the limits %d × %d", e->n, e->dim,
                 VX_MAX_TEXTS, VX_MAX_DIM);
        TRY(rd_floats(d, b, "", "vectors", true, (uint64_t)VX_MAX_TEXTS * VX_MAX_DIM, &e->vectors,
                      &nf));
        if ((uint64_t)nf != (uint64_t)e->n * e->dim)
            FAIL(d, VX_ERR_PROTO, "vectors: %u floats, expected n × dim = %llu", nf,
                 (unsigned long long)e->n * e->dim);
        return rd_u64(d, b, "", "took_us", false, 0, &e->took_us);
    }
    case VX_MSG_MODELS: {
        vx_models_rep *r = &m->body.models;
        TRY(rd_str(d, b, "", "default", false, &r->default_model));
        TRY(rd_array(d, b, "", "models", true, VX_MAX_LIST_LIMIT, &arr, &r->n_models));
        r->models = alloc_n(d, r->n_models, sizeof *r->models);
        for (uint32_t i = 0; i < r->n_models; i++) {
            vx_model_info *mi = &r->models[i];
            obj *o = vx_mp_array_at(arr, i);
            snprintf(pfx, sizeof pfx, "models[%u].", i);
            TRY(need_map(d, o, pfx));
            TRY(rd_str(d, o, pfx, "id", true, &mi->id));
            TRY(rd_str(d, o, pfx, "provider", true, &mi->provider));
            TRY(rd_str(d, o, pfx, "model_name", false, &mi->model_name));
            TRY(rd_u32(d, o, pfx, "dimensions", false, 0, &mi->dimensions));
            TRY(rd_bool(d, o, pfx, "is_remote", false, &mi->is_remote));
            TRY(rd_bool(d, o, pfx, "available", false, &mi->available));
            TRY(rd_str(d, o, pfx, "reason", false, &mi->reason));
        }
        return VX_OK;
    }
    case VX_MSG_MODELS_BENCH: {
        vx_models_bench_rep *r = &m->body.models_bench;
        TRY(rd_str(d, b, "", "default", false, &r->default_model));
        TRY(rd_array(d, b, "", "models", true, VX_MAX_LIST_LIMIT, &arr, &r->n_models));
        r->models = alloc_n(d, r->n_models, sizeof *r->models);
        for (uint32_t i = 0; i < r->n_models; i++) {
            vx_model_bench *mb = &r->models[i];
            obj *o = vx_mp_array_at(arr, i);
            snprintf(pfx, sizeof pfx, "models[%u].", i);
            TRY(need_map(d, o, pfx));
            TRY(rd_str(d, o, pfx, "id", true, &mb->id));
            TRY(rd_u32(d, o, pfx, "dimensions", true, 0, &mb->dimensions));
            obj *av;
            TRY(field(d, o, pfx, "available", true, &av));
            if (!vx_mp_get_bool(av, &mb->available))
                return wrong(d, pfx, "available", "bool", av);
            TRY(rd_str(d, o, pfx, "reason", false, &mb->reason));
            bool measured = mb->available && !mb->reason; /* then the numbers are required */
            TRY(rd_double(d, o, pfx, "single_ms", measured, &mb->single_ms));
            TRY(rd_double(d, o, pfx, "batch_ms", measured, &mb->batch_ms));
            TRY(rd_double(d, o, pfx, "texts_per_s", measured, &mb->texts_per_s));
            TRY(rd_double(d, o, pfx, "contrast", measured, &mb->contrast));
            TRY(rd_double(d, o, pfx, "within", measured, &mb->within));
            TRY(rd_double(d, o, pfx, "cross", measured, &mb->cross));
        }
        return VX_OK;
    }
    }
    return VX_OK;
}

static int decode_reply(dec *d, obj *root, vx_reply *m)
{
    obj *x, *body;
    int64_t status;
    TRY(dec_envelope(d, root, true, &m->type, &m->version, &m->request_id, &x, &body));
    if (!vx_mp_get_i64(x, &status) || status > 0 || status < INT32_MIN)
        FAIL(d, VX_ERR_PROTO, "status: expected 0 or a negative int32");
    if (m->type == 0 && status == VX_OK)
        FAIL(d, VX_ERR_PROTO, "type: 0 is only valid on an error reply");
    m->status = (int32_t)status;
    if (m->status != VX_OK) {
        const char *msg;
        TRY(rd_str(d, body, "", "message", false, &msg));
        m->err_message = msg ? msg : vx_strerror(m->status);
        return VX_OK;
    }
    TRY(dec_reply_body(d, body, m));
    return vxp_check_reply(m, d->err, d->err_len);
}

int vx_proto_decode_reply(const void *data, size_t len, vx_arena *a, vx_reply *m, char *err,
                          size_t err_len)
{
    dec d = {a, err, err_len};
    vx_mp_doc *doc = NULL;
    memset(m, 0, sizeof *m);
    if (err && err_len)
        err[0] = '\0';
    int rc = vx_mp_doc_parse(data, len, &doc, err, err_len);
    if (rc == VX_OK)
        rc = decode_reply(&d, vx_mp_doc_root(doc), m);
    vx_mp_doc_free(doc);
    return rc;
}
