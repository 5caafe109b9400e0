/*
 * bench_models_main.c — vectron-bench-models: a quick quality and speed
 * check of every available embedding model (or those named on the command
 * line), in-process through the same service code vectron-embed runs.
 *
 *   vectron-bench-models [model-id ...]
 *
 * Settings (registry, model dir, keys, base URLs, CA file, …) come from the
 * same environment variables as vectron-embed (VECTRON_MODELS_FILE,
 * VECTRON_MODEL_DIR, …). Two topic groups of 8 sentences (cooking, computing)
 * are embedded; contrast = mean cosine within the groups − mean cosine
 * across them (higher separates topics better; a model giving random or
 * constant vectors scores ≈ 0). Speed: all 16 sentences in one request, then
 * one request per sentence (the cache is off), best of 3 runs.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "embed_config.h"
#include "embed_handlers.h"
#include "httpc.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

static const char *GROUP_A[8] = {
    "Simmer the tomato sauce for twenty minutes and stir occasionally.",
    "Knead the bread dough until it is smooth and elastic.",
    "Roast the vegetables with olive oil, garlic and rosemary.",
    "Whisk the eggs with sugar before folding in the flour.",
    "The soup needs more salt and a squeeze of lemon.",
    "Marinate the chicken overnight in yogurt and spices.",
    "Bake the cake at 180 degrees until a skewer comes out clean.",
    "Slice the onions thinly and fry them until golden brown.",
};
static const char *GROUP_B[8] = {
    "The compiler reports a type error on line forty two.",
    "Restart the database server after changing its configuration.",
    "This function leaks memory when the input buffer is empty.",
    "Use a hash table to look the keys up in constant time.",
    "The kernel schedules threads across all available CPU cores.",
    "Encrypt the connection with TLS and verify the certificate.",
    "The unit tests fail because the network mock times out.",
    "Profile the program to find which loop dominates the runtime.",
};

static double cosine(const float *a, const float *b, uint32_t d)
{
    double ab = 0, aa = 0, bb = 0;
    for (uint32_t i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

static int embed(embed_service *svc, const char *model, const char **texts, uint32_t n, float *out, uint32_t *dim,
                 vx_arena *a, char *err, size_t err_len)
{
    vx_request rq;
    memset(&rq, 0, sizeof rq);
    rq.version = VX_PROTO_VERSION;
    rq.type = VX_MSG_EMBED;
    rq.deadline_ms = 120000;
    rq.body.embed.model = model;
    rq.body.embed.texts = texts;
    rq.body.embed.n_texts = n;
    vx_reply rep;
    embed_service_dispatch(svc, &rq, &rep, a);
    if (rep.status != VX_OK) {
        snprintf(err, err_len, "%s", rep.err_message ? rep.err_message : vx_strerror(rep.status));
        return rep.status;
    }
    *dim = rep.body.embed.dim;
    if (out)
        memcpy(out, rep.body.embed.vectors, sizeof(float) * rep.body.embed.n * rep.body.embed.dim);
    return VX_OK;
}

static void bench_one(embed_service *svc, const registry_model *m)
{
    static float vecs[16 * VX_MAX_DIM];
    const char *texts[16];
    for (int i = 0; i < 8; i++) {
        texts[i] = GROUP_A[i];
        texts[8 + i] = GROUP_B[i];
    }
    vx_arena a;
    vx_arena_init(&a, 1 << 20);
    char err[600];
    uint32_t dim = 0;
    double batch_ms = 1e30, single_ms = 1e30;
    int rc = VX_OK;
    for (int run = 0; run < 3 && rc == VX_OK; run++) {
        uint64_t t0 = vx_now_us();
        rc = embed(svc, m->id, texts, 16, vecs, &dim, &a, err, sizeof err);
        double ms = (double)(vx_now_us() - t0) / 1000.0;
        batch_ms = ms < batch_ms ? ms : batch_ms;
        t0 = vx_now_us();
        for (int i = 0; i < 16 && rc == VX_OK; i++)
            rc = embed(svc, m->id, texts + i, 1, NULL, &dim, &a, err, sizeof err);
        ms = (double)(vx_now_us() - t0) / 1000.0;
        single_ms = ms < single_ms ? ms : single_ms;
        vx_arena_reset(&a);
    }
    if (rc != VX_OK) {
        printf("%-18s %-12s failed: %s\n", m->id, registry_provider_name(m->provider), err);
        vx_arena_fini(&a);
        return;
    }
    double within = 0, across = 0;
    int nw = 0, na = 0;
    for (int i = 0; i < 16; i++)
        for (int j = i + 1; j < 16; j++) {
            double c = cosine(vecs + (size_t)i * dim, vecs + (size_t)j * dim, dim);
            if ((i < 8) == (j < 8)) {
                within += c;
                nw++;
            } else {
                across += c;
                na++;
            }
        }
    within /= nw;
    across /= na;
    printf("%-18s %-12s %5u  %7.3f %7.3f %8.3f  %9.1f %9.1f\n", m->id, registry_provider_name(m->provider), dim,
           within, across, within - across, 16000.0 / batch_ms, 16000.0 / single_ms);
    vx_arena_fini(&a);
}

int main(int argc, char **argv)
{
    char *no_args[] = {argv[0], NULL};
    embed_config cfg;
    if (embed_config_load(&cfg, 1, no_args) != VX_CONFIG_OK)
        return 2;
    vx_log_init("vectron-bench-models", VX_LOG_WARN);
    if (httpc_global_init() != VX_OK)
        return 1;
    registry *reg = NULL;
    use_lite_model *model = NULL;
    embed_service *svc = NULL;
    char err[512];
    int status = 1;
    if (registry_load_file(&reg, cfg.registry, err, sizeof err) != VX_OK) {
        fprintf(stderr, "%s\n", err);
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
    printf("%-18s %-12s %5s  %7s %7s %8s  %9s %9s\n", "model", "provider", "dim", "within", "across", "contrast",
           "batch/s", "single/s");
    for (size_t i = 0; i < reg->n_models; i++) {
        const registry_model *m = &reg->models[i];
        bool wanted = argc < 2;
        for (int k = 1; k < argc; k++)
            wanted |= strcmp(argv[k], m->id) == 0;
        if (!wanted)
            continue;
        const char *reason;
        if (!embed_service_model_available(svc, m, &reason)) {
            printf("%-18s %-12s unavailable: %s\n", m->id, registry_provider_name(m->provider), reason);
            continue;
        }
        bench_one(svc, m);
        fflush(stdout);
    }
    status = 0;
out:
    embed_service_destroy(svc);
    use_lite_destroy(model);
    registry_free(reg);
    return status;
}
