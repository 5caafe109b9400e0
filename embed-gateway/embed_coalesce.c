/*
 * embed_coalesce.c — leader/follower batching (see embed_coalesce.h).
 *
 * Invariants (under c->mu): c->open is the only batch accepting texts; a
 * batch is removed from c->open before its provider call starts; b->refs
 * counts the callers still attached to b, and the last one to detach frees
 * it; b->done is set once, after b->out / b->rc are final.
 */
#include "embed_coalesce.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx_clock.h"
#include "vx_err.h"

typedef struct batch {
    char **texts;  /* owned copies */
    uint32_t n;
    float *out;    /* max_texts × dim */
    uint64_t deadline_us; /* latest of the members' (0 = none) */
    int rc;
    char err[300];
    bool done, full;
    int refs;
    pthread_cond_t cv; /* done, or (for the leader) full */
} batch;

struct coalescer {
    pthread_mutex_t mu;
    uint32_t dim, max_texts, max_wait_us;
    coalesce_fn fn;
    void *arg;
    batch *open;
    coalesce_stats st;
};

static void abs_time(struct timespec *ts, uint64_t at_us)
{
    uint64_t now = vx_now_us();
    clock_gettime(CLOCK_MONOTONIC, ts);
    uint64_t add_ns = (at_us > now ? at_us - now : 0) * 1000u + (uint64_t)ts->tv_nsec;
    ts->tv_sec += (time_t)(add_ns / 1000000000u);
    ts->tv_nsec = (long)(add_ns % 1000000000u);
}

int coalescer_create(coalescer **out, uint32_t dim, uint32_t max_texts, uint32_t max_wait_us, coalesce_fn fn,
                     void *arg)
{
    *out = NULL;
    if (max_texts < 2 || !max_wait_us || !dim || !fn)
        return VX_ERR_INVALID;
    coalescer *c = calloc(1, sizeof *c);
    if (!c)
        return VX_ERR_NOMEM;
    pthread_mutex_init(&c->mu, NULL);
    c->dim = dim;
    c->max_texts = max_texts;
    c->max_wait_us = max_wait_us;
    c->fn = fn;
    c->arg = arg;
    *out = c;
    return VX_OK;
}

void coalescer_destroy(coalescer *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static batch *batch_new(coalescer *c)
{
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->texts = calloc(c->max_texts, sizeof *b->texts);
    b->out = malloc(sizeof(float) * c->dim * c->max_texts);
    vx_cond_init_monotonic(&b->cv);
    if (!b->texts || !b->out) {
        free(b->texts);
        free(b->out);
        pthread_cond_destroy(&b->cv);
        free(b);
        return NULL;
    }
    return b;
}

static void batch_free(batch *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        free(b->texts[i]);
    free(b->texts);
    free(b->out);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* Adds texts to b; false when out of memory (nothing added). */
static bool add_texts(batch *b, const char **texts, uint32_t n, uint64_t deadline_us)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!(b->texts[b->n + i] = strdup(texts[i]))) {
            while (i-- > 0)
                free(b->texts[b->n + i]);
            return false;
        }
    }
    b->n += n;
    if (!deadline_us || !b->deadline_us)
        b->deadline_us = 0;
    else if (deadline_us > b->deadline_us)
        b->deadline_us = deadline_us;
    return true;
}

static int detach(batch *b, uint32_t first, uint32_t n, uint32_t dim, float *out, char *err, size_t err_len)
{
    int rc = b->rc;
    if (rc == VX_OK)
        memcpy(out, b->out + (size_t)first * dim, sizeof(float) * dim * n);
    else if (err && err_len)
        snprintf(err, err_len, "%s", b->err);
    return rc;
}

int coalescer_embed(coalescer *c, const char **texts, uint32_t n, uint64_t deadline_us, float *out, char *err,
                    size_t err_len)
{
    if (n > c->max_texts / 2)
        return c->fn(c->arg, texts, n, deadline_us, out, err, err_len);
    pthread_mutex_lock(&c->mu);
    c->st.calls++;
    c->st.texts += n;
    batch *b = c->open;
    bool leader = false;
    if (!b || b->n + n > c->max_texts) {
        if (b) { /* full for us: close it early, its leader will start */
            b->full = true;
            pthread_cond_broadcast(&b->cv);
            c->open = NULL;
        }
        if (!(b = batch_new(c))) {
            pthread_mutex_unlock(&c->mu);
            return VX_ERR_NOMEM;
        }
        b->deadline_us = deadline_us;
        c->open = b;
        leader = true;
    }
    uint32_t first = b->n;
    if (!add_texts(b, texts, n, deadline_us)) {
        if (leader && b->n == 0) {
            c->open = NULL;
            batch_free(b);
        }
        pthread_mutex_unlock(&c->mu);
        return VX_ERR_NOMEM;
    }
    b->refs++;
    int rc;
    if (leader) {
        struct timespec until;
        abs_time(&until, vx_now_us() + c->max_wait_us);
        while (!b->full && b->n < c->max_texts &&
               pthread_cond_clockwait(&b->cv, &c->mu, CLOCK_MONOTONIC, &until) == 0)
            ;
        if (c->open == b)
            c->open = NULL;
        c->st.batches++;
        pthread_mutex_unlock(&c->mu);
        char e[300] = "";
        int r = c->fn(c->arg, (const char **)b->texts, b->n, b->deadline_us, b->out, e, sizeof e);
        pthread_mutex_lock(&c->mu);
        b->rc = r;
        memcpy(b->err, e, sizeof e);
        b->done = true;
        pthread_cond_broadcast(&b->cv);
        rc = detach(b, first, n, c->dim, out, err, err_len);
    } else {
        if (b->n >= c->max_texts) {
            b->full = true;
            pthread_cond_broadcast(&b->cv);
        }
        struct timespec until;
        abs_time(&until, deadline_us);
        int w = 0;
        while (!b->done && w == 0)
            w = deadline_us ? pthread_cond_clockwait(&b->cv, &c->mu, CLOCK_MONOTONIC, &until)
                            : pthread_cond_wait(&b->cv, &c->mu);
        if (b->done) {
            rc = detach(b, first, n, c->dim, out, err, err_len);
        } else {
            rc = VX_ERR_TIMEOUT;
            if (err && err_len)
                snprintf(err, err_len, "the coalesced batch did not finish before the deadline");
        }
    }
    if (--b->refs == 0 && b->done) /* the leader keeps its reference until done */
        batch_free(b);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

coalesce_stats coalescer_get_stats(coalescer *c)
{
    pthread_mutex_lock(&c->mu);
    coalesce_stats s = c->st;
    pthread_mutex_unlock(&c->mu);
    return s;
}
