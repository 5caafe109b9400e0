/*
 * main.c — vectron-embed: loads the registry and the built-in model, then
 * serves EMBED / MODELS / HEALTH on the bus until SIGINT/SIGTERM.
 *
 * A missing or broken built-in model does not stop the service: use-lite
 * is then reported unavailable with the loader's reason (and EMBED answers
 * VX_ERR_EMBED_UNAVAILABLE). A bad registry or an unusable listen URL does
 * stop it (exit 1) with a message naming the problem.
 */
#include <stdio.h>
#include <stdlib.h>

#include "embed_cache.h"
#include "embed_config.h"
#include "embed_handlers.h"
#include "httpc.h"
#include "registry.h"
#include "use_lite.h"
#include "vx_err.h"
#include "vx_log.h"
#include "vx_proto.h"
#include "vx_rpc.h"
#include "vx_signal.h"

int main(int argc, char **argv)
{
    embed_config cfg;
    vx_config_result cr = embed_config_load(&cfg, argc, argv);
    if (cr == VX_CONFIG_EXIT)
        return 0;
    if (cr == VX_CONFIG_ERROR)
        return 2;
    vx_log_init("vectron-embed", (vx_log_level)cfg.log_level);
    char cerr[512];
    if (embed_config_check(&cfg, cerr, sizeof cerr) != VX_OK) {
        VX_ERROR("%s", cerr);
        return 2;
    }
    vx_signal_setup();

    int status = 1;
    registry *reg = NULL;
    use_lite_model *model = NULL;
    embed_cache *cache = NULL;
    embed_service *svc = NULL;
    vx_rpc_server *srv = NULL;
    char err[512];

    if (httpc_global_init() != VX_OK) { /* libcurl: once, before any thread exists */
        VX_ERROR("cannot initialise libcurl");
        goto out;
    }
    if (registry_load_file(&reg, cfg.registry, err, sizeof err) != VX_OK) {
        VX_ERROR("%s", err);
        goto out;
    }
    use_lite_set_blas_threads(1); /* parallelism comes from the workers */
    if (use_lite_load(&model, cfg.use_lite_model, err, sizeof err) != VX_OK)
        VX_WARN("built-in model unavailable: %s", err);
    else
        VX_INFO("built-in model use-lite loaded from %s (Unicode %s tables)", cfg.use_lite_model,
                use_lite_unicode_version(model));
    if (cfg.cache_entries > 0 &&
        embed_cache_create(&cache, (size_t)cfg.cache_entries, (size_t)cfg.cache_mb << 20) != VX_OK) {
        VX_ERROR("cannot allocate the embedding cache");
        goto out;
    }
    embed_provider_options po = {
        .http = {.ca_file = cfg.ca_file,
                 .connect_timeout_ms = (uint32_t)cfg.http_connect_timeout_ms,
                 .timeout_ms = (uint32_t)cfg.http_timeout_ms,
                 .max_response_bytes = (size_t)cfg.http_max_response_kb << 10,
                 .max_attempts = (uint32_t)cfg.http_max_attempts,
                 .backoff_base_ms = (uint32_t)cfg.http_backoff_ms},
        .openai_base_url = cfg.openai_base_url,
        .cohere_base_url = cfg.cohere_base_url,
        .huggingface_base_url = cfg.hf_base_url,
        .python = cfg.python,
        .worker_script = cfg.worker_script,
        .worker_timeout_ms = (uint32_t)cfg.worker_timeout_ms,
        .worker_start_timeout_ms = (uint32_t)cfg.worker_start_timeout_ms,
        .worker_preload = cfg.worker_preload,
        .coalesce_wait_us = (uint32_t)cfg.coalesce_wait_us,
        .coalesce_max_texts = (uint32_t)cfg.coalesce_max_texts,
    };
    embed_service_config sc = {reg, model, model ? NULL : err, cache,
                               cfg.model_dir && *cfg.model_dir ? cfg.model_dir : NULL, &po};
    if (embed_service_create(&svc, &sc) != VX_OK) {
        VX_ERROR("out of memory");
        goto out;
    }
    for (size_t i = 0; i < reg->n_models; i++) {
        const char *reason;
        if (!embed_service_model_available(svc, &reg->models[i], &reason))
            VX_INFO("model %s unavailable: %s", reg->models[i].id, reason);
    }
    int rc = vx_rpc_server_open(&srv, cfg.listen, (int)cfg.workers, VX_MAX_MSG_BYTES, embed_rpc_handle, svc);
    if (rc != VX_OK) {
        VX_ERROR("cannot listen on %s: %s", cfg.listen, vx_strerror(rc));
        goto out;
    }
    VX_INFO("listening on %s (port %d) with %d workers, default model %s", cfg.listen,
            vx_rpc_server_port(srv), (int)cfg.workers, reg->default_id);
    vx_signal_wait();
    VX_INFO("stopping");
    status = 0;
out:
    vx_rpc_server_close(srv);
    embed_service_destroy(svc);
    embed_cache_destroy(cache);
    use_lite_destroy(model);
    registry_free(reg);
    return status;
}
