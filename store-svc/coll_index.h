/*
 * coll_index.h — a collection's approximate index: the glue between a
 * collection (collection.c: slots, search rows, metadata) and one HNSW graph
 * (hnsw.h) whose labels are the collection's slots.
 *
 * What it decides (see coll_index.c for the measurements behind the numbers):
 *  - Space: cosine → inner product over the normalised search rows, dot →
 *    inner product, l2 → squared L2. Scores go back to the contract's: cosine
 *    and dot score = −distance, l2 score = sqrt(distance).
 *  - Which path answers a search: the flat scan (coll_search_exact) when the
 *    request says exact, when the collection has fewer than
 *    COLL_INDEX_SMALL live points, or when the index is stale (an insert
 *    failed; it is rebuilt on the next write); an exact search over the
 *    matching points only (filter first, then one distance per match) when
 *    a filter is selective (estimated matching points <
 *    COLL_INDEX_EXACT_MATCHES); otherwise the graph, with the filter
 *    evaluated inside the traversal (non-matching nodes are walked through
 *    but never returned; the search goes on until ef matches are found, so
 *    k results come back whenever k points match).
 *  - Writes: an upsert batch records its slots (coll_index_note) while the
 *    collection writes its rows. The store's upserts then take the batch
 *    (coll_index_take_pending, write lock), trade the write lock for a read
 *    lock and link it (coll_index_link, with up to COLL_INDEX_THREADS
 *    threads), so searches of the collection go on while a batch is linked;
 *    the write is acknowledged after its link. Other callers (WAL replay,
 *    tests) link in place with coll_index_flush under the write lock. A
 *    delete tombstones the node. When the tombstones pass
 *    hnsw_needs_rebuild's threshold the graph is rebuilt from the live rows:
 *    in the background when a rebuilder is registered and the graph has at
 *    least COLL_INDEX_BG_MIN nodes (coll_index_bg.c; the old graph answers
 *    meanwhile), else synchronously, inside the write that crossed it.
 *
 * Thread-safety: the caller's per-collection rwlock. note/flush/take/
 * remove/restore need the write lock; link/search/save/memory/stats a read
 * lock (concurrent searches are safe: hnsw_search is lock-free for readers
 * and inserts publish a node only once it is linked; save waits for links).
 *
 * Ownership: the coll_index owns its graph (8-bit codes of the vectors; the
 * exact float rows stay in the collection, which re-ranks from them) and its
 * pending-slot list; coll_index_destroy frees them. Search results are
 * allocated in the caller's arena.
 */
#ifndef COLL_INDEX_H
#define COLL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collection.h"
#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_proto.h"

/* Below this many live points every search is the exact scan. */
#define COLL_INDEX_SMALL 2000u
/* A filtered search takes the exact scan when fewer points are estimated to
 * match than this (the estimate: the filter evaluated on a sample). */
#define COLL_INDEX_EXACT_MATCHES 5000u
/* Filter evaluations of the selectivity sample. */
#define COLL_INDEX_SAMPLE 512u
/* Threads linking one upsert batch (and a rebuild); capped by online CPUs. */
#define COLL_INDEX_THREADS 2u
/* Graphs with fewer nodes are rebuilt inside the write that calls for it
 * (well under a second); larger ones by the background rebuilder. */
#define COLL_INDEX_BG_MIN 20000u
/* Rows a background rebuild copies per read-lock hold. */
#define COLL_INDEX_BG_CHUNK 4096u
/* Replayed slots the rebuilder links per read-lock hold (~0.2 s of
 * inserts), and the backlog size below which replay links at once. */
#define COLL_INDEX_BACKLOG_CHUNK 1024u
#define COLL_INDEX_BACKLOG_SYNC 2048u

typedef struct coll_index coll_index;

typedef struct coll_index_stats {
    uint64_t nodes;      /* graph nodes, tombstones included */
    uint64_t live;       /* live labels */
    uint64_t memory_bytes;
    uint64_t rebuilds;   /* rebuilds since creation (restore rebuilds included) */
    bool loaded;         /* the graph came from a snapshot without a rebuild */
    bool stale;          /* an insert failed: exact scans until rebuilt */
    bool rebuilding;     /* a background rebuild is due or running */
    uint64_t graph_searches, exact_small, exact_filter, exact_forced;
} coll_index_stats;

/* *out = NULL for a flat collection (VX_OK); else an empty index with the
 * config's m / ef_construction (cfg already checked by coll_config_check). */
int coll_index_create(coll_index **out, const vx_coll_config *cfg);
void coll_index_destroy(coll_index *ix); /* NULL is a no-op */

/* Records that slot's search row was (re)written by an upsert. Cannot fail
 * (coll_index_reserve made room). */
int coll_index_reserve(coll_index *ix, uint32_t n);
void coll_index_note(coll_index *ix, uint32_t slot);
/* Links every noted slot that is still live into the graph, then rebuilds
 * when tombstones call for it (also to be called after deletes). Failures leave the index stale (logged). */
void coll_index_flush(coll_index *ix, const collection *c);
/* Moves the noted slots into *slots (malloc'd, the caller frees it) for
 * coll_index_link; write lock. When a rebuild is due (or memory is short)
 * it links them in place instead, as coll_index_flush, and *n = 0. */
