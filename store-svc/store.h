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
 * Logging (durability): when a log hook is set (store_set_log), every
 * collection create and drop calls it under the registry write lock, before
 * the registry changes, with the normalised request (COLL_CREATE with the
 * checked config, COLL_DELETE with the name); a hook error aborts the
 * operation with nothing changed. So the log order of creates/drops is the
 * registry's order. Each entry also carries `applied_lsn`: the LSN of the
 * newest logged record reflected in the collection (its create record, then
 * every write); writers set it under the collection's write lock, the
 * snapshotter reads it under the read lock, recovery skips records <= it.
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

/* Called under the registry write lock; fills *lsn with the record's LSN. */
typedef int (*store_log_fn)(void *ctx, const vx_request *rec, uint64_t *lsn);

int store_open(store **out);
/* Sets (or clears, fn NULL) the hook; call before serving requests. */
void store_set_log(store *s, store_log_fn fn, void *ctx);
void store_close(store *s); /* frees every collection; no operation may run */

/* Creates a collection. Already existing with the same settings: VX_OK and
 * its info (idempotent); with other settings: VX_ERR_CONFLICT. A concurrent
 * drop that removes it before its info is read makes the create run again
 * (never VX_ERR_NOT_FOUND); after STORE_CREATE_RETRIES such losses in a row:
 * VX_ERR_CONFLICT with a message. */
int store_create(store *s, const vx_coll_config *cfg, vx_arena *a, vx_coll_info *info, char *err,
                 size_t err_len);
/* As store_create; *lsn (may be NULL) gets the LSN of the create record,
 * 0 when the collection already existed or no hook is set. */
int store_create_lsn(store *s, const vx_coll_config *cfg, vx_arena *a, vx_coll_info *info,
                     uint64_t *lsn, char *err, size_t err_len);
/* VX_ERR_NOT_FOUND when absent. Waits for running writers of it to end. */
int store_drop(store *s, const char *name);
/* As store_drop; *lsn (may be NULL) gets the LSN of the drop record. */
int store_drop_lsn(store *s, const char *name, uint64_t *lsn);
/* Links an already built collection (recovery). Takes ownership of c (also
 * on failure). VX_ERR_CONFLICT when the name exists. Not logged. */
int store_insert(store *s, collection *c, uint64_t applied_lsn);
/* Info of every collection, in name order, copied into a. */
void store_list(store *s, vx_arena *a, vx_coll_info **out, uint32_t *n);
/* Totals for health/metrics; memory_bytes (coll_memory_bytes summed) may be NULL. */
void store_stats(store *s, uint64_t *n_colls, uint64_t *n_points, uint64_t *memory_bytes);

/* Finds name, takes a reference and locks the collection for reading
 * (write = false) or writing. VX_ERR_NOT_FOUND when absent. */
int store_acquire(store *s, const char *name, bool write, store_ref **out);
/* As store_acquire(write = true), but first creates the collection with
 * cfg when it does not exist. *created tells whether it did. */
int store_acquire_or_create(store *s, const vx_coll_config *cfg, store_ref **out, bool *created,
                            char *err, size_t err_len);
/* The same; *lsn gets the create record's LSN (0 when it existed). */
int store_acquire_or_create_lsn(store *s, const vx_coll_config *cfg, store_ref **out,
                                bool *created, uint64_t *lsn, char *err, size_t err_len);
collection *store_ref_coll(store_ref *r);
/* applied_lsn of the referenced collection (read or write lock held). */
uint64_t store_ref_applied_lsn(const store_ref *r);
/* Only under the write lock. */
void store_ref_set_applied_lsn(store_ref *r, uint64_t lsn);
void store_release(store_ref *r);
/* Trades r's write lock for a read lock (not atomically: another writer may
 * run in between; the collection stays alive). VX_ERR_NOT_FOUND when it was
 * dropped meanwhile; r is then released. */
int store_ref_downgrade(store_ref *r);

#endif
