/*
 * api.h — the gateway core shared by the handlers: the per-request context
 * and the response helpers.
 *
 * One api_ctx lives on the worker's stack for one request. Everything it
 * points to (decoded params, parsed body, proto structures) is in its arena,
 * released when the request ends. A handler answers exactly once, with
 * api_send_json / api_send_error / api_send_text.
 *
 * Access (dispatch.c, api_access): every request but a CORS preflight is
 * checked BEFORE routing outcomes are revealed: the API key against the
 * route's role (auth_required_role; 401 / 403), then the caller's token
 * bucket (429 + Retry-After). Open routes (GET /health) skip both.
 */
#ifndef API_H
#define API_H

#include <stdbool.h>
#include <stddef.h>

#include "api_config.h"
#include "auth.h"
#include "metrics.h"
#include "ratelimit.h"
#include "reqparse.h"
#include "routes.h"
#include "upstream.h"
#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_cpu_qos.h"
#include "vx_jsonw.h"
#include "vx_value.h"
#include "web.h"

#define API_VERSION "0.1.0"
#define API_DEFAULT_COLLECTION "default"
/* /benchmark's scratch collections: API_BENCH_PREFIX + 16 hex digits; PUT
 * refuses names with the prefix (handlers_bench.c sweeps leftovers). */
#define API_BENCH_PREFIX "_vx_bench_"
bool api_is_bench_scratch_name(const char *name);

typedef struct api_server {
    const api_config *cfg;
    upstream *up;
    web_server *web;
    const auth_table *auth; /* NULL or empty: auth off */
    ratelimit *rl;          /* NULL: no rate limit */
    metrics *metrics;       /* NULL: not collected */
    vx_cpu_qos *cpu_qos;    /* NULL: idle CPUs sleep as usual (vx_cpu_qos.h) */
} api_server;

struct api_ctx {
    web_req *req;
    api_server *srv;
    vx_arena *arena;
    const char *name; /* decoded {name} */
    const char *id;   /* decoded {id} */
    size_t id_len;
    const char *query;     /* raw query string or NULL */
    const vx_value *body;  /* parsed JSON body (ROUTE_BODY routes) */
    int status;            /* status sent, for the access log */
    char request_id[72];   /* X-Request-Id: the client's (if sane) or generated */
    char key_id[AUTH_KEY_ID_LEN]; /* "k:1a2b3c4d" of the caller's key, or "" */
    char client[64];       /* client address (X-Forwarded-For from a trusted proxy) */
    uint32_t retry_after;  /* Retry-After of a 429/503 answer (0: 1 s) */
    char err[RQ_ERR_LEN];  /* scratch for error messages */
};

/* The full route table (dispatch.c). */
extern const route api_routes[];
extern const size_t api_n_routes;

/* The web_handler: routing, body checks, access log. arg is api_server*. */
void api_handle(void *arg, web_req *req);

/* The access decision for one request (no I/O). pattern is the matched
 * route's pattern or NULL (no route). Fills c->key_id, c->client (from
 * remote_ip / xff) and, for 429, c->retry_after. Returns VX_OK or
 * VX_ERR_UNAUTHORIZED / VX_ERR_FORBIDDEN / VX_ERR_RATE_LIMITED with the
 * client message in msg (never key material). */
int api_access(api_ctx *c, const char *method, const char *pattern, const char *authorization,
               const char *x_api_key, const char *remote_ip, const char *xff, char *msg,
               size_t msg_len);
/* Registers every route of api_routes with m. */
int api_metrics_register(metrics *m);

void api_send_json(api_ctx *c, int status, const vx_buf *body);
/* {"error": {"code": vx_errname(code), "message": ...}} with vx_err_http_status(code). */
void api_send_error(api_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void api_send_text(api_ctx *c, int status, const char *text);
/* A duration in milliseconds, rounded to the nanosecond (short JSON). */
void api_write_ms(vx_jsonw *w, double ms);
/* "application/json" with optional parameters, case-insensitive; a charset
 * parameter must name UTF-8 (JSON is UTF-8: anything else is 415). */
bool api_is_json_type(const char *content_type);

/* A store/embed call; on failure answers the error and returns it. */
int api_call(api_ctx *c, up_target t, vx_request *req, vx_reply *rep);
/* How long GET /health and GET /metrics wait for a service's HEALTH reply:
 * a hung (not dead) backend must not hold a load balancer's health check
 * for the whole request timeout. */
#define API_HEALTH_TIMEOUT_MS 1000
/* One HEALTH call to t within API_HEALTH_TIMEOUT_MS (handlers_ops.c);
 * true when it answered. Answers nothing to the client. */
bool api_ping(api_ctx *c, up_target t, vx_reply *rep);
/* Embeds n texts with model (NULL: default). vectors is n x *dim. On failure
 * answers the error (embed down → 503 embedding_unavailable) and returns it. */
int api_embed(api_ctx *c, const char *model, const char **texts, uint32_t n, vx_reply *rep);
/* Reads the body's "text" (required) and "model" (optional) of the
 * text routes; on a bad body answers 400 naming the field and returns it. */
int api_body_text_model(api_ctx *c, const char **text, const char **model);

/* Handlers: collections API (handlers_coll.c, handlers_points.c). */
void h_coll_put(api_ctx *c);
void h_coll_list(api_ctx *c);
void h_coll_get(api_ctx *c);
void h_coll_delete(api_ctx *c);
void h_points_upsert(api_ctx *c);
void h_points_list(api_ctx *c);
void h_point_get(api_ctx *c);
void h_point_delete(api_ctx *c);
void h_points_delete(api_ctx *c);
void h_search(api_ctx *c);
/* Writes collection info as a JSON object. */
void api_write_coll_info(vx_jsonw *w, const vx_coll_info *info);

/* Vectron routes (handlers_legacy.c, handlers_embed.c, handlers_bench.c). */
void h_root(api_ctx *c);
void h_vector_post(api_ctx *c);
void h_vector_get(api_ctx *c);
void h_vector_delete(api_ctx *c);
void h_vectors(api_ctx *c);
void h_search_vector(api_ctx *c);
void h_search_text(api_ctx *c);
void h_upsert_text(api_ctx *c);
void h_embed(api_ctx *c);
void h_batch_embed(api_ctx *c);
void h_models(api_ctx *c);
void h_health(api_ctx *c);
void h_metrics(api_ctx *c);
void h_dashboard(api_ctx *c); /* dashboard.c */
void h_benchmark(api_ctx *c);
/* POST /benchmark/models (handlers_models_bench.c). */
void h_models_bench(api_ctx *c);

#endif
