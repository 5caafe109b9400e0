/*
 * rest_bench.c — the REST side of scripts/bench-rest.sh: batch upsert
 * throughput and sequential single-query exact search latency through
 * vectron-api, over ONE keep-alive HTTP/1.1 connection with plain sockets
 * (no client library in the measured path).
 *
 *   rest_bench load   HOST PORT DATASET COLL BATCH [N]
 *       upserts the first N base vectors (default all) into COLL with
 *       POST /collections/COLL/points, BATCH points per request, ids "p<i>".
 *       The JSON of a chunk of batches (≤ 64 MB) is encoded BEFORE the clock
 *       starts; only send + answer is timed. Prints vectors/s.
 *   rest_bench search HOST PORT DATASET COLL [REPS] [WARMUP]
 *       POST /collections/COLL/search {"vector":[..],"k":10,"exact":true}
 *       for every query of query.f32, one after another, REPS times (default
 *       3) after WARMUP (default 100) untimed queries; per rep: p50, p90, p99,
 *       mean latency (µs, from the first byte sent to the last byte of the
 *       answer read); the same for latency − took_ms of the answer (the
 *       store's own search time), i.e. the per-request cost of everything
 *       around the scan, immune to the scan's noise; recall@10 against gt_ids.i32 (a returned id outside the
 *       true top-10 whose score ties the 10th true score within 1e-5 counts as
 *       correct: exact search is only unique up to ties).
 *
 * Floats are written with %.9g, which round-trips float32 exactly, so the
 * store holds bit-identical vectors and the ground truth applies. Every
 * answer must be 200 (else the program stops with the body). Output lines
 * are "key value" pairs for the script to collect.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define K 10
#define GT_K 100

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void die(const char *msg)
{
    fprintf(stderr, "rest_bench: %s\n", msg);
    exit(1);
}

static void sb_reserve(sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p)
        die("out of memory");
    b->cap = cap;
}

static void sb_add(sbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    sb_reserve(b, 64);
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if ((size_t)n >= b->cap - b->len) {
        sb_reserve(b, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

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
        fprintf(stderr, "rest_bench: cannot read %zu bytes from %s\n", bytes, path);
        exit(1);
    }
    return p;
}

static long meta_int(const char *dir, const char *key)
{
    char path[4096], buf[8192], pat[64];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open meta.json");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(buf, pat);
    if (!p || !(p = strchr(p + strlen(pat), ':')))
        die("meta.json lacks a key");
    return strtol(p + 1, NULL, 10);
}

/* ---- one keep-alive connection ------------------------------------------- */

static int conn_open(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
        die("bad host (give an IPv4 address)");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("cannot connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("send failed (server closed the connection?)");
        p += w;
        n -= (size_t)w;
    }
}

/* Reads one response into rb (headers + body); returns the status and sets
 * *body to the body inside rb. */
