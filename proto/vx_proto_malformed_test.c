/*
 * vx_proto_malformed_test.c — what the decoder must refuse, and the limits
 * both sides enforce: truncation at every byte offset, trailing bytes,
 * versions and types, wrong field types, every limit at its boundary ±1,
 * NUL bytes, nesting depth, hostile container counts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_msgpack.h"
#include "vx_proto.h"
#include "vx_proto_fixtures.h"
#include "vx_test.h"

/* ---- malformed input ---- */

static void each_full_message(void (*fn)(const vx_buf *b, bool is_req, const char *what))
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    for (size_t i = 0; i < N_TYPES; i++) {
        vx_request rq;
        vx_reply rp;
        fixture_request(all_types[i], true, &a, &rq);
        vx_buf_reset(&b);
        if (vx_proto_encode_request(&rq, &b) == VX_OK)
            fn(&b, true, vx_msg_name(all_types[i]));
        fixture_reply(all_types[i], true, &a, &rp);
        vx_buf_reset(&b);
        if (vx_proto_encode_reply(&rp, &b) == VX_OK)
            fn(&b, false, vx_msg_name(all_types[i]));
    }
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

static int n_bad;
static int decode_any(const void *p, size_t n, bool is_req, char *err)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_request rq;
    vx_reply rp;
    int rc = is_req ? vx_proto_decode_request(p, n, &a, &rq, err, 256)
                    : vx_proto_decode_reply(p, n, &a, &rp, err, 256);
    vx_arena_fini(&a);
    return rc;
}

static void truncate_everywhere(const vx_buf *b, bool is_req, const char *what)
{
    char err[256];
    for (size_t n = 0; n < b->len; n++) {
        /* a private copy so ASan catches any read past n */
        unsigned char *p = malloc(n ? n : 1);
        memcpy(p, b->data, n);
        int rc = decode_any(p, n, is_req, err);
        free(p);
        if (rc != VX_ERR_PROTO) {
            fprintf(stderr, "%s %s truncated to %zu of %zu: rc %d\n", what,
                    is_req ? "request" : "reply", n, b->len, rc);
            n_bad++;
        }
    }
    if (decode_any(b->data, b->len, is_req, err) != VX_OK)
        n_bad++;
}

TEST(truncation_at_every_offset_is_an_error)
{
    n_bad = 0;
    each_full_message(truncate_everywhere);
    ASSERT_EQ_INT(n_bad, 0);
}

static void trailing(const vx_buf *b, bool is_req, const char *what)
{
    char err[256];
    vx_buf c = VX_BUF_INIT;
    vx_buf_append(&c, b->data, b->len);
    vx_buf_putc(&c, 0xc0);
    if (decode_any(c.data, c.len, is_req, err) != VX_ERR_PROTO || !strstr(err, "trailing")) {
        fprintf(stderr, "%s: trailing byte accepted (%s)\n", what, err);
        n_bad++;
    }
    vx_buf_free(&c);
}

TEST(trailing_bytes_are_an_error)
{
    n_bad = 0;
    each_full_message(trailing);
    ASSERT_EQ_INT(n_bad, 0);
}

