/*
 * bench_main.c — vectron-bench-index: the HNSW index and the exact scan on a
 * benchmark data set (the protocol of the shared bench README, the same as
 * the native hnswlib peer): IP space, M=16, efConstruction=200, build with
 * 2 threads; for ef in {16,32,64,128,256}: recall@10 against the exact
 * ground truth, QPS of a sequential one-query-at-a-time loop on 1 thread,
 * QPS with the queries spread over 2 threads. Figures are medians over
 * repetitions (min–max in brackets). Also: exact single-query scan QPS
 * (dist_dot_many + top-10), build time, memory per vector, save/load time.
 * The graph holds 8-bit codes; searches re-rank with the exact rows of the
 * base array (hnsw_vector_fn hnsw_rows_vector), as a collection does with its slab.
 *
 * usage: vectron-bench-index DATASET_DIR [builds=1] [max_seconds=5]
 *        vectron-bench-index --filter-sweep DATASET_DIR [n] [queries=200] [threads=2]
 *        (filtered collection searches: exact scan vs graph, see filter_sweep)
 * DATASET_DIR holds meta.json, base.f32, query.f32, gt_ids.i32.
 * VX_BENCH_INDEX=FILE (development aid): load the index from FILE when it
 * exists instead of building (build time is then not measured), else build
 * and save it there.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_index.h"
#include "collection.h"
#include "distance.h"
#include "distance_sq8.h"
#include "hnsw.h"
#include "vx_buf.h"
#include "vx_clock.h"

#define K 10
#define T 2
#define M 16
#define EFC 200
static const uint32_t EFS[] = {16, 32, 64, 128, 256};
#define N_EF (sizeof EFS / sizeof *EFS)
#define MAX_REP 16

static double now(void)
{
    return (double)vx_now_ns() * 1e-9;
}

static long meta_int(const char *meta, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(meta, pat);
    if (!p || !(p = strchr(p + strlen(pat), ':'))) {
        fprintf(stderr, "meta.json lacks %s\n", key);
        exit(1);
    }
    return strtol(p + 1, NULL, 10);
}

static void *read_file(const char *dir, const char *name, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    void *p = malloc(bytes ? bytes : 1);
    size_t got = f && p ? fread(p, 1, bytes, f) : 0;
    if (f)
        fclose(f);
    if (got != bytes) {
        fprintf(stderr, "cannot read %zu bytes from %s\n", bytes, path);
        exit(1);
    }
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "median (min–max)" of v[n] */
static const char *spread(const double *v, int n, const char *fmt, char *buf, size_t cap)
{
    double s[MAX_REP * 3];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double med = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    char a[32], b[32], c[32];
    snprintf(a, sizeof a, fmt, med);
    if (n == 1) {
        snprintf(buf, cap, "%s", a);
        return buf;
    }
    snprintf(b, sizeof b, fmt, s[0]);
    snprintf(c, sizeof c, fmt, s[n - 1]);
    snprintf(buf, cap, "%s (%s–%s)", a, b, c);
    return buf;
}

typedef struct job {
    hnsw_index *ix;
    hnsw_rows *src; /* exact rows for the re-rank */
    const float *data;
    size_t n, d;
    size_t next; /* atomic work counter */
    size_t chunk;
    uint32_t ef;
    uint32_t *found; /* query results, nq*K */
    int rc;
} job;

static void *build_worker(void *p)
{
    job *j = p;
    for (;;) {
        size_t s = __atomic_fetch_add(&j->next, j->chunk, __ATOMIC_RELAXED);
        if (s >= j->n)
            break;
        size_t e = s + j->chunk < j->n ? s + j->chunk : j->n;
        for (size_t i = s; i < e; i++)
            if (hnsw_insert(j->ix, (uint32_t)i, j->data + i * j->d) != 0)
                j->rc = -1;
    }
    return NULL;
}

static void search_one(hnsw_index *ix, hnsw_rows *src, const float *q, uint32_t ef, uint32_t *out)
{
    uint32_t n = 0;
    for (int i = 0; i < K; i++)
        out[i] = UINT32_MAX;
    hnsw_search(ix, q, K, ef, NULL, NULL, hnsw_rows_vector, src, out, NULL, &n);
}

static void *search_worker(void *p)
{
    job *j = p;
    for (;;) {
        size_t s = __atomic_fetch_add(&j->next, j->chunk, __ATOMIC_RELAXED);
        if (s >= j->n)
            break;
        size_t e = s + j->chunk < j->n ? s + j->chunk : j->n;
        for (size_t i = s; i < e; i++)
            search_one(j->ix, j->src, j->data + i * j->d, j->ef, j->found + i * K);
    }
    return NULL;
}

