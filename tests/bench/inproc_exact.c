/*
 * inproc_exact.c — the layers under the REST path, for scripts/bench-rest.sh:
 * the same 1000 sequential k=10 exact searches as rest_bench, measured
 *
 *   inproc_exact inproc DATASET [REPS] [WARMUP] [N]
 *       in-process: a collection (metric dot, flat) built with coll_upsert
 *       from the first N (default all) vectors of base.f32, then coll_search_exact per query — the function the
 *       store's SEARCH handler ends in (no bus, no HTTP). The latency
 *       includes what the store does per request besides the scan: the
 *       result arena and the id copies.
 *   inproc_exact bus DATASET STORE_URL COLL [REPS] [WARMUP]
 *       through the bus only: upstream_call (the gateway's own code: proto
 *       encode, nng req/rep, decode) to a running vectron-store holding COLL.
 *
 * Per rep: p50 / p90 / p99 / mean latency in µs and recall@10 (as rest_bench,
 * with ties), and the p50 / p99 of latency − took_us (the time the search
 * itself reported: in-process the cost around coll_search_exact's scan, over
 * the bus the whole round trip but the store's scan). Output: "key value" lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collection.h"
#include "upstream.h"
#include "vx_arena.h"
#include "vx_err.h"

#define K 10
#define GT_K 100

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *read_all(const char *dir, const char *name, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    void *p = malloc(bytes ? bytes : 1);
    size_t got = f && p ? fread(p, 1, bytes, f) : 0;
    if (f)
        fclose(f);
    if (got != bytes) {
        fprintf(stderr, "inproc_exact: cannot read %zu bytes from %s\n", bytes, path);
        exit(1);
    }
    return p;
}

static long meta_int(const char *dir, const char *key)
{
    char path[4096], buf[8192], pat[64];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(buf, pat);
    if (!p || !(p = strchr(p + strlen(pat), ':'))) {
        fprintf(stderr, "inproc_exact: meta.json lacks %s\n", key);
        exit(1);
    }
    return strtol(p + 1, NULL, 10);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *s, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return s[i < n ? i : n - 1];
}

typedef struct runner {
    collection *coll; /* inproc */
    upstream *up;     /* bus */
    const char *name;
} runner;

/* One search; fills ids/scores (K). */
static double search_one(runner *r, const float *q, uint32_t d, vx_arena *a, long *ids,
                         double *scores)
{
    char err[256];
    vx_search_req s = {.collection = r->name, .vector = q, .dim = d, .k = K, .exact = true,
                       .with_metadata = true}; /* as the REST search asks */
    vx_search_rep rep;
    const vx_search_hit *hits;
    uint32_t n;
    uint64_t took_us;
    int rc;
    if (r->coll) {
        rc = coll_search_exact(r->coll, &s, a, &rep, err, sizeof err);
        hits = rep.hits;
        n = rep.n_hits;
        took_us = rep.took_us;
    } else {
        vx_request req;
        vx_reply out;
        memset(&req, 0, sizeof req);
        req.type = VX_MSG_SEARCH;
        req.body.search = s;
        rc = upstream_call(r->up, UP_STORE, &req, a, &out, err, sizeof err);
        hits = out.body.search.hits;
        n = out.body.search.n_hits;
        took_us = out.body.search.took_us;
    }
    if (rc || n != K) {
        fprintf(stderr, "inproc_exact: search failed: %s (%u hits)\n", rc ? err : "", n);
        exit(1);
    }
    for (uint32_t i = 0; i < K; i++) {
        ids[i] = strtol(hits[i].id + 1, NULL, 10); /* "p<i>" */
        scores[i] = hits[i].score;
    }
    return (double)took_us;
}

