/*
 * metrics.h — the gateway's Prometheus registry and its text exposition
 * (GET /metrics, format version 0.0.4).
 *
 * Fixed label sets only, so cardinality is bounded by construction:
 *   vectron_http_requests_total{route,method,code}          counter
 *   vectron_http_request_duration_seconds{route,method}     histogram
 *   vectron_http_requests_in_flight                         gauge
 *   vectron_upstream_requests_total{service,op,status}      counter
 *   vectron_upstream_request_duration_seconds{service,op}   histogram
 *   vectron_service_up{service}                             gauge
 *   vectron_store_* / vectron_embed_*                       from HEALTH stats
 * route is a route-table pattern ("/collections/{name}") registered before
 * serving, or "unmatched" (404/405; method then "other" unless standard);
 * code the exact HTTP status. The HEALTH-derived families and their stat
 * keys are listed in metrics.c and docs/SECURITY.md.
 *
 * Thread safety: after the routes are registered (metrics_add_route, before
 * the server starts), every other call may run on any thread. Request and
 * upstream observations are lock-free atomics; HEALTH imports and
 * rendering take a mutex. A render is a consistent exposition: in every
 * histogram, the +Inf bucket equals _count.
 *
 * Ownership: opaque; metrics_create / metrics_destroy. Strings passed to
 * metrics_add_route must outlive the registry (route tables are static).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>

#include "vx_buf.h"
#include "vx_value.h"

#define METRICS_MAX_ROUTES 64
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef enum metrics_service { METRICS_STORE = 0, METRICS_EMBED = 1 } metrics_service;

typedef struct metrics metrics;

int metrics_create(metrics **out);
void metrics_destroy(metrics *m);

/* Registers one route (call for every entry of the route table before
 * serving). Returns VX_OK, VX_ERR_CONFLICT (registered twice),
 * VX_ERR_LIMIT (more than METRICS_MAX_ROUTES) or VX_ERR_INVALID. */
int metrics_add_route(metrics *m, const char *method, const char *pattern);

/* In-flight gauge: call begin when a request arrives, end when answered. */
void metrics_request_begin(metrics *m);
void metrics_request_end(metrics *m);
/* Counts one answered request. pattern NULL or unregistered → "unmatched".
 * Statuses outside 100..599 are counted as 500. seconds < 0 counts as 0. */
void metrics_observe_request(metrics *m, const char *method, const char *pattern, int status,
                             double seconds);

/* Counts one bus call: msg_type a VX_MSG_* code (others are ignored),
 * status VX_OK or a vx_err code (unknown codes count as internal_error). */
void metrics_observe_upstream(metrics *m, metrics_service svc, int msg_type, int status,
                              double seconds);

/* Result of a HEALTH call. up == false also forgets that service's stats,
 * so a scrape never shows stale numbers for a service that is down. */
void metrics_set_service_up(metrics *m, metrics_service svc, bool up);
/* Imports the known numeric keys of a HEALTH reply's stats object (others
 * are ignored; NULL is allowed). Keys absent from stats stay unexported. */
void metrics_import_health(metrics *m, metrics_service svc, const vx_value *stats);

/* Appends the whole exposition to out (send it with METRICS_CONTENT_TYPE). */
void metrics_render(metrics *m, vx_buf *out);

#endif
