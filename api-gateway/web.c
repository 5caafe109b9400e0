/*
 * web.c — civetweb 1.15 adapter (see web.h).
 *
 * Every request goes through civetweb's begin_request callback, which wraps
 * the connection in a web_req on the stack and calls the gateway's handler.
 * Options that matter (DEPS.md): tcp_nodelay=1 (else keep-alive stalls
 * ~44 ms), decode_url=no (ids may contain %2F), directory listing off, no
 * document root (no file serving), no CORS unless configured.
 * Invariant: a web_req is answered at most once (web_respond sets
 * responded; begin_request answers 500 if the handler forgot).
 *
 * Responses are written with ONE mg_write (status line, headers and body in
 * one buffer): civetweb's mg_response_header_* API sends every header line
 * with its own send(), i.e. one TCP segment each under tcp_nodelay, which
 * cost ~150 µs per request on loopback (docs/BENCHMARKS.md). Writing the raw
 * response from begin_request is civetweb's documented mode; the status is
 * handed back as begin_request's return value (civetweb's access bookkeeping).
 * The Connection header mirrors civetweb's own keep-alive decision (HTTP/1.1
 * without "Connection: close", or an explicit keep-alive; never after 401,
 * where civetweb always closes).
 */
#include "web.h"

#include <civetweb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vx_err.h"
#include "vx_log.h"

struct web_server {
    struct mg_context *ctx;
    int request_timeout_ms; /* also the bound on reading one request body */
    web_handler handler;
    void *arg;
    char cors[256];
    int port;
};

struct web_req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    web_server *srv;
    bool responded;
    int status;
};

/* Framing civetweb 1.15 accepts but RFC 9112 says to reject: both
 * Content-Length and Transfer-Encoding, or Content-Length twice (request
 * smuggling), and more headers than civetweb keeps (it silently drops those
 * past its 64th). Returns the status to answer with, 0 when fine. */
static int web_bad_framing(const struct mg_request_info *ri, const char **why)
{
    int n_cl = 0, n_te = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        if (strcasecmp(ri->http_headers[i].name, "Content-Length") == 0)
            n_cl++;
        else if (strcasecmp(ri->http_headers[i].name, "Transfer-Encoding") == 0)
            n_te++;
    }
    if (ri->num_headers >= WEB_MAX_HEADERS) {
        *why = "too many request headers";
        return 431;
    }
    if (n_cl > 1 || (n_cl && n_te) || n_te > 1) {
        *why = "ambiguous message framing (Content-Length with Transfer-Encoding, or repeated)";
        return 400;
    }
    return 0;
}

/* Makes civetweb close the connection after this request. civetweb 1.15
 * decides keep-alive from the request's own Connection header (and from a
 * flag only its text/plain error page sets), and its public API has no
 * "close after this response"; so the request's Connection header (civetweb's
 * writable copy; ri is const only in the API) is made to say "close". Used
 * only on requests answered with an error. */
static void web_force_close(const struct mg_request_info *ri)
{
    struct mg_request_info *w = (struct mg_request_info *)ri;
    for (int i = 0; i < w->num_headers; i++)
        if (strcasecmp(w->http_headers[i].name, "Connection") == 0) {
            w->http_headers[i].value = "close";
            return;
        }
    int at = w->num_headers < MG_MAX_HEADERS ? w->num_headers++ : MG_MAX_HEADERS - 1;
    w->http_headers[at].name = "Connection";
    w->http_headers[at].value = "close";
}

static int begin_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    web_server *s = ri->user_data;
    const char *why = NULL;
    int bad = web_bad_framing(ri, &why);
    if (bad) {
        /* RFC 9112 §6.3: answer, then close, so bytes after this request
         * are never parsed as another request. */
        web_force_close(ri);
        mg_send_http_error(conn, bad, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                           bad == 431 ? "request_header_fields_too_large" : "invalid_argument",
                           why);
        return bad;
    }
    web_req r = {conn, ri, s, false, 0};
    s->handler(s->arg, &r);
    if (!r.responded) {
        static const char body[] =
            "{\"error\":{\"code\":\"internal_error\",\"message\":\"no response\"}}";
        web_respond(&r, 500, "application/json", body, sizeof(body) - 1, NULL);
    }
    return r.status; /* handled; civetweb records it as the status */
}

/* A method token (letters, '-', '_') that civetweb 1.15 does not know:
 * civetweb answers those with 400 before any route is looked at. A method
 * it knows (the list below) in a 400 means the request was malformed in
 * some other way. */
