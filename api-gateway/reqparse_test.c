/*
 * reqparse_test.c — JSON bodies to proto structures, and every validation
 * error the gateway answers with 400 (each names its field).
 */
#include <stdio.h>
#include <string.h>

#include "reqparse.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_test.h"

static vx_arena A;
static char err[RQ_ERR_LEN];

static const vx_value *J(const char *text)
{
    vx_value *v = vx_arena_alloc(&A, sizeof(*v));
    char e[256];
    if (vx_json_parse(text, strlen(text), &A, v, e, sizeof(e)) != VX_OK) {
        fprintf(stderr, "bad test JSON %s: %s\n", text, e);
        return NULL;
    }
    return v;
}

/* Expects rc from parsing points and err containing needle. */
static int points_err(const char *body, const char *needle)
{
    rq_points p;
    int rc = rq_parse_points(J(body), &A, &p, err, sizeof(err));
    if (rc == VX_OK || !strstr(err, needle)) {
        fprintf(stderr, "  body %s: rc %d, err \"%s\" (wanted \"%s\")\n", body, rc, err, needle);
        return 0;
    }
    return 1;
}

TEST(parse_points_ok)
{
    vx_arena_init(&A, 4096);
    rq_points p;
    int rc = rq_parse_points(J("{\"points\": [{\"id\": \"a\", \"vector\": [1, 2.5, -3e-2],"
                               " \"metadata\": {\"k\": [1, \"x\"]}},"
                               " {\"id\": \"b/c\", \"text\": \"hello\"}]}"),
                             &A, &p, err, sizeof(err));
    ASSERT_MSG(rc == VX_OK, "%s", err);
    ASSERT_EQ_INT(p.n, 2);
    ASSERT_EQ_INT(p.n_text, 1);
    ASSERT_STR_EQ(p.points[0].id, "a");
    ASSERT_EQ_INT(p.points[0].dim, 3);
    ASSERT(p.points[0].vector[1] == 2.5f && p.points[0].vector[2] == -3e-2f);
    ASSERT(p.points[0].metadata && p.points[0].metadata->type == VX_VAL_OBJECT);
    ASSERT(p.texts[0] == NULL);
    ASSERT_STR_EQ(p.texts[1], "hello");
    ASSERT(p.points[1].vector == NULL && p.points[1].metadata == NULL);
    vx_arena_fini(&A);
}

TEST(parse_points_errors_name_the_field)
{
    vx_arena_init(&A, 4096);
    ASSERT(points_err("[]", "body"));
    ASSERT(points_err("{}", "points"));
    ASSERT(points_err("{\"points\": []}", "points"));
    ASSERT(points_err("{\"points\": [1]}", "points[0]"));
    ASSERT(points_err("{\"points\": [{\"vector\": [1]}]}", "points[0].id"));
    ASSERT(points_err("{\"points\": [{\"id\": 5, \"vector\": [1]}]}", "points[0].id"));
    ASSERT(points_err("{\"points\": [{\"id\": \"\", \"vector\": [1]}]}", "points[0].id"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\\u0000b\", \"vector\": [1]}]}", "NUL"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\"}]}", "points[0]"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": [1], \"text\": \"t\"}]}",
                      "not both"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": [1]},"
                      "{\"id\": \"b\", \"vector\": [1]}, {\"id\": \"c\", \"vector\": \"x\"}]}",
                      "points[2].vector"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": []}]}", "points[0].vector"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": [1]}, {\"vector\": [1]}]}",
                      "points[1].id: is required"));
    ASSERT(points_err("{\"points\": [{\"id\": 7, \"vector\": [1]}]}", "points[0].id: must be a string"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": [1, \"2\"]}]}",
                      "points[0].vector[1]"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": [1, null]}]}",
                      "points[0].vector[1]"));
    /* 1e39 is a finite double but overflows float32 */
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": [1e39]}]}",
                      "points[0].vector[0]: not a finite float32"));
    /* mixed dimensions parse: the store checks each point against the
     * collection and names the one that differs from it */
    rq_points mp;
    ASSERT_EQ_INT(rq_parse_points(J("{\"points\": [{\"id\": \"a\", \"vector\": [1, 2]},"
                                    "{\"id\": \"b\", \"vector\": [1]}]}"),
                                  &A, &mp, err, sizeof err),
                  VX_OK);
    ASSERT_EQ_INT(mp.points[0].dim, 2);
    ASSERT_EQ_INT(mp.points[1].dim, 1);
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"vector\": [1], \"metadata\": [1]}]}",
                      "points[0].metadata"));
    ASSERT(points_err("{\"points\": [{\"id\": \"a\", \"text\": 3}]}", "points[0].text"));
    vx_arena_fini(&A);
}

