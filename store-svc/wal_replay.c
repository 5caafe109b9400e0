/*
 * wal_replay.c — reading and verifying the WAL (see wal.h): scans every
 * segment in LSN order through a read-only mmap, checks each header and
 * record, classifies damage and repairs what may be repaired.
 *
 * Classification of the first bad record at offset off of segment S:
 *  - ordering error (a record with a valid CRC whose LSN is not after the
 *    previous one): always corruption — a torn write cannot produce it;
 *  - S is not the last segment: corruption (segments are fsynced before the
 *    next one is created, so only the last can have a torn tail);
 *  - S is last and a valid record follows (a resync scan looks for a record
 *    with a correct CRC and an LSN just after the last good one): corruption
 *    in the middle;
 *  - otherwise: a torn tail, truncated at off when opts.repair.
 * A segment that does not start right after the previous one's last LSN
 * (prev + 1) means missing records — a lost segment — unless the snapshot
 * covers them; that is corruption too, found before the segment is read.
 * Damage in a segment the snapshot covers entirely (the next segment starts
 * at or before after_lsn + 1) loses nothing: reported in covered_damage,
 * replay goes on. Any other corruption is VX_ERR_CORRUPT unless accept_loss:
 * then replay stops there, logs at ERROR what was dropped and, with repair,
 * truncates S at off and renames the later segments to "<name>.lost".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "persist.h"
#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"
#include "wal.h"

typedef struct seg_scan {
    const char *dir;
    const char *name;
    bool is_last;
    uint64_t after_lsn;
    wal_replay_fn cb;
    void *ctx;
    /* results */
    wal_segment_info info;
    uint64_t delivered;
    bool cb_stopped;    /* the callback returned non-zero */
    uint64_t bad_off;   /* valid when info.status != WAL_SEG_OK */
    char problem[256];
} seg_scan;

/* snprintf into a fixed message field; a long path is cut, not an error. */
static void wal_format(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void wal_format(char *dst, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, len, fmt, ap);
    va_end(ap);
}

#define wal_set_error(res, ...) wal_format((res)->error, sizeof (res)->error, __VA_ARGS__)

/* 1 when a record starting at p (within [base, end)) is well-formed, has a
 * correct CRC and an LSN in (min_lsn, min_lsn + window]. */
static int wal_record_ok_at(const unsigned char *p, const unsigned char *end, uint64_t min_lsn)
{
    if ((size_t)(end - p) < WAL_REC_HDR_SIZE)
        return 0;
    uint32_t len = le_get32(p + WAL_REC_OFF_LEN);
    uint8_t type = p[WAL_REC_OFF_TYPE];
    uint64_t lsn = le_get64(p + WAL_REC_OFF_LSN);
    if (type == 0 || len > WAL_MAX_PAYLOAD || lsn <= min_lsn ||
        lsn - min_lsn > WAL_RESYNC_LSN_WINDOW || (size_t)(end - p) - WAL_REC_HDR_SIZE < len)
        return 0;
    uint32_t crc = vx_crc32c(0, p + WAL_REC_OFF_TYPE, 9);
    crc = vx_crc32c(crc, p + WAL_REC_HDR_SIZE, len);
    return crc == le_get32(p + WAL_REC_OFF_CRC);
}

/* Is there a valid record anywhere in (from, end)? */
static int wal_resync(const unsigned char *base, uint64_t from, uint64_t size, uint64_t min_lsn)
{
    for (uint64_t off = from + 1; off + WAL_REC_HDR_SIZE <= size; off++)
        if (wal_record_ok_at(base + off, base + size, min_lsn))
            return 1;
    return 0;
}

