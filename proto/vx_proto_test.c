/*
 * vx_proto_test.c — the wire format: round trips of every request and reply
 * (all fields, NULL optionals), decode defaults, error replies, and golden
 * encodings (proto/testdata/v1, regenerated only with VX_REGEN_GOLDEN=1)
 * that guard wire compatibility. Malformed input and limits are in
 * vx_proto_malformed_test.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_msgpack.h"
#include "vx_proto.h"
#include "vx_proto_fixtures.h"
#include "vx_test.h"

TEST(request_round_trip_every_type)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b1 = VX_BUF_INIT, b2 = VX_BUF_INIT;
    char err[256];
    for (int full = 0; full < 2; full++)
        for (size_t i = 0; i < N_TYPES; i++) {
            vx_request m, d;
            fixture_request(all_types[i], full, &a, &m);
            ASSERT_EQ_INT(enc_req(&m, &b1), VX_OK);
            int rc = dec_req_buf(&b1, &a, &d, err);
            ASSERT_MSG(rc == VX_OK, "%s: %d %s", vx_msg_name(all_types[i]), rc, err);
            ASSERT_EQ_INT(d.type, m.type);
            ASSERT_EQ_INT(d.request_id, m.request_id);
            ASSERT_EQ_INT(d.deadline_ms, 2500);
            ASSERT_EQ_INT(enc_req(&d, &b2), VX_OK);
            ASSERT_MSG(same_bytes(&b1, &b2), "%s re-encodes differently", vx_msg_name(m.type));
        }
    vx_buf_free(&b1);
    vx_buf_free(&b2);
    vx_arena_fini(&a);
}

TEST(request_fields_survive)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request m, d;
    fixture_request(VX_MSG_POINTS_UPSERT, true, &a, &m);
    ASSERT_EQ_INT(enc_req(&m, &b), VX_OK);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_OK);
    ASSERT_STR_EQ(d.body.upsert.collection, "docs");
    ASSERT_EQ_INT(d.body.upsert.n_points, 2);
    ASSERT(d.body.upsert.create_if_missing);
    ASSERT_STR_EQ(d.body.upsert.points[0].id, "p1");
    ASSERT_EQ_INT(d.body.upsert.points[0].dim, 4);
    ASSERT_EQ_INT(((uintptr_t)d.body.upsert.points[0].vector) % 16, 0);
    ASSERT(memcmp(d.body.upsert.points[0].vector, vec4, sizeof vec4) == 0);
    ASSERT(vx_value_equal(d.body.upsert.points[0].metadata, m.body.upsert.points[0].metadata));
    ASSERT_EQ_INT(vx_value_get(d.body.upsert.points[0].metadata, "x")->type, VX_VAL_DOUBLE);
    ASSERT(d.body.upsert.points[1].metadata == NULL);
    ASSERT_EQ_INT(d.body.upsert.points[1].dim, 2);

    fixture_request(VX_MSG_SEARCH, true, &a, &m);
    ASSERT_EQ_INT(enc_req(&m, &b), VX_OK);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_OK);
    ASSERT_EQ_INT(d.body.search.k, 7);
    ASSERT_EQ_INT(d.body.search.ef, 128);
    ASSERT(d.body.search.exact && d.body.search.with_vector && !d.body.search.with_metadata);
    ASSERT(vx_value_equal(d.body.search.filter, m.body.search.filter));

    fixture_request(VX_MSG_COLL_CREATE, true, &a, &m);
    ASSERT_EQ_INT(enc_req(&m, &b), VX_OK);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_OK);
    ASSERT_STR_EQ(d.body.coll_create.name, "docs_v-1");
    ASSERT_EQ_INT(d.body.coll_create.metric, VX_METRIC_L2);
    ASSERT_EQ_INT(d.body.coll_create.index.type, VX_INDEX_HNSW);
    ASSERT_EQ_INT(d.body.coll_create.index.m, 32);
    ASSERT_EQ_INT(d.body.coll_create.index.ef_construction, 400);
    ASSERT_STR_EQ(d.body.coll_create.model, "use-lite");

    fixture_request(VX_MSG_POINTS_DELETE, false, &a, &m);
    ASSERT_EQ_INT(enc_req(&m, &b), VX_OK);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_OK);
    ASSERT(d.body.del.ids == NULL && d.body.del.filter != NULL);
    fixture_request(VX_MSG_POINTS_DELETE, true, &a, &m);
    ASSERT_EQ_INT(enc_req(&m, &b), VX_OK);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_OK);
    ASSERT_EQ_INT(d.body.del.n_ids, 3);
    ASSERT_STR_EQ(d.body.del.ids[2], "ü-3");

    fixture_request(VX_MSG_EMBED, false, &a, &m);
    ASSERT_EQ_INT(enc_req(&m, &b), VX_OK);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_OK);
    ASSERT(d.body.embed.model == NULL);
    ASSERT_STR_EQ(d.body.embed.texts[1], "");
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(reply_round_trip_every_type)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b1 = VX_BUF_INIT, b2 = VX_BUF_INIT;
    char err[256];
    for (int full = 0; full < 2; full++)
        for (size_t i = 0; i < N_TYPES; i++) {
            vx_reply m, d;
            fixture_reply(all_types[i], full, &a, &m);
            vx_buf_reset(&b1);
            ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b1), VX_OK);
            int rc = vx_proto_decode_reply(b1.data, b1.len, &a, &d, err, sizeof err);
            ASSERT_MSG(rc == VX_OK, "%s: %d %s", vx_msg_name(all_types[i]), rc, err);
            ASSERT_EQ_INT(d.type, m.type);
            ASSERT_EQ_INT(d.status, VX_OK);
            ASSERT_EQ_INT(d.request_id, 77);
            vx_buf_reset(&b2);
            ASSERT_EQ_INT(vx_proto_encode_reply(&d, &b2), VX_OK);
            ASSERT_MSG(same_bytes(&b1, &b2), "%s reply re-encodes differently",
                       vx_msg_name(m.type));
        }
    vx_buf_free(&b1);
    vx_buf_free(&b2);
    vx_arena_fini(&a);
}

TEST(reply_fields_survive)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_reply m, d;
    fixture_reply(VX_MSG_SEARCH, true, &a, &m);
    ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b), VX_OK);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(d.body.search.n_hits, 2);
    ASSERT_NEAR(d.body.search.hits[0].score, 0.875, 0);
    ASSERT_NEAR(d.body.search.hits[1].score, -0.5, 0);
    ASSERT(d.body.search.hits[1].metadata == NULL && d.body.search.hits[1].vector == NULL);
    ASSERT(vx_value_equal(d.body.search.hits[0].metadata, m.body.search.hits[0].metadata));
    ASSERT_EQ_INT(d.body.search.took_us, 1234);
    ASSERT(d.body.search.used_index);

    vx_buf_reset(&b);
    fixture_reply(VX_MSG_EMBED, true, &a, &m);
    ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b), VX_OK);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(d.body.embed.n, 2);
    ASSERT_EQ_INT(d.body.embed.dim, 3);
    ASSERT(memcmp(d.body.embed.vectors, emb, sizeof emb) == 0);

    vx_buf_reset(&b);
    fixture_reply(VX_MSG_MODELS, true, &a, &m);
    ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b), VX_OK);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err), VX_OK);
    ASSERT_STR_EQ(d.body.models.default_model, "use-lite");
    ASSERT(d.body.models.models[1].is_remote && !d.body.models.models[1].available);
    ASSERT_STR_EQ(d.body.models.models[1].reason, "no API key");
    ASSERT(d.body.models.models[1].model_name == NULL);
    ASSERT_EQ_INT(d.body.models.models[0].dimensions, 512);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(models_bench_fields_survive)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request rq, dq;
    fixture_request(VX_MSG_MODELS_BENCH, true, &a, &rq);
    ASSERT_EQ_INT(enc_req(&rq, &b), VX_OK);
    ASSERT_MSG(dec_req_buf(&b, &a, &dq, err) == VX_OK, "%s", err);
    ASSERT_EQ_INT(dq.body.models_bench.n_models, 2);
    ASSERT_STR_EQ(dq.body.models_bench.models[1], "oai");
    ASSERT_EQ_INT(dq.body.models_bench.repeats, 2);
    /* an empty body: every model, default repeats */
    envelope(&b, 1, VX_MSG_MODELS_BENCH, 0);
    ASSERT_MSG(dec_req_buf(&b, &a, &dq, err) == VX_OK, "%s", err);
    ASSERT(dq.body.models_bench.models == NULL);
    ASSERT_EQ_INT(dq.body.models_bench.n_models, 0);
    ASSERT_EQ_INT(dq.body.models_bench.repeats, VX_DEFAULT_BENCH_REPEATS);

    vx_reply m, d;
    vx_buf_reset(&b);
    fixture_reply(VX_MSG_MODELS_BENCH, true, &a, &m);
    ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b), VX_OK);
    ASSERT_MSG(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err) == VX_OK, "%s", err);
    const vx_models_bench_rep *r = &d.body.models_bench;
    ASSERT_STR_EQ(r->default_model, "use-lite");
    ASSERT_EQ_INT(r->n_models, 3);
    ASSERT_STR_EQ(r->models[0].id, "use-lite");
    ASSERT_EQ_INT(r->models[0].dimensions, 512);
    ASSERT(r->models[0].available && r->models[0].reason == NULL);
    ASSERT_NEAR(r->models[0].single_ms, 1.5, 0);
    ASSERT_NEAR(r->models[0].batch_ms, 12.25, 0);
    ASSERT_NEAR(r->models[0].texts_per_s, 1306.125, 0);
    ASSERT_NEAR(r->models[0].contrast, 0.375, 0);
    ASSERT_NEAR(r->models[0].within, 0.5, 0);
    ASSERT_NEAR(r->models[0].cross, 0.125, 0);
    ASSERT(!r->models[1].available);
    ASSERT_STR_EQ(r->models[1].reason, "no API key");
    ASSERT_EQ_INT(r->models[1].dimensions, 1536);
    ASSERT(r->models[2].available);
    ASSERT_STR_EQ(r->models[2].reason, "benchmark failed: timeout");
    ASSERT_NEAR(r->models[2].contrast, 0, 0); /* not measured: not on the wire */
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(error_reply)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_reply d;
    vx_proto_encode_error(VX_MSG_SEARCH, 9, VX_ERR_NOT_FOUND, "collection docs not found", &b);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(d.type, VX_MSG_SEARCH);
    ASSERT_EQ_INT(d.request_id, 9);
    ASSERT_EQ_INT(d.status, VX_ERR_NOT_FOUND);
    ASSERT_STR_EQ(d.err_message, "collection docs not found");
    /* through encode_reply too, with the default message */
    vx_reply m = {.version = 1, .type = VX_MSG_EMBED, .request_id = 3, .status = VX_ERR_TIMEOUT};
    vx_buf_reset(&b);
    ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b), VX_OK);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(d.status, VX_ERR_TIMEOUT);
    ASSERT_STR_EQ(d.err_message, vx_strerror(VX_ERR_TIMEOUT));
    m.status = 5; /* not an error code */
    ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b), VX_ERR_INVALID);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* PROTOCOL.md §3: a request whose type cannot be read is answered with type
 * 0. A client must be able to read that error; a success with type 0 is
 * still malformed. (Found by fuzz_store_handle: an empty message.) */
