/*
 * snapshotter.h — taking snapshots of a durable store, on demand
 * (snapshot_take) or in a background thread (snapshotter_start) whenever
 * the WAL has grown by a threshold since the last snapshot.
 *
 * One snapshot (docs/DURABILITY.md §7):
 *  1. L = the newest LSN written (wal stats), after wal_rotate, so every
 *     older segment is closed;
 *  2. snapshot-<L>.vxs.tmp gets STORE_META, then each collection in name
 *     order, written under that collection's READ lock (searches go on;
 *     writers of that one collection wait for its copy time only), with
 *     the collection's applied_lsn (>= every record <= L for it; possibly
 *     more). Replay from L skips records <= applied_lsn per collection, so
 *     the result is exact although collections are captured at different
 *     moments;
 *  3. commit (fsync file, rename, fsync dir); only then
 *     wal_truncate_before(previous snapshot's LSN) — the WAL is kept back to
 *     the previous snapshot so a fallback to it loses nothing — and
 *     snap_prune(dir, 2).
 * Snapshots never run concurrently (one mutex per snapshotter).
 *
 * Ownership: the snapshotter borrows the store and the pers, which must
 * outlive it; snapshotter_stop joins the thread and frees it.
 */
#ifndef SNAPSHOTTER_H
#define SNAPSHOTTER_H

#include <stdbool.h>
#include <stdint.h>

#include "persistence.h"
#include "store.h"

typedef struct snapshotter snapshotter;

typedef struct snapshotter_opts {
    uint64_t wal_bytes;   /* snapshot when the WAL grew by this much; 0: never automatically */
    uint64_t interval_ms; /* and when this long passed with writes since the last; 0: never */
    uint64_t prev_lsn;    /* LSN of the snapshot recovery loaded (0: none) */
    uint64_t base_lsn;    /* newest LSN already in the log at open (pers_summary.next_lsn - 1) */
    uint64_t carried_wal_bytes; /* WAL bytes recovery replayed: they count towards wal_bytes, so
                                 * a store that keeps crashing still snapshots (bounded replay) */
} snapshotter_opts;

/* Starts the background thread (when wal_bytes or interval_ms is set). */
int snapshotter_start(snapshotter **out, store *st, pers *p, const snapshotter_opts *o);
/* Takes a snapshot now unless nothing was written since the last one;
 * *lsn (may be NULL) gets its LSN (0 when skipped). Thread-safe. */
int snapshotter_take(snapshotter *s, uint64_t *lsn);
/* Stops and joins the thread; with final, takes a last snapshot first so a
 * restart replays nothing. NULL ok. */
void snapshotter_stop(snapshotter *s, bool final);
/* Snapshots taken since start. */
uint64_t snapshotter_count(snapshotter *s);

#endif
