/*
 * embed_config.c — the configuration table of vectron-embed (see
 * embed_config.h). Defaults suit `make run` from the repository root.
 */
#include "embed_config.h"

#include <string.h>

#include "use_lite.h"

vx_config_result embed_config_load(embed_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    const vx_conf_row rows[] = {
        {"listen", "VECTRON_EMBED_URL", "--listen", VX_CONF_STRING, &cfg->listen, "tcp://127.0.0.1:5611", 0, 0,
         NULL, "nng URL the request/reply socket listens on", false},
        {"registry", "VECTRON_MODELS_FILE", "--registry", VX_CONF_STRING, &cfg->registry,
         "deploy/config/models.json", 0, 0, NULL, "model registry JSON file", false},
        {"use_lite_model", "VX_USE_LITE_MODEL", "--use-lite-model", VX_CONF_STRING, &cfg->use_lite_model,
         USE_LITE_DEFAULT_PATH, 0, 0, NULL,
         "converted built-in model (made by scripts/fetch-model.sh)", false},
        {"model_dir", "VECTRON_MODEL_DIR", "--model-dir", VX_CONF_STRING, &cfg->model_dir, "", 0, 0, NULL,
         "directory of local (python provider) models; empty = none", false},
        {"workers", "VECTRON_EMBED_WORKERS", "--workers", VX_CONF_INT, &cfg->workers, "4", 1, 64, NULL,
         "concurrent request workers", false},
        {"cache_entries", "VECTRON_EMBED_CACHE_ENTRIES", "--cache-entries", VX_CONF_INT, &cfg->cache_entries,
         "10000", 0, 10000000, NULL, "embedding cache size in entries (0 disables the cache)", false},
        {"cache_mb", "VECTRON_EMBED_CACHE_MB", "--cache-mb", VX_CONF_INT, &cfg->cache_mb, "64", 1, 65536, NULL,
         "embedding cache memory limit in MiB", false},
        {"log_level", "VECTRON_LOG_LEVEL", "--log-level", VX_CONF_ENUM, &cfg->log_level, "info", 0, 0,
         "debug|info|warn|error|off", "minimum level of log lines", false},
    };
    return vx_config_load(rows, sizeof rows / sizeof *rows, argc, argv, "vectron-embed",
                          "vectron-embed: the embedding service of Vectron. Serves EMBED, MODELS and HEALTH "
                          "over nng request/reply with the built-in use-lite model and the model registry.");
}
