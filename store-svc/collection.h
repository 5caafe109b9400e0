/*
 * collection.h — one collection: its configuration, its points (id, vector,
 * metadata) and the operations of SPEC §3.1 on them.
 *
 * Storage (all contiguous, grown by doubling, never one malloc per vector):
 *  - the search slab: row s = the vector of slot s as searched (for cosine
 *    the L2-normalised vector, for dot and l2 the vector as given);
 *  - for cosine only, the raw slab: the vector exactly as the user sent it,
 *    so GET / with_vector return it bit-exact;
 *  - per slot: one packed metadata blob (vx_value_pack) or NULL;
 *  - a tombstone bitmap; the idmap (id ↔ slot).
 * Slots: new ids append (slot = n_slots++); an upsert of an existing id
 * overwrites its slot in place; a delete turns the slot into a tombstone
 * (never reused, so list cursors stay stable). Tombstoned rows keep their
 * slab space until the collection is rebuilt (snapshot load).
 *
 * Index: an hnsw collection owns a coll_index (coll_index.h) kept in step
 * by upserts and deletes; coll_search lets it choose between the graph and
 * the exact scan (flat.c). A flat collection has none.
 *
 * Thread-safety: none inside. The store's per-collection rwlock makes
 * readers (get, list, search, info) concurrent and writers exclusive; the
 * const-qualified functions never modify the collection.
 *
 * Ownership: the collection copies everything it keeps (config strings,
 * ids, vectors, packed metadata). Results are allocated in the caller's
 * arena (ids, vectors, metadata trees are copies), so they stay valid after
 * the caller drops the collection lock. Errors: VX_ERR_INVALID / LIMIT /
 * NOT_FOUND / NOMEM with a message naming the field in err.
 */
#ifndef COLLECTION_H
#define COLLECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_arena.h"
#include "vx_proto.h"

typedef struct collection collection;

/* Checks a configuration and fills defaults in place (index m /
 * ef_construction 0 → defaults). Names: [A-Za-z0-9_-]{1,64}. */
int coll_config_check(vx_coll_config *cfg, char *err, size_t err_len);
/* Same settings (dimension, metric, index type and parameters, model). */
bool coll_config_equal(const vx_coll_config *a, const vx_coll_config *b);

/* Creates an empty collection (cfg is checked and copied). */
int coll_create(const vx_coll_config *cfg, collection **out, char *err, size_t err_len);
void coll_destroy(collection *c); /* NULL is a no-op */

/* Strings point into the collection (valid while it lives). */
const vx_coll_config *coll_config(const collection *c);
uint64_t coll_count(const collection *c);
/* Bytes held: vector slabs, metadata, id map and index. */
uint64_t coll_memory_bytes(const collection *c);
/* Config copied into arena a, count, memory_bytes (coll_memory_bytes). */
void coll_info(const collection *c, vx_arena *a, vx_coll_info *out);

/* Validates every point (id: 1..VX_MAX_ID_LEN bytes of UTF-8; vector:
 * dimension, finite, non-zero norm for cosine; metadata: an object or null,
 * packed ≤ VX_MAX_METADATA_BYTES) without changing anything. */
int coll_upsert_check(const collection *c, const vx_point *pts, uint32_t n, char *err,
                      size_t err_len);
/* All-or-nothing upsert: validates every point, then applies them in order
 * (a duplicate id inside the batch: the last one wins). On error nothing
 * has changed. */
int coll_upsert(collection *c, const vx_point *pts, uint32_t n, char *err, size_t err_len);
/* The same, but an hnsw collection's graph links of the batch are left to
 * coll_link (coll_index_take_pending): *link / *n_link receive the slots
 * (malloc'd, may be NULL with 0). Call coll_link after trading the write
 * lock for a read lock, so searches are not held up by the linking. */
int coll_upsert_deferred(collection *c, const vx_point *pts, uint32_t n, uint32_t **link,
                         uint32_t *n_link, char *err, size_t err_len);
/* Links slots from coll_upsert_deferred into the graph and frees them. A
 * read lock suffices (the graph has its own synchronisation). */
void coll_link(collection *c, uint32_t *link, uint32_t n_link);

/* VX_ERR_NOT_FOUND when id is absent. out->vector is NULL unless
 * with_vector; out->metadata NULL when the point has none. */
int coll_get(const collection *c, const char *id, bool with_vector, vx_arena *a, vx_point *out);

