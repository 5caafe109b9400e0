/*
 * vx_rpc.c — the nng adapter (see vx_rpc.h); the only file that includes nng.
 *
 * Server: one REP socket, n worker pthreads, each owning one nng_ctx and one
 * nng_aio used synchronously (recv + wait, handler, send + wait). A failed
 * send leaves the message ours, so it is freed. Closing the socket makes
 * every pending wait return NNG_ECLOSED; the workers then exit and are
 * joined, so vx_rpc_server_close returns only after running handlers ended.
 *
 * Client: one REQ socket with one non-blocking dialer (it starts while the
 * server is down and keeps reconnecting, 50 ms doubling to 1 s). Each call
 * borrows a {ctx, aio} slot from a pool (grown on demand, never shrunk), so
 * calls from many threads run concurrently. Invariants:
 *  - REQ's timed re-send is disabled (resend time = infinite, on the socket
 *    and on each ctx). With re-send disabled, nng 1.5 also fails a request
 *    whose connection drops with NNG_ECONNRESET instead of re-queueing it
 *    for the next connection, so a request reaches the server at most once
 *    per call, and a server that dies mid-call gives UNAVAILABLE at once.
 *  - pipes is the set of connected pipe ids, maintained by ADD_POST/REM_POST
 *    callbacks under mu (nng calls them with none of its locks held); a call
 *    with no connected pipe waits on cv at most
 *    min(timeout, VX_RPC_CONNECT_WAIT_MS) and fails with VX_ERR_UNAVAILABLE.
 *  - a slot goes back to the pool only after its operation finished, and an
 *    unfinished REQ exchange is always ended through nng's cancel path
 *    (timeouts are never 0, see vx_rpc_remaining), which resets the ctx;
 *  - calls hold `life` shared for their whole run; vx_rpc_redial holds it
 *    exclusively to replace the socket (and its slots) when no connection
 *    has come back for VX_RPC_REDIAL_AFTER_MS (nng 1.5.2's dialer was seen
 *    to stop redialling after a kill -9 of the server).
 *
 * PUB/SUB: a PUB socket listening, SUB sockets dialling without blocking and
 * subscribed to everything; vx_rpc_sub_recv uses one aio under a mutex.
 *
 * Listeners (REP and PUB) are watched (vx_listen_watch.h): one that stops
 * accepting — nng 1.5.2 after a peer closes mid-handshake — is closed and
 * opened again on the same resolved URL.
 */
#include "vx_rpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "vx_clock.h"
#include "vx_err.h"
#include "vx_listen_watch.h"
#include "vx_log.h"

#define VX_RPC_CONNECT_WAIT_MS 250
#define VX_RPC_REDIAL_AFTER_MS 3000
#define VX_RPC_RECONNECT_MIN_MS 50
#define VX_RPC_RECONNECT_MAX_MS 1000
#define VX_RPC_MAX_WORKERS 256

static int vx_rpc_err(int nng_rv)
{
    static const struct {
        int nng, vx;
    } map[] = {{0, VX_OK},
               {NNG_ETIMEDOUT, VX_ERR_TIMEOUT},
               {NNG_ENOMEM, VX_ERR_NOMEM},
               {NNG_EADDRINUSE, VX_ERR_INVALID},
               {NNG_EADDRINVAL, VX_ERR_INVALID},
               {NNG_EINVAL, VX_ERR_INVALID},
               {NNG_ENOTSUP, VX_ERR_INVALID},
               {NNG_ECLOSED, VX_ERR_UNAVAILABLE},
               {NNG_ECONNREFUSED, VX_ERR_UNAVAILABLE},
               {NNG_ECONNSHUT, VX_ERR_UNAVAILABLE},
               {NNG_ECONNRESET, VX_ERR_UNAVAILABLE},
               {NNG_ECANCELED, VX_ERR_UNAVAILABLE},
               {NNG_EMSGSIZE, VX_ERR_TOO_LARGE}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].nng == nng_rv)
            return map[i].vx;
    return VX_ERR_INTERNAL;
}

/* ---- listeners (server and pub) ---------------------------------------- */

/* The URLs one socket listens on, resolved (tcp port 0 replaced by the bound
 * port, so a restart binds the same address), and their watchdog. */
