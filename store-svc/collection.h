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
 * Index seam: `ann` (see collection.c) is the per-collection approximate
 * index handle; coll_search uses it when present and the request does not
 * ask for an exact scan, and falls back to flat_search otherwise. Today it
 * is always NULL (flat only).
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
/* Config copied into arena a, count, memory_bytes (slabs + metadata + idmap). */
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
bool coll_slot_live(const collection *c, uint32_t slot);
const char *coll_slot_id(const collection *c, uint32_t slot);      /* NULL if dead */
const float *coll_slot_vector(const collection *c, uint32_t slot); /* as the user sent it */
const float *coll_slot_search_vector(const collection *c, uint32_t slot); /* as searched */
const unsigned char *coll_slot_meta(const collection *c, uint32_t slot, uint32_t *len);

#endif
