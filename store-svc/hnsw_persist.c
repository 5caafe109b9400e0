/*
 * hnsw_persist.c — the index as one byte string (hnsw_save / hnsw_load).
 *
 * Layout, version 2 (all integers little-endian, as the node records are
 * stored in memory on the x86-64/arm64 targets):
 *
 *     0   magic "VXHNSWIX"
 *     8   u32 version (2)     12  u32 space     16  u32 dim     20  u32 m
 *     24  u32 ef_construction 28  u32 stride    32  u32 n_nodes
 *     36  u32 entry id        40  u32 max level 44  u32 live count
 *     48  u64 seed            56  u64 rng counter
 *     64  u64 number of upper-layer words       72..127 zero
 *     128 node records, n_nodes * stride bytes, exactly as in memory
 *         (spinlock bytes zeroed): header | links0 | u8 codes | lo, scale |
 *         pad (hnsw_int.h)
 *     ... upper-layer blocks of the nodes with level >= 1, in id order,
 *         level * (1 + m) u32 each
 *     ... u32 CRC-32C of everything before it
 *
 * Version 1 (before quantisation) is the same except for the records:
 * header | links0 | float vec[dim] | pad to 64, i.e. a stride of
 * round64(16 + 4·m0 + 4·dim). It still loads: each record's header and
 * links are copied and its vector is quantised into the version 2 record
 * (the graph is kept as it was; nothing is rebuilt), and the next save
 * writes version 2.
 *
 * Loading is a validation pass plus memcpy of the records into segments —
 * no graph rebuild. The input is untrusted: besides the checksum, every
 * field, every count and every neighbour id is checked (ids < n_nodes, an
 * upper-layer link only to a node that has that layer, one live node per
 * label, every label below the caller's label_limit, entry point at the
 * top level), so a crafted file gives VX_ERR_CORRUPT, never an
 * out-of-bounds access nor a label map larger than the caller allows.
 */
#include "hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vx_crc32c.h"
#include "vx_err.h"
#include "vx_log.h"

#define HNSW_MAGIC "VXHNSWIX"
#define HNSW_VERSION 2u
#define HNSW_VERSION_FLOAT 1u /* float32 records, read-only */
#define HDR_BYTES 128u

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}
static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int hnsw_save(const hnsw_index *ix, vx_buf *out)
{
    uint32_t n = __atomic_load_n(&ix->n_nodes, __ATOMIC_ACQUIRE);
    uint64_t entry = __atomic_load_n(&ix->entry, __ATOMIC_ACQUIRE);
    uint64_t upper_words = 0;
    for (uint32_t id = 0; id < n; id++) {
        uint32_t k;
        size_t off;
        hnsw_seg_of(id, &k, &off);
        if (!ix->segs[k])
            return VX_ERR_INTERNAL; /* a failed allocation left a hole */
        upper_words += (uint64_t)hnsw_node_at(ix, id)->level * (1 + ix->m);
    }
    size_t start = out->len;
    unsigned char hdr[HDR_BYTES] = {0};
    memcpy(hdr, HNSW_MAGIC, 8);
    put32(hdr + 8, HNSW_VERSION);
    put32(hdr + 12, (uint32_t)ix->space);
    put32(hdr + 16, ix->dim);
    put32(hdr + 20, ix->m);
    put32(hdr + 24, ix->ef_construction);
    put32(hdr + 28, (uint32_t)ix->stride);
    put32(hdr + 32, n);
    put32(hdr + 36, (uint32_t)entry);
    put32(hdr + 40, (uint32_t)(entry >> 32));
    put32(hdr + 44, (uint32_t)hnsw_count(ix));
    put64(hdr + 48, ix->seed);
    put64(hdr + 56, __atomic_load_n(&ix->rng, __ATOMIC_RELAXED));
    put64(hdr + 64, upper_words);
    vx_buf_reserve(out, HDR_BYTES + (size_t)n * ix->stride + upper_words * 4 + 4);
    vx_buf_append(out, hdr, HDR_BYTES);

    /* records, one contiguous run per segment */
    for (uint32_t k = 0, done = 0; done < n; k++) {
        uint32_t take = (uint32_t)(hnsw_seg_size(k) < n - done ? hnsw_seg_size(k) : n - done);
        size_t at = out->len;
        vx_buf_append(out, ix->segs[k], (size_t)take * ix->stride);
        for (uint32_t i = 0; i < take; i++)
            ((hnsw_node *)(out->data + at + (size_t)i * ix->stride))->lock = 0;
        done += take;
    }
    for (uint32_t id = 0; id < n; id++) {
        hnsw_node *nd = hnsw_node_at(ix, id);
        if (nd->level == 0)
            continue;
        uint32_t k;
        size_t off;
        hnsw_seg_of(id, &k, &off);
        vx_buf_append(out, ix->upper[k][off], (size_t)nd->level * (1 + ix->m) * 4);
    }
    uint32_t crc = vx_crc32c(0, out->data + start, out->len - start);
    unsigned char c4[4];
    put32(c4, crc);
    vx_buf_append(out, c4, 4);
    return VX_OK;
}

