/*
 * providers_test.c — the remote providers: request bodies in each
 * provider's real format, response validation (order by index, counts,
 * dimensions, non-finite values, token-level mean pooling), and whole calls
 * against the local HTTPS stub (tests/stubs/provider_stub.py) through
 * remote_provider_embed and through embed_service_dispatch, including the
 * failure → status mapping and that the key never reaches the log.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embed_handlers.h"
#include "provider_remote.h"
#include "test_stub.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_test.h"

static const char *TEXTS[3] = {"alpha", "a longer sentence about cats", "é ünïcode"};

static registry_model mk(embed_provider p, uint32_t dim)
{
    registry_model m = {"m", p, "test-model/v1", dim, "VX_TEST_PROVIDER_KEY", NULL, NULL};
    return m;
}

static int check_stub_vectors(const float *v, uint32_t n, uint32_t dim)
{
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < dim; j++)
            if (v[(size_t)i * dim + j] - stub_component(TEXTS[i], j) > 1e-6f ||
                stub_component(TEXTS[i], j) - v[(size_t)i * dim + j] > 1e-6f)
                return (int)(i * dim + j) + 1;
    return 0;
}

/* ---- pure parts -------------------------------------------------------- */

TEST(providers_request_bodies_match_the_real_apis)
{
    vx_buf b = VX_BUF_INIT;
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_value v;
    remote_build_body(EMBED_PROVIDER_OPENAI, "text-embedding-3-small", TEXTS, 2, &b);
    ASSERT_EQ_INT(vx_json_parse((char *)b.data, b.len, &a, &v, NULL, 0), VX_OK);
    const vx_value *in = vx_value_get(&v, "input");
    int ok1 = strcmp(vx_value_get(&v, "model")->u.str.ptr, "text-embedding-3-small") == 0 && in &&
              in->type == VX_VAL_ARRAY && in->u.arr.n == 2 && strcmp(in->u.arr.items[1].u.str.ptr, TEXTS[1]) == 0;
    vx_buf_reset(&b);
    remote_build_body(EMBED_PROVIDER_COHERE, "embed-english-v3.0", TEXTS, 3, &b);
    ASSERT_EQ_INT(vx_json_parse((char *)b.data, b.len, &a, &v, NULL, 0), VX_OK);
    const vx_value *t = vx_value_get(&v, "texts"), *it = vx_value_get(&v, "input_type");
    int ok2 = t && t->u.arr.n == 3 && strcmp(t->u.arr.items[2].u.str.ptr, TEXTS[2]) == 0 && it &&
              strcmp(it->u.str.ptr, "search_document") == 0 && vx_value_get(&v, "model");
    vx_buf_reset(&b);
    remote_build_body(EMBED_PROVIDER_HUGGINGFACE, "BAAI/bge-small-en-v1.5", TEXTS, 1, &b);
    ASSERT_EQ_INT(vx_json_parse((char *)b.data, b.len, &a, &v, NULL, 0), VX_OK);
    const vx_value *hi = vx_value_get(&v, "inputs");
    int ok3 = hi && hi->u.arr.n == 1 && v.u.obj.n == 1;
    vx_buf_free(&b);
    vx_arena_fini(&a);
    ASSERT(ok1);
    ASSERT(ok2);
    ASSERT(ok3);
}

static int parse(embed_provider k, const char *body, uint32_t n, uint32_t dim, float *out, char *err)
{
    return remote_parse_response(k, registry_provider_name(k), body, strlen(body), n, dim, out, err, 200);
}

TEST(providers_openai_response_is_ordered_by_index)
{
    float v[6];
    char err[200];
    const char *body = "{\"object\":\"list\",\"data\":[{\"index\":1,\"embedding\":[4,5,6]},"
                       "{\"index\":0,\"embedding\":[1,2.5,3]}],\"model\":\"x\"}";
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_OPENAI, body, 2, 3, v, err), VX_OK);
    ASSERT(v[0] == 1 && v[1] == 2.5f && v[2] == 3 && v[3] == 4 && v[5] == 6);
    const char *dup = "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]},{\"index\":0,\"embedding\":[1,2,3]}]}";
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_OPENAI, dup, 2, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT(strstr(err, "openai") && strstr(err, "index"));
}

