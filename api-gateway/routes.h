/*
 * routes.h — the route table and path matching of the gateway.
 *
 * A route is {method, pattern, handler, flags}; patterns are '/'-separated
 * segments where "{name}" matches a collection name and "{id}" a point id.
 * Matching works on the RAW path (not URL-decoded: civetweb runs with
 * decode_url=no), so an id may contain "%2F". Only after a route is chosen
 * are its parameters percent-decoded and validated.
 *
 * Ownership: the table is static; decoded parameters live in the arena.
 */
#ifndef ROUTES_H
#define ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "vx_arena.h"

typedef struct api_ctx api_ctx;
typedef void (*route_fn)(api_ctx *c);

#define ROUTE_BODY 1u /* the request carries a JSON body (Content-Type checked) */

typedef struct route {
    const char *method;
    const char *pattern;
    route_fn fn;
    unsigned flags;
} route;

typedef struct route_match {
    const route *route;
    const char *name;  /* decoded {name}, or NULL */
    const char *id;    /* decoded {id}, or NULL */
    size_t id_len;
    char allow[64];    /* for 405: "GET, DELETE" */
} route_match;

/* Returns VX_OK with m filled, VX_ERR_NOT_FOUND (no pattern matches the
 * path), VX_ERR_METHOD (the path exists with other methods; m->allow lists
 * them) or VX_ERR_INVALID (a {name} or {id} segment is invalid; err names
 * "name" or "id"). */
int routes_match(const route *table, size_t n, const char *method, const char *raw_path,
                 vx_arena *a, route_match *m, char *err, size_t err_len);

#endif
