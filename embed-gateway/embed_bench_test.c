/*
 * embed_bench_test.c — the model benchmark (embed_bench.h) and MODELS_BENCH
 * in the embed service: the contrast of hand-made vectors computed exactly,
 * the timing loop against a counting fake embedder (calls, failures, the
 * vectors kept), the PCA projection of points with a known structure, and
 * the built-in use-lite model separating the two topic groups (contrast >
 * 0.2) through embed_service_dispatch, without touching the cache. Needs
 * the converted use-lite model (VX_USE_LITE_MODEL or
 * models/use-lite/use-lite.bin); fails without it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed_bench.h"
#include "embed_handlers.h"
#include "vx_err.h"
#include "vx_test.h"

TEST(contrast_of_hand_made_vectors_is_exact)
{
    /* group 0: a=(1,0), b=(0.6,0.8)·3; group 1: c=(0,1), d=(-1,0)
     * within: cos(a,b)=0.6, cos(c,d)=0 → 0.3
     * cross: a·c=0, a·d=-1, b·c=0.8, b·d=-0.6 → -0.2; contrast 0.5 */
    const float v[] = {1, 0, 1.8f, 2.4f, 0, 1, -1, 0};
    const uint8_t g[] = {0, 0, 1, 1};
    embed_bench_contrast c;
    ASSERT_EQ_INT(embed_bench_contrast_of(v, g, 4, 2, &c), VX_OK);
    ASSERT_NEAR(c.within, 0.3, 1e-7);
    ASSERT_NEAR(c.cross, -0.2, 1e-7);
    ASSERT_NEAR(c.contrast, 0.5, 1e-7);
    /* a zero vector has cosine 0 with everything: within (0 + 0)/2, cross (0 + 0 + 0.8 - 0.6)/4 */
    const float z[] = {0, 0, 1.8f, 2.4f, 0, 1, -1, 0};
    ASSERT_EQ_INT(embed_bench_contrast_of(z, g, 4, 2, &c), VX_OK);
    ASSERT_NEAR(c.within, 0.0, 1e-7);
    ASSERT_NEAR(c.cross, 0.05, 1e-7);
    /* identical vectors everywhere: no contrast */
    const float same[] = {2, 1, 2, 1, 2, 1, 2, 1};
    ASSERT_EQ_INT(embed_bench_contrast_of(same, g, 4, 2, &c), VX_OK);
    ASSERT_NEAR(c.contrast, 0.0, 1e-12);
    ASSERT_NEAR(c.within, 1.0, 1e-12);
    /* refused: one group only, a label that is not 0/1, dimension 0 */
    const uint8_t one[] = {0, 0, 0, 0}, bad[] = {0, 2, 1, 1};
    ASSERT_EQ_INT(embed_bench_contrast_of(v, one, 4, 2, &c), VX_ERR_INVALID);
    ASSERT_EQ_INT(embed_bench_contrast_of(v, bad, 4, 2, &c), VX_ERR_INVALID);
    ASSERT_EQ_INT(embed_bench_contrast_of(v, g, 4, 0, &c), VX_ERR_INVALID);
    ASSERT_EQ_INT(embed_bench_contrast_of(v, g, 2, 2, &c), VX_ERR_INVALID); /* no within pair */
}

/* A fake embedder: text i of the built-in set → 3 dims, the group's axis
 * plus 0.1 × (i+1) on the third; fails on call number fail_at (1-based). */
typedef struct fake {
    int calls, texts, fail_at;
} fake;

static int fake_embed(void *arg, const char **texts, uint32_t n, float *out, char *err, size_t err_len)
{
    fake *f = arg;
    f->calls++;
    if (f->calls == f->fail_at) {
        snprintf(err, err_len, "provider said no");
        return VX_ERR_UPSTREAM;
    }
    for (uint32_t k = 0; k < n; k++) {
        int idx = -1;
        for (int i = 0; i < EMBED_BENCH_N_TEXTS; i++)
            if (strcmp(texts[k], embed_bench_texts[i]) == 0)
                idx = i;
        if (idx < 0) {
            snprintf(err, err_len, "unexpected text");
            return VX_ERR_INVALID;
        }
        float *v = out + (size_t)k * 3;
        v[0] = embed_bench_group_of((uint32_t)idx) == 0;
        v[1] = embed_bench_group_of((uint32_t)idx) == 1;
        v[2] = 0.1f * (float)(idx + 1);
        f->texts++;
    }
    return VX_OK;
}

