/*
 * topk.c — see topk.h. Heap invariant: for every i > 0, items[i] is not
 * worse than items[(i-1)/2] (the root is the worst kept item).
 */
#include "topk.h"

/* a is strictly worse than b */
static inline bool topk_worse(const topk *t, const topk_item *a, const topk_item *b)
{
    if (a->score != b->score)
        return t->larger_is_better ? a->score < b->score : a->score > b->score;
    return a->slot > b->slot;
}

void topk_init(topk *t, topk_item *storage, uint32_t k, bool larger_is_better)
{
    t->items = storage;
    t->n = 0;
    t->k = k;
    t->larger_is_better = larger_is_better;
}

static void topk_sift_down(const topk *t, topk_item *h, uint32_t n, uint32_t i)
{
    topk_item x = h[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && topk_worse(t, &h[c + 1], &h[c]))
            c++;
        if (!topk_worse(t, &h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

void topk_push(topk *t, float score, uint32_t slot)
{
    if (!topk_would_accept(t, score, slot))
        return;
    topk_item x = {score, slot};
    if (t->n < t->k) {
        uint32_t i = t->n++;
        while (i > 0) {
            uint32_t p = (i - 1) / 2;
            if (!topk_worse(t, &x, &t->items[p]))
                break;
            t->items[i] = t->items[p];
            i = p;
        }
        t->items[i] = x;
        return;
    }
    t->items[0] = x;
    topk_sift_down(t, t->items, t->n, 0);
}

uint32_t topk_finish(topk *t)
{
    /* Repeatedly move the worst (root) to the end: the array ends up best first. */
    uint32_t n = t->n;
    for (uint32_t end = n; end > 1; end--) {
        topk_item w = t->items[0];
        t->items[0] = t->items[end - 1];
        t->items[end - 1] = w;
        topk_sift_down(t, t->items, end - 1, 0);
    }
    t->n = 0;
    return n;
}
