/*
 * gen_seeds.c — writes the seed corpora of the fuzz targets whose inputs
 * are binary, with the real writers: the persistence targets' files
 * (store-svc/wal.c, store-svc/snapshot.c) plus damaged variants ("valid
 * header, corrupt body", torn tail, truncated), and fuzz_store_handle's
 * request sequences (proto/ encoder; frames of u16 LE length + message).
 *
 *   gen_seeds CORPUS_DIR    (fills CORPUS_DIR/wal_replay/, CORPUS_DIR/snapshot_load/
 *                            and CORPUS_DIR/store_handle/)
 *
 * Build and run: see docs/DURABILITY.md §10. Deterministic except
 * for the snapshot creation time stamp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "persist.h"
#include "snapshot.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_proto.h"
#include "vx_log.h"
#include "wal.h"

static void die(const char *what)
{
    fprintf(stderr, "gen_seeds: %s failed\n", what);
    exit(1);
}

/* Writes a segment with n records starting at first into a scratch dir and
 * returns its bytes. */
static void make_segment(const char *scratch, uint64_t first, int n, vx_buf *out)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        die("rm");
    wal *w;
    if (wal_open(&w, scratch, NULL, first) != VX_OK)
        die("wal_open");
    for (int i = 0; i < n; i++) {
        char p[64];
        int len = snprintf(p, sizeof p, "record %d payload", i);
        if (wal_append(w, (uint8_t)(1 + i % 5), p, (size_t)len * (size_t)(i % 3), NULL) != VX_OK)
            die("wal_append");
    }
    if (wal_close(w) != VX_OK)
        die("wal_close");
    char path[1024], name[64];
    snprintf(name, sizeof name, WAL_FILE_PREFIX "%016llx" WAL_FILE_SUFFIX, (unsigned long long)first);
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    vx_buf_reset(out);
    if (fsu_read_file(path, out) != VX_OK)
        die("read segment");
}

static void put(const char *dir, const char *name, const void *p, size_t n)
{
    if (fsu_write_file_atomic(dir, name, p, n) != VX_OK)
        die(name);
}

static void make_snapshot(const char *scratch, vx_buf *out, int n_sections)
{
    snap_writer *w;
    if (snap_writer_open(&w, scratch, 77) != VX_OK)
        die("snap_writer_open");
    for (int i = 0; i < n_sections; i++) {
        unsigned char p[100];
        for (size_t k = 0; k < sizeof p; k++)
            p[k] = (unsigned char)(i * 13 + k);
        if (snap_writer_section(w, (uint32_t)(i + 1), p, (size_t)(i * 37 % 100)) != VX_OK)
            die("snap_writer_section");
    }
    char path[1024];
    if (snap_writer_commit(w, path, sizeof path) != VX_OK)
        die("snap_writer_commit");
    vx_buf_reset(out);
    if (fsu_read_file(path, out) != VX_OK)
        die("read snapshot");
    remove(path);
}

/* ---- fuzz_store_handle: request sequences ---------------------------------- */

static vx_arena seed_arena;

static const vx_value *json(const char *text)
{
    vx_value *v = vx_arena_alloc(&seed_arena, sizeof *v);
    if (vx_json_parse(text, strlen(text), &seed_arena, v, NULL, 0) != VX_OK)
        die("vx_json_parse");
    return v;
}

/* Appends one frame (u16 LE length + encoded request) to seq. */
static void frame(vx_buf *seq, vx_msg_type type, const vx_request *body_of)
{
    vx_request r = *body_of;
    vx_buf m = VX_BUF_INIT;
    r.version = VX_PROTO_VERSION;
    r.type = type;
    r.request_id = seq->len + 1;
    if (vx_proto_encode_request(&r, &m) != VX_OK || m.len > 0xffff)
        die("vx_proto_encode_request");
    unsigned char len[2] = {(unsigned char)(m.len & 0xff), (unsigned char)(m.len >> 8)};
    vx_buf_append(seq, len, 2);
    vx_buf_append(seq, m.data, m.len);
    vx_buf_free(&m);
}

