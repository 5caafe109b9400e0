/*
 * coll_snapshot.c — see coll_snapshot.h.
 *
 * Section payloads (all integers little-endian; the host must be little-
 * endian, checked at compile time, since float slabs are written raw):
 *  STORE_META   packed vx_value object {"format": 1, "lsn": L}
 *  COLL_CONFIG  packed object {"format", "name", "dimension", "metric",
 *               "index_type", "m", "ef_construction", "model" (string or
 *               null), "n_slots", "count", "applied_lsn"}
 *  COLL_IDS     per slot: u16 length + bytes (0 for a dead slot)
 *  COLL_VECTORS n_slots × dimension float32, the vectors as the user sent them
 *  COLL_SEARCH_VECTORS (optional, cosine) the normalised rows; when absent
 *               the loader recomputes them (bit-identical to an upsert)
 *  COLL_METADATA u64 offsets[n_slots + 1], then the packed blobs
 *  COLL_TOMBSTONES (n_slots + 7) / 8 bytes, bit s (LSB first) set = dead
 *  COLL_HNSW    (optional) coll_ann_save bytes
 */
#include "coll_snapshot.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"
#include "vx_err.h"
#include "vx_value.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "snapshots store float32 slabs raw: a little-endian host is required"
#endif

/* Whether to write COLL_SEARCH_VECTORS for cosine collections. On: the
 * loader maps both slabs in place; renormalising 1M×384 rows costs more
 * than reading 1.5 GB (docs/DURABILITY.md §8.2 has the measurement). */
#define CSNAP_WRITE_SEARCH 1
#define CSNAP_CHUNK (1u << 20)

/* ---- packed-object helpers ---- */

static vx_member *add(vx_value *o, const char *key)
{
    vx_member *m = &o->u.obj.items[o->u.obj.n++];
    m->key = key;
    m->key_len = (uint32_t)strlen(key);
    return m;
}
static void add_int(vx_value *o, const char *key, int64_t v)
{
    vx_member *m = add(o, key);
    m->value.type = VX_VAL_INT;
    m->value.u.i = v;
}
static void add_str(vx_value *o, const char *key, const char *s)
{
    vx_member *m = add(o, key);
    if (!s) {
        m->value.type = VX_VAL_NULL;
        return;
    }
    m->value.type = VX_VAL_STRING;
    m->value.u.str.ptr = s;
    m->value.u.str.len = (uint32_t)strlen(s);
}

static int write_packed(snap_writer *w, uint32_t type, const vx_value *v)
{
    vx_buf b = VX_BUF_INIT;
    vx_value_pack(v, &b);
    int rc = snap_writer_section(w, type, b.data, b.len);
    vx_buf_free(&b);
    return rc;
}

/* ---- writing ---- */

int csnap_write_meta(snap_writer *w, uint64_t lsn)
{
    vx_member items[2];
    vx_value o = {.type = VX_VAL_OBJECT, .u.obj = {items, 0}};
    add_int(&o, "format", CSNAP_FORMAT);
    add_int(&o, "lsn", (int64_t)lsn);
    return write_packed(w, SNAP_SEC_STORE_META, &o);
}

static int write_config(snap_writer *w, const collection *c, uint64_t applied_lsn)
{
    const vx_coll_config *cfg = coll_config(c);
    vx_member items[11];
    vx_value o = {.type = VX_VAL_OBJECT, .u.obj = {items, 0}};
    add_int(&o, "format", CSNAP_FORMAT);
    add_str(&o, "name", cfg->name);
    add_int(&o, "dimension", cfg->dimension);
    add_str(&o, "metric", vx_metric_name(cfg->metric));
    add_str(&o, "index_type", vx_index_type_name(cfg->index.type));
    add_int(&o, "m", cfg->index.m);
    add_int(&o, "ef_construction", cfg->index.ef_construction);
    add_str(&o, "model", cfg->model);
    add_int(&o, "n_slots", coll_n_slots(c));
    add_int(&o, "count", (int64_t)coll_count(c));
    add_int(&o, "applied_lsn", (int64_t)applied_lsn);
    return write_packed(w, SNAP_SEC_COLL_CONFIG, &o);
}

/* Appends b to the open section when it holds at least `min` bytes. */
static int flush(snap_writer *w, vx_buf *b, size_t min)
{
    if (b->len < min || !b->len)
        return VX_OK;
    int rc = snap_writer_append(w, b->data, b->len);
    vx_buf_reset(b);
    return rc;
}

