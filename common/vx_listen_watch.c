/*
 * vx_listen_watch.c — probing the bus's listeners and restarting one that
 * stopped accepting (see vx_listen_watch.h for why).
 *
 * The SP handshake (nng's "SP over TCP/IPC" wire protocol): each side sends
 * 8 bytes, 0x00 'S' 'P' 0x00, its protocol number (16 bits, big-endian),
 * 0x00 0x00. A listener sends its header as soon as it accepts, so a
 * header that arrives proves the accept loop runs. The probe answers with
 * the header of the listener's peer protocol (REP 0x31 → REQ 0x30, PUB 0x20
 * → SUB 0x21), so the listener completes the handshake and then sees an
 * ordinary close: a probe never leaves the handshake half done.
 *
 * Invariant: restart is called only from the watch thread, and
 * vx_listen_watch_stop joins that thread before it returns.
 */
#include "vx_listen_watch.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

#define SP_HEADER_LEN 8

struct vx_listen_watch {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    int period_ms;
    int n;
    char urls[VX_LISTEN_WATCH_MAX_URLS][VX_LISTEN_WATCH_URL_MAX];
    int fails[VX_LISTEN_WATCH_MAX_URLS];
    vx_listen_accepts_fn accepts;
    vx_listen_restart_fn restart;
    void *arg;
};

static int remaining_ms(uint64_t deadline)
{
    uint64_t now = vx_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r;
    }
}

/* Non-blocking connect of fd to addr, finished within the deadline. */
static int connect_by(int fd, const struct sockaddr *addr, socklen_t len, uint64_t deadline)
{
    if (connect(fd, addr, len) == 0)
        return VX_OK;
    if (errno != EINPROGRESS && errno != EAGAIN)
        return VX_ERR_UNAVAILABLE;
    int r = wait_fd(fd, POLLOUT, deadline);
    if (r <= 0)
        return r == 0 ? VX_ERR_TIMEOUT : VX_ERR_UNAVAILABLE;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
        return VX_ERR_UNAVAILABLE;
    return VX_OK;
}

/* Opens a connected non-blocking socket for url into *fd. */
static int probe_connect(const char *url, uint64_t deadline, int *fd)
{
    *fd = -1;
    if (strncmp(url, "ipc://", 6) == 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *path = url + 6;
        if (path[0] == '\0' || strlen(path) >= sizeof sa.sun_path)
            return VX_ERR_INVALID;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
            return VX_ERR_IO;
        return connect_by(*fd, (const struct sockaddr *)&sa, sizeof sa, deadline);
    }
    if (strncmp(url, "tcp://", 6) != 0)
        return VX_ERR_INVALID;
    char host[VX_LISTEN_WATCH_URL_MAX];
    snprintf(host, sizeof host, "%s", url + 6);
    char *colon = strrchr(host, ':');
    if (!colon || colon[1] == '\0')
        return VX_ERR_INVALID;
    *colon = '\0';
    const char *port = colon + 1, *h = host;
    if (h[0] == '[') { /* [v6 address] */
        h++;
        char *close = strchr(host, ']');
        if (close)
            *close = '\0';
    }
    if (h[0] == '\0' || strcmp(h, "*") == 0 || strcmp(h, "0.0.0.0") == 0)
        h = "127.0.0.1";
    else if (strcmp(h, "::") == 0)
        h = "::1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(h, port, &hints, &ai) != 0 || !ai)
        return VX_ERR_UNAVAILABLE;
    /* every address the name has, in order, as nng's own dialer would: a
     * listener bound to 127.0.0.1 is still found when "localhost" lists ::1
     * first */
    int rc = VX_ERR_UNAVAILABLE;
    for (struct addrinfo *a = ai; a && rc != VX_OK; a = a->ai_next) {
        if (*fd >= 0)
            close(*fd);
        *fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        rc = *fd < 0 ? VX_ERR_IO : connect_by(*fd, a->ai_addr, a->ai_addrlen, deadline);
    }
    freeaddrinfo(ai);
    return rc;
}

static uint16_t peer_protocol(uint16_t proto)
{
    /* pair (0x10, 0x11) and bus (0x70) talk to themselves; the others come
     * in pairs that differ in the lowest bit (req/rep, pub/sub, ...) */
    if (proto == 0x10 || proto == 0x11 || proto == 0x70)
        return proto;
    return proto ^ 1u;
}

/* Connects and completes the SP handshake before the deadline; on VX_OK
 * *fd is the open connection (the caller closes it). */
