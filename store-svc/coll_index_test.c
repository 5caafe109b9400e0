/*
 * coll_index_test.c — hnsw collections end to end through the collection
 * API: recall@10 of coll_search against coll_search_exact above a floor for
 * each metric, after deleting and re-inserting 20 % (within 0.01 of a fresh
 * build), with filters (k results whenever k match; a selective filter takes
 * the exact scan, a broad one the graph), `exact` equal to a brute force in
 * the test, ef limits, rebuild under heavy churn, and the graph surviving a
 * snapshot restore without a rebuild (then taking further upserts, as WAL
 * replay does), and the store's deferred linking (a batch linked under a
 * read lock while searches run; a snapshot taken before the link).
 */
#include "coll_index.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_test_util.h"
#include "vx_err.h"
#include "vx_test.h"

#define DIM 24
#define K 10
#define NQ 200
/* a low ef, so that recall is below 1 and the churn comparison means something */
#define CHURN_EF 12

static collection *mk(vx_metric metric, vx_index_type type, uint32_t m, uint32_t efc)
{
    vx_coll_config cfg = {0};
    cfg.name = "t";
    cfg.dimension = DIM;
    cfg.metric = metric;
    cfg.index.type = type;
    cfg.index.m = m;
    cfg.index.ef_construction = efc;
    collection *c = NULL;
    char err[256];
    return coll_create(&cfg, &c, err, sizeof err) == VX_OK ? c : NULL;
}

/* Gaussian-ish clustered data: 32 centres, point = centre + noise. */
static float *gen(uint32_t n, uint64_t seed)
{
    static float centres[32][DIM];
    uint64_t cs = 0x1234567;
    for (int k = 0; k < 32; k++)
        for (int d = 0; d < DIM; d++)
            centres[k][d] = tu_randf(&cs) * 2.0f;
    float *v = malloc((size_t)n * DIM * sizeof *v);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)(tu_rand(&seed) % 32);
        for (int d = 0; d < DIM; d++)
            v[(size_t)i * DIM + d] =
                centres[k][d] + 0.6f * (tu_randf(&seed) + tu_randf(&seed) + tu_randf(&seed));
    }
    return v;
}

/* Upserts points [from, to) of data as ids "p<i>" with {"i": i, "g": i % 100},
 * in batches of 500 (the 2-thread path). */
static void load(collection *c, const float *data, uint32_t from, uint32_t to)
{
    for (uint32_t b = from; b < to; b += 500) {
        uint32_t n = to - b < 500 ? to - b : 500;
        tu_reset();
        vx_point *p = vx_arena_alloc(&tu_arena, n * sizeof *p);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t id = b + i;
            p[i].id = vx_arena_sprintf(&tu_arena, "p%u", id);
            p[i].vector = data + (size_t)id * DIM;
            p[i].dim = DIM;
            p[i].metadata = tv_obj(2, "i", tv_int(id), "g", tv_int(id % 100));
        }
        char err[256];
        int rc = coll_upsert(c, p, n, err, sizeof err);
        if (rc)
            fprintf(stderr, "upsert: %s\n", err);
    }
}

static void delete_range(collection *c, uint32_t from, uint32_t to, uint32_t step)
{
    tu_reset();
    for (uint32_t i = from; i < to; i += step) {
        const char *id = vx_arena_sprintf(&tu_arena, "p%u", i);
        coll_delete_ids(c, &id, 1);
    }
}

/* filter {"g": {"$lt": lt}} (lt < 0: none) */
static const vx_value *g_below(int lt)
{
    return lt < 0 ? NULL : tv_obj(1, "g", tv_obj(1, "$lt", tv_int(lt)));
}

typedef struct rec {
    double recall;
    uint32_t graph;   /* searches the graph answered */
    uint32_t short_k; /* searches that returned fewer than k hits */
} rec;

