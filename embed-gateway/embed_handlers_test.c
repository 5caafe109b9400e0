/*
 * embed_handlers_test.c — EMBED / MODELS / HEALTH through
 * embed_service_dispatch (decoded messages, no bus): the built-in model
 * really embeds, the cache serves repeats, unknown models are NOT_FOUND,
 * unconfigured or misconfigured providers are EMBED_UNAVAILABLE with the
 * reason, and never return a vector. Needs the converted use-lite model
 * (VX_USE_LITE_MODEL or models/use-lite/use-lite.bin); fails without it.
 */
#include <stdlib.h>
#include <string.h>

#include "embed_handlers.h"
#include "vx_err.h"
#include "vx_test.h"

static use_lite_model *g_model;
static char g_err[256];

static use_lite_model *model(void)
{
    if (!g_model) {
        const char *p = getenv("VX_USE_LITE_MODEL");
        if (use_lite_load(&g_model, p && *p ? p : USE_LITE_DEFAULT_PATH, g_err, sizeof g_err) != VX_OK)
            g_model = NULL;
    }
    return g_model;
}

static registry_model g_models[] = {
    {"use-lite", EMBED_PROVIDER_BUILTIN, "universal-sentence-encoder-lite", 512, NULL, NULL, NULL},
    {"minilm", EMBED_PROVIDER_PYTHON, "sentence-transformers/all-MiniLM-L6-v2", 384, NULL, NULL, NULL},
    {"openai-small", EMBED_PROVIDER_OPENAI, "text-embedding-3-small", 1536, "VX_TEST_NO_SUCH_KEY", NULL, NULL},
    {"cohere-english", EMBED_PROVIDER_COHERE, "embed-english-v3.0", 1024, "VX_TEST_COHERE_KEY", "http://127.0.0.1:9",
     NULL},
};
static registry g_reg = {g_models, 4, "use-lite"};

typedef struct fixture {
    embed_service *svc;
    embed_cache *cache;
    vx_arena arena;
} fixture;

static int setup(fixture *f, const use_lite_model *m, const char *model_dir)
{
    memset(f, 0, sizeof *f);
    unsetenv("VX_TEST_NO_SUCH_KEY");
    setenv("VX_TEST_COHERE_KEY", "test-key-value", 1);
    vx_arena_init(&f->arena, 65536);
    if (embed_cache_create(&f->cache, 100, 1 << 20) != VX_OK)
        return -1;
    embed_service_config c = {&g_reg, m, m ? NULL : "file not found", f->cache, model_dir, NULL};
    return embed_service_create(&f->svc, &c);
}

static void teardown(fixture *f)
{
    embed_service_destroy(f->svc);
    embed_cache_destroy(f->cache);
    vx_arena_fini(&f->arena);
}

static void embed_req(vx_request *rq, const char *model_id, const char **texts, uint32_t n)
{
    memset(rq, 0, sizeof *rq);
    rq->version = VX_PROTO_VERSION;
    rq->type = VX_MSG_EMBED;
    rq->request_id = 42;
    rq->body.embed.model = model_id;
    rq->body.embed.texts = texts;
    rq->body.embed.n_texts = n;
}

static int64_t stat_int(const vx_reply *rep, const char *key)
{
    const vx_value *v = vx_value_get(rep->body.health.stats, key);
    return v && v->type == VX_VAL_INT ? v->u.i : -1;
}

