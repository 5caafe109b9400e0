/*
 * dispatch_test.c — the gateway's real route table (every SPEC route is
 * reachable with its method, wrong methods give 405 with the right Allow)
 * and the Content-Type rule.
 */
#include <string.h>

#include "api.h"
#include "vx_err.h"
#include "vx_test.h"

static int m(vx_arena *a, const char *method, const char *path, route_match *rm)
{
    char err[RQ_ERR_LEN];
    return routes_match(api_routes, api_n_routes, method, path, a, rm, err, sizeof(err));
}

TEST(dispatch_every_spec_route_matches)
{
    static const struct { const char *method, *path; route_fn fn; } cases[] = {
        {"PUT", "/collections/c", h_coll_put},
        {"GET", "/collections", h_coll_list},
        {"GET", "/collections/c", h_coll_get},
        {"DELETE", "/collections/c", h_coll_delete},
        {"POST", "/collections/c/points", h_points_upsert},
        {"GET", "/collections/c/points/p1", h_point_get},
        {"DELETE", "/collections/c/points/p1", h_point_delete},
        {"POST", "/collections/c/points/delete", h_points_delete},
        {"GET", "/collections/c/points", h_points_list},
        {"POST", "/collections/c/search", h_search},
        {"GET", "/", h_root},
        {"POST", "/vector", h_vector_post},
        {"GET", "/vector/x%2Fy", h_vector_get},
        {"DELETE", "/vector/x", h_vector_delete},
        {"GET", "/vectors", h_vectors},
        {"POST", "/embed", h_embed},
        {"POST", "/batch-embed", h_batch_embed},
        {"POST", "/upsert-text", h_upsert_text},
        {"POST", "/search/vector", h_search_vector},
        {"POST", "/search/text", h_search_text},
        {"GET", "/models", h_models},
        {"GET", "/health", h_health},
        {"GET", "/dashboard", h_dashboard},
        {"GET", "/dashboard/app.js", h_dashboard},
        {"POST", "/benchmark", h_benchmark},
        {"POST", "/benchmark/models", h_models_bench},
    };
    vx_arena a;
    vx_arena_init(&a, 4096);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        route_match rm;
        int rc = m(&a, cases[i].method, cases[i].path, &rm);
        ASSERT_MSG(rc == VX_OK && rm.route->fn == cases[i].fn, "%s %s: rc %d", cases[i].method,
                   cases[i].path, rc);
    }
    route_match rm;
    ASSERT_EQ_INT(m(&a, "GET", "/vector/x%2Fy", &rm), VX_OK);
    ASSERT_STR_EQ(rm.id, "x/y");
    vx_arena_fini(&a);
}

TEST(dispatch_wrong_methods)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    route_match rm;
    ASSERT_EQ_INT(m(&a, "GET", "/vector", &rm), VX_ERR_METHOD);
    ASSERT_STR_EQ(rm.allow, "POST");
    ASSERT_EQ_INT(m(&a, "POST", "/collections/c/points/p", &rm), VX_ERR_METHOD);
    ASSERT_STR_EQ(rm.allow, "GET, DELETE");
    ASSERT_EQ_INT(m(&a, "DELETE", "/collections", &rm), VX_ERR_METHOD);
    ASSERT_STR_EQ(rm.allow, "GET");
    ASSERT_EQ_INT(m(&a, "PUT", "/collections/c/points", &rm), VX_ERR_METHOD);
    ASSERT_STR_EQ(rm.allow, "POST, GET");
    ASSERT_EQ_INT(m(&a, "GET", "/search", &rm), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(m(&a, "GET", "/collections/c/nope", &rm), VX_ERR_NOT_FOUND);
    vx_arena_fini(&a);
}

TEST(dispatch_routes_with_bodies)
{
    for (size_t i = 0; i < api_n_routes; i++) {
        bool body = (api_routes[i].flags & ROUTE_BODY) != 0;
        bool writes = strcmp(api_routes[i].method, "POST") == 0 ||
                      strcmp(api_routes[i].method, "PUT") == 0;
        ASSERT_MSG(body == writes, "%s %s", api_routes[i].method, api_routes[i].pattern);
    }
}

TEST(dispatch_content_type)
{
    ASSERT(api_is_json_type("application/json"));
    ASSERT(api_is_json_type("application/json; charset=utf-8"));
    ASSERT(api_is_json_type("Application/JSON;charset=UTF-8"));
    ASSERT(api_is_json_type(" application/json"));
    ASSERT(!api_is_json_type(NULL));
    ASSERT(!api_is_json_type(""));
    ASSERT(!api_is_json_type("text/plain"));
    ASSERT(!api_is_json_type("application/jsonx"));
    ASSERT(!api_is_json_type("application/x-www-form-urlencoded"));
    /* the charset, when given, must be UTF-8 */
    ASSERT(api_is_json_type("application/json;charset=\"utf-8\""));
    ASSERT(api_is_json_type("application/json; charset=utf8"));
    ASSERT(api_is_json_type("application/json; foo=bar; charset=UTF-8"));
    ASSERT(api_is_json_type("application/json;"));
    ASSERT(!api_is_json_type("application/json; charset=latin-1"));
    ASSERT(!api_is_json_type("application/json; charset=utf-16"));
    ASSERT(!api_is_json_type("application/json; charset=\"utf-16\""));
    ASSERT(!api_is_json_type("application/json; charset="));
    ASSERT(!api_is_json_type("application/json garbage"));
}

/* Every route has an explicit role (auth.c's policy): none for /health and
 * the dashboard's static files, admin only for /benchmark and /benchmark/models; anything else would mean a route was added
 * without a policy entry (auth_required_role fails closed to admin). */
TEST(dispatch_every_route_has_a_role)
{
    for (size_t i = 0; i < api_n_routes; i++) {
        const route *r = &api_routes[i];
        auth_role need = auth_required_role(r->method, r->pattern);
        if (strcmp(r->pattern, "/health") == 0 || r->fn == h_dashboard)
            ASSERT_EQ_INT(need, AUTH_ROLE_NONE);
        else if (strcmp(r->pattern, "/benchmark") == 0 || strcmp(r->pattern, "/benchmark/models") == 0)
            ASSERT_EQ_INT(need, AUTH_ROLE_ADMIN);
        else
            ASSERT_MSG(need == AUTH_ROLE_READ || need == AUTH_ROLE_WRITE,
                       "%s %s has no policy entry", r->method, r->pattern);
        /* writes need write; reads (and searches) read */
        if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "DELETE") == 0)
            ASSERT_EQ_INT(need, AUTH_ROLE_WRITE);
    }
    ASSERT_EQ_INT(auth_required_role("GET", NULL), AUTH_ROLE_READ); /* unmatched */
}