TEST(providers_bad_responses_are_upstream_errors_naming_the_provider)
{
    float v[8];
    char err[200];
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_COHERE, "{\"embeddings\":[[1,2,3]", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT(strstr(err, "cohere") && strstr(err, "JSON"));
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_COHERE, "{\"embeddings\":[[1,2,3]]}", 2, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT(strstr(err, "expected 2 embeddings, got 1"));
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_COHERE, "{\"embeddings\":[[1,2,3,4]]}", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT(strstr(err, "4 dimensions, the registry says 3"));
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_COHERE, "{\"embeddings\":[[1,1e39,3]]}", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT(strstr(err, "finite"));
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_COHERE, "{\"embeddings\":[[1,\"2\",3]]}", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_COHERE, "{\"id\":\"x\"}", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT(strstr(err, "embeddings"));
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_OPENAI, "[]", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_HUGGINGFACE, "{\"error\":\"loading\"}", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT(strstr(err, "huggingface"));
}

TEST(providers_huggingface_2d_3d_and_flat_outputs)
{
    float v[6];
    char err[200];
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_HUGGINGFACE, "[[1,2,3],[4,5,6]]", 2, 3, v, err), VX_OK);
    ASSERT(v[0] == 1 && v[5] == 6);
    /* token-level: mean over tokens */
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_HUGGINGFACE, "[[[1,2,3],[3,4,5]],[[0,0,0],[1,1,1],[2,2,2]]]", 2, 3, v, err),
                  VX_OK);
    ASSERT(v[0] == 2 && v[1] == 3 && v[2] == 4 && v[3] == 1 && v[4] == 1 && v[5] == 1);
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_HUGGINGFACE, "[[[1,2,3],[3,4]]]", 1, 3, v, err), VX_ERR_UPSTREAM);
    ASSERT_EQ_INT(parse(EMBED_PROVIDER_HUGGINGFACE, "[7,8,9]", 1, 3, v, err), VX_OK);
    ASSERT(v[0] == 7 && v[2] == 9);
}

TEST(providers_unset_key_is_unavailable_and_http_base_refused)
{
    unsetenv("VX_TEST_PROVIDER_KEY");
    registry_model m = mk(EMBED_PROVIDER_OPENAI, 4);
    remote_provider *p = NULL;
    char err[200];
    ASSERT_EQ_INT(remote_provider_create(&p, &m, NULL, NULL, err, sizeof err), VX_ERR_EMBED_UNAVAILABLE);
    ASSERT(strstr(err, "VX_TEST_PROVIDER_KEY is not set"));
    setenv("VX_TEST_PROVIDER_KEY", "k", 1);
    ASSERT_EQ_INT(remote_provider_create(&p, &m, "http://127.0.0.1:1", NULL, err, sizeof err), VX_ERR_INVALID);
    ASSERT_EQ_INT(remote_provider_create(&p, &m, NULL, NULL, err, sizeof err), VX_OK);
    ASSERT_STR_EQ(remote_provider_url(p), "https://api.openai.com/v1/embeddings");
    remote_provider_destroy(p);
    m = mk(EMBED_PROVIDER_HUGGINGFACE, 4);
    ASSERT_EQ_INT(remote_provider_create(&p, &m, "https://h.example/models/{model}", NULL, err, sizeof err), VX_OK);
    ASSERT_STR_EQ(remote_provider_url(p), "https://h.example/models/test-model/v1");
    remote_provider_destroy(p);
}

/* ---- against the stub ------------------------------------------------- */

