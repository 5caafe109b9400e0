/*
 * embed_config.h — vectron-embed's settings: one vx_config table (flags,
 * environment variables, defaults, ranges, help). `vectron-embed --help`
 * lists every key. String values point at defaults, the environment or
 * argv, all alive for the whole process.
 */
#ifndef EMBED_CONFIG_H
#define EMBED_CONFIG_H

#include <stdint.h>

#include "vx_config.h"

typedef struct embed_config {
    const char *listen;         /* --listen / VECTRON_EMBED_URL */
    const char *registry;       /* --registry / VECTRON_MODELS_FILE */
    const char *use_lite_model; /* --use-lite-model / VX_USE_LITE_MODEL */
    const char *model_dir;      /* --model-dir / VECTRON_MODEL_DIR ("" = unset) */
    int64_t workers;            /* --workers */
    int64_t cache_entries;      /* --cache-entries (0 disables) */
    int64_t cache_mb;           /* --cache-mb */
    int log_level;              /* --log-level: index into debug|info|warn|error|off */
} embed_config;

/* Fills cfg from defaults, environment and argv (vx_config_load semantics). */
vx_config_result embed_config_load(embed_config *cfg, int argc, char **argv);

#endif
