/*
 * embed_bench.h — the model benchmark shared by vectron-bench-models and
 * the embed service's MODELS_BENCH (POST /benchmark/models): a built-in set
 * of EMBED_BENCH_N_TEXTS sentences in two topic groups (cooking, then
 * computing), the timing of one model on them, the contrast score, and a
 * 2-D projection of the embeddings for plotting.
 *
 * Contrast = mean cosine over the pairs within a group − mean cosine over
 * the pairs across the groups. A model that separates topics scores high; a
 * model giving random or constant vectors scores ≈ 0. A zero vector has
 * cosine 0 with everything.
 *
 * Timing (embed_bench_measure): each round makes one request with all the
 * texts (batch) and then one request per text (single); the best round of
 * `repeats` is kept for each. The embedder is a callback, so the same code
 * times a registry model inside the service (embed_service_bench_model, in
 * embed_handlers.c, which bypasses the cache) and a fake in the tests.
 *
 * Ownership: nothing here allocates what it returns; the caller provides
 * every output buffer. Thread-safe (no shared state).
 */
#ifndef EMBED_BENCH_H
#define EMBED_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define EMBED_BENCH_PER_GROUP 8
#define EMBED_BENCH_N_TEXTS (2 * EMBED_BENCH_PER_GROUP)

/* Group 0 (cooking) is texts [0, 8), group 1 (computing) is [8, 16). */
extern const char *const embed_bench_texts[EMBED_BENCH_N_TEXTS];
extern const char *const embed_bench_group_names[2];

static inline int embed_bench_group_of(uint32_t i) { return i >= EMBED_BENCH_PER_GROUP; }

typedef struct embed_bench_contrast {
    double within;   /* mean cosine of the pairs inside a group */
    double cross;    /* mean cosine of the pairs across the groups */
    double contrast; /* within − cross */
} embed_bench_contrast;

/* Contrast of n vectors (row-major n × dim) with group[i] ∈ {0, 1}.
 * VX_ERR_INVALID when dim is 0, a group label is not 0/1, or there is no
 * within pair or no cross pair. */
int embed_bench_contrast_of(const float *vecs, const uint8_t *group, uint32_t n, uint32_t dim,
                            embed_bench_contrast *out);

/* Embeds n texts into out (n × dim floats); VX_OK or a vx_err code with a
 * message in err. */
typedef int (*embed_bench_fn)(void *arg, const char **texts, uint32_t n, float *out, char *err,
                              size_t err_len);

typedef struct embed_bench_result {
    uint32_t dim;
    double single_ms;   /* best round: mean time of a one-text request */
    double batch_ms;    /* best round: time of the request with all the texts */
    double texts_per_s; /* EMBED_BENCH_N_TEXTS / batch time */
    embed_bench_contrast c;
} embed_bench_result;

/* Times fn on the built-in texts (repeats ≥ 1 rounds) and computes the
 * contrast of the batch embeddings, which are left in vecs
 * (EMBED_BENCH_N_TEXTS × dim, caller-owned). Stops at the first failure and
 * returns its code (message in err). */
int embed_bench_measure(embed_bench_fn fn, void *arg, uint32_t dim, uint32_t repeats, float *vecs,
                        embed_bench_result *out, char *err, size_t err_len);

/* Projects n vectors onto their first two principal components: xy[2i],
 * xy[2i+1] for vector i. The components come from power iteration on the
 * covariance (applied as Xcᵀ(Xc v), never formed), the second deflated
 * against the first; signs are fixed so the largest |coordinate| is
 * positive. VX_ERR_INVALID when n < 2 or dim == 0. */
int embed_bench_pca2(const float *vecs, uint32_t n, uint32_t dim, double *xy);

#endif
