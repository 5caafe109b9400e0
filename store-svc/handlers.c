/*
 * handlers.c — see handlers.h. One function per message type, all with the
 * signature of hd_fn: they fill rep->body (allocated in the request arena)
 * or return an error code with a message in ctx->err.
 */
#include "handlers.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collection.h"
#include "events.h"
#include "filter.h"
#include "persistence.h"
#include "vx_cpu_qos.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_proto.h"

#define HD_ARENA_CHUNK (256u << 10)

struct store_handlers {
    store *st;
    pers *p;    /* NULL: memory only */
    events *ev; /* NULL: no PUB socket */
    vx_cpu_qos *cpu_qos; /* NULL: idle CPUs sleep as usual */
    pthread_key_t arena_key;
};

typedef struct hd_ctx {
    store_handlers *h;
    const vx_request *req;
    vx_reply *rep;
    vx_arena *a;
    uint64_t start_ms;
    char err[512];
} hd_ctx;

static int hd_fail(hd_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int hd_fail(hd_ctx *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return code;
}

/* True when the caller has stopped waiting (checked once work could start). */
static bool hd_late(const hd_ctx *c)
{
    return c->req->deadline_ms && vx_now_ms() - c->start_ms > c->req->deadline_ms;
}

static int hd_acquire(hd_ctx *c, const char *name, bool write, store_ref **r)
{
    int rc = store_acquire(c->h->st, name, write, r);
    if (rc == VX_ERR_NOT_FOUND)
        return hd_fail(c, rc, "collection '%s' not found", name ? name : "");
    if (rc)
        return hd_fail(c, rc, "%s", vx_strerror(rc));
    if (hd_late(c)) {
        store_release(*r);
        *r = NULL;
        return hd_fail(c, VX_ERR_TIMEOUT, "deadline of %u ms passed before the request could run",
                       c->req->deadline_ms);
    }
    return VX_OK;
}

static void write_rep(hd_ctx *c, uint32_t n, uint64_t count, uint64_t lsn)
{
    c->rep->body.write.n = n;
    c->rep->body.write.count = count;
    c->rep->body.write.lsn = lsn;
    c->rep->body.write.durability = c->h->p ? pers_durability(c->h->p) : "none";
}

/* Logs rec (when persistent); called with the ordering lock held. */
static int hd_log(hd_ctx *c, const vx_request *rec, uint64_t *lsn)
{
    *lsn = 0;
    if (!c->h->p)
        return VX_OK;
    int rc = pers_log(c->h->p, rec, lsn);
    if (rc)
        return hd_fail(c, rc, "cannot write the log: %s (nothing was changed)", vx_strerror(rc));
    return VX_OK;
}

/* Waits for lsn to be durable (after the locks are released). */
static int hd_durable(hd_ctx *c, uint64_t lsn)
{
    if (!c->h->p || !lsn)
        return VX_OK;
    int rc = pers_wait(c->h->p, lsn);
    if (rc)
        return hd_fail(c, rc,
                       "the write (LSN %llu) is applied but could not be made durable: %s; the "
                       "log refuses further writes, restart the store",
                       (unsigned long long)lsn, vx_strerror(rc));
    return VX_OK;
}

static void hd_publish(hd_ctx *c, uint64_t lsn, const char *coll, const char *op, const char **ids,
                       uint32_t n_ids)
{
    if (!c->h->ev || !lsn)
        return;
    vx_event ev = {.lsn = lsn, .collection = coll, .op = op, .ids = ids, .n_ids = n_ids};
    events_publish(c->h->ev, &ev);
}

/* ---- one handler per message ---- */

static vx_value *mk_obj(vx_arena *a, uint32_t n)
{
    vx_value *v = vx_arena_alloc(a, sizeof *v);
    v->type = VX_VAL_OBJECT;
    v->u.obj.items = vx_arena_alloc(a, n * sizeof *v->u.obj.items);
    return v;
}

static void obj_add_int(vx_value *o, const char *key, int64_t i)
{
    vx_member *m = &o->u.obj.items[o->u.obj.n++];
    m->key = key;
    m->key_len = (uint32_t)strlen(key);
    m->value.type = VX_VAL_INT;
    m->value.u.i = i;
}

static int hd_health(hd_ctx *c)
{
    /* the keys the gateway's /metrics reads (api-gateway/metrics.c) */
    uint64_t colls, pts, mem;
    store_stats(c->h->st, &colls, &pts, &mem);
    vx_value *stats = mk_obj(c->a, 10);
    obj_add_int(stats, "collections", (int64_t)colls);
    obj_add_int(stats, "points", (int64_t)pts);
    obj_add_int(stats, "memory_bytes", (int64_t)mem);
    if (c->h->p) {
        wal_stats ws;
        wal_get_stats(pers_wal(c->h->p), &ws);
        obj_add_int(stats, "wal_last_lsn", (int64_t)ws.last_lsn);
        obj_add_int(stats, "wal_durable_lsn", (int64_t)ws.durable_lsn);
        obj_add_int(stats, "wal_records", (int64_t)ws.records);
        obj_add_int(stats, "wal_bytes", (int64_t)ws.bytes);
        obj_add_int(stats, "wal_fsyncs", (int64_t)ws.fsyncs);
        obj_add_int(stats, "wal_fsync_ns_total", (int64_t)ws.fsync_ns_total);
        obj_add_int(stats, "wal_fsync_ns_max", (int64_t)ws.fsync_ns_max);
        /* a poisoned log refuses every write until a restart re-reads the
         * disk (docs/DURABILITY.md §4): the store is unhealthy, not "ok" */
        if (ws.failed)
            return hd_fail(c, ws.failed,
                           "wal: a write or fsync failed and the log refuses writes: restart "
                           "the store");
    }
    c->rep->body.health.service = "store";
    c->rep->body.health.version = STORE_SERVICE_VERSION;
    c->rep->body.health.stats = stats;
    return VX_OK;
}

static int hd_coll_create(hd_ctx *c)
{
    uint64_t lsn;
    int rc = store_create_lsn(c->h->st, &c->req->body.coll_create, c->a, &c->rep->body.coll_info,
                              &lsn, c->err, sizeof c->err);
    if (rc == VX_OK && c->h->p && !lsn) {
        /* Already existed: its create record may still be in flight. */
        wal_stats ws;
        wal_get_stats(pers_wal(c->h->p), &ws);
        return hd_durable(c, ws.last_lsn);
    }
    if (rc == VX_OK)
        rc = hd_durable(c, lsn);
    if (rc == VX_OK)
        hd_publish(c, lsn, c->rep->body.coll_info.config.name, "coll_create", NULL, 0);
    return rc;
}

static int hd_coll_list(hd_ctx *c)
{
    store_list(c->h->st, c->a, &c->rep->body.coll_list.colls, &c->rep->body.coll_list.n_colls);
    return VX_OK;
}

static int hd_coll_info(hd_ctx *c)
{
    store_ref *r;
    int rc = hd_acquire(c, c->req->body.coll_name.name, false, &r);
    if (rc)
        return rc;
    coll_info(store_ref_coll(r), c->a, &c->rep->body.coll_info);
    store_release(r);
    return VX_OK;
}

static int hd_coll_delete(hd_ctx *c)
{
    const char *name = c->req->body.coll_name.name;
    uint64_t lsn;
    int rc = store_drop_lsn(c->h->st, name ? name : "", &lsn);
    if (rc == VX_ERR_NOT_FOUND)
        return hd_fail(c, rc, "collection '%s' not found", name ? name : "");
    if (rc)
        return hd_fail(c, rc, "cannot delete collection '%s': %s", name, vx_strerror(rc));
    if ((rc = hd_durable(c, lsn)))
        return rc;
    write_rep(c, 1, 0, lsn);
    hd_publish(c, lsn, name, "coll_delete", NULL, 0);
    return VX_OK;
}

static int hd_upsert(hd_ctx *c)
{
    const vx_upsert_req *u = &c->req->body.upsert;
    store_ref *r = NULL;
    uint64_t create_lsn = 0, lsn = 0;
    int rc;
    if (u->create_if_missing) {
        if (u->n_points == 0 || !u->points[0].vector)
            return hd_fail(c, VX_ERR_INVALID,
                           "points[0].vector: required to create collection '%s'",
                           u->collection ? u->collection : "");
        vx_coll_config cfg = {0};
        cfg.name = u->collection;
        cfg.dimension = u->points[0].dim;
        cfg.metric = VX_METRIC_COSINE;
        cfg.index.type = VX_INDEX_FLAT;
        /* When it is missing, validate the batch against the collection it
         * would create before creating it: a refused batch must not leave an
         * empty collection (an existing one checks the batch below). */
        store_ref *probe = NULL;
        if (store_acquire(c->h->st, u->collection, false, &probe) == VX_OK) {
            store_release(probe);
        } else {
            collection *dry = NULL;
            rc = coll_create(&cfg, &dry, c->err, sizeof c->err);
            if (rc == VX_OK)
                rc = coll_upsert_check(dry, u->points, u->n_points, c->err, sizeof c->err);
            coll_destroy(dry);
            if (rc)
                return rc;
        }
        bool created;
        rc = store_acquire_or_create_lsn(c->h->st, &cfg, &r, &created, &create_lsn, c->err,
                                         sizeof c->err);
        if (rc)
            return rc;
        if (created)
            VX_INFO("created collection '%s' (dimension %u, cosine, flat) on first upsert",
                    cfg.name, cfg.dimension);
        if (hd_late(c)) {
            store_release(r);
            if ((rc = hd_durable(c, create_lsn)))
                return rc;
            hd_publish(c, create_lsn, u->collection, "coll_create", NULL, 0);
            return hd_fail(c, VX_ERR_TIMEOUT, "deadline of %u ms passed before the request could run",
                           c->req->deadline_ms);
        }
    } else {
        rc = hd_acquire(c, u->collection, true, &r);
        if (rc)
            return rc;
    }
    collection *coll = store_ref_coll(r);
    uint64_t count = 0;
    uint32_t *link = NULL, n_link = 0;
    rc = coll_upsert_check(coll, u->points, u->n_points, c->err, sizeof c->err);
    if (rc == VX_OK) {
        vx_request rec = {.type = VX_MSG_POINTS_UPSERT};
        rec.body.upsert = *u;
        rec.body.upsert.collection = coll_config(coll)->name;
        rec.body.upsert.create_if_missing = false;
        rc = hd_log(c, &rec, &lsn);
    }
    if (rc == VX_OK) {
        rc = coll_upsert_deferred(coll, u->points, u->n_points, &link, &n_link, c->err,
                                  sizeof c->err);
        if (rc && lsn)
            VX_ERROR("upsert LSN %llu into '%s' is logged but failed in memory: %s (a restart "
                     "applies it)", (unsigned long long)lsn, u->collection, c->err);
        if (lsn)
            store_ref_set_applied_lsn(r, lsn);
        count = coll_count(coll);
    }
    /* Link the batch into the graph under a read lock: searches of the
     * collection go on meanwhile; the write is acknowledged after it. */
    bool held = true;
    if (n_link) {
        if (store_ref_downgrade(r) == VX_OK) {
            coll_link(coll, link, n_link);
        } else {
            free(link); /* dropped meanwhile (r released): nothing to link */
            held = false;
        }
    }
    if (held)
        store_release(r);
    /* A create that happened is committed even if the upsert failed. */
    int drc = hd_durable(c, lsn ? lsn : create_lsn);
    hd_publish(c, create_lsn, u->collection, "coll_create", NULL, 0);
    if (rc)
        return rc;
    if (drc)
        return drc;
    write_rep(c, u->n_points, count, lsn);
    if (c->h->ev && lsn) {
        const char **ids = vx_arena_alloc(c->a, (u->n_points ? u->n_points : 1) * sizeof *ids);
        for (uint32_t i = 0; i < u->n_points; i++)
            ids[i] = u->points[i].id;
        hd_publish(c, lsn, u->collection, "upsert", ids, u->n_points);
    }
    return VX_OK;
}

static int hd_get(hd_ctx *c)
{
    const vx_get_req *g = &c->req->body.get;
    store_ref *r;
    int rc = hd_acquire(c, g->collection, false, &r);
    if (rc)
        return rc;
    rc = coll_get(store_ref_coll(r), g->id, g->with_vector, c->a, &c->rep->body.point);
    store_release(r);
    if (rc == VX_ERR_NOT_FOUND)
        return hd_fail(c, rc, "point '%s' not found in collection '%s'", g->id ? g->id : "",
                       g->collection);
    return rc;
}

/* The ids of the live points matching filter (non-empty), in slot order. */
static int hd_resolve_filter(hd_ctx *c, const collection *coll, const vx_value *filter,
                             const char ***ids, uint32_t *n)
{
    const vx_filter *f;
    *ids = NULL;
    *n = 0;
    int rc = filter_compile(filter, c->a, &f, c->err, sizeof c->err);
    if (rc)
        return rc;
    if (!f)
        return hd_fail(c, VX_ERR_INVALID,
                       "filter: must not be empty (delete the collection to remove every point)");
    uint32_t slots = coll_n_slots(coll), cap = 0;
    for (uint32_t s = 0; s < slots; s++) {
        uint32_t len;
        const unsigned char *meta = coll_slot_meta(coll, s, &len);
        if (!coll_slot_live(coll, s) || !filter_match(f, meta, len))
            continue;
        if (*n == cap) {
            uint32_t ncap = cap ? cap * 2 : 64;
            const char **grown = vx_arena_alloc(c->a, ncap * sizeof *grown);
            if (cap)
                memcpy(grown, *ids, cap * sizeof *grown);
            *ids = grown;
            cap = ncap;
        }
        (*ids)[(*n)++] = coll_slot_id(coll, s); /* valid while the write lock is held */
    }
    return VX_OK;
}

static int hd_delete(hd_ctx *c)
{
    const vx_delete_req *d = &c->req->body.del;
    if (d->n_ids && d->filter)
        return hd_fail(c, VX_ERR_INVALID, "ids: give either ids or a filter, not both");
    if (!d->n_ids && !d->filter)
        return hd_fail(c, VX_ERR_INVALID, "ids: expected a non-empty list of ids or a filter");
    store_ref *r;
    int rc = hd_acquire(c, d->collection, true, &r);
    if (rc)
        return rc;
    collection *coll = store_ref_coll(r);
    const char **ids = d->ids;
    uint32_t n_ids = d->n_ids, n = 0, n_recs = 0;
    uint64_t lsn = 0, *lsns = NULL;
    if (d->filter) {
        rc = hd_resolve_filter(c, coll, d->filter, &ids, &n_ids);
        if (rc == VX_OK && n_ids) {
            /* Copy the ids: they point into the collection, and deleting frees them. */
            for (uint32_t i = 0; i < n_ids; i++)
                ids[i] = vx_arena_strdup(c->a, ids[i]);
        }
    }
    lsns = vx_arena_alloc(c->a, ((size_t)n_ids / VX_MAX_BATCH + 1) * sizeof *lsns);
    /* One record per VX_MAX_BATCH ids (a filter may match many more); an
     * explicit id list always fits one. Nothing to delete: nothing logged. */
    for (uint32_t at = 0; rc == VX_OK && at < n_ids; at += VX_MAX_BATCH) {
        uint32_t k = n_ids - at < VX_MAX_BATCH ? n_ids - at : VX_MAX_BATCH;
        vx_request rec = {.type = VX_MSG_POINTS_DELETE};
        rec.body.del.collection = coll_config(coll)->name;
        rec.body.del.ids = ids + at;
        rec.body.del.n_ids = k;
        rc = hd_log(c, &rec, &lsn);
        if (rc)
            break;
        lsns[n_recs++] = lsn;
        n += coll_delete_ids(coll, ids + at, k);
        if (lsn)
            store_ref_set_applied_lsn(r, lsn);
    }
    uint64_t count = coll_count(coll);
    store_release(r);
    int drc = hd_durable(c, lsn);
    if (rc)
        return rc;
    if (drc)
        return drc;
    write_rep(c, n, count, lsn);
    for (uint32_t i = 0; i < n_recs; i++) {
        uint32_t at = i * VX_MAX_BATCH;
        uint32_t k = n_ids - at < VX_MAX_BATCH ? n_ids - at : VX_MAX_BATCH;
        hd_publish(c, lsns[i], d->collection, "delete", ids + at, k);
    }
    return VX_OK;
}

static int hd_list(hd_ctx *c)
{
    const vx_list_req *l = &c->req->body.list;
    store_ref *r;
    int rc = hd_acquire(c, l->collection, false, &r);
    if (rc)
        return rc;
    rc = coll_list(store_ref_coll(r), l->cursor, l->limit ? l->limit : VX_DEFAULT_LIST_LIMIT,
                   l->with_vector, c->a, &c->rep->body.list, c->err, sizeof c->err);
    store_release(r);
    return rc;
}

static int hd_search(hd_ctx *c)
{
    const vx_search_req *s = &c->req->body.search;
    store_ref *r;
    int rc = hd_acquire(c, s->collection, false, &r);
    if (rc)
        return rc;
    rc = coll_search(store_ref_coll(r), s, c->a, &c->rep->body.search, c->err, sizeof c->err);
    store_release(r);
    return rc;
}

static int hd_events(hd_ctx *c)
{
    if (!c->h->p)
        return hd_fail(c, VX_ERR_UNAVAILABLE,
                       "events_since: this store runs without a log (no change events)");
    const vx_events_req *e = &c->req->body.events;
    return events_since(c->h->p, e->after_lsn, e->limit, c->a, &c->rep->body.events, c->err,
                        sizeof c->err);
}

static int hd_not_served(hd_ctx *c)
{
    const char *name = vx_msg_name(c->req->type);
    return hd_fail(c, VX_ERR_INVALID, "type: '%s' is not served by the store",
                   name ? name : "unknown");
}

typedef int (*hd_fn)(hd_ctx *c);

static hd_fn hd_lookup(vx_msg_type t)
{
    switch (t) {
    case VX_MSG_HEALTH: return hd_health;
    case VX_MSG_COLL_CREATE: return hd_coll_create;
    case VX_MSG_COLL_LIST: return hd_coll_list;
    case VX_MSG_COLL_INFO: return hd_coll_info;
    case VX_MSG_COLL_DELETE: return hd_coll_delete;
    case VX_MSG_POINTS_UPSERT: return hd_upsert;
    case VX_MSG_POINTS_GET: return hd_get;
    case VX_MSG_POINTS_DELETE: return hd_delete;
    case VX_MSG_POINTS_LIST: return hd_list;
    case VX_MSG_SEARCH: return hd_search;
    case VX_MSG_EVENTS_SINCE: return hd_events;
    default: return hd_not_served;
    }
}

/* ---- entry points ---- */

void handlers_handle(store_handlers *h, const unsigned char *bytes, size_t len, vx_arena *a,
                     vx_buf *reply)
{
    hd_ctx c;
    memset(&c, 0, sizeof c);
    vx_request *req = vx_arena_alloc(a, sizeof *req);
    vx_reply *rep = vx_arena_alloc(a, sizeof *rep);
    c.h = h;
    c.req = req;
    c.rep = rep;
    c.a = a;
    c.start_ms = vx_now_ms();
    int rc = vx_proto_decode_request(bytes, len, a, req, c.err, sizeof c.err);
    if (rc == VX_OK) {
        rc = hd_lookup(req->type)(&c);
        if (rc && !c.err[0])
            snprintf(c.err, sizeof c.err, "%s", vx_strerror(rc));
    } else if (!c.err[0]) {
        snprintf(c.err, sizeof c.err, "%s", vx_strerror(rc));
    }
    vx_buf_reset(reply);
    if (rc == VX_OK) {
        rep->version = VX_PROTO_VERSION;
        rep->type = req->type;
        rep->request_id = req->request_id;
        rep->status = VX_OK;
        rc = vx_proto_encode_reply(rep, reply);
        if (rc == VX_OK && reply->len <= VX_MAX_MSG_PAYLOAD)
            return;
        /* Never send what the peer would drop: nng closes the connection on a
         * message above its receive limit, failing every call in flight on it. */
        if (rc == VX_OK) {
            VX_WARN("reply to %s (request %llu) is %zu bytes, above the bus limit of %u",
                    vx_msg_name(req->type), (unsigned long long)req->request_id, reply->len,
                    VX_MAX_MSG_PAYLOAD);
            snprintf(c.err, sizeof c.err,
                     "reply of %zu bytes exceeds the bus message limit of %u bytes (ask for "
                     "fewer results, or without vectors or metadata)",
                     reply->len, VX_MAX_MSG_PAYLOAD);
        } else {
            VX_ERROR("cannot encode reply to %s (request %llu): %s", vx_msg_name(req->type),
                     (unsigned long long)req->request_id, vx_strerror(rc));
            snprintf(c.err, sizeof c.err, "reply exceeds a protocol limit (ask for fewer results)");
        }
        vx_buf_reset(reply);
        rc = VX_ERR_LIMIT;
    }
    vx_proto_encode_error(req->type, req->request_id, rc, c.err, reply);
}

static void arena_free(void *p)
{
    vx_arena_fini(p);
    free(p);
}

int handlers_create(store *st, store_handlers **out)
{
    store_handlers *h = calloc(1, sizeof *h);
    if (!h)
        return VX_ERR_NOMEM;
    h->st = st;
    if (pthread_key_create(&h->arena_key, arena_free)) {
        free(h);
        return VX_ERR_INTERNAL;
    }
    *out = h;
    return VX_OK;
}

void handlers_set_persistence(store_handlers *h, pers *p, events *ev)
{
    h->p = p;
    h->ev = ev;
}

void handlers_destroy(store_handlers *h)
{
    if (!h)
        return;
    /* Arenas of threads that already exited were freed by the key's
     * destructor; the calling thread's own one is freed here. */
    vx_arena *a = pthread_getspecific(h->arena_key);
    if (a)
        arena_free(a);
    pthread_key_delete(h->arena_key);
    free(h);
}

void handlers_serve(void *arg, const unsigned char *req, size_t req_len, vx_buf *reply)
{
    store_handlers *h = arg;
    vx_arena *a = pthread_getspecific(h->arena_key);
    if (!a) {
        a = malloc(sizeof *a);
        if (!a) {
            vx_proto_encode_error(0, 0, VX_ERR_NOMEM, "out of memory", reply);
            return;
        }
        vx_arena_init(a, HD_ARENA_CHUNK);
        pthread_setspecific(h->arena_key, a);
    }
    vx_cpu_qos_enter(h->cpu_qos);
    handlers_handle(h, req, req_len, a, reply);
    vx_arena_reset(a);
    vx_cpu_qos_leave(h->cpu_qos); /* the linger covers sending the reply */
}

void handlers_set_cpu_qos(store_handlers *h, vx_cpu_qos *q) { h->cpu_qos = q; }
