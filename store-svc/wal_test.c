/*
 * wal_test.c — the WAL's contract: what was appended replays exactly, in
 * LSN order, across segments and reopenings; a torn tail (cut at any byte
 * of the last record, or a bad CRC at the very end) is truncated to the
 * last complete record; damage in the middle is an error naming file and
 * offset unless accept_loss; concurrent appenders get unique increasing
 * LSNs and share fsyncs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "persist.h"
#include "vx_buf.h"
#include "vx_clock.h"
#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_test.h"
#include "wal.h"

/* Deterministic payload of a record: its length depends on the LSN. */
static size_t payload_for(uint64_t lsn, unsigned char *out, size_t cap)
{
    size_t len = (size_t)((lsn * 7919u) % 300u);
    if (len > cap)
        len = cap;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)(lsn * 31u + i);
    return len;
}

typedef struct collect {
    uint64_t n;
    uint64_t last_lsn;
    int bad; /* payload or order mismatch seen */
    uint64_t last_offset;
    char last_file[64];
} collect;

static int collect_cb(void *ctx, const wal_record *r)
{
    collect *c = ctx;
    unsigned char want[512];
    size_t len = payload_for(r->lsn, want, sizeof want);
    if (r->len != len || memcmp(r->payload, want, len) != 0 || r->type != (uint8_t)(1 + r->lsn % 7) ||
        (c->n > 0 && r->lsn != c->last_lsn + 1))
        c->bad = 1;
    c->n++;
    c->last_lsn = r->lsn;
    c->last_offset = r->offset;
    snprintf(c->last_file, sizeof c->last_file, "%s", r->file);
    return 0;
}

static int write_records(const char *dir, const wal_open_opts *o, uint64_t first, uint64_t n)
{
    wal *w;
    int rc = wal_open(&w, dir, o, first);
    if (rc != VX_OK)
        return rc;
    unsigned char buf[512];
    for (uint64_t lsn = first; lsn < first + n && rc == VX_OK; lsn++) {
        size_t len = payload_for(lsn, buf, sizeof buf);
        uint64_t got = 0;
        rc = wal_append(w, (uint8_t)(1 + lsn % 7), buf, len, &got);
        if (rc == VX_OK && got != lsn)
            rc = VX_ERR_INTERNAL;
    }
    int rc2 = wal_close(w);
    return rc != VX_OK ? rc : rc2;
}

static void quiet(void) { vx_log_set_level(VX_LOG_OFF); }

static void subdir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", vx_test_tmpdir(), name);
}

/* Path of the only (or last) segment in dir. */
static int last_segment(const char *dir, char *out, size_t len)
{
    char **names;
    size_t n;
    if (fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n) != VX_OK || n == 0)
        return -1;
    snprintf(out, len, "%s/%s", dir, names[n - 1]);
    fsu_list_free(names, n);
    return 0;
}

static int count_segments(const char *dir)
{
    char **names;
    size_t n;
    if (fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n) != VX_OK)
        return -1;
    fsu_list_free(names, n);
    return (int)n;
}

TEST(wal_roundtrip_many_records_across_segments)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    wal_open_opts o = {WAL_FSYNC_NONE, 16 * 1024};
    ASSERT_EQ_INT(write_records(dir, &o, 1, 5000), VX_OK);
    ASSERT(count_segments(dir) > 10);

    collect c = {0};
    wal_replay_result res;
    ASSERT_EQ_INT(wal_replay(dir, 0, collect_cb, &c, NULL, &res), VX_OK);
    ASSERT_EQ_INT(c.n, 5000);
    ASSERT(!c.bad);
    ASSERT_EQ_INT(res.records, 5000);
    ASSERT_EQ_INT(res.first_lsn, 1);
    ASSERT_EQ_INT(res.last_lsn, 5000);
    ASSERT_EQ_INT(res.next_lsn, 5001);
    ASSERT(!res.torn_tail && !res.data_lost);

    /* Records at or before after_lsn are verified, not delivered. */
    collect c2 = {0};
    ASSERT_EQ_INT(wal_replay(dir, 3210, collect_cb, &c2, NULL, &res), VX_OK);
    ASSERT_EQ_INT(c2.n, 5000 - 3210);
    ASSERT_EQ_INT(res.delivered, 5000 - 3210);
    ASSERT_EQ_INT(c2.last_lsn, 5000);
    uint64_t all_segments = res.segments;

    /* skip_covered: the same records, without reading the old segments. */
    collect c3 = {0};
    wal_replay_opts skip = {.skip_covered = true};
    ASSERT_EQ_INT(wal_replay(dir, 3210, collect_cb, &c3, &skip, &res), VX_OK);
    ASSERT_EQ_INT(c3.n, 5000 - 3210);
    ASSERT(!c3.bad);
    ASSERT(res.segments < all_segments);
    ASSERT(res.segments > 0);
}

