/*
 * vx_listen_watch.h — a watchdog for the bus's listening sockets.
 *
 * Why: nng 1.5.2 (Debian 12's libnng1) stops accepting connections on a
 * listener for good when a peer connects and closes before the SP handshake
 * (nanomsg/nng#1518, fixed upstream after 1.5.2): a port probe, or a client
 * killed while it connects, cuts the service off from every client that
 * connects later, while the clients already connected keep working.
 *
 * What: one thread probes each listener every VX_LISTEN_WATCH_PERIOD_MS
 * with a plain socket that speaks the SP handshake: it must get the
 * listener's header (a socket file deleted from under a running service, or
 * a listener that does not answer, fails), answers with the peer's header,
 * and then — the bug still answers the handshake but never hands the
 * connection to the socket — holds the connection open until the owner's
 * accepts callback (vx_rpc.c counts nng's "pipe added" events per listener)
 * moves, or VX_SP_PROBE_TIMEOUT_MS passes. Completing the handshake before
 * closing, the probe itself never triggers the bug. After
 * VX_LISTEN_WATCH_FAILS failed probes in a row the listener is restarted.
 * The restart callback (vx_rpc.c) closes the nng listener and listens again
 * on the same URL; clients redial.
 *
 * Ownership: the watch copies the URLs; restart runs on the watch's thread,
 * never after vx_listen_watch_stop returned. No nng here: the probe is
 * plain POSIX sockets (ipc:// = a Unix domain socket path, tcp://host:port).
 */
#ifndef VX_LISTEN_WATCH_H
#define VX_LISTEN_WATCH_H

#include <stddef.h>

#define VX_LISTEN_WATCH_PERIOD_MS 1000
#define VX_LISTEN_WATCH_FAILS 2
#define VX_SP_PROBE_TIMEOUT_MS 2000
#define VX_LISTEN_WATCH_MAX_URLS 8
#define VX_LISTEN_WATCH_URL_MAX 600

/* Connects to url (ipc://PATH or tcp://HOST:PORT; a wildcard host such as
 * "*" or 0.0.0.0 means this machine) and waits up to timeout_ms for the
 * listener's 8-byte SP header; answers with the peer protocol's header and
 * closes. VX_OK: the listener accepts. VX_ERR_TIMEOUT: connected (or still
 * connecting) but no header. VX_ERR_UNAVAILABLE: refused / no such socket.
 * VX_ERR_INVALID: a URL scheme this probe does not speak (not watched). */
int vx_sp_probe(const char *url, int timeout_ms);

/* Splits a comma-separated list of 1..max_urls URLs of 1..max_len bytes
 * (max_len < VX_LISTEN_WATCH_URL_MAX) into out; returns how many, or -1 for
 * a bad list (an empty item, too many, too long). */
int vx_listen_url_list(const char *list, char (*out)[VX_LISTEN_WATCH_URL_MAX], int max_urls,
                       size_t max_len);

typedef struct vx_listen_watch vx_listen_watch;

/* Called on the watch thread: how many connections listener index has
 * handed to its socket so far (any counter that moves when one is), or -1
 * when unknown. */
typedef long long (*vx_listen_accepts_fn)(void *arg, int index);

/* Called on the watch thread with the index of the URL that stopped
 * answering. Returns VX_OK when the listener was replaced. */
typedef int (*vx_listen_restart_fn)(void *arg, int index);

/* Starts watching n URLs (n <= VX_LISTEN_WATCH_MAX_URLS); URLs the probe
 * cannot speak are skipped. period_ms 0 means VX_LISTEN_WATCH_PERIOD_MS;
 * accepts may be NULL (only the probe then). */
int vx_listen_watch_start(vx_listen_watch **out, const char *const *urls, int n, int period_ms,
                          vx_listen_accepts_fn accepts, vx_listen_restart_fn restart, void *arg);

/* Stops the thread and frees the watch (NULL is fine). */
void vx_listen_watch_stop(vx_listen_watch *w);

#endif
