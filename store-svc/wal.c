/*
 * wal.c — the WAL writer: segments, appends, group commit, rotation and
 * truncation (see wal.h; replay lives in wal_replay.c).
 *
 * Concurrency: one mutex (mu) guards the file descriptor, the LSN counters
 * and the segment. Records are written to the file while holding mu, so
 * file order is LSN order. Durability is tracked by LSN: written_lsn is the
 * newest LSN in the file, durable_lsn the newest one covered by a finished
 * fdatasync. A waiter that needs lsn > durable_lsn either becomes the
 * flusher (flushing == false: it notes target = written_lsn, drops mu,
 * fdatasyncs, retakes mu, publishes durable_lsn = target and broadcasts) or
 * sleeps on cv until the running flush ends. Appenders never wait on the
 * fsync while holding mu, so records keep streaming into the file during a
 * flush and are all covered by the next one: many records per fsync under
 * load. Rotation waits for a running flush to end before switching files.
 *
 * Invariants: durable_lsn <= written_lsn == next_lsn - 1 (once a record is
 * written); failed != 0 is sticky; only the flusher touches the fd outside mu.
 */
#include "wal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "persist.h"
#include "vx_clock.h"
#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"

struct wal {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* durable_lsn advanced or a flush ended */
    pthread_cond_t tick_cv; /* wakes the EVERYSEC thread on close */
    char *dir;
    int fd;
    char seg_name[64];
    uint64_t seg_first_lsn;
    uint64_t seg_bytes;
    uint64_t seg_max;
    wal_fsync_policy policy;
    uint64_t next_lsn;
    uint64_t written_lsn;
    uint64_t durable_lsn;
    bool flushing;
    int failed;
    bool stopping;
    bool thread_started;
    pthread_t thread;
    wal_stats stats;
    fsu_dir_lock *lock; /* the data-directory lock, held while open */
};

const char *wal_fsync_policy_name(wal_fsync_policy p)
{
    switch (p) {
    case WAL_FSYNC_ALWAYS: return "always";
    case WAL_FSYNC_EVERYSEC: return "everysec";
    case WAL_FSYNC_NONE: return "none";
    }
    return "unknown";
}

int wal_fsync_policy_parse(const char *s, wal_fsync_policy *out)
{
    static const wal_fsync_policy all[] = {WAL_FSYNC_ALWAYS, WAL_FSYNC_EVERYSEC, WAL_FSYNC_NONE};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++)
        if (strcasecmp(s, wal_fsync_policy_name(all[i])) == 0) {
            *out = all[i];
            return VX_OK;
        }
    return VX_ERR_INVALID;
}

static void wal_seg_name(char *out, size_t len, uint64_t first_lsn)
{
    snprintf(out, len, WAL_FILE_PREFIX "%016llx" WAL_FILE_SUFFIX, (unsigned long long)first_lsn);
}

/* Creates wal-<first_lsn>.log atomically (tmp + fsync + rename + dir fsync)
 * and makes it the active segment. Called with mu held (or before threads). */