static remote_provider *stub_provider(embed_provider k, uint32_t dim, const char *key, char *err)
{
    stub_server *s = stub_get();
    if (!s) {
        snprintf(err, 200, "stub: %.150s", g_stub.error);
        return NULL;
    }
    setenv("VX_TEST_PROVIDER_KEY", key, 1);
    registry_model m = mk(k, dim);
    httpc_options o = {.ca_file = s->ca, .max_attempts = 3, .backoff_base_ms = 20, .timeout_ms = 2000,
                       .max_response_bytes = 1u << 20};
    remote_provider *p = NULL;
    if (remote_provider_create(&p, &m, s->base, &o, err, 200) != VX_OK)
        return NULL;
    return p;
}

static int embed3(remote_provider *p, float *out, char *err)
{
    return remote_provider_embed(p, TEXTS, 3, vx_now_us() + 10000000, out, err, 300);
}

TEST(providers_all_three_formats_against_the_stub)
{
    static const embed_provider kinds[3] = {EMBED_PROVIDER_OPENAI, EMBED_PROVIDER_COHERE, EMBED_PROVIDER_HUGGINGFACE};
    static const uint32_t dims[3] = {1536, 1024, 384};
    static float out[3 * 1536];
    for (int i = 0; i < 3; i++) {
        char err[300] = "";
        stub_mode("{}");
        remote_provider *p = stub_provider(kinds[i], dims[i], STUB_KEY, err);
        ASSERT_MSG(p, "create: %s", err);
        int rc = embed3(p, out, err);
        remote_provider_destroy(p);
        ASSERT_MSG(rc == VX_OK, "%s: %s", registry_provider_name(kinds[i]), err);
        int bad = check_stub_vectors(out, 3, dims[i]);
        ASSERT_MSG(!bad, "%s: component %d differs from the stub's", registry_provider_name(kinds[i]), bad - 1);
    }
    /* Hugging Face token-level output is mean-pooled to the same vectors */
    char err[300] = "";
    stub_mode("{\"mode\":\"token_level\"}");
    remote_provider *p = stub_provider(EMBED_PROVIDER_HUGGINGFACE, 384, STUB_KEY, err);
    ASSERT_MSG(p, "create: %s", err);
    int rc = embed3(p, out, err);
    remote_provider_destroy(p);
    ASSERT_MSG(rc == VX_OK, "%s", err);
    ASSERT(!check_stub_vectors(out, 3, 384));
}

typedef struct mode_case {
    const char *mode;
    int want;
    const char *mentions;
} mode_case;

TEST(providers_injected_failures_map_to_codes)
{
    static const mode_case cases[] = {
        {"{\"mode\":\"malformed\"}", VX_ERR_UPSTREAM, "not valid JSON"},
        {"{\"mode\":\"wrong_dim\"}", VX_ERR_UPSTREAM, "dimensions, the registry says 1024"},
        {"{\"mode\":\"wrong_count\"}", VX_ERR_UPSTREAM, "expected 3 embeddings, got 2"},
        {"{\"mode\":\"nonfinite\"}", VX_ERR_UPSTREAM, "finite"},
        {"{\"mode\":\"oversize\",\"size\":2097152}", VX_ERR_UPSTREAM, "larger than"},
        {"{\"mode\":\"slow\",\"delay\":4}", VX_ERR_TIMEOUT, "cohere"},
        {"{\"mode\":\"status\",\"status\":503}", VX_ERR_UPSTREAM, "HTTP 503 after 3 attempts"},
        {"{\"mode\":\"status\",\"status\":400}", VX_ERR_UPSTREAM, "injected failure"},
        {"{\"mode\":\"status\",\"status\":500,\"times\":2}", VX_OK, NULL},
        {"{\"mode\":\"status\",\"status\":429,\"retry_after\":0,\"times\":1}", VX_OK, NULL},
    };
    static float out[3 * 1024];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[300] = "";
        stub_mode(cases[i].mode);
        remote_provider *p = stub_provider(EMBED_PROVIDER_COHERE, 1024, STUB_KEY, err);
        ASSERT_MSG(p, "create: %s", err);
        err[0] = '\0';
        int rc = embed3(p, out, err);
        remote_provider_destroy(p);
        ASSERT_MSG(rc == cases[i].want, "%s: rc %d (%s), want %d", cases[i].mode, rc, err, cases[i].want);
        if (cases[i].mentions)
            ASSERT_MSG(strstr(err, cases[i].mentions) && strstr(err, "cohere"), "%s: message \"%s\"",
                       cases[i].mode, err);
        else
            ASSERT(!check_stub_vectors(out, 3, 1024));
    }
}