TEST(parse_points_limits)
{
    vx_arena_init(&A, 1 << 20);
    vx_buf b = VX_BUF_INIT;
    /* VX_MAX_DIM + 1 elements */
    vx_buf_printf(&b, "{\"points\": [{\"id\": \"a\", \"vector\": [0");
    for (int i = 0; i < VX_MAX_DIM; i++)
        vx_buf_printf(&b, ",0");
    vx_buf_printf(&b, "]}]}");
    vx_buf_terminate(&b);
    ASSERT(points_err((char *)b.data, "dimension must be 1..4096"));
    /* VX_MAX_BATCH + 1 points → limit_exceeded */
    vx_buf_reset(&b);
    vx_buf_printf(&b, "{\"points\": [");
    for (int i = 0; i <= VX_MAX_BATCH; i++)
        vx_buf_printf(&b, "%s{\"id\": \"p%d\", \"vector\": [1]}", i ? "," : "", i);
    vx_buf_printf(&b, "]}");
    vx_buf_terminate(&b);
    rq_points p;
    ASSERT_EQ_INT(rq_parse_points(J((char *)b.data), &A, &p, err, sizeof(err)), VX_ERR_LIMIT);
    /* exactly VX_MAX_BATCH is fine */
    vx_buf_reset(&b);
    vx_buf_printf(&b, "{\"points\": [");
    for (int i = 0; i < VX_MAX_BATCH; i++)
        vx_buf_printf(&b, "%s{\"id\": \"p%d\", \"vector\": [1]}", i ? "," : "", i);
    vx_buf_printf(&b, "]}");
    vx_buf_terminate(&b);
    ASSERT_EQ_INT(rq_parse_points(J((char *)b.data), &A, &p, err, sizeof(err)), VX_OK);
    ASSERT_EQ_INT(p.n, VX_MAX_BATCH);
    vx_buf_free(&b);
    vx_arena_fini(&A);
}