static int write_ids(snap_writer *w, const collection *c, vx_buf *b)
{
    int rc = snap_writer_begin(w, SNAP_SEC_COLL_IDS);
    for (uint32_t s = 0; s < coll_n_slots(c) && rc == VX_OK; s++) {
        const char *id = coll_slot_id(c, s);
        size_t n = id ? strlen(id) : 0;
        unsigned char len[2];
        le_put16(len, (uint16_t)n);
        vx_buf_append(b, len, 2);
        vx_buf_append(b, id, n);
        rc = flush(w, b, CSNAP_CHUNK);
    }
    if (rc == VX_OK)
        rc = flush(w, b, 0);
    return rc ? rc : snap_writer_end(w);
}

static int write_slab(snap_writer *w, uint32_t type, const float *rows, size_t n_floats)
{
    int rc = snap_writer_begin(w, type);
    if (rc == VX_OK && n_floats)
        rc = snap_writer_append(w, rows, n_floats * sizeof(float));
    return rc ? rc : snap_writer_end(w);
}

static int write_metadata(snap_writer *w, const collection *c, vx_buf *b)
{
    uint32_t n = coll_n_slots(c);
    int rc = snap_writer_begin(w, SNAP_SEC_COLL_METADATA);
    uint64_t off = 0;
    for (uint32_t s = 0; s <= n && rc == VX_OK; s++) {
        unsigned char o[8];
        le_put64(o, off);
        vx_buf_append(b, o, 8);
        if (s < n) {
            uint32_t len;
            coll_slot_meta(c, s, &len);
            off += len;
        }
        rc = flush(w, b, CSNAP_CHUNK);
    }
    for (uint32_t s = 0; s < n && rc == VX_OK; s++) {
        uint32_t len;
        const unsigned char *m = coll_slot_meta(c, s, &len);
        vx_buf_append(b, m, len);
        rc = flush(w, b, CSNAP_CHUNK);
    }
    if (rc == VX_OK)
        rc = flush(w, b, 0);
    return rc ? rc : snap_writer_end(w);
}

static int write_tombstones(snap_writer *w, const collection *c, vx_buf *b)
{
    uint32_t n = coll_n_slots(c);
    vx_buf_reset(b);
    vx_buf_reserve(b, ((size_t)n + 7) / 8);
    memset(b->data, 0, ((size_t)n + 7) / 8);
    for (uint32_t s = 0; s < n; s++)
        if (!coll_slot_live(c, s))
            b->data[s >> 3] |= (unsigned char)(1u << (s & 7));
    b->len = ((size_t)n + 7) / 8;
    int rc = snap_writer_section(w, SNAP_SEC_COLL_TOMBSTONES, b->data, b->len);
    vx_buf_reset(b);
    return rc;
}

int csnap_write(snap_writer *w, const collection *c, uint64_t applied_lsn)
{
    vx_buf b = VX_BUF_INIT;
    size_t n_floats = (size_t)coll_n_slots(c) * coll_config(c)->dimension;
    const float *raw = n_floats ? coll_slot_vector(c, 0) : NULL;
    int rc = write_config(w, c, applied_lsn);
    if (rc == VX_OK)
        rc = write_ids(w, c, &b);
    if (rc == VX_OK)
        rc = write_slab(w, SNAP_SEC_COLL_VECTORS, raw, n_floats);
    if (rc == VX_OK && CSNAP_WRITE_SEARCH && coll_config(c)->metric == VX_METRIC_COSINE)
        rc = write_slab(w, SNAP_SEC_COLL_SEARCH_VECTORS,
                        n_floats ? coll_slot_search_vector(c, 0) : NULL, n_floats);
    if (rc == VX_OK)
        rc = write_metadata(w, c, &b);
    if (rc == VX_OK)
        rc = write_tombstones(w, c, &b);
    if (rc == VX_OK) {
        vx_buf_reset(&b);
        int arc = coll_ann_save(c, &b);
        if (arc == VX_OK)
            rc = snap_writer_section(w, SNAP_SEC_COLL_HNSW, b.data, b.len);
        else if (arc != VX_ERR_NOT_FOUND)
            rc = arc;
    }
    vx_buf_free(&b);
    return rc;
}

/* ---- loading ---- */

typedef struct csnap_coll {
    const snap_section *config, *ids, *vectors, *search, *meta, *tomb, *ann;
} csnap_coll;

static int bad(char *err, size_t err_len, const snap *s, const snap_section *sec, const char *coll,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int bad(char *err, size_t err_len, const snap *s, const snap_section *sec, const char *coll,
               const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, err_len, "%s: offset %" PRIu64 ": collection '%s': %s", snap_path(s),
             sec ? sec->offset : 0, coll ? coll : "?", why);
    return VX_ERR_CORRUPT;
}

static bool get_u64(const vx_value *o, const char *key, uint64_t max, uint64_t *out)
{
    const vx_value *v = vx_value_get(o, key);
    if (!v || v->type != VX_VAL_INT || v->u.i < 0 || (uint64_t)v->u.i > max)
        return false;
    *out = (uint64_t)v->u.i;
    return true;
}

