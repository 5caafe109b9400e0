/*
 * metrics_test.c — renders the registry and parses the text back with a
 * small strict parser of the Prometheus exposition format (HELP/TYPE once
 * per family and before its samples, metric and label name syntax, label
 * escapes, float values, no duplicate series), then checks that the
 * numbers add up: per-code counters, cumulative buckets, +Inf == _count,
 * _sum, in-flight, upstream calls, HEALTH imports, and exact totals when
 * four threads observe while another renders.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_err.h"
#include "vx_proto.h"
#include "vx_test.h"

/* ---- a tiny exposition parser ----------------------------------------- */

#define MAX_SAMPLES 4096

typedef struct sample {
    char name[128];
    char labels[512]; /* decoded, "k=v;k=v;" in input order */
    double value;
} sample;

typedef struct family {
    char name[128];
    char type[16];
    int has_help, has_type, n_samples;
} family;

typedef struct expo {
    sample s[MAX_SAMPLES];
    int n;
    family f[256];
    int nf;
    char err[256];
} expo;

static bool name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static family *fam(expo *e, const char *name, size_t n, bool create)
{
    for (int i = 0; i < e->nf; i++)
        if (strlen(e->f[i].name) == n && memcmp(e->f[i].name, name, n) == 0)
            return &e->f[i];
    if (!create || e->nf == 256)
        return NULL;
    family *f = &e->f[e->nf++];
    memset(f, 0, sizeof(*f));
    memcpy(f->name, name, n);
    return f;
}

/* The family a sample belongs to, by the declared TYPEs. */
static family *family_of(expo *e, const char *name)
{
    size_t n = strlen(name);
    family *f = fam(e, name, n, false);
    if (f)
        return f;
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(name + n - k, suffixes[i]) == 0) {
            f = fam(e, name, n - k, false);
            if (f && (strcmp(f->type, "histogram") == 0 ||
                      (strcmp(f->type, "summary") == 0 && i > 0)))
                return f;
        }
    }
    return NULL;
}

static int parse_fail(expo *e, int line, const char *why)
{
    snprintf(e->err, sizeof(e->err), "line %d: %s", line, why);
    return -1;
}