TEST(wal_reopen_continues_and_rejects_stale_lsn)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    ASSERT_EQ_INT(write_records(dir, NULL, 1, 10), VX_OK);
    wal_replay_result res;
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.next_lsn, 11);
    ASSERT_EQ_INT(write_records(dir, NULL, res.next_lsn, 5), VX_OK);

    collect c = {0};
    ASSERT_EQ_INT(wal_replay(dir, 0, collect_cb, &c, NULL, &res), VX_OK);
    ASSERT_EQ_INT(c.n, 15);
    ASSERT(!c.bad);
    ASSERT_EQ_INT(res.segments, 2);

    wal *w = NULL;
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 5), VX_ERR_INVALID);
    ASSERT(w == NULL);
    /* after the newest segment's start but not after its last record */
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 12), VX_ERR_INVALID);
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 15), VX_ERR_INVALID);
    ASSERT(w == NULL);
    /* An empty newest segment may be reused (crash right after open). */
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 16), VX_OK);
    ASSERT_EQ_INT(wal_close(w), VX_OK);
    /* a segment whose creation was interrupted is ignored, then removed */
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "wal-0000000000000063.log.tmp", "VXW", 3), VX_OK);
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, 15);
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 16), VX_OK);
    char tmp_path[600];
    snprintf(tmp_path, sizeof tmp_path, "%s/wal-0000000000000063.log.tmp", dir);
    uint64_t sz;
    ASSERT_EQ_INT(fsu_file_size(tmp_path, &sz), VX_ERR_NOT_FOUND);
    ASSERT_EQ_INT(wal_write(w, 0, "x", 1, NULL), VX_ERR_INVALID);
    ASSERT_EQ_INT(wal_close(w), VX_OK);
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, 15);
    ASSERT_EQ_INT(res.next_lsn, 16);
}

TEST(wal_replay_of_missing_dir_is_empty)
{
    char dir[512];
    subdir(dir, sizeof dir, "nothing-here");
    wal_replay_result res;
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, 0);
    ASSERT_EQ_INT(res.next_lsn, 1);
}

TEST(wal_torn_tail_at_every_byte_of_last_record)
{
    quiet();
    char src[512], dir[512], seg[1024];
    subdir(src, sizeof src, "src");
    ASSERT_EQ_INT(write_records(src, NULL, 1, 20), VX_OK);
    collect c = {0};
    ASSERT_EQ_INT(wal_replay(src, 0, collect_cb, &c, NULL, NULL), VX_OK);
    ASSERT_EQ_INT(c.n, 20);
    ASSERT_EQ_INT(last_segment(src, seg, sizeof seg), 0);
    vx_buf orig = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(seg, &orig), VX_OK);
    uint64_t start = c.last_offset;
    ASSERT(start + WAL_REC_HDR_SIZE < orig.len);

    subdir(dir, sizeof dir, "cut");
    ASSERT_EQ_INT(fsu_mkdir_p(dir), VX_OK);
    int failures = 0;
    for (uint64_t cut = start; cut < orig.len && failures == 0; cut++) {
        ASSERT_EQ_INT(fsu_write_file_atomic(dir, c.last_file, orig.data, (size_t)cut), VX_OK);
        collect got = {0};
        wal_replay_opts opts = {.repair = true};
        wal_replay_result res;
        int rc = wal_replay(dir, 0, collect_cb, &got, &opts, &res);
        uint64_t size = 0;
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, c.last_file);
        fsu_file_size(path, &size);
        if (rc != VX_OK || got.n != 19 || got.bad || size != start ||
            res.torn_tail != (cut != start) || res.next_lsn != 20) {
            failures++;
            vx_test_fail(__FILE__, __LINE__, "cut at %llu: rc %d, %llu records, size %llu, torn %d",
                         (unsigned long long)cut, rc, (unsigned long long)got.n,
                         (unsigned long long)size, res.torn_tail);
        }
        if (cut > start && strstr(res.error, c.last_file) == NULL) {
            failures++;
            vx_test_fail(__FILE__, __LINE__, "torn-tail message does not name the file: %s", res.error);
        }
        /* After repair the log is clean. */
        ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
        ASSERT(!res.torn_tail);
    }
    /* wal_open refuses to write after an unrepaired torn tail. */
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, c.last_file, orig.data, orig.len - 1), VX_OK);
    wal *w = NULL;
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 20), VX_ERR_INVALID);
    ASSERT(w == NULL);
    wal_replay_opts opts = {.repair = true};
    wal_replay_result res;
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &opts, &res), VX_OK);
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, res.next_lsn), VX_OK);
    ASSERT_EQ_INT(wal_close(w), VX_OK);
    {
    }
    vx_buf_free(&orig);
}