typedef struct vx_rpc_listeners {
    nng_socket sock;
    int n;
    nng_listener l[VX_RPC_MAX_LISTEN];
    char url[VX_RPC_MAX_LISTEN][VX_LISTEN_WATCH_URL_MAX];
    int port; /* the first tcp URL's bound port; -1: none */
    atomic_int lid[VX_RPC_MAX_LISTEN];            /* l[i]'s id, for the pipe callback */
    atomic_ullong attached[VX_RPC_MAX_LISTEN];    /* connections l[i] handed over */
    vx_listen_watch *watch;
} vx_rpc_listeners;

/* Pipe callback (ADD_POST, on nng's thread): counts the connections each
 * listener handed to the socket. */
static void vx_rpc_listener_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    vx_rpc_listeners *ls = arg;
    int id = nng_listener_id(nng_pipe_listener(p));
    (void)ev;
    for (int i = 0; i < VX_RPC_MAX_LISTEN; i++)
        if (atomic_load(&ls->lid[i]) == id)
            atomic_fetch_add(&ls->attached[i], 1);
}

/* vx_listen_accepts_fn */
static long long vx_rpc_listener_accepts(void *arg, int i)
{
    vx_rpc_listeners *ls = arg;
    return (long long)atomic_load(&ls->attached[i]);
}

/* vx_listen_restart_fn: runs on the watch thread. Closing the listener also
 * closes the connections it accepted; their clients redial. */
static int vx_rpc_relisten(void *arg, int i)
{
    vx_rpc_listeners *ls = arg;
    nng_listener_close(ls->l[i]); /* unlinks an ipc socket file */
    int rv = nng_listen(ls->sock, ls->url[i], &ls->l[i], 0);
    atomic_store(&ls->lid[i], rv == 0 ? nng_listener_id(ls->l[i]) : -1);
    if (rv == 0)
        VX_INFO("bus: listening again on %s", ls->url[i]);
    else
        VX_ERROR("bus: cannot listen again on %s: %s", ls->url[i], nng_strerror(rv));
    return vx_rpc_err(rv);
}

/* Listens on every URL of the comma-separated list (one socket: for a
 * server, every worker serves all of them), then starts the watchdog. */
static int vx_rpc_listen_all(vx_rpc_listeners *ls, nng_socket sock, const char *urls, const char *what)
{
    ls->sock = sock;
    ls->port = -1;
    for (int i = 0; i < VX_RPC_MAX_LISTEN; i++)
        atomic_store(&ls->lid[i], -1);
    int rv = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, vx_rpc_listener_pipe_cb, ls);
    if (rv != 0) {
        VX_ERROR("%s: %s", what, nng_strerror(rv));
        return vx_rpc_err(rv);
    }
    int n = vx_listen_url_list(urls, ls->url, VX_RPC_MAX_LISTEN, VX_RPC_MAX_URL_LEN);
    if (n < 0) {
        VX_ERROR("%s: bad listen list \"%s\" (at most %d comma-separated URLs of 1..%d bytes)", what,
                 urls, VX_RPC_MAX_LISTEN, VX_RPC_MAX_URL_LEN);
        return VX_ERR_INVALID;
    }
    for (; ls->n < n; ls->n++) {
        char *one = ls->url[ls->n];
        int port;
        rv = nng_listen(sock, one, &ls->l[ls->n], 0);
        atomic_store(&ls->lid[ls->n], rv == 0 ? nng_listener_id(ls->l[ls->n]) : -1);
        if (rv != 0) {
            VX_ERROR("%s: cannot listen on %s: %s", what, one, nng_strerror(rv));
            return rv == NNG_EADDRINUSE ? VX_ERR_CONFLICT : vx_rpc_err(rv);
        }
        char *colon = strrchr(one, ':');
        if (strncmp(one, "tcp", 3) == 0 &&
            nng_listener_get_int(ls->l[ls->n], NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
            ls->port = ls->port < 0 ? port : ls->port;
            if (colon && strcmp(colon, ":0") == 0)
                snprintf(colon, 8, ":%d", port); /* a restart binds the same port */
        }
    }
    const char *list[VX_RPC_MAX_LISTEN];
    for (int i = 0; i < ls->n; i++)
        list[i] = ls->url[i];
    int rc = vx_listen_watch_start(&ls->watch, list, ls->n, 0, vx_rpc_listener_accepts, vx_rpc_relisten, ls);
    if (rc != VX_OK)
        VX_WARN("%s: listeners not watched: %s", what, vx_strerror(rc));
    return VX_OK;
}

