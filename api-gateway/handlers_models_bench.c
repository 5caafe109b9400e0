/*
 * handlers_models_bench.c — POST /benchmark/models: the embedding-model
 * benchmark (embed-gateway/embed_bench.h) run by the embed service
 * (MODELS_BENCH).
 *
 * Body (all optional): {"models": ["id", ...], "repeats": N}. models: 1..
 * VX_MAX_LIST_LIMIT model ids (default: every registry model); repeats:
 * 1..VX_MAX_BENCH_REPEATS rounds per model, the best kept (default
 * VX_DEFAULT_BENCH_REPEATS). Anything else in the body is 400 naming the
 * field; an unknown model id is 404 from the embed service.
 *
 * Answer: {"default": id, "repeats": N, "models": {id: {
 * "dimensions", "available", ["reason"], "single_ms", "batch_ms",
 * "texts_per_s", "contrast", "within", "cross"}}} — the numbers only for
 * models that were measured; an unavailable model (or a failed run) has
 * its reason instead. Remote models are really called (and billed).
 *
 * Timeout: the run may take minutes (remote providers, python workers
 * starting), so this one call waits API_MODELS_BENCH_TIMEOUT_MS instead of
 * the gateway's request timeout; the embed service stops measuring at that
 * deadline. Admin role (auth.c).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "vx_err.h"
#include "vx_utf8.h"

#define API_MODELS_BENCH_TIMEOUT_MS (10 * 60 * 1000)

/* "models": array of model ids → req (absent: NULL) */
static int parse_models(api_ctx *c, vx_models_bench_req *req)
{
    const vx_value *v = vx_value_get(c->body, "models");
    if (!v || v->type == VX_VAL_NULL)
        return VX_OK;
    if (v->type != VX_VAL_ARRAY) {
        snprintf(c->err, sizeof(c->err), "models: must be an array of model ids");
        return VX_ERR_INVALID;
    }
    uint32_t n = v->u.arr.n;
    if (n == 0 || n > VX_MAX_LIST_LIMIT) {
        snprintf(c->err, sizeof(c->err), "models: between 1 and %d model ids, got %u", VX_MAX_LIST_LIMIT, n);
        return n ? VX_ERR_LIMIT : VX_ERR_INVALID;
    }
    const char **ids = vx_arena_alloc(c->arena, n * sizeof(*ids));
    for (uint32_t i = 0; i < n; i++) {
        const vx_value *s = &v->u.arr.items[i];
        if (s->type != VX_VAL_STRING || s->u.str.len == 0 || s->u.str.len > VX_MAX_MODEL_LEN ||
            memchr(s->u.str.ptr, 0, s->u.str.len) || !vx_utf8_valid(s->u.str.ptr, s->u.str.len)) {
            snprintf(c->err, sizeof(c->err), "models[%u]: must be a model id of 1..%d bytes", i,
                     VX_MAX_MODEL_LEN);
            return VX_ERR_INVALID;
        }
        ids[i] = vx_arena_strndup(c->arena, s->u.str.ptr, s->u.str.len);
    }
    req->models = ids;
    req->n_models = n;
    return VX_OK;
}

/* only "models" and "repeats" are understood: a typo must not silently run everything */
static int check_keys(api_ctx *c)
{
    for (uint32_t i = 0; i < c->body->u.obj.n; i++) {
        const vx_member *m = &c->body->u.obj.items[i];
        if (!(m->key_len == 6 && memcmp(m->key, "models", 6) == 0) &&
            !(m->key_len == 7 && memcmp(m->key, "repeats", 7) == 0)) {
            snprintf(c->err, sizeof(c->err), "%.*s: unknown field (models and repeats are accepted)",
                     (int)(m->key_len > 64 ? 64 : m->key_len), m->key);
            return VX_ERR_INVALID;
        }
    }
    return VX_OK;
}

static void write_model(vx_jsonw *w, const vx_model_bench *mb)
{
    vx_jsonw_key(w, mb->id);
    vx_jsonw_begin_object(w);
    vx_jsonw_key(w, "dimensions");
    vx_jsonw_uint(w, mb->dimensions);
    vx_jsonw_key(w, "available");
    vx_jsonw_bool(w, mb->available);
    if (mb->reason) {
        vx_jsonw_key(w, "reason");
        vx_jsonw_string(w, mb->reason);
    } else if (mb->available) {
        vx_jsonw_key(w, "single_ms");
        api_write_ms(w, mb->single_ms);
        vx_jsonw_key(w, "batch_ms");
        api_write_ms(w, mb->batch_ms);
        vx_jsonw_key(w, "texts_per_s");
        vx_jsonw_double(w, mb->texts_per_s);
        vx_jsonw_key(w, "contrast");
        vx_jsonw_double(w, mb->contrast);
        vx_jsonw_key(w, "within");
        vx_jsonw_double(w, mb->within);
        vx_jsonw_key(w, "cross");
        vx_jsonw_double(w, mb->cross);
    }
    vx_jsonw_end_object(w);
}

void h_models_bench(api_ctx *c)
{
    vx_request req;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_MODELS_BENCH;
    vx_models_bench_req *q = &req.body.models_bench;
    int rc = rq_require_object(c->body, c->err, sizeof(c->err));
    if (!rc)
        rc = check_keys(c);
    if (!rc)
        rc = parse_models(c, q);
    if (!rc)
        rc = rq_get_uint(c->body, "repeats", "repeats", 1, VX_MAX_BENCH_REPEATS, VX_DEFAULT_BENCH_REPEATS,
                         false, &q->repeats, c->err, sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    vx_reply rep;
    char err[512];
    rc = upstream_call_timeout(c->srv->up, UP_EMBED, &req, API_MODELS_BENCH_TIMEOUT_MS, c->arena, &rep, err,
                               sizeof(err));
    if (rc) {
        api_send_error(c, rc, "%s", err);
        return;
    }
    const vx_models_bench_rep *r = &rep.body.models_bench;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "default");
    if (r->default_model)
        vx_jsonw_string(&w, r->default_model);
    else
        vx_jsonw_null(&w);
    vx_jsonw_key(&w, "repeats");
    vx_jsonw_uint(&w, q->repeats);
    vx_jsonw_key(&w, "models");
    vx_jsonw_begin_object(&w);
    for (uint32_t i = 0; i < r->n_models; i++)
        write_model(&w, &r->models[i]);
    vx_jsonw_end_object(&w);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}