/* recall@K of coll_search against coll_search_exact over NQ queries */
static rec measure(const collection *c, const float *queries, uint32_t ef, int lt)
{
    rec r = {0, 0, 0};
    uint32_t hit = 0, total = 0;
    char err[256];
    for (uint32_t q = 0; q < NQ; q++) {
        tu_reset();
        vx_search_req req = {0};
        req.vector = queries + (size_t)q * DIM;
        req.dim = DIM;
        req.k = K;
        req.ef = ef;
        req.filter = g_below(lt);
        vx_search_rep got, want;
        if (coll_search(c, &req, &tu_arena, &got, err, sizeof err) ||
            coll_search_exact(c, &req, &tu_arena, &want, err, sizeof err)) {
            fprintf(stderr, "search: %s\n", err);
            return r;
        }
        r.graph += got.used_index;
        r.short_k += got.n_hits < want.n_hits;
        for (uint32_t i = 0; i < want.n_hits; i++)
            for (uint32_t j = 0; j < got.n_hits; j++)
                if (!strcmp(want.hits[i].id, got.hits[j].id)) {
                    hit++;
                    break;
                }
        total += want.n_hits;
    }
    r.recall = total ? (double)hit / total : 0;
    return r;
}

TEST(coll_index_recall_each_metric)
{
    uint32_t n = 4000;
    float *data = gen(n, 1), *qs = gen(NQ, 99);
    vx_metric ms[] = {VX_METRIC_COSINE, VX_METRIC_DOT, VX_METRIC_L2};
    double floors[] = {0.95, 0.90, 0.95};
    for (int m = 0; m < 3; m++) {
        collection *c = mk(ms[m], VX_INDEX_HNSW, 0, 0);
        ASSERT(c && coll_ann(c));
        load(c, data, 0, n);
        coll_index_stats st;
        coll_index_get_stats(coll_ann(c), &st);
        ASSERT_EQ_INT(st.live, n);
        ASSERT(!st.stale);
        rec r = measure(c, qs, 0, -1);
        printf("    %s: recall@10 %.3f (ef default)\n", vx_metric_name(ms[m]), r.recall);
        ASSERT_EQ_INT(r.graph, NQ); /* the graph answered */
        ASSERT_EQ_INT(r.short_k, 0);
        ASSERT(r.recall >= floors[m]);
        /* scores are the contract's: same as the exact scan for a shared hit */
        tu_reset();
        vx_search_req req = {.vector = qs, .dim = DIM, .k = 1, .ef = 200};
        vx_search_rep a, b;
        char err[256];
        ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &a, err, sizeof err), VX_OK);
        ASSERT_EQ_INT(coll_search_exact(c, &req, &tu_arena, &b, err, sizeof err), VX_OK);
        ASSERT_STR_EQ(a.hits[0].id, b.hits[0].id);
        ASSERT_NEAR(a.hits[0].score, b.hits[0].score, 1e-3 * (1 + fabsf(b.hits[0].score)));
        /* memory includes the graph */
        vx_coll_info info;
        coll_info(c, &tu_arena, &info);
        ASSERT(info.memory_bytes > st.memory_bytes + (uint64_t)n * DIM * sizeof(float));
        coll_destroy(c);
    }
    free(data);
    free(qs);
}

/* Deletes 20 % of the points and inserts them again (same ids and vectors;
 * ids are in random cluster order, so a contiguous id range is a random
 * sample; re-inserted in batches of 500, i.e. by 2 threads): recall stays
 * within 0.01 of a fresh build. heavy: then 3 rounds of replacing half the
 * points, which must trigger a rebuild. */
