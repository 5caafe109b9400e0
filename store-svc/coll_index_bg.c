/*
 * coll_index_bg.c — rebuilding a collection's graph in the background (see
 * coll_index.h, "Background rebuild").
 *
 * When the tombstones of a graph pass hnsw_needs_rebuild's threshold, a
 * write used to rebuild the whole graph under the collection's write lock:
 * every search and write of the collection waited for it (about a minute
 * at 1M points on 2 cores), and so did the delete that crossed the
 * threshold. With a rebuilder registered (coll_index_set_rebuilder), a
 * graph of at least COLL_INDEX_BG_MIN nodes is instead marked due and the
 * rebuilder is woken; the old graph keeps answering (its tombstones are
 * skipped, so results stay correct) while a new one is built:
 *
 *   begin   (read lock)   a new empty graph; `building` set, touched empty
 *   copy    (read lock)   the next COLL_INDEX_BG_CHUNK live slots' rows are
 *                         copied out (the lock is held only for the copy)
 *   insert  (no lock)     the copied rows go into the new graph
 *   ...                   writes run between chunks: every slot an upsert
 *                         notes or a delete removes is recorded in touched
 *   finish  (write lock)  each touched slot is re-inserted with its current
 *                         row when live, removed from the new graph when
 *                         not; then the new graph replaces the old one
 *
 * Invariant at finish: the new graph holds every slot live at finish with
 * its current row. A slot live at the end was either copied (and if it was
 * written after its copy, it is touched) or written after begin (touched);
 * a slot deleted after its copy is touched, hence removed. A batch taken
 * by coll_index_take_pending links into whatever graph is current when it
 * links (possibly the new one: its slots are touched too, so they are
 * inserted twice — hnsw_insert replaces a label, the first node becomes a
 * tombstone).
 */
#include "coll_index.h"
#include "coll_index_int.h"

#include <stdlib.h>
#include <string.h>

#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

struct coll_index_build {
    uint64_t uid;       /* the coll_index it is for */
    hnsw_index *h;      /* the new graph */
    uint32_t next_slot; /* copy resumes here */
    uint32_t dim;
    uint32_t n;         /* rows in the chunk buffers */
    uint32_t *slots;    /* [COLL_INDEX_BG_CHUNK] */
    float *rows;        /* [COLL_INDEX_BG_CHUNK · dim] */
    uint64_t t0_us;
};

/* Graphs below this many nodes are rebuilt synchronously (tests lower it). */
static uint32_t g_bg_min = COLL_INDEX_BG_MIN;

void coll_index_set_bg_min(uint32_t nodes) { __atomic_store_n(&g_bg_min, nodes, __ATOMIC_RELAXED); }

/* The registered rebuilder (NULL: rebuilds stay synchronous). */
static void (*g_wake)(void *);
static void *g_wake_arg;
static pthread_mutex_t g_wake_mu = PTHREAD_MUTEX_INITIALIZER;

void coll_index_set_rebuilder(void (*wake)(void *arg), void *arg)
{
    pthread_mutex_lock(&g_wake_mu);
    g_wake = wake;
    g_wake_arg = arg;
    pthread_mutex_unlock(&g_wake_mu);
}

void coll_index_bg_wake(void)
{
    pthread_mutex_lock(&g_wake_mu);
    if (g_wake)
        g_wake(g_wake_arg);
    pthread_mutex_unlock(&g_wake_mu);
}

bool coll_index_bg_request(coll_index *ix)
{
    bool taken = false;
    pthread_mutex_lock(&g_wake_mu);
    if (g_wake) {
        if (__atomic_load_n(&ix->rebuild_due, __ATOMIC_ACQUIRE) || ix->building) {
            taken = true; /* asked already; the rebuilder will get to it */
        } else if (hnsw_node_count(ix->h) >= __atomic_load_n(&g_bg_min, __ATOMIC_RELAXED)) {
            __atomic_store_n(&ix->rebuild_due, true, __ATOMIC_RELEASE);
            g_wake(g_wake_arg);
            taken = true;
        }
    }
    pthread_mutex_unlock(&g_wake_mu);
    return taken;
}

bool coll_index_rebuild_due(const coll_index *ix)
{
    return ix && __atomic_load_n(&ix->rebuild_due, __ATOMIC_ACQUIRE) && !ix->building;
}

uint64_t coll_index_uid(const coll_index *ix) { return ix ? ix->uid : 0; }

