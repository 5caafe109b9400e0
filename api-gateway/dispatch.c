/*
 * dispatch.c — the gateway's request flow and route table.
 *
 * For every request: match the route, check access (api_access: the API
 * key against the route's role → 401 with WWW-Authenticate / 403, then the
 * caller's token bucket → 429 with Retry-After; GET /health is open and
 * never limited; a request no route matches needs a read key, so 404/405
 * are only revealed to key holders), answer 404 / 405 with Allow / 400 for
 * a bad {name} or {id}, then for routes with a body check Content-Type (415)
 * BEFORE reading, read at most max_body_bytes (413), parse JSON (400 naming
 * line and column), call the handler, and log one access line (method,
 * route pattern, status, duration, request id, client address and key id —
 * never a key, never bodies) and count it in the metrics. OPTIONS is a
 * CORS preflight answered 204 when cors_origin is set. An empty body without
 * a Content-Type on a body route is read as {} so optional-only routes
 * (/benchmark) work without one; a non-JSON Content-Type is 415 either way.
 */
#include <ctype.h>
#include <math.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_log.h"

const route api_routes[] = {
    {"GET", "/", h_root, 0},
    {"GET", "/health", h_health, 0},
    {"GET", "/metrics", h_metrics, 0},
    {"GET", "/dashboard", h_dashboard, 0},
    {"GET", "/dashboard/app.js", h_dashboard, 0},
    {"GET", "/dashboard/style.css", h_dashboard, 0},
    {"GET", "/collections", h_coll_list, 0},
    {"PUT", "/collections/{name}", h_coll_put, ROUTE_BODY},
    {"GET", "/collections/{name}", h_coll_get, 0},
    {"DELETE", "/collections/{name}", h_coll_delete, 0},
    {"POST", "/collections/{name}/points", h_points_upsert, ROUTE_BODY},
    {"GET", "/collections/{name}/points", h_points_list, 0},
    {"POST", "/collections/{name}/points/delete", h_points_delete, ROUTE_BODY},
    {"GET", "/collections/{name}/points/{id}", h_point_get, 0},
    {"DELETE", "/collections/{name}/points/{id}", h_point_delete, 0},
    {"POST", "/collections/{name}/search", h_search, ROUTE_BODY},
    {"POST", "/vector", h_vector_post, ROUTE_BODY},
    {"GET", "/vector/{id}", h_vector_get, 0},
    {"DELETE", "/vector/{id}", h_vector_delete, 0},
    {"GET", "/vectors", h_vectors, 0},
    {"POST", "/embed", h_embed, ROUTE_BODY},
    {"POST", "/batch-embed", h_batch_embed, ROUTE_BODY},
    {"POST", "/upsert-text", h_upsert_text, ROUTE_BODY},
    {"POST", "/search/vector", h_search_vector, ROUTE_BODY},
    {"POST", "/search/text", h_search_text, ROUTE_BODY},
    {"GET", "/models", h_models, 0},
    {"POST", "/benchmark", h_benchmark, ROUTE_BODY},
    {"POST", "/benchmark/models", h_models_bench, ROUTE_BODY},
};
const size_t api_n_routes = sizeof(api_routes) / sizeof(api_routes[0]);

void api_send_json(api_ctx *c, int status, const vx_buf *body)
{
    const char *extra[] = {"X-Request-Id", c->request_id, NULL};
    c->status = status;
    web_respond(c->req, status, "application/json", body->data, body->len, extra);
}

static void send_error_hdrs(api_ctx *c, int code, const char *msg, const char *const *extra)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "error");
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "code");
    vx_jsonw_string(&w, vx_errname(code));
    vx_jsonw_key(&w, "message");
    vx_jsonw_string(&w, msg && *msg ? msg : vx_strerror(code));
    vx_jsonw_end_object(&w);
    vx_jsonw_end_object(&w);
    c->status = vx_err_http_status(code);
    web_respond(c->req, c->status, "application/json", b.data, b.len, extra);
    vx_buf_free(&b);
}

