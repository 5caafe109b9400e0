/*
 * handlers_test.c — the service surface without the network: requests are
 * encoded with vx_proto, passed to handlers_handle, and the replies decoded
 * again. Covers every message the store serves, error replies naming the
 * field, malformed bytes (garbage and every truncation of a valid request),
 * and the deadline check.
 */
#include "handlers.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_test_util.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_proto.h"
#include "vx_test.h"

static store *g_store;
static store_handlers *g_h;

static void setup(void)
{
    tu_reset();
    if (g_h)
        return;
    store_open(&g_store);
    handlers_create(g_store, &g_h);
}

/* Encodes rq, runs the handler, decodes the reply into rp (tu_arena).
 * Returns rp->status, or 1000 when a step of the plumbing failed. */
static int call(vx_request *rq, vx_reply *rp)
{
    vx_buf in = VX_BUF_INIT, out = VX_BUF_INIT;
    rq->version = VX_PROTO_VERSION;
    rq->request_id = 42;
    int rc = vx_proto_encode_request(rq, &in);
    if (rc == VX_OK) {
        handlers_handle(g_h, in.data, in.len, &tu_arena, &out);
        char err[256];
        rc = vx_proto_decode_reply(out.data, out.len, &tu_arena, rp, err, sizeof err);
        if (rc == VX_OK && (rp->request_id != 42 || rp->type != rq->type))
            rc = 1000;
    } else {
        rc = 1000;
    }
    vx_buf_free(&in);
    vx_buf_free(&out);
    return rc == VX_OK ? rp->status : 1000;
}

static vx_request req_of(vx_msg_type t)
{
    vx_request r;
    memset(&r, 0, sizeof r);
    r.type = t;
    return r;
}

static float vecs[4][3] = {{1, 0, 0}, {0, 1, 0}, {0.9f, 0.1f, 0}, {0, 0, 1}};

