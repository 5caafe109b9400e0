/*
 * hnsw_int.h — internal layout shared by the hnsw_*.c files (not for users
 * of the index; the public API is hnsw.h).
 *
 * Design: the graph stores 8-bit scalar-quantised codes, not the float32
 * vectors. Each vector is quantised on its own (distance_sq8.h: lo = min,
 * scale = (max − min) / 255; no training, so inserts of drifting data need
 * nothing global). The traversal scores the float32 query against codes
 * (asymmetric distance: no error on the query side). That cuts a node from
 * about 1 750 to 576 bytes at D=384, M=16: a scored neighbour costs 7
 * cache lines instead of 25, and much of the 58 MB graph of 100 000
 * vectors stays in a 32 MB last-level cache (measured: search and build
 * about 2x hnswlib's, which the float records only matched; see
 * docs/BENCHMARKS.md). Because codes are approximate, hnsw_search
 * re-scores the ef best candidates exactly with float32 vectors the caller
 * supplies (hnsw_vector_fn: the index owns no float32 copy) and returns the
 * top k with exact distances. Inserts also arrive in float32 (asymmetric
 * new-vs-stored distances); the neighbour heuristic's stored-vs-stored
 * distances decode one side into a float scratch row and score it against
 * the other's codes.
 *
 * Node records. Every graph node is one fixed-size, cache-line aligned
 * record holding everything layer 0 needs:
 *
 *     hnsw_node header (16 bytes) | u32 links0[m0] | u8 code[dim] | pad to 4
 *     | hnsw_sq {float lo, scale} | pad to 64
 *
 * so a layer-0 step touches one record per neighbour. Records live in
 * segments of geometrically growing size (segment k holds 1024<<k records),
 * so the array grows without ever moving a record: concurrent searches can
 * keep pointers while inserts append. A node id maps to (segment, offset)
 * with one count-leading-zeros. Codes and lo/scale are written once, before
 * the node is published, and never change.
 *
 * Upper layers (level >= 1) are rarer (1/M of nodes): each such node owns a
 * malloc'd block of level * (1 + m) u32: for layer l (1-based) the count
 * then m ids. The block pointers live in a parallel segmented array.
 *
 * Concurrency: neighbour-list words (counts and ids) are written with
 * release stores and read with acquire loads, always holding a valid node
 * id, so readers need no lock and may at worst see a list mid-rewrite (a
 * mix of old and new valid ids). Writers of one node's lists hold that
 * node's spinlock. A node id appears in another node's list only after the
 * new node's own lists are complete ("publish after link").
 * The label map and the entry point are guarded by ix->lock.
 */
#ifndef HNSW_INT_H
#define HNSW_INT_H

#include "distance.h"
#include "distance_sq8.h"
#include "hnsw.h"

#include <pthread.h>

#define HNSW_NONE UINT32_MAX
#define HNSW_SEG_LOG0 10u   /* segment 0 holds 1024 records */
#define HNSW_MAX_SEGS 23u   /* 1024 * (2^23 - 1) > 2^32 records */
#define HNSW_MAX_LEVEL 16u

#define HNSW_F_DELETED 1u

/* The count word of every list is immediately followed by its ids, so n0
 * is the last header field and links0 starts at offset 16. */
typedef struct hnsw_node {
    uint32_t label;
    uint8_t level;  /* top layer of this node */
    uint8_t flags;  /* HNSW_F_*, atomic */
    uint8_t lock;   /* spinlock guarding this node's lists */
    uint8_t pad0;
    uint32_t pad1;
    uint32_t n0;    /* layer-0 neighbour count, atomic; links0 follow it */
    /* uint32_t links0[m0]; uint8_t code[dim]; hnsw_sq params; */
} hnsw_node;
_Static_assert(sizeof(hnsw_node) == 16, "node header layout");
_Static_assert(__builtin_offsetof(hnsw_node, n0) + 4 == sizeof(hnsw_node), "n0 before links0");

/* Per-vector quantisation parameters (distance_sq8.h), after the codes. */
typedef struct hnsw_sq {
    float lo, scale;
} hnsw_sq;

/* A float32 vector being scored against codes, with Σv (the inner product
 * with a dequantised vector is lo·Σv + scale·Σ v_i·code_i). */
typedef struct hnsw_q {
    const float *v;
    float sum;
} hnsw_q;

typedef struct hnsw_pair {
    float d;
    uint32_t id;
} hnsw_pair;

/* Per-search scratch: visited marks with a generation counter (never
 * cleared per query) and the two heaps as flat arrays. */
