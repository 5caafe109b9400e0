/*
 * fuzz_wal_replay.c — libFuzzer target for WAL recovery (store-svc/wal_replay.c).
 *
 * The input is written as one or more segment files (split wherever the WAL
 * magic starts a new chunk; each file is named after the first_lsn field of
 * its header, so crafted multi-segment logs are reachable) into a scratch
 * directory, then:
 *   1. a read-only replay must not crash and must not modify anything;
 *   2. a replay with repair + accept_loss must succeed (never CORRUPT);
 *   3. after that repair, a strict replay must succeed with exactly the
 *      same records and no torn tail (repair leaves a clean log).
 * Any violation aborts. Build command: docs/DURABILITY.md §10.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "persist.h"
#include "vx_err.h"
#include "vx_log.h"
#include "wal.h"

static char fz_dir[128];

static void fz_clear(void)
{
    DIR *d = opendir(fz_dir);
    if (!d)
        abort();
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fsu_unlink_in(fz_dir, e->d_name);
    closedir(d);
}

typedef struct fz_sum {
    uint64_t n, last, bytes;
} fz_sum;

static int fz_cb(void *ctx, const wal_record *r)
{
    fz_sum *s = ctx;
    if (s->n > 0 && r->lsn <= s->last)
        abort(); /* delivered out of order */
    const volatile unsigned char *p = r->payload;
    for (size_t i = 0; i < r->len; i++)
        s->bytes += p[i];
    s->n++;
    s->last = r->lsn;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_dir[0]) {
        vx_log_set_level(VX_LOG_OFF);
        snprintf(fz_dir, sizeof fz_dir, "%s/vxfuzz-wal.XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(fz_dir))
            abort();
    }
    fz_clear();
    /* Split at each WAL magic after the start (at most 4 files). */
    size_t starts[5] = {0}, n = 1;
    for (size_t i = 1; i + WAL_MAGIC_LEN <= size && n < 4; i++)
        if (memcmp(data + i, WAL_MAGIC, WAL_MAGIC_LEN) == 0)
            starts[n++] = i;
    starts[n] = size;
    uint64_t min_lsn = UINT64_MAX;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *c = data + starts[k];
        size_t len = starts[k + 1] - starts[k];
        uint64_t lsn = len >= WAL_HDR_OFF_FIRST_LSN + 8 ? le_get64(c + WAL_HDR_OFF_FIRST_LSN) : k + 1;
        if (lsn < min_lsn)
            min_lsn = lsn;
        char name[64];
        snprintf(name, sizeof name, WAL_FILE_PREFIX "%016llx" WAL_FILE_SUFFIX, (unsigned long long)lsn);
        if (fsu_write_file_atomic(fz_dir, name, c, len) != VX_OK)
            abort();
    }
    uint64_t after = min_lsn ? min_lsn - 1 : 0;

    wal_replay_result r0, r1, r2;
    fz_sum s0 = {0}, s1 = {0}, s2 = {0};
    int rc0 = wal_replay(fz_dir, after, fz_cb, &s0, NULL, &r0);
    if (rc0 != VX_OK && rc0 != VX_ERR_CORRUPT)
        abort();
    wal_replay_opts fix = {.repair = true, .accept_loss = true};
    int rc1 = wal_replay(fz_dir, after, fz_cb, &s1, &fix, &r1);
    if (rc1 != VX_OK)
        abort();
    if (rc0 == VX_OK && s1.n != s0.n)
        abort(); /* repair must not change what a clean read delivers */
    int rc2 = wal_replay(fz_dir, after, fz_cb, &s2, NULL, &r2);
    if (rc2 != VX_OK || r2.torn_tail || s2.n != s1.n || s2.bytes != s1.bytes || r2.last_lsn != r1.last_lsn)
        abort();
    return 0;
}