TEST(version_and_type_are_checked)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request d;
    envelope(&b, 2, VX_MSG_HEALTH, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    ASSERT(strstr(err, "version"));
    envelope(&b, 0, VX_MSG_HEALTH, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    envelope(&b, 1, 99, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    ASSERT(strstr(err, "type"));
    envelope(&b, 1, VX_MSG_HEALTH, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_OK);
    ASSERT_EQ_INT(d.type, VX_MSG_HEALTH);
    /* type is known even when the body is bad */
    envelope(&b, 1, VX_MSG_SEARCH, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    ASSERT_EQ_INT(d.type, VX_MSG_SEARCH);
    ASSERT_STR_EQ(err, "collection: required");
    /* envelope shape */
    vx_buf_reset(&b);
    vx_mp_array(&b, 4);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, 1);
    vx_mp_uint(&b, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    vx_buf_reset(&b);
    vx_mp_map(&b, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    ASSERT_EQ_INT(vx_proto_decode_request(NULL, 0, &a, &d, err, sizeof err), VX_ERR_PROTO);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* search body with field `bad` replaced by a value of the wrong type */
static void search_with_wrong(vx_buf *b, const char *bad)
{
    static const char *keys[] = {"collection", "vector", "k", "filter", "ef",
                                 "exact", "with_vector", "with_metadata"};
    float v[2] = {1, 2};
    envelope(b, 1, VX_MSG_SEARCH, 8);
    for (int i = 0; i < 8; i++) {
        vx_mp_cstr(b, keys[i]);
        bool w = strcmp(keys[i], bad) == 0;
        switch (i) {
        case 0: w ? vx_mp_uint(b, 5) : vx_mp_cstr(b, "c"); break;
        case 1: w ? vx_mp_cstr(b, "xxxxxxxx") : vx_mp_bin(b, v, sizeof v); break;
        case 2: w ? vx_mp_int(b, -1) : vx_mp_uint(b, 3); break;
        case 3: w ? vx_mp_array(b, 0) : vx_mp_map(b, 0); break;
        case 4: w ? vx_mp_double(b, 1.5) : vx_mp_uint(b, 0); break;
        default: w ? vx_mp_uint(b, 1) : vx_mp_bool(b, true); break;
        }
    }
}

TEST(wrong_types_name_the_field)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request d;
    const char *fields[] = {"collection", "vector", "k", "filter", "ef",
                            "exact", "with_vector", "with_metadata"};
    search_with_wrong(&b, "");
    ASSERT_MSG(dec_req_buf(&b, &a, &d, err) == VX_OK, "%s", err);
    for (int i = 0; i < 8; i++) {
        search_with_wrong(&b, fields[i]);
        ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
        ASSERT_MSG(strncmp(err, fields[i], strlen(fields[i])) == 0, "%s: %s", fields[i], err);
    }
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* ---- limits ---- */

static int search_k_dim(uint32_t k, uint32_t dim, uint32_t ef, float poison, char *err)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    vx_request d;
    float *v = calloc(dim ? dim : 1, sizeof(float));
    if (dim)
        v[dim - 1] = poison;
    envelope(&b, 1, VX_MSG_SEARCH, 4);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "vector");
    vx_mp_bin(&b, v, dim * sizeof(float));
    vx_mp_cstr(&b, "k");
    vx_mp_uint(&b, k);
    vx_mp_cstr(&b, "ef");
    vx_mp_uint(&b, ef);
    int rc = dec_req_buf(&b, &a, &d, err);
    /* the encoder agrees with the decoder */
    vx_request m = {.version = 1, .type = VX_MSG_SEARCH};
    m.body.search = (vx_search_req){"c", v, dim, k, NULL, ef, false, false, true};
    vx_buf_reset(&b);
    int erc = vx_proto_encode_request(&m, &b);
    if ((rc == VX_OK) != (erc == VX_OK))
        rc = 12345;
    free(v);
    vx_buf_free(&b);
    vx_arena_fini(&a);
    return rc;
}

TEST(search_limits_at_the_boundary)
{
    char err[256];
    ASSERT_EQ_INT(search_k_dim(1, 4, 0, 0, err), VX_OK);
    ASSERT_EQ_INT(search_k_dim(VX_MAX_K, 4, 0, 0, err), VX_OK);
    ASSERT_EQ_INT(search_k_dim(0, 4, 0, 0, err), VX_ERR_INVALID);
    ASSERT_STR_EQ(err, "k: 0 is below the minimum 1");
    ASSERT_EQ_INT(search_k_dim(VX_MAX_K + 1, 4, 0, 0, err), VX_ERR_LIMIT);
    ASSERT_EQ_INT(search_k_dim(5, VX_MAX_DIM, 0, 0, err), VX_OK);
    ASSERT_EQ_INT(search_k_dim(5, VX_MAX_DIM + 1, 0, 0, err), VX_ERR_LIMIT);
    ASSERT_EQ_INT(search_k_dim(5, 0, 0, 0, err), VX_ERR_INVALID);
    ASSERT_EQ_INT(search_k_dim(5, 1, 0, 0, err), VX_OK);
    ASSERT_EQ_INT(search_k_dim(5, 4, VX_HNSW_EF_MAX, 0, err), VX_OK);
    ASSERT_EQ_INT(search_k_dim(5, 4, VX_HNSW_EF_MAX + 1, 0, err), VX_ERR_LIMIT);
    ASSERT_EQ_INT(search_k_dim(5, 18, 0, NAN, err), VX_ERR_INVALID);
    ASSERT_STR_EQ(err, "vector[17] is not finite");
    ASSERT_EQ_INT(search_k_dim(5, 4, 0, INFINITY, err), VX_ERR_INVALID);
}

TEST(vector_bin_length_must_be_whole_floats)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request d;
    envelope(&b, 1, VX_MSG_SEARCH, 2);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "vector");
    vx_mp_bin(&b, "abcdefg", 7);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    ASSERT(strstr(err, "vector: 7 bytes"));
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

static int upsert_one(const char *coll, const char *id, uint32_t n_points, const vx_value *meta,
                      float poison_at_17, char *err)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    vx_request d;
    float v[20] = {0};
    if (poison_at_17 != 0)
        v[17] = poison_at_17;
    vx_point *p = calloc(n_points, sizeof *p);
    for (uint32_t i = 0; i < n_points; i++)
        p[i] = (vx_point){i == n_points - 1 ? id : "ok", v, 20, meta};
    vx_request m = {.version = 1, .type = VX_MSG_POINTS_UPSERT};
    m.body.upsert = (vx_upsert_req){coll, p, n_points, false};
    int erc = vx_proto_encode_request(&m, &b);
    /* bypass the encoder's checks: write the same message by hand */
    envelope(&b, 1, VX_MSG_POINTS_UPSERT, 2);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, coll);
    vx_mp_cstr(&b, "points");
    vx_mp_array(&b, n_points);
    for (uint32_t i = 0; i < n_points; i++) {
        vx_mp_map(&b, meta ? 3 : 2);
        vx_mp_cstr(&b, "id");
        vx_mp_cstr(&b, p[i].id);
        vx_mp_cstr(&b, "vector");
        vx_mp_bin(&b, v, sizeof v);
        if (meta) {
            vx_mp_cstr(&b, "metadata");
            vx_mp_value(&b, meta);
        }
    }
    int rc = dec_req_buf(&b, &a, &d, err);
    if ((rc == VX_OK) != (erc == VX_OK))
        rc = 12345;
    free(p);
    vx_buf_free(&b);
    vx_arena_fini(&a);
    return rc;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

TEST(upsert_limits_at_the_boundary)
{
    char err[256];
    char *name64 = repeat('n', VX_MAX_NAME_LEN), *name65 = repeat('n', VX_MAX_NAME_LEN + 1);
    char *id256 = repeat('i', VX_MAX_ID_LEN), *id257 = repeat('i', VX_MAX_ID_LEN + 1);
    int r[12];
    r[0] = upsert_one(name64, "x", 1, NULL, 0, err);
    r[1] = upsert_one(name65, "x", 1, NULL, 0, err);
    r[2] = upsert_one("bad name", "x", 1, NULL, 0, err);
    r[3] = upsert_one("", "x", 1, NULL, 0, err);
    r[4] = upsert_one("c", id256, 1, NULL, 0, err);
    r[5] = upsert_one("c", id257, 1, NULL, 0, err);
    r[6] = upsert_one("c", "", 1, NULL, 0, err);
    r[7] = upsert_one("c", "x", VX_MAX_BATCH, NULL, 0, err);
    r[8] = upsert_one("c", "x", VX_MAX_BATCH + 1, NULL, 0, err);
    r[9] = upsert_one("c", "x", 0, NULL, 0, err);
    r[10] = upsert_one("c", "x", 4, NULL, INFINITY, err);
    free(name64);
    free(name65);
    free(id256);
    free(id257);
    ASSERT_EQ_INT(r[0], VX_OK);
    ASSERT_EQ_INT(r[1], VX_ERR_LIMIT);
    ASSERT_EQ_INT(r[2], VX_ERR_INVALID);
    ASSERT_EQ_INT(r[3], VX_ERR_INVALID);
    ASSERT_EQ_INT(r[4], VX_OK);
    ASSERT_EQ_INT(r[5], VX_ERR_LIMIT);
    ASSERT_EQ_INT(r[6], VX_ERR_INVALID);
    ASSERT_EQ_INT(r[7], VX_OK);
    ASSERT_EQ_INT(r[8], VX_ERR_LIMIT);
    ASSERT_EQ_INT(r[9], VX_ERR_INVALID);
    ASSERT_EQ_INT(r[10], VX_ERR_INVALID);
    ASSERT_STR_EQ(err, "points[0].vector[17] is not finite");
}

/* {"s": "<len bytes>"}: packed size is 15 + len (vx_value.h format) */
static vx_value *meta_of_packed_size(vx_arena *a, size_t packed)
{
    size_t len = packed - 15;
    char *s = vx_arena_alloc(a, len + 1);
    memset(s, 's', len);
    vx_member *m = vx_arena_alloc(a, sizeof *m);
    m->key = "s";
    m->key_len = 1;
    m->value.type = VX_VAL_STRING;
    m->value.u.str.ptr = s;
    m->value.u.str.len = (uint32_t)len;
    vx_value *v = vx_arena_alloc(a, sizeof *v);
    v->type = VX_VAL_OBJECT;
    v->u.obj.n = 1;
    v->u.obj.items = m;
    return v;
}

TEST(metadata_size_limit)
{
    vx_arena a;
    vx_arena_init(&a, 1 << 17);
    char err[256];
    vx_value *ok = meta_of_packed_size(&a, VX_MAX_METADATA_BYTES);
    vx_buf b = VX_BUF_INIT;
    vx_value_pack(ok, &b);
    ASSERT_EQ_INT(b.len, VX_MAX_METADATA_BYTES);
    vx_buf_free(&b);
    ASSERT_EQ_INT(upsert_one("c", "x", 1, ok, 0, err), VX_OK);
    vx_value *big = meta_of_packed_size(&a, VX_MAX_METADATA_BYTES + 1);
    ASSERT_EQ_INT(upsert_one("c", "x", 1, big, 0, err), VX_ERR_LIMIT);
    ASSERT(strstr(err, "points[0].metadata"));
    /* metadata must be an object */
    vx_value scalar = {.type = VX_VAL_INT};
    ASSERT_EQ_INT(upsert_one("c", "x", 1, &scalar, 0, err), VX_ERR_PROTO);
    vx_arena_fini(&a);
}

/* nested arrays: depth containers, innermost empty */
static vx_value *nested(vx_arena *a, int depth)
{
    vx_value *v = vx_arena_alloc(a, sizeof *v);
    v->type = VX_VAL_ARRAY;
    if (depth > 1) {
        v->u.arr.n = 1;
        v->u.arr.items = nested(a, depth - 1);
    }
    return v;
}

static vx_value *in_object(vx_arena *a, vx_value *inner)
{
    vx_value *v = vx_arena_alloc(a, sizeof *v);
    vx_member *m = vx_arena_alloc(a, sizeof *m);
    m->key = "k";
    m->key_len = 1;
    m->value = *inner;
    v->type = VX_VAL_OBJECT;
    v->u.obj.n = 1;
    v->u.obj.items = m;
    return v;
}

TEST(filter_depth_limit)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    char err[256];
    vx_buf b = VX_BUF_INIT;
    vx_request d;
    float v[1] = {1};
    int max_ok = 0;
    for (int depth = 1; depth <= VX_VALUE_MAX_DEPTH + 2; depth++) {
        vx_value *f = in_object(&a, nested(&a, depth - 1 > 0 ? depth - 1 : 1));
        if (depth == 1)
            f->u.obj.n = 0;
        vx_request m = {.version = 1, .type = VX_MSG_SEARCH};
        m.body.search = (vx_search_req){"c", v, 1, 1, f, 0, false, false, true};
        vx_buf_reset(&b);
        int erc = vx_proto_encode_request(&m, &b);
        if (erc != VX_OK)
            break;
        ASSERT_MSG(dec_req_buf(&b, &a, &d, err) == VX_OK, "depth %d: %s", depth, err);
        ASSERT(vx_value_equal(d.body.search.filter, f));
        max_ok = depth;
    }
    /* the tighter of the value limit and msgpack-c's whole-message limit */
    int expect = VX_MP_MAX_NESTING - 2 /* envelope + body */;
    if (expect > VX_VALUE_MAX_DEPTH)
        expect = VX_VALUE_MAX_DEPTH;
    ASSERT_EQ_INT(max_ok, expect);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* Values hold only what JSON can carry back to a REST client: no bin/ext,
 * string keys without NUL, UTF-8 strings and keys, finite numbers, unique
 * keys (a bus client could otherwise store what the gateway cannot render). */
TEST(values_reject_bin_ext_and_non_string_keys)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request d;
    float v[1] = {1};
    for (int bad = 0; bad < 10; bad++) {
        envelope(&b, 1, VX_MSG_SEARCH, 3);
        vx_mp_cstr(&b, "collection");
        vx_mp_cstr(&b, "c");
        vx_mp_cstr(&b, "vector");
        vx_mp_bin(&b, v, sizeof v);
        vx_mp_cstr(&b, "filter");
        vx_mp_map(&b, bad == 9 ? 2 : 1);
        switch (bad) {
        case 0: vx_mp_cstr(&b, "k"); vx_mp_bin(&b, "x", 1); break;
        case 1: vx_mp_cstr(&b, "k"); vx_buf_append(&b, "\xd4\x01\x00", 3); break; /* fixext1 */
        case 2: vx_mp_uint(&b, 1); vx_mp_nil(&b); break;
        case 3: vx_mp_str(&b, "a\0b", 3); vx_mp_nil(&b); break;
        case 4: vx_mp_cstr(&b, "k"); vx_mp_uint(&b, UINT64_MAX); break;
        case 5: vx_mp_cstr(&b, "k"); vx_mp_str(&b, "\xc3\x28", 2); break; /* not UTF-8 */
        case 6: vx_mp_str(&b, "\xed\xa0\x80", 3); vx_mp_nil(&b); break;  /* surrogate key */
        case 7: vx_mp_cstr(&b, "k"); vx_mp_double(&b, NAN); break;
        case 8: vx_mp_cstr(&b, "k"); vx_mp_array(&b, 1); vx_mp_float(&b, INFINITY); break;
        case 9: vx_mp_cstr(&b, "k"); vx_mp_nil(&b); vx_mp_cstr(&b, "k"); vx_mp_uint(&b, 1); break;
        }
        ASSERT_MSG(dec_req_buf(&b, &a, &d, err) == VX_ERR_INVALID, "case %d", bad);
        ASSERT_MSG(strncmp(err, "filter", 6) == 0, "case %d: %s", bad, err);
    }
    /* but every JSON-like type is fine, negative ints and float32 included */
    envelope(&b, 1, VX_MSG_SEARCH, 3);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "vector");
    vx_mp_bin(&b, v, sizeof v);
    vx_mp_cstr(&b, "filter");
    vx_mp_map(&b, 4);
    vx_mp_cstr(&b, "neg");
    vx_mp_int(&b, INT64_MIN);
    vx_mp_cstr(&b, "f32");
    vx_mp_float(&b, 0.5f);
    vx_mp_cstr(&b, "s");
    vx_mp_str(&b, "x\0y", 3); /* string values may hold NUL */
    vx_mp_cstr(&b, "arr");
    vx_mp_array(&b, 2);
    vx_mp_bool(&b, false);
    vx_mp_nil(&b);
    ASSERT_MSG(dec_req_buf(&b, &a, &d, err) == VX_OK, "%s", err);
    const vx_value *f = d.body.search.filter;
    ASSERT_EQ_INT(vx_value_get(f, "neg")->u.i, INT64_MIN);
    ASSERT_NEAR(vx_value_get(f, "f32")->u.d, 0.5, 0);
    ASSERT_EQ_INT(vx_value_get(f, "s")->u.str.len, 3);
    ASSERT_EQ_INT(vx_value_get(f, "arr")->u.arr.items[1].type, VX_VAL_NULL);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(strings_reject_nul_and_delete_needs_ids_or_filter)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request d;
    envelope(&b, 1, VX_MSG_POINTS_GET, 2);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "id");
    vx_mp_str(&b, "a\0b", 3);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_INVALID);
    ASSERT_STR_EQ(err, "id: contains a NUL byte");
    /* neither ids nor filter */
    envelope(&b, 1, VX_MSG_POINTS_DELETE, 1);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_INVALID);
    /* both */
    envelope(&b, 1, VX_MSG_POINTS_DELETE, 3);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "ids");
    vx_mp_array(&b, 1);
    vx_mp_cstr(&b, "x");
    vx_mp_cstr(&b, "filter");
    vx_mp_map(&b, 0);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_INVALID);
    /* an id of the wrong type names its index */
    envelope(&b, 1, VX_MSG_POINTS_DELETE, 2);
    vx_mp_cstr(&b, "collection");
    vx_mp_cstr(&b, "c");
    vx_mp_cstr(&b, "ids");
    vx_mp_array(&b, 2);
    vx_mp_cstr(&b, "x");
    vx_mp_uint(&b, 7);
    ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), VX_ERR_PROTO);
    ASSERT_STR_EQ(err, "ids[1]: expected str, got uint");
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(list_events_embed_limits)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_buf b = VX_BUF_INIT;
    char err[256];
    vx_request m, d;
    fixture_request(VX_MSG_POINTS_LIST, true, &a, &m);
    uint32_t limits[] = {0, 1, VX_MAX_LIST_LIMIT, VX_MAX_LIST_LIMIT + 1};
    int want[] = {VX_ERR_INVALID, VX_OK, VX_OK, VX_ERR_LIMIT};
    for (int i = 0; i < 4; i++) {
        envelope(&b, 1, VX_MSG_POINTS_LIST, 2);
        vx_mp_cstr(&b, "collection");
        vx_mp_cstr(&b, "c");
        vx_mp_cstr(&b, "limit");
        vx_mp_uint(&b, limits[i]);
        ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), want[i]);
        m.body.list.limit = limits[i];
        ASSERT_EQ_INT(enc_req(&m, &b), want[i] == VX_OK ? VX_OK : VX_ERR_INVALID);
        envelope(&b, 1, VX_MSG_EVENTS_SINCE, 1);
        vx_mp_cstr(&b, "limit");
        vx_mp_uint(&b, limits[i]);
        ASSERT_EQ_INT(dec_req_buf(&b, &a, &d, err), want[i]);
    }
    /* texts: 1..VX_MAX_TEXTS, each ≤ VX_MAX_TEXT_LEN bytes */
    char *big = repeat('t', VX_MAX_TEXT_LEN + 1);
    const char **texts = calloc(VX_MAX_TEXTS + 1, sizeof *texts);
    for (int i = 0; i <= VX_MAX_TEXTS; i++)
        texts[i] = "x";
    m = (vx_request){.version = 1, .type = VX_MSG_EMBED};
    m.body.embed = (vx_embed_req){NULL, texts, VX_MAX_TEXTS};
    int r1 = enc_req(&m, &b), r1d = dec_req_buf(&b, &a, &d, err);
    m.body.embed.n_texts = VX_MAX_TEXTS + 1;
    int r2 = enc_req(&m, &b);
    texts[0] = big + 1; /* exactly VX_MAX_TEXT_LEN */
    m.body.embed.n_texts = 1;
    int r3 = enc_req(&m, &b), r3d = dec_req_buf(&b, &a, &d, err);
    texts[0] = big;
    int r4 = enc_req(&m, &b);
    envelope(&b, 1, VX_MSG_EMBED, 1);
    vx_mp_cstr(&b, "texts");
    vx_mp_array(&b, 1);
    vx_mp_cstr(&b, big);
    int r4d = dec_req_buf(&b, &a, &d, err);
    char r4err[256];
    snprintf(r4err, sizeof r4err, "%s", err);
    envelope(&b, 1, VX_MSG_EMBED, 1); /* a text that is not UTF-8 */
    vx_mp_cstr(&b, "texts");
    vx_mp_array(&b, 1);
    vx_mp_cstr(&b, "\xff\xfe\xfd");
    int r5d = dec_req_buf(&b, &a, &d, err);
    free(big);
    free(texts);
    ASSERT_EQ_INT(r1, VX_OK);
    ASSERT_EQ_INT(r1d, VX_OK);
    ASSERT_EQ_INT(r2, VX_ERR_INVALID);
    ASSERT_EQ_INT(r3, VX_OK);
    ASSERT_EQ_INT(r3d, VX_OK);
    ASSERT_EQ_INT(r4, VX_ERR_INVALID);
    ASSERT_EQ_INT(r4d, VX_ERR_LIMIT);
    ASSERT(strstr(r4err, "texts[0]"));
    ASSERT_EQ_INT(r5d, VX_ERR_INVALID);
    ASSERT(strstr(err, "texts[0]: not valid UTF-8"));
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

