/*
 * metrics.c — registry and Prometheus text exposition (see metrics.h).
 *
 * Storage: one `series` per registered route plus one per standard method
 * for unmatched requests; each holds an atomic counter per HTTP status
 * (100..599) and a latency histogram. Histograms keep NON-cumulative
 * bucket counts (the last one is "above every bound") and the sum in
 * nanoseconds; rendering reads each bucket once, accumulates, and uses the
 * accumulated total as both the +Inf bucket and _count, so the exposition
 * is self-consistent even while other threads observe.
 *
 * HEALTH-derived values live in a small table guarded by `mu`; the
 * stat_families table below is the single list of which stat key becomes
 * which metric (keep docs/SECURITY.md in step).
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_proto.h"

/* ---- fixed dimensions -------------------------------------------------- */

static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
static const char *const bound_txt[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
                                        "0.01",   "0.025",   "0.05",   "0.1",   "0.25",   "0.5",
                                        "1",      "2.5",     "5",      "10"};
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

#define N_CODES 500 /* HTTP 100..599 */

static const char *const std_methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
#define N_STD_METHODS (sizeof(std_methods) / sizeof(std_methods[0]))
#define N_UNMATCHED (N_STD_METHODS + 1) /* + "other" */

static const int msg_codes[] = {
#define MX_(name, code, wire) code,
    VX_MSG_MAP(MX_)
#undef MX_
};
#define N_OPS (sizeof(msg_codes) / sizeof(msg_codes[0]))

static const int err_codes[] = {
#define EX_(name, val, wire, http, msg) val,
    VX_ERR_MAP(EX_)
#undef EX_
};
#define N_ERRS (sizeof(err_codes) / sizeof(err_codes[0]))

static const char *const svc_names[] = {"store", "embed"};
#define N_SVCS 2

typedef struct hist {
    _Atomic uint64_t b[N_BOUNDS + 1];
    _Atomic uint64_t sum_ns;
} hist;

typedef struct series {
    const char *method, *pattern;
    _Atomic uint64_t codes[N_CODES];
    hist lat;
} series;

/* ---- HEALTH stats ------------------------------------------------------ */

typedef struct stat_family {
    metrics_service svc;
    const char *name, *type, *help;
    const char *key;       /* the value; for a summary, its _sum */
    double scale;          /* multiplies the stat value */
    const char *count_key; /* summary only: its _count */
} stat_family;

