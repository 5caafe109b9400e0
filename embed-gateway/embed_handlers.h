/*
 * embed_handlers.h — the embed service's request handling: EMBED, MODELS,
 * MODELS_BENCH and HEALTH on decoded messages (proto/vx_proto.h).
 *
 * MODELS_BENCH runs embed_bench.h on each requested model (all registry
 * models when none are named) in registry order, bypassing the cache; an
 * unknown id fails the whole request with VX_ERR_NOT_FOUND; an unavailable
 * model is reported with its reason; a model whose run fails (provider
 * error, deadline) is reported available with reason "benchmark failed:
 * ..." and the rest are still measured (a model started past the deadline
 * fails at once).
 *
 * Model availability, decided at creation: "builtin" (use-lite) when its
 * file was loaded and the registry's dimensions match 512; remote providers
 * (provider_remote.h) when their key variable is set and their base URL is
 * acceptable; "python" (provider_python.h) when VECTRON_MODEL_DIR/<dir>
 * holds a config.json. An unavailable model is reported with
 * available=false and the reason; EMBED for it fails with
 * VX_ERR_EMBED_UNAVAILABLE naming the model and the reason — never a
 * made-up vector. An unknown model id is VX_ERR_NOT_FOUND. Provider
 * failures keep their codes: VX_ERR_UPSTREAM (bad answer from a remote
 * provider), VX_ERR_TIMEOUT, VX_ERR_EMBED_UNAVAILABLE (worker cannot start).
 *
 * Ownership: the service borrows everything in embed_service_config (they
 * must outlive it). Replies are built in the caller's arena. Thread-safe:
 * the counters are atomic and the cache has its own lock, so one service
 * serves all rpc workers.
 */
#ifndef EMBED_HANDLERS_H
#define EMBED_HANDLERS_H

#include <stddef.h>

#include "embed_bench.h"
#include "embed_cache.h"
#include "httpc.h"
#include "registry.h"
#include "use_lite.h"
#include "vx_arena.h"
#include "vx_proto.h"

#define EMBED_SERVICE_VERSION "0.1.0"

/* How providers are reached; zero = defaults. Strings are borrowed. */
typedef struct embed_provider_options {
    httpc_options http;            /* remote providers (CA file, timeouts, retries, size limit) */
    const char *openai_base_url;   /* overrides of the registry's base_url ("" / NULL = none) */
    const char *cohere_base_url;
    const char *huggingface_base_url;
    const char *python;            /* interpreter for local model workers (default /usr/bin/python3) */
    const char *worker_script;     /* default embed-gateway/workers/worker.py */
    uint32_t worker_timeout_ms;    /* per worker call; 0 = default */
    uint32_t worker_start_timeout_ms; /* model load; 0 = default */
    bool worker_preload;           /* start python workers at creation, not on first use */
    uint32_t coalesce_wait_us;     /* python/remote: batch concurrent small requests (0 = off) */
    uint32_t coalesce_max_texts;   /* texts per coalesced batch (0 = 32) */
} embed_provider_options;

typedef struct embed_service_config {
    const registry *reg;
    const use_lite_model *use_lite; /* NULL when not loaded */
    const char *use_lite_error;     /* why it is not loaded (shown as the reason) */
    embed_cache *cache;             /* NULL: no caching */
    const char *model_dir;          /* VECTRON_MODEL_DIR or NULL */
    const embed_provider_options *providers; /* NULL: defaults */
} embed_service_config;

typedef struct embed_service embed_service;

int embed_service_create(embed_service **out, const embed_service_config *cfg);
void embed_service_destroy(embed_service *s);

/* Handles one decoded request: fills rep->type/request_id/status/err_message
 * and the body. Everything rep points to lives in a (or in the service). */
void embed_service_dispatch(embed_service *s, const vx_request *req, vx_reply *rep, vx_arena *a);

/* Availability of one registry model; *reason is static or service-owned
 * (NULL when available). */
bool embed_service_model_available(const embed_service *s, const registry_model *m, const char **reason);

/* Benchmarks one registry model (embed_bench_measure) straight through its
 * provider, never the cache. vecs: EMBED_BENCH_N_TEXTS × m->dimensions
 * floats (caller-owned) for the batch embeddings. deadline_us: absolute
 * vx_now_us() time, 0 = none. Returns VX_OK, VX_ERR_EMBED_UNAVAILABLE when
 * the model is unavailable (the reason in err), or the run's error. */
int embed_service_bench_model(embed_service *s, const registry_model *m, uint32_t repeats,
                              uint64_t deadline_us, float *vecs, embed_bench_result *out, char *err,
                              size_t err_len);

/* The worker of a python-provider model (NULL for others or when the model
 * is unavailable); for tests and diagnostics. */
struct python_worker *embed_service_python_worker(embed_service *s, const char *model_id);

/* vx_rpc_handler over the wire format: arg is the embed_service. Defined in
 * embed_rpc.c (the only part that needs the msgpack codec). */
void embed_rpc_handle(void *arg, const unsigned char *req, size_t req_len, vx_buf *reply);

#endif
