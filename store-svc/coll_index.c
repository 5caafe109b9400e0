/*
 * coll_index.c — see coll_index.h.
 *
 * Invariants:
 *  - every live slot of the collection is a live label of the graph, and
 *    every live label is a live slot, except (a) between coll_index_note and
 *    coll_index_flush inside one upsert, (b) for a batch taken by
 *    coll_index_take_pending until its coll_index_link returns, and (c)
 *    while `stale` (an insert failed): searches then take the exact scan
 *    until a rebuild succeeds;
 *  - pending[0..n_pending) are slots noted since the last flush or take;
 *  - link_lock: coll_index_link holds it shared (several batches link at
 *    once, alongside searches), coll_index_save exclusive (hnsw_save must
 *    not run beside inserts). Both are called under the collection's read
 *    lock, so the order is always collection lock, then link_lock;
 *  - `stale` is read by searches while a link may set it: atomic.
 *
 * The exact/graph switch (measured with `vectron-bench-index --filter-sweep`
 * on g384 data, see docs/BENCHMARKS.md): the exact scan over a filter costs
 * one filter evaluation per slot plus one distance per matching slot, i.e.
 * ∝ n; the filtered graph search must visit about ef / p nodes when a
 * fraction p matches, i.e. ∝ 1 / p. They cross where n·p — the number of
 * matching points — is about constant, so the switch is a count of
 * estimated matches (COLL_INDEX_EXACT_MATCHES), not a fraction. Measured
 * (384-d, ef=64, graph on 8-bit codes): the two cross at about 5 000
 * matches at n = 100 000 (float-record graph: 10 000–20 000); at 1 %
 * matching the exact path is ~4× faster, at 50 % the graph is ~16× faster.
 * A failed rebuild leaves the index stale and is retried on the next write.
 */
#include "coll_index.h"
#include "coll_index_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "distance.h"
#include "filter.h"
#include "hnsw.h"
#include "topk.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_value.h"


/* the filter switch point (coll_index_set_exact_matches) */
static uint32_t g_exact_matches = COLL_INDEX_EXACT_MATCHES;

void coll_index_set_exact_matches(uint32_t matches)
{
    __atomic_store_n(&g_exact_matches, matches, __ATOMIC_RELAXED);
}

/* the insert threads (coll_index_set_threads) */
static uint32_t g_threads = COLL_INDEX_THREADS;

void coll_index_set_threads(uint32_t threads)
{
    if (threads < 1)
        threads = 1;
    __atomic_store_n(&g_threads, threads < COLL_INDEX_THREADS ? threads : COLL_INDEX_THREADS,
                     __ATOMIC_RELAXED);
}

static hnsw_space space_of(vx_metric m)
{
    return m == VX_METRIC_L2 ? HNSW_SPACE_L2 : HNSW_SPACE_IP;
}

int coll_index_new_graph(const coll_index *ix, hnsw_index **out)
{
    return hnsw_create(out, ix->dim, space_of(ix->metric), ix->m, ix->efc, 0x5eedc011u);
}

int coll_index_create(coll_index **out, const vx_coll_config *cfg)
{
    *out = NULL;
    if (cfg->index.type != VX_INDEX_HNSW)
        return VX_OK;
    coll_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return VX_ERR_NOMEM;
    ix->metric = cfg->metric;
    ix->dim = cfg->dimension;
    ix->m = cfg->index.m;
    ix->efc = cfg->index.ef_construction;
    ix->name = cfg->name;
    static uint64_t next_uid = 1;
    ix->uid = __atomic_fetch_add(&next_uid, 1, __ATOMIC_RELAXED);
    int rc = coll_index_new_graph(ix, &ix->h);
    if (rc == VX_OK && pthread_rwlock_init(&ix->link_lock, NULL) != 0) {
        hnsw_destroy(ix->h);
        rc = VX_ERR_NOMEM;
    }
    if (rc) {
        free(ix);
        return rc;
    }
    *out = ix;
    return VX_OK;
}

static bool is_stale(const coll_index *ix)
{
    return __atomic_load_n(&ix->stale, __ATOMIC_ACQUIRE);
}