static void run_threads(void *(*fn)(void *), job *j)
{
    pthread_t t[T];
    for (int i = 0; i < T; i++)
        pthread_create(&t[i], NULL, fn, j);
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
}

static double recall_at_k(const uint32_t *found, const int32_t *gt, size_t nq, size_t gk)
{
    size_t hits = 0;
    for (size_t i = 0; i < nq; i++)
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                hits += found[i * K + a] == (uint32_t)gt[i * gk + b];
    return (double)hits / (double)(nq * K);
}

/* Exact scan of one query: dist_dot_many over blocks + a top-10 insertion list. */
static void exact_topk(const float *base, size_t n, size_t d, const float *q, float *scratch,
                       size_t block, uint32_t *out)
{
    float best[K];
    for (int i = 0; i < K; i++) {
        best[i] = -1e30f;
        out[i] = UINT32_MAX;
    }
    for (size_t s = 0; s < n; s += block) {
        size_t m = n - s < block ? n - s : block;
        dist_dot_many(q, base + s * d, m, d, scratch);
        for (size_t i = 0; i < m; i++) {
            float v = scratch[i];
            if (v <= best[K - 1])
                continue;
            int j = K - 1;
            while (j > 0 && best[j - 1] < v) {
                best[j] = best[j - 1];
                out[j] = out[j - 1];
                j--;
            }
            best[j] = v;
            out[j] = (uint32_t)(s + i);
        }
    }
}

/* ---- --filter-sweep: the exact/graph switch of filtered collection searches ---- */

static vx_value *obj1(vx_arena *a, const char *key, vx_value v)
{
    vx_value *o = vx_arena_alloc(a, sizeof *o);
    vx_member *m = vx_arena_alloc(a, sizeof *m);
    m->key = key;
    m->key_len = (uint32_t)strlen(key);
    m->value = v;
    o->type = VX_VAL_OBJECT;
    o->u.obj.items = m;
    o->u.obj.n = 1;
    return o;
}

static vx_value ival(int64_t i)
{
    vx_value v = {.type = VX_VAL_INT};
    v.u.i = i;
    return v;
}

/* Mean milliseconds per query of nq searches with filter {"r": {"$lt": lt}},
 * the ids of each query's hits into ids[nq*K] (strings in a). */
static double sweep_run(const collection *c, const float *q, size_t nq, size_t d, int lt,
                        vx_arena *a, const char **ids, int *graph)
{
    vx_arena tmp;
    vx_arena_init(&tmp, 1 << 16);
    double t0 = now();
    *graph = 0;
    for (size_t i = 0; i < nq; i++) {
        vx_arena_reset(&tmp);
        vx_search_req req = {.vector = q + i * d, .dim = (uint32_t)d, .k = K, .ef = 64};
        req.filter = lt > 0 ? obj1(&tmp, "r", *obj1(&tmp, "$lt", ival(lt))) : NULL;
        vx_search_rep rep;
        char err[256];
        if (coll_search(c, &req, &tmp, &rep, err, sizeof err)) {
            fprintf(stderr, "search: %s\n", err);
            exit(1);
        }
        *graph += rep.used_index;
        for (uint32_t h = 0; h < K; h++)
            ids[i * K + h] = h < rep.n_hits ? vx_arena_strdup(a, rep.hits[h].id) : "";
    }
    double ms = (now() - t0) * 1e3 / (double)nq;
    vx_arena_fini(&tmp);
    return ms;
}

/* usage: --filter-sweep DATASET_DIR [n] [queries=200] [threads=2]: loads the first n
 * points into a cosine hnsw collection (batches of 1000, metadata
 * {"r": i % 1000}), then for filters matching 0.1 %..50 % times the exact
 * scan and the filtered graph search (ef=64) and the graph's recall against
 * the exact answer. queries=1: the load only (its throughput with `threads`
 * insert threads). */
