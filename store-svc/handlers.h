/*
 * handlers.h — the store service's request handlers: bytes in, bytes out.
 *
 * handlers_serve is the vx_rpc_handler the server runs on each worker
 * thread: it decodes the request (vx_proto_decode_request into the worker's
 * arena, reset after every request), dispatches on the message type to one
 * small function per message (validate, act on the store, encode the
 * reply), and turns every failure into vx_proto_encode_error with the code
 * and a message naming the field. Malformed bytes get a VX_ERR_PROTO
 * reply; nothing a client sends can crash the service.
 *
 * Deadlines: a request whose deadline_ms elapsed while it waited (for the
 * collection lock, typically) is answered VX_ERR_TIMEOUT without acting.
 *
 * Durability (when handlers_set_persistence gave a pers): every write
 * validates fully, then under the collection's write lock (the registry's
 * for create/drop) logs one WAL record and applies it to memory, releases
 * the lock, waits for the record to be durable (group commit: concurrent
 * writers share fsyncs) and only then replies, with the record's LSN and
 * the fsync policy ("durability"), and publishes the change event. A write
 * that fails validation logs nothing. Without a pers, writes are memory-only
 * (lsn 0, durability "none").
 *
 * Ownership: handlers borrow the store (which must outlive them). Each
 * worker thread's arena is owned by the thread (freed at thread exit).
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <stddef.h>

#include "store.h"
#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_cpu_qos.h"

#define STORE_SERVICE_VERSION "0.1.0"

typedef struct store_handlers store_handlers;

int handlers_create(store *st, store_handlers **out);
/* Makes writes durable through p and publishes events on ev (either may be
 * NULL). Both are borrowed and must outlive the handlers. Call before
 * serving. */
struct pers;
struct events;
void handlers_set_persistence(store_handlers *h, struct pers *p, struct events *ev);
/* Holds the CPU latency hint q (vx_cpu_qos.h; borrowed, may be NULL) while
 * each request runs. Call before the server starts. */
void handlers_set_cpu_qos(store_handlers *h, vx_cpu_qos *q);
void handlers_destroy(store_handlers *h); /* after the server stopped */

/* vx_rpc_handler: arg is a store_handlers *. */
void handlers_serve(void *arg, const unsigned char *req, size_t req_len, vx_buf *reply);

/* The same with an explicit arena (tests, single-threaded callers). The
 * arena is not reset here. */
void handlers_handle(store_handlers *h, const unsigned char *req, size_t req_len, vx_arena *a,
                     vx_buf *reply);

#endif