/* ---- server ------------------------------------------------------------- */

typedef struct vx_rpc_worker {
    struct vx_rpc_server *srv;
    nng_ctx ctx;
    nng_aio *aio;
    pthread_t thread;
    bool started;
    atomic_bool receiving; /* waiting for a request: close may cancel that at once */
} vx_rpc_worker;

struct vx_rpc_server {
    nng_socket sock;
    vx_rpc_listeners ls;
    vx_rpc_handler handler;
    void *arg;
    int n_workers;
    vx_rpc_worker *workers;
    atomic_bool stopping; /* set by close: workers exit after their current request */
};

/* Idle workers wait for a request without a timeout (no wake-ups while
 * idle); close cancels their receive, re-trying every VX_RPC_STOP_POLL_MS
 * until each worker has exited (a cancel that lands just before a worker
 * starts its receive is lost; the next one is not). Closing the socket under
 * a worker that is between its handler and nng_ctx_send made nng 1.5.2 panic
 * (use of a freed ctx), so close stops the workers first, then the socket. */
#define VX_RPC_STOP_POLL_MS 100
/* A reply send only queues the message on the peer's pipe; one that has not
 * completed after this long (a peer that stopped reading, a pipe torn down
 * under it) is dropped, so it cannot hold a worker forever: the client has
 * timed out long before. */
#define VX_RPC_SEND_TIMEOUT_MS 60000
/* close waits this long for a worker to finish its request, then cancels its
 * pending send (a once-seen shutdown hang: a worker stuck in nng_ctx_send). */
#define VX_RPC_CLOSE_GRACE_MS 2000

static void *vx_rpc_worker_main(void *p)
{
    vx_rpc_worker *w = p;
    vx_buf reply = VX_BUF_INIT;
    while (!atomic_load(&w->srv->stopping)) {
        nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
        atomic_store(&w->receiving, true);
        if (atomic_load(&w->srv->stopping))
            break;
        nng_ctx_recv(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        atomic_store(&w->receiving, false);
        int rv = nng_aio_result(w->aio);
        if (rv == NNG_ECLOSED || (rv == NNG_ECANCELED && atomic_load(&w->srv->stopping)))
            break;
        if (rv != 0) {
            VX_WARN("rpc server: receive failed: %s", nng_strerror(rv));
            continue;
        }
        nng_msg *msg = nng_aio_get_msg(w->aio);
        nng_aio_set_msg(w->aio, NULL);
        vx_buf_reset(&reply);
        w->srv->handler(w->srv->arg, nng_msg_body(msg), nng_msg_len(msg), &reply);
        nng_msg_clear(msg);
        if (reply.len > 0 && (rv = nng_msg_append(msg, reply.data, reply.len)) != 0) {
            VX_ERROR("rpc server: cannot build %zu-byte reply: %s", reply.len, nng_strerror(rv));
            nng_msg_free(msg);
            continue; /* the client times out; the ctx stays usable */
        }
        nng_aio_set_msg(w->aio, msg);
        nng_aio_set_timeout(w->aio, VX_RPC_SEND_TIMEOUT_MS);
        nng_ctx_send(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        rv = nng_aio_result(w->aio);
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(w->aio));
            nng_aio_set_msg(w->aio, NULL);
            if (rv == NNG_ECLOSED || atomic_load(&w->srv->stopping))
                break;
            VX_WARN("rpc server: send failed: %s", nng_strerror(rv));
        }
    }
    vx_buf_free(&reply);
    return NULL;
}

