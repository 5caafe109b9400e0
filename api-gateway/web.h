/*
 * web.h — the HTTP server adapter: the only module that talks to civetweb
 * (api-gateway/web.c is the only file that includes civetweb.h).
 *
 * The rest of the gateway sees a tiny API: one handler called for every
 * request on a civetweb worker thread, with an opaque web_req to read the
 * request from and answer exactly once. Paths are given RAW (civetweb runs
 * with decode_url=no); callers decode segments themselves.
 *
 * Ownership: web_req and every string it returns belong to civetweb and are
 * valid only during the handler call.
 */
#ifndef WEB_H
#define WEB_H

#include <stddef.h>

#include "vx_buf.h"

typedef struct web_server web_server;
typedef struct web_req web_req;

typedef void (*web_handler)(void *arg, web_req *req);

typedef struct web_options {
    const char *bind; /* "127.0.0.1" */
    int port;         /* 0: pick a free port (see web_port) */
    int threads;
    int request_timeout_ms;
    const char *cors_origin; /* NULL or "": no CORS header */
} web_options;

int web_start(web_server **out, const web_options *opt, web_handler h, void *arg);
int web_port(const web_server *s); /* the bound port */
void web_stop(web_server *s);      /* waits for running handlers; NULL is a no-op */

const char *web_method(const web_req *r);
const char *web_path(const web_req *r);  /* raw, not decoded, without the query */
const char *web_query(const web_req *r); /* after '?', or NULL */
const char *web_header(const web_req *r, const char *name); /* NULL when absent */
const char *web_remote_addr(const web_req *r);              /* the peer's IP address */
/* civetweb keeps at most this many request headers; a request with as many
 * is answered 431 (the rest would be dropped silently). */
#define WEB_MAX_HEADERS 64

/* Reads the whole body into out. VX_ERR_TOO_LARGE when Content-Length
 * exceeds limit (nothing is read) or a chunked body grows past it;
 * VX_ERR_IO when the client goes away; VX_ERR_TIMEOUT when the body took
 * longer than the request timeout — then 408 was already sent and the
 * connection is closed (the caller must not respond). */
int web_read_body(web_req *r, size_t limit, vx_buf *out);
/* Sends the response: status line, headers and body in ONE write. extra:
 * NULL-terminated list of name, value pairs (may be NULL; values must not
 * contain CR/LF). Adds Content-Length, the CORS header, Date and
 * Connection (keep-alive unless the client asked to close, or 401). */
void web_respond(web_req *r, int status, const char *content_type, const void *body, size_t len,
                 const char *const *extra);

#endif
