/*
 * topk.h — bounded selection of the k best (score, slot) pairs.
 *
 * A binary heap of at most k items whose root is the WORST kept item, so a
 * new candidate costs one comparison when it cannot enter and O(log k) when
 * it does: O(n log k) for n candidates, never a full sort. topk_finish sorts
 * the kept items in place, best first (heap sort, O(k log k)).
 *
 * "Better" is a larger score when larger_is_better (cosine, dot) and a
 * smaller one otherwise (l2). Equal scores are ordered by slot (smaller slot
 * first), so results are deterministic. NaN scores are never kept.
 *
 * Ownership: the caller provides the item storage (k items) and keeps it
 * alive; topk allocates nothing.
 */
#ifndef TOPK_H
#define TOPK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct topk_item {
    float score;
    uint32_t slot;
} topk_item;

typedef struct topk {
    topk_item *items; /* heap while collecting; sorted after topk_finish */
    uint32_t n;
    uint32_t k;
    bool larger_is_better;
} topk;

void topk_init(topk *t, topk_item *storage, uint32_t k, bool larger_is_better);

/* True when a candidate with this score and slot would enter the heap now
 * (use it to skip costly checks, such as a filter, for hopeless rows). */
static inline bool topk_would_accept(const topk *t, float score, uint32_t slot)
{
    if (score != score || t->k == 0)
        return false;
    if (t->n < t->k)
        return true;
    const topk_item *w = &t->items[0];
    if (t->larger_is_better)
        return score > w->score || (score == w->score && slot < w->slot);
    return score < w->score || (score == w->score && slot < w->slot);
}

void topk_push(topk *t, float score, uint32_t slot);
/* Sorts the kept items best first; returns their number. The heap is
 * consumed: call topk_init again before pushing more. */
uint32_t topk_finish(topk *t);

#endif
