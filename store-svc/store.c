/*
 * store.c — see store.h.
 *
 * Invariants: entries[0..n) is sorted by name with no duplicates and holds
 * exactly the live (not dropped) entries; an entry's refs counts the
 * registry's reference (while linked) plus one per store_ref outstanding;
 * the entry and its collection are freed when refs reaches 0. `dropped`
 * is written under the entry's write lock (and the registry's: it is set
 * when the entry is unlinked) and read under its lock. Lock order: an
 * entry's lock may be held while taking the registry's (store_drop_lsn),
 * never the reverse.
 */
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"

typedef struct store_entry {
    collection *coll;
    const char *name; /* coll's name */
    pthread_rwlock_t lock;
    atomic_uint refs;
    bool dropped;
    uint64_t applied_lsn; /* newest logged record reflected in coll */
} store_entry;

struct store_ref {
    store_entry *e;
};

struct store {
    pthread_rwlock_t lock;
    store_entry **entries;
    uint32_t n, cap;
    store_log_fn log; /* NULL: not logged (in-memory use, recovery) */
    void *log_ctx;
};

void store_set_log(store *s, store_log_fn fn, void *ctx)
{
    pthread_rwlock_wrlock(&s->lock);
    s->log = fn;
    s->log_ctx = ctx;
    pthread_rwlock_unlock(&s->lock);
}

int store_open(store **out)
{
    store *s = calloc(1, sizeof *s);
    if (!s)
        return VX_ERR_NOMEM;
    if (pthread_rwlock_init(&s->lock, NULL)) {
        free(s);
        return VX_ERR_INTERNAL;
    }
    *out = s;
    return VX_OK;
}

static void entry_unref(store_entry *e)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        pthread_rwlock_destroy(&e->lock);
        coll_destroy(e->coll);
        free(e);
    }
}

void store_close(store *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n; i++)
        entry_unref(s->entries[i]);
    free(s->entries);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

/* Index of name, or where it would be inserted (*found tells). Registry lock held. */
static uint32_t find(const store *s, const char *name, bool *found)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->entries[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Room for one more entry. Registry lock held. */
static int reserve_entry(store *s)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        store_entry **ne = realloc(s->entries, cap * sizeof *ne);
        if (!ne)
            return VX_ERR_NOMEM;
        s->entries = ne;
        s->cap = cap;
    }
    return VX_OK;
}

/* Inserts e at index at; reserve_entry succeeded before. */
static void link_entry(store *s, uint32_t at, store_entry *e)
{
    memmove(s->entries + at + 1, s->entries + at, (s->n - at) * sizeof *s->entries);
    s->entries[at] = e;
    s->n++;
}

/* Creates + links under the registry write lock (logging first when a hook
 * is set). *out gets the entry (new or existing); *created tells. */
static int create_locked(store *s, const vx_coll_config *cfg_in, store_entry **out, bool *created,
                         uint64_t *lsn, char *err, size_t err_len)
{
    vx_coll_config cfg = *cfg_in;
    int rc = coll_config_check(&cfg, err, err_len);
    if (rc)
        return rc;
    bool found;
    uint32_t at = find(s, cfg.name, &found);
    *created = false;
    if (found) {
        store_entry *e = s->entries[at];
        if (!coll_config_equal(coll_config(e->coll), &cfg)) {
            snprintf(err, err_len, "collection '%s' exists with other settings", cfg.name);
            return VX_ERR_CONFLICT;
        }
        *out = e;
        return VX_OK;
    }
    if (reserve_entry(s))
        return VX_ERR_NOMEM;
    store_entry *e = calloc(1, sizeof *e);
    if (!e)
        return VX_ERR_NOMEM;
    rc = coll_create(&cfg, &e->coll, err, err_len);
    if (rc) {
        free(e);
        return rc;
    }
    pthread_rwlock_init(&e->lock, NULL);
    e->name = coll_config(e->coll)->name;
    atomic_init(&e->refs, 1);
    if (s->log) {
        /* Log the normalised config (defaults filled) before linking. */
        vx_request rec = {.version = VX_PROTO_VERSION, .type = VX_MSG_COLL_CREATE};
        rec.body.coll_create = *coll_config(e->coll);
        rc = s->log(s->log_ctx, &rec, &e->applied_lsn);
        if (rc) {
            snprintf(err, err_len, "collection '%s': cannot write the log: %s", cfg.name,
                     vx_strerror(rc));
            entry_unref(e);
            return rc;
        }
    }
    link_entry(s, at, e); /* cannot fail: nothing between log and link can */
    if (lsn)
        *lsn = e->applied_lsn;
    *out = e;
    *created = true;
    return VX_OK;
}