TEST(error_reply_to_an_unreadable_request_has_type_0)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_reply d;
    vx_proto_encode_error(0, 0, VX_ERR_PROTO, "envelope: expected an array of 5 elements", &b);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(d.type, 0);
    ASSERT_EQ_INT(d.status, VX_ERR_PROTO);
    ASSERT_STR_EQ(d.err_message, "envelope: expected an array of 5 elements");
    vx_buf c = VX_BUF_INIT;
    ASSERT_EQ_INT(vx_proto_encode_reply(&d, &c), VX_OK);
    ASSERT(c.len == b.len && memcmp(c.data, b.data, b.len) == 0);
    vx_reply ok = {.version = 1, .type = 0, .request_id = 3, .status = VX_OK};
    ASSERT_EQ_INT(vx_proto_encode_reply(&ok, &c), VX_ERR_INVALID);
    /* the same bytes with status 0 are refused by the decoder */
    vx_buf_reset(&b);
    vx_mp_array(&b, 5);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, 0);
    vx_mp_uint(&b, 3);
    vx_mp_int(&b, 0);
    vx_mp_map(&b, 0);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err), VX_ERR_PROTO);
    ASSERT(strstr(err, "type"));
    vx_buf_free(&b);
    vx_buf_free(&c);
    vx_arena_fini(&a);
}

