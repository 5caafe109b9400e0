/*
 * hnsw_delete.c — removal by tombstone.
 *
 * The paper has no delete. As in hnswlib, a removed node keeps its place
 * and its links: searches still walk through it (it may be the only bridge
 * between two regions) but never return it (hnsw_search_layer's `query`
 * mode), and new inserts may still link to it. This keeps recall after churn
 * close to a fresh build (measured in hnsw_test.c: delete + re-insert 20%)
 * at the cost of memory and of some wasted distance computations; when
 * tombstones pass 30% of the nodes hnsw_needs_rebuild() tells the owner to
 * rebuild from the live vectors.
 */
#include "hnsw_int.h"

#include "vx_err.h"

int hnsw_remove(hnsw_index *ix, uint32_t label)
{
    int rc = VX_ERR_NOT_FOUND;
    pthread_mutex_lock(&ix->lock);
    if (label < ix->label_cap && ix->label_map[label] != HNSW_NONE) {
        hnsw_node *n = hnsw_node_at(ix, ix->label_map[label]);
        __atomic_or_fetch(&n->flags, HNSW_F_DELETED, __ATOMIC_RELEASE);
        ix->label_map[label] = HNSW_NONE;
        __atomic_sub_fetch(&ix->n_live, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&ix->n_deleted, 1, __ATOMIC_RELAXED);
        rc = VX_OK;
    }
    pthread_mutex_unlock(&ix->lock);
    return rc;
}
