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
 *
 * The traversal scores the float32 query against the nodes' 8-bit codes
 * (hnsw_dist); K-NN-SEARCH then re-ranks: the best max(4k, 32) of the ef
 * candidates of layer 0 (by code distance) are re-scored with the exact
 * float32 distance to the caller's vectors (hnsw_vector_fn) and the best k
 * of those are returned with exact distances. Quantisation error can thus
 * only cost recall when a true neighbour falls out of those candidates,
 * never distort a returned score.
 */
#include "hnsw_int.h"

#include <immintrin.h>

#include "vx_err.h"
#include "vx_proto.h"

/* Prefetch plan of a neighbour scan (A/B-measured on g384_100k, ef 16-256,
 * 1 thread): a node is scored from the data span after its links (codes
 * and lo/scale: 7 cache lines at D=384). Pass 1 requests the first line of
 * every new neighbour at once; pass 2 requests the whole span SCAN_AHEAD
 * neighbours before scoring it. Requesting every line of every neighbour
 * at once was 10-15 % slower (the core's miss queue fills and the
 * prefetches themselves stall); a lookahead of 1 or 3 was 5-10 % slower
 * than 2. Putting lo/scale before the codes instead of after made no
 * difference. */
#define SCAN_AHEAD 2

static inline const char *data_of(const hnsw_index *ix, uint32_t id)
{
    return (const char *)hnsw_node_at(ix, id) + ix->links_end;
}

static inline void prefetch_data(const hnsw_index *ix, uint32_t id)
{
    const char *p = data_of(ix, id);
    for (size_t off = 0; off < ix->data_len; off += 64)
        _mm_prefetch(p + off, _MM_HINT_T0);
    _mm_prefetch(p + ix->data_len - 1, _MM_HINT_T0);
}

/* Algorithm 2: SEARCH-LAYER(q, ep, ef, lc). C (candidates) is a min-heap,
 * W (found nearest) a max-heap capped at ef; stops when the closest
 * remaining candidate is farther than the farthest of a full W. */
