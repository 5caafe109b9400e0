/*
 * registry.h — the embedding model registry: which model ids exist, which
 * provider serves each, its dimension and where its credentials come from.
 *
 * Source: a JSON file (default deploy/config/models.json):
 *   {"default": "use-lite",
 *    "models": {"<id>": {"provider": "builtin|python|openai|cohere|huggingface",
 *                        "model_name": "...", "dimensions": 512,
 *                        "api_key_env": "OPENAI_API_KEY",      (remote providers)
 *                        "base_url": "https://...",           (remote, optional)
 *                        "local_dir": "all-MiniLM-L6-v2"}}}   (python, optional)
 * Every field is checked (types, id syntax [A-Za-z0-9_.-]{1,64}, dimensions
 * 1..VX_MAX_DIM, the default must exist); errors name the offending field.
 *
 * Ownership: a registry owns copies of all its strings; registry_free
 * releases everything. Immutable after loading: safe to share among threads.
 */
#ifndef EMBED_REGISTRY_H
#define EMBED_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_value.h"

typedef enum embed_provider {
    EMBED_PROVIDER_BUILTIN = 0,
    EMBED_PROVIDER_PYTHON,
    EMBED_PROVIDER_OPENAI,
    EMBED_PROVIDER_COHERE,
    EMBED_PROVIDER_HUGGINGFACE,
} embed_provider;

typedef struct registry_model {
    char *id;
    embed_provider provider;
    char *model_name;
    uint32_t dimensions;
    char *api_key_env; /* remote providers: env var holding the key, else NULL */
    char *base_url;    /* remote providers: NULL = provider default */
    char *local_dir;   /* python: directory under VECTRON_MODEL_DIR, or NULL */
} registry_model;

typedef struct registry {
    registry_model *models;
    size_t n_models;
    char *default_id;
} registry;

/* "builtin", "python", ...; NULL when unknown. */
const char *registry_provider_name(embed_provider p);
/* true for openai, cohere, huggingface */
bool registry_provider_is_remote(embed_provider p);

/* Builds a registry from a parsed JSON tree. VX_OK or VX_ERR_INVALID with a
 * message naming the field in err. */
int registry_from_value(registry **out, const vx_value *root, char *err, size_t err_len);
/* Reads and parses the JSON file, then registry_from_value. VX_ERR_IO when
 * the file cannot be read, VX_ERR_INVALID for bad JSON or content. */
int registry_load_file(registry **out, const char *path, char *err, size_t err_len);
void registry_free(registry *r);

/* The model with this id, or NULL. */
const registry_model *registry_find(const registry *r, const char *id);

#endif
