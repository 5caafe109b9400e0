/*
 * embed_handlers.c — EMBED, MODELS, MODELS_BENCH and HEALTH for vectron-embed (see
 * embed_handlers.h). Each registry model gets a slot at creation: its
 * availability reason (NULL = available; environment and files are read
 * once), and its provider object — a remote_provider (openai, cohere,
 * huggingface), a python_worker, or nothing for the built-in model — plus a
 * coalescer in front of remote/python providers when coalescing is on.
 *
 * EMBED: validation, cache lookups, then one provider call over the misses
 * (the built-in model in slices of EMBED_SLICE texts, so a request past its
 * deadline stops early with VX_ERR_TIMEOUT); results are cached. A failed
 * call returns the provider's code and message, never a partial vector set.
 */
#include "embed_handlers.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed_coalesce.h"
#include "provider_python.h"
#include "provider_remote.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

#define EMBED_SLICE 32
#define OOM_REASON "out of memory"

typedef struct model_slot {
    char *reason;              /* NULL = available */
    remote_provider *remote;   /* openai / cohere / huggingface */
    python_worker *py;         /* python */
    coalescer *co;             /* python / remote, when coalescing is on */
} model_slot;

static int call_remote(void *arg, const char **texts, uint32_t n, uint64_t deadline_us, float *out, char *err,
                       size_t err_len)
{
    return remote_provider_embed(arg, texts, n, deadline_us, out, err, err_len);
}

static int call_python(void *arg, const char **texts, uint32_t n, uint64_t deadline_us, float *out, char *err,
                       size_t err_len)
{
    return python_worker_embed(arg, texts, n, deadline_us, out, err, err_len);
}

struct embed_service {
    embed_service_config cfg;
    embed_provider_options popt;
    model_slot *slots; /* per registry model */
    atomic_ullong requests, embed_requests, texts, errors, compute_us;
    atomic_ullong provider_errors; /* failed calls to a remote provider (after its retries) */
};

static char *dup_reason(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_reason(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *r = strdup(buf);
    return r ? r : (char *)OOM_REASON;
}

static const char *base_override(const embed_provider_options *o, embed_provider k)
{
    return k == EMBED_PROVIDER_OPENAI   ? o->openai_base_url
           : k == EMBED_PROVIDER_COHERE ? o->cohere_base_url
                                        : o->huggingface_base_url;
}

/* Sets up one model's provider; leaves slot->reason NULL when available. */
static void open_slot(embed_service *s, const registry_model *m, model_slot *slot)
{
    const embed_service_config *cfg = &s->cfg;
    char err[400] = "";
    switch (m->provider) {
    case EMBED_PROVIDER_BUILTIN:
        if (!cfg->use_lite)
            slot->reason = dup_reason("built-in model not loaded: %s",
                                      cfg->use_lite_error ? cfg->use_lite_error : "no model file");
        else if (m->dimensions != USE_LITE_DIM)
            slot->reason = dup_reason("registry says %u dimensions but use-lite produces %d", m->dimensions,
                                      USE_LITE_DIM);
        break;
    case EMBED_PROVIDER_PYTHON: {
        if (!cfg->model_dir || !*cfg->model_dir) {
            slot->reason = dup_reason("local model needs VECTRON_MODEL_DIR to be set");
            break;
        }
        python_options po = {s->popt.python, s->popt.worker_script, s->popt.worker_timeout_ms,
                             s->popt.worker_start_timeout_ms, 0, s->popt.worker_preload};
        int rc = python_worker_create(&slot->py, m->id, cfg->model_dir, m->local_dir ? m->local_dir : m->id,
                                      m->dimensions, &po, err, sizeof err);
        if (rc != VX_OK)
            slot->reason = dup_reason("%s", err[0] ? err : vx_strerror(rc));
        break;
    }
    default: {
        int rc = remote_provider_create(&slot->remote, m, base_override(&s->popt, m->provider), &s->popt.http,
                                        err, sizeof err);
        if (rc != VX_OK)
            slot->reason = dup_reason("%s", err[0] ? err : vx_strerror(rc));
        break;
    }
    }
    if (s->popt.coalesce_wait_us && (slot->remote || slot->py)) {
        uint32_t max = s->popt.coalesce_max_texts >= 2 ? s->popt.coalesce_max_texts : 32;
        if (coalescer_create(&slot->co, m->dimensions, max, s->popt.coalesce_wait_us,
                             slot->remote ? call_remote : call_python,
                             slot->remote ? (void *)slot->remote : (void *)slot->py) != VX_OK)
            slot->co = NULL; /* no coalescing for this model: calls go straight through */
    }
}

int embed_service_create(embed_service **out, const embed_service_config *cfg)
{
    *out = NULL;
    embed_service *s = calloc(1, sizeof *s);
    if (!s)
        return VX_ERR_NOMEM;
    s->cfg = *cfg;
    if (cfg->providers)
        s->popt = *cfg->providers;
    s->slots = calloc(cfg->reg->n_models ? cfg->reg->n_models : 1, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return VX_ERR_NOMEM;
    }
    for (size_t i = 0; i < cfg->reg->n_models; i++)
        open_slot(s, &cfg->reg->models[i], &s->slots[i]);
    *out = s;
    return VX_OK;
}

void embed_service_destroy(embed_service *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cfg.reg->n_models; i++) {
        model_slot *sl = &s->slots[i];
        if (sl->reason && strcmp(sl->reason, OOM_REASON) != 0)
            free(sl->reason);
        coalescer_destroy(sl->co);
        remote_provider_destroy(sl->remote);
        python_worker_destroy(sl->py);
    }
    free(s->slots);
    free(s);
}