static int parse(expo *e, const char *text)
{
    memset(e, 0, sizeof(*e));
    const char *p = text;
    int line = 0;
    while (*p) {
        line++;
        const char *eol = strchr(p, '\n');
        if (!eol)
            return parse_fail(e, line, "last line lacks a newline");
        if (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0) {
            bool help = p[2] == 'H';
            const char *nm = p + 7, *sp = memchr(nm, ' ', (size_t)(eol - nm));
            if (!sp || !name_ok(nm, (size_t)(sp - nm)))
                return parse_fail(e, line, "bad HELP/TYPE name");
            family *f = fam(e, nm, (size_t)(sp - nm), true);
            if (!f)
                return parse_fail(e, line, "too many families");
            if (f->n_samples)
                return parse_fail(e, line, "HELP/TYPE after samples");
            if (help) {
                if (f->has_help++)
                    return parse_fail(e, line, "second HELP");
            } else {
                size_t tl = (size_t)(eol - sp - 1);
                if (f->has_type++ || tl >= sizeof(f->type))
                    return parse_fail(e, line, "second or bad TYPE");
                memcpy(f->type, sp + 1, tl);
                if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") &&
                    strcmp(f->type, "histogram") && strcmp(f->type, "summary"))
                    return parse_fail(e, line, "unknown TYPE");
            }
            p = eol + 1;
            continue;
        }
        if (*p == '#' || p == eol)
            return parse_fail(e, line, "unexpected comment or blank line");
        if (e->n == MAX_SAMPLES)
            return parse_fail(e, line, "too many samples");
        sample *s = &e->s[e->n];
        memset(s, 0, sizeof(*s));
        const char *q = p;
        while (q < eol && *q != '{' && *q != ' ')
            q++;
        if (!name_ok(p, (size_t)(q - p)) || (size_t)(q - p) >= sizeof(s->name))
            return parse_fail(e, line, "bad metric name");
        memcpy(s->name, p, (size_t)(q - p));
        size_t lo = 0;
        if (*q == '{') {
            q++;
            while (*q != '}') {
                const char *eq = strchr(q, '=');
                if (!eq || eq > eol || !name_ok(q, (size_t)(eq - q)) || eq[1] != '"')
                    return parse_fail(e, line, "bad label name");
                lo += (size_t)snprintf(s->labels + lo, sizeof(s->labels) - lo, "%.*s=",
                                       (int)(eq - q), q);
                q = eq + 2;
                while (*q != '"') {
                    if (q >= eol)
                        return parse_fail(e, line, "unterminated label value");
                    char c = *q++;
                    if (c == '\\') {
                        c = *q++;
                        if (c == 'n')
                            c = '\n';
                        else if (c != '\\' && c != '"')
                            return parse_fail(e, line, "bad escape");
                    }
                    if (lo + 2 < sizeof(s->labels))
                        s->labels[lo++] = c;
                }
                q++;
                if (lo + 2 < sizeof(s->labels))
                    s->labels[lo++] = ';';
                if (*q == ',')
                    q++;
                else if (*q != '}')
                    return parse_fail(e, line, "expected , or }");
            }
            q++;
        }
        if (*q != ' ')
            return parse_fail(e, line, "expected a space before the value");
        q++;
        char *end;
        if (strncmp(q, "+Inf", 4) == 0) {
            s->value = INFINITY;
            end = (char *)q + 4;
        } else {
            s->value = strtod(q, &end);
        }
        if (end == q || end != eol)
            return parse_fail(e, line, "bad value (or a timestamp)");
        family *f = family_of(e, s->name);
        if (!f || !f->has_type || !f->has_help)
            return parse_fail(e, line, "sample without HELP and TYPE before it");
        f->n_samples++;
        for (int i = 0; i < e->n; i++)
            if (strcmp(e->s[i].name, s->name) == 0 && strcmp(e->s[i].labels, s->labels) == 0)
                return parse_fail(e, line, "duplicate series");
        e->n++;
        p = eol + 1;
    }
    return 0;
}

/* Value of the sample with exactly these decoded labels; NAN when absent. */
static double get(const expo *e, const char *name, const char *labels)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->s[i].name, name) == 0 && strcmp(e->s[i].labels, labels) == 0)
            return e->s[i].value;
    return NAN;
}

/* Every histogram: buckets ascend in le, counts never decrease, the last
 * is +Inf and equals _count. */
static int check_histograms(const expo *e, char *why, size_t wl)
{
    for (int i = 0; i < e->n; i++) {
        const sample *s = &e->s[i];
        size_t n = strlen(s->name);
        if (n < 7 || strcmp(s->name + n - 7, "_bucket") != 0)
            continue;
        if (i + 1 < e->n && strcmp(e->s[i + 1].name, s->name) == 0)
            continue; /* check at the last bucket of a series */
        const char *le = strstr(s->labels, "le=");
        if (!le || strcmp(le, "le=+Inf;") != 0) {
            snprintf(why, wl, "%.80s{%.100s}: last bucket is not +Inf", s->name, s->labels);
            return -1;
        }
        for (int j = i; j > 0 && strcmp(e->s[j - 1].name, s->name) == 0; j--) {
            if (e->s[j - 1].value > e->s[j].value) {
                snprintf(why, wl, "%.80s{%.100s}: buckets decrease", s->name, e->s[j].labels);
                return -1;
            }
        }
        char base[128], cname[160], labels[512];
        snprintf(base, sizeof(base), "%.*s", (int)(n - 7), s->name);
        snprintf(cname, sizeof(cname), "%s_count", base);
        snprintf(labels, sizeof(labels), "%.*s", (int)(le - s->labels), s->labels);
        double c = get(e, cname, labels);
        if (c != s->value) {
            snprintf(why, wl, "%.80s{%.100s}: +Inf %g != _count %g", base, labels, s->value, c);
            return -1;
        }
    }
    return 0;
}

