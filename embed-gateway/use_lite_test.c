/*
 * use_lite_test.c — the built-in model against the TensorFlow.js reference.
 *
 * The converted model is found through VX_USE_LITE_MODEL or at
 * models/use-lite/use-lite.bin (make test runs scripts/fetch-model.sh
 * first); when it is absent the tests FAIL — a missing model is a broken
 * install, not a reason to skip. The reference vectors (20 texts computed
 * by the package's own runtime) are embed-gateway/testdata/; every
 * component must match within 1e-5.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "use_lite.h"
#include "vx_err.h"
#include "vx_test.h"

#define REF_PATH "embed-gateway/testdata/use_lite_reference.json"

static const char *model_path(void)
{
    const char *p = getenv("VX_USE_LITE_MODEL");
    return p && *p ? p : USE_LITE_DEFAULT_PATH;
}

static use_lite_model *g_model;
static char g_err[256];

static use_lite_model *model(void)
{
    if (!g_model && use_lite_load(&g_model, model_path(), g_err, sizeof g_err) != VX_OK)
        g_model = NULL;
    return g_model;
}

typedef struct ref {
    json_t *root;
    size_t n;
    const char **texts;
    float *vecs; /* n × 512 */
} ref;

static int load_ref(ref *r)
{
    memset(r, 0, sizeof *r);
    json_error_t je;
    r->root = json_load_file(REF_PATH, 0, &je);
    if (!r->root)
        return -1;
    json_t *texts = json_object_get(r->root, "texts"), *embs = json_object_get(r->root, "embeddings");
    if (!json_is_array(texts) || !json_is_array(embs) || json_array_size(texts) != json_array_size(embs))
        return -1;
    r->n = json_array_size(texts);
    r->texts = calloc(r->n, sizeof *r->texts);
    r->vecs = calloc(r->n * USE_LITE_DIM, sizeof *r->vecs);
    for (size_t i = 0; i < r->n; i++) {
        r->texts[i] = json_string_value(json_array_get(texts, i));
        json_t *e = json_array_get(embs, i);
        if (!r->texts[i] || json_array_size(e) != USE_LITE_DIM)
            return -1;
        for (size_t j = 0; j < USE_LITE_DIM; j++)
            r->vecs[i * USE_LITE_DIM + j] = (float)json_number_value(json_array_get(e, j));
    }
    return 0;
}

static void free_ref(ref *r)
{
    free(r->texts);
    free(r->vecs);
    json_decref(r->root);
}

static double cosine(const float *a, const float *b)
{
    double d = 0, na = 0, nb = 0;
    for (int j = 0; j < USE_LITE_DIM; j++)
        d += (double)a[j] * b[j], na += (double)a[j] * a[j], nb += (double)b[j] * b[j];
    return d / sqrt(na * nb);
}

TEST(use_lite_model_file_present_and_valid)
{
    ASSERT_MSG(model() != NULL, "cannot load the use-lite model from %s: %s (run scripts/fetch-model.sh or set VX_USE_LITE_MODEL)",
               model_path(), g_err);
    ASSERT(strlen(use_lite_unicode_version(model())) > 0);
}

TEST(use_lite_matches_reference_batched)
{
    ASSERT_MSG(model() != NULL, "model missing: %s", g_err);
    ref r;
    ASSERT_MSG(load_ref(&r) == 0, "cannot read %s", REF_PATH);
    float *out = calloc(r.n * USE_LITE_DIM, sizeof *out);
    int rc = use_lite_embed(model(), r.texts, r.n, out);
    double worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < r.n * USE_LITE_DIM; i++) {
        double d = fabs((double)out[i] - r.vecs[i]);
        if (d > worst)
            worst = d, worst_i = i;
    }
    const char *bad_text = r.texts[worst_i / USE_LITE_DIM];
    char shown[64];
    snprintf(shown, sizeof shown, "%s", bad_text);
    free(out);
    free_ref(&r);
    printf("    use-lite: max |deviation| from the reference %.3g (bound 1e-5)\n", worst);
    ASSERT_EQ_INT(rc, VX_OK);
    ASSERT_MSG(worst <= 1e-5, "max deviation %.3g at text \"%s\" component %zu", worst, shown,
               worst_i % USE_LITE_DIM);
}

TEST(use_lite_matches_reference_one_by_one)
{
    ASSERT_MSG(model() != NULL, "model missing: %s", g_err);
    ref r;
    ASSERT_MSG(load_ref(&r) == 0, "cannot read %s", REF_PATH);
    float v[USE_LITE_DIM];
    for (size_t i = 0; i < r.n; i++) {
        int rc = use_lite_embed(model(), &r.texts[i], 1, v);
        double worst = 0, norm = 0;
        for (int j = 0; j < USE_LITE_DIM; j++) {
            double d = fabs((double)v[j] - r.vecs[i * USE_LITE_DIM + j]);
            worst = d > worst ? d : worst;
            norm += (double)v[j] * v[j];
        }
        if (rc != VX_OK || worst > 1e-5 || fabs(norm - 1) > 1e-5) {
            vx_test_fail(__FILE__, __LINE__, "text %zu (\"%.40s\"): rc %d, max deviation %.3g, norm² %.7f", i,
                         r.texts[i], rc, worst, norm);
            break;
        }
    }
    free_ref(&r);
}

