/*
 * hnsw_search.c — SEARCH-LAYER (Algorithm 2), the greedy ef=1 descent
 * through the upper layers, and K-NN-SEARCH (Algorithm 5).
 *
 * Readers take no locks: neighbour lists are read word by word with acquire
 * loads (see hnsw_int.h), and every id found in a list names a complete node.
 * Tombstoned and filtered-out nodes are traversed like any other (they keep
 * the graph connected) but never enter the result set of a query; the
 * search then keeps expanding until ef acceptable nodes are found or the
 * candidates run out, which is what makes filtered searches return k results
 * whenever k matching labels exist in the reachable graph.
 */
#include "hnsw_int.h"

#include <immintrin.h>

#include "vx_err.h"
#include "vx_proto.h"

static inline void prefetch_vec(const hnsw_index *ix, uint32_t id)
{
    const char *p = (const char *)hnsw_vec(ix, hnsw_node_at(ix, id));
    _mm_prefetch(p, _MM_HINT_T0);
    _mm_prefetch(p + 64, _MM_HINT_T0);
}

/* Prefetches a record's vector from its second cache line on (the first is
 * requested in pass 1 of the neighbour scan). */
static inline void prefetch_rest(const hnsw_index *ix, uint32_t id)
{
    const char *p = (const char *)hnsw_vec(ix, hnsw_node_at(ix, id));
    size_t bytes = (size_t)ix->dim * sizeof(float);
    for (size_t off = 64; off < bytes; off += 64)
        _mm_prefetch(p + off, _MM_HINT_T0);
}

/* Algorithm 2: SEARCH-LAYER(q, ep, ef, lc). C (candidates) is a min-heap,
 * W (found nearest) a max-heap capped at ef; stops when the closest
 * remaining candidate is farther than the farthest of a full W. */
int hnsw_search_layer(hnsw_index *ix, hnsw_ctx *c, const float *q, const hnsw_pair *eps,
                      size_t n_eps, uint32_t ef, uint32_t lc, bool query, hnsw_filter_fn filter,
                      void *filter_ctx, size_t *n_res)
{
    size_t nc = 0, nw = 0;
    uint16_t gen = c->gen;
    uint16_t *marks = c->marks;
    uint32_t mcap = c->mcap;
    uint32_t maxlist = lc == 0 ? ix->m0 : ix->m;
    /* only a query with a filter or with tombstones present needs to look at
     * node flags/labels (a cache line the distance does not touch). A remove
     * that lands after this read is not seen by this search: it is ordered
     * after the search, as if the search had finished first. */
    bool check = query && (filter || __atomic_load_n(&ix->n_deleted, __ATOMIC_RELAXED) > 0);

    if (hnsw_ctx_reserve(c, n_eps + 64, (size_t)ef + 1) != VX_OK)
        return VX_ERR_NOMEM;
    for (size_t i = 0; i < n_eps; i++) {
        uint32_t id = eps[i].id;
        if (id >= mcap || marks[id] == gen)
            continue;
        marks[id] = gen;
        hnsw_minheap_push(c->cand, &nc, eps[i]);
        hnsw_node *n = hnsw_node_at(ix, id);
        bool ok = !check || (!hnsw_is_deleted(n) && (!filter || filter(filter_ctx, n->label)));
        if (ok) {
            hnsw_maxheap_push(c->res, &nw, eps[i]);
            if (nw > ef)
                hnsw_maxheap_pop(c->res, &nw);
        }
    }

    while (nc > 0) {
        hnsw_pair cur = hnsw_minheap_pop(c->cand, &nc);
        if (nw >= ef && cur.d > c->res[0].d)
            break;
        hnsw_node *cn = hnsw_node_at(ix, cur.id);
        const uint32_t *list = hnsw_list(ix, cur.id, cn, lc);
        uint32_t cnt = hnsw_ld(list);
        if (cnt > maxlist)
            cnt = maxlist;
        const uint32_t *ids = list + 1;
        /* pass 1: drop visited ids and start loading every new neighbour's
         * vector at once (many misses in flight instead of one at a time) */
        uint32_t todo[2 * VX_HNSW_M_MAX], nt = 0;
        for (uint32_t j = 0; j < cnt; j++) {
            uint32_t e = hnsw_ld(&ids[j]);
            if (e >= mcap || marks[e] == gen)
                continue;
            marks[e] = gen;
            todo[nt++] = e;
            _mm_prefetch((const char *)hnsw_vec(ix, hnsw_node_at(ix, e)), _MM_HINT_T0);
        }
        /* room for every neighbour in the candidate heap */
        if (nc + nt > c->ccap && hnsw_ctx_reserve(c, nc + nt, 0) != VX_OK)
            return VX_ERR_NOMEM;
        /* pass 2: distances; the rest of the next vector is prefetched while
         * this one is scored */
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t e = todo[t];
            if (t + 1 < nt)
                prefetch_rest(ix, todo[t + 1]);
            hnsw_node *en = hnsw_node_at(ix, e);
            float d = hnsw_dist(ix, q, hnsw_vec(ix, en));
            if (nw < ef || d < c->res[0].d) {
                hnsw_pair p = {d, e};
                hnsw_minheap_push(c->cand, &nc, p);
                bool ok = !check ||
                          (!hnsw_is_deleted(en) && (!filter || filter(filter_ctx, en->label)));
                if (ok) {
                    hnsw_maxheap_push(c->res, &nw, p);
                    if (nw > ef)
                        hnsw_maxheap_pop(c->res, &nw);
                }
            }
        }
    }
    *n_res = nw;
    return VX_OK;
}

