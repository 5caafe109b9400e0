/*
 * coll_index_backlog.c — HNSW links deferred by WAL replay (coll_index.h,
 * "links deferred by WAL replay").
 *
 * Invariants (struct coll_index in coll_index_int.h):
 *  - backlog[0..n_backlog) and linking[0..n_linking) are sorted, without
 *    duplicates, and change only under the collection's write lock, so a
 *    search (read lock) sees them stable.
 *  - A slot in linking is being linked by the rebuilder under a read lock;
 *    once that lock is released the link is complete, so whoever next holds
 *    the write lock may treat the chunk as linked (backlog_take does).
 *  - A slot leaves the backlog only to enter linking; leaves linking only
 *    after its link returned. So a replayed live slot is always either
 *    reachable in the graph or scored exactly by every graph search.
 */
#include "coll_index.h"
#include "coll_index_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distance.h"
#include "vx_err.h"
#include "vx_log.h"

static bool sorted_has(const uint32_t *v, uint32_t n, uint32_t slot)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] < slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == slot;
}

void coll_index_defer_links(coll_index *ix)
{
    if (ix)
        ix->defer = true;
}

bool coll_index_backlog_queue(coll_index *ix)
{
    uint64_t want = (uint64_t)ix->n_backlog + ix->n_pending;
    if (want > UINT32_MAX)
        return false;
    if (want > ix->cap_backlog) {
        uint64_t cap = ix->cap_backlog ? (uint64_t)ix->cap_backlog * 2 : 4096;
        if (cap < want)
            cap = want;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        uint32_t *b = realloc(ix->backlog, (size_t)cap * sizeof *b);
        if (!b)
            return false;
        ix->backlog = b;
        ix->cap_backlog = (uint32_t)cap;
    }
    memcpy(ix->backlog + ix->n_backlog, ix->pending, (size_t)ix->n_pending * sizeof *ix->pending);
    ix->n_backlog += ix->n_pending;
    ix->n_pending = 0;
    return true;
}

void coll_index_end_deferred_links(coll_index *ix, const collection *c)
{
    if (!ix || !ix->defer)
        return;
    ix->defer = false;
    /* sorted, unique, live; overwrites of nodes the graph has are linked
     * now (the graph must not keep their old codes), the rest may wait */
    qsort(ix->backlog, ix->n_backlog, sizeof *ix->backlog, coll_index_cmp_slots);
    uint32_t keep = 0, now = 0;
    for (uint32_t i = 0; i < ix->n_backlog; i++) {
        uint32_t s = ix->backlog[i];
        if ((keep && ix->backlog[keep - 1] == s) || !coll_slot_live(c, s))
            continue;
        ix->backlog[keep++] = s;
    }
    ix->n_backlog = keep;
    uint64_t rebuilds = ix->rebuilds;
    coll_index_flush(ix, c); /* a rebuild the replay's deletes called for */
    if (ix->rebuilds != rebuilds) { /* it linked every live row */
        free(ix->backlog);
        ix->backlog = NULL;
        ix->n_backlog = ix->cap_backlog = 0;
        return;
    }
    uint32_t *relink = malloc(((size_t)keep + 1) * sizeof *relink);
    if (relink && keep >= COLL_INDEX_BACKLOG_SYNC) {
        keep = 0;
        for (uint32_t i = 0; i < ix->n_backlog; i++) {
            uint32_t s = ix->backlog[i];
            if (hnsw_contains(ix->h, s))
                relink[now++] = s;
            else
                ix->backlog[keep++] = s;
        }
        ix->n_backlog = keep;
    } else { /* small (or no memory for the split): link everything now */
        free(relink);
        relink = ix->backlog;
        now = ix->n_backlog;
        ix->backlog = NULL;
        ix->n_backlog = ix->cap_backlog = 0;
    }
    coll_index_link_slots(ix, c, relink, now);
    free(relink);
    if (ix->n_backlog) {
        VX_INFO("collection '%s': %u replayed points wait to be linked into the HNSW graph "
                "(in the background; searches score them exactly meanwhile)",
                ix->name, ix->n_backlog);
        coll_index_bg_wake();
    }
}