TEST(use_lite_readme_cosines)
{
    ASSERT_MSG(model() != NULL, "model missing: %s", g_err);
    const char *t[3] = {"A man is playing a guitar.", "Someone is strumming a guitar.",
                        "The stock market fell sharply today."};
    float v[3 * USE_LITE_DIM];
    ASSERT_EQ_INT(use_lite_embed(model(), t, 3, v), VX_OK);
    ASSERT_NEAR(cosine(v, v + USE_LITE_DIM), 0.7534, 5e-5);
    ASSERT_NEAR(cosine(v, v + 2 * USE_LITE_DIM), 0.0133, 5e-5);
}

TEST(use_lite_long_text_is_clipped_to_128_tokens)
{
    ASSERT_MSG(model() != NULL, "model missing: %s", g_err);
    /* 200 distinct-position tokens vs. the same text cut well after token
     * 128: both must embed identically because only 128 tokens count */
    size_t cap = 8192;
    char *a = calloc(cap, 1), *b = calloc(cap, 1);
    for (int i = 0; i < 200; i++)
        strcat(a, "the cat ");
    memcpy(b, a, 170 * 8);
    const use_lite_tokenizer *tk = use_lite_get_tokenizer(model());
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = use_lite_tokenize(tk, b, strlen(b), &ids, &n);
    free(ids);
    float va[USE_LITE_DIM], vb[USE_LITE_DIM];
    const char *pa = a, *pb = b;
    int ra = use_lite_embed(model(), &pa, 1, va), rb = use_lite_embed(model(), &pb, 1, vb);
    free(a);
    free(b);
    ASSERT_EQ_INT(rc, VX_OK);
    ASSERT(n > USE_LITE_MAX_TOKENS);
    ASSERT_EQ_INT(ra, VX_OK);
    ASSERT_EQ_INT(rb, VX_OK);
    ASSERT_MSG(memcmp(va, vb, sizeof va) == 0, "tokens after 128 changed the embedding");
}

TEST(use_lite_rejects_null_text_and_accepts_empty_batch)
{
    ASSERT_MSG(model() != NULL, "model missing: %s", g_err);
    const char *t[2] = {"ok", NULL};
    float v[2 * USE_LITE_DIM];
    ASSERT_EQ_INT(use_lite_embed(model(), t, 2, v), VX_ERR_INVALID);
    ASSERT_EQ_INT(use_lite_embed(model(), t, 0, v), VX_OK);
}

typedef struct thread_arg {
    const char *text;
    const float *expect;
    int mismatches;
} thread_arg;

static void *embed_loop(void *p)
{
    thread_arg *a = p;
    float v[USE_LITE_DIM];
    for (int i = 0; i < 20; i++) {
        if (use_lite_embed(g_model, &a->text, 1, v) != VX_OK || memcmp(v, a->expect, sizeof v) != 0)
            a->mismatches++;
    }
    return NULL;
}

TEST(use_lite_is_thread_safe)
{
    ASSERT_MSG(model() != NULL, "model missing: %s", g_err);
    const char *texts[4] = {"How do I reset my password?", "Die Katze schläft auf dem Sofa.",
                            "I love pizza 🍕 and pasta!", ""};
    float expect[4][USE_LITE_DIM];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ_INT(use_lite_embed(model(), &texts[i], 1, expect[i]), VX_OK);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){texts[i], expect[i], 0};
        ASSERT_EQ_INT(pthread_create(&th[i], NULL, embed_loop, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ_INT(args[i].mismatches, 0);
}

TEST(use_lite_load_rejects_bad_files)
{
    char path[512], err[256];
    use_lite_model *m = NULL;
    snprintf(path, sizeof path, "%s/missing.bin", vx_test_tmpdir());
    ASSERT_EQ_INT(use_lite_load(&m, path, err, sizeof err), VX_ERR_IO);
    ASSERT(m == NULL);
    ASSERT(strstr(err, "missing.bin") != NULL);

    /* a file with the wrong magic */
    snprintf(path, sizeof path, "%s/junk.bin", vx_test_tmpdir());
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    char junk[256] = "not a model";
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    ASSERT_EQ_INT(use_lite_load(&m, path, err, sizeof err), VX_ERR_CORRUPT);
    ASSERT(strstr(err, "magic") != NULL);

    /* the real file truncated: header size no longer matches */
    ASSERT_MSG(model() != NULL, "model missing: %s", g_err);
    FILE *src = fopen(model_path(), "rb");
    ASSERT(src != NULL);
    snprintf(path, sizeof path, "%s/trunc.bin", vx_test_tmpdir());
    f = fopen(path, "wb");
    ASSERT(f != NULL);
    char buf[65536];
    size_t total = 0, n;
    while (total < (1u << 20) && (n = fread(buf, 1, sizeof buf, src)) > 0)
        fwrite(buf, 1, n, f), total += n;
    fclose(src);
    fclose(f);
    ASSERT_EQ_INT(use_lite_load(&m, path, err, sizeof err), VX_ERR_CORRUPT);
    ASSERT(m == NULL);
}
