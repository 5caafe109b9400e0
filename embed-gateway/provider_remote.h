/*
 * provider_remote.h — the remote embedding providers (OpenAI, Cohere,
 * Hugging Face Inference) over HTTPS through httpc, with their real
 * request and response formats:
 *
 *   openai       POST {base}/v1/embeddings  {"model", "input": [texts]}
 *                → {"data": [{"index": i, "embedding": [..]}]} (placed by index)
 *   cohere       POST {base}/v1/embed  {"model", "texts": [texts], "input_type": "search_document"}
 *                → {"embeddings": [[..]]}
 *   huggingface  POST {base}/pipeline/feature-extraction/{model}  {"inputs": [texts]}
 *                → [[..]] per text, or [[[..]]] token-level (mean-pooled here);
 *                a base URL containing "{model}" is used as the whole URL
 *                with the model name substituted (e.g. ".../models/{model}").
 *
 * Every request carries "Authorization: Bearer <key>", the key read from the
 * registry's api_key_env variable at creation. Keys are never logged, never
 * put in messages (an upstream message that contains the key is dropped).
 * Texts are sent in chunks (openai 256, cohere 96, huggingface 32 per call).
 *
 * Validation → result: a non-2xx final status, JSON that does not parse,
 * missing fields, a wrong number of vectors, a vector whose length is not
 * the registry's dimension, or a component that is not a finite float32 →
 * VX_ERR_UPSTREAM with a message naming the provider; a timeout or the
 * deadline → VX_ERR_TIMEOUT; no key → VX_ERR_EMBED_UNAVAILABLE at creation.
 *
 * Ownership: the provider copies what it needs from the registry model and
 * owns its httpc pool. Thread-safe (httpc borrows one handle per call).
 */
#ifndef EMBED_PROVIDER_REMOTE_H
#define EMBED_PROVIDER_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "httpc.h"
#include "registry.h"
#include "vx_buf.h"

typedef struct remote_provider remote_provider;

/* Default base URL of a remote provider kind (NULL for others). */
const char *remote_default_base_url(embed_provider kind);

/* base_url_override: from the environment/flags (NULL/"" = the registry's
 * base_url, else the provider default). VX_ERR_EMBED_UNAVAILABLE with the
 * reason in err when the key variable is unset or empty; VX_ERR_INVALID for
 * a base URL that is not https:// (unless http->allow_http). */
int remote_provider_create(remote_provider **out, const registry_model *m, const char *base_url_override,
                           const httpc_options *http, char *err, size_t err_len);
void remote_provider_destroy(remote_provider *p);

/* Embeds n texts into out (n × dim floats, dim = the registry's). */
int remote_provider_embed(remote_provider *p, const char **texts, uint32_t n, uint64_t deadline_us, float *out,
                          char *err, size_t err_len);

/* The URL requests go to (for logs and tests; contains no secret). */
const char *remote_provider_url(const remote_provider *p);

/* Pure parts, exposed for tests. */
void remote_build_body(embed_provider kind, const char *model_name, const char **texts, uint32_t n, vx_buf *out);
int remote_parse_response(embed_provider kind, const char *label, const char *body, size_t len, uint32_t n,
                          uint32_t dim, float *out, char *err, size_t err_len);

#endif
