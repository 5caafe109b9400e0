/*
 * vx_arena.h — per-request bump allocator.
 *
 * Memory discipline: everything decoded from one request (strings, vectors,
 * metadata trees) lives in that request's arena and is released at once by
 * vx_arena_reset/vx_arena_fini. Nothing in an arena is freed individually.
 * Allocations are 16-byte aligned; out of memory aborts the process with a
 * log line (request sizes are bounded by VX_MAX_MSG_BYTES, so an arena never
 * grows past a few times that).
 *
 * An arena is not thread-safe: one per worker/request.
 */
#ifndef VX_ARENA_H
#define VX_ARENA_H

#include <stddef.h>

typedef struct vx_arena_chunk vx_arena_chunk;

typedef struct vx_arena {
    vx_arena_chunk *head;   /* current chunk (owned) */
    size_t chunk_size;      /* default size of new chunks */
    size_t total;           /* bytes handed out since the last reset */
} vx_arena;

void vx_arena_init(vx_arena *a, size_t chunk_size);
/* Returns zeroed, 16-byte aligned memory valid until reset/fini. */
void *vx_arena_alloc(vx_arena *a, size_t size);
/* Copies len bytes and appends a NUL. */
char *vx_arena_strndup(vx_arena *a, const char *s, size_t len);
char *vx_arena_strdup(vx_arena *a, const char *s);
char *vx_arena_sprintf(vx_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees all but the first chunk; previous allocations become invalid. */
void vx_arena_reset(vx_arena *a);
void vx_arena_fini(vx_arena *a);

#endif