/* PROTOCOL.md §3: a malformed request's error reply echoes the type (when
 * known) and the request_id whenever the envelope's prefix could be read,
 * even if the rest is cut short or the type is unknown. */
TEST(malformed_requests_keep_their_readable_type_and_request_id)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    char err[256];
    vx_request m;
    /* search (30), request_id 0x1234 (uint16), then cut off */
    static const unsigned char cut[] = {0x95, 0x01, 0x1e, 0xcd, 0x12, 0x34, 0x00};
    ASSERT(vx_proto_decode_request(cut, sizeof cut, &a, &m, err, sizeof err) != VX_OK);
    ASSERT_EQ_INT(m.type, VX_MSG_SEARCH);
    ASSERT(m.request_id == 0x1234);
    /* unknown type 99, request_id 7, well-formed otherwise */
    static const unsigned char unknown[] = {0x95, 0x01, 0x63, 0x07, 0x00, 0x80};
    int rc = vx_proto_decode_request(unknown, sizeof unknown, &a, &m, err, sizeof err);
    ASSERT_EQ_INT(rc, VX_ERR_PROTO);
    ASSERT(strstr(err, "unknown message type 99"));
    ASSERT_EQ_INT(m.type, 0);
    ASSERT(m.request_id == 7);
    /* uint64 request_id with trailing bytes after the envelope */
    static const unsigned char trailing[] = {0x95, 0x01, 0x01, 0xcf, 1, 2, 3, 4,
                                             5,    6,    7,    8,    0, 0x80, 0xc0};
    rc = vx_proto_decode_request(trailing, sizeof trailing, &a, &m, err, sizeof err);
    ASSERT_EQ_INT(rc, VX_ERR_PROTO);
    ASSERT_EQ_INT(m.type, VX_MSG_HEALTH);
    ASSERT(m.request_id == 0x0102030405060708ull);
    /* request_id itself cut short: nothing is guessed */
    static const unsigned char short_id[] = {0x95, 0x01, 0x01, 0xce, 0x00, 0x01};
    ASSERT(vx_proto_decode_request(short_id, sizeof short_id, &a, &m, err, sizeof err) != VX_OK);
    ASSERT_EQ_INT(m.type, VX_MSG_HEALTH);
    ASSERT(m.request_id == 0);
    vx_arena_fini(&a);
}

