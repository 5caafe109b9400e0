/*
 * embed_config.h — vectron-embed's settings: one vx_config table (flags,
 * environment variables, defaults, ranges, help). `vectron-embed --help`
 * lists every key. String values point at defaults, the environment or
 * argv, all alive for the whole process.
 */
#ifndef EMBED_CONFIG_H
#define EMBED_CONFIG_H

#include <stddef.h>
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
    /* remote providers */
    const char *ca_file;          /* --ca-file / VECTRON_CA_FILE ("" = system CAs) */
    const char *openai_base_url;  /* VECTRON_OPENAI_BASE_URL ("" = registry/default) */
    const char *cohere_base_url;  /* VECTRON_COHERE_BASE_URL */
    const char *hf_base_url;      /* VECTRON_HF_BASE_URL */
    int64_t http_connect_timeout_ms;
    int64_t http_timeout_ms;
    int64_t http_max_response_kb;
    int64_t http_max_attempts;
    int64_t http_backoff_ms;
    /* python workers */
    const char *python;           /* --python / VECTRON_PYTHON */
    const char *worker_script;    /* --worker-script / VECTRON_EMBED_WORKER */
    int64_t worker_timeout_ms;
    int64_t worker_start_timeout_ms;
    bool worker_preload;
    int64_t coalesce_wait_us;     /* --coalesce-wait-us (0 = off) */
    int64_t coalesce_max_texts;
} embed_config;

/* Fills cfg from defaults, environment and argv (vx_config_load semantics). */
vx_config_result embed_config_load(embed_config *cfg, int argc, char **argv);
/* Checks what the table's ranges cannot: --ca-file names a readable file,
 * base URL overrides are https://. VX_OK, or VX_ERR_INVALID with a message
 * naming the setting in err (the service then refuses to start). */
int embed_config_check(const embed_config *cfg, char *err, size_t err_len);

#endif
