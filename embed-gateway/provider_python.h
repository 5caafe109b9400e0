/*
 * provider_python.h — local models served by Python worker processes
 * (embed-gateway/workers/worker.py), one process per model, started and
 * supervised here.
 *
 * Worker protocol (docs/EMBEDDING.md has the full text): frames in both
 * directions on the worker's stdin/stdout are a 4-byte little-endian length
 * followed by that many bytes (at most PYW_MAX_FRAME).
 *   gateway → worker: a JSON object, {"op": "embed", "id": 7, "texts": [..]}
 *                     or {"op": "ping", "id": 8}
 *   worker → gateway: u32 LE header length, the JSON header, then raw
 *                     float32 little-endian vectors (n × dim, row-major):
 *                     {"id": 7, "ok": true, "n": 2, "dim": 384} + 2·384·4 bytes,
 *                     {"id": 8, "ok": true, "pong": true},
 *                     {"id": 7, "ok": false, "error": "..."}.
 *   After loading, the worker sends one unsolicited frame with the header
 *   {"ready": true, "dim": 384, "backend": "numpy"} or
 *   {"ready": false, "error": "..."} (and exits).
 * The worker's stderr is inherited (its messages land in the service log).
 * It gets the service's environment minus every variable whose name
 * contains KEY, TOKEN or SECRET.
 *
 * Supervision: a worker starts on first use, or at creation when
 * python_options.preload is set (in the background). A supervisor thread
 * per worker checks every health_interval_ms that the process is alive and
 * answers a ping within PYW_PING_TIMEOUT_MS; a dead or hung worker is
 * killed, reaped and restarted. The first failure restarts at once; further
 * consecutive failures f (start failures, crashes, hangs) delay the next
 * start by min(500 ms · 2^(f-2), 30 s) until a call succeeds; while
 * a start is delayed, calls fail fast with VX_ERR_EMBED_UNAVAILABLE giving
 * the last error. A call that finds the worker dead restarts it and retries
 * once. A call that times out kills the worker (its stream is then out of
 * step) and returns VX_ERR_TIMEOUT.
 *
 * Ownership/threads: one call at a time per worker (a mutex; the worker is
 * single-threaded); python_worker_destroy stops the supervisor, closes the
 * pipes and terminates the process (SIGTERM, then SIGKILL after 2 s).
 */
#ifndef EMBED_PROVIDER_PYTHON_H
#define EMBED_PROVIDER_PYTHON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PYW_MAX_FRAME (64u << 20)
#define PYW_DEFAULT_PYTHON "/usr/bin/python3"
#define PYW_DEFAULT_SCRIPT "embed-gateway/workers/worker.py"
#define PYW_DEFAULT_CALL_TIMEOUT_MS 60000
#define PYW_DEFAULT_START_TIMEOUT_MS 120000
#define PYW_DEFAULT_HEALTH_INTERVAL_MS 5000
#define PYW_PING_TIMEOUT_MS 5000

typedef struct python_options {
    const char *python;          /* NULL = PYW_DEFAULT_PYTHON */
    const char *script;          /* NULL = PYW_DEFAULT_SCRIPT */
    uint32_t call_timeout_ms;    /* 0 = default */
    uint32_t start_timeout_ms;   /* 0 = default */
    uint32_t health_interval_ms; /* 0 = default */
    bool preload;                /* start the worker right away */
} python_options;

typedef struct python_worker python_worker;

/* model_dir/sub must be a directory with a config.json, else
 * VX_ERR_EMBED_UNAVAILABLE with the reason in err ("weights are never
 * downloaded"). Does not block on the process. */
int python_worker_create(python_worker **out, const char *model_id, const char *model_dir, const char *sub,
                         uint32_t dim, const python_options *opt, char *err, size_t err_len);
void python_worker_destroy(python_worker *w);

/* Embeds n texts into out (n × dim). */
int python_worker_embed(python_worker *w, const char **texts, uint32_t n, uint64_t deadline_us, float *out,
                        char *err, size_t err_len);

/* Pid of the running worker process, 0 when none (tests, HEALTH). */
pid_t python_worker_pid(python_worker *w);
/* Number of worker processes started so far. */
uint32_t python_worker_starts(python_worker *w);

#endif
