/*
 * collection_test.c — one collection end to end: upsert/get bit-exact,
 * all-or-nothing batches, deletes, pagination stable across writes, and
 * exact search against a brute-force reference (3 metrics, with and
 * without filters).
 */
#include "collection.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_test_util.h"
#include "vx_err.h"
#include "vx_test.h"

static collection *mk_coll(const char *name, uint32_t dim, vx_metric metric)
{
    vx_coll_config cfg = {0};
    cfg.name = name;
    cfg.dimension = dim;
    cfg.metric = metric;
    cfg.index.type = VX_INDEX_FLAT;
    collection *c = NULL;
    char err[256];
    if (coll_create(&cfg, &c, err, sizeof err) != VX_OK)
        return NULL;
    return c;
}

static float *rand_vec(uint32_t dim, uint64_t *seed)
{
    float *v = vx_arena_alloc(&tu_arena, dim * sizeof *v);
    for (uint32_t i = 0; i < dim; i++)
        v[i] = tu_randf(seed);
    return v;
}

static char *id_of(int i) { return vx_arena_sprintf(&tu_arena, "p%d", i); }

/* n points p<base>..: vector random, metadata {"i": i, "group": i % 10} */
static vx_point *mk_points(int base, int n, uint32_t dim, uint64_t *seed)
{
    vx_point *p = vx_arena_alloc(&tu_arena, (size_t)n * sizeof *p);
    for (int i = 0; i < n; i++) {
        p[i].id = id_of(base + i);
        p[i].vector = rand_vec(dim, seed);
        p[i].dim = dim;
        p[i].metadata = tv_obj(2, "i", tv_int(base + i), "group", tv_int((base + i) % 10));
    }
    return p;
}

TEST(coll_upsert_get_bit_exact)
{
    tu_reset();
    vx_metric ms[] = {VX_METRIC_COSINE, VX_METRIC_DOT, VX_METRIC_L2};
    for (int m = 0; m < 3; m++) {
        collection *c = mk_coll("c", 4, ms[m]);
        ASSERT(c);
        float v[4] = {3.0f, 0.1f, -7.25f, 1e-7f};
        vx_point p = {"a/b é", v, 4, tv_obj(1, "k", tv_str("v"))};
        char err[256];
        ASSERT_EQ_INT(coll_upsert(c, &p, 1, err, sizeof err), VX_OK);
        vx_point got;
        ASSERT_EQ_INT(coll_get(c, "a/b é", true, &tu_arena, &got), VX_OK);
        ASSERT(memcmp(got.vector, v, sizeof v) == 0); /* as sent, even for cosine */
        ASSERT_STR_EQ(got.id, "a/b é");
        ASSERT(got.metadata && got.metadata->type == VX_VAL_OBJECT);
        ASSERT(vx_value_equal(got.metadata, p.metadata));
        ASSERT_EQ_INT(coll_get(c, "a/b é", false, &tu_arena, &got), VX_OK);
        ASSERT(got.vector == NULL);
        ASSERT_EQ_INT(coll_get(c, "nope", true, &tu_arena, &got), VX_ERR_NOT_FOUND);
        /* overwrite in place: new vector, no metadata */
        float w[4] = {1, 2, 3, 4};
        vx_point q = {"a/b é", w, 4, NULL};
        ASSERT_EQ_INT(coll_upsert(c, &q, 1, err, sizeof err), VX_OK);
        ASSERT_EQ_INT(coll_count(c), 1);
        ASSERT_EQ_INT(coll_n_slots(c), 1);
        ASSERT_EQ_INT(coll_get(c, "a/b é", true, &tu_arena, &got), VX_OK);
        ASSERT(memcmp(got.vector, w, sizeof w) == 0);
        ASSERT(got.metadata == NULL);
        coll_destroy(c);
    }
}