int hnsw_search_layer(hnsw_index *ix, hnsw_ctx *c, const hnsw_q *q, const hnsw_pair *eps,
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

    if (hnsw_ctx_reserve(ix, c, n_eps + 64, (size_t)ef + 1) != VX_OK)
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
        /* pass 1: drop visited ids and request the first data line of every
         * new neighbour at once (many misses in flight instead of one at a
         * time), the whole span of the first SCAN_AHEAD */
        uint32_t todo[2 * VX_HNSW_M_MAX], nt = 0;
        for (uint32_t j = 0; j < cnt; j++) {
            uint32_t e = hnsw_ld(&ids[j]);
            if (e >= mcap || marks[e] == gen)
                continue;
            marks[e] = gen;
            todo[nt++] = e;
            _mm_prefetch(data_of(ix, e), _MM_HINT_T0);
            if (nt <= SCAN_AHEAD)
                prefetch_data(ix, e);
        }
        /* room for every neighbour in the candidate heap */
        if (nc + nt > c->ccap && hnsw_ctx_reserve(ix, c, nc + nt, 0) != VX_OK)
            return VX_ERR_NOMEM;
        /* the nearest candidate is likely the next node to expand: request
         * its list while this one's neighbours are scored */
        if (nc > 0 && lc == 0) {
            const char *np = (const char *)hnsw_node_at(ix, c->cand[0].id);
            for (size_t off = 0; off < ix->links_end; off += 64)
                _mm_prefetch(np + off, _MM_HINT_T0);
        }
        /* pass 2: distances; the data SCAN_AHEAD neighbours on is requested */
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t e = todo[t];
            if (t + SCAN_AHEAD < nt)
                prefetch_data(ix, todo[t + SCAN_AHEAD]);
            hnsw_node *en = hnsw_node_at(ix, e);
            float d = hnsw_dist(ix, q, en);
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
hnsw_pair hnsw_greedy(hnsw_index *ix, const hnsw_q *q, hnsw_pair ep, uint32_t top,
                      uint32_t stop)
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
                    prefetch_data(ix, hnsw_ld(&list[2 + j]));
                float d = hnsw_dist(ix, q, hnsw_node_at(ix, e));
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

/* How many of the ef candidates the exact re-rank reads: measured on
 * g384_100k (k=10, docs/BENCHMARKS.md): re-scoring the best 4·k instead of
 * all ef kept recall@10 (0.992–0.994 at ef=64, 1.000 at ef=128) and gave
 * +10 % QPS at ef=64, +17–20 % at ef=128–256. */
#define HNSW_RERANK_PER_K 4u
#define HNSW_RERANK_MIN 32u

/* Re-scores the n candidates in c->res exactly against the caller's vectors
 * (candidates whose vector the caller no longer has are dropped) and
 * leaves the best k of them in c->res[0..*n_out), best first. The caller's
 * rows are rarely in cache: they are requested RERANK_AHEAD candidates
 * ahead. VX_OK or VX_ERR_NOMEM. */
static int rerank(hnsw_index *ix, hnsw_ctx *c, const float *q, size_t n, size_t k,
                  hnsw_vector_fn vec_of, void *vec_ctx, size_t *n_out)
{
    enum { RERANK_AHEAD = 4 };
    int rc = hnsw_ctx_reserve_vecs(ix, c, n);
    if (rc == VX_OK)
        rc = hnsw_ctx_reserve(ix, c, k + 1, 0);
    if (rc != VX_OK)
        n = 0;
    hnsw_pair *res = c->res, *best = c->cand; /* best: max-heap of the k best */
    const float **vecs = c->vecs;
    size_t rowb = (size_t)ix->dim * sizeof(float), nb = 0;
    for (size_t i = 0; i < n; i++)
        _mm_prefetch((const char *)hnsw_node_at(ix, res[i].id), _MM_HINT_T0);
    for (size_t i = 0; i < n; i++) {
        vecs[i] = vec_of(vec_ctx, hnsw_node_at(ix, res[i].id)->label);
        if (vecs[i] && i < RERANK_AHEAD)
            for (size_t off = 0; off < rowb; off += 64)
                _mm_prefetch((const char *)vecs[i] + off, _MM_HINT_T0);
    }
    for (size_t i = 0; i < n; i++) {
        if (i + RERANK_AHEAD < n && vecs[i + RERANK_AHEAD])
            for (size_t off = 0; off < rowb; off += 64)
                _mm_prefetch((const char *)vecs[i + RERANK_AHEAD] + off, _MM_HINT_T0);
        if (!vecs[i])
            continue;
        hnsw_pair p = {hnsw_exact(ix, q, vecs[i]), res[i].id};
        if (nb < k) {
            hnsw_maxheap_push(best, &nb, p);
        } else if (p.d < best[0].d) {
            hnsw_maxheap_pop(best, &nb);
            hnsw_maxheap_push(best, &nb, p);
        }
    }
    *n_out = nb;
    while (nb > 0) { /* worst first */
        hnsw_pair p = hnsw_maxheap_pop(best, &nb);
        res[nb] = p;
    }
    return rc;
}

/* Algorithm 5: K-NN-SEARCH(hnsw, q, K, ef), then the exact re-rank. */
int hnsw_search(hnsw_index *ix, const float *q, uint32_t k, uint32_t ef, hnsw_filter_fn filter,
                void *filter_ctx, hnsw_vector_fn vec_of, void *vec_ctx, uint32_t *labels,
                float *dists, uint32_t *n_found)
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
    hnsw_q qq = hnsw_query(ix, q);
    hnsw_pair ep = {hnsw_dist(ix, &qq, hnsw_node_at(ix, ep_id)), ep_id};
    ep = hnsw_greedy(ix, &qq, ep, top, 0);
    size_t nw = 0;
    int rc = hnsw_search_layer(ix, c, &qq, &ep, 1, ef, 0, true, filter, filter_ctx, &nw);
    if (rc == VX_OK && vec_of) {
        size_t n = 0;
        /* Only the best HNSW_RERANK_PER_K·k (at least HNSW_RERANK_MIN) by
         * code distance are re-scored: the codes rank well enough that the
         * exact top k is among them, and each re-score is a 1.5 KB row
         * read from memory (see the constants). */
        size_t keep = (size_t)k * HNSW_RERANK_PER_K;
        if (keep < HNSW_RERANK_MIN)
            keep = HNSW_RERANK_MIN;
        while (nw > keep)
            hnsw_maxheap_pop(c->res, &nw);
        rc = rerank(ix, c, q, nw, k, vec_of, vec_ctx, &n);
        for (size_t i = 0; i < n; i++) {
            labels[i] = hnsw_node_at(ix, c->res[i].id)->label;
            if (dists)
                dists[i] = c->res[i].d;
        }
        *n_found = (uint32_t)n;
    } else if (rc == VX_OK) {
        /* no re-rank: pop the max-heap, worst first; keep the best k */
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
