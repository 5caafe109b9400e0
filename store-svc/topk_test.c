/*
 * topk_test.c — the bounded heap against a full sort of the same data.
 */
#include "topk.h"

#include <math.h>
#include <stdlib.h>

#include "store_test_util.h"
#include "vx_test.h"

static int by_desc(const void *a, const void *b)
{
    const topk_item *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return x->slot < y->slot ? -1 : (x->slot > y->slot);
}

static int by_asc(const void *a, const void *b)
{
    const topk_item *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->slot < y->slot ? -1 : (x->slot > y->slot);
}

static int check(uint32_t n, uint32_t k, bool larger, uint64_t seed, int quantise)
{
    topk_item *all = malloc(n * sizeof *all), *heap = malloc(k * sizeof *heap);
    topk t;
    topk_init(&t, heap, k, larger);
    for (uint32_t i = 0; i < n; i++) {
        float s = tu_randf(&seed);
        if (quantise)
            s = (float)(int)(s * 4); /* many ties */
        all[i].score = s;
        all[i].slot = i;
        topk_push(&t, s, i);
    }
    qsort(all, n, sizeof *all, larger ? by_desc : by_asc);
    uint32_t got = topk_finish(&t);
    uint32_t want = n < k ? n : k;
    int ok = got == want;
    for (uint32_t i = 0; ok && i < got; i++)
        ok = heap[i].score == all[i].score && heap[i].slot == all[i].slot;
    free(all);
    free(heap);
    return ok;
}

TEST(topk_matches_full_sort)
{
    uint32_t ks[] = {1, 2, 7, 10, 100, 1000};
    for (int larger = 0; larger < 2; larger++)
        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
            ASSERT_MSG(check(5000, ks[i], larger, 42 + i, 0), "k=%u larger=%d", ks[i], larger);
            ASSERT_MSG(check(5000, ks[i], larger, 7 + i, 1), "ties k=%u larger=%d", ks[i], larger);
        }
}

TEST(topk_fewer_than_k)
{
    ASSERT(check(3, 10, true, 1, 0));
    ASSERT(check(0, 10, false, 1, 0));
    ASSERT(check(1, 1, false, 1, 0));
}

TEST(topk_rejects_nan_and_k0)
{
    topk_item it[4];
    topk t;
    topk_init(&t, it, 4, true);
    topk_push(&t, NAN, 1);
    topk_push(&t, 1.0f, 2);
    ASSERT_EQ_INT(topk_finish(&t), 1);
    ASSERT_EQ_INT(it[0].slot, 2);
    topk_init(&t, it, 0, true);
    topk_push(&t, 1.0f, 1);
    ASSERT_EQ_INT(topk_finish(&t), 0);
}