int store_create(store *s, const vx_coll_config *cfg, vx_arena *a, vx_coll_info *info, char *err,
                 size_t err_len)
{
    return store_create_lsn(s, cfg, a, info, NULL, err, err_len);
}

/* How often a create retries when a concurrent drop removed the existing
 * collection it found before it read its info (the retry creates it anew:
 * the PUT then takes effect after that DELETE, a valid order for the two). */
#define STORE_CREATE_RETRIES 16

int store_create_lsn(store *s, const vx_coll_config *cfg, vx_arena *a, vx_coll_info *info,
                     uint64_t *lsn, char *err, size_t err_len)
{
    int rc = VX_ERR_CONFLICT;
    for (int attempt = 0; attempt < STORE_CREATE_RETRIES; attempt++) {
        store_entry *e;
        bool created;
        if (lsn)
            *lsn = 0;
        pthread_rwlock_wrlock(&s->lock);
        rc = create_locked(s, cfg, &e, &created, lsn, err, err_len);
        if (rc == VX_OK && created) {
            /* No other thread can reach the new entry before we unlock the
             * registry, so its info is read here without its lock. Reading
             * it later would let a racing drop delete a collection this
             * request had not yet acknowledged, and the retry below would
             * then create it a second time for one PUT. */
            coll_info(e->coll, a, info);
            pthread_rwlock_unlock(&s->lock);
            return VX_OK;
        }
        if (rc == VX_OK)
            atomic_fetch_add(&e->refs, 1);
        pthread_rwlock_unlock(&s->lock);
        if (rc)
            return rc;
        pthread_rwlock_rdlock(&e->lock);
        bool dropped = e->dropped; /* dropped between our unlock and now */
        if (!dropped)
            coll_info(e->coll, a, info);
        pthread_rwlock_unlock(&e->lock);
        entry_unref(e);
        if (!dropped)
            return VX_OK;
        rc = VX_ERR_CONFLICT;
    }
    snprintf(err, err_len, "name: collection %s is being deleted and created concurrently; retry",
             cfg->name);
    return rc;
}

int store_drop(store *s, const char *name) { return store_drop_lsn(s, name, NULL); }

int store_drop_lsn(store *s, const char *name, uint64_t *lsn)
{
    /* Lock order: the entry's write lock, then the registry's. Holding the
     * entry lock while logging the drop means no write to this collection
     * is half done (logged but not applied) and none can follow it: the
     * drop record comes after every record of the collection, and a
     * re-created namesake's records after the drop. (store_stats and
     * store_list never hold the registry lock while waiting for an entry.) */
    bool found;
    if (lsn)
        *lsn = 0;
    pthread_rwlock_rdlock(&s->lock);
    uint32_t at = find(s, name, &found);
    store_entry *e = found ? s->entries[at] : NULL;
    if (e)
        atomic_fetch_add(&e->refs, 1);
    pthread_rwlock_unlock(&s->lock);
    if (!e)
        return VX_ERR_NOT_FOUND;
    pthread_rwlock_wrlock(&e->lock);
    int rc = VX_OK;
    if (e->dropped) {
        rc = VX_ERR_NOT_FOUND; /* a concurrent drop won */
        goto out;
    }
    pthread_rwlock_wrlock(&s->lock);
    at = find(s, name, &found); /* still linked: only a drop unlinks, and it holds e->lock */
    if (s->log) {
        vx_request rec = {.version = VX_PROTO_VERSION, .type = VX_MSG_COLL_DELETE};
        rec.body.coll_name.name = e->name;
        uint64_t l = 0;
        rc = s->log(s->log_ctx, &rec, &l);
        if (rc == VX_OK && lsn)
            *lsn = l;
    }
    if (rc == VX_OK) {
        memmove(s->entries + at, s->entries + at + 1, (s->n - at - 1) * sizeof *s->entries);
        s->n--;
        e->dropped = true;
    }
    pthread_rwlock_unlock(&s->lock);
out:
    pthread_rwlock_unlock(&e->lock);
    if (rc == VX_OK)
        entry_unref(e); /* the registry's reference */
    entry_unref(e);     /* ours */
    return rc;
}