/* Validates the segment header; sets s->problem on failure. */
static int wal_check_header(seg_scan *s, const unsigned char *m, uint64_t size, uint64_t name_lsn,
                            uint64_t *hdr_size)
{
    if (size < WAL_HDR_SIZE) {
        snprintf(s->problem, sizeof s->problem, "file is %" PRIu64 " bytes, shorter than the %d-byte header",
                 size, WAL_HDR_SIZE);
        return -1;
    }
    if (memcmp(m, WAL_MAGIC, WAL_MAGIC_LEN) != 0) {
        snprintf(s->problem, sizeof s->problem, "bad magic (not a Vectron WAL segment)");
        return -1;
    }
    if (le_get32(m + WAL_HDR_OFF_CRC) != vx_crc32c(0, m, WAL_HDR_OFF_CRC)) {
        snprintf(s->problem, sizeof s->problem, "header CRC mismatch");
        return -1;
    }
    uint16_t version = le_get16(m + WAL_HDR_OFF_VERSION);
    if (version != WAL_VERSION) {
        snprintf(s->problem, sizeof s->problem, "unsupported version %u (this build reads %d)",
                 version, WAL_VERSION);
        return -1;
    }
    *hdr_size = le_get32(m + WAL_HDR_OFF_HDRSIZE);
    if (*hdr_size < WAL_HDR_SIZE || *hdr_size > size) {
        snprintf(s->problem, sizeof s->problem, "bad header size %" PRIu64, *hdr_size);
        return -1;
    }
    s->info.header_lsn = le_get64(m + WAL_HDR_OFF_FIRST_LSN);
    if (s->info.header_lsn != name_lsn) {
        snprintf(s->problem, sizeof s->problem,
                 "header says first LSN %" PRIu64 " but the file name says %" PRIu64,
                 s->info.header_lsn, name_lsn);
        return -1;
    }
    return 0;
}

/* Scans one mapped segment. prev_lsn: last valid LSN before this segment.
 * Returns VX_OK (status in s->info) or the callback's non-zero value. */
static int wal_scan_map(seg_scan *s, const unsigned char *m, uint64_t size, uint64_t name_lsn,
                        uint64_t prev_lsn)
{
    uint64_t hdr_size = 0;
    s->info.size = size;
    if (wal_check_header(s, m, size, name_lsn, &hdr_size) != 0) {
        s->info.status = WAL_SEG_CORRUPT;
        s->bad_off = 0;
        return VX_OK;
    }
    if (s->info.header_lsn <= prev_lsn) {
        snprintf(s->problem, sizeof s->problem,
                 "segment starts at LSN %" PRIu64 ", not after the previous LSN %" PRIu64,
                 s->info.header_lsn, prev_lsn);
        s->info.status = WAL_SEG_CORRUPT;
        s->bad_off = 0;
        return VX_OK;
    }
    uint64_t last = s->info.header_lsn - 1;
    uint64_t off = hdr_size;
    s->info.good_bytes = off;
    bool order_error = false;
    while (off < size) {
        const unsigned char *p = m + off;
        uint64_t left = size - off;
        if (left < WAL_REC_HDR_SIZE) {
            snprintf(s->problem, sizeof s->problem, "partial record header (%" PRIu64 " of %d bytes)",
                     left, WAL_REC_HDR_SIZE);
            break;
        }
        uint32_t len = le_get32(p + WAL_REC_OFF_LEN);
        uint8_t type = p[WAL_REC_OFF_TYPE];
        uint64_t lsn = le_get64(p + WAL_REC_OFF_LSN);
        if (len > WAL_MAX_PAYLOAD) {
            snprintf(s->problem, sizeof s->problem, "record length %u exceeds the limit %u", len,
                     WAL_MAX_PAYLOAD);
            break;
        }
        if (left - WAL_REC_HDR_SIZE < len) {
            snprintf(s->problem, sizeof s->problem,
                     "partial record (%u-byte payload, %" PRIu64 " bytes present)", len,
                     left - WAL_REC_HDR_SIZE);
            break;
        }
        uint32_t crc = vx_crc32c(0, p + WAL_REC_OFF_TYPE, 9);
        crc = vx_crc32c(crc, p + WAL_REC_HDR_SIZE, len);
        if (crc != le_get32(p + WAL_REC_OFF_CRC)) {
            snprintf(s->problem, sizeof s->problem, "record CRC mismatch (length %u, LSN field %" PRIu64 ")",
                     len, lsn);
            break;
        }
        if (type == 0) {
            snprintf(s->problem, sizeof s->problem, "record type 0 is reserved");
            order_error = true;
            break;
        }
        if (lsn <= last) {
            snprintf(s->problem, sizeof s->problem, "LSN %" PRIu64 " is not after the previous LSN %" PRIu64,
                     lsn, last);
            order_error = true;
            break;
        }
        if (s->info.records == 0)
            s->info.first_lsn = lsn;
        s->info.records++;
        s->info.last_lsn = lsn;
        last = lsn;
        off += WAL_REC_HDR_SIZE + (uint64_t)len;
        s->info.good_bytes = off;
        if (lsn > s->after_lsn) {
            s->delivered++;
            wal_record rec = {lsn, type, p + WAL_REC_HDR_SIZE, len, s->name,
                              off - WAL_REC_HDR_SIZE - len};
            int rc = s->cb ? s->cb(s->ctx, &rec) : 0;
            if (rc != 0) {
                s->cb_stopped = true;
                return rc;
            }
        }
    }
    if (off >= size) {
        s->info.status = WAL_SEG_OK;
        return VX_OK;
    }
    s->bad_off = off;
    if (!order_error && s->is_last && !wal_resync(m, off, size, last)) {
        s->info.status = WAL_SEG_TORN_TAIL;
    } else {
        s->info.status = WAL_SEG_CORRUPT;
        size_t n = strlen(s->problem);
        snprintf(s->problem + n, sizeof s->problem - n, "%s",
                 order_error ? "" : (s->is_last ? "; valid records follow it" : "; not the last segment"));
    }
    return VX_OK;
}

