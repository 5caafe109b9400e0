/*
 * ratelimit.c — token buckets in a fixed-size hash table with an LRU list.
 *
 * Layout: `slots` is an array of max_keys buckets allocated once; `heads`
 * is a power-of-two array (>= 2 * max_keys) of chain heads. Each used slot
 * is on exactly one hash chain (next) and on the LRU list (prev/newer,
 * older), most recently used at lru_head. Indices are int32, -1 = none.
 * Slots are handed out in order until all are used; after that a new key
 * reuses the LRU tail's slot (unlinked from its chain first).
 *
 * Tokens are doubles; refill = elapsed_ns * rate / 1e9, capped at burst.
 * A `now` older than the bucket's last update (callers read the clock
 * before taking the lock) counts as no time passed.
 */
#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"

typedef struct rl_slot {
    char key[RATELIMIT_MAX_KEY_LEN + 1];
    uint64_t hash;
    double tokens;
    uint64_t last_ns;
    int32_t next;  /* hash chain */
    int32_t newer; /* LRU list */
    int32_t older;
} rl_slot;

struct ratelimit {
    pthread_mutex_t mu;
    double rate, burst;
    rl_slot *slots;
    int32_t *heads;
    uint64_t mask; /* n_heads - 1 */
    size_t cap, used;
    int32_t lru_head, lru_tail; /* newest, oldest */
};

#define RL_MAX_KEYS_LIMIT ((size_t)1 << 24)

static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

int ratelimit_create(const ratelimit_config *cfg, ratelimit **out)
{
    *out = NULL;
    if (!cfg || isnan(cfg->rate) || isinf(cfg->rate) || isnan(cfg->burst) ||
        isinf(cfg->burst))
        return VX_ERR_INVALID;
    if (cfg->rate > 0 && cfg->burst < 1)
        return VX_ERR_INVALID;
    size_t cap = cfg->max_keys ? cfg->max_keys : RATELIMIT_DEFAULT_MAX_KEYS;
    if (cap > RL_MAX_KEYS_LIMIT)
        return VX_ERR_INVALID;
    ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return VX_ERR_NOMEM;
    rl->rate = cfg->rate;
    rl->burst = cfg->burst;
    rl->lru_head = rl->lru_tail = -1;
    pthread_mutex_init(&rl->mu, NULL);
    if (rl->rate > 0) { /* disabled limiters keep no table */
        size_t nh = 16;
        while (nh < 2 * cap)
            nh *= 2;
        rl->slots = calloc(cap, sizeof(rl_slot));
        rl->heads = malloc(nh * sizeof(int32_t));
        if (!rl->slots || !rl->heads) {
            ratelimit_destroy(rl);
            return VX_ERR_NOMEM;
        }
        for (size_t i = 0; i < nh; i++)
            rl->heads[i] = -1;
        rl->mask = nh - 1;
        rl->cap = cap;
    }
    *out = rl;
    return VX_OK;
}

void ratelimit_destroy(ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    free(rl->heads);
    free(rl);
}

static void lru_unlink(ratelimit *rl, int32_t i)
{
    rl_slot *s = &rl->slots[i];
    if (s->newer >= 0)
        rl->slots[s->newer].older = s->older;
    else
        rl->lru_head = s->older;
    if (s->older >= 0)
        rl->slots[s->older].newer = s->newer;
    else
        rl->lru_tail = s->newer;
    s->newer = s->older = -1;
}

static void lru_push_front(ratelimit *rl, int32_t i)
{
    rl_slot *s = &rl->slots[i];
    s->newer = -1;
    s->older = rl->lru_head;
    if (rl->lru_head >= 0)
        rl->slots[rl->lru_head].newer = i;
    rl->lru_head = i;
    if (rl->lru_tail < 0)
        rl->lru_tail = i;
}

static void chain_remove(ratelimit *rl, int32_t i)
{
    int32_t *p = &rl->heads[rl->slots[i].hash & rl->mask];
    while (*p >= 0) {
        if (*p == i) {
            *p = rl->slots[i].next;
            return;
        }
        p = &rl->slots[*p].next;
    }
}

/* Finds key's slot, or makes one (evicting the LRU bucket when full). */
static int32_t lookup(ratelimit *rl, const char *key, size_t n, uint64_t now_ns)
{
    uint64_t h = hash_key(key, n);
    for (int32_t i = rl->heads[h & rl->mask]; i >= 0; i = rl->slots[i].next) {
        rl_slot *s = &rl->slots[i];
        if (s->hash == h && strcmp(s->key, key) == 0) {
            if (rl->lru_head != i) {
                lru_unlink(rl, i);
                lru_push_front(rl, i);
            }
            return i;
        }
    }
    int32_t i;
    if (rl->used < rl->cap) {
        i = (int32_t)rl->used++;
    } else {
        i = rl->lru_tail;
        lru_unlink(rl, i);
        chain_remove(rl, i);
    }
    rl_slot *s = &rl->slots[i];
    memcpy(s->key, key, n + 1);
    s->hash = h;
    s->tokens = rl->burst;
    s->last_ns = now_ns;
    s->next = rl->heads[h & rl->mask];
    rl->heads[h & rl->mask] = i;
    lru_push_front(rl, i);
    return i;
}

int ratelimit_take(ratelimit *rl, const char *key, uint64_t now_ns, uint32_t *retry_after_s)
{
    if (retry_after_s)
        *retry_after_s = 0;
    size_t n = key ? strnlen(key, RATELIMIT_MAX_KEY_LEN + 1) : 0;
    if (n == 0 || n > RATELIMIT_MAX_KEY_LEN)
        return VX_ERR_INVALID;
    if (rl->rate <= 0)
        return VX_OK;
    int rc = VX_OK;
    pthread_mutex_lock(&rl->mu);
    rl_slot *s = &rl->slots[lookup(rl, key, n, now_ns)];
    if (now_ns > s->last_ns) {
        s->tokens += (double)(now_ns - s->last_ns) * rl->rate / 1e9;
        if (s->tokens > rl->burst)
            s->tokens = rl->burst;
        s->last_ns = now_ns;
    }
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
    } else {
        rc = VX_ERR_RATE_LIMITED;
        if (retry_after_s) {
            /* the epsilon keeps 0.7 / 0.1 = 7.000000000000001 at 7 */
            double secs = ceil((1.0 - s->tokens) / rl->rate - 1e-9);
            *retry_after_s = secs < 1 ? 1 : secs > 86400 ? 86400 : (uint32_t)secs;
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return rc;
}

size_t ratelimit_size(ratelimit *rl)
{
    pthread_mutex_lock(&rl->mu);
    size_t n = rl->used;
    pthread_mutex_unlock(&rl->mu);
    return n;
}
