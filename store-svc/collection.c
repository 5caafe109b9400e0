/*
 * collection.c — see collection.h.
 *
 * Invariants:
 *  - 0 <= count <= n_slots <= cap; rows [0, n_slots) of the slabs are
 *    initialised; a slot is live iff its tombstone bit is clear, iff the
 *    idmap has an id for it; count = live slots.
 *  - cosine: every live search row has unit norm; raw holds the same
 *    vector bit-exact as received. dot/l2: raw is NULL.
 *  - meta[s] is NULL or a malloc'd packed object of meta_len[s] bytes;
 *    meta_bytes is the sum of meta_len over live slots.
 */
#include "collection.h"
#include "collection_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "distance.h"
#include "filter.h"
#include "flat.h"
#include "coll_index.h"
#include "idmap.h"
#include "vx_err.h"
#include "vx_utf8.h"

/* struct collection and the storage helpers shared with coll_restore.c:
 * collection_int.h */

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- configuration ---- */

static bool name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return false;
    }
    return n >= 1 && n <= VX_MAX_NAME_LEN;
}

int coll_config_check(vx_coll_config *cfg, char *err, size_t err_len)
{
    if (!cfg->name || !name_ok(cfg->name))
        return fail(err, err_len, VX_ERR_INVALID, "name: expected 1-%d characters of [A-Za-z0-9_-]",
                    VX_MAX_NAME_LEN);
    if (cfg->dimension < 1 || cfg->dimension > VX_MAX_DIM)
        return fail(err, err_len, VX_ERR_INVALID, "dimension: %u is out of range 1..%d",
                    cfg->dimension, VX_MAX_DIM);
    if (cfg->metric != VX_METRIC_COSINE && cfg->metric != VX_METRIC_DOT &&
        cfg->metric != VX_METRIC_L2)
        return fail(err, err_len, VX_ERR_INVALID, "metric: expected cosine, dot or l2");
    if (cfg->index.type != VX_INDEX_FLAT && cfg->index.type != VX_INDEX_HNSW)
        return fail(err, err_len, VX_ERR_INVALID, "index.type: expected flat or hnsw");
    if (cfg->index.m == 0)
        cfg->index.m = VX_HNSW_M_DEFAULT;
    if (cfg->index.ef_construction == 0)
        cfg->index.ef_construction = VX_HNSW_EFC_DEFAULT;
    if (cfg->index.m < VX_HNSW_M_MIN || cfg->index.m > VX_HNSW_M_MAX)
        return fail(err, err_len, VX_ERR_INVALID, "index.m: %u is out of range %d..%d",
                    cfg->index.m, VX_HNSW_M_MIN, VX_HNSW_M_MAX);
    if (cfg->index.ef_construction < VX_HNSW_EFC_MIN || cfg->index.ef_construction > VX_HNSW_EFC_MAX)
        return fail(err, err_len, VX_ERR_INVALID, "index.ef_construction: %u is out of range %d..%d",
                    cfg->index.ef_construction, VX_HNSW_EFC_MIN, VX_HNSW_EFC_MAX);
    if (cfg->model && (cfg->model[0] == '\0' || strlen(cfg->model) > VX_MAX_MODEL_LEN))
        return fail(err, err_len, VX_ERR_INVALID, "model: expected 1-%d bytes", VX_MAX_MODEL_LEN);
    return VX_OK;
}

bool coll_config_equal(const vx_coll_config *a, const vx_coll_config *b)
{
    if (a->dimension != b->dimension || a->metric != b->metric || a->index.type != b->index.type)
        return false;
    if (a->index.type == VX_INDEX_HNSW &&
        (a->index.m != b->index.m || a->index.ef_construction != b->index.ef_construction))
        return false;
    if (!a->model || !b->model)
        return !a->model && !b->model;
    return strcmp(a->model, b->model) == 0;
}

