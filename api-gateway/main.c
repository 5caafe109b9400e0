/*
 * main.c — vectron-api: loads the configuration, opens the bus clients,
 * starts the HTTP server and runs until SIGINT/SIGTERM, then stops the
 * server (waiting for running requests) before closing the clients.
 * Exit codes: 0 clean stop / --help, 1 start-up failure, 2 bad config.
 */
#include <stdio.h>

#include "api.h"
#include "vx_log.h"
#include "vx_signal.h"

int main(int argc, char **argv)
{
    api_config cfg;
    vx_config_result cr = api_config_load(&cfg, argc, argv);
    if (cr == VX_CONFIG_EXIT)
        return 0;
    if (cr == VX_CONFIG_ERROR)
        return 2;
    vx_log_init("vectron-api", (vx_log_level)cfg.log_level);
    vx_signal_setup();

    int status = 1;
    api_server srv = {.cfg = &cfg};
    if (upstream_open(&srv.up, cfg.store_url, cfg.embed_url, (int)cfg.request_timeout_ms))
        goto out;
    web_options wo = {
        .bind = cfg.bind,
        .port = (int)cfg.port,
        .threads = (int)cfg.threads,
        .request_timeout_ms = (int)cfg.request_timeout_ms,
        .cors_origin = cfg.cors_origin,
    };
    if (web_start(&srv.web, &wo, api_handle, &srv))
        goto out;
    VX_INFO("listening on http://%s:%d (store %s, embed %s, %d threads)", cfg.bind,
            web_port(srv.web), cfg.store_url, cfg.embed_url, (int)cfg.threads);
    int sig = vx_signal_wait();
    VX_INFO("stopping (signal %d)", sig);
    status = 0;
out:
    web_stop(srv.web);
    upstream_close(srv.up);
    return status;
}