python_worker *embed_service_python_worker(embed_service *s, const char *model_id)
{
    const registry_model *m = registry_find(s->cfg.reg, model_id);
    return m ? s->slots[m - s->cfg.reg->models].py : NULL;
}

bool embed_service_model_available(const embed_service *s, const registry_model *m, const char **reason)
{
    size_t i = (size_t)(m - s->cfg.reg->models);
    *reason = i < s->cfg.reg->n_models ? s->slots[i].reason : "not in the registry";
    return *reason == NULL;
}

static void set_error(vx_reply *rep, vx_arena *a, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(vx_reply *rep, vx_arena *a, int status, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rep->status = status;
    rep->err_message = vx_arena_strdup(a, buf);
}

static bool past(uint64_t deadline_us)
{
    return deadline_us && vx_now_us() > deadline_us;
}

/* Embeds k texts with model m into out (k × m->dimensions). */
static int compute(embed_service *s, const registry_model *m, const char **texts, uint32_t k, uint64_t deadline,
                   float *out, char *err, size_t err_len)
{
    model_slot *slot = &s->slots[m - s->cfg.reg->models];
    if (slot->co || slot->remote) {
        int rc = slot->co ? coalescer_embed(slot->co, texts, k, deadline, out, err, err_len)
                          : remote_provider_embed(slot->remote, texts, k, deadline, out, err, err_len);
        if (rc != VX_OK && slot->remote)
            atomic_fetch_add(&s->provider_errors, 1);
        return rc;
    }
    if (slot->py)
        return python_worker_embed(slot->py, texts, k, deadline, out, err, err_len);
    for (uint32_t first = 0; first < k; first += EMBED_SLICE) {
        if (past(deadline))
            return VX_ERR_TIMEOUT;
        uint32_t c = k - first < EMBED_SLICE ? k - first : EMBED_SLICE;
        int rc = use_lite_embed(s->cfg.use_lite, texts + first, c, out + (size_t)first * USE_LITE_DIM);
        if (rc != VX_OK) {
            snprintf(err, err_len, "embedding failed (%s)", vx_strerror(rc));
            return rc;
        }
    }
    return VX_OK;
}

static void do_embed(embed_service *s, const vx_request *req, vx_reply *rep, vx_arena *a)
{
    const vx_embed_req *e = &req->body.embed;
    const char *id = e->model && *e->model ? e->model : s->cfg.reg->default_id;
    uint64_t start = vx_now_us();
    uint64_t deadline = req->deadline_ms ? start + (uint64_t)req->deadline_ms * 1000u : 0;
    atomic_fetch_add(&s->embed_requests, 1);

    const registry_model *m = registry_find(s->cfg.reg, id);
    if (!m) {
        set_error(rep, a, VX_ERR_NOT_FOUND, "model: unknown model \"%s\" (GET /models lists them)", id);
        return;
    }
    const char *reason;
    if (!embed_service_model_available(s, m, &reason)) {
        set_error(rep, a, VX_ERR_EMBED_UNAVAILABLE, "model \"%s\" is unavailable: %s", id, reason);
        return;
    }
    if (e->n_texts == 0 || e->n_texts > VX_MAX_TEXTS) {
        set_error(rep, a, VX_ERR_INVALID, "texts: between 1 and %d texts are required, got %u", VX_MAX_TEXTS,
                  e->n_texts);
        return;
    }
    for (uint32_t i = 0; i < e->n_texts; i++) {
        if (!e->texts[i]) {
            set_error(rep, a, VX_ERR_INVALID, "texts[%u] is missing", i);
            return;
        }
        size_t len = strlen(e->texts[i]);
        if (len > VX_MAX_TEXT_LEN) {
            set_error(rep, a, VX_ERR_LIMIT, "texts[%u] is %zu bytes, the limit is %d", i, len, VX_MAX_TEXT_LEN);
            return;
        }
    }
    uint32_t dim = m->dimensions, n = e->n_texts;
    float *out = vx_arena_alloc(a, sizeof(float) * dim * n);
    uint32_t *miss = vx_arena_alloc(a, sizeof *miss * n);
    const char **miss_text = vx_arena_alloc(a, sizeof *miss_text * n);
    uint32_t n_miss = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (s->cfg.cache && embed_cache_get(s->cfg.cache, id, e->texts[i], dim, out + (size_t)i * dim))
            continue;
        miss[n_miss] = i;
        miss_text[n_miss++] = e->texts[i];
    }
    if (n_miss) {
        float *tmp = vx_arena_alloc(a, sizeof(float) * dim * n_miss);
        char err[512] = "";
        int rc = compute(s, m, miss_text, n_miss, deadline, tmp, err, sizeof err);
        if (rc != VX_OK) {
            if (rc == VX_ERR_TIMEOUT && !err[0])
                snprintf(err, sizeof err, "embedding %u texts did not finish within deadline_ms %u", n,
                         req->deadline_ms);
            set_error(rep, a, rc, "model \"%s\": %s", id, err[0] ? err : vx_strerror(rc));
            return;
        }
        for (uint32_t j = 0; j < n_miss; j++) {
            uint32_t i = miss[j];
            memcpy(out + (size_t)i * dim, tmp + (size_t)j * dim, sizeof(float) * dim);
            if (s->cfg.cache)
                embed_cache_put(s->cfg.cache, id, e->texts[i], dim, tmp + (size_t)j * dim);
        }
    }
    uint64_t took = vx_now_us() - start;
    atomic_fetch_add(&s->texts, n);
    atomic_fetch_add(&s->compute_us, took);
    rep->status = VX_OK;
    rep->body.embed.model = vx_arena_strdup(a, id);
    rep->body.embed.dim = dim;
    rep->body.embed.n = n;
    rep->body.embed.vectors = out;
    rep->body.embed.took_us = took;
}

