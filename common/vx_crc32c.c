/*
 * vx_crc32c.c — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), see
 * vx_crc32c.h.
 *
 * Two implementations that must agree bit for bit:
 *  - vx_crc32c_sw: slicing-by-8 over tables built once (pthread_once);
 *  - vx_crc32c_hw: the SSE4.2 crc32 instruction, compiled with a function
 *    target attribute (no global -m flags) and used only when the CPU
 *    reports sse4.2 at run time.
 * Both take and return the finalised CRC (pre/post inversion inside), so
 * crc(0, a+b) == crc(crc(0, a), b). Loads go through memcpy: the input may
 * have any alignment. vx_crc32c_sw / vx_crc32c_hw / vx_crc32c_hw_available
 * are exported only for the unit test (declared there, not in the header).
 */
#include "vx_crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define VX_CRC32C_X86 1
#endif

uint32_t vx_crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t vx_crc32c_hw(uint32_t crc, const void *data, size_t len);
bool vx_crc32c_hw_available(void);

static uint32_t vx_crc_table[8][256];
static bool vx_crc_use_hw;
static pthread_once_t vx_crc_once = PTHREAD_ONCE_INIT;

static void vx_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        vx_crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = vx_crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = vx_crc_table[0][c & 0xff] ^ (c >> 8);
            vx_crc_table[t][i] = c;
        }
    }
#ifdef VX_CRC32C_X86
    __builtin_cpu_init();
    vx_crc_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t vx_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&vx_crc_once, vx_crc_init);
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (len && ((uintptr_t)p & 7u)) {
        c = vx_crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        len--;
    }
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= c;
        c = vx_crc_table[7][lo & 0xff] ^ vx_crc_table[6][(lo >> 8) & 0xff] ^
            vx_crc_table[5][(lo >> 16) & 0xff] ^ vx_crc_table[4][lo >> 24] ^
            vx_crc_table[3][hi & 0xff] ^ vx_crc_table[2][(hi >> 8) & 0xff] ^
            vx_crc_table[1][(hi >> 16) & 0xff] ^ vx_crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = vx_crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#ifdef VX_CRC32C_X86
__attribute__((target("sse4.2"))) static uint32_t vx_crc32c_sse42(uint32_t crc, const void *data,
                                                                  size_t len)
{
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (len && ((uintptr_t)p & 7u)) {
        c = _mm_crc32_u8(c, *p++);
        len--;
    }
#if defined(__x86_64__)
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
#endif
    while (len >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        c = _mm_crc32_u32(c, v);
        p += 4;
        len -= 4;
    }
    while (len--)
        c = _mm_crc32_u8(c, *p++);
    return ~c;
}
#endif

bool vx_crc32c_hw_available(void)
{
    pthread_once(&vx_crc_once, vx_crc_init);
    return vx_crc_use_hw;
}

/* The hardware path when the CPU has it, the table otherwise. */
uint32_t vx_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
#ifdef VX_CRC32C_X86
    if (vx_crc32c_hw_available())
        return vx_crc32c_sse42(crc, data, len);
#endif
    return vx_crc32c_sw(crc, data, len);
}

uint32_t vx_crc32c(uint32_t crc, const void *data, size_t len)
{
    return vx_crc32c_hw(crc, data, len);
}
