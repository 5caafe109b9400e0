/*
 * upstream.c — bus calls from the gateway (see upstream.h). The in-flight
 * bound is one atomic counter per target: incremented before the call,
 * refused (and decremented) when it was already at the limit.
 */
#include "upstream.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_clock.h"
#include "vx_log.h"
#include "vx_rpc.h"

struct upstream {
    vx_rpc_client *c[2];
    int timeout_ms;
    atomic_uint_fast64_t next_id;
    atomic_int inflight[2];
    int max_inflight; /* 0: unlimited */
    metrics *m;
};

static const char *target_name(up_target t) { return t == UP_STORE ? "store" : "embed"; }

int upstream_open(upstream **out, const char *store_url, const char *embed_url, int timeout_ms)
{
    *out = NULL;
    upstream *u = calloc(1, sizeof(*u));
    if (!u)
        return VX_ERR_NOMEM;
    u->timeout_ms = timeout_ms;
    atomic_init(&u->next_id, 1);
    atomic_init(&u->inflight[0], 0);
    atomic_init(&u->inflight[1], 0);
    int rc = vx_rpc_client_open(&u->c[UP_STORE], store_url, VX_MAX_MSG_BYTES);
    if (rc) {
        VX_ERROR("upstream: cannot open store client for %s: %s", store_url, vx_strerror(rc));
        goto fail;
    }
    rc = vx_rpc_client_open(&u->c[UP_EMBED], embed_url, VX_MAX_MSG_BYTES);
    if (rc) {
        VX_ERROR("upstream: cannot open embed client for %s: %s", embed_url, vx_strerror(rc));
        goto fail;
    }
    *out = u;
    return VX_OK;
fail:
    upstream_close(u);
    return rc;
}

void upstream_close(upstream *u)
{
    if (!u)
        return;
    if (u->c[0])
        vx_rpc_client_close(u->c[0]);
    if (u->c[1])
        vx_rpc_client_close(u->c[1]);
    free(u);
}

int upstream_connected(upstream *u, up_target t) { return vx_rpc_client_connected(u->c[t]); }

void upstream_configure(upstream *u, int max_inflight, metrics *m)
{
    u->max_inflight = max_inflight > 0 ? max_inflight : 0;
    u->m = m;
}

int upstream_inflight(upstream *u, up_target t) { return atomic_load(&u->inflight[t]); }

static int call(upstream *u, up_target t, vx_request *req, int timeout_ms, vx_arena *a,
                vx_reply *rep, char *err, size_t err_len);

int upstream_call(upstream *u, up_target t, vx_request *req, vx_arena *a, vx_reply *rep,
                  char *err, size_t err_len)
{
    return upstream_call_timeout(u, t, req, u->timeout_ms, a, rep, err, err_len);
}

int upstream_call_timeout(upstream *u, up_target t, vx_request *req, int timeout_ms, vx_arena *a,
                          vx_reply *rep, char *err, size_t err_len)
{
    uint64_t t0 = vx_now_ns();
    int rc;
    int n = atomic_fetch_add(&u->inflight[t], 1);
    if (u->max_inflight && n >= u->max_inflight) {
        memset(rep, 0, sizeof(*rep));
        snprintf(err, err_len,
                 "too many requests in flight to the %s service (limit %d); retry later",
                 target_name(t), u->max_inflight);
        rc = VX_ERR_OVERLOADED;
    } else {
        rc = call(u, t, req, timeout_ms, a, rep, err, err_len);
    }
    atomic_fetch_sub(&u->inflight[t], 1);
    if (u->m)
        metrics_observe_upstream(u->m, t == UP_STORE ? METRICS_STORE : METRICS_EMBED,
                                 (int)req->type, rc, (double)(vx_now_ns() - t0) * 1e-9);
    return rc;
}

static int call(upstream *u, up_target t, vx_request *req, int timeout_ms, vx_arena *a,
                vx_reply *rep, char *err, size_t err_len)
{
    vx_buf out = VX_BUF_INIT, in = VX_BUF_INIT;
    int rc;
    req->version = VX_PROTO_VERSION;
    req->request_id = atomic_fetch_add(&u->next_id, 1);
    req->deadline_ms = (uint32_t)timeout_ms;
    memset(rep, 0, sizeof(*rep));
    rc = vx_proto_encode_request(req, &out);
    if (rc) {
        snprintf(err, err_len, "request exceeds a protocol limit");
        goto done;
    }
    uint64_t t0 = vx_now_us();
    rc = vx_rpc_call(u->c[t], out.data, out.len, timeout_ms, &in);
    if (vx_log_enabled(VX_LOG_DEBUG))
        VX_DEBUG("upstream: %s %s rc=%d %llu us", target_name(t), vx_msg_name(req->type), rc,
                 (unsigned long long)(vx_now_us() - t0));
    if (rc) {
        if (rc == VX_ERR_TIMEOUT) {
            snprintf(err, err_len, "%s service did not answer within %d ms", target_name(t),
                     timeout_ms);
        } else {
            if (t == UP_EMBED)
                rc = VX_ERR_EMBED_UNAVAILABLE;
            else
                rc = VX_ERR_UNAVAILABLE;
            snprintf(err, err_len, "%s service is unavailable", target_name(t));
        }
        goto done;
    }
    char derr[128] = "";
    rc = vx_proto_decode_reply(in.data, in.len, a, rep, derr, sizeof(derr));
    if (rc) {
        VX_ERROR("upstream: malformed %s reply: %s", target_name(t), derr);
        snprintf(err, err_len, "malformed reply from the %s service", target_name(t));
        rc = VX_ERR_UPSTREAM;
        goto done;
    }
    rc = rep->status;
    if (rc) {
        if (!vx_err_is_known(rc))
            rc = VX_ERR_INTERNAL;
        snprintf(err, err_len, "%s", rep->err_message ? rep->err_message : vx_strerror(rc));
    }
done:
    vx_buf_free(&out);
    vx_buf_free(&in);
    return rc;
}
