/*
 * fuzz_snapshot_load.c — libFuzzer target for the snapshot reader
 * (store-svc/snapshot.c). The input is parsed as a whole snapshot file,
 * eagerly and lazily. When it opens, every section must lie inside the
 * input at a 64-byte offset, lazy + snap_verify must agree with the eager
 * open, and every payload byte is read (ASan catches any view that points
 * outside the input). Build command: docs/DURABILITY.md §10.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"
#include "snapshot.h"
#include "vx_err.h"
#include "vx_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        vx_log_set_level(VX_LOG_OFF);
        init = 1;
    }
    char err[512];
    snap *s = NULL, *lazy = NULL;
    int rc = snap_open_buffer(&s, data, size, "fuzz.vxs", 0, err, sizeof err);
    int lrc = snap_open_buffer(&lazy, data, size, "fuzz.vxs", SNAP_OPEN_LAZY, err, sizeof err);
    if (rc == VX_OK && lrc != VX_OK)
        abort(); /* lazy checks are a subset of eager ones */
    if (lrc == VX_OK) {
        int vrc = snap_verify(lazy, err, sizeof err);
        if ((vrc == VX_OK) != (rc == VX_OK))
            abort();
        snap_close(lazy);
    }
    if (rc != VX_OK)
        return 0;
    volatile unsigned sum = 0;
    for (size_t i = 0; i < snap_section_count(s); i++) {
        const snap_section *sec = snap_section_at(s, i);
        const uint8_t *p = sec->data;
        if (p < data || (size_t)(p - data) > size || sec->len > size - (size_t)(p - data) ||
            (size_t)(p - data) % SNAP_ALIGN != 0)
            abort();
        for (uint64_t k = 0; k < sec->len; k++)
            sum += p[k];
        if (snap_find_section(s, sec->type, 0) == NULL)
            abort();
    }
    (void)sum;
    snap_close(s);
    return 0;
}
