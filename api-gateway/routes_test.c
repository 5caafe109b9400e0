/*
 * routes_test.c — route matching: 404 / 405 + Allow, literal vs parameter
 * segments, percent-decoding and validation of {id} and {name}.
 */
#include <string.h>

#include "reqparse.h"
#include "routes.h"
#include "vx_err.h"
#include "vx_test.h"

static void f_a(api_ctx *c) { (void)c; }
static void f_b(api_ctx *c) { (void)c; }
static void f_c(api_ctx *c) { (void)c; }
static void f_d(api_ctx *c) { (void)c; }

static const route table[] = {
    {"GET", "/", f_a, 0},
    {"PUT", "/collections/{name}", f_a, ROUTE_BODY},
    {"GET", "/collections/{name}", f_b, 0},
    {"DELETE", "/collections/{name}", f_c, 0},
    {"POST", "/collections/{name}/points/delete", f_d, ROUTE_BODY},
    {"GET", "/collections/{name}/points/{id}", f_b, 0},
    {"DELETE", "/collections/{name}/points/{id}", f_c, 0},
    {"GET", "/vector/{id}", f_b, 0},
};
#define N (sizeof(table) / sizeof(table[0]))

static int match(vx_arena *a, const char *method, const char *path, route_match *m, char *err)
{
    return routes_match(table, N, method, path, a, m, err, RQ_ERR_LEN);
}

TEST(routes_literal_and_params)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    route_match m;
    char err[RQ_ERR_LEN];
    ASSERT_EQ_INT(match(&a, "GET", "/", &m, err), VX_OK);
    ASSERT(m.route == &table[0]);
    ASSERT_EQ_INT(match(&a, "GET", "/collections/my_coll-1", &m, err), VX_OK);
    ASSERT(m.route->fn == f_b);
    ASSERT_STR_EQ(m.name, "my_coll-1");
    ASSERT(m.id == NULL);
    /* the literal "delete" route for POST, the {id} route for GET/DELETE */
    ASSERT_EQ_INT(match(&a, "POST", "/collections/c/points/delete", &m, err), VX_OK);
    ASSERT(m.route->fn == f_d);
    ASSERT_EQ_INT(match(&a, "GET", "/collections/c/points/delete", &m, err), VX_OK);
    ASSERT(m.route->fn == f_b);
    ASSERT_STR_EQ(m.id, "delete");
    vx_arena_fini(&a);
}

TEST(routes_404_and_405)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    route_match m;
    char err[RQ_ERR_LEN];
    ASSERT_EQ_INT(match(&a, "GET", "/nope", &m, err), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(match(&a, "GET", "/collections/c/extra/x", &m, err), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(match(&a, "GET", "/vector/", &m, err), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(match(&a, "GET", "/collections/", &m, err), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(match(&a, "GET", "", &m, err), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(match(&a, "POST", "/collections/c", &m, err), VX_ERR_METHOD);
    ASSERT_STR_EQ(m.allow, "PUT, GET, DELETE");
    ASSERT_EQ_INT(match(&a, "POST", "/", &m, err), VX_ERR_METHOD);
    ASSERT_STR_EQ(m.allow, "GET");
    vx_arena_fini(&a);
}

TEST(routes_decode_ids)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    route_match m;
    char err[RQ_ERR_LEN];
    ASSERT_EQ_INT(match(&a, "GET", "/vector/a%2Fb%20c", &m, err), VX_OK);
    ASSERT_STR_EQ(m.id, "a/b c");
    ASSERT_EQ_INT(m.id_len, 5);
    ASSERT_EQ_INT(match(&a, "GET", "/vector/x+y", &m, err), VX_OK);
    ASSERT_STR_EQ(m.id, "x+y"); /* '+' is literal in paths */
    ASSERT_EQ_INT(match(&a, "GET", "/vector/%C3%A9t%C3%A9", &m, err), VX_OK);
    ASSERT_STR_EQ(m.id, "\xc3\xa9t\xc3\xa9");
    /* invalid escapes, NUL, invalid UTF-8 */
    ASSERT_EQ_INT(match(&a, "GET", "/vector/a%2", &m, err), VX_ERR_INVALID);
    ASSERT(strstr(err, "id") != NULL);
    ASSERT_EQ_INT(match(&a, "GET", "/vector/a%zz", &m, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(match(&a, "GET", "/vector/a%00b", &m, err), VX_ERR_INVALID);
    ASSERT(strstr(err, "NUL") != NULL);
    ASSERT_EQ_INT(match(&a, "GET", "/vector/%FF", &m, err), VX_ERR_INVALID);
    ASSERT(strstr(err, "UTF-8") != NULL);
    /* length: 256 bytes ok, 257 not */
    char path[600] = "/vector/";
    memset(path + 8, 'x', 256);
    path[8 + 256] = 0;
    ASSERT_EQ_INT(match(&a, "GET", path, &m, err), VX_OK);
    ASSERT_EQ_INT(m.id_len, 256);
    strcat(path, "x");
    ASSERT_EQ_INT(match(&a, "GET", path, &m, err), VX_ERR_LIMIT);
    /* 256 bytes after decoding count, not before */
    char enc[800] = "/vector/";
    for (int i = 0; i < 256; i++)
        strcat(enc, "%41");
    ASSERT_EQ_INT(match(&a, "GET", enc, &m, err), VX_OK);
    ASSERT_EQ_INT(m.id_len, 256);
    vx_arena_fini(&a);
}

TEST(routes_validate_names)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    route_match m;
    char err[RQ_ERR_LEN];
    ASSERT_EQ_INT(match(&a, "GET", "/collections/bad.name", &m, err), VX_ERR_INVALID);
    ASSERT(strncmp(err, "name", 4) == 0);
    ASSERT_EQ_INT(match(&a, "GET", "/collections/a%2Fb", &m, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(match(&a, "GET", "/collections/%41bc", &m, err), VX_OK);
    ASSERT_STR_EQ(m.name, "Abc");
    /* regression: "a%00b" was cut to "a" and created collection "a" */
    ASSERT_EQ_INT(match(&a, "PUT", "/collections/a%00b", &m, err), VX_ERR_INVALID);
    char path[100] = "/collections/";
    memset(path + 13, 'n', 64);
    path[13 + 64] = 0;
    ASSERT_EQ_INT(match(&a, "GET", path, &m, err), VX_OK);
    strcat(path, "n");
    ASSERT_EQ_INT(match(&a, "GET", path, &m, err), VX_ERR_INVALID);
    /* a bad name on a path that exists with other methods is still 405 first */
    ASSERT_EQ_INT(match(&a, "POST", "/collections/bad.name", &m, err), VX_ERR_METHOD);
    vx_arena_fini(&a);
}

TEST(routes_head_is_get)
{
    static const route t[] = {{"GET", "/health", NULL, 0}, {"POST", "/vector", NULL, 0}};
    vx_arena a;
    vx_arena_init(&a, 1024);
    route_match m;
    char err[RQ_ERR_LEN];
    ASSERT_EQ_INT(routes_match(t, 2, "HEAD", "/health", &a, &m, err, sizeof err), VX_OK);
    ASSERT(m.route == &t[0]);
    ASSERT_EQ_INT(routes_match(t, 2, "HEAD", "/vector", &a, &m, err, sizeof err), VX_ERR_METHOD);
    vx_arena_fini(&a);
}