TEST(measure_times_batch_and_single_requests)
{
    float vecs[EMBED_BENCH_N_TEXTS * 3];
    char err[256] = "";
    embed_bench_result r;
    fake f = {0, 0, 0};
    ASSERT_EQ_INT(embed_bench_measure(fake_embed, &f, 3, 2, vecs, &r, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(f.calls, 2 * (1 + EMBED_BENCH_N_TEXTS)); /* per round: one batch, 16 singles */
    ASSERT_EQ_INT(f.texts, 2 * 2 * EMBED_BENCH_N_TEXTS);
    ASSERT_EQ_INT(r.dim, 3);
    ASSERT(r.batch_ms > 0 && r.single_ms > 0);
    ASSERT_NEAR(r.texts_per_s, EMBED_BENCH_N_TEXTS * 1000.0 / r.batch_ms, 1e-6 * r.texts_per_s);
    /* the batch vectors are kept: text 9 is group 1 */
    ASSERT_NEAR(vecs[9 * 3 + 1], 1.0, 0);
    ASSERT_NEAR(vecs[9 * 3 + 2], 1.0, 1e-6);
    /* the same contrast as computing it directly */
    uint8_t g[EMBED_BENCH_N_TEXTS];
    for (uint32_t i = 0; i < EMBED_BENCH_N_TEXTS; i++)
        g[i] = (uint8_t)embed_bench_group_of(i);
    embed_bench_contrast c;
    ASSERT_EQ_INT(embed_bench_contrast_of(vecs, g, EMBED_BENCH_N_TEXTS, 3, &c), VX_OK);
    ASSERT_NEAR(r.c.contrast, c.contrast, 0);
    ASSERT(r.c.contrast > 0.5);

    /* a failure in the middle stops the run with the provider's code and message */
    fake bad = {0, 0, 5};
    ASSERT_EQ_INT(embed_bench_measure(fake_embed, &bad, 3, 3, vecs, &r, err, sizeof err), VX_ERR_UPSTREAM);
    ASSERT_STR_EQ(err, "provider said no");
    ASSERT_EQ_INT(bad.calls, 5);
    ASSERT_EQ_INT(embed_bench_measure(fake_embed, &f, 3, 0, vecs, &r, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "repeats"));
}

TEST(pca_recovers_a_known_plane)
{
    /* points t·d1 + s·d2 + offset in 5-D, d1 ⟂ d2 unit vectors, var(t) ≫ var(s),
     * s centred and uncorrelated with t, so d1 and d2 are the principal axes */
    const double d1[5] = {0.6, 0.8, 0, 0, 0}, d2[5] = {0, 0, 0, 0.8, -0.6};
    const double t[6] = {-3, -1, 0, 1, 2, 5}, s[6] = {-0.15, 0.7, -0.3, -0.6, 0.3, 0.05};
    float v[6 * 5];
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 5; k++)
            v[i * 5 + k] = (float)(t[i] * d1[k] + s[i] * d2[k] + (k == 2 ? 7.0 : 0.0));
    double xy[12];
    ASSERT_EQ_INT(embed_bench_pca2(v, 6, 5, xy), VX_OK);
    double tm = (-3 - 1 + 0 + 1 + 2 + 5) / 6.0; /* centred; signs: largest |t - tm| and |s| positive */
    for (int i = 0; i < 6; i++) {
        ASSERT_NEAR(xy[2 * i], t[i] - tm, 1e-5);
        ASSERT_NEAR(xy[2 * i + 1], s[i], 1e-5);
    }
    /* collinear points: the second coordinate is 0 */
    float line[3 * 2] = {0, 0, 1, 1, 3, 3};
    ASSERT_EQ_INT(embed_bench_pca2(line, 3, 2, xy), VX_OK);
    for (int i = 0; i < 3; i++)
        ASSERT_NEAR(xy[2 * i + 1], 0, 1e-9);
    ASSERT_NEAR(xy[4] - xy[0], 3 * sqrt(2.0), 1e-6);
    ASSERT_EQ_INT(embed_bench_pca2(line, 1, 2, xy), VX_ERR_INVALID);
}

/* ---- through the service ---- */

static registry_model g_models[] = {
    {"use-lite", EMBED_PROVIDER_BUILTIN, "universal-sentence-encoder-lite", 512, NULL, NULL, NULL},
    {"openai-small", EMBED_PROVIDER_OPENAI, "text-embedding-3-small", 1536, "VX_TEST_NO_SUCH_KEY", NULL, NULL},
};
static registry g_reg = {g_models, 2, "use-lite"};

static void bench_req(vx_request *rq, const char **models, uint32_t n, uint32_t repeats, uint32_t deadline_ms)
{
    memset(rq, 0, sizeof *rq);
    rq->version = VX_PROTO_VERSION;
    rq->type = VX_MSG_MODELS_BENCH;
    rq->request_id = 7;
    rq->deadline_ms = deadline_ms;
    rq->body.models_bench = (vx_models_bench_req){models, n, repeats};
}

TEST(models_bench_use_lite_separates_topics)
{
    use_lite_model *lite = NULL;
    char err[256];
    const char *p = getenv("VX_USE_LITE_MODEL");
    int lrc = use_lite_load(&lite, p && *p ? p : USE_LITE_DEFAULT_PATH, err, sizeof err);
    ASSERT_MSG(lrc == VX_OK, "cannot load the use-lite model: %s (run scripts/fetch-model.sh)", err);
    unsetenv("VX_TEST_NO_SUCH_KEY");
    embed_cache *cache = NULL;
    ASSERT_EQ_INT(embed_cache_create(&cache, 100, 1 << 20), VX_OK);
    embed_service *svc = NULL;
    embed_service_config cfg = {&g_reg, lite, NULL, cache, NULL, NULL};
    ASSERT_EQ_INT(embed_service_create(&svc, &cfg), VX_OK);
    vx_arena a;
    vx_arena_init(&a, 1 << 16);
    vx_request rq;
    vx_reply rep;

    bench_req(&rq, NULL, 0, 1, 60000); /* every model */
    embed_service_dispatch(svc, &rq, &rep, &a);
    ASSERT_MSG(rep.status == VX_OK, "%s", rep.err_message);
    ASSERT_EQ_INT(rep.type, VX_MSG_MODELS_BENCH);
    const vx_models_bench_rep *br = &rep.body.models_bench;
    ASSERT_STR_EQ(br->default_model, "use-lite");
    ASSERT_EQ_INT(br->n_models, 2);
    const vx_model_bench *ul = &br->models[0], *oa = &br->models[1];
    ASSERT_STR_EQ(ul->id, "use-lite");
    ASSERT(ul->available && ul->reason == NULL);
    ASSERT_EQ_INT(ul->dimensions, 512);
    ASSERT_MSG(ul->contrast > 0.2, "use-lite contrast %.3f (within %.3f, cross %.3f)", ul->contrast, ul->within,
               ul->cross);
    ASSERT_NEAR(ul->contrast, ul->within - ul->cross, 1e-12);
    ASSERT(ul->single_ms > 0 && ul->batch_ms > 0 && ul->texts_per_s > 0);
    ASSERT_STR_EQ(oa->id, "openai-small");
    ASSERT(!oa->available);
    ASSERT_MSG(oa->reason && strstr(oa->reason, "VX_TEST_NO_SUCH_KEY"), "reason: %s", oa->reason);
    /* the cache was not used (so repeats measure the model, not the cache) */
    ASSERT_EQ_INT(embed_cache_get_stats(cache).entries, 0);
    /* the reply passes the protocol's checks */
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(vx_proto_encode_reply(&rep, &b), VX_OK);
    vx_buf_free(&b);

    /* the shared function gives the same contrast (the model is deterministic) */
    static float vecs[EMBED_BENCH_N_TEXTS * 512];
    embed_bench_result res;
    ASSERT_EQ_INT(embed_service_bench_model(svc, &g_models[0], 1, 0, vecs, &res, err, sizeof err), VX_OK);
    ASSERT_NEAR(res.c.contrast, ul->contrast, 1e-9);
    ASSERT_EQ_INT(embed_service_bench_model(svc, &g_models[1], 1, 0, vecs, &res, err, sizeof err),
                  VX_ERR_EMBED_UNAVAILABLE);
    ASSERT(strstr(err, "VX_TEST_NO_SUCH_KEY"));

    /* named models, in the order asked; unknown → NOT_FOUND naming it */
    const char *one[] = {"openai-small"};
    bench_req(&rq, one, 1, 1, 60000);
    embed_service_dispatch(svc, &rq, &rep, &a);
    ASSERT_EQ_INT(rep.status, VX_OK);
    ASSERT_EQ_INT(rep.body.models_bench.n_models, 1);
    ASSERT_STR_EQ(rep.body.models_bench.models[0].id, "openai-small");
    const char *unknown[] = {"use-lite", "nope"};
    bench_req(&rq, unknown, 2, 1, 60000);
    embed_service_dispatch(svc, &rq, &rep, &a);
    ASSERT_EQ_INT(rep.status, VX_ERR_NOT_FOUND);
    ASSERT(strstr(rep.err_message, "models[1]") && strstr(rep.err_message, "nope"));

    /* a deadline shorter than the run: reported as a failed run, not a measurement */
    const char *lite_only[] = {"use-lite"};
    bench_req(&rq, lite_only, 1, VX_MAX_BENCH_REPEATS, 1);
    embed_service_dispatch(svc, &rq, &rep, &a);
    ASSERT_EQ_INT(rep.status, VX_OK);
    ASSERT(rep.body.models_bench.models[0].available);
    ASSERT_MSG(rep.body.models_bench.models[0].reason &&
                   strstr(rep.body.models_bench.models[0].reason, "benchmark failed"),
               "reason: %s", rep.body.models_bench.models[0].reason);

    vx_arena_fini(&a);
    embed_service_destroy(svc);
    embed_cache_destroy(cache);
    use_lite_destroy(lite);
}