static int wal_new_segment(wal *w, uint64_t first_lsn)
{
    char name[64], tmp_name[80], tmp_path[PATH_MAX], path[PATH_MAX];
    wal_seg_name(name, sizeof name, first_lsn);
    snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
    if (fsu_path(tmp_path, sizeof tmp_path, w->dir, tmp_name) != VX_OK ||
        fsu_path(path, sizeof path, w->dir, name) != VX_OK)
        return VX_ERR_LIMIT;

    unsigned char hdr[WAL_HDR_SIZE] = {0};
    memcpy(hdr, WAL_MAGIC, WAL_MAGIC_LEN);
    le_put16(hdr + WAL_HDR_OFF_VERSION, WAL_VERSION);
    le_put32(hdr + WAL_HDR_OFF_HDRSIZE, WAL_HDR_SIZE);
    le_put32(hdr + WAL_HDR_OFF_FLAGS, 0);
    le_put64(hdr + WAL_HDR_OFF_FIRST_LSN, first_lsn);
    le_put32(hdr + WAL_HDR_OFF_CRC, vx_crc32c(0, hdr, WAL_HDR_OFF_CRC));

    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        VX_ERROR("wal: cannot create %s: %s", tmp_path, strerror(errno));
        return VX_ERR_IO;
    }
    int rc = fsu_write_all(fd, hdr, sizeof hdr);
    if (rc == VX_OK && fdatasync(fd) != 0)
        rc = VX_ERR_IO;
    if (rc == VX_OK && rename(tmp_path, path) != 0)
        rc = VX_ERR_IO;
    if (rc == VX_OK)
        rc = fsu_fsync_dir(w->dir);
    if (rc != VX_OK) {
        VX_ERROR("wal: cannot create segment %s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp_path);
        return rc;
    }
    w->fd = fd;
    snprintf(w->seg_name, sizeof w->seg_name, "%s", name);
    w->seg_first_lsn = first_lsn;
    w->seg_bytes = WAL_HDR_SIZE;
    w->stats.segments_created++;
    w->stats.fsyncs++;
    return VX_OK;
}

/* fdatasync with stats; called by whoever owns the fd at that moment. */
static int wal_fdatasync(wal *w, int fd, uint64_t *ns_out)
{
    uint64_t t0 = vx_now_ns();
    int rc = fdatasync(fd);
    *ns_out = vx_now_ns() - t0;
    (void)w;
    return rc == 0 ? VX_OK : VX_ERR_IO;
}

static void wal_note_fsync(wal *w, uint64_t ns)
{
    w->stats.fsyncs++;
    w->stats.fsync_ns_total += ns;
    if (ns > w->stats.fsync_ns_max)
        w->stats.fsync_ns_max = ns;
}

/* Makes every LSN <= target durable. mu held on entry and exit. */
static int wal_flush_locked(wal *w, uint64_t target)
{
    while (w->durable_lsn < target) {
        if (w->failed)
            return w->failed;
        if (w->flushing) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        w->flushing = true;
        uint64_t upto = w->written_lsn;
        int fd = w->fd;
        pthread_mutex_unlock(&w->mu);
        uint64_t ns;
        int rc = wal_fdatasync(w, fd, &ns);
        int err = errno;
        pthread_mutex_lock(&w->mu);
        w->flushing = false;
        if (rc != VX_OK) {
            w->failed = VX_ERR_IO;
            VX_ERROR("wal: fdatasync of %s/%s failed: %s; the log refuses further writes", w->dir,
                     w->seg_name, strerror(err));
        } else {
            wal_note_fsync(w, ns);
            if (upto > w->durable_lsn)
                w->durable_lsn = upto;
        }
        pthread_cond_broadcast(&w->cv);
    }
    return VX_OK;
}

/* Closes the active segment durably and starts the next one, if it is still
 * needed after waiting for a running flush: for a record of rec_bytes that
 * does not fit (rec_bytes > 0), or when the segment holds any record
 * (rec_bytes == 0, an explicit rotation). mu held. */
static int wal_rotate_locked(wal *w, uint64_t rec_bytes)
{
    while (w->flushing)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->failed)
        return w->failed;
    if (w->seg_bytes <= WAL_HDR_SIZE || (rec_bytes > 0 && w->seg_bytes + rec_bytes <= w->seg_max))
        return VX_OK; /* another thread rotated while we waited */
    uint64_t ns;
    if (wal_fdatasync(w, w->fd, &ns) != VX_OK) {
        w->failed = VX_ERR_IO;
        VX_ERROR("wal: fdatasync of %s/%s failed: %s", w->dir, w->seg_name, strerror(errno));
        return w->failed;
    }
    wal_note_fsync(w, ns);
    w->durable_lsn = w->written_lsn;
    pthread_cond_broadcast(&w->cv);
    close(w->fd);
    w->fd = -1;
    int rc = wal_new_segment(w, w->next_lsn);
    if (rc != VX_OK)
        w->failed = rc;
    return rc;
}

