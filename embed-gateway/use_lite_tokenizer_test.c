/*
 * use_lite_tokenizer_test.c — NFKC and segmentation of the USE-lite
 * tokenizer. Expected ids were produced independently by a Python
 * transcription of the TensorFlow.js tokenizer over Python's
 * unicodedata.normalize("NFKC"). Needs the converted model file (same
 * lookup as use_lite_test.c); fails when it is absent.
 */
#include <stdlib.h>
#include <string.h>

#include "use_lite.h"
#include "vx_err.h"
#include "vx_test.h"

static use_lite_model *g_model;
static char g_err[256];

static const use_lite_tokenizer *tok(void)
{
    if (!g_model) {
        const char *p = getenv("VX_USE_LITE_MODEL");
        if (use_lite_load(&g_model, p && *p ? p : USE_LITE_DEFAULT_PATH, g_err, sizeof g_err) != VX_OK)
            return NULL;
    }
    return use_lite_get_tokenizer(g_model);
}

/* 1 when text tokenises to exactly want[0..n) */
static int ids_are(const char *text, const int32_t *want, size_t n)
{
    int32_t *ids = NULL;
    size_t got = 0;
    int ok = use_lite_tokenize(tok(), text, strlen(text), &ids, &got) == VX_OK && got == n &&
             (n == 0 || memcmp(ids, want, n * sizeof *ids) == 0);
    free(ids);
    return ok;
}

/* 1 when NFKC(text) == want (both UTF-8) */
static int nfkc_is(const char *text, const uint32_t *want, size_t n)
{
    uint32_t *cps = NULL;
    size_t got = 0;
    int ok = use_lite_nfkc(tok(), text, strlen(text), &cps, &got) == VX_OK && got == n &&
             memcmp(cps, want, n * sizeof *cps) == 0;
    free(cps);
    return ok;
}

TEST(tokenizer_needs_model)
{
    ASSERT_MSG(tok() != NULL, "cannot load the use-lite model: %s", g_err);
}

TEST(nfkc_compatibility_and_composition)
{
    ASSERT_MSG(tok() != NULL, "model missing: %s", g_err);
    ASSERT(nfkc_is("\xef\xbc\xa1\xef\xbc\x91", (const uint32_t[]){'A', '1'}, 2)); /* Ａ１ fullwidth */
    ASSERT(nfkc_is("\xef\xac\x81", (const uint32_t[]){'f', 'i'}, 2));            /* ﬁ ligature */
    ASSERT(nfkc_is("e\xcc\x81", (const uint32_t[]){0xE9}, 1));                   /* e + acute → é */
    ASSERT(nfkc_is("\xc3\xa9", (const uint32_t[]){0xE9}, 1));                    /* é stays */
    ASSERT(nfkc_is("\xc2\xbc", (const uint32_t[]){'1', 0x2044, '4'}, 3));        /* ¼ */
    ASSERT(nfkc_is("x\xc2\xb2", (const uint32_t[]){'x', '2'}, 2));               /* x² */
    /* Hangul jamo L V T compose into one syllable (한) */
    ASSERT(nfkc_is("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", (const uint32_t[]){0xD55C}, 1));
    /* canonical ordering: dot below (220) sorts before acute (230), then
     * composes with the base: a + acute + dot below → ạ + acute */
    ASSERT(nfkc_is("a\xcc\x81\xcc\xa3", (const uint32_t[]){0x1EA1, 0x301}, 2));
    /* invalid UTF-8 becomes U+FFFD */
    ASSERT(nfkc_is("a\xff", (const uint32_t[]){'a', 0xFFFD}, 2));
    ASSERT(nfkc_is("\xe2\x82", (const uint32_t[]){0xFFFD}, 1));
}

TEST(tokenize_matches_reference_segmentation)
{
    ASSERT_MSG(tok() != NULL, "model missing: %s", g_err);
    ASSERT(ids_are("A man is playing a guitar.", (const int32_t[]){74, 337, 18, 970, 11, 4338, 6}, 7));
    /* fullwidth forms normalise to ASCII first */
    ASSERT(ids_are("\xef\xbd\x86\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x97\xef\xbd\x89\xef\xbd\x84"
                   "\xef\xbd\x94\xef\xbd\x88 \xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3 \xef\xbc\x91\xef\xbc\x92\xef\xbc\x93",
                   (const int32_t[]){650, 1580, 29, 128, 74, 2512, 575, 360}, 8));
    ASSERT(ids_are("\xef\xac\x81nance \xef\xac\x82ow", (const int32_t[]){4900, 1807}, 2));
    ASSERT(ids_are("Cafe\xcc\x81 n\xcc\x83", (const int32_t[]){823, 209, 1133, 30, 7137}, 5));
    ASSERT(ids_are("x\xc2\xb2  y", (const int32_t[]){649, 288, 30, 1029}, 4));
    ASSERT(ids_are("\xc2\xbc cup", (const int32_t[]){207, 7935, 477, 2838}, 4));
    /* the vocabulary's ":30" piece has score +30 in the package (sic) */
    ASSERT(ids_are("e-mail: a@b.com :30 ok",
                   (const int32_t[]){299, 24, 2880, 57, 11, 2245, 151, 6, 167, 30, 4177, 2303}, 12));
}

TEST(tokenize_unknowns_collapse_and_empty_text)
{
    ASSERT_MSG(tok() != NULL, "model missing: %s", g_err);
    /* two unknown emoji in a row become one id 0 */
    ASSERT(ids_are("\xf0\x9f\x8d\x95\xf0\x9f\x8d\x95 x", (const int32_t[]){30, 0, 649}, 3));
    ASSERT(ids_are("\xed\x95\x9c\xea\xb8\x80", (const int32_t[]){30, 0}, 2)); /* 한글 */
    ASSERT(ids_are("", NULL, 0));
    size_t len = 0;
    const char *p = use_lite_piece(tok(), 30, &len);
    ASSERT(p && len == 3 && memcmp(p, "\xe2\x96\x81", 3) == 0); /* id 30 is "▁" */
    ASSERT(use_lite_piece(tok(), 8000, &len) == NULL);
    ASSERT(use_lite_piece(tok(), -1, &len) == NULL);
}

TEST(tokenize_survives_arbitrary_bytes)
{
    ASSERT_MSG(tok() != NULL, "model missing: %s", g_err);
    /* random bytes, truncated sequences, combining-mark runs: must not crash
     * (run under ASan/UBSan by make test) and ids must be valid */
    unsigned seed = 12345;
    char buf[600];
    int bad = 0;
    for (int iter = 0; iter < 300; iter++) {
        size_t n = (size_t)(iter * 2 % 590);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            /* mix ASCII, multi-byte lead/continuation bytes and U+0301 */
            buf[i] = (char)(iter % 3 == 0 ? r : iter % 3 == 1 ? (r % 2 ? 0xCC : 0x81) : (r % 96 + 32));
        }
        buf[n] = 0;
        int32_t *ids = NULL;
        size_t m = 0;
        if (use_lite_tokenize(tok(), buf, n, &ids, &m) != VX_OK)
            bad++;
        for (size_t i = 0; i < m; i++) {
            size_t len;
            if (!use_lite_piece(tok(), ids[i], &len))
                bad++;
        }
        free(ids);
    }
    ASSERT_EQ_INT(bad, 0);
}