static const char *get_str(const vx_value *o, const char *key)
{
    const vx_value *v = vx_value_get(o, key);
    return v && v->type == VX_VAL_STRING ? v->u.str.ptr : NULL;
}

/* Parses the config section into cfg (strings in a), n_slots, count, lsn. */
static int parse_config(const snap *s, const snap_section *sec, vx_arena *a, vx_coll_config *cfg,
                        uint64_t *n_slots, uint64_t *count, uint64_t *lsn, char *err,
                        size_t err_len)
{
    vx_value o;
    uint64_t fmt, dim, m, efc;
    memset(cfg, 0, sizeof *cfg);
    if (vx_value_unpack(sec->data, sec->len, a, &o) != VX_OK || o.type != VX_VAL_OBJECT)
        return bad(err, err_len, s, sec, NULL, "config: not a packed object");
    cfg->name = get_str(&o, "name");
    const char *metric = get_str(&o, "metric"), *itype = get_str(&o, "index_type");
    const vx_value *model = vx_value_get(&o, "model");
    if (!get_u64(&o, "format", UINT32_MAX, &fmt) || fmt != CSNAP_FORMAT)
        return bad(err, err_len, s, sec, cfg->name, "config: unknown format");
    if (!cfg->name || !get_u64(&o, "dimension", VX_MAX_DIM, &dim) || !metric || !itype ||
        !get_u64(&o, "m", UINT32_MAX, &m) || !get_u64(&o, "ef_construction", UINT32_MAX, &efc) ||
        !model || (model->type != VX_VAL_NULL && model->type != VX_VAL_STRING) ||
        !get_u64(&o, "n_slots", UINT32_MAX - 1u, n_slots) ||
        !get_u64(&o, "count", *n_slots, count) || !get_u64(&o, "applied_lsn", INT64_MAX, lsn))
        return bad(err, err_len, s, sec, cfg->name, "config: a field is missing or out of range");
    cfg->dimension = (uint32_t)dim;
    cfg->index.m = (uint32_t)m;
    cfg->index.ef_construction = (uint32_t)efc;
    cfg->model = model->type == VX_VAL_STRING ? model->u.str.ptr : NULL;
    if (vx_metric_parse(metric, &cfg->metric) || vx_index_type_parse(itype, &cfg->index.type))
        return bad(err, err_len, s, sec, cfg->name, "config: unknown metric or index type");
    char why[200];
    if (coll_config_check(cfg, why, sizeof why))
        return bad(err, err_len, s, sec, cfg->name, "config: %s", why);
    return VX_OK;
}

static int build(store *st, const snap *s, const csnap_coll *k, char *err, size_t err_len)
{
    vx_arena a;
    vx_arena_init(&a, 4096);
    collection *c = NULL;
    vx_coll_config cfg;
    uint64_t n = 0, count = 0, lsn = 0;
    int rc = parse_config(s, k->config, &a, &cfg, &n, &count, &lsn, err, err_len);
    if (rc)
        goto out;
    const char *name = cfg.name;
    size_t row = (size_t)cfg.dimension * sizeof(float);
    size_t meta_hdr = ((size_t)n + 1) * 8;
    if (!k->ids || !k->vectors || !k->meta || !k->tomb) {
        rc = bad(err, err_len, s, k->config, name, "a section is missing");
        goto out;
    }
    if (k->vectors->len != n * row || (k->search && k->search->len != n * row)) {
        rc = bad(err, err_len, s, k->vectors, name, "vector slab is not %" PRIu64 " rows of %u",
                 n, cfg.dimension);
        goto out;
    }
    if (k->tomb->len != (n + 7) / 8 || k->meta->len < meta_hdr) {
        rc = bad(err, err_len, s, k->tomb, name, "tombstone or metadata section has a wrong size");
        goto out;
    }
    char why[200];
    if ((rc = coll_create(&cfg, &c, why, sizeof why))) {
        rc = bad(err, err_len, s, k->config, name, "%s", why);
        goto out;
    }
    if ((rc = coll_restore_begin(c, (uint32_t)n))) {
        rc = rc == VX_ERR_NOMEM ? rc : bad(err, err_len, s, k->config, name, "too many slots");
        goto out;
    }
    bool cosine = cfg.metric == VX_METRIC_COSINE;
    if (!n || (cosine && !k->search) ||
        coll_restore_vectors_file(c, snap_path(s), k->vectors->offset + SNAP_SEC_HDR_SIZE,
                                  cosine ? k->search->offset + SNAP_SEC_HDR_SIZE : 0) != VX_OK)
        coll_restore_vectors(c, k->vectors->data, k->search ? k->search->data : NULL);
    const unsigned char *ids = k->ids->data, *ids_end = ids + k->ids->len;
    const unsigned char *tomb = k->tomb->data, *meta = k->meta->data;
    uint64_t blob_len = k->meta->len - meta_hdr, live = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (ids_end - ids < 2) {
            rc = bad(err, err_len, s, k->ids, name, "ids end at slot %" PRIu64, i);
            goto out;
        }
        size_t idlen = le_get16(ids);
        ids += 2;
        uint64_t m0 = le_get64(meta + i * 8), m1 = le_get64(meta + (i + 1) * 8);
        bool dead = tomb[i >> 3] & (1u << (i & 7));
        if ((size_t)(ids_end - ids) < idlen || dead != (idlen == 0) || idlen > VX_MAX_ID_LEN ||
            m0 > m1 || m1 > blob_len || (dead && m1 != m0) || m1 - m0 > VX_MAX_METADATA_BYTES) {
            rc = bad(err, err_len, s, k->ids, name, "slot %" PRIu64 ": inconsistent id/tombstone/metadata", i);
            goto out;
        }
        if (!dead) {
            rc = coll_restore_slot(c, (uint32_t)i, (const char *)ids, idlen,
                                   meta + meta_hdr + m0, (uint32_t)(m1 - m0));
            if (rc) {
                rc = rc == VX_ERR_NOMEM ? rc
                                        : bad(err, err_len, s, k->ids, name,
                                              "slot %" PRIu64 ": duplicate id", i);
                goto out;
            }
            live++;
        }
        ids += idlen;
    }
    if (ids != ids_end || live != count || le_get64(meta + n * 8) != blob_len) {
        rc = bad(err, err_len, s, k->ids, name, "sections disagree with the config (count %" PRIu64
                 ", live %" PRIu64 ")", count, live);
        goto out;
    }
    if ((rc = coll_restore_end(c, k->ann ? k->ann->data : NULL, k->ann ? k->ann->len : 0))) {
        rc = bad(err, err_len, s, k->ann, name, "cannot rebuild the ANN index: %s",
                 vx_strerror(rc));
        goto out;
    }
    rc = store_insert(st, c, lsn);
    c = NULL; /* owned by the store now, also on failure */
    if (rc)
        rc = bad(err, err_len, s, k->config, name, "collection appears twice");