static void set_stale(coll_index *ix, bool stale)
{
    __atomic_store_n(&ix->stale, stale, __ATOMIC_RELEASE);
}

void coll_index_destroy(coll_index *ix)
{
    if (!ix)
        return;
    hnsw_destroy(ix->h);
    pthread_rwlock_destroy(&ix->link_lock);
    free(ix->pending);
    free(ix->touched);
    free(ix->backlog);
    free(ix->linking);
    free(ix);
}

int coll_index_reserve(coll_index *ix, uint32_t n)
{
    if (!ix || (uint64_t)ix->n_pending + n <= ix->cap_pending)
        return VX_OK;
    uint32_t cap = ix->n_pending + n;
    if (cap < 64)
        cap = 64;
    uint32_t *p = realloc(ix->pending, (size_t)cap * sizeof *p);
    if (!p)
        return VX_ERR_NOMEM;
    ix->pending = p;
    ix->cap_pending = cap;
    return VX_OK;
}

void coll_index_note(coll_index *ix, uint32_t slot)
{
    if (ix && ix->n_pending < ix->cap_pending)
        ix->pending[ix->n_pending++] = slot;
    else if (ix)
        set_stale(ix, true); /* not reserved: cannot happen through coll_upsert */
    if (ix && ix->building)
        coll_index_touch(ix, slot);
}

/* ---- parallel inserts ---- */

typedef struct insert_job {
    hnsw_index *h;
    const collection *c;   /* the rows, unless rows is set */
    const float *rows;     /* NULL: c's search rows; else rows[i·dim..] for slots[i] */
    uint32_t dim;
    const uint32_t *slots; /* NULL: every slot in [0, n) */
    uint32_t n;
    uint32_t next; /* atomic work counter */
    int rc;        /* first failure */
} insert_job;

