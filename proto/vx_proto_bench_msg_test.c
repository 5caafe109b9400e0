/*
 * vx_proto_bench_msg_test.c — the MODELS_BENCH message's limits, checked by
 * the encoder and the decoder alike (ids, repeats, the per-model reply
 * entries: reason rules, finite numbers, cosine and contrast ranges).
 * Round trips of every message, this one included, are in vx_proto_test.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_msgpack.h"
#include "vx_proto.h"
#include "vx_proto_fixtures.h"
#include "vx_test.h"

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* one MODELS_BENCH reply entry {id, dimensions, available[, reason][, numbers]} */
static void bench_entry_reply(vx_buf *b, bool available, const char *reason, int n_numbers, double contrast)
{
    static const char *keys[] = {"single_ms", "batch_ms", "texts_per_s", "contrast", "within", "cross"};
    vx_buf_reset(b);
    vx_mp_array(b, 5);
    vx_mp_uint(b, 1);
    vx_mp_uint(b, VX_MSG_MODELS_BENCH);
    vx_mp_uint(b, 1);
    vx_mp_int(b, 0);
    vx_mp_map(b, 1);
    vx_mp_cstr(b, "models");
    vx_mp_array(b, 1);
    vx_mp_map(b, 3 + (reason != NULL) + (uint32_t)n_numbers);
    vx_mp_cstr(b, "id");
    vx_mp_cstr(b, "m");
    vx_mp_cstr(b, "dimensions");
    vx_mp_uint(b, 8);
    vx_mp_cstr(b, "available");
    vx_mp_bool(b, available);
    if (reason) {
        vx_mp_cstr(b, "reason");
        vx_mp_cstr(b, reason);
    }
    for (int i = 0; i < n_numbers; i++) {
        vx_mp_cstr(b, keys[i]);
        vx_mp_double(b, i == 3 ? contrast : 0.25);
    }
}

