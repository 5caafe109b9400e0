/*
 * upstream.h — the gateway's two bus clients (store and embed service).
 *
 * upstream_call encodes a request (request_id from a process-wide counter,
 * deadline = the call timeout), sends it, and decodes the reply into the
 * caller's arena. It returns VX_OK only when the reply's status is VX_OK;
 * otherwise the service's status (or a transport error) with a message in
 * err. Transport errors: no connection → VX_ERR_UNAVAILABLE (store) or
 * VX_ERR_EMBED_UNAVAILABLE (embed); no reply in time → VX_ERR_TIMEOUT.
 *
 * Overload: at most max_inflight calls per target run at once (0:
 * unlimited). A call beyond that waits for a running call to finish, at
 * most queue_wait_ms (and never past its own timeout; the wait counts
 * against it), then fails with VX_ERR_OVERLOADED (503 "overloaded" +
 * Retry-After); queue_wait_ms 0 refuses at once. Waiters are woken one per
 * finished call (no fairness order is promised).
 * With a metrics registry set, every call is counted (service, message
 * type, status, duration), overload refusals included.
 *
 * Thread-safe: civetweb workers share one upstream. upstream_configure is
 * called once, before the server starts.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>

#include "metrics.h"
#include "vx_proto.h"

typedef struct upstream upstream;

typedef enum { UP_STORE = 0, UP_EMBED = 1 } up_target;

int upstream_open(upstream **out, const char *store_url, const char *embed_url, int timeout_ms);
/* max_inflight per target (0: unlimited), the longest wait for a slot;
 * m may be NULL (not owned). */
void upstream_configure(upstream *u, int max_inflight, int queue_wait_ms, metrics *m);
/* Calls running now to target t. */
int upstream_inflight(upstream *u, up_target t);
void upstream_close(upstream *u);
int upstream_call(upstream *u, up_target t, vx_request *req, vx_arena *a, vx_reply *rep,
                  char *err, size_t err_len);
/* upstream_call with this call's own timeout (and deadline_ms) instead of
 * the configured one: for the rare long operations (MODELS_BENCH).
 * timeout_ms > 0. */
int upstream_call_timeout(upstream *u, up_target t, vx_request *req, int timeout_ms, vx_arena *a,
                          vx_reply *rep, char *err, size_t err_len);
/* 1 when a connection to the target is up. */
int upstream_connected(upstream *u, up_target t);

#endif