TEST(hostile_counts_do_not_allocate)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    char err[256];
    vx_request d;
    /* array32 of 2^32-1 elements in 6 bytes; map32 likewise; bin32 of 4 GB */
    const unsigned char arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0};
    const unsigned char map[] = {0x95, 0x01, 0x0a, 0x01, 0x00, 0xdf, 0xff, 0xff, 0xff, 0xff};
    const unsigned char bin[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
    ASSERT_EQ_INT(vx_proto_decode_request(arr, sizeof arr, &a, &d, err, sizeof err), VX_ERR_PROTO);
    ASSERT_EQ_INT(vx_proto_decode_request(map, sizeof map, &a, &d, err, sizeof err), VX_ERR_PROTO);
    ASSERT_EQ_INT(d.type, VX_MSG_COLL_CREATE);
    ASSERT_EQ_INT(vx_proto_decode_request(bin, sizeof bin, &a, &d, err, sizeof err), VX_ERR_PROTO);
    /* 0xc1 is never valid msgpack */
    const unsigned char c1[] = {0xc1};
    ASSERT_EQ_INT(vx_proto_decode_request(c1, 1, &a, &d, err, sizeof err), VX_ERR_PROTO);
    vx_arena_fini(&a);
}


TEST(search_hit_score_must_be_a_finite_float32)
{
    vx_arena a;
    vx_arena_init(&a, 1024);
    char err[256];
    vx_reply d;
    vx_buf b = VX_BUF_INIT;
    double scores[] = {1e300, -1e300, NAN, INFINITY, 0.25};
    for (int i = 0; i < 5; i++) {
        vx_buf_reset(&b);
        vx_mp_array(&b, 5);
        vx_mp_uint(&b, 1);
        vx_mp_uint(&b, VX_MSG_SEARCH);
        vx_mp_uint(&b, 1);
        vx_mp_int(&b, 0);
        vx_mp_map(&b, 1);
        vx_mp_cstr(&b, "hits");
        vx_mp_array(&b, 1);
        vx_mp_map(&b, 2);
        vx_mp_cstr(&b, "id");
        vx_mp_cstr(&b, "a");
        vx_mp_cstr(&b, "score");
        vx_mp_double(&b, scores[i]);
        int rc = vx_proto_decode_reply(b.data, b.len, &a, &d, err, sizeof err);
        ASSERT_EQ_INT(rc, i < 4 ? VX_ERR_INVALID : VX_OK);
    }
    ASSERT_NEAR(d.body.search.hits[0].score, 0.25, 0);
    vx_search_hit h = {"a", NAN, NULL, NULL, 0};
    vx_reply m = {.version = 1, .type = VX_MSG_SEARCH};
    m.body.search = (vx_search_rep){&h, 1, 0, false};
    ASSERT_EQ_INT(vx_proto_encode_reply(&m, &b), VX_ERR_INVALID);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}