TEST(handlers_collection_lifecycle)
{
    setup();
    vx_reply rp;
    vx_request rq = req_of(VX_MSG_COLL_CREATE);
    rq.body.coll_create.name = "films";
    rq.body.coll_create.dimension = 3;
    rq.body.coll_create.metric = VX_METRIC_COSINE;
    rq.body.coll_create.index.type = VX_INDEX_FLAT;
    rq.body.coll_create.model = "use-lite";
    ASSERT_EQ_INT(call(&rq, &rp), VX_OK);
    ASSERT_STR_EQ(rp.body.coll_info.config.name, "films");
    ASSERT_STR_EQ(rp.body.coll_info.config.model, "use-lite");
    ASSERT_EQ_INT(call(&rq, &rp), VX_OK); /* idempotent */
    rq.body.coll_create.dimension = 4;
    ASSERT_EQ_INT(call(&rq, &rp), VX_ERR_CONFLICT);
    ASSERT(strstr(rp.err_message, "films"));

    vx_request up = req_of(VX_MSG_POINTS_UPSERT);
    vx_point pts[4];
    for (int i = 0; i < 4; i++) {
        pts[i] = (vx_point){vx_arena_sprintf(&tu_arena, "f%d", i), vecs[i], 3,
                            tv_obj(1, "year", tv_int(1990 + i))};
    }
    up.body.upsert.collection = "films";
    up.body.upsert.points = pts;
    up.body.upsert.n_points = 4;
    ASSERT_EQ_INT(call(&up, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.write.n, 4);
    ASSERT_EQ_INT(rp.body.write.count, 4);
    ASSERT_STR_EQ(rp.body.write.durability, "none");

    /* a bad point: nothing written, the index named */
    pts[1].dim = 2;
    ASSERT_EQ_INT(call(&up, &rp), VX_ERR_INVALID);
    ASSERT(strstr(rp.err_message, "points[1].vector: dimension 2, expected 3"));
    pts[1].dim = 3;

    vx_request g = req_of(VX_MSG_POINTS_GET);
    g.body.get.collection = "films";
    g.body.get.id = "f2";
    g.body.get.with_vector = true;
    ASSERT_EQ_INT(call(&g, &rp), VX_OK);
    ASSERT_STR_EQ(rp.body.point.id, "f2");
    ASSERT(rp.body.point.vector && memcmp(rp.body.point.vector, vecs[2], sizeof vecs[2]) == 0);
    ASSERT(rp.body.point.metadata && vx_value_equal(rp.body.point.metadata, pts[2].metadata));
    g.body.get.id = "zzz";
    ASSERT_EQ_INT(call(&g, &rp), VX_ERR_NOT_FOUND);
    ASSERT(strstr(rp.err_message, "zzz"));

    vx_request s = req_of(VX_MSG_SEARCH);
    float q[3] = {1, 0.05f, 0};
    s.body.search.collection = "films";
    s.body.search.vector = q;
    s.body.search.dim = 3;
    s.body.search.k = 2;
    s.body.search.with_metadata = true;
    ASSERT_EQ_INT(call(&s, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.search.n_hits, 2);
    ASSERT_STR_EQ(rp.body.search.hits[0].id, "f0");
    ASSERT_STR_EQ(rp.body.search.hits[1].id, "f2");
    ASSERT(rp.body.search.hits[0].score > rp.body.search.hits[1].score);
    ASSERT(rp.body.search.hits[0].metadata != NULL);
    s.body.search.filter = tv_obj(1, "year", tv_obj(1, "$gte", tv_int(1992)));
    ASSERT_EQ_INT(call(&s, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.search.n_hits, 2);
    ASSERT_STR_EQ(rp.body.search.hits[0].id, "f2");
    s.body.search.filter = tv_obj(1, "year", tv_obj(1, "$gte", tv_str("x")));
    ASSERT_EQ_INT(call(&s, &rp), VX_OK); /* string vs number: no match, not an error */
    ASSERT_EQ_INT(rp.body.search.n_hits, 0);
    s.body.search.filter = tv_obj(1, "year", tv_obj(1, "$near", tv_int(1)));
    ASSERT_EQ_INT(call(&s, &rp), VX_ERR_INVALID);
    ASSERT(strstr(rp.err_message, "filter.year.$near"));

    vx_request l = req_of(VX_MSG_POINTS_LIST);
    l.body.list.collection = "films";
    l.body.list.limit = 3;
    ASSERT_EQ_INT(call(&l, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.list.n_points, 3);
    ASSERT(rp.body.list.next_cursor);
    l.body.list.cursor = vx_arena_strdup(&tu_arena, rp.body.list.next_cursor);
    ASSERT_EQ_INT(call(&l, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.list.n_points, 1);
    ASSERT_STR_EQ(rp.body.list.points[0].id, "f3");
    ASSERT(rp.body.list.next_cursor == NULL);
    l.body.list.cursor = "bogus";
    ASSERT_EQ_INT(call(&l, &rp), VX_ERR_INVALID);
    ASSERT(strstr(rp.err_message, "cursor"));

    vx_request d = req_of(VX_MSG_POINTS_DELETE);
    const char *ids[] = {"f0", "missing"};
    d.body.del.collection = "films";
    d.body.del.ids = ids;
    d.body.del.n_ids = 2;
    ASSERT_EQ_INT(call(&d, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.write.n, 1);
    ASSERT_EQ_INT(rp.body.write.count, 3);
    d.body.del.ids = NULL;
    d.body.del.n_ids = 0;
    d.body.del.filter = tv_obj(1, "year", tv_int(1991));
    ASSERT_EQ_INT(call(&d, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.write.n, 1);

    vx_request in = req_of(VX_MSG_COLL_INFO);
    in.body.coll_name.name = "films";
    ASSERT_EQ_INT(call(&in, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.coll_info.count, 2);
    ASSERT(rp.body.coll_info.memory_bytes > 0);

    vx_request h = req_of(VX_MSG_HEALTH);
    ASSERT_EQ_INT(call(&h, &rp), VX_OK);
    ASSERT_STR_EQ(rp.body.health.service, "store");
    const vx_value *pc = vx_value_get(rp.body.health.stats, "points");
    ASSERT(pc && pc->type == VX_VAL_INT && pc->u.i >= 2);

    vx_request cl = req_of(VX_MSG_COLL_LIST);
    ASSERT_EQ_INT(call(&cl, &rp), VX_OK);
    ASSERT(rp.body.coll_list.n_colls >= 1);

    vx_request del = req_of(VX_MSG_COLL_DELETE);
    del.body.coll_name.name = "films";
    ASSERT_EQ_INT(call(&del, &rp), VX_OK);
    ASSERT_EQ_INT(call(&del, &rp), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(call(&s, &rp), VX_ERR_NOT_FOUND);
    ASSERT(strstr(rp.err_message, "films"));
}

TEST(handlers_upsert_creates_default)
{
    setup();
    vx_reply rp;
    vx_request up = req_of(VX_MSG_POINTS_UPSERT);
    vx_point p = {"v1", vecs[0], 3, NULL};
    up.body.upsert.collection = "default";
    up.body.upsert.points = &p;
    up.body.upsert.n_points = 1;
    ASSERT_EQ_INT(call(&up, &rp), VX_ERR_NOT_FOUND); /* not without the flag */
    up.body.upsert.create_if_missing = true;
    ASSERT_EQ_INT(call(&up, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.write.count, 1);
    vx_request in = req_of(VX_MSG_COLL_INFO);
    in.body.coll_name.name = "default";
    ASSERT_EQ_INT(call(&in, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.coll_info.config.dimension, 3);
    ASSERT_EQ_INT(rp.body.coll_info.config.metric, VX_METRIC_COSINE);
    /* zero vector for cosine */
    float z[3] = {0, 0, 0};
    p.vector = z;
    ASSERT_EQ_INT(call(&up, &rp), VX_ERR_INVALID);
    ASSERT(strstr(rp.err_message, "zero norm"));
}

/* A batch refused by validation leaves nothing behind, not even the
 * collection create_if_missing would have made for it. */
TEST(handlers_refused_create_if_missing_batch_creates_nothing)
{
    setup();
    vx_reply rp;
    vx_request up = req_of(VX_MSG_POINTS_UPSERT);
    vx_point pts[2] = {{"a", vecs[0], 3, NULL}, {"b", vecs[1], 2, NULL}};
    up.body.upsert.collection = "auto2";
    up.body.upsert.points = pts;
    up.body.upsert.n_points = 2;
    up.body.upsert.create_if_missing = true;
    ASSERT_EQ_INT(call(&up, &rp), VX_ERR_INVALID);
    ASSERT(strstr(rp.err_message, "points[1].vector"));
    vx_request in = req_of(VX_MSG_COLL_INFO);
    in.body.coll_name.name = "auto2";
    ASSERT_EQ_INT(call(&in, &rp), VX_ERR_NOT_FOUND);
    pts[1].dim = 3; /* the same batch, now valid, creates it */
    ASSERT_EQ_INT(call(&up, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.write.count, 2);
}

TEST(handlers_unserved_types)
{
    setup();
    vx_reply rp;
    vx_request e = req_of(VX_MSG_EVENTS_SINCE);
    e.body.events.limit = 10;
    ASSERT_EQ_INT(call(&e, &rp), VX_ERR_UNAVAILABLE);
    vx_request m = req_of(VX_MSG_MODELS);
    ASSERT_EQ_INT(call(&m, &rp), VX_ERR_INVALID);
    ASSERT(strstr(rp.err_message, "models"));
}

/* Every reply to bad bytes must decode as an error reply. */
static int error_reply_for(const unsigned char *b, size_t n)
{
    vx_buf out = VX_BUF_INIT;
    vx_reply rp;
    char err[256];
    handlers_handle(g_h, b, n, &tu_arena, &out);
    int rc = vx_proto_decode_reply(out.data, out.len, &tu_arena, &rp, err, sizeof err);
    int ok = rc == VX_OK && rp.status != VX_OK;
    if (rc != VX_OK) {
        /* When not even the request's type could be read, the error reply
         * carries type 0, which vx_proto_decode_reply refuses (no valid
         * type to answer with). Check that case by hand: envelope
         * [1, 0, 0, status<0, {...}] = 95 01 00 00 <negative fixint>. */
        vx_request rq;
        vx_proto_decode_request(b, n, &tu_arena, &rq, err, sizeof err);
        ok = rq.type == 0 && out.len > 5 && out.data[0] == 0x95 && out.data[1] == 1 &&
             out.data[2] == 0 && out.data[4] >= 0xe0;
    }
    vx_buf_free(&out);
    return ok;
}

TEST(handlers_malformed_bytes)
{
    setup();
    uint64_t seed = 77;
    unsigned char junk[512];
    for (int t = 0; t < 500; t++) {
        size_t n = tu_rand(&seed) % sizeof junk;
        for (size_t i = 0; i < n; i++)
            junk[i] = (unsigned char)tu_rand(&seed);
        ASSERT_MSG(error_reply_for(junk, n), "garbage #%d got no error reply", t);
        vx_arena_reset(&tu_arena);
    }
    ASSERT(error_reply_for((const unsigned char *)"", 0));
    /* every strict prefix of a valid search request */
    vx_request s = req_of(VX_MSG_SEARCH);
    float q[3] = {1, 2, 3};
    s.version = VX_PROTO_VERSION;
    s.body.search.collection = "x";
    s.body.search.vector = q;
    s.body.search.dim = 3;
    s.body.search.k = 3;
    s.body.search.filter = tv_obj(1, "a", tv_int(1));
    vx_buf in = VX_BUF_INIT;
    ASSERT_EQ_INT(vx_proto_encode_request(&s, &in), VX_OK);
    for (size_t n = 0; n < in.len; n++) {
        if (!error_reply_for(in.data, n)) {
            vx_buf_free(&in);
            ASSERT_MSG(0, "prefix of %zu bytes got no error reply", n);
        }
    }
    vx_buf_free(&in);
}

typedef struct {
    vx_buf req;
    int status;
} late_call;

static void *late_thread(void *arg)
{
    late_call *lc = arg;
    vx_arena a;
    vx_arena_init(&a, 1 << 14);
    vx_buf out = VX_BUF_INIT;
    handlers_handle(g_h, lc->req.data, lc->req.len, &a, &out);
    vx_reply rp;
    char err[256];
    lc->status = vx_proto_decode_reply(out.data, out.len, &a, &rp, err, sizeof err) == VX_OK
                     ? rp.status
                     : 1000;
    vx_buf_free(&out);
    vx_arena_fini(&a);
    return NULL;
}

TEST(handlers_deadline_passed_while_waiting)
{
    setup();
    vx_reply rp;
    vx_request c = req_of(VX_MSG_COLL_CREATE);
    c.body.coll_create.name = "slow";
    c.body.coll_create.dimension = 3;
    ASSERT_EQ_INT(call(&c, &rp), VX_OK);
    /* hold the collection's write lock while a search with a 20 ms deadline waits */
    store_ref *r;
    ASSERT_EQ_INT(store_acquire(g_store, "slow", true, &r), VX_OK);
    vx_request s = req_of(VX_MSG_SEARCH);
    float q[3] = {1, 2, 3};
    s.version = VX_PROTO_VERSION;
    s.deadline_ms = 20;
    s.body.search.collection = "slow";
    s.body.search.vector = q;
    s.body.search.dim = 3;
    s.body.search.k = 1;
    late_call lc = {VX_BUF_INIT, 0};
    ASSERT_EQ_INT(vx_proto_encode_request(&s, &lc.req), VX_OK);
    pthread_t th;
    pthread_create(&th, NULL, late_thread, &lc);
    vx_sleep_ms(80);
    store_release(r);
    pthread_join(th, NULL);
    vx_buf_free(&lc.req);
    ASSERT_EQ_INT(lc.status, VX_ERR_TIMEOUT);
    /* without contention the same request runs */
    s.deadline_ms = 5000;
    ASSERT_EQ_INT(call(&s, &rp), VX_OK);
}

/* A reply the bus would drop (nng closes the connection on a message above
 * its receive limit, failing every other call on it) is answered with a
 * limit error instead. Within every per-request limit: 1000 points of 4096
 * dimensions with 60 kB of metadata each, k = 1000 with vectors = ~76 MB. */
TEST(handlers_reply_above_the_bus_limit_is_a_limit_error)
{
    setup();
    vx_reply rp;
    vx_request cr = req_of(VX_MSG_COLL_CREATE);
    cr.body.coll_create = (vx_coll_config){"wide", VX_MAX_DIM, VX_METRIC_DOT, {VX_INDEX_FLAT, 16, 200}, NULL};
    ASSERT_EQ_INT(call(&cr, &rp), VX_OK);
    float *v = vx_arena_alloc(&tu_arena, VX_MAX_DIM * sizeof(float));
    for (int d = 0; d < VX_MAX_DIM; d++)
        v[d] = (float)(d % 7) * 0.25f;
    char *pad = vx_arena_alloc(&tu_arena, 60001);
    memset(pad, 'x', 60000);
    pad[60000] = '\0';
    const vx_value *meta = tv_obj(1, "pad", tv_str(pad));
    vx_point *pts = vx_arena_alloc(&tu_arena, VX_MAX_BATCH * sizeof *pts);
    for (int i = 0; i < VX_MAX_BATCH; i++)
        pts[i] = (vx_point){vx_arena_sprintf(&tu_arena, "w%d", i), v, VX_MAX_DIM, meta};
    vx_request up = req_of(VX_MSG_POINTS_UPSERT);
    up.body.upsert = (vx_upsert_req){"wide", pts, VX_MAX_BATCH, false};
    ASSERT_EQ_INT(call(&up, &rp), VX_OK);

    vx_request s = req_of(VX_MSG_SEARCH);
    s.body.search = (vx_search_req){"wide", v, VX_MAX_DIM, VX_MAX_K, NULL, 0, false, true, true};
    ASSERT_EQ_INT(call(&s, &rp), VX_ERR_LIMIT);
    ASSERT(strstr(rp.err_message, "exceeds the bus message limit"));
    s.body.search.k = 100; /* a smaller reply of the same kind goes through */
    ASSERT_EQ_INT(call(&s, &rp), VX_OK);
    ASSERT_EQ_INT(rp.body.search.n_hits, 100);

    vx_request drop = req_of(VX_MSG_COLL_DELETE);
    drop.body.coll_name.name = "wide";
    ASSERT_EQ_INT(call(&drop, &rp), VX_OK);
}

/* Any finite float32 vector is stored (SPEC: NaN/Inf are rejected), so the
 * float32 kernels can overflow. Such hits are re-scored exactly: saturated
 * at FLT_MAX only when the true score is beyond float32, and ranked where
 * they belong, instead of failing the search. */
TEST(handlers_scores_beyond_float32)
{
    setup();
    vx_reply rp;
    static const struct { const char *name; vx_metric m; float big; } cases[] = {
        {"ovf_dot", VX_METRIC_DOT, FLT_MAX}, /* big·q = 6.8e76: first, saturated */
        {"ovf_l2", VX_METRIC_L2, -FLT_MAX},  /* |big − q| = 6.2e38: last, saturated */
    };
    float q[2] = {1e38f, 1e38f}; /* small: dot 1e38; l2 1.414e38 (its square overflowed) */
    for (size_t t = 0; t < 2; t++) {
        vx_request cr = req_of(VX_MSG_COLL_CREATE);
        cr.body.coll_create = (vx_coll_config){cases[t].name, 2, cases[t].m, {VX_INDEX_FLAT, 16, 200}, NULL};
        ASSERT_EQ_INT(call(&cr, &rp), VX_OK);
        float big[2] = {cases[t].big, cases[t].big}, small[2] = {0, 1};
        vx_point pts[2] = {{"big", big, 2, NULL}, {"small", small, 2, NULL}};
        vx_request up = req_of(VX_MSG_POINTS_UPSERT);
        up.body.upsert = (vx_upsert_req){cases[t].name, pts, 2, false};
        ASSERT_EQ_INT(call(&up, &rp), VX_OK);
        vx_request s = req_of(VX_MSG_SEARCH);
        s.body.search = (vx_search_req){cases[t].name, q, 2, 2, NULL, 0, true, false, false};
        ASSERT_EQ_INT(call(&s, &rp), VX_OK);
        ASSERT_EQ_INT(rp.body.search.n_hits, 2);
        const vx_search_hit *b = &rp.body.search.hits[t == 0 ? 0 : 1];
        const vx_search_hit *sm = &rp.body.search.hits[t == 0 ? 1 : 0];
        ASSERT_STR_EQ(b->id, "big");
        ASSERT(b->score == FLT_MAX);
        double want = t == 0 ? 1e38 : sqrt(1e76 + (1e38 - 1) * (1e38 - 1));
        ASSERT_MSG(fabs(sm->score - want) < 1e-6 * want, "t=%zu small %g want %g", t,
                   (double)sm->score, want);
    }
    /* a dot product whose float32 terms overflow both ways (NaN) is exact too */
    vx_request cr = req_of(VX_MSG_COLL_CREATE);
    cr.body.coll_create = (vx_coll_config){"ovf_nan", 2, VX_METRIC_DOT, {VX_INDEX_FLAT, 16, 200}, NULL};
    ASSERT_EQ_INT(call(&cr, &rp), VX_OK);
    float mixed[2] = {FLT_MAX, -FLT_MAX};
    vx_point p = {"mixed", mixed, 2, NULL};
    vx_request up = req_of(VX_MSG_POINTS_UPSERT);
    up.body.upsert = (vx_upsert_req){"ovf_nan", &p, 1, false};
    ASSERT_EQ_INT(call(&up, &rp), VX_OK);
    vx_request s = req_of(VX_MSG_SEARCH);
    s.body.search = (vx_search_req){"ovf_nan", q, 2, 1, NULL, 0, true, false, false};
    ASSERT_EQ_INT(call(&s, &rp), VX_OK);
    ASSERT(rp.body.search.n_hits == 1 && rp.body.search.hits[0].score == 0.0f);

    /* two saturated hits keep the order of their exact scores, whatever the
     * insertion order: dot 6.8e76 before 3.4e76; l2 3.8e38 before 6.2e38 */
    for (size_t t = 0; t < 2; t++) {
        const char *name = t == 0 ? "ovf_two_dot" : "ovf_two_l2";
        vx_request c2 = req_of(VX_MSG_COLL_CREATE);
        c2.body.coll_create = (vx_coll_config){name, 2, cases[t].m, {VX_INDEX_FLAT, 16, 200}, NULL};
        ASSERT_EQ_INT(call(&c2, &rp), VX_OK);
        float full[2] = {cases[t].big, cases[t].big};
        float half[2] = {cases[t].big / 2, cases[t].big / 2};
        vx_point best = {"best", t == 0 ? full : half, 2, NULL};
        vx_point next = {"next", t == 0 ? half : full, 2, NULL};
        vx_point two[2] = {next, best}; /* the worse one gets the smaller slot */
        vx_request u2 = req_of(VX_MSG_POINTS_UPSERT);
        u2.body.upsert = (vx_upsert_req){name, two, 2, false};
        ASSERT_EQ_INT(call(&u2, &rp), VX_OK);
        vx_request s2 = req_of(VX_MSG_SEARCH);
        s2.body.search = (vx_search_req){name, q, 2, 2, NULL, 0, true, false, false};
        ASSERT_EQ_INT(call(&s2, &rp), VX_OK);
        ASSERT_EQ_INT(rp.body.search.n_hits, 2);
        ASSERT_MSG(!strcmp(rp.body.search.hits[0].id, "best"), "t=%zu first %s", t,
                   rp.body.search.hits[0].id);
        ASSERT(rp.body.search.hits[0].score == FLT_MAX && rp.body.search.hits[1].score == FLT_MAX);
    }
}

TEST(handlers_teardown)
{
    handlers_destroy(g_h);
    store_close(g_store);
    g_h = NULL;
    vx_arena_fini(&tu_arena);
    tu_arena_ready = 0;
}