/* Checks one list (count word + ids) at layer lc. */
static bool list_ok(const hnsw_index *ix, const uint32_t *list, uint32_t max, uint32_t lc,
                    uint32_t n_nodes)
{
    uint32_t cnt = list[0];
    if (cnt > max)
        return false;
    for (uint32_t j = 0; j < cnt; j++) {
        uint32_t e = list[1 + j];
        if (e >= n_nodes)
            return false;
        if (lc > 0 && hnsw_node_at(ix, e)->level < lc)
            return false;
    }
    return true;
}

/* Fills the segments with n records read at rec (in_stride bytes each):
 * version 2 records are copied in bulk per segment; version 1 records
 * (float vectors) get their header and links copied and their vector
 * checked (finite) and quantised. VX_ERR_CORRUPT, VX_ERR_NOMEM. */
static int copy_records(hnsw_index *ix, uint32_t version, const unsigned char *rec,
                        size_t in_stride, uint32_t n)
{
    int rc = VX_OK;
    float *v = NULL;
    if (version != HNSW_VERSION && !(v = malloc((size_t)ix->dim * sizeof *v)))
        rc = VX_ERR_NOMEM;
    for (uint32_t k = 0, done = 0; done < n && rc == VX_OK; k++) {
        uint32_t take = (uint32_t)(hnsw_seg_size(k) < n - done ? hnsw_seg_size(k) : n - done);
        if ((rc = hnsw_ensure_segment(ix, done)) != VX_OK)
            break;
        if (version == HNSW_VERSION) {
            memcpy(ix->segs[k], rec + (size_t)done * in_stride, (size_t)take * in_stride);
            done += take;
            continue;
        }
        for (uint32_t i = 0; i < take && rc == VX_OK; i++) {
            const unsigned char *src = rec + (size_t)(done + i) * in_stride;
            hnsw_node *nd = (hnsw_node *)(ix->segs[k] + (size_t)i * ix->stride);
            memset(nd, 0, ix->stride);
            memcpy(nd, src, ix->links_end); /* header and links0: same offsets */
            memcpy(v, src + ix->links_end, (size_t)ix->dim * sizeof *v);
            for (uint32_t j = 0; j < ix->dim; j++)
                if (!isfinite(v[j])) {
                    VX_WARN("hnsw_load: node %u has a non-finite component", done + i);
                    rc = VX_ERR_CORRUPT;
                    break;
                }
            if (rc == VX_OK)
                hnsw_encode_into(ix, nd, v);
        }
        done += take;
    }
    free(v);
    return rc;
}

#define CORRUPT(...)                                                                      \
    do {                                                                                  \
        VX_WARN("hnsw_load: " __VA_ARGS__);                                            \
        rc = VX_ERR_CORRUPT;                                                              \
        goto fail;                                                                        \
    } while (0)

