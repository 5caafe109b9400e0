/*
 * persist.h — on-disk format constants shared by the WAL (wal.c), the
 * snapshot container (snapshot.c) and the offline checker (check_main.c),
 * plus little-endian load/store helpers.
 *
 * Every multi-byte integer on disk is little-endian and is read and written
 * only through the helpers below (memcpy-based: no unaligned access, no
 * host-endianness assumption). docs/DURABILITY.md describes each layout byte
 * by byte; the offsets here are the normative values. Changing any of them
 * requires bumping the matching *_VERSION and keeping a reader for the old
 * version.
 */
#ifndef VX_PERSIST_H
#define VX_PERSIST_H

#include <stdint.h>
#include <string.h>

/* ---- WAL segment files: wal-<first_lsn as 16 lowercase hex>.log ---- */
#define WAL_MAGIC "VXWAL\0" /* 6 bytes */
#define WAL_MAGIC_LEN 6
#define WAL_VERSION 1
#define WAL_FILE_PREFIX "wal-"
#define WAL_FILE_SUFFIX ".log"
/* file header: magic[6] version u16 | header_size u32 | flags u32 |
 * first_lsn u64 | crc32c(bytes 0..23) u32 | reserved u32 */
#define WAL_HDR_SIZE 32
#define WAL_HDR_OFF_VERSION 6
#define WAL_HDR_OFF_HDRSIZE 8
#define WAL_HDR_OFF_FLAGS 12
#define WAL_HDR_OFF_FIRST_LSN 16
#define WAL_HDR_OFF_CRC 24
/* record: payload_len u32 | type u8 | lsn u64 | crc32c(type, lsn, payload) u32 | payload */
#define WAL_REC_HDR_SIZE 17
#define WAL_REC_OFF_LEN 0
#define WAL_REC_OFF_TYPE 4
#define WAL_REC_OFF_LSN 5
#define WAL_REC_OFF_CRC 13
/* Largest payload one record may carry (an upsert batch of VX_MAX_BATCH
 * points at VX_MAX_DIM plus metadata fits well below it). */
#define WAL_MAX_PAYLOAD (128u << 20)
/* Default size at which the writer starts a new segment. */
#define WAL_SEGMENT_BYTES_DEFAULT (64ull << 20)
/* During recovery, after a bad record the scanner looks for a later valid
 * record whose LSN is within this distance of the last good one: finding one
 * means the damage is in the middle of the log, not a torn tail. */
#define WAL_RESYNC_LSN_WINDOW (1ull << 24)

/* ---- Snapshot files: snapshot-<lsn as 16 lowercase hex>.vxs ---- */
#define SNAP_MAGIC "VXSNAP\0\0" /* 8 bytes */
#define SNAP_FOOTER_MAGIC "VXSEND\0\0"
#define SNAP_MAGIC_LEN 8
#define SNAP_VERSION 1
#define SNAP_FILE_PREFIX "snapshot-"
#define SNAP_FILE_SUFFIX ".vxs"
#define SNAP_TMP_SUFFIX ".tmp"
/* file header (64 bytes): magic[8] | version u16 | reserved u16 |
 * header_size u32 | lsn u64 | section_count u32 | flags u32 |
 * created_ms u64 | crc32c(bytes 0..39) u32 | zero[20] */
#define SNAP_HDR_SIZE 64
#define SNAP_HDR_OFF_VERSION 8
#define SNAP_HDR_OFF_HDRSIZE 12
#define SNAP_HDR_OFF_LSN 16
#define SNAP_HDR_OFF_COUNT 24
#define SNAP_HDR_OFF_FLAGS 28
#define SNAP_HDR_OFF_CREATED 32
#define SNAP_HDR_OFF_CRC 40
/* section header (64 bytes, at a 64-aligned offset): type u32 | flags u32 |
 * len u64 | payload crc32c u32 | crc32c(bytes 0..19) u32 | zero[40];
 * the payload follows at +64 and is zero-padded to a multiple of 64. */
#define SNAP_SEC_HDR_SIZE 64
#define SNAP_SEC_OFF_TYPE 0
#define SNAP_SEC_OFF_FLAGS 4
#define SNAP_SEC_OFF_LEN 8
#define SNAP_SEC_OFF_CRC 16
#define SNAP_SEC_OFF_HCRC 20
#define SNAP_ALIGN 64
/* footer (32 bytes): magic[8] | lsn u64 | section_count u32 |
 * crc32c over all section headers u32 | crc32c(bytes 0..23) u32 | zero u32 */
#define SNAP_FOOTER_SIZE 32
#define SNAP_FT_OFF_LSN 8
#define SNAP_FT_OFF_COUNT 16
#define SNAP_FT_OFF_SECCRC 20
#define SNAP_FT_OFF_CRC 24
#define SNAP_MAX_SECTIONS (1u << 20)

/* Section types of the store's snapshots (layouts: docs/DURABILITY.md §8.2).
 * The container does not interpret them; never reuse a number for a
 * different layout. */
#define SNAP_SEC_STORE_META 0x0001u
#define SNAP_SEC_COLL_CONFIG 0x0100u
#define SNAP_SEC_COLL_IDS 0x0101u
#define SNAP_SEC_COLL_VECTORS 0x0102u
#define SNAP_SEC_COLL_SEARCH_VECTORS 0x0103u
#define SNAP_SEC_COLL_METADATA 0x0104u
#define SNAP_SEC_COLL_TOMBSTONES 0x0105u
#define SNAP_SEC_COLL_HNSW 0x0106u

/* ---- little-endian helpers ---- */
static inline void le_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void le_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void le_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t le_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t le_get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static inline uint64_t le_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#endif
