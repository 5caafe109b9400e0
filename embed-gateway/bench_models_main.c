/*
 * bench_models_main.c — vectron-bench-models: a quick quality and speed
 * check of every available embedding model (or those named on the command
 * line), in-process through the same service code vectron-embed runs and
 * the same benchmark as MODELS_BENCH / POST /benchmark/models
 * (embed_bench.h: two topic groups of 8 sentences, contrast = mean cosine
 * within the groups − mean cosine across them, best of --repeats rounds of
 * one batch request and one request per sentence, the cache is off).
 *
 *   vectron-bench-models [--repeats N] [--json FILE] [--png FILE] [model-id ...]
 *
 * Prints a table; --json writes the results ({"models": {id: {...}},
 * "default": ...}, the shape of POST /benchmark/models plus provider);
 * --png draws each measured model's sentence embeddings projected to 2-D
 * (PCA) in one panel, the two topic groups in two colours, with gnuplot
 * (Debian package gnuplot-nox). Without gnuplot, --png fails before any
 * model runs. Settings (registry, model dir, keys, base URLs, CA file, …)
 * come from the same environment variables as vectron-embed
 * (VECTRON_MODELS_FILE, VECTRON_MODEL_DIR, …). Exit status: 0 when the
 * outputs were written (unavailable models are reported, not errors), 1 on
 * failure, 2 on a usage error or an unknown model id.
 */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "embed_bench.h"
#include "embed_config.h"
#include "embed_handlers.h"
#include "httpc.h"
#include "vx_err.h"
#include "vx_jsonw.h"
#include "vx_log.h"

extern char **environ;

typedef struct run {
    const registry_model *m;
    bool available;       /* the model can embed */
    const char *reason;   /* unavailable, or why the run failed (points into err) */
    char err[600];
    embed_bench_result res;
    float *vecs;          /* EMBED_BENCH_N_TEXTS × dim when measured */
} run;

static void usage(FILE *f)
{
    fprintf(f, "usage: vectron-bench-models [--repeats N] [--json FILE] [--png FILE] [model-id ...]\n"
               "  --repeats N  rounds per model, best kept (1..%d, default %d)\n"
               "  --json FILE  write the results as JSON\n"
               "  --png FILE   plot the embeddings (PCA to 2-D) with gnuplot\n",
            VX_MAX_BENCH_REPEATS, VX_DEFAULT_BENCH_REPEATS);
}

/* true when prog is an executable file in one of PATH's directories */
static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n && (size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog) < sizeof buf &&
            access(buf, X_OK) == 0)
            return true;
        path = end ? end + 1 : NULL;
    }
    return false;
}

static bool measured(const run *r) { return r->reason == NULL; }

static void print_row(const run *r)
{
    const char *prov = registry_provider_name(r->m->provider);
    if (!measured(r)) {
        printf("%-18s %-12s %5u  %s\n", r->m->id, prov, r->m->dimensions, r->reason);
        return;
    }
    printf("%-18s %-12s %5u  %7.3f %7.3f %8.3f  %9.3f %9.3f %10.1f\n", r->m->id, prov, r->res.dim,
           r->res.c.within, r->res.c.cross, r->res.c.contrast, r->res.single_ms, r->res.batch_ms,
           r->res.texts_per_s);
}

static int write_json(const char *path, const registry *reg, const run *runs, size_t n, uint32_t repeats)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "default");
    vx_jsonw_string(&w, reg->default_id);
    vx_jsonw_key(&w, "texts");
    vx_jsonw_uint(&w, EMBED_BENCH_N_TEXTS);
    vx_jsonw_key(&w, "repeats");
    vx_jsonw_uint(&w, repeats);
    vx_jsonw_key(&w, "models");
    vx_jsonw_begin_object(&w);
    for (size_t i = 0; i < n; i++) {
        const run *r = &runs[i];
        vx_jsonw_key(&w, r->m->id);
        vx_jsonw_begin_object(&w);
        vx_jsonw_key(&w, "provider");
        vx_jsonw_string(&w, registry_provider_name(r->m->provider));
        vx_jsonw_key(&w, "dimensions");
        vx_jsonw_uint(&w, r->m->dimensions);
        vx_jsonw_key(&w, "available");
        vx_jsonw_bool(&w, r->available);
        if (r->reason) {
            vx_jsonw_key(&w, "reason");
            vx_jsonw_string(&w, r->reason);
        } else {
            const char *k[] = {"single_ms", "batch_ms", "texts_per_s", "contrast", "within", "cross"};
            double v[] = {r->res.single_ms, r->res.batch_ms, r->res.texts_per_s,
                          r->res.c.contrast, r->res.c.within, r->res.c.cross};
            for (int j = 0; j < 6; j++) {
                vx_jsonw_key(&w, k[j]);
                vx_jsonw_double(&w, v[j]);
            }
        }
        vx_jsonw_end_object(&w);
    }
    vx_jsonw_end_object(&w);
    vx_jsonw_end_object(&w);
    vx_buf_append(&b, "\n", 1);
    int rc = VX_OK;
    FILE *f = fopen(path, "w");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
        fprintf(stderr, "vectron-bench-models: cannot write %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        rc = VX_ERR_IO;
    }
    vx_buf_free(&b);
    return rc;
}

