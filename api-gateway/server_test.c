/*
 * server_test.c — the gateway's access wiring end to end: the real
 * api_handle behind the real civetweb adapter on a loopback port, in front
 * of a fake store (a vx_rpc_server answering HEALTH and, slowly, COLL_LIST).
 * Checks what users and operators depend on: roles per route (401 with
 * WWW-Authenticate / 403, /health open, 404 only for key holders), keys
 * never echoed, per-key rate limits (429 + Retry-After, /health exempt),
 * the in-flight bound (503 overloaded at once instead of queueing), and
 * /metrics (Prometheus text with request counters and HEALTH gauges).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_rpc.h"
#include "vx_test.h"

#define READ_KEY "read-key-0123456789abcdef"
#define WRITE_KEY "write-key-0123456789abcdef"

/* ---- the fake store ------------------------------------------------------ */

static int g_list_delay_ms;

static void fake_store(void *arg, const unsigned char *data, size_t len, vx_buf *out)
{
    (void)arg;
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_request req;
    vx_reply rep;
    char err[128];
    memset(&rep, 0, sizeof rep);
    if (vx_proto_decode_request(data, len, &a, &req, err, sizeof err) == VX_OK) {
        rep.version = VX_PROTO_VERSION;
        rep.type = req.type;
        rep.request_id = req.request_id;
        if (req.type == VX_MSG_HEALTH) {
            static vx_member stats[2] = {{"collections", 11, {.type = VX_VAL_INT, .u.i = 3}},
                                         {"points", 6, {.type = VX_VAL_INT, .u.i = 42}}};
            static const vx_value obj = {.type = VX_VAL_OBJECT, .u.obj = {stats, 2}};
            rep.body.health.service = "store";
            rep.body.health.version = "test";
            rep.body.health.stats = &obj;
        } else if (req.type == VX_MSG_COLL_LIST) {
            if (g_list_delay_ms)
                usleep((useconds_t)g_list_delay_ms * 1000);
        } else {
            rep.status = VX_ERR_INVALID;
            rep.err_message = "not supported by the fake store";
        }
        vx_proto_encode_reply(&rep, out);
    }
    vx_arena_fini(&a);
}

/* ---- a gateway ------------------------------------------------------------ */

typedef struct gw {
    api_config cfg;
    api_server srv;
    auth_table *keys;
    vx_rpc_server *store;
    char dir[64], store_url[128];
    int port;
} gw;

static void gw_start_q(gw *g, double rate, int burst, int max_inflight, int queue_wait_ms)
{
    memset(g, 0, sizeof *g);
    vx_log_init("server_test", VX_LOG_ERROR);
    snprintf(g->dir, sizeof g->dir, "/tmp/vx-server-test.XXXXXX");
    if (!mkdtemp(g->dir))
        abort();
    snprintf(g->store_url, sizeof g->store_url, "ipc://%s/store.sock", g->dir);
    if (vx_rpc_server_open(&g->store, g->store_url, 4, VX_MAX_MSG_BYTES, fake_store, NULL))
        abort();
    g->cfg = (api_config){.bind = "127.0.0.1",
                          .threads = 8,
                          .max_body_bytes = 1 << 20,
                          .request_timeout_ms = 5000,
                          .cors_origin = "",
                          .rate_limit = (int64_t)rate,
                          .rate_burst = burst,
                          .trusted_proxies = "",
                          .max_inflight = max_inflight,
                          .queue_wait_ms = queue_wait_ms};
    g->srv.cfg = &g->cfg;
    auth_table_create(&g->keys);
    auth_table_add_key(g->keys, AUTH_ROLE_READ, READ_KEY, strlen(READ_KEY));
    auth_table_add_key(g->keys, AUTH_ROLE_WRITE, WRITE_KEY, strlen(WRITE_KEY));
    g->srv.auth = g->keys;
    if (rate) {
        ratelimit_config rc = {.rate = rate, .burst = burst};
        if (ratelimit_create(&rc, &g->srv.rl))
            abort();
    }
    if (metrics_create(&g->srv.metrics) || api_metrics_register(g->srv.metrics))
        abort();
    char embed_url[128];
    snprintf(embed_url, sizeof embed_url, "ipc://%s/embed.sock", g->dir); /* nobody there */
    if (upstream_open(&g->srv.up, g->store_url, embed_url, 5000))
        abort();
    upstream_configure(g->srv.up, max_inflight, queue_wait_ms, g->srv.metrics);
    web_options wo = {.bind = "127.0.0.1", .port = 0, .threads = 8, .request_timeout_ms = 5000,
                      .cors_origin = ""};
    if (web_start(&g->srv.web, &wo, api_handle, &g->srv))
        abort();
    g->port = web_port(g->srv.web);
    for (int i = 0; i < 200 && !upstream_connected(g->srv.up, UP_STORE); i++)
        usleep(10000);
}