TEST(embed_default_model_gives_real_vectors_and_caches)
{
    ASSERT_MSG(model() != NULL, "use-lite model missing: %s", g_err);
    fixture f;
    ASSERT_EQ_INT(setup(&f, model(), NULL), VX_OK);
    const char *texts[2] = {"A man is playing a guitar.", "The cat sat on the mat."};
    float direct[2 * USE_LITE_DIM];
    ASSERT_EQ_INT(use_lite_embed(model(), texts, 2, direct), VX_OK);

    vx_request rq;
    vx_reply rep;
    embed_req(&rq, NULL, texts, 2);
    embed_service_dispatch(f.svc, &rq, &rep, &f.arena);
    int ok = rep.status == VX_OK && rep.type == VX_MSG_EMBED && rep.request_id == 42 &&
             rep.body.embed.dim == 512 && rep.body.embed.n == 2 && strcmp(rep.body.embed.model, "use-lite") == 0 &&
             memcmp(rep.body.embed.vectors, direct, sizeof direct) == 0;
    /* the same request again is served from the cache, identically */
    vx_reply rep2;
    embed_req(&rq, "use-lite", texts, 2);
    embed_service_dispatch(f.svc, &rq, &rep2, &f.arena);
    int ok2 = rep2.status == VX_OK && memcmp(rep2.body.embed.vectors, direct, sizeof direct) == 0;
    vx_request hq;
    memset(&hq, 0, sizeof hq);
    hq.type = VX_MSG_HEALTH;
    vx_reply hr;
    embed_service_dispatch(f.svc, &hq, &hr, &f.arena);
    int64_t hits = stat_int(&hr, "cache_hits"), misses = stat_int(&hr, "cache_misses");
    int64_t texts_done = stat_int(&hr, "texts_embedded");
    const char *svc_name = hr.body.health.service;
    teardown(&f);
    ASSERT(ok);
    ASSERT(ok2);
    ASSERT_STR_EQ(svc_name, "embed");
    ASSERT_EQ_INT(hits, 2);
    ASSERT_EQ_INT(misses, 2);
    ASSERT_EQ_INT(texts_done, 4);
}

TEST(embed_unknown_model_is_not_found)
{
    fixture f;
    ASSERT_EQ_INT(setup(&f, model(), NULL), VX_OK);
    const char *texts[1] = {"hello"};
    vx_request rq;
    vx_reply rep;
    embed_req(&rq, "no-such-model", texts, 1);
    embed_service_dispatch(f.svc, &rq, &rep, &f.arena);
    int status = rep.status;
    int named = rep.err_message && strstr(rep.err_message, "no-such-model") != NULL;
    teardown(&f);
    ASSERT_EQ_INT(status, VX_ERR_NOT_FOUND);
    ASSERT(named);
}

TEST(embed_unavailable_providers_say_why_and_return_no_vector)
{
    fixture f;
    ASSERT_EQ_INT(setup(&f, model(), NULL), VX_OK);
    const char *texts[1] = {"hello"};
    struct {
        const char *id, *must_mention;
    } cases[] = {
        {"openai-small", "VX_TEST_NO_SUCH_KEY"},        /* key variable unset */
        {"minilm", "VECTRON_MODEL_DIR"},                /* no model directory */
        {"cohere-english", "https://"},                 /* key set, but a plain-http base URL */
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vx_request rq;
        vx_reply rep;
        embed_req(&rq, cases[i].id, texts, 1);
        embed_service_dispatch(f.svc, &rq, &rep, &f.arena);
        if (rep.status != VX_ERR_EMBED_UNAVAILABLE || rep.body.embed.vectors != NULL || !rep.err_message ||
            !strstr(rep.err_message, cases[i].id) || !strstr(rep.err_message, cases[i].must_mention))
            failures++;
        /* the key's value must never leak into messages */
        if (rep.err_message && strstr(rep.err_message, "test-key-value"))
            failures++;
    }
    teardown(&f);
    ASSERT_EQ_INT(failures, 0);
}

TEST(embed_builtin_unavailable_without_model_file)
{
    fixture f;
    ASSERT_EQ_INT(setup(&f, NULL, NULL), VX_OK);
    const char *texts[1] = {"hello"};
    vx_request rq;
    vx_reply rep;
    embed_req(&rq, NULL, texts, 1);
    embed_service_dispatch(f.svc, &rq, &rep, &f.arena);
    int status = rep.status;
    int says = rep.err_message && strstr(rep.err_message, "use-lite") && strstr(rep.err_message, "not loaded");
    teardown(&f);
    ASSERT_EQ_INT(status, VX_ERR_EMBED_UNAVAILABLE);
    ASSERT(says);
}