static void *insert_worker(void *p)
{
    insert_job *j = p;
    for (;;) {
        uint32_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->n)
            break;
        uint32_t s = j->slots ? j->slots[i] : i;
        const float *v;
        if (j->rows) {
            v = j->rows + (size_t)i * j->dim;
        } else {
            if (!coll_slot_live(j->c, s))
                continue;
            v = coll_slot_search_vector(j->c, s);
        }
        int rc = hnsw_insert(j->h, s, v);
        if (rc) {
            int zero = 0;
            __atomic_compare_exchange_n(&j->rc, &zero, rc, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

/* Runs a job with up to COLL_INDEX_THREADS threads (the caller's
 * included); small jobs stay on the calling thread. */
static int run_insert_job(insert_job *j)
{
    uint32_t n = j->n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t t = cpus < 1 ? 1 : (uint32_t)cpus;
    uint32_t cap = __atomic_load_n(&g_threads, __ATOMIC_RELAXED);
    if (t > cap)
        t = cap;
    if (n < 64)
        t = 1;
    pthread_t th[COLL_INDEX_THREADS];
    uint32_t started = 0;
    for (uint32_t i = 1; i < t; i++)
        if (pthread_create(&th[started], NULL, insert_worker, j) == 0)
            started++;
    insert_worker(j);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return j->rc;
}

static int insert_parallel(hnsw_index *h, const collection *c, const uint32_t *slots, uint32_t n)
{
    insert_job j = {h, c, NULL, 0, slots, n, 0, 0};
    return run_insert_job(&j);
}

int coll_index_insert_rows(hnsw_index *h, const uint32_t *slots, const float *rows, uint32_t n,
                           uint32_t dim)
{
    insert_job j = {h, NULL, rows, dim, slots, n, 0, 0};
    return run_insert_job(&j);
}

int coll_index_cmp_slots(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int coll_index_rebuild(coll_index *ix, const collection *c)
{
    uint64_t t0 = vx_now_us();
    hnsw_index *h = NULL;
    int rc = coll_index_new_graph(ix, &h);
    if (rc == VX_OK)
        rc = insert_parallel(h, c, NULL, coll_n_slots(c));
    if (rc) {
        hnsw_destroy(h);
        VX_ERROR("collection '%s': HNSW rebuild failed (%s); exact scans meanwhile", ix->name,
                 vx_strerror(rc));
        set_stale(ix, true);
        return rc;
    }
    hnsw_destroy(ix->h);
    ix->h = h;
    set_stale(ix, false);
    __atomic_store_n(&ix->rebuild_due, false, __ATOMIC_RELEASE); /* done here instead */
    ix->loaded = false;
    ix->rebuilds++;
    VX_INFO("collection '%s': HNSW graph rebuilt from %zu live points in %.1f s", ix->name,
            hnsw_count(h), (double)(vx_now_us() - t0) * 1e-6);
    return VX_OK;
}

/* A rebuild this write must do itself: the index is stale, or tombstones
 * call for one and no background rebuilder takes it (coll_index_bg.c). */
static bool rebuild_now(coll_index *ix)
{
    return is_stale(ix) || (hnsw_needs_rebuild(ix->h) && !coll_index_bg_request(ix));
}

static void maybe_rebuild(coll_index *ix, const collection *c)
{
    if (rebuild_now(ix))
        (void)coll_index_rebuild(ix, c);
}

/* Links slots[0..n) (sorted and de-duplicated in place: a duplicate id
 * inside a batch notes its slot twice). A failure marks the index stale. */
void coll_index_link_slots(coll_index *ix, const collection *c, uint32_t *slots, uint32_t n)
{
    if (!n || is_stale(ix))
        return;
    qsort(slots, n, sizeof *slots, coll_index_cmp_slots);
    uint32_t u = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!u || slots[u - 1] != slots[i])
            slots[u++] = slots[i];
    int rc = insert_parallel(ix->h, c, slots, u);
    if (rc) {
        VX_ERROR("collection '%s': HNSW insert failed (%s); rebuilding on the next write",
                 ix->name, vx_strerror(rc));
        set_stale(ix, true);
    }
}

void coll_index_flush(coll_index *ix, const collection *c)
{
    if (!ix)
        return;
    if (ix->defer && coll_index_backlog_queue(ix))
        return; /* replay: linked later (coll_index_backlog.c) */
    coll_index_link_slots(ix, c, ix->pending, ix->n_pending);
    ix->n_pending = 0;
    maybe_rebuild(ix, c);
}

int coll_index_take_pending(coll_index *ix, const collection *c, uint32_t **slots, uint32_t *n)
{
    *slots = NULL;
    *n = 0;
    if (!ix || !ix->n_pending)
        return VX_OK;
    uint32_t *copy = NULL;
    if (!ix->defer && !rebuild_now(ix))
        copy = malloc((size_t)ix->n_pending * sizeof *copy);
    if (!copy) {
        coll_index_flush(ix, c); /* link now, under the caller's write lock */
        return VX_OK;
    }
    memcpy(copy, ix->pending, (size_t)ix->n_pending * sizeof *copy);
    *slots = copy;
    *n = ix->n_pending;
    ix->n_pending = 0;
    return VX_OK;
}

void coll_index_link(coll_index *ix, const collection *c, uint32_t *slots, uint32_t n)
{
    if (!ix || !n)
        return;
    pthread_rwlock_rdlock(&ix->link_lock);
    coll_index_link_slots(ix, c, slots, n);
    pthread_rwlock_unlock(&ix->link_lock);
}

void coll_index_remove(coll_index *ix, const collection *c, uint32_t slot)
{
    if (!ix)
        return;
    (void)c;
    (void)hnsw_remove(ix->h, slot); /* NOT_FOUND only when stale */
    if (ix->building)
        coll_index_touch(ix, slot);
}

/* ---- persistence ---- */

int coll_index_restore(coll_index *ix, const collection *c, const void *data, size_t len)
{
    uint64_t t0 = vx_now_us();
    hnsw_index *loaded = NULL;
    uint32_t *missing = NULL, n_missing = 0;
    if (data && len && hnsw_load(&loaded, data, len, coll_n_slots(c)) == VX_OK) {
        /* Every live label of the saved graph must be a live slot. Live
         * slots it lacks (a batch snapshotted between its upsert and its
         * link, see coll_index_take_pending, or a replayed backlog not
         * linked yet) are linked now, or queued as a replay's when there
         * are many (coll_index_end_deferred_links takes them). */
        bool ok = hnsw_dim(loaded) == ix->dim;
        uint64_t present = 0;
        if (ok && (missing = malloc(((size_t)coll_n_slots(c) + 1) * sizeof *missing)) == NULL)
            ok = false;
        for (uint32_t s = 0, n = coll_n_slots(c); ok && s < n; s++) {
            if (!coll_slot_live(c, s))
                continue;
            if (hnsw_contains(loaded, s))
                present++;
            else
                missing[n_missing++] = s;
        }
        bool queue = ok && n_missing >= COLL_INDEX_BACKLOG_SYNC && !ix->n_backlog;
        if (!ok || present != hnsw_count(loaded) ||
            (!queue && insert_parallel(loaded, c, missing, n_missing) != VX_OK)) {
            hnsw_destroy(loaded);
            loaded = NULL;
        } else if (queue) { /* sorted (ascending scan): the backlog as it is */
            ix->backlog = missing;
            ix->n_backlog = ix->cap_backlog = n_missing;
            ix->defer = true;
            missing = NULL;
        }
        free(missing);
    }
    if (loaded) {
        hnsw_destroy(ix->h);
        ix->h = loaded;
        ix->loaded = true;
        set_stale(ix, false);
        VX_INFO("collection '%s': HNSW graph loaded from the snapshot (%zu points, %zu nodes, "
                "%u %s after loading) in %.2f s, no rebuild",
                ix->name, hnsw_count(loaded), hnsw_node_count(loaded), n_missing,
                ix->defer ? "queued for linking" : "linked",
                (double)(vx_now_us() - t0) * 1e-6);
        return VX_OK;
    }
    if (data && len)
        VX_WARN("collection '%s': saved HNSW graph unusable, rebuilding it", ix->name);
    if (coll_count(c) == 0)
        return VX_OK;
    return coll_index_rebuild(ix, c);
}

int coll_index_save(const coll_index *ix, vx_buf *out)
{
    coll_index *w = (coll_index *)ix; /* the lock only: the graph is not changed */
    pthread_rwlock_wrlock(&w->link_lock);
    int rc = hnsw_save(ix->h, out);
    pthread_rwlock_unlock(&w->link_lock);
    return rc;
}

size_t coll_index_memory_bytes(const coll_index *ix)
{
    return ix ? sizeof *ix +
                    ((size_t)ix->cap_pending + ix->cap_backlog + ix->cap_linking) * sizeof(uint32_t) +
                    hnsw_memory_bytes(ix->h)
              : 0;
}

void coll_index_get_stats(const coll_index *ix, coll_index_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!ix)
        return;
    out->nodes = hnsw_node_count(ix->h);
    out->live = hnsw_count(ix->h);
    out->memory_bytes = coll_index_memory_bytes(ix);
    out->rebuilds = ix->rebuilds;
    out->loaded = ix->loaded;
    out->stale = is_stale(ix);
    out->rebuilding = __atomic_load_n(&ix->rebuild_due, __ATOMIC_ACQUIRE);
    out->graph_searches = __atomic_load_n(&ix->n_graph, __ATOMIC_RELAXED);
    out->exact_small = __atomic_load_n(&ix->n_small, __ATOMIC_RELAXED);
    out->exact_filter = __atomic_load_n(&ix->n_filter, __ATOMIC_RELAXED);
    out->exact_forced = __atomic_load_n(&ix->n_forced, __ATOMIC_RELAXED);
}

/* ---- search ---- */

typedef struct filter_ctx {
    const collection *c;
    const vx_filter *f;
} filter_ctx;

/* The graph's re-rank source: a slot's search row (the graph holds only
 * quantised codes; the collection's slab has the exact rows). */
static const float *slot_row(void *p, uint32_t slot)
{
    filter_ctx *fc = p;
    return coll_slot_search_vector(fc->c, slot);
}

static bool slot_matches(void *p, uint32_t slot)
{
    filter_ctx *fc = p;
    uint32_t len;
    const unsigned char *meta = coll_slot_meta(fc->c, slot, &len);
    return coll_slot_live(fc->c, slot) && filter_match(fc->f, meta, len);
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Estimated number of live points matching f: the filter on up to
 * COLL_INDEX_SAMPLE pseudo-random slots (all of them when fewer). */
static double estimate_matches(const collection *c, const vx_filter *f)
{
    uint32_t n = coll_n_slots(c);
    uint32_t tries = n < COLL_INDEX_SAMPLE ? n : COLL_INDEX_SAMPLE, live = 0, hit = 0;
    filter_ctx fc = {c, f};
    for (uint32_t i = 0; i < tries; i++) {
        uint32_t s = n == tries ? i : (uint32_t)(mix64(i) % n);
        if (!coll_slot_live(c, s))
            continue;
        live++;
        hit += slot_matches(&fc, s);
    }
    return live ? (double)coll_count(c) * hit / live : 0.0;
}

/* Cheap re-check of what coll_search_exact validates; on any doubt the
 * caller lets coll_search_exact produce the error message. */
static bool request_ok(const coll_index *ix, const vx_search_req *req)
{
    if (!req->vector || req->dim != ix->dim || req->k < 1 || req->k > VX_MAX_K)
        return false;
    double ss = 0;
    for (uint32_t i = 0; i < req->dim; i++) {
        if (!isfinite(req->vector[i]))
            return false;
        ss += (double)req->vector[i] * req->vector[i];
    }
    return ix->metric != VX_METRIC_COSINE || ss > 0;
}

static int exact(uint64_t *counter, const collection *c, const vx_search_req *req, vx_arena *a,
                 vx_search_rep *out, char *err, size_t err_len)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
    return coll_search_exact(c, req, a, out, err, err_len);
}

/* The query as searched: normalised for cosine as every cosine path does
 * (dist_normalise). */
static const float *query_row(const coll_index *ix, const vx_search_req *req, vx_arena *a)
{
    if (ix->metric != VX_METRIC_COSINE)
        return req->vector;
    float *nq = vx_arena_alloc(a, (size_t)ix->dim * sizeof *nq);
    dist_normalise(req->vector, ix->dim, nq);
    return nq;
}

/* Fills out->hits from (slot, contract score) pairs, best first. */
static void emit_hits(const coll_index *ix, const collection *c, const vx_search_req *req,
                      vx_arena *a, vx_search_rep *out, const topk_item *items, uint32_t n)
{
    out->hits = vx_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *out->hits);
    uint32_t got = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = items[i].slot;
        const char *id = coll_slot_id(c, s);
        if (!id)
            continue; /* cannot happen: graph labels are live slots */
        vx_search_hit *h = &out->hits[got++];
        memset(h, 0, sizeof *h);
        h->id = vx_arena_strdup(a, id);
        h->score = items[i].score;
        if (req->with_metadata) {
            uint32_t len;
            const unsigned char *meta = coll_slot_meta(c, s, &len);
            if (meta) {
                vx_value *v = vx_arena_alloc(a, sizeof *v);
                if (vx_value_unpack(meta, len, a, v) == VX_OK)
                    h->metadata = v;
            }
        }
        if (req->with_vector) {
            float *v = vx_arena_alloc(a, (size_t)ix->dim * sizeof *v);
            memcpy(v, coll_slot_vector(c, s), (size_t)ix->dim * sizeof *v);
            h->vector = v;
            h->dim = ix->dim;
        }
    }
    out->n_hits = got;
}

