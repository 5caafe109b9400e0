/*
 * vx_arena_test.c — the request arena: zeroed 16-byte aligned memory,
 * allocations larger than a chunk, reset keeping one chunk, string helpers.
 */
#include "vx_arena.h"

#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vx_test.h"

TEST(arena_alignment_and_zeroing)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    for (size_t sz = 0; sz < 200; sz++) {
        unsigned char *p = vx_arena_alloc(&a, sz);
        ASSERT(p != NULL);
        ASSERT_EQ_INT((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < sz; i++)
            ASSERT_EQ_INT(p[i], 0);
        memset(p, 0xAB, sz); /* dirty it: later allocations must still be zero */
    }
    vx_arena_fini(&a);
}

TEST(arena_allocations_do_not_overlap)
{
    vx_arena a;
    vx_arena_init(&a, 256);
    unsigned char *ptrs[100];
    size_t sizes[100];
    for (int i = 0; i < 100; i++) {
        sizes[i] = (size_t)(i * 7 % 97) + 1;
        ptrs[i] = vx_arena_alloc(&a, sizes[i]);
        memset(ptrs[i], i, sizes[i]);
    }
    for (int i = 0; i < 100; i++)
        for (size_t j = 0; j < sizes[i]; j++)
            ASSERT_EQ_INT(ptrs[i][j], i);
    vx_arena_fini(&a);
}

TEST(arena_big_allocations)
{
    vx_arena a;
    vx_arena_init(&a, 256);
    size_t big = 1u << 20;
    unsigned char *small = vx_arena_alloc(&a, 10);
    memcpy(small, "0123456789", 10);
    unsigned char *p = vx_arena_alloc(&a, big);
    ASSERT(p != NULL);
    ASSERT_EQ_INT((uintptr_t)p % 16, 0);
    ASSERT_EQ_INT(p[0], 0);
    ASSERT_EQ_INT(p[big - 1], 0);
    memset(p, 1, big);
    /* earlier allocations survive a big one */
    ASSERT(memcmp(small, "0123456789", 10) == 0);
    ASSERT(a.total >= big + 10);
    /* and allocation continues afterwards */
    unsigned char *q = vx_arena_alloc(&a, 32);
    ASSERT(q != NULL && (q + 32 <= p || q >= p + big));
    vx_arena_fini(&a);
    ASSERT(a.head == NULL);
}

TEST(arena_reset_reuses_memory)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    void *first = vx_arena_alloc(&a, 100);
    for (int i = 0; i < 100; i++)
        vx_arena_alloc(&a, 1000); /* spills into more chunks */
    ASSERT(a.total >= 100000);
    vx_arena_reset(&a);
    ASSERT_EQ_INT(a.total, 0);
    ASSERT(a.head != NULL);
    /* the first (oldest) chunk is kept: the next allocation reuses it */
    void *again = vx_arena_alloc(&a, 100);
    ASSERT(again == first);
    ASSERT_EQ_INT(((unsigned char *)again)[0], 0);
    /* reset of an empty arena and repeated resets are fine */
    vx_arena_reset(&a);
    vx_arena_reset(&a);
    vx_arena_fini(&a);
    vx_arena b;
    vx_arena_init(&b, 0);
    vx_arena_reset(&b);
    ASSERT(vx_arena_alloc(&b, 1) != NULL);
    vx_arena_fini(&b);
}

TEST(arena_strings)
{
    vx_arena a;
    vx_arena_init(&a, 256);
    char *s = vx_arena_strndup(&a, "hello world", 5);
    ASSERT_STR_EQ(s, "hello");
    char *e = vx_arena_strndup(&a, NULL, 0);
    ASSERT_STR_EQ(e, "");
    char *n = vx_arena_strndup(&a, "a\0b", 3);
    ASSERT(memcmp(n, "a\0b\0", 4) == 0);
    ASSERT_STR_EQ(vx_arena_strdup(&a, "copy"), "copy");
    ASSERT_STR_EQ(vx_arena_sprintf(&a, "%s-%d", "id", 42), "id-42");
    /* a formatted string larger than a chunk */
    char *big = vx_arena_sprintf(&a, "%0600d", 7);
    ASSERT_EQ_INT(strlen(big), 600);
    ASSERT_EQ_INT(big[599], '7');
    ASSERT_STR_EQ(s, "hello");
    vx_arena_fini(&a);
}

TEST(arena_impossible_size_aborts)
{
    /* sizes that wrap around when the chunk header is added must abort
     * with a log line, never return a short block */
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(2);
        vx_arena a;
        vx_arena_init(&a, 256);
        vx_arena_alloc(&a, SIZE_MAX - 40);
        _exit(0);
    }
    int status = 0;
    ASSERT(waitpid(pid, &status, 0) == pid);
    ASSERT_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "child status %d", status);
}
