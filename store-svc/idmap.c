/*
 * idmap.c — see idmap.h. Invariants: cap is a power of two (or 0),
 * count * 2 <= cap after every put, each live cell's slot has a non-NULL
 * rev[slot] whose string hashes to the cell's hash, and every cell between
 * a key's ideal position and its actual one is non-empty (the linear-probe
 * invariant that backward-shift deletion preserves).
 */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_log.h"

typedef struct idmap_cell {
    uint32_t slot1; /* slot + 1; 0 = empty */
    uint32_t hash;
} idmap_cell;

struct idmap {
    idmap_cell *cells;
    uint32_t cap; /* cells, power of two */
    uint32_t count;
    char **rev; /* rev[slot]: owned id or NULL */
    uint32_t rev_cap;
    size_t id_bytes; /* sum of id lengths + NUL */
};

static uint32_t idmap_hash(const char *s, size_t len)
{
    /* FNV-1a 64 with a final avalanche (from splitmix64), folded to 32 bits. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return (uint32_t)h;
}

idmap *idmap_create(void)
{
    idmap *m = calloc(1, sizeof *m);
    if (!m) {
        VX_ERROR("idmap: out of memory");
        abort();
    }
    return m;
}

void idmap_destroy(idmap *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->rev_cap; i++)
        free(m->rev[i]);
    free(m->rev);
    free(m->cells);
    free(m);
}

static int idmap_rehash(idmap *m, uint32_t new_cap)
{
    idmap_cell *cells = calloc(new_cap, sizeof *cells);
    if (!cells)
        return VX_ERR_NOMEM;
    uint32_t mask = new_cap - 1;
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->cells[i].slot1)
            continue;
        uint32_t j = m->cells[i].hash & mask;
        while (cells[j].slot1)
            j = (j + 1) & mask;
        cells[j] = m->cells[i];
    }
    free(m->cells);
    m->cells = cells;
    m->cap = new_cap;
    return VX_OK;
}

int idmap_reserve(idmap *m, uint32_t extra, uint32_t max_slot)
{
    uint64_t need = ((uint64_t)m->count + extra) * 2;
    if (need > (1ull << 31))
        return VX_ERR_NOMEM;
    if (need > m->cap) {
        uint32_t cap = m->cap ? m->cap : 16;
        while (cap < need)
            cap *= 2;
        int rc = idmap_rehash(m, cap);
        if (rc)
            return rc;
    }
    if (max_slot > m->rev_cap) {
        uint64_t cap = m->rev_cap ? m->rev_cap : 16;
        while (cap < max_slot)
            cap *= 2;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        char **rev = realloc(m->rev, cap * sizeof *rev);
        if (!rev)
            return VX_ERR_NOMEM;
        memset(rev + m->rev_cap, 0, (cap - m->rev_cap) * sizeof *rev);
        m->rev = rev;
        m->rev_cap = (uint32_t)cap;
    }
    return VX_OK;
}

/* Index of id's cell, or of the empty cell where it would go. */
static uint32_t idmap_probe(const idmap *m, const char *id, size_t len, uint32_t h)
{
    uint32_t mask = m->cap - 1;
    uint32_t i = h & mask;
    for (;;) {
        const idmap_cell *c = &m->cells[i];
        if (!c->slot1)
            return i;
        if (c->hash == h) {
            const char *s = m->rev[c->slot1 - 1];
            if (strlen(s) == len && memcmp(s, id, len) == 0)
                return i;
        }
        i = (i + 1) & mask;
    }
}

int idmap_put(idmap *m, const char *id, size_t len, uint32_t slot)
{
    if (slot == UINT32_MAX)
        return VX_ERR_LIMIT;
    int rc = idmap_reserve(m, 1, slot + 1);
    if (rc)
        return rc;
    char *copy = malloc(len + 1);
    if (!copy) { /* small allocation: abort, as vx_buf does (see idmap.h) */
        VX_ERROR("idmap: out of memory");
        abort();
    }
    memcpy(copy, id, len);
    copy[len] = '\0';
    uint32_t h = idmap_hash(id, len);
    uint32_t i = idmap_probe(m, id, len, h);
    if (m->cells[i].slot1) { /* contract violation: id present */
        free(copy);
        return VX_ERR_CONFLICT;
    }
    if (m->rev[slot]) { /* contract violation: slot in use; keep the map consistent */
        free(copy);
        return VX_ERR_CONFLICT;
    }
    m->rev[slot] = copy;
    m->cells[i].slot1 = slot + 1;
    m->cells[i].hash = h;
    m->count++;
    m->id_bytes += len + 1;
    return VX_OK;
}

bool idmap_get(const idmap *m, const char *id, size_t len, uint32_t *slot)
{
    if (!m->count)
        return false;
    uint32_t i = idmap_probe(m, id, len, idmap_hash(id, len));
    if (!m->cells[i].slot1)
        return false;
    if (slot)
        *slot = m->cells[i].slot1 - 1;
    return true;
}

bool idmap_del(idmap *m, const char *id, size_t len, uint32_t *slot)
{
    if (!m->count)
        return false;
    uint32_t mask = m->cap - 1;
    uint32_t i = idmap_probe(m, id, len, idmap_hash(id, len));
    if (!m->cells[i].slot1)
        return false;
    uint32_t s = m->cells[i].slot1 - 1;
    if (slot)
        *slot = s;
    m->id_bytes -= strlen(m->rev[s]) + 1;
    free(m->rev[s]);
    m->rev[s] = NULL;
    m->count--;
    /* Backward-shift: pull later entries of the probe run into the hole
     * when the hole lies between their ideal cell and their cell. */
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->cells[j].slot1)
            break;
        uint32_t ideal = m->cells[j].hash & mask;
        if (((j - ideal) & mask) >= ((j - i) & mask)) {
            m->cells[i] = m->cells[j];
            i = j;
        }
    }
    m->cells[i].slot1 = 0;
    m->cells[i].hash = 0;
    return true;
}

const char *idmap_id(const idmap *m, uint32_t slot)
{
    return slot < m->rev_cap ? m->rev[slot] : NULL;
}

uint32_t idmap_count(const idmap *m) { return m->count; }

size_t idmap_memory_bytes(const idmap *m)
{
    return sizeof *m + (size_t)m->cap * sizeof(idmap_cell) + (size_t)m->rev_cap * sizeof(char *) +
           m->id_bytes;
}
