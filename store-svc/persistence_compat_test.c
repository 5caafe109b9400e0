/*
 * persistence_compat_test.c — WAL records written by earlier versions still
 * replay. Since 2026-11-24 the bus refuses metadata that JSON cannot carry
 * (strings or keys that are not UTF-8, non-finite numbers, duplicate keys);
 * before, a bus client could have logged such an upsert. pers_decode must
 * read it back instead of refusing to start the store.
 */
#include "persistence.h"

#include <math.h>
#include <string.h>

#include "vx_msgpack.h"
#include "vx_proto.h"
#include "vx_test.h"

/* points_upsert of one 2-d point whose metadata an old version accepted:
 * {"s": "\xc3\x28", "nan": NaN, "k": 1, "k": 2} */
static void old_upsert(vx_buf *b)
{
    static const float vec[2] = {1.0f, 0.5f};
    vx_mp_array(b, 5);
    vx_mp_uint(b, VX_PROTO_VERSION);
    vx_mp_uint(b, VX_MSG_POINTS_UPSERT);
    vx_mp_uint(b, 0);
    vx_mp_uint(b, 0);
    vx_mp_map(b, 2);
    vx_mp_cstr(b, "collection");
    vx_mp_cstr(b, "c");
    vx_mp_cstr(b, "points");
    vx_mp_array(b, 1);
    vx_mp_map(b, 3);
    vx_mp_cstr(b, "id");
    vx_mp_cstr(b, "p1");
    vx_mp_cstr(b, "vector");
    vx_mp_bin(b, vec, sizeof vec);
    vx_mp_cstr(b, "metadata");
    vx_mp_map(b, 4);
    vx_mp_cstr(b, "s");
    vx_mp_str(b, "\xc3\x28", 2);
    vx_mp_cstr(b, "nan");
    vx_mp_double(b, NAN);
    vx_mp_cstr(b, "k");
    vx_mp_uint(b, 1);
    vx_mp_cstr(b, "k");
    vx_mp_uint(b, 2);
}

TEST(pers_decode_reads_values_logged_before_the_strict_checks)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf b = VX_BUF_INIT;
    old_upsert(&b);
    char err[256];
    vx_request rq;
    /* a client sending it today is refused at the boundary ... */
    int strict = vx_proto_decode_request(b.data, b.len, &a, &rq, err, sizeof err);
    /* ... but the same bytes in the WAL replay */
    wal_record rec = {.lsn = 7, .type = VX_MSG_POINTS_UPSERT, .payload = b.data, .len = b.len,
                      .file = "wal-000001.log", .offset = 0};
    int logged = pers_decode(&rec, &a, &rq, err, sizeof err);
    ASSERT_EQ_INT(strict, VX_ERR_INVALID);
    ASSERT_MSG(logged == VX_OK, "%s", err);
    ASSERT_EQ_INT(rq.body.upsert.n_points, 1);
    ASSERT_STR_EQ(rq.body.upsert.points[0].id, "p1");
    ASSERT(rq.body.upsert.points[0].metadata != NULL);
    vx_buf_free(&b);
    vx_arena_fini(&a);
}
