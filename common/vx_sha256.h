/*
 * vx_sha256.h — SHA-256 (FIPS 180-4) plus the two helpers every user of a
 * digest of a secret needs: constant-time comparison and a wipe the
 * compiler cannot optimise away.
 *
 * Used by the gateway to keep API keys only as digests (api-gateway/auth.c).
 * The context is a plain struct on the caller's stack: no allocation, no
 * ownership. Streaming (init/update/final) and one-shot forms give identical
 * results for any split of the input. vx_sha256_final wipes the context.
 */
#ifndef VX_SHA256_H
#define VX_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VX_SHA256_LEN 32     /* digest bytes */
#define VX_SHA256_HEX_LEN 64 /* lower-case hex characters (no NUL) */

typedef struct vx_sha256_ctx {
    uint32_t h[8];
    uint64_t total;          /* bytes hashed so far */
    unsigned char block[64]; /* pending partial block */
    size_t fill;             /* bytes in block */
} vx_sha256_ctx;

void vx_sha256_init(vx_sha256_ctx *c);
void vx_sha256_update(vx_sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and wipes c (re-init before reuse). */
void vx_sha256_final(vx_sha256_ctx *c, unsigned char out[VX_SHA256_LEN]);
/* One shot. */
void vx_sha256(const void *data, size_t len, unsigned char out[VX_SHA256_LEN]);

/* Lower-case hex of a digest into hex (VX_SHA256_HEX_LEN + 1 bytes, NUL-terminated). */
void vx_sha256_hex(const unsigned char d[VX_SHA256_LEN], char hex[VX_SHA256_HEX_LEN + 1]);
/* Parses exactly 64 hex digits (either case) of len bytes. Returns VX_OK or
 * VX_ERR_INVALID (wrong length or a non-hex character); out is untouched
 * on error. */
int vx_sha256_from_hex(const char *hex, size_t len, unsigned char out[VX_SHA256_LEN]);

/* true when the n bytes at a and b are equal; the time taken depends only
 * on n, never on where the first difference is. */
bool vx_ct_equal(const void *a, const void *b, size_t n);
/* Overwrites n bytes with zeros in a way the optimiser keeps. */
void vx_wipe(void *p, size_t n);

#endif