int store_insert(store *s, collection *c, uint64_t applied_lsn)
{
    store_entry *e = calloc(1, sizeof *e);
    if (!e) {
        coll_destroy(c);
        return VX_ERR_NOMEM;
    }
    e->coll = c;
    pthread_rwlock_init(&e->lock, NULL);
    e->name = coll_config(c)->name;
    e->applied_lsn = applied_lsn;
    atomic_init(&e->refs, 1);
    bool found;
    pthread_rwlock_wrlock(&s->lock);
    uint32_t at = find(s, e->name, &found);
    int rc = found ? VX_ERR_CONFLICT : reserve_entry(s);
    if (rc == VX_OK)
        link_entry(s, at, e);
    pthread_rwlock_unlock(&s->lock);
    if (rc)
        entry_unref(e);
    return rc;
}

void store_list(store *s, vx_arena *a, vx_coll_info **out, uint32_t *n)
{
    /* Snapshot the entries with references, then read each under its lock. */
    pthread_rwlock_rdlock(&s->lock);
    uint32_t cnt = s->n;
    store_entry **es = vx_arena_alloc(a, (cnt ? cnt : 1) * sizeof *es);
    for (uint32_t i = 0; i < cnt; i++) {
        es[i] = s->entries[i];
        atomic_fetch_add(&es[i]->refs, 1);
    }
    pthread_rwlock_unlock(&s->lock);
    vx_coll_info *infos = vx_arena_alloc(a, (cnt ? cnt : 1) * sizeof *infos);
    uint32_t k = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        pthread_rwlock_rdlock(&es[i]->lock);
        if (!es[i]->dropped)
            coll_info(es[i]->coll, a, &infos[k++]);
        pthread_rwlock_unlock(&es[i]->lock);
        entry_unref(es[i]);
    }
    *out = infos;
    *n = k;
}

void store_stats(store *s, uint64_t *n_colls, uint64_t *n_points, uint64_t *memory_bytes)
{
    /* References under the registry lock, then each entry's read lock
     * without it (never registry → entry nesting: see store_drop_lsn). */
    uint64_t pts = 0, colls = 0, mem = 0;
    pthread_rwlock_rdlock(&s->lock);
    uint32_t cnt = s->n;
    store_entry **es = malloc((cnt ? cnt : 1) * sizeof *es);
    for (uint32_t i = 0; es && i < cnt; i++) {
        es[i] = s->entries[i];
        atomic_fetch_add(&es[i]->refs, 1);
    }
    pthread_rwlock_unlock(&s->lock);
    for (uint32_t i = 0; es && i < cnt; i++) {
        pthread_rwlock_rdlock(&es[i]->lock);
        if (!es[i]->dropped) {
            colls++;
            pts += coll_count(es[i]->coll);
            mem += coll_memory_bytes(es[i]->coll);
        }
        pthread_rwlock_unlock(&es[i]->lock);
        entry_unref(es[i]);
    }
    free(es);
    *n_colls = colls;
    *n_points = pts;
    if (memory_bytes)
        *memory_bytes = mem;
}