/* decode defaults when optional keys are absent */
TEST(defaults)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request d;
    float v[2] = {1, 2};
    /* search with only collection + vector */
    vx_mp_array(&b, 5);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, VX_MSG_SEARCH);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, 0);
    vx_mp_map(&b, 3);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "vector");
    vx_mp_bin(&b, v, sizeof v);
    vx_mp_cstr(&b, "some_future_key"); /* ignored */
    vx_mp_array(&b, 0);
    ASSERT_MSG(dec_req_buf(&b, &a, &d, err) == VX_OK, "%s", err);
    ASSERT_EQ_INT(d.body.search.k, 10);
    ASSERT_EQ_INT(d.body.search.ef, 0);
    ASSERT(d.body.search.with_metadata && !d.body.search.with_vector && !d.body.search.exact);
    ASSERT(d.body.search.filter == NULL);
    /* coll_create with name + dimension only */
    vx_buf_reset(&b);
    vx_mp_array(&b, 5);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, VX_MSG_COLL_CREATE);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, 0);
    vx_mp_map(&b, 2);
    vx_mp_cstr(&b, "name");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "dimension");
    vx_mp_uint(&b, 3);
    ASSERT_MSG(dec_req_buf(&b, &a, &d, err) == VX_OK, "%s", err);
    ASSERT_EQ_INT(d.body.coll_create.metric, VX_METRIC_COSINE);
    ASSERT_EQ_INT(d.body.coll_create.index.type, VX_INDEX_FLAT);
    ASSERT_EQ_INT(d.body.coll_create.index.m, VX_HNSW_M_DEFAULT);
    ASSERT_EQ_INT(d.body.coll_create.index.ef_construction, VX_HNSW_EFC_DEFAULT);
    ASSERT(d.body.coll_create.model == NULL);
    /* points_list with collection only; get defaults with_vector to true */
    vx_buf_reset(&b);
    vx_mp_array(&b, 5);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, VX_MSG_POINTS_LIST);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, 0);
    vx_mp_map(&b, 1);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    ASSERT_MSG(dec_req_buf(&b, &a, &d, err) == VX_OK, "%s", err);
    ASSERT_EQ_INT(d.body.list.limit, VX_DEFAULT_LIST_LIMIT);
    ASSERT(d.body.list.cursor == NULL && !d.body.list.with_vector);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}


