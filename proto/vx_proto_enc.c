/*
 * vx_proto_enc.c — encodes vx_request / vx_reply into msgpack (PROTOCOL.md).
 *
 * Every message is checked first (vxp_check_*), so nothing that the decoder
 * would reject leaves this file; on failure the output buffer is left as it
 * was. Map keys are written in a fixed order and optional fields that are
 * NULL are omitted, so equal messages encode to identical bytes (the golden
 * files in proto/testdata rely on it).
 */
#include <string.h>

#include "vx_log.h"
#include "vx_msgpack.h"
#include "vx_proto.h"
#include "vx_proto_internal.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vectors travel as little-endian float32: port the vector copies first"
#endif

static const char *msg_name(vx_msg_type t)
{
    const char *n = vx_msg_name((int)t);
    return n ? n : "unknown";
}

static void key(vx_buf *b, const char *k) { vx_mp_cstr(b, k); }

static void kstr(vx_buf *b, const char *k, const char *v)
{
    key(b, k);
    vx_mp_cstr(b, v);
}
static void kuint(vx_buf *b, const char *k, uint64_t v)
{
    key(b, k);
    vx_mp_uint(b, v);
}
static void kbool(vx_buf *b, const char *k, bool v)
{
    key(b, k);
    vx_mp_bool(b, v);
}
static void kdouble(vx_buf *b, const char *k, double v)
{
    key(b, k);
    vx_mp_double(b, v);
}
static void kvec(vx_buf *b, const char *k, const float *v, size_t n)
{
    key(b, k);
    vx_mp_bin(b, v, n * sizeof(float));
}
static void kvalue(vx_buf *b, const char *k, const vx_value *v)
{
    key(b, k);
    vx_mp_value(b, v);
}
static void str_array(vx_buf *b, const char *const *s, uint32_t n)
{
    vx_mp_array(b, n);
    for (uint32_t i = 0; i < n; i++)
        vx_mp_cstr(b, s[i]);
}

/* config alone (COLL_CREATE request) or with count/memory (coll info) */
static void enc_coll(vx_buf *b, const vx_coll_config *c, const vx_coll_info *info)
{
    vx_mp_map(b, 4 + (c->model != NULL) + (info ? 2 : 0));
    kstr(b, "name", c->name);
    kuint(b, "dimension", c->dimension);
    kstr(b, "metric", vx_metric_name(c->metric));
    key(b, "index");
    vx_mp_map(b, 3);
    kstr(b, "type", vx_index_type_name(c->index.type));
    kuint(b, "m", c->index.m);
    kuint(b, "ef_construction", c->index.ef_construction);
    if (c->model)
        kstr(b, "model", c->model);
    if (info) {
        kuint(b, "count", info->count);
        kuint(b, "memory_bytes", info->memory_bytes);
    }
}

static void enc_point(vx_buf *b, const vx_point *p)
{
    vx_mp_map(b, 1 + (p->vector != NULL) + (p->metadata != NULL));
    kstr(b, "id", p->id);
    if (p->vector)
        kvec(b, "vector", p->vector, p->dim);
    if (p->metadata)
        kvalue(b, "metadata", p->metadata);
}

