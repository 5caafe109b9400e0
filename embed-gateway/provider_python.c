/*
 * provider_python.c — Python worker processes: spawn, frame I/O, health
 * checks, restart with backoff (contract and protocol in provider_python.h).
 *
 * Invariants: w->mu is held for every use of the pipes and of the process
 * state (pid, fds, failure counters), so a supervisor check and a call never
 * interleave their frames. pid > 0 ⇔ fds are open and the ready frame was
 * received. A worker is never left un-reaped: every path that gives up on a
 * process kills it (SIGKILL) and waitpid()s it under the mutex.
 *
 * A call waits for w->mu with pthread_mutex_clocklock (monotonic deadline).
 * GCC 12's ThreadSanitizer does not intercept that function, so under TSan
 * lock_until() announces the acquisition with the TSan mutex annotations;
 * without them TSan would see every access under a call's lock as unlocked
 * and its unlock as an unlock of an unlocked mutex.
 */
#include "provider_python.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_json.h"
#include "vx_jsonw.h"
#include "vx_log.h"

#if defined(__SANITIZE_THREAD__)
#define PYW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PYW_TSAN 1
#endif
#endif
#ifdef PYW_TSAN
#include <sanitizer/tsan_interface.h>
#endif

extern char **environ;

struct python_worker {
    char *id, *path, *python, *script;
    uint32_t dim;
    python_options opt;
    pthread_mutex_t mu;
    pid_t pid;
    int to_fd, from_fd;
    uint64_t next_id;
    uint32_t fails;      /* consecutive failures */
    uint64_t retry_at_us; /* no start before this */
    uint32_t starts;
    char last_error[300];
    /* supervisor */
    pthread_t sup;
    bool sup_running, stopping;
    pthread_cond_t cv;
};

static int fail(char *err, size_t len, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t len, int code, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Locks mu unless the monotonic time `until` passes first; 0 or an errno. */
static int lock_until(pthread_mutex_t *mu, const struct timespec *until)
{
#ifdef PYW_TSAN
    __tsan_mutex_pre_lock(mu, __tsan_mutex_try_lock);
    int r = pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, until);
    __tsan_mutex_post_lock(mu, __tsan_mutex_try_lock | (r != 0 ? __tsan_mutex_try_lock_failed : 0), 0);
    return r;
#else
    return pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, until);
#endif
}

/* ---- process lifetime (callers hold mu) -------------------------------- */

static void kill_worker(python_worker *w, const char *why)
{
    if (w->pid <= 0)
        return;
    if (why)
        VX_WARN("model %s: stopping worker pid %d: %s", w->id, (int)w->pid, why);
    kill(w->pid, SIGKILL);
    int st;
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
        ;
    close(w->to_fd);
    close(w->from_fd);
    w->pid = 0;
    w->to_fd = w->from_fd = -1;
}

static void note_failure(python_worker *w, const char *msg)
{
    snprintf(w->last_error, sizeof w->last_error, "%s", msg);
    w->fails++;
    uint64_t d = w->fails <= 1 ? 0 : 500; /* the first failure restarts at once */
    for (uint32_t i = 2; i < w->fails && d < 30000; i++)
        d *= 2;
    if (d > 30000)
        d = 30000;
    w->retry_at_us = vx_now_us() + d * 1000u;
}

/* Reaps a worker that exited on its own; true when it is gone. With
 * wait_ms, waits that long for an exit (the pipe may close a moment before
 * the process is reapable), then kills it. */
