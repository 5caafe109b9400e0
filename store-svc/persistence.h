/*
 * persistence.h — makes the store durable: the WAL record codec (encode a
 * normalised write request, decode and apply it on replay), the store-side
 * log (a `pers` handle wrapping the WAL), and recovery at start-up
 * (newest valid snapshot, then the WAL after it). Design and formats:
 * docs/DURABILITY.md §6 and §8.
 *
 * Records: type = the VX_MSG_* code of the operation (COLL_CREATE,
 * COLL_DELETE, POINTS_UPSERT, POINTS_DELETE with explicit ids); payload =
 * vx_proto_encode_request of the normalised request (envelope version
 * VX_PROTO_VERSION, request_id 0, deadline 0). A record whose decoded type
 * differs from the record type, or that fails to decode, is corruption.
 *
 * Replay rule (what makes a "fuzzy" snapshot exact): every collection
 * carries applied_lsn (store.h). A record for collection X is applied only
 * when X exists and record.lsn > X.applied_lsn, except COLL_CREATE, which
 * creates X when absent (applied_lsn = record.lsn). A record for a missing
 * collection is skipped: the log holds that collection's later drop.
 *
 * Ownership: a pers borrows the store (which must outlive it) and owns its
 * WAL; pers_close makes the log durable and closes it. pers_log / pers_wait
 * are thread-safe.
 */
#ifndef PERSISTENCE_H
#define PERSISTENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_proto.h"
#include "wal.h"

typedef struct pers pers;

typedef struct pers_opts {
    const char *dir;
    wal_fsync_policy policy;
    bool accept_loss;       /* start despite a corrupt snapshot / mid-log damage (data lost) */
    uint64_t segment_bytes; /* WAL segment size; 0: WAL_SEGMENT_BYTES_DEFAULT */
} pers_opts;

typedef struct pers_summary {
    uint64_t snapshot_lsn;    /* 0: started without a snapshot */
    uint64_t collections;     /* after recovery */
    uint64_t points;          /* live points after recovery */
    uint64_t replayed;        /* WAL records applied */
    uint64_t skipped;         /* WAL records already in the snapshot or for dropped collections */
    uint64_t next_lsn;        /* the first LSN this process writes */
    bool torn_tail;           /* a torn WAL tail was truncated */
    bool data_lost;           /* accept_loss dropped something */
    uint64_t snapshot_ms, replay_ms, total_ms;
} pers_summary;

/* Recovers dir into the (empty) store st, opens the WAL and installs the
 * store's log hook. On failure (VX_ERR_CORRUPT / VX_ERR_IO / ...) err names
 * the file and offset; the store may hold a partial state and must be
 * discarded. sum may be NULL. */
int pers_open(pers **out, store *st, const pers_opts *o, pers_summary *sum, char *err,
              size_t err_len);
/* Removes the hook, makes the log durable, closes it. NULL ok. */
void pers_close(pers *p);

/* Appends rec as one WAL record (not waiting for durability). Callers hold
 * the lock that orders the write (collection write lock, or the registry
 * lock for create/drop) and apply it to memory before releasing it. */
int pers_log(pers *p, const vx_request *rec, uint64_t *lsn);
/* Waits until lsn is durable under the policy (group commit). */
int pers_wait(pers *p, uint64_t lsn);
/* fsync policy name: "always" | "everysec" | "none". */
const char *pers_durability(const pers *p);
wal *pers_wal(pers *p);
const char *pers_dir(const pers *p);

/* ---- the record codec (also used by the change-event reader) ---- */

/* Encodes rec; VX_ERR_INVALID when it breaks a protocol limit. */
int pers_encode(const vx_request *rec, vx_buf *out);
/* Decodes r into a (VX_ERR_CORRUPT with a message naming file and offset). */
int pers_decode(const wal_record *r, vx_arena *a, vx_request *out, char *err, size_t err_len);
/* Applies a decoded record to st following the replay rule; *applied tells
 * whether it changed anything. VX_ERR_CORRUPT when it cannot be applied. */
int pers_apply(store *st, uint64_t lsn, const vx_request *rec, bool *applied, char *err,
               size_t err_len);

#endif
