/*
 * idmap_test.c — id ↔ slot map: growth, delete (backward shift keeps every
 * other key findable), reinsert, reverse lookups.
 */
#include "idmap.h"

#include <stdio.h>

#include "vx_err.h"
#include "vx_test.h"

static void mk(char *b, size_t n, int i) { snprintf(b, n, "id-%d", i); }

TEST(idmap_put_get_grows)
{
    idmap *m = idmap_create();
    char b[32];
    for (int i = 0; i < 20000; i++) {
        mk(b, sizeof b, i);
        ASSERT_EQ_INT(idmap_put(m, b, strlen(b), (uint32_t)i), VX_OK);
    }
    ASSERT_EQ_INT(idmap_count(m), 20000);
    for (int i = 0; i < 20000; i++) {
        uint32_t s = 0;
        mk(b, sizeof b, i);
        ASSERT(idmap_get(m, b, strlen(b), &s));
        ASSERT_EQ_INT(s, i);
        ASSERT_STR_EQ(idmap_id(m, (uint32_t)i), b);
    }
    ASSERT(!idmap_get(m, "id-20000", 8, NULL));
    ASSERT(!idmap_get(m, "id-1", 3, NULL)); /* prefix of a key */
    ASSERT(idmap_memory_bytes(m) > 20000 * 8);
    idmap_destroy(m);
}

TEST(idmap_delete_and_reinsert)
{
    idmap *m = idmap_create();
    char b[32];
    for (int i = 0; i < 5000; i++) {
        mk(b, sizeof b, i);
        ASSERT_EQ_INT(idmap_put(m, b, strlen(b), (uint32_t)i), VX_OK);
    }
    for (int i = 0; i < 5000; i += 2) {
        uint32_t s;
        mk(b, sizeof b, i);
        ASSERT(idmap_del(m, b, strlen(b), &s));
        ASSERT_EQ_INT(s, i);
        ASSERT(!idmap_del(m, b, strlen(b), &s));
        ASSERT(idmap_id(m, (uint32_t)i) == NULL);
    }
    ASSERT_EQ_INT(idmap_count(m), 2500);
    for (int i = 0; i < 5000; i++) {
        uint32_t s;
        mk(b, sizeof b, i);
        ASSERT_EQ_INT(idmap_get(m, b, strlen(b), &s), i % 2 == 1);
        if (i % 2)
            ASSERT_EQ_INT(s, i);
    }
    /* reinsert the deleted ids under new slots */
    for (int i = 0; i < 5000; i += 2) {
        mk(b, sizeof b, i);
        ASSERT_EQ_INT(idmap_put(m, b, strlen(b), (uint32_t)(10000 + i)), VX_OK);
    }
    for (int i = 0; i < 5000; i++) {
        uint32_t s;
        mk(b, sizeof b, i);
        ASSERT(idmap_get(m, b, strlen(b), &s));
        ASSERT_EQ_INT(s, i % 2 ? i : 10000 + i);
    }
    ASSERT_EQ_INT(idmap_count(m), 5000);
    /* a duplicate put is refused, not silently doubled */
    ASSERT_EQ_INT(idmap_put(m, "id-1", 4, 99999), VX_ERR_CONFLICT);
    ASSERT_EQ_INT(idmap_count(m), 5000);
    idmap_destroy(m);
}

TEST(idmap_ids_with_odd_bytes)
{
    idmap *m = idmap_create();
    const char *ids[] = {"a/b", "é", "x y", "a", "ab", "ba"};
    for (uint32_t i = 0; i < 6; i++)
        ASSERT_EQ_INT(idmap_put(m, ids[i], strlen(ids[i]), i), VX_OK);
    for (uint32_t i = 0; i < 6; i++) {
        uint32_t s;
        ASSERT(idmap_get(m, ids[i], strlen(ids[i]), &s));
        ASSERT_EQ_INT(s, i);
    }
    idmap_destroy(m);
}
