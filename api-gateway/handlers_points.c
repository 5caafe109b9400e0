/*
 * handlers_points.c — point and search routes of the REST API (SPEC §3.1).
 *
 * Text points and text queries are embedded first, with the collection's
 * model (read with COLL_INFO); if embedding fails nothing is written.
 * Upserts are all-or-nothing: the whole body is validated before the one
 * POINTS_UPSERT message is sent.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "vx_err.h"

/* The collection's model (NULL after an answered error). */
static const char *coll_model(api_ctx *c, const char *coll, const char *field)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_COLL_INFO;
    req.body.coll_name.name = coll;
    if (api_call(c, UP_STORE, &req, &rep))
        return NULL;
    if (!rep.body.coll_info.config.model) {
        api_send_error(c, VX_ERR_INVALID,
                       "%s: collection %s has no model; give vectors or create it with a model",
                       field, coll);
        return NULL;
    }
    return rep.body.coll_info.config.model;
}

void h_points_upsert(api_ctx *c)
{
    rq_points pts;
    int rc = rq_parse_points(c->body, c->arena, &pts, c->err, sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    if (pts.n_text) {
        uint32_t first = 0;
        while (!pts.texts[first])
            first++;
        char field[48];
        snprintf(field, sizeof field, "points[%u].text", first);
        const char *model = coll_model(c, c->name, field);
        if (!model)
            return;
        const char **texts = vx_arena_alloc(c->arena, pts.n_text * sizeof(char *));
        uint32_t *idx = vx_arena_alloc(c->arena, pts.n_text * sizeof(uint32_t));
        uint32_t k = 0;
        for (uint32_t i = 0; i < pts.n; i++)
            if (pts.texts[i]) {
                texts[k] = pts.texts[i];
                idx[k++] = i;
            }
        for (uint32_t off = 0; off < k; off += VX_MAX_TEXTS) {
            uint32_t n = k - off < VX_MAX_TEXTS ? k - off : VX_MAX_TEXTS;
            vx_reply er;
            if (api_embed(c, model, texts + off, n, &er))
                return;
            for (uint32_t j = 0; j < n; j++) {
                vx_point *p = &pts.points[idx[off + j]];
                p->vector = er.body.embed.vectors + (size_t)j * er.body.embed.dim;
                p->dim = er.body.embed.dim;
            }
        }
    }
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_POINTS_UPSERT;
    req.body.upsert.collection = c->name;
    req.body.upsert.points = pts.points;
    req.body.upsert.n_points = pts.n;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "upserted");
    vx_jsonw_uint(&w, rep.body.write.n);
    vx_jsonw_key(&w, "count");
    vx_jsonw_uint(&w, rep.body.write.count);
    if (rep.body.write.durability) {
        vx_jsonw_key(&w, "durability");
        vx_jsonw_string(&w, rep.body.write.durability);
    }
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_points_list(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_POINTS_LIST;
    req.body.list.collection = c->name;
    int rc = rq_query_uint(c->query, "limit", 1, VX_MAX_LIST_LIMIT, VX_DEFAULT_LIST_LIMIT,
                           c->arena, &req.body.list.limit, c->err, sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    const char *cursor = NULL;
    rc = rq_query_get(c->query, "cursor", c->arena, &cursor);
    if (rc == VX_ERR_INVALID || (cursor && strlen(cursor) > VX_MAX_CURSOR_LEN)) {
        api_send_error(c, VX_ERR_INVALID, "cursor: invalid");
        return;
    }
    req.body.list.cursor = cursor && *cursor ? cursor : NULL;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "points");
    vx_jsonw_begin_array(&w);
    for (uint32_t i = 0; i < rep.body.list.n_points; i++) {
        const vx_point *p = &rep.body.list.points[i];
        vx_jsonw_begin_object(&w);
        vx_jsonw_key(&w, "id");
        vx_jsonw_string(&w, p->id);
        vx_jsonw_key(&w, "metadata");
        vx_jsonw_value(&w, p->metadata);
        vx_jsonw_end_object(&w);
    }
    vx_jsonw_end_array(&w);
    vx_jsonw_key(&w, "next_cursor");
    if (rep.body.list.next_cursor)
        vx_jsonw_string(&w, rep.body.list.next_cursor);
    else
        vx_jsonw_null(&w);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_point_get(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_POINTS_GET;
    req.body.get.collection = c->name;
    req.body.get.id = c->id;
    req.body.get.with_vector = true;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
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
    vx_jsonw_key(&w, "metadata");
    vx_jsonw_value(&w, rep.body.point.metadata);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

/* Deletes ids or a filter; answers {"deleted": n}. single: 404 when n == 0. */
static void do_delete(api_ctx *c, vx_delete_req *del, bool single)
{
    vx_request req;
    vx_reply rep;
    memset(&req, 0, sizeof(req));
    if (!del->filter && del->n_ids == 0) {
        /* {"ids": []} deletes nothing; the bus has no empty delete, so only
         * check that the collection exists (404 otherwise). */
        req.type = VX_MSG_COLL_INFO;
        req.body.coll_name.name = c->name;
        if (api_call(c, UP_STORE, &req, &rep))
            return;
        rep.body.write.n = 0;
        goto answer;
    }
    req.type = VX_MSG_POINTS_DELETE;
    req.body.del = *del;
    req.body.del.collection = c->name;
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    if (single && rep.body.write.n == 0) {
        /* the same words as the store's GET miss */
        api_send_error(c, VX_ERR_NOT_FOUND, "point '%s' not found in collection '%s'", c->id,
                       c->name);
        return;
    }
answer:;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "deleted");
    vx_jsonw_uint(&w, rep.body.write.n);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}

void h_point_delete(api_ctx *c)
{
    vx_delete_req del;
    memset(&del, 0, sizeof(del));
    del.ids = &c->id;
    del.n_ids = 1;
    do_delete(c, &del, true);
}

void h_points_delete(api_ctx *c)
{
    vx_delete_req del;
    int rc = rq_parse_delete(c->body, c->arena, &del, c->err, sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    do_delete(c, &del, false);
}

void h_search(api_ctx *c)
{
    vx_request req;
    vx_reply rep;
    const char *text;
    memset(&req, 0, sizeof(req));
    req.type = VX_MSG_SEARCH;
    int rc = rq_parse_search(c->body, c->arena, &req.body.search, &text, c->err, sizeof(c->err));
    if (rc) {
        api_send_error(c, rc, "%s", c->err);
        return;
    }
    req.body.search.collection = c->name;
    if (text) {
        const char *model = coll_model(c, c->name, "text");
        vx_reply er;
        if (!model || api_embed(c, model, &text, 1, &er))
            return;
        req.body.search.vector = er.body.embed.vectors;
        req.body.search.dim = er.body.embed.dim;
    }
    if (api_call(c, UP_STORE, &req, &rep))
        return;
    vx_buf b = VX_BUF_INIT;
    vx_jsonw w;
    vx_jsonw_init(&w, &b);
    vx_jsonw_begin_object(&w);
    vx_jsonw_key(&w, "results");
    vx_jsonw_begin_array(&w);
    for (uint32_t i = 0; i < rep.body.search.n_hits; i++) {
        const vx_search_hit *h = &rep.body.search.hits[i];
        vx_jsonw_begin_object(&w);
        vx_jsonw_key(&w, "id");
        vx_jsonw_string(&w, h->id);
        vx_jsonw_key(&w, "score");
        vx_jsonw_float(&w, h->score);
        vx_jsonw_key(&w, "metadata");
        vx_jsonw_value(&w, h->metadata);
        if (req.body.search.with_vector) {
            vx_jsonw_key(&w, "vector");
            if (h->vector)
                vx_jsonw_float_array(&w, h->vector, h->dim);
            else
                vx_jsonw_null(&w);
        }
        vx_jsonw_end_object(&w);
    }
    vx_jsonw_end_array(&w);
    vx_jsonw_key(&w, "took_ms");
    api_write_ms(&w, (double)rep.body.search.took_us / 1000.0);
    vx_jsonw_key(&w, "used_index"); /* false: the exact scan answered */
    vx_jsonw_bool(&w, rep.body.search.used_index);
    vx_jsonw_end_object(&w);
    api_send_json(c, 200, &b);
    vx_buf_free(&b);
}