static void gw_start(gw *g, double rate, int burst, int max_inflight)
{
    gw_start_q(g, rate, burst, max_inflight, 0);
}

static void gw_stop(gw *g)
{
    web_stop(g->srv.web);
    upstream_close(g->srv.up);
    vx_rpc_server_close(g->store);
    metrics_destroy(g->srv.metrics);
    ratelimit_destroy(g->srv.rl);
    auth_table_destroy(g->keys);
    char path[160];
    snprintf(path, sizeof path, "%s/store.sock", g->dir);
    unlink(path);
    rmdir(g->dir);
}

/* One request on a fresh connection; returns the status, the whole
 * response (headers + body) in resp. */
static int http(const gw *g, const char *method, const char *path, const char *headers,
                const char *body, char *resp, size_t resp_len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g->port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, headers ? headers : "",
                     body ? "Content-Type: application/json\r\n" : "", body ? strlen(body) : 0,
                     body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < resp_len && (r = read(fd, resp + got, resp_len - got - 1)) > 0)
        got += (size_t)r;
    resp[got] = 0;
    close(fd);
    return got > 12 ? atoi(resp + 9) : -1;
}

TEST(server_roles_per_route)
{
    gw g;
    gw_start(&g, 0, 0, 0);
    char r[8192];
    ASSERT_EQ_INT(http(&g, "GET", "/health", NULL, NULL, r, sizeof r), 200);
    ASSERT_EQ_INT(http(&g, "HEAD", "/health", NULL, NULL, r, sizeof r), 200); /* no body */
    ASSERT_MSG(strstr(r, "\r\n\r\n") && strstr(r, "\r\n\r\n")[4] == '\0', "%s", r);
    ASSERT_EQ_INT(http(&g, "GET", "/collections", NULL, NULL, r, sizeof r), 401);
    ASSERT_MSG(strstr(r, "WWW-Authenticate: Bearer realm=\"vectron\"") && strstr(r, "\"unauthorized\""),
               "%s", r);
    ASSERT_EQ_INT(http(&g, "GET", "/collections", "Authorization: Bearer wrong-key-0123456789\r\n",
                       NULL, r, sizeof r),
                  401);
    ASSERT_MSG(!strstr(r, "wrong-key"), "the presented key is echoed: %s", r);
    ASSERT_EQ_INT(http(&g, "GET", "/collections", "Authorization: Bearer " READ_KEY "\r\n", NULL,
                       r, sizeof r),
                  200);
    ASSERT_EQ_INT(http(&g, "GET", "/collections", "X-API-Key: " READ_KEY "\r\n", NULL, r, sizeof r),
                  200);
    /* a read key may not write; a write key passes auth (the fake store
     * then refuses the call itself) */
    ASSERT_EQ_INT(http(&g, "PUT", "/collections/c", "X-API-Key: " READ_KEY "\r\n",
                       "{\"dimension\": 3}", r, sizeof r),
                  403);
    ASSERT_MSG(strstr(r, "\"forbidden\"") && strstr(r, "write") && !strstr(r, READ_KEY), "%s", r);
    int st = http(&g, "PUT", "/collections/c", "X-API-Key: " WRITE_KEY "\r\n",
                  "{\"dimension\": 3}", r, sizeof r);
    ASSERT_MSG(st != 401 && st != 403, "write key refused: %d", st);
    /* only admin may run the benchmark */
    ASSERT_EQ_INT(http(&g, "POST", "/benchmark", "X-API-Key: " WRITE_KEY "\r\n", NULL, r, sizeof r),
                  403);
    /* the API is not mapped for strangers: 401 before 404/405 */
    ASSERT_EQ_INT(http(&g, "GET", "/no/such/route", NULL, NULL, r, sizeof r), 401);
    ASSERT_EQ_INT(http(&g, "GET", "/no/such/route", "X-API-Key: " READ_KEY "\r\n", NULL, r,
                       sizeof r),
                  404);
    ASSERT_EQ_INT(http(&g, "PATCH", "/collections", NULL, NULL, r, sizeof r), 401);
    gw_stop(&g);
}

