/*
 * wal.h — the store's write-ahead log: one store-wide, append-only sequence
 * of typed records with strictly increasing LSNs, split into segment files
 * "wal-<first_lsn as 16 hex>.log" in the data directory. Format:
 * store-svc/persist.h and docs/DURABILITY.md.
 *
 * Writing (struct wal, thread-safe):
 *  - wal_open always starts a NEW segment at next_lsn (created as .tmp,
 *    fsynced, renamed, directory fsynced), so it never appends behind bytes
 *    it has not verified. Call wal_replay(repair) first and pass
 *    last_lsn + 1 (or snapshot_lsn + 1 when the log is empty).
 *  - wal_write puts one record in the file (under the log's mutex, so file
 *    order == LSN order) and returns its LSN without waiting;
 *    wal_wait_durable(lsn) returns once that LSN is durable per the policy.
 *    wal_append = both. With WAL_FSYNC_ALWAYS, waiters share fsyncs (group
 *    commit): one waiter becomes the leader, fsyncs everything written so
 *    far, and wakes everyone it covered.
 *  - WAL_FSYNC_EVERYSEC: a background thread fsyncs once a second; waits
 *    return at once (a crash of the machine loses at most ~1 s; a crash of
 *    the process alone loses nothing, the bytes are in the page cache).
 *    WAL_FSYNC_NONE: the OS decides (segments are still fsynced when they
 *    are closed or rotated).
 *  - An I/O or fsync error poisons the log: every later write returns
 *    VX_ERR_IO (after a failed fsync the page-cache state is unknown, so
 *    retrying could acknowledge lost data). Restart to recover.
 *
 * Reading: wal_replay verifies every segment (header, record CRCs, LSN
 * order) and delivers records with lsn > after_lsn. A torn tail of the LAST
 * segment is reported (and truncated when opts.repair) and is not an error;
 * damage with valid records after it, or in an earlier segment, is
 * VX_ERR_CORRUPT naming file and offset, unless opts.accept_loss.
 *
 * Ownership: the wal owns its fd, thread and copy of dir; wal_close frees
 * all. Record payloads passed to callbacks are valid only during the call.
 */
#ifndef VX_WAL_H
#define VX_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum wal_fsync_policy {
    WAL_FSYNC_ALWAYS = 0, /* default: acknowledged == on stable storage */
    WAL_FSYNC_EVERYSEC = 1,
    WAL_FSYNC_NONE = 2,
} wal_fsync_policy;

/* "always" | "everysec" | "none" */
const char *wal_fsync_policy_name(wal_fsync_policy p);
int wal_fsync_policy_parse(const char *s, wal_fsync_policy *out); /* VX_OK / VX_ERR_INVALID */

typedef struct wal wal;

typedef struct wal_stats {
    uint64_t records;          /* appended since open */
    uint64_t bytes;            /* appended since open, headers included */
    uint64_t fsyncs;           /* fdatasync calls on segments */
    uint64_t fsync_ns_total;   /* sum of their durations */
    uint64_t fsync_ns_max;
    uint64_t segments_created; /* since open, the first one included */
    uint64_t last_lsn;         /* newest LSN written (0: none yet) */
    uint64_t durable_lsn;      /* newest LSN known durable */
    uint64_t segment_bytes;    /* size of the active segment */
    int failed;                /* 0, or the error that poisoned the log */
} wal_stats;

typedef struct wal_open_opts {
    wal_fsync_policy policy;
    uint64_t segment_bytes; /* rotate after this many bytes; 0: WAL_SEGMENT_BYTES_DEFAULT */
} wal_open_opts;

/* Opens the log for appending in dir (created if missing); next_lsn >= 1 is
 * the LSN of the first record this process writes. opts may be NULL
 * (ALWAYS, default segment size). VX_ERR_INVALID when next_lsn is not after
 * the last LSN in the log (a stale next_lsn), or when the newest segment has
 * an unrepaired torn tail; VX_ERR_CORRUPT when the newest segment is damaged;
 * VX_ERR_CONFLICT when another process holds the data-directory lock
 * (fsutil.h: DIR/LOCK, held from here until wal_close). */
int wal_open(wal **out, const char *dir, const wal_open_opts *opts, uint64_t next_lsn);
/* Makes everything durable, stops the flusher thread, closes, frees. NULL ok. */
int wal_close(wal *w);

