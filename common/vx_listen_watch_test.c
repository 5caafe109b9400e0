/*
 * vx_listen_watch_test.c — the listener watchdog (vx_listen_watch.h) over
 * real sockets: the SP probe tells a live listener from a closed one and
 * from one that does not speak SP; a REP or PUB listener that a peer
 * closing mid-handshake stopped (nng 1.5.2, nanomsg/nng#1518) serves new
 * clients again within a few probe periods.
 *
 * Leak checking is off in this binary: the stopped nng listener keeps the
 * connections it negotiated but never handed over, and nng frees them
 * neither then nor when the listener is closed and replaced.
 */
#include "vx_listen_watch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vx_buf.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_rpc.h"
#include "vx_test.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

static void echo_handler(void *arg, const unsigned char *req, size_t len, vx_buf *reply)
{
    (void)arg;
    vx_buf_append(reply, "echo:", 5);
    vx_buf_append(reply, req, len);
}

static int call_str(vx_rpc_client *c, const char *s, int timeout_ms, vx_buf *out)
{
    vx_buf_reset(out);
    return vx_rpc_call(c, s, strlen(s), timeout_ms, out);
}

/* A peer that connects and closes before the SP handshake (a port probe, a
 * client killed while connecting): with nng 1.5.2 the listener never
 * accepts again; the watchdog restarts it, so a client that connects later
 * is served within a few probe periods. */
static void stray_connection(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(fd);
}

static int call_with_new_client(const char *url, int within_ms)
{
    vx_rpc_client *cli = NULL;
    vx_buf out = VX_BUF_INIT;
    int rc = vx_rpc_client_open(&cli, url, 1024);
    if (rc != VX_OK)
        return rc;
    uint64_t end = vx_now_ms() + (uint64_t)within_ms;
    while ((rc = call_str(cli, "late", 500, &out)) != VX_OK && vx_now_ms() < end)
        vx_sleep_ms(100);
    vx_rpc_client_close(cli);
    vx_buf_free(&out);
    return rc;
}

TEST(rpc_listener_survives_a_peer_closing_mid_handshake)
{
    char path[400], url[512];
    snprintf(path, sizeof path, "%s/stray.sock", vx_test_tmpdir());
    snprintf(url, sizeof url, "ipc://%s", path);
    vx_rpc_server *srv = NULL;
    ASSERT_EQ_INT(vx_rpc_server_open(&srv, url, 2, 1024, echo_handler, NULL), VX_OK);
    ASSERT_EQ_INT(call_with_new_client(url, 2000), VX_OK);
    for (int round = 0; round < 2; round++) {
        stray_connection(path);
        vx_sleep_ms(50);
        int limit = (VX_LISTEN_WATCH_FAILS + 2) * (VX_LISTEN_WATCH_PERIOD_MS + VX_SP_PROBE_TIMEOUT_MS);
        ASSERT_EQ_INT(call_with_new_client(url, limit), VX_OK);
    }
    vx_rpc_server_close(srv);
}

TEST(rpc_sp_probe_tells_live_dead_and_foreign_listeners)
{
    char url[512];
    snprintf(url, sizeof url, "ipc://%s/probe.sock", vx_test_tmpdir());
    vx_rpc_server *srv = NULL;
    ASSERT_EQ_INT(vx_rpc_server_open(&srv, url, 1, 1024, echo_handler, NULL), VX_OK);
    ASSERT_EQ_INT(vx_sp_probe(url, 2000), VX_OK);
    ASSERT_EQ_INT(call_with_new_client(url, 2000), VX_OK); /* probing left it working */
    vx_rpc_server_close(srv);
    /* tcp, by address and by name */
    ASSERT_EQ_INT(vx_rpc_server_open(&srv, "tcp://127.0.0.1:0", 1, 1024, echo_handler, NULL), VX_OK);
    char tcp[64];
    snprintf(tcp, sizeof tcp, "tcp://127.0.0.1:%d", vx_rpc_server_port(srv));
    ASSERT_EQ_INT(vx_sp_probe(tcp, 2000), VX_OK);
    snprintf(tcp, sizeof tcp, "tcp://localhost:%d", vx_rpc_server_port(srv));
    ASSERT_EQ_INT(vx_sp_probe(tcp, 2000), VX_OK);
    vx_rpc_server_close(srv);
    ASSERT_EQ_INT(vx_sp_probe(url, 500), VX_ERR_UNAVAILABLE);
    ASSERT_EQ_INT(vx_sp_probe("inproc://x", 500), VX_ERR_INVALID);
    /* a tcp listener that accepts but never speaks SP: a timeout, not OK */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(lfd, 4) == 0);
    socklen_t sl = sizeof sa;
    ASSERT(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
    char turl[64];
    snprintf(turl, sizeof turl, "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
    uint64_t t0 = vx_now_ms();
    ASSERT_EQ_INT(vx_sp_probe(turl, 300), VX_ERR_TIMEOUT);
    ASSERT(vx_now_ms() - t0 >= 250);
    close(lfd);
}

TEST(rpc_pub_listener_survives_a_peer_closing_mid_handshake)
{
    char path[400], url[512];
    snprintf(path, sizeof path, "%s/stray-events.sock", vx_test_tmpdir());
    snprintf(url, sizeof url, "ipc://%s", path);
    vx_rpc_pub *pub = NULL;
    ASSERT_EQ_INT(vx_rpc_pub_open(&pub, url), VX_OK);
    stray_connection(path);
    vx_sleep_ms(50);
    vx_rpc_sub *sub = NULL;
    ASSERT_EQ_INT(vx_rpc_sub_open(&sub, url, 1024), VX_OK);
    vx_buf msg = VX_BUF_INIT;
    int rc = VX_ERR_TIMEOUT;
    uint64_t end = vx_now_ms() + (uint64_t)(VX_LISTEN_WATCH_FAILS + 2) *
                                     (VX_LISTEN_WATCH_PERIOD_MS + VX_SP_PROBE_TIMEOUT_MS);
    while (rc == VX_ERR_TIMEOUT && vx_now_ms() < end) {
        ASSERT_EQ_INT(vx_rpc_publish(pub, "ping", 4), VX_OK);
        rc = vx_rpc_sub_recv(sub, 50, &msg);
    }
    ASSERT_EQ_INT(rc, VX_OK);
    vx_rpc_sub_close(sub);
    vx_rpc_pub_close(pub);
    vx_buf_free(&msg);
}
