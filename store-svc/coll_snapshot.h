/*
 * coll_snapshot.h — collections ⇄ snapshot sections (layouts:
 * docs/DURABILITY.md §8.2; section type numbers: persist.h SNAP_SEC_*).
 *
 * A store snapshot is: STORE_META, then per collection COLL_CONFIG (which
 * starts the collection), COLL_IDS, COLL_VECTORS, [COLL_SEARCH_VECTORS],
 * COLL_METADATA, COLL_TOMBSTONES, [COLL_HNSW]. Slots are saved as they are
 * (tombstones included) so ANN labels stay valid. Vector slabs are written
 * straight from the collection's memory and loaded with one memcpy each
 * from the snapshot's map; nothing is parsed per float.
 *
 * Loading validates every section against the config (sizes, id/tombstone
 * agreement, metadata offsets, unique ids): the container's CRCs catch
 * damage, these checks catch a writer bug; either way the load fails with
 * VX_ERR_CORRUPT naming the file and the section's offset, and the caller
 * must discard the store (never a partial load).
 *
 * Ownership: csnap_write reads c (caller holds at least its read lock);
 * csnap_load inserts new collections into st (owned by the store).
 */
#ifndef COLL_SNAPSHOT_H
#define COLL_SNAPSHOT_H

#include <stdint.h>

#include "collection.h"
#include "snapshot.h"
#include "store.h"

#define CSNAP_FORMAT 1

/* The STORE_META section (first): {"format": 1, "lsn": lsn}. */
int csnap_write_meta(snap_writer *w, uint64_t lsn);
/* All sections of one collection; applied_lsn goes into its config. */
int csnap_write(snap_writer *w, const collection *c, uint64_t applied_lsn);
/* Loads every collection of s into st (which must not hold them yet). */
int csnap_load(store *st, const snap *s, char *err, size_t err_len);

#endif