void coll_index_touch(coll_index *ix, uint32_t slot)
{
    if (ix->touched_lost)
        return;
    if (ix->n_touched == ix->cap_touched) {
        uint32_t cap = ix->cap_touched ? ix->cap_touched * 2 : 1024;
        uint32_t *t = realloc(ix->touched, (size_t)cap * sizeof *t);
        if (!t) {
            ix->touched_lost = true; /* finish will discard the build */
            return;
        }
        ix->touched = t;
        ix->cap_touched = cap;
    }
    ix->touched[ix->n_touched++] = slot;
}

static void build_free(coll_index_build *b)
{
    if (!b)
        return;
    hnsw_destroy(b->h);
    free(b->slots);
    free(b->rows);
    free(b);
}

int coll_index_build_begin(coll_index *ix, const collection *c, coll_index_build **out)
{
    (void)c;
    *out = NULL;
    if (!coll_index_rebuild_due(ix))
        return VX_OK;
    coll_index_build *b = calloc(1, sizeof *b);
    if (!b)
        return VX_ERR_NOMEM;
    b->uid = ix->uid;
    b->dim = ix->dim;
    b->t0_us = vx_now_us();
    b->slots = malloc(COLL_INDEX_BG_CHUNK * sizeof *b->slots);
    b->rows = malloc((size_t)COLL_INDEX_BG_CHUNK * ix->dim * sizeof *b->rows);
    int rc = b->slots && b->rows ? coll_index_new_graph(ix, &b->h) : VX_ERR_NOMEM;
    if (rc) {
        build_free(b);
        return rc;
    }
    /* No write runs (read lock held) and no other build (the rebuilder is
     * the only caller), so these fields are ours to reset. */
    ix->n_touched = 0;
    ix->touched_lost = false;
    ix->building = true;
    *out = b;
    return VX_OK;
}

int coll_index_build_copy(coll_index_build *b, const coll_index *ix, const collection *c,
                          bool *done)
{
    *done = false;
    b->n = 0;
    if (!ix || ix->uid != b->uid)
        return VX_ERR_NOT_FOUND;
    uint32_t n_slots = coll_n_slots(c);
    while (b->next_slot < n_slots && b->n < COLL_INDEX_BG_CHUNK) {
        uint32_t s = b->next_slot++;
        if (!coll_slot_live(c, s))
            continue;
        b->slots[b->n] = s;
        memcpy(b->rows + (size_t)b->n * b->dim, coll_slot_search_vector(c, s),
               (size_t)b->dim * sizeof *b->rows);
        b->n++;
    }
    *done = b->next_slot >= n_slots;
    return VX_OK;
}

int coll_index_build_insert(coll_index_build *b)
{
    return b->n ? coll_index_insert_rows(b->h, b->slots, b->rows, b->n, b->dim) : VX_OK;
}

int coll_index_build_finish(coll_index *ix, const collection *c, coll_index_build *b)
{
    int rc = VX_OK;
    if (!ix || ix->uid != b->uid) {
        build_free(b); /* the collection went away: nothing to reset */
        return VX_ERR_NOT_FOUND;
    }
    if (ix->touched_lost) {
        rc = VX_ERR_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < ix->n_touched && rc == VX_OK; i++) {
        uint32_t s = ix->touched[i];
        if (coll_slot_live(c, s))
            rc = hnsw_insert(b->h, s, coll_slot_search_vector(c, s));
        else
            (void)hnsw_remove(b->h, s); /* NOT_FOUND: never copied */
    }
    if (rc == VX_OK && hnsw_count(b->h) != coll_count(c))
        rc = VX_ERR_INTERNAL; /* cannot happen by the invariant; keep the old graph */
    if (rc == VX_OK) {
        VX_INFO("collection '%s': HNSW graph rebuilt in the background from %zu live points "
                "in %.1f s (%u changed meanwhile)",
                ix->name, hnsw_count(b->h), (double)(vx_now_us() - b->t0_us) * 1e-6,
                ix->n_touched);
        hnsw_destroy(ix->h);
        ix->h = b->h;
        b->h = NULL;
        ix->loaded = false;
        ix->rebuilds++;
        __atomic_store_n(&ix->stale, false, __ATOMIC_RELEASE);
    }
out:
    if (rc)
        VX_ERROR("collection '%s': background HNSW rebuild failed (%s); the old graph stays",
                 ix->name, vx_strerror(rc));
    ix->building = false;
    ix->n_touched = 0;
    __atomic_store_n(&ix->rebuild_due, false, __ATOMIC_RELEASE); /* the next write asks again */
    build_free(b);
    return rc;
}

void coll_index_build_abort(coll_index *ix, coll_index_build *b)
{
    if (ix && ix->uid == b->uid) {
        ix->building = false;
        ix->n_touched = 0;
        __atomic_store_n(&ix->rebuild_due, false, __ATOMIC_RELEASE);
    }
    build_free(b);
}