/* Deletes the ids that exist; returns how many did. */
uint32_t coll_delete_ids(collection *c, const char *const *ids, uint32_t n);
/* Deletes every point matching filter (which must not be empty). */
int coll_delete_filter(collection *c, const vx_value *filter, vx_arena *a, uint32_t *n_deleted,
                       char *err, size_t err_len);

/* One page in slot order. cursor NULL = from the start; next_cursor is NULL
 * after the last page. A malformed cursor → VX_ERR_INVALID ("cursor: ..."). */
int coll_list(const collection *c, const char *cursor, uint32_t limit, bool with_vector,
              vx_arena *a, vx_list_rep *out, char *err, size_t err_len);

/* k-NN search: the ANN index when present and !req->exact, else exact. */
int coll_search(const collection *c, const vx_search_req *req, vx_arena *a, vx_search_rep *out,
                char *err, size_t err_len);
/* Always the exact scan (flat.c). */
int coll_search_exact(const collection *c, const vx_search_req *req, vx_arena *a,
                      vx_search_rep *out, char *err, size_t err_len);

/* ---- Slot access for persistence and the index (readers) ---- */
uint32_t coll_n_slots(const collection *c);     /* slots in use, live or dead */
/* Encodes up to max_rows of the rows whose 8-bit codes (the exact scan,
 * flat.h) a restore left unencoded, and returns how many still lack them
 * (0: exact searches use the bounded scan again; max_rows 0 only counts
 * them). Call under the read lock,
 * from one thread at a time (the rebuilder). */
uint32_t coll_codes_catch_up(collection *c, uint32_t max_rows);
/* While on (WAL replay, under the write lock), writes do not encode their
 * rows' codes either: the catch-up does it after the replay, off the
 * start-up path. */
void coll_defer_codes(collection *c, bool on);
bool coll_slot_live(const collection *c, uint32_t slot);
const char *coll_slot_id(const collection *c, uint32_t slot);      /* NULL if dead */
const float *coll_slot_vector(const collection *c, uint32_t slot); /* as the user sent it */
const float *coll_slot_search_vector(const collection *c, uint32_t slot); /* as searched */
const unsigned char *coll_slot_meta(const collection *c, uint32_t slot, uint32_t *len);
/* Rows are contiguous: coll_slot_vector(c, s) == coll_slot_vector(c, 0) + s * dim
 * (same for the search rows), so a slab of n_slots rows can be written at once. */

/* ---- Restore from a snapshot (coll_snapshot.c): on a fresh collection from
 * coll_create, call begin, vectors, then slot for every live slot, then end.
 * Nothing else may touch the collection in between. ---- */
/* Sizes the collection to n_slots slots, all dead until coll_restore_slot. */
int coll_restore_begin(collection *c, uint32_t n_slots);
/* Copies n_slots rows of user vectors (one memcpy) and, for cosine, the
 * search rows: copied from search when non-NULL, else recomputed exactly as
 * an upsert computes them (bit-identical). */
void coll_restore_vectors(collection *c, const float *raw, const float *search);
/* Instead of coll_restore_vectors: uses the rows in place from the file at
 * path (payload offsets of the raw and, for cosine, the search slab; the
 * file must have been verified), as private copy-on-write mappings with
 * room to grow in place to 4× the capacity: no copy and no parsing at
 * start-up. Past that room the slabs are copied into memory once.
 * VX_ERR_IO / VX_ERR_INVALID: use coll_restore_vectors instead. */
int coll_restore_vectors_file(collection *c, const char *path, uint64_t raw_off,
                              uint64_t search_off);
/* Makes slot live with id (idlen bytes) and a copy of the packed metadata
 * (meta NULL / len 0: none). VX_ERR_CONFLICT for a duplicate id or a slot
 * already live, VX_ERR_INVALID for a slot out of range, VX_ERR_NOMEM. */
int coll_restore_slot(collection *c, uint32_t slot, const char *id, size_t idlen,
                      const unsigned char *meta, uint32_t meta_len);
/* Finishes: the ANN index (when the collection has one) is loaded from
 * ann/ann_len (bytes of coll_ann_save) or, when absent or unusable, rebuilt
 * from the live rows. */
int coll_restore_end(collection *c, const void *ann, size_t ann_len);
/* Appends the ANN index's serialised form to out; VX_ERR_NOT_FOUND when the
 * collection has no ANN index. Read lock suffices. */
int coll_ann_save(const collection *c, vx_buf *out);
/* The collection's index (NULL for flat), for stats and tests. */
typedef struct coll_index coll_index;
const coll_index *coll_ann(const collection *c);
/* The same, for the background rebuilder (store-svc/rebuilder.c). */
coll_index *coll_ann_mut(collection *c);

#endif