int coll_create(const vx_coll_config *cfg_in, collection **out, char *err, size_t err_len)
{
    *out = NULL;
    vx_coll_config cfg = *cfg_in;
    int rc = coll_config_check(&cfg, err, err_len);
    if (rc)
        return rc;
    collection *c = calloc(1, sizeof *c);
    if (!c)
        return fail(err, err_len, VX_ERR_NOMEM, "out of memory");
    c->cfg = cfg;
    c->cfg.name = strdup(cfg.name);
    c->cfg.model = cfg.model ? strdup(cfg.model) : NULL;
    c->dim = cfg.dimension;
    c->codes = FLAT_CODES_INIT(cfg.dimension);
    c->has_codes = true;
    c->ids = idmap_create();
    if (!c->cfg.name || (cfg.model && !c->cfg.model) ||
        coll_index_create(&c->ann, &c->cfg) != VX_OK) {
        coll_destroy(c);
        return fail(err, err_len, VX_ERR_NOMEM, "out of memory");
    }
    *out = c;
    return VX_OK;
}

void coll_destroy(collection *c)
{
    if (!c)
        return;
    coll_index_destroy(c->ann);
    for (uint32_t s = 0; s < c->n_slots; s++)
        free(c->meta[s]);
    free(c->meta);
    free(c->meta_len);
    free(c->dead);
    if (c->map_len[0])
        munmap(c->map_base[0], c->map_len[0]);
    else
        free(c->search);
    if (c->map_len[1])
        munmap(c->map_base[1], c->map_len[1]);
    else
        free(c->raw);
    flat_codes_free(&c->codes);
    idmap_destroy(c->ids);
    free((char *)c->cfg.name);
    free((char *)c->cfg.model);
    free(c);
}

const vx_coll_config *coll_config(const collection *c) { return &c->cfg; }
uint64_t coll_count(const collection *c) { return c->count; }

uint64_t coll_memory_bytes(const collection *c)
{
    size_t row = (size_t)c->dim * sizeof(float);
    uint64_t mem = sizeof *c + (uint64_t)c->cap * row * (c->raw ? 2 : 1);
    mem += (uint64_t)c->cap * (sizeof *c->meta + sizeof *c->meta_len) + (c->cap / 64) * 8;
    mem += flat_codes_memory_bytes(&c->codes);
    return mem + c->meta_bytes + idmap_memory_bytes(c->ids) + coll_index_memory_bytes(c->ann);
}

void coll_info(const collection *c, vx_arena *a, vx_coll_info *out)
{
    memset(out, 0, sizeof *out);
    out->config = c->cfg;
    out->config.name = vx_arena_strdup(a, c->cfg.name);
    out->config.model = c->cfg.model ? vx_arena_strdup(a, c->cfg.model) : NULL;
    out->count = c->count;
    out->memory_bytes = coll_memory_bytes(c);
}

/* ---- validation ---- */

/* Checks one vector; for cosine also the norm. `what` names it. */
int coll_check_vector(const collection *c, const float *v, uint32_t dim, const char *what,
                        char *err, size_t err_len)
{
    if (!v)
        return fail(err, err_len, VX_ERR_INVALID, "%s: missing", what);
    if (dim != c->dim)
        return fail(err, err_len, VX_ERR_INVALID, "%s: dimension %u, expected %u", what, dim,
                    c->dim);
    double ss = 0;
    for (uint32_t i = 0; i < dim; i++) {
        if (!isfinite(v[i]))
            return fail(err, err_len, VX_ERR_INVALID, "%s[%u]: not a finite number", what, i);
        ss += (double)v[i] * v[i];
    }
    if (c->cfg.metric == VX_METRIC_COSINE && !(ss > 0))
        return fail(err, err_len, VX_ERR_INVALID, "%s: vector has zero norm", what);
    return VX_OK;
}

/* Validates point i; packs its metadata (if any) at the end of packed. */
static int check_point(const collection *c, const vx_point *p, uint32_t i, vx_buf *packed,
                       char *err, size_t err_len)
{
    char what[64];
    if (!p->id)
        return fail(err, err_len, VX_ERR_INVALID, "points[%u].id: missing", i);
    size_t idlen = strlen(p->id);
    if (idlen < 1 || idlen > VX_MAX_ID_LEN)
        return fail(err, err_len, VX_ERR_INVALID, "points[%u].id: length %zu, expected 1..%d bytes",
                    i, idlen, VX_MAX_ID_LEN);
    if (!vx_utf8_valid(p->id, idlen))
        return fail(err, err_len, VX_ERR_INVALID, "points[%u].id: not valid UTF-8", i);
    snprintf(what, sizeof what, "points[%u].vector", i);
    int rc = coll_check_vector(c, p->vector, p->dim, what, err, err_len);
    if (rc)
        return rc;
    if (p->metadata && p->metadata->type != VX_VAL_NULL) {
        if (p->metadata->type != VX_VAL_OBJECT)
            return fail(err, err_len, VX_ERR_INVALID, "points[%u].metadata: expected an object", i);
        size_t before = packed->len;
        vx_value_pack(p->metadata, packed);
        size_t sz = packed->len - before;
        if (sz > VX_MAX_METADATA_BYTES)
            return fail(err, err_len, VX_ERR_LIMIT,
                        "points[%u].metadata: %zu bytes packed, limit %d", i, sz,
                        VX_MAX_METADATA_BYTES);
    }
    return VX_OK;
}

