/*
 * embed_config.c — the configuration table of vectron-embed (see
 * embed_config.h). Defaults suit `make run` from the repository root.
 */
#include "embed_config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpc.h"
#include "provider_python.h"
#include "use_lite.h"
#include "vx_err.h"

#define STR_(x) #x
#define STR(x) STR_(x)

vx_config_result embed_config_load(embed_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    const vx_conf_row rows[] = {
        {"listen", "VECTRON_EMBED_URL", "--listen", VX_CONF_STRING, &cfg->listen, "tcp://127.0.0.1:5611", 0, 0,
         NULL,
         "nng URL the request/reply socket listens on, or up to 4 separated by commas (make run adds "
         "an ipc:// path for the gateway; loopback by default; keep it tcp://127.0.0.1:... or "
         "ipc://... -- the bus has no authentication)",
         false},
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
        {"ca_file", "VECTRON_CA_FILE", "--ca-file", VX_CONF_STRING, &cfg->ca_file, "", 0, 0, NULL,
         "PEM CA bundle for remote providers' TLS (empty = the system's)", false},
        {"openai_base_url", "VECTRON_OPENAI_BASE_URL", "--openai-base-url", VX_CONF_STRING, &cfg->openai_base_url,
         "", 0, 0, NULL, "OpenAI base URL (https://...; empty = registry or provider default)", false},
        {"cohere_base_url", "VECTRON_COHERE_BASE_URL", "--cohere-base-url", VX_CONF_STRING, &cfg->cohere_base_url,
         "", 0, 0, NULL, "Cohere base URL (empty = registry or provider default)", false},
        {"hf_base_url", "VECTRON_HF_BASE_URL", "--hf-base-url", VX_CONF_STRING, &cfg->hf_base_url, "", 0, 0, NULL,
         "Hugging Face Inference base URL; may contain {model} (empty = registry or provider default)", false},
        {"http_connect_timeout_ms", "VECTRON_HTTP_CONNECT_TIMEOUT_MS", "--http-connect-timeout-ms", VX_CONF_INT,
         &cfg->http_connect_timeout_ms, STR(HTTPC_DEFAULT_CONNECT_TIMEOUT_MS), 100, 600000, NULL,
         "remote providers: connect timeout", false},
        {"http_timeout_ms", "VECTRON_HTTP_TIMEOUT_MS", "--http-timeout-ms", VX_CONF_INT, &cfg->http_timeout_ms,
         STR(HTTPC_DEFAULT_TIMEOUT_MS), 100, 600000, NULL,
         "remote providers: total time per attempt (also bounded by the request deadline)", false},
        {"http_max_response_kb", "VECTRON_HTTP_MAX_RESPONSE_KB", "--http-max-response-kb", VX_CONF_INT,
         &cfg->http_max_response_kb, "16384", 1, 1048576, NULL,
         "remote providers: larger responses are aborted (502)", false},
        {"http_max_attempts", "VECTRON_HTTP_MAX_ATTEMPTS", "--http-max-attempts", VX_CONF_INT,
         &cfg->http_max_attempts, STR(HTTPC_DEFAULT_MAX_ATTEMPTS), 1, 10, NULL,
         "remote providers: attempts per call (retries on 429/5xx/connection errors)", false},
        {"http_backoff_ms", "VECTRON_HTTP_BACKOFF_MS", "--http-backoff-ms", VX_CONF_INT, &cfg->http_backoff_ms,
         STR(HTTPC_DEFAULT_BACKOFF_BASE_MS), 1, 60000, NULL,
         "remote providers: first retry delay (doubles, with jitter; Retry-After wins)", false},
        {"python", "VECTRON_PYTHON", "--python", VX_CONF_STRING, &cfg->python, PYW_DEFAULT_PYTHON, 0, 0, NULL,
         "Python interpreter for local model workers", false},
        {"worker_script", "VECTRON_EMBED_WORKER", "--worker-script", VX_CONF_STRING, &cfg->worker_script,
         PYW_DEFAULT_SCRIPT, 0, 0, NULL, "local model worker program", false},
        {"worker_timeout_ms", "VECTRON_WORKER_TIMEOUT_MS", "--worker-timeout-ms", VX_CONF_INT,
         &cfg->worker_timeout_ms, STR(PYW_DEFAULT_CALL_TIMEOUT_MS), 100, 3600000, NULL,
         "local model workers: time per call before the worker is restarted", false},
        {"worker_start_timeout_ms", "VECTRON_WORKER_START_TIMEOUT_MS", "--worker-start-timeout-ms", VX_CONF_INT,
         &cfg->worker_start_timeout_ms, STR(PYW_DEFAULT_START_TIMEOUT_MS), 100, 3600000, NULL,
         "local model workers: time to load a model", false},
        {"worker_preload", "VECTRON_WORKER_PRELOAD", "--worker-preload", VX_CONF_BOOL, &cfg->worker_preload,
         "true", 0, 0, NULL, "start local model workers at start-up (false: on first use)", false},
        {"coalesce_wait_us", "VECTRON_COALESCE_WAIT_US", "--coalesce-wait-us", VX_CONF_INT, &cfg->coalesce_wait_us,
         "2000", 0, 1000000, NULL,
         "python and remote models: how long a small request waits for others to share one call (0 = off)", false},
        {"coalesce_max_texts", "VECTRON_COALESCE_MAX_TEXTS", "--coalesce-max-texts", VX_CONF_INT,
         &cfg->coalesce_max_texts, "32", 2, 256, NULL, "texts per coalesced call", false},
    };
    return vx_config_load(rows, sizeof rows / sizeof *rows, argc, argv, "vectron-embed",
                          "vectron-embed: the embedding service of Vectron. Serves EMBED, MODELS and HEALTH "
                          "over nng request/reply with the built-in use-lite model and the model registry.");
}

int embed_config_check(const embed_config *cfg, char *err, size_t err_len)
{
    struct stat st;
    if (cfg->ca_file[0] && (stat(cfg->ca_file, &st) != 0 || !S_ISREG(st.st_mode) || access(cfg->ca_file, R_OK) != 0)) {
        snprintf(err, err_len, "ca_file (--ca-file / VECTRON_CA_FILE): %s is not a readable file", cfg->ca_file);
        return VX_ERR_INVALID;
    }
    const struct {
        const char *key, *value;
    } urls[] = {{"openai_base_url (--openai-base-url / VECTRON_OPENAI_BASE_URL)", cfg->openai_base_url},
                {"cohere_base_url (--cohere-base-url / VECTRON_COHERE_BASE_URL)", cfg->cohere_base_url},
                {"hf_base_url (--hf-base-url / VECTRON_HF_BASE_URL)", cfg->hf_base_url}};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        if (urls[i].value[0] && strncmp(urls[i].value, "https://", 8) != 0) {
            snprintf(err, err_len, "%s: must start with https:// (got \"%.100s\")", urls[i].key, urls[i].value);
            return VX_ERR_INVALID;
        }
    }
    return VX_OK;
}