void api_send_error(api_ctx *c, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int st = vx_err_http_status(code);
    char retry[16];
    snprintf(retry, sizeof(retry), "%u", c->retry_after ? c->retry_after : 1u);
    const char *extra[] = {"X-Request-Id", c->request_id, "Retry-After", retry, NULL};
    if (st == 401) {
        extra[2] = "WWW-Authenticate";
        extra[3] = "Bearer realm=\"vectron\"";
    } else if (st != 503 && st != 429) {
        extra[2] = NULL;
    }
    send_error_hdrs(c, code, msg, extra);
}

void api_send_text(api_ctx *c, int status, const char *text)
{
    const char *extra[] = {"X-Request-Id", c->request_id, NULL};
    c->status = status;
    web_respond(c->req, status, "text/plain; charset=utf-8", text, strlen(text), extra);
}

void api_write_ms(vx_jsonw *w, double ms) { vx_jsonw_double(w, round(ms * 1e6) / 1e6); }

int api_call(api_ctx *c, up_target t, vx_request *req, vx_reply *rep)
{
    char err[512];
    int rc = upstream_call(c->srv->up, t, req, c->arena, rep, err, sizeof(err));
    if (rc)
        api_send_error(c, rc, "%s", err);
    return rc;
}

int api_embed(api_ctx *c, const char *model, const char **texts, uint32_t n, vx_reply *rep)
{
    vx_request req;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_EMBED;
    req.body.embed.model = model;
    req.body.embed.texts = texts;
    req.body.embed.n_texts = n;
    int rc = api_call(c, UP_EMBED, &req, rep);
    if (rc)
        return rc;
    if (rep->body.embed.n != n || rep->body.embed.dim == 0 || !rep->body.embed.vectors) {
        api_send_error(c, VX_ERR_UPSTREAM, "embed service returned %u vectors for %u texts",
                       rep->body.embed.n, n);
        return VX_ERR_UPSTREAM;
    }
    return VX_OK;
}

/* "application/json", optionally followed by parameters; case-insensitive. */
static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A charset parameter value (token or quoted string) that names UTF-8. */
static bool is_utf8_charset(const char *v, size_t n)
{
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        v++, n -= 2;
    return (n == 5 && strncasecmp(v, "utf-8", 5) == 0) || (n == 4 && strncasecmp(v, "utf8", 4) == 0);
}

bool api_is_json_type(const char *ct)
{
    if (!ct)
        return false;
    ct = skip_ows(ct);
    static const char j[] = "application/json";
    if (strncasecmp(ct, j, sizeof(j) - 1) != 0)
        return false;
    const char *p = skip_ows(ct + sizeof(j) - 1);
    /* parameters: ; name=value ... — a charset must be UTF-8 (RFC 8259 §8.1) */
    while (*p == ';') {
        p = skip_ows(p + 1);
        size_t name_len = strcspn(p, "=; \t");
        const char *after = skip_ows(p + name_len);
        if (*after != '=') {
            p = after;
            continue;
        }
        const char *val = skip_ows(after + 1);
        size_t val_len = strcspn(val, "; \t");
        if (name_len == 7 && strncasecmp(p, "charset", 7) == 0 && !is_utf8_charset(val, val_len))
            return false;
        p = skip_ows(val + val_len);
    }
    return *p == '\0';
}

static bool has_body(web_req *r)
{
    const char *cl = web_header(r, "Content-Length");
    const char *te = web_header(r, "Transfer-Encoding");
    if (te && strcasecmp(te, "identity") != 0)
        return true;
    return cl && strtoll(cl, NULL, 10) > 0;
}

