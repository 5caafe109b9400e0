/*
 * snapshot.h — the snapshot container: a versioned, checksummed file
 * "snapshot-<lsn as 16 hex>.vxs" holding typed sections (opaque payloads the
 * store defines, e.g. one collection's config, ids, raw vector slab, HNSW
 * graph). Format: store-svc/persist.h and docs/DURABILITY.md.
 *
 * Writing is streaming and crash-safe: snap_writer_open creates
 * "snapshot-<lsn>.vxs.tmp"; sections are appended (whole, or in pieces with
 * begin/append/end so a large slab is never copied); snap_writer_commit
 * writes the footer and the final header, fsyncs the file, renames it to
 * its final name and fsyncs the directory. Until that rename the snapshot
 * does not exist for readers: a crash leaves only a .tmp, which readers
 * ignore and snap_prune removes.
 *
 * Reading maps the file read-only: snap_open validates the header, every
 * section header, the footer and (unless SNAP_OPEN_LAZY) every payload
 * CRC, then exposes each section as a (pointer, length) view into the map.
 * Payloads start at 64-byte-aligned offsets of a page-aligned map, so a
 * float32 slab can be used in place. A snapshot either opens completely
 * valid or not at all: it is never half-loaded.
 *
 * Ownership: a snap_writer is freed by commit (success or failure) or
 * abort. A snap owns its map; section pointers are valid until snap_close.
 * err buffers (may be NULL) receive a message naming the file and offset.
 */
#ifndef VX_SNAPSHOT_H
#define VX_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct snap_writer snap_writer;

/* Creates dir (if needed) and dir/snapshot-<lsn>.vxs.tmp. */
int snap_writer_open(snap_writer **out, const char *dir, uint64_t lsn);
/* One whole section. */
int snap_writer_section(snap_writer *w, uint32_t type, const void *data, size_t len);
/* A section written in pieces: begin, any number of appends, end. */
int snap_writer_begin(snap_writer *w, uint32_t type);
int snap_writer_append(snap_writer *w, const void *data, size_t len);
int snap_writer_end(snap_writer *w);
/* Makes the snapshot durable under its final name (see above) and frees w.
 * path_out (may be NULL) receives the final path. On failure the .tmp is
 * removed and the error returned (the first error of any earlier call). */
int snap_writer_commit(snap_writer *w, char *path_out, size_t path_len);
/* Drops the .tmp and frees w. NULL ok. */
void snap_writer_abort(snap_writer *w);

typedef struct snap snap;

typedef struct snap_section {
    uint32_t type;
    uint32_t flags;
    const void *data; /* into the map; 64-byte aligned */
    uint64_t len;
    uint64_t offset;  /* of the section header in the file */
    uint32_t crc;
} snap_section;

enum {
    SNAP_OPEN_LAZY = 1u << 0, /* skip payload CRCs at open; call snap_verify(_section) */
};

/* VX_OK, VX_ERR_NOT_FOUND, VX_ERR_IO or VX_ERR_CORRUPT. */
int snap_open(snap **out, const char *path, unsigned flags, char *err, size_t err_len);
/* The same checks over a caller-owned buffer that must outlive the snap
 * (tests, fuzzing); name is used in messages. */
int snap_open_buffer(snap **out, const void *data, size_t len, const char *name, unsigned flags,
                     char *err, size_t err_len);
void snap_close(snap *s);

int snap_verify(snap *s, char *err, size_t err_len);
int snap_verify_section(snap *s, size_t i, char *err, size_t err_len);

uint64_t snap_lsn(const snap *s);
uint64_t snap_created_ms(const snap *s);
uint64_t snap_file_size(const snap *s);
const char *snap_path(const snap *s);
size_t snap_section_count(const snap *s);
const snap_section *snap_section_at(const snap *s, size_t i);
/* The nth (0-based) section of the given type, or NULL. */
const snap_section *snap_find_section(const snap *s, uint32_t type, size_t nth);

/* Suffix given to a corrupt snapshot skipped under accept_loss. */
#define SNAP_CORRUPT_SUFFIX ".corrupt"

/* Opens the newest valid snapshot in dir. VX_ERR_NOT_FOUND (and *out NULL)
 * when there is none. When the newest one is corrupt: VX_ERR_CORRUPT with a
 * message naming it, unless accept_loss, in which case it logs at ERROR,
 * renames it "<name>.corrupt" (kept for inspection; never loaded or pruned)
 * and falls back to the next older one. Call with the directory lock held. */
int snap_find_latest(const char *dir, bool accept_loss, snap **out, char *err, size_t err_len);
/* Keeps the newest `keep` (>= 1) snapshots, deletes the older ones and any
 * snapshot .tmp leftovers, fsyncs dir. Call only when no writer is active. */
int snap_prune(const char *dir, unsigned keep, unsigned *removed);
/* Formats "snapshot-<lsn>.vxs". */
void snap_file_name(char *out, size_t len, uint64_t lsn);

#endif