static void enc_request_body(vx_buf *b, const vx_request *m)
{
    switch (m->type) {
    case VX_MSG_HEALTH:
    case VX_MSG_COLL_LIST:
    case VX_MSG_MODELS: vx_mp_map(b, 0); return;
    case VX_MSG_COLL_CREATE: enc_coll(b, &m->body.coll_create, NULL); return;
    case VX_MSG_COLL_INFO:
    case VX_MSG_COLL_DELETE:
        vx_mp_map(b, 1);
        kstr(b, "name", m->body.coll_name.name);
        return;
    case VX_MSG_POINTS_UPSERT: {
        const vx_upsert_req *u = &m->body.upsert;
        vx_mp_map(b, 3);
        kstr(b, "collection", u->collection);
        key(b, "points");
        vx_mp_array(b, u->n_points);
        for (uint32_t i = 0; i < u->n_points; i++)
            enc_point(b, &u->points[i]);
        kbool(b, "create_if_missing", u->create_if_missing);
        return;
    }
    case VX_MSG_POINTS_GET:
        vx_mp_map(b, 3);
        kstr(b, "collection", m->body.get.collection);
        kstr(b, "id", m->body.get.id);
        kbool(b, "with_vector", m->body.get.with_vector);
        return;
    case VX_MSG_POINTS_DELETE: {
        const vx_delete_req *d = &m->body.del;
        vx_mp_map(b, 2);
        kstr(b, "collection", d->collection);
        if (d->ids) {
            key(b, "ids");
            str_array(b, d->ids, d->n_ids);
        } else {
            kvalue(b, "filter", d->filter);
        }
        return;
    }
    case VX_MSG_POINTS_LIST: {
        const vx_list_req *l = &m->body.list;
        vx_mp_map(b, 3 + (l->cursor != NULL));
        kstr(b, "collection", l->collection);
        kuint(b, "limit", l->limit);
        if (l->cursor)
            kstr(b, "cursor", l->cursor);
        kbool(b, "with_vector", l->with_vector);
        return;
    }
    case VX_MSG_SEARCH: {
        const vx_search_req *s = &m->body.search;
        vx_mp_map(b, 7 + (s->filter != NULL));
        kstr(b, "collection", s->collection);
        kvec(b, "vector", s->vector, s->dim);
        kuint(b, "k", s->k);
        if (s->filter)
            kvalue(b, "filter", s->filter);
        kuint(b, "ef", s->ef);
        kbool(b, "exact", s->exact);
        kbool(b, "with_vector", s->with_vector);
        kbool(b, "with_metadata", s->with_metadata);
        return;
    }
    case VX_MSG_EVENTS_SINCE:
        vx_mp_map(b, 2);
        kuint(b, "after_lsn", m->body.events.after_lsn);
        kuint(b, "limit", m->body.events.limit);
        return;
    case VX_MSG_EMBED: {
        const vx_embed_req *e = &m->body.embed;
        vx_mp_map(b, 1 + (e->model != NULL));
        if (e->model)
            kstr(b, "model", e->model);
        key(b, "texts");
        str_array(b, e->texts, e->n_texts);
        return;
    }
    case VX_MSG_MODELS_BENCH: {
        const vx_models_bench_req *r = &m->body.models_bench;
        vx_mp_map(b, 1 + (r->models != NULL));
        if (r->models) {
            key(b, "models");
            str_array(b, r->models, r->n_models);
        }
        kuint(b, "repeats", r->repeats);
        return;
    }
    }
}

int vx_proto_encode_request(const vx_request *m, vx_buf *out)
{
    char err[256];
    if (vxp_check_request(m, 0, err, sizeof err) != VX_OK) {
        VX_WARN("not encoding %s request: %s", msg_name(m->type), err);
        return VX_ERR_INVALID;
    }
    vx_mp_array(out, 5);
    vx_mp_uint(out, VX_PROTO_VERSION);
    vx_mp_uint(out, (uint64_t)m->type);
    vx_mp_uint(out, m->request_id);
    vx_mp_uint(out, m->deadline_ms);
    enc_request_body(out, m);
    return VX_OK;
}

