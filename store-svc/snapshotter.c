/*
 * snapshotter.c — see snapshotter.h.
 *
 * Invariants: `mu` serialises snapshots (thread, on-demand, final);
 * last_lsn is the LSN of the newest committed snapshot (or the one loaded at
 * start), prev_lsn the one before it; the WAL is never truncated past
 * prev_lsn. `cv`/`stop` are guarded by `mu` as well; the thread sleeps on
 * cv with a SNAP_POLL_MS timeout between checks of the WAL size.
 */
#include "snapshotter.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coll_snapshot.h"
#include "snapshot.h"
#include "vx_arena.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"
#include "wal.h"

/* How often the thread compares the WAL size with the threshold (a
 * wal_get_stats call: one uncontended mutex). */
#define SNAP_POLL_MS 100
/* After a failed automatic snapshot (disk full, ...), wait this long before
 * trying again (each attempt rotates the WAL and rewrites everything). */
#define SNAP_RETRY_MS 30000

struct snapshotter {
    store *st;
    pers *p;
    snapshotter_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, stop;
    uint64_t last_lsn, prev_lsn;
    uint64_t bytes_at_last; /* wal_stats.bytes when the last snapshot started */
    uint64_t carried;       /* replayed bytes not yet covered by a snapshot */
    uint64_t last_ms;
    uint64_t count;
    uint64_t retry_at_ms; /* after a failed automatic snapshot: not before this */
};

/* Writes every collection; mu held. */
static int write_all(snapshotter *s, snap_writer *w, uint64_t *n_colls)
{
    vx_arena a;
    vx_arena_init(&a, 16384);
    vx_coll_info *infos;
    uint32_t n;
    store_list(s->st, &a, &infos, &n);
    int rc = VX_OK;
    *n_colls = 0;
    for (uint32_t i = 0; i < n && rc == VX_OK; i++) {
        store_ref *r;
        if (store_acquire(s->st, infos[i].config.name, false, &r) != VX_OK)
            continue; /* dropped since the listing: its drop is in the log after L */
        rc = csnap_write(w, store_ref_coll(r), store_ref_applied_lsn(r));
        store_release(r);
        (*n_colls)++;
    }
    vx_arena_fini(&a);
    return rc;
}

static int take_locked(snapshotter *s, uint64_t *lsn_out)
{
    wal *w = pers_wal(s->p);
    wal_stats st;
    wal_get_stats(w, &st);
    uint64_t L = st.last_lsn > s->o.base_lsn ? st.last_lsn : s->o.base_lsn;
    if (lsn_out)
        *lsn_out = 0;
    if (L == 0 || L == s->last_lsn)
        return VX_OK; /* nothing new */
    uint64_t t0 = vx_now_ms();
    int rc = wal_rotate(w);
    if (rc) {
        VX_ERROR("snapshot: cannot rotate the WAL: %s", vx_strerror(rc));
        return rc;
    }
    wal_get_stats(w, &st);
    if (st.last_lsn > L)
        L = st.last_lsn;
    uint64_t bytes_at_start = st.bytes;
    snap_writer *sw;
    rc = snap_writer_open(&sw, pers_dir(s->p), L);
    if (rc) {
        VX_ERROR("snapshot: cannot create a snapshot in %s: %s", pers_dir(s->p), vx_strerror(rc));
        return rc;
    }
    uint64_t n_colls = 0;
    rc = csnap_write_meta(sw, L);
    if (rc == VX_OK)
        rc = write_all(s, sw, &n_colls);
    char path[4096] = "";
    if (rc == VX_OK) {
        rc = snap_writer_commit(sw, path, sizeof path);
    } else {
        snap_writer_abort(sw);
    }
    if (rc) {
        VX_ERROR("snapshot at LSN %" PRIu64 " failed: %s (the WAL is kept)", L, vx_strerror(rc));
        return rc;
    }
    /* Durable: the WAL before the previous snapshot is no longer needed. */
    unsigned removed = 0;
    if (s->last_lsn && wal_truncate_before(w, s->last_lsn, &removed) != VX_OK)
        VX_WARN("snapshot: cannot truncate the WAL before LSN %" PRIu64, s->last_lsn);
    unsigned pruned = 0;
    if (snap_prune(pers_dir(s->p), 2, &pruned) != VX_OK)
        VX_WARN("snapshot: cannot prune old snapshots in %s", pers_dir(s->p));
    s->prev_lsn = s->last_lsn;
    s->last_lsn = L;
    s->bytes_at_last = bytes_at_start;
    s->carried = 0;
    s->last_ms = vx_now_ms();
    s->count++;
    VX_INFO("snapshot %s: LSN %" PRIu64 ", %" PRIu64 " collections, %" PRIu64
            " ms; removed %u WAL segments, %u old snapshots",
            path, L, n_colls, vx_now_ms() - t0, removed, pruned);
    if (lsn_out)
        *lsn_out = L;
    return VX_OK;
}

int snapshotter_take(snapshotter *s, uint64_t *lsn)
{
    pthread_mutex_lock(&s->mu);
    int rc = take_locked(s, lsn);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static bool due(snapshotter *s)
{
    wal_stats st;
    wal_get_stats(pers_wal(s->p), &st);
    uint64_t grown = st.bytes - s->bytes_at_last + s->carried;
    if (s->o.wal_bytes && grown >= s->o.wal_bytes)
        return true;
    return s->o.interval_ms && grown && vx_now_ms() - s->last_ms >= s->o.interval_ms;
}

static void *run(void *arg)
{
    snapshotter *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts = vx_timespec_in_ms(CLOCK_REALTIME, SNAP_POLL_MS);
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (!s->stop && vx_now_ms() >= s->retry_at_ms && due(s) && take_locked(s, NULL) != VX_OK)
            s->retry_at_ms = vx_now_ms() + SNAP_RETRY_MS; /* logged; the WAL is kept meanwhile */
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int snapshotter_start(snapshotter **out, store *st, pers *p, const snapshotter_opts *o)
{
    snapshotter *s = calloc(1, sizeof *s);
    if (!s)
        return VX_ERR_NOMEM;
    s->st = st;
    s->p = p;
    s->o = *o;
    s->last_lsn = o->prev_lsn;
    s->carried = o->carried_wal_bytes;
    s->last_ms = vx_now_ms();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (o->wal_bytes || o->interval_ms) {
        if (pthread_create(&s->thread, NULL, run, s)) {
            pthread_cond_destroy(&s->cv);
            pthread_mutex_destroy(&s->mu);
            free(s);
            return VX_ERR_INTERNAL;
        }
        s->running = true;
    }
    *out = s;
    return VX_OK;
}

void snapshotter_stop(snapshotter *s, bool final)
{
    if (!s)
        return;
    if (s->running) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (final)
        (void)snapshotter_take(s, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

uint64_t snapshotter_count(snapshotter *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}