static void churn_case(vx_metric metric, bool heavy)
{
    uint32_t n = 4000;
    float *data = gen(n, 2), *qs = gen(NQ, 98);
    collection *c = mk(metric, VX_INDEX_HNSW, 0, 0);
    ASSERT(c);
    load(c, data, 0, n);
    delete_range(c, 0, n / 5, 1);
    ASSERT_EQ_INT(coll_count(c), n - n / 5);
    rec r_del = measure(c, qs, CHURN_EF, -1);
    load(c, data, 0, n / 5);
    ASSERT_EQ_INT(coll_count(c), n);
    rec r_churn = measure(c, qs, CHURN_EF, -1);
    collection *fresh = mk(metric, VX_INDEX_HNSW, 0, 0);
    load(fresh, data, 0, n);
    rec r_fresh = measure(fresh, qs, CHURN_EF, -1);
    coll_index_stats st;
    coll_index_get_stats(coll_ann(c), &st);
    printf("    %s ef=%d: after delete %.3f, after re-insert %.3f, fresh %.3f (%llu nodes, "
           "%llu live)\n",
           vx_metric_name(metric), CHURN_EF, r_del.recall, r_churn.recall, r_fresh.recall,
           (unsigned long long)st.nodes, (unsigned long long)st.live);
    ASSERT_EQ_INT(st.live, n);
    ASSERT_EQ_INT(st.nodes, n + n / 5); /* the 20 % are tombstones, no rebuild yet */
    ASSERT(r_del.recall >= r_fresh.recall - 0.05);
    ASSERT_EQ_INT(r_churn.graph, NQ);
    ASSERT(r_churn.recall >= r_fresh.recall - 0.01);
    if (heavy) {
        for (int round = 0; round < 3; round++) {
            delete_range(c, 0, n / 2, 1);
            load(c, data, 0, n / 2);
        }
        coll_index_get_stats(coll_ann(c), &st);
        ASSERT(st.rebuilds >= 1);
        ASSERT(st.nodes < (uint64_t)n * 3 / 2 + 1000);
        ASSERT(measure(c, qs, CHURN_EF, -1).recall >= r_fresh.recall - 0.01);
    }
    coll_destroy(fresh);
    coll_destroy(c);
    free(data);
    free(qs);
}

TEST(coll_index_churn_20pct_keeps_recall)
{
    churn_case(VX_METRIC_COSINE, false);
    churn_case(VX_METRIC_DOT, false);
    churn_case(VX_METRIC_L2, true);
}

TEST(coll_index_filters_switch_paths)
{
    /* enough points that a broad filter matches more than the switch point */
    uint32_t n = COLL_INDEX_EXACT_MATCHES * 2;
    float *data = gen(n, 3), *qs = gen(NQ, 97);
    collection *c = mk(VX_METRIC_COSINE, VX_INDEX_HNSW, 8, 48);
    ASSERT(c);
    load(c, data, 0, n);
    /* broad: 80 % match → filtered inside the graph */
    rec broad = measure(c, qs, 0, 80);
    printf("    broad filter: recall %.3f, %u/%d by the graph\n", broad.recall, broad.graph, NQ);
    ASSERT_EQ_INT(broad.graph, NQ);
    ASSERT_EQ_INT(broad.short_k, 0);
    ASSERT(broad.recall >= 0.9);
    /* selective: 1 % match → exact over the matches, so recall is 1 */
    rec sel = measure(c, qs, 0, 1);
    ASSERT_EQ_INT(sel.graph, 0);
    ASSERT(sel.recall == 1.0);
    ASSERT_EQ_INT(sel.short_k, 0);
    /* k results whenever k match: exactly 10 points left with g < 1 after
     * deleting all but 10 of them... and 3 points match → 3 results */
    for (uint32_t i = 0; i < n; i += 100)
        if (i >= 1000)
            delete_range(c, i, i + 1, 1);
    tu_reset();
    vx_search_req req = {.vector = qs, .dim = DIM, .k = K, .filter = g_below(1)};
    vx_search_rep rep;
    char err[256];
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(rep.n_hits, K);
    delete_range(c, 300, 1000, 100);
    req.filter = g_below(1);
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(rep.n_hits, 3);
    coll_index_stats st;
    coll_index_get_stats(coll_ann(c), &st);
    ASSERT(st.exact_filter >= NQ);
    coll_destroy(c);
    free(data);
    free(qs);
}

