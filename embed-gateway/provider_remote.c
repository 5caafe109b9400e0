/*
 * provider_remote.c — OpenAI / Cohere / Hugging Face request building,
 * response validation and the call loop (see provider_remote.h).
 *
 * Invariants: the Authorization header string is built once at creation,
 * lives only in this struct and is wiped on destroy; it is handed to httpc
 * as a header and never formatted into a message. On error the content of
 * the output buffer is unspecified: callers discard it (they never return
 * a partly filled result).
 */
#include "provider_remote.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_arena.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_jsonw.h"
#include "vx_log.h"

struct remote_provider {
    embed_provider kind;
    char *id;         /* registry model id */
    char *label;      /* "openai" */
    char *model_name;
    uint32_t dim;
    char *url;
    char *auth;       /* "Authorization: Bearer <key>" — secret */
    char *key;        /* the key alone, to scrub upstream messages — secret */
    uint32_t chunk;
    httpc_pool *http;
};

static int fail(char *err, size_t len, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t len, int code, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *remote_default_base_url(embed_provider kind)
{
    switch (kind) {
    case EMBED_PROVIDER_OPENAI:
        return "https://api.openai.com";
    case EMBED_PROVIDER_COHERE:
        return "https://api.cohere.ai";
    case EMBED_PROVIDER_HUGGINGFACE:
        return "https://api-inference.huggingface.co";
    default:
        return NULL;
    }
}

static char *make_url(embed_provider kind, const char *base, const char *model)
{
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    char *u = NULL;
    const char *tmpl = strstr(base, "{model}");
    int r = -1;
    if (kind == EMBED_PROVIDER_HUGGINGFACE && tmpl)
        r = asprintf(&u, "%.*s%s%s", (int)(tmpl - base), base, model, tmpl + 7);
    else if (kind == EMBED_PROVIDER_OPENAI)
        r = asprintf(&u, "%.*s/v1/embeddings", (int)bl, base);
    else if (kind == EMBED_PROVIDER_COHERE)
        r = asprintf(&u, "%.*s/v1/embed", (int)bl, base);
    else
        r = asprintf(&u, "%.*s/pipeline/feature-extraction/%s", (int)bl, base, model);
    return r < 0 ? NULL : u;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

int remote_provider_create(remote_provider **out, const registry_model *m, const char *base_url_override,
                           const httpc_options *http, char *err, size_t err_len)
{
    *out = NULL;
    if (!registry_provider_is_remote(m->provider))
        return fail(err, err_len, VX_ERR_INVALID, "%s is not a remote provider", m->id);
    const char *label = registry_provider_name(m->provider);
    const char *key = m->api_key_env ? getenv(m->api_key_env) : NULL;
    if (!key || !*key)
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "%s is not set",
                    m->api_key_env ? m->api_key_env : "the API key variable");
    const char *base = base_url_override && *base_url_override ? base_url_override
                       : m->base_url                          ? m->base_url
                                                              : remote_default_base_url(m->provider);
    bool http_ok = http && http->allow_http;
    if (strncmp(base, "https://", 8) != 0 && !(http_ok && strncmp(base, "http://", 7) == 0))
        return fail(err, err_len, VX_ERR_INVALID, "%s base URL must start with https://", label);
    if (strpbrk(key, "\r\n"))
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "%s contains a line break", m->api_key_env);
    remote_provider *p = calloc(1, sizeof *p);
    if (!p)
        return VX_ERR_NOMEM;
    p->kind = m->provider;
    p->dim = m->dimensions;
    p->chunk = m->provider == EMBED_PROVIDER_OPENAI ? 256 : m->provider == EMBED_PROVIDER_COHERE ? 96 : 32;
    p->id = strdup(m->id);
    p->label = strdup(label);
    p->model_name = strdup(m->model_name);
    p->url = make_url(m->provider, base, m->model_name);
    p->key = strdup(key);
    if (asprintf(&p->auth, "Authorization: Bearer %s", key) < 0)
        p->auth = NULL;
    int rc = VX_ERR_NOMEM;
    if (!p->id || !p->label || !p->model_name || !p->url || !p->key || !p->auth)
        goto bad;
    if ((rc = httpc_pool_create(&p->http, label, http)) != VX_OK)
        goto bad;
    *out = p;
    return VX_OK;
bad:
    remote_provider_destroy(p);
    return rc;
}

void remote_provider_destroy(remote_provider *p)
{
    if (!p)
        return;
    httpc_pool_destroy(p->http);
    wipe_free(p->auth);
    wipe_free(p->key);
    free(p->id);
    free(p->label);
    free(p->model_name);
    free(p->url);
    free(p);
}

const char *remote_provider_url(const remote_provider *p)
{
    return p->url;
}

