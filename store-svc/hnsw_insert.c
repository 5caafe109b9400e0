/*
 * hnsw_insert.c — INSERT (Algorithm 1) with SELECT-NEIGHBORS-HEURISTIC
 * (Algorithm 4, extendCandidates = false, keepPrunedConnections = false, as
 * in hnswlib).
 *
 * Distances: the new vector is float32 and every stored node is codes
 * (hnsw_int.h), so new-vs-stored distances are the asymmetric hnsw_dist;
 * the stored-vs-stored distances of Algorithm 4 (is candidate e closer to
 * an already kept neighbour r than to the base?) decode e into a float
 * scratch row once and score it against the codes of r and of the base:
 * distances between dequantised vectors, both sides measured alike.
 *
 * An insert runs in two phases so that searches never reach a half-linked
 * node:
 *   1. reserve a record, write label, level and codes; descend greedily
 *      from the entry point to the node's level, then for each layer from
 *      min(L, l) down to 0 run SEARCH-LAYER with efConstruction and write the
 *      heuristic's choice as the new node's own list. Nothing points at the
 *      node yet, so nobody can observe it.
 *   2. add the reverse links layer by layer (each neighbour under its own
 *      spinlock; a full list is shrunk with the same heuristic), then raise
 *      the entry point if the new node is the highest.
 * Replacing a label tombstones the old node (counted as deleted) first.
 */