int vx_rpc_server_open(vx_rpc_server **out, const char *url, int n_workers, size_t max_msg_bytes,
                       vx_rpc_handler handler, void *arg)
{
    *out = NULL;
    if (!url || !handler || n_workers < 1 || n_workers > VX_RPC_MAX_WORKERS ||
        max_msg_bytes == 0) {
        VX_ERROR("rpc server: invalid arguments (url, handler, n_workers 1..%d, max_msg_bytes>0)",
                 VX_RPC_MAX_WORKERS);
        return VX_ERR_INVALID;
    }
    int rc = VX_OK, rv;
    vx_rpc_server *s = calloc(1, sizeof *s);
    if (!s)
        return VX_ERR_NOMEM;
    s->handler = handler;
    s->arg = arg;
    bool sock_open = false;

    if ((rv = nng_rep0_open(&s->sock)) != 0)
        goto nng_fail;
    sock_open = true;
    if ((rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, max_msg_bytes)) != 0)
        goto nng_fail;
    s->workers = calloc((size_t)n_workers, sizeof *s->workers);
    if (!s->workers) {
        rc = VX_ERR_NOMEM;
        goto fail;
    }
    for (int i = 0; i < n_workers; i++) {
        vx_rpc_worker *w = &s->workers[i];
        w->srv = s;
        if ((rv = nng_ctx_open(&w->ctx, s->sock)) != 0)
            goto nng_fail;
        if ((rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0)
            goto nng_fail;
        s->n_workers = i + 1;
    }
    if ((rc = vx_rpc_listen_all(&s->ls, s->sock, url, "rpc server")) != VX_OK)
        goto fail;
    for (int i = 0; i < s->n_workers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, vx_rpc_worker_main, &s->workers[i]) != 0) {
            VX_ERROR("rpc server: cannot start worker thread %d", i);
            rc = VX_ERR_INTERNAL;
            goto fail;
        }
        s->workers[i].started = true;
    }
    *out = s;
    return VX_OK;

nng_fail:
    VX_ERROR("rpc server %s: %s", url, nng_strerror(rv));
    rc = vx_rpc_err(rv);
fail:
    vx_listen_watch_stop(s->ls.watch);
    if (sock_open)
        nng_close(s->sock);
    for (int i = 0; s->workers && i < s->n_workers; i++) {
        if (s->workers[i].started)
            pthread_join(s->workers[i].thread, NULL);
        nng_aio_free(s->workers[i].aio);
    }
    free(s->workers);
    free(s);
    return rc;
}

int vx_rpc_server_port(const vx_rpc_server *s) { return s ? s->ls.port : -1; }

/* Joins a worker that was told to stop. Every poll period it cancels the
 * worker's receive if it is waiting for a request; after grace_end_ms (one
 * vx_now_ms deadline for all workers) it cancels whatever the worker waits
 * for: a pending send then fails and the worker exits. A cancel while the
 * handler runs does nothing, so a long request still finishes. */
static void vx_rpc_worker_join(vx_rpc_worker *w, uint64_t grace_end_ms)
{
    bool warned = false;
    for (;;) {
        bool late = vx_now_ms() >= grace_end_ms;
        if (late && !warned) {
            VX_WARN("rpc server: a worker is still busy %d ms after close; cancelling its "
                    "pending send", VX_RPC_CLOSE_GRACE_MS);
            warned = true;
        }
        if (late || atomic_load(&w->receiving))
            nng_aio_cancel(w->aio);
        struct timespec until = vx_timespec_in_ms(CLOCK_REALTIME, VX_RPC_STOP_POLL_MS);
        if (pthread_timedjoin_np(w->thread, NULL, &until) == 0)
            return;
    }
}

void vx_rpc_server_close(vx_rpc_server *s)
{
    if (!s)
        return;
    /* Idle workers have their receive cancelled; busy ones finish the
     * request they are serving (its reply is sent, or after
     * VX_RPC_CLOSE_GRACE_MS its pending send is cancelled) and exit; only
     * then is the socket (and every ctx with it) closed. */
    vx_listen_watch_stop(s->ls.watch); /* no restart races the close */
    atomic_store(&s->stopping, true);
    uint64_t grace_end_ms = vx_now_ms() + VX_RPC_CLOSE_GRACE_MS;
    for (int i = 0; i < s->n_workers; i++)
        if (s->workers[i].started)
            vx_rpc_worker_join(&s->workers[i], grace_end_ms);
    nng_close(s->sock);
    for (int i = 0; i < s->n_workers; i++)
        nng_aio_free(s->workers[i].aio);
    free(s->workers);
    free(s);
}

/* ---- client ------------------------------------------------------------- */

typedef struct vx_rpc_slot vx_rpc_slot;
struct vx_rpc_slot {
    nng_ctx ctx;
    nng_aio *aio;
    vx_rpc_slot *next_free;
    vx_rpc_slot *next_all; /* every slot, for close */
    bool in_use;           /* a call owns it (mu) */
};

