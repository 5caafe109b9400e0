/*
 * vx_buf_test.c — growable buffers: growth keeps contents, printf appends,
 * terminate does not count, reset keeps capacity, steal hands over bytes.
 */
#include "vx_buf.h"

#include <stdlib.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vx_test.h"

TEST(buf_growth_keeps_contents)
{
    vx_buf b = VX_BUF_INIT;
    ASSERT(b.data == NULL && b.len == 0 && b.cap == 0);
    for (int i = 0; i < 100000; i++)
        vx_buf_putc(&b, (unsigned char)(i % 251));
    ASSERT_EQ_INT(b.len, 100000);
    ASSERT(b.cap >= b.len);
    for (int i = 0; i < 100000; i++)
        ASSERT_EQ_INT(b.data[i], i % 251);
    unsigned char chunk[5000];
    memset(chunk, 'z', sizeof chunk);
    vx_buf_append(&b, chunk, sizeof chunk);
    ASSERT_EQ_INT(b.len, 105000);
    ASSERT_EQ_INT(b.data[104999], 'z');
    ASSERT_EQ_INT(b.data[99999], 99999 % 251);
    vx_buf_append(&b, NULL, 0); /* no-op */
    ASSERT_EQ_INT(b.len, 105000);
    vx_buf_free(&b);
    ASSERT(b.data == NULL && b.len == 0 && b.cap == 0);
}

TEST(buf_reserve_gives_room)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_reserve(&b, 1000);
    ASSERT(b.cap - b.len >= 1000);
    size_t cap = b.cap;
    unsigned char *data = b.data;
    memset(b.data, 'x', 1000);
    b.len = 1000;
    ASSERT(b.cap == cap && b.data == data);
    vx_buf_reserve(&b, 0);
    vx_buf_terminate(&b);
    ASSERT_EQ_INT(b.data[1000], 0);
    ASSERT_EQ_INT(b.len, 1000);
    vx_buf_free(&b);
}

TEST(buf_printf_appends)
{
    vx_buf b = VX_BUF_INIT;
    vx_buf_printf(&b, "%s=%d", "a", 1);
    vx_buf_printf(&b, ",%s=%d", "b", 22);
    vx_buf_printf(&b, "%s", ""); /* empty output appends nothing */
    ASSERT_EQ_INT(b.len, 8);
    vx_buf_terminate(&b);
    ASSERT_STR_EQ((char *)b.data, "a=1,b=22");
    /* output longer than the current capacity */
    vx_buf_printf(&b, "%05000d", 3);
    ASSERT_EQ_INT(b.len, 5008);
    ASSERT_EQ_INT(b.data[5007], '3');
    ASSERT_EQ_INT(b.data[8], '0');
    vx_buf_terminate(&b);
    ASSERT_EQ_INT(strlen((char *)b.data), 5008);
    vx_buf_free(&b);
}

TEST(buf_reset_keeps_capacity)
{
    vx_buf b = VX_BUF_INIT;
    vx_buf_append(&b, "hello", 5);
    size_t cap = b.cap;
    vx_buf_reset(&b);
    ASSERT_EQ_INT(b.len, 0);
    ASSERT_EQ_INT(b.cap, cap);
    vx_buf_append(&b, "yo", 2);
    ASSERT(memcmp(b.data, "yo", 2) == 0);
    vx_buf_free(&b);
}

TEST(buf_steal_hands_over_bytes)
{
    vx_buf b = VX_BUF_INIT;
    vx_buf_append(&b, "stolen", 6);
    size_t len = 0;
    unsigned char *p = vx_buf_steal(&b, &len);
    ASSERT_EQ_INT(len, 6);
    ASSERT(memcmp(p, "stolen", 6) == 0);
    ASSERT(b.data == NULL && b.len == 0 && b.cap == 0);
    /* the buffer is reusable and independent of the stolen bytes */
    vx_buf_append(&b, "new", 3);
    ASSERT(memcmp(p, "stolen", 6) == 0);
    free(p);
    unsigned char *p2 = vx_buf_steal(&b, NULL); /* len may be NULL */
    ASSERT(p2 != NULL && memcmp(p2, "new", 3) == 0);
    free(p2);
    vx_buf_free(&b);
    /* stealing an empty buffer gives NULL and length 0 */
    vx_buf e = VX_BUF_INIT;
    len = 99;
    ASSERT(vx_buf_steal(&e, &len) == NULL);
    ASSERT_EQ_INT(len, 0);
}

TEST(buf_size_overflow_aborts_instead_of_corrupting)
{
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(2); /* keep the expected log line out of the test output */
        vx_buf b = VX_BUF_INIT;
        vx_buf_append(&b, "0123456789", 10);
        vx_buf_reserve(&b, SIZE_MAX - 5); /* len + extra wraps around */
        _exit(0);                         /* reaching here is the bug */
    }
    int status = 0;
    ASSERT(waitpid(pid, &status, 0) == pid);
    ASSERT_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
               "child status %d: reserve did not abort", status);
}