#include "hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_proto.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* l ← ⌊−ln(unif(0..1))·mL⌋ (Algorithm 1, line 4). */
static uint32_t draw_level(hnsw_index *ix)
{
    uint64_t t = __atomic_fetch_add(&ix->rng, 1, __ATOMIC_RELAXED);
    uint64_t r = splitmix64(t ^ 0x5DEECE66Dull);
    double u = ((double)(r >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
    double l = -log(u) * ix->ml;
    if (l >= HNSW_MAX_LEVEL - 1)
        return HNSW_MAX_LEVEL - 1;
    return (uint32_t)l;
}

static int pair_cmp(const void *a, const void *b)
{
    float x = ((const hnsw_pair *)a)->d, y = ((const hnsw_pair *)b)->d;
    return (x > y) - (x < y);
}

/* Algorithm 4: from candidates sorted nearest-first (by d, their distance
 * to the base element), keep e only if it is closer to the base than to
 * every element already kept. Returns the number kept (<= max), in out[].
 * Both sides of that comparison are measured the same way — e decoded
 * (into ebuf, dim floats) against the codes of the base and of each kept
 * element — so equal vectors compare equal: a node re-inserted next to the
 * tombstone of its own old vector (equal codes) does not see every
 * candidate as "closer to the tombstone" through quantisation noise. */
static uint32_t select_heuristic(const hnsw_index *ix, const hnsw_node *base,
                                 const hnsw_pair *cand, size_t n, uint32_t max, uint32_t *out,
                                 float *ebuf)
{
    uint32_t kept = 0;
    const hnsw_node *kn[VX_HNSW_M_MAX * 2];
    for (size_t i = 0; i < n && kept < max; i++) {
        const hnsw_node *en = hnsw_node_at(ix, cand[i].id);
        bool good = true;
        if (kept > 0) {
            hnsw_q ev = hnsw_decode(ix, en, ebuf);
            float to_base = hnsw_dist(ix, &ev, base);
            for (uint32_t r = 0; r < kept; r++) {
                if (hnsw_dist(ix, &ev, kn[r]) < to_base) {
                    good = false;
                    break;
                }
            }
        }
        if (good) {
            kn[kept] = en;
            out[kept++] = cand[i].id;
        }
    }
    return kept;
}

/* Adds q to e's list at layer lc (Algorithm 1, lines 11–16). A full list
 * is re-chosen by the heuristic among its members and q, with e as the
 * base (decoded into vbuf; vbuf + dim is the heuristic's scratch row). */
static void add_link(hnsw_index *ix, uint32_t e, uint32_t q, uint32_t lc, hnsw_pair *scratch,
                     float *vbuf)
{
    hnsw_node *en = hnsw_node_at(ix, e);
    uint32_t max = lc == 0 ? ix->m0 : ix->m;
    hnsw_node_lock(en);
    uint32_t *list = hnsw_list(ix, e, en, lc);
    uint32_t cnt = list[0];
    bool present = false;
    for (uint32_t j = 0; j < cnt; j++)
        if (list[1 + j] == q)
            present = true;
    if (present) {
        /* already linked */
    } else if (cnt < max) {
        hnsw_st(&list[1 + cnt], q);
        hnsw_st(&list[0], cnt + 1);
    } else {
        hnsw_q ev = hnsw_decode(ix, en, vbuf);
        for (uint32_t j = 0; j < cnt; j++) {
            scratch[j].id = list[1 + j];
            scratch[j].d = hnsw_dist(ix, &ev, hnsw_node_at(ix, scratch[j].id));
        }
        scratch[cnt].id = q;
        scratch[cnt].d = hnsw_dist(ix, &ev, hnsw_node_at(ix, q));
        qsort(scratch, cnt + 1, sizeof *scratch, pair_cmp);
        uint32_t sel[VX_HNSW_M_MAX * 2];
        uint32_t n = select_heuristic(ix, en, scratch, cnt + 1, max, sel, vbuf + ix->dim);
        for (uint32_t j = 0; j < n; j++)
            hnsw_st(&list[1 + j], sel[j]);
        hnsw_st(&list[0], n);
    }
    hnsw_node_unlock(en);
}

/* Reserves and fills a record (unlinked, flags set to DELETED until the
 * label map points at it, so a failed insert leaves an inert node). */
static int new_node(hnsw_index *ix, uint32_t label, const float *vec, uint32_t level,
                    uint32_t *out_id)
{
    uint32_t id = __atomic_fetch_add(&ix->n_nodes, 1, __ATOMIC_ACQ_REL);
    if (id == HNSW_NONE) {
        __atomic_fetch_sub(&ix->n_nodes, 1, __ATOMIC_ACQ_REL);
        return VX_ERR_LIMIT;
    }
    int rc = hnsw_ensure_segment(ix, id);
    if (rc != VX_OK)
        return rc; /* the id is lost; its record does not exist */
    hnsw_node *n = hnsw_node_at(ix, id);
    memset(n, 0, ix->stride); /* padding too: saved records are deterministic */
    n->label = label;
    n->flags = HNSW_F_DELETED;
    hnsw_encode_into(ix, n, vec);
    uint32_t k;
    size_t off;
    hnsw_seg_of(id, &k, &off);
    if (level > 0) {
        size_t words = (size_t)level * (1 + ix->m);
        uint32_t *blk = calloc(words, sizeof *blk);
        if (!blk)
            level = 0; /* degrade: a layer-0-only node is still correct */
        else
            __atomic_add_fetch(&ix->upper_bytes, words * sizeof *blk, __ATOMIC_RELAXED);
        __atomic_store_n(&ix->upper[k][off], blk, __ATOMIC_RELEASE);
    } else {
        ix->upper[k][off] = NULL;
    }
    n->level = (uint8_t)level;
    *out_id = id;
    return VX_OK;
}

int hnsw_insert(hnsw_index *ix, uint32_t label, const float *vec)
{
    if (label == HNSW_NONE)
        return VX_ERR_INVALID;
    for (uint32_t i = 0; i < ix->dim; i++)
        if (!isfinite(vec[i]))
            return VX_ERR_INVALID;

    uint32_t level = draw_level(ix), id;
    int rc = new_node(ix, label, vec, level, &id);
    if (rc != VX_OK)
        return rc;
    hnsw_node *qn = hnsw_node_at(ix, id);
    level = qn->level;
    hnsw_q qv = hnsw_query(ix, vec);

    /* label map: replace = tombstone the old node */
    pthread_mutex_lock(&ix->lock);
    rc = hnsw_label_map_reserve(ix, label);
    if (rc != VX_OK) {
        pthread_mutex_unlock(&ix->lock);
        return rc;
    }
    uint32_t old = ix->label_map[label];
    ix->label_map[label] = id;
    __atomic_and_fetch(&qn->flags, (uint8_t)~HNSW_F_DELETED, __ATOMIC_RELEASE);
    if (old != HNSW_NONE) {
        __atomic_or_fetch(&hnsw_node_at(ix, old)->flags, HNSW_F_DELETED, __ATOMIC_RELEASE);
        __atomic_add_fetch(&ix->n_deleted, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&ix->n_live, 1, __ATOMIC_RELAXED);
    }
    uint64_t entry = ix->entry;
    if ((uint32_t)entry == HNSW_NONE) { /* first node: it is the graph */
        __atomic_store_n(&ix->entry, (uint64_t)id | ((uint64_t)level << 32), __ATOMIC_RELEASE);
        pthread_mutex_unlock(&ix->lock);
        return VX_OK;
    }
    pthread_mutex_unlock(&ix->lock);

    uint32_t ep_id = (uint32_t)entry, top = (uint32_t)(entry >> 32);
    hnsw_ctx *c = hnsw_ctx_acquire(ix);
    size_t scratch_n = (ix->ef_construction > ix->m0 ? ix->ef_construction : ix->m0) + 1;
    hnsw_pair *scratch = malloc(scratch_n * sizeof *scratch);
    float *vbuf = malloc(2 * (size_t)ix->dim * sizeof *vbuf); /* two decoded rows */
    if (!c || !scratch || !vbuf) {
        rc = VX_ERR_NOMEM;
        goto out;
    }

    /* Phase 1 (Algorithm 1, lines 5–10 and 11's "set neighbourhood(q)") */
    hnsw_pair ep = {hnsw_dist(ix, &qv, hnsw_node_at(ix, ep_id)), ep_id};
    ep = hnsw_greedy(ix, &qv, ep, top, level);
    uint32_t start = level < top ? level : top;
    /* this node's chosen neighbours per layer, kept for phase 2 (its own
     * lists may already change under other inserts once it is linked) */
    uint32_t sel[HNSW_MAX_LEVEL][VX_HNSW_M_MAX], n_sel[HNSW_MAX_LEVEL];
    for (uint32_t lc = start + 1; lc-- > 0;) {
        size_t nw = 0;
        if (lc != start && ++c->gen == 0) { /* fresh visited generation per layer */
            memset(c->marks, 0, (size_t)c->mcap * sizeof *c->marks);
            c->gen = 1;
        }
        rc = hnsw_search_layer(ix, c, &qv, &ep, 1, ix->ef_construction, lc, false, NULL, NULL,
                               &nw);
        if (rc != VX_OK)
            goto out;
        size_t n = nw;
        for (size_t i = n; i > 0; i--)
            scratch[i - 1] = hnsw_maxheap_pop(c->res, &nw); /* nearest first */
        uint32_t *list = hnsw_list(ix, id, qn, lc);
        uint32_t ns = select_heuristic(ix, qn, scratch, n, ix->m, sel[lc], vbuf);
        n_sel[lc] = ns;
        for (uint32_t j = 0; j < ns; j++)
            hnsw_st(&list[1 + j], sel[lc][j]);
        hnsw_st(&list[0], ns);
        if (n > 0)
            ep = scratch[0];
    }

    /* Phase 2 (Algorithm 1, lines 11–16): reverse links, then entry point */
    for (uint32_t lc = start + 1; lc-- > 0;)
        for (uint32_t j = 0; j < n_sel[lc]; j++)
            add_link(ix, sel[lc][j], id, lc, scratch, vbuf);
    if (level > top) {
        pthread_mutex_lock(&ix->lock);
        if (level > (uint32_t)(ix->entry >> 32))
            __atomic_store_n(&ix->entry, (uint64_t)id | ((uint64_t)level << 32),
                             __ATOMIC_RELEASE);
        pthread_mutex_unlock(&ix->lock);
    }
out:
    free(vbuf);
    free(scratch);
    if (c)
        hnsw_ctx_release(ix, c);
    return rc;
}
