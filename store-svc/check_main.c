/*
 * check_main.c — vectron-check: offline verification of a store data
 * directory (docs/DURABILITY.md, "Checking a data directory").
 *
 *   vectron-check DATA_DIR [--repair] [--accept-loss] [-v]
 *
 * Verifies every snapshot (header, every section header and payload CRC,
 * footer) and every WAL segment (header, every record CRC, LSN order, no
 * gap after the newest valid snapshot) and prints one line per file plus a
 * summary naming the first problem with its file and offset. Exit status:
 * 0 when everything is valid, 1 when anything is not, 2 on usage errors, a
 * missing directory, or when the directory is in use (it takes the
 * data-directory lock, LOCK). Files set aside (*.lost, *.corrupt) and
 * unfinished *.tmp files are listed, never read.
 *
 * It changes nothing unless --repair: then a torn WAL tail is truncated to
 * the last complete record. Damage in the middle of the log is only cut
 * (losing every later record) with --repair --accept-loss. Snapshots are
 * never modified. Must not run while vectron-store uses the directory.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "persist.h"
#include "snapshot.h"
#include "vx_err.h"
#include "vx_log.h"
#include "wal.h"

typedef struct check_state {
    unsigned problems;
    char first_error[1024];
    uint64_t wal_bytes;
} check_state;

static void check_problem(check_state *st, const char *msg)
{
    if (st->problems++ == 0)
        snprintf(st->first_error, sizeof st->first_error, "%s", msg);
}

/* Prints one line per file named prefix*suffix: files the store never reads. */
static void list_set_aside(const char *dir, const char *prefix, const char *suffix, const char *what)
{
    char **names;
    size_t n;
    if (fsu_list_dir(dir, prefix, suffix, &names, &n) != VX_OK)
        return;
    for (size_t i = 0; i < n; i++)
        printf("  %-34s %s\n", names[i], what);
    fsu_list_free(names, n);
}

static int check_snapshots(const char *dir, check_state *st, uint64_t *newest_valid_lsn)
{
    char **names, **tmps;
    size_t n, nt;
    int rc = fsu_list_dir(dir, SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX, &names, &n);
    if (rc != VX_OK)
        return rc;
    rc = fsu_list_dir(dir, SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX SNAP_TMP_SUFFIX, &tmps, &nt);
    if (rc != VX_OK) {
        fsu_list_free(names, n);
        return rc;
    }
    printf("snapshots: %zu\n", n);
    *newest_valid_lsn = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], err[PATH_MAX + 512] = "";
        uint64_t name_lsn = 0;
        fsu_path(path, sizeof path, dir, names[i]);
        if (fsu_parse_lsn_name(names[i], SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX, &name_lsn) != 0) {
            printf("  %-34s ignored (not a snapshot name)\n", names[i]);
            continue;
        }
        snap *s;
        int orc = snap_open(&s, path, 0, err, sizeof err);
        if (orc == VX_OK && snap_lsn(s) != name_lsn) {
            snprintf(err, sizeof err, "%s: header LSN %" PRIu64 " does not match the file name", path,
                     snap_lsn(s));
            snap_close(s);
            orc = VX_ERR_CORRUPT;
        }
        if (orc != VX_OK) {
            printf("  %-34s CORRUPT: %s\n", names[i], err);
            check_problem(st, err);
            continue;
        }
        uint64_t bytes = 0;
        for (size_t k = 0; k < snap_section_count(s); k++)
            bytes += snap_section_at(s, k)->len;
        printf("  %-34s ok  LSN %" PRIu64 ", %zu sections, %" PRIu64 " payload bytes, %" PRIu64
               " file bytes\n",
               names[i], snap_lsn(s), snap_section_count(s), bytes, snap_file_size(s));
        if (snap_lsn(s) > *newest_valid_lsn)
            *newest_valid_lsn = snap_lsn(s);
        snap_close(s);
    }
    if (n > 0 && *newest_valid_lsn == 0) {
        /* every snapshot is bad: the WAL alone cannot be checked for gaps */
        printf("  no valid snapshot\n");
    }
    for (size_t i = 0; i < nt; i++)
        printf("  %-34s ignored (unfinished snapshot; the store removes it)\n", tmps[i]);
    list_set_aside(dir, SNAP_FILE_PREFIX, SNAP_FILE_SUFFIX SNAP_CORRUPT_SUFFIX,
                   "set aside (corrupt; skipped by --accept-loss, never read)");
    fsu_list_free(names, n);
    fsu_list_free(tmps, nt);
    return VX_OK;
}

static const char *seg_status_name(wal_segment_status s)
{
    switch (s) {
    case WAL_SEG_OK: return "ok";
    case WAL_SEG_TORN_TAIL: return "TORN TAIL";
    case WAL_SEG_CORRUPT: return "CORRUPT";
    }
    return "?";
}

