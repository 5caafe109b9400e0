/*
 * collection_int.h — the inside of a collection, shared by the files that
 * implement it: collection.c (configuration, writes, reads), coll_search.c
 * (exact and graph search) and coll_restore.c (loading from a snapshot).
 * Nothing else includes this;
 * everyone else uses collection.h. Invariants: see collection.c.
 */
#ifndef COLLECTION_INT_H
#define COLLECTION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coll_index.h"
#include "collection.h"
#include "flat_codes.h"
#include "idmap.h"

struct collection {
    vx_coll_config cfg; /* name/model owned */
    uint32_t dim;
    float *search; /* cap × dim */
    float *raw;    /* cap × dim, cosine only */
    unsigned char **meta;
    uint32_t *meta_len;
    uint64_t *dead; /* cap/64 words */
    uint32_t n_slots;
    uint32_t cap;
    uint64_t count;
    size_t meta_bytes;
    idmap *ids;
    /* After a restore, the slabs may be private (copy-on-write) mappings of
     * the snapshot file, followed by zero-fill address space, instead of
     * malloc'd memory: map_base/map_len per slab ([0] search, [1] raw; len
     * 0 = not mapped), room for map_rows rows (>= cap). They are copied into
     * malloc'd memory only when cap must exceed map_rows (coll_unmap_slabs),
     * and unmapped by coll_destroy. */
    void *map_base[2];
    size_t map_len[2];
    uint32_t map_rows;
    /* 8-bit copy of the search rows for the bounded exact scan (flat.h),
     * kept by every collection (has_codes): an HNSW collection's exact
     * searches (exact: true, and filters too selective for the graph) use it
     * too; its graph's own codes are laid out per node. Grown by coll_reserve,
     * written by coll_write_vector. Rows [0, codes_ready) are current (rows
     * past it may be too); searches use the codes only when codes_ready >=
     * n_slots. A restore copies the slabs without encoding them (restart
     * time), so codes_ready stays behind until coll_codes_catch_up (the
     * rebuilder thread) has encoded the rest. codes_ready is read and
     * written with __atomic builtins: the catch-up advances it under the
     * read lock while searches read it. */
    flat_codes codes;
    bool has_codes;
    bool codes_deferred; /* WAL replay: writes leave the codes to the catch-up */
    uint32_t codes_ready;
    /* Approximate index (coll_index.c: HNSW), owned; NULL = flat only. */
    coll_index *ann;
};

#define COLL_MIN_CAP 64u

/* Grows the slabs (and per-slot arrays) to hold need rows. */
int coll_reserve(collection *c, uint64_t need);
/* Writes row slot: raw (cosine) bit-exact, search normalised (cosine) or as given. */
void coll_write_vector(collection *c, uint32_t slot, const float *v);
/* Replaces snapshot-mapped slabs by malloc'd copies of cap rows. */
int coll_unmap_slabs(collection *c);

/* Read helpers shared with coll_search.c (defined in collection.c). */
/* Checks one vector against the collection (dimension, finite values, and
 * for cosine a non-zero norm); `what` names it in the message. */
int coll_check_vector(const collection *c, const float *v, uint32_t dim, const char *what,
                      char *err, size_t err_len);
/* Row slot as the user sent it (raw for cosine, else the search row). */
const float *coll_user_row(const collection *c, uint32_t slot);
/* A copy of v in a. */
float *coll_copy_vec(vx_arena *a, const float *v, uint32_t dim);
/* Slot's metadata unpacked into a (NULL when none). */
const vx_value *coll_meta_tree(const collection *c, uint32_t slot, vx_arena *a);

#endif