struct vx_rpc_client {
    pthread_rwlock_t life; /* calls hold it shared; a redial (new socket) exclusive */
    nng_socket sock;       /* replaced only under life held exclusively */
    bool sock_ok;          /* sock is open (a failed redial leaves it false) */
    char *url;
    size_t max_msg;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a pipe is added */
    uint32_t *pipes;   /* ids of connected pipes */
    size_t n_pipes, cap_pipes;
    vx_rpc_slot *free_slots;
    vx_rpc_slot *all_slots;
    uint64_t disconnects;  /* times the last connection went away (mu) */
    uint64_t down_since_ms; /* mu: since when no pipe is connected (0: one is) */
};

static void vx_rpc_client_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    vx_rpc_client *c = arg;
    uint32_t id = (uint32_t)nng_pipe_id(p);
    pthread_mutex_lock(&c->mu);
    if (ev == NNG_PIPE_EV_ADD_POST) {
        if (c->n_pipes == c->cap_pipes) {
            size_t cap = c->cap_pipes ? c->cap_pipes * 2 : 4;
            uint32_t *np = realloc(c->pipes, cap * sizeof *np);
            if (!np) {
                pthread_mutex_unlock(&c->mu);
                VX_ERROR("rpc client: out of memory tracking connections");
                abort();
            }
            c->pipes = np;
            c->cap_pipes = cap;
        }
        c->pipes[c->n_pipes++] = id;
        c->down_since_ms = 0;
        pthread_cond_broadcast(&c->cv);
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        for (size_t i = 0; i < c->n_pipes; i++) {
            if (c->pipes[i] == id) {
                c->pipes[i] = c->pipes[--c->n_pipes];
                break;
            }
        }
        if (c->n_pipes == 0) {
            c->down_since_ms = vx_now_ms();
            /* The server is gone. A request queued while the connection was
             * dying would otherwise wait for its whole timeout (or, worse, be
             * delivered late to a restarted server): fail every call in
             * flight now. nng runs pipe callbacks without its own locks held,
             * and aborting an idle aio does nothing. */
            c->disconnects++;
            for (vx_rpc_slot *sl = c->all_slots; sl; sl = sl->next_all)
                if (sl->in_use)
                    nng_aio_abort(sl->aio, NNG_ECONNRESET);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

/* Creates and starts a non-blocking dialer (it keeps redialling). */
static int vx_rpc_dial(nng_socket sock, const char *url, nng_dialer *out)
{
    int rv;
    nng_dialer d;
    if ((rv = nng_dialer_create(&d, sock, url)) != 0)
        return rv;
    if ((rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, VX_RPC_RECONNECT_MIN_MS)) != 0 ||
        (rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, VX_RPC_RECONNECT_MAX_MS)) != 0 ||
        (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
        nng_dialer_close(d);
        return rv;
    }
    *out = d;
    return 0;
}

/* Opens c->sock (REQ, options, pipe callbacks) and starts its dialer.
 * Called at open and by a redial, with no call in flight. */
static int vx_rpc_client_socket(vx_rpc_client *c)
{
    int rv;
    nng_dialer d;
    c->sock_ok = false;
    if ((rv = nng_req0_open(&c->sock)) != 0)
        goto fail;
    if ((rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->max_msg)) != 0 ||
        (rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
        (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, VX_RPC_RECONNECT_MIN_MS)) != 0 ||
        (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, VX_RPC_RECONNECT_MAX_MS)) != 0 ||
        (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, vx_rpc_client_pipe_cb, c)) != 0 ||
        (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, vx_rpc_client_pipe_cb, c)) != 0 ||
        (rv = vx_rpc_dial(c->sock, c->url, &d)) != 0) {
        nng_close(c->sock);
        goto fail;
    }
    c->sock_ok = true;
    return 0;
fail:
    VX_ERROR("rpc client %s: %s", c->url, nng_strerror(rv));
    return rv;
}

/* Closes c->sock and frees every slot; no call may be in flight. After
 * nng_close returns no pipe callback runs any more. */
static void vx_rpc_client_drop_socket(vx_rpc_client *c)
{
    if (c->sock_ok)
        nng_close(c->sock);
    c->sock_ok = false;
    pthread_mutex_lock(&c->mu);
    vx_rpc_slot *sl = c->all_slots;
    while (sl) {
        vx_rpc_slot *next = sl->next_all;
        nng_aio_free(sl->aio);
        free(sl);
        sl = next;
    }
    c->all_slots = c->free_slots = NULL;
    c->n_pipes = 0;
    pthread_mutex_unlock(&c->mu);
}

