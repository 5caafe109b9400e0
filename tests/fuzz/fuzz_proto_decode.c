/*
 * fuzz_proto_decode.c — libFuzzer target for the wire decoder (proto/).
 *
 * Each input is decoded as a request and as a reply, each with a fresh
 * arena. Beyond "no crash, no sanitizer report", a message that decodes must
 * also re-encode (the encoder accepts whatever the decoder accepts), and the
 * re-encoding must decode and re-encode to identical bytes (encoding is
 * canonical). Any violation aborts. Seed corpus: tests/fuzz/corpus/proto_decode
 * (the golden files of proto/testdata/v1). Build command: proto/PROTOCOL.md
 * ("Fuzzing").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_log.h"
#include "vx_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vx_log_set_level(VX_LOG_OFF);
    return 0;
}

static void fz_fail(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_proto_decode: %s (%s)\n", what, err);
    abort();
}

static void fz_request(const uint8_t *data, size_t size)
{
    vx_arena a;
    vx_request m, m2;
    vx_buf b1 = VX_BUF_INIT, b2 = VX_BUF_INIT;
    char err[256];
    vx_arena_init(&a, 4096);
    if (vx_proto_decode_request(data, size, &a, &m, err, sizeof err) != VX_OK)
        goto out;
    if (vx_proto_encode_request(&m, &b1) != VX_OK)
        fz_fail("decoded request does not re-encode", err);
    if (vx_proto_decode_request(b1.data, b1.len, &a, &m2, err, sizeof err) != VX_OK)
        fz_fail("re-encoded request does not decode", err);
    if (vx_proto_encode_request(&m2, &b2) != VX_OK || b1.len != b2.len ||
        memcmp(b1.data, b2.data, b1.len) != 0)
        fz_fail("request encoding is not canonical", "");
out:
    vx_buf_free(&b1);
    vx_buf_free(&b2);
    vx_arena_fini(&a);
}

static void fz_reply(const uint8_t *data, size_t size)
{
    vx_arena a;
    vx_reply m, m2;
    vx_buf b1 = VX_BUF_INIT, b2 = VX_BUF_INIT;
    char err[256];
    vx_arena_init(&a, 4096);
    if (vx_proto_decode_reply(data, size, &a, &m, err, sizeof err) != VX_OK)
        goto out;
    if (vx_proto_encode_reply(&m, &b1) != VX_OK)
        fz_fail("decoded reply does not re-encode", err);
    if (vx_proto_decode_reply(b1.data, b1.len, &a, &m2, err, sizeof err) != VX_OK)
        fz_fail("re-encoded reply does not decode", err);
    if (vx_proto_encode_reply(&m2, &b2) != VX_OK || b1.len != b2.len ||
        memcmp(b1.data, b2.data, b1.len) != 0)
        fz_fail("reply encoding is not canonical", "");
out:
    vx_buf_free(&b1);
    vx_buf_free(&b2);
    vx_arena_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_request(data, size);
    fz_reply(data, size);
    return 0;
}
