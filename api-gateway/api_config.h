/*
 * api_config.h — vectron-api's configuration (one vx_config table).
 * Strings point at literals, the environment or argv (process lifetime).
 */
#ifndef API_CONFIG_H
#define API_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vx_config.h"

#define API_DEFAULT_MAX_BODY_BYTES 33554432 /* 32 MiB */
#define API_DEFAULT_TIMEOUT_MS 30000
#define API_DEFAULT_THREADS 256 /* one per open connection (civetweb 1.15); idle ones cost ~nothing */
#define API_DEFAULT_MAX_INFLIGHT 24 /* per backend; more requests wait (queue_wait_ms) */
#define API_DEFAULT_QUEUE_WAIT_MS 5000 /* a call beyond max_inflight waits this long */

typedef struct api_config {
    const char *bind;
    int64_t port;
    const char *store_url;
    const char *embed_url;
    int64_t threads;
    int64_t max_body_bytes;
    int64_t request_timeout_ms;
    int log_level;           /* vx_log_level */
    const char *cors_origin; /* "" = no CORS headers */
    bool insecure;           /* allow a non-loopback bind without API keys */
    int64_t rate_limit;      /* requests/s per key (or client address); 0 = off */
    int64_t rate_burst;      /* bucket size; 0 = max(1, rate_limit) */
    const char *trusted_proxies; /* peers whose X-Forwarded-For is believed */
    int64_t max_inflight;    /* concurrent calls per backend; more wait for a slot */
    int64_t queue_wait_ms;   /* longest such wait, then 503 overloaded; 0 = refuse at once */
    int64_t cpu_poll_ms;     /* linger of the CPU latency hint (vx_cpu_qos.h); 0 = off */
    const char *cpu_poll_device; /* /dev/cpu_dma_latency */
} api_config;

/* Fills c from defaults, environment and argv; see vx_config_load. */
vx_config_result api_config_load(api_config *c, int argc, char **argv);

#endif
