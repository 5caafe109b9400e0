/*
 * bench_use_lite.c — multi-thread throughput harness for the built-in
 * use-lite model over a text file of our choosing (short or long texts), the
 * counterpart of scripts/bench-embed-tfjs.mjs (same arguments, same output
 * line) so the two runtimes embed exactly the same texts the same way.
 * Not part of the services: scripts/bench-embed.sh compiles it against
 * build/lib/libvxembed.a (vectron-embed-bench covers the fixed 1-thread
 * case; this adds threads, text files, fixed-work runs and a vector dump).
 *
 *   bench_use_lite MODEL TEXTS_FILE BATCH THREADS (--seconds S | --reps R)
 *                  [--dump OUT.f32]
 *
 * TEXTS_FILE: one UTF-8 text per line. Each of THREADS threads loops over
 * the texts in batches of BATCH (thread t starts at text t·BATCH), one
 * warm-up call first, then either for S seconds or for R passes over the
 * file. OpenBLAS is limited to 1 thread, as in vectron-embed, so THREADS is
 * the number of cores used. Prints one line: texts/s over all threads and
 * the median / p99 latency of one call, and texts per CPU-second (all
 * threads' CPU time, warm-up calls counted as texts: a figure the other
 * processes on a shared machine do not depress). --dump writes every text's vector
 * (batch 1, float32 little-endian, n × 512) for the cross-check against
 * TF.js, before timing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "use_lite.h"
#include "vx_clock.h"
#include "vx_err.h"

typedef struct {
    const use_lite_model *m;
    const char **texts;
    size_t n_texts, batch, start;
    double secs;
    long reps;
    size_t done;
    double elapsed; /* seconds after the warm-up call */
    uint64_t *lat_ns;
    size_t n_lat, cap_lat;
    int failed;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    const char **bt = malloc(sizeof *bt * w->batch);
    float *out = malloc(sizeof(float) * USE_LITE_DIM * w->batch);
    if (!bt || !out) {
        w->failed = 1;
        goto done;
    }
    size_t pos = w->start % w->n_texts;
    size_t want = w->reps > 0 ? (size_t)w->reps * w->n_texts : 0;
    uint64_t t0 = vx_now_ns(), limit = (uint64_t)(w->secs * 1e9);
    for (int warm = 1;; warm = 0) {
        if (!warm) {
            if (w->reps > 0 ? w->done >= want : vx_now_ns() - t0 >= limit)
                break;
        }
        for (size_t i = 0; i < w->batch; i++)
            bt[i] = w->texts[(pos + i) % w->n_texts];
        uint64_t s = vx_now_ns();
        if (use_lite_embed(w->m, bt, w->batch, out) != VX_OK) {
            w->failed = 1;
            goto done;
        }
        uint64_t e = vx_now_ns();
        pos = (pos + w->batch) % w->n_texts;
        if (warm) {
            t0 = vx_now_ns();
            continue;
        }
        w->done += w->batch;
        if (w->n_lat == w->cap_lat) {
            size_t cap = w->cap_lat ? w->cap_lat * 2 : 1024;
            uint64_t *p = realloc(w->lat_ns, cap * sizeof *p);
            if (!p) {
                w->failed = 1;
                goto done;
            }
            w->lat_ns = p, w->cap_lat = cap;
        }
        w->lat_ns[w->n_lat++] = e - s;
    }
    w->elapsed = (double)(vx_now_ns() - t0) / 1e9;
done:
    free(bt);
    free(out);
    return NULL;
}

/* CPU seconds used by the whole process so far (all threads). */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        r = fread(buf + n, 1, 4096, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: bench_use_lite MODEL TEXTS_FILE BATCH THREADS (--seconds S | --reps R) "
                        "[--dump OUT.f32]\n");
        return 2;
    }
    const char *model_path = argv[1], *texts_path = argv[2], *dump = NULL;
    size_t batch = (size_t)atol(argv[3]), threads = (size_t)atol(argv[4]);
    double secs = 0;
    long reps = 0;
    for (int i = 5; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seconds"))
            secs = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--dump"))
            dump = argv[i + 1];
    }
    if (batch < 1 || batch > 1024 || threads < 1 || threads > 64 || (secs <= 0 && reps <= 0)) {
        fprintf(stderr, "bench_use_lite: bad BATCH/THREADS or no --seconds/--reps\n");
        return 2;
    }
    size_t len;
    char *data = read_file(texts_path, &len);
    if (!data) {
        fprintf(stderr, "bench_use_lite: cannot read %s\n", texts_path);
        return 1;
    }
    const char **texts = NULL;
    size_t n_texts = 0;
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        const char **p = realloc(texts, (n_texts + 1) * sizeof *p);
        if (!p)
            return 1;
        texts = p;
        texts[n_texts++] = line;
    }
    if (n_texts == 0) {
        fprintf(stderr, "bench_use_lite: no texts in %s\n", texts_path);
        return 1;
    }
    char err[256];
    use_lite_model *m;
    if (use_lite_load(&m, model_path, err, sizeof err) != VX_OK) {
        fprintf(stderr, "bench_use_lite: %s\n", err);
        return 1;
    }
    use_lite_set_blas_threads(1);
    if (dump) {
        FILE *f = fopen(dump, "wb");
        float v[USE_LITE_DIM];
        for (size_t i = 0; f && i < n_texts; i++) {
            if (use_lite_embed(m, &texts[i], 1, v) != VX_OK || fwrite(v, sizeof v, 1, f) != 1) {
                fclose(f);
                f = NULL;
            }
        }
        if (!f || fclose(f) != 0) {
            fprintf(stderr, "bench_use_lite: cannot write %s\n", dump);
            return 1;
        }
    }
    worker *w = calloc(threads, sizeof *w);
    pthread_t *tid = calloc(threads, sizeof *tid);
    double cpu0 = cpu_seconds();
    for (size_t t = 0; t < threads; t++) {
        w[t] = (worker){.m = m, .texts = texts, .n_texts = n_texts, .batch = batch, .start = t * batch,
                        .secs = secs, .reps = reps};
        pthread_create(&tid[t], NULL, run, &w[t]);
    }
    size_t done = 0, n_lat = 0;
    int failed = 0;
    double el = 0, cpu;
    for (size_t t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        done += w[t].done;
        n_lat += w[t].n_lat;
        failed |= w[t].failed;
        if (w[t].elapsed > el)
            el = w[t].elapsed;
    }
    cpu = cpu_seconds() - cpu0; /* includes the THREADS warm-up calls */
    if (failed) {
        fprintf(stderr, "bench_use_lite: embed failed\n");
        return 1;
    }
    uint64_t *lat = malloc((n_lat ? n_lat : 1) * sizeof *lat);
    size_t k = 0;
    for (size_t t = 0; t < threads; t++) {
        memcpy(lat + k, w[t].lat_ns, w[t].n_lat * sizeof *lat);
        k += w[t].n_lat;
        free(w[t].lat_ns);
    }
    qsort(lat, n_lat, sizeof *lat, cmp_u64);
    printf("ours  batch %3zu threads %zu: %8.1f texts/s  call p50 %8.3f ms  p99 %8.3f ms  "
           "%7.1f texts/cpu-s  (%zu texts, %.2f s)\n",
           batch, threads, (double)done / el, n_lat ? (double)lat[n_lat / 2] / 1e6 : 0,
           n_lat ? (double)lat[(n_lat * 99) / 100] / 1e6 : 0,
           (double)(done + threads * batch) / cpu, done, el);
    free(lat);
    free(w);
    free(tid);
    free(texts);
    free(data);
    use_lite_destroy(m);
    return 0;
}