/* Exact search over the matching points only: the filter on every live
 * slot, a distance only for those that match (the flat scan computes every
 * distance first, which costs the whole slab's memory traffic). */
static int exact_matching(const coll_index *ix, const collection *c, const vx_search_req *req,
                          const vx_filter *f, vx_arena *a, vx_search_rep *out, uint64_t t0)
{
    memset(out, 0, sizeof *out);
    const float *q = query_row(ix, req, a);
    bool l2 = ix->metric == VX_METRIC_L2;
    topk t;
    topk_item *items = vx_arena_alloc(a, (size_t)req->k * sizeof *items);
    topk_init(&t, items, req->k, !l2);
    for (uint32_t s = 0, n = coll_n_slots(c); s < n; s++) {
        uint32_t len;
        const unsigned char *meta = coll_slot_meta(c, s, &len); /* NULL when dead */
        if (!coll_slot_live(c, s) || !filter_match(f, meta, len))
            continue;
        const float *row = coll_slot_search_vector(c, s);
        float score = l2 ? dist_l2sq(q, row, ix->dim) : dist_dot(q, row, ix->dim);
        if (topk_would_accept(&t, score, s))
            topk_push(&t, score, s);
    }
    uint32_t n = topk_finish(&t);
    if (l2)
        for (uint32_t i = 0; i < n; i++)
            items[i].score = sqrtf(items[i].score > 0 ? items[i].score : 0);
    emit_hits(ix, c, req, a, out, items, n);
    out->used_index = false;
    out->took_us = vx_now_us() - t0;
    return VX_OK;
}