static void load(runner *r, const char *dir, size_t n, uint32_t d)
{
    char err[256];
    vx_coll_config cfg = {.name = "bench", .dimension = d, .metric = VX_METRIC_DOT,
                          .index = {.type = VX_INDEX_FLAT}};
    if (coll_create(&cfg, &r->coll, err, sizeof err)) {
        fprintf(stderr, "inproc_exact: %s\n", err);
        exit(1);
    }
    float *base = read_all(dir, "base.f32", n * d * sizeof(float));
    vx_point *pts = calloc(1000, sizeof *pts);
    char(*idbuf)[24] = calloc(1000, 24);
    for (size_t i = 0; i < n; i += 1000) {
        uint32_t m = (uint32_t)(n - i < 1000 ? n - i : 1000);
        for (uint32_t j = 0; j < m; j++) {
            snprintf(idbuf[j], 24, "p%zu", i + j);
            pts[j] = (vx_point){.id = idbuf[j], .vector = base + (i + j) * d, .dim = d};
        }
        if (coll_upsert(r->coll, pts, m, err, sizeof err)) {
            fprintf(stderr, "inproc_exact: upsert: %s\n", err);
            exit(1);
        }
    }
    free(pts);
    free(idbuf);
    free(base);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "bus") == 0 && argc < 5)) {
        fprintf(stderr, "usage: inproc_exact inproc DATASET [REPS] [WARMUP] [N]\n"
                        "       inproc_exact bus DATASET STORE_URL COLL [REPS] [WARMUP]\n");
        return 2;
    }
    const char *dir = argv[2];
    bool bus = strcmp(argv[1], "bus") == 0;
    int ai = bus ? 5 : 3;
    int reps = argc > ai ? atoi(argv[ai]) : 3;
    int warmup = argc > ai + 1 ? atoi(argv[ai + 1]) : 100;
    size_t n = (size_t)meta_int(dir, "n"), q = (size_t)meta_int(dir, "q");
    uint32_t d = (uint32_t)meta_int(dir, "d");
    runner r = {0};
    if (bus) {
        r.name = argv[4];
        if (upstream_open(&r.up, argv[3], "tcp://127.0.0.1:1", 10000)) {
            fprintf(stderr, "inproc_exact: cannot open %s\n", argv[3]);
            return 1;
        }
    } else {
        r.name = "bench";
        if (argc > ai + 2 && strtoul(argv[ai + 2], NULL, 10) < n)
            n = strtoul(argv[ai + 2], NULL, 10);
        load(&r, dir, n, d);
    }
    float *queries = read_all(dir, "query.f32", q * d * sizeof(float));
    int32_t *gt = read_all(dir, "gt_ids.i32", q * GT_K * sizeof(int32_t));
    float *gtd = read_all(dir, "gt_dist.f32", q * GT_K * sizeof(float));
    double *lat = malloc(q * sizeof(double)), *over = malloc(q * sizeof(double));
    long ids[K];
    double scores[K];
    vx_arena a;
    for (int w = 0; w < warmup; w++) {
        vx_arena_init(&a, 64 * 1024);
        search_one(&r, queries + (size_t)(w % (int)q) * d, d, &a, ids, scores);
        vx_arena_fini(&a);
    }
    const char *tag = bus ? "bus" : "inproc";
    for (int rep = 0; rep < reps; rep++) {
        double hits = 0, hits_ties = 0, mean = 0;
        for (size_t i = 0; i < q; i++) {
            double t0 = now_us();
            vx_arena_init(&a, 64 * 1024);
            double took = search_one(&r, queries + i * d, d, &a, ids, scores);
            vx_arena_fini(&a);
            lat[i] = now_us() - t0;
            over[i] = lat[i] - took;
            mean += lat[i];
            for (int h = 0; h < K; h++) {
                int found = 0;
                for (int g = 0; g < K && !found; g++)
                    found = gt[i * GT_K + (size_t)g] == ids[h];
                hits += found;
                hits_ties += found || scores[h] >= gtd[i * GT_K + K - 1] - 1e-5;
            }
        }
        mean /= (double)q;
        qsort(lat, q, sizeof(double), cmp_double);
        qsort(over, q, sizeof(double), cmp_double);
        printf("%s_rep %d p50_us %.1f p90_us %.1f p99_us %.1f mean_us %.1f qps %.1f recall10 "
               "%.4f recall10_ties %.4f around_scan_p50_us %.1f around_scan_p99_us %.1f\n",
               tag, rep + 1, pct(lat, q, 0.5), pct(lat, q, 0.9), pct(lat, q, 0.99), mean,
               1e6 / mean, hits / (double)(q * K), hits_ties / (double)(q * K), pct(over, q, 0.5),
               pct(over, q, 0.99));
        fflush(stdout);
    }
    coll_destroy(r.coll);
    upstream_close(r.up);
    free(queries);
    free(gt);
    free(gtd);
    free(lat);
    free(over);
    return 0;
}
