/*
 * filter.h — metadata filters: compiled once per request, evaluated per row
 * against a point's packed metadata without allocating.
 *
 * Grammar (a filter is a JSON-like object, vx_value):
 *   {}                                   matches every point
 *   {"field": scalar}                    equality ($eq)
 *   {"field": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": v,
 *              "$in": [..], "$nin": [..]}}   several operators = AND
 *   {"$and": [filter, ...]}, {"$or": [filter, ...]}   non-empty arrays
 *   several members in one object = AND; nesting ≤ FILTER_MAX_DEPTH.
 * Fields are top-level metadata keys (a dot is part of the key, not a path).
 *
 * Semantics (the choices a user can rely on):
 *  - Numbers compare numerically whatever their encoding (1 == 1.0; int64
 *    against int64 exactly, otherwise as doubles). Strings compare bytewise
 *    (memcmp order, so UTF-8 code point order) for $gt/$gte/$lt/$lte.
 *  - Values of different types never compare: equality is false, $ne is
 *    true, ordering is false. $gt/$gte/$lt/$lte take a number or a string.
 *  - A missing field (or a point without metadata): $eq, $in and the
 *    orderings are false; $ne and $nin are true.
 *  - A metadata array matches $eq/$in/ordering when ANY element matches
 *    (tags: ["a","b"] matches {"tags": "a"}); $ne/$nin are the negations of
 *    $eq/$in (true when NO element is equal). Nested arrays/objects inside
 *    metadata never equal a scalar.
 *  - null equals null: {"f": null} matches points whose f is null (not
 *    points without f).
 * Errors (VX_ERR_INVALID) name the offending path, e.g.
 * "filter.price.$gt: expected a number or a string".
 *
 * Ownership: a compiled filter lives in the arena given to filter_compile
 * and points into the source vx_value tree, which must outlive it.
 */
#ifndef FILTER_H
#define FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "vx_arena.h"
#include "vx_value.h"

#define FILTER_MAX_DEPTH 16

typedef struct vx_filter vx_filter;

/* Compiles f (NULL or an object). *out is NULL when the filter matches
 * everything (NULL or {}), so callers can skip evaluation. Returns VX_OK or
 * VX_ERR_INVALID with a message in err. */
int filter_compile(const vx_value *f, vx_arena *a, const vx_filter **out, char *err, size_t err_len);

/* Evaluates a compiled filter against one point's packed metadata
 * (meta may be NULL: no metadata). f must not be NULL. */
bool filter_match(const vx_filter *f, const unsigned char *meta, size_t meta_len);

#endif
