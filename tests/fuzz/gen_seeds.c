/*
 * gen_seeds.c — writes the seed corpora of the persistence fuzz targets
 * with the real writers (store-svc/wal.c, store-svc/snapshot.c), plus
 * damaged variants ("valid header, corrupt body", torn tail, truncated).
 *
 *   gen_seeds CORPUS_DIR    (fills CORPUS_DIR/wal_replay/ and CORPUS_DIR/snapshot_load/)
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
        return 2;
    }
    vx_log_set_level(VX_LOG_WARN);
    char wdir[1024], sdir[1024], scratch[1024];
    snprintf(wdir, sizeof wdir, "%s/wal_replay", argv[1]);
    snprintf(sdir, sizeof sdir, "%s/snapshot_load", argv[1]);
    snprintf(scratch, sizeof scratch, "%s/.scratch", argv[1]);
    if (fsu_mkdir_p(wdir) != VX_OK || fsu_mkdir_p(sdir) != VX_OK)
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
    printf("seeds written to %s and %s\n", wdir, sdir);
    return 0;
}