static void run_route(api_ctx *c, const route_match *m)
{
    static const vx_value empty_object = {.type = VX_VAL_OBJECT};
    c->name = m->name;
    c->id = m->id;
    c->id_len = m->id_len;
    if (m->route->flags & ROUTE_BODY) {
        /* A declared type must be JSON even on an empty body (a text/plain
         * POST is a client error, not "{}"); no type is fine without a body. */
        const char *type = web_header(c->req, "Content-Type");
        bool body = has_body(c->req);
        if ((type || body) && !api_is_json_type(type)) {
            api_send_error(c, VX_ERR_MEDIA_TYPE, "Content-Type: must be application/json (UTF-8)");
            return;
        }
        if (!body) {
            c->body = &empty_object;
        } else {
            const char *ce = web_header(c->req, "Content-Encoding");
            if (ce && strcasecmp(skip_ows(ce), "identity") != 0) {
                api_send_error(c, VX_ERR_MEDIA_TYPE,
                               "Content-Encoding: not supported (send the body uncompressed)");
                return;
            }
            vx_buf body = VX_BUF_INIT;
            size_t limit = (size_t)c->srv->cfg->max_body_bytes;
            int rc = web_read_body(c->req, limit, &body);
            if (rc) {
                vx_buf_free(&body);
                if (rc == VX_ERR_TIMEOUT)
                    return; /* web_read_body answered 408 and closed */
                if (rc == VX_ERR_TOO_LARGE)
                    api_send_error(c, rc, "body: larger than %zu bytes", limit);
                else
                    api_send_error(c, VX_ERR_INVALID, "body: could not be read completely");
                return;
            }
            vx_value *v = vx_arena_alloc(c->arena, sizeof(vx_value));
            rc = vx_json_parse((const char *)body.data, body.len, c->arena, v, c->err,
                               sizeof(c->err));
            vx_buf_free(&body);
            if (rc) {
                api_send_error(c, VX_ERR_INVALID, "body: %s", c->err);
                return;
            }
            c->body = v;
        }
    }
    m->route->fn(c);
}

int api_access(api_ctx *c, const char *method, const char *pattern, const char *authorization,
               const char *x_api_key, const char *remote_ip, const char *xff, char *msg,
               size_t msg_len)
{
    const api_server *srv = c->srv;
    msg[0] = '\0';
    auth_client_addr(remote_ip ? remote_ip : "", xff, srv->cfg->trusted_proxies, c->client,
                     sizeof(c->client));
    auth_role need = auth_required_role(method, pattern);
    if (need == AUTH_ROLE_NONE)
        return VX_OK; /* open routes: no key, no limit */
    if (srv->auth) {
        auth_identity who;
        int rc = auth_check(srv->auth, authorization, x_api_key, need, &who);
        if (rc) {
            snprintf(msg, msg_len, "%s", who.reason[0] ? who.reason : vx_strerror(rc));
            return rc;
        }
        snprintf(c->key_id, sizeof(c->key_id), "%s", who.key_id);
    }
    if (srv->rl) {
        uint32_t retry = 1;
        const char *key = c->key_id[0] ? c->key_id : c->client;
        int rc = ratelimit_take(srv->rl, key, vx_now_ns(), &retry);
        if (rc == VX_ERR_RATE_LIMITED) {
            c->retry_after = retry;
            snprintf(msg, msg_len, "rate limit of %lld requests/s exceeded; retry in %u s",
                     (long long)srv->cfg->rate_limit, retry);
            return rc;
        }
        /* VX_ERR_INVALID: no usable key (no peer address): not limited */
    }
    return VX_OK;
}

int api_metrics_register(metrics *m)
{
    for (size_t i = 0; i < api_n_routes; i++) {
        int rc = metrics_add_route(m, api_routes[i].method, api_routes[i].pattern);
        if (rc)
            return rc;
    }
    return VX_OK;
}

/* The client's X-Request-Id when it is 1..64 chars of [A-Za-z0-9._-],
 * else a process-unique one. */
static void set_request_id(api_ctx *c)
{
    static atomic_uint_fast64_t counter;
    const char *h = web_header(c->req, "X-Request-Id");
    size_t n = h ? strlen(h) : 0;
    bool ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)h[i]) || h[i] == '.' || h[i] == '_' || h[i] == '-';
    if (ok)
        memcpy(c->request_id, h, n + 1);
    else
        snprintf(c->request_id, sizeof(c->request_id), "vx-%d-%llu", (int)getpid(),
                 (unsigned long long)atomic_fetch_add(&counter, 1) + 1);
}