TEST(server_rate_limit_per_key)
{
    gw g;
    gw_start(&g, 0.01, 3, 0); /* burst 3, then one request per 100 s */
    char r[8192];
    for (int i = 0; i < 3; i++)
        ASSERT_EQ_INT(http(&g, "GET", "/collections", "X-API-Key: " READ_KEY "\r\n", NULL, r,
                           sizeof r),
                      200);
    ASSERT_EQ_INT(http(&g, "GET", "/collections", "X-API-Key: " READ_KEY "\r\n", NULL, r, sizeof r),
                  429);
    const char *ra = strstr(r, "Retry-After: ");
    ASSERT_MSG(ra && atoi(ra + 13) >= 90 && atoi(ra + 13) <= 100 && strstr(r, "\"rate_limited\""),
               "%s", r);
    /* another key has its own bucket; /health is never limited */
    ASSERT_EQ_INT(http(&g, "GET", "/collections", "X-API-Key: " WRITE_KEY "\r\n", NULL, r,
                       sizeof r),
                  200);
    for (int i = 0; i < 5; i++)
        ASSERT_EQ_INT(http(&g, "GET", "/health", NULL, NULL, r, sizeof r), 200);
    gw_stop(&g);
}

typedef struct slow_call {
    const gw *g;
    int status;
    double ms;
    char resp[4096];
} slow_call;

static void *slow_list(void *arg)
{
    slow_call *s = arg;
    uint64_t t0 = vx_now_ns();
    s->status = http(s->g, "GET", "/collections", "X-API-Key: " READ_KEY "\r\n", NULL, s->resp,
                     sizeof s->resp);
    s->ms = (double)(vx_now_ns() - t0) / 1e6;
    return NULL;
}

/* Starts a (a slow store call of delay_ms), waits until it is inside the
 * store call, then runs b beside it; joins both. Returns the calls in
 * flight seen once a was inside (1 expected). */
static int overlap_two_lists(gw *g, int delay_ms, slow_call *a, slow_call *b)
{
    g_list_delay_ms = delay_ms;
    *a = (slow_call){.g = g};
    *b = (slow_call){.g = g};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, slow_list, a);
    for (int i = 0; i < 400 && upstream_inflight(g->srv.up, UP_STORE) == 0; i++)
        usleep(5000);
    int inflight = upstream_inflight(g->srv.up, UP_STORE);
    pthread_create(&tb, NULL, slow_list, b);
    pthread_join(tb, NULL);
    pthread_join(ta, NULL);
    g_list_delay_ms = 0;
    return inflight;
}

TEST(server_overload_without_queue_answers_503_at_once)
{
    gw g;
    gw_start(&g, 0, 0, 1); /* one store call at a time */
    slow_call a, b;
    ASSERT_EQ_INT(overlap_two_lists(&g, 800, &a, &b), 1);
    ASSERT_EQ_INT(a.status, 200);
    ASSERT_EQ_INT(b.status, 503);
    ASSERT_MSG(strstr(b.resp, "\"overloaded\"") && strstr(b.resp, "Retry-After: "), "%s", b.resp);
    ASSERT_MSG(b.ms < 300, "the refused call waited %.0f ms", b.ms);
    ASSERT_EQ_INT(upstream_inflight(g.srv.up, UP_STORE), 0);
    /* the bound frees up again */
    char r[4096];
    ASSERT_EQ_INT(http(&g, "GET", "/collections", "X-API-Key: " READ_KEY "\r\n", NULL, r, sizeof r),
                  200);
    gw_stop(&g);
}

