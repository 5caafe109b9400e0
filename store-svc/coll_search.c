/*
 * coll_search.c — a collection's searches (collection.h): the exact scan
 * (flat.h: the bounded 8-bit pass when the codes are current, the plain
 * float32 scan otherwise), the graph through coll_index.h, and the double
 * precision re-score of hits whose float32 score overflowed. Runs under the
 * collection's read lock; the collection's inside: collection_int.h.
 */
#include "collection.h"
#include "collection_int.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "coll_index.h"
#include "distance.h"
#include "filter.h"
#include "flat.h"
#include "idmap.h"
#include "vx_clock.h"
#include "vx_err.h"

int coll_search_exact(const collection *c, const vx_search_req *req, vx_arena *a,
                      vx_search_rep *out, char *err, size_t err_len)
{
    uint64_t t0 = vx_now_us();
    memset(out, 0, sizeof *out);
    int rc = coll_check_vector(c, req->vector, req->dim, "vector", err, err_len);
    if (rc)
        return rc;
    if (req->k < 1 || req->k > VX_MAX_K)
    {
        if (err && err_len)
            snprintf(err, err_len, "k: %u is out of range 1..%d", req->k, VX_MAX_K);
        return VX_ERR_INVALID;
    }
    const vx_filter *f;
    rc = filter_compile(req->filter, a, &f, err, err_len);
    if (rc)
        return rc;
    const float *q = req->vector;
    if (c->cfg.metric == VX_METRIC_COSINE) {
        float *nq = vx_arena_alloc(a, (size_t)c->dim * sizeof *nq);
        dist_normalise(q, c->dim, nq);
        q = nq;
    }
    flat_view v = {c->search,   c->n_slots,      c->dim,
                   c->dead,     c->meta,         c->meta_len,
                   c->cfg.metric, NULL};
    if (c->has_codes && __atomic_load_n(&c->codes_ready, __ATOMIC_ACQUIRE) >= c->n_slots)
        v.codes = &c->codes;
    topk_item *items = vx_arena_alloc(a, (size_t)req->k * 2 * sizeof *items);
    uint32_t n = c->n_slots ? flat_search(&v, q, req->k, f, items, items + req->k) : 0;
    out->hits = vx_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *out->hits);
    for (uint32_t i = 0; i < n; i++) {
        vx_search_hit *h = &out->hits[i];
        uint32_t s = items[i].slot;
        h->id = vx_arena_strdup(a, idmap_id(c->ids, s));
        h->score = items[i].score;
        if (req->with_metadata)
            h->metadata = coll_meta_tree(c, s, a);
        if (req->with_vector) {
            h->vector = coll_copy_vec(a, coll_user_row(c, s), c->dim);
            h->dim = c->dim;
        }
    }
    out->n_hits = n;
    out->used_index = false;
    out->took_us = vx_now_us() - t0;
    return VX_OK;
}

/* Any finite float32 vector is stored, so with components near FLT_MAX a dot
 * product or a squared l2 distance overflows the float32 kernels (±inf, or
 * NaN for a dot product whose terms overflow both ways), and neither the wire
 * nor JSON can carry that. Such hits (rare: only for such vectors) are
 * re-scored in double precision from the stored vector, saturated at
 * ±FLT_MAX when the true score is beyond float32 (an l2 distance of 1e20 is
 * exact again), and the hits re-sorted. Cosine cannot overflow (unit
 * vectors). Known limit: the exact scan ranks a NaN candidate last (it is
 * kept only while the top-k has room), and the graph drops one. */
static void rescore_overflowed_hits(const collection *c, const float *q, vx_search_rep *out)
{
    bool any = false;
    for (uint32_t i = 0; i < out->n_hits && !any; i++)
        any = !isfinite(out->hits[i].score);
    if (!any)
        return;
    if (out->n_hits > VX_MAX_K) /* k is checked before the search */
        return;
    /* the exact scores in double: the order among saturated ones is theirs */
    double exact[VX_MAX_K];
    for (uint32_t i = 0; i < out->n_hits; i++) {
        vx_search_hit *h = &out->hits[i];
        uint32_t slot;
        exact[i] = h->score;
        if (isfinite(h->score) || !idmap_get(c->ids, h->id, strlen(h->id), &slot))
            continue;
        const float *x = coll_user_row(c, slot);
        double acc = 0;
        for (uint32_t d = 0; d < c->dim; d++)
            acc += c->cfg.metric == VX_METRIC_L2 ? ((double)q[d] - x[d]) * ((double)q[d] - x[d])
                                                 : (double)q[d] * x[d];
        if (c->cfg.metric == VX_METRIC_L2)
            acc = sqrt(acc);
        exact[i] = acc;
        h->score = fabs(acc) > FLT_MAX ? copysignf(FLT_MAX, (float)acc) : (float)acc;
    }
    /* best first by the exact score: descending, ascending for l2 (insertion
     * sort, stable, so equal scores keep the scan's slot order; n ≤ VX_MAX_K) */
    bool asc = c->cfg.metric == VX_METRIC_L2;
    for (uint32_t i = 1; i < out->n_hits; i++) {
        vx_search_hit h = out->hits[i];
        double e = exact[i];
        uint32_t j = i;
        while (j > 0 && (asc ? exact[j - 1] > e : exact[j - 1] < e)) {
            out->hits[j] = out->hits[j - 1];
            exact[j] = exact[j - 1];
            j--;
        }
        out->hits[j] = h;
        exact[j] = e;
    }
}

int coll_search(const collection *c, const vx_search_req *req, vx_arena *a, vx_search_rep *out,
                char *err, size_t err_len)
{
    int rc = c->ann /* picks the graph or the exact scan (coll_index.h) */
                 ? coll_index_search(c->ann, c, req, a, out, err, err_len)
                 : coll_search_exact(c, req, a, out, err, err_len);
    if (rc == VX_OK && c->cfg.metric != VX_METRIC_COSINE)
        rescore_overflowed_hits(c, req->vector, out);
    return rc;
}