static const stat_family families[] = {
    {METRICS_STORE, "vectron_store_collections", "gauge", "Collections in the store.",
     "collections", 1, NULL},
    {METRICS_STORE, "vectron_store_points", "gauge", "Live points in all collections.", "points", 1,
     NULL},
    {METRICS_STORE, "vectron_store_memory_bytes", "gauge",
     "Bytes held by vectors, metadata, indexes and id maps.", "memory_bytes", 1, NULL},
    {METRICS_STORE, "vectron_store_wal_records_total", "counter",
     "WAL records appended since the store started.", "wal_records", 1, NULL},
    {METRICS_STORE, "vectron_store_wal_bytes_total", "counter",
     "WAL bytes appended since the store started.", "wal_bytes", 1, NULL},
    {METRICS_STORE, "vectron_store_wal_fsync_seconds", "summary",
     "Time spent in WAL fdatasync calls.", "wal_fsync_ns_total", 1e-9, "wal_fsyncs"},
    {METRICS_STORE, "vectron_store_wal_fsync_max_seconds", "gauge",
     "Longest single WAL fdatasync since the store started.", "wal_fsync_ns_max", 1e-9, NULL},
    {METRICS_EMBED, "vectron_embed_requests_total", "counter", "Embedding requests served.",
     "embed_requests", 1, NULL},
    {METRICS_EMBED, "vectron_embed_texts_total", "counter", "Texts embedded.", "texts_embedded", 1,
     NULL},
    {METRICS_EMBED, "vectron_embed_errors_total", "counter", "Embedding requests that failed.",
     "errors", 1, NULL},
    {METRICS_EMBED, "vectron_embed_provider_errors_total", "counter",
     "Failed calls to remote embedding providers.", "provider_errors", 1, NULL},
    {METRICS_EMBED, "vectron_embed_cache_hits_total", "counter", "Embedding cache hits.",
     "cache_hits", 1, NULL},
    {METRICS_EMBED, "vectron_embed_cache_misses_total", "counter", "Embedding cache misses.",
     "cache_misses", 1, NULL},
    {METRICS_EMBED, "vectron_embed_cache_entries", "gauge", "Entries in the embedding cache.",
     "cache_entries", 1, NULL},
    {METRICS_EMBED, "vectron_embed_compute_seconds", "summary",
     "Time spent computing embeddings.", "embed_time_us", 1e-6, "embed_requests"},
    {METRICS_EMBED, "vectron_embed_models_available", "gauge", "Models that can embed now.",
     "models_available", 1, NULL},
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

struct metrics {
    series routes[METRICS_MAX_ROUTES];
    size_t n_routes;
    series unmatched[N_UNMATCHED];
    _Atomic int64_t in_flight;
    _Atomic uint64_t up_calls[N_SVCS][N_OPS][N_ERRS];
    hist up_lat[N_SVCS][N_OPS];
    pthread_mutex_t mu; /* guards everything below */
    int svc_up[N_SVCS]; /* -1 unknown, 0 down, 1 up */
    bool has[N_FAMILIES];
    double val[N_FAMILIES], cnt[N_FAMILIES];
};

int metrics_create(metrics **out)
{
    metrics *m = calloc(1, sizeof(*m));
    *out = NULL;
    if (!m)
        return VX_ERR_NOMEM;
    for (size_t i = 0; i < N_UNMATCHED; i++) {
        m->unmatched[i].method = i < N_STD_METHODS ? std_methods[i] : "other";
        m->unmatched[i].pattern = "unmatched";
    }
    for (int s = 0; s < N_SVCS; s++)
        m->svc_up[s] = -1;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return VX_OK;
}

void metrics_destroy(metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int metrics_add_route(metrics *m, const char *method, const char *pattern)
{
    if (!method || !pattern || !*method || !*pattern)
        return VX_ERR_INVALID;
    for (size_t i = 0; i < m->n_routes; i++)
        if (strcmp(m->routes[i].method, method) == 0 && strcmp(m->routes[i].pattern, pattern) == 0)
            return VX_ERR_CONFLICT;
    if (m->n_routes == METRICS_MAX_ROUTES)
        return VX_ERR_LIMIT;
    m->routes[m->n_routes].method = method;
    m->routes[m->n_routes].pattern = pattern;
    m->n_routes++;
    return VX_OK;
}

void metrics_request_begin(metrics *m) { atomic_fetch_add_explicit(&m->in_flight, 1, memory_order_relaxed); }
void metrics_request_end(metrics *m) { atomic_fetch_sub_explicit(&m->in_flight, 1, memory_order_relaxed); }

static void hist_observe(hist *h, double seconds)
{
    if (!(seconds > 0)) /* also NaN */
        seconds = 0;
    size_t i = 0;
    while (i < N_BOUNDS && seconds > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    double ns = seconds * 1e9;
    atomic_fetch_add_explicit(&h->sum_ns, ns > 1e18 ? (uint64_t)1e18 : (uint64_t)ns,
                              memory_order_relaxed);
}

static series *find_series(metrics *m, const char *method, const char *pattern)
{
    const char *meth = method ? method : "";
    if (pattern) {
        for (size_t i = 0; i < m->n_routes; i++) {
            series *s = &m->routes[i];
            if ((s->pattern == pattern || strcmp(s->pattern, pattern) == 0) &&
                strcmp(s->method, meth) == 0)
                return s;
        }
    }
    for (size_t i = 0; i < N_STD_METHODS; i++)
        if (strcmp(std_methods[i], meth) == 0)
            return &m->unmatched[i];
    return &m->unmatched[N_STD_METHODS];
}

void metrics_observe_request(metrics *m, const char *method, const char *pattern, int status,
                             double seconds)
{
    series *s = find_series(m, method, pattern);
    if (status < 100 || status > 599)
        status = 500;
    atomic_fetch_add_explicit(&s->codes[status - 100], 1, memory_order_relaxed);
    hist_observe(&s->lat, seconds);
}

static int op_index(int msg_type)
{
    for (size_t i = 0; i < N_OPS; i++)
        if (msg_codes[i] == msg_type)
            return (int)i;
    return -1;
}

static size_t err_index(int status)
{
    for (size_t i = 0; i < N_ERRS; i++)
        if (err_codes[i] == status)
            return i;
    for (size_t i = 0; i < N_ERRS; i++)
        if (err_codes[i] == VX_ERR_INTERNAL)
            return i;
    return 0;
}

void metrics_observe_upstream(metrics *m, metrics_service svc, int msg_type, int status,
                              double seconds)
{
    int op = op_index(msg_type);
    if (op < 0 || (int)svc < 0 || svc >= N_SVCS)
        return;
    atomic_fetch_add_explicit(&m->up_calls[svc][op][err_index(status)], 1, memory_order_relaxed);
    hist_observe(&m->up_lat[svc][op], seconds);
}

void metrics_set_service_up(metrics *m, metrics_service svc, bool up)
{
    if ((int)svc < 0 || svc >= N_SVCS)
        return;
    pthread_mutex_lock(&m->mu);
    m->svc_up[svc] = up ? 1 : 0;
    if (!up)
        for (size_t i = 0; i < N_FAMILIES; i++)
            if (families[i].svc == svc)
                m->has[i] = false;
    pthread_mutex_unlock(&m->mu);
}

void metrics_import_health(metrics *m, metrics_service svc, const vx_value *stats)
{
    if (!stats || stats->type != VX_VAL_OBJECT)
        return;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const stat_family *f = &families[i];
        if (f->svc != svc)
            continue;
        double v, c = 0;
        if (!vx_value_as_double(vx_value_get(stats, f->key), &v))
            continue;
        if (f->count_key && !vx_value_as_double(vx_value_get(stats, f->count_key), &c))
            continue;
        m->val[i] = v * f->scale;
        m->cnt[i] = c;
        m->has[i] = true;
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---- exposition -------------------------------------------------------- */

static void put_double(vx_buf *b, double v)
{
    if (isnan(v))
        vx_buf_printf(b, "NaN");
    else if (isinf(v))
        vx_buf_printf(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        vx_buf_printf(b, "%.0f", v);
    else
        vx_buf_printf(b, "%.9g", v);
}

/* Label values: backslash, double quote and newline are escaped. */
static void put_label(vx_buf *b, const char *name, const char *value, bool first)
{
    vx_buf_printf(b, "%s%s=\"", first ? "" : ",", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"') {
            vx_buf_putc(b, '\\');
            vx_buf_putc(b, (unsigned char)*p);
        } else if (*p == '\n')
            vx_buf_append(b, "\\n", 2);
        else
            vx_buf_putc(b, (unsigned char)*p);
    }
    vx_buf_putc(b, '"');
}

static void header(vx_buf *b, const char *name, const char *type, const char *help)
{
    vx_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram series; labels is the rendered "k=\"v\",k2=\"v2\"" text. */
static uint64_t put_hist(vx_buf *b, const char *name, const char *labels, hist *h)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= N_BOUNDS; i++) {
        cum += atomic_load_explicit(&h->b[i], memory_order_relaxed);
        vx_buf_printf(b, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels,
                      i < N_BOUNDS ? bound_txt[i] : "+Inf", (unsigned long long)cum);
    }
    double sum = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
    vx_buf_printf(b, "%s_sum{%s} ", name, labels);
    put_double(b, sum);
    vx_buf_printf(b, "\n%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
    return cum;
}

static uint64_t hist_total(hist *h)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= N_BOUNDS; i++)
        n += atomic_load_explicit(&h->b[i], memory_order_relaxed);
    return n;
}

static void series_labels(vx_buf *lb, const series *s)
{
    vx_buf_reset(lb);
    put_label(lb, "route", s->pattern, true);
    put_label(lb, "method", s->method, false);
    vx_buf_terminate(lb);
}

static void render_http(metrics *m, vx_buf *b, vx_buf *lb)
{
    size_t n_all = m->n_routes + N_UNMATCHED;
    header(b, "vectron_http_requests_total", "counter",
           "HTTP requests answered, by route pattern, method and status code.");
    for (size_t i = 0; i < n_all; i++) {
        series *s = i < m->n_routes ? &m->routes[i] : &m->unmatched[i - m->n_routes];
        series_labels(lb, s);
        for (int c = 0; c < N_CODES; c++) {
            uint64_t v = atomic_load_explicit(&s->codes[c], memory_order_relaxed);
            if (v)
                vx_buf_printf(b, "vectron_http_requests_total{%s,code=\"%d\"} %llu\n",
                              (const char *)lb->data, c + 100, (unsigned long long)v);
        }
    }
    header(b, "vectron_http_request_duration_seconds", "histogram",
           "Time from routing a request to its answer, by route pattern and method.");
    for (size_t i = 0; i < n_all; i++) {
        bool unmatched = i >= m->n_routes;
        series *s = unmatched ? &m->unmatched[i - m->n_routes] : &m->routes[i];
        if (unmatched && hist_total(&s->lat) == 0)
            continue; /* registered routes are always shown, even at zero */
        series_labels(lb, s);
        put_hist(b, "vectron_http_request_duration_seconds", (const char *)lb->data, &s->lat);
    }
    header(b, "vectron_http_requests_in_flight", "gauge", "HTTP requests being served now.");
    vx_buf_printf(b, "vectron_http_requests_in_flight %lld\n",
                  (long long)atomic_load_explicit(&m->in_flight, memory_order_relaxed));
}

static void render_upstream(metrics *m, vx_buf *b, vx_buf *lb)
{
    header(b, "vectron_upstream_requests_total", "counter",
           "Message-bus calls from the gateway, by service, operation and result.");
    for (int s = 0; s < N_SVCS; s++)
        for (size_t op = 0; op < N_OPS; op++)
            for (size_t e = 0; e < N_ERRS; e++) {
                uint64_t v = atomic_load_explicit(&m->up_calls[s][op][e], memory_order_relaxed);
                if (!v)
                    continue;
                vx_buf_printf(b,
                              "vectron_upstream_requests_total{service=\"%s\",op=\"%s\","
                              "status=\"%s\"} %llu\n",
                              svc_names[s], vx_msg_name(msg_codes[op]), vx_errname(err_codes[e]),
                              (unsigned long long)v);
            }
    header(b, "vectron_upstream_request_duration_seconds", "histogram",
           "Round-trip time of message-bus calls, by service and operation.");
    for (int s = 0; s < N_SVCS; s++)
        for (size_t op = 0; op < N_OPS; op++) {
            if (hist_total(&m->up_lat[s][op]) == 0)
                continue;
            vx_buf_reset(lb);
            put_label(lb, "service", svc_names[s], true);
            put_label(lb, "op", vx_msg_name(msg_codes[op]), false);
            vx_buf_terminate(lb);
            put_hist(b, "vectron_upstream_request_duration_seconds", (const char *)lb->data,
                     &m->up_lat[s][op]);
        }
}

/* Caller holds m->mu. */
static void render_services(metrics *m, vx_buf *b)
{
    header(b, "vectron_service_up", "gauge",
           "1 when the service answered the gateway's last HEALTH call, else 0.");
    for (int s = 0; s < N_SVCS; s++)
        if (m->svc_up[s] >= 0)
            vx_buf_printf(b, "vectron_service_up{service=\"%s\"} %d\n", svc_names[s],
                          m->svc_up[s]);
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const stat_family *f = &families[i];
        if (!m->has[i])
            continue;
        header(b, f->name, f->type, f->help);
        if (f->count_key) {
            vx_buf_printf(b, "%s_sum ", f->name);
            put_double(b, m->val[i]);
            vx_buf_printf(b, "\n%s_count ", f->name);
            put_double(b, m->cnt[i]);
        } else {
            vx_buf_printf(b, "%s ", f->name);
            put_double(b, m->val[i]);
        }
        vx_buf_putc(b, '\n');
    }
}

void metrics_render(metrics *m, vx_buf *out)
{
    vx_buf lb = VX_BUF_INIT;
    render_http(m, out, &lb);
    render_upstream(m, out, &lb);
    pthread_mutex_lock(&m->mu);
    render_services(m, out);
    pthread_mutex_unlock(&m->mu);
    vx_buf_free(&lb);
}
