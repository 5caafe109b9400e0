/*
 * embed_cache.c — LRU embedding cache (see embed_cache.h).
 *
 * Structure: a chained hash table (power-of-two buckets, about one entry
 * per bucket at capacity) plus a doubly linked recency list, head = most
 * recent. Each entry is one allocation: header, vector, then the key bytes
 * "model\0text".
 */
#include "embed_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"

typedef struct entry {
    struct entry *next_in_bucket;
    struct entry *prev, *next; /* recency list */
    uint64_t hash;
    size_t key_len;
    size_t bytes;
    uint32_t dim;
    float *vec;
    char *key;
} entry;

struct embed_cache {
    pthread_mutex_t mu;
    entry **buckets;
    size_t mask;
    entry *head, *tail;
    size_t max_entries, max_bytes;
    embed_cache_stats st;
};

static uint64_t key_hash(const char *model, const char *text, size_t *key_len)
{
    uint64_t h = 1469598103934665603ull;
    size_t n = 0;
    for (const char *parts[2] = {model, text}, **p = parts; p < parts + 2; p++) {
        for (const unsigned char *s = (const unsigned char *)*p;; s++, n++) {
            h = (h ^ *s) * 1099511628211ull; /* includes the NUL separator */
            if (!*s)
                break;
        }
        n++;
    }
    *key_len = n; /* strlen(model) + 1 + strlen(text) + 1 */
    return h;
}

static bool key_equal(const entry *e, const char *model, const char *text, size_t key_len)
{
    size_t ml = strlen(model) + 1;
    return e->key_len == key_len && memcmp(e->key, model, ml) == 0 &&
           memcmp(e->key + ml, text, key_len - ml) == 0;
}

int embed_cache_create(embed_cache **out, size_t max_entries, size_t max_bytes)
{
    *out = NULL;
    embed_cache *c = calloc(1, sizeof *c);
    if (!c)
        return VX_ERR_NOMEM;
    size_t nb = 16;
    while (nb < max_entries && nb < ((size_t)1 << 24))
        nb <<= 1;
    c->buckets = calloc(nb, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return VX_ERR_NOMEM;
    }
    c->mask = nb - 1;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return VX_OK;
}

static void list_unlink(embed_cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(embed_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void remove_entry(embed_cache *c, entry *e)
{
    entry **pp = &c->buckets[e->hash & c->mask];
    while (*pp != e)
        pp = &(*pp)->next_in_bucket;
    *pp = e->next_in_bucket;
    list_unlink(c, e);
    c->st.entries--;
    c->st.bytes -= e->bytes;
    free(e);
}

void embed_cache_destroy(embed_cache *c)
{
    if (!c)
        return;
    for (entry *e = c->head, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static entry *find(embed_cache *c, uint64_t h, const char *model, const char *text, size_t key_len)
{
    for (entry *e = c->buckets[h & c->mask]; e; e = e->next_in_bucket)
        if (e->hash == h && key_equal(e, model, text, key_len))
            return e;
    return NULL;
}

bool embed_cache_get(embed_cache *c, const char *model, const char *text, uint32_t dim, float *out)
{
    size_t key_len;
    uint64_t h = key_hash(model, text, &key_len);
    pthread_mutex_lock(&c->mu);
    entry *e = find(c, h, model, text, key_len);
    bool hit = e && e->dim == dim;
    if (hit) {
        memcpy(out, e->vec, sizeof(float) * dim);
        list_unlink(c, e);
        list_push_front(c, e);
        c->st.hits++;
    } else {
        c->st.misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void embed_cache_put(embed_cache *c, const char *model, const char *text, uint32_t dim, const float *vec)
{
    if (c->max_entries == 0)
        return;
    size_t key_len;
    uint64_t h = key_hash(model, text, &key_len);
    size_t bytes = sizeof(entry) + sizeof(float) * dim + key_len;
    if (bytes > c->max_bytes / 16)
        return;
    entry *n = malloc(bytes);
    if (!n)
        return;
    memset(n, 0, sizeof *n);
    n->hash = h;
    n->key_len = key_len;
    n->bytes = bytes;
    n->dim = dim;
    n->vec = (float *)(n + 1);
    n->key = (char *)(n->vec + dim);
    memcpy(n->vec, vec, sizeof(float) * dim);
    size_t ml = strlen(model) + 1;
    memcpy(n->key, model, ml);
    memcpy(n->key + ml, text, key_len - ml);

    pthread_mutex_lock(&c->mu);
    entry *old = find(c, h, model, text, key_len);
    if (old)
        remove_entry(c, old);
    while (c->tail && (c->st.entries + 1 > c->max_entries || c->st.bytes + bytes > c->max_bytes)) {
        remove_entry(c, c->tail);
        c->st.evictions++;
    }
    n->next_in_bucket = c->buckets[h & c->mask];
    c->buckets[h & c->mask] = n;
    list_push_front(c, n);
    c->st.entries++;
    c->st.bytes += bytes;
    pthread_mutex_unlock(&c->mu);
}

embed_cache_stats embed_cache_get_stats(embed_cache *c)
{
    pthread_mutex_lock(&c->mu);
    embed_cache_stats s = c->st;
    pthread_mutex_unlock(&c->mu);
    return s;
}
