/*
 * store_config.h — vectron-store's configuration: one vx_config table
 * (defaults → environment → command line; --help lists every key).
 *
 *   listen      --listen       VECTRON_STORE_URL         tcp://127.0.0.1:5601
 *   events_url  --events-url   VECTRON_STORE_EVENTS_URL  tcp://127.0.0.1:5602
 *   data_dir    --data-dir     VECTRON_DATA_DIR          ./data
 *   workers     --workers      VECTRON_STORE_WORKERS     4 (1..64)
 *   log_level   --log-level    VECTRON_LOG_LEVEL         info
 *
 * Ownership: string fields point at literals, the environment or argv
 * (all live for the whole process).
 */
#ifndef STORE_CONFIG_H
#define STORE_CONFIG_H

#include <stdint.h>

#include "vx_config.h"

typedef struct store_config {
    const char *listen;
    const char *events_url;
    const char *data_dir;
    int64_t workers;
    int log_level; /* index into "debug|info|warn|error" = vx_log_level */
} store_config;

/* Loads the configuration; VX_CONFIG_EXIT after --help/--print-config. */
vx_config_result store_config_load(store_config *cfg, int argc, char **argv);

#endif