static bool web_unknown_method(const char *m)
{
    static const char *const known[] = {"GET",  "HEAD",      "POST",  "PUT",  "DELETE",
                                        "OPTIONS", "CONNECT", "PATCH", "PROPFIND",
                                        "PROPPATCH", "MKCOL", "LOCK", "UNLOCK", "REPORT"};
    if (!m || !*m || strlen(m) > 32)
        return false;
    for (const char *p = m; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_'))
            return false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return false;
    return true;
}

/* civetweb's http_error callback: every error civetweb answers by itself
 * (a request it cannot parse, a method it does not know, an over-long URI
 * or header block, a bad Content-Length) and every mg_send_http_error of
 * this file gets a JSON body like the gateway's own errors (SPEC §3: errors
 * are always JSON) instead of civetweb's "Error 400: ..." text. A message
 * that is already JSON (this file's) is sent as it is. The response says
 * Connection: close. Returns 0: handled. */
static int web_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *method = ri ? ri->request_method : NULL;
    char body[512];
    const char *allow = NULL;
    if (errmsg && errmsg[0] == '{') {
        snprintf(body, sizeof body, "%s", errmsg);
    } else if (status == 400 && web_unknown_method(method)) {
        /* TRACE, BREW, "get" (methods are case-sensitive) */
        status = 405;
        allow = "GET, HEAD, POST, PUT, DELETE, OPTIONS";
        snprintf(body, sizeof body,
                 "{\"error\":{\"code\":\"method_not_allowed\",\"message\":"
                 "\"method: %s is not supported by this server (methods are case-sensitive)\"}}",
                 method);
    } else {
        const char *code = status == 408   ? "request_timeout"
                           : status == 411 ? "length_required"
                           : status == 413 ? "payload_too_large"
                           : status == 414 ? "uri_too_long"
                           : status == 431 ? "request_header_fields_too_large"
                           : status == 505 ? "http_version_not_supported"
                           : status >= 500 ? "internal_error"
                                           : "invalid_request";
        /* civetweb's own texts are fixed phrases ("Bad request",
         * "Malformed message", ...): no quotes or control characters */
        char msg[160];
        size_t j = 0;
        for (const char *p = errmsg ? errmsg : ""; *p && j + 1 < sizeof msg; p++)
            if (*p >= 0x20 && *p != '"' && *p != '\\')
                msg[j++] = *p;
        msg[j] = 0;
        snprintf(body, sizeof body,
                 "{\"error\":{\"code\":\"%s\",\"message\":\"request: %s\"}}", code,
                 j ? msg : "malformed HTTP request");
    }
    char head[384];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s%s%sConnection: close\r\n\r\n",
                     status, mg_get_response_code_text(conn, status), strlen(body),
                     allow ? "Allow: " : "", allow ? allow : "", allow ? "\r\n" : "");
    mg_write(conn, head, (size_t)n);
    mg_write(conn, body, strlen(body));
    return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    VX_WARN("http: %s", message);
    return 1;
}

