/*
 * idmap.h — point id (string) → slot (u32) map of one collection, plus the
 * reverse slot → id array.
 *
 * The forward map is an open-addressing hash table with linear probing and
 * backward-shift deletion (no tombstones, so lookups never degrade after
 * many deletes); its load factor stays ≤ 1/2. Each table cell holds the slot
 * + 1 (0 = empty) and 32 bits of the id's hash, so most probes compare no
 * strings. The reverse array holds, for each slot, the id string (owned by
 * the map, NUL-terminated) or NULL when the slot has no live id.
 *
 * Ownership: the map copies every id it is given and frees it on idmap_del
 * or idmap_destroy; idmap_id() returns a pointer valid until the id is
 * deleted or the map destroyed. Not thread-safe: the collection's lock
 * protects it. Out of memory on a small allocation aborts (as vx_buf).
 */
#ifndef IDMAP_H
#define IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct idmap idmap;

idmap *idmap_create(void);
void idmap_destroy(idmap *m); /* NULL is a no-op */

/* Makes room for `extra` more ids and slots up to `max_slot` (exclusive),
 * so that the following idmap_put calls cannot fail. VX_OK / VX_ERR_NOMEM. */
int idmap_reserve(idmap *m, uint32_t extra, uint32_t max_slot);
/* Adds id → slot. The id must be absent and the slot unused (else
 * VX_ERR_CONFLICT). VX_ERR_NOMEM only when the table must grow: never after
 * a successful idmap_reserve covering it. */
int idmap_put(idmap *m, const char *id, size_t len, uint32_t slot);
/* Looks id up; true and *slot when present. */
bool idmap_get(const idmap *m, const char *id, size_t len, uint32_t *slot);
/* Removes id; true and *slot when it was present. */
bool idmap_del(idmap *m, const char *id, size_t len, uint32_t *slot);
/* Id stored for slot, or NULL. */
const char *idmap_id(const idmap *m, uint32_t slot);
uint32_t idmap_count(const idmap *m);
/* Bytes used by the table, the reverse array and the id strings. */
size_t idmap_memory_bytes(const idmap *m);

#endif
