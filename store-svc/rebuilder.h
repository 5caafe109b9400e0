/*
 * rebuilder.h — the store's background HNSW rebuilder: one thread that
 * rebuilds the graphs coll_index marks due (coll_index.h, "background
 * rebuild"), so a delete that leaves many tombstones neither waits for the
 * rebuild nor blocks searches while it runs.
 *
 * rebuilder_start registers the thread with coll_index_set_rebuilder; from
 * then on due graphs of at least COLL_INDEX_BG_MIN nodes are left to it.
 * It walks the collections when woken, and
 * for each due graph runs begin / copy + insert per chunk / finish, taking
 * the collection by name for each step (read lock to copy, no lock to
 * insert, write lock to finish); a collection dropped meanwhile makes it
 * drop its work. It runs at nice REBUILDER_NICE (10), and so do the insert
 * threads it starts: requests get the CPU first.
 *
 * Its first pass (at start, after recovery) also encodes the 8-bit codes
 * of the exact scan that a restore or a WAL replay left out (collection.h,
 * coll_codes_catch_up), REBUILDER_CODES_CHUNK rows per read-lock hold;
 * until then their exact searches use the plain float32 scan.
 *
 * Ownership: borrows the store, which must outlive it; rebuilder_stop
 * unregisters, stops the thread between two chunks (an unfinished build is
 * discarded) and frees it. Call it before store_close.
 */
#ifndef REBUILDER_H
#define REBUILDER_H

#include "store.h"

typedef struct rebuilder rebuilder;

#define REBUILDER_CODES_CHUNK 16384u

int rebuilder_start(rebuilder **out, store *st);
/* Rebuilds finished since start (for tests). */
unsigned long rebuilder_count(rebuilder *r);
void rebuilder_stop(rebuilder *r); /* NULL is a no-op */

#endif
