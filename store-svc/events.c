/*
 * events.c — see events.h.
 *
 * events_since decodes WAL records in a scratch arena (a logged upsert
 * carries its vectors, which an event does not need) and copies only the
 * collection name and ids into the caller's arena. It stops at the first
 * record above the durable LSN read before the scan, at `limit` events, or
 * when the ids gathered so far approach EV_MAX_REPLY_BYTES.
 */
#include "events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "persist.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_rpc.h"
#include "wal.h"

/* Stop collecting once the ids of a reply reach this many bytes. */
#define EV_MAX_REPLY_BYTES (16u << 20)
#define EV_STOP 1 /* callback return value meaning "enough" (not an error) */

struct events {
    vx_rpc_pub *pub;
};

int events_open(events **out, const char *url)
{
    events *e = calloc(1, sizeof *e);
    if (!e)
        return VX_ERR_NOMEM;
    int rc = vx_rpc_pub_open(&e->pub, url);
    if (rc) {
        free(e);
        return rc;
    }
    *out = e;
    return VX_OK;
}

void events_close(events *e)
{
    if (!e)
        return;
    vx_rpc_pub_close(e->pub);
    free(e);
}

void events_publish(events *e, const vx_event *ev)
{
    if (!e)
        return;
    vx_reply rep;
    memset(&rep, 0, sizeof rep);
    rep.version = VX_PROTO_VERSION;
    rep.type = VX_MSG_EVENTS_SINCE;
    rep.status = VX_OK;
    rep.body.events.events = (vx_event *)ev;
    rep.body.events.n_events = 1;
    rep.body.events.last_lsn = ev->lsn;
    vx_buf b = VX_BUF_INIT;
    int rc = vx_proto_encode_reply(&rep, &b);
    if (rc == VX_OK)
        rc = vx_rpc_publish(e->pub, b.data, b.len);
    if (rc)
        VX_WARN("events: cannot publish LSN %" PRIu64 ": %s (subscribers catch up with "
                "events_since)", ev->lsn, vx_strerror(rc));
    vx_buf_free(&b);
}

void events_from_record(uint64_t lsn, const vx_request *rec, vx_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->lsn = lsn;
    switch (rec->type) {
    case VX_MSG_COLL_CREATE:
        ev->op = "coll_create";
        ev->collection = rec->body.coll_create.name;
        break;
    case VX_MSG_COLL_DELETE:
        ev->op = "coll_delete";
        ev->collection = rec->body.coll_name.name;
        break;
    case VX_MSG_POINTS_UPSERT:
        ev->op = "upsert";
        ev->collection = rec->body.upsert.collection;
        break;
    default:
        ev->op = "delete";
        ev->collection = rec->body.del.collection;
        ev->ids = rec->body.del.ids;
        ev->n_ids = rec->body.del.n_ids;
        break;
    }
}

typedef struct since_ctx {
    vx_arena scratch;
    vx_arena *a;
    uint64_t durable;
    uint32_t limit;
    vx_event *events;
    uint32_t n;
    size_t bytes;
    int rc;
    char *err;
    size_t err_len;
} since_ctx;

static int since_one(void *arg, const wal_record *r)
{
    since_ctx *x = arg;
    if (r->lsn > x->durable || x->n == x->limit || x->bytes >= EV_MAX_REPLY_BYTES)
        return EV_STOP;
    vx_arena_reset(&x->scratch);
    vx_request req;
    int rc = pers_decode(r, &x->scratch, &req, x->err, x->err_len);
    if (rc)
        return rc;
    vx_event ev;
    events_from_record(r->lsn, &req, &ev);
    const char **ids = NULL;
    uint32_t n_ids = ev.n_ids;
    const vx_point *pts = req.type == VX_MSG_POINTS_UPSERT ? req.body.upsert.points : NULL;
    if (pts)
        n_ids = req.body.upsert.n_points;
    if (n_ids) {
        ids = vx_arena_alloc(x->a, n_ids * sizeof *ids);
        for (uint32_t i = 0; i < n_ids; i++) {
            ids[i] = vx_arena_strdup(x->a, pts ? pts[i].id : ev.ids[i]);
            x->bytes += strlen(ids[i]) + 8;
        }
    }
    vx_event *out = &x->events[x->n++];
    *out = ev;
    out->collection = vx_arena_strdup(x->a, ev.collection);
    out->ids = ids;
    out->n_ids = n_ids;
    x->bytes += 64;
    return 0;
}

/* The LSN of the oldest WAL segment, 0 when there is none. */
static uint64_t oldest_segment(const char *dir)
{
    char **names;
    size_t n;
    uint64_t lsn = 0;
    if (fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n) != VX_OK)
        return 0;
    for (size_t i = 0; i < n && !lsn; i++)
        if (fsu_parse_lsn_name(names[i], WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &lsn) != 0)
            lsn = 0;
    fsu_list_free(names, n);
    return lsn;
}

int events_since(pers *p, uint64_t after_lsn, uint32_t limit, vx_arena *a, vx_events_rep *out,
                 char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (limit == 0)
        limit = VX_DEFAULT_LIST_LIMIT;
    if (limit > VX_MAX_LIST_LIMIT) {
        snprintf(err, err_len, "limit: %u is out of range 1..%d", limit, VX_MAX_LIST_LIMIT);
        return VX_ERR_INVALID;
    }
    wal_stats st;
    wal_get_stats(pers_wal(p), &st);
    /* Committed = fsynced under "always"; under everysec/none a write is
     * acknowledged once written, and durable_lsn may lag far behind. */
    uint64_t upto = wal_policy(pers_wal(p)) == WAL_FSYNC_ALWAYS ? st.durable_lsn : st.last_lsn;
    out->last_lsn = upto;
    if (after_lsn >= upto)
        return VX_OK; /* nothing newer is committed (also a cursor from the future) */
    since_ctx x = {.a = a, .durable = upto, .limit = limit, .err = err,
                   .err_len = err_len};
    x.events = vx_arena_alloc(a, limit * sizeof *x.events);
    vx_arena_init(&x.scratch, 1u << 20);
    wal_replay_opts ro = {.skip_covered = true};
    wal_replay_result res;
    int rc = VX_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint64_t oldest = oldest_segment(pers_dir(p));
        if (oldest && oldest > after_lsn + 1) {
            snprintf(err, err_len,
                     "after_lsn: %" PRIu64 " is too old: the log now starts at LSN %" PRIu64
                     " (older records were compacted into a snapshot); resynchronise from a "
                     "full listing, then follow from last_lsn %" PRIu64,
                     after_lsn, oldest, upto);
            rc = VX_ERR_NOT_FOUND;
            break;
        }
        x.n = 0;
        x.bytes = 0;
        err[0] = '\0';
        rc = wal_replay(pers_dir(p), after_lsn, since_one, &x, &ro, &res);
        if (rc == EV_STOP)
            rc = VX_OK;
        if (rc != VX_ERR_NOT_FOUND)
            break; /* NOT_FOUND: a segment was truncated under us; list again */
    }
    if (rc && !err[0])
        snprintf(err, err_len, "%s", res.error[0] ? res.error : vx_strerror(rc));
    vx_arena_fini(&x.scratch);
    if (rc)
        return rc;
    out->events = x.events;
    out->n_events = x.n;
    return VX_OK;
}