TEST(wal_bad_crc_of_last_record_is_a_torn_tail)
{
    quiet();
    char dir[512], seg[1024];
    subdir(dir, sizeof dir, "wal");
    ASSERT_EQ_INT(write_records(dir, NULL, 1, 20), VX_OK);
    ASSERT_EQ_INT(last_segment(dir, seg, sizeof seg), 0);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(seg, &b), VX_OK);
    b.data[b.len - 1] ^= 0x40; /* last payload byte of the last record */
    const char *name = strrchr(seg, '/') + 1;
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, name, b.data, b.len), VX_OK);

    /* Without repair: reported, not an error, file untouched. */
    wal_replay_result res;
    collect c = {0};
    ASSERT_EQ_INT(wal_replay(dir, 0, collect_cb, &c, NULL, &res), VX_OK);
    ASSERT(res.torn_tail);
    ASSERT_EQ_INT(c.n, 19);
    uint64_t size;
    ASSERT_EQ_INT(fsu_file_size(seg, &size), VX_OK);
    ASSERT_EQ_INT(size, b.len);

    wal_replay_opts opts = {.repair = true};
    collect c2 = {0};
    ASSERT_EQ_INT(wal_replay(dir, 0, collect_cb, &c2, &opts, &res), VX_OK);
    ASSERT_EQ_INT(c2.n, 19);
    ASSERT(!c2.bad);
    ASSERT_EQ_INT(fsu_file_size(seg, &size), VX_OK);
    ASSERT_EQ_INT(size, c.last_offset + WAL_REC_HDR_SIZE + payload_for(19, (unsigned char[512]){0}, 512));
    vx_buf_free(&b);
}

typedef struct offsets {
    uint64_t off[64];
    uint64_t n;
} offsets;

static int offsets_cb(void *ctx, const wal_record *r)
{
    offsets *o = ctx;
    if (o->n < 64)
        o->off[o->n++] = r->offset;
    return 0;
}