static const float vec4[][4] = {{1, 0, 0, 0}, {0.5f, 0.5f, 0, 0}, {0, 1, 0.25f, 0},
                                {-1, 0, 0, 2}, {0.1f, 0.2f, 0.3f, 0.4f}};

/* create → upsert 5 points with metadata → search (filter) → get → list →
 * delete (ids or filter) → info → search → drop, on one collection. */
static void lifecycle(vx_buf *seq, const char *name, vx_metric metric, vx_index_type index,
                      bool delete_by_filter)
{
    static const char *const metas[] = {
        "{\"tag\":\"a\",\"n\":1}", "{\"tag\":\"b\",\"n\":2.5,\"ok\":true}",
        "{\"tag\":\"a\",\"list\":[1,\"x\",null]}", "{\"n\":-3}", "{}"};
    static const char *ids[] = {"p0", "p/1", "\xc3\xbc-2", "p3", "p4"};
    vx_request r;
    memset(&r, 0, sizeof r);
    r.body.coll_create = (vx_coll_config){name, 4, metric, {index, 8, 32}, NULL};
    frame(seq, VX_MSG_COLL_CREATE, &r);
    vx_point *pts = vx_arena_alloc(&seed_arena, 5 * sizeof *pts);
    for (int i = 0; i < 5; i++)
        pts[i] = (vx_point){ids[i], vec4[i], 4, json(metas[i])};
    memset(&r, 0, sizeof r);
    r.body.upsert = (vx_upsert_req){name, pts, 5, false};
    frame(seq, VX_MSG_POINTS_UPSERT, &r);
    memset(&r, 0, sizeof r);
    r.body.search = (vx_search_req){name, vec4[1], 4, 3,
                                    json("{\"$or\":[{\"tag\":{\"$in\":[\"a\",\"b\"]}},"
                                         "{\"n\":{\"$lt\":0}}]}"),
                                    16, false, true, true};
    frame(seq, VX_MSG_SEARCH, &r);
    memset(&r, 0, sizeof r);
    r.body.get = (vx_get_req){name, "p/1", true};
    frame(seq, VX_MSG_POINTS_GET, &r);
    memset(&r, 0, sizeof r);
    r.body.list = (vx_list_req){name, 2, NULL, false};
    frame(seq, VX_MSG_POINTS_LIST, &r);
    memset(&r, 0, sizeof r);
    if (delete_by_filter)
        r.body.del = (vx_delete_req){name, NULL, 0, json("{\"n\":{\"$gte\":2}}")};
    else
        r.body.del = (vx_delete_req){name, ids, 2, NULL};
    frame(seq, VX_MSG_POINTS_DELETE, &r);
    memset(&r, 0, sizeof r);
    r.body.coll_name = (vx_coll_name_req){name};
    frame(seq, VX_MSG_COLL_INFO, &r);
    memset(&r, 0, sizeof r);
    r.body.search = (vx_search_req){name, vec4[4], 4, 10, NULL, 0, true, false, false};
    frame(seq, VX_MSG_SEARCH, &r);
    memset(&r, 0, sizeof r);
    frame(seq, VX_MSG_COLL_LIST, &r);
    memset(&r, 0, sizeof r);
    r.body.coll_name = (vx_coll_name_req){name};
    frame(seq, VX_MSG_COLL_DELETE, &r);
}

