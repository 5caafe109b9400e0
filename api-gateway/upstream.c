/*
 * upstream.c — bus calls from the gateway (see upstream.h). The in-flight
 * bound is one counter per target under a mutex: a call takes a slot before
 * it is sent and gives it back when its reply (or error) is in; a call that
 * finds every slot taken waits on the target's condition variable for at
 * most queue_wait_ms (and never past its own timeout), then is refused.
 */
#include "upstream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx_clock.h"
#include "vx_log.h"
#include "vx_rpc.h"

/* The in-flight bound of one target. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a slot is given back */
    int inflight;      /* calls holding a slot */
    int waiting;       /* calls waiting for one */
} up_slots;

struct upstream {
    vx_rpc_client *c[2];
    int timeout_ms;
    atomic_uint_fast64_t next_id;
    up_slots slots[2];
    int max_inflight;  /* 0: unlimited */
    int queue_wait_ms; /* longest wait for a slot; 0: refuse at once */
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
    for (int t = 0; t < 2; t++) {
        pthread_mutex_init(&u->slots[t].mu, NULL);
        vx_cond_init_monotonic(&u->slots[t].cv);
    }
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
    for (int t = 0; t < 2; t++) {
        pthread_mutex_destroy(&u->slots[t].mu);
        pthread_cond_destroy(&u->slots[t].cv);
    }
    free(u);
}

int upstream_connected(upstream *u, up_target t) { return vx_rpc_client_connected(u->c[t]); }

void upstream_configure(upstream *u, int max_inflight, int queue_wait_ms, metrics *m)
{
    u->max_inflight = max_inflight > 0 ? max_inflight : 0;
    u->queue_wait_ms = queue_wait_ms > 0 ? queue_wait_ms : 0;
    u->m = m;
}

int upstream_inflight(upstream *u, up_target t)
{
    pthread_mutex_lock(&u->slots[t].mu);
    int n = u->slots[t].inflight;
    pthread_mutex_unlock(&u->slots[t].mu);
    return n;
}

/* Takes a slot of t, waiting at most wait_ms for one; false when none came. */
static bool slot_take(upstream *u, up_target t, int wait_ms)
{
    up_slots *s = &u->slots[t];
    bool ok = true;
    pthread_mutex_lock(&s->mu);
    if (u->max_inflight && s->inflight >= u->max_inflight) {
        struct timespec until = vx_timespec_in_ms(CLOCK_MONOTONIC, (uint32_t)wait_ms);
        s->waiting++;
        while (s->inflight >= u->max_inflight && wait_ms > 0) {
            if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
                break;
        }
        s->waiting--;
        ok = s->inflight < u->max_inflight;
    }
    if (ok)
        s->inflight++;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void slot_give(upstream *u, up_target t)
{
    up_slots *s = &u->slots[t];
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    if (s->waiting)
        pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

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
    int wait_ms = u->queue_wait_ms < timeout_ms ? u->queue_wait_ms : timeout_ms;
    if (!slot_take(u, t, wait_ms)) {
        memset(rep, 0, sizeof(*rep));
        if (wait_ms > 0)
            snprintf(err, err_len,
                     "too many requests in flight to the %s service (limit %d, none finished "
                     "within %d ms); retry later",
                     target_name(t), u->max_inflight, wait_ms);
        else
            snprintf(err, err_len,
                     "too many requests in flight to the %s service (limit %d); retry later",
                     target_name(t), u->max_inflight);
        rc = VX_ERR_OVERLOADED;
    } else {
        int left = timeout_ms - (int)((vx_now_ns() - t0) / 1000000u);
        rc = call(u, t, req, left > 0 ? left : 1, a, rep, err, err_len);
        slot_give(u, t);
    }
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
    if (out.len > VX_MAX_MSG_BYTES) {
        /* the service would drop it unanswered (a body limit raised with
         * --max-body-bytes can let such a request through the HTTP side) */
        snprintf(err, err_len,
                 "request: %zu bytes on the bus, above its %d-byte message limit; send fewer or "
                 "smaller points per request",
                 out.len, VX_MAX_MSG_BYTES);
        rc = VX_ERR_TOO_LARGE;
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