static int filter_sweep(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vectron-bench-index --filter-sweep DATASET_DIR [n] [queries] [threads]\n");
        return 2;
    }
    const char *dir = argv[1];
    char mpath[4096], meta[8192];
    snprintf(mpath, sizeof mpath, "%s/meta.json", dir);
    FILE *mf = fopen(mpath, "rb");
    if (!mf)
        return fprintf(stderr, "no meta.json in %s\n", dir), 1;
    size_t ml = fread(meta, 1, sizeof meta - 1, mf);
    fclose(mf);
    meta[ml] = 0;
    size_t n = (size_t)meta_int(meta, "n"), nq = (size_t)meta_int(meta, "q");
    size_t d = (size_t)meta_int(meta, "d");
    if (argc > 2 && (size_t)atol(argv[2]) > 0 && (size_t)atol(argv[2]) < n)
        n = (size_t)atol(argv[2]);
    size_t use_q = argc > 3 ? (size_t)atol(argv[3]) : 200;
    uint32_t threads = argc > 4 ? (uint32_t)atoi(argv[4]) : COLL_INDEX_THREADS;
    coll_index_set_threads(threads);
    if (use_q < 1 || use_q > nq)
        use_q = nq;
    float *base = read_file(dir, "base.f32", n * d * sizeof(float));
    float *query = read_file(dir, "query.f32", use_q * d * sizeof(float));
    vx_coll_config cfg = {.name = "sweep", .dimension = (uint32_t)d, .metric = VX_METRIC_COSINE};
    cfg.index.type = VX_INDEX_HNSW;
    collection *c;
    char err[256];
    if (coll_create(&cfg, &c, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 1;
    vx_arena a;
    vx_arena_init(&a, 1 << 20);
    double t0 = now();
    for (size_t b = 0; b < n; b += 1000) {
        size_t m = n - b < 1000 ? n - b : 1000;
        vx_arena_reset(&a);
        vx_point *p = vx_arena_alloc(&a, m * sizeof *p);
        for (size_t i = 0; i < m; i++) {
            p[i].id = vx_arena_sprintf(&a, "p%zu", b + i);
            p[i].vector = base + (b + i) * d;
            p[i].dim = (uint32_t)d;
            p[i].metadata = obj1(&a, "r", ival((int64_t)((b + i) % 1000)));
        }
        if (coll_upsert(c, p, (uint32_t)m, err, sizeof err))
            return fprintf(stderr, "upsert: %s\n", err), 1;
    }
    double load_s = now() - t0;
    printf("loaded %zu points (d=%zu) through coll_upsert (batches of 1000, %u insert "
           "threads) in %.1f s: %.0f points/s\n",
           n, d, threads, load_s, (double)n / load_s);
    if (use_q == 1) /* load only */
        goto done;
    vx_arena_reset(&a);
    const char **ex = vx_arena_alloc(&a, use_q * K * sizeof *ex);
    const char **gr = vx_arena_alloc(&a, use_q * K * sizeof *gr);
    static const int LTS[] = {0, 1, 2, 5, 10, 20, 50, 100, 200, 500};
    printf("| filter matches | fraction | exact ms/query | graph ms/query | graph recall@10 |\n");
    printf("|---:|---:|---:|---:|---:|\n");
    for (size_t f = 0; f < sizeof LTS / sizeof *LTS; f++) {
        int lt = LTS[f], g;
        coll_index_set_exact_matches(UINT32_MAX); /* filtered → exact */
        double ms_e;
        if (lt == 0) { /* unfiltered exact: the exact flag */
            vx_arena tmp;
            vx_arena_init(&tmp, 1 << 16);
            double s0 = now();
            for (size_t i = 0; i < use_q; i++) {
                vx_arena_reset(&tmp);
                vx_search_req req = {.vector = query + i * d, .dim = (uint32_t)d, .k = K,
                                     .exact = true};
                vx_search_rep rep;
                coll_search(c, &req, &tmp, &rep, err, sizeof err);
                for (uint32_t h = 0; h < K; h++)
                    ex[i * K + h] = h < rep.n_hits ? vx_arena_strdup(&a, rep.hits[h].id) : "";
            }
            ms_e = (now() - s0) * 1e3 / (double)use_q;
            vx_arena_fini(&tmp);
        } else {
            ms_e = sweep_run(c, query, use_q, d, lt, &a, ex, &g);
        }
        coll_index_set_exact_matches(0); /* → graph */
        double ms_g = sweep_run(c, query, use_q, d, lt, &a, gr, &g);
        size_t hit = 0, tot = 0;
        for (size_t i = 0; i < use_q; i++)
            for (int x = 0; x < K; x++) {
                if (!*ex[i * K + x])
                    continue;
                tot++;
                for (int y = 0; y < K; y++)
                    hit += !strcmp(ex[i * K + x], gr[i * K + y]);
            }
        size_t matches = lt ? n * (size_t)lt / 1000 : n;
        printf("| %zu | %.1f %% | %.3f | %.3f | %.3f |\n", matches,
               100.0 * (double)matches / (double)n, ms_e, ms_g,
               tot ? (double)hit / (double)tot : 0.0);
        fflush(stdout);
        if (g != (int)use_q)
            fprintf(stderr, "warning: the graph answered %d of %zu\n", g, use_q);
    }
done:;
    coll_index_stats st;
    coll_index_get_stats(coll_ann(c), &st);
    printf("index: %llu nodes, %.0f bytes per vector (graph with 8-bit codes; the float rows "
           "are the collection's)\n",
           (unsigned long long)st.nodes, (double)st.memory_bytes / (double)n);
    coll_destroy(c);
    vx_arena_fini(&a);
    free(base);
    free(query);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--filter-sweep"))
        return filter_sweep(argc - 1, argv + 1);
    if (argc < 2) {
        fprintf(stderr,
                "usage: %s DATASET_DIR [builds=1] [max_seconds=5]\n"
                "       %s --filter-sweep DATASET_DIR [n] [queries=200] [threads=2]\n",
                argv[0], argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int builds = argc > 2 ? atoi(argv[2]) : 1;
    double max_seconds = argc > 3 ? atof(argv[3]) : 5.0;
    if (builds < 1 || builds > MAX_REP)
        builds = 1;
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/meta.json", dir);
    FILE *mf = fopen(mpath, "rb");
    if (!mf) {
        fprintf(stderr, "no meta.json in %s\n", dir);
        return 1;
    }
    char meta[8192];
    size_t ml = fread(meta, 1, sizeof meta - 1, mf);
    fclose(mf);
    meta[ml] = 0;
    size_t n = (size_t)meta_int(meta, "n"), nq = (size_t)meta_int(meta, "q");
    size_t d = (size_t)meta_int(meta, "d"), gk = (size_t)meta_int(meta, "k");
    float *base = read_file(dir, "base.f32", n * d * sizeof(float));
    float *query = read_file(dir, "query.f32", nq * d * sizeof(float));
    int32_t *gt = read_file(dir, "gt_ids.i32", nq * gk * sizeof(int32_t));
    uint32_t *found = malloc(nq * K * sizeof *found);
    const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    char b1[128], b2[128], b3[128];

    printf("## Vectron HNSW (C, %s float / %s sq8 kernels) on %s (N=%zu, D=%zu, Q=%zu)\n\n",
           dist_impl_name(), sq8_impl_name(), name, n, d, nq);
    hnsw_rows src = {base, d};

    /* exact scan, 1 thread, single query at a time (VX_BENCH_NOSCAN=1 skips) */
    if (!getenv("VX_BENCH_NOSCAN")) {
        size_t block = 4096;
        float *scratch = malloc(block * sizeof *scratch);
        double qps[3];
        for (int r = 0; r < 3; r++) {
            size_t done = 0;
            double t0 = now();
            for (; done < nq; done++) {
                exact_topk(base, n, d, query + done * d, scratch, block, found + done * K);
                if (done >= 20 && now() - t0 > max_seconds) {
                    done++;
                    break;
                }
            }
            qps[r] = (double)done / (now() - t0);
        }
        for (size_t i = 0; i < nq; i++) /* complete the result for recall */
            exact_topk(base, n, d, query + i * d, scratch, block, found + i * K);
        printf("exact scan (dist_dot_many + top-10), 1 thread, single query: %s QPS, "
               "recall@10 %.4f\n\n",
               spread(qps, 3, "%.1f", b1, sizeof b1), recall_at_k(found, gt, nq, gk));
        free(scratch);
    }

    double tbuild[MAX_REP], mem[MAX_REP], tsave[MAX_REP], tload[MAX_REP];
    double rec[N_EF][MAX_REP * 3], q1[N_EF][MAX_REP * 3], q2[N_EF][MAX_REP * 3];
    int nrep = 0, sweeps = builds == 1 ? 3 : 1;
    size_t saved_bytes = 0;
    for (int b = 0; b < builds; b++) {
        hnsw_index *ix = NULL;
        if (hnsw_create(&ix, (uint32_t)d, HNSW_SPACE_IP, M, EFC, 100 + (uint64_t)b) != 0) {
            fprintf(stderr, "hnsw_create failed\n");
            return 1;
        }
        job bj = {ix, &src, base, n, d, 0, 64, 0, NULL, 0};
        double t0 = now();
        const char *cache = getenv("VX_BENCH_INDEX"); /* dev aid: reuse a saved build */
        FILE *cf = cache ? fopen(cache, "rb") : NULL;
        if (cf) {
            fseek(cf, 0, SEEK_END);
            long sz = ftell(cf);
            fseek(cf, 0, SEEK_SET);
            void *bytes = malloc((size_t)sz);
            if (fread(bytes, 1, (size_t)sz, cf) != (size_t)sz || (hnsw_destroy(ix), 0) ||
                hnsw_load(&ix, bytes, (size_t)sz, UINT32_MAX) != 0) {
                fprintf(stderr, "cannot load %s\n", cache);
                return 1;
            }
            fclose(cf);
            free(bytes);
            printf("  (index loaded from %s, build time not measured)\n", cache);
        } else {
            run_threads(build_worker, &bj);
        }
        tbuild[b] = now() - t0;
        if (bj.rc != 0) {
            fprintf(stderr, "insert failed\n");
            return 1;
        }
        mem[b] = (double)hnsw_memory_bytes(ix) / (double)n;
        printf("  build %d/%d: %.1f s\n", b + 1, builds, tbuild[b]);
        fflush(stdout);
        vx_buf sb = VX_BUF_INIT;
        t0 = now();
        hnsw_save(ix, &sb);
        tsave[b] = now() - t0;
        hnsw_index *ix2 = NULL;
        t0 = now();
        if (hnsw_load(&ix2, sb.data, sb.len, UINT32_MAX) != 0) {
            fprintf(stderr, "hnsw_load failed\n");
            return 1;
        }
        tload[b] = now() - t0;
        saved_bytes = sb.len;
        if (cache && !cf) {
            FILE *wf = fopen(cache, "wb");
            if (!wf || fwrite(sb.data, 1, sb.len, wf) != sb.len)
                fprintf(stderr, "cannot write %s\n", cache);
            if (wf)
                fclose(wf);
        }
        hnsw_destroy(ix2);
        vx_buf_free(&sb);
        for (int s = 0; s < sweeps; s++, nrep++) {
            for (size_t e = 0; e < N_EF; e++) {
                for (size_t i = 0; i < 8; i++) /* warm-up */
                    search_one(ix, &src, query + i * d, EFS[e], found);
                size_t done = 0;
                t0 = now();
                for (; done < nq; done++) {
                    search_one(ix, &src, query + done * d, EFS[e], found + done * K);
                    if (done >= 20 && now() - t0 > max_seconds) {
                        done++;
                        break;
                    }
                }
                q1[e][nrep] = (double)done / (now() - t0);
                job sj = {ix, &src, query, nq, d, 0, 4, EFS[e], found, 0};
                t0 = now();
                run_threads(search_worker, &sj);
                q2[e][nrep] = (double)nq / (now() - t0);
                rec[e][nrep] = recall_at_k(found, gt, nq, gk);
            }
        }
        hnsw_destroy(ix);
    }
    printf("\n### Vectron HNSW, M=%d efC=%d, N=%zu, D=%zu, space ip\n\n", M, EFC, n, d);
    printf("build time, %d threads: %s s (%.0f vectors/s), %d build(s)\n", T,
           spread(tbuild, builds, "%.1f", b1, sizeof b1), (double)n / tbuild[0], builds);
    printf("memory: %s bytes/vector in the index (8-bit codes + links; the float32 rows the "
           "re-rank reads, %zu bytes/vector, stay with the caller)\n",
           spread(mem, builds, "%.0f", b2, sizeof b2), d * sizeof(float));
    printf("save: %s s, load (validate + copy): %s s, %zu bytes\n\n",
           spread(tsave, builds, "%.3f", b1, sizeof b1), spread(tload, builds, "%.3f", b2, sizeof b2),
           saved_bytes);
    printf("| ef | recall@10 | QPS 1 thread (sequential) | QPS 2 threads |\n|---|---|---|---|\n");
    for (size_t e = 0; e < N_EF; e++)
        printf("| %u | %s | %s | %s |\n", EFS[e], spread(rec[e], nrep, "%.4f", b1, sizeof b1),
               spread(q1[e], nrep, "%.0f", b2, sizeof b2),
               spread(q2[e], nrep, "%.0f", b3, sizeof b3));
    free(base);
    free(query);
    free(gt);
    free(found);
    return 0;
}