static int sp_handshake(const char *url, uint64_t deadline, int *fd)
{
    int rc = probe_connect(url, deadline, fd);
    unsigned char hdr[SP_HEADER_LEN];
    size_t got = 0;
    while (rc == VX_OK && got < sizeof hdr) {
        ssize_t r = recv(*fd, hdr + got, sizeof hdr - got, 0);
        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            rc = VX_ERR_UNAVAILABLE;
        } else {
            int w = wait_fd(*fd, POLLIN, deadline);
            if (w <= 0)
                rc = w == 0 ? VX_ERR_TIMEOUT : VX_ERR_UNAVAILABLE;
        }
    }
    if (rc == VX_OK && (hdr[0] != 0 || hdr[1] != 'S' || hdr[2] != 'P' || hdr[3] != 0))
        rc = VX_ERR_CORRUPT; /* something else listens there */
    if (rc == VX_OK) {
        uint16_t peer = peer_protocol((uint16_t)(hdr[4] << 8 | hdr[5]));
        unsigned char reply[SP_HEADER_LEN] = {0, 'S', 'P', 0, (unsigned char)(peer >> 8),
                                              (unsigned char)peer, 0, 0};
        /* 8 bytes into an empty socket buffer: sent whole or not at all */
        if (send(*fd, reply, sizeof reply, MSG_NOSIGNAL) != (ssize_t)sizeof reply)
            rc = VX_ERR_UNAVAILABLE;
    }
    if (rc != VX_OK && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int vx_sp_probe(const char *url, int timeout_ms)
{
    int fd = -1;
    int rc = sp_handshake(url, vx_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1), &fd);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* One check of listener i: the handshake, then (with an accepts callback)
 * the connection must reach the socket while the probe holds it open.
 * Sets *why for a failure. */
static int probe_listener(vx_listen_watch *w, int i, const char **why)
{
    uint64_t deadline = vx_now_ms() + VX_SP_PROBE_TIMEOUT_MS;
    long long before = w->accepts ? w->accepts(w->arg, i) : -1;
    int fd = -1;
    int rc = sp_handshake(w->urls[i], deadline, &fd);
    if (rc != VX_OK) {
        *why = "it did not answer the handshake probe";
        return rc;
    }
    while (before >= 0 && w->accepts(w->arg, i) == before && vx_now_ms() < deadline)
        vx_sleep_ms(5);
    if (before >= 0 && w->accepts(w->arg, i) == before) {
        *why = "it answered the handshake probe but never handed the connection to its socket "
               "(nng 1.5.2 after a peer closed mid-handshake, bug #1518)";
        rc = VX_ERR_TIMEOUT;
    }
    close(fd);
    return rc;
}

int vx_listen_url_list(const char *list, char (*out)[VX_LISTEN_WATCH_URL_MAX], int max_urls,
                       size_t max_len)
{
    if (max_len >= VX_LISTEN_WATCH_URL_MAX)
        return -1;
    int n = 0;
    for (const char *p = list;; p++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || len > max_len || n >= max_urls)
            return -1;
        memcpy(out[n], p, len);
        out[n++][len] = '\0';
        if (!end)
            return n;
        p = end;
    }
}

static void *watch_main(void *p)
{
    vx_listen_watch *w = p;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        struct timespec until = vx_timespec_in_ms(CLOCK_MONOTONIC, (uint32_t)w->period_ms);
        while (!w->stopping && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT) {
        }
        if (w->stopping)
            break;
        pthread_mutex_unlock(&w->mu);
        for (int i = 0; i < w->n; i++) {
            const char *why = "";
            int rc = probe_listener(w, i, &why);
            if (rc == VX_OK || rc == VX_ERR_INVALID) {
                w->fails[i] = 0;
                continue;
            }
            if (++w->fails[i] < VX_LISTEN_WATCH_FAILS)
                continue;
            VX_WARN("bus: the listener on %s stopped accepting connections: %s (%s, %d probes in a "
                    "row); restarting it (connected clients reconnect)",
                    w->urls[i], why, vx_strerror(rc), w->fails[i]);
            w->fails[i] = 0;
            rc = w->restart(w->arg, i);
            if (rc != VX_OK)
                VX_ERROR("bus: cannot restart the listener on %s: %s (tried again in %d ms)", w->urls[i],
                         vx_strerror(rc), w->period_ms);
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int vx_listen_watch_start(vx_listen_watch **out, const char *const *urls, int n, int period_ms,
                          vx_listen_accepts_fn accepts, vx_listen_restart_fn restart, void *arg)
{
    *out = NULL;
    if (!urls || n < 0 || n > VX_LISTEN_WATCH_MAX_URLS || !restart || period_ms < 0)
        return VX_ERR_INVALID;
    vx_listen_watch *w = calloc(1, sizeof *w);
    if (!w)
        return VX_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        if (strlen(urls[i]) >= sizeof w->urls[0]) {
            free(w);
            return VX_ERR_INVALID;
        }
        snprintf(w->urls[i], sizeof w->urls[i], "%s", urls[i]);
    }
    w->n = n;
    w->period_ms = period_ms ? period_ms : VX_LISTEN_WATCH_PERIOD_MS;
    w->accepts = accepts;
    w->restart = restart;
    w->arg = arg;
    pthread_mutex_init(&w->mu, NULL);
    vx_cond_init_monotonic(&w->cv);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return VX_ERR_INTERNAL;
    }
    *out = w;
    return VX_OK;
}

void vx_listen_watch_stop(vx_listen_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