/* ---- golden encodings: the bytes of these messages must never change ---- */

typedef struct golden {
    const char *file;
    bool is_req;
    vx_msg_type type;
    bool full;
} golden;

/* every request and reply type, fully populated, plus a few variants */
static const golden goldens[] = {
    {"req_health.bin", true, VX_MSG_HEALTH, true},
    {"req_coll_create.bin", true, VX_MSG_COLL_CREATE, true},
    {"req_coll_list.bin", true, VX_MSG_COLL_LIST, true},
    {"req_coll_info.bin", true, VX_MSG_COLL_INFO, true},
    {"req_coll_delete.bin", true, VX_MSG_COLL_DELETE, true},
    {"req_points_upsert.bin", true, VX_MSG_POINTS_UPSERT, true},
    {"req_points_get.bin", true, VX_MSG_POINTS_GET, true},
    {"req_points_delete.bin", true, VX_MSG_POINTS_DELETE, true},
    {"req_points_list.bin", true, VX_MSG_POINTS_LIST, true},
    {"req_search.bin", true, VX_MSG_SEARCH, true},
    {"req_events_since.bin", true, VX_MSG_EVENTS_SINCE, true},
    {"req_embed.bin", true, VX_MSG_EMBED, true},
    {"req_models.bin", true, VX_MSG_MODELS, true},
    {"req_models_bench.bin", true, VX_MSG_MODELS_BENCH, true},
    {"req_points_delete_filter.bin", true, VX_MSG_POINTS_DELETE, false},
    {"rep_health.bin", false, VX_MSG_HEALTH, true},
    {"rep_coll_create.bin", false, VX_MSG_COLL_CREATE, true},
    {"rep_coll_list.bin", false, VX_MSG_COLL_LIST, true},
    {"rep_coll_info.bin", false, VX_MSG_COLL_INFO, true},
    {"rep_coll_delete.bin", false, VX_MSG_COLL_DELETE, true},
    {"rep_points_upsert.bin", false, VX_MSG_POINTS_UPSERT, true},
    {"rep_points_get.bin", false, VX_MSG_POINTS_GET, true},
    {"rep_points_delete.bin", false, VX_MSG_POINTS_DELETE, true},
    {"rep_points_list.bin", false, VX_MSG_POINTS_LIST, true},
    {"rep_search.bin", false, VX_MSG_SEARCH, true},
    {"rep_events_since.bin", false, VX_MSG_EVENTS_SINCE, true},
    {"rep_embed.bin", false, VX_MSG_EMBED, true},
    {"rep_models.bin", false, VX_MSG_MODELS, true},
    {"rep_models_bench.bin", false, VX_MSG_MODELS_BENCH, true},
    {"rep_error.bin", false, 0, false},
};