int web_start(web_server **out, const web_options *opt, web_handler h, void *arg)
{
    *out = NULL;
    web_server *s = calloc(1, sizeof(*s));
    if (!s)
        return VX_ERR_NOMEM;
    s->handler = h;
    s->arg = arg;
    snprintf(s->cors, sizeof(s->cors), "%s", opt->cors_origin ? opt->cors_origin : "");
    s->request_timeout_ms = opt->request_timeout_ms;
    char ports[128], threads[16], timeout[16];
    snprintf(ports, sizeof(ports), "%s:%d", opt->bind, opt->port);
    snprintf(threads, sizeof(threads), "%d", opt->threads);
    snprintf(timeout, sizeof(timeout), "%d", opt->request_timeout_ms);
    const char *options[] = {"listening_ports", ports,
                             "num_threads", threads,
                             "request_timeout_ms", timeout,
                             "enable_keep_alive", "yes",
                             "keep_alive_timeout_ms", "5000",
                             "tcp_nodelay", "1",
                             "decode_url", "no",
                             "enable_directory_listing", "no",
                             "access_control_allow_origin", "",
                             NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.begin_request = begin_request;
    cb.log_message = log_message;
    cb.http_error = web_http_error;
    mg_init_library(0);
    s->ctx = mg_start(&cb, s, options);
    if (!s->ctx) {
        VX_ERROR("http: cannot listen on %s", ports);
        mg_exit_library();
        free(s);
        return VX_ERR_IO;
    }
    struct mg_server_port sp[4];
    int n = mg_get_server_ports(s->ctx, 4, sp);
    s->port = n > 0 ? sp[0].port : opt->port;
    *out = s;
    return VX_OK;
}

int web_port(const web_server *s) { return s->port; }

void web_stop(web_server *s)
{
    if (!s)
        return;
    mg_stop(s->ctx);
    mg_exit_library();
    free(s);
}

const char *web_method(const web_req *r) { return r->ri->request_method; }

const char *web_path(const web_req *r)
{
    return r->ri->local_uri_raw ? r->ri->local_uri_raw : r->ri->local_uri;
}

const char *web_query(const web_req *r) { return r->ri->query_string; }

const char *web_header(const web_req *r, const char *name)
{
    return mg_get_header(r->conn, name);
}

const char *web_remote_addr(const web_req *r) { return r->ri->remote_addr; }

int web_read_body(web_req *r, size_t limit, vx_buf *out)
{
    long long cl = r->ri->content_length;
    if (cl > 0 && (unsigned long long)cl > limit)
        return VX_ERR_TOO_LARGE;
    if (cl > 0)
        vx_buf_reserve(out, (size_t)cl);
    char tmp[16384];
    /* civetweb's request_timeout_ms bounds each read; a client trickling a
     * byte at a time would hold the thread forever, so the whole body gets
     * the same bound (slowloris). */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long long ms = (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (r->srv->request_timeout_ms > 0 && ms > r->srv->request_timeout_ms) {
            /* answered here, and the connection closed (the unread rest of
             * the body must not be waited for either) */
            web_force_close(r->ri);
            mg_send_http_error(r->conn, 408,
                               "{\"error\":{\"code\":\"request_timeout\",\"message\":"
                               "\"body: not received within %d ms\"}}",
                               r->srv->request_timeout_ms);
            r->responded = true;
            r->status = 408;
            return VX_ERR_TIMEOUT;
        }
        int n = mg_read(r->conn, tmp, sizeof(tmp));
        if (n < 0)
            return VX_ERR_IO;
        if (n == 0)
            break;
        if (out->len + (size_t)n > limit)
            return VX_ERR_TOO_LARGE;
        vx_buf_append(out, tmp, (size_t)n);
    }
    if (cl > 0 && out->len != (size_t)cl)
        return VX_ERR_IO; /* client went away mid-body */
    return VX_OK;
}

/* civetweb's keep-alive rule (should_keep_alive), as far as the request shows. */
static bool keep_alive(const web_req *r, int status)
{
    if (status == 401)
        return false;
    const char *h = mg_get_header(r->conn, "Connection");
    if (!h)
        return r->ri->http_version && strcmp(r->ri->http_version, "1.1") == 0;
    return strcasestr(h, "keep-alive") != NULL;
}

static void add_header(vx_buf *b, const char *name, const char *value)
{
    vx_buf_append(b, name, strlen(name));
    vx_buf_append(b, ": ", 2);
    vx_buf_append(b, value, strlen(value));
    vx_buf_append(b, "\r\n", 2);
}

void web_respond(web_req *r, int status, const char *content_type, const void *body, size_t len,
                 const char *const *extra)
{
    if (r->responded)
        return;
    r->responded = true;
    r->status = status;
    bool head = strcasecmp(r->ri->request_method, "HEAD") == 0;
    char line[128], date[64];
    vx_buf b = VX_BUF_INIT;
    vx_buf_reserve(&b, 256 + (head ? 0 : len));
    int n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status,
                     mg_get_response_code_text(r->conn, status));
    vx_buf_append(&b, line, (size_t)n);
    if (content_type)
        add_header(&b, "Content-Type", content_type);
    snprintf(line, sizeof(line), "%zu", len);
    add_header(&b, "Content-Length", line);
    if (r->srv->cors[0])
        add_header(&b, "Access-Control-Allow-Origin", r->srv->cors);
    for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
        add_header(&b, extra[i], extra[i + 1]);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    add_header(&b, "Date", date);
    add_header(&b, "Connection", keep_alive(r, status) ? "keep-alive" : "close");
    vx_buf_append(&b, "\r\n", 2);
    if (len && !head)
        vx_buf_append(&b, body, len);
    mg_write(r->conn, b.data, b.len);
    vx_buf_free(&b);
}