TEST(wal_middle_corruption_is_an_error_unless_accept_loss)
{
    quiet();
    char dir[512], seg[1024];
    subdir(dir, sizeof dir, "wal");
    ASSERT_EQ_INT(write_records(dir, NULL, 1, 20), VX_OK);
    offsets o = {0};
    ASSERT_EQ_INT(wal_replay(dir, 0, offsets_cb, &o, NULL, NULL), VX_OK);
    ASSERT_EQ_INT(o.n, 20);
    ASSERT_EQ_INT(last_segment(dir, seg, sizeof seg), 0);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(seg, &b), VX_OK);
    uint64_t bad = o.off[9]; /* record with LSN 10 */
    b.data[bad + WAL_REC_OFF_LSN] ^= 0x01;
    const char *name = strrchr(seg, '/') + 1;
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, name, b.data, b.len), VX_OK);

    wal_replay_result res;
    wal_replay_opts repair = {.repair = true};
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &repair, &res), VX_ERR_CORRUPT);
    char want[64];
    snprintf(want, sizeof want, "offset %llu", (unsigned long long)bad);
    ASSERT_MSG(strstr(res.error, name) && strstr(res.error, want), "message: %s", res.error);
    uint64_t size;
    ASSERT_EQ_INT(fsu_file_size(seg, &size), VX_OK);
    ASSERT_EQ_INT(size, b.len); /* never truncated without accept_loss */

    /* A corrupted length field is also found as damage in the middle. */
    vx_buf b2 = VX_BUF_INIT;
    vx_buf_append(&b2, b.data, b.len);
    b2.data[bad + WAL_REC_OFF_LSN] ^= 0x01;
    b2.data[o.off[4] + WAL_REC_OFF_LEN + 2] ^= 0x10;
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, name, b2.data, b2.len), VX_OK);
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_ERR_CORRUPT);
    snprintf(want, sizeof want, "offset %llu", (unsigned long long)o.off[4]);
    ASSERT_MSG(strstr(res.error, want), "message: %s", res.error);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, name, b.data, b.len), VX_OK);

    wal_replay_opts loss = {.repair = true, .accept_loss = true};
    collect c = {0};
    ASSERT_EQ_INT(wal_replay(dir, 0, collect_cb, &c, &loss, &res), VX_OK);
    ASSERT(res.data_lost);
    ASSERT_EQ_INT(c.n, 9);
    ASSERT(!c.bad);
    ASSERT_EQ_INT(res.next_lsn, 10);
    ASSERT_EQ_INT(fsu_file_size(seg, &size), VX_OK);
    ASSERT_EQ_INT(size, bad);
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, 9);
    vx_buf_free(&b);
    vx_buf_free(&b2);
}

TEST(wal_damage_in_an_earlier_segment_is_corruption)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    wal_open_opts o = {WAL_FSYNC_NONE, 2048};
    ASSERT_EQ_INT(write_records(dir, &o, 1, 200), VX_OK);
    char **names;
    size_t n;
    ASSERT_EQ_INT(fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n), VX_OK);
    ASSERT(n >= 3);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[0]);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(path, &b), VX_OK);
    b.data[b.len - 1] ^= 0xff; /* the tail of a segment that is not the last */
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, names[0], b.data, b.len), VX_OK);
    wal_replay_result res;
    wal_replay_opts repair = {.repair = true};
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &repair, &res), VX_ERR_CORRUPT);
    ASSERT_MSG(strstr(res.error, names[0]) && strstr(res.error, "not the last segment"), "message: %s",
               res.error);

    /* accept_loss + repair: cut there, later segments moved aside. */
    wal_replay_opts loss = {.repair = true, .accept_loss = true};
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &loss, &res), VX_OK);
    ASSERT(res.data_lost);
    ASSERT_EQ_INT(count_segments(dir), 1);
    uint64_t kept = res.records;
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, kept);
    ASSERT(!res.torn_tail);
    fsu_list_free(names, n);
    vx_buf_free(&b);
}

/* A segment deleted from the middle of the log: every later segment is
 * intact, so only the LSNs tell (each segment must start right after the
 * previous one ends, unless the snapshot covers the gap). */
