/*
 * main.c — vectron-api: loads the configuration and the API keys, applies
 * the bind rule (a non-loopback address needs keys unless --insecure),
 * creates the rate limiter and the metrics registry, opens the bus clients,
 * starts the HTTP server and runs until SIGINT/SIGTERM, then stops the
 * server (waiting for running requests) before closing everything else.
 * Exit codes: 0 clean stop / --help, 1 start-up failure, 2 bad config
 * (including bad keys and a refused bind). Keys are never logged; the
 * start-up line says only whether auth is on.
 */
#include <stdio.h>

#include "api.h"
#include "vx_err.h"
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

    int status = 2;
    api_server srv = {.cfg = &cfg};
    auth_table *keys = NULL;
    ratelimit *rl = NULL;
    metrics *mx = NULL;
    char err[AUTH_ERR_LEN];
    if (auth_load_env(&keys, err, sizeof(err))) {
        VX_ERROR("API keys: %s", err);
        goto out;
    }
    size_t n_keys = auth_table_count(keys);
    if (auth_bind_allowed(cfg.bind, n_keys > 0, cfg.insecure, err, sizeof(err))) {
        VX_ERROR("%s", err);
        goto out;
    }
    if (err[0])
        VX_WARN("%s", err);
    srv.auth = keys;
    if (cfg.rate_limit > 0) {
        ratelimit_config rc = {
            .rate = (double)cfg.rate_limit,
            .burst = (double)(cfg.rate_burst > 0 ? cfg.rate_burst : cfg.rate_limit),
        };
        if (ratelimit_create(&rc, &rl)) {
            VX_ERROR("rate limit: invalid settings (rate %lld, burst %lld)",
                     (long long)cfg.rate_limit, (long long)cfg.rate_burst);
            goto out;
        }
        srv.rl = rl;
    }
    status = 1;
    if (metrics_create(&mx) || api_metrics_register(mx)) {
        VX_ERROR("metrics: cannot register the routes");
        goto out;
    }
    srv.metrics = mx;
    vx_signal_setup();
    if (upstream_open(&srv.up, cfg.store_url, cfg.embed_url, (int)cfg.request_timeout_ms))
        goto out;
    upstream_configure(srv.up, (int)cfg.max_inflight, (int)cfg.queue_wait_ms, mx);
    srv.cpu_qos = vx_cpu_qos_start(cfg.cpu_poll_device, (int)cfg.cpu_poll_ms);
    web_options wo = {
        .bind = cfg.bind,
        .port = (int)cfg.port,
        .threads = (int)cfg.threads,
        .request_timeout_ms = (int)cfg.request_timeout_ms,
        .cors_origin = cfg.cors_origin,
    };
    if (web_start(&srv.web, &wo, api_handle, &srv))
        goto out;
    VX_INFO("listening on http://%s:%d (store %s, embed %s, %d threads, auth %s, rate limit %s, "
            "max %d calls in flight per backend, cpu poll %s)",
            cfg.bind, web_port(srv.web), cfg.store_url, cfg.embed_url, (int)cfg.threads,
            n_keys ? "on" : "OFF", cfg.rate_limit > 0 ? "on" : "off", (int)cfg.max_inflight,
            srv.cpu_qos ? "on" : "off");
    int sig = vx_signal_wait();
    VX_INFO("stopping (signal %d)", sig);
    status = 0;
out:
    web_stop(srv.web);
    vx_cpu_qos_close(srv.cpu_qos);
    upstream_close(srv.up);
    metrics_destroy(mx);
    ratelimit_destroy(rl);
    auth_table_destroy(keys);
    return status;
}
