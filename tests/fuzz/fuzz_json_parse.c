/*
 * fuzz_json_parse.c — libFuzzer target for the gateway's JSON parser
 * (common/vx_json.c), differential against jansson.
 *
 * vx_json is our own parser (it replaced jansson on the hot path), so every
 * REST body a client sends meets it first. Each input is parsed by both.
 * Beyond "no crash, no sanitizer report", any of these aborts:
 *  - the two disagree on accept/reject, except where vx_json.h documents a
 *    deliberate difference: integers beyond int64 (jansson refuses them, we
 *    return doubles), nesting beyond VX_VALUE_MAX_DEPTH (we refuse), NUL in
 *    an object key (we refuse), a raw NUL byte after a number (jansson skips
 *    it, we refuse);
 *  - both accept but the trees differ (jansson's tree is written with 17
 *    significant digits and parsed by us, then compared with vx_value_equal);
 *  - what we accept does not survive vx_json_write and a re-parse unchanged;
 *  - a refusal without a message.
 * Seeds: tests/fuzz/corpus/json_parse (request bodies of every route, and
 * edge cases of numbers, escapes and nesting).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_log.h"
#include "vx_value.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vx_log_set_level(VX_LOG_OFF);
    return 0;
}

static void fz_fail(const char *what, const uint8_t *data, size_t size, const char *detail)
{
    fprintf(stderr, "fuzz_json_parse: %s (%s) on [%.*s]\n", what, detail, (int)size,
            (const char *)data);
    abort();
}

/* True when jansson's refusal is one of the documented differences in our
 * favour of accepting (a big integer becomes a double with us). */
static int jansson_refused_big_integer(const json_error_t *je)
{
    return strstr(je->text, "too big") != NULL;
}

/* True when our refusal is a documented difference (depth limit, NUL key),
 * or jansson's leniency: jansson 2.14 skips a raw NUL byte after a number
 * ("[1\0,2]" loads as [1,2]); a NUL byte is not JSON, so we refuse it. */
static int we_refused_by_design(const char *err)
{
    return strstr(err, "deep") != NULL || strstr(err, "NUL") != NULL ||
           strstr(err, "byte 0x00") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vx_arena a;
    vx_buf written = VX_BUF_INIT;
    char err[256] = "";
    char *theirs_text = NULL;
    vx_arena_init(&a, 4096);

    json_error_t je;
    json_t *j = json_loadb((const char *)data, size,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    vx_value ours;
    int rc = vx_json_parse((const char *)data, size, &a, &ours, err, sizeof err);

    if (rc != VX_OK && err[0] == '\0')
        fz_fail("refused without a message", data, size, "");
    if (rc == VX_OK && !j && !jansson_refused_big_integer(&je))
        fz_fail("we accept what jansson refuses", data, size, je.text);
    if (rc != VX_OK && j && !we_refused_by_design(err))
        fz_fail("we refuse what jansson accepts", data, size, err);
    if (rc != VX_OK)
        goto out;

    /* Our tree survives our own writer. */
    vx_json_write(&ours, &written);
    vx_value again;
    if (vx_json_parse((const char *)written.data, written.len, &a, &again, err, sizeof err) !=
            VX_OK ||
        !vx_value_equal(&ours, &again))
        fz_fail("vx_json_write output does not parse back to the same tree", data, size, err);

    /* Same tree as jansson's. */
    if (j) {
        theirs_text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
        vx_value theirs;
        if (!theirs_text ||
            vx_json_parse(theirs_text, strlen(theirs_text), &a, &theirs, err, sizeof err) !=
                VX_OK ||
            !vx_value_equal(&ours, &theirs))
            fz_fail("jansson's tree differs", data, size, theirs_text ? theirs_text : "no dump");
    }
out:
    free(theirs_text);
    if (j)
        json_decref(j);
    vx_buf_free(&written);
    vx_arena_fini(&a);
    return 0;
}