int coll_index_search(coll_index *ix, const collection *c, const vx_search_req *req, vx_arena *a,
                      vx_search_rep *out, char *err, size_t err_len)
{
    uint64_t t0 = vx_now_us();
    if (req->ef && (req->ef < VX_HNSW_EF_MIN || req->ef > VX_HNSW_EF_MAX)) {
        memset(out, 0, sizeof *out);
        snprintf(err, err_len, "ef: %u is out of range %d..%d", req->ef, VX_HNSW_EF_MIN,
                 VX_HNSW_EF_MAX);
        return VX_ERR_INVALID;
    }
    if (req->exact || is_stale(ix) || !request_ok(ix, req))
        return exact(&ix->n_forced, c, req, a, out, err, err_len);
    if (coll_count(c) < COLL_INDEX_SMALL)
        return exact(&ix->n_small, c, req, a, out, err, err_len);
    const vx_filter *f;
    int rc = filter_compile(req->filter, a, &f, err, err_len);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (f && estimate_matches(c, f) < __atomic_load_n(&g_exact_matches, __ATOMIC_RELAXED)) {
        __atomic_add_fetch(&ix->n_filter, 1, __ATOMIC_RELAXED);
        return exact_matching(ix, c, req, f, a, out, t0);
    }
    __atomic_add_fetch(&ix->n_graph, 1, __ATOMIC_RELAXED);

    memset(out, 0, sizeof *out);
    const float *q = query_row(ix, req, a);
    uint32_t ef = req->ef ? req->ef : VX_HNSW_EF_DEFAULT;
    if (ef < req->k)
        ef = req->k;
    uint32_t *labels = vx_arena_alloc(a, (size_t)req->k * sizeof *labels);
    float *dists = vx_arena_alloc(a, (size_t)req->k * sizeof *dists);
    topk_item *items = vx_arena_alloc(a, (size_t)req->k * sizeof *items);
    uint32_t n = 0;
    filter_ctx fc = {c, f};
    rc = hnsw_search(ix->h, q, req->k, ef, f ? slot_matches : NULL, &fc, slot_row, &fc, labels,
                     dists, &n);
    if (rc) {
        snprintf(err, err_len, "search: %s", vx_strerror(rc));
        return rc;
    }
    if (ix->n_backlog || ix->n_linking) {
        n = coll_index_backlog_merge(ix, c, q, f, req->k, labels, dists, n, items);
    } else {
        /* through a topk, for the exact scan's order: equal scores by slot
         * (insertion order), which the graph's own order does not keep */
        topk order;
        topk_init(&order, items, req->k, ix->metric != VX_METRIC_L2);
        for (uint32_t i = 0; i < n; i++)
            topk_push(&order, ix->metric == VX_METRIC_L2 ? sqrtf(dists[i] > 0 ? dists[i] : 0)
                                                         : -dists[i],
                      labels[i]);
        n = topk_finish(&order);
    }
    emit_hits(ix, c, req, a, out, items, n);
    out->used_index = true;
    out->took_us = vx_now_us() - t0;
    return VX_OK;
}