static bool reap_if_dead(python_worker *w, uint32_t wait_ms)
{
    if (w->pid <= 0)
        return true;
    int st = 0;
    pid_t r = waitpid(w->pid, &st, WNOHANG);
    for (uint32_t waited = 0; r == 0 && waited < wait_ms; waited += 5) {
        vx_sleep_ms(5);
        r = waitpid(w->pid, &st, WNOHANG);
    }
    if (r == 0 && !wait_ms)
        return false;
    char msg[160];
    if (r == 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
            ;
        snprintf(msg, sizeof msg, "worker pid %d closed its pipe and was killed", (int)w->pid);
    } else if (r > 0 && WIFSIGNALED(st)) {
        snprintf(msg, sizeof msg, "worker pid %d was killed by signal %d", (int)w->pid, WTERMSIG(st));
    } else if (r > 0) {
        snprintf(msg, sizeof msg, "worker pid %d exited with status %d", (int)w->pid, WEXITSTATUS(st));
    } else {
        snprintf(msg, sizeof msg, "worker pid %d vanished", (int)w->pid);
    }
    VX_WARN("model %s: %s", w->id, msg);
    close(w->to_fd);
    close(w->from_fd);
    w->pid = 0;
    w->to_fd = w->from_fd = -1;
    note_failure(w, msg);
    return true;
}

/* ---- frame I/O --------------------------------------------------------- */

static int wait_fd(int fd, short ev, uint64_t deadline_us)
{
    for (;;) {
        int tmo = -1;
        if (deadline_us) {
            uint64_t now = vx_now_us();
            if (now >= deadline_us)
                return VX_ERR_TIMEOUT;
            tmo = (int)((deadline_us - now + 999) / 1000);
        }
        struct pollfd p = {fd, ev, 0};
        int r = poll(&p, 1, tmo);
        if (r > 0)
            return VX_OK;
        if (r == 0)
            return VX_ERR_TIMEOUT;
        if (errno != EINTR)
            return VX_ERR_IO;
    }
}

static int write_full(int fd, const unsigned char *p, size_t n, uint64_t deadline_us)
{
    while (n > 0) {
        int rc = wait_fd(fd, POLLOUT, deadline_us);
        if (rc != VX_OK)
            return rc;
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return VX_ERR_IO; /* EPIPE: the worker is gone */
        }
        p += k;
        n -= (size_t)k;
    }
    return VX_OK;
}

static int read_full(int fd, unsigned char *p, size_t n, uint64_t deadline_us)
{
    while (n > 0) {
        int rc = wait_fd(fd, POLLIN, deadline_us);
        if (rc != VX_OK)
            return rc;
        ssize_t k = read(fd, p, n);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return VX_ERR_IO;
        }
        if (k == 0)
            return VX_ERR_IO; /* EOF: the worker is gone */
        p += k;
        n -= (size_t)k;
    }
    return VX_OK;
}