static void *wal_everysec_main(void *arg)
{
    wal *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&w->tick_cv, &w->mu, &ts);
        if (!w->stopping && w->written_lsn > w->durable_lsn)
            wal_flush_locked(w, w->written_lsn);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Checks the existing log against next_lsn: the newest segment is read
 * (older ones are skipped) and must end cleanly (no unrepaired torn tail)
 * before next_lsn, so the new segment can never make the log inconsistent.
 * Then the newest segment is fsynced: its tail may still be only in the
 * page cache from a previous process. */
static int wal_check_existing(const char *dir, uint64_t next_lsn)
{
    char **names;
    size_t n;
    int rc = fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n);
    if (rc != VX_OK)
        return rc;
    uint64_t newest = 0;
    const char *newest_name = NULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t lsn;
        if (fsu_parse_lsn_name(names[i], WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &lsn) == 0 &&
            (!newest_name || lsn >= newest)) {
            newest = lsn;
            newest_name = names[i];
        }
    }
    if (newest_name) {
        wal_replay_opts ro = {.skip_covered = true};
        wal_replay_result res;
        rc = wal_replay(dir, newest ? newest - 1 : 0, NULL, NULL, &ro, &res);
        if (rc != VX_OK) {
            VX_ERROR("wal: cannot open the log in %s: %s", dir, res.error);
        } else if (res.torn_tail) {
            VX_ERROR("wal: %s has an unrepaired torn tail (%s): replay with repair before "
                     "opening",
                     newest_name, res.error);
            rc = VX_ERR_INVALID;
        } else if (next_lsn < res.next_lsn) {
            VX_ERROR("wal: next_lsn %llu is not after the log's last LSN in %s (replay the log "
                     "first and pass its next_lsn %llu)",
                     (unsigned long long)next_lsn, newest_name, (unsigned long long)res.next_lsn);
            rc = VX_ERR_INVALID;
        }
    }
    if (rc == VX_OK) { /* segments whose creation was interrupted */
        char **tmps;
        size_t nt;
        if (fsu_list_dir(dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX ".tmp", &tmps, &nt) == VX_OK) {
            for (size_t i = 0; i < nt; i++)
                if (fsu_unlink_in(dir, tmps[i]) == VX_OK)
                    VX_INFO("wal: removed unfinished %s/%s", dir, tmps[i]);
            fsu_list_free(tmps, nt);
        }
    }
    if (rc == VX_OK && newest_name) {
        char path[PATH_MAX];
        rc = fsu_path(path, sizeof path, dir, newest_name);
        if (rc == VX_OK) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || fsync(fd) != 0)
                rc = VX_ERR_IO;
            if (fd >= 0)
                close(fd);
            if (rc != VX_OK)
                VX_ERROR("wal: cannot fsync %s: %s", path, strerror(errno));
        }
    }
    fsu_list_free(names, n);
    return rc;
}