TEST(models_bench_limits_both_ways)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request m, d;
    /* repeats: 1..VX_MAX_BENCH_REPEATS */
    uint32_t reps[] = {0, 1, VX_MAX_BENCH_REPEATS, VX_MAX_BENCH_REPEATS + 1};
    int want[] = {VX_ERR_INVALID, VX_OK, VX_OK, VX_ERR_LIMIT};
    fixture_request(VX_MSG_MODELS_BENCH, false, &a, &m);
    for (int i = 0; i < 4; i++) {
        envelope(&b, 1, VX_MSG_MODELS_BENCH, 1);
        vx_mp_cstr(&b, "repeats");
        vx_mp_uint(&b, reps[i]);
        ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), want[i]);
        if (want[i] != VX_OK)
            ASSERT(strstr(err, "repeats"));
        m.body.models_bench.repeats = reps[i];
        ASSERT_EQ_INT(enc_req(&m, &b), want[i] == VX_OK ? VX_OK : VX_ERR_INVALID);
    }
    m.body.models_bench.repeats = 1;
    /* models: 1..VX_MAX_LIST_LIMIT ids, each 1..VX_MAX_MODEL_LEN bytes */
    const char **ids = calloc(VX_MAX_LIST_LIMIT + 1, sizeof *ids);
    for (int i = 0; i <= VX_MAX_LIST_LIMIT; i++)
        ids[i] = "x";
    char *long_id = repeat('m', VX_MAX_MODEL_LEN + 1);
    m.body.models_bench.models = ids;
    m.body.models_bench.n_models = VX_MAX_LIST_LIMIT;
    int r1 = enc_req(&m, &b), r1d = dec_req_buf(&b, &a, &d, err);
    m.body.models_bench.n_models = VX_MAX_LIST_LIMIT + 1;
    int r2 = enc_req(&m, &b);
    m.body.models_bench.n_models = 0; /* a list, but empty */
    int r3 = enc_req(&m, &b);
    ids[0] = long_id + 1; /* exactly VX_MAX_MODEL_LEN */
    m.body.models_bench.n_models = 1;
    int r4 = enc_req(&m, &b), r4d = dec_req_buf(&b, &a, &d, err);
    ids[0] = long_id;
    int r5 = enc_req(&m, &b);
    envelope(&b, 1, VX_MSG_MODELS_BENCH, 1);
    vx_mp_cstr(&b, "models");
    vx_mp_array(&b, 1);
    vx_mp_cstr(&b, long_id);
    int r5d = dec_req_buf(&b, &a, &d, err);
    bool named = strstr(err, "models[0]") != NULL;
    envelope(&b, 1, VX_MSG_MODELS_BENCH, 1);
    vx_mp_cstr(&b, "models");
    vx_mp_array(&b, 0);
    int r3d = dec_req_buf(&b, &a, &d, err);
    envelope(&b, 1, VX_MSG_MODELS_BENCH, 1);
    vx_mp_cstr(&b, "models");
    vx_mp_array(&b, VX_MAX_LIST_LIMIT + 1);
    for (int i = 0; i <= VX_MAX_LIST_LIMIT; i++)
        vx_mp_cstr(&b, "x");
    int r2d = dec_req_buf(&b, &a, &d, err);
    free(long_id);
    free(ids);
    ASSERT_EQ_INT(r1, VX_OK);
    ASSERT_EQ_INT(r1d, VX_OK);
    ASSERT_EQ_INT(r2, VX_ERR_INVALID);
    ASSERT_EQ_INT(r2d, VX_ERR_LIMIT);
    ASSERT_EQ_INT(r3, VX_ERR_INVALID);
    ASSERT_EQ_INT(r3d, VX_ERR_INVALID);
    ASSERT_EQ_INT(r4, VX_OK);
    ASSERT_EQ_INT(r4d, VX_OK);
    ASSERT_EQ_INT(r5, VX_ERR_INVALID);
    ASSERT_EQ_INT(r5d, VX_ERR_LIMIT);
    ASSERT(named);

    /* reply entries */
    vx_reply dr;
    bench_entry_reply(&b, true, NULL, 6, 0.25);
    ASSERT_MSG(vx_proto_decode_reply(b.data, b.len, &a, &dr, err, sizeof err) == VX_OK, "%s", err);
    bench_entry_reply(&b, true, NULL, 5, 0.25); /* measured but "cross" missing */
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &dr, err, sizeof err), VX_ERR_PROTO);
    ASSERT_STR_EQ(err, "models[0].cross: required");
    bench_entry_reply(&b, false, NULL, 0, 0); /* unavailable without a reason */
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &dr, err, sizeof err), VX_ERR_INVALID);
    ASSERT(strstr(err, "models[0].reason"));
    bench_entry_reply(&b, false, "no key", 0, 0);
    ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &dr, err, sizeof err), VX_OK);
    double bad[] = {NAN, INFINITY, 2.5, -2.5};
    for (int i = 0; i < 4; i++) {
        bench_entry_reply(&b, true, NULL, 6, bad[i]);
        ASSERT_EQ_INT(vx_proto_decode_reply(b.data, b.len, &a, &dr, err, sizeof err), VX_ERR_INVALID);
        ASSERT(strstr(err, "models[0].contrast"));
    }
    /* the encoder refuses what the decoder refuses */
    vx_model_bench mb = {"m", 8, true, NULL, 1, 1, 1, NAN, 0.5, 0.5};
    vx_reply rm = {.version = 1, .type = VX_MSG_MODELS_BENCH};
    rm.body.models_bench = (vx_models_bench_rep){NULL, &mb, 1};
    ASSERT_EQ_INT(vx_proto_encode_reply(&rm, &b), VX_ERR_INVALID);
    mb.contrast = 0;
    mb.single_ms = -1;
    ASSERT_EQ_INT(vx_proto_encode_reply(&rm, &b), VX_ERR_INVALID);
    mb.single_ms = 1;
    mb.available = false;
    ASSERT_EQ_INT(vx_proto_encode_reply(&rm, &b), VX_ERR_INVALID); /* no reason */
    mb.reason = "no key";
    vx_buf_reset(&b);
    ASSERT_EQ_INT(vx_proto_encode_reply(&rm, &b), VX_OK);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

