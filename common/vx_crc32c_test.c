/*
 * vx_crc32c_test.c — CRC-32C: published check values, agreement between
 * the table and SSE4.2 paths on every length 0..300 at every alignment,
 * and incremental == one-shot.
 */
#include "vx_crc32c.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vx_test.h"

/* Exported by vx_crc32c.c for this test only. */
uint32_t vx_crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t vx_crc32c_hw(uint32_t crc, const void *data, size_t len);
bool vx_crc32c_hw_available(void);

TEST(crc32c_check_values)
{
    ASSERT_EQ_INT(vx_crc32c(0, "123456789", 9), 0xE3069283u);
    ASSERT_EQ_INT(vx_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    ASSERT_EQ_INT(vx_crc32c(0, "", 0), 0);
    ASSERT_EQ_INT(vx_crc32c(0, NULL, 0), 0);
    /* RFC 3720 (iSCSI) B.4 vectors */
    unsigned char buf[48];
    memset(buf, 0, 32);
    ASSERT_EQ_INT(vx_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, 32);
    ASSERT_EQ_INT(vx_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    ASSERT_EQ_INT(vx_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)(31 - i);
    ASSERT_EQ_INT(vx_crc32c(0, buf, 32), 0x113FDB5Cu);
    static const unsigned char scsi[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    ASSERT_EQ_INT(vx_crc32c(0, scsi, 48), 0xD9963A56u);
    ASSERT_EQ_INT(vx_crc32c_sw(0, scsi, 48), 0xD9963A56u);
}

TEST(crc32c_paths_agree_every_length_and_alignment)
{
    unsigned char *buf = malloc(300 + 16);
    unsigned seed = 7;
    for (int i = 0; i < 316; i++)
        buf[i] = (unsigned char)rand_r(&seed);
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len <= 300; len++) {
            uint32_t sw = vx_crc32c_sw(0, buf + off, len);
            uint32_t hw = vx_crc32c_hw(0, buf + off, len);
            uint32_t pub = vx_crc32c(0, buf + off, len);
            if (sw != hw || sw != pub) {
                free(buf);
                ASSERT_MSG(0, "len %zu off %zu: sw %08x hw %08x api %08x", len, off, sw, hw, pub);
            }
            /* a non-zero starting crc too */
            if (vx_crc32c_sw(0xdeadbeef, buf + off, len) != vx_crc32c_hw(0xdeadbeef, buf + off, len)) {
                free(buf);
                ASSERT_MSG(0, "seeded len %zu off %zu differ", len, off);
            }
        }
    }
    free(buf);
}

TEST(crc32c_incremental_equals_one_shot)
{
    unsigned char buf[1000];
    unsigned seed = 99;
    for (int i = 0; i < 1000; i++)
        buf[i] = (unsigned char)rand_r(&seed);
    uint32_t whole = vx_crc32c(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 37) {
        uint32_t c = vx_crc32c(0, buf, cut);
        c = vx_crc32c(c, buf + cut, sizeof buf - cut);
        ASSERT_EQ_INT(c, whole);
        uint32_t s = vx_crc32c_sw(0, buf, cut);
        s = vx_crc32c_sw(s, buf + cut, sizeof buf - cut);
        ASSERT_EQ_INT(s, whole);
    }
    /* byte at a time */
    uint32_t c = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        c = vx_crc32c(c, buf + i, 1);
    ASSERT_EQ_INT(c, whole);
    /* any single bit flip changes the checksum */
    for (size_t i = 0; i < sizeof buf; i += 13) {
        buf[i] ^= 0x10;
        ASSERT(vx_crc32c(0, buf, sizeof buf) != whole);
        buf[i] ^= 0x10;
    }
}

TEST(crc32c_reports_hardware_path)
{
#if defined(__x86_64__)
    /* informative: both paths are tested above either way */
    ASSERT(vx_crc32c_hw_available() == (bool)__builtin_cpu_supports("sse4.2"));
#else
    ASSERT(!vx_crc32c_hw_available());
#endif
}
