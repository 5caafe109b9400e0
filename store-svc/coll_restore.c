/*
 * coll_restore.c — loading a collection from a snapshot (called by
 * coll_snapshot.c): vectors are used in place from a private copy-on-write
 * mapping of the snapshot file (no copy, no parsing), ids and metadata are
 * re-inserted slot by slot, and the HNSW graph is restored without a
 * rebuild when it matches the live points.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collection_int.h"
#include "flat.h"
#include "vx_err.h"
#include "vx_log.h"

/* ---- restore (coll_snapshot.c) ---- */

/* Replaces mapped slabs by malloc'd copies of cap rows. */
int coll_unmap_slabs(collection *c)
{
    size_t row = (size_t)c->dim * sizeof(float);
    for (int i = 0; i < 2; i++) {
        if (!c->map_len[i])
            continue;
        float **slab = i == 0 ? &c->search : &c->raw;
        float *copy = malloc((size_t)c->cap * row);
        if (!copy)
            return VX_ERR_NOMEM;
        memcpy(copy, *slab, (size_t)c->n_slots * row);
        munmap(c->map_base[i], c->map_len[i]);
        c->map_len[i] = 0;
        c->map_base[i] = NULL;
        *slab = copy;
    }
    c->map_rows = 0;
    return VX_OK;
}

/* Reserves `reserve` bytes of address space (anonymous, not committed
 * until touched) and maps len bytes of fd at payload offset off over its
 * start, copy-on-write: rows past the file's continue in zero-fill memory
 * at contiguous addresses, so the slab can grow up to `reserve` in place. */
static float *map_rows(int fd, uint64_t off, size_t len, size_t reserve, void **base,
                       size_t *base_len)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint64_t start = off & ~(uint64_t)(pg - 1);
    size_t delta = (size_t)(off - start);
    size_t total = delta + reserve;
    void *r = mmap(NULL, total, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED)
        return NULL;
    void *m = mmap(r, delta + len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                   (off_t)start);
    if (m == MAP_FAILED) {
        munmap(r, total);
        return NULL;
    }
    (void)madvise(m, delta + len, MADV_WILLNEED); /* start reading ahead */
    *base = r;
    *base_len = total;
    return (float *)((char *)r + delta);
}

int coll_restore_vectors_file(collection *c, const char *path, uint64_t raw_off,
                              uint64_t search_off)
{
    size_t len = (size_t)c->n_slots * c->dim * sizeof(float);
    bool cosine = c->cfg.metric == VX_METRIC_COSINE;
    if (!len || (cosine && !search_off) || c->map_rows)
        return VX_ERR_INVALID;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return VX_ERR_IO;
    /* Room to grow in place: 4× the current capacity (address space only). */
    uint64_t rows = (uint64_t)c->cap * 4;
    if (rows > UINT32_MAX - 63u)
        rows = (UINT32_MAX - 63u) & ~63ull;
    size_t reserve = (size_t)rows * c->dim * sizeof(float);
    void *b0 = NULL, *b1 = NULL;
    size_t l0 = 0, l1 = 0;
    float *search = map_rows(fd, cosine ? search_off : raw_off, len, reserve, &b0, &l0);
    float *raw = search && cosine ? map_rows(fd, raw_off, len, reserve, &b1, &l1) : NULL;
    close(fd);
    if (!search || (cosine && !raw)) {
        if (search)
            munmap(b0, l0);
        return VX_ERR_IO;
    }
    free(c->search);
    c->search = search;
    c->map_base[0] = b0;
    c->map_len[0] = l0;
    if (cosine) {
        free(c->raw);
        c->raw = raw;
        c->map_base[1] = b1;
        c->map_len[1] = l1;
    }
    c->map_rows = (uint32_t)rows;
    return VX_OK;
}

int coll_restore_begin(collection *c, uint32_t n_slots)
{
    if (c->n_slots)
        return VX_ERR_INVALID;
    int rc = coll_reserve(c, n_slots);
    if (rc == VX_OK)
        rc = idmap_reserve(c->ids, n_slots, n_slots);
    if (rc)
        return rc;
    /* every slot dead until restored; bits past n_slots stay clear (a new
     * slot appended by an upsert must start live) */
    for (uint32_t s = 0; s < n_slots; s++)
        c->dead[s >> 6] |= 1ull << (s & 63);
    c->n_slots = n_slots;
    return VX_OK;
}

void coll_restore_vectors(collection *c, const float *raw, const float *search)
{
    size_t n = (size_t)c->n_slots * c->dim;
    if (!n)
        return;
    if (c->cfg.metric != VX_METRIC_COSINE) {
        memcpy(c->search, raw, n * sizeof(float));
        return;
    }
    if (search) {
        memcpy(c->raw, raw, n * sizeof(float));
        memcpy(c->search, search, n * sizeof(float));
        return;
    }
    for (uint32_t s = 0; s < c->n_slots; s++)
        coll_write_vector(c, s, raw + (size_t)s * c->dim);
}

int coll_restore_slot(collection *c, uint32_t slot, const char *id, size_t idlen,
                      const unsigned char *meta, uint32_t meta_len)
{
    if (slot >= c->n_slots)
        return VX_ERR_INVALID;
    if (!flat_is_dead(c->dead, slot))
        return VX_ERR_CONFLICT;
    unsigned char *blob = NULL;
    if (meta && meta_len) {
        if (!(blob = malloc(meta_len)))
            return VX_ERR_NOMEM;
        memcpy(blob, meta, meta_len);
    }
    int rc = idmap_put(c->ids, id, idlen, slot);
    if (rc) {
        free(blob);
        return rc;
    }
    c->dead[slot >> 6] &= ~(1ull << (slot & 63));
    c->meta[slot] = blob;
    c->meta_len[slot] = blob ? meta_len : 0;
    c->meta_bytes += c->meta_len[slot];
    c->count++;
    return VX_OK;
}

int coll_restore_end(collection *c, const void *ann, size_t ann_len)
{
    /* The 8-bit codes of the exact scan are derived from the search rows
     * and never saved: rows copied without coll_write_vector are encoded
     * later, in the background (coll_codes_catch_up). */

    /* ANN hook (restore): when coll_create made an index (c->ann, a
     * coll_index), it adopts the saved graph when that loads and matches the
     * live slots, else rebuilds it from the live search rows. */
    if (!c->ann)
        return VX_OK;
    return coll_index_restore(c->ann, c, ann, ann_len);
}

