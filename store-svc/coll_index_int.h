/*
 * coll_index_int.h — the coll_index struct, shared by coll_index.c (links,
 * search, synchronous rebuilds, persistence) and coll_index_bg.c (the
 * background rebuild). Not for other modules: they use coll_index.h.
 */
#ifndef COLL_INDEX_INT_H
#define COLL_INDEX_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "coll_index.h"
#include "filter.h"
#include "hnsw.h"
#include "topk.h"

struct coll_index {
    hnsw_index *h;
    vx_metric metric;
    uint32_t dim, m, efc;
    const char *name; /* the collection's (for logs); owned by the collection */
    uint64_t uid;     /* unique per coll_index in this process (never reused) */
    uint32_t *pending;
    uint32_t n_pending, cap_pending;
    pthread_rwlock_t link_lock;
    bool stale; /* atomic */
    bool loaded;
    uint64_t rebuilds;
    /* path counters, bumped by concurrent readers */
    uint64_t n_graph, n_small, n_filter, n_forced;
    /* background rebuild (coll_index_bg.c). rebuild_due is atomic (set
     * under the write lock, read by the rebuilder under a read lock);
     * building and touched change under the write lock, or under a read
     * lock while no build runs (begin). */
    bool rebuild_due;
    bool building;
    bool touched_lost; /* an append to touched failed: the build is void */
    uint32_t *touched; /* slots written or deleted since the build began */
    uint32_t n_touched, cap_touched;
    /* links deferred by WAL replay (coll_index_backlog.c). defer: set while
     * replay applies records (flush then queues instead of linking).
     * backlog and linking are sorted slot lists that change only under the
     * write lock: backlog waits for the rebuilder; linking is the chunk it
     * links now under a read lock. Searches score both exactly. */
    bool defer;
    uint32_t *backlog;
    uint32_t n_backlog, cap_backlog;
    uint32_t *linking;
    uint32_t n_linking, cap_linking;
};

/* The graph (same parameters as the collection's) a rebuild fills. */
int coll_index_new_graph(const coll_index *ix, hnsw_index **out);
/* Inserts rows[i] (dim floats each) under labels slots[i], i < n, with up
 * to COLL_INDEX_THREADS threads; no collection lock is needed. */
int coll_index_insert_rows(hnsw_index *h, const uint32_t *slots, const float *rows, uint32_t n,
                           uint32_t dim);
/* Records slot as changed while a background build runs (write lock). */
void coll_index_touch(coll_index *ix, uint32_t slot);
/* True when a background rebuilder takes over a due rebuild (write lock). */
bool coll_index_bg_request(coll_index *ix);
/* qsort comparator of uint32_t slots, ascending. */
int coll_index_cmp_slots(const void *a, const void *b);
/* Wakes the registered rebuilder, if any. */
void coll_index_bg_wake(void);
/* Links slots[0..n) into the graph now (sorted and de-duplicated in place);
 * a failure marks the index stale. Write lock, or a read lock (links may
 * run side by side). */
void coll_index_link_slots(coll_index *ix, const collection *c, uint32_t *slots, uint32_t n);
/* While defer is set: queues the pending slots on the backlog (write lock).
 * false when memory is short: the caller links them now instead. */
bool coll_index_backlog_queue(coll_index *ix);
/* Merges the graph's n results (labels, raw distances) with exact scores
 * of the backlog and linking slots that are live and match f, into the k
 * best items (scores as the contract's); returns how many. Read lock. */
uint32_t coll_index_backlog_merge(const coll_index *ix, const collection *c, const float *q,
                                  const vx_filter *f, uint32_t k, const uint32_t *labels,
                                  const float *dists, uint32_t n, topk_item *items);

#endif