TEST(providers_wrong_key_is_rejected_and_never_logged)
{
    static const char secret[] = "sk-wrong-SECRET-9d8c7b";
    stub_mode("{}");
    char err[300] = "";
    remote_provider *p = stub_provider(EMBED_PROVIDER_OPENAI, 1536, secret, err);
    ASSERT_MSG(p, "create: %s", err);
    /* capture the log (stderr) at debug level while failing in several ways */
    char path[300];
    snprintf(path, sizeof path, "%s/log.txt", vx_test_tmpdir());
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600), saved = dup(2);
    dup2(fd, 2);
    vx_log_set_level(VX_LOG_DEBUG);
    static float out[3 * 1536];
    int rc1 = embed3(p, out, err);
    char err1[300];
    snprintf(err1, sizeof err1, "%s", err);
    stub_control("config", "{\"mode\":\"status\",\"status\":500}", NULL, 0);
    int rc2 = embed3(p, out, err);
    vx_log_set_level(VX_LOG_INFO);
    dup2(saved, 2);
    close(saved);
    remote_provider_destroy(p);
    char logbuf[16384];
    ssize_t n = pread(fd, logbuf, sizeof logbuf - 1, 0);
    close(fd);
    logbuf[n > 0 ? n : 0] = '\0';
    ASSERT_EQ_INT(rc1, VX_ERR_UPSTREAM);
    ASSERT_MSG(strstr(err1, "rejected the API key (HTTP 401)"), "message: %s", err1);
    ASSERT_EQ_INT(rc2, VX_ERR_UPSTREAM);
    ASSERT_MSG(strstr(logbuf, "openai") != NULL, "nothing was logged: %s", logbuf);
    ASSERT_MSG(strstr(logbuf, secret) == NULL && strstr(logbuf, "SECRET") == NULL, "key in the log: %s", logbuf);
    ASSERT(strstr(err1, "SECRET") == NULL && strstr(err, "SECRET") == NULL);
}

/* A provider message that quotes a piece of the key (8 bytes of it) is
 * dropped; one that does not is passed on. */
TEST(providers_message_with_a_piece_of_the_key_is_dropped)
{
    stub_mode("{}");
    char err[300] = "";
    remote_provider *p = stub_provider(EMBED_PROVIDER_OPENAI, 1536, STUB_KEY, err);
    ASSERT_MSG(p, "create: %s", err);
    static float out[3 * 1536];
    stub_control("config", "{\"mode\":\"status\",\"status\":400,\"message\":\"bad key y-5f1e9a for model\"}",
                 NULL, 0);
    int rc1 = embed3(p, out, err);
    char err1[300];
    snprintf(err1, sizeof err1, "%s", err);
    stub_control("config", "{\"mode\":\"status\",\"status\":400,\"message\":\"input too long\"}", NULL, 0);
    int rc2 = embed3(p, out, err);
    remote_provider_destroy(p);
    ASSERT_EQ_INT(rc1, VX_ERR_UPSTREAM);
    ASSERT_MSG(strstr(err1, "5f1e9a") == NULL && strstr(err1, "bad key") == NULL, "message: %s", err1);
    ASSERT_EQ_INT(rc2, VX_ERR_UPSTREAM);
    ASSERT_MSG(strstr(err, "input too long") != NULL, "message: %s", err);
}