int coll_index_take_pending(coll_index *ix, const collection *c, uint32_t **slots, uint32_t *n);
/* Links the taken slots that are still live; needs only the collection's
 * read lock (several links and searches may run at once). Reorders slots. */
void coll_index_link(coll_index *ix, const collection *c, uint32_t *slots, uint32_t n);
/* Tombstones slot (already dead in c). The caller calls coll_index_flush
 * after its batch of deletes (which rebuilds when tombstones call for it). */
void coll_index_remove(coll_index *ix, const collection *c, uint32_t slot);

/* The search of collection.h's coll_search (the path chosen as above). */
int coll_index_search(coll_index *ix, const collection *c, const vx_search_req *req, vx_arena *a,
                      vx_search_rep *out, char *err, size_t err_len);

/* ---- links deferred by WAL replay (coll_index_backlog.c) ----
 * Replaying a WAL tail used to link every upserted point into the graph as
 * it went, at the ingest rate (a 100 000-point tail of a 1M graph: 16 s
 * before the store answered). Now replay only queues the slots; at its end
 * the store serves at once. Until the rebuilder has linked them (in chunks
 * of COLL_INDEX_BACKLOG_CHUNK under a read lock, at its low priority), a
 * graph search also scores the queued slots exactly and merges, so every
 * replayed point can be found from the first search. Writes go on as usual
 * meanwhile: an overwritten queued slot is linked by its upsert (and again,
 * harmlessly, by the rebuilder: a re-insert replaces the node); a deleted
 * one is skipped. */

/* Replay applies records to this collection: queue links (write lock). */
void coll_index_defer_links(coll_index *ix);
/* Replay is over (write lock): slots the graph holds already (overwrites)
 * and backlogs under COLL_INDEX_BACKLOG_SYNC are linked now, due rebuilds
 * run; the rest waits for the rebuilder (woken). */
void coll_index_end_deferred_links(coll_index *ix, const collection *c);
/* Replayed slots not linked yet (backlog and the chunk being linked). */
uint32_t coll_index_backlog_size(const coll_index *ix);
/* Rebuilder, write lock: moves up to max queued slots into the linking
 * chunk and returns a copy (*slots malloc'd, for coll_link); *n = 0 when
 * nothing is queued. */
int coll_index_backlog_take(coll_index *ix, uint32_t max, uint32_t **slots, uint32_t *n);
/* Rebuilder, write lock, after coll_link of the taken chunk returned. */
void coll_index_backlog_done(coll_index *ix);

/* After a snapshot restore: adopts the saved graph (data/len from
 * coll_index_save) when it loads and matches the live slots, else rebuilds
 * from the live rows. Logs which one happened. */
int coll_index_restore(coll_index *ix, const collection *c, const void *data, size_t len);
int coll_index_save(const coll_index *ix, vx_buf *out);
/* Rebuilds the graph from c's live rows now (also what flush/remove do when
 * the tombstones pass the threshold). The old graph stays on failure. */
int coll_index_rebuild(coll_index *ix, const collection *c);

/* ---- background rebuild (coll_index_bg.c) ----
 * Registers the process's rebuilder: wake(arg) is called (under the
 * collection's write lock: it must only signal) when a graph becomes due.
 * wake NULL unregisters; due graphs are then rebuilt synchronously again.
 * The rebuilder drives one build at a time per index:
 *   begin (read lock) → { copy (read lock), insert (no lock) }* → finish
 *   (write lock), or abort (write lock; ix NULL when the collection is gone).
 * begin gives *out = NULL when no rebuild is due. copy and finish give
 * VX_ERR_NOT_FOUND when ix is not the index the build began on (compare
 * coll_index_uid: a dropped and re-created collection has a new one);
 * finish consumes the build in every case. */
typedef struct coll_index_build coll_index_build;
void coll_index_set_rebuilder(void (*wake)(void *arg), void *arg);
/* Process-wide COLL_INDEX_BG_MIN override (tests). */
void coll_index_set_bg_min(uint32_t nodes);
bool coll_index_rebuild_due(const coll_index *ix);
uint64_t coll_index_uid(const coll_index *ix);
int coll_index_build_begin(coll_index *ix, const collection *c, coll_index_build **out);
int coll_index_build_copy(coll_index_build *b, const coll_index *ix, const collection *c,
                          bool *done);
int coll_index_build_insert(coll_index_build *b);
int coll_index_build_finish(coll_index *ix, const collection *c, coll_index_build *b);
void coll_index_build_abort(coll_index *ix, coll_index_build *b);

/* Process-wide switch point of filtered searches (default
 * COLL_INDEX_EXACT_MATCHES; 0 = always the graph, UINT32_MAX = always exact
 * when filtered): for benchmarks and tuning. */
void coll_index_set_exact_matches(uint32_t matches);
/* Process-wide number of insert threads, 1..COLL_INDEX_THREADS (default
 * COLL_INDEX_THREADS): for benchmarks. */
void coll_index_set_threads(uint32_t threads);

size_t coll_index_memory_bytes(const coll_index *ix);
void coll_index_get_stats(const coll_index *ix, coll_index_stats *out);

#endif