static expo *render_parse(metrics *m)
{
    static expo e;
    vx_buf b = VX_BUF_INIT;
    metrics_render(m, &b);
    vx_buf_terminate(&b);
    int rc = parse(&e, (const char *)b.data);
    if (rc)
        fprintf(stderr, "exposition rejected: %s\n%s", e.err, (const char *)b.data);
    vx_buf_free(&b);
    return rc ? NULL : &e;
}

/* ---- tests -------------------------------------------------------------- */

static metrics *mk(void)
{
    metrics *m = NULL;
    if (metrics_create(&m) != VX_OK)
        return NULL;
    metrics_add_route(m, "GET", "/health");
    metrics_add_route(m, "GET", "/collections/{name}");
    metrics_add_route(m, "POST", "/collections/{name}/search");
    return m;
}

TEST(metrics_requests_by_route_method_code)
{
    metrics *m = mk();
    ASSERT(m);
    for (int i = 0; i < 5; i++)
        metrics_observe_request(m, "GET", "/collections/{name}", 200, 0.002);
    metrics_observe_request(m, "GET", "/collections/{name}", 404, 0.0004);
    metrics_observe_request(m, "POST", "/collections/{name}/search", 429, 0.00001);
    metrics_observe_request(m, "GET", NULL, 404, 0.0001);   /* no route matched */
    metrics_observe_request(m, "BREW", NULL, 405, 0.0001);  /* odd method */
    metrics_observe_request(m, "PUT", "/health", 405, 0.0); /* unregistered pair */
    metrics_observe_request(m, "GET", "/health", 1000, -1); /* nonsense in, sane out */
    expo *e = render_parse(m);
    ASSERT(e);
    const char *n = "vectron_http_requests_total";
    ASSERT_EQ_INT(get(e, n, "route=/collections/{name};method=GET;code=200;"), 5);
    ASSERT_EQ_INT(get(e, n, "route=/collections/{name};method=GET;code=404;"), 1);
    ASSERT_EQ_INT(get(e, n, "route=/collections/{name}/search;method=POST;code=429;"), 1);
    ASSERT_EQ_INT(get(e, n, "route=unmatched;method=GET;code=404;"), 1);
    ASSERT_EQ_INT(get(e, n, "route=unmatched;method=other;code=405;"), 1);
    ASSERT_EQ_INT(get(e, n, "route=unmatched;method=PUT;code=405;"), 1);
    ASSERT_EQ_INT(get(e, n, "route=/health;method=GET;code=500;"), 1);
    ASSERT(isnan(get(e, n, "route=/health;method=GET;code=200;"))); /* zero codes omitted */
    /* Latency histogram of GET /collections/{name}: 0.002 ×5 and 0.0004. */
    const char *h = "vectron_http_request_duration_seconds";
    const char *lab = "route=/collections/{name};method=GET;";
    char l[256];
    snprintf(l, sizeof(l), "%sle=0.00025;", lab);
    ASSERT_EQ_INT(get(e, "vectron_http_request_duration_seconds_bucket", l), 0);
    snprintf(l, sizeof(l), "%sle=0.0005;", lab);
    ASSERT_EQ_INT(get(e, "vectron_http_request_duration_seconds_bucket", l), 1);
    snprintf(l, sizeof(l), "%sle=0.001;", lab);
    ASSERT_EQ_INT(get(e, "vectron_http_request_duration_seconds_bucket", l), 1);
    snprintf(l, sizeof(l), "%sle=0.0025;", lab);
    ASSERT_EQ_INT(get(e, "vectron_http_request_duration_seconds_bucket", l), 6);
    snprintf(l, sizeof(l), "%sle=+Inf;", lab);
    ASSERT_EQ_INT(get(e, "vectron_http_request_duration_seconds_bucket", l), 6);
    char nm[128];
    snprintf(nm, sizeof(nm), "%s_count", h);
    ASSERT_EQ_INT(get(e, nm, lab), 6);
    snprintf(nm, sizeof(nm), "%s_sum", h);
    ASSERT_NEAR(get(e, nm, lab), 5 * 0.002 + 0.0004, 1e-8);
    /* Registered routes show a zero histogram; the nonsense latency became 0. */
    snprintf(nm, sizeof(nm), "%s_count", h);
    ASSERT_EQ_INT(get(e, nm, "route=/health;method=GET;"), 1);
    ASSERT_EQ_INT(get(e, "vectron_http_request_duration_seconds_bucket",
                      "route=/health;method=GET;le=0.0001;"),
                  1);
    char why[256] = "";
    ASSERT_MSG(check_histograms(e, why, sizeof(why)) == 0, "%s", why);
    /* Counter total == histogram total over all series. */
    double total_c = 0, total_h = 0;
    for (int i = 0; i < e->n; i++) {
        if (strcmp(e->s[i].name, n) == 0)
            total_c += e->s[i].value;
        if (strcmp(e->s[i].name, "vectron_http_request_duration_seconds_count") == 0)
            total_h += e->s[i].value;
    }
    ASSERT_EQ_INT(total_c, 11);
    ASSERT_EQ_INT(total_h, 11);
    metrics_destroy(m);
}

