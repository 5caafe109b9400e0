/*
 * embed_cache.h — a bounded LRU cache of embeddings keyed by (model id,
 * text). Keys are compared in full (the hash only picks the bucket), so a
 * hash collision can never return another text's vector.
 *
 * Bounds: at most max_entries entries and max_bytes bytes of keys plus
 * vectors; the least recently used entries are evicted first. An entry
 * larger than max_bytes / 16 is not cached at all.
 * Thread-safe (one mutex; lookups copy the vector out). The cache owns its
 * entries; embed_cache_destroy frees them.
 */
#ifndef EMBED_CACHE_H
#define EMBED_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct embed_cache embed_cache;

typedef struct embed_cache_stats {
    uint64_t hits, misses, evictions;
    size_t entries, bytes;
} embed_cache_stats;

/* max_entries 0 gives a cache that stores nothing (always misses). */
int embed_cache_create(embed_cache **out, size_t max_entries, size_t max_bytes);
void embed_cache_destroy(embed_cache *c);

/* Copies the cached vector of (model, text) into out (dim floats) and
 * returns true on a hit; counts a hit or a miss. */
bool embed_cache_get(embed_cache *c, const char *model, const char *text, uint32_t dim, float *out);
/* Stores a copy (replacing an existing entry). Allocation failures only
 * mean the vector is not cached. */
void embed_cache_put(embed_cache *c, const char *model, const char *text, uint32_t dim, const float *vec);
embed_cache_stats embed_cache_get_stats(embed_cache *c);

#endif
