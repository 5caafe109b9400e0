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
#include "hnsw.h"

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

#endif
