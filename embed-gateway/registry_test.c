/*
 * registry_test.c — the model registry: the shipped deploy/config/models.json
 * loads with the seven documented models, and malformed registries are
 * refused with a message naming the offending field.
 */
#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "vx_err.h"
#include "vx_test.h"

static int load_text(const char *json, registry **r, char *err, size_t err_len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models.json", vx_test_tmpdir());
    FILE *f = fopen(path, "w");
    if (!f)
        return -100;
    fputs(json, f);
    fclose(f);
    return registry_load_file(r, path, err, err_len);
}

TEST(registry_shipped_file_has_documented_models)
{
    registry *r = NULL;
    char err[256] = "";
    int rc = registry_load_file(&r, "deploy/config/models.json", err, sizeof err);
    ASSERT_MSG(rc == VX_OK, "deploy/config/models.json: %s", err);
    struct {
        const char *id, *provider, *name;
        unsigned dim;
        const char *key_env;
    } want[] = {
        {"use-lite", "builtin", NULL, 512, NULL},
        {"minilm", "python", NULL, 384, NULL},
        {"bge-small", "python", NULL, 384, NULL},
        {"bge-base", "python", NULL, 768, NULL},
        {"openai-small", "openai", "text-embedding-3-small", 1536, "OPENAI_API_KEY"},
        {"cohere-english", "cohere", "embed-english-v3.0", 1024, "COHERE_API_KEY"},
        {"huggingface-bge", "huggingface", "BAAI/bge-small-en-v1.5", 384, "HF_API_TOKEN"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const registry_model *m = registry_find(r, want[i].id);
        if (!m || strcmp(registry_provider_name(m->provider), want[i].provider) != 0 ||
            m->dimensions != want[i].dim || (want[i].name && strcmp(m->model_name, want[i].name) != 0) ||
            (want[i].key_env && (!m->api_key_env || strcmp(m->api_key_env, want[i].key_env) != 0))) {
            vx_test_fail(__FILE__, __LINE__, "model %s wrong or missing", want[i].id);
            bad++;
        }
    }
    size_t n = r->n_models;
    char def[64];
    snprintf(def, sizeof def, "%s", r->default_id);
    registry_free(r);
    ASSERT_EQ_INT(bad, 0);
    ASSERT_EQ_INT(n, 7);
    ASSERT_STR_EQ(def, "use-lite");
}

TEST(registry_errors_name_the_field)
{
    struct {
        const char *json, *must_mention;
        int rc;
    } cases[] = {
        {"{\"models\": {\"a\": {\"provider\": \"builtin\", \"model_name\": \"x\"}}}", "models.a.dimensions",
         VX_ERR_INVALID},
        {"{\"models\": {\"a\": {\"provider\": \"magic\", \"model_name\": \"x\", \"dimensions\": 3}}}",
         "models.a.provider", VX_ERR_INVALID},
        {"{\"models\": {\"a\": {\"provider\": \"openai\", \"model_name\": \"x\", \"dimensions\": 3}}}",
         "models.a.api_key_env", VX_ERR_INVALID},
        {"{\"models\": {\"a b\": {\"provider\": \"builtin\", \"model_name\": \"x\", \"dimensions\": 3}}}",
         "not a valid model id", VX_ERR_INVALID},
        {"{\"default\": \"zz\", \"models\": {\"a\": {\"provider\": \"builtin\", \"model_name\": \"x\", "
         "\"dimensions\": 3}}}",
         "default", VX_ERR_INVALID},
        {"{\"models\": {\"a\": {\"provider\": \"builtin\", \"model_name\": \"x\", \"dimensions\": 99999}}}",
         "models.a.dimensions", VX_ERR_INVALID},
        {"{\"models\": {}}", "models", VX_ERR_INVALID},
        /* a misspelt or unknown field is named, not ignored */
        {"{\"models\": {\"a\": {\"provider\": \"builtin\", \"model_name\": \"x\", \"dimensions\": 3, "
         "\"dimension\": 4}}}",
         "models.a.dimension is not a known field", VX_ERR_INVALID},
        {"{\"defualt\": \"a\", \"models\": {\"a\": {\"provider\": \"builtin\", \"model_name\": \"x\", "
         "\"dimensions\": 3}}}",
         "defualt is not a known field", VX_ERR_INVALID},
        {"{\"models\": {\"a\": {\"provider\": \"openai\", \"model_name\": \"x\", \"dimensions\": 3, "
         "\"api_key_env\": \"K\", \"base_url\": \"ftp://example\"}}}",
         "models.a.base_url must start with https://", VX_ERR_INVALID},
        {"{\"models\": {\"a\": {\"provider\": \"openai\", \"model_name\": \"x\", \"dimensions\": 3, "
         "\"api_key_env\": \"K\", \"base_url\": \"http://example\"}}}",
         "models.a.base_url must start with https://", VX_ERR_INVALID},
        {"{\"models\": {\"a\": {\"provider\": \"builtin\", \"model_name\": \"x\", \"dimensions\": 3, "
         "\"base_url\": \"https://example\"}}}",
         "models.a.base_url is for remote providers only", VX_ERR_INVALID},
        {"{\"models\": ", "models.json", VX_ERR_INVALID},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        registry *r = NULL;
        char err[512] = "";
        int rc = load_text(cases[i].json, &r, err, sizeof err);
        if (rc != cases[i].rc || r != NULL || !strstr(err, cases[i].must_mention)) {
            vx_test_fail(__FILE__, __LINE__, "case %zu: rc %d, err \"%s\"", i, rc, err);
            bad++;
        }
        registry_free(r);
    }
    ASSERT_EQ_INT(bad, 0);
}

TEST(registry_missing_file_is_io_error)
{
    registry *r = NULL;
    char err[256] = "";
    ASSERT_EQ_INT(registry_load_file(&r, "/nonexistent/models.json", err, sizeof err), VX_ERR_IO);
    ASSERT(strstr(err, "/nonexistent/models.json") != NULL);
}
