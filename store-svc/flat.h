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
 * Bounded scan (when the view has 8-bit codes, flat_codes.h, and at least
 * FLAT_BOUNDED_MIN_SLOTS rows): the first pass reads the codes instead of
 * the float32 rows (a quarter of the bytes) and gives each row an interval
 * that provably holds the score the float32 kernel would compute for it:
 *   |q·x − (lo·Σq + scale·Σ q[i]·code[i])| ≤ ‖q‖·‖x − x̂‖   (Cauchy–Schwarz)
 * plus the rounding bounds of both float32 sums (γ·‖q‖₁·(|lo| + 255·scale)
 * for the code sum, γ·‖q‖·‖x‖ for the float32 kernel, γ = 2·(dim + 16)·ε;
 * l2 goes through ‖q‖² + ‖x‖² − 2·q·x and a relative γ). A second heap keeps
 * the k best PESSIMISTIC bounds among live rows that pass the filter; its
 * worst entry T is a score at least k such rows reach, so a row whose
 * OPTIMISTIC bound is strictly worse than T cannot be in the top k and is
 * dropped without touching its float32 row or its metadata. The rows left
 * are re-scored with the float32 kernel — the same arithmetic the plain scan
 * uses for that row (distance.h) — and go through the same top-k heap, so
 * the result is the plain scan's, slot for slot and bit for bit. Rows whose
 * bounds are not finite (components near FLT_MAX) are always re-scored.
 *
 * Ownership: flat_search reads the view and writes at most k items to out,
 * using scratch (k items) as working storage; it allocates nothing.
 */
#ifndef FLAT_H
#define FLAT_H

#include <stdint.h>

#include "filter.h"
#include "flat_codes.h"
#include "topk.h"
#include "vx_proto.h"

#define FLAT_BLOCK 1024
/* Below this many rows the plain scan is as fast as the bounded one (the
 * whole slab fits in the caches); the codes are kept current either way. */
#define FLAT_BOUNDED_MIN_SLOTS 4096
/* Candidates the bounded scan holds before it prunes them against T, and
 * re-scores them when pruning leaves more than half (then the scan goes on
 * with an empty list: re-scoring early is extra work, never a wrong answer). */
#define FLAT_CANDIDATES 1024

/* A read-only view of what the scan needs (owned by the collection). */
typedef struct flat_view {
    const float *base;       /* n_slots × dim, row-major */
    uint32_t n_slots;        /* rows in use (live and dead) */
    uint32_t dim;
    const uint64_t *dead;    /* tombstone bitmap: bit i set = slot i deleted */
    unsigned char *const *meta; /* packed metadata per slot, NULL = none */
    const uint32_t *meta_len;
    vx_metric metric;
    const flat_codes *codes;    /* rows [0, n_slots) current; NULL = plain scan only */
} flat_view;

/* Bit test for a tombstone bitmap. */
static inline int flat_is_dead(const uint64_t *dead, uint32_t slot)
{
    return (int)((dead[slot >> 6] >> (slot & 63)) & 1u);
}

/* Writes the best min(k, matches) hits to out (k items of storage), best
 * first; returns how many. filter may be NULL. scratch: k items. Uses the
 * bounded scan when the view allows it. */
uint32_t flat_search(const flat_view *v, const float *query, uint32_t k, const vx_filter *filter,
                     topk_item *out, topk_item *scratch);
/* The plain float32 scan alone (tests compare the two). */
uint32_t flat_search_plain(const flat_view *v, const float *query, uint32_t k,
                           const vx_filter *filter, topk_item *out);

#endif
