/*
 * vx_utf8.h — the one UTF-8 validator every boundary uses (ids, metadata and
 * filter strings, texts). Strict RFC 3629: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. NUL is a
 * valid character here; callers that forbid it check for it themselves.
 */
#ifndef VX_UTF8_H
#define VX_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* true when the n bytes at s are well-formed UTF-8 */
bool vx_utf8_valid(const void *s, size_t n);

#endif