/* Wraps an entry whose lock the caller holds (and one reference) in a ref;
 * on failure releases both. */
static int ref_locked(store_entry *e, store_ref **out)
{
    if (e->dropped) {
        pthread_rwlock_unlock(&e->lock);
        entry_unref(e);
        return VX_ERR_NOT_FOUND;
    }
    store_ref *r = malloc(sizeof *r);
    if (!r) {
        pthread_rwlock_unlock(&e->lock);
        entry_unref(e);
        return VX_ERR_NOMEM;
    }
    r->e = e;
    *out = r;
    return VX_OK;
}

static int lock_entry(store_entry *e, bool write, store_ref **out)
{
    if (write)
        pthread_rwlock_wrlock(&e->lock);
    else
        pthread_rwlock_rdlock(&e->lock);
    return ref_locked(e, out);
}

int store_acquire(store *s, const char *name, bool write, store_ref **out)
{
    bool found;
    *out = NULL;
    if (!name)
        return VX_ERR_NOT_FOUND;
    pthread_rwlock_rdlock(&s->lock);
    uint32_t at = find(s, name, &found);
    store_entry *e = found ? s->entries[at] : NULL;
    if (e)
        atomic_fetch_add(&e->refs, 1);
    pthread_rwlock_unlock(&s->lock);
    if (!e)
        return VX_ERR_NOT_FOUND;
    return lock_entry(e, write, out);
}

int store_acquire_or_create(store *s, const vx_coll_config *cfg, store_ref **out, bool *created,
                            char *err, size_t err_len)
{
    return store_acquire_or_create_lsn(s, cfg, out, created, NULL, err, err_len);
}

int store_acquire_or_create_lsn(store *s, const vx_coll_config *cfg, store_ref **out,
                                bool *created, uint64_t *lsn, char *err, size_t err_len)
{
    *created = false;
    if (lsn)
        *lsn = 0;
    int rc = store_acquire(s, cfg->name, true, out);
    if (rc != VX_ERR_NOT_FOUND)
        return rc;
    store_entry *e;
    pthread_rwlock_wrlock(&s->lock);
    /* An existing collection with other settings is fine here: the caller
     * only wants it to exist; keep its settings. */
    bool found;
    uint32_t at = find(s, cfg->name, &found);
    if (found) {
        e = s->entries[at];
    } else {
        rc = create_locked(s, cfg, &e, created, lsn, err, err_len);
        if (rc) {
            pthread_rwlock_unlock(&s->lock);
            return rc;
        }
        /* Nobody can reach the new entry yet, so its lock is free: taken
         * here, under the registry's, no drop can slip in before the
         * caller's write. A try-lock, because the usual order is entry, then
         * registry (a blocking lock here would be an inversion in form). */
        atomic_fetch_add(&e->refs, 1);
        bool locked = pthread_rwlock_trywrlock(&e->lock) == 0;
        pthread_rwlock_unlock(&s->lock);
        return locked ? ref_locked(e, out) : lock_entry(e, true, out);
    }
    atomic_fetch_add(&e->refs, 1);
    pthread_rwlock_unlock(&s->lock);
    return lock_entry(e, true, out);
}

collection *store_ref_coll(store_ref *r) { return r->e->coll; }
uint64_t store_ref_applied_lsn(const store_ref *r) { return r->e->applied_lsn; }
void store_ref_set_applied_lsn(store_ref *r, uint64_t lsn) { r->e->applied_lsn = lsn; }

int store_ref_downgrade(store_ref *r)
{
    store_entry *e = r->e;
    pthread_rwlock_unlock(&e->lock);
    pthread_rwlock_rdlock(&e->lock);
    if (e->dropped) {
        store_release(r);
        return VX_ERR_NOT_FOUND;
    }
    return VX_OK;
}

void store_release(store_ref *r)
{
    if (!r)
        return;
    store_entry *e = r->e;
    free(r);
    pthread_rwlock_unlock(&e->lock);
    entry_unref(e);
}
