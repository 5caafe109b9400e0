/*
 * snapshot_test.c — the snapshot container's contract: sections written
 * (whole or in pieces, including a multi-megabyte one) read back
 * byte-identical and aligned; any damage (payload, section header, footer,
 * truncation) refuses the whole file with a message naming it; unfinished
 * .tmp files are invisible; the newest valid snapshot wins and a corrupt
 * newest one is refused unless accept_loss.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "persist.h"
#include "snapshot.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_test.h"

#define BIG_LEN ((size_t)5 * 1024 * 1024 + 13)

static void quiet(void) { vx_log_set_level(VX_LOG_OFF); }

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

/* Writes a snapshot at lsn with sections: 1 "config", 2 big (in pieces), 3 empty, 4 small. */
static int write_snap(const char *dir, uint64_t lsn, unsigned char *big)
{
    snap_writer *w;
    int rc = snap_writer_open(&w, dir, lsn);
    if (rc != VX_OK)
        return rc;
    char cfg[64];
    snprintf(cfg, sizeof cfg, "config of lsn %llu", (unsigned long long)lsn);
    rc = snap_writer_section(w, 1, cfg, strlen(cfg));
    if (rc == VX_OK)
        rc = snap_writer_begin(w, 2);
    for (size_t off = 0; rc == VX_OK && off < BIG_LEN; off += 777777) {
        size_t n = BIG_LEN - off < 777777 ? BIG_LEN - off : 777777;
        rc = snap_writer_append(w, big + off, n);
    }
    if (rc == VX_OK)
        rc = snap_writer_end(w);
    if (rc == VX_OK)
        rc = snap_writer_section(w, 3, NULL, 0);
    if (rc == VX_OK)
        rc = snap_writer_section(w, 4, "xyz", 3);
    if (rc != VX_OK) {
        snap_writer_abort(w);
        return rc;
    }
    return snap_writer_commit(w, NULL, 0);
}

static void snap_path_for(char *out, size_t len, const char *dir, uint64_t lsn)
{
    char name[64];
    snap_file_name(name, sizeof name, lsn);
    snprintf(out, len, "%s/%s", dir, name);
}