TEST(coll_index_exact_flag_is_brute_force)
{
    uint32_t n = 3000;
    float *data = gen(n, 4), *qs = gen(4, 96);
    collection *c = mk(VX_METRIC_DOT, VX_INDEX_HNSW, 0, 0);
    ASSERT(c);
    load(c, data, 0, n);
    for (int q = 0; q < 4; q++) {
        const float *qv = qs + (size_t)q * DIM;
        /* brute force here: the 10 largest dot products */
        uint32_t best[K];
        float bs[K];
        for (int i = 0; i < K; i++)
            bs[i] = -INFINITY, best[i] = 0;
        for (uint32_t i = 0; i < n; i++) {
            float s = 0;
            for (int d = 0; d < DIM; d++)
                s += qv[d] * data[(size_t)i * DIM + d];
            if (s <= bs[K - 1])
                continue;
            int j = K - 1;
            for (; j > 0 && bs[j - 1] < s; j--)
                bs[j] = bs[j - 1], best[j] = best[j - 1];
            bs[j] = s, best[j] = i;
        }
        tu_reset();
        vx_search_req req = {.vector = qv, .dim = DIM, .k = K, .exact = true};
        vx_search_rep rep;
        char err[256];
        ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
        ASSERT(!rep.used_index);
        ASSERT_EQ_INT(rep.n_hits, K);
        for (int i = 0; i < K; i++) {
            ASSERT_STR_EQ(rep.hits[i].id, vx_arena_sprintf(&tu_arena, "p%u", best[i]));
            ASSERT_NEAR(rep.hits[i].score, bs[i], 1e-3);
        }
    }
    coll_destroy(c);
    free(data);
    free(qs);
}

/* API.md: ties are broken by insertion order, also when the graph answers
 * (its own result order among equal scores is arbitrary). */
TEST(coll_index_graph_ties_come_in_insertion_order)
{
    uint32_t n = 3000;
    float *data = gen(n, 5);
    vx_metric metrics[2] = {VX_METRIC_DOT, VX_METRIC_L2};
    for (int m = 0; m < 2; m++) {
        collection *c = mk(metrics[m], VX_INDEX_HNSW, 0, 0);
        ASSERT(c);
        load(c, data, 0, n);
        float twin[DIM];
        for (int d = 0; d < DIM; d++)
            twin[d] = 9.0f;
        for (int i = 0; i < 5; i++) { /* five identical points, one upsert each */
            tu_reset();
            vx_point p = {vx_arena_sprintf(&tu_arena, "twin%d", i), twin, DIM, NULL};
            char err[256];
            ASSERT_EQ_INT(coll_upsert(c, &p, 1, err, sizeof err), VX_OK);
        }
        tu_reset();
        vx_search_req req = {.vector = twin, .dim = DIM, .k = 5, .ef = 64};
        vx_search_rep rep;
        char err[256];
        ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
        ASSERT(rep.used_index);
        ASSERT_EQ_INT(rep.n_hits, 5);
        for (int i = 0; i < 5; i++)
            ASSERT_MSG(!strcmp(rep.hits[i].id, vx_arena_sprintf(&tu_arena, "twin%d", i)),
                       "metric %d: hit %d is %s", m, i, rep.hits[i].id);
        coll_destroy(c);
    }
    free(data);
}

TEST(coll_index_ef_and_small_collections)
{
    uint32_t n = 3000;
    float *data = gen(n, 5), *qs = gen(NQ, 95);
    collection *c = mk(VX_METRIC_L2, VX_INDEX_HNSW, 0, 0);
    ASSERT(c);
    load(c, data, 0, COLL_INDEX_SMALL - 1);
    ASSERT_EQ_INT(measure(c, qs, 0, -1).graph, 0); /* small: exact scan */
    load(c, data, COLL_INDEX_SMALL - 1, n);
    char err[256];
    vx_search_req req = {.vector = qs, .dim = DIM, .k = K, .ef = VX_HNSW_EF_MAX + 1};
    vx_search_rep rep;
    tu_reset();
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "ef"));
    /* ef below k is raised to k: still k hits */
    req.ef = 1;
    req.k = 50;
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(rep.n_hits, 50);
    ASSERT(rep.used_index);
    /* invalid vectors get the exact scan's messages */
    req.dim = DIM - 1;
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "dimension"));
    double lo = measure(c, qs, 10, -1).recall, hi = measure(c, qs, 400, -1).recall;
    printf("    recall ef=10 %.3f, ef=400 %.3f\n", lo, hi);
    ASSERT(hi >= lo && hi >= 0.99);
    /* a flat collection never builds a graph */
    collection *f = mk(VX_METRIC_L2, VX_INDEX_FLAT, 0, 0);
    ASSERT(f && !coll_ann(f));
    coll_destroy(f);
    coll_destroy(c);
    free(data);
    free(qs);
}