static void golden_encode(const golden *g, vx_arena *a, vx_buf *b)
{
    vx_buf_reset(b);
    if (!g->type) {
        vx_proto_encode_error(VX_MSG_SEARCH, 9, VX_ERR_NOT_FOUND, "collection docs not found", b);
    } else if (g->is_req) {
        vx_request m;
        fixture_request(g->type, g->full, a, &m);
        vx_proto_encode_request(&m, b);
    } else {
        vx_reply m;
        fixture_reply(g->type, g->full, a, &m);
        vx_proto_encode_reply(&m, b);
    }
}

static const char *golden_dir(void)
{
    const char *d = getenv("VX_PROTO_TESTDATA");
    return d ? d : "proto/testdata/v1";
}

static bool read_file(const char *path, vx_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char tmp[4096];
    size_t n;
    vx_buf_reset(out);
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        vx_buf_append(out, tmp, n);
    fclose(f);
    return true;
}

TEST(golden_encodings_are_stable)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf want = VX_BUF_INIT, got = VX_BUF_INIT, again = VX_BUF_INIT;
    char path[512], err[256];
    const char *regen = getenv("VX_REGEN_GOLDEN");
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
        const golden *g = &goldens[i];
        snprintf(path, sizeof path, "%s/%s", golden_dir(), g->file);
        golden_encode(g, &a, &want);
        ASSERT(want.len > 0);
        if (regen && strcmp(regen, "1") == 0) {
            FILE *f = fopen(path, "wb");
            ASSERT_MSG(f, "cannot write %s", path);
            fwrite(want.data, 1, want.len, f);
            fclose(f);
        }
        ASSERT_MSG(read_file(path, &got), "missing %s (run from the repository root)", path);
        /* encoding gives identical bytes */
        ASSERT_MSG(same_bytes(&want, &got), "%s: encoding changed (%zu vs %zu bytes)", g->file,
                   want.len, got.len);
        /* decoding gives the expected message: it re-encodes to the same bytes */
        vx_buf_reset(&again);
        if (g->is_req) {
            vx_request d;
            ASSERT_MSG(vx_proto_decode_request(got.data, got.len, &a, &d, err, sizeof err) == VX_OK,
                       "%s: %s", g->file, err);
            ASSERT_EQ_INT(d.type, g->type);
            ASSERT_EQ_INT(d.request_id, 0x1122334455ULL);
            ASSERT_EQ_INT(vx_proto_encode_request(&d, &again), VX_OK);
        } else {
            vx_reply d;
            ASSERT_MSG(vx_proto_decode_reply(got.data, got.len, &a, &d, err, sizeof err) == VX_OK,
                       "%s: %s", g->file, err);
            ASSERT_EQ_INT(d.type, g->type ? g->type : VX_MSG_SEARCH);
            if (!g->type) {
                ASSERT_EQ_INT(d.status, VX_ERR_NOT_FOUND);
                ASSERT_STR_EQ(d.err_message, "collection docs not found");
            }
            ASSERT_EQ_INT(vx_proto_encode_reply(&d, &again), VX_OK);
        }
        ASSERT_MSG(same_bytes(&again, &got), "%s: decode+encode differs", g->file);
    }
    /* one golden file, decoded field by field (wire layout documented in PROTOCOL.md) */
    snprintf(path, sizeof path, "%s/req_search.bin", golden_dir());
    ASSERT(read_file(path, &got));
    vx_request d;
    ASSERT_EQ_INT(vx_proto_decode_request(got.data, got.len, &a, &d, err, sizeof err), VX_OK);
    ASSERT_STR_EQ(d.body.search.collection, "docs");
    ASSERT_EQ_INT(d.body.search.dim, 4);
    ASSERT_NEAR(d.body.search.vector[1], -1.25, 0);
    ASSERT_EQ_INT(d.body.search.k, 7);
    ASSERT_EQ_INT(d.body.search.ef, 128);
    ASSERT_STR_EQ(vx_value_get(d.body.search.filter, "tag")->u.str.ptr, "a");
    vx_buf_free(&want);
    vx_buf_free(&got);
    vx_buf_free(&again);
    vx_arena_fini(&a);
}
