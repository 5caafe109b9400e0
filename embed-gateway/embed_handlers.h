/*
 * embed_handlers.h — the embed service's request handling: EMBED, MODELS
 * and HEALTH on decoded messages (proto/vx_proto.h).
 *
 * Model availability: "builtin" (use-lite) is available when its file was
 * loaded and the registry's dimensions match 512. Every other provider is
 * reported with available=false and the reason (missing key variable,
 * missing VECTRON_MODEL_DIR, or "provider ... not implemented yet"); EMBED
 * for such a model fails with VX_ERR_EMBED_UNAVAILABLE naming the model and
 * the reason — never a made-up vector. An unknown model id is
 * VX_ERR_NOT_FOUND.
 *
 * Ownership: the service borrows everything in embed_service_config (they
 * must outlive it). Replies are built in the caller's arena. Thread-safe:
 * the counters are atomic and the cache has its own lock, so one service
 * serves all rpc workers.
 */
#ifndef EMBED_HANDLERS_H
#define EMBED_HANDLERS_H

#include <stddef.h>

#include "embed_cache.h"
#include "registry.h"
#include "use_lite.h"
#include "vx_arena.h"
#include "vx_proto.h"

#define EMBED_SERVICE_VERSION "0.1.0"

typedef struct embed_service_config {
    const registry *reg;
    const use_lite_model *use_lite; /* NULL when not loaded */
    const char *use_lite_error;     /* why it is not loaded (shown as the reason) */
    embed_cache *cache;             /* NULL: no caching */
    const char *model_dir;          /* VECTRON_MODEL_DIR or NULL */
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

/* vx_rpc_handler over the wire format: arg is the embed_service. Defined in
 * embed_rpc.c (the only part that needs the msgpack codec). */
void embed_rpc_handle(void *arg, const unsigned char *req, size_t req_len, vx_buf *reply);

#endif
