/*
 * handlers_legacy.c — the Vectron-compatible vector routes (SPEC §3.2) on
 * the collection "default": GET /, POST /vector, GET/DELETE /vector/{id},
 * GET /vectors, POST /search/vector, POST /upsert-text, POST /search/text.
 *
 * Shapes follow the original service; statuses are honest (404 for a
 * missing id with the original's {"success": false} shape, 400 for bad
 * input in the standard error shape). "default" is created by the first
 * write (create_if_missing: cosine, flat, dimension of that vector).
 * Searching before anything was written answers an empty result.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "vx_err.h"

#define COLL API_DEFAULT_COLLECTION

void h_root(api_ctx *c)
{
    api_send_text(c, 200,
                  "Vectron vector database (C) " API_VERSION
                  " - dashboard at /dashboard; API: GET /health, /collections, /models\n");
}

/* {"success": true, "message": msg, "count": count} */
static void send_ok_count(api_ctx *c, const char *msg, uint64_t count)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "success");
    vx_jsonw_bool(&w, true);
    vx_jsonw_key(&w, "message");
    vx_jsonw_string(&w, msg);
    vx_jsonw_key(&w, "count");
    vx_jsonw_uint(&w, count);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

/* Upserts one point into "default" and answers the legacy shape. */
/* field: what the client sent that became the vector ("vector", or for
 * /upsert-text "text" — its embedding), named in the store's errors. */
static void upsert_one(api_ctx *c, const char *id, const float *vec, uint32_t dim,
                       const char *field)
{
    vx_point p = {.id = id, .vector = vec, .dim = dim};
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_POINTS_UPSERT;
    req.body.upsert.collection = COLL;
    req.body.upsert.points = &p;
    req.body.upsert.n_points = 1;
    req.body.upsert.create_if_missing = true;
    int rc = upstream_call(c->srv->up, UP_STORE, &req, c->arena, &rep, c->err, sizeof(c->err));
    if (rc) {
        /* the store names the field of its points array */
        const char *msg = c->err;
        if (strncmp(msg, "points[0].vector", 16) == 0)
            api_send_error(c, rc, "%s%s", field, msg + 16);
        else if (strncmp(msg, "points[0].", 10) == 0)
            api_send_error(c, rc, "%s", msg + 10);
        else
            api_send_error(c, rc, "%s", msg);
        return;
    }
    char msg[VX_MAX_ID_LEN + 64];
    snprintf(msg, sizeof(msg), "Vector %s stored", id);
    send_ok_count(c, msg, rep.body.write.count);
}

