/*
 * vx_buf.h — growable byte buffer, the common currency for encoded messages,
 * HTTP bodies and file records. A vx_buf owns its bytes (malloc'd); the
 * owner calls vx_buf_free. Out of memory aborts with a log line.
 */
#ifndef VX_BUF_H
#define VX_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_buf {
    unsigned char *data; /* owned; NULL when cap == 0 */
    size_t len;
    size_t cap;
} vx_buf;

#define VX_BUF_INIT {NULL, 0, 0}

void vx_buf_init(vx_buf *b);
void vx_buf_reserve(vx_buf *b, size_t extra);
void vx_buf_append(vx_buf *b, const void *p, size_t n);
void vx_buf_putc(vx_buf *b, unsigned char c);
void vx_buf_printf(vx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a NUL without counting it in len (so data can be used as a C string). */
void vx_buf_terminate(vx_buf *b);
void vx_buf_reset(vx_buf *b); /* len = 0, keeps capacity */
void vx_buf_free(vx_buf *b);
/* Hands the bytes to the caller (who free()s them); b becomes empty. */
unsigned char *vx_buf_steal(vx_buf *b, size_t *len);

#endif