TEST(metrics_in_flight_and_upstream)
{
    metrics *m = mk();
    ASSERT(m);
    metrics_request_begin(m);
    metrics_request_begin(m);
    metrics_request_begin(m);
    metrics_request_end(m);
    metrics_observe_upstream(m, METRICS_STORE, VX_MSG_SEARCH, VX_OK, 0.0002);
    metrics_observe_upstream(m, METRICS_STORE, VX_MSG_SEARCH, VX_OK, 0.0003);
    metrics_observe_upstream(m, METRICS_STORE, VX_MSG_SEARCH, VX_ERR_NOT_FOUND, 0.0001);
    metrics_observe_upstream(m, METRICS_EMBED, VX_MSG_EMBED, VX_ERR_TIMEOUT, 30);
    metrics_observe_upstream(m, METRICS_EMBED, VX_MSG_EMBED, -12345, 0.001); /* unknown code */
    metrics_observe_upstream(m, METRICS_EMBED, 9999, VX_OK, 0.001);          /* ignored */
    expo *e = render_parse(m);
    ASSERT(e);
    ASSERT_EQ_INT(get(e, "vectron_http_requests_in_flight", ""), 2);
    const char *n = "vectron_upstream_requests_total";
    ASSERT_EQ_INT(get(e, n, "service=store;op=search;status=ok;"), 2);
    ASSERT_EQ_INT(get(e, n, "service=store;op=search;status=not_found;"), 1);
    ASSERT_EQ_INT(get(e, n, "service=embed;op=embed;status=backend_timeout;"), 1);
    ASSERT_EQ_INT(get(e, n, "service=embed;op=embed;status=internal_error;"), 1);
    ASSERT_EQ_INT(get(e, "vectron_upstream_request_duration_seconds_count",
                      "service=store;op=search;"),
                  3);
    ASSERT_EQ_INT(get(e, "vectron_upstream_request_duration_seconds_bucket",
                      "service=store;op=search;le=0.00025;"),
                  2);
    ASSERT_EQ_INT(get(e, "vectron_upstream_request_duration_seconds_bucket",
                      "service=embed;op=embed;le=10;"),
                  1);
    ASSERT_EQ_INT(get(e, "vectron_upstream_request_duration_seconds_bucket",
                      "service=embed;op=embed;le=+Inf;"),
                  2);
    char why[256] = "";
    ASSERT_MSG(check_histograms(e, why, sizeof(why)) == 0, "%s", why);
    metrics_destroy(m);
}

static void member(vx_member *mb, const char *key, vx_value_type t, double v)
{
    mb->key = key;
    mb->key_len = (uint32_t)strlen(key);
    mb->value.type = t;
    if (t == VX_VAL_INT)
        mb->value.u.i = (int64_t)v;
    else
        mb->value.u.d = v;
}

