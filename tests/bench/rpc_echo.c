/*
 * rpc_echo.c — the bus alone (common/vx_rpc), for understanding what a
 * request costs around the store's work: one process runs a vx_rpc server
 * and a client on loopback, sends N requests of REQ_BYTES sequentially, and
 * prints the p50/p99 of (round trip − time spent in the handler).
 *
 *   rpc_echo MODE [WORK_US] [N] [URL]
 *     MODE echo    handler answers at once
 *     MODE spin    handler computes in registers for WORK_US µs
 *     MODE sleep   handler sleeps WORK_US µs
 *     MODE stream  handler streams a 154 MB array (the size of g384_100k)
 *
 * What it showed is in docs/BENCHMARKS.md ("What a request costs around the scan").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx_buf.h"
#include "vx_err.h"
#include "vx_rpc.h"

#define REQ_BYTES 1600
#define REPLY_BYTES 300
#define STREAM_FLOATS (100000u * 384u)

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int g_mode; /* 0 echo, 1 spin, 2 sleep, 3 stream */
static double g_work_us;
static float *g_big;
static volatile float g_sink;

static void handler(void *arg, const unsigned char *req, size_t len, vx_buf *reply)
{
    (void)arg;
    (void)req;
    (void)len;
    double t0 = now_us();
    if (g_mode == 1) {
        double x = 1.0;
        while (now_us() - t0 < g_work_us)
            for (int i = 0; i < 1000; i++)
                x = x * 1.0000001 + 1e-9;
        g_sink += (float)x;
    } else if (g_mode == 2) {
        struct timespec ts = {0, (long)(g_work_us * 1000)};
        nanosleep(&ts, NULL);
    } else if (g_mode == 3) {
        float s = 0;
        for (size_t i = 0; i < STREAM_FLOATS; i += 16)
            s += g_big[i];
        g_sink += s;
    }
    double spent = now_us() - t0;
    unsigned char out[REPLY_BYTES] = {0};
    memcpy(out, &spent, sizeof spent);
    vx_buf_append(reply, out, sizeof out);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rpc_echo echo|spin|sleep|stream [WORK_US] [N] [URL]\n");
        return 2;
    }
    const char *modes[] = {"echo", "spin", "sleep", "stream"};
    g_mode = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(argv[1], modes[i]) == 0)
            g_mode = i;
    if (g_mode < 0)
        return 2;
    g_work_us = argc > 2 ? atof(argv[2]) : 6000;
    int n = argc > 3 ? atoi(argv[3]) : 300;
    const char *url = argc > 4 ? argv[4] : "tcp://127.0.0.1:0";
    if (g_mode == 3) {
        g_big = malloc(STREAM_FLOATS * sizeof(float));
        for (size_t i = 0; i < STREAM_FLOATS; i++)
            g_big[i] = (float)(i & 7);
    }
    vx_rpc_server *srv;
    if (vx_rpc_server_open(&srv, url, 4, 1 << 20, handler, NULL))
        return 1;
    char curl_[128];
    if (strncmp(url, "tcp", 3) == 0)
        snprintf(curl_, sizeof curl_, "tcp://127.0.0.1:%d", vx_rpc_server_port(srv));
    else
        snprintf(curl_, sizeof curl_, "%s", url);
    vx_rpc_client *cl;
    if (vx_rpc_client_open(&cl, curl_, 1 << 20))
        return 1;
    unsigned char req[REQ_BYTES] = {1};
    vx_buf reply = VX_BUF_INIT;
    double *around = calloc((size_t)n, sizeof *around);
    for (int i = -20; i < n; i++) {
        vx_buf_reset(&reply);
        double t0 = now_us();
        int rc = vx_rpc_call(cl, req, sizeof req, 10000, &reply);
        double dt = now_us() - t0;
        if (rc || reply.len < sizeof(double)) {
            fprintf(stderr, "call failed: %s\n", vx_strerror(rc));
            return 1;
        }
        double spent;
        memcpy(&spent, reply.data, sizeof spent);
        if (i >= 0)
            around[i] = dt - spent;
    }
    qsort(around, (size_t)n, sizeof *around, cmp_d);
    printf("mode %s work_us %.0f n %d around_p50_us %.1f around_p90_us %.1f around_p99_us %.1f\n",
           argv[1], g_work_us, n, around[n / 2], around[n * 9 / 10], around[n * 99 / 100]);
    vx_buf_free(&reply);
    vx_rpc_client_close(cl);
    vx_rpc_server_close(srv);
    free(around);
    free(g_big);
    return 0;
}
