/*
 * handlers_coll.c — collection routes of the REST API (SPEC §3.1):
 * PUT/GET/DELETE /collections/{name}, GET /collections.
 */
#include <string.h>

#include "api.h"
#include "vx_err.h"

void api_write_coll_info(vx_jsonw *w, const vx_coll_info *info)
{
    const vx_coll_config *cf = &info->config;
    vx_jsonw_begin_object(w);
    vx_jsonw_key(w, "name");
    vx_jsonw_string(w, cf->name ? cf->name : "");
    vx_jsonw_key(w, "dimension");
    vx_jsonw_uint(w, cf->dimension);
    vx_jsonw_key(w, "metric");
    vx_jsonw_string(w, vx_metric_name(cf->metric));
    vx_jsonw_key(w, "index");
    vx_jsonw_begin_object(w);
    vx_jsonw_key(w, "type");
    vx_jsonw_string(w, vx_index_type_name(cf->index.type));
    vx_jsonw_key(w, "m");
    vx_jsonw_uint(w, cf->index.m);
    vx_jsonw_key(w, "ef_construction");
    vx_jsonw_uint(w, cf->index.ef_construction);
    vx_jsonw_end_object(w);
    vx_jsonw_key(w, "model");
    if (cf->model)
        vx_jsonw_string(w, cf->model);
    else
        vx_jsonw_null(w);
    vx_jsonw_key(w, "count");
    vx_jsonw_uint(w, info->count);
    vx_jsonw_key(w, "memory_bytes");
    vx_jsonw_uint(w, info->memory_bytes);
    vx_jsonw_end_object(w);
}

static void send_info(api_ctx *c, int status, const vx_coll_info *info)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    api_write_coll_info(&w, info);
    api_send_json(c, status, &b);
    vx_buf_free(&b);
}

/* The model must exist in the embed registry and produce cf->dimension. */
static int check_model(api_ctx *c, const vx_coll_config *cf)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_MODELS;
    int rc = api_call(c, UP_EMBED, &req, &rep);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < rep.body.models.n_models; i++) {
        const vx_model_info *mi = &rep.body.models.models[i];
        if (!mi->id || strcmp(mi->id, cf->model) != 0)
            continue;
        if (mi->dimensions != cf->dimension) {
            api_send_error(c, VX_ERR_INVALID,
                           "model: %s produces %u-d vectors but dimension is %u", cf->model,
                           mi->dimensions, cf->dimension);
            return VX_ERR_INVALID;
        }
        return VX_OK;
    }
    api_send_error(c, VX_ERR_INVALID, "model: unknown model %s (see GET /models)", cf->model);
    return VX_ERR_INVALID;
}

void h_coll_put(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_COLL_CREATE;
    int rc = rq_parse_coll_create(c->body, &req.body.coll_create, c->err, sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    req.body.coll_create.name = c->name;
    if (strncmp(c->name, API_BENCH_PREFIX, strlen(API_BENCH_PREFIX)) == 0) {
        api_send_error(c, VX_ERR_INVALID,
                       "name: the prefix " API_BENCH_PREFIX " is reserved for /benchmark's "
                       "scratch collections");
        return;
    }
    if (req.body.coll_create.model && check_model(c, &req.body.coll_create))
        return;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    send_info(c, 201, &rep.body.coll_info);
}

void h_coll_list(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_COLL_LIST;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "collections");
    vx_jsonw_begin_array(&w);
    for (uint32_t i = 0; i < rep.body.coll_list.n_colls; i++)
        api_write_coll_info(&w, &rep.body.coll_list.colls[i]);
    vx_jsonw_end_array(&w);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_coll_get(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_COLL_INFO;
    req.body.coll_name.name = c->name;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    send_info(c, 200, &rep.body.coll_info);
}

void h_coll_delete(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_COLL_DELETE;
    req.body.coll_name.name = c->name;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "deleted");
    vx_jsonw_bool(&w, true);
    vx_jsonw_key(&w, "name");
    vx_jsonw_string(&w, c->name);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}