int coll_upsert_check(const collection *c, const vx_point *pts, uint32_t n, char *err,
                      size_t err_len)
{
    vx_buf packed = VX_BUF_INIT;
    int rc = VX_OK;
    if (n > VX_MAX_BATCH)
        rc = fail(err, err_len, VX_ERR_LIMIT, "points: %u points, limit %d", n, VX_MAX_BATCH);
    for (uint32_t i = 0; i < n && rc == VX_OK; i++) {
        vx_buf_reset(&packed);
        rc = check_point(c, &pts[i], i, &packed, err, err_len);
    }
    vx_buf_free(&packed);
    return rc;
}

/* ---- storage ---- */


/* Asks for transparent huge pages on a slab just grown: a 1.5 GB slab then
 * faults in 2 MB at a time instead of 4 KB (restart time is dominated by
 * page faults otherwise) and a scan crosses 512 times fewer pages.
 * Advisory; failures are ignored. */
static void advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t end = ((uintptr_t)p + len) & ~(uintptr_t)4095;
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

int coll_reserve(collection *c, uint64_t need)
{
    if (need > UINT32_MAX - 1u)
        return VX_ERR_LIMIT;
    if (need <= c->cap)
        return VX_OK;
    uint64_t cap = c->cap ? c->cap : COLL_MIN_CAP;
    while (cap < need)
        cap *= 2;
    if (cap > UINT32_MAX - 63u)
        cap = (UINT32_MAX - 63u) & ~63ull;
    size_t row = (size_t)c->dim * sizeof(float);
    /* Mapped slabs (after a restore) have room for map_rows rows; past that
     * they are copied into malloc'd memory once. */
    if (c->map_rows && cap > c->map_rows) {
        int rc = coll_unmap_slabs(c);
        if (rc)
            return rc;
    }
    /* Each realloc leaves the old block valid on failure; fields are only
     * updated after every allocation succeeded (cap stays the old value, so a
     * partially grown set of arrays is merely larger than needed). */
    if (!c->map_rows) {
        float *search = realloc(c->search, cap * row);
        if (!search)
            return VX_ERR_NOMEM;
        c->search = search;
        advise_huge(search, cap * row);
        if (c->cfg.metric == VX_METRIC_COSINE) {
            float *raw = realloc(c->raw, cap * row);
            if (!raw)
                return VX_ERR_NOMEM;
            c->raw = raw;
            advise_huge(raw, cap * row);
        }
    }
    if (c->has_codes && flat_codes_reserve(&c->codes, (uint32_t)cap) != VX_OK)
        return VX_ERR_NOMEM;
    unsigned char **meta = realloc(c->meta, cap * sizeof *meta);
    if (!meta)
        return VX_ERR_NOMEM;
    c->meta = meta;
    uint32_t *meta_len = realloc(c->meta_len, cap * sizeof *meta_len);
    if (!meta_len)
        return VX_ERR_NOMEM;
    c->meta_len = meta_len;
    size_t old_words = c->cap / 64, words = (size_t)(cap + 63) / 64;
    uint64_t *dead = realloc(c->dead, words * sizeof *dead);
    if (!dead)
        return VX_ERR_NOMEM;
    memset(dead + old_words, 0, (words - old_words) * sizeof *dead);
    c->dead = dead;
    memset(c->meta + c->cap, 0, (cap - c->cap) * sizeof *meta);
    memset(c->meta_len + c->cap, 0, (cap - c->cap) * sizeof *meta_len);
    c->cap = (uint32_t)cap;
    return VX_OK;
}