static uint32_t get_u32le(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int send_frame(python_worker *w, const vx_buf *payload, uint64_t deadline_us)
{
    unsigned char len[4] = {(unsigned char)payload->len, (unsigned char)(payload->len >> 8),
                            (unsigned char)(payload->len >> 16), (unsigned char)(payload->len >> 24)};
    int rc = write_full(w->to_fd, len, 4, deadline_us);
    return rc == VX_OK ? write_full(w->to_fd, payload->data, payload->len, deadline_us) : rc;
}

/* Reads one reply frame: parses its JSON header into *hdr (in a) and points
 * *data at the payload after it (data_len bytes, inside frame). */
static int recv_frame(python_worker *w, vx_buf *frame, vx_arena *a, vx_value *hdr, const unsigned char **data,
                      size_t *data_len, uint64_t deadline_us, char *err, size_t err_len)
{
    unsigned char b4[4];
    int rc = read_full(w->from_fd, b4, 4, deadline_us);
    if (rc != VX_OK)
        return rc;
    uint32_t n = get_u32le(b4);
    if (n < 4 || n > PYW_MAX_FRAME)
        return fail(err, err_len, VX_ERR_PROTO, "worker sent a frame of %u bytes", n);
    vx_buf_reset(frame);
    vx_buf_reserve(frame, n);
    if ((rc = read_full(w->from_fd, frame->data, n, deadline_us)) != VX_OK)
        return rc;
    frame->len = n;
    uint32_t hl = get_u32le(frame->data);
    if (hl > n - 4)
        return fail(err, err_len, VX_ERR_PROTO, "worker frame header length %u exceeds the frame", hl);
    char jerr[160];
    if (vx_json_parse((const char *)frame->data + 4, hl, a, hdr, jerr, sizeof jerr) != VX_OK ||
        hdr->type != VX_VAL_OBJECT)
        return fail(err, err_len, VX_ERR_PROTO, "worker frame header is not a JSON object");
    *data = frame->data + 4 + hl;
    *data_len = n - 4 - hl;
    return VX_OK;
}

static int64_t hdr_int(const vx_value *h, const char *k)
{
    const vx_value *v = vx_value_get(h, k);
    return v && v->type == VX_VAL_INT ? v->u.i : -1;
}

static bool hdr_true(const vx_value *h, const char *k)
{
    const vx_value *v = vx_value_get(h, k);
    return v && v->type == VX_VAL_BOOL && v->u.b;
}

static const char *hdr_str(const vx_value *h, const char *k)
{
    const vx_value *v = vx_value_get(h, k);
    return v && v->type == VX_VAL_STRING ? v->u.str.ptr : NULL;
}

/* ---- start -------------------------------------------------------------- */

static bool secret_name(const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
    char name[128];
    if (n >= sizeof name)
        return false;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)(kv[i] >= 'a' && kv[i] <= 'z' ? kv[i] - 32 : kv[i]);
    name[n] = '\0';
    return strstr(name, "KEY") || strstr(name, "TOKEN") || strstr(name, "SECRET");
}

/* Starts the process and waits for its ready frame. Caller holds mu. */
static int start_worker(python_worker *w, uint64_t deadline_us, char *err, size_t err_len)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        if (in[0] >= 0) {
            close(in[0]);
            close(in[1]);
        }
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "cannot create pipes: %s", strerror(errno));
    }
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **env = calloc(n_env + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; env && i < n_env; i++)
        if (!secret_name(environ[i]))
            env[k++] = environ[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* no sockets or files of ours leak into it */
    char *argv[] = {w->python, "-u", w->script, "--model-dir", w->path, NULL};
    pid_t pid = 0;
    int sr = env ? posix_spawnp(&pid, w->python, &fa, NULL, argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(in[0]);
    close(out[1]);
    if (sr != 0) {
        close(in[1]);
        close(out[0]);
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "cannot start %s: %s", w->python, strerror(sr));
    }
    w->pid = pid;
    w->to_fd = in[1];
    w->from_fd = out[0];
    w->starts++;
    uint64_t start_deadline = vx_now_us() + (uint64_t)w->opt.start_timeout_ms * 1000u;
    if (deadline_us && deadline_us < start_deadline)
        start_deadline = deadline_us;
    vx_arena a;
    vx_arena_init(&a, 4096);
    vx_buf frame = VX_BUF_INIT;
    vx_value hdr;
    const unsigned char *data;
    size_t dlen;
    char ferr[200] = "";
    int rc = recv_frame(w, &frame, &a, &hdr, &data, &dlen, start_deadline, ferr, sizeof ferr);
    if (rc == VX_OK && hdr_true(&hdr, "ready") && hdr_int(&hdr, "dim") == (int64_t)w->dim) {
        const char *be = hdr_str(&hdr, "backend");
        VX_INFO("model %s: worker pid %d ready (%s backend, %u dimensions)", w->id, (int)pid, be ? be : "?",
                w->dim);
        rc = VX_OK;
    } else {
        if (rc == VX_OK && hdr_true(&hdr, "ready"))
            fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE,
                 "worker loaded %s with %lld dimensions, the registry says %u", w->path,
                 (long long)hdr_int(&hdr, "dim"), w->dim);
        else if (rc == VX_OK)
            fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "worker could not load %s: %s", w->path,
                 hdr_str(&hdr, "error") ? hdr_str(&hdr, "error") : "no reason given");
        else if (rc == VX_ERR_TIMEOUT)
            fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "worker did not finish loading %s in time", w->path);
        else
            fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "worker exited while loading %s%s%s (see its stderr)",
                 w->path, ferr[0] ? ": " : "", ferr);
        rc = VX_ERR_EMBED_UNAVAILABLE;
        kill_worker(w, NULL);
        note_failure(w, err);
        VX_WARN("model %s: %s", w->id, err);
    }
    vx_buf_free(&frame);
    vx_arena_fini(&a);
    return rc;
}

