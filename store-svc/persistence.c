/*
 * persistence.c — see persistence.h.
 *
 * Recovery order (docs/DURABILITY.md §6): snapshot (newest valid; a corrupt
 * newest one stops start-up unless accept_loss) → collections; WAL replay
 * after the snapshot's LSN with torn-tail repair (mid-log damage stops
 * start-up unless accept_loss); wal_open at the LSN after the last record;
 * snapshot .tmp leftovers pruned; store log hook installed last, so
 * nothing done during recovery is logged again.
 */
#include "persistence.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coll_index.h"
#include "coll_snapshot.h"
#include "collection.h"
#include "fsutil.h"
#include "persist.h"
#include "snapshot.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

#define PERS_ARENA_CHUNK (1u << 20)

struct pers {
    store *st;
    wal *w;
    char *dir;
};

/* ---- codec ---- */

int pers_encode(const vx_request *rec, vx_buf *out)
{
    vx_request r = *rec;
    r.version = VX_PROTO_VERSION;
    r.request_id = 0;
    r.deadline_ms = 0;
    return vx_proto_encode_request(&r, out);
}

int pers_decode(const wal_record *r, vx_arena *a, vx_request *out, char *err, size_t err_len)
{
    char why[256] = "";
    int rc = vx_proto_decode_request_flags(r->payload, r->len, a, out, VX_PROTO_DECODE_LOGGED, why,
                                           sizeof why);
    if (rc == VX_OK && (int)out->type != (int)r->type) {
        snprintf(why, sizeof why, "payload is a '%s' request, record type is %u",
                 vx_msg_name(out->type) ? vx_msg_name(out->type) : "?", r->type);
        rc = VX_ERR_CORRUPT;
    }
    if (rc == VX_OK && r->type != VX_MSG_COLL_CREATE && r->type != VX_MSG_COLL_DELETE &&
        r->type != VX_MSG_POINTS_UPSERT && r->type != VX_MSG_POINTS_DELETE) {
        snprintf(why, sizeof why, "record type %u is not a write", r->type);
        rc = VX_ERR_CORRUPT;
    }
    if (rc == VX_OK && r->type == VX_MSG_POINTS_DELETE && out->body.del.filter) {
        snprintf(why, sizeof why, "a logged delete must list ids, not a filter");
        rc = VX_ERR_CORRUPT;
    }
    if (rc == VX_OK)
        return VX_OK;
    snprintf(err, err_len, "%s: offset %" PRIu64 ": record LSN %" PRIu64 " cannot be decoded: %s",
             r->file ? r->file : "wal", r->offset, r->lsn, why);
    return VX_ERR_CORRUPT;
}

/* ---- apply (replay) ---- */

static int apply_create(store *st, uint64_t lsn, const vx_coll_config *cfg, bool *applied,
                        char *err, size_t err_len)
{
    store_ref *r;
    if (store_acquire(st, cfg->name, false, &r) == VX_OK) {
        /* Exists: either the snapshot already reflects this create
         * (applied_lsn >= lsn) or it is an idempotent re-create. */
        store_release(r);
        return VX_OK;
    }
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_coll_info info;
    int rc = store_create(st, cfg, &a, &info, err, err_len);
    vx_arena_fini(&a);
    if (rc == VX_OK)
        rc = store_acquire(st, cfg->name, true, &r);
    if (rc)
        return rc;
    store_ref_set_applied_lsn(r, lsn);
    store_release(r);
    *applied = true;
    return VX_OK;
}