out:
    coll_destroy(c);
    vx_arena_fini(&a);
    return rc;
}

int csnap_load(store *st, const snap *s, char *err, size_t err_len)
{
    size_t ns = snap_section_count(s);
    const snap_section *meta = ns ? snap_section_at(s, 0) : NULL;
    if (!meta || meta->type != SNAP_SEC_STORE_META)
        return bad(err, err_len, s, meta, "-", "the first section is not STORE_META");
    vx_arena a;
    vx_arena_init(&a, 1024);
    vx_value o;
    uint64_t fmt = 0, lsn = 0;
    bool ok = vx_value_unpack(meta->data, meta->len, &a, &o) == VX_OK &&
              o.type == VX_VAL_OBJECT && get_u64(&o, "format", UINT32_MAX, &fmt) &&
              fmt == CSNAP_FORMAT && get_u64(&o, "lsn", INT64_MAX, &lsn) && lsn == snap_lsn(s);
    vx_arena_fini(&a);
    if (!ok)
        return bad(err, err_len, s, meta, "-", "STORE_META: unknown format or wrong LSN");
    csnap_coll k;
    memset(&k, 0, sizeof k);
    for (size_t i = 1; i <= ns; i++) {
        const snap_section *sec = i < ns ? snap_section_at(s, i) : NULL;
        if ((!sec || sec->type == SNAP_SEC_COLL_CONFIG) && k.config) {
            int rc = build(st, s, &k, err, err_len);
            if (rc)
                return rc;
            memset(&k, 0, sizeof k);
        }
        if (!sec)
            break;
        const snap_section **slot = NULL;
        switch (sec->type) {
        case SNAP_SEC_COLL_CONFIG: slot = &k.config; break;
        case SNAP_SEC_COLL_IDS: slot = &k.ids; break;
        case SNAP_SEC_COLL_VECTORS: slot = &k.vectors; break;
        case SNAP_SEC_COLL_SEARCH_VECTORS: slot = &k.search; break;
        case SNAP_SEC_COLL_METADATA: slot = &k.meta; break;
        case SNAP_SEC_COLL_TOMBSTONES: slot = &k.tomb; break;
        case SNAP_SEC_COLL_HNSW: slot = &k.ann; break;
        default: continue; /* unknown types are skipped (forward compatible) */
        }
        if (sec->type != SNAP_SEC_COLL_CONFIG && !k.config)
            return bad(err, err_len, s, sec, "-", "section type 0x%x before any COLL_CONFIG",
                       sec->type);
        if (*slot && sec->type != SNAP_SEC_COLL_CONFIG)
            return bad(err, err_len, s, sec, "-", "section type 0x%x twice", sec->type);
        *slot = sec;
    }
    return VX_OK;
}