static int wal_scan_file(seg_scan *s, uint64_t name_lsn, uint64_t prev_lsn)
{
    char path[PATH_MAX];
    int rc = fsu_path(path, sizeof path, s->dir, s->name);
    if (rc != VX_OK)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        VX_ERROR("wal: cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? VX_ERR_NOT_FOUND : VX_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return VX_ERR_IO;
    }
    uint64_t size = (uint64_t)st.st_size;
    void *m = NULL;
    if (size > 0) {
        m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            VX_ERROR("wal: cannot map %s: %s", path, strerror(errno));
            close(fd);
            return VX_ERR_IO;
        }
        madvise(m, (size_t)size, MADV_SEQUENTIAL);
    }
    close(fd);
    static const unsigned char empty[1];
    rc = wal_scan_map(s, m ? m : empty, size, name_lsn, prev_lsn);
    if (m)
        munmap(m, (size_t)size);
    return rc;
}

/* Renames every segment after index i to "<name>.lost". */
static void wal_move_lost(const char *dir, char **names, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        char lost[NAME_MAX + 1];
        snprintf(lost, sizeof lost, "%s.lost", names[j]);
        if (fsu_rename_durable(dir, names[j], lost) == VX_OK)
            VX_ERROR("wal: DATA LOSS: moved %s/%s aside as %s", dir, names[j], lost);
        else
            VX_ERROR("wal: cannot move %s/%s aside: %s", dir, names[j], strerror(errno));
    }
}

/* A segment that starts after prev + 1 leaves records out: a segment was
 * lost (deleted, or never made it to disk). Only records the snapshot does
 * not cover (LSN > after_lsn) count: older segments may be pruned, and a
 * snapshot taken ahead of a log tail that never reached the disk makes the
 * writer continue after the snapshot. */
static bool wal_gap_after(uint64_t prev, uint64_t after_lsn, uint64_t next_first)
{
    uint64_t have = prev > after_lsn ? prev : after_lsn;
    return next_first > have + 1;
}

/* Segment i starts after a gap. Corruption unless accept_loss; then replay
 * stops before the gap (a later record may depend on a missing one) and,
 * with repair, segment i and every later one are moved aside as "<name>.lost". */
static int wal_handle_gap(const char *dir, char **names, size_t n, size_t i, uint64_t prev,
                          uint64_t after_lsn, uint64_t next_first, const wal_replay_opts *opts,
                          wal_replay_result *res)
{
    uint64_t from = (prev > after_lsn ? prev : after_lsn) + 1;
    wal_set_error(res,
                  "%s/%s: records %" PRIu64 "..%" PRIu64 " are missing: the previous segment (%s) "
                  "ends at LSN %" PRIu64 " and this one starts at %" PRIu64
                  " (a segment was removed or lost)",
                  dir, names[i], from, next_first - 1, names[i - 1], prev, next_first);
    if (!opts->accept_loss) {
        VX_ERROR("wal: corrupt log: %s", res->error);
        return VX_ERR_CORRUPT;
    }
    res->data_lost = true;
    VX_ERROR("wal: DATA LOSS accepted: %s; replay stops at LSN %" PRIu64 ", every later record is dropped",
             res->error, res->last_lsn);
    if (opts->repair)
        wal_move_lost(dir, names, n, i - 1);
    return VX_OK;
}