int hnsw_load(hnsw_index **out, const void *data, size_t len, uint32_t label_limit)
{
    const unsigned char *p = data;
    hnsw_index *ix = NULL;
    int rc = VX_ERR_CORRUPT;
    *out = NULL;
    if (!p || len < HDR_BYTES + 4 || memcmp(p, HNSW_MAGIC, 8) != 0)
        CORRUPT("not an HNSW index (%zu bytes)", len);
    uint32_t version = get32(p + 8);
    if (version != HNSW_VERSION && version != HNSW_VERSION_FLOAT)
        CORRUPT("unsupported version %u", version);
    if (vx_crc32c(0, p, len - 4) != get32(p + len - 4))
        CORRUPT("checksum mismatch");
    for (size_t i = 72; i < HDR_BYTES; i++)
        if (p[i])
            CORRUPT("reserved header bytes set");

    ix = calloc(1, sizeof *ix);
    if (!ix)
        return VX_ERR_NOMEM;
    if (hnsw_init_fields(ix, get32(p + 16), (hnsw_space)get32(p + 12), get32(p + 20),
                         get32(p + 24), get64(p + 48)) != VX_OK) {
        free(ix);
        ix = NULL;
        CORRUPT("bad dim/space/m/ef_construction");
    }
    /* records in the file: this version's layout, or version 1's floats */
    size_t in_stride = version == HNSW_VERSION
                           ? ix->stride
                           : (ix->links_end + (size_t)ix->dim * sizeof(float) + 63u) & ~(size_t)63u;
    if (get32(p + 28) != in_stride)
        CORRUPT("record stride %u, expected %zu", get32(p + 28), in_stride);
    uint32_t n = get32(p + 32), entry_id = get32(p + 36), max_level = get32(p + 40);
    uint32_t n_live_hdr = get32(p + 44);
    uint64_t upper_words = get64(p + 64);
    if (n == HNSW_NONE)
        CORRUPT("node count %u", n);
    /* exact size: header + records + upper words + crc (no overflow: n <
     * 2^32 and stride < 2^20, upper_words bounded by the check below) */
    uint64_t rec_bytes = (uint64_t)n * in_stride;
    if (upper_words > len / 4 || rec_bytes > len ||
        HDR_BYTES + rec_bytes + upper_words * 4 + 4 != len)
        CORRUPT("size %zu does not match %u nodes", len, n);
    ix->rng = get64(p + 56);

    const unsigned char *rec = p + HDR_BYTES;
    if ((rc = copy_records(ix, version, rec, in_stride, n)) != VX_OK)
        goto fail;
    ix->n_nodes = n;
    rc = VX_ERR_CORRUPT;
    /* per-node fields first (levels must be valid before links are checked) */
    uint64_t words_seen = 0;
    for (uint32_t id = 0; id < n; id++) {
        hnsw_node *nd = hnsw_node_at(ix, id);
        if (nd->level > max_level || max_level >= HNSW_MAX_LEVEL)
            CORRUPT("node %u level %u above max %u", id, nd->level, max_level);
        if ((nd->flags & ~HNSW_F_DELETED) || nd->lock || nd->pad0 || nd->pad1)
            CORRUPT("node %u has bad flags", id);
        const hnsw_sq *sq = hnsw_params(ix, nd);
        if (!isfinite(sq->lo) || !isfinite(sq->scale) || !(sq->scale >= 0.0f))
            CORRUPT("node %u has bad quantisation parameters", id);
        words_seen += (uint64_t)nd->level * (1 + ix->m);
    }
    if (words_seen != upper_words)
        CORRUPT("upper-layer size %llu, expected %llu", (unsigned long long)upper_words,
                (unsigned long long)words_seen);
    const unsigned char *up = rec + (size_t)rec_bytes;
    for (uint32_t id = 0; id < n; id++) {
        hnsw_node *nd = hnsw_node_at(ix, id);
        uint32_t k;
        size_t off;
        hnsw_seg_of(id, &k, &off);
        ix->upper[k][off] = NULL;
        if (nd->level == 0)
            continue;
        size_t bytes = (size_t)nd->level * (1 + ix->m) * 4;
        uint32_t *blk = malloc(bytes);
        if (!blk) {
            rc = VX_ERR_NOMEM;
            goto fail;
        }
        memcpy(blk, up, bytes);
        up += bytes;
        ix->upper[k][off] = blk;
        ix->upper_bytes += bytes;
    }
    for (uint32_t id = 0; id < n; id++) {
        hnsw_node *nd = hnsw_node_at(ix, id);
        if (!list_ok(ix, &nd->n0, ix->m0, 0, n))
            CORRUPT("node %u layer 0 links", id);
        for (uint32_t lc = 1; lc <= nd->level; lc++)
            if (!list_ok(ix, hnsw_list(ix, id, nd, lc), ix->m, lc, n))
                CORRUPT("node %u layer %u links", id, lc);
    }
    /* entry point */
    if (n == 0) {
        if (entry_id != HNSW_NONE || max_level != 0)
            CORRUPT("empty index with an entry point");
    } else if (entry_id >= n || hnsw_node_at(ix, entry_id)->level != max_level) {
        CORRUPT("entry point %u", entry_id);
    }
    ix->entry = (uint64_t)entry_id | ((uint64_t)max_level << 32);
    /* label map: one live node per label */
    uint32_t live = 0;
    for (uint32_t id = 0; id < n; id++) {
        hnsw_node *nd = hnsw_node_at(ix, id);
        if (nd->flags & HNSW_F_DELETED)
            continue;
        if (nd->label == HNSW_NONE || nd->label >= label_limit)
            CORRUPT("node %u has label %u, the limit is %u", id, nd->label, label_limit);
        if ((rc = hnsw_label_map_reserve(ix, nd->label)) != VX_OK)
            goto fail;
        rc = VX_ERR_CORRUPT;
        if (ix->label_map[nd->label] != HNSW_NONE)
            CORRUPT("label %u on two live nodes", nd->label);
        ix->label_map[nd->label] = id;
        live++;
    }
    if (live != n_live_hdr)
        CORRUPT("live count %u, header says %u", live, n_live_hdr);
    ix->n_live = live;
    ix->n_deleted = n - live;
    *out = ix;
    return VX_OK;
fail:
    hnsw_destroy(ix);
    return rc;
}
