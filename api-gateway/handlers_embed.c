/*
 * handlers_embed.c — Vectron routes that talk to the embed service or
 * report health (SPEC §3.2): POST /embed, POST /batch-embed, GET /models,
 * GET /health.
 *
 * /models when the embed service is down answers 503 with the registry-less
 * shape {"default": null, "models": {}, "error": {...}}. /health always
 * answers 200; "status" is "ok" iff the store answers.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "vx_clock.h"
#include "vx_err.h"

int api_body_text_model(api_ctx *c, const char **text, const char **model)
{
    int rc = rq_require_object(c->body, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_get_string(c->body, "text", "text", VX_MAX_TEXT_LEN, true, text, c->err,
                           sizeof(c->err));
    if (!rc)
        rc = rq_get_string(c->body, "model", "model", VX_MAX_MODEL_LEN, false, model, c->err,
                           sizeof(c->err));
    if (rc)
        api_send_error(c, rc, "%s", c->err);
    return rc;
}

void h_embed(api_ctx *c)
{
    const char *text, *model;
    if (api_body_text_model(c, &text, &model))
        return;
    vx_reply er;
    if (api_embed(c, model, &text, 1, &er))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "text");
    vx_jsonw_string(&w, text);
    vx_jsonw_key(&w, "embedding");
    vx_jsonw_float_array(&w, er.body.embed.vectors, er.body.embed.dim);
    vx_jsonw_key(&w, "dimensions");
    vx_jsonw_uint(&w, er.body.embed.dim);
    vx_jsonw_key(&w, "model");
    vx_jsonw_string(&w, er.body.embed.model ? er.body.embed.model : (model ? model : ""));
    vx_jsonw_key(&w, "success");
    vx_jsonw_bool(&w, true);
    vx_jsonw_key(&w, "message");
    vx_jsonw_string(&w, "Embedding generated");
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_batch_embed(api_ctx *c)
{
    const char *model;
    int rc = rq_require_object(c->body, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_get_string(c->body, "model", "model", VX_MAX_MODEL_LEN, false, &model, c->err,
                           sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    const vx_value *tv = vx_value_get(c->body, "texts");
    if (!tv || tv->type != VX_VAL_ARRAY || tv->u.arr.n == 0) {
        api_send_error(c, VX_ERR_INVALID, "texts: must be a non-empty array of strings");
        return;
    }
    if (tv->u.arr.n > VX_MAX_TEXTS) {
        api_send_error(c, VX_ERR_LIMIT, "texts: at most %d per request", VX_MAX_TEXTS);
        return;
    }
    uint32_t n = tv->u.arr.n;
    const char **texts = vx_arena_alloc(c->arena, n * sizeof(char *));
    for (uint32_t i = 0; i < n; i++) {
        const vx_value *t = &tv->u.arr.items[i];
        if (t->type != VX_VAL_STRING || t->u.str.len == 0 || t->u.str.len > VX_MAX_TEXT_LEN ||
            memchr(t->u.str.ptr, 0, t->u.str.len)) {
            api_send_error(c, VX_ERR_INVALID,
                           "texts[%u]: must be a non-empty string of at most %d bytes", i,
                           VX_MAX_TEXT_LEN);
            return;
        }
        texts[i] = t->u.str.ptr;
    }
    uint64_t t0 = vx_now_us();
    vx_reply er;
    if (api_embed(c, model, texts, n, &er))
        return;
    uint64_t us = vx_now_us() - t0;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "embeddings");
    vx_jsonw_begin_array(&w);
    for (uint32_t i = 0; i < n; i++)
        vx_jsonw_float_array(&w, er.body.embed.vectors + (size_t)i * er.body.embed.dim,
                             er.body.embed.dim);
    vx_jsonw_end_array(&w);
    vx_jsonw_key(&w, "dimensions");
    vx_jsonw_uint(&w, er.body.embed.dim);
    vx_jsonw_key(&w, "count");
    vx_jsonw_uint(&w, n);
    vx_jsonw_key(&w, "model");
    vx_jsonw_string(&w, er.body.embed.model ? er.body.embed.model : (model ? model : ""));
    vx_jsonw_key(&w, "processing_time_ms");
    api_write_ms(&w, (double)us / 1000.0);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_models(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_MODELS;
    int rc = upstream_call(c->srv->up, UP_EMBED, &req, c->arena, &rep, c->err, sizeof(c->err));
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "default");
    if (rc == VX_OK && rep.body.models.default_model)
        vx_jsonw_string(&w, rep.body.models.default_model);
    else
        vx_jsonw_null(&w);
    vx_jsonw_key(&w, "models");
    vx_jsonw_begin_object(&w);
    for (uint32_t i = 0; rc == VX_OK && i < rep.body.models.n_models; i++) {
        const vx_model_info *m = &rep.body.models.models[i];
        vx_jsonw_key(&w, m->id ? m->id : "");
        vx_jsonw_begin_object(&w);
        vx_jsonw_key(&w, "provider");
        vx_jsonw_string(&w, m->provider ? m->provider : "");
        vx_jsonw_key(&w, "model_name");
        vx_jsonw_string(&w, m->model_name ? m->model_name : "");
        vx_jsonw_key(&w, "dimensions");
        vx_jsonw_uint(&w, m->dimensions);
        vx_jsonw_key(&w, "is_remote");
        vx_jsonw_bool(&w, m->is_remote);
        vx_jsonw_key(&w, "available");
        vx_jsonw_bool(&w, m->available);
        if (m->reason) {
            vx_jsonw_key(&w, "reason");
            vx_jsonw_string(&w, m->reason);
        }
        vx_jsonw_end_object(&w);
    }
    vx_jsonw_end_object(&w);
    int status = 200;
    if (rc) {
        vx_jsonw_key(&w, "error");
        vx_jsonw_begin_object(&w);
        vx_jsonw_key(&w, "code");
        vx_jsonw_string(&w, vx_errname(rc));
        vx_jsonw_key(&w, "message");
        vx_jsonw_string(&w, c->err);
        vx_jsonw_end_object(&w);
        status = vx_err_http_status(rc);
    }
    vx_jsonw_end_object(&w);
    api_send_json(c, status, &b);
    vx_buf_free(&b);
}

/* "ok" for a service that answers a HEALTH request within
 * API_HEALTH_TIMEOUT_MS, else "unavailable" (dead or hung). */
void h_health(api_ctx *c)
{
    vx_reply rep;
    bool store = api_ping(c, UP_STORE, &rep), embed = api_ping(c, UP_EMBED, &rep);
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "status");
    /* "degraded": some backend is down (the gateway still serves what it can) */
    vx_jsonw_string(&w, store && embed ? "ok" : "degraded");
    vx_jsonw_key(&w, "version");
    vx_jsonw_string(&w, API_VERSION);
    vx_jsonw_key(&w, "services");
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "store");
    vx_jsonw_string(&w, store ? "ok" : "unavailable");
    vx_jsonw_key(&w, "embed");
    vx_jsonw_string(&w, embed ? "ok" : "unavailable");
    vx_jsonw_end_object(&w);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}