/* With a queue wait, a call beyond the bound waits for the running one and
 * succeeds; when the running one outlasts the wait, 503 after the wait. */
TEST(server_overload_queues_then_answers_503)
{
    gw g;
    gw_start_q(&g, 0, 0, 1, 300); /* one store call at a time, wait up to 300 ms */
    slow_call a, b;
    ASSERT_EQ_INT(overlap_two_lists(&g, 150, &a, &b), 1);
    ASSERT_EQ_INT(a.status, 200);
    ASSERT_MSG(b.status == 200, "the queued call got %d: %s", b.status, b.resp);

    /* now the running call outlasts the 300 ms wait */
    ASSERT_EQ_INT(overlap_two_lists(&g, 900, &a, &b), 1);
    ASSERT_EQ_INT(a.status, 200);
    ASSERT_EQ_INT(b.status, 503);
    ASSERT_MSG(strstr(b.resp, "\"overloaded\"") && strstr(b.resp, "within 300 ms"), "%s", b.resp);
    ASSERT_MSG(b.ms >= 280 && b.ms < 800, "the refused call answered after %.0f ms", b.ms);
    ASSERT_EQ_INT(upstream_inflight(g.srv.up, UP_STORE), 0);
    gw_stop(&g);
}

TEST(server_metrics_exposition)
{
    gw g;
    gw_start(&g, 0, 0, 0);
    char r[65536];
    http(&g, "GET", "/collections", NULL, NULL, r, sizeof r);                           /* 401 */
    http(&g, "GET", "/collections", "X-API-Key: " READ_KEY "\r\n", NULL, r, sizeof r); /* 200 */
    ASSERT_EQ_INT(http(&g, "GET", "/metrics", NULL, NULL, r, sizeof r), 401);
    ASSERT_EQ_INT(http(&g, "GET", "/metrics", "X-API-Key: " READ_KEY "\r\n", NULL, r, sizeof r),
                  200);
    ASSERT_MSG(strstr(r, "Content-Type: text/plain; version=0.0.4"), "%.300s", r);
    const char *want[] = {
        "vectron_http_requests_total{route=\"/collections\",method=\"GET\",code=\"401\"} 1\n",
        "vectron_http_requests_total{route=\"/collections\",method=\"GET\",code=\"200\"} 1\n",
        "vectron_http_requests_total{route=\"/metrics\",method=\"GET\",code=\"401\"} 1\n",
        "vectron_http_requests_in_flight 1\n", /* the scrape itself */
        "vectron_service_up{service=\"store\"} 1\n",
        "vectron_service_up{service=\"embed\"} 0\n",
        "vectron_store_points 42\n",
        "vectron_store_collections 3\n",
        "vectron_upstream_requests_total{service=\"store\",op=\"coll_list\",status=\"ok\"} 1\n",
        "vectron_http_request_duration_seconds_count{route=\"/collections\",method=\"GET\"} 2\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ASSERT_MSG(strstr(r, want[i]), "missing %s", want[i]);
    ASSERT(!strstr(r, READ_KEY));
    gw_stop(&g);
}

/* The client address: X-Forwarded-For only from a trusted proxy. */
TEST(server_access_client_address)
{
    api_config cfg = {.trusted_proxies = "10.0.0.1"};
    api_server srv = {.cfg = &cfg};
    api_ctx c;
    char msg[256];
    memset(&c, 0, sizeof c);
    c.srv = &srv;
    ASSERT_EQ_INT(api_access(&c, "GET", "/collections", NULL, NULL, "10.0.0.1", "1.2.3.4", msg,
                             sizeof msg),
                  VX_OK); /* no table: auth off */
    ASSERT_STR_EQ(c.client, "1.2.3.4");
    ASSERT_EQ_INT(api_access(&c, "GET", "/collections", NULL, NULL, "10.0.0.9", "1.2.3.4", msg,
                             sizeof msg),
                  VX_OK);
    ASSERT_STR_EQ(c.client, "10.0.0.9");
}