/* ---- every field with the wrong type: a generic rewriter over the tree ---- */

typedef struct rewriter {
    int next;   /* index of the next replaceable node */
    int target; /* node to replace, -1 = none */
} rewriter;

static void wrong_value(vx_buf *out, vx_mp_kind k)
{
    if (k == VX_MP_STR)
        vx_mp_uint(out, 7);
    else if (k == VX_MP_MAP)
        vx_mp_array(out, 0);
    else
        vx_mp_cstr(out, "wrong");
}

/* Re-emits o; the target node (not the root, not inside free-form values
 * such as metadata/filter/stats, not map keys) is replaced by a value of
 * another type. */
static void rewrite(vx_buf *out, const vx_mp_obj *o, rewriter *rw, bool replaceable, bool in_value)
{
    vx_mp_kind k = vx_mp_kind_of(o);
    if (replaceable && !in_value && rw->next++ == rw->target) {
        wrong_value(out, k);
        return;
    }
    const char *s;
    const void *p;
    uint32_t n;
    uint64_t u;
    int64_t i;
    double d;
    bool b;
    switch (k) {
    case VX_MP_NIL: vx_mp_nil(out); break;
    case VX_MP_BOOL: vx_mp_get_bool(o, &b); vx_mp_bool(out, b); break;
    case VX_MP_UINT: vx_mp_get_u64(o, &u); vx_mp_uint(out, u); break;
    case VX_MP_INT: vx_mp_get_i64(o, &i); vx_mp_int(out, i); break;
    case VX_MP_FLOAT: vx_mp_get_number(o, &d); vx_mp_double(out, d); break;
    case VX_MP_STR: vx_mp_get_str(o, &s, &n); vx_mp_str(out, s, n); break;
    case VX_MP_BIN: vx_mp_get_bin(o, &p, &n); vx_mp_bin(out, p, n); break;
    case VX_MP_ARRAY:
        vx_mp_array(out, vx_mp_array_len(o));
        for (uint32_t j = 0; j < vx_mp_array_len(o); j++)
            rewrite(out, vx_mp_array_at(o, j), rw, true, in_value);
        break;
    case VX_MP_MAP:
        vx_mp_map(out, vx_mp_map_len(o));
        for (uint32_t j = 0; j < vx_mp_map_len(o); j++) {
            const vx_mp_obj *key = vx_mp_map_key(o, j);
            vx_mp_get_str(key, &s, &n);
            bool value_tree = n == 8 ? memcmp(s, "metadata", 8) == 0
                            : n == 6 ? memcmp(s, "filter", 6) == 0
                            : n == 5 && memcmp(s, "stats", 5) == 0;
            rewrite(out, key, rw, false, true);
            /* the value itself may be replaced; its insides may not */
            if (value_tree && !in_value && rw->next++ == rw->target) {
                wrong_value(out, vx_mp_kind_of(vx_mp_map_val(o, j)));
                continue;
            }
            rewrite(out, vx_mp_map_val(o, j), rw, !value_tree, in_value || value_tree);
        }
        break;
    default: vx_mp_nil(out); break;
    }
}