/* Copies c into a new collection through the restore API (what
 * coll_snapshot.c does), with the saved graph or without it. */
static collection *restore_copy(const collection *c, bool with_graph)
{
    collection *r = mk(coll_config(c)->metric, VX_INDEX_HNSW, coll_config(c)->index.m,
                       coll_config(c)->index.ef_construction);
    uint32_t n = coll_n_slots(c);
    if (!r || coll_restore_begin(r, n))
        return NULL;
    coll_restore_vectors(r, coll_slot_vector(c, 0), coll_slot_search_vector(c, 0));
    for (uint32_t s = 0; s < n; s++) {
        const char *id = coll_slot_id(c, s);
        uint32_t len;
        const unsigned char *meta = coll_slot_meta(c, s, &len);
        if (id && coll_restore_slot(r, s, id, strlen(id), meta, len))
            return NULL;
    }
    vx_buf b = VX_BUF_INIT;
    if (with_graph && coll_ann_save(c, &b))
        return NULL;
    int rc = coll_restore_end(r, b.data, b.len);
    vx_buf_free(&b);
    return rc ? NULL : r;
}

TEST(coll_index_restore_keeps_graph_and_takes_replay)
{
    uint32_t n = 3000;
    float *data = gen(n + 500, 6), *qs = gen(NQ, 94);
    collection *c = mk(VX_METRIC_COSINE, VX_INDEX_HNSW, 12, 100);
    ASSERT(c);
    load(c, data, 0, n);
    delete_range(c, 0, n, 7);
    collection *r = restore_copy(c, true);
    ASSERT(r);
    coll_index_stats st;
    coll_index_get_stats(coll_ann(r), &st);
    ASSERT(st.loaded);
    ASSERT_EQ_INT(st.rebuilds, 0);
    ASSERT_EQ_INT(st.live, coll_count(c));
    /* the same graph answers the same */
    for (uint32_t q = 0; q < 10; q++) {
        tu_reset();
        vx_search_req req = {.vector = qs + (size_t)q * DIM, .dim = DIM, .k = K};
        vx_search_rep a, b;
        char err[256];
        ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &a, err, sizeof err), VX_OK);
        ASSERT_EQ_INT(coll_search(r, &req, &tu_arena, &b, err, sizeof err), VX_OK);
        ASSERT(a.used_index && b.used_index);
        ASSERT_EQ_INT(a.n_hits, b.n_hits);
        for (uint32_t i = 0; i < a.n_hits; i++)
            ASSERT_STR_EQ(a.hits[i].id, b.hits[i].id);
    }
    /* replay: later upserts go into the loaded graph */
    load(r, data, n, n + 500);
    coll_index_get_stats(coll_ann(r), &st);
    ASSERT_EQ_INT(st.live, coll_count(r));
    ASSERT(measure(r, qs, 0, -1).recall >= 0.95);
    /* without a saved graph: rebuilt from the rows */
    collection *r2 = restore_copy(c, false);
    ASSERT(r2);
    coll_index_get_stats(coll_ann(r2), &st);
    ASSERT(!st.loaded);
    ASSERT_EQ_INT(st.rebuilds, 1);
    ASSERT_EQ_INT(st.live, coll_count(c));
    coll_destroy(r2);
    coll_destroy(r);
    coll_destroy(c);
    free(data);
    free(qs);
}

typedef struct sctx {
    const collection *c;
    const float *qs;
    int bad;
} sctx;