TEST(metrics_health_import_and_service_down)
{
    metrics *m = mk();
    ASSERT(m);
    vx_member sm[6], em[5];
    member(&sm[0], "collections", VX_VAL_INT, 3);
    member(&sm[1], "points", VX_VAL_INT, 12345);
    member(&sm[2], "memory_bytes", VX_VAL_INT, 987654321);
    member(&sm[3], "wal_fsyncs", VX_VAL_INT, 40);
    member(&sm[4], "wal_fsync_ns_total", VX_VAL_INT, 2000000000); /* 2 s */
    sm[5].key = "points_note"; /* a string: ignored */
    sm[5].key_len = 11;
    sm[5].value.type = VX_VAL_STRING;
    sm[5].value.u.str.ptr = "x";
    sm[5].value.u.str.len = 1;
    vx_value store = {.type = VX_VAL_OBJECT, .u.obj = {sm, 6}};
    member(&em[0], "cache_hits", VX_VAL_INT, 7);
    member(&em[1], "cache_misses", VX_VAL_INT, 3);
    member(&em[2], "errors", VX_VAL_INT, 2);
    member(&em[3], "embed_requests", VX_VAL_INT, 10);
    member(&em[4], "embed_time_us", VX_VAL_DOUBLE, 1500000.0);
    vx_value embed = {.type = VX_VAL_OBJECT, .u.obj = {em, 5}};

    metrics_set_service_up(m, METRICS_STORE, true);
    metrics_import_health(m, METRICS_STORE, &store);
    metrics_set_service_up(m, METRICS_EMBED, true);
    metrics_import_health(m, METRICS_EMBED, &embed);
    metrics_import_health(m, METRICS_EMBED, NULL); /* harmless */
    expo *e = render_parse(m);
    ASSERT(e);
    ASSERT_EQ_INT(get(e, "vectron_service_up", "service=store;"), 1);
    ASSERT_EQ_INT(get(e, "vectron_service_up", "service=embed;"), 1);
    ASSERT_EQ_INT(get(e, "vectron_store_collections", ""), 3);
    ASSERT_EQ_INT(get(e, "vectron_store_points", ""), 12345);
    ASSERT_EQ_INT(get(e, "vectron_store_memory_bytes", ""), 987654321);
    ASSERT_NEAR(get(e, "vectron_store_wal_fsync_seconds_sum", ""), 2.0, 1e-9);
    ASSERT_EQ_INT(get(e, "vectron_store_wal_fsync_seconds_count", ""), 40);
    ASSERT(isnan(get(e, "vectron_store_wal_fsync_max_seconds", ""))); /* not reported */
    ASSERT_EQ_INT(get(e, "vectron_embed_cache_hits_total", ""), 7);
    ASSERT_EQ_INT(get(e, "vectron_embed_cache_misses_total", ""), 3);
    ASSERT_EQ_INT(get(e, "vectron_embed_errors_total", ""), 2);
    ASSERT_NEAR(get(e, "vectron_embed_compute_seconds_sum", ""), 1.5, 1e-9);
    ASSERT_EQ_INT(get(e, "vectron_embed_compute_seconds_count", ""), 10);
    /* The store goes down: its numbers vanish instead of going stale. */
    metrics_set_service_up(m, METRICS_STORE, false);
    e = render_parse(m);
    ASSERT(e);
    ASSERT_EQ_INT(get(e, "vectron_service_up", "service=store;"), 0);
    ASSERT(isnan(get(e, "vectron_store_points", "")));
    ASSERT(isnan(get(e, "vectron_store_wal_fsync_seconds_count", "")));
    ASSERT_EQ_INT(get(e, "vectron_embed_cache_hits_total", ""), 7);
    metrics_destroy(m);
}

TEST(metrics_label_escaping_round_trips)
{
    metrics *m = NULL;
    ASSERT_EQ_INT(metrics_create(&m), VX_OK);
    const char *odd = "/we\"ird\\path\nx";
    ASSERT_EQ_INT(metrics_add_route(m, "GET", odd), VX_OK);
    metrics_observe_request(m, "GET", odd, 200, 0.01);
    expo *e = render_parse(m);
    ASSERT(e);
    char want[128];
    snprintf(want, sizeof(want), "route=%s;method=GET;code=200;", odd);
    ASSERT_EQ_INT(get(e, "vectron_http_requests_total", want), 1);
    metrics_destroy(m);
}