void remote_build_body(embed_provider kind, const char *model_name, const char **texts, uint32_t n, vx_buf *out)
{
    vx_jsonw w;
    vx_jsonw_init(&w, out);
    vx_jsonw_begin_object(&w);
    if (kind != EMBED_PROVIDER_HUGGINGFACE) {
        vx_jsonw_key(&w, "model");
        vx_jsonw_string(&w, model_name);
    }
    vx_jsonw_key(&w, kind == EMBED_PROVIDER_OPENAI ? "input" : kind == EMBED_PROVIDER_COHERE ? "texts" : "inputs");
    vx_jsonw_begin_array(&w);
    for (uint32_t i = 0; i < n; i++)
        vx_jsonw_string(&w, texts[i]);
    vx_jsonw_end_array(&w);
    if (kind == EMBED_PROVIDER_COHERE) {
        vx_jsonw_key(&w, "input_type");
        vx_jsonw_string(&w, "search_document");
    }
    vx_jsonw_end_object(&w);
}

/* One vector: an array of dim finite numbers (as float32). */
static int read_vec(const vx_value *v, const char *label, uint32_t idx, uint32_t dim, float *out, char *err,
                    size_t err_len)
{
    if (!v || v->type != VX_VAL_ARRAY)
        return fail(err, err_len, VX_ERR_UPSTREAM, "%s: embedding %u is not an array of numbers", label, idx);
    if (v->u.arr.n != dim)
        return fail(err, err_len, VX_ERR_UPSTREAM, "%s: embedding %u has %u dimensions, the registry says %u",
                    label, idx, v->u.arr.n, dim);
    for (uint32_t j = 0; j < dim; j++) {
        float f;
        if (!vx_value_as_float(&v->u.arr.items[j], &f))
            return fail(err, err_len, VX_ERR_UPSTREAM, "%s: embedding %u component %u is not a number", label, idx,
                        j);
        if (!isfinite(f))
            return fail(err, err_len, VX_ERR_UPSTREAM, "%s: embedding %u component %u is not a finite float",
                        label, idx, j);
        out[j] = f;
    }
    return VX_OK;
}

/* Hugging Face: either [dim numbers] (2-D response) or [[dim numbers] × T]
 * token-level (3-D response): mean over tokens. */
static int read_hf(const vx_value *v, const char *label, uint32_t idx, uint32_t dim, float *out, char *err,
                   size_t err_len)
{
    if (!v || v->type != VX_VAL_ARRAY || v->u.arr.n == 0 || v->u.arr.items[0].type != VX_VAL_ARRAY)
        return read_vec(v, label, idx, dim, out, err, err_len);
    uint32_t t = v->u.arr.n;
    double *acc = calloc(dim, sizeof *acc);
    float *tok = malloc(sizeof(float) * dim);
    int rc = VX_ERR_NOMEM;
    if (!acc || !tok)
        goto done;
    for (uint32_t k = 0; k < t; k++) {
        if ((rc = read_vec(&v->u.arr.items[k], label, idx, dim, tok, err, err_len)) != VX_OK)
            goto done;
        for (uint32_t j = 0; j < dim; j++)
            acc[j] += tok[j];
    }
    for (uint32_t j = 0; j < dim; j++)
        out[j] = (float)(acc[j] / t);
    rc = VX_OK;
done:
    free(acc);
    free(tok);
    return rc;
}

int remote_parse_response(embed_provider kind, const char *label, const char *body, size_t len, uint32_t n,
                          uint32_t dim, float *out, char *err, size_t err_len)
{
    vx_arena a;
    vx_arena_init(&a, len * 8 + 4096 < (16u << 20) ? len * 8 + 4096 : (16u << 20));
    vx_value root;
    char jerr[160];
    int rc = vx_json_parse(body, len, &a, &root, jerr, sizeof jerr);
    if (rc != VX_OK) {
        rc = fail(err, err_len, VX_ERR_UPSTREAM, "%s: response is not valid JSON (%s)", label, jerr);
        goto done;
    }
    const vx_value *list = NULL;
    if (kind == EMBED_PROVIDER_OPENAI)
        list = root.type == VX_VAL_OBJECT ? vx_value_get(&root, "data") : NULL;
    else if (kind == EMBED_PROVIDER_COHERE)
        list = root.type == VX_VAL_OBJECT ? vx_value_get(&root, "embeddings") : NULL;
    else
        list = &root;
    if (!list || list->type != VX_VAL_ARRAY) {
        rc = fail(err, err_len, VX_ERR_UPSTREAM, "%s: response has no %s array", label,
                  kind == EMBED_PROVIDER_OPENAI ? "\"data\"" : kind == EMBED_PROVIDER_COHERE ? "\"embeddings\"" : "top-level");
        goto done;
    }
    if (kind == EMBED_PROVIDER_HUGGINGFACE && n == 1 && list->u.arr.n > 0 && list->u.arr.items[0].type != VX_VAL_ARRAY) {
        rc = read_vec(list, label, 0, dim, out, err, err_len); /* a single flat vector */
        goto done;
    }
    if (list->u.arr.n != n) {
        rc = fail(err, err_len, VX_ERR_UPSTREAM, "%s: expected %u embeddings, got %u", label, n, list->u.arr.n);
        goto done;
    }
    bool *seen = vx_arena_alloc(&a, n ? n : 1);
    for (uint32_t i = 0; i < n; i++) {
        const vx_value *item = &list->u.arr.items[i];
        if (kind == EMBED_PROVIDER_OPENAI) {
            const vx_value *ix = item->type == VX_VAL_OBJECT ? vx_value_get(item, "index") : NULL;
            if (!ix || ix->type != VX_VAL_INT || ix->u.i < 0 || ix->u.i >= n || seen[ix->u.i]) {
                rc = fail(err, err_len, VX_ERR_UPSTREAM, "%s: data[%u].index is missing, out of range or repeated",
                          label, i);
                goto done;
            }
            seen[ix->u.i] = true;
            rc = read_vec(vx_value_get(item, "embedding"), label, (uint32_t)ix->u.i, dim,
                          out + (size_t)ix->u.i * dim, err, err_len);
        } else if (kind == EMBED_PROVIDER_COHERE) {
            rc = read_vec(item, label, i, dim, out + (size_t)i * dim, err, err_len);
        } else {
            rc = read_hf(item, label, i, dim, out + (size_t)i * dim, err, err_len);
        }
        if (rc != VX_OK)
            goto done;
    }
    rc = VX_OK;
done:
    vx_arena_fini(&a);
    return rc;
}

