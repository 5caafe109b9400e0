/*
 * test_stub.h — test-only helper (included by httpc_test.c and
 * providers_test.c, never by the library): starts tests/stubs/provider_stub.py
 * over HTTPS with a CA and server certificate made for this run by the
 * openssl CLI, and drives its control routes through httpc.
 *
 * One stub per test binary (static state): stub_get() starts it on first
 * use; an atexit handler stops it and removes its directory. Tests run from
 * the repository root (make's working directory).
 */
#ifndef EMBED_TEST_STUB_H
#define EMBED_TEST_STUB_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "vx_arena.h"
#include "vx_err.h"
#include "vx_json.h"

#define STUB_SCRIPT "tests/stubs/provider_stub.py"
#define STUB_PYTHON "/usr/bin/python3"
#define STUB_KEY "stub-key-5f1e9a"

typedef struct stub_server {
    pid_t pid;
    int port;
    char dir[128];
    char ca[200];
    char base[64]; /* https://127.0.0.1:<port> */
    httpc_pool *ctl;
    char error[256];
} stub_server;

static stub_server g_stub;

static void stub_stop(void)
{
    if (g_stub.pid > 0) {
        kill(g_stub.pid, SIGTERM);
        waitpid(g_stub.pid, NULL, 0);
        g_stub.pid = 0;
    }
    httpc_pool_destroy(g_stub.ctl);
    g_stub.ctl = NULL;
    if (g_stub.dir[0]) {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_stub.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", g_stub.dir);
        g_stub.dir[0] = '\0';
    }
}

/* The running stub, or NULL with g_stub.error set. */
static stub_server *stub_get(void)
{
    if (g_stub.port)
        return &g_stub;
    if (g_stub.error[0])
        return NULL;
    snprintf(g_stub.dir, sizeof g_stub.dir, "/tmp/vxstub.XXXXXX");
    if (!mkdtemp(g_stub.dir)) {
        snprintf(g_stub.error, sizeof g_stub.error, "mkdtemp failed");
        g_stub.dir[0] = '\0';
        return NULL;
    }
    atexit(stub_stop);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "%s %s make-certs '%s'", STUB_PYTHON, STUB_SCRIPT, g_stub.dir);
    if (system(cmd) != 0) {
        snprintf(g_stub.error, sizeof g_stub.error, "could not make certificates (%.200s)", cmd);
        return NULL;
    }
    snprintf(g_stub.ca, sizeof g_stub.ca, "%s/ca.pem", g_stub.dir);
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid == 0) {
        char cert[200], key[200];
        snprintf(cert, sizeof cert, "%s/server.pem", g_stub.dir);
        snprintf(key, sizeof key, "%s/server.key", g_stub.dir);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(STUB_PYTHON, STUB_PYTHON, STUB_SCRIPT, "serve", "--cert", cert, "--key", key, "--api-key", STUB_KEY,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        snprintf(g_stub.error, sizeof g_stub.error, "fork failed");
        return NULL;
    }
    g_stub.pid = pid;
    char line[64] = "";
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t k = read(fds[0], line + n, 1);
        if (k <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    if (sscanf(line, "PORT %d", &g_stub.port) != 1 || g_stub.port <= 0) {
        snprintf(g_stub.error, sizeof g_stub.error, "stub did not report its port (got \"%s\")", line);
        g_stub.port = 0;
        return NULL;
    }
    snprintf(g_stub.base, sizeof g_stub.base, "https://127.0.0.1:%d", g_stub.port);
    httpc_options o = {.ca_file = g_stub.ca, .max_attempts = 1, .timeout_ms = 5000};
    if (httpc_pool_create(&g_stub.ctl, "stub-control", &o) != VX_OK)
        return NULL;
    return &g_stub;
}

/* POSTs json to /_stub/<what>; the response body (NUL-terminated) is copied
 * to out when given. Returns the HTTP status or a negative code. */
static long stub_control(const char *what, const char *json, char *out, size_t out_len)
{
    stub_server *s = stub_get();
    if (!s)
        return VX_ERR_UNAVAILABLE;
    char url[128];
    snprintf(url, sizeof url, "%s/_stub/%s", s->base, what);
    httpc_request rq = {.url = url, .body = json, .body_len = strlen(json)};
    httpc_response rs = {0, VX_BUF_INIT, 0};
    char err[256];
    int rc = httpc_post(s->ctl, &rq, &rs, err, sizeof err);
    long st = rc == VX_OK ? rs.status : rc;
    if (out && out_len) {
        size_t k = rs.body.len < out_len - 1 ? rs.body.len : out_len - 1;
        if (k)
            memcpy(out, rs.body.data, k);
        out[k] = '\0';
    }
    vx_buf_free(&rs.body);
    return st;
}

__attribute__((unused)) static void stub_mode(const char *json)
{
    stub_control("reset", "{}", NULL, 0);
    stub_control("config", json, NULL, 0);
}

/* An integer counter from /_stub/stats: "requests" or "auth_failures". */
__attribute__((unused)) static long stub_stat(const char *key)
{
    char buf[65536];
    if (stub_control("stats", "{}", buf, sizeof buf) != 200)
        return -1;
    vx_arena a;
    vx_arena_init(&a, 65536);
    vx_value root;
    long v = -1;
    if (vx_json_parse(buf, strlen(buf), &a, &root, NULL, 0) == VX_OK) {
        const vx_value *x = vx_value_get(&root, key);
        if (x && x->type == VX_VAL_INT)
            v = (long)x->u.i;
    }
    vx_arena_fini(&a);
    return v;
}

/* The stub's vector formula (see provider_stub.py). */
__attribute__((unused)) static float stub_component(const char *text, unsigned j)
{
    unsigned s = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        s += *p;
    return (float)(((s + 7u * j) % 101u) / 100.0 - 0.5);
}

#endif