static int n_checked;

static void wrong_type_everywhere(const vx_buf *b, bool is_req, const char *what)
{
    vx_mp_doc *doc;
    char err[256];
    vx_buf out = VX_BUF_INIT;
    if (vx_mp_doc_parse(b->data, b->len, &doc, err, sizeof err) != VX_OK) {
        n_bad++;
        return;
    }
    rewriter count = {0, -1};
    rewrite(&out, vx_mp_doc_root(doc), &count, false, false);
    if (decode_any(out.data, out.len, is_req, err) != VX_OK) { /* identity rewrite decodes */
        fprintf(stderr, "%s: rewrite without change fails: %s\n", what, err);
        n_bad++;
    }
    for (int t = 0; t < count.next; t++) {
        rewriter rw = {0, t};
        n_checked++;
        vx_buf_reset(&out);
        rewrite(&out, vx_mp_doc_root(doc), &rw, false, false);
        err[0] = '\0';
        int rc = decode_any(out.data, out.len, is_req, err);
        if (rc != VX_ERR_PROTO || !err[0]) {
            fprintf(stderr, "%s %s: node %d with a wrong type gives %d (%s)\n", what,
                    is_req ? "request" : "reply", t, rc, err);
            n_bad++;
        }
    }
    vx_buf_free(&out);
    vx_mp_doc_free(doc);
}

TEST(every_field_with_a_wrong_type_is_refused)
{
    n_bad = 0;
    n_checked = 0;
    each_full_message(wrong_type_everywhere);
    ASSERT_EQ_INT(n_bad, 0);
    ASSERT_MSG(n_checked > 200, "only %d fields mutated", n_checked);
}
