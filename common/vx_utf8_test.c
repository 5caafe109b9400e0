/* vx_utf8_test.c — the validator against the edges of RFC 3629. */
#include "vx_utf8.h"

#include <string.h>

#include "vx_test.h"

static bool ok(const char *s) { return vx_utf8_valid(s, strlen(s)); }

TEST(accepts_well_formed_text)
{
    ASSERT(vx_utf8_valid("", 0));
    ASSERT(ok("plain ascii"));
    ASSERT(ok("\xc3\xbc"));             /* ü */
    ASSERT(ok("\xe2\x82\xac"));         /* € */
    ASSERT(ok("\xf0\x9f\x98\x80"));     /* 😀 */
    ASSERT(ok("\xc2\x80"));             /* U+0080, smallest 2-byte */
    ASSERT(ok("\xe0\xa0\x80"));         /* U+0800, smallest 3-byte */
    ASSERT(ok("\xed\x9f\xbf"));         /* U+D7FF, just below the surrogates */
    ASSERT(ok("\xee\x80\x80"));         /* U+E000, just above them */
    ASSERT(ok("\xf0\x90\x80\x80"));     /* U+10000 */
    ASSERT(ok("\xf4\x8f\xbf\xbf"));     /* U+10FFFF, the last code point */
    ASSERT(vx_utf8_valid("a\0b", 3));   /* NUL is a character */
}

TEST(refuses_malformed_text)
{
    ASSERT(!ok("\x80"));                /* lone continuation */
    ASSERT(!ok("\xc3\x28"));            /* bad continuation */
    ASSERT(!ok("\xc0\xaf"));            /* overlong '/' */
    ASSERT(!ok("\xc1\xbf"));            /* overlong */
    ASSERT(!ok("\xe0\x9f\xbf"));        /* overlong 3-byte */
    ASSERT(!ok("\xf0\x8f\xbf\xbf"));    /* overlong 4-byte */
    ASSERT(!ok("\xed\xa0\x80"));        /* U+D800 surrogate */
    ASSERT(!ok("\xed\xbf\xbf"));        /* U+DFFF surrogate */
    ASSERT(!ok("\xf4\x90\x80\x80"));    /* U+110000 */
    ASSERT(!ok("\xf5\x80\x80\x80"));    /* lead byte beyond the range */
    ASSERT(!ok("\xff"));
    ASSERT(!ok("\xe2\x82"));            /* cut short */
    ASSERT(!ok("ok\xf0\x9f\x98"));      /* cut short at the end */
    ASSERT(!ok("\xe2\x28\xac"));        /* bad second byte */
    ASSERT(!ok("\xe2\x82\x28"));        /* bad third byte */
}
