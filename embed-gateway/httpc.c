/*
 * httpc.c — libcurl adapter (see httpc.h for the contract). The only file
 * of the project that includes <curl/curl.h>.
 *
 * Invariants: an easy handle is used by one thread at a time (borrowed from
 * the pool under its mutex, returned after the transfer); every transfer
 * starts from curl_easy_reset (which keeps the handle's connection and TLS
 * session caches) and sets every option it relies on; header values are
 * never copied into logs or error messages; CURLOPT_VERBOSE is never set.
 */
#include "httpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vx_clock.h"
#include "vx_err.h"
#include "vx_log.h"

#define HTTPC_POOL_KEEP 16 /* idle handles kept per pool */

struct httpc_pool {
    char *name;
    char *ca_file; /* NULL = system default */
    httpc_options opt;
    pthread_mutex_t mu;
    CURL *idle[HTTPC_POOL_KEEP];
    int n_idle;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_rc = VX_OK;

static void global_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        g_init_rc = VX_ERR_INTERNAL;
}

int httpc_global_init(void)
{
    pthread_once(&g_once, global_init_once);
    return g_init_rc;
}

static void fill_defaults(httpc_options *o)
{
    if (!o->connect_timeout_ms)
        o->connect_timeout_ms = HTTPC_DEFAULT_CONNECT_TIMEOUT_MS;
    if (!o->timeout_ms)
        o->timeout_ms = HTTPC_DEFAULT_TIMEOUT_MS;
    if (!o->max_response_bytes)
        o->max_response_bytes = HTTPC_DEFAULT_MAX_RESPONSE;
    if (!o->max_attempts)
        o->max_attempts = HTTPC_DEFAULT_MAX_ATTEMPTS;
    if (!o->backoff_base_ms)
        o->backoff_base_ms = HTTPC_DEFAULT_BACKOFF_BASE_MS;
    if (!o->backoff_max_ms)
        o->backoff_max_ms = HTTPC_DEFAULT_BACKOFF_MAX_MS;
    if (!o->retry_after_max_ms)
        o->retry_after_max_ms = HTTPC_DEFAULT_RETRY_AFTER_MAX_MS;
}

int httpc_pool_create(httpc_pool **out, const char *name, const httpc_options *opt)
{
    *out = NULL;
    int rc = httpc_global_init();
    if (rc != VX_OK)
        return rc;
    httpc_pool *p = calloc(1, sizeof *p);
    if (!p)
        return VX_ERR_NOMEM;
    p->opt = opt ? *opt : (httpc_options){0};
    fill_defaults(&p->opt);
    p->name = strdup(name ? name : "http");
    p->ca_file = opt && opt->ca_file && *opt->ca_file ? strdup(opt->ca_file) : NULL;
    p->opt.ca_file = p->ca_file;
    if (!p->name || (opt && opt->ca_file && *opt->ca_file && !p->ca_file)) {
        free(p->name);
        free(p->ca_file);
        free(p);
        return VX_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    *out = p;
    return VX_OK;
}

void httpc_pool_destroy(httpc_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_idle; i++)
        curl_easy_cleanup(p->idle[i]);
    pthread_mutex_destroy(&p->mu);
    free(p->name);
    free(p->ca_file);
    free(p);
}

static CURL *borrow(httpc_pool *p)
{
    CURL *h = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->n_idle > 0)
        h = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->mu);
    return h ? h : curl_easy_init();
}

static void give_back(httpc_pool *p, CURL *h)
{
    pthread_mutex_lock(&p->mu);
    if (p->n_idle < HTTPC_POOL_KEEP) {
        p->idle[p->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (h)
        curl_easy_cleanup(h);
}

uint32_t httpc_backoff_ms(const httpc_options *opt, uint32_t attempt, unsigned *seed)
{
    httpc_options o = *opt;
    fill_defaults(&o);
    uint64_t d = o.backoff_base_ms;
    for (uint32_t i = 1; i < attempt && d < o.backoff_max_ms; i++)
        d *= 2;
    if (d > o.backoff_max_ms)
        d = o.backoff_max_ms;
    uint64_t half = d / 2;
    return (uint32_t)(half + (uint64_t)rand_r(seed) % (d - half + 1));
}

long httpc_parse_retry_after(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v < '0' || *v > '9')
        return -1;
    long secs = 0;
    while (*v >= '0' && *v <= '9') {
        if (secs > 86400)
            return -1;
        secs = secs * 10 + (*v++ - '0');
    }
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    return *v ? -1 : secs * 1000;
}

typedef struct xfer {
    vx_buf *body;
    size_t limit;
    bool oversize;
    long retry_after_ms; /* -1 = none */
} xfer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    if (x->body->len + n > x->limit) {
        x->oversize = true;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    vx_buf_append(x->body, ptr, n);
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && n < 128 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
        char v[128];
        memcpy(v, ptr + sizeof name - 1, n - (sizeof name - 1));
        v[n - (sizeof name - 1)] = '\0';
        x->retry_after_ms = httpc_parse_retry_after(v);
    } else if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        x->retry_after_ms = -1; /* a new response (status line) starts */
    }
    return n;
}

