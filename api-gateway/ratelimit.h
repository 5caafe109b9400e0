/*
 * ratelimit.h — per-client token buckets for the gateway (429 + Retry-After).
 *
 * Each key (an API key id such as "k:3f2a9b1c", or the client address when
 * auth is off) owns a bucket of `burst` tokens that refills at `rate`
 * tokens per second; a request takes one token or is refused with the
 * number of whole seconds after which one will be there.
 *
 * Memory is bounded: at most max_keys buckets exist; when a new key arrives
 * at a full table the least recently used bucket is dropped (its key starts
 * again with a full bucket if it comes back). Time is passed in by the
 * caller (monotonic nanoseconds, vx_now_ns()), so tests use a fake clock.
 *
 * Thread-safe: one mutex, held for O(1) work per call. Ownership: opaque,
 * ratelimit_create / ratelimit_destroy; keys are copied.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_MAX_KEY_LEN 63
#define RATELIMIT_DEFAULT_MAX_KEYS 65536

typedef struct ratelimit_config {
    double rate;     /* tokens added per second; <= 0 disables limiting */
    double burst;    /* bucket size, >= 1 (a new key starts full) */
    size_t max_keys; /* buckets kept; 0 = RATELIMIT_DEFAULT_MAX_KEYS */
} ratelimit_config;

typedef struct ratelimit ratelimit;

/* Returns VX_OK, VX_ERR_INVALID (burst < 1 with rate > 0, NaN/inf values,
 * max_keys above 2^24) or VX_ERR_NOMEM. */
int ratelimit_create(const ratelimit_config *cfg, ratelimit **out);
void ratelimit_destroy(ratelimit *rl);

/* Takes one token from key's bucket at time now_ns. Returns VX_OK, or
 * VX_ERR_RATE_LIMITED with *retry_after_s (may be NULL) set to the whole
 * seconds (>= 1) until a token is available, or VX_ERR_INVALID for a NULL
 * or empty key or one longer than RATELIMIT_MAX_KEY_LEN. Always VX_OK when
 * limiting is disabled. */
int ratelimit_take(ratelimit *rl, const char *key, uint64_t now_ns, uint32_t *retry_after_s);

/* Buckets currently held (for tests and metrics). */
size_t ratelimit_size(ratelimit *rl);

#endif
