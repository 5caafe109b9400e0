/*
 * vx_buf.c — see vx_buf.h. Capacity doubles, so appends are amortised O(1).
 */
#include "vx_buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_log.h"

void vx_buf_init(vx_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void vx_buf_reserve(vx_buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return;
    size_t need = b->len + extra + 1;
    if (need <= b->len) { /* size_t overflow: no such buffer can exist */
        VX_ERROR("buffer size overflow (%zu + %zu bytes)", b->len, extra);
        abort();
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *p = realloc(b->data, cap);
    if (!p) {
        VX_ERROR("out of memory growing buffer to %zu bytes", cap);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void vx_buf_append(vx_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    vx_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void vx_buf_putc(vx_buf *b, unsigned char c)
{
    vx_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void vx_buf_printf(vx_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        vx_buf_reserve(b, (size_t)n + 1);
        vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void vx_buf_terminate(vx_buf *b)
{
    vx_buf_reserve(b, 1);
    b->data[b->len] = '\0';
}

void vx_buf_reset(vx_buf *b) { b->len = 0; }

void vx_buf_free(vx_buf *b)
{
    free(b->data);
    vx_buf_init(b);
}

unsigned char *vx_buf_steal(vx_buf *b, size_t *len)
{
    unsigned char *p = b->data;
    if (len)
        *len = b->len;
    vx_buf_init(b);
    return p;
}