int vx_rpc_client_open(vx_rpc_client **out, const char *url, size_t max_msg_bytes)
{
    *out = NULL;
    if (!url || max_msg_bytes == 0) {
        VX_ERROR("rpc client: invalid arguments (url, max_msg_bytes>0)");
        return VX_ERR_INVALID;
    }
    vx_rpc_client *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(url))) {
        free(c);
        return VX_ERR_NOMEM;
    }
    c->max_msg = max_msg_bytes;
    c->down_since_ms = vx_now_ms();
    pthread_rwlockattr_t la;
    pthread_rwlockattr_init(&la);
    /* a waiting redial must not be starved by a stream of calls */
    pthread_rwlockattr_setkind_np(&la, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->life, &la);
    pthread_rwlockattr_destroy(&la);
    pthread_mutex_init(&c->mu, NULL);
    vx_cond_init_monotonic(&c->cv);
    int rv = vx_rpc_client_socket(c);
    if (rv != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        pthread_rwlock_destroy(&c->life);
        free(c->url);
        free(c);
        return vx_rpc_err(rv);
    }
    *out = c;
    return VX_OK;
}

/* nng 1.5.2's dialer was seen (rarely, after kill -9 of the server) to stop
 * redialling for good. A call that finds no connection after
 * VX_RPC_REDIAL_AFTER_MS without one replaces the whole socket: it waits
 * for the calls in flight to end (they fail within VX_RPC_CONNECT_WAIT_MS
 * without a connection), closes the socket, and opens a new one with a new
 * dialer. Harmless when the server is simply still down. */
static void vx_rpc_redial(vx_rpc_client *c)
{
    pthread_rwlock_wrlock(&c->life);
    pthread_mutex_lock(&c->mu);
    uint64_t now = vx_now_ms(), since = c->down_since_ms;
    bool still = c->n_pipes == 0 && since && now - since >= VX_RPC_REDIAL_AFTER_MS;
    pthread_mutex_unlock(&c->mu);
    if (still) {
        VX_WARN("rpc client %s: no connection for %llu ms; replacing the socket", c->url,
                (unsigned long long)(now - since));
        vx_rpc_client_drop_socket(c);
        pthread_mutex_lock(&c->mu);
        c->down_since_ms = now; /* the next redial, if needed, after another period */
        pthread_mutex_unlock(&c->mu);
        (void)vx_rpc_client_socket(c); /* on failure sock_ok stays false: retried */
    }
    pthread_rwlock_unlock(&c->life);
}

