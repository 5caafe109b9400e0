/*
 * store.h — the registry of collections (name → collection) and its locks.
 *
 * Locking: one registry rwlock guards the name table (a sorted array, so
 * listing is in name order and lookups are binary searches); each collection
 * has its own pthread rwlock: readers (get, list, search, info) run
 * concurrently, one writer (upsert, delete) at a time per collection, and
 * writers of different collections in parallel. The registry lock is held
 * only to find an entry and take a reference, never while a collection
 * operation runs.
 *
 * Lifetime: each entry is reference-counted (the registry holds one
 * reference, every store_acquire another). store_drop unlinks the entry,
 * marks it dropped and releases the registry's reference; the collection
 * is freed when the last in-flight operation releases it. An operation that
 * acquired an entry that was dropped meanwhile sees VX_ERR_NOT_FOUND.
 *
 * Ownership: the store owns every collection. A store_ref returned by
 * store_acquire must be given back with store_release exactly once.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collection.h"
#include "vx_arena.h"
#include "vx_proto.h"

typedef struct store store;
typedef struct store_ref store_ref;

int store_open(store **out);
void store_close(store *s); /* frees every collection; no operation may run */

/* Creates a collection. Already existing with the same settings: VX_OK and
 * its info (idempotent); with other settings: VX_ERR_CONFLICT. */
int store_create(store *s, const vx_coll_config *cfg, vx_arena *a, vx_coll_info *info, char *err,
                 size_t err_len);
/* VX_ERR_NOT_FOUND when absent. Waits for running writers of it to end. */
int store_drop(store *s, const char *name);
/* Info of every collection, in name order, copied into a. */
void store_list(store *s, vx_arena *a, vx_coll_info **out, uint32_t *n);
/* Totals for health/metrics. */
void store_stats(store *s, uint64_t *n_colls, uint64_t *n_points);

/* Finds name, takes a reference and locks the collection for reading
 * (write = false) or writing. VX_ERR_NOT_FOUND when absent. */
int store_acquire(store *s, const char *name, bool write, store_ref **out);
/* As store_acquire(write = true), but first creates the collection with
 * cfg when it does not exist. *created tells whether it did. */
int store_acquire_or_create(store *s, const vx_coll_config *cfg, store_ref **out, bool *created,
                            char *err, size_t err_len);
collection *store_ref_coll(store_ref *r);
void store_release(store_ref *r);

#endif
