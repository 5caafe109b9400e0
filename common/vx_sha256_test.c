/*
 * vx_sha256_test.c — SHA-256 against the FIPS 180-4 / NIST CAVS example
 * vectors, padding boundaries (lengths 55..65, 119, 120, digests from an
 * independent implementation, coreutils sha256sum), streaming with every
 * split == one shot, hex round trip and rejection, constant-time compare
 * and wipe.
 */
#include "vx_sha256.h"

#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_test.h"

static void hex_of(const void *data, size_t len, char out[65])
{
    unsigned char d[VX_SHA256_LEN];
    vx_sha256(data, len, d);
    vx_sha256_hex(d, out);
}

TEST(sha256_fips_vectors)
{
    char hex[65];
    /* FIPS 180-4 examples (NIST "SHA256.pdf"): one block, two blocks. */
    hex_of("abc", 3, hex);
    ASSERT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), hex);
    ASSERT_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* Empty message. */
    hex_of("", 0, hex);
    ASSERT_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* 896-bit message. */
    const char *l896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    hex_of(l896, strlen(l896), hex);
    ASSERT_STR_EQ(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(sha256_million_a)
{
    /* One million 'a', fed in uneven chunks. */
    char chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    vx_sha256_ctx c;
    vx_sha256_init(&c);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = step < left ? step : left;
        vx_sha256_update(&c, chunk, n);
        left -= n;
        step = step % 977 + 13; /* stays <= sizeof(chunk) */
    }
    unsigned char d[VX_SHA256_LEN];
    char hex[65];
    vx_sha256_final(&c, d);
    vx_sha256_hex(d, hex);
    ASSERT_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256_padding_boundaries)
{
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
    };
    char buf[128], hex[65];
    memset(buf, 'x', sizeof(buf));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hex_of(buf, cases[i].n, hex);
        ASSERT_MSG(strcmp(hex, cases[i].hex) == 0, "length %zu: got %s", cases[i].n, hex);
    }
}

TEST(sha256_every_split_matches_one_shot)
{
    unsigned char data[1024];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)i;
    unsigned char whole[VX_SHA256_LEN], part[VX_SHA256_LEN];
    char hex[65];
    vx_sha256(data, sizeof(data), whole);
    vx_sha256_hex(whole, hex);
    /* Python: hashlib.sha256(bytes(range(256)) * 4).hexdigest() */
    ASSERT_STR_EQ(hex, "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9");
    for (size_t cut = 0; cut <= 200; cut++) {
        vx_sha256_ctx c;
        vx_sha256_init(&c);
        vx_sha256_update(&c, data, cut);
        vx_sha256_update(&c, data + cut, 0);
        vx_sha256_update(&c, data + cut, sizeof(data) - cut);
        vx_sha256_final(&c, part);
        ASSERT_MSG(memcmp(whole, part, VX_SHA256_LEN) == 0, "split at %zu differs", cut);
    }
}

TEST(sha256_hex_round_trip_and_rejects)
{
    unsigned char d[VX_SHA256_LEN], back[VX_SHA256_LEN];
    char hex[65];
    vx_sha256("key", 3, d);
    vx_sha256_hex(d, hex);
    ASSERT_EQ_INT(vx_sha256_from_hex(hex, strlen(hex), back), VX_OK);
    ASSERT(memcmp(d, back, sizeof(d)) == 0);
    /* Upper case is accepted. */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (hex[i] >= 'a' && hex[i] <= 'f') ? (char)(hex[i] - 32) : hex[i];
    memset(back, 0, sizeof(back));
    ASSERT_EQ_INT(vx_sha256_from_hex(upper, 64, back), VX_OK);
    ASSERT(memcmp(d, back, sizeof(d)) == 0);
    /* Wrong length, non-hex: rejected, output untouched. */
    unsigned char keep[VX_SHA256_LEN];
    memset(keep, 0xAB, sizeof(keep));
    memcpy(back, keep, sizeof(back));
    ASSERT_EQ_INT(vx_sha256_from_hex(hex, 63, back), VX_ERR_INVALID);
    ASSERT_EQ_INT(vx_sha256_from_hex(hex, 0, back), VX_ERR_INVALID);
    ASSERT_EQ_INT(vx_sha256_from_hex(NULL, 64, back), VX_ERR_INVALID);
    hex[10] = 'g';
    ASSERT_EQ_INT(vx_sha256_from_hex(hex, 64, back), VX_ERR_INVALID);
    hex[10] = ' ';
    ASSERT_EQ_INT(vx_sha256_from_hex(hex, 64, back), VX_ERR_INVALID);
    ASSERT(memcmp(back, keep, sizeof(back)) == 0);
}

TEST(ct_equal_and_wipe)
{
    unsigned char a[32], b[32];
    memset(a, 7, sizeof(a));
    memcpy(b, a, sizeof(b));
    ASSERT(vx_ct_equal(a, b, sizeof(a)));
    ASSERT(vx_ct_equal(a, b, 0));
    for (size_t i = 0; i < sizeof(a); i++) {
        b[i] ^= 0x01;
        ASSERT_MSG(!vx_ct_equal(a, b, sizeof(a)), "difference at byte %zu not seen", i);
        b[i] ^= 0x80 | 0x01;
        ASSERT(!vx_ct_equal(a, b, sizeof(a)));
        b[i] = a[i];
    }
    vx_wipe(a, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++)
        ASSERT_EQ_INT(a[i], 0);
    vx_wipe(NULL, 10); /* harmless */
}