int wal_replay(const char *dir, uint64_t after_lsn, wal_replay_fn cb, void *ctx,
               const wal_replay_opts *opts, wal_replay_result *res)
{
    wal_replay_result local;
    wal_replay_opts no_opts = {0};
    if (!res)
        res = &local;
    if (!opts)
        opts = &no_opts;
    memset(res, 0, sizeof *res);
    res->next_lsn = after_lsn + 1;

    /* A repairing replay changes files: only with the data-directory lock
     * (a running store appending to the newest segment would look torn). */
    fsu_dir_lock *lock = NULL;
    int rc;
    if (opts->repair) {
        long holder = 0;
        rc = fsu_dir_lock_acquire(dir, &lock, &holder);
        if (rc == VX_ERR_NOT_FOUND)
            return VX_OK; /* no directory: nothing to replay */
        if (rc != VX_OK) {
            if (rc == VX_ERR_CONFLICT)
                wal_set_error(res, "%s: in use by another process (pid %ld holds %s/%s)", dir, holder,
                              dir, FSU_LOCK_NAME);
            else
                wal_set_error(res, "%s/%s: cannot lock: %s", dir, FSU_LOCK_NAME, strerror(errno));
            return rc;
        }
    }

    char **all, **names = NULL;
    size_t n_all, n = 0;
    rc = fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &all, &n_all);
    if (rc == VX_ERR_NOT_FOUND) {
        fsu_dir_lock_release(lock);
        return VX_OK;
    }
    if (rc != VX_OK) {
        wal_set_error(res, "%s: cannot list directory: %s", dir, strerror(errno));
        fsu_dir_lock_release(lock);
        return rc;
    }
    uint64_t *lsns = calloc(n_all ? n_all : 1, sizeof *lsns);
    names = calloc(n_all ? n_all : 1, sizeof *names);
    if (!lsns || !names) {
        rc = VX_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_all; i++)
        if (fsu_parse_lsn_name(all[i], WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &lsns[n]) == 0)
            names[n++] = all[i];

    if (n > 0 && lsns[0] > after_lsn + 1) {
        wal_set_error(res,
                 "%s/%s: the log starts at LSN %" PRIu64 " but the snapshot covers only up to %" PRIu64
                 ": records %" PRIu64 "..%" PRIu64 " are missing",
                 dir, names[0], lsns[0], after_lsn, after_lsn + 1, lsns[0] - 1);
        if (!opts->accept_loss) {
            rc = VX_ERR_CORRUPT;
            goto out;
        }
        VX_ERROR("wal: DATA LOSS accepted: %s", res->error);
        res->data_lost = true;
    }

    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (opts->skip_covered && i + 1 < n && lsns[i + 1] <= after_lsn + 1) {
            prev = lsns[i + 1] - 1;
            continue;
        }
        if (i > 0 && wal_gap_after(prev, after_lsn, lsns[i])) {
            rc = wal_handle_gap(dir, names, n, i, prev, after_lsn, lsns[i], opts, res);
            if (rc != VX_OK)
                goto out;
            break;
        }
        seg_scan s = {.dir = dir, .name = names[i], .is_last = (i + 1 == n), .after_lsn = after_lsn,
                      .cb = cb, .ctx = ctx};
        s.info.file = names[i];
        rc = wal_scan_file(&s, lsns[i], prev);
        if (rc != VX_OK) {
            if (!s.cb_stopped && !res->error[0])
                wal_set_error(res, "%s/%s: %s", dir, names[i],
                         rc == VX_ERR_NOT_FOUND ? "segment vanished (truncated concurrently)"
                                                : "read failed");
            goto out;
        }
        res->segments++;
        if (s.info.records > 0) {
            if (res->records == 0)
                res->first_lsn = s.info.first_lsn;
            res->last_lsn = s.info.last_lsn;
            prev = s.info.last_lsn;
        } else if (s.info.header_lsn > prev + 1) {
            prev = s.info.header_lsn - 1;
        }
        res->records += s.info.records;
        res->delivered += s.delivered;
        if (s.info.status != WAL_SEG_OK)
            s.info.problem = s.problem;
        if (opts->on_segment)
            opts->on_segment(opts->segment_ctx, &s.info);
        if (s.info.header_lsn && s.info.status != WAL_SEG_CORRUPT && s.info.header_lsn > res->next_lsn)
            res->next_lsn = s.info.header_lsn;
        if (s.info.status == WAL_SEG_OK)
            continue;

        char path[PATH_MAX];
        fsu_path(path, sizeof path, dir, names[i]);
        if (s.info.status == WAL_SEG_CORRUPT && i + 1 < n && lsns[i + 1] <= after_lsn + 1) {
            /* Every record of this segment is <= after_lsn: the damage loses
             * nothing the snapshot does not hold. Replay goes on with the
             * next segment (the gap check starts from its first LSN). */
            if (!res->covered_damage[0])
                wal_format(res->covered_damage, sizeof res->covered_damage, "%s: offset %" PRIu64 ": %s",
                           path, s.bad_off, s.problem);
            VX_WARN("wal: damage in %s at offset %" PRIu64 " (%s), a segment the snapshot at LSN %" PRIu64
                    " covers: nothing is lost%s",
                    path, s.bad_off, s.problem, after_lsn, opts->repair ? "; moved aside as .lost" : "");
            if (opts->repair) {
                char lost[NAME_MAX + 1];
                snprintf(lost, sizeof lost, "%s.lost", names[i]);
                rc = fsu_rename_durable(dir, names[i], lost);
                if (rc != VX_OK) {
                    VX_ERROR("wal: cannot move %s aside: %s", path, strerror(errno));
                    goto out;
                }
            }
            prev = lsns[i + 1] - 1;
            continue;
        }
        if (!res->error[0])
            wal_set_error(res, "%s: offset %" PRIu64 ": %s", path, s.bad_off,
                     s.problem);
        uint64_t cut = s.bad_off ? s.bad_off : 0;
        if (s.info.status == WAL_SEG_TORN_TAIL) {
            res->torn_tail = true;
            if (opts->repair) {
                rc = fsu_truncate_durable(path, cut);
                if (rc != VX_OK) {
                    VX_ERROR("wal: cannot truncate torn tail of %s: %s", path, strerror(errno));
                    goto out;
                }
                VX_WARN("wal: torn tail in %s at offset %" PRIu64 " (%s): truncated %" PRIu64
                        " bytes; the log ends at LSN %" PRIu64,
                        path, cut, s.problem, s.info.size - cut, res->last_lsn);
            } else {
                VX_WARN("wal: torn tail in %s at offset %" PRIu64 " (%s), %" PRIu64
                        " bytes; not repaired",
                        path, cut, s.problem, s.info.size - cut);
            }
            break;
        }
        /* Corruption in the middle of the log. */
        if (!opts->accept_loss) {
            VX_ERROR("wal: corrupt log: %s", res->error);
            rc = VX_ERR_CORRUPT;
            goto out;
        }
        res->data_lost = true;
        VX_ERROR("wal: DATA LOSS accepted: %s; replay stops at LSN %" PRIu64
                 ", every later record is dropped",
                 res->error, res->last_lsn);
        if (opts->repair) {
            if (cut == 0) {
                char lost[NAME_MAX + 1];
                snprintf(lost, sizeof lost, "%s.lost", names[i]);
                rc = fsu_rename_durable(dir, names[i], lost);
            } else {
                rc = fsu_truncate_durable(path, cut);
            }
            if (rc != VX_OK) {
                VX_ERROR("wal: cannot cut %s at offset %" PRIu64 ": %s", path, cut, strerror(errno));
                goto out;
            }
            wal_move_lost(dir, names, n, i);
        }
        break;
    }
    if (res->last_lsn + 1 > res->next_lsn)
        res->next_lsn = res->last_lsn + 1;
    rc = VX_OK;
out:
    free(lsns);
    free(names);
    fsu_list_free(all, n_all);
    fsu_dir_lock_release(lock);
    return rc;
}