TEST(wal_missing_middle_segment_is_corruption)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    wal_open_opts o = {WAL_FSYNC_NONE, 2048};
    ASSERT_EQ_INT(write_records(dir, &o, 1, 300), VX_OK);
    char **names;
    size_t n;
    ASSERT_EQ_INT(fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n), VX_OK);
    ASSERT(n >= 4);
    uint64_t first[3];
    for (int i = 0; i < 3; i++)
        ASSERT_EQ_INT(fsu_parse_lsn_name(names[i], WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &first[i]), 0);
    ASSERT_EQ_INT(fsu_unlink_in(dir, names[1]), VX_OK);

    wal_replay_result res;
    wal_replay_opts repair = {.repair = true};
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &repair, &res), VX_ERR_CORRUPT);
    char want[64];
    snprintf(want, sizeof want, "records %llu..%llu are missing", (unsigned long long)first[1],
             (unsigned long long)first[2] - 1);
    ASSERT_MSG(strstr(res.error, want) && strstr(res.error, names[2]), "message: %s", res.error);
    ASSERT_EQ_INT(count_segments(dir), (int)n - 1); /* nothing moved without accept_loss */

    /* A snapshot that covers the gap makes it harmless. */
    collect c = {0};
    ASSERT_EQ_INT(wal_replay(dir, first[2] - 1, collect_cb, &c, NULL, &res), VX_OK);
    ASSERT_EQ_INT(c.n, 300 - (first[2] - 1));
    ASSERT(!c.bad && !res.data_lost);
    /* ...one that covers only part of it does not. */
    ASSERT_EQ_INT(wal_replay(dir, first[2] - 2, NULL, NULL, NULL, &res), VX_ERR_CORRUPT);

    /* accept_loss + repair: the prefix before the gap is kept, the segments
     * after it are moved aside; the log is consistent again. */
    wal_replay_opts loss = {.repair = true, .accept_loss = true};
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &loss, &res), VX_OK);
    ASSERT(res.data_lost);
    ASSERT_EQ_INT(res.last_lsn, first[1] - 1);
    ASSERT_EQ_INT(res.next_lsn, first[1]);
    ASSERT_EQ_INT(count_segments(dir), 1);
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, first[1] - 1);
    fsu_list_free(names, n);
}

/* Damage in a segment the snapshot covers entirely loses nothing: replay
 * goes on (reported in covered_damage); with repair the segment is moved
 * aside. Damage the snapshot does not fully cover stays an error. */
TEST(wal_damage_the_snapshot_covers_is_not_fatal)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    wal_open_opts o = {WAL_FSYNC_NONE, 2048};
    ASSERT_EQ_INT(write_records(dir, &o, 1, 200), VX_OK);
    char **names;
    size_t n;
    ASSERT_EQ_INT(fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n), VX_OK);
    ASSERT(n >= 3);
    uint64_t second;
    ASSERT_EQ_INT(fsu_parse_lsn_name(names[1], WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &second), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[0]);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(path, &b), VX_OK);
    b.data[b.len / 2] ^= 0xff;
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, names[0], b.data, b.len), VX_OK);

    wal_replay_result res;
    /* a snapshot one record short of covering it: corruption, as before */
    ASSERT_EQ_INT(wal_replay(dir, second - 2, NULL, NULL, NULL, &res), VX_ERR_CORRUPT);
    /* a snapshot covering the segment: every later record is delivered */
    collect c = {0};
    ASSERT_EQ_INT(wal_replay(dir, second - 1, collect_cb, &c, NULL, &res), VX_OK);
    ASSERT_EQ_INT(c.n, 200 - (second - 1));
    ASSERT(!c.bad && !res.data_lost && !res.error[0]);
    ASSERT_MSG(strstr(res.covered_damage, names[0]), "covered_damage: %s", res.covered_damage);
    ASSERT_EQ_INT(res.next_lsn, 201);
    /* repair moves it aside; the log is clean and complete after the snapshot */
    wal_replay_opts repair = {.repair = true};
    ASSERT_EQ_INT(wal_replay(dir, second - 1, NULL, NULL, &repair, &res), VX_OK);
    ASSERT_EQ_INT(count_segments(dir), (int)n - 1);
    char lost[1100];
    snprintf(lost, sizeof lost, "%s/%s.lost", dir, names[0]);
    struct stat st;
    ASSERT_EQ_INT(stat(lost, &st), 0);
    collect c2 = {0};
    ASSERT_EQ_INT(wal_replay(dir, second - 1, collect_cb, &c2, NULL, &res), VX_OK);
    ASSERT_EQ_INT(c2.n, 200 - (second - 1));
    ASSERT(!res.covered_damage[0] && !c2.bad);
    fsu_list_free(names, n);
    vx_buf_free(&b);
}

typedef struct gc_thread {
    wal *w;
    int id;
    int n;
    uint64_t lsns[256];
    int rc;
} gc_thread;