static int body_id(api_ctx *c, const char **id)
{
    int rc = rq_require_object(c->body, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_get_string(c->body, "id", "id", VX_MAX_ID_LEN, true, id, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_check_id(*id, strlen(*id), "id", c->err, sizeof(c->err));
    if (rc)
        api_send_error(c, rc, "%s", c->err);
    return rc;
}

void h_vector_post(api_ctx *c)
{
    const char *id;
    float *vec;
    uint32_t dim;
    if (body_id(c, &id))
        return;
    int rc = rq_vector(vx_value_get(c->body, "vector"), "vector", 0, c->arena, &vec, &dim, c->err,
                       sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    upsert_one(c, id, vec, dim, "vector");
}

void h_upsert_text(api_ctx *c)
{
    const char *id, *text, *model;
    if (body_id(c, &id))
        return;
    if (api_body_text_model(c, &text, &model))
        return;
    vx_reply er;
    if (api_embed(c, model, &text, 1, &er))
        return;
    upsert_one(c, id, er.body.embed.vectors, er.body.embed.dim, "text (its embedding)");
}

/* 404 in the original's shape. */
static void send_missing(api_ctx *c, const char *msg)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "id");
    vx_jsonw_string_n(&w, c->id, c->id_len);
    vx_jsonw_key(&w, "vector");
    vx_jsonw_null(&w);
    vx_jsonw_key(&w, "success");
    vx_jsonw_bool(&w, false);
    vx_jsonw_key(&w, "message");
    vx_jsonw_string(&w, msg);
    vx_jsonw_end_object(&w);
    api_send_json(c, 404, &b);
    vx_buf_free(&b);
}

void h_vector_get(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_POINTS_GET;
    req.body.get.collection = COLL;
    req.body.get.id = c->id;
    req.body.get.with_vector = true;
    int rc = upstream_call(c->srv->up, UP_STORE, &req, c->arena, &rep, c->err, sizeof(c->err));
    if (rc == VX_ERR_NOT_FOUND) {
        send_missing(c, "Vector not found");
        return;
    }
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "id");
    vx_jsonw_string_n(&w, c->id, c->id_len);
    vx_jsonw_key(&w, "vector");
    if (rep.body.point.vector)
        vx_jsonw_float_array(&w, rep.body.point.vector, rep.body.point.dim);
    else
        vx_jsonw_null(&w);
    vx_jsonw_key(&w, "success");
    vx_jsonw_bool(&w, true);
    vx_jsonw_key(&w, "message");
    vx_jsonw_string(&w, "Vector found");
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_vector_delete(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_POINTS_DELETE;
    req.body.del.collection = COLL;
    req.body.del.ids = &c->id;
    req.body.del.n_ids = 1;
    int rc = upstream_call(c->srv->up, UP_STORE, &req, c->arena, &rep, c->err, sizeof(c->err));
    if (rc == VX_ERR_NOT_FOUND || (rc == VX_OK && rep.body.write.n == 0)) {
        send_missing(c, "Vector not found");
        return;
    }
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    send_ok_count(c, "Vector deleted", rep.body.write.count);
}

void h_vectors(api_ctx *c)
{
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_array(&w);
    const char *cursor = NULL;
    vx_arena page;
    vx_arena_init(&page, 64 * 1024);
    for (;;) {
        vx_request req;
        vx_reply rep;
        memset(&req, 0, sizeof(req));
        req.type = VX_MSG_POINTS_LIST;
        req.body.list.collection = COLL;
        req.body.list.limit = VX_MAX_LIST_LIMIT;
        req.body.list.cursor = cursor;
        int rc = upstream_call(c->srv->up, UP_STORE, &req, &page, &rep, c->err, sizeof(c->err));
        if (rc == VX_ERR_NOT_FOUND && !cursor)
            break; /* nothing written yet: [] */
        if (rc) {
            api_send_error(c, rc, "%s", c->err);
            goto done;
        }
        for (uint32_t i = 0; i < rep.body.list.n_points; i++)
            vx_jsonw_string(&w, rep.body.list.points[i].id);
        if (!rep.body.list.next_cursor || rep.body.list.n_points == 0)
            break;
        /* the cursor must outlive the page arena's reset */
        cursor = vx_arena_strdup(c->arena, rep.body.list.next_cursor);
        vx_arena_reset(&page);
    }
    vx_jsonw_end_array(&w);
    api_send_json(c, 200, &b);
done:
    vx_arena_fini(&page);
    vx_buf_free(&b);
}

/* top_k: the query string wins over the body (the body's is then not even
 * looked at); default 5. */
static int top_k(api_ctx *c, uint32_t *k)
{
    const char *in_query;
    int rc;
    if (rq_query_get(c->query, "top_k", c->arena, &in_query) != VX_ERR_NOT_FOUND)
        rc = rq_query_uint(c->query, "top_k", 1, VX_MAX_K, 5, c->arena, k, c->err,
                           sizeof(c->err));
    else
        rc = rq_get_uint(c->body, "top_k", "top_k", 1, VX_MAX_K, 5, false, k, c->err,
                         sizeof(c->err));
    if (rc)
        api_send_error(c, rc, "%s", c->err);
    return rc;
}

/* Searches "default"; n_hits = 0 when it does not exist yet. */
/* field: what became the query vector, named in the store's errors (as in
 * upsert_one). */
static int search_default(api_ctx *c, const float *vec, uint32_t dim, uint32_t k,
                          const char *field, vx_search_rep *out)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    memset(out, 0, sizeof(*out));
    req.type = VX_MSG_SEARCH;
    req.body.search.collection = COLL;
    req.body.search.vector = vec;
    req.body.search.dim = dim;
    req.body.search.k = k;
    int rc = upstream_call(c->srv->up, UP_STORE, &req, c->arena, &rep, c->err, sizeof(c->err));
    if (rc == VX_ERR_NOT_FOUND)
        return VX_OK;
    if (rc) {
        if (strncmp(c->err, "vector", 6) == 0)
            api_send_error(c, rc, "%s%s", field, c->err + 6);
        else
            api_send_error(c, rc, "%s", c->err);
        return rc;
    }
    *out = rep.body.search;
    return VX_OK;
}

static void write_hits(vx_jsonw *w, const vx_search_rep *s)
{
    vx_jsonw_begin_array(w);
    for (uint32_t i = 0; i < s->n_hits; i++) {
        vx_jsonw_begin_object(w);
        vx_jsonw_key(w, "id");
        vx_jsonw_string(w, s->hits[i].id);
        vx_jsonw_key(w, "score");
        vx_jsonw_float(w, s->hits[i].score);
        vx_jsonw_end_object(w);
    }
    vx_jsonw_end_array(w);
}

void h_search_vector(api_ctx *c)
{
    float *vec;
    uint32_t dim, k;
    int rc = rq_require_object(c->body, c->err, sizeof(c->err));
    if (!rc)
        rc = rq_vector(vx_value_get(c->body, "vector"), "vector", 0, c->arena, &vec, &dim, c->err,
                       sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    vx_search_rep s;
    if (top_k(c, &k) || search_default(c, vec, dim, k, "vector", &s))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    write_hits(&w, &s);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_search_text(api_ctx *c)
{
    const char *text, *model;
    uint32_t k;
    if (api_body_text_model(c, &text, &model))
        return;
    vx_reply er;
    vx_search_rep s;
    if (top_k(c, &k) || api_embed(c, model, &text, 1, &er) ||
        search_default(c, er.body.embed.vectors, er.body.embed.dim, k, "text (its embedding)", &s))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "results");
    write_hits(&w, &s);
    vx_jsonw_key(&w, "query");
    vx_jsonw_string(&w, text);
    vx_jsonw_key(&w, "success");
    vx_jsonw_bool(&w, true);
    vx_jsonw_key(&w, "message");
    vx_jsonw_string(&w, s.n_hits ? "Search completed" : "No vectors stored");
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}
