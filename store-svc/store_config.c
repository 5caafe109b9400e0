/*
 * store_config.c — see store_config.h. The --help summary also states the
 * protocol limits the service enforces.
 */
#include "store_config.h"

#include <stdio.h>

#include "vx_proto.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char summary[] =
    "vectron-store: collections, vectors and metadata, exact search; serves the Vectron\n"
    "protocol (msgpack over nng request/reply) on --listen.\n"
    "Limits: dimension <= " STR(VX_MAX_DIM) ", k <= " STR(VX_MAX_K) ", points per upsert <= "
    STR(VX_MAX_BATCH) ", id <= " STR(VX_MAX_ID_LEN) " bytes,\n"
    "metadata <= " STR(VX_MAX_METADATA_BYTES) " bytes packed, page <= " STR(VX_MAX_LIST_LIMIT)
    " points, collection name <= " STR(VX_MAX_NAME_LEN)
    " chars of [A-Za-z0-9_-],\nmessage <= 64 MiB.";

vx_config_result store_config_load(store_config *cfg, int argc, char **argv)
{
    const vx_conf_row rows[] = {
        {"listen", "VECTRON_STORE_URL", "--listen", VX_CONF_STRING, &cfg->listen,
         "tcp://127.0.0.1:5601", 0, 0, NULL, "nng URL the request/reply socket listens on", false},
        {"events_url", "VECTRON_STORE_EVENTS_URL", "--events-url", VX_CONF_STRING,
         &cfg->events_url, "tcp://127.0.0.1:5602", 0, 0, NULL,
         "nng URL of the change-event PUB socket (not used yet)", false},
        {"data_dir", "VECTRON_DATA_DIR", "--data-dir", VX_CONF_STRING, &cfg->data_dir, "./data", 0,
         0, NULL, "directory of the collections' WAL and snapshot files", false},
        {"workers", "VECTRON_STORE_WORKERS", "--workers", VX_CONF_INT, &cfg->workers, "4", 1, 64,
         NULL, "request worker threads (requests served concurrently)", false},
        {"log_level", "VECTRON_LOG_LEVEL", "--log-level", VX_CONF_ENUM, &cfg->log_level, "info", 0,
         0, "debug|info|warn|error", "minimum level of log lines", false},
    };
    return vx_config_load(rows, sizeof rows / sizeof rows[0], argc, argv, "vectron-store", summary);
}