TEST(parse_search)
{
    vx_arena_init(&A, 4096);
    vx_search_req s;
    const char *text;
    ASSERT_EQ_INT(rq_parse_search(J("{\"vector\": [0.5, 1], \"k\": 3, \"ef\": 100, \"exact\": true,"
                                    " \"with_vector\": true, \"filter\": {\"a\": 1}}"),
                                  &A, &s, &text, err, sizeof(err)),
                  VX_OK);
    ASSERT(text == NULL && s.dim == 2 && s.vector[0] == 0.5f);
    ASSERT(s.k == 3 && s.ef == 100 && s.exact && s.with_vector && s.with_metadata);
    ASSERT(s.filter && s.filter->type == VX_VAL_OBJECT);
    ASSERT_EQ_INT(rq_parse_search(J("{\"text\": \"q\"}"), &A, &s, &text, err, sizeof(err)), VX_OK);
    ASSERT_STR_EQ(text, "q");
    ASSERT(s.k == 10 && s.ef == 0 && !s.exact && s.filter == NULL);

    /* above a maximum: limit_exceeded (PROTOCOL.md §7); anything else invalid */
    static const struct { const char *body, *needle; int rc; } bad[] = {
        {"{}", "vector", VX_ERR_INVALID},
        {"{\"vector\": [1], \"text\": \"x\"}", "not both", VX_ERR_INVALID},
        {"{\"vector\": [1], \"k\": 0}", "k", VX_ERR_INVALID},
        {"{\"vector\": [1], \"k\": 1001}", "k: must be in 1..1000", VX_ERR_LIMIT},
        {"{\"vector\": [1], \"k\": 99999999999999999999999999}", "k: must be in 1..1000", VX_ERR_LIMIT},
        {"{\"vector\": [1], \"k\": \"5\"}", "k: must be an integer", VX_ERR_INVALID},
        {"{\"vector\": [1], \"k\": 2.5}", "k: must be an integer", VX_ERR_INVALID},
        {"{\"vector\": [1], \"ef\": 0}", "ef", VX_ERR_INVALID},
        {"{\"vector\": [1], \"ef\": 10001}", "ef", VX_ERR_LIMIT},
        {"{\"vector\": [1], \"exact\": 1}", "exact", VX_ERR_INVALID},
        {"{\"vector\": [1], \"filter\": [1]}", "filter", VX_ERR_INVALID},
        {"{\"vector\": [1e39]}", "vector[0]", VX_ERR_INVALID},
        {"{\"text\": \"\"}", "text", VX_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = rq_parse_search(J(bad[i].body), &A, &s, &text, err, sizeof(err));
        ASSERT_MSG(rc == bad[i].rc && strstr(err, bad[i].needle), "%s: rc %d err %s",
                   bad[i].body, rc, err);
    }
    vx_arena_fini(&A);
}

TEST(parse_coll_create)
{
    vx_arena_init(&A, 4096);
    vx_coll_config cf;
    ASSERT_EQ_INT(rq_parse_coll_create(J("{\"dimension\": 384}"), &cf, err, sizeof(err)), VX_OK);
    ASSERT(cf.dimension == 384 && cf.metric == VX_METRIC_COSINE);
    ASSERT(cf.index.type == VX_INDEX_HNSW && cf.index.m == VX_HNSW_M_DEFAULT &&
           cf.index.ef_construction == VX_HNSW_EFC_DEFAULT && cf.model == NULL);
    ASSERT_EQ_INT(rq_parse_coll_create(J("{\"dimension\": 3, \"metric\": \"l2\", \"index\":"
                                         " {\"type\": \"flat\", \"m\": 8, \"ef_construction\": 50},"
                                         " \"model\": \"use-lite\"}"),
                                       &cf, err, sizeof(err)),
                  VX_OK);
    ASSERT(cf.metric == VX_METRIC_L2 && cf.index.type == VX_INDEX_FLAT && cf.index.m == 8 &&
           cf.index.ef_construction == 50);
    ASSERT_STR_EQ(cf.model, "use-lite");
    static const struct { const char *body, *needle; int rc; } bad[] = {
        {"{}", "dimension: is required", VX_ERR_INVALID},
        {"{\"dimension\": 0}", "dimension", VX_ERR_INVALID},
        {"{\"dimension\": 4097}", "dimension", VX_ERR_LIMIT},
        {"{\"dimension\": 3, \"metric\": \"hamming\"}", "metric", VX_ERR_INVALID},
        {"{\"dimension\": 3, \"index\": {\"type\": \"ivf\"}}", "index.type", VX_ERR_INVALID},
        {"{\"dimension\": 3, \"index\": {\"m\": 1}}", "index.m", VX_ERR_INVALID},
        {"{\"dimension\": 3, \"index\": {\"ef_construction\": 3000}}", "index.ef_construction",
         VX_ERR_LIMIT},
        {"{\"dimension\": 3, \"model\": 5}", "model", VX_ERR_INVALID},
        {"[1]", "body", VX_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = rq_parse_coll_create(J(bad[i].body), &cf, err, sizeof(err));
        ASSERT_MSG(rc == bad[i].rc && strstr(err, bad[i].needle), "%s: rc %d err %s",
                   bad[i].body, rc, err);
    }
    vx_arena_fini(&A);
}

TEST(parse_delete)
{
    vx_arena_init(&A, 4096);
    vx_delete_req d;
    ASSERT_EQ_INT(rq_parse_delete(J("{\"ids\": [\"a\", \"b\"]}"), &A, &d, err, sizeof(err)), VX_OK);
    ASSERT(d.n_ids == 2 && strcmp(d.ids[1], "b") == 0 && d.filter == NULL);
    ASSERT_EQ_INT(rq_parse_delete(J("{\"filter\": {\"x\": 1}}"), &A, &d, err, sizeof(err)), VX_OK);
    ASSERT(d.filter && d.n_ids == 0);
    ASSERT_EQ_INT(rq_parse_delete(J("{}"), &A, &d, err, sizeof(err)), VX_ERR_INVALID);
    ASSERT_EQ_INT(rq_parse_delete(J("{\"ids\": [\"a\"], \"filter\": {}}"), &A, &d, err,
                                  sizeof(err)),
                  VX_ERR_INVALID);
    ASSERT_EQ_INT(rq_parse_delete(J("{\"ids\": [\"a\", 3]}"), &A, &d, err, sizeof(err)),
                  VX_ERR_INVALID);
    ASSERT(strstr(err, "ids[1]"));
    /* an empty list parses (h_points_delete answers {"deleted": 0} without a
     * bus delete, which needs ≥ 1 id) */
    ASSERT_EQ_INT(rq_parse_delete(J("{\"ids\": []}"), &A, &d, err, sizeof(err)), VX_OK);
    ASSERT(d.n_ids == 0 && d.filter == NULL);
    vx_arena_fini(&A);
}

TEST(query_strings)
{
    vx_arena_init(&A, 4096);
    const char *v;
    uint32_t n;
    ASSERT_EQ_INT(rq_query_get("a=1&cursor=x%2By+z&b", "cursor", &A, &v), VX_OK);
    ASSERT_STR_EQ(v, "x+y z");
    ASSERT_EQ_INT(rq_query_get("a=1&b", "b", &A, &v), VX_OK);
    ASSERT_STR_EQ(v, "");
    ASSERT_EQ_INT(rq_query_get("ab=1", "a", &A, &v), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(rq_query_get(NULL, "a", &A, &v), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(rq_query_get("a=%G1", "a", &A, &v), VX_ERR_INVALID);
    ASSERT_EQ_INT(rq_query_get("cursor=%00", "cursor", &A, &v), VX_ERR_INVALID); /* not "absent" */
    ASSERT_EQ_INT(rq_query_uint("top_k=7", "top_k", 1, 1000, 5, &A, &n, err, sizeof(err)), VX_OK);
    ASSERT_EQ_INT(n, 7);
    ASSERT_EQ_INT(rq_query_uint("x=1", "top_k", 1, 1000, 5, &A, &n, err, sizeof(err)), VX_OK);
    ASSERT_EQ_INT(n, 5);
    ASSERT_EQ_INT(rq_query_uint("top_k=0", "top_k", 1, 1000, 5, &A, &n, err, sizeof(err)),
                  VX_ERR_INVALID);
    ASSERT(strstr(err, "top_k"));
    ASSERT_EQ_INT(rq_query_uint("top_k=-1", "top_k", 1, 1000, 5, &A, &n, err, sizeof(err)),
                  VX_ERR_INVALID);
    ASSERT_EQ_INT(rq_query_uint("top_k=99999999999999999999", "top_k", 1, 1000, 5, &A, &n, err,
                                sizeof(err)),
                  VX_ERR_INVALID);
    ASSERT_EQ_INT(rq_query_uint("top_k=", "top_k", 1, 1000, 5, &A, &n, err, sizeof(err)),
                  VX_ERR_INVALID);
    vx_arena_fini(&A);
}