uint32_t coll_index_backlog_size(const coll_index *ix)
{
    return ix ? ix->n_backlog + ix->n_linking : 0;
}

int coll_index_backlog_take(coll_index *ix, uint32_t max, uint32_t **slots, uint32_t *n)
{
    *slots = NULL;
    *n = 0;
    if (!ix)
        return VX_OK;
    ix->n_linking = 0; /* a chunk left by an interrupted round is linked (see above) */
    uint32_t take = ix->n_backlog < max ? ix->n_backlog : max;
    if (!take)
        return VX_OK;
    if (take > ix->cap_linking) {
        uint32_t *l = realloc(ix->linking, (size_t)take * sizeof *l);
        if (!l)
            return VX_ERR_NOMEM;
        ix->linking = l;
        ix->cap_linking = take;
    }
    uint32_t *copy = malloc((size_t)take * sizeof *copy);
    if (!copy)
        return VX_ERR_NOMEM;
    /* the tail: what stays in the backlog stays sorted */
    const uint32_t *from = ix->backlog + ix->n_backlog - take;
    memcpy(ix->linking, from, (size_t)take * sizeof *from);
    memcpy(copy, from, (size_t)take * sizeof *from);
    ix->n_linking = take;
    ix->n_backlog -= take;
    *slots = copy;
    *n = take;
    return VX_OK;
}

void coll_index_backlog_done(coll_index *ix)
{
    if (!ix)
        return;
    ix->n_linking = 0;
    if (!ix->n_backlog) {
        free(ix->backlog);
        ix->backlog = NULL;
        ix->cap_backlog = 0;
        VX_INFO("collection '%s': every replayed point is linked into the HNSW graph", ix->name);
    }
}

/* Pushes slot's exact score (raw: inner product, or squared L2). */
static void push_exact(topk *t, const coll_index *ix, const collection *c, const float *q,
                       const vx_filter *f, uint32_t s)
{
    if (!coll_slot_live(c, s))
        return;
    if (f) {
        uint32_t len;
        const unsigned char *meta = coll_slot_meta(c, s, &len);
        if (!filter_match(f, meta, len))
            return;
    }
    const float *row = coll_slot_search_vector(c, s);
    float score = ix->metric == VX_METRIC_L2 ? dist_l2sq(q, row, ix->dim) : dist_dot(q, row, ix->dim);
    if (topk_would_accept(t, score, s))
        topk_push(t, score, s);
}

uint32_t coll_index_backlog_merge(const coll_index *ix, const collection *c, const float *q,
                                  const vx_filter *f, uint32_t k, const uint32_t *labels,
                                  const float *dists, uint32_t n, topk_item *items)
{
    bool l2 = ix->metric == VX_METRIC_L2;
    topk t;
    topk_init(&t, items, k, !l2);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = labels[i];
        /* scored exactly below (an overwrite can also have a graph node) */
        if (sorted_has(ix->backlog, ix->n_backlog, s) || sorted_has(ix->linking, ix->n_linking, s))
            continue;
        float score = l2 ? dists[i] : -dists[i];
        if (topk_would_accept(&t, score, s))
            topk_push(&t, score, s);
    }
    for (uint32_t i = 0; i < ix->n_backlog; i++)
        push_exact(&t, ix, c, q, f, ix->backlog[i]);
    for (uint32_t i = 0; i < ix->n_linking; i++)
        push_exact(&t, ix, c, q, f, ix->linking[i]);
    uint32_t got = topk_finish(&t);
    if (l2)
        for (uint32_t i = 0; i < got; i++)
            items[i].score = sqrtf(items[i].score > 0 ? items[i].score : 0);
    return got;
}