static void enc_reply_body(vx_buf *b, const vx_reply *m)
{
    switch (m->type) {
    case VX_MSG_COLL_CREATE:
    case VX_MSG_COLL_INFO: enc_coll(b, &m->body.coll_info.config, &m->body.coll_info); return;
    case VX_MSG_COLL_LIST: {
        const vx_list_colls_rep *l = &m->body.coll_list;
        vx_mp_map(b, 1);
        key(b, "collections");
        vx_mp_array(b, l->n_colls);
        for (uint32_t i = 0; i < l->n_colls; i++)
            enc_coll(b, &l->colls[i].config, &l->colls[i]);
        return;
    }
    case VX_MSG_POINTS_UPSERT:
    case VX_MSG_POINTS_DELETE:
    case VX_MSG_COLL_DELETE: {
        const vx_write_rep *w = &m->body.write;
        vx_mp_map(b, 3 + (w->durability != NULL));
        kuint(b, "n", w->n);
        kuint(b, "count", w->count);
        kuint(b, "lsn", w->lsn);
        if (w->durability)
            kstr(b, "durability", w->durability);
        return;
    }
    case VX_MSG_POINTS_GET: enc_point(b, &m->body.point); return;
    case VX_MSG_POINTS_LIST: {
        const vx_list_rep *l = &m->body.list;
        vx_mp_map(b, 1 + (l->next_cursor != NULL));
        key(b, "points");
        vx_mp_array(b, l->n_points);
        for (uint32_t i = 0; i < l->n_points; i++)
            enc_point(b, &l->points[i]);
        if (l->next_cursor)
            kstr(b, "next_cursor", l->next_cursor);
        return;
    }
    case VX_MSG_SEARCH: {
        const vx_search_rep *s = &m->body.search;
        vx_mp_map(b, 3);
        key(b, "hits");
        vx_mp_array(b, s->n_hits);
        for (uint32_t i = 0; i < s->n_hits; i++) {
            const vx_search_hit *h = &s->hits[i];
            vx_mp_map(b, 2 + (h->metadata != NULL) + (h->vector != NULL));
            kstr(b, "id", h->id);
            key(b, "score");
            vx_mp_float(b, h->score);
            if (h->metadata)
                kvalue(b, "metadata", h->metadata);
            if (h->vector)
                kvec(b, "vector", h->vector, h->dim);
        }
        kuint(b, "took_us", s->took_us);
        kbool(b, "used_index", s->used_index);
        return;
    }
    case VX_MSG_HEALTH: {
        const vx_health_rep *h = &m->body.health;
        vx_mp_map(b, 2 + (h->stats != NULL));
        kstr(b, "service", h->service);
        kstr(b, "version", h->version);
        if (h->stats)
            kvalue(b, "stats", h->stats);
        return;
    }
    case VX_MSG_EVENTS_SINCE: {
        const vx_events_rep *e = &m->body.events;
        vx_mp_map(b, 2);
        key(b, "events");
        vx_mp_array(b, e->n_events);
        for (uint32_t i = 0; i < e->n_events; i++) {
            const vx_event *ev = &e->events[i];
            vx_mp_map(b, 4);
            kuint(b, "lsn", ev->lsn);
            kstr(b, "collection", ev->collection);
            kstr(b, "op", ev->op);
            key(b, "ids");
            str_array(b, ev->ids, ev->n_ids);
        }
        kuint(b, "last_lsn", e->last_lsn);
        return;
    }
    case VX_MSG_EMBED: {
        const vx_embed_rep *e = &m->body.embed;
        vx_mp_map(b, 5);
        kstr(b, "model", e->model);
        kuint(b, "dim", e->dim);
        kuint(b, "n", e->n);
        kvec(b, "vectors", e->vectors, (size_t)e->n * e->dim);
        kuint(b, "took_us", e->took_us);
        return;
    }
    case VX_MSG_MODELS: {
        const vx_models_rep *r = &m->body.models;
        vx_mp_map(b, 1 + (r->default_model != NULL));
        if (r->default_model)
            kstr(b, "default", r->default_model);
        key(b, "models");
        vx_mp_array(b, r->n_models);
        for (uint32_t i = 0; i < r->n_models; i++) {
            const vx_model_info *mi = &r->models[i];
            vx_mp_map(b, 5 + (mi->model_name != NULL) + (mi->reason != NULL));
            kstr(b, "id", mi->id);
            kstr(b, "provider", mi->provider);
            if (mi->model_name)
                kstr(b, "model_name", mi->model_name);
            kuint(b, "dimensions", mi->dimensions);
            kbool(b, "is_remote", mi->is_remote);
            kbool(b, "available", mi->available);
            if (mi->reason)
                kstr(b, "reason", mi->reason);
        }
        return;
    }
    case VX_MSG_MODELS_BENCH: {
        const vx_models_bench_rep *r = &m->body.models_bench;
        vx_mp_map(b, 1 + (r->default_model != NULL));
        if (r->default_model)
            kstr(b, "default", r->default_model);
        key(b, "models");
        vx_mp_array(b, r->n_models);
        for (uint32_t i = 0; i < r->n_models; i++) {
            const vx_model_bench *mb = &r->models[i];
            bool measured = mb->available && !mb->reason;
            vx_mp_map(b, 3 + (mb->reason != NULL) + (measured ? 6 : 0));
            kstr(b, "id", mb->id);
            kuint(b, "dimensions", mb->dimensions);
            kbool(b, "available", mb->available);
            if (mb->reason)
                kstr(b, "reason", mb->reason);
            if (measured) {
                kdouble(b, "single_ms", mb->single_ms);
                kdouble(b, "batch_ms", mb->batch_ms);
                kdouble(b, "texts_per_s", mb->texts_per_s);
                kdouble(b, "contrast", mb->contrast);
                kdouble(b, "within", mb->within);
                kdouble(b, "cross", mb->cross);
            }
        }
        return;
    }
    }
}

static void enc_envelope(vx_buf *b, vx_msg_type type, uint64_t request_id, int32_t status)
{
    vx_mp_array(b, 5);
    vx_mp_uint(b, VX_PROTO_VERSION);
    vx_mp_uint(b, (uint64_t)type);
    vx_mp_uint(b, request_id);
    vx_mp_int(b, status);
}

int vx_proto_encode_reply(const vx_reply *m, vx_buf *out)
{
    char err[256];
    if (vxp_check_reply(m, err, sizeof err) != VX_OK) {
        VX_WARN("not encoding %s reply: %s", msg_name(m->type), err);
        return VX_ERR_INVALID;
    }
    if (m->status != VX_OK) {
        vx_proto_encode_error(m->type, m->request_id, m->status, m->err_message, out);
        return VX_OK;
    }
    enc_envelope(out, m->type, m->request_id, VX_OK);
    enc_reply_body(out, m);
    return VX_OK;
}

void vx_proto_encode_error(vx_msg_type type, uint64_t request_id, int status, const char *message,
                           vx_buf *out)
{
    if (status >= 0) /* an error reply always carries an error */
        status = VX_ERR_INTERNAL;
    enc_envelope(out, type, request_id, status);
    vx_mp_map(out, 2);
    kstr(out, "code", vx_errname(status));
    kstr(out, "message", message ? message : vx_strerror(status));
}