/* ---- through the service ---------------------------------------------- */

TEST(providers_service_embeds_via_stub_and_maps_status)
{
    stub_server *s = stub_get();
    ASSERT_MSG(s, "stub: %s", g_stub.error);
    stub_mode("{}");
    setenv("VX_TEST_OPENAI_KEY", STUB_KEY, 1);
    unsetenv("VX_TEST_HF_KEY");
    registry_model models[2] = {
        {"openai-small", EMBED_PROVIDER_OPENAI, "text-embedding-3-small", 1536, "VX_TEST_OPENAI_KEY", NULL, NULL},
        {"huggingface-bge", EMBED_PROVIDER_HUGGINGFACE, "BAAI/bge-small-en-v1.5", 384, "VX_TEST_HF_KEY", NULL, NULL},
    };
    registry reg = {models, 2, "openai-small"};
    embed_provider_options po = {.http = {.ca_file = s->ca, .backoff_base_ms = 20, .timeout_ms = 3000},
                                 .openai_base_url = s->base, .huggingface_base_url = s->base};
    embed_cache *cache = NULL;
    ASSERT_EQ_INT(embed_cache_create(&cache, 100, 1 << 22), VX_OK);
    embed_service_config c = {&reg, NULL, "not needed", cache, NULL, &po};
    embed_service *svc = NULL;
    ASSERT_EQ_INT(embed_service_create(&svc, &c), VX_OK);
    vx_arena a;
    vx_arena_init(&a, 1 << 16);
    vx_request rq;
    memset(&rq, 0, sizeof rq);
    rq.type = VX_MSG_EMBED;
    rq.deadline_ms = 10000;
    rq.body.embed.model = "openai-small";
    rq.body.embed.texts = TEXTS;
    rq.body.embed.n_texts = 3;
    vx_reply r1, r2, r3, r4;
    embed_service_dispatch(svc, &rq, &r1, &a);
    long after_first = stub_stat("requests");
    embed_service_dispatch(svc, &rq, &r2, &a); /* cached: the stub is not asked again */
    long after_second = stub_stat("requests");
    rq.body.embed.texts = (const char *[]){"a fresh text"};
    rq.body.embed.n_texts = 1;
    stub_mode("{\"mode\":\"malformed\"}");
    embed_service_dispatch(svc, &rq, &r3, &a);
    rq.body.embed.model = "huggingface-bge";
    embed_service_dispatch(svc, &rq, &r4, &a);
    const char *reason = NULL;
    bool hf_avail = embed_service_model_available(svc, &models[1], &reason);
    bool hf_reason_ok = reason && strstr(reason, "VX_TEST_HF_KEY is not set");
    embed_service_destroy(svc);
    embed_cache_destroy(cache);
    ASSERT_MSG(r1.status == VX_OK, "status %d: %s", r1.status, r1.err_message);
    ASSERT_EQ_INT(r1.body.embed.dim, 1536);
    ASSERT_EQ_INT(r1.body.embed.n, 3);
    ASSERT(!check_stub_vectors(r1.body.embed.vectors, 3, 1536));
    ASSERT_EQ_INT(r2.status, VX_OK);
    ASSERT(memcmp(r1.body.embed.vectors, r2.body.embed.vectors, sizeof(float) * 3 * 1536) == 0);
    ASSERT_EQ_INT(after_first, 1);
    ASSERT_EQ_INT(after_second, 1);
    ASSERT_EQ_INT(r3.status, VX_ERR_UPSTREAM);
    ASSERT_MSG(strstr(r3.err_message, "openai-small") && strstr(r3.err_message, "openai:"), "%s", r3.err_message);
    ASSERT_EQ_INT(r4.status, VX_ERR_EMBED_UNAVAILABLE);
    ASSERT(!hf_avail && hf_reason_ok);
    vx_arena_fini(&a);
}