static void expect_upsert_error(collection *c, vx_point *p, uint32_t n, const char *msg)
{
    char err[256] = "";
    uint64_t before = coll_count(c);
    int rc = coll_upsert(c, p, n, err, sizeof err);
    if (rc == VX_OK || !strstr(err, msg))
        vx_test_fail(__FILE__, __LINE__, "want error \"%s\", got %d \"%s\"", msg, rc, err);
    if (coll_count(c) != before)
        vx_test_fail(__FILE__, __LINE__, "count changed after a failed upsert (%s)", msg);
}

TEST(coll_upsert_all_or_nothing)
{
    tu_reset();
    uint64_t seed = 1;
    collection *c = mk_coll("c", 4, VX_METRIC_COSINE);
    ASSERT(c);
    char err[256];
    vx_point *first = mk_points(0, 1, 4, &seed);
    float orig[4];
    memcpy(orig, first[0].vector, sizeof orig);
    ASSERT_EQ_INT(coll_upsert(c, first, 1, err, sizeof err), VX_OK);

    vx_point *p = mk_points(0, 5, 4, &seed); /* p0 (existing) .. p4 */
    p[3].dim = 3;
    expect_upsert_error(c, p, 5, "points[3].vector: dimension 3, expected 4");
    p[3].dim = 4;
    float *bad = rand_vec(4, &seed);
    bad[2] = NAN;
    const float *keep = p[4].vector;
    p[4].vector = bad;
    expect_upsert_error(c, p, 5, "points[4].vector[2]: not a finite number");
    bad[2] = INFINITY;
    expect_upsert_error(c, p, 5, "points[4].vector[2]: not a finite number");
    memset(bad, 0, 4 * sizeof *bad);
    expect_upsert_error(c, p, 5, "points[4].vector: vector has zero norm");
    p[4].vector = keep;
    p[2].metadata = tv_int(3);
    expect_upsert_error(c, p, 5, "points[2].metadata: expected an object");
    p[2].metadata = NULL;
    char *longid = vx_arena_alloc(&tu_arena, VX_MAX_ID_LEN + 2);
    memset(longid, 'x', VX_MAX_ID_LEN + 1);
    p[1].id = longid;
    expect_upsert_error(c, p, 5, "points[1].id: length 257");
    p[1].id = "\xff\xfe";
    expect_upsert_error(c, p, 5, "points[1].id: not valid UTF-8");
    p[1].id = "";
    expect_upsert_error(c, p, 5, "points[1].id");
    p[1].id = "p1";
    /* big metadata */
    vx_value *big = tv_new(VX_VAL_STRING);
    big->u.str.len = VX_MAX_METADATA_BYTES;
    big->u.str.ptr = vx_arena_alloc(&tu_arena, VX_MAX_METADATA_BYTES);
    p[2].metadata = tv_obj(1, "blob", big);
    expect_upsert_error(c, p, 5, "points[2].metadata:");
    p[2].metadata = NULL;

    /* nothing was written: p0 still has its original vector, p1..p4 absent */
    vx_point got;
    ASSERT_EQ_INT(coll_get(c, "p0", true, &tu_arena, &got), VX_OK);
    ASSERT(memcmp(got.vector, orig, sizeof orig) == 0);
    for (int i = 1; i < 5; i++)
        ASSERT_EQ_INT(coll_get(c, id_of(i), false, &tu_arena, &got), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(coll_count(c), 1);

    /* the fixed batch goes in */
    ASSERT_EQ_INT(coll_upsert(c, p, 5, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(coll_count(c), 5);
    coll_destroy(c);
}

TEST(coll_duplicate_ids_last_wins)
{
    tu_reset();
    collection *c = mk_coll("c", 2, VX_METRIC_L2);
    ASSERT(c);
    float a[2] = {1, 1}, b[2] = {2, 2};
    vx_point p[2] = {{"x", a, 2, NULL}, {"x", b, 2, tv_obj(1, "v", tv_int(2))}};
    char err[256];
    ASSERT_EQ_INT(coll_upsert(c, p, 2, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(coll_count(c), 1);
    vx_point got;
    ASSERT_EQ_INT(coll_get(c, "x", true, &tu_arena, &got), VX_OK);
    ASSERT(got.vector[0] == 2.0f && got.metadata);
    coll_destroy(c);
}

TEST(coll_delete_ids_and_filter)
{
    tu_reset();
    uint64_t seed = 3;
    collection *c = mk_coll("c", 8, VX_METRIC_DOT);
    ASSERT(c);
    char err[256];
    ASSERT_EQ_INT(coll_upsert(c, mk_points(0, 100, 8, &seed), 100, err, sizeof err), VX_OK);
    uint64_t mem_before;
    vx_coll_info info;
    coll_info(c, &tu_arena, &info);
    mem_before = info.memory_bytes;
    ASSERT(mem_before >= 100 * 8 * sizeof(float));
    const char *ids[] = {"p1", "p2", "nope", "p1"};
    ASSERT_EQ_INT(coll_delete_ids(c, ids, 4), 2);
    ASSERT_EQ_INT(coll_count(c), 98);
    vx_point got;
    ASSERT_EQ_INT(coll_get(c, "p1", false, &tu_arena, &got), VX_ERR_NOT_FOUND);
    uint32_t n;
    ASSERT_EQ_INT(coll_delete_filter(c, tv_obj(1, "group", tv_int(3)), &tu_arena, &n, err,
                                     sizeof err),
                  VX_OK);
    ASSERT_EQ_INT(n, 10);
    ASSERT_EQ_INT(coll_count(c), 88);
    ASSERT_EQ_INT(coll_get(c, "p13", false, &tu_arena, &got), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(coll_get(c, "p14", false, &tu_arena, &got), VX_OK);
    ASSERT(coll_delete_filter(c, tv_obj(0), &tu_arena, &n, err, sizeof err) == VX_ERR_INVALID);
    ASSERT(coll_delete_filter(c, tv_obj(1, "g", tv_obj(1, "$bad", tv_int(1))), &tu_arena, &n, err,
                              sizeof err) == VX_ERR_INVALID);
    ASSERT(strstr(err, "filter.g.$bad"));
    /* a deleted id comes back as a new point */
    vx_point *again = mk_points(1, 1, 8, &seed);
    ASSERT_EQ_INT(coll_upsert(c, again, 1, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(coll_get(c, "p1", true, &tu_arena, &got), VX_OK);
    ASSERT(memcmp(got.vector, again[0].vector, 8 * sizeof(float)) == 0);
    ASSERT_EQ_INT(coll_count(c), 89);
    coll_destroy(c);
}

TEST(coll_list_pagination_stable_across_writes)
{
    tu_reset();
    uint64_t seed = 5;
    collection *c = mk_coll("c", 3, VX_METRIC_L2);
    ASSERT(c);
    char err[256];
    const int N = 250;
    ASSERT_EQ_INT(coll_upsert(c, mk_points(0, N, 3, &seed), (uint32_t)N, err, sizeof err), VX_OK);
    int seen[1000] = {0};
    int deleted[1000] = {0};
    const char *cursor = NULL;
    int pages = 0;
    vx_list_rep page;
    do {
        ASSERT_EQ_INT(coll_list(c, cursor, 7, false, &tu_arena, &page, err, sizeof err), VX_OK);
        for (uint32_t i = 0; i < page.n_points; i++) {
            int k = atoi(page.points[i].id + 1);
            ASSERT_MSG(!seen[k], "id %s listed twice", page.points[i].id);
            ASSERT_MSG(!deleted[k], "deleted id %s listed", page.points[i].id);
            seen[k] = 1;
            ASSERT(page.points[i].metadata != NULL);
        }
        /* between pages: delete one seen and one unseen point, insert one new */
        int a = pages * 3 % N, b = (pages * 7 + 100) % N;
        const char *del[2] = {id_of(a), id_of(b)};
        coll_delete_ids(c, del, 2);
        deleted[a] = deleted[b] = 1;
        vx_point *np = mk_points(N + pages, 1, 3, &seed);
        ASSERT_EQ_INT(coll_upsert(c, np, 1, err, sizeof err), VX_OK);
        /* an update of an existing point keeps its place */
        vx_point *up = mk_points(pages % N, 1, 3, &seed);
        if (!deleted[pages % N])
            ASSERT_EQ_INT(coll_upsert(c, up, 1, err, sizeof err), VX_OK);
        cursor = page.next_cursor;
        pages++;
        ASSERT(pages < 200);
    } while (cursor);
    for (int k = 0; k < N; k++)
        ASSERT_MSG(seen[k] || deleted[k], "surviving point p%d was skipped", k);
    /* with_vector returns vectors; malformed cursors are refused */
    ASSERT_EQ_INT(coll_list(c, NULL, 5, true, &tu_arena, &page, err, sizeof err), VX_OK);
    ASSERT(page.n_points == 5 && page.points[0].vector && page.next_cursor);
    const char *tag = strchr(page.next_cursor, '.'); /* this collection's */
    ASSERT(tag);
    ASSERT_EQ_INT(coll_list(c, "garbage!", 5, false, &tu_arena, &page, err, sizeof err),
                  VX_ERR_INVALID);
    ASSERT(strstr(err, "cursor"));
    char cur[64];
    snprintf(cur, sizeof cur, "szzzzzzzzzzzz%s", tag);
    ASSERT_EQ_INT(coll_list(c, cur, 5, false, &tu_arena, &page, err, sizeof err), VX_ERR_INVALID);
    snprintf(cur, sizeof cur, "s%s", tag);
    ASSERT_EQ_INT(coll_list(c, cur, 5, false, &tu_arena, &page, err, sizeof err), VX_ERR_INVALID);
    ASSERT_EQ_INT(coll_list(c, "s5", 5, false, &tu_arena, &page, err, sizeof err), VX_ERR_INVALID);
    /* a cursor past the end is an empty last page */
    snprintf(cur, sizeof cur, "szzzz%s", tag);
    ASSERT_EQ_INT(coll_list(c, cur, 5, false, &tu_arena, &page, err, sizeof err), VX_OK);
    ASSERT(page.n_points == 0 && page.next_cursor == NULL);
    /* another collection's cursor is refused */
    collection *other = mk_coll("other", 4, VX_METRIC_L2);
    ASSERT(other);
    snprintf(cur, sizeof cur, "s1%s", tag);
    ASSERT_EQ_INT(coll_list(other, cur, 5, false, &tu_arena, &page, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "cursor: not a cursor returned by this collection"));
    coll_destroy(other);
    coll_destroy(c);
}

/* Reference score of row v against query q for a metric (double precision). */
static double ref_score(vx_metric m, const float *q, const float *v, uint32_t dim)
{
    double dot = 0, qq = 0, vv = 0, l2 = 0;
    for (uint32_t i = 0; i < dim; i++) {
        dot += (double)q[i] * v[i];
        qq += (double)q[i] * q[i];
        vv += (double)v[i] * v[i];
        l2 += ((double)q[i] - v[i]) * ((double)q[i] - v[i]);
    }
    if (m == VX_METRIC_COSINE)
        return dot / sqrt(qq * vv);
    if (m == VX_METRIC_DOT)
        return dot;
    return sqrt(l2);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Checks one search against brute force: the i-th score equals the i-th
 * best reference score, every hit's score is its true score, every hit
 * matches the filter predicate, ids are unique. */
static int check_search(collection *c, vx_metric m, vx_point *pts, int n, const int *alive,
                        const float *q, uint32_t dim, uint32_t k, int group, char *why)
{
    vx_search_req req = {0};
    req.collection = "c";
    req.vector = q;
    req.dim = dim;
    req.k = k;
    req.with_metadata = true;
    if (group >= 0)
        req.filter = tv_obj(1, "group", tv_obj(1, "$in", tv_arr(2, tv_int(group), tv_int(group + 1))));
    vx_search_rep rep;
    char err[200];
    if (coll_search(c, &req, &tu_arena, &rep, err, sizeof err) != VX_OK) {
        snprintf(why, 256, "search failed: %s", err);
        return 0;
    }
    double *ref = malloc((size_t)n * sizeof *ref);
    int nr = 0;
    double sign = m == VX_METRIC_L2 ? -1 : 1; /* sort best first */
    for (int i = 0; i < n; i++) {
        int g = i % 10;
        if (!alive[i] || (group >= 0 && g != group && g != group + 1))
            continue;
        ref[nr++] = sign * ref_score(m, q, pts[i].vector, dim);
    }
    qsort(ref, (size_t)nr, sizeof *ref, cmp_desc);
    int ok = 1;
    uint32_t want = (uint32_t)nr < k ? (uint32_t)nr : k;
    if (rep.n_hits != want) {
        snprintf(why, 256, "got %u hits, want %u", rep.n_hits, want);
        ok = 0;
    }
    for (uint32_t i = 0; ok && i < rep.n_hits; i++) {
        int idx = atoi(rep.hits[i].id + 1);
        double truth = ref_score(m, q, pts[idx].vector, dim);
        double tol = 1e-4 * (1 + fabs(truth));
        if (fabs(rep.hits[i].score - truth) > tol || fabs(sign * rep.hits[i].score - ref[i]) > tol) {
            snprintf(why, 256, "rank %u: %s score %.7g, true %.7g, ref rank score %.7g", i,
                     rep.hits[i].id, rep.hits[i].score, truth, sign * ref[i]);
            ok = 0;
        }
        if (ok && group >= 0 && idx % 10 != group && idx % 10 != group + 1) {
            snprintf(why, 256, "hit %s does not match the filter", rep.hits[i].id);
            ok = 0;
        }
        if (ok && !rep.hits[i].metadata) {
            snprintf(why, 256, "hit %s lacks metadata", rep.hits[i].id);
            ok = 0;
        }
        for (uint32_t j = 0; ok && j < i; j++)
            if (strcmp(rep.hits[i].id, rep.hits[j].id) == 0) {
                snprintf(why, 256, "duplicate hit %s", rep.hits[i].id);
                ok = 0;
            }
    }
    free(ref);
    return ok;
}

TEST(coll_exact_search_matches_brute_force)
{
    vx_metric ms[] = {VX_METRIC_COSINE, VX_METRIC_DOT, VX_METRIC_L2};
    const uint32_t dim = 37; /* odd: exercises kernel tails */
    const int n = 5000;      /* > FLAT_BLOCK and > FLAT_BOUNDED_MIN_SLOTS: the bounded scan */
    for (int m = 0; m < 3; m++) {
        tu_reset();
        uint64_t seed = 11 + (uint64_t)m;
        collection *c = mk_coll("c", dim, ms[m]);
        ASSERT(c);
        vx_point *pts = mk_points(0, n, dim, &seed);
        char err[256];
        for (int b = 0; b < n; b += 1000)
            ASSERT_EQ_INT(coll_upsert(c, pts + b, 1000, err, sizeof err), VX_OK);
        int *alive = malloc((size_t)n * sizeof *alive);
        for (int i = 0; i < n; i++)
            alive[i] = 1;
        /* tombstones must be skipped */
        for (int i = 0; i < n; i += 7) {
            const char *id = pts[i].id;
            coll_delete_ids(c, &id, 1);
            alive[i] = 0;
        }
        char why[256] = "";
        uint32_t ks[] = {1, 10, 100};
        for (int t = 0; t < 6; t++) {
            float *q = rand_vec(dim, &seed);
            for (int ki = 0; ki < 3; ki++) {
                int ok = check_search(c, ms[m], pts, n, alive, q, dim, ks[ki], -1, why) &&
                         check_search(c, ms[m], pts, n, alive, q, dim, ks[ki], t, why);
                if (!ok) {
                    free(alive);
                    coll_destroy(c);
                }
                ASSERT_MSG(ok, "metric %s k=%u: %s", (const char *[]){"cosine", "dot", "l2"}[m], ks[ki], why);
            }
        }
        free(alive);
        coll_destroy(c);
    }
}

TEST(coll_filtered_search_returns_k_when_k_match)
{
    tu_reset();
    uint64_t seed = 99;
    collection *c = mk_coll("c", 16, VX_METRIC_COSINE);
    ASSERT(c);
    char err[256];
    for (int b = 0; b < 5000; b += 1000)
        ASSERT_EQ_INT(coll_upsert(c, mk_points(b, 1000, 16, &seed), 1000, err, sizeof err), VX_OK);
    /* exactly 12 points have i < 12: a rare filter */
    vx_search_req req = {0};
    req.vector = rand_vec(16, &seed);
    req.dim = 16;
    req.k = 10;
    req.filter = tv_obj(1, "i", tv_obj(1, "$lt", tv_int(12)));
    vx_search_rep rep;
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(rep.n_hits, 10);
    for (uint32_t i = 0; i < rep.n_hits; i++) {
        ASSERT(atoi(rep.hits[i].id + 1) < 12);
        ASSERT(rep.hits[i].metadata == NULL); /* not requested */
        if (i)
            ASSERT(rep.hits[i].score <= rep.hits[i - 1].score);
    }
    req.k = 50; /* fewer match than k: all of them */
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(rep.n_hits, 12);
    /* with_vector returns the vector as sent */
    req.filter = tv_obj(1, "i", tv_int(7));
    req.k = 3;
    req.with_vector = true;
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(rep.n_hits, 1);
    vx_point got;
    ASSERT_EQ_INT(coll_get(c, "p7", true, &tu_arena, &got), VX_OK);
    ASSERT(rep.hits[0].vector && memcmp(rep.hits[0].vector, got.vector, 16 * sizeof(float)) == 0);
    /* bad requests name the field */
    req.dim = 15;
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "vector: dimension 15, expected 16"));
    req.dim = 16;
    req.k = 0;
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "k:"));
    req.k = 5;
    req.filter = tv_obj(1, "i", tv_obj(1, "$gt", tv_arr(0)));
    ASSERT_EQ_INT(coll_search(c, &req, &tu_arena, &rep, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "filter.i.$gt"));
    coll_destroy(c);
}

TEST(coll_config_checks)
{
    vx_coll_config cfg = {0};
    char err[256];
    collection *c;
    cfg.name = "bad name";
    cfg.dimension = 4;
    ASSERT_EQ_INT(coll_create(&cfg, &c, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "name"));
    cfg.name = "ok_name-1";
    cfg.dimension = VX_MAX_DIM + 1;
    ASSERT_EQ_INT(coll_create(&cfg, &c, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "dimension"));
    cfg.dimension = 4;
    cfg.index.type = VX_INDEX_HNSW;
    cfg.index.m = 1;
    ASSERT_EQ_INT(coll_create(&cfg, &c, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "index.m"));
    cfg.index.m = 0; /* default */
    ASSERT_EQ_INT(coll_create(&cfg, &c, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(coll_config(c)->index.m, VX_HNSW_M_DEFAULT);
    ASSERT_EQ_INT(coll_config(c)->index.ef_construction, VX_HNSW_EFC_DEFAULT);
    vx_coll_config other = *coll_config(c);
    ASSERT(coll_config_equal(&other, coll_config(c)));
    other.metric = VX_METRIC_L2;
    ASSERT(!coll_config_equal(&other, coll_config(c)));
    coll_destroy(c);
}