typedef struct hnsw_ctx {
    uint16_t *marks;
    uint32_t mcap;
    uint16_t gen;
    hnsw_pair *cand; /* min-heap on d */
    size_t ccap;
    hnsw_pair *res; /* max-heap on d */
    size_t rcap;
    const float **vecs; /* re-rank: the caller's vectors of the candidates */
    size_t vcap;
    struct hnsw_ctx *next;
} hnsw_ctx;

struct hnsw_index {
    uint32_t dim, m, m0, ef_construction;
    hnsw_space space;
    double ml;           /* level multiplier 1/ln(m) */
    uint64_t seed;
    uint64_t rng;        /* atomic counter fed to splitmix64 */
    size_t stride;       /* bytes per node record (multiple of 64) */
    size_t links_end;    /* end of links0 = where the scored data begins */
    size_t code_off;     /* offset of code[] inside a record */
    size_t sq_off;       /* offset of hnsw_sq inside a record */
    size_t data_len;     /* bytes from links_end to the end of codes + hnsw_sq */

    unsigned char *segs[HNSW_MAX_SEGS]; /* atomic pointers */
    uint32_t **upper[HNSW_MAX_SEGS];    /* per-node upper-layer blocks */
    uint32_t n_nodes;    /* ids handed out, atomic */
    uint32_t n_live;     /* atomic */
    uint32_t n_deleted;  /* atomic */

    uint64_t entry;      /* atomic: entry id | (uint64_t)max_level << 32 */

    pthread_mutex_t lock; /* label map, entry point updates, segment growth */
    uint32_t *label_map;  /* label -> node id or HNSW_NONE */
    uint32_t label_cap;

    pthread_mutex_t ctx_lock;
    hnsw_ctx *ctx_free;
    size_t ctx_bytes;   /* scratch memory, for hnsw_memory_bytes */
    size_t upper_bytes; /* upper-layer link blocks */
};

/* ---- record access (hnsw.c) ---- */
static inline void hnsw_seg_of(uint32_t id, uint32_t *seg, size_t *off)
{
    uint64_t x = (uint64_t)id + (1u << HNSW_SEG_LOG0);
    uint32_t k = 63u - (uint32_t)__builtin_clzll(x) - HNSW_SEG_LOG0;
    *seg = k;
    *off = (size_t)(x - ((uint64_t)1 << (k + HNSW_SEG_LOG0)));
}

static inline size_t hnsw_seg_size(uint32_t k)
{
    return (size_t)1 << (k + HNSW_SEG_LOG0);
}

static inline hnsw_node *hnsw_node_at(const hnsw_index *ix, uint32_t id)
{
    uint32_t k;
    size_t off;
    hnsw_seg_of(id, &k, &off);
    unsigned char *seg = __atomic_load_n(&ix->segs[k], __ATOMIC_ACQUIRE);
    return (hnsw_node *)(seg + off * ix->stride);
}

static inline const uint8_t *hnsw_codes(const hnsw_index *ix, const hnsw_node *n)
{
    return (const uint8_t *)n + ix->code_off;
}

static inline const hnsw_sq *hnsw_params(const hnsw_index *ix, const hnsw_node *n)
{
    return (const hnsw_sq *)((const unsigned char *)n + ix->sq_off);
}

/* Layer lc's list: pointer to its count word, followed by the ids. */
static inline uint32_t *hnsw_list(const hnsw_index *ix, uint32_t id, hnsw_node *n, uint32_t lc)
{
    if (lc == 0)
        return &n->n0;
    uint32_t k;
    size_t off;
    hnsw_seg_of(id, &k, &off);
    uint32_t *blk = __atomic_load_n(&ix->upper[k][off], __ATOMIC_ACQUIRE);
    return blk + (size_t)(lc - 1) * (1 + ix->m);
}

