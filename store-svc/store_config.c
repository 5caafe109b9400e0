/*
 * store_config.c — see store_config.h. The --help summary also states the
 * protocol limits the service enforces.
 */
#include "store_config.h"

#include <stdio.h>

#include "vx_cpu_qos.h"
#include "vx_proto.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char summary[] =
    "vectron-store: collections, vectors and metadata, exact and HNSW search; serves the Vectron\n"
    "protocol (msgpack over nng request/reply) on --listen. Durable: every write is in the\n"
    "WAL of --data-dir before it is acknowledged (per --fsync); start-up recovers the newest\n"
    "snapshot plus the WAL and refuses damaged data unless --accept-loss.\n"
    "Limits: dimension <= " STR(VX_MAX_DIM) ", k <= " STR(VX_MAX_K) ", points per upsert <= "
    STR(VX_MAX_BATCH) ", id <= " STR(VX_MAX_ID_LEN) " bytes,\n"
    "metadata <= " STR(VX_MAX_METADATA_BYTES) " bytes packed, page <= " STR(VX_MAX_LIST_LIMIT)
    " points, collection name <= " STR(VX_MAX_NAME_LEN)
    " chars of [A-Za-z0-9_-],\nmessage <= 64 MiB.";

vx_config_result store_config_load(store_config *cfg, int argc, char **argv)
{
    const vx_conf_row rows[] = {
        {"listen", "VECTRON_STORE_URL", "--listen", VX_CONF_STRING, &cfg->listen,
         "tcp://127.0.0.1:5601", 0, 0, NULL,
         "nng URL the request/reply socket listens on, or up to 4 separated by commas (make run adds "
         "an ipc:// path for the gateway; loopback by default; keep it tcp://127.0.0.1:... or "
         "ipc://... -- the bus has no authentication)",
         false},
        {"events_url", "VECTRON_STORE_EVENTS_URL", "--events-url", VX_CONF_STRING,
         &cfg->events_url, "tcp://127.0.0.1:5602", 0, 0, NULL,
         "nng URL of the change-event PUB socket (every committed write: LSN, collection, op, ids; loopback by "
         "default; keep it tcp://127.0.0.1:... or ipc://... -- the bus has no authentication)",
         false},
        {"data_dir", "VECTRON_DATA_DIR", "--data-dir", VX_CONF_STRING, &cfg->data_dir, "./data", 0,
         0, NULL, "directory of the WAL segments and snapshots (created if missing)", false},
        {"workers", "VECTRON_STORE_WORKERS", "--workers", VX_CONF_INT, &cfg->workers, "16", 1, 256,
         NULL, "request worker threads (requests served concurrently; writers waiting for a shared fsync each hold one, so more workers let group commit batch more)", false},
        {"log_level", "VECTRON_LOG_LEVEL", "--log-level", VX_CONF_ENUM, &cfg->log_level, "info", 0,
         0, "debug|info|warn|error", "minimum level of log lines", false},
        {"fsync", "VECTRON_FSYNC", "--fsync", VX_CONF_ENUM, &cfg->fsync, "always", 0, 0,
         "always|everysec|none",
         "WAL fsync policy: always = a write is acknowledged after its fsync (group commit); "
         "everysec = fsync once a second (power loss may lose ~1 s); none = the OS decides",
         false},
        {"accept_loss", "VECTRON_ACCEPT_LOSS", "--accept-loss", VX_CONF_BOOL, &cfg->accept_loss,
         "false", 0, 0, NULL,
         "start despite a corrupt snapshot or damage in the middle of the WAL, dropping what "
         "cannot be read (logged at ERROR); without it such damage stops start-up",
         false},
        {"snapshot_wal_bytes", "VECTRON_SNAPSHOT_WAL_BYTES", "--snapshot-wal-bytes", VX_CONF_INT,
         &cfg->snapshot_wal_bytes, "268435456", 0, INT64_MAX, NULL,
         "take a background snapshot when the WAL grew by this many bytes (0: never)", false},
        {"snapshot_interval_s", "VECTRON_SNAPSHOT_INTERVAL_S", "--snapshot-interval-s",
         VX_CONF_INT, &cfg->snapshot_interval_s, "600", 0, 86400 * 7, NULL,
         "also snapshot after this many seconds with writes since the last (0: never)", false},
        {"snapshot_on_exit", "VECTRON_SNAPSHOT_ON_EXIT", "--snapshot-on-exit", VX_CONF_BOOL,
         &cfg->snapshot_on_exit, "true", 0, 0, NULL,
         "snapshot on a clean shutdown, so the next start replays no WAL", false},
        {"cpu_poll_ms", "VECTRON_CPU_POLL_MS", "--cpu-poll-ms", VX_CONF_INT, &cfg->cpu_poll_ms,
         STR(VX_CPU_QOS_DEFAULT_LINGER_MS), 0, VX_CPU_QOS_MAX_LINGER_MS, NULL, VX_CPU_QOS_MS_HELP,
         false},
        {"cpu_poll_device", "VECTRON_CPU_POLL_DEVICE", "--cpu-poll-device", VX_CONF_STRING,
         &cfg->cpu_poll_device, VX_CPU_QOS_DEVICE, 0, 0, NULL, VX_CPU_QOS_DEVICE_HELP, false},
        {"wal_segment_bytes", "VECTRON_WAL_SEGMENT_BYTES", "--wal-segment-bytes", VX_CONF_INT,
         &cfg->wal_segment_bytes, "67108864", 4096, INT64_MAX, NULL,
         "start a new WAL segment after this many bytes", false},
    };
    return vx_config_load(rows, sizeof rows / sizeof rows[0], argc, argv, "vectron-store", summary);
}
