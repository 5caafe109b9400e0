/*
 * flat.c — see flat.h.
 */
#include "flat.h"

#include <math.h>

#include "distance.h"

uint32_t flat_search(const flat_view *v, const float *query, uint32_t k, const vx_filter *filter,
                     topk_item *out)
{
    topk t;
    bool larger = v->metric != VX_METRIC_L2;
    topk_init(&t, out, k, larger);
    float scores[FLAT_BLOCK];
    for (uint32_t start = 0; start < v->n_slots; start += FLAT_BLOCK) {
        uint32_t n = v->n_slots - start < FLAT_BLOCK ? v->n_slots - start : FLAT_BLOCK;
        const float *rows = v->base + (size_t)start * v->dim;
        if (larger)
            dist_dot_many(query, rows, n, v->dim, scores);
        else
            dist_l2sq_many(query, rows, n, v->dim, scores);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t slot = start + i;
            float score = scores[i];
            if (score != score) /* overflowed both ways (coll_search re-scores it): rank last */
                score = larger ? -INFINITY : INFINITY;
            if (flat_is_dead(v->dead, slot) || !topk_would_accept(&t, score, slot))
                continue;
            if (filter && !filter_match(filter, v->meta[slot], v->meta_len[slot]))
                continue;
            topk_push(&t, score, slot);
        }
    }
    uint32_t got = topk_finish(&t);
    if (!larger)
        for (uint32_t i = 0; i < got; i++)
            out[i].score = sqrtf(out[i].score > 0 ? out[i].score : 0);
    return got;
}
