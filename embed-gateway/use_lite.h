/*
 * use_lite.h — the built-in embedding model: Universal Sentence Encoder Lite
 * (512-d, L2-normalised), run in C from the flat file that
 * scripts/convert_use_lite.py writes (default models/use-lite/use-lite.bin).
 *
 * The model is loaded with mmap and validated (magic, version, size, every
 * section in bounds, aligned and of the expected shape) before use. It is
 * immutable afterwards: use_lite_embed may run on many threads at once;
 * each call allocates its own scratch. Matrix products use OpenBLAS.
 *
 * Forward pass (from the TensorFlow.js graph): tokens (clipped to the first
 * 128) → 2·embedding + sinusoidal timing signal → layer 0 (pre-norm
 * attention 256-d, 4 heads, output 256→512 plus a dense 256→512 residual
 * branch; pre-norm FFN 512→1536→512 ReLU) → layer 1 (same at 512-d, identity
 * residual) → mean over tokens → tanh(x·W + b) → L2 normalisation.
 * An empty text (no tokens) gives the normalised tanh(b).
 */
#ifndef USE_LITE_H
#define USE_LITE_H

#include <stddef.h>
#include <stdint.h>

#include "use_lite_tokenizer.h"

#define USE_LITE_DIM 512
#define USE_LITE_MAX_TOKENS 128
#define USE_LITE_DEFAULT_PATH "models/use-lite/use-lite.bin"

typedef struct use_lite_model use_lite_model;

/* Loads and validates the converted model. On failure returns VX_ERR_IO
 * (cannot open/map), VX_ERR_CORRUPT (bad header, bounds or shapes) or
 * VX_ERR_NOMEM, and writes a message naming the problem into err. */
int use_lite_load(use_lite_model **out, const char *path, char *err, size_t err_len);
/* Unmaps and frees. NULL is a no-op. */
void use_lite_destroy(use_lite_model *m);

/* Embeds n NUL-terminated UTF-8 texts into out (n × USE_LITE_DIM floats,
 * row-major). Thread-safe. VX_OK, VX_ERR_INVALID (NULL text) or
 * VX_ERR_NOMEM. */
int use_lite_embed(const use_lite_model *m, const char *const *texts, size_t n, float *out);

/* The model's tokenizer (owned by the model). */
const use_lite_tokenizer *use_lite_get_tokenizer(const use_lite_model *m);
/* Unicode version of the normalisation tables ("14.0.0"). */
const char *use_lite_unicode_version(const use_lite_model *m);

/* Limits OpenBLAS to n threads (1 is best when many requests run in
 * parallel on their own threads). */
void use_lite_set_blas_threads(int n);

#endif