TEST(snapshot_roundtrip_sections)
{
    quiet();
    const char *dir = vx_test_tmpdir();
    unsigned char *big = malloc(BIG_LEN);
    ASSERT(big);
    fill(big, BIG_LEN, 7);
    ASSERT_EQ_INT(write_snap(dir, 42, big), VX_OK);

    char path[1024], err[512] = "";
    snap_path_for(path, sizeof path, dir, 42);
    snap *s;
    ASSERT_EQ_INT(snap_open(&s, path, 0, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(snap_lsn(s), 42);
    ASSERT(snap_created_ms(s) > 0);
    ASSERT_EQ_INT(snap_section_count(s), 4);
    const snap_section *c = snap_find_section(s, 1, 0);
    ASSERT(c && c->len == strlen("config of lsn 42") && memcmp(c->data, "config of lsn 42", c->len) == 0);
    const snap_section *b = snap_find_section(s, 2, 0);
    ASSERT(b && b->len == BIG_LEN);
    ASSERT(memcmp(b->data, big, BIG_LEN) == 0);
    for (size_t i = 0; i < snap_section_count(s); i++)
        ASSERT_EQ_INT((uintptr_t)snap_section_at(s, i)->data % SNAP_ALIGN, 0);
    ASSERT_EQ_INT(snap_find_section(s, 3, 0)->len, 0);
    ASSERT(memcmp(snap_find_section(s, 4, 0)->data, "xyz", 3) == 0);
    ASSERT(snap_find_section(s, 4, 1) == NULL);
    ASSERT(snap_find_section(s, 9, 0) == NULL);
    snap_close(s);
    free(big);
}

/* Rewrites the snapshot with one byte flipped at off and expects refusal
 * with a message that names the file and contains `what`. */
static int damaged_refused(const char *dir, const vx_buf *orig, size_t off, size_t cut, const char *what,
                           char *msg, size_t msg_len)
{
    vx_buf b = VX_BUF_INIT;
    vx_buf_append(&b, orig->data, cut ? cut : orig->len);
    if (!cut)
        b.data[off] ^= 0x20;
    char name[64], path[1024];
    snap_file_name(name, sizeof name, 42);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int ok = fsu_write_file_atomic(dir, name, b.data, b.len) == VX_OK;
    vx_buf_free(&b);
    snap *s = NULL;
    int rc = snap_open(&s, path, 0, msg, msg_len);
    snap_close(s);
    return ok && rc == VX_ERR_CORRUPT && strstr(msg, name) && strstr(msg, what);
}

TEST(snapshot_damage_is_refused)
{
    quiet();
    const char *dir = vx_test_tmpdir();
    unsigned char *big = malloc(BIG_LEN);
    ASSERT(big);
    fill(big, BIG_LEN, 3);
    ASSERT_EQ_INT(write_snap(dir, 42, big), VX_OK);
    free(big);
    char path[1024], msg[512];
    snap_path_for(path, sizeof path, dir, 42);
    vx_buf orig = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(path, &orig), VX_OK);
    snap *s;
    ASSERT_EQ_INT(snap_open(&s, path, 0, msg, sizeof msg), VX_OK);
    const snap_section *big_sec = snap_find_section(s, 2, 0);
    size_t big_off = (size_t)big_sec->offset, cfg_off = (size_t)snap_find_section(s, 1, 0)->offset;
    snap_close(s);

    /* A flipped byte deep inside the big section. */
    ASSERT_MSG(damaged_refused(dir, &orig, big_off + SNAP_SEC_HDR_SIZE + 3000000, 0, "CRC mismatch",
                               msg, sizeof msg),
               "%s", msg);
    char want[64];
    snprintf(want, sizeof want, "offset %zu", big_off);
    ASSERT_MSG(strstr(msg, want), "message does not name the section offset: %s", msg);
    /* Lazy open succeeds structurally but verification finds it. */
    {
        vx_buf b = VX_BUF_INIT;
        vx_buf_append(&b, orig.data, orig.len);
        b.data[big_off + SNAP_SEC_HDR_SIZE + 10] ^= 1;
        snap *lz;
        ASSERT_EQ_INT(snap_open_buffer(&lz, b.data, b.len, "lazy", SNAP_OPEN_LAZY, msg, sizeof msg), VX_OK);
        ASSERT_EQ_INT(snap_verify_section(lz, 0, msg, sizeof msg), VX_OK);
        ASSERT_EQ_INT(snap_verify(lz, msg, sizeof msg), VX_ERR_CORRUPT);
        snap_close(lz);
        vx_buf_free(&b);
    }
    /* Section header (its length field), file header, footer. */
    ASSERT_MSG(damaged_refused(dir, &orig, cfg_off + SNAP_SEC_OFF_LEN, 0, "header CRC", msg, sizeof msg),
               "%s", msg);
    ASSERT_MSG(damaged_refused(dir, &orig, SNAP_HDR_OFF_LSN, 0, "header CRC", msg, sizeof msg), "%s", msg);
    ASSERT_MSG(damaged_refused(dir, &orig, orig.len - 5, 0, "footer", msg, sizeof msg), "%s", msg);
    /* Truncated anywhere: end, inside the big section, inside the header. */
    ASSERT_MSG(damaged_refused(dir, &orig, 0, orig.len - 1, "footer", msg, sizeof msg), "%s", msg);
    ASSERT_MSG(damaged_refused(dir, &orig, 0, big_off + 1000, "", msg, sizeof msg), "%s", msg);
    ASSERT_MSG(damaged_refused(dir, &orig, 0, 10, "too short", msg, sizeof msg), "%s", msg);
    /* Every cut in the last 300 bytes is refused (same parser as snap_open,
     * over memory: no need to write 300 files of 5 MB). */
    for (size_t cut = orig.len - 300; cut < orig.len; cut++) {
        snap *t = NULL;
        int rc = snap_open_buffer(&t, orig.data, cut, "cut.vxs", 0, msg, sizeof msg);
        snap_close(t);
        ASSERT_MSG(rc == VX_ERR_CORRUPT && strstr(msg, "cut.vxs"), "cut %zu: %d %s", cut, rc, msg);
    }
    vx_buf_free(&orig);
}

static const char *p250tmp(const char *dir)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/snapshot-00000000000000fa.vxs.tmp", dir);
    return p;
}