static inline uint32_t hnsw_ld(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void hnsw_st(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* A float32 vector prepared for hnsw_dist. */
static inline hnsw_q hnsw_query(const hnsw_index *ix, const float *v)
{
    hnsw_q q = {v, 0.0f};
    if (ix->space == HNSW_SPACE_IP)
        for (uint32_t i = 0; i < ix->dim; i++)
            q.sum += v[i];
    return q;
}

/* Traversal distance: float32 q against node n's codes (asymmetric). */
static inline float hnsw_dist(const hnsw_index *ix, const hnsw_q *q, const hnsw_node *n)
{
    const hnsw_sq *p = hnsw_params(ix, n);
    if (ix->space == HNSW_SPACE_IP)
        return -(p->lo * q->sum + p->scale * sq8_dot(q->v, hnsw_codes(ix, n), ix->dim));
    return sq8_l2sq(q->v, hnsw_codes(ix, n), ix->dim, p->lo, p->scale);
}

/* Decodes node n into buf (dim floats): the stored side of a stored-vs-stored
 * distance (Algorithm 4), to be scored with hnsw_dist against codes. */
static inline hnsw_q hnsw_decode(const hnsw_index *ix, const hnsw_node *n, float *buf)
{
    const hnsw_sq *p = hnsw_params(ix, n);
    hnsw_q q = {buf, sq8_decode(hnsw_codes(ix, n), ix->dim, p->lo, p->scale, buf)};
    return q;
}

/* Exact float32 distance (the re-rank). */
static inline float hnsw_exact(const hnsw_index *ix, const float *a, const float *b)
{
    return ix->space == HNSW_SPACE_IP ? -dist_dot(a, b, ix->dim) : dist_l2sq(a, b, ix->dim);
}

static inline bool hnsw_is_deleted(const hnsw_node *n)
{
    return (__atomic_load_n(&n->flags, __ATOMIC_ACQUIRE) & HNSW_F_DELETED) != 0;
}

void hnsw_node_lock(hnsw_node *n);
void hnsw_node_unlock(hnsw_node *n);

/* hnsw.c: allocation helpers */
int hnsw_init_fields(hnsw_index *ix, uint32_t dim, hnsw_space space, uint32_t m,
                     uint32_t efc, uint64_t seed);
int hnsw_ensure_segment(hnsw_index *ix, uint32_t id);
int hnsw_label_map_reserve(hnsw_index *ix, uint32_t label);
hnsw_ctx *hnsw_ctx_acquire(hnsw_index *ix);
void hnsw_ctx_release(hnsw_index *ix, hnsw_ctx *c);
/* Grow a context's arrays (growth counted in ix->ctx_bytes); VX_ERR_NOMEM. */
int hnsw_ctx_reserve(hnsw_index *ix, hnsw_ctx *c, size_t ncand, size_t nres);
int hnsw_ctx_reserve_vecs(hnsw_index *ix, hnsw_ctx *c, size_t n);
/* Writes codes and lo/scale of v into record n (hnsw_insert, hnsw_load of
 * version 1). */
void hnsw_encode_into(const hnsw_index *ix, hnsw_node *n, const float *v);

/* hnsw_search.c: Algorithm 2. Searches layer lc from entry points eps[n_eps]
 * for the ef nearest; results in c->res (max-heap, *n_res of them). When
 * `query` is set, only live nodes passing filter enter the result set (all
 * nodes are still traversed). Returns 0 or VX_ERR_NOMEM. */
int hnsw_search_layer(hnsw_index *ix, hnsw_ctx *c, const hnsw_q *q, const hnsw_pair *eps,
                      size_t n_eps, uint32_t ef, uint32_t lc, bool query, hnsw_filter_fn filter,
                      void *filter_ctx, size_t *n_res);
/* Greedy descent (ef = 1) from ep through layers top..stop+1. */
hnsw_pair hnsw_greedy(hnsw_index *ix, const hnsw_q *q, hnsw_pair ep, uint32_t top,
                      uint32_t stop);

/* ---- binary heaps on flat hnsw_pair arrays (inline: the search inner loop) ---- */

static inline void hnsw_minheap_push(hnsw_pair *h, size_t *n, hnsw_pair p)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h[parent].d <= p.d)
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = p;
}

static inline hnsw_pair hnsw_minheap_pop(hnsw_pair *h, size_t *n)
{
    hnsw_pair top = h[0], last = h[--(*n)];
    size_t i = 0, cnt = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= cnt)
            break;
        if (c + 1 < cnt && h[c + 1].d < h[c].d)
            c++;
        if (last.d <= h[c].d)
            break;
        h[i] = h[c];
        i = c;
    }
    if (cnt)
        h[i] = last;
    return top;
}

static inline void hnsw_maxheap_push(hnsw_pair *h, size_t *n, hnsw_pair p)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h[parent].d >= p.d)
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = p;
}

static inline hnsw_pair hnsw_maxheap_pop(hnsw_pair *h, size_t *n)
{
    hnsw_pair top = h[0], last = h[--(*n)];
    size_t i = 0, cnt = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= cnt)
            break;
        if (c + 1 < cnt && h[c + 1].d > h[c].d)
            c++;
        if (last.d >= h[c].d)
            break;
        h[i] = h[c];
        i = c;
    }
    if (cnt)
        h[i] = last;
    return top;
}


#endif