/* The access log names a matched route by its pattern (ids in paths stay out
 * of the log); an unmatched path is logged as sent, truncated, with
 * anything but printable ASCII as '?' (no log injection), so 404s can be
 * traced. */
static const char *log_target(const char *pattern, const char *path, char *buf, size_t len)
{
    if (pattern)
        return pattern;
    size_t n = 0;
    for (; path && path[n] && n + 4 < len; n++)
        buf[n] = path[n] > ' ' && path[n] < 0x7f ? path[n] : '?';
    if (path && path[n])
        buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
    buf[n] = '\0';
    return n ? buf : "-";
}

void api_handle(void *arg, web_req *req)
{
    api_server *srv = arg;
    vx_cpu_qos_enter(srv->cpu_qos); /* fast wake-ups along the request's path */
    vx_arena arena;
    vx_arena_init(&arena, 64 * 1024);
    uint64_t t0 = vx_now_ns();
    if (srv->metrics)
        metrics_request_begin(srv->metrics);
    api_ctx c;
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.srv = srv;
    c.arena = &arena;
    c.query = web_query(req);
    set_request_id(&c);
    const char *method = web_method(req);
    route_match m;
    const char *pattern = NULL; /* matched route, for the log and the metrics */
    int rc = routes_match(api_routes, api_n_routes, method, web_path(req), &arena, &m, c.err,
                          sizeof(c.err));
    if (rc != VX_ERR_NOT_FOUND && rc != VX_ERR_METHOD && m.route)
        pattern = m.route->pattern;
    char msg[AUTH_REASON_LEN + 64];
    bool preflight =
        strcmp(method, "OPTIONS") == 0 && srv->cfg->cors_origin && srv->cfg->cors_origin[0];
    int arc = VX_OK;
    if (!preflight)
        arc = api_access(&c, method, pattern, web_header(req, "Authorization"),
                         web_header(req, "X-API-Key"), web_remote_addr(req),
                         web_header(req, "X-Forwarded-For"), msg, sizeof(msg));
    if (preflight) {
        /* CORS preflight (only when an origin is configured; carries no key) */
        const char *extra[] = {"Access-Control-Allow-Methods", "GET, POST, PUT, DELETE",
                               "Access-Control-Allow-Headers",
                               "Content-Type, X-Request-Id, Authorization, X-API-Key",
                               "Access-Control-Max-Age", "600",
                               "X-Request-Id", c.request_id, NULL};
        c.status = 204;
        web_respond(req, 204, NULL, NULL, 0, extra);
    } else if (arc) {
        api_send_error(&c, arc, "%s", msg);
    } else if (rc == VX_ERR_NOT_FOUND) {
        api_send_error(&c, rc, "no route for %s %s", method, web_path(req));
    } else if (rc == VX_ERR_METHOD) {
        const char *extra[] = {"Allow", m.allow, "X-Request-Id", c.request_id, NULL};
        snprintf(msg, sizeof(msg), "%s is not allowed here (allowed: %s)", method, m.allow);
        send_error_hdrs(&c, rc, msg, extra);
    } else if (rc) {
        api_send_error(&c, rc, "%s", c.err);
    } else {
        run_route(&c, &m);
    }
    uint64_t ns = vx_now_ns() - t0;
    if (srv->metrics) {
        /* a matched route is counted under its own method (HEAD as GET) */
        metrics_observe_request(srv->metrics, pattern ? m.route->method : method, pattern,
                                c.status, (double)ns * 1e-9);
        metrics_request_end(srv->metrics);
    }
    char target[128];
    VX_INFO("%s %s %d %.3f ms id=%s client=%s%s%s", method,
            log_target(pattern, web_path(req), target, sizeof(target)), c.status,
            (double)ns / 1e6, c.request_id, c.client[0] ? c.client : "-",
            c.key_id[0] ? " key=" : "", c.key_id);
    vx_arena_fini(&arena);
    vx_cpu_qos_leave(srv->cpu_qos); /* after the response: the linger covers the next request */
}
