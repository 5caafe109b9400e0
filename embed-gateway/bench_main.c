/*
 * bench_main.c — vectron-embed-bench: throughput of the built-in use-lite
 * model on one thread (OpenBLAS limited to 1 thread), at batch sizes 1 and
 * 32, over a fixed set of English sentences of typical length (8–20 tokens).
 *
 *   vectron-embed-bench [MODEL_FILE] [SECONDS_PER_CASE]
 *
 * Prints one line per batch size: texts/s and mean latency per call.
 */
#include <stdio.h>
#include <stdlib.h>

#include "use_lite.h"
#include "vx_clock.h"
#include "vx_err.h"

static const char *const sentences[] = {
    "A man is playing a guitar.",
    "The stock market fell sharply today.",
    "How do I reset my password?",
    "Vector databases store high-dimensional embeddings.",
    "Approximate nearest neighbour search trades recall for speed.",
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to the finance team by Friday.",
    "Our new cafe opens downtown next week with live music every evening.",
};
#define N_SENT (sizeof sentences / sizeof *sentences)

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : USE_LITE_DEFAULT_PATH;
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    char err[256];
    use_lite_model *m;
    if (use_lite_load(&m, path, err, sizeof err) != VX_OK) {
        fprintf(stderr, "vectron-embed-bench: %s\n", err);
        return 1;
    }
    use_lite_set_blas_threads(1);
    static const size_t batches[] = {1, 32};
    const char *texts[32];
    float *out = malloc(sizeof(float) * 32 * USE_LITE_DIM);
    for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
        size_t bs = batches[b], done = 0, calls = 0;
        uint64_t start = vx_now_ns(), limit = (uint64_t)(secs * 1e9);
        while (vx_now_ns() - start < limit) {
            for (size_t i = 0; i < bs; i++)
                texts[i] = sentences[(done + i) % N_SENT];
            if (use_lite_embed(m, texts, bs, out) != VX_OK) {
                fprintf(stderr, "vectron-embed-bench: embed failed\n");
                return 1;
            }
            done += bs;
            calls++;
        }
        double el = (double)(vx_now_ns() - start) / 1e9;
        printf("batch %2zu: %8.1f texts/s, %7.3f ms per call (%zu texts in %.2f s, 1 thread)\n", bs,
               (double)done / el, el * 1e3 / (double)calls, done, el);
    }
    free(out);
    use_lite_destroy(m);
    return 0;
}