static void do_models(embed_service *s, vx_reply *rep, vx_arena *a)
{
    const registry *r = s->cfg.reg;
    vx_models_rep *mr = &rep->body.models;
    mr->default_model = vx_arena_strdup(a, r->default_id);
    mr->n_models = (uint32_t)r->n_models;
    mr->models = vx_arena_alloc(a, sizeof *mr->models * (r->n_models ? r->n_models : 1));
    for (size_t i = 0; i < r->n_models; i++) {
        const registry_model *m = &r->models[i];
        vx_model_info *mi = &mr->models[i];
        const char *reason;
        mi->id = vx_arena_strdup(a, m->id);
        mi->provider = registry_provider_name(m->provider);
        mi->model_name = vx_arena_strdup(a, m->model_name);
        mi->dimensions = m->dimensions;
        mi->is_remote = registry_provider_is_remote(m->provider);
        mi->available = embed_service_model_available(s, m, &reason);
        mi->reason = reason ? vx_arena_strdup(a, reason) : NULL;
    }
    rep->status = VX_OK;
}

typedef struct bench_target {
    embed_service *s;
    const registry_model *m;
    uint64_t deadline;
} bench_target;

static int bench_embed(void *arg, const char **texts, uint32_t n, float *out, char *err, size_t err_len)
{
    bench_target *t = arg;
    if (past(t->deadline)) {
        snprintf(err, err_len, "deadline passed");
        return VX_ERR_TIMEOUT;
    }
    return compute(t->s, t->m, texts, n, t->deadline, out, err, err_len);
}