static void *gc_main(void *arg)
{
    gc_thread *t = arg;
    for (int i = 0; i < t->n; i++) {
        unsigned char p[16];
        memset(p, 0, sizeof p);
        p[0] = (unsigned char)t->id;
        memcpy(p + 1, &i, sizeof i);
        int rc = wal_append(t->w, 3, p, sizeof p, &t->lsns[i]);
        if (rc != VX_OK) {
            t->rc = rc;
            break;
        }
    }
    return NULL;
}

typedef struct gc_seen {
    int next[8];
    int bad;
    uint64_t n;
} gc_seen;

static int gc_cb(void *ctx, const wal_record *r)
{
    gc_seen *s = ctx;
    int id = ((const unsigned char *)r->payload)[0], seq;
    memcpy(&seq, (const unsigned char *)r->payload + 1, sizeof seq);
    if (r->len != 16 || id >= 8 || seq != s->next[id])
        s->bad = 1;
    else
        s->next[id]++;
    s->n++;
    return 0;
}

TEST(wal_group_commit_concurrent_appenders)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    wal *w;
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, 1), VX_OK);
    ASSERT_EQ_INT(wal_policy(w), WAL_FSYNC_ALWAYS);
    enum { T = 8, N = 200 };
    static gc_thread th[T];
    pthread_t tid[T];
    for (int i = 0; i < T; i++) {
        th[i] = (gc_thread){.w = w, .id = i, .n = N};
        ASSERT(pthread_create(&tid[i], NULL, gc_main, &th[i]) == 0);
    }
    for (int i = 0; i < T; i++)
        pthread_join(tid[i], NULL);
    wal_stats st;
    wal_get_stats(w, &st);
    ASSERT_EQ_INT(wal_close(w), VX_OK);

    static unsigned char seen[T * N + 1];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < T; i++) {
        ASSERT_EQ_INT(th[i].rc, VX_OK);
        for (int j = 0; j < N; j++) {
            uint64_t l = th[i].lsns[j];
            ASSERT(l >= 1 && l <= T * N);
            ASSERT_MSG(!seen[l], "LSN %llu handed out twice", (unsigned long long)l);
            seen[l] = 1;
            if (j > 0)
                ASSERT(l > th[i].lsns[j - 1]);
        }
    }
    ASSERT_EQ_INT(st.records, T * N);
    ASSERT_EQ_INT(st.durable_lsn, T * N);
    ASSERT_MSG(st.fsyncs < (uint64_t)(T * N), "%llu fsyncs for %d records (no group commit)",
               (unsigned long long)st.fsyncs, T * N);
    ASSERT(st.fsync_ns_total > 0);
    printf("    group commit: %d records, %llu fsyncs, mean fsync %.1f us\n", T * N,
           (unsigned long long)st.fsyncs, st.fsync_ns_total / 1000.0 / (double)st.fsyncs);

    gc_seen s = {0};
    ASSERT_EQ_INT(wal_replay(dir, 0, gc_cb, &s, NULL, NULL), VX_OK);
    ASSERT_EQ_INT(s.n, T * N);
    ASSERT(!s.bad);
}

TEST(wal_truncate_before_drops_covered_segments)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    wal_open_opts o = {WAL_FSYNC_NONE, 4096};
    wal *w;
    ASSERT_EQ_INT(wal_open(&w, dir, &o, 1), VX_OK);
    unsigned char buf[512];
    for (uint64_t lsn = 1; lsn <= 300; lsn++) {
        size_t len = payload_for(lsn, buf, sizeof buf);
        ASSERT_EQ_INT(wal_append(w, (uint8_t)(1 + lsn % 7), buf, len, NULL), VX_OK);
    }
    int before = count_segments(dir);
    ASSERT(before > 5);
    unsigned removed = 0;
    ASSERT_EQ_INT(wal_truncate_before(w, 150, &removed), VX_OK);
    ASSERT(removed > 0);
    ASSERT_EQ_INT(count_segments(dir), before - (int)removed);
    /* Everything after the snapshot LSN is still there... */
    collect c = {0};
    wal_replay_result res;
    ASSERT_EQ_INT(wal_replay(dir, 150, collect_cb, &c, NULL, &res), VX_OK);
    ASSERT_EQ_INT(c.n, 150);
    ASSERT(!c.bad);
    ASSERT(res.first_lsn <= 151);
    /* ...but a replay from scratch sees the hole. */
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_ERR_CORRUPT);
    ASSERT_MSG(strstr(res.error, "missing"), "message: %s", res.error);
    /* Truncating past everything keeps the active segment. */
    ASSERT_EQ_INT(wal_truncate_before(w, 1000, &removed), VX_OK);
    ASSERT_EQ_INT(count_segments(dir), 1);
    ASSERT_EQ_INT(wal_rotate(w), VX_OK);
    ASSERT_EQ_INT(count_segments(dir), 2);
    ASSERT_EQ_INT(wal_truncate_before(w, 300, &removed), VX_OK);
    ASSERT_EQ_INT(removed, 1);
    ASSERT_EQ_INT(wal_close(w), VX_OK);
    ASSERT_EQ_INT(wal_replay(dir, 300, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, 0);
    ASSERT_EQ_INT(res.next_lsn, 301);
}