/* Running worker or an error (respects the backoff). Caller holds mu. */
static int ensure_running(python_worker *w, uint64_t deadline_us, char *err, size_t err_len)
{
    reap_if_dead(w, 0);
    if (w->pid > 0)
        return VX_OK;
    uint64_t now = vx_now_us();
    if (w->fails && now < w->retry_at_us)
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "worker is restarting (next attempt in %llu ms): %s",
                    (unsigned long long)((w->retry_at_us - now) / 1000u), w->last_error);
    return start_worker(w, deadline_us, err, err_len);
}

/* ---- calls -------------------------------------------------------------- */

/* One request/response exchange. VX_ERR_IO means the worker died. */
static int exchange(python_worker *w, const vx_buf *req, uint64_t id, vx_buf *frame, vx_arena *a, vx_value *hdr,
                    const unsigned char **data, size_t *dlen, uint64_t deadline_us, char *err, size_t err_len)
{
    int rc = send_frame(w, req, deadline_us);
    if (rc == VX_OK)
        rc = recv_frame(w, frame, a, hdr, data, dlen, deadline_us, err, err_len);
    if (rc == VX_OK && hdr_int(hdr, "id") != (int64_t)id)
        rc = fail(err, err_len, VX_ERR_PROTO, "worker answered request %lld, expected %llu",
                  (long long)hdr_int(hdr, "id"), (unsigned long long)id);
    return rc;
}