static bool retryable_status(long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static bool retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static void setf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setf(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* One transfer. Returns the CURLcode; fills resp->status / body. */
static CURLcode attempt_once(httpc_pool *p, CURL *h, const httpc_request *req, struct curl_slist *hdrs,
                             uint32_t timeout_ms, xfer *x, long *status, char *cerr)
{
    curl_easy_reset(h);
    cerr[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, p->opt.allow_http ? "https,http" : "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (p->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(p->opt.connect_timeout_ms < timeout_ms ? p->opt.connect_timeout_ms : timeout_ms));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->opt.max_response_bytes);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vectron-embed/0.1");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    CURLcode c = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    return c;
}

int httpc_post(httpc_pool *p, const httpc_request *req, httpc_response *resp, char *err, size_t err_len)
{
    static __thread unsigned seed;
    if (!seed)
        seed = (unsigned)vx_now_ns() ^ (unsigned)(uintptr_t)&seed;
    resp->status = 0;
    resp->attempts = 0;
    vx_buf_reset(&resp->body);
    if (!req->url || (strncmp(req->url, "https://", 8) != 0 &&
                      !(p->opt.allow_http && strncmp(req->url, "http://", 7) == 0))) {
        setf(err, err_len, "%s: only https:// base URLs are allowed", p->name);
        return VX_ERR_INVALID;
    }
    struct curl_slist *hdrs = NULL, *t;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (hdrs && (t = curl_slist_append(hdrs, "Expect:")))
        hdrs = t;
    for (int i = 0; hdrs && i < HTTPC_MAX_HEADERS && req->headers[i]; i++)
        if ((t = curl_slist_append(hdrs, req->headers[i])))
            hdrs = t;
    CURL *h = borrow(p);
    if (!hdrs || !h) {
        curl_slist_free_all(hdrs);
        if (h)
            curl_easy_cleanup(h);
        return VX_ERR_NOMEM;
    }
    int rc = VX_ERR_UPSTREAM;
    char cerr[CURL_ERROR_SIZE + 1];
    for (uint32_t attempt = 0;; attempt++) {
        uint64_t now = vx_now_us();
        uint32_t tmo = p->opt.timeout_ms;
        if (req->deadline_us) {
            if (now >= req->deadline_us) {
                setf(err, err_len, "%s: request deadline passed before attempt %u", p->name, attempt + 1);
                rc = VX_ERR_TIMEOUT;
                break;
            }
            uint64_t left_ms = (req->deadline_us - now) / 1000u;
            if (left_ms < tmo)
                tmo = left_ms ? (uint32_t)left_ms : 1;
        }
        xfer x = {&resp->body, p->opt.max_response_bytes, false, -1};
        vx_buf_reset(&resp->body);
        long status = 0;
        CURLcode c = attempt_once(p, h, req, hdrs, tmo, &x, &status, cerr);
        resp->attempts = attempt + 1;
        resp->status = c == CURLE_OK ? status : 0;
        bool retry = false;
        if (c == CURLE_OK) {
            rc = VX_OK;
            retry = retryable_status(status);
        } else if (x.oversize || c == CURLE_FILESIZE_EXCEEDED) {
            setf(err, err_len, "%s: response larger than the limit of %zu bytes", p->name,
                 p->opt.max_response_bytes);
            rc = VX_ERR_UPSTREAM;
        } else if (c == CURLE_OPERATION_TIMEDOUT) {
            curl_off_t connected_us = 0;
            curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected_us);
            if (connected_us == 0) /* never connected: the connect timeout (or the deadline) ran out */
                setf(err, err_len, "%s: could not connect within %u ms (attempt %u)", p->name,
                     p->opt.connect_timeout_ms < tmo ? p->opt.connect_timeout_ms : tmo, attempt + 1);
            else
                setf(err, err_len, "%s: no complete response within %u ms (attempt %u)", p->name, tmo,
                     attempt + 1);
            rc = VX_ERR_TIMEOUT;
        } else if (c == CURLE_UNSUPPORTED_PROTOCOL || c == CURLE_URL_MALFORMAT) {
            setf(err, err_len, "%s: bad URL (%s)", p->name, curl_easy_strerror(c));
            rc = VX_ERR_INVALID;
        } else {
            setf(err, err_len, "%s: %s%s%s", p->name, curl_easy_strerror(c), cerr[0] ? ": " : "", cerr);
            rc = VX_ERR_UPSTREAM;
            retry = retryable_curl(c);
        }
        if (!retry || attempt + 1 >= p->opt.max_attempts)
            break;
        uint32_t delay = httpc_backoff_ms(&p->opt, attempt + 1, &seed);
        if (x.retry_after_ms > (long)p->opt.retry_after_max_ms) {
            VX_DEBUG("%s: not retrying: Retry-After asks for %ld ms", p->name, x.retry_after_ms);
            break; /* never retry sooner than the server asked */
        }
        if (x.retry_after_ms >= 0)
            delay = (uint32_t)x.retry_after_ms;
        if (req->deadline_us && vx_now_us() + (uint64_t)delay * 1000u >= req->deadline_us) {
            VX_DEBUG("%s: not retrying: a %u ms wait would pass the deadline", p->name, delay);
            break;
        }
        VX_DEBUG("%s: attempt %u failed (%s %ld), retrying in %u ms", p->name, attempt + 1,
                 c == CURLE_OK ? "HTTP" : curl_easy_strerror(c), status, delay);
        vx_sleep_ms(delay);
    }
    give_back(p, h);
    curl_slist_free_all(hdrs);
    return rc;
}
