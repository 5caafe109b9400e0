/*
 * embed_coalesce.h — coalescing of concurrent small embedding requests for
 * one model into one provider call (a Python worker serves one call at a
 * time, a remote provider charges per HTTP round trip).
 *
 * Leader/follower, no extra thread: a call that finds no open batch opens
 * one and becomes its leader; calls arriving while it is open add their
 * texts (copied) and wait. The leader closes the batch when it holds
 * max_texts texts or max_wait_us after opening, runs the provider function
 * once for all texts (outside the lock) with the latest of the members'
 * deadlines, and wakes the followers, who copy their rows out. A call with
 * more than max_texts / 2 texts bypasses coalescing. A follower whose own
 * deadline passes before the batch finishes returns VX_ERR_TIMEOUT; the
 * batch (which owns copies of its texts) is freed by whoever leaves last.
 * Every member of a failed batch gets the batch's error code and message.
 *
 * Ownership: the coalescer borrows fn/arg (they must outlive it); results
 * are copied into each caller's out. Thread-safe.
 */
#ifndef EMBED_COALESCE_H
#define EMBED_COALESCE_H

#include <stddef.h>
#include <stdint.h>

typedef int (*coalesce_fn)(void *arg, const char **texts, uint32_t n, uint64_t deadline_us, float *out, char *err,
                           size_t err_len);

typedef struct coalescer coalescer;

typedef struct coalesce_stats {
    uint64_t calls;   /* coalescer_embed calls */
    uint64_t batches; /* provider calls made for them */
    uint64_t texts;
} coalesce_stats;

/* max_texts >= 2; max_wait_us > 0. */
int coalescer_create(coalescer **out, uint32_t dim, uint32_t max_texts, uint32_t max_wait_us, coalesce_fn fn,
                     void *arg);
void coalescer_destroy(coalescer *c);

int coalescer_embed(coalescer *c, const char **texts, uint32_t n, uint64_t deadline_us, float *out, char *err,
                    size_t err_len);

coalesce_stats coalescer_get_stats(coalescer *c);

#endif