TEST(snapshot_find_latest_ignores_tmp_and_refuses_corrupt_newest)
{
    quiet();
    const char *dir = vx_test_tmpdir();
    unsigned char *big = malloc(BIG_LEN);
    ASSERT(big);
    fill(big, BIG_LEN, 1);
    char err[1024];
    snap *s;
    ASSERT_EQ_INT(snap_find_latest(dir, false, &s, err, sizeof err), VX_ERR_NOT_FOUND);
    ASSERT(s == NULL);
    ASSERT_EQ_INT(write_snap(dir, 100, big), VX_OK);

    /* A crash between fsync and rename: the complete newer snapshot exists
     * only under its .tmp name; and an unfinished one, cut short. */
    ASSERT_EQ_INT(write_snap(dir, 200, big), VX_OK);
    ASSERT_EQ_INT(fsu_rename_durable(dir, "snapshot-00000000000000c8.vxs",
                                     "snapshot-00000000000000c8.vxs.tmp"),
                  VX_OK);
    snap_writer *w;
    ASSERT_EQ_INT(snap_writer_open(&w, dir, 250), VX_OK);
    ASSERT_EQ_INT(snap_writer_section(w, 1, "partial", 7), VX_OK);
    vx_buf partial = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(p250tmp(dir), &partial), VX_OK);
    snap_writer_abort(w);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "snapshot-00000000000000fa.vxs.tmp", partial.data,
                                        partial.len), VX_OK);
    vx_buf_free(&partial);

    ASSERT_EQ_INT(snap_find_latest(dir, false, &s, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(snap_lsn(s), 100);
    snap_close(s);

    /* A newer, committed snapshot wins. */
    ASSERT_EQ_INT(write_snap(dir, 300, big), VX_OK);
    ASSERT_EQ_INT(snap_find_latest(dir, false, &s, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(snap_lsn(s), 300);
    snap_close(s);

    /* Corrupt the newest: refused, naming it... */
    char p300[1024];
    snap_path_for(p300, sizeof p300, dir, 300);
    vx_buf b = VX_BUF_INIT;
    ASSERT_EQ_INT(fsu_read_file(p300, &b), VX_OK);
    b.data[b.len / 2] ^= 0x80;
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, strrchr(p300, '/') + 1, b.data, b.len), VX_OK);
    vx_buf_free(&b);
    ASSERT_EQ_INT(snap_find_latest(dir, false, &s, err, sizeof err), VX_ERR_CORRUPT);
    ASSERT(s == NULL);
    ASSERT_MSG(strstr(err, "snapshot-000000000000012c.vxs"), "message: %s", err);
    /* ...unless accept_loss: fall back to the previous one; the corrupt one
     * is moved aside, so pruning can never keep it instead of the valid one. */
    ASSERT_EQ_INT(snap_find_latest(dir, true, &s, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(snap_lsn(s), 100);
    snap_close(s);
    struct stat st;
    ASSERT(stat(p300, &st) != 0);
    char aside[1100];
    snprintf(aside, sizeof aside, "%s" SNAP_CORRUPT_SUFFIX, p300);
    ASSERT_EQ_INT(stat(aside, &st), 0);
    ASSERT_EQ_INT(snap_find_latest(dir, false, &s, err, sizeof err), VX_OK); /* no longer refused */
    ASSERT_EQ_INT(snap_lsn(s), 100);
    snap_close(s);
    /* pruning down to one keeps the valid snapshot and leaves the aside file */
    ASSERT_EQ_INT(snap_prune(dir, 1, NULL), VX_OK);
    ASSERT_EQ_INT(snap_find_latest(dir, false, &s, err, sizeof err), VX_OK);
    ASSERT_EQ_INT(snap_lsn(s), 100);
    snap_close(s);
    ASSERT_EQ_INT(stat(aside, &st), 0);
    free(big);
}

TEST(snapshot_prune_keeps_newest_two_and_removes_tmp)
{
    quiet();
    const char *dir = vx_test_tmpdir();
    for (uint64_t lsn = 10; lsn <= 50; lsn += 10) {
        snap_writer *w;
        ASSERT_EQ_INT(snap_writer_open(&w, dir, lsn), VX_OK);
        ASSERT_EQ_INT(snap_writer_section(w, 1, &lsn, sizeof lsn), VX_OK);
        ASSERT_EQ_INT(snap_writer_commit(w, NULL, 0), VX_OK);
    }
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "snapshot-0000000000000063.vxs.tmp", "x", 1), VX_OK);
    ASSERT_EQ_INT(fsu_write_file_atomic(dir, "unrelated.txt", "x", 1), VX_OK);
    unsigned removed = 0;
    ASSERT_EQ_INT(snap_prune(dir, 2, &removed), VX_OK);
    ASSERT_EQ_INT(removed, 4);
    char **names;
    size_t n;
    ASSERT_EQ_INT(fsu_list_dir(dir, "", "", &names, &n), VX_OK);
    ASSERT_EQ_INT(n, 3);
    ASSERT_STR_EQ(names[0], "snapshot-0000000000000028.vxs");
    ASSERT_STR_EQ(names[1], "snapshot-0000000000000032.vxs");
    ASSERT_STR_EQ(names[2], "unrelated.txt");
    fsu_list_free(names, n);
}

TEST(snapshot_writer_misuse_and_abort)
{
    quiet();
    const char *dir = vx_test_tmpdir();
    snap_writer *w;
    ASSERT_EQ_INT(snap_writer_open(&w, dir, 7), VX_OK);
    ASSERT_EQ_INT(snap_writer_append(w, "x", 1), VX_ERR_INVALID); /* outside a section */
    /* the error is sticky: commit fails and leaves nothing */
    ASSERT_EQ_INT(snap_writer_commit(w, NULL, 0), VX_ERR_INVALID);
    char **names;
    size_t n;
    ASSERT_EQ_INT(fsu_list_dir(dir, "", "", &names, &n), VX_OK);
    ASSERT_EQ_INT(n, 0);
    fsu_list_free(names, n);

    ASSERT_EQ_INT(snap_writer_open(&w, dir, 8), VX_OK);
    ASSERT_EQ_INT(snap_writer_begin(w, 1), VX_OK);
    ASSERT_EQ_INT(snap_writer_begin(w, 2), VX_ERR_INVALID); /* nested */
    snap_writer_abort(w);
    ASSERT_EQ_INT(fsu_list_dir(dir, "", "", &names, &n), VX_OK);
    ASSERT_EQ_INT(n, 0);
    fsu_list_free(names, n);

    /* An empty snapshot (no sections) is valid. */
    char path[1024];
    ASSERT_EQ_INT(snap_writer_open(&w, dir, 9), VX_OK);
    ASSERT_EQ_INT(snap_writer_commit(w, path, sizeof path), VX_OK);
    snap *s;
    ASSERT_EQ_INT(snap_open(&s, path, 0, NULL, 0), VX_OK);
    ASSERT_EQ_INT(snap_section_count(s), 0);
    ASSERT_EQ_INT(snap_lsn(s), 9);
    snap_close(s);
    ASSERT_EQ_INT(snap_open(&s, "/nonexistent/snapshot.vxs", 0, NULL, 0), VX_ERR_NOT_FOUND);
}
