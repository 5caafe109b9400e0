/*
 * ratelimit_test.c — token buckets on a fake clock: burst then refusal with
 * the right Retry-After, refill over time, independent keys, LRU eviction
 * within the key bound, disabled limiter, a clock that goes backwards,
 * invalid keys and configurations, and exact accounting under threads.
 */
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "vx_err.h"
#include "vx_test.h"

#define S 1000000000ull /* one second in ns */

static ratelimit *mk(double rate, double burst, size_t max_keys)
{
    ratelimit_config c = {.rate = rate, .burst = burst, .max_keys = max_keys};
    ratelimit *rl = NULL;
    return ratelimit_create(&c, &rl) == VX_OK ? rl : NULL;
}

TEST(ratelimit_burst_then_429_with_retry_after)
{
    ratelimit *rl = mk(1.0, 3, 0);
    ASSERT(rl);
    uint32_t ra = 99;
    uint64_t t0 = 5 * S;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ_INT(ratelimit_take(rl, "k:a", t0, &ra), VX_OK);
        ASSERT_EQ_INT(ra, 0);
    }
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", t0, &ra), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ra, 1);
    /* Half a token later: still refused, retry in (rounded up) 1 s. */
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", t0 + S / 2, &ra), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ra, 1);
    /* One second after t0 a whole token is back: exactly one request. */
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", t0 + S, &ra), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", t0 + S, &ra), VX_ERR_RATE_LIMITED);
    /* A long pause refills only up to burst. */
    uint64_t t1 = t0 + 1000 * S;
    for (int i = 0; i < 3; i++)
        ASSERT_EQ_INT(ratelimit_take(rl, "k:a", t1, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", t1, NULL), VX_ERR_RATE_LIMITED);
    ratelimit_destroy(rl);
}

TEST(ratelimit_slow_rate_retry_after_counts_seconds)
{
    ratelimit *rl = mk(0.1, 1, 0); /* one request per 10 s */
    ASSERT(rl);
    uint32_t ra;
    ASSERT_EQ_INT(ratelimit_take(rl, "ip:10.0.0.1", 0, &ra), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "ip:10.0.0.1", 0, &ra), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ra, 10);
    ASSERT_EQ_INT(ratelimit_take(rl, "ip:10.0.0.1", 3 * S, &ra), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ra, 7);
    ASSERT_EQ_INT(ratelimit_take(rl, "ip:10.0.0.1", 9 * S + S / 2, &ra), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ra, 1);
    ASSERT_EQ_INT(ratelimit_take(rl, "ip:10.0.0.1", 10 * S, &ra), VX_OK);
    ratelimit_destroy(rl);
}

TEST(ratelimit_high_rate_sustains_rate)
{
    /* 100/s with burst 10: over 10 s at 1 ms steps about 10 + 1000 pass. */
    ratelimit *rl = mk(100, 10, 0);
    ASSERT(rl);
    int ok = 0;
    for (uint64_t t = 0; t <= 10 * S; t += S / 1000)
        ok += ratelimit_take(rl, "k", t, NULL) == VX_OK;
    ASSERT_MSG(ok >= 1009 && ok <= 1011, "passed %d", ok);
    ratelimit_destroy(rl);
}

TEST(ratelimit_keys_are_independent)
{
    ratelimit *rl = mk(1, 2, 0);
    ASSERT(rl);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", 0, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", 0, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:a", 0, NULL), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:b", 0, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:b", 0, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "k:b", 0, NULL), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ratelimit_size(rl), 2);
    ratelimit_destroy(rl);
}

TEST(ratelimit_evicts_least_recently_used)
{
    ratelimit *rl = mk(1, 1, 2);
    ASSERT(rl);
    ASSERT_EQ_INT(ratelimit_take(rl, "a", 0, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "b", 0, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "a", 0, NULL), VX_ERR_RATE_LIMITED); /* a is now newest */
    ASSERT_EQ_INT(ratelimit_take(rl, "c", 0, NULL), VX_OK);               /* evicts b */
    ASSERT_EQ_INT(ratelimit_size(rl), 2);
    ASSERT_EQ_INT(ratelimit_take(rl, "a", 0, NULL), VX_ERR_RATE_LIMITED); /* kept, drained */
    ASSERT_EQ_INT(ratelimit_take(rl, "b", 0, NULL), VX_OK);               /* fresh: was evicted */
    ASSERT_EQ_INT(ratelimit_size(rl), 2);
    ratelimit_destroy(rl);
}

