/*
 * hnsw.c — index lifecycle and shared plumbing: create/destroy, segmented
 * node storage, the label map, the pool of per-search scratch contexts,
 * node spinlocks, quantisation of a vector into its record, and the small
 * accessors (count, memory, contains). The heaps and distances of the
 * search loop are inline in hnsw_int.h.
 *
 * The algorithms live in hnsw_insert.c (Algorithms 1 and 4),
 * hnsw_search.c (Algorithms 2 and 5), hnsw_delete.c (tombstones) and
 * hnsw_persist.c (save/load); hnsw_int.h describes the memory layout.
 */
#include "hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vx_err.h"
#include "vx_proto.h"

#define HNSW_HUGE ((size_t)2 << 20)

int hnsw_init_fields(hnsw_index *ix, uint32_t dim, hnsw_space space, uint32_t m, uint32_t efc,
                     uint64_t seed)
{
    if (dim < 1 || dim > VX_MAX_DIM || (space != HNSW_SPACE_IP && space != HNSW_SPACE_L2) ||
        m < VX_HNSW_M_MIN || m > VX_HNSW_M_MAX || efc < VX_HNSW_EFC_MIN ||
        efc > VX_HNSW_EFC_MAX)
        return VX_ERR_INVALID;
    ix->dim = dim;
    ix->space = space;
    ix->m = m;
    ix->m0 = 2 * m;
    ix->ef_construction = efc;
    ix->ml = 1.0 / log((double)m);
    ix->seed = seed;
    ix->rng = seed;
    ix->links_end = sizeof(hnsw_node) + (size_t)ix->m0 * sizeof(uint32_t);
    ix->code_off = ix->links_end;
    ix->sq_off = (ix->code_off + dim + 3u) & ~(size_t)3u;
    ix->data_len = ix->sq_off + sizeof(hnsw_sq) - ix->links_end;
    ix->stride = (ix->links_end + ix->data_len + 63u) & ~(size_t)63u;
    ix->entry = (uint64_t)HNSW_NONE;
    pthread_mutex_init(&ix->lock, NULL);
    pthread_mutex_init(&ix->ctx_lock, NULL);
    return VX_OK;
}

int hnsw_create(hnsw_index **out, uint32_t dim, hnsw_space space, uint32_t m,
                uint32_t ef_construction, uint64_t seed)
{
    *out = NULL;
    hnsw_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return VX_ERR_NOMEM;
    int rc = hnsw_init_fields(ix, dim, space, m, ef_construction, seed);
    if (rc != VX_OK) {
        free(ix);
        return rc;
    }
    *out = ix;
    return VX_OK;
}

void hnsw_destroy(hnsw_index *ix)
{
    if (!ix)
        return;
    for (uint32_t k = 0; k < HNSW_MAX_SEGS; k++) {
        if (ix->upper[k]) {
            for (size_t i = 0; i < hnsw_seg_size(k); i++)
                free(ix->upper[k][i]);
            free(ix->upper[k]);
        }
        free(ix->segs[k]);
    }
    free(ix->label_map);
    while (ix->ctx_free) {
        hnsw_ctx *c = ix->ctx_free;
        ix->ctx_free = c->next;
        free(c->marks);
        free(c->cand);
        free(c->res);
        free(c->vecs);
        free(c);
    }
    pthread_mutex_destroy(&ix->lock);
    pthread_mutex_destroy(&ix->ctx_lock);
    free(ix);
}

