/*
 * hnsw.h — approximate nearest-neighbour index: a Hierarchical Navigable
 * Small World graph (Malkov & Yashunin, arXiv 1603.09320).
 *
 * Labels are the caller's u32 slot numbers (a collection's dense row slots);
 * the index maps each live label to one graph node. Distances are "smaller is
 * better": −(a·b) in HNSW_SPACE_IP (cosine when the caller normalised the
 * vectors), |a−b|² in HNSW_SPACE_L2.
 *
 * Storage: the graph keeps an 8-bit quantised copy of each vector (about a
 * quarter of the float32 bytes; hnsw_int.h) and walks the graph with it;
 * exact float32 vectors stay with the caller, who hands hnsw_search a
 * hnsw_vector_fn to re-score the best candidates exactly, so returned
 * distances are exact.
 *
 * Ownership: the index owns the codes and all graph memory; hnsw_destroy
 * frees everything. Callers own the buffers they pass in.
 *
 * Thread safety: hnsw_insert, hnsw_remove and hnsw_search may run
 * concurrently from any number of threads. A node becomes reachable by
 * searches only after all of its own neighbour lists are written. hnsw_save
 * must not run concurrently with insert/remove (searches are fine);
 * hnsw_destroy must not run concurrently with anything.
 *
 * Deletes are tombstones: a removed node stays in the graph as a bridge and is
 * never returned. Inserting an existing label tombstones the old node and
 * inserts a new one. Insert reuses no memory of tombstoned nodes, so after
 * heavy churn hnsw_needs_rebuild() turns true and the owner should rebuild
 * the index from its live vectors (recall stays high meanwhile; speed and
 * memory degrade with the tombstone fraction).
 */
#ifndef HNSW_H
#define HNSW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_buf.h"

typedef enum hnsw_space {
    HNSW_SPACE_IP = 0, /* distance −a·b (vectors normalised for cosine) */
    HNSW_SPACE_L2 = 1  /* distance |a−b|² */
} hnsw_space;

typedef struct hnsw_index hnsw_index;

/* Returns true when label may be returned by a search. Called from the
 * searching thread, possibly many times per search; must be thread-safe. */
typedef bool (*hnsw_filter_fn)(void *ctx, uint32_t label);

/* Returns label's float32 vector (dim floats, the vector last inserted under
 * that label), or NULL when the caller no longer has it (the label is then
 * left out of the results). Called from the searching thread during
 * hnsw_search; the pointer must stay valid until hnsw_search returns. */
typedef const float *(*hnsw_vector_fn)(void *ctx, uint32_t label);

/* The simplest vector source: label L is row L of a contiguous array of
 * dim-float rows. Pass hnsw_rows_vector with a hnsw_rows as its ctx. */
typedef struct hnsw_rows {
    const float *base;
    size_t dim;
} hnsw_rows;
const float *hnsw_rows_vector(void *rows, uint32_t label);

/* Creates an empty index. dim >= 1; m in [VX_HNSW_M_MIN, VX_HNSW_M_MAX];
 * ef_construction in [VX_HNSW_EFC_MIN, VX_HNSW_EFC_MAX] (VX_ERR_INVALID
 * otherwise). The seed fixes the level draws (deterministic single-thread
 * builds). */
int hnsw_create(hnsw_index **out, uint32_t dim, hnsw_space space, uint32_t m,
                uint32_t ef_construction, uint64_t seed);
void hnsw_destroy(hnsw_index *ix);

/* Inserts vec (dim floats; a quantised copy is kept) under label (any
 * value except UINT32_MAX; the label map grows to the largest label, so
 * keep labels dense). An existing label is replaced. VX_ERR_INVALID for a bad label or a
 * non-finite component, VX_ERR_NOMEM on allocation failure. */
int hnsw_insert(hnsw_index *ix, uint32_t label, const float *vec);

/* Tombstones label; VX_ERR_NOT_FOUND when it is not in the index. */
int hnsw_remove(hnsw_index *ix, uint32_t label);

/* K-NN search (Algorithm 5). Writes up to k results, best first, into
 * labels[k] and dists[k] (dists may be NULL) and their number into *n_found.
 * ef is raised to at least k. With a filter, non-matching nodes are
 * traversed but never returned, and the search keeps expanding until ef
 * matching nodes are found or the graph is exhausted, so k results come
 * back whenever k live labels match.
 * Re-rank: the graph is walked with quantised distances; then the (up to)
 * ef best candidates found are re-scored with the exact float32 distance to
 * vec_of(vec_ctx, label) and the best k of those are returned, with exact
 * distances in dists. vec_of NULL: no re-rank, dists are the quantised
 * (approximate) distances — for tests and diagnostics only. */
int hnsw_search(hnsw_index *ix, const float *q, uint32_t k, uint32_t ef, hnsw_filter_fn filter,
                void *filter_ctx, hnsw_vector_fn vec_of, void *vec_ctx, uint32_t *labels,
                float *dists, uint32_t *n_found);

/* Number of live (not removed) labels. */
size_t hnsw_count(const hnsw_index *ix);
/* Bytes of memory held by the index (nodes with their codes, links, maps,
 * scratch); the caller's float32 vectors are not included. */
size_t hnsw_memory_bytes(const hnsw_index *ix);
/* Graph nodes including tombstones. */
size_t hnsw_node_count(const hnsw_index *ix);
/* True when tombstones exceed 30% of the nodes (and there are at least 1000
 * nodes): rebuild from the live vectors to recover speed and memory. */
bool hnsw_needs_rebuild(const hnsw_index *ix);
/* True when label is live in the index. */
bool hnsw_contains(const hnsw_index *ix, uint32_t label);

uint32_t hnsw_dim(const hnsw_index *ix);

/* Serialises the whole index (versioned, checksummed) by appending to out.
 * Not concurrent with insert/remove. */
int hnsw_save(const hnsw_index *ix, vx_buf *out);
/* Builds an index from bytes written by hnsw_save: the current version 2
 * (quantised records) or version 1 (float32 records, quantised while
 * loading; the graph is kept as it was). Every field and every neighbour id
 * is validated: malformed input gives VX_ERR_CORRUPT (never a crash), an
 * unknown version VX_ERR_CORRUPT too. A live label >= label_limit is
 * corrupt as well (the label map is as large as the largest label: a
 * collection passes its slot count, so a crafted file cannot make the
 * loader allocate more than the collection itself implies). */
int hnsw_load(hnsw_index **out, const void *data, size_t len, uint32_t label_limit);

#endif