void coll_write_vector(collection *c, uint32_t slot, const float *v)
{
    float *row = c->search + (size_t)slot * c->dim;
    if (c->cfg.metric == VX_METRIC_COSINE) {
        memcpy(c->raw + (size_t)slot * c->dim, v, (size_t)c->dim * sizeof(float));
        dist_normalise(v, c->dim, row);
    } else {
        memcpy(row, v, (size_t)c->dim * sizeof(float));
    }
    if (c->has_codes && !c->codes_deferred) {
        flat_codes_write(&c->codes, slot, row);
        /* under the write lock: no catch-up runs */
        if (slot == __atomic_load_n(&c->codes_ready, __ATOMIC_RELAXED))
            __atomic_store_n(&c->codes_ready, slot + 1, __ATOMIC_RELEASE);
    }
}

void coll_defer_codes(collection *c, bool on)
{
    c->codes_deferred = on;
}

uint32_t coll_codes_catch_up(collection *c, uint32_t max_rows)
{
    if (!c->has_codes)
        return 0;
    uint32_t from = __atomic_load_n(&c->codes_ready, __ATOMIC_RELAXED);
    if (from >= c->n_slots)
        return 0;
    uint32_t to = c->n_slots - from < max_rows ? c->n_slots : from + max_rows;
    for (uint32_t s = from; s < to; s++)
        flat_codes_write(&c->codes, s, c->search + (size_t)s * c->dim);
    __atomic_store_n(&c->codes_ready, to, __ATOMIC_RELEASE);
    return c->n_slots - to;
}

/* Applies one validated point; blob (malloc'd or NULL) becomes owned. */
static void coll_apply_point(collection *c, const vx_point *p, unsigned char *blob, uint32_t blen)
{
    size_t idlen = strlen(p->id);
    uint32_t slot;
    if (!idmap_get(c->ids, p->id, idlen, &slot)) {
        slot = c->n_slots++;
        /* Cannot fail: coll_upsert reserved room for every point. */
        (void)idmap_put(c->ids, p->id, idlen, slot);
        c->count++;
    } else {
        c->meta_bytes -= c->meta_len[slot];
        free(c->meta[slot]);
    }
    coll_write_vector(c, slot, p->vector);
    c->meta[slot] = blob;
    c->meta_len[slot] = blen;
    c->meta_bytes += blen;
    coll_index_note(c->ann, slot); /* linked by coll_index_flush */
}