/* Makes sure the segment holding id exists (records and upper pointers). */
int hnsw_ensure_segment(hnsw_index *ix, uint32_t id)
{
    uint32_t k;
    size_t off;
    hnsw_seg_of(id, &k, &off);
    if (__atomic_load_n(&ix->segs[k], __ATOMIC_ACQUIRE))
        return VX_OK;
    int rc = VX_OK;
    pthread_mutex_lock(&ix->lock);
    if (!ix->segs[k]) {
        size_t n = hnsw_seg_size(k), bytes = n * ix->stride;
        unsigned char *seg;
        if (bytes >= HNSW_HUGE) {
            /* 2 MiB pages: a search touches ~1 random record per distance,
             * and with 4 KiB pages nearly each one is also a TLB miss */
            bytes = (bytes + HNSW_HUGE - 1) & ~(size_t)(HNSW_HUGE - 1);
            seg = aligned_alloc(HNSW_HUGE, bytes);
            if (seg)
                madvise(seg, bytes, MADV_HUGEPAGE);
        } else {
            seg = aligned_alloc(64, bytes);
        }
        uint32_t **up = calloc(n, sizeof *up);
        if (!seg || !up) {
            free(seg);
            free(up);
            rc = VX_ERR_NOMEM;
        } else {
            ix->upper[k] = up;
            __atomic_store_n(&ix->segs[k], seg, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&ix->lock);
    return rc;
}

/* Grows the label map to cover label. Caller holds ix->lock. */
int hnsw_label_map_reserve(hnsw_index *ix, uint32_t label)
{
    if (label < ix->label_cap)
        return VX_OK;
    uint64_t want = ix->label_cap ? ix->label_cap : 1024;
    while (want <= label)
        want *= 2;
    if (want > UINT32_MAX)
        want = UINT32_MAX;
    uint32_t *nm = realloc(ix->label_map, (size_t)want * sizeof *nm);
    if (!nm)
        return VX_ERR_NOMEM;
    for (uint64_t i = ix->label_cap; i < want; i++)
        nm[i] = HNSW_NONE;
    ix->label_map = nm;
    /* atomic: hnsw_memory_bytes reads it without the lock (stats) */
    __atomic_store_n(&ix->label_cap, (uint32_t)want, __ATOMIC_RELAXED);
    return VX_OK;
}

void hnsw_node_lock(hnsw_node *n)
{
    while (__atomic_test_and_set(&n->lock, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&n->lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
    }
}

void hnsw_node_unlock(hnsw_node *n)
{
    __atomic_clear(&n->lock, __ATOMIC_RELEASE);
}

/* ---- quantisation --------------------------------------------------------------- */

void hnsw_encode_into(const hnsw_index *ix, hnsw_node *n, const float *v)
{
    hnsw_sq p;
    sq8_encode(v, ix->dim, (uint8_t *)n + ix->code_off, &p.lo, &p.scale);
    memcpy((unsigned char *)n + ix->sq_off, &p, sizeof p);
}

/* ---- scratch contexts ---------------------------------------------------------- */

/* Returns arr grown (elem bytes each, capacity *cap) to at least want,
 * doubling from 256, and adds the growth to ix->ctx_bytes; on allocation
 * failure returns arr unchanged and sets *rc. */
static void *grow(hnsw_index *ix, void *arr, size_t *cap, size_t want, size_t elem, int *rc)
{
    if (want <= *cap)
        return arr;
    size_t n = *cap ? *cap : 256;
    while (n < want)
        n *= 2;
    void *p = realloc(arr, n * elem);
    if (!p) {
        *rc = VX_ERR_NOMEM;
        return arr;
    }
    __atomic_add_fetch(&ix->ctx_bytes, (n - *cap) * elem, __ATOMIC_RELAXED);
    *cap = n;
    return p;
}

int hnsw_ctx_reserve(hnsw_index *ix, hnsw_ctx *c, size_t ncand, size_t nres)
{
    int rc = VX_OK;
    c->cand = grow(ix, c->cand, &c->ccap, ncand, sizeof *c->cand, &rc);
    c->res = grow(ix, c->res, &c->rcap, nres, sizeof *c->res, &rc);
    return rc;
}

int hnsw_ctx_reserve_vecs(hnsw_index *ix, hnsw_ctx *c, size_t n)
{
    int rc = VX_OK;
    c->vecs = grow(ix, c->vecs, &c->vcap, n, sizeof *c->vecs, &rc);
    return rc;
}

/* Takes a context from the pool (or makes one) whose visited array covers
 * every node id handed out so far; ids beyond mcap (nodes published during
 * this search) are treated as already visited. NULL on out of memory. */
hnsw_ctx *hnsw_ctx_acquire(hnsw_index *ix)
{
    pthread_mutex_lock(&ix->ctx_lock);
    hnsw_ctx *c = ix->ctx_free;
    if (c)
        ix->ctx_free = c->next;
    pthread_mutex_unlock(&ix->ctx_lock);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        __atomic_add_fetch(&ix->ctx_bytes, sizeof *c, __ATOMIC_RELAXED);
    }
    uint32_t need = __atomic_load_n(&ix->n_nodes, __ATOMIC_ACQUIRE);
    if (need > c->mcap || !c->marks) {
        uint64_t cap = (uint64_t)need + need / 4 + 1024;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        uint16_t *mk = calloc((size_t)cap, sizeof *mk);
        if (!mk) {
            hnsw_ctx_release(ix, c);
            return NULL;
        }
        free(c->marks);
        __atomic_add_fetch(&ix->ctx_bytes, (size_t)(cap - c->mcap) * sizeof *mk,
                           __ATOMIC_RELAXED);
        c->marks = mk;
        c->mcap = (uint32_t)cap;
        c->gen = 0;
    }
    if (++c->gen == 0) { /* wrapped: clear once every 65535 searches */
        memset(c->marks, 0, (size_t)c->mcap * sizeof *c->marks);
        c->gen = 1;
    }
    return c;
}

void hnsw_ctx_release(hnsw_index *ix, hnsw_ctx *c)
{
    pthread_mutex_lock(&ix->ctx_lock);
    c->next = ix->ctx_free;
    ix->ctx_free = c;
    pthread_mutex_unlock(&ix->ctx_lock);
}

/* ---- accessors ------------------------------------------------------------------- */

size_t hnsw_count(const hnsw_index *ix)
{
    return __atomic_load_n(&ix->n_live, __ATOMIC_RELAXED);
}

size_t hnsw_node_count(const hnsw_index *ix)
{
    return __atomic_load_n(&ix->n_nodes, __ATOMIC_RELAXED);
}

uint32_t hnsw_dim(const hnsw_index *ix)
{
    return ix->dim;
}

bool hnsw_needs_rebuild(const hnsw_index *ix)
{
    uint32_t n = __atomic_load_n(&ix->n_nodes, __ATOMIC_RELAXED);
    uint32_t d = __atomic_load_n(&ix->n_deleted, __ATOMIC_RELAXED);
    return n >= 1000 && (uint64_t)d * 10 > (uint64_t)n * 3;
}

size_t hnsw_memory_bytes(const hnsw_index *ix)
{
    /* lock-free (stats, called beside inserts that run under a read lock):
     * every field that inserts grow is read atomically */
    size_t n = __atomic_load_n(&ix->n_nodes, __ATOMIC_RELAXED);
    size_t cap = __atomic_load_n(&ix->label_cap, __ATOMIC_RELAXED);
    size_t bytes = sizeof *ix + n * ix->stride + cap * sizeof(uint32_t);
    for (uint32_t k = 0; k < HNSW_MAX_SEGS; k++)
        if (__atomic_load_n(&ix->segs[k], __ATOMIC_ACQUIRE))
            bytes += hnsw_seg_size(k) * sizeof(uint32_t *);
    bytes += __atomic_load_n(&ix->upper_bytes, __ATOMIC_RELAXED);
    return bytes + __atomic_load_n(&ix->ctx_bytes, __ATOMIC_RELAXED);
}

bool hnsw_contains(const hnsw_index *ix, uint32_t label)
{
    hnsw_index *mix = (hnsw_index *)ix;
    pthread_mutex_lock(&mix->lock);
    bool live = label < ix->label_cap && ix->label_map[label] != HNSW_NONE;
    pthread_mutex_unlock(&mix->lock);
    return live;
}

const float *hnsw_rows_vector(void *rows, uint32_t label)
{
    const hnsw_rows *r = rows;
    return r->base + (size_t)label * r->dim;
}
