/*
 * vx_cpu_qos_test.c — the CPU latency hint, with a regular file standing in
 * for /dev/cpu_dma_latency: every write lands in the file, so a test reads
 * back the sequence of values the kernel would have seen. Checks: held
 * while a request runs, released only after the linger, nested requests,
 * re-entry within the linger, release on close, errors, and an alternating
 * hold/release sequence under concurrent threads.
 */
#include "vx_cpu_qos.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vx_clock.h"
#include "vx_err.h"
#include "vx_test.h"

#define LINGER_MS 150

static char dev_path[64];

static vx_cpu_qos *open_fake(int linger_ms)
{
    snprintf(dev_path, sizeof dev_path, "/tmp/vx_cpu_qos_test.XXXXXX");
    int fd = mkstemp(dev_path);
    if (fd < 0)
        return NULL;
    close(fd);
    vx_cpu_qos *q = NULL;
    if (vx_cpu_qos_open(&q, dev_path, linger_ms) != VX_OK)
        return NULL;
    return q;
}

/* The values written so far; returns how many (at most cap). */
static size_t written(int32_t *vals, size_t cap)
{
    FILE *f = fopen(dev_path, "rb");
    if (!f)
        return 0;
    size_t n = fread(vals, sizeof *vals, cap, f);
    fclose(f);
    return n;
}

TEST(cpu_qos_holds_during_a_request_and_releases_after_the_linger)
{
    vx_cpu_qos *q = open_fake(LINGER_MS);
    ASSERT(q != NULL);
    int32_t v[8];
    ASSERT_EQ_INT(written(v, 8), 0); /* opening alone asks for nothing */
    vx_cpu_qos_enter(q);
    ASSERT_EQ_INT(written(v, 8), 1);
    ASSERT_EQ_INT(v[0], 0);
    vx_cpu_qos_leave(q);
    ASSERT_EQ_INT(written(v, 8), 1); /* still held: the linger has not passed */
    vx_sleep_ms(LINGER_MS * 4);
    ASSERT_EQ_INT(written(v, 8), 2);
    ASSERT_EQ_INT(v[1], -1);
    vx_cpu_qos_close(q);
    ASSERT_EQ_INT(written(v, 8), 2); /* nothing held, nothing to drop */
    unlink(dev_path);
}

TEST(cpu_qos_nested_requests_keep_it_held)
{
    vx_cpu_qos *q = open_fake(LINGER_MS);
    ASSERT(q != NULL);
    int32_t v[8];
    vx_cpu_qos_enter(q);
    vx_cpu_qos_enter(q);
    vx_cpu_qos_leave(q);
    vx_sleep_ms(LINGER_MS * 3); /* one request still runs */
    ASSERT_EQ_INT(written(v, 8), 1);
    vx_cpu_qos_leave(q);
    vx_sleep_ms(LINGER_MS * 4);
    ASSERT_EQ_INT(written(v, 8), 2);
    ASSERT_EQ_INT(v[0], 0);
    ASSERT_EQ_INT(v[1], -1);
    vx_cpu_qos_close(q);
    unlink(dev_path);
}

TEST(cpu_qos_reentry_within_the_linger_writes_nothing)
{
    vx_cpu_qos *q = open_fake(LINGER_MS * 4);
    ASSERT(q != NULL);
    int32_t v[8];
    for (int i = 0; i < 5; i++) { /* a client sending requests back to back */
        vx_cpu_qos_enter(q);
        vx_cpu_qos_leave(q);
    }
    ASSERT_EQ_INT(written(v, 8), 1);
    vx_cpu_qos_close(q); /* held at close: close drops it */
    ASSERT_EQ_INT(written(v, 8), 2);
    ASSERT_EQ_INT(v[1], -1);
    unlink(dev_path);
}

TEST(cpu_qos_errors)
{
    vx_cpu_qos *q = (vx_cpu_qos *)&q;
    ASSERT_EQ_INT(vx_cpu_qos_open(&q, "/nonexistent/cpu_dma_latency", 5), VX_ERR_IO);
    ASSERT(q == NULL);
    /* a FIFO nobody reads: refused at once, never a hang */
    char fifo[64];
    snprintf(fifo, sizeof fifo, "/tmp/vx_cpu_qos_fifo.%d", (int)getpid());
    ASSERT_EQ_INT(mkfifo(fifo, 0600), 0);
    ASSERT_EQ_INT(vx_cpu_qos_open(&q, fifo, 5), VX_ERR_IO);
    unlink(fifo);
    ASSERT_EQ_INT(vx_cpu_qos_open(&q, "/dev/null", 0), VX_ERR_INVALID);
    ASSERT_EQ_INT(vx_cpu_qos_open(&q, "/dev/null", VX_CPU_QOS_MAX_LINGER_MS + 1), VX_ERR_INVALID);
    ASSERT_EQ_INT(vx_cpu_qos_open(NULL, "/dev/null", 5), VX_ERR_INVALID);
    /* NULL handle: the feature is off, every call is a no-op */
    vx_cpu_qos_enter(NULL);
    vx_cpu_qos_leave(NULL);
    vx_cpu_qos_close(NULL);
}

#define THREADS 4
#define ROUNDS 2000

static void *enter_leave_loop(void *arg)
{
    vx_cpu_qos *q = arg;
    for (int i = 0; i < ROUNDS; i++) {
        vx_cpu_qos_enter(q);
        if (i % 64 == 0)
            usleep(1500); /* let the linger run out now and then */
        vx_cpu_qos_leave(q);
        if (i % 97 == 0)
            usleep(3000);
    }
    return NULL;
}

TEST(cpu_qos_threads_alternate_hold_and_release)
{
    vx_cpu_qos *q = open_fake(1);
    ASSERT(q != NULL);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        ASSERT_EQ_INT(pthread_create(&t[i], NULL, enter_leave_loop, q), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    vx_sleep_ms(50);
    vx_cpu_qos_close(q);
    struct stat st;
    ASSERT_EQ_INT(stat(dev_path, &st), 0);
    size_t n = (size_t)st.st_size / sizeof(int32_t);
    int32_t *v = malloc(n * sizeof *v);
    ASSERT(v != NULL);
    ASSERT_EQ_INT(written(v, n), n);
    ASSERT(n >= 2);
    ASSERT_EQ_INT(n % 2, 0);
    for (size_t i = 0; i < n; i++) /* hold, release, hold, release, ... */
        ASSERT_EQ_INT(v[i], i % 2 == 0 ? 0 : -1);
    free(v);
    unlink(dev_path);
}
