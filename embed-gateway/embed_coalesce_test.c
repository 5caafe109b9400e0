/*
 * embed_coalesce_test.c — concurrent single-text calls share provider
 * calls, every caller gets its own rows, a full batch starts at once, big
 * calls bypass the batching, errors reach every member, and a follower
 * past its deadline leaves with VX_ERR_TIMEOUT without breaking the batch.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "embed_coalesce.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_test.h"

#define DIM 4

typedef struct fake {
    atomic_int calls;
    atomic_int max_n;
    int fail;
    uint32_t sleep_ms;
} fake;

static float val(const char *t, int j)
{
    unsigned h = 0;
    for (; *t; t++)
        h = h * 31u + (unsigned char)*t;
    return (float)(h % 1000u) + (float)j / 10.0f;
}

static int fake_fn(void *arg, const char **texts, uint32_t n, uint64_t deadline_us, float *out, char *err,
                   size_t err_len)
{
    (void)deadline_us;
    fake *f = arg;
    atomic_fetch_add(&f->calls, 1);
    int m = atomic_load(&f->max_n);
    while ((int)n > m && !atomic_compare_exchange_weak(&f->max_n, &m, (int)n))
        ;
    if (f->sleep_ms)
        vx_sleep_ms(f->sleep_ms);
    if (f->fail) {
        snprintf(err, err_len, "provider exploded");
        return VX_ERR_UPSTREAM;
    }
    for (uint32_t i = 0; i < n; i++)
        for (int j = 0; j < DIM; j++)
            out[i * DIM + j] = val(texts[i], j);
    return VX_OK;
}

typedef struct job {
    coalescer *c;
    char text[32];
    uint64_t deadline_us;
    int rc;
    float out[DIM];
    char err[300];
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    const char *t = j->text;
    j->rc = coalescer_embed(j->c, &t, 1, j->deadline_us, j->out, j->err, sizeof j->err);
    return NULL;
}

static int run_jobs(coalescer *c, job *jobs, int n, uint64_t deadline_us)
{
    pthread_t th[16];
    for (int i = 0; i < n; i++) {
        jobs[i].c = c;
        snprintf(jobs[i].text, sizeof jobs[i].text, "text number %d", i);
        jobs[i].deadline_us = deadline_us;
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return 0;
}

TEST(coalesce_concurrent_singles_share_calls_and_get_their_rows)
{
    fake f = {0};
    coalescer *c;
    ASSERT_EQ_INT(coalescer_create(&c, DIM, 32, 100000, fake_fn, &f), VX_OK);
    job jobs[8];
    run_jobs(c, jobs, 8, 0);
    coalesce_stats st = coalescer_get_stats(c);
    coalescer_destroy(c);
    for (int i = 0; i < 8; i++) {
        ASSERT_MSG(jobs[i].rc == VX_OK, "job %d: %s", i, jobs[i].err);
        for (int j = 0; j < DIM; j++)
            ASSERT(jobs[i].out[j] == val(jobs[i].text, j));
    }
    ASSERT_EQ_INT(st.calls, 8);
    ASSERT_EQ_INT(st.texts, 8);
    ASSERT_MSG(atomic_load(&f.calls) < 8, "no coalescing: %d provider calls", atomic_load(&f.calls));
    ASSERT_EQ_INT(st.batches, atomic_load(&f.calls));
    ASSERT(atomic_load(&f.max_n) >= 2);
}

TEST(coalesce_full_batch_starts_without_waiting)
{
    fake f = {0};
    coalescer *c;
    ASSERT_EQ_INT(coalescer_create(&c, DIM, 4, 5000000, fake_fn, &f), VX_OK); /* 5 s wait */
    job jobs[4];
    uint64_t t0 = vx_now_us();
    run_jobs(c, jobs, 4, 0);
    uint64_t ms = (vx_now_us() - t0) / 1000;
    coalescer_destroy(c);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ_INT(jobs[i].rc, VX_OK);
    ASSERT_EQ_INT(atomic_load(&f.calls), 1);
    ASSERT_MSG(ms < 2500, "a full batch waited %llu ms", (unsigned long long)ms);
}

TEST(coalesce_large_calls_bypass)
{
    fake f = {0};
    coalescer *c;
    ASSERT_EQ_INT(coalescer_create(&c, DIM, 8, 1000000, fake_fn, &f), VX_OK);
    const char *texts[5] = {"a", "b", "c", "d", "e"};
    float out[5 * DIM];
    char err[100];
    uint64_t t0 = vx_now_us();
    int rc = coalescer_embed(c, texts, 5, 0, out, err, sizeof err);
    uint64_t ms = (vx_now_us() - t0) / 1000;
    coalescer_destroy(c);
    ASSERT_EQ_INT(rc, VX_OK);
    ASSERT(ms < 500); /* did not wait the 1 s window */
    ASSERT(out[4 * DIM + 1] == val("e", 1));
}

TEST(coalesce_errors_reach_every_member)
{
    fake f = {.fail = 1};
    coalescer *c;
    ASSERT_EQ_INT(coalescer_create(&c, DIM, 32, 50000, fake_fn, &f), VX_OK);
    job jobs[6];
    run_jobs(c, jobs, 6, 0);
    coalescer_destroy(c);
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ_INT(jobs[i].rc, VX_ERR_UPSTREAM);
        ASSERT_STR_EQ(jobs[i].err, "provider exploded");
    }
}

TEST(coalesce_follower_deadline_is_respected)
{
    fake f = {.sleep_ms = 400};
    coalescer *c;
    ASSERT_EQ_INT(coalescer_create(&c, DIM, 32, 100000, fake_fn, &f), VX_OK);
    job leader = {.c = c, .text = "leader"}, follower = {.c = c, .text = "follower"};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, run_job, &leader);
    vx_sleep_ms(20); /* the leader opens the batch */
    follower.deadline_us = vx_now_us() + 150000;
    uint64_t t0 = vx_now_us();
    pthread_create(&t2, NULL, run_job, &follower);
    pthread_join(t2, NULL);
    uint64_t ms = (vx_now_us() - t0) / 1000;
    pthread_join(t1, NULL);
    coalescer_destroy(c);
    ASSERT_EQ_INT(leader.rc, VX_OK);
    ASSERT(leader.out[2] == val("leader", 2));
    ASSERT_EQ_INT(follower.rc, VX_ERR_TIMEOUT);
    ASSERT_MSG(ms < 350, "follower waited %llu ms", (unsigned long long)ms);
    ASSERT_EQ_INT(atomic_load(&f.calls), 1);
}
