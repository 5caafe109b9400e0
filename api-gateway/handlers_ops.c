/*
 * handlers_ops.c — GET /metrics: the Prometheus exposition of the gateway's
 * registry (metrics.c), refreshed with the store's and the embed service's
 * HEALTH stats at each scrape. A service that does not answer (within
 * API_HEALTH_TIMEOUT_MS) is exported as vectron_service_up{service=...} 0
 * without stale values (metrics.c forgets them). Role: read (auth.c policy).
 * Also api_ping, the HEALTH call that GET /health shares.
 */
#include <string.h>

#include "api.h"
#include "vx_err.h"

bool api_ping(api_ctx *c, up_target t, vx_reply *rep)
{
    if (!upstream_connected(c->srv->up, t))
        return false;
    vx_request req;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_HEALTH;
    return upstream_call_timeout(c->srv->up, t, &req, API_HEALTH_TIMEOUT_MS, c->arena, rep, c->err,
                                 sizeof(c->err)) == VX_OK;
}

/* One HEALTH call; imports its stats into the registry. */
static void refresh(api_ctx *c, up_target t, metrics_service svc)
{
    metrics *m = c->srv->metrics;
    vx_reply rep;
    bool up = api_ping(c, t, &rep);
    metrics_set_service_up(m, svc, up);
    if (up)
        metrics_import_health(m, svc, rep.body.health.stats);
}

void h_metrics(api_ctx *c)
{
    if (!c->srv->metrics) {
        api_send_error(c, VX_ERR_NOT_FOUND, "metrics are not collected by this gateway");
        return;
    }
    refresh(c, UP_STORE, METRICS_STORE);
    refresh(c, UP_EMBED, METRICS_EMBED);
    vx_buf b = VX_BUF_INIT;
    metrics_render(c->srv->metrics, &b);
    const char *extra[] = {"X-Request-Id", c->request_id, "Cache-Control", "no-store", NULL};
    c->status = 200;
    web_respond(c->req, 200, METRICS_CONTENT_TYPE, b.data, b.len, extra);
    vx_buf_free(&b);
}