/* type must be 1..255 (0 is reserved: zero-filled space never parses);
 * len <= WAL_MAX_PAYLOAD. */
int wal_write(wal *w, uint8_t type, const void *payload, size_t len, uint64_t *lsn_out);
int wal_wait_durable(wal *w, uint64_t lsn);
int wal_append(wal *w, uint8_t type, const void *payload, size_t len, uint64_t *lsn_out);
/* fsyncs everything written so far, whatever the policy. */
int wal_sync(wal *w);
/* Ends the active segment (fsynced) and starts a new one at the next LSN. */
int wal_rotate(wal *w);
/* Deletes segments all of whose records have lsn <= lsn (never the active
 * segment). Call after a snapshot covering lsn is durable. *removed may be NULL. */
int wal_truncate_before(wal *w, uint64_t lsn, unsigned *removed);
void wal_get_stats(wal *w, wal_stats *out);
wal_fsync_policy wal_policy(const wal *w);

/* ---- Replay / verification ---- */

typedef struct wal_record {
    uint64_t lsn;
    uint8_t type;
    const void *payload;
    size_t len;
    const char *file; /* segment file name (no directory) */
    uint64_t offset;  /* of the record header in that file */
} wal_record;

/* Return 0 to continue; anything else stops the replay and is returned. */
typedef int (*wal_replay_fn)(void *ctx, const wal_record *rec);

typedef enum wal_segment_status {
    WAL_SEG_OK = 0,
    WAL_SEG_TORN_TAIL,    /* last segment ends in a partial / bad record */
    WAL_SEG_CORRUPT,      /* damage with data after it, or a bad header */
} wal_segment_status;

typedef struct wal_segment_info {
    const char *file;
    uint64_t size;        /* bytes in the file when read */
    uint64_t header_lsn;  /* first_lsn from the header */
    uint64_t records;     /* valid records */
    uint64_t first_lsn, last_lsn; /* of the valid records (0 when none) */
    uint64_t good_bytes;  /* offset just past the last valid record */
    wal_segment_status status;
    const char *problem;  /* NULL when OK */
} wal_segment_info;

typedef struct wal_replay_opts {
    bool repair;      /* truncate a torn tail in place (and, with accept_loss, the damage);
                       * takes the data-directory lock (VX_ERR_CONFLICT when another
                       * process holds it) */
    bool accept_loss; /* damage in the middle: stop there (log loudly) instead of failing */
    /* Skip (without reading) segments whose records all have lsn <= after_lsn:
     * for change-event readers that only want the recent tail. */
    bool skip_covered;
    /* Called once per segment after it was scanned (for the checker). */
    void (*on_segment)(void *ctx, const wal_segment_info *info);
    void *segment_ctx;
} wal_replay_opts;

typedef struct wal_replay_result {
    uint64_t segments;
    uint64_t records;       /* valid records in the log */
    uint64_t delivered;     /* records passed to the callback (lsn > after_lsn) */
    uint64_t first_lsn;     /* first valid record, 0 when the log is empty */
    uint64_t last_lsn;      /* last valid record, 0 when the log is empty */
    uint64_t next_lsn;      /* what to pass to wal_open: max(last_lsn, after_lsn, starts) + 1 */
    bool torn_tail;         /* a torn tail was found (truncated when repair) */
    bool data_lost;         /* accept_loss dropped records */
    char error[512];        /* the first problem, naming file and offset ("" when none) */
    /* The first damage found in a segment the snapshot covers entirely
     * (every record <= after_lsn): nothing needed is lost, so replay goes on
     * and it is not an error; "" when none. With repair the segment is
     * renamed "<name>.lost" (an older snapshot could not be replayed with
     * this log either way). */
    char covered_damage[512];
} wal_replay_result;

/* Replays dir. Returns VX_OK (also for an empty or missing dir and for a
 * torn tail), VX_ERR_CORRUPT (message in res->error), VX_ERR_IO, or the
 * callback's non-zero value. cb may be NULL (verify only); opts and res may
 * be NULL. after_lsn: records with lsn <= after_lsn are verified, not
 * delivered; when the oldest segment starts after after_lsn + 1, records
 * are missing (a deleted snapshot or segment): VX_ERR_CORRUPT unless
 * accept_loss. */
int wal_replay(const char *dir, uint64_t after_lsn, wal_replay_fn cb, void *ctx,
               const wal_replay_opts *opts, wal_replay_result *res);

#endif