int pers_apply(store *st, uint64_t lsn, const vx_request *rec, bool *applied, char *err,
               size_t err_len)
{
    *applied = false;
    if (rec->type == VX_MSG_COLL_CREATE)
        return apply_create(st, lsn, &rec->body.coll_create, applied, err, err_len);
    const char *name = rec->type == VX_MSG_COLL_DELETE      ? rec->body.coll_name.name
                       : rec->type == VX_MSG_POINTS_UPSERT ? rec->body.upsert.collection
                                                           : rec->body.del.collection;
    store_ref *r;
    if (store_acquire(st, name, rec->type != VX_MSG_COLL_DELETE, &r) != VX_OK)
        return VX_OK; /* dropped later in the log */
    if (store_ref_applied_lsn(r) >= lsn) {
        store_release(r);
        return VX_OK; /* already in the snapshot */
    }
    int rc = VX_OK;
    collection *c = store_ref_coll(r);
    if (rec->type == VX_MSG_COLL_DELETE) {
        store_release(r);
        rc = store_drop(st, name);
        *applied = rc == VX_OK;
        return rc == VX_ERR_NOT_FOUND ? VX_OK : rc;
    }
    /* graph links and 8-bit codes wait for the end of the replay
     * (pers_end_deferred_links; the codes for the rebuilder's catch-up) */
    coll_index_defer_links(coll_ann_mut(c));
    coll_defer_codes(c, true);
    if (rec->type == VX_MSG_POINTS_UPSERT)
        rc = coll_upsert(c, rec->body.upsert.points, rec->body.upsert.n_points, err, err_len);
    else
        coll_delete_ids(c, rec->body.del.ids, rec->body.del.n_ids);
    if (rc == VX_OK) {
        store_ref_set_applied_lsn(r, lsn);
        *applied = true;
    }
    store_release(r);
    return rc;
}

/* ---- recovery ---- */

/* After the replay: every collection links what it queued, or hands a large
 * backlog to the rebuilder (coll_index.h, "links deferred by WAL replay"),
 * and encodes its writes' 8-bit codes again (the rebuilder catches up on
 * the replayed rows). */
static void pers_end_deferred_links(store *st, vx_arena *a)
{
    vx_arena_reset(a);
    vx_coll_info *infos;
    uint32_t n;
    store_list(st, a, &infos, &n);
    for (uint32_t i = 0; i < n; i++) {
        store_ref *r;
        if (store_acquire(st, infos[i].config.name, true, &r) != VX_OK)
            continue;
        collection *c = store_ref_coll(r);
        coll_index_end_deferred_links(coll_ann_mut(c), c);
        coll_defer_codes(c, false);
        store_release(r);
    }
}

/* Starts reading the newest snapshot into the page cache at full disk
 * speed (the kernel's readahead on mmap page faults is much smaller), so
 * the verification pass that follows mostly finds pages already read. */
static void prefetch_newest_snapshot(const char *dir)
{
    char **names;
    size_t n;
    if (fsu_list_dir(dir, SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX, &names, &n) != VX_OK || !n)
        return;
    char path[4096];
    if (fsu_path(path, sizeof path, dir, names[n - 1]) == VX_OK) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
            close(fd);
        }
    }
    fsu_list_free(names, n);
}

typedef struct replay_ctx {
    store *st;
    vx_arena a;
    uint64_t replayed, skipped;
    char *err;
    size_t err_len;
} replay_ctx;

static int replay_one(void *arg, const wal_record *r)
{
    replay_ctx *x = arg;
    vx_arena_reset(&x->a);
    vx_request req;
    int rc = pers_decode(r, &x->a, &req, x->err, x->err_len);
    if (rc)
        return rc;
    bool applied;
    char why[256] = "";
    rc = pers_apply(x->st, r->lsn, &req, &applied, why, sizeof why);
    if (rc) {
        snprintf(x->err, x->err_len, "%s: offset %" PRIu64 ": record LSN %" PRIu64
                 " cannot be applied: %s", r->file, r->offset, r->lsn,
                 why[0] ? why : vx_strerror(rc));
        return rc == VX_ERR_NOMEM ? rc : VX_ERR_CORRUPT;
    }
    if (applied)
        x->replayed++;
    else
        x->skipped++;
    return 0;
}

static int log_hook(void *ctx, const vx_request *rec, uint64_t *lsn)
{
    return pers_log(ctx, rec, lsn);
}