int embed_service_bench_model(embed_service *s, const registry_model *m, uint32_t repeats,
                              uint64_t deadline_us, float *vecs, embed_bench_result *out, char *err,
                              size_t err_len)
{
    const char *reason;
    memset(out, 0, sizeof *out);
    if (!embed_service_model_available(s, m, &reason)) {
        snprintf(err, err_len, "%s", reason);
        return VX_ERR_EMBED_UNAVAILABLE;
    }
    bench_target t = {s, m, deadline_us};
    err[0] = '\0';
    int rc = embed_bench_measure(bench_embed, &t, m->dimensions, repeats, vecs, out, err, err_len);
    if (rc != VX_OK && !err[0])
        snprintf(err, err_len, "%s", vx_strerror(rc));
    return rc;
}

static void do_models_bench(embed_service *s, const vx_request *req, vx_reply *rep, vx_arena *a)
{
    const vx_models_bench_req *q = &req->body.models_bench;
    const registry *r = s->cfg.reg;
    uint64_t deadline = req->deadline_ms ? vx_now_us() + (uint64_t)req->deadline_ms * 1000u : 0;
    uint32_t n = q->models ? q->n_models : (uint32_t)r->n_models;
    const registry_model **todo = vx_arena_alloc(a, sizeof *todo * (n ? n : 1));
    for (uint32_t i = 0; i < n; i++) {
        todo[i] = q->models ? registry_find(r, q->models[i]) : &r->models[i];
        if (!todo[i]) {
            set_error(rep, a, VX_ERR_NOT_FOUND, "models[%u]: unknown model \"%s\" (GET /models lists them)", i,
                      q->models[i]);
            return;
        }
    }
    uint32_t repeats = q->repeats ? q->repeats : VX_DEFAULT_BENCH_REPEATS;
    vx_models_bench_rep *br = &rep->body.models_bench;
    br->default_model = vx_arena_strdup(a, r->default_id);
    br->n_models = n;
    br->models = vx_arena_alloc(a, sizeof *br->models * (n ? n : 1));
    float *vecs = NULL;
    for (uint32_t i = 0; i < n; i++) {
        const registry_model *m = todo[i];
        vx_model_bench *mb = &br->models[i];
        memset(mb, 0, sizeof *mb);
        mb->id = vx_arena_strdup(a, m->id);
        mb->dimensions = m->dimensions;
        const char *reason;
        mb->available = embed_service_model_available(s, m, &reason);
        if (!mb->available) {
            mb->reason = vx_arena_strdup(a, reason);
            continue;
        }
        if (!vecs) /* one buffer for the largest model */
            vecs = vx_arena_alloc(a, sizeof(float) * EMBED_BENCH_N_TEXTS * VX_MAX_DIM);
        char err[512];
        embed_bench_result res;
        int rc = embed_service_bench_model(s, m, repeats, deadline, vecs, &res, err, sizeof err);
        if (rc != VX_OK) {
            char msg[600];
            snprintf(msg, sizeof msg, "benchmark failed (%s): %s", vx_errname(rc), err);
            mb->reason = vx_arena_strdup(a, msg);
            continue;
        }
        mb->single_ms = res.single_ms;
        mb->batch_ms = res.batch_ms;
        mb->texts_per_s = res.texts_per_s;
        mb->contrast = res.c.contrast;
        mb->within = res.c.within;
        mb->cross = res.c.cross;
    }
    rep->status = VX_OK;
}