int wal_open(wal **out, const char *dir, const wal_open_opts *opts, uint64_t next_lsn)
{
    *out = NULL;
    if (!dir || next_lsn == 0)
        return VX_ERR_INVALID;
    int rc = fsu_mkdir_p(dir);
    if (rc != VX_OK) {
        VX_ERROR("wal: cannot create directory %s: %s", dir, strerror(errno));
        return rc;
    }
    fsu_dir_lock *lock = NULL;
    long holder = 0;
    rc = fsu_dir_lock_acquire(dir, &lock, &holder);
    if (rc == VX_ERR_CONFLICT) {
        VX_ERROR("wal: data directory %s is in use by another process (pid %ld holds %s/%s)", dir,
                 holder, dir, FSU_LOCK_NAME);
        return rc;
    }
    if (rc != VX_OK) {
        VX_ERROR("wal: cannot lock %s/%s: %s", dir, FSU_LOCK_NAME, strerror(errno));
        return rc;
    }
    rc = wal_check_existing(dir, next_lsn);
    if (rc != VX_OK) {
        fsu_dir_lock_release(lock);
        return rc;
    }

    wal *w = calloc(1, sizeof *w);
    if (!w) {
        fsu_dir_lock_release(lock);
        return VX_ERR_NOMEM;
    }
    w->lock = lock;
    w->dir = strdup(dir);
    if (!w->dir) {
        fsu_dir_lock_release(lock);
        free(w);
        return VX_ERR_NOMEM;
    }
    w->fd = -1;
    w->policy = opts ? opts->policy : WAL_FSYNC_ALWAYS;
    w->seg_max = (opts && opts->segment_bytes) ? opts->segment_bytes : WAL_SEGMENT_BYTES_DEFAULT;
    w->next_lsn = next_lsn;
    w->written_lsn = next_lsn - 1;
    w->durable_lsn = next_lsn - 1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->tick_cv, NULL);

    rc = wal_new_segment(w, next_lsn);
    if (rc != VX_OK)
        goto fail;
    if (w->policy == WAL_FSYNC_EVERYSEC) {
        if (pthread_create(&w->thread, NULL, wal_everysec_main, w) != 0) {
            rc = VX_ERR_INTERNAL;
            goto fail;
        }
        w->thread_started = true;
    }
    VX_INFO("wal: writing %s/%s (fsync %s)", dir, w->seg_name, wal_fsync_policy_name(w->policy));
    *out = w;
    return VX_OK;
fail:
    if (w->fd >= 0)
        close(w->fd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->tick_cv);
    fsu_dir_lock_release(w->lock);
    free(w->dir);
    free(w);
    return rc;
}

int wal_close(wal *w)
{
    if (!w)
        return VX_OK;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->tick_cv);
    pthread_mutex_unlock(&w->mu);
    if (w->thread_started)
        pthread_join(w->thread, NULL);
    pthread_mutex_lock(&w->mu);
    int rc = wal_flush_locked(w, w->written_lsn);
    if (rc == VX_OK)
        rc = w->failed;
    pthread_mutex_unlock(&w->mu);
    if (w->fd >= 0 && close(w->fd) != 0 && rc == VX_OK)
        rc = VX_ERR_IO;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->tick_cv);
    fsu_dir_lock_release(w->lock);
    free(w->dir);
    free(w);
    return rc;
}

static int wal_writev_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t r = writev(fd, iov, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return VX_ERR_IO;
        }
        size_t done = (size_t)r;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return VX_OK;
}

