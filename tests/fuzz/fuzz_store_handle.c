/*
 * fuzz_store_handle.c — libFuzzer target for the store service's request
 * surface (store-svc/handlers.c): whatever a program speaking nng straight to
 * vectron-store can send, run against a real (in-memory) store.
 *
 * An input is a sequence of frames, each a u16 little-endian length and that
 * many bytes (a short last frame takes what is left). Every frame goes to
 * handlers_handle in turn, on one store created for the input, so a create,
 * upserts, searches, listings and deletes in one input reach the collection,
 * index and filter code behind the decoder, not just the decoder.
 *
 * Beyond "no crash, no sanitizer report", any of these aborts:
 *  - a reply that does not decode as a reply (the service always answers
 *    with a well-formed message, even to garbage);
 *  - a reply to a request that decodes, with another request id or type.
 * Seeds: tests/fuzz/corpus/store_handle (written by tests/fuzz/gen_seeds.c:
 * request sequences on flat and HNSW collections). FUZZ_TRACE=1 in the
 * environment prints each frame's message type and reply status, to check
 * that a seed reaches what it is meant to.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "store.h"
#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int trace;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vx_log_set_level(VX_LOG_OFF);
    trace = getenv("FUZZ_TRACE") != NULL;
    return 0;
}

static void fz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_store_handle: %s (%s)\n", what, detail);
    abort();
}

static void handle_frame(store_handlers *h, const uint8_t *msg, size_t len)
{
    vx_arena a;
    vx_buf out = VX_BUF_INIT;
    vx_request req;
    vx_reply rep;
    char err[256] = "";
    vx_arena_init(&a, 4096);
    handlers_handle(h, msg, len, &a, &out);
    if (vx_proto_decode_reply(out.data, out.len, &a, &rep, err, sizeof err) != VX_OK)
        fz_fail("the reply does not decode", err);
    int decoded = vx_proto_decode_request(msg, len, &a, &req, err, sizeof err) == VX_OK;
    if (decoded && (rep.request_id != req.request_id || rep.type != req.type))
        fz_fail("the reply does not answer the request", vx_strerror(rep.status));
    if (trace)
        fprintf(stderr, "frame %zu bytes: %s -> %s\n", len,
                decoded ? vx_msg_name(req.type) : "(not a request)", vx_strerror(rep.status));
    vx_buf_free(&out);
    vx_arena_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store *st;
    store_handlers *h;
    if (store_open(&st) != VX_OK)
        fz_fail("store_open", "");
    if (handlers_create(st, &h) != VX_OK)
        fz_fail("handlers_create", "");
    size_t at = 0;
    while (at < size) {
        size_t len = size - at >= 2 ? (size_t)data[at] | (size_t)data[at + 1] << 8 : 0;
        at += size - at >= 2 ? 2 : size - at;
        if (len > size - at)
            len = size - at;
        handle_frame(h, data + at, len);
        at += len;
    }
    handlers_destroy(h);
    store_close(st);
    return 0;
}