/* Whether a provider's message shows the key or a piece of it: any 8
 * consecutive bytes of it (a whole key shorter than that): such a message
 * is dropped, not quoted, so no part of a key long enough to narrow a
 * guess reaches a reply or a log. */
static bool shows_key(const char *msg, size_t len, const char *key)
{
    size_t klen = strlen(key), piece = klen < 8 ? klen : 8;
    for (size_t i = 0; piece && i + piece <= klen; i++)
        if (memmem(msg, len, key + i, piece))
            return true;
    return false;
}

/* A short, printable upstream error message without the key, or "". */
static void upstream_message(const remote_provider *p, const vx_buf *body, char *msg, size_t cap)
{
    msg[0] = '\0';
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_value root;
    if (body->len == 0 || body->len > 65536 ||
        vx_json_parse((const char *)body->data, body->len, &a, &root, NULL, 0) != VX_OK)
        goto done;
    const vx_value *m = NULL;
    if (root.type == VX_VAL_OBJECT) {
        const vx_value *e = vx_value_get(&root, "error");
        if (e && e->type == VX_VAL_OBJECT)
            m = vx_value_get(e, "message");
        else if (e && e->type == VX_VAL_STRING)
            m = e;
        else
            m = vx_value_get(&root, "message");
    }
    if (!m || m->type != VX_VAL_STRING || shows_key(m->u.str.ptr, m->u.str.len, p->key))
        goto done;
    size_t k = 0;
    for (uint32_t i = 0; i < m->u.str.len && k + 1 < cap && k < 200; i++) {
        unsigned char c = (unsigned char)m->u.str.ptr[i];
        msg[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    msg[k] = '\0';
done:
    vx_arena_fini(&a);
}

int remote_provider_embed(remote_provider *p, const char **texts, uint32_t n, uint64_t deadline_us, float *out,
                          char *err, size_t err_len)
{
    vx_buf body = VX_BUF_INIT;
    httpc_response resp = {0, VX_BUF_INIT, 0};
    int rc = VX_OK;
    for (uint32_t first = 0; first < n; first += p->chunk) {
        uint32_t k = n - first < p->chunk ? n - first : p->chunk;
        vx_buf_reset(&body);
        remote_build_body(p->kind, p->model_name, texts + first, k, &body);
        httpc_request req = {.url = p->url, .headers = {p->auth, "Accept: application/json", NULL},
                             .body = (const char *)body.data, .body_len = body.len, .deadline_us = deadline_us};
        rc = httpc_post(p->http, &req, &resp, err, err_len);
        if (rc != VX_OK)
            break;
        if (resp.status < 200 || resp.status > 299) {
            char msg[256];
            upstream_message(p, &resp.body, msg, sizeof msg);
            if (resp.status == 401 || resp.status == 403)
                rc = fail(err, err_len, VX_ERR_UPSTREAM, "%s rejected the API key (HTTP %ld)", p->label,
                          resp.status);
            else
                rc = fail(err, err_len, VX_ERR_UPSTREAM, "%s answered HTTP %ld after %u attempt%s%s%s", p->label,
                          resp.status, resp.attempts, resp.attempts == 1 ? "" : "s", msg[0] ? ": " : "", msg);
            break;
        }
        rc = remote_parse_response(p->kind, p->label, (const char *)resp.body.data, resp.body.len, k, p->dim,
                                   out + (size_t)first * p->dim, err, err_len);
        if (rc != VX_OK)
            break;
    }
    if (rc != VX_OK)
        VX_WARN("model %s: %s", p->id, err ? err : vx_strerror(rc));
    vx_buf_free(&body);
    vx_buf_free(&resp.body);
    return rc;
}