static void *searcher(void *p)
{
    sctx *s = p;
    vx_arena a;
    vx_arena_init(&a, 1 << 14);
    for (int it = 0; it < 200; it++) {
        vx_arena_reset(&a);
        vx_search_req req = {.vector = s->qs + (size_t)(it % NQ) * DIM, .dim = DIM, .k = K};
        req.filter = NULL;
        vx_search_rep rep;
        char err[256];
        if (coll_search(s->c, &req, &a, &rep, err, sizeof err) || rep.n_hits != K)
            s->bad++;
    }
    vx_arena_fini(&a);
    return NULL;
}

TEST(coll_index_concurrent_searches)
{
    uint32_t n = 3000;
    float *data = gen(n, 7), *qs = gen(NQ, 93);
    collection *c = mk(VX_METRIC_L2, VX_INDEX_HNSW, 0, 0);
    ASSERT(c);
    load(c, data, 0, n);
    sctx s[2] = {{c, qs, 0}, {c, qs, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ASSERT_EQ_INT(pthread_create(&th[i], NULL, searcher, &s[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ASSERT_EQ_INT(s[0].bad + s[1].bad, 0);
    coll_destroy(c);
    free(data);
    free(qs);
}

/* Upserts points [from, to) as one deferred batch; returns its slots. */
static uint32_t *upsert_deferred(collection *c, const float *data, uint32_t from, uint32_t to,
                                 uint32_t *n_link)
{
    tu_reset();
    uint32_t n = to - from;
    vx_point *p = vx_arena_alloc(&tu_arena, n * sizeof *p);
    for (uint32_t i = 0; i < n; i++) {
        p[i].id = vx_arena_sprintf(&tu_arena, "p%u", from + i);
        p[i].vector = data + (size_t)(from + i) * DIM;
        p[i].dim = DIM;
    }
    uint32_t *link = NULL;
    char err[256];
    if (coll_upsert_deferred(c, p, n, &link, n_link, err, sizeof err) != VX_OK) {
        fprintf(stderr, "upsert: %s\n", err);
        return NULL;
    }
    return link;
}

typedef struct link_job {
    collection *c;
    uint32_t *link, n;
} link_job;

static void *linker(void *p)
{
    link_job *j = p;
    coll_link(j->c, j->link, j->n);
    return NULL;
}

/* What the store's upsert does: rows applied under the write lock, the
 * graph linked under a read lock while searches run (k hits each, no
 * crash; run under TSan by make tsan-test); afterwards every point is in the
 * graph and recall holds. */
TEST(coll_index_deferred_link_runs_beside_searches)
{
    uint32_t n = 3000, extra = 1000; /* VX_MAX_BATCH */
    float *data = gen(n + extra, 8), *qs = gen(NQ, 92);
    collection *c = mk(VX_METRIC_COSINE, VX_INDEX_HNSW, 0, 0);
    ASSERT(c);
    load(c, data, 0, n);
    link_job j = {c, NULL, 0};
    j.link = upsert_deferred(c, data, n, n + extra, &j.n);
    ASSERT(j.link);
    ASSERT_EQ_INT(j.n, extra);
    coll_index_stats st;
    coll_index_get_stats(coll_ann(c), &st);
    ASSERT_EQ_INT(st.live, n); /* not linked yet */
    sctx s = {c, qs, 0};
    pthread_t lt, stt;
    ASSERT_EQ_INT(pthread_create(&lt, NULL, linker, &j), 0);
    ASSERT_EQ_INT(pthread_create(&stt, NULL, searcher, &s), 0);
    pthread_join(lt, NULL);
    pthread_join(stt, NULL);
    ASSERT_EQ_INT(s.bad, 0);
    coll_index_get_stats(coll_ann(c), &st);
    ASSERT_EQ_INT(st.live, n + extra);
    ASSERT_EQ_INT(st.rebuilds, 0);
    ASSERT(measure(c, qs, 0, -1).recall >= 0.95);
    coll_destroy(c);
    free(data);
    free(qs);
}

/* A snapshot taken between an upsert and its link (the graph lacks the
 * batch) restores without a rebuild: the missing points are linked while
 * loading. A deferred batch whose points were deleted before the link
 * leaves nothing in the graph. */
TEST(coll_index_restore_links_points_missing_from_the_graph)
{
    uint32_t n = 3000, extra = 600;
    float *data = gen(n + extra, 9), *qs = gen(NQ, 91);
    collection *c = mk(VX_METRIC_L2, VX_INDEX_HNSW, 0, 0);
    ASSERT(c);
    load(c, data, 0, n);
    uint32_t n_link = 0;
    uint32_t *link = upsert_deferred(c, data, n, n + extra, &n_link);
    ASSERT(link);
    collection *r = restore_copy(c, true); /* snapshot before the link */
    ASSERT(r);
    coll_index_stats st;
    coll_index_get_stats(coll_ann(r), &st);
    ASSERT(st.loaded);
    ASSERT_EQ_INT(st.rebuilds, 0);
    ASSERT_EQ_INT(st.live, n + extra);
    ASSERT(measure(r, qs, 0, -1).recall >= 0.95);
    /* deleted before its link: skipped */
    delete_range(c, n, n + extra, 1);
    coll_link(c, link, n_link);
    coll_index_get_stats(coll_ann(c), &st);
    ASSERT_EQ_INT(st.live, n);
    ASSERT_EQ_INT(st.live, coll_count(c));
    coll_destroy(r);
    coll_destroy(c);
    free(data);
    free(qs);
}

/* Searches with point i's own vector; true when p<i> comes back first. */
static bool finds_itself(const collection *c, const float *v, const char *id, bool *graph)
{
    tu_reset();
    vx_search_req req = {.vector = v, .dim = DIM, .k = K};
    vx_search_rep rep;
    char err[256];
    if (coll_search(c, &req, &tu_arena, &rep, err, sizeof err) != VX_OK || rep.n_hits == 0)
        return false;
    *graph = rep.used_index;
    return strcmp(rep.hits[0].id, id) == 0;
}

/* What WAL replay does (coll_index.h, "links deferred by WAL replay"):
 * links are queued while records apply; at the end overwrites of graph
 * nodes are linked at once and the rest waits. Meanwhile the graph path
 * finds every queued point (exact scores merged in), never a deleted one,
 * and keeps its recall; the rebuilder's take/link/done rounds then link
 * everything. */
TEST(coll_index_replayed_backlog_is_searchable_then_linked)
{
    const uint32_t base = 3000, tail = 3000;
    float *data = gen(base + tail, 77), *qs = gen(NQ, 78);
    collection *c = mk(VX_METRIC_L2, VX_INDEX_HNSW, 16, 100);
    ASSERT(c != NULL);
    coll_index *ix = coll_ann_mut(c);
    load(c, data, 0, base);
    coll_index_defer_links(ix);
    load(c, data, base, base + tail);
    delete_range(c, base, base + 50, 10); /* 5 queued points deleted */
    float moved[DIM];                      /* p1 (a graph node) overwritten */
    for (int d = 0; d < DIM; d++)
        moved[d] = data[DIM + d] + 7.0f;
    tu_reset();
    vx_point p = {.id = "p1", .vector = moved, .dim = DIM};
    char err[256];
    ASSERT_EQ_INT(coll_upsert(c, &p, 1, err, sizeof err), VX_OK);
    coll_index_end_deferred_links(ix, c);

    uint32_t queued = coll_index_backlog_size(ix);
    ASSERT_EQ_INT(queued, tail - 5);
    coll_index_stats st;
    coll_index_get_stats(ix, &st);
    ASSERT_EQ_INT(st.live, base); /* only the overwrite was linked */
    bool graph = false;
    ASSERT(finds_itself(c, moved, "p1", &graph) && graph);
    for (uint32_t i = base + 50; i < base + tail; i += 37) {
        char id[16];
        snprintf(id, sizeof id, "p%u", i);
        ASSERT_MSG(finds_itself(c, data + (size_t)i * DIM, id, &graph), "queued %s not found", id);
        ASSERT(graph); /* the graph path answered, with the queue merged in */
    }
    ASSERT(!finds_itself(c, data + (size_t)base * DIM, "p3000", &graph)); /* deleted */
    rec r = measure(c, qs, 0, -1);
    ASSERT_EQ_INT(r.graph, NQ);
    ASSERT(r.recall >= 0.95);
    rec rf = measure(c, qs, 0, 50); /* filtered: k results whenever k match */
    ASSERT_EQ_INT(rf.short_k, 0);

    /* the rebuilder's rounds */
    uint32_t rounds = 0;
    while (coll_index_backlog_size(ix)) {
        uint32_t *slots = NULL, n = 0;
        ASSERT_EQ_INT(coll_index_backlog_take(ix, COLL_INDEX_BACKLOG_CHUNK, &slots, &n), VX_OK);
        ASSERT(n > 0 && n <= COLL_INDEX_BACKLOG_CHUNK);
        coll_link(c, slots, n);
        coll_index_backlog_done(ix);
        rounds++;
    }
    ASSERT_EQ_INT(rounds, (queued + COLL_INDEX_BACKLOG_CHUNK - 1) / COLL_INDEX_BACKLOG_CHUNK);
    coll_index_get_stats(ix, &st);
    ASSERT_EQ_INT(st.live, base + tail - 5);
    for (uint32_t i = base + 50; i < base + tail; i += 37) {
        char id[16];
        snprintf(id, sizeof id, "p%u", i);
        ASSERT(finds_itself(c, data + (size_t)i * DIM, id, &graph) && graph);
    }
    r = measure(c, qs, 0, -1);
    ASSERT(r.recall >= 0.95);
    coll_destroy(c);
    free(data);
    free(qs);
}

/* A small replayed tail (under COLL_INDEX_BACKLOG_SYNC) is linked when the
 * replay ends: nothing is left for the rebuilder. */
TEST(coll_index_small_replayed_tail_links_at_once)
{
    float *data = gen(2600, 79);
    collection *c = mk(VX_METRIC_COSINE, VX_INDEX_HNSW, 0, 0);
    coll_index *ix = coll_ann_mut(c);
    load(c, data, 0, 2500);
    coll_index_defer_links(ix);
    load(c, data, 2500, 2600);
    coll_index_stats st;
    coll_index_get_stats(ix, &st);
    ASSERT_EQ_INT(st.live, 2500); /* queued, not linked */
    coll_index_end_deferred_links(ix, c);
    ASSERT_EQ_INT(coll_index_backlog_size(ix), 0);
    coll_index_get_stats(ix, &st);
    ASSERT_EQ_INT(st.live, 2600);
    coll_destroy(c);
    free(data);
}

/* A snapshot taken while many replayed points were still queued: its
 * restore adopts the graph and queues the live slots it lacks (as a replay
 * would) instead of linking them all before the store can answer. */
TEST(coll_index_restore_queues_many_missing_points)
{
    uint32_t n = 3000, extra = 2500;
    float *data = gen(n + extra, 93);
    collection *c = mk(VX_METRIC_L2, VX_INDEX_HNSW, 0, 0);
    ASSERT(c);
    load(c, data, 0, n);
    coll_index_defer_links(coll_ann_mut(c));
    load(c, data, n, n + extra);
    coll_index_end_deferred_links(coll_ann_mut(c), c);
    ASSERT_EQ_INT(coll_index_backlog_size(coll_ann(c)), extra);
    collection *r = restore_copy(c, true); /* the graph of n, the slots of n + extra */
    ASSERT(r);
    coll_index *ix = coll_ann_mut(r);
    coll_index_stats st;
    coll_index_get_stats(ix, &st);
    ASSERT(st.loaded);
    ASSERT_EQ_INT(st.rebuilds, 0);
    ASSERT_EQ_INT(st.live, n);
    ASSERT_EQ_INT(coll_index_backlog_size(ix), extra);
    bool graph = false;
    ASSERT(finds_itself(r, data + (size_t)(n + 7) * DIM, "p3007", &graph) && graph);
    coll_index_end_deferred_links(ix, r); /* what the replay's end does */
    ASSERT_EQ_INT(coll_index_backlog_size(ix), extra);
    ASSERT(finds_itself(r, data + (size_t)(n + 7) * DIM, "p3007", &graph) && graph);
    coll_destroy(r);
    coll_destroy(c);
    free(data);
}