int wal_write(wal *w, uint8_t type, const void *payload, size_t len, uint64_t *lsn_out)
{
    if (type == 0 || (!payload && len > 0))
        return VX_ERR_INVALID;
    if (len > WAL_MAX_PAYLOAD)
        return VX_ERR_TOO_LARGE;
    unsigned char hdr[WAL_REC_HDR_SIZE];
    int rc = VX_OK;
    pthread_mutex_lock(&w->mu);
    if (w->failed) {
        rc = w->failed;
        goto out;
    }
    uint64_t rec_bytes = WAL_REC_HDR_SIZE + (uint64_t)len;
    if (w->seg_bytes > WAL_HDR_SIZE && w->seg_bytes + rec_bytes > w->seg_max) {
        rc = wal_rotate_locked(w, rec_bytes);
        if (rc != VX_OK)
            goto out;
    }
    uint64_t lsn = w->next_lsn;
    le_put32(hdr + WAL_REC_OFF_LEN, (uint32_t)len);
    hdr[WAL_REC_OFF_TYPE] = type;
    le_put64(hdr + WAL_REC_OFF_LSN, lsn);
    uint32_t crc = vx_crc32c(0, hdr + WAL_REC_OFF_TYPE, 1 + 8);
    crc = vx_crc32c(crc, payload, len);
    le_put32(hdr + WAL_REC_OFF_CRC, crc);
    struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)payload, len}};
    rc = wal_writev_all(w->fd, iov, len ? 2 : 1);
    if (rc != VX_OK) {
        VX_ERROR("wal: write to %s/%s at offset %llu failed: %s; the log refuses further writes",
                 w->dir, w->seg_name, (unsigned long long)w->seg_bytes, strerror(errno));
        /* Best effort: drop the partial record so the file ends cleanly. */
        if (ftruncate(w->fd, (off_t)w->seg_bytes) != 0)
            VX_ERROR("wal: cannot cut the partial record from %s/%s", w->dir, w->seg_name);
        w->failed = rc;
        goto out;
    }
    w->seg_bytes += rec_bytes;
    w->next_lsn = lsn + 1;
    w->written_lsn = lsn;
    w->stats.records++;
    w->stats.bytes += rec_bytes;
    if (lsn_out)
        *lsn_out = lsn;
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_wait_durable(wal *w, uint64_t lsn)
{
    if (w->policy != WAL_FSYNC_ALWAYS)
        return VX_OK;
    pthread_mutex_lock(&w->mu);
    int rc = lsn > w->written_lsn ? VX_ERR_INVALID : wal_flush_locked(w, lsn);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_append(wal *w, uint8_t type, const void *payload, size_t len, uint64_t *lsn_out)
{
    uint64_t lsn;
    int rc = wal_write(w, type, payload, len, &lsn);
    if (rc == VX_OK)
        rc = wal_wait_durable(w, lsn);
    if (rc == VX_OK && lsn_out)
        *lsn_out = lsn;
    return rc;
}

int wal_sync(wal *w)
{
    pthread_mutex_lock(&w->mu);
    int rc = w->failed ? w->failed : wal_flush_locked(w, w->written_lsn);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_rotate(wal *w)
{
    pthread_mutex_lock(&w->mu);
    int rc = wal_rotate_locked(w, 0);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_truncate_before(wal *w, uint64_t lsn, unsigned *removed)
{
    if (removed)
        *removed = 0;
    pthread_mutex_lock(&w->mu);
    uint64_t active = w->seg_first_lsn;
    pthread_mutex_unlock(&w->mu);

    char **names;
    size_t n;
    int rc = fsu_list_dir(w->dir, WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &names, &n);
    if (rc != VX_OK)
        return rc;
    unsigned count = 0;
    /* Names sort in LSN order; segment i holds LSNs < start(i + 1). */
    for (size_t i = 0; i + 1 < n && rc == VX_OK; i++) {
        uint64_t start, next_start;
        if (fsu_parse_lsn_name(names[i], WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &start) != 0 ||
            fsu_parse_lsn_name(names[i + 1], WAL_FILE_PREFIX, WAL_FILE_SUFFIX, &next_start) != 0)
            continue;
        if (start >= active || next_start > lsn + 1)
            break;
        rc = fsu_unlink_in(w->dir, names[i]);
        if (rc == VX_OK) {
            VX_INFO("wal: removed %s/%s (covered by a snapshot at LSN %llu)", w->dir, names[i],
                    (unsigned long long)lsn);
            count++;
        } else {
            VX_ERROR("wal: cannot remove %s/%s: %s", w->dir, names[i], strerror(errno));
        }
    }
    if (count > 0) {
        int rc2 = fsu_fsync_dir(w->dir);
        if (rc == VX_OK)
            rc = rc2;
    }
    fsu_list_free(names, n);
    if (removed)
        *removed = count;
    return rc;
}

void wal_get_stats(wal *w, wal_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    out->last_lsn = w->written_lsn;
    out->durable_lsn = w->durable_lsn;
    out->segment_bytes = w->seg_bytes;
    out->failed = w->failed;
    pthread_mutex_unlock(&w->mu);
}

wal_fsync_policy wal_policy(const wal *w) { return w->policy; }