static int upsert(collection *c, const vx_point *pts, uint32_t n, uint32_t **link,
                  uint32_t *n_link, char *err, size_t err_len)
{
    vx_buf packed = VX_BUF_INIT;
    size_t *off = NULL;
    unsigned char **blobs = NULL;
    int rc = VX_OK;
    if (n > VX_MAX_BATCH) {
        rc = fail(err, err_len, VX_ERR_LIMIT, "points: %u points, limit %d", n, VX_MAX_BATCH);
        goto out;
    }
    off = malloc((n + 1) * sizeof *off);
    blobs = calloc(n ? n : 1, sizeof *blobs);
    if (!off || !blobs) {
        rc = fail(err, err_len, VX_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* 1. validate everything, packing metadata as we go */
    for (uint32_t i = 0; i < n; i++) {
        off[i] = packed.len;
        rc = check_point(c, &pts[i], i, &packed, err, err_len);
        if (rc)
            goto out;
    }
    off[n] = packed.len;
    /* 2. reserve: after this nothing can fail */
    rc = coll_reserve(c, (uint64_t)c->n_slots + n);
    if (rc == VX_OK)
        rc = idmap_reserve(c->ids, n, c->n_slots + n);
    if (rc == VX_OK)
        rc = coll_index_reserve(c->ann, n);
    for (uint32_t i = 0; i < n && rc == VX_OK; i++) {
        size_t len = off[i + 1] - off[i];
        if (len && !(blobs[i] = malloc(len)))
            rc = VX_ERR_NOMEM;
        else if (len)
            memcpy(blobs[i], packed.data + off[i], len);
    }
    if (rc) {
        rc = fail(err, err_len, rc, rc == VX_ERR_LIMIT ? "collection is full" : "out of memory");
        for (uint32_t i = 0; i < n; i++)
            free(blobs[i]);
        goto out;
    }
    /* 3. apply in order: a later duplicate overwrites an earlier one */
    for (uint32_t i = 0; i < n; i++)
        coll_apply_point(c, &pts[i], blobs[i], (uint32_t)(off[i + 1] - off[i]));
    if (link)
        (void)coll_index_take_pending(c->ann, c, link, n_link); /* linked by coll_link */
    else
        coll_index_flush(c->ann, c); /* link the batch into the graph (2 threads) */
out:
    free(blobs);
    free(off);
    vx_buf_free(&packed);
    return rc;
}

int coll_upsert(collection *c, const vx_point *pts, uint32_t n, char *err, size_t err_len)
{
    return upsert(c, pts, n, NULL, NULL, err, err_len);
}

int coll_upsert_deferred(collection *c, const vx_point *pts, uint32_t n, uint32_t **link,
                         uint32_t *n_link, char *err, size_t err_len)
{
    *link = NULL;
    *n_link = 0;
    return upsert(c, pts, n, link, n_link, err, err_len);
}

void coll_link(collection *c, uint32_t *link, uint32_t n_link)
{
    coll_index_link(c->ann, c, link, n_link);
    free(link);
}

/* ---- reads ---- */

const float *coll_user_row(const collection *c, uint32_t slot)
{
    return (c->raw ? c->raw : c->search) + (size_t)slot * c->dim;
}

float *coll_copy_vec(vx_arena *a, const float *v, uint32_t dim)
{
    float *out = vx_arena_alloc(a, (size_t)dim * sizeof *out);
    memcpy(out, v, (size_t)dim * sizeof *out);
    return out;
}

/* Unpacks slot's metadata into a (NULL when none or undecodable). */
const vx_value *coll_meta_tree(const collection *c, uint32_t slot, vx_arena *a)
{
    if (!c->meta[slot])
        return NULL;
    vx_value *v = vx_arena_alloc(a, sizeof *v);
    if (vx_value_unpack(c->meta[slot], c->meta_len[slot], a, v) != VX_OK)
        return NULL; /* cannot happen: we packed it */
    return v;
}

int coll_get(const collection *c, const char *id, bool with_vector, vx_arena *a, vx_point *out)
{
    memset(out, 0, sizeof *out);
    uint32_t slot;
    if (!id || !idmap_get(c->ids, id, strlen(id), &slot))
        return VX_ERR_NOT_FOUND;
    out->id = vx_arena_strdup(a, id);
    out->dim = c->dim;
    if (with_vector)
        out->vector = coll_copy_vec(a, coll_user_row(c, slot), c->dim);
    out->metadata = coll_meta_tree(c, slot, a);
    return VX_OK;
}

/* ---- deletes ---- */

static void coll_kill_slot(collection *c, uint32_t slot)
{
    c->dead[slot >> 6] |= 1ull << (slot & 63);
    c->meta_bytes -= c->meta_len[slot];
    free(c->meta[slot]);
    c->meta[slot] = NULL;
    c->meta_len[slot] = 0;
    c->count--;
    coll_index_remove(c->ann, c, slot);
}

uint32_t coll_delete_ids(collection *c, const char *const *ids, uint32_t n)
{
    uint32_t deleted = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t slot;
        if (ids[i] && idmap_del(c->ids, ids[i], strlen(ids[i]), &slot)) {
            coll_kill_slot(c, slot);
            deleted++;
        }
    }
    coll_index_flush(c->ann, c); /* rebuilds the graph if tombstones call for it */
    return deleted;
}

int coll_delete_filter(collection *c, const vx_value *filter, vx_arena *a, uint32_t *n_deleted,
                       char *err, size_t err_len)
{
    *n_deleted = 0;
    const vx_filter *f;
    int rc = filter_compile(filter, a, &f, err, err_len);
    if (rc)
        return rc;
    if (!f)
        return fail(err, err_len, VX_ERR_INVALID,
                    "filter: must not be empty (delete the collection to remove every point)");
    for (uint32_t s = 0; s < c->n_slots; s++) {
        if (flat_is_dead(c->dead, s) || !filter_match(f, c->meta[s], c->meta_len[s]))
            continue;
        const char *id = idmap_id(c->ids, s);
        idmap_del(c->ids, id, strlen(id), NULL);
        coll_kill_slot(c, s);
        (*n_deleted)++;
    }
    coll_index_flush(c->ann, c);
    return VX_OK;
}

/* ---- listing ---- */

/* Cursor: "s" + the next slot in base 36, "." + the collection's tag
 * (FNV-1a of its name in base 36), all lowercase: a cursor handed to another
 * collection is refused instead of silently paging from a random place. */
static uint32_t cursor_tag(const collection *c)
{
    uint32_t h = 2166136261u;
    for (const char *p = c->cfg.name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static size_t base36(uint32_t v, char *out)
{
    char tmp[8];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static const char *cursor_encode(const collection *c, vx_arena *a, uint32_t slot)
{
    char *out = vx_arena_alloc(a, 1 + 7 + 1 + 7 + 1);
    size_t n = 0;
    out[n++] = 's';
    n += base36(slot, out + n);
    out[n++] = '.';
    n += base36(cursor_tag(c), out + n);
    out[n] = '\0';
    return out;
}

/* Parses one base-36 number of s up to end; false when malformed or > 2^32. */
static bool parse_base36(const char *s, const char *end, uint32_t *out)
{
    uint64_t v = 0;
    if (s == end)
        return false;
    for (; s < end; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'z')
            d = *s - 'a' + 10;
        else
            return false;
        v = v * 36 + (uint64_t)d;
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int cursor_decode(const collection *c, const char *s, uint32_t *slot)
{
    const char *dot = strchr(s, '.');
    uint32_t tag;
    if (s[0] != 's' || !dot || !parse_base36(s + 1, dot, slot) ||
        !parse_base36(dot + 1, dot + strlen(dot), &tag) || tag != cursor_tag(c))
        return VX_ERR_INVALID;
    return VX_OK;
}

int coll_list(const collection *c, const char *cursor, uint32_t limit, bool with_vector,
              vx_arena *a, vx_list_rep *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    uint32_t start = 0;
    if (cursor && cursor_decode(c, cursor, &start))
        return fail(err, err_len, VX_ERR_INVALID, "cursor: not a cursor returned by this collection");
    if (limit < 1 || limit > VX_MAX_LIST_LIMIT)
        return fail(err, err_len, VX_ERR_INVALID, "limit: %u is out of range 1..%d", limit,
                    VX_MAX_LIST_LIMIT);
    out->points = vx_arena_alloc(a, (size_t)limit * sizeof *out->points);
    uint32_t s = start;
    for (; s < c->n_slots; s++) {
        if (flat_is_dead(c->dead, s))
            continue;
        if (out->n_points == limit)
            break; /* s is the first live slot of the next page */
        vx_point *p = &out->points[out->n_points++];
        p->id = vx_arena_strdup(a, idmap_id(c->ids, s));
        p->dim = c->dim;
        if (with_vector)
            p->vector = coll_copy_vec(a, coll_user_row(c, s), c->dim);
        p->metadata = coll_meta_tree(c, s, a);
    }
    out->next_cursor = s < c->n_slots ? cursor_encode(c, a, s) : NULL;
    return VX_OK;
}

/* ---- slot access ---- */

uint32_t coll_n_slots(const collection *c) { return c->n_slots; }

bool coll_slot_live(const collection *c, uint32_t slot)
{
    return slot < c->n_slots && !flat_is_dead(c->dead, slot);
}

const char *coll_slot_id(const collection *c, uint32_t slot)
{
    return coll_slot_live(c, slot) ? idmap_id(c->ids, slot) : NULL;
}

const float *coll_slot_vector(const collection *c, uint32_t slot)
{
    return slot < c->n_slots ? coll_user_row(c, slot) : NULL;
}

const float *coll_slot_search_vector(const collection *c, uint32_t slot)
{
    return slot < c->n_slots ? c->search + (size_t)slot * c->dim : NULL;
}

const unsigned char *coll_slot_meta(const collection *c, uint32_t slot, uint32_t *len)
{
    if (!coll_slot_live(c, slot)) {
        *len = 0;
        return NULL;
    }
    *len = c->meta_len[slot];
    return c->meta[slot];
}

int coll_ann_save(const collection *c, vx_buf *out)
{
    if (!c->ann)
        return VX_ERR_NOT_FOUND;
    return coll_index_save(c->ann, out);
}

const coll_index *coll_ann(const collection *c) { return c->ann; }

coll_index *coll_ann_mut(collection *c) { return c->ann; }
