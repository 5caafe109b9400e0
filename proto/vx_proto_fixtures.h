/*
 * vx_proto_fixtures.h — test fixtures shared by proto/'s unit tests: one
 * request and one reply of every message type, "full" (every optional field
 * set) or minimal, built in the caller's arena, and small helpers. Included
 * only by *_test.c files.
 */
#ifndef VX_PROTO_FIXTURES_H
#define VX_PROTO_FIXTURES_H

#include <stdbool.h>
#include <string.h>

#include "vx_msgpack.h"
#include "vx_proto.h"

static const vx_msg_type all_types[] = {
    VX_MSG_HEALTH,        VX_MSG_COLL_CREATE,   VX_MSG_COLL_LIST,     VX_MSG_COLL_INFO,
    VX_MSG_COLL_DELETE,   VX_MSG_POINTS_UPSERT, VX_MSG_POINTS_GET,    VX_MSG_POINTS_DELETE,
    VX_MSG_POINTS_LIST,   VX_MSG_SEARCH,        VX_MSG_EVENTS_SINCE,  VX_MSG_EMBED,
    VX_MSG_MODELS,        VX_MSG_MODELS_BENCH,
};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static const float vec4[4] = {0.5f, -1.25f, 3.0f, 1e-3f};

/* {"tag": "a", "n": 3, "x": -2.5, "ok": true, "none": null,
 *  "list": [1, "two", {"deep": [-7]}]} */
static inline const vx_value *sample_meta(vx_arena *a)
{
    vx_value *deep = vx_arena_alloc(a, sizeof *deep);
    deep->type = VX_VAL_ARRAY;
    deep->u.arr.n = 1;
    deep->u.arr.items = vx_arena_alloc(a, sizeof(vx_value));
    deep->u.arr.items[0].type = VX_VAL_INT;
    deep->u.arr.items[0].u.i = -7;
    vx_member *dm = vx_arena_alloc(a, sizeof *dm);
    dm->key = "deep";
    dm->key_len = 4;
    dm->value = *deep;
    vx_value *list = vx_arena_alloc(a, 3 * sizeof *list);
    list[0].type = VX_VAL_INT;
    list[0].u.i = 1;
    list[1].type = VX_VAL_STRING;
    list[1].u.str.ptr = "two";
    list[1].u.str.len = 3;
    list[2].type = VX_VAL_OBJECT;
    list[2].u.obj.n = 1;
    list[2].u.obj.items = dm;
    vx_member *m = vx_arena_alloc(a, 6 * sizeof *m);
    const char *keys[] = {"tag", "n", "x", "ok", "none", "list"};
    for (int i = 0; i < 6; i++) {
        m[i].key = keys[i];
        m[i].key_len = (uint32_t)strlen(keys[i]);
    }
    m[0].value.type = VX_VAL_STRING;
    m[0].value.u.str.ptr = "a";
    m[0].value.u.str.len = 1;
    m[1].value.type = VX_VAL_INT;
    m[1].value.u.i = 3;
    m[2].value.type = VX_VAL_DOUBLE;
    m[2].value.u.d = -2.5;
    m[3].value.type = VX_VAL_BOOL;
    m[3].value.u.b = true;
    m[4].value.type = VX_VAL_NULL;
    m[5].value.type = VX_VAL_ARRAY;
    m[5].value.u.arr.n = 3;
    m[5].value.u.arr.items = list;
    vx_value *root = vx_arena_alloc(a, sizeof *root);
    root->type = VX_VAL_OBJECT;
    root->u.obj.n = 6;
    root->u.obj.items = m;
    return root;
}

static const char *ids3[] = {"a", "b-2", "ü-3"};
static const char *texts2[] = {"hello world", ""};
static const char *bench_ids[] = {"use-lite", "oai"};

/* A fully populated request of each type (all optionals set when full). */
static inline void fixture_request(vx_msg_type t, bool full, vx_arena *a, vx_request *m)
{
    memset(m, 0, sizeof *m);
    m->version = VX_PROTO_VERSION;
    m->type = t;
    m->request_id = 0x1122334455ULL;
    m->deadline_ms = 2500;
    switch (t) {
    case VX_MSG_HEALTH:
    case VX_MSG_COLL_LIST:
    case VX_MSG_MODELS: break;
    case VX_MSG_COLL_CREATE:
        m->body.coll_create = (vx_coll_config){"docs_v-1", 4, VX_METRIC_L2,
                                               {VX_INDEX_HNSW, 32, 400}, full ? "use-lite" : NULL};
        break;
    case VX_MSG_COLL_INFO:
    case VX_MSG_COLL_DELETE: m->body.coll_name.name = "docs"; break;
    case VX_MSG_POINTS_UPSERT: {
        vx_point *p = vx_arena_alloc(a, 2 * sizeof *p);
        p[0] = (vx_point){"p1", vec4, 4, full ? sample_meta(a) : NULL};
        p[1] = (vx_point){"p2", vec4, 2, NULL};
        m->body.upsert = (vx_upsert_req){"docs", p, 2, full};
        break;
    }
    case VX_MSG_POINTS_GET: m->body.get = (vx_get_req){"docs", "p1", full}; break;
    case VX_MSG_POINTS_DELETE:
        if (full)
            m->body.del = (vx_delete_req){"docs", ids3, 3, NULL};
        else
            m->body.del = (vx_delete_req){"docs", NULL, 0, sample_meta(a)};
        break;
    case VX_MSG_POINTS_LIST:
        m->body.list = (vx_list_req){"docs", 50, full ? "cur:abc" : NULL, full};
        break;
    case VX_MSG_SEARCH:
        m->body.search = (vx_search_req){"docs", vec4, 4, 7, full ? sample_meta(a) : NULL,
                                         full ? 128 : 0, full, full, !full};
        break;
    case VX_MSG_EVENTS_SINCE: m->body.events = (vx_events_req){42, 10}; break;
    case VX_MSG_EMBED: m->body.embed = (vx_embed_req){full ? "use-lite" : NULL, texts2, 2}; break;
    case VX_MSG_MODELS_BENCH:
        m->body.models_bench = (vx_models_bench_req){full ? bench_ids : NULL, full ? 2 : 0, full ? 2 : 3};
        break;
    }
}