int pers_open(pers **out, store *st, const pers_opts *o, pers_summary *sum_out, char *err,
              size_t err_len)
{
    *out = NULL;
    pers_summary sum;
    memset(&sum, 0, sizeof sum);
    uint64_t t0 = vx_now_ms();
    snap *s = NULL;
    pers *p = calloc(1, sizeof *p);
    replay_ctx x = {.st = st, .err = err, .err_len = err_len};
    vx_arena_init(&x.a, PERS_ARENA_CHUNK);
    int rc = VX_ERR_NOMEM;
    if (!p || !(p->dir = strdup(o->dir)))
        goto fail;
    p->st = st;
    if ((rc = fsu_mkdir_p(o->dir))) {
        snprintf(err, err_len, "%s: cannot create the data directory", o->dir);
        goto fail;
    }
    /* 1-2. snapshot */
    prefetch_newest_snapshot(o->dir);
    rc = snap_find_latest(o->dir, o->accept_loss, &s, err, err_len);
    if (rc == VX_ERR_NOT_FOUND) {
        rc = VX_OK;
    } else if (rc) {
        goto fail;
    } else {
        sum.snapshot_lsn = snap_lsn(s);
        rc = csnap_load(st, s, err, err_len);
        if (rc)
            goto fail;
        VX_INFO("recovery: loaded %s (LSN %" PRIu64 ", %" PRIu64 " bytes) in %" PRIu64 " ms",
                snap_path(s), snap_lsn(s), snap_file_size(s), vx_now_ms() - t0);
        snap_close(s);
        s = NULL;
    }
    sum.snapshot_ms = vx_now_ms() - t0;
    /* 3. WAL after the snapshot */
    wal_replay_opts ro = {.repair = true, .accept_loss = o->accept_loss};
    wal_replay_result res;
    err[0] = '\0';
    rc = wal_replay(o->dir, sum.snapshot_lsn, replay_one, &x, &ro, &res);
    if (rc) {
        if (!err[0])
            snprintf(err, err_len, "%s", res.error[0] ? res.error : vx_strerror(rc));
        goto fail;
    }
    pers_end_deferred_links(st, &x.a);
    sum.replayed = x.replayed;
    sum.skipped = x.skipped;
    sum.torn_tail = res.torn_tail;
    sum.data_lost = res.data_lost;
    sum.next_lsn = res.next_lsn;
    sum.replay_ms = vx_now_ms() - t0 - sum.snapshot_ms;
    /* 4. open the log for appending */
    wal_open_opts wo = {.policy = o->policy, .segment_bytes = o->segment_bytes};
    rc = wal_open(&p->w, o->dir, &wo, res.next_lsn);
    if (rc) {
        snprintf(err, err_len, "%s: cannot open the WAL for writing: %s", o->dir, vx_strerror(rc));
        goto fail;
    }
    /* 5. leftovers */
    if (snap_prune(o->dir, 2, NULL) != VX_OK)
        VX_WARN("recovery: cannot prune old snapshots in %s", o->dir);
    store_stats(st, &sum.collections, &sum.points, NULL);
    sum.total_ms = vx_now_ms() - t0;
    store_set_log(st, log_hook, p);
    vx_arena_fini(&x.a);
    if (sum_out)
        *sum_out = sum;
    *out = p;
    return VX_OK;
fail:
    snap_close(s);
    vx_arena_fini(&x.a);
    if (p) {
        wal_close(p->w);
        free(p->dir);
        free(p);
    }
    if (rc == VX_ERR_NOMEM && !err[0])
        snprintf(err, err_len, "out of memory during recovery");
    return rc;
}

void pers_close(pers *p)
{
    if (!p)
        return;
    store_set_log(p->st, NULL, NULL);
    if (wal_close(p->w) != VX_OK)
        VX_ERROR("wal: closing the log in %s failed", p->dir);
    free(p->dir);
    free(p);
}

/* ---- the log ---- */

int pers_log(pers *p, const vx_request *rec, uint64_t *lsn)
{
    vx_buf b = VX_BUF_INIT;
    int rc = pers_encode(rec, &b);
    if (rc == VX_OK)
        rc = wal_write(p->w, (uint8_t)rec->type, b.data, b.len, lsn);
    vx_buf_free(&b);
    return rc;
}

int pers_wait(pers *p, uint64_t lsn) { return lsn ? wal_wait_durable(p->w, lsn) : VX_OK; }

const char *pers_durability(const pers *p) { return wal_fsync_policy_name(wal_policy(p->w)); }
wal *pers_wal(pers *p) { return p->w; }
const char *pers_dir(const pers *p) { return p->dir; }
