/*
 * rebuilder.c — see rebuilder.h.
 *
 * Invariants: `mu` guards woken/stop/done; the thread sleeps on cv until
 * woken (a graph became due: woken stays set while it walks, so a wake
 * during a walk makes it walk again) or stopped. A build holds no collection lock between steps, so a
 * stop is noticed within one chunk (COLL_INDEX_BG_CHUNK rows inserted).
 */
#include "rebuilder.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coll_index.h"
#include "collection.h"
#include "vx_arena.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

/* nice value of the rebuild threads (request threads run at 0) */
#define REBUILDER_NICE 10

struct rebuilder {
    store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken, stop;
    unsigned long done;
};

static void rebuilder_wake(void *arg)
{
    rebuilder *r = arg;
    pthread_mutex_lock(&r->mu);
    r->woken = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static bool stopping(rebuilder *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* Takes name with the given lock; NULL when it is gone. */
static collection *take(rebuilder *r, const char *name, bool write, store_ref **ref)
{
    return store_acquire(r->st, name, write, ref) == VX_OK ? store_ref_coll(*ref) : NULL;
}

/* One collection: links what WAL replay left queued (coll_index.h, "links
 * deferred by WAL replay"), a chunk per read-lock hold, so searches and
 * writes go on in between. */
static void catch_up_one(rebuilder *r, const char *name)
{
    store_ref *ref;
    collection *c = take(r, name, false, &ref);
    uint32_t queued = c ? coll_index_backlog_size(coll_ann_mut(c)) : 0;
    if (c)
        store_release(ref);
    if (!queued)
        return; /* the common case: no write lock taken */
    while (!stopping(r)) {
        c = take(r, name, true, &ref);
        if (!c)
            return;
        uint32_t *slots = NULL, n = 0;
        int rc = coll_index_backlog_take(coll_ann_mut(c), COLL_INDEX_BACKLOG_CHUNK, &slots, &n);
        if (rc || !n) {
            store_release(ref);
            if (rc)
                VX_ERROR("collection '%s': cannot link replayed points now (%s); searches keep "
                         "scoring them exactly", name, vx_strerror(rc));
            return;
        }
        if (store_ref_downgrade(ref) != VX_OK) {
            free(slots); /* dropped meanwhile */
            return;
        }
        coll_link(c, slots, n); /* frees slots */
        store_release(ref);
        if (!take(r, name, true, &ref))
            return;
        coll_index_backlog_done(coll_ann_mut(store_ref_coll(ref)));
        store_release(ref);
    }
}

/* One collection: encodes the 8-bit codes a restore left out, a chunk
 * per read-lock hold (~20 ms), so writes go on in between. */
static void codes_one(rebuilder *r, const char *name)
{
    uint64_t t0 = vx_now_us();
    uint32_t left = 1, rows = 0;
    while (left && !stopping(r)) {
        store_ref *ref;
        collection *c = take(r, name, false, &ref);
        if (!c)
            return;
        uint32_t before = coll_codes_catch_up(c, 0); /* 0 rows: only counts */
        left = coll_codes_catch_up(c, REBUILDER_CODES_CHUNK);
        rows += before - left;
        store_release(ref);
        if (left == 0 && rows > 0)
            VX_INFO("collection '%s': 8-bit codes of %u restored rows encoded in %.0f ms; exact "
                    "searches use the bounded scan", name, rows, (double)(vx_now_us() - t0) / 1e3);
    }
}

/* One collection: rebuilds its graph when due. */
static void rebuild_one(rebuilder *r, const char *name)
{
    store_ref *ref;
    collection *c = take(r, name, false, &ref);
    if (!c)
        return;
    coll_index_build *b = NULL;
    int rc = coll_index_build_begin(coll_ann_mut(c), c, &b);
    store_release(ref);
    if (rc || !b)
        return;
    bool done = false;
    while (!done) {
        c = take(r, name, false, &ref);
        rc = c ? coll_index_build_copy(b, coll_ann_mut(c), c, &done) : VX_ERR_NOT_FOUND;
        if (c)
            store_release(ref);
        if (rc == VX_OK)
            rc = coll_index_build_insert(b);
        if (rc == VX_OK && stopping(r))
            rc = VX_ERR_UNAVAILABLE;
        if (rc)
            break;
    }
    c = take(r, name, true, &ref);
    if (rc == VX_OK && c) {
        if (coll_index_build_finish(coll_ann_mut(c), c, b) == VX_OK) {
            pthread_mutex_lock(&r->mu);
            r->done++;
            pthread_mutex_unlock(&r->mu);
        }
    } else {
        if (rc && rc != VX_ERR_UNAVAILABLE && rc != VX_ERR_NOT_FOUND)
            VX_ERROR("collection '%s': background HNSW rebuild failed (%s)", name,
                     vx_strerror(rc));
        coll_index_build_abort(c ? coll_ann_mut(c) : NULL, b);
    }
    if (c)
        store_release(ref);
}

static void *rebuilder_main(void *p)
{
    rebuilder *r = p;
    /* Below the request threads: a rebuild takes the CPU searches leave
     * (its insert threads inherit this nice value). Linux: per thread. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), REBUILDER_NICE) != 0)
        VX_WARN("rebuilder: cannot lower its priority; rebuilds compete with searches");
    vx_arena a;
    vx_arena_init(&a, 16384);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->woken && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        bool stop = r->stop;
        r->woken = false;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        vx_arena_reset(&a);
        vx_coll_info *infos;
        uint32_t n;
        store_list(r->st, &a, &infos, &n);
        for (uint32_t i = 0; i < n && !stopping(r); i++) {
            codes_one(r, infos[i].config.name); /* cheap next to the graph's work */
            if (infos[i].config.index.type == VX_INDEX_HNSW) {
                catch_up_one(r, infos[i].config.name);
                rebuild_one(r, infos[i].config.name);
            }
        }
    }
    vx_arena_fini(&a);
    return NULL;
}

int rebuilder_start(rebuilder **out, store *st)
{
    *out = NULL;
    rebuilder *r = calloc(1, sizeof *r);
    if (!r)
        return VX_ERR_NOMEM;
    r->st = st;
    r->woken = true; /* a first pass: the replay may have left links queued */
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, rebuilder_main, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return VX_ERR_NOMEM;
    }
    coll_index_set_rebuilder(rebuilder_wake, r);
    *out = r;
    return VX_OK;
}

unsigned long rebuilder_count(rebuilder *r)
{
    pthread_mutex_lock(&r->mu);
    unsigned long n = r->done;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void rebuilder_stop(rebuilder *r)
{
    if (!r)
        return;
    coll_index_set_rebuilder(NULL, NULL);
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
