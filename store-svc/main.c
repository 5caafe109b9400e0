/*
 * main.c — vectron-store: the store service process.
 *
 * Thread model:
 *  - the main thread parses the configuration, opens the store and the
 *    server, then sleeps in vx_signal_wait until SIGINT/SIGTERM;
 *  - vx_rpc runs `workers` threads, each with its own nng context; each
 *    thread handles one request at a time (handlers_serve) with its own
 *    arena. Concurrency between them is governed by the store's locks: the
 *    registry rwlock (held briefly to find a collection) and one rwlock per
 *    collection (searches, gets and lists of a collection run in parallel;
 *    an upsert or delete of it runs alone);
 *  - shutdown: vx_rpc_server_close stops receiving and joins the workers
 *    (letting running requests finish), then the store is freed. Exit 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "store.h"
#include "store_config.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_proto.h"
#include "vx_rpc.h"
#include "vx_signal.h"

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
    int rc = store_open(&st);
    if (rc == VX_OK)
        rc = handlers_create(st, &h);
    if (rc) {
        VX_ERROR("cannot start: %s", vx_strerror(rc));
        goto out;
    }
    rc = vx_rpc_server_open(&srv, cfg.listen, (int)cfg.workers, VX_MAX_MSG_BYTES, handlers_serve, h);
    if (rc) {
        VX_ERROR("cannot listen on %s: %s", cfg.listen, vx_strerror(rc));
        goto out;
    }
    VX_INFO("listening on %s (%d workers, version %s, data dir %s: persistence not enabled yet)",
            cfg.listen, (int)cfg.workers, STORE_SERVICE_VERSION, cfg.data_dir);
    int sig = vx_signal_wait();
    VX_INFO("stopping (signal %d)", sig);
    status = 0;
out:
    vx_rpc_server_close(srv);
    handlers_destroy(h);
    store_close(st);
    if (status == 0)
        VX_INFO("stopped");
    return status;
}
