/*
 * main.c — vectron-store: the store service process.
 *
 * Start-up: configuration → recovery of --data-dir (newest valid snapshot,
 * then the WAL after it; a torn WAL tail is truncated and logged; a corrupt
 * snapshot or mid-log damage stops start-up with exit status 1 and a
 * message naming the file and offset, unless --accept-loss) → change-event
 * PUB socket → background snapshotter → request server. Requests are only
 * served once recovery finished, so every reply reflects the recovered state.
 *
 * Thread model:
 *  - the main thread does the above, then sleeps in vx_signal_wait until
 *    SIGINT/SIGTERM;
 *  - vx_rpc runs `workers` threads, each with its own nng context; each
 *    thread handles one request at a time (handlers_serve) with its own
 *    arena. Concurrency between them is governed by the store's locks: the
 *    registry rwlock (held briefly to find a collection) and one rwlock per
 *    collection (searches, gets and lists of a collection run in parallel;
 *    an upsert or delete of it runs alone). Writers wait for their WAL
 *    record's fsync after releasing the collection lock (group commit);
 *  - the WAL's flusher thread (everysec) and the snapshotter thread;
 *  - shutdown: vx_rpc_server_close stops receiving and joins the workers
 *    (letting running requests finish), the snapshotter stops (taking a
 *    final snapshot with --snapshot-on-exit), the WAL is synced and closed,
 *    then the store is freed. Exit 0.
 */
#include <glob.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>

#include "events.h"
#include "handlers.h"
#include "persistence.h"
#include "rebuilder.h"
#include "snapshotter.h"
#include "store.h"
#include "store_config.h"
#include "vx_cpu_qos.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_proto.h"
#include "vx_rpc.h"
#include "vx_signal.h"
#include "wal.h"

/* Size of the WAL segments in dir: after recovery, what the next start
 * would replay again unless a snapshot covers it. */
static uint64_t wal_bytes_on_disk(const char *dir)
{
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s/wal-*.log", dir);
    glob_t g;
    uint64_t total = 0;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            struct stat sb;
            if (stat(g.gl_pathv[i], &sb) == 0)
                total += (uint64_t)sb.st_size;
        }
    }
    globfree(&g);
    return total;
}

int main(int argc, char **argv)
{
    store_config cfg;
    vx_config_result cr = store_config_load(&cfg, argc, argv);
    if (cr == VX_CONFIG_EXIT)
        return 0;
    if (cr != VX_CONFIG_OK)
        return 2;
    vx_log_init("vectron-store", (vx_log_level)cfg.log_level);
    vx_signal_setup();

    int status = 1;
    store *st = NULL;
    store_handlers *h = NULL;
    vx_rpc_server *srv = NULL;
    pers *p = NULL;
    events *ev = NULL;
    snapshotter *snaps = NULL;
    rebuilder *rb = NULL;
    vx_cpu_qos *cpu_qos = NULL;
    char err[1024] = "";
    int rc = store_open(&st);
    if (rc) {
        VX_ERROR("cannot start: %s", vx_strerror(rc));
        goto out;
    }
    pers_opts po = {.dir = cfg.data_dir,
                    .policy = (wal_fsync_policy)cfg.fsync,
                    .accept_loss = cfg.accept_loss,
                    .segment_bytes = (uint64_t)cfg.wal_segment_bytes};
    pers_summary sum;
    rc = pers_open(&p, st, &po, &sum, err, sizeof err);
    if (rc) {
        VX_ERROR("recovery of %s failed: %s", cfg.data_dir, err[0] ? err : vx_strerror(rc));
        if (rc == VX_ERR_CONFLICT) /* the data directory lock: another store uses it */
            fprintf(stderr, "vectron-store: refusing to start: %s\n",
                    err[0] ? err : vx_strerror(rc));
        else
            fprintf(stderr,
                    "vectron-store: refusing to start: %s\n"
                    "  (inspect with: vectron-check %s; to start anyway and drop the damaged "
                    "data, run with --accept-loss)\n",
                    err[0] ? err : vx_strerror(rc), cfg.data_dir);
        goto out;
    }
    VX_INFO("recovered %s in %" PRIu64 " ms: %" PRIu64 " collections, %" PRIu64
            " points; snapshot LSN %" PRIu64 " (%" PRIu64 " ms), %" PRIu64
            " WAL records replayed, %" PRIu64 " skipped (%" PRIu64 " ms)%s%s; next LSN %" PRIu64,
            cfg.data_dir, sum.total_ms, sum.collections, sum.points, sum.snapshot_lsn,
            sum.snapshot_ms, sum.replayed, sum.skipped, sum.replay_ms,
            sum.torn_tail ? "; torn WAL tail truncated" : "",
            sum.data_lost ? "; DATA WAS LOST (--accept-loss)" : "", sum.next_lsn);
    rc = events_open(&ev, cfg.events_url);
    if (rc) {
        VX_ERROR("cannot publish events on %s: %s", cfg.events_url, vx_strerror(rc));
        goto out;
    }
    snapshotter_opts so = {.wal_bytes = (uint64_t)cfg.snapshot_wal_bytes,
                           .interval_ms = (uint64_t)cfg.snapshot_interval_s * 1000,
                           .prev_lsn = sum.snapshot_lsn,
                           .base_lsn = sum.next_lsn ? sum.next_lsn - 1 : 0,
                           .carried_wal_bytes = sum.replayed ? wal_bytes_on_disk(cfg.data_dir) : 0};
    rc = snapshotter_start(&snaps, st, p, &so);
    if (rc == VX_OK) /* after the replay, which rebuilds synchronously */
        rc = rebuilder_start(&rb, st);
    if (rc == VX_OK)
        rc = handlers_create(st, &h);
    if (rc) {
        VX_ERROR("cannot start: %s", vx_strerror(rc));
        goto out;
    }
    handlers_set_persistence(h, p, ev);
    cpu_qos = vx_cpu_qos_start(cfg.cpu_poll_device, (int)cfg.cpu_poll_ms);
    handlers_set_cpu_qos(h, cpu_qos);
    rc = vx_rpc_server_open(&srv, cfg.listen, (int)cfg.workers, VX_MAX_MSG_BYTES, handlers_serve, h);
    if (rc) {
        VX_ERROR("cannot listen on %s: %s", cfg.listen, vx_strerror(rc));
        goto out;
    }
    VX_INFO("listening on %s (%d workers, version %s), events on %s, data dir %s, fsync %s, "
            "cpu poll %s",
            cfg.listen, (int)cfg.workers, STORE_SERVICE_VERSION, cfg.events_url, cfg.data_dir,
            pers_durability(p), cpu_qos ? "on" : "off");
    int sig = vx_signal_wait();
    VX_INFO("stopping (signal %d)", sig);
    status = 0;
out:
    vx_rpc_server_close(srv);
    rebuilder_stop(rb);
    snapshotter_stop(snaps, status == 0 && cfg.snapshot_on_exit);
    handlers_destroy(h);
    vx_cpu_qos_close(cpu_qos);
    events_close(ev);
    pers_close(p);
    store_close(st);
    if (status == 0)
        VX_INFO("stopped");
    return status;
}
