/*
 * dashboard_test.c — the dashboard's embedded files: every route the table
 * sends to h_dashboard has its file (and no other path finds one), the
 * content types, and the page referring to files that are compiled in.
 */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "dashboard.h"
#include "vx_test.h"

TEST(dashboard_every_route_has_its_file)
{
    int routes = 0;
    for (size_t i = 0; i < api_n_routes; i++) {
        if (api_routes[i].fn != h_dashboard)
            continue;
        routes++;
        ASSERT_STR_EQ(api_routes[i].method, "GET");
        const dashboard_file *f = dashboard_find(api_routes[i].pattern);
        ASSERT_MSG(f != NULL, "%s", api_routes[i].pattern);
        ASSERT(f->len > 100);
        ASSERT_EQ_INT(f->data[f->len], 0); /* NUL after the bytes; not counted */
        ASSERT_MSG(auth_required_role("GET", api_routes[i].pattern) == AUTH_ROLE_NONE, "%s",
                   api_routes[i].pattern);
    }
    ASSERT_EQ_INT(routes, (int)dashboard_n_files);
}

TEST(dashboard_find_takes_only_exact_names)
{
    ASSERT_STR_EQ(dashboard_find("/dashboard")->name, "index.html");
    ASSERT_STR_EQ(dashboard_find("/dashboard/app.js")->name, "app.js");
    ASSERT_STR_EQ(dashboard_find("/dashboard/style.css")->name, "style.css");
    const char *none[] = {"/dashboard/", "/dashboardx", "/dashboard/index.html/", "/dashboard/../app.js",
                          "/dashboard//app.js", "/dashboard/app.j", "/Dashboard", "/", ""};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        ASSERT_MSG(dashboard_find(none[i]) == NULL, "%s", none[i]);
}

TEST(dashboard_content_types)
{
    ASSERT_STR_EQ(dashboard_content_type("index.html"), "text/html; charset=utf-8");
    ASSERT_STR_EQ(dashboard_content_type("app.js"), "text/javascript; charset=utf-8");
    ASSERT_STR_EQ(dashboard_content_type("style.css"), "text/css; charset=utf-8");
    ASSERT_STR_EQ(dashboard_content_type(".js"), "application/octet-stream");
    ASSERT_STR_EQ(dashboard_content_type("x.json"), "application/octet-stream");
}

TEST(dashboard_page_loads_compiled_files)
{
    const char *page = (const char *)dashboard_find("/dashboard")->data;
    ASSERT(strstr(page, "src=\"dashboard/app.js\"") != NULL);
    ASSERT(strstr(page, "href=\"dashboard/style.css\"") != NULL);
}