static const float emb[6] = {1, 2, 3, -4, -5, 0.25f};

static inline void fixture_reply(vx_msg_type t, bool full, vx_arena *a, vx_reply *m)
{
    memset(m, 0, sizeof *m);
    m->version = VX_PROTO_VERSION;
    m->type = t;
    m->request_id = 77;
    vx_coll_config cfg = {"docs", 4, VX_METRIC_DOT, {VX_INDEX_FLAT, 16, 200}, full ? "m1" : NULL};
    switch (t) {
    case VX_MSG_COLL_CREATE:
    case VX_MSG_COLL_INFO: m->body.coll_info = (vx_coll_info){cfg, 12, 4096}; break;
    case VX_MSG_COLL_LIST: {
        vx_coll_info *c = vx_arena_alloc(a, 2 * sizeof *c);
        c[0] = (vx_coll_info){cfg, 1, 2};
        c[1] = (vx_coll_info){cfg, 3, 4};
        c[1].config.name = "other";
        m->body.coll_list = (vx_list_colls_rep){c, full ? 2 : 0};
        break;
    }
    case VX_MSG_POINTS_UPSERT:
    case VX_MSG_POINTS_DELETE:
    case VX_MSG_COLL_DELETE:
        m->body.write = (vx_write_rep){3, 1000, 99, full ? "always" : NULL};
        break;
    case VX_MSG_POINTS_GET:
        m->body.point = (vx_point){"p1", full ? vec4 : NULL, full ? 4 : 0,
                                   full ? sample_meta(a) : NULL};
        break;
    case VX_MSG_POINTS_LIST: {
        vx_point *p = vx_arena_alloc(a, 2 * sizeof *p);
        p[0] = (vx_point){"p1", NULL, 0, sample_meta(a)};
        p[1] = (vx_point){"p2", full ? vec4 : NULL, full ? 4 : 0, NULL};
        m->body.list = (vx_list_rep){p, 2, full ? "next" : NULL};
        break;
    }
    case VX_MSG_SEARCH: {
        vx_search_hit *h = vx_arena_alloc(a, 2 * sizeof *h);
        h[0] = (vx_search_hit){"p1", 0.875f, full ? sample_meta(a) : NULL, full ? vec4 : NULL,
                               full ? 4 : 0};
        h[1] = (vx_search_hit){"p2", -0.5f, NULL, NULL, 0};
        m->body.search = (vx_search_rep){h, 2, 1234, full};
        break;
    }
    case VX_MSG_HEALTH:
        m->body.health = (vx_health_rep){"store", "0.1.0", full ? sample_meta(a) : NULL};
        break;
    case VX_MSG_EVENTS_SINCE: {
        vx_event *e = vx_arena_alloc(a, 2 * sizeof *e);
        e[0] = (vx_event){5, "docs", "upsert", ids3, 3};
        e[1] = (vx_event){6, "docs", "coll_delete", NULL, 0};
        m->body.events = (vx_events_rep){e, full ? 2 : 0, 6};
        break;
    }
    case VX_MSG_EMBED: m->body.embed = (vx_embed_rep){"use-lite", 3, 2, emb, 55}; break;
    case VX_MSG_MODELS: {
        vx_model_info *mi = vx_arena_alloc(a, 2 * sizeof *mi);
        mi[0] = (vx_model_info){"use-lite", "local", "USE lite", 512, false, true, NULL};
        mi[1] = (vx_model_info){"oai", "openai", NULL, 1536, true, false, "no API key"};
        m->body.models = (vx_models_rep){full ? "use-lite" : NULL, mi, 2};
        break;
    }
    case VX_MSG_MODELS_BENCH: {
        vx_model_bench *mb = vx_arena_alloc(a, 3 * sizeof *mb);
        mb[0] = (vx_model_bench){"use-lite", 512, true, NULL, 1.5, 12.25, 1306.125, 0.375, 0.5, 0.125};
        mb[1] = (vx_model_bench){"oai", 1536, false, "no API key", 0, 0, 0, 0, 0, 0};
        mb[2] = (vx_model_bench){"py", 384, true, "benchmark failed: timeout", 0, 0, 0, 0, 0, 0};
        m->body.models_bench = (vx_models_bench_rep){full ? "use-lite" : NULL, mb, full ? 3 : 1};
        break;
    }
    }
}

static inline int enc_req(const vx_request *m, vx_buf *b)
{
    vx_buf_reset(b);
    return vx_proto_encode_request(m, b);
}

static inline int dec_req_buf(const vx_buf *b, vx_arena *a, vx_request *m, char *err)
{
    return vx_proto_decode_request(b->data, b->len, a, m, err, 256);
}

static inline bool same_bytes(const vx_buf *x, const vx_buf *y)
{
    return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
}

/* encode → decode → encode gives identical bytes, for every type */

/* writes an envelope whose body is a map header of n_body pairs */
static inline void envelope(vx_buf *b, uint64_t version, uint64_t type, uint32_t n_body)
{
    vx_buf_reset(b);
    vx_mp_array(b, 5);
    vx_mp_uint(b, version);
    vx_mp_uint(b, type);
    vx_mp_uint(b, 1);
    vx_mp_uint(b, 0);
    vx_mp_map(b, n_body);
}


#endif
