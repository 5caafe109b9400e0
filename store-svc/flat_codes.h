/*
 * flat_codes.h — the 8-bit copy of a collection's search slab that
 * lets an exact search read a quarter of the bytes (flat.h, "bounded scan").
 *
 * Each search row x (normalised for cosine) is kept a second time as 8-bit
 * codes (distance_sq8.h: x̂[i] = lo + scale·code[i]) plus what the scan needs
 * to turn an approximate score into an interval that provably holds the
 * float32 kernel's score:
 *   err  ≥ ‖x − x̂‖ (x̂ in exact arithmetic), computed in double, rounded up;
 *   norm ≥ ‖x‖, computed in double, rounded up, and no more than 4 ulps
 *        above the true norm (flat.c uses it for lower bounds of ‖x‖² too).
 * A row whose numbers are not finite (components near FLT_MAX) gets
 * err = +inf: the scan then always re-scores it exactly.
 *
 * Invariants: rows [0, n) written by flat_codes_write are current for the
 * slab row of the same slot; the caller rewrites a row whenever it rewrites
 * the slab row (the collection does so in coll_write_vector). cap only
 * grows. Codes are derived data: never persisted, rebuilt on restore.
 *
 * Ownership: a flat_codes is owned by its collection; flat_codes_free
 * releases the arrays. Not thread-safe by itself: the collection's lock
 * covers it (writes under the write lock, scans under the read lock).
 */
#ifndef FLAT_CODES_H
#define FLAT_CODES_H

#include <stddef.h>
#include <stdint.h>

typedef struct flat_code_row {
    float lo, scale; /* x̂[i] = lo + scale·code[i] */
    float err;       /* ≥ ‖x − x̂‖ */
    float norm;      /* ≥ ‖x‖ */
} flat_code_row;

typedef struct flat_codes {
    uint8_t *codes;      /* cap × dim */
    flat_code_row *rows; /* cap */
    uint32_t cap;
    uint32_t dim;
} flat_codes;

#define FLAT_CODES_INIT(d) ((flat_codes){NULL, NULL, 0, (d)})

/* Grows to hold cap rows; VX_ERR_NOMEM leaves fc as it was. */
int flat_codes_reserve(flat_codes *fc, uint32_t cap);
/* Encodes search row x (dim floats) into row slot (< cap). */
void flat_codes_write(flat_codes *fc, uint32_t slot, const float *x);
/* flat_codes_write for rows [0, n) of a slab (restore). */
void flat_codes_write_all(flat_codes *fc, const float *slab, uint32_t n);
size_t flat_codes_memory_bytes(const flat_codes *fc);
void flat_codes_free(flat_codes *fc);

#endif
