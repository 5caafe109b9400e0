/*
 * embed_hit.c — what a cache hit costs inside vectron-embed, for
 * docs/BENCHMARKS.md (issue: "cache hit < 100 µs end to end inside the
 * gateway"). One process builds the embed service exactly as vectron-embed
 * does (use-lite model, registry, LRU cache), warms the cache with one text,
 * then times the same EMBED request N times in two ways:
 *
 *   handler  embed_rpc_handle() on the encoded request bytes: decode, model
 *            lookup, cache hit, reply encode — everything the service does
 *            between nng handing it a message and it handing the reply back;
 *   bus      vx_rpc_call() to a vx_rpc server running that handler on
 *            loopback TCP (the deployment's transport): the above plus the
 *            nng round trip, i.e. the request as the API gateway sees it.
 *
 *   embed_hit [N] [MODEL_FILE]
 *
 * Prints p50 / p90 / p99 in µs and checks that every reply is a hit with
 * the model's vector (the cache counters must show N more hits, 0 misses).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embed_cache.h"
#include "embed_handlers.h"
#include "vx_arena.h"
#include "vx_err.h"
#include "vx_proto.h"
#include "vx_rpc.h"

static registry_model g_models[] = {
    {"use-lite", EMBED_PROVIDER_BUILTIN, "universal-sentence-encoder-lite", 512, NULL, NULL, NULL},
};
static registry g_reg = {g_models, 1, "use-lite"};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    printf("%-8s n %d p50_us %.1f p90_us %.1f p99_us %.1f\n", name, n, t[n / 2], t[n * 9 / 10],
           t[n * 99 / 100]);
}

/* The reply must be an EMBED reply with one vector equal to want. */
static int check_reply(const vx_buf *reply, const float *want)
{
    vx_arena a;
    vx_arena_init(&a, 16 * 1024);
    vx_reply rep;
    int rc = vx_proto_decode_reply(reply->data, reply->len, &a, &rep, NULL, 0);
    int ok = rc == VX_OK && rep.status == VX_OK && rep.body.embed.n == 1 &&
             memcmp(rep.body.embed.vectors, want, sizeof(float) * USE_LITE_DIM) == 0;
    vx_arena_fini(&a);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    const char *path = argc > 2 ? argv[2] : USE_LITE_DEFAULT_PATH;
    char err[256];
    use_lite_model *model = NULL;
    embed_cache *cache = NULL;
    embed_service *svc = NULL;
    vx_rpc_server *srv = NULL;
    vx_rpc_client *cli = NULL;
    vx_buf req = VX_BUF_INIT, reply = VX_BUF_INIT;
    double *t = NULL;
    int status = 1;
    if (n < 10 || use_lite_load(&model, path, err, sizeof err) != VX_OK) {
        fprintf(stderr, "embed_hit: usage: embed_hit [N>=10] [MODEL_FILE] (%s)\n", n < 10 ? "N" : err);
        goto done;
    }
    embed_service_config c = {&g_reg, model, NULL, NULL, NULL, NULL};
    if (embed_cache_create(&cache, 10000, 64u << 20) != VX_OK)
        goto done;
    c.cache = cache;
    if (embed_service_create(&svc, &c) != VX_OK)
        goto done;

    const char *text = "A man is playing a guitar on the corner of the street.";
    float want[USE_LITE_DIM];
    if (use_lite_embed(model, &text, 1, want) != VX_OK)
        goto done;
    vx_request rq;
    memset(&rq, 0, sizeof rq);
    rq.version = VX_PROTO_VERSION;
    rq.type = VX_MSG_EMBED;
    rq.request_id = 7;
    rq.deadline_ms = 10000;
    rq.body.embed.texts = &text;
    rq.body.embed.n_texts = 1;
    if (vx_proto_encode_request(&rq, &req) != VX_OK)
        goto done;
    embed_rpc_handle(svc, req.data, req.len, &reply); /* the miss that fills the cache */
    if (check_reply(&reply, want)) {
        fprintf(stderr, "embed_hit: first reply is not the model's vector\n");
        goto done;
    }
    embed_cache_stats before = embed_cache_get_stats(cache);

    t = calloc((size_t)n, sizeof *t);
    for (int i = -100; i < n; i++) {
        vx_buf_reset(&reply);
        double t0 = now_us();
        embed_rpc_handle(svc, req.data, req.len, &reply);
        double dt = now_us() - t0;
        if (check_reply(&reply, want))
            goto bad;
        if (i >= 0)
            t[i] = dt;
    }
    report("handler", t, n);

    char url[64];
    if (vx_rpc_server_open(&srv, "tcp://127.0.0.1:0", 2, VX_MAX_MSG_BYTES, embed_rpc_handle, svc) != VX_OK)
        goto done;
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", vx_rpc_server_port(srv));
    if (vx_rpc_client_open(&cli, url, VX_MAX_MSG_BYTES) != VX_OK)
        goto done;
    for (int i = -100; i < n; i++) {
        vx_buf_reset(&reply);
        double t0 = now_us();
        if (vx_rpc_call(cli, req.data, req.len, 10000, &reply) != VX_OK)
            goto bad;
        double dt = now_us() - t0;
        if (check_reply(&reply, want))
            goto bad;
        if (i >= 0)
            t[i] = dt;
    }
    report("bus", t, n);
    embed_cache_stats after = embed_cache_get_stats(cache);
    printf("cache hits +%llu misses +%llu\n", (unsigned long long)(after.hits - before.hits),
           (unsigned long long)(after.misses - before.misses));
    status = after.misses == before.misses ? 0 : 1;
    goto done;
bad:
    fprintf(stderr, "embed_hit: a reply was not the cached vector\n");
done:
    free(t);
    vx_buf_free(&req);
    vx_buf_free(&reply);
    vx_rpc_client_close(cli);
    vx_rpc_server_close(srv);
    embed_service_destroy(svc);
    embed_cache_destroy(cache);
    use_lite_destroy(model);
    return status;
}