TEST(metrics_route_registration_rules)
{
    metrics *m = NULL;
    ASSERT_EQ_INT(metrics_create(&m), VX_OK);
    static char names[METRICS_MAX_ROUTES][32];
    for (int i = 0; i < METRICS_MAX_ROUTES; i++) {
        snprintf(names[i], sizeof(names[i]), "/r%d", i);
        ASSERT_EQ_INT(metrics_add_route(m, "GET", names[i]), VX_OK);
    }
    ASSERT_EQ_INT(metrics_add_route(m, "GET", "/r0"), VX_ERR_CONFLICT);
    ASSERT_EQ_INT(metrics_add_route(m, "GET", "/one-too-many"), VX_ERR_LIMIT);
    ASSERT_EQ_INT(metrics_add_route(m, "", "/x"), VX_ERR_INVALID);
    ASSERT_EQ_INT(metrics_add_route(m, "GET", NULL), VX_ERR_INVALID);
    /* A full registry still renders a valid exposition. */
    ASSERT(render_parse(m) != NULL);
    metrics_destroy(m);
}

typedef struct {
    metrics *m;
    int id;
} th_arg;

static void *observer(void *p)
{
    th_arg *a = p;
    for (int i = 0; i < 20000; i++) {
        metrics_request_begin(a->m);
        metrics_observe_request(a->m, "POST", "/collections/{name}/search", i % 2 ? 200 : 503,
                                (double)(i % 100) / 1000.0);
        metrics_observe_upstream(a->m, METRICS_STORE, VX_MSG_SEARCH, VX_OK, 0.0001);
        metrics_request_end(a->m);
    }
    return NULL;
}

static void *renderer(void *p)
{
    th_arg *a = p;
    static expo e; /* one renderer thread only */
    for (int i = 0; i < 20; i++) {
        vx_buf b = VX_BUF_INIT;
        metrics_render(a->m, &b);
        vx_buf_terminate(&b);
        char why[256];
        if (parse(&e, (const char *)b.data) != 0 || check_histograms(&e, why, sizeof(why)) != 0)
            a->id = -1; /* an inconsistent exposition mid-flight */
        vx_buf_free(&b);
    }
    return NULL;
}

TEST(metrics_threads_add_up)
{
    metrics *m = mk();
    ASSERT(m);
    pthread_t th[5];
    th_arg args[5];
    for (int i = 0; i < 5; i++) {
        args[i] = (th_arg){m, i};
        pthread_create(&th[i], NULL, i < 4 ? observer : renderer, &args[i]);
    }
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    ASSERT_MSG(args[4].id == 4, "a render during updates was invalid");
    expo *e = render_parse(m);
    ASSERT(e);
    const char *lab = "route=/collections/{name}/search;method=POST;";
    char l[200];
    snprintf(l, sizeof(l), "%scode=200;", lab);
    ASSERT_EQ_INT(get(e, "vectron_http_requests_total", l), 40000);
    snprintf(l, sizeof(l), "%scode=503;", lab);
    ASSERT_EQ_INT(get(e, "vectron_http_requests_total", l), 40000);
    ASSERT_EQ_INT(get(e, "vectron_http_request_duration_seconds_count", lab), 80000);
    /* sum of (i % 100) ms over 20000 i, ×4 threads = 4 × 200 × 4.95 s */
    ASSERT_NEAR(get(e, "vectron_http_request_duration_seconds_sum", lab), 3960.0, 1e-3);
    ASSERT_EQ_INT(get(e, "vectron_http_requests_in_flight", ""), 0);
    ASSERT_EQ_INT(get(e, "vectron_upstream_requests_total", "service=store;op=search;status=ok;"),
                  80000);
    metrics_destroy(m);
}
