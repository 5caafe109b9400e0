/*
 * flat.h — exact (brute-force) k-NN over a collection's search slab.
 *
 * The scan walks the slab in blocks of FLAT_BLOCK rows, scores a block with
 * one dist_*_many call into a small stack buffer, and then, row by row,
 * skips tombstones, asks the top-k heap whether the score could enter, and
 * only then evaluates the filter (if any) and pushes. So a filter is
 * applied DURING the scan, and a filtered search returns k results whenever
 * at least k live points match. O(n·dim) distance work + O(n log k) heap.
 *
 * Scores: cosine → dot of unit vectors (the caller passes the normalised
 * query and a slab of normalised rows), dot → dot, l2 → the heap keeps
 * squared distances and flat_search returns sqrt (ascending).
 *
 * Ownership: flat_search reads the view and writes at most k items to out;
 * it allocates nothing.
 */
#ifndef FLAT_H
#define FLAT_H

#include <stdint.h>

#include "filter.h"
#include "topk.h"
#include "vx_proto.h"

#define FLAT_BLOCK 1024

/* A read-only view of what the scan needs (owned by the collection). */
typedef struct flat_view {
    const float *base;       /* n_slots × dim, row-major */
    uint32_t n_slots;        /* rows in use (live and dead) */
    uint32_t dim;
    const uint64_t *dead;    /* tombstone bitmap: bit i set = slot i deleted */
    unsigned char *const *meta; /* packed metadata per slot, NULL = none */
    const uint32_t *meta_len;
    vx_metric metric;
} flat_view;

/* Bit test for a tombstone bitmap. */
static inline int flat_is_dead(const uint64_t *dead, uint32_t slot)
{
    return (int)((dead[slot >> 6] >> (slot & 63)) & 1u);
}

/* Writes the best min(k, matches) hits to out (k items of storage), best
 * first; returns how many. filter may be NULL. */
uint32_t flat_search(const flat_view *v, const float *query, uint32_t k, const vx_filter *filter,
                     topk_item *out);

#endif
