/*
 * events.h — change events: every committed write as (LSN, collection, op,
 * ids), published on an nng PUB socket after the write is durable, and read
 * back from the WAL for EVENTS_SINCE so a subscriber that missed messages
 * catches up without gaps (docs/DURABILITY.md §8.3, proto/PROTOCOL.md).
 *
 * Wire form of a published event: an encoded reply of type EVENTS_SINCE
 * (vx_proto_encode_reply, request_id 0, status 0) holding exactly one event,
 * with last_lsn = the event's LSN. Ops: "coll_create", "coll_delete",
 * "upsert", "delete" (ids: the upserted ids / the ids actually named by the
 * logged delete; a delete by filter is logged, and published, as deletes of
 * the ids it matched, in chunks of at most VX_MAX_BATCH ids).
 *
 * Ordering: the PUB socket may reorder events of concurrent writers (each
 * is published after its own fsync wait) and drops messages when a
 * subscriber is slow; EVENTS_SINCE is exact: the WAL's order, only LSNs
 * <= the WAL's durable LSN, no gaps.
 *
 * Ownership: events owns its PUB socket. events_since allocates the reply
 * in the caller's arena.
 */
#ifndef EVENTS_H
#define EVENTS_H

#include <stdint.h>

#include "persistence.h"
#include "vx_arena.h"
#include "vx_proto.h"

typedef struct events events;

/* Opens the PUB socket on url. */
int events_open(events **out, const char *url);
void events_close(events *e); /* NULL ok */
/* Publishes one event; never blocks. e NULL: no-op. */
void events_publish(events *e, const vx_event *ev);

/* The event of a decoded WAL record (strings point into rec). */
void events_from_record(uint64_t lsn, const vx_request *rec, vx_event *ev);

/* Reads up to limit (1..VX_MAX_LIST_LIMIT; 0 = VX_DEFAULT_LIST_LIMIT)
 * events with LSN > after_lsn from the WAL, stopping early so the reply
 * stays well under VX_MAX_MSG_BYTES; last_lsn = the durable LSN.
 * VX_ERR_NOT_FOUND ("too old") when the WAL no longer reaches back to
 * after_lsn + 1 (truncated after a snapshot): resynchronise from a listing. */
int events_since(pers *p, uint64_t after_lsn, uint32_t limit, vx_arena *a, vx_events_rep *out,
                 char *err, size_t err_len);

#endif