static void put_int(vx_member *mem, vx_arena *a, const char *key, int64_t v)
{
    mem->key = vx_arena_strdup(a, key);
    mem->key_len = (uint32_t)strlen(key);
    mem->value.type = VX_VAL_INT;
    mem->value.u.i = v;
}

static void do_health(embed_service *s, vx_reply *rep, vx_arena *a)
{
    enum { N = 13 };
    vx_value *stats = vx_arena_alloc(a, sizeof *stats);
    vx_member *mem = vx_arena_alloc(a, sizeof *mem * N);
    embed_cache_stats cs = {0};
    if (s->cfg.cache)
        cs = embed_cache_get_stats(s->cfg.cache);
    int64_t available = 0, co_calls = 0, co_batches = 0;
    for (size_t i = 0; i < s->cfg.reg->n_models; i++) {
        available += s->slots[i].reason == NULL;
        if (s->slots[i].co) {
            coalesce_stats st = coalescer_get_stats(s->slots[i].co);
            co_calls += (int64_t)st.calls;
            co_batches += (int64_t)st.batches;
        }
    }
    int k = 0;
    put_int(&mem[k++], a, "requests", (int64_t)atomic_load(&s->requests));
    put_int(&mem[k++], a, "embed_requests", (int64_t)atomic_load(&s->embed_requests));
    put_int(&mem[k++], a, "texts_embedded", (int64_t)atomic_load(&s->texts));
    put_int(&mem[k++], a, "errors", (int64_t)atomic_load(&s->errors));
    put_int(&mem[k++], a, "provider_errors", (int64_t)atomic_load(&s->provider_errors));
    put_int(&mem[k++], a, "embed_time_us", (int64_t)atomic_load(&s->compute_us));
    put_int(&mem[k++], a, "cache_hits", (int64_t)cs.hits);
    put_int(&mem[k++], a, "cache_misses", (int64_t)cs.misses);
    put_int(&mem[k++], a, "cache_entries", (int64_t)cs.entries);
    put_int(&mem[k++], a, "models_available", available);
    put_int(&mem[k++], a, "coalesced_calls", co_calls);
    put_int(&mem[k++], a, "coalesced_batches", co_batches);
    mem[k].key = vx_arena_strdup(a, "use_lite_loaded");
    mem[k].key_len = (uint32_t)strlen("use_lite_loaded");
    mem[k].value.type = VX_VAL_BOOL;
    mem[k++].value.u.b = s->cfg.use_lite != NULL;
    stats->type = VX_VAL_OBJECT;
    stats->u.obj.items = mem;
    stats->u.obj.n = (uint32_t)k;
    rep->status = VX_OK;
    rep->body.health.service = "embed";
    rep->body.health.version = EMBED_SERVICE_VERSION;
    rep->body.health.stats = stats;
}

void embed_service_dispatch(embed_service *s, const vx_request *req, vx_reply *rep, vx_arena *a)
{
    memset(rep, 0, sizeof *rep);
    rep->version = VX_PROTO_VERSION;
    rep->type = req->type;
    rep->request_id = req->request_id;
    atomic_fetch_add(&s->requests, 1);
    switch (req->type) {
    case VX_MSG_EMBED:
        do_embed(s, req, rep, a);
        break;
    case VX_MSG_MODELS:
        do_models(s, rep, a);
        break;
    case VX_MSG_MODELS_BENCH:
        do_models_bench(s, req, rep, a);
        break;
    case VX_MSG_HEALTH:
        do_health(s, rep, a);
        break;
    default:
        set_error(rep, a, VX_ERR_INVALID, "type: message type %d is not served by the embed service",
                  (int)req->type);
        break;
    }
    if (rep->status != VX_OK) {
        atomic_fetch_add(&s->errors, 1);
        VX_DEBUG("request %llu (%s) failed: %s", (unsigned long long)req->request_id,
                 vx_errname(rep->status), rep->err_message ? rep->err_message : "");
    }
}