TEST(ratelimit_many_keys_stay_bounded)
{
    enum { CAP = 1000, N = 20000 };
    ratelimit *rl = mk(0.001, 1, CAP);
    ASSERT(rl);
    char k[32];
    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        ASSERT_EQ_INT(ratelimit_take(rl, k, 0, NULL), VX_OK);
    }
    ASSERT_EQ_INT(ratelimit_size(rl), CAP);
    /* The newest CAP keys are still drained; the older ones were dropped. */
    for (int i = N - CAP; i < N; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        ASSERT_MSG(ratelimit_take(rl, k, 0, NULL) == VX_ERR_RATE_LIMITED, "%s was dropped", k);
    }
    snprintf(k, sizeof(k), "ip:%d", 0);
    ASSERT_EQ_INT(ratelimit_take(rl, k, 0, NULL), VX_OK);
    ratelimit_destroy(rl);
}

TEST(ratelimit_disabled_and_backwards_clock)
{
    ratelimit *rl = mk(0, 0, 0);
    ASSERT(rl);
    for (int i = 0; i < 1000; i++)
        ASSERT_EQ_INT(ratelimit_take(rl, "k", 0, NULL), VX_OK);
    ratelimit_destroy(rl);

    rl = mk(1, 1, 0);
    ASSERT(rl);
    ASSERT_EQ_INT(ratelimit_take(rl, "k", 100 * S, NULL), VX_OK);
    /* An earlier timestamp (read before another thread took the lock)
     * neither refills nor breaks anything. */
    ASSERT_EQ_INT(ratelimit_take(rl, "k", 50 * S, NULL), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ratelimit_take(rl, "k", 100 * S + S / 2, NULL), VX_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(ratelimit_take(rl, "k", 101 * S, NULL), VX_OK);
    ratelimit_destroy(rl);
}

TEST(ratelimit_rejects_bad_keys_and_configs)
{
    ratelimit *rl = mk(1, 1, 0);
    ASSERT(rl);
    char big[RATELIMIT_MAX_KEY_LEN + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ASSERT_EQ_INT(ratelimit_take(rl, big, 0, NULL), VX_ERR_INVALID);
    big[RATELIMIT_MAX_KEY_LEN] = 0; /* exactly the limit is fine */
    ASSERT_EQ_INT(ratelimit_take(rl, big, 0, NULL), VX_OK);
    ASSERT_EQ_INT(ratelimit_take(rl, "", 0, NULL), VX_ERR_INVALID);
    ASSERT_EQ_INT(ratelimit_take(rl, NULL, 0, NULL), VX_ERR_INVALID);
    ratelimit_destroy(rl);
    ASSERT(mk(1, 0.5, 0) == NULL);
    ASSERT(mk(NAN, 1, 0) == NULL);
    ASSERT(mk(1, INFINITY, 0) == NULL);
    ASSERT(mk(1, 1, (size_t)1 << 30) == NULL);
}

typedef struct {
    ratelimit *rl;
    int ok;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    char k[8];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "k%d", i % 3);
        a->ok += ratelimit_take(a->rl, k, 7 * S, NULL) == VX_OK;
    }
    return NULL;
}

TEST(ratelimit_threads_account_exactly)
{
    /* A frozen clock: exactly burst tokens per key can be taken, however
     * the four threads interleave. */
    ratelimit *rl = mk(1, 1000, 0);
    ASSERT(rl);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){rl, 0};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += args[i].ok;
    }
    ASSERT_EQ_INT(total, 3 * 1000);
    ratelimit_destroy(rl);
}