static void write_store_handle_seeds(const char *dir)
{
    vx_arena_init(&seed_arena, 4096);
    vx_buf seq = VX_BUF_INIT;
    lifecycle(&seq, "flat_dot", VX_METRIC_DOT, VX_INDEX_FLAT, true);
    put(dir, "flat-dot-lifecycle", seq.data, seq.len);
    vx_buf_reset(&seq);
    lifecycle(&seq, "hnsw_l2", VX_METRIC_L2, VX_INDEX_HNSW, false);
    put(dir, "hnsw-l2-lifecycle", seq.data, seq.len);
    vx_buf_reset(&seq);
    lifecycle(&seq, "cos", VX_METRIC_COSINE, VX_INDEX_HNSW, true);
    put(dir, "hnsw-cosine-lifecycle", seq.data, seq.len);
    put(dir, "hnsw-cosine-truncated", seq.data, seq.len / 2);
    /* The legacy routes' upsert that creates "default" on first write. */
    vx_buf_reset(&seq);
    vx_request r;
    memset(&r, 0, sizeof r);
    vx_point p = {"v1", vec4[2], 4, NULL};
    r.body.upsert = (vx_upsert_req){"default", &p, 1, true};
    frame(&seq, VX_MSG_POINTS_UPSERT, &r);
    memset(&r, 0, sizeof r);
    r.body.search = (vx_search_req){"default", vec4[0], 4, 5, NULL, 0, false, false, false};
    frame(&seq, VX_MSG_SEARCH, &r);
    memset(&r, 0, sizeof r);
    r.body.events = (vx_events_req){0, 10};
    frame(&seq, VX_MSG_EVENTS_SINCE, &r);
    memset(&r, 0, sizeof r);
    frame(&seq, VX_MSG_HEALTH, &r);
    put(dir, "default-create-if-missing", seq.data, seq.len);
    vx_buf_free(&seq);
    vx_arena_fini(&seed_arena);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
        return 2;
    }
    vx_log_set_level(VX_LOG_WARN);
    char wdir[1024], sdir[1024], hdir[1024], scratch[1024];
    snprintf(wdir, sizeof wdir, "%s/wal_replay", argv[1]);
    snprintf(sdir, sizeof sdir, "%s/snapshot_load", argv[1]);
    snprintf(hdir, sizeof hdir, "%s/store_handle", argv[1]);
    snprintf(scratch, sizeof scratch, "%s/.scratch", argv[1]);
    if (fsu_mkdir_p(wdir) != VX_OK || fsu_mkdir_p(sdir) != VX_OK || fsu_mkdir_p(hdir) != VX_OK)
        die("mkdir");

    vx_buf a = VX_BUF_INIT, b = VX_BUF_INIT;
    make_segment(scratch, 1, 0, &a);
    put(wdir, "empty-segment", a.data, a.len);
    make_segment(scratch, 1, 6, &a);
    put(wdir, "valid-6-records", a.data, a.len);
    put(wdir, "torn-tail", a.data, a.len - 5);
    vx_buf_append(&b, a.data, a.len);
    b.data[WAL_HDR_SIZE + 3 * WAL_REC_HDR_SIZE + 20] ^= 0x55; /* valid header, corrupt body */
    put(wdir, "corrupt-body", b.data, b.len);
    b.data[b.len - 1] ^= 0x01;
    put(wdir, "corrupt-body-and-tail", b.data, b.len);
    vx_buf_reset(&b);
    vx_buf_append(&b, a.data, a.len);
    b.data[WAL_HDR_OFF_CRC] ^= 0xff;
    put(wdir, "bad-header-crc", b.data, b.len);
    /* Two segments back to back (the target splits at the magic). */
    vx_buf_reset(&b);
    vx_buf_append(&b, a.data, a.len);
    make_segment(scratch, 7, 4, &a);
    vx_buf_append(&b, a.data, a.len);
    put(wdir, "two-segments", b.data, b.len);
    put(wdir, "two-segments-torn", b.data, b.len - 3);

    make_snapshot(scratch, &a, 4);
    put(sdir, "valid-4-sections", a.data, a.len);
    put(sdir, "truncated", a.data, a.len - 40);
    vx_buf_reset(&b);
    vx_buf_append(&b, a.data, a.len);
    b.data[SNAP_HDR_SIZE + SNAP_SEC_HDR_SIZE + 2] ^= 0x10; /* valid header, corrupt body */
    put(sdir, "corrupt-payload", b.data, b.len);
    vx_buf_reset(&b);
    vx_buf_append(&b, a.data, a.len);
    b.data[SNAP_HDR_SIZE + SNAP_SEC_OFF_LEN] ^= 0x01;
    put(sdir, "corrupt-section-header", b.data, b.len);
    make_snapshot(scratch, &a, 0);
    put(sdir, "valid-empty", a.data, a.len);

    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        die("rm");
    vx_buf_free(&a);
    vx_buf_free(&b);
    write_store_handle_seeds(hdir);
    printf("seeds written to %s, %s and %s\n", wdir, sdir, hdir);
    return 0;
}
