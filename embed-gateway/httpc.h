/*
 * httpc.h — outbound HTTPS for the remote embedding providers: the only
 * module that talks to libcurl (embed-gateway/httpc.c is the only file that
 * includes <curl/curl.h>).
 *
 * One httpc_pool per remote provider keeps a small stack of curl easy
 * handles; a request borrows one and gives it back, so connections (and TLS
 * sessions) are reused across requests while two threads never share a
 * handle. httpc_global_init() must run once before any thread uses httpc
 * (it calls curl_global_init; later calls are no-ops).
 *
 * Every transfer: TLS peer and host verification ON (CA bundle from
 * httpc_options.ca_file when set, else the system's), only https:// URLs
 * (plain http is accepted only when allow_http is set, which tests of the
 * wire format may do; the service never sets it), no redirects followed
 * (an Authorization header must not travel to another host), CURLOPT_NOSIGNAL,
 * an empty "Expect:" header, a connect timeout and a per-attempt total
 * timeout both clipped to the request's deadline, and a response size limit:
 * a body larger than max_response_bytes aborts the transfer.
 *
 * Retries: connection-level failures (cannot connect, connection reset,
 * empty reply) and HTTP 429 / 500 / 502 / 503 / 504 are retried up to
 * max_attempts attempts in total, with exponential backoff and full jitter
 * (a random delay in [d/2, d], d = backoff_base_ms · 2^attempt capped at
 * backoff_max_ms). A numeric Retry-After header (seconds) replaces the
 * computed delay; when it asks for more than retry_after_max_ms, httpc
 * gives up instead (never retrying sooner than asked). No attempt starts
 * when its wait would end past the deadline. Timeouts are not retried.
 *
 * Results: VX_OK when an HTTP response arrived (whatever its status — the
 * caller interprets it; after retries the last response is returned),
 * VX_ERR_TIMEOUT when a timeout or the deadline ended the transfer,
 * VX_ERR_UPSTREAM for connection/TLS errors (after retries) and oversize
 * bodies, VX_ERR_INVALID for a URL httpc refuses. err receives a message
 * without secrets: header values are never logged or copied into messages.
 *
 * Ownership: the pool owns its handles; httpc_response.body is owned by the
 * caller (vx_buf_free). Requests borrow their strings.
 */
#ifndef EMBED_HTTPC_H
#define EMBED_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_buf.h"

#define HTTPC_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define HTTPC_DEFAULT_TIMEOUT_MS 30000
#define HTTPC_DEFAULT_MAX_RESPONSE (16u << 20)
#define HTTPC_DEFAULT_MAX_ATTEMPTS 3
#define HTTPC_DEFAULT_BACKOFF_BASE_MS 200
#define HTTPC_DEFAULT_BACKOFF_MAX_MS 5000
#define HTTPC_DEFAULT_RETRY_AFTER_MAX_MS 30000
#define HTTPC_MAX_HEADERS 8

typedef struct httpc_options {
    const char *ca_file;        /* PEM CA bundle; NULL/"" = system default */
    uint32_t connect_timeout_ms; /* 0 = default */
    uint32_t timeout_ms;         /* per attempt, 0 = default */
    size_t max_response_bytes;   /* 0 = default */
    uint32_t max_attempts;       /* >= 1; 0 = default */
    uint32_t backoff_base_ms;    /* 0 = default */
    uint32_t backoff_max_ms;     /* 0 = default */
    uint32_t retry_after_max_ms; /* longer Retry-After: give up at once; 0 = default */
    bool allow_http;             /* tests only: accept http:// URLs */
} httpc_options;

typedef struct httpc_pool httpc_pool;

typedef struct httpc_request {
    const char *url;
    const char *headers[HTTPC_MAX_HEADERS]; /* "Name: value", NULL-terminated list */
    const char *body;                       /* POST body (borrowed), len bytes */
    size_t body_len;
    uint64_t deadline_us; /* vx_now_us() clock; 0 = none */
} httpc_request;

typedef struct httpc_response {
    long status;     /* HTTP status of the last attempt (0 when none arrived) */
    vx_buf body;     /* body of the last attempt; caller frees */
    uint32_t attempts;
} httpc_response;

/* curl_global_init once per process (thread-safe via pthread_once). */
int httpc_global_init(void);

/* name appears in messages ("openai"). Copies options and strings. */
int httpc_pool_create(httpc_pool **out, const char *name, const httpc_options *opt);
void httpc_pool_destroy(httpc_pool *p);

/* POST req->body (application/json) to req->url; see the header comment for
 * the result codes. resp must be zero-initialised or reused; its body is
 * reset at each attempt. */
int httpc_post(httpc_pool *p, const httpc_request *req, httpc_response *resp, char *err, size_t err_len);

/* Backoff delay before attempt number `attempt` (1 = first retry), without
 * Retry-After: exposed for tests. seed is advanced. */
uint32_t httpc_backoff_ms(const httpc_options *opt, uint32_t attempt, unsigned *seed);

/* Parses a Retry-After header value given in seconds ("2", " 10 ");
 * returns milliseconds, or -1 when it is not a non-negative integer
 * (HTTP-date forms are ignored: the computed backoff applies). */
long httpc_parse_retry_after(const char *value);

#endif