int python_worker_embed(python_worker *w, const char **texts, uint32_t n, uint64_t deadline_us, float *out,
                        char *err, size_t err_len)
{
    uint64_t call_deadline = vx_now_us() + (uint64_t)w->opt.call_timeout_ms * 1000u;
    if (deadline_us && deadline_us < call_deadline)
        call_deadline = deadline_us;
    vx_buf req = VX_BUF_INIT, frame = VX_BUF_INIT;
    vx_arena a;
    vx_arena_init(&a, 4096);
    /* wait for the worker (one call at a time), but not past the deadline */
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    uint64_t wait_us = call_deadline > vx_now_us() ? call_deadline - vx_now_us() : 0;
    uint64_t ns = (uint64_t)until.tv_nsec + wait_us * 1000u;
    until.tv_sec += (time_t)(ns / 1000000000u);
    until.tv_nsec = (long)(ns % 1000000000u);
    if (lock_until(&w->mu, &until) != 0) {
        vx_buf_free(&req);
        vx_arena_fini(&a);
        return fail(err, err_len, VX_ERR_TIMEOUT, "worker stayed busy (or loading) until the deadline");
    }
    uint64_t id = ++w->next_id;
    vx_jsonw jw;
    vx_jsonw_init(&jw, &req);
    vx_jsonw_begin_object(&jw);
    vx_jsonw_key(&jw, "op");
    vx_jsonw_string(&jw, "embed");
    vx_jsonw_key(&jw, "id");
    vx_jsonw_uint(&jw, id);
    vx_jsonw_key(&jw, "texts");
    vx_jsonw_begin_array(&jw);
    for (uint32_t i = 0; i < n; i++)
        vx_jsonw_string(&jw, texts[i]);
    vx_jsonw_end_array(&jw);
    vx_jsonw_end_object(&jw);
    int rc = VX_ERR_EMBED_UNAVAILABLE;
    vx_value hdr;
    const unsigned char *data = NULL;
    size_t dlen = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((rc = ensure_running(w, call_deadline, err, err_len)) != VX_OK)
            goto out;
        rc = exchange(w, &req, id, &frame, &a, &hdr, &data, &dlen, call_deadline, err, err_len);
        if (rc == VX_OK)
            break;
        if (rc == VX_ERR_IO && reap_if_dead(w, 1000)) {
            fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "worker died during the request: %s", w->last_error);
            rc = VX_ERR_EMBED_UNAVAILABLE;
            if (attempt == 0)
                w->retry_at_us = 0; /* one immediate restart for the retry */
            continue;
        }
        /* timeout or a protocol violation: the stream is out of step */
        char why[200];
        snprintf(why, sizeof why, "%s", rc == VX_ERR_TIMEOUT ? "no answer in time" : err);
        kill_worker(w, why);
        note_failure(w, why);
        if (rc == VX_ERR_TIMEOUT)
            fail(err, err_len, VX_ERR_TIMEOUT, "worker gave no answer for %u texts in time (restarting it)", n);
        else
            rc = VX_ERR_UPSTREAM;
        goto out;
    }
    if (rc != VX_OK)
        goto out;
    if (!hdr_true(&hdr, "ok")) {
        rc = fail(err, err_len, VX_ERR_UPSTREAM, "worker error: %s",
                  hdr_str(&hdr, "error") ? hdr_str(&hdr, "error") : "no reason given");
        goto out;
    }
    if (hdr_int(&hdr, "n") != (int64_t)n || hdr_int(&hdr, "dim") != (int64_t)w->dim ||
        dlen != (size_t)n * w->dim * sizeof(float)) {
        rc = fail(err, err_len, VX_ERR_UPSTREAM, "worker returned %lld × %lld floats (%zu bytes), expected %u × %u",
                  (long long)hdr_int(&hdr, "n"), (long long)hdr_int(&hdr, "dim"), dlen, n, w->dim);
        goto out;
    }
    memcpy(out, data, dlen); /* little-endian hosts only (x86-64, arm64) */
    for (size_t i = 0; i < (size_t)n * w->dim; i++)
        if (!isfinite(out[i])) {
            rc = fail(err, err_len, VX_ERR_UPSTREAM, "worker returned a non-finite value in vector %zu",
                      i / w->dim);
            goto out;
        }
    w->fails = 0;
    rc = VX_OK;
out:
    pthread_mutex_unlock(&w->mu);
    vx_buf_free(&req);
    vx_buf_free(&frame);
    vx_arena_fini(&a);
    return rc;
}

/* ---- supervisor ------------------------------------------------------- */

static void health_check(python_worker *w)
{
    if (w->pid <= 0) {
        if (w->opt.preload && (!w->fails || vx_now_us() >= w->retry_at_us)) {
            char err[300];
            start_worker(w, 0, err, sizeof err);
        }
        return;
    }
    if (reap_if_dead(w, 0)) {
        char err[300];
        if (vx_now_us() >= w->retry_at_us || !w->fails)
            start_worker(w, 0, err, sizeof err);
        return;
    }
    vx_buf req = VX_BUF_INIT, frame = VX_BUF_INIT;
    vx_arena a;
    vx_arena_init(&a, 1024);
    uint64_t id = ++w->next_id;
    vx_buf_printf(&req, "{\"op\":\"ping\",\"id\":%llu}", (unsigned long long)id);
    vx_value hdr;
    const unsigned char *data;
    size_t dlen;
    char err[200] = "";
    int rc = exchange(w, &req, id, &frame, &a, &hdr, &data, &dlen, vx_now_us() + PYW_PING_TIMEOUT_MS * 1000ull,
                      err, sizeof err);
    if (rc != VX_OK || !hdr_true(&hdr, "pong")) {
        if (!(rc == VX_ERR_IO && reap_if_dead(w, 1000))) {
            kill_worker(w, "health check failed");
            note_failure(w, "worker failed its health check");
        }
    }
    vx_buf_free(&req);
    vx_buf_free(&frame);
    vx_arena_fini(&a);
}

