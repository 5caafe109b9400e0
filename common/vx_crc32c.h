/*
 * vx_crc32c.h — CRC-32C (Castagnoli), the checksum of WAL records and
 * snapshot sections. Uses the SSE4.2 crc32 instruction when the CPU has it
 * (runtime check), a slicing table otherwise; both give identical results.
 */
#ifndef VX_CRC32C_H
#define VX_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc = vx_crc32c(0, p, n); continue with vx_crc32c(crc, more, m). */
uint32_t vx_crc32c(uint32_t crc, const void *data, size_t len);

#endif
