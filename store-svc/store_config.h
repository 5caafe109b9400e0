/*
 * store_config.h — vectron-store's configuration: one vx_config table
 * (defaults → environment → command line; --help lists every key).
 *
 *   listen      --listen       VECTRON_STORE_URL         tcp://127.0.0.1:5601
 *   events_url  --events-url   VECTRON_STORE_EVENTS_URL  tcp://127.0.0.1:5602
 *   data_dir    --data-dir     VECTRON_DATA_DIR          ./data
 *   workers     --workers      VECTRON_STORE_WORKERS     4 (1..64)
 *   log_level   --log-level    VECTRON_LOG_LEVEL         info
 *   fsync       --fsync        VECTRON_FSYNC             always (always|everysec|none)
 *   accept_loss --accept-loss  VECTRON_ACCEPT_LOSS       false
 *   snapshot_wal_bytes --snapshot-wal-bytes VECTRON_SNAPSHOT_WAL_BYTES 268435456
 *   snapshot_interval_s --snapshot-interval-s VECTRON_SNAPSHOT_INTERVAL_S 600 (0: off)
 *   snapshot_on_exit --snapshot-on-exit VECTRON_SNAPSHOT_ON_EXIT true
 *   wal_segment_bytes --wal-segment-bytes VECTRON_WAL_SEGMENT_BYTES 67108864
 *
 * Ownership: string fields point at literals, the environment or argv
 * (all live for the whole process).
 */
#ifndef STORE_CONFIG_H
#define STORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vx_config.h"

typedef struct store_config {
    const char *listen;
    const char *events_url;
    const char *data_dir;
    int64_t workers;
    int log_level; /* index into "debug|info|warn|error" = vx_log_level */
    int fsync;     /* index into "always|everysec|none" = wal_fsync_policy */
    bool accept_loss;
    int64_t snapshot_wal_bytes;
    int64_t snapshot_interval_s;
    bool snapshot_on_exit;
    int64_t wal_segment_bytes;
    int64_t cpu_poll_ms;         /* linger of the CPU latency hint (vx_cpu_qos.h); 0 = off */
    const char *cpu_poll_device; /* /dev/cpu_dma_latency */
} store_config;

/* Loads the configuration; VX_CONFIG_EXIT after --help/--print-config. */
vx_config_result store_config_load(store_config *cfg, int argc, char **argv);

#endif