TEST(wal_everysec_becomes_durable_in_background)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    wal_open_opts o = {WAL_FSYNC_EVERYSEC, 0};
    wal *w;
    ASSERT_EQ_INT(wal_open(&w, dir, &o, 1), VX_OK);
    uint64_t lsn = 0;
    for (int i = 0; i < 50; i++)
        ASSERT_EQ_INT(wal_append(w, 1, "abc", 3, &lsn), VX_OK);
    wal_stats st;
    uint64_t t0 = vx_now_ms();
    do {
        vx_sleep_ms(50);
        wal_get_stats(w, &st);
    } while (st.durable_lsn < lsn && vx_now_ms() - t0 < 3000);
    ASSERT_EQ_INT(st.durable_lsn, 50);
    ASSERT(st.fsyncs < 50);
    ASSERT_EQ_INT(wal_close(w), VX_OK);
    wal_fsync_policy p;
    ASSERT_EQ_INT(wal_fsync_policy_parse("EverySec", &p), VX_OK);
    ASSERT_EQ_INT(p, WAL_FSYNC_EVERYSEC);
    ASSERT_EQ_INT(wal_fsync_policy_parse("sometimes", &p), VX_ERR_INVALID);
}

TEST(wal_bad_segment_header_is_corruption)
{
    quiet();
    char dir[512], seg[1024];
    subdir(dir, sizeof dir, "wal");
    ASSERT_EQ_INT(write_records(dir, NULL, 1, 5), VX_OK);
    ASSERT_EQ_INT(last_segment(dir, seg, sizeof seg), 0);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(seg, &b), VX_OK);
    b.data[WAL_HDR_OFF_FIRST_LSN] ^= 2;
    const char *name = strrchr(seg, '/') + 1;
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, name, b.data, b.len), VX_OK);
    wal_replay_result res;
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_ERR_CORRUPT);
    ASSERT_MSG(strstr(res.error, "header CRC"), "message: %s", res.error);
    vx_buf_free(&b);
}

/* Hand-built segment: header for first_lsn, then records with the given LSNs. */
static void build_segment(vx_buf *b, uint64_t first_lsn, const uint64_t *lsns, int n)
{
    unsigned char h[WAL_HDR_SIZE] = {0};
    memcpy(h, WAL_MAGIC, WAL_MAGIC_LEN);
    le_put16(h + WAL_HDR_OFF_VERSION, WAL_VERSION);
    le_put32(h + WAL_HDR_OFF_HDRSIZE, WAL_HDR_SIZE);
    le_put64(h + WAL_HDR_OFF_FIRST_LSN, first_lsn);
    le_put32(h + WAL_HDR_OFF_CRC, vx_crc32c(0, h, WAL_HDR_OFF_CRC));
    vx_buf_append(b, h, sizeof h);
    for (int i = 0; i < n; i++) {
        unsigned char r[WAL_REC_HDR_SIZE + 4];
        memcpy(r + WAL_REC_HDR_SIZE, "data", 4);
        le_put32(r + WAL_REC_OFF_LEN, 4);
        r[WAL_REC_OFF_TYPE] = 9;
        le_put64(r + WAL_REC_OFF_LSN, lsns[i]);
        uint32_t crc = vx_crc32c(0, r + WAL_REC_OFF_TYPE, 9);
        le_put32(r + WAL_REC_OFF_CRC, vx_crc32c(crc, r + WAL_REC_HDR_SIZE, 4));
        vx_buf_append(b, r, sizeof r);
    }
}

