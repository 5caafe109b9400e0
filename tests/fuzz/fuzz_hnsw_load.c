/*
 * fuzz_hnsw_load.c — libFuzzer target for the HNSW graph loader
 * (store-svc/hnsw_persist.c: format version 2, quantised records, and
 * version 1, float32 records quantised on load). The input is one
 * hnsw_save image, loaded as it is and once more with its trailing CRC-32C
 * rewritten to match (so mutations reach the field and link checks behind
 * the checksum). Malformed input must give an error and no index; an
 * image that loads must be usable: searches (with and without the exact
 * re-rank) return at most k live labels in order, an insert succeeds, and
 * the index saves to bytes that load again. Images are loaded with a label
 * limit of 2^20, as a collection passes its slot count (hnsw_load rejects
 * a larger label before it sizes the label map). Seeds in
 * corpus/hnsw_load/ (version 1 images written by the pre-quantisation code,
 * version 2 by the current one). Build and run: make fuzz-replay /
 * make fuzz-quick.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hnsw.h"
#include "vx_buf.h"
#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"

/* The re-rank source: every label's "vector" is the query itself. */
static const float *same_row(void *ctx, uint32_t label)
{
    (void)label;
    return ctx;
}

static void check_results(hnsw_index *ix, const uint32_t *lab, const float *d, uint32_t n,
                          uint32_t k)
{
    if (n > k || n > hnsw_count(ix))
        abort();
    for (uint32_t i = 0; i < n; i++) {
        if (!hnsw_contains(ix, lab[i]))
            abort();
        if (i > 0 && d[i - 1] > d[i])
            abort();
    }
}

#define FUZZ_LABEL_LIMIT (1u << 20)

static void one(const uint8_t *data, size_t size)
{
    hnsw_index *ix = NULL, *again = NULL;
    if (hnsw_load(&ix, data, size, FUZZ_LABEL_LIMIT) != VX_OK) {
        if (ix)
            abort();
        return;
    }
    uint32_t dim = hnsw_dim(ix), lab[8], n = 0;
    float d[8];
    float *q = malloc((size_t)dim * sizeof *q);
    vx_buf b = VX_BUF_INIT;
    if (!q)
        goto done;
    for (uint32_t i = 0; i < dim; i++)
        q[i] = (float)(i % 3) - 1.0f;
    if (hnsw_search(ix, q, 8, 16, NULL, NULL, same_row, q, lab, d, &n) == VX_OK)
        check_results(ix, lab, d, n, 8);
    if (hnsw_search(ix, q, 8, 16, NULL, NULL, NULL, NULL, lab, d, &n) == VX_OK)
        check_results(ix, lab, d, n, 8);
    if (hnsw_insert(ix, 7, q) != VX_OK || !hnsw_contains(ix, 7))
        abort();
    if (hnsw_save(ix, &b) != VX_OK || hnsw_load(&again, b.data, b.len, FUZZ_LABEL_LIMIT) != VX_OK)
        abort();
    if (hnsw_count(again) != hnsw_count(ix))
        abort();
done:
    vx_buf_free(&b);
    free(q);
    hnsw_destroy(again);
    hnsw_destroy(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        vx_log_set_level(VX_LOG_OFF);
        init = 1;
    }
    one(data, size);
    if (size >= 8) {
        uint8_t *copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        uint32_t crc = vx_crc32c(0, copy, size - 4);
        memcpy(copy + size - 4, &crc, 4);
        one(copy, size);
        free(copy);
    }
    return 0;
}
