/*
 * vx_rpc.h — the message bus: the only module that talks to nng
 * (common/vx_rpc.c is the only file that includes <nng/nng.h>).
 *
 * Three roles, each an opaque handle with open/close:
 *  - vx_rpc_server: a REP socket served by n worker threads, each with its
 *    own nng context, so n requests run concurrently. The handler gets the
 *    request bytes and fills the reply buffer; it runs on the worker thread
 *    and may block (search, fsync). Received messages are limited to
 *    max_msg_bytes (NNG_OPT_RECVMAXSZ); larger ones are dropped by nng.
 *  - vx_rpc_client: a REQ socket dialled to one server, safe to share among
 *    threads (each call uses its own context). A call with no connected
 *    peer fails fast with VX_ERR_UNAVAILABLE; a call that gets no reply
 *    within timeout_ms fails with VX_ERR_TIMEOUT. REQ's automatic re-send is
 *    disabled (NNG_OPT_REQ_RESENDTIME), so a request is delivered at most
 *    once per call.
 *  - vx_rpc_pub / vx_rpc_sub: PUB/SUB for change events (lossy by design;
 *    subscribers catch up with a request/reply call).
 *
 * URLs are nng URLs: "tcp://127.0.0.1:5601", "ipc:///tmp/x.sock". A tcp URL
 * with port 0 binds a random port; vx_rpc_server_port() tells which.
 * All functions return VX_OK or a negative vx_err code.
 */
#ifndef VX_RPC_H
#define VX_RPC_H

#include <stddef.h>

#include "vx_buf.h"

typedef struct vx_rpc_server vx_rpc_server;
typedef struct vx_rpc_client vx_rpc_client;
typedef struct vx_rpc_pub vx_rpc_pub;
typedef struct vx_rpc_sub vx_rpc_sub;

/* Handles one request. reply is empty on entry; whatever it holds on
 * return is sent (an empty reply is sent as an empty message). */
typedef void (*vx_rpc_handler)(void *arg, const unsigned char *req, size_t req_len, vx_buf *reply);

#define VX_RPC_MAX_LISTEN 4    /* URLs one server listens on */
#define VX_RPC_MAX_URL_LEN 512 /* bytes of one URL */

/* url: one URL, or up to VX_RPC_MAX_LISTEN separated by commas (e.g. a tcp
 * address for remote clients plus an ipc path for a co-located gateway:
 * "tcp://127.0.0.1:5601,ipc:///run/vectron/store.sock"); every URL reaches
 * the same workers. */
int vx_rpc_server_open(vx_rpc_server **out, const char *url, int n_workers, size_t max_msg_bytes,
                       vx_rpc_handler handler, void *arg);
/* Bound port of the first TCP URL (useful with port 0), or -1 without one. */
int vx_rpc_server_port(const vx_rpc_server *s);
/* Stops receiving, waits for running handlers, frees. NULL is a no-op. */
void vx_rpc_server_close(vx_rpc_server *s);

int vx_rpc_client_open(vx_rpc_client **out, const char *url, size_t max_msg_bytes);
/* Sends req and waits for the reply (appended to reply). Thread-safe. */
int vx_rpc_call(vx_rpc_client *c, const void *req, size_t req_len, int timeout_ms, vx_buf *reply);
/* 1 when at least one connection to the server is up. */
int vx_rpc_client_connected(vx_rpc_client *c);
void vx_rpc_client_close(vx_rpc_client *c);

int vx_rpc_pub_open(vx_rpc_pub **out, const char *url);
int vx_rpc_publish(vx_rpc_pub *p, const void *msg, size_t len); /* never blocks */
void vx_rpc_pub_close(vx_rpc_pub *p);

/* Subscribes to every message (empty prefix). */
int vx_rpc_sub_open(vx_rpc_sub **out, const char *url, size_t max_msg_bytes);
/* Waits up to timeout_ms for one message; VX_ERR_TIMEOUT when none. */
int vx_rpc_sub_recv(vx_rpc_sub *s, int timeout_ms, vx_buf *msg);
void vx_rpc_sub_close(vx_rpc_sub *s);

#endif
