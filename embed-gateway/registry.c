/*
 * registry.c — validation and ownership of the model registry (registry.h).
 * The JSON file is parsed by common/vx_json (the jansson adapter); this
 * file only walks the resulting vx_value tree.
 */
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_json.h"
#include "vx_proto.h"

#define REGISTRY_MAX_FILE (1u << 20)
#define REGISTRY_MAX_MODELS 256

static const char *const provider_names[] = {"builtin", "python", "openai", "cohere", "huggingface"};

const char *registry_provider_name(embed_provider p)
{
    return (unsigned)p < sizeof provider_names / sizeof *provider_names ? provider_names[p] : NULL;
}

bool registry_provider_is_remote(embed_provider p)
{
    return p == EMBED_PROVIDER_OPENAI || p == EMBED_PROVIDER_COHERE || p == EMBED_PROVIDER_HUGGINGFACE;
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return VX_ERR_INVALID;
}

static bool valid_id(const char *s, size_t len)
{
    if (len == 0 || len > VX_MAX_MODEL_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Optional string member: NULL when absent; error when present but not a
 * non-empty string without NUL. */
static int opt_string(const vx_value *obj, const char *key, const char *id, char **out, char *err,
                      size_t err_len)
{
    *out = NULL;
    const vx_value *v = vx_value_get(obj, key);
    if (!v)
        return VX_OK;
    if (v->type != VX_VAL_STRING || v->u.str.len == 0 || memchr(v->u.str.ptr, 0, v->u.str.len))
        return fail(err, err_len, "models.%s.%s must be a non-empty string", id, key);
    if (!(*out = strndup(v->u.str.ptr, v->u.str.len)))
        return VX_ERR_NOMEM;
    return VX_OK;
}

/* A misspelt field ("dimension") would otherwise be ignored silently. */
static int only_known_fields(const vx_value *obj, const char *const *known, size_t n, const char *where,
                             char *err, size_t err_len)
{
    for (uint32_t i = 0; i < obj->u.obj.n; i++) {
        size_t k = 0;
        while (k < n && strcmp(obj->u.obj.items[i].key, known[k]) != 0)
            k++;
        if (k == n)
            return fail(err, err_len, "%s%.64s is not a known field", where, obj->u.obj.items[i].key);
    }
    return VX_OK;
}

static int parse_model(registry_model *m, const char *id, const vx_value *spec, char *err, size_t err_len)
{
    static const char *const fields[] = {"provider", "model_name", "dimensions", "api_key_env", "base_url",
                                         "local_dir"};
    int rc;
    if (spec->type != VX_VAL_OBJECT)
        return fail(err, err_len, "models.%s must be an object", id);
    char where[96];
    snprintf(where, sizeof where, "models.%s.", id);
    if ((rc = only_known_fields(spec, fields, sizeof fields / sizeof *fields, where, err, err_len)) != VX_OK)
        return rc;
    if (!(m->id = strdup(id)))
        return VX_ERR_NOMEM;
    char *prov = NULL;
    if ((rc = opt_string(spec, "provider", id, &prov, err, err_len)) != VX_OK)
        return rc;
    if (!prov)
        return fail(err, err_len, "models.%s.provider is required", id);
    size_t i = 0;
    for (; i < sizeof provider_names / sizeof *provider_names; i++)
        if (strcmp(prov, provider_names[i]) == 0)
            break;
    free(prov);
    if (i == sizeof provider_names / sizeof *provider_names)
        return fail(err, err_len, "models.%s.provider must be one of builtin, python, openai, cohere, huggingface",
                    id);
    m->provider = (embed_provider)i;
    if ((rc = opt_string(spec, "model_name", id, &m->model_name, err, err_len)) != VX_OK)
        return rc;
    if (!m->model_name)
        return fail(err, err_len, "models.%s.model_name is required", id);
    const vx_value *dim = vx_value_get(spec, "dimensions");
    if (!dim || dim->type != VX_VAL_INT || dim->u.i < 1 || dim->u.i > VX_MAX_DIM)
        return fail(err, err_len, "models.%s.dimensions must be an integer in 1..%d", id, VX_MAX_DIM);
    m->dimensions = (uint32_t)dim->u.i;
    if ((rc = opt_string(spec, "api_key_env", id, &m->api_key_env, err, err_len)) != VX_OK ||
        (rc = opt_string(spec, "base_url", id, &m->base_url, err, err_len)) != VX_OK ||
        (rc = opt_string(spec, "local_dir", id, &m->local_dir, err, err_len)) != VX_OK)
        return rc;
    if (registry_provider_is_remote(m->provider) && !m->api_key_env)
        return fail(err, err_len, "models.%s.api_key_env is required for provider %s", id,
                    registry_provider_name(m->provider));
    if (m->base_url && strncmp(m->base_url, "https://", 8) != 0)
        return fail(err, err_len, "models.%s.base_url must start with https://", id);
    if (m->base_url && !registry_provider_is_remote(m->provider))
        return fail(err, err_len, "models.%s.base_url is for remote providers only", id);
    if (m->local_dir && (strstr(m->local_dir, "..") || m->local_dir[0] == '/'))
        return fail(err, err_len, "models.%s.local_dir must be a relative path without \"..\"", id);
    return VX_OK;
}

int registry_from_value(registry **out, const vx_value *root, char *err, size_t err_len)
{
    *out = NULL;
    if (!root || root->type != VX_VAL_OBJECT)
        return fail(err, err_len, "the registry must be a JSON object");
    static const char *const root_fields[] = {"default", "models"};
    if (only_known_fields(root, root_fields, 2, "", err, err_len) != VX_OK)
        return VX_ERR_INVALID;
    const vx_value *models = vx_value_get(root, "models");
    if (!models || models->type != VX_VAL_OBJECT || models->u.obj.n == 0)
        return fail(err, err_len, "models must be a non-empty object of model id → settings");
    if (models->u.obj.n > REGISTRY_MAX_MODELS)
        return fail(err, err_len, "models has more than %d entries", REGISTRY_MAX_MODELS);
    registry *r = calloc(1, sizeof *r);
    if (!r)
        return VX_ERR_NOMEM;
    int rc = VX_ERR_NOMEM;
    r->models = calloc(models->u.obj.n, sizeof *r->models);
    if (!r->models)
        goto bad;
    for (uint32_t i = 0; i < models->u.obj.n; i++) {
        const vx_member *mem = &models->u.obj.items[i];
        if (!valid_id(mem->key, mem->key_len)) {
            rc = fail(err, err_len, "models: \"%.64s\" is not a valid model id ([A-Za-z0-9_.-]{1,%d})", mem->key,
                      VX_MAX_MODEL_LEN);
            goto bad;
        }
        if (registry_find(r, mem->key)) {
            rc = fail(err, err_len, "models.%s appears twice", mem->key);
            goto bad;
        }
        r->n_models++;
        if ((rc = parse_model(&r->models[i], mem->key, &mem->value, err, err_len)) != VX_OK)
            goto bad;
    }
    const vx_value *def = vx_value_get(root, "default");
    if (def && (def->type != VX_VAL_STRING || !registry_find(r, def->u.str.ptr))) {
        rc = fail(err, err_len, "default must name one of the models");
        goto bad;
    }
    if (!(r->default_id = strdup(def ? def->u.str.ptr : r->models[0].id))) {
        rc = VX_ERR_NOMEM;
        goto bad;
    }
    *out = r;
    return VX_OK;
bad:
    registry_free(r);
    return rc;
}

int registry_load_file(registry **out, const char *path, char *err, size_t err_len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, err_len, "cannot open model registry %s", path);
        return VX_ERR_IO;
    }
    char *buf = malloc(REGISTRY_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, REGISTRY_MAX_FILE + 1, f) : 0;
    int read_err = ferror(f);
    fclose(f);
    if (!buf)
        return VX_ERR_NOMEM;
    if (read_err || n > REGISTRY_MAX_FILE) {
        free(buf);
        fail(err, err_len, "model registry %s is unreadable or larger than %u bytes", path, REGISTRY_MAX_FILE);
        return read_err ? VX_ERR_IO : VX_ERR_INVALID;
    }
    vx_arena a;
    vx_arena_init(&a, 16384);
    vx_value root;
    char jerr[160];
    int rc = vx_json_parse(buf, n, &a, &root, jerr, sizeof jerr);
    if (rc != VX_OK) {
        fail(err, err_len, "model registry %s: %s", path, jerr);
        rc = VX_ERR_INVALID;
    } else {
        char verr[200];
        rc = registry_from_value(out, &root, verr, sizeof verr);
        if (rc != VX_OK)
            fail(err, err_len, "model registry %s: %s", path, verr);
    }
    vx_arena_fini(&a);
    free(buf);
    return rc;
}

void registry_free(registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_models; i++) {
        registry_model *m = &r->models[i];
        free(m->id);
        free(m->model_name);
        free(m->api_key_env);
        free(m->base_url);
        free(m->local_dir);
    }
    free(r->models);
    free(r->default_id);
    free(r);
}

const registry_model *registry_find(const registry *r, const char *id)
{
    for (size_t i = 0; id && i < r->n_models; i++)
        if (r->models[i].id && strcmp(r->models[i].id, id) == 0)
            return &r->models[i];
    return NULL;
}