TEST(wal_lsn_order_is_enforced)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    ASSERT_EQ_INT(fsu_mkdir_p(dir), VX_OK);
    const char *name = "wal-0000000000000001.log";
    wal_replay_result res;
    wal_replay_opts repair = {.repair = true};

    /* Strictly increasing with gaps is fine. */
    vx_buf b = VX_BUF_INIT;
    build_segment(&b, 1, (const uint64_t[]){1, 2, 5, 9}, 4);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, name, b.data, b.len), VX_OK);
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, NULL, &res), VX_OK);
    ASSERT_EQ_INT(res.records, 4);
    ASSERT_EQ_INT(res.next_lsn, 10);

    /* A repeated LSN with a valid CRC, even as the very last record, is
     * corruption (a torn write cannot produce it): never truncated. */
    vx_buf_reset(&b);
    build_segment(&b, 1, (const uint64_t[]){1, 2, 3, 3}, 4);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, name, b.data, b.len), VX_OK);
    ASSERT_EQ_INT(wal_replay(dir, 0, NULL, NULL, &repair, &res), VX_ERR_CORRUPT);
    ASSERT_MSG(strstr(res.error, "LSN 3 is not after the previous LSN 3") && strstr(res.error, name),
               "message: %s", res.error);
    uint64_t size;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ASSERT_EQ_INT(fsu_file_size(path, &size), VX_OK);
    ASSERT_EQ_INT(size, b.len);

    /* A record before its segment's first LSN. */
    vx_buf_reset(&b);
    build_segment(&b, 5, (const uint64_t[]){4}, 1);
    ASSERT_EQ_INT(fsu_unlink_in(dir, name), VX_OK);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "wal-0000000000000005.log", b.data, b.len), VX_OK);
    ASSERT_EQ_INT(wal_replay(dir, 4, NULL, NULL, NULL, &res), VX_ERR_CORRUPT);
    vx_buf_free(&b);
}

/* kill -9 in the middle of appending: every acknowledged record replays. */
TEST(wal_survives_kill_9_while_appending)
{
    quiet();
    char dir[512];
    subdir(dir, sizeof dir, "wal");
    int fds[2];
    ASSERT(pipe(fds) == 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        wal *w;
        wal_open_opts o = {WAL_FSYNC_ALWAYS, 8192};
        if (wal_open(&w, dir, &o, 1) != VX_OK)
            _exit(3);
        unsigned char buf[512];
        for (uint64_t lsn = 1;; lsn++) {
            size_t len = payload_for(lsn, buf, sizeof buf);
            uint64_t got;
            if (wal_append(w, (uint8_t)(1 + lsn % 7), buf, len, &got) != VX_OK || got != lsn)
                _exit(4);
            if (write(fds[1], &got, sizeof got) != (ssize_t)sizeof got)
                _exit(5);
        }
    }
    close(fds[1]);
    uint64_t acked = 0, v;
    while (acked < 300 && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
        acked = v;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
        acked = v;
    close(fds[0]);
    ASSERT(WIFSIGNALED(status));
    ASSERT(acked >= 300);

    collect c = {0};
    wal_replay_opts repair = {.repair = true};
    wal_replay_result res;
    ASSERT_EQ_INT(wal_replay(dir, 0, collect_cb, &c, &repair, &res), VX_OK);
    ASSERT(!c.bad);
    ASSERT_MSG(c.last_lsn >= acked, "acknowledged LSN %llu, replayed up to %llu",
               (unsigned long long)acked, (unsigned long long)c.last_lsn);
    /* and the log is writable again right after */
    wal *w;
    ASSERT_EQ_INT(wal_open(&w, dir, NULL, res.next_lsn), VX_OK);
    ASSERT_EQ_INT(wal_append(w, 1, "after", 5, NULL), VX_OK);
    ASSERT_EQ_INT(wal_close(w), VX_OK);
}
