/*
 * fuzz_rest_body.c — libFuzzer target for the gateway's request validation
 * (api-gateway/reqparse.c) and what it hands on: the bus request it builds
 * (proto/) and the filter the store compiles from it (store-svc/filter.c).
 *
 * Input: a first line naming the body's route, then the JSON body:
 *   "points\n{...}"   POST /collections/{name}/points   (rq_parse_points)
 *   "search\n{...}"   POST /collections/{name}/search   (rq_parse_search)
 *   "create\n{...}"   PUT /collections/{name}           (rq_parse_coll_create)
 *   "delete\n{...}"   POST /collections/{name}/points/delete (rq_parse_delete)
 * A first line that names none of them picks a route by its first byte, so
 * mutations of the route name still test something.
 *
 * Beyond "no crash, no sanitizer report", any of these aborts:
 *  - a refusal without a message (the user must learn which field);
 *  - an accepted body whose bus request does not encode, or whose encoding
 *    does not decode and re-encode to the same bytes (the gateway would send
 *    the store a message it cannot read);
 *  - a filter the store refuses without a message. A filter it compiles is
 *    evaluated against sample metadata (each kind of value).
 * Seeds: tests/fuzz/corpus/rest_body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "reqparse.h"
#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_log.h"
#include "vx_proto.h"
#include "vx_value.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Metadata the compiled filters are evaluated against, packed once. */
static const char *const sample_meta_json[] = {
    "{\"tag\":\"a\",\"n\":3,\"x\":-2.5,\"ok\":true,\"none\":null,\"list\":[1,\"two\",false]}",
    "{\"tag\":\"b\",\"n\":3.0,\"deep\":{\"k\":1},\"list\":[]}",
    "{}",
};
#define N_SAMPLES (sizeof sample_meta_json / sizeof sample_meta_json[0])
static vx_buf sample_meta[N_SAMPLES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vx_log_set_level(VX_LOG_OFF);
    vx_arena a;
    vx_arena_init(&a, 4096);
    for (size_t i = 0; i < N_SAMPLES; i++) {
        vx_value v;
        if (vx_json_parse(sample_meta_json[i], strlen(sample_meta_json[i]), &a, &v, NULL, 0) !=
            VX_OK)
            abort();
        sample_meta[i] = (vx_buf)VX_BUF_INIT;
        vx_value_pack(&v, &sample_meta[i]);
    }
    vx_arena_fini(&a);
    return 0;
}

static void fz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_rest_body: %s (%s)\n", what, detail);
    abort();
}

typedef enum { R_POINTS, R_SEARCH, R_CREATE, R_DELETE, R_COUNT } rest_route;

static rest_route route_of(const uint8_t *line, size_t len)
{
    static const char *const names[R_COUNT] = {"points", "search", "create", "delete"};
    for (int r = 0; r < R_COUNT; r++)
        if (len == strlen(names[r]) && memcmp(line, names[r], len) == 0)
            return (rest_route)r;
    return (rest_route)(len ? line[0] % R_COUNT : 0);
}

/* What the store does with a filter it receives: compile, then evaluate. */
static void check_filter(const vx_value *filter, vx_arena *a)
{
    const vx_filter *f;
    char err[256] = "";
    if (filter_compile(filter, a, &f, err, sizeof err) != VX_OK) {
        if (err[0] == '\0')
            fz_fail("filter refused without a message", "");
        return;
    }
    for (size_t i = 0; f && i < N_SAMPLES; i++)
        (void)filter_match(f, sample_meta[i].data, sample_meta[i].len);
}

/* The bus request the gateway would send must travel: encode, decode,
 * re-encode to the same bytes. */
static void check_wire(vx_request *req, vx_arena *a)
{
    vx_buf b1 = VX_BUF_INIT, b2 = VX_BUF_INIT;
    vx_request back;
    char err[256] = "";
    req->version = VX_PROTO_VERSION;
    req->request_id = 1;
    if (vx_proto_encode_request(req, &b1) != VX_OK)
        fz_fail("accepted body does not encode", "");
    if (vx_proto_decode_request(b1.data, b1.len, a, &back, err, sizeof err) != VX_OK)
        fz_fail("encoded request does not decode", err);
    if (vx_proto_encode_request(&back, &b2) != VX_OK || b1.len != b2.len ||
        memcmp(b1.data, b2.data, b1.len) != 0)
        fz_fail("request does not re-encode to the same bytes", "");
    vx_buf_free(&b1);
    vx_buf_free(&b2);
}

static void check_body(rest_route route, const vx_value *body, vx_arena *a)
{
    vx_request req;
    char err[RQ_ERR_LEN] = "";
    int rc = VX_OK;
    memset(&req, 0, sizeof req);
    switch (route) {
    case R_POINTS: {
        rq_points pts;
        req.type = VX_MSG_POINTS_UPSERT;
        rc = rq_parse_points(body, a, &pts, err, sizeof err);
        if (rc == VX_OK && pts.n_text == 0) /* text points are embedded first */
            req.body.upsert = (vx_upsert_req){"c", pts.points, pts.n, false};
        else
            req.type = 0;
        break;
    }
    case R_SEARCH: {
        const char *text = NULL;
        req.type = VX_MSG_SEARCH;
        rc = rq_parse_search(body, a, &req.body.search, &text, err, sizeof err);
        req.body.search.collection = "c";
        if (rc == VX_OK && req.body.search.filter)
            check_filter(req.body.search.filter, a);
        if (text)
            req.type = 0;
        break;
    }
    case R_CREATE:
        req.type = VX_MSG_COLL_CREATE;
        rc = rq_parse_coll_create(body, &req.body.coll_create, err, sizeof err);
        req.body.coll_create.name = "c";
        break;
    case R_DELETE:
        req.type = VX_MSG_POINTS_DELETE;
        rc = rq_parse_delete(body, a, &req.body.del, err, sizeof err);
        req.body.del.collection = "c";
        if (rc == VX_OK && req.body.del.filter)
            check_filter(req.body.del.filter, a);
        if (rc == VX_OK && !req.body.del.filter && req.body.del.n_ids == 0)
            req.type = 0; /* {"ids": []}: the handler answers without a bus delete */
        break;
    case R_COUNT: break;
    }
    if (rc != VX_OK) {
        if (err[0] == '\0')
            fz_fail("body refused without a message", "");
        return;
    }
    if (req.type != 0)
        check_wire(&req, a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line_len = nl ? (size_t)(nl - data) : 0;
    const uint8_t *json = nl ? nl + 1 : data;
    size_t json_len = size - (size_t)(json - data);
    vx_arena a;
    vx_value body;
    vx_arena_init(&a, 4096);
    if (vx_json_parse((const char *)json, json_len, &a, &body, NULL, 0) == VX_OK)
        check_body(route_of(data, line_len), &body, &a);
    vx_arena_fini(&a);
    return 0;
}