/* Takes a free slot or makes one. Called with mu held. */
static int vx_rpc_slot_get(vx_rpc_client *c, vx_rpc_slot **out)
{
    vx_rpc_slot *sl = c->free_slots;
    if (sl) {
        c->free_slots = sl->next_free;
    } else {
        int rv;
        sl = calloc(1, sizeof *sl);
        if (!sl)
            return VX_ERR_NOMEM;
        if ((rv = nng_aio_alloc(&sl->aio, NULL, NULL)) != 0) {
            free(sl);
            return vx_rpc_err(rv);
        }
        if ((rv = nng_ctx_open(&sl->ctx, c->sock)) != 0 ||
            (rv = nng_ctx_set_ms(sl->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0) {
            if (nng_ctx_id(sl->ctx) > 0)
                nng_ctx_close(sl->ctx);
            nng_aio_free(sl->aio);
            free(sl);
            return vx_rpc_err(rv);
        }
        sl->next_all = c->all_slots;
        c->all_slots = sl;
    }
    sl->in_use = true;
    *out = sl;
    return VX_OK;
}

static void vx_rpc_slot_put(vx_rpc_client *c, vx_rpc_slot *sl)
{
    pthread_mutex_lock(&c->mu);
    sl->in_use = false;
    sl->next_free = c->free_slots;
    c->free_slots = sl;
    pthread_mutex_unlock(&c->mu);
}

static nng_duration vx_rpc_remaining(uint64_t deadline_ms)
{
    /* Never 0: a zero timeout fails a REQ receive before the ctx registers
     * its cancel routine, leaving the old request parked in the ctx; with
     * 1 ms the expiry goes through the cancel routine, which resets it. */
    uint64_t now = vx_now_ms();
    return now + 1 >= deadline_ms ? 1 : (nng_duration)(deadline_ms - now);
}

/* Waits (mu held) until a pipe is connected or wait_ms passed. */
static bool vx_rpc_wait_connected(vx_rpc_client *c, int wait_ms)
{
    if (c->n_pipes > 0)
        return true;
    struct timespec ts = vx_timespec_in_ms(CLOCK_MONOTONIC, (uint32_t)wait_ms);
    while (c->n_pipes == 0) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
            break;
    }
    return c->n_pipes > 0;
}

/* The connection may have gone between the connected check and the start
 * of an operation (the pipe callback's abort then found nothing to abort). */
static void vx_rpc_abort_if_disconnected(vx_rpc_client *c, vx_rpc_slot *sl, uint64_t gen)
{
    pthread_mutex_lock(&c->mu);
    bool lost = c->disconnects != gen;
    pthread_mutex_unlock(&c->mu);
    if (lost)
        nng_aio_abort(sl->aio, NNG_ECONNRESET);
}

int vx_rpc_call(vx_rpc_client *c, const void *req, size_t req_len, int timeout_ms, vx_buf *reply)
{
    if (!c || (!req && req_len) || !reply || timeout_ms <= 0)
        return VX_ERR_INVALID;
    uint64_t deadline = vx_now_ms() + (uint64_t)timeout_ms;
    nng_msg *msg = NULL;
    vx_rpc_slot *sl = NULL;
    int rv, rc;

    if ((rv = nng_msg_alloc(&msg, 0)) != 0)
        return vx_rpc_err(rv);
    if (req_len && (rv = nng_msg_append(msg, req, req_len)) != 0) {
        nng_msg_free(msg);
        return vx_rpc_err(rv);
    }

    pthread_rwlock_rdlock(&c->life);
    pthread_mutex_lock(&c->mu);
    int wait = timeout_ms < VX_RPC_CONNECT_WAIT_MS ? timeout_ms : VX_RPC_CONNECT_WAIT_MS;
    if (!c->sock_ok || !vx_rpc_wait_connected(c, wait)) {
        bool stuck = c->down_since_ms && vx_now_ms() - c->down_since_ms >= VX_RPC_REDIAL_AFTER_MS;
        pthread_mutex_unlock(&c->mu);
        pthread_rwlock_unlock(&c->life);
        nng_msg_free(msg);
        if (stuck)
            vx_rpc_redial(c);
        return VX_ERR_UNAVAILABLE;
    }
    if ((rc = vx_rpc_slot_get(c, &sl)) != VX_OK) {
        pthread_mutex_unlock(&c->mu);
        pthread_rwlock_unlock(&c->life);
        nng_msg_free(msg);
        return rc;
    }
    uint64_t gen = c->disconnects;
    pthread_mutex_unlock(&c->mu);

    /* send: completes once the request is handed to a connection */
    nng_aio_set_timeout(sl->aio, vx_rpc_remaining(deadline));
    nng_aio_set_msg(sl->aio, msg);
    nng_ctx_send(sl->ctx, sl->aio);
    vx_rpc_abort_if_disconnected(c, sl, gen);
    nng_aio_wait(sl->aio);
    if ((rv = nng_aio_result(sl->aio)) != 0) {
        nng_msg_free(nng_aio_get_msg(sl->aio));
        nng_aio_set_msg(sl->aio, NULL);
        goto failed;
    }

    /* receive the reply */
    nng_aio_set_timeout(sl->aio, vx_rpc_remaining(deadline));
    nng_ctx_recv(sl->ctx, sl->aio);
    vx_rpc_abort_if_disconnected(c, sl, gen);
    nng_aio_wait(sl->aio);
    if ((rv = nng_aio_result(sl->aio)) != 0)
        goto failed;
    msg = nng_aio_get_msg(sl->aio);
    nng_aio_set_msg(sl->aio, NULL);
    vx_buf_append(reply, nng_msg_body(msg), nng_msg_len(msg));
    nng_msg_free(msg);
    vx_rpc_slot_put(c, sl);
    pthread_rwlock_unlock(&c->life);
    return VX_OK;

failed:
    rc = vx_rpc_err(rv);
    if (rc == VX_ERR_INTERNAL)
        VX_WARN("rpc call failed: %s", nng_strerror(rv));
    vx_rpc_slot_put(c, sl);
    pthread_rwlock_unlock(&c->life);
    return rc;
}

int vx_rpc_client_connected(vx_rpc_client *c)
{
    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    int up = c->n_pipes > 0;
    pthread_mutex_unlock(&c->mu);
    return up;
}

void vx_rpc_client_close(vx_rpc_client *c)
{
    if (!c)
        return;
    vx_rpc_client_drop_socket(c);
    free(c->pipes);
    free(c->url);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    pthread_rwlock_destroy(&c->life);
    free(c);
}

/* ---- pub/sub ------------------------------------------------------------ */

struct vx_rpc_pub {
    nng_socket sock;
    vx_rpc_listeners ls;
};

struct vx_rpc_sub {
    nng_socket sock;
    nng_aio *aio;
    pthread_mutex_t mu; /* one receive at a time on aio */
};

int vx_rpc_pub_open(vx_rpc_pub **out, const char *url)
{
    *out = NULL;
    if (!url)
        return VX_ERR_INVALID;
    int rv;
    vx_rpc_pub *p = calloc(1, sizeof *p);
    if (!p)
        return VX_ERR_NOMEM;
    if ((rv = nng_pub0_open(&p->sock)) != 0) {
        free(p);
        VX_ERROR("rpc pub %s: %s", url, nng_strerror(rv));
        return vx_rpc_err(rv);
    }
    int rc = vx_rpc_listen_all(&p->ls, p->sock, url, "rpc pub");
    if (rc != VX_OK) {
        vx_listen_watch_stop(p->ls.watch);
        nng_close(p->sock);
        free(p);
        return rc;
    }
    *out = p;
    return VX_OK;
}

int vx_rpc_publish(vx_rpc_pub *p, const void *msg, size_t len)
{
    if (!p || (!msg && len))
        return VX_ERR_INVALID;
    /* nng_send copies the bytes; PUB never blocks (slow subscribers drop). */
    int rv = nng_send(p->sock, (void *)msg, len, NNG_FLAG_NONBLOCK);
    if (rv == NNG_EAGAIN)
        return VX_OK; /* nothing could take it: dropped, as pub/sub allows */
    return vx_rpc_err(rv);
}

void vx_rpc_pub_close(vx_rpc_pub *p)
{
    if (!p)
        return;
    vx_listen_watch_stop(p->ls.watch);
    nng_close(p->sock);
    free(p);
}

int vx_rpc_sub_open(vx_rpc_sub **out, const char *url, size_t max_msg_bytes)
{
    *out = NULL;
    if (!url || max_msg_bytes == 0)
        return VX_ERR_INVALID;
    int rv;
    vx_rpc_sub *s = calloc(1, sizeof *s);
    if (!s)
        return VX_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    bool sock_open = false;
    if ((rv = nng_sub0_open(&s->sock)) != 0)
        goto fail;
    sock_open = true;
    if ((rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
        (rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, max_msg_bytes)) != 0 ||
        (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, VX_RPC_RECONNECT_MIN_MS)) != 0 ||
        (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, VX_RPC_RECONNECT_MAX_MS)) != 0 ||
        (rv = nng_aio_alloc(&s->aio, NULL, NULL)) != 0 ||
        (rv = nng_dial(s->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
        goto fail;
    *out = s;
    return VX_OK;
fail:
    VX_ERROR("rpc sub %s: %s", url, nng_strerror(rv));
    if (sock_open)
        nng_close(s->sock);
    nng_aio_free(s->aio);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return vx_rpc_err(rv);
}

int vx_rpc_sub_recv(vx_rpc_sub *s, int timeout_ms, vx_buf *msg)
{
    if (!s || !msg)
        return VX_ERR_INVALID;
    pthread_mutex_lock(&s->mu);
    nng_aio_set_timeout(s->aio, timeout_ms < 0 ? NNG_DURATION_INFINITE : (nng_duration)timeout_ms);
    nng_recv_aio(s->sock, s->aio);
    nng_aio_wait(s->aio);
    int rv = nng_aio_result(s->aio);
    if (rv == 0) {
        nng_msg *m = nng_aio_get_msg(s->aio);
        nng_aio_set_msg(s->aio, NULL);
        vx_buf_append(msg, nng_msg_body(m), nng_msg_len(m));
        nng_msg_free(m);
    }
    pthread_mutex_unlock(&s->mu);
    return rv == 0 ? VX_OK : vx_rpc_err(rv);
}

void vx_rpc_sub_close(vx_rpc_sub *s)
{
    if (!s)
        return;
    nng_close(s->sock);
    nng_aio_free(s->aio);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