/* Upper layers of Algorithm 5 (and of Algorithm 1 above the insert level):
 * SEARCH-LAYER with ef = 1 is a greedy walk to a local minimum. */
hnsw_pair hnsw_greedy(hnsw_index *ix, const float *q, hnsw_pair ep, uint32_t top, uint32_t stop)
{
    for (uint32_t lc = top; lc > stop; lc--) {
        bool changed = true;
        while (changed) {
            changed = false;
            hnsw_node *n = hnsw_node_at(ix, ep.id);
            if (n->level < lc)
                break;
            const uint32_t *list = hnsw_list(ix, ep.id, n, lc);
            uint32_t cnt = hnsw_ld(list);
            if (cnt > ix->m)
                cnt = ix->m;
            for (uint32_t j = 0; j < cnt; j++) {
                uint32_t e = hnsw_ld(&list[1 + j]);
                if (j + 1 < cnt)
                    prefetch_vec(ix, hnsw_ld(&list[2 + j]));
                float d = hnsw_dist(ix, q, hnsw_vec(ix, hnsw_node_at(ix, e)));
                if (d < ep.d) {
                    ep.d = d;
                    ep.id = e;
                    changed = true;
                }
            }
        }
    }
    return ep;
}

/* Algorithm 5: K-NN-SEARCH(hnsw, q, K, ef). */
int hnsw_search(hnsw_index *ix, const float *q, uint32_t k, uint32_t ef, hnsw_filter_fn filter,
                void *filter_ctx, uint32_t *labels, float *dists, uint32_t *n_found)
{
    *n_found = 0;
    if (k == 0)
        return VX_OK;
    if (ef < k)
        ef = k;
    if (ef > VX_HNSW_EF_MAX && ef > k)
        ef = VX_HNSW_EF_MAX > k ? VX_HNSW_EF_MAX : k;
    uint64_t entry = __atomic_load_n(&ix->entry, __ATOMIC_ACQUIRE);
    uint32_t ep_id = (uint32_t)entry, top = (uint32_t)(entry >> 32);
    if (ep_id == HNSW_NONE)
        return VX_OK;
    hnsw_ctx *c = hnsw_ctx_acquire(ix);
    if (!c)
        return VX_ERR_NOMEM;
    hnsw_pair ep = {hnsw_dist(ix, q, hnsw_vec(ix, hnsw_node_at(ix, ep_id))), ep_id};
    ep = hnsw_greedy(ix, q, ep, top, 0);
    size_t nw = 0;
    int rc = hnsw_search_layer(ix, c, q, &ep, 1, ef, 0, true, filter, filter_ctx, &nw);
    if (rc == VX_OK) {
        /* pop the max-heap: worst first; keep the best k */
        while (nw > k)
            hnsw_maxheap_pop(c->res, &nw);
        uint32_t n = (uint32_t)nw;
        for (uint32_t i = n; i > 0; i--) {
            hnsw_pair p = hnsw_maxheap_pop(c->res, &nw);
            labels[i - 1] = hnsw_node_at(ix, p.id)->label;
            if (dists)
                dists[i - 1] = p.d;
        }
        *n_found = n;
    }
    hnsw_ctx_release(ix, c);
    return rc;
}
