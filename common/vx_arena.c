/*
 * vx_arena.c — see vx_arena.h. Chunks form a singly linked list, newest
 * first; a request larger than the chunk size gets a chunk of its own.
 */
#include "vx_arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_log.h"

struct vx_arena_chunk {
    vx_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

static vx_arena_chunk *vx_arena_chunk_new(size_t size)
{
    vx_arena_chunk *c = size > SIZE_MAX - sizeof *c ? NULL : malloc(sizeof *c + size);
    if (!c) {
        VX_ERROR("out of memory allocating %zu-byte arena chunk", size);
        abort();
    }
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void vx_arena_init(vx_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size < 256 ? 256 : chunk_size;
    a->total = 0;
}

void *vx_arena_alloc(vx_arena *a, size_t size)
{
    size_t need = (size + 15u) & ~(size_t)15u;
    if (need < size) {
        VX_ERROR("arena allocation size overflow");
        abort();
    }
    if (!a->head || a->head->size - a->head->used < need) {
        size_t sz = need > a->chunk_size ? need : a->chunk_size;
        vx_arena_chunk *c = vx_arena_chunk_new(sz);
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += need;
    a->total += need;
    memset(p, 0, size);
    return p;
}

char *vx_arena_strndup(vx_arena *a, const char *s, size_t len)
{
    char *p = vx_arena_alloc(a, len + 1);
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *vx_arena_strdup(vx_arena *a, const char *s)
{
    return vx_arena_strndup(a, s, strlen(s));
}

char *vx_arena_sprintf(vx_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = vx_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void vx_arena_reset(vx_arena *a)
{
    vx_arena_chunk *c = a->head;
    if (!c)
        return;
    /* keep the oldest chunk (usually the default-sized one) */
    while (c->next) {
        vx_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    c->used = 0;
    a->head = c;
    a->total = 0;
}

void vx_arena_fini(vx_arena *a)
{
    vx_arena_chunk *c = a->head;
    while (c) {
        vx_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}