static void on_segment(void *ctx, const wal_segment_info *info)
{
    check_state *st = ctx;
    st->wal_bytes += info->size;
    printf("  %-34s %s  %" PRIu64 " bytes, %" PRIu64 " records", info->file,
           seg_status_name(info->status), info->size, info->records);
    if (info->records > 0)
        printf(", LSN %" PRIu64 "..%" PRIu64, info->first_lsn, info->last_lsn);
    if (info->status != WAL_SEG_OK)
        printf("\n      at offset %" PRIu64 ": %s", info->good_bytes, info->problem);
    printf("\n");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vectron-check DATA_DIR [--repair] [--accept-loss] [-v]\n"
            "  Verifies every snapshot and WAL segment of a vectron-store data directory\n"
            "  (stop the store first: a directory in use is refused). Exit 0: all valid;\n"
            "  1: problems found; 2: usage error, no such directory, or the directory is in use.\n"
            "  --repair       truncate a torn WAL tail to the last complete record\n"
            "  --accept-loss  with --repair: also cut the log at damage in its middle,\n"
            "                 dropping every later record (moved aside as *.lost)\n"
            "  -v             log details while checking\n");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    bool repair = false, accept_loss = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repair") == 0)
            repair = true;
        else if (strcmp(argv[i], "--accept-loss") == 0)
            accept_loss = true;
        else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "vectron-check: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else
            dir = argv[i];
    }
    if (!dir || (accept_loss && !repair)) {
        if (dir)
            fprintf(stderr, "vectron-check: --accept-loss only makes sense with --repair\n");
        usage(stderr);
        return 2;
    }
    vx_log_init("vectron-check", verbose ? VX_LOG_DEBUG : (repair ? VX_LOG_WARN : VX_LOG_OFF));

    /* The data-directory lock: a running store holds it (and would make its
     * own half-written tail look torn); held until exit. */
    fsu_dir_lock *lock = NULL;
    long holder = 0;
    int rc = fsu_dir_lock_acquire(dir, &lock, &holder);
    if (rc == VX_ERR_NOT_FOUND) {
        fprintf(stderr, "vectron-check: %s: no such directory\n", dir);
        return 2;
    }
    if (rc == VX_ERR_CONFLICT) {
        fprintf(stderr, "vectron-check: %s is in use (pid %ld holds %s/%s): stop the store first\n",
                dir, holder, dir, FSU_LOCK_NAME);
        return 2;
    }
    if (rc != VX_OK) {
        fprintf(stderr, "vectron-check: %s/%s: cannot lock: %s\n", dir, FSU_LOCK_NAME, vx_strerror(rc));
        return 1;
    }

    check_state st = {0};
    printf("data directory: %s\n", dir);
    uint64_t snap_lsn_newest = 0;
    rc = check_snapshots(dir, &st, &snap_lsn_newest);
    if (rc != VX_OK) {
        fprintf(stderr, "vectron-check: %s: cannot list: %s\n", dir, vx_strerror(rc));
        return 1;
    }

    if (repair) {
        wal_replay_opts ro = {.repair = true, .accept_loss = accept_loss};
        wal_replay_result rr;
        rc = wal_replay(dir, snap_lsn_newest, NULL, NULL, &ro, &rr);
        if (rc != VX_OK)
            printf("repair: not possible: %s\n", rr.error[0] ? rr.error : vx_strerror(rc));
        else if (rr.torn_tail || rr.data_lost)
            printf("repair: %s: %s\n", rr.data_lost ? "cut the log (DATA LOST)" : "truncated a torn tail",
                   rr.error);
        else if (rr.covered_damage[0])
            printf("repair: moved a damaged segment the snapshot covers aside as .lost (nothing lost): "
                   "%s\n", rr.covered_damage);
        else
            printf("repair: nothing to repair in the WAL\n");
        if (!verbose)
            vx_log_set_level(VX_LOG_OFF); /* the report below says it all */
    }

    printf("wal:\n");
    wal_replay_opts vo = {.on_segment = on_segment, .segment_ctx = &st};
    wal_replay_result res;
    rc = wal_replay(dir, snap_lsn_newest, NULL, NULL, &vo, &res);
    if (rc != VX_OK) {
        check_problem(&st, res.error[0] ? res.error : vx_strerror(rc));
        if (strstr(res.error, "missing"))
            printf("  GAP: %s\n", res.error);
    } else if (res.covered_damage[0]) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s (in a segment the newest snapshot covers: nothing is lost, the "
                 "store starts; an older snapshot could not be used with this log)", res.covered_damage);
        check_problem(&st, msg);
    }
    if (rc == VX_OK && res.torn_tail) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s (torn tail: vectron-check --repair, or the store on start, "
                 "truncates it)", res.error);
        check_problem(&st, msg);
    }
    list_set_aside(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX ".tmp", "ignored (unfinished segment; the store removes it)");
    list_set_aside(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX ".lost", "set aside (.lost: never read)");
    printf("summary: %" PRIu64 " segments, %" PRIu64 " bytes, %" PRIu64 " records", res.segments,
           st.wal_bytes, res.records);
    if (res.records > 0)
        printf(", LSN %" PRIu64 "..%" PRIu64, res.first_lsn, res.last_lsn);
    printf("; newest valid snapshot LSN %" PRIu64 "\n", snap_lsn_newest);
    if (st.problems == 0) {
        printf("result: OK\n");
        return 0;
    }
    printf("result: %u problem%s; first: %s\n", st.problems, st.problems == 1 ? "" : "s",
           st.first_error);
    return 1;
}