/* gnuplot-safe text in single quotes: drops quotes and backslashes */
static void gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s != '\'' && *s != '\\' && *s != '\n')
            fputc(*s, f);
    fputc('\'', f);
}

static int run_gnuplot(const char *script)
{
    pid_t pid;
    char *argv[] = {"gnuplot", (char *)script, NULL};
    int rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "vectron-bench-models: cannot run gnuplot: %s\n", strerror(rc));
        return VX_ERR_IO;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return VX_ERR_IO;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "vectron-bench-models: gnuplot failed (status %d)\n", st);
        return VX_ERR_IO;
    }
    return VX_OK;
}

/* One panel per measured model: the PCA projection of its 16 embeddings. */
static int write_png(const char *png, const run *runs, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += measured(&runs[i]);
    if (k == 0) {
        fprintf(stderr, "vectron-bench-models: --png: no model was measured, nothing to plot\n");
        return VX_ERR_INVALID;
    }
    char dir[] = "/tmp/vectron-bench-models.XXXXXX", dat[64], gp[64];
    if (!mkdtemp(dir)) {
        fprintf(stderr, "vectron-bench-models: mkdtemp: %s\n", strerror(errno));
        return VX_ERR_IO;
    }
    snprintf(dat, sizeof dat, "%s/points.dat", dir);
    snprintf(gp, sizeof gp, "%s/plot.gp", dir);
    int rc = VX_ERR_IO;
    FILE *d = fopen(dat, "w"), *g = fopen(gp, "w");
    if (!d || !g)
        goto out;
    size_t cols = k < 2 ? 1 : k < 5 ? 2 : 3, rows = (k + cols - 1) / cols;
    fprintf(g, "set terminal pngcairo size %zu,%zu font 'sans,10'\nset output ", 640 * cols, 480 * rows + 50);
    gp_quote(g, png);
    fprintf(g, "\nset multiplot layout %zu,%zu title 'Sentence embeddings projected to 2-D (PCA): "
               "%d texts, two topics' font 'sans,13'\n",
            rows, cols, EMBED_BENCH_N_TEXTS);
    fprintf(g, "set xlabel 'PC1'\nset ylabel 'PC2'\nset grid\nset key outside right top vertical box\n"
               "set offsets graph 0.1, graph 0.1, graph 0.15, graph 0.1\n");
    size_t block = 0;
    for (size_t i = 0; i < n; i++) {
        const run *r = &runs[i];
        if (!measured(r))
            continue;
        double xy[2 * EMBED_BENCH_N_TEXTS];
        rc = embed_bench_pca2(r->vecs, EMBED_BENCH_N_TEXTS, r->res.dim, xy);
        if (rc != VX_OK)
            goto out;
        rc = VX_ERR_IO;
        fprintf(d, "# %s\n", r->m->id);
        for (uint32_t t = 0; t < EMBED_BENCH_N_TEXTS; t++)
            fprintf(d, "%.9g %.9g %d\n", xy[2 * t], xy[2 * t + 1], embed_bench_group_of(t));
        fprintf(d, "\n\n");
        char title[200];
        snprintf(title, sizeof title, "%s (%u dims): contrast %.3f", r->m->id, r->res.dim, r->res.c.contrast);
        fputs("set title ", g);
        gp_quote(g, title);
        fprintf(g, "\nplot '%s' index %zu using 1:($3==0?$2:1/0) with points pt 7 ps 1.6 lc rgb '#d95f02' "
                   "title '%s', \\\n     '' index %zu using 1:($3==1?$2:1/0) with points pt 5 ps 1.4 "
                   "lc rgb '#1b9e77' title '%s'\n",
                dat, block, embed_bench_group_names[0], block, embed_bench_group_names[1]);
        block++;
    }
    fprintf(g, "unset multiplot\n");
    if (fclose(d) != 0 || fclose(g) != 0) {
        d = g = NULL;
        goto out;
    }
    d = g = NULL;
    rc = run_gnuplot(gp);
out:
    if (rc == VX_ERR_IO && (d || g))
        fprintf(stderr, "vectron-bench-models: cannot write the plot files in %s: %s\n", dir, strerror(errno));
    if (d)
        fclose(d);
    if (g)
        fclose(g);
    unlink(dat);
    unlink(gp);
    rmdir(dir);
    return rc;
}