TEST(embed_rejects_empty_text_list)
{
    fixture f;
    ASSERT_EQ_INT(setup(&f, model(), NULL), VX_OK);
    vx_request rq;
    vx_reply rep;
    embed_req(&rq, NULL, NULL, 0);
    embed_service_dispatch(f.svc, &rq, &rep, &f.arena);
    int status = rep.status;
    teardown(&f);
    ASSERT_MSG(model() != NULL, "use-lite model missing: %s", g_err);
    ASSERT_EQ_INT(status, VX_ERR_INVALID);
}

TEST(models_lists_registry_with_availability)
{
    ASSERT_MSG(model() != NULL, "use-lite model missing: %s", g_err);
    fixture f;
    ASSERT_EQ_INT(setup(&f, model(), "/tmp"), VX_OK);
    vx_request rq;
    memset(&rq, 0, sizeof rq);
    rq.type = VX_MSG_MODELS;
    vx_reply rep;
    embed_service_dispatch(f.svc, &rq, &rep, &f.arena);
    vx_models_rep m = rep.body.models;
    int ok = rep.status == VX_OK && m.n_models == 4 && strcmp(m.default_model, "use-lite") == 0;
    int use_lite_ok = ok && m.models[0].available && m.models[0].dimensions == 512 && !m.models[0].is_remote &&
                      strcmp(m.models[0].provider, "builtin") == 0 && m.models[0].reason == NULL;
    /* a model dir without the model's directory: unavailable, never downloaded */
    int minilm_ok = ok && !m.models[1].available && m.models[1].reason &&
                    strstr(m.models[1].reason, "/tmp/minilm does not exist");
    int openai_ok = ok && !m.models[2].available && m.models[2].is_remote &&
                    strcmp(m.models[2].model_name, "text-embedding-3-small") == 0;
    teardown(&f);
    ASSERT(ok);
    ASSERT(use_lite_ok);
    ASSERT(minilm_ok);
    ASSERT(openai_ok);
}

TEST(unserved_message_type_is_invalid)
{
    fixture f;
    ASSERT_EQ_INT(setup(&f, model(), NULL), VX_OK);
    vx_request rq;
    memset(&rq, 0, sizeof rq);
    rq.type = VX_MSG_SEARCH;
    vx_reply rep;
    embed_service_dispatch(f.svc, &rq, &rep, &f.arena);
    int status = rep.status, type = rep.type;
    teardown(&f);
    ASSERT_EQ_INT(status, VX_ERR_INVALID);
    ASSERT_EQ_INT(type, VX_MSG_SEARCH);
}

TEST(cache_evicts_least_recently_used)
{
    embed_cache *c;
    ASSERT_EQ_INT(embed_cache_create(&c, 2, 1 << 20), VX_OK);
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, d[4] = {9, 9, 9, 9}, out[4];
    embed_cache_put(c, "m", "a", 4, a);
    embed_cache_put(c, "m", "b", 4, b);
    int got_a = embed_cache_get(c, "m", "a", 4, out) && out[0] == 1; /* a is now most recent */
    embed_cache_put(c, "m", "d", 4, d);                               /* evicts b */
    int b_gone = !embed_cache_get(c, "m", "b", 4, out);
    int a_kept = embed_cache_get(c, "m", "a", 4, out) && out[3] == 4;
    int other_model_misses = !embed_cache_get(c, "m2", "a", 4, out);
    embed_cache_stats st = embed_cache_get_stats(c);
    embed_cache_destroy(c);
    ASSERT(got_a);
    ASSERT(b_gone);
    ASSERT(a_kept);
    ASSERT(other_model_misses);
    ASSERT_EQ_INT(st.entries, 2);
    ASSERT_EQ_INT(st.evictions, 1);
}
