/*
 * dashboard.c — serves the dashboard's embedded files (dashboard.h).
 *
 * Headers on every file: no-cache (a new gateway build may change them, and
 * they are small), nosniff, no referrer; the page also gets the
 * Content-Security-Policy and frame denial that keep a stored id or metadata
 * value from ever running as code in it.
 */
#include "dashboard.h"

#include <string.h>

#include "api.h"
#include "vx_err.h"

#define DASHBOARD_CSP                                                                            \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "             \
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const struct {
    const char *suffix, *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
};

const char *dashboard_content_type(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++) {
        size_t s = strlen(content_types[i].suffix);
        if (n > s && strcmp(name + n - s, content_types[i].suffix) == 0)
            return content_types[i].type;
    }
    return "application/octet-stream";
}

const dashboard_file *dashboard_find(const char *path)
{
    static const char prefix[] = "/dashboard";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return NULL;
    const char *rest = path + sizeof prefix - 1;
    const char *name = *rest == '\0' ? "index.html" : *rest == '/' ? rest + 1 : NULL;
    for (size_t i = 0; name && i < dashboard_n_files; i++)
        if (strcmp(dashboard_files[i].name, name) == 0)
            return &dashboard_files[i];
    return NULL;
}

void h_dashboard(api_ctx *c)
{
    const dashboard_file *f = dashboard_find(web_path(c->req));
    if (!f) { /* only a route table out of step with the files gets here */
        api_send_error(c, VX_ERR_NOT_FOUND, "no dashboard file at this path");
        return;
    }
    const char *type = dashboard_content_type(f->name);
    const char *extra[16] = {"X-Request-Id", c->request_id,
                             "Cache-Control", "no-cache",
                             "X-Content-Type-Options", "nosniff",
                             "Referrer-Policy", "no-referrer"};
    size_t n = 8;
    if (strncmp(type, "text/html", 9) == 0) {
        extra[n++] = "Content-Security-Policy";
        extra[n++] = DASHBOARD_CSP;
        extra[n++] = "X-Frame-Options";
        extra[n++] = "DENY";
    }
    extra[n] = NULL;
    c->status = 200;
    web_respond(c->req, 200, type, f->data, f->len, extra);
}