int main(int argc, char **argv)
{
    const char *json = NULL, *png = NULL;
    uint32_t repeats = VX_DEFAULT_BENCH_REPEATS;
    const char **wanted = calloc((size_t)argc, sizeof *wanted);
    size_t n_wanted = 0;
    if (!wanted)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--json") == 0 || strcmp(a, "--png") == 0 || strcmp(a, "--repeats") == 0) &&
            i + 1 >= argc) {
            fprintf(stderr, "vectron-bench-models: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        if (strcmp(a, "--json") == 0) {
            json = argv[++i];
        } else if (strcmp(a, "--png") == 0) {
            png = argv[++i];
        } else if (strcmp(a, "--repeats") == 0) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > VX_MAX_BENCH_REPEATS) {
                fprintf(stderr, "vectron-bench-models: --repeats: \"%s\" is not in 1..%d\n", argv[i],
                        VX_MAX_BENCH_REPEATS);
                return 2;
            }
            repeats = (uint32_t)v;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "vectron-bench-models: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            wanted[n_wanted++] = a;
        }
    }
    if (png && !in_path("gnuplot")) {
        fprintf(stderr, "vectron-bench-models: --png needs gnuplot, which is not installed "
                        "(apt-get install gnuplot-nox, or scripts/install-deps.sh)\n");
        return 1;
    }
    char *no_args[] = {argv[0], NULL};
    embed_config cfg;
    if (embed_config_load(&cfg, 1, no_args) != VX_CONFIG_OK)
        return 2;
    char cerr[512];
    if (embed_config_check(&cfg, cerr, sizeof cerr) != VX_OK) {
        fprintf(stderr, "vectron-bench-models: %s\n", cerr);
        return 2;
    }
    vx_log_init("vectron-bench-models", VX_LOG_WARN);
    if (httpc_global_init() != VX_OK)
        return 1;
    registry *reg = NULL;
    use_lite_model *model = NULL;
    embed_service *svc = NULL;
    run *runs = NULL;
    size_t n_runs = 0;
    char err[512];
    int status = 1;
    if (registry_load_file(&reg, cfg.registry, err, sizeof err) != VX_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    for (size_t k = 0; k < n_wanted; k++)
        if (!registry_find(reg, wanted[k])) {
            fprintf(stderr, "vectron-bench-models: unknown model \"%s\" (not in %s)\n", wanted[k], cfg.registry);
            status = 2;
            goto out;
        }
    use_lite_set_blas_threads(1);
    if (use_lite_load(&model, cfg.use_lite_model, err, sizeof err) != VX_OK)
        model = NULL;
    embed_provider_options po = {
        .http = {.ca_file = cfg.ca_file, .max_attempts = (uint32_t)cfg.http_max_attempts},
        .openai_base_url = cfg.openai_base_url,
        .cohere_base_url = cfg.cohere_base_url,
        .huggingface_base_url = cfg.hf_base_url,
        .python = cfg.python,
        .worker_script = cfg.worker_script,
    };
    embed_service_config sc = {reg, model, model ? NULL : err, NULL,
                               cfg.model_dir && *cfg.model_dir ? cfg.model_dir : NULL, &po};
    if (embed_service_create(&svc, &sc) != VX_OK)
        goto out;
    runs = calloc(reg->n_models ? reg->n_models : 1, sizeof *runs);
    if (!runs)
        goto out;
    printf("%-18s %-12s %5s  %7s %7s %8s  %9s %9s %10s\n", "model", "provider", "dim", "within", "cross",
           "contrast", "single_ms", "batch_ms", "texts/s");
    for (size_t i = 0; i < reg->n_models; i++) {
        const registry_model *m = &reg->models[i];
        bool want = n_wanted == 0;
        for (size_t k = 0; k < n_wanted; k++)
            want |= strcmp(wanted[k], m->id) == 0;
        if (!want)
            continue;
        run *r = &runs[n_runs++];
        r->m = m;
        r->vecs = malloc(sizeof(float) * EMBED_BENCH_N_TEXTS * (m->dimensions ? m->dimensions : 1));
        if (!r->vecs)
            goto out;
        int rc = embed_service_bench_model(svc, m, repeats, 0, r->vecs, &r->res, r->err, sizeof r->err);
        r->available = rc != VX_ERR_EMBED_UNAVAILABLE;
        if (rc == VX_ERR_EMBED_UNAVAILABLE) {
            r->reason = r->err;
        } else if (rc != VX_OK) {
            char tmp[480];
            snprintf(tmp, sizeof tmp, "%.400s", r->err);
            snprintf(r->err, sizeof r->err, "benchmark failed (%s): %s", vx_errname(rc), tmp);
            r->reason = r->err;
        }
        print_row(r);
        fflush(stdout);
    }
    status = 0;
    if (json && write_json(json, reg, runs, n_runs, repeats) != VX_OK)
        status = 1;
    if (png && write_png(png, runs, n_runs) != VX_OK)
        status = 1;
out:
    for (size_t i = 0; i < n_runs; i++)
        free(runs[i].vecs);
    free(runs);
    free(wanted);
    embed_service_destroy(svc);
    use_lite_destroy(model);
    registry_free(reg);
    return status;
}
