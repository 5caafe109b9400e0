/*
 * flat_codes.c — see flat_codes.h.
 */
#include "flat_codes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distance_sq8.h"
#include "sq8_query.h"
#include "vx_err.h"

int flat_codes_reserve(flat_codes *fc, uint32_t cap)
{
    if (cap <= fc->cap)
        return VX_OK;
    /* SQ8Q_PAD readable bytes past the last row: the scan kernels read
     * whole steps (sq8_query.h) */
    uint8_t *codes = realloc(fc->codes, (size_t)cap * fc->dim + SQ8Q_PAD);
    if (!codes)
        return VX_ERR_NOMEM;
    memset(codes + (size_t)cap * fc->dim, 0, SQ8Q_PAD);
    fc->codes = codes;
    flat_code_row *rows = realloc(fc->rows, (size_t)cap * sizeof *rows);
    if (!rows)
        return VX_ERR_NOMEM; /* codes is merely larger than needed */
    fc->rows = rows;
    fc->cap = cap;
    return VX_OK;
}

/* The smallest float >= v (v >= 0, in double); +inf when beyond float. */
static float round_up(double v)
{
    float f = (float)v;
    if ((double)f < v)
        f = nextafterf(f, INFINITY);
    return f;
}

void flat_codes_write(flat_codes *fc, uint32_t slot, const float *x)
{
    size_t dim = fc->dim;
    uint8_t *code = fc->codes + (size_t)slot * dim;
    flat_code_row *r = &fc->rows[slot];
    sq8_encode(x, dim, code, &r->lo, &r->scale);
    /* In double. x[i]² and scale·code[i] are exact (float × float and
     * float × 8-bit integer fit 53 bits); lo + scale·code[i] and the
     * difference are rounded once each, so each computed d is within
     * 2^-52·(|lo| + 255·scale + |d|) of the true one: ‖x − x̂‖ is within
     * √dim·2^-52·(|lo| + 255·scale) of ‖d‖ (plus a relative 2^-52), and the
     * sums add a relative error of at most dim·2^-53 (no term overflows). */
    double e2 = 0, x2 = 0;
    for (size_t i = 0; i < dim; i++) {
        double d = (double)x[i] - ((double)r->lo + (double)r->scale * (double)code[i]);
        e2 += d * d;
        x2 += (double)x[i] * (double)x[i];
    }
    double slack = 1.0 + 4.0 * ((double)dim + 2) * 0x1p-53;
    double d_abs = sqrt((double)dim) * 0x1p-51 * (fabs((double)r->lo) + 255.0 * (double)r->scale);
    r->err = round_up(sqrt(e2) * slack + d_abs);
    r->norm = round_up(sqrt(x2) * slack);
    if (!isfinite(r->err) || !isfinite(r->norm) || !isfinite(r->scale))
        r->err = INFINITY;
}

void flat_codes_write_all(flat_codes *fc, const float *slab, uint32_t n)
{
    for (uint32_t s = 0; s < n; s++)
        flat_codes_write(fc, s, slab + (size_t)s * fc->dim);
}

size_t flat_codes_memory_bytes(const flat_codes *fc)
{
    return fc->cap ? (size_t)fc->cap * (fc->dim + sizeof(flat_code_row)) + SQ8Q_PAD : 0;
}

void flat_codes_free(flat_codes *fc)
{
    free(fc->codes);
    free(fc->rows);
    fc->codes = NULL;
    fc->rows = NULL;
    fc->cap = 0;
}