static int read_response(int fd, sbuf *rb, const char **body, size_t *body_len)
{
    rb->len = 0;
    size_t hdr_end = 0, need = 0;
    for (;;) {
        if (hdr_end && rb->len >= need)
            break;
        sb_reserve(rb, 65536);
        ssize_t r = recv(fd, rb->p + rb->len, rb->cap - rb->len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("connection closed while reading a response");
        rb->len += (size_t)r;
        rb->p[rb->len] = 0;
        if (!hdr_end) {
            char *e = strstr(rb->p, "\r\n\r\n");
            if (!e)
                continue;
            hdr_end = (size_t)(e - rb->p) + 4;
            char *cl = strcasestr(rb->p, "\r\nContent-Length:");
            if (!cl || cl > e)
                die("response without Content-Length");
            need = hdr_end + strtoul(cl + 17, NULL, 10);
        }
    }
    if (rb->len != need)
        die("extra bytes after a response (pipelining is not used)");
    *body = rb->p + hdr_end;
    *body_len = need - hdr_end;
    return (int)strtol(rb->p + 9, NULL, 10);
}

/* Appends a complete request with body to out. */
static void add_request(sbuf *out, const char *method, const char *path, const char *body,
                        size_t len)
{
    sb_printf(out,
              "%s %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
              "Content-Length: %zu\r\n\r\n",
              method, path, len);
    sb_add(out, body, len);
}

static void add_vector(sbuf *b, const float *v, size_t d)
{
    sb_add(b, "[", 1);
    for (size_t j = 0; j < d; j++)
        sb_printf(b, j ? ",%.9g" : "%.9g", (double)v[j]);
    sb_add(b, "]", 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

/* ---- load ------------------------------------------------------------------ */

static int run_load(int fd, const char *dir, const char *coll, size_t batch, size_t n_limit)
{
    size_t n = (size_t)meta_int(dir, "n"), d = (size_t)meta_int(dir, "d");
    if (n_limit && n_limit < n)
        n = n_limit;
    float *base = read_all(dir, "base.f32", n * d * sizeof(float));
    char path[256];
    snprintf(path, sizeof path, "/collections/%s/points", coll);
    sbuf req = {0}, body = {0}, rb = {0};
    double timed = 0;
    size_t done = 0, requests = 0;
    while (done < n) {
        /* encode a chunk of whole batches (untimed) */
        req.len = 0;
        size_t chunk_end = done, n_req = 0;
        while (chunk_end < n && req.len < (64u << 20)) {
            size_t end = chunk_end + batch < n ? chunk_end + batch : n;
            body.len = 0;
            sb_add(&body, "{\"points\":[", 11);
            for (size_t i = chunk_end; i < end; i++) {
                sb_printf(&body, "%s{\"id\":\"p%zu\",\"vector\":", i > chunk_end ? "," : "", i);
                add_vector(&body, base + i * d, d);
                sb_add(&body, "}", 1);
            }
            sb_add(&body, "]}", 2);
            add_request(&req, "POST", path, body.p, body.len);
            chunk_end = end;
            n_req++;
        }
        /* send them one by one, each waiting for its answer (timed) */
        const char *p = req.p;
        double t0 = now_us();
        for (size_t r = 0; r < n_req; r++) {
            const char *hdr_cl = strstr(p, "Content-Length: ");
            size_t blen = strtoul(hdr_cl + 16, NULL, 10);
            const char *bstart = strstr(hdr_cl, "\r\n\r\n") + 4;
            size_t total = (size_t)(bstart - p) + blen;
            send_all(fd, p, total);
            const char *rbody;
            size_t rlen;
            int st = read_response(fd, &rb, &rbody, &rlen);
            if (st != 200) {
                fprintf(stderr, "rest_bench: upsert answered %d: %.*s\n", st, (int)rlen, rbody);
                exit(1);
            }
            p += total;
        }
        timed += now_us() - t0;
        requests += n_req;
        done = chunk_end;
    }
    double vps = (double)n / (timed / 1e6);
    printf("load_batch %zu\nload_vectors %zu\nload_requests %zu\nload_seconds %.3f\n"
           "load_vectors_per_s %.0f\n",
           batch, n, requests, timed / 1e6, vps);
    free(base);
    free(req.p);
    free(body.p);
    free(rb.p);
    return 0;
}

/* ---- search ---------------------------------------------------------------- */

/* Parses the ids and scores of {"results":[{"id":"p123","score":0.5,...},..]}
 * (ids written by run_load, so no escapes). Returns how many. */
static size_t parse_hits(const char *body, size_t len, long *ids, double *scores, size_t max)
{
    size_t n = 0;
    const char *p = body, *end = body + len;
    while (n < max && (p = memmem(p, (size_t)(end - p), "\"id\":\"p", 7)) != NULL) {
        p += 7;
        ids[n] = strtol(p, NULL, 10);
        const char *s = memmem(p, (size_t)(end - p), "\"score\":", 8);
        if (!s)
            break;
        scores[n] = strtod(s + 8, NULL);
        n++;
    }
    return n;
}

static int run_search(int fd, const char *dir, const char *coll, int reps, int warmup)
{
    size_t q = (size_t)meta_int(dir, "q"), d = (size_t)meta_int(dir, "d");
    float *queries = read_all(dir, "query.f32", q * d * sizeof(float));
    int32_t *gt = read_all(dir, "gt_ids.i32", q * GT_K * sizeof(int32_t));
    float *gtd = read_all(dir, "gt_dist.f32", q * GT_K * sizeof(float));
    char path[256];
    snprintf(path, sizeof path, "/collections/%s/search", coll);
    /* pre-encode every request */
    sbuf *reqs = calloc(q, sizeof(sbuf)), body = {0}, rb = {0};
    for (size_t i = 0; i < q; i++) {
        body.len = 0;
        sb_add(&body, "{\"vector\":", 10);
        add_vector(&body, queries + i * d, d);
        sb_printf(&body, ",\"k\":%d,\"exact\":true}", K);
        add_request(&reqs[i], "POST", path, body.p, body.len);
    }
    printf("search_request_bytes %zu\n", reqs[0].len);
    double *lat = malloc(q * sizeof(double)), *over = malloc(q * sizeof(double));
    long ids[K];
    double scores[K];
    for (int w = 0; w < warmup; w++) {
        const char *rbody;
        size_t rlen;
        send_all(fd, reqs[(size_t)w % q].p, reqs[(size_t)w % q].len);
        if (read_response(fd, &rb, &rbody, &rlen) != 200) {
            fprintf(stderr, "rest_bench: search answered: %.*s\n", (int)rlen, rbody);
            exit(1);
        }
    }
    for (int r = 0; r < reps; r++) {
        double hits = 0, hits_ties = 0;
        for (size_t i = 0; i < q; i++) {
            const char *rbody;
            size_t rlen;
            double t0 = now_us();
            send_all(fd, reqs[i].p, reqs[i].len);
            int st = read_response(fd, &rb, &rbody, &rlen);
            lat[i] = now_us() - t0;
            if (st != 200) {
                fprintf(stderr, "rest_bench: search answered %d: %.*s\n", st, (int)rlen, rbody);
                exit(1);
            }
            const char *took = memmem(rbody, rlen, "\"took_ms\":", 10);
            if (!took)
                die("a search answer without took_ms");
            over[i] = lat[i] - strtod(took + 10, NULL) * 1000.0;
            size_t nh = parse_hits(rbody, rlen, ids, scores, K);
            if (nh != K)
                die("a search returned fewer than k hits");
            double tenth = gtd[i * GT_K + K - 1];
            for (size_t h = 0; h < nh; h++) {
                int found = 0;
                for (size_t g = 0; g < K && !found; g++)
                    found = gt[i * GT_K + g] == ids[h];
                hits += found;
                hits_ties += found || scores[h] >= tenth - 1e-5;
            }
        }
        double mean = 0;
        for (size_t i = 0; i < q; i++)
            mean += lat[i];
        mean /= (double)q;
        qsort(lat, q, sizeof(double), cmp_double);
        qsort(over, q, sizeof(double), cmp_double);
        printf("search_rep %d p50_us %.1f p90_us %.1f p99_us %.1f mean_us %.1f qps %.1f "
               "recall10 %.4f recall10_ties %.4f around_scan_p50_us %.1f around_scan_p99_us %.1f\n",
               r + 1, pct(lat, q, 0.50), pct(lat, q, 0.90), pct(lat, q, 0.99), mean, 1e6 / mean,
               hits / (double)(q * K), hits_ties / (double)(q * K), pct(over, q, 0.5),
               pct(over, q, 0.99));
        fflush(stdout);
    }
    for (size_t i = 0; i < q; i++)
        free(reqs[i].p);
    free(reqs);
    free(body.p);
    free(rb.p);
    free(lat);
    free(over);
    free(queries);
    free(gt);
    free(gtd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: rest_bench load HOST PORT DATASET COLL BATCH [N]\n"
                        "       rest_bench search HOST PORT DATASET COLL [REPS] [WARMUP]\n");
        return 2;
    }
    int fd = conn_open(argv[2], atoi(argv[3]));
    int rc;
    if (strcmp(argv[1], "load") == 0 && argc >= 7)
        rc = run_load(fd, argv[4], argv[5], strtoul(argv[6], NULL, 10),
                      argc > 7 ? strtoul(argv[7], NULL, 10) : 0);
    else if (strcmp(argv[1], "search") == 0)
        rc = run_search(fd, argv[4], argv[5], argc > 6 ? atoi(argv[6]) : 3,
                        argc > 7 ? atoi(argv[7]) : 100);
    else
        die("unknown mode");
    close(fd);
    return rc;
}