static void *supervise(void *arg)
{
    python_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    bool first = true;
    while (!w->stopping) {
        if (!first || w->opt.preload)
            health_check(w);
        first = false;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)w->opt.health_interval_ms * 1000000ull;
        ts.tv_sec += (time_t)(ns / 1000000000ull);
        ts.tv_nsec = (long)(ns % 1000000000ull);
        while (!w->stopping && pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ---- create / destroy -------------------------------------------------- */

int python_worker_create(python_worker **out, const char *model_id, const char *model_dir, const char *sub,
                         uint32_t dim, const python_options *opt, char *err, size_t err_len)
{
    *out = NULL;
    char path[4096], cfgp[4200];
    snprintf(path, sizeof path, "%s/%s", model_dir, sub);
    snprintf(cfgp, sizeof cfgp, "%s/config.json", path);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE,
                    "model directory %s does not exist (weights are never downloaded: put the model there)", path);
    if (access(cfgp, R_OK) != 0)
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "model directory %s has no config.json", path);
    python_options o = opt ? *opt : (python_options){0};
    const char *py = o.python && *o.python ? o.python : PYW_DEFAULT_PYTHON;
    const char *script = o.script && *o.script ? o.script : PYW_DEFAULT_SCRIPT;
    if (strchr(py, '/') && access(py, X_OK) != 0)
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "python interpreter %s is not executable", py);
    if (access(script, R_OK) != 0)
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "worker script %s is not readable", script);
    if (!o.call_timeout_ms)
        o.call_timeout_ms = PYW_DEFAULT_CALL_TIMEOUT_MS;
    if (!o.start_timeout_ms)
        o.start_timeout_ms = PYW_DEFAULT_START_TIMEOUT_MS;
    if (!o.health_interval_ms)
        o.health_interval_ms = PYW_DEFAULT_HEALTH_INTERVAL_MS;
    python_worker *w = calloc(1, sizeof *w);
    if (!w)
        return VX_ERR_NOMEM;
    w->id = strdup(model_id);
    w->path = strdup(path);
    w->python = strdup(py);
    w->script = strdup(script);
    w->dim = dim;
    w->opt = o;
    w->to_fd = w->from_fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    vx_cond_init_monotonic(&w->cv);
    if (!w->id || !w->path || !w->python || !w->script) {
        python_worker_destroy(w);
        return VX_ERR_NOMEM;
    }
    if (pthread_create(&w->sup, NULL, supervise, w) != 0) {
        python_worker_destroy(w);
        return fail(err, err_len, VX_ERR_EMBED_UNAVAILABLE, "cannot start the supervisor thread");
    }
    w->sup_running = true;
    *out = w;
    return VX_OK;
}

void python_worker_destroy(python_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->sup_running)
        pthread_join(w->sup, NULL);
    if (w->pid > 0) {
        close(w->to_fd); /* EOF on stdin: the worker exits by itself */
        w->to_fd = -1;
        kill(w->pid, SIGTERM);
        int st = 0;
        pid_t r = 0;
        for (int i = 0; i < 200 && (r = waitpid(w->pid, &st, WNOHANG)) == 0; i++)
            vx_sleep_ms(10);
        if (r == 0) {
            kill(w->pid, SIGKILL);
            waitpid(w->pid, &st, 0);
        }
        close(w->from_fd);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->id);
    free(w->path);
    free(w->python);
    free(w->script);
    free(w);
}

pid_t python_worker_pid(python_worker *w)
{
    pthread_mutex_lock(&w->mu);
    pid_t p = w->pid;
    pthread_mutex_unlock(&w->mu);
    return p;
}

uint32_t python_worker_starts(python_worker *w)
{
    pthread_mutex_lock(&w->mu);
    uint32_t s = w->starts;
    pthread_mutex_unlock(&w->mu);
    return s;
}
