/*
 * httpc_test.c — the libcurl adapter against a local HTTPS stub
 * (tests/stubs/provider_stub.py, certificates made by this run): TLS
 * verification is on, retries on 429 (honouring Retry-After) / 5xx /
 * dropped connections are bounded and back off, timeouts and deadlines end
 * transfers early, oversize bodies are cut off, plain http is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "test_stub.h"
#include "vx_clock.h"
#include "vx_err.h"
#include "vx_test.h"

static const char BODY[] = "{\"model\":\"m\",\"input\":[\"hello\"]}";

typedef struct call {
    int rc;
    long status;
    uint32_t attempts;
    uint64_t ms;
    char err[256];
    char body[256];
} call;

static call post(const httpc_options *o, const char *path, uint64_t deadline_ms)
{
    call c;
    memset(&c, 0, sizeof c);
    stub_server *s = stub_get();
    if (!s) {
        c.rc = 1;
        snprintf(c.err, sizeof c.err, "%s", g_stub.error);
        return c;
    }
    httpc_pool *p = NULL;
    if (httpc_pool_create(&p, "stubtest", o) != VX_OK) {
        c.rc = 2;
        return c;
    }
    char url[160];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    uint64_t t0 = vx_now_us();
    httpc_request rq = {.url = url,
                        .headers = {"Authorization: Bearer " STUB_KEY, NULL},
                        .body = BODY,
                        .body_len = sizeof BODY - 1,
                        .deadline_us = deadline_ms ? t0 + deadline_ms * 1000 : 0};
    httpc_response rs = {0, VX_BUF_INIT, 0};
    c.rc = httpc_post(p, &rq, &rs, c.err, sizeof c.err);
    c.ms = (vx_now_us() - t0) / 1000;
    c.status = rs.status;
    c.attempts = rs.attempts;
    size_t k = rs.body.len < sizeof c.body - 1 ? rs.body.len : sizeof c.body - 1;
    if (k)
        memcpy(c.body, rs.body.data, k);
    vx_buf_free(&rs.body);
    httpc_pool_destroy(p);
    return c;
}

static httpc_options opts(void)
{
    httpc_options o = {.ca_file = stub_get() ? g_stub.ca : NULL, .max_attempts = 3, .backoff_base_ms = 50,
                       .backoff_max_ms = 400, .timeout_ms = 5000};
    return o;
}

TEST(httpc_backoff_grows_with_jitter_and_caps)
{
    httpc_options o = {.backoff_base_ms = 100, .backoff_max_ms = 1000};
    unsigned seed = 1;
    for (int rep = 0; rep < 50; rep++) {
        uint32_t d1 = httpc_backoff_ms(&o, 1, &seed), d2 = httpc_backoff_ms(&o, 2, &seed);
        uint32_t d3 = httpc_backoff_ms(&o, 3, &seed), d9 = httpc_backoff_ms(&o, 9, &seed);
        ASSERT(d1 >= 50 && d1 <= 100);
        ASSERT(d2 >= 100 && d2 <= 200);
        ASSERT(d3 >= 200 && d3 <= 400);
        ASSERT(d9 >= 500 && d9 <= 1000);
    }
    /* jitter: not always the same value */
    uint32_t first = httpc_backoff_ms(&o, 4, &seed);
    int differs = 0;
    for (int i = 0; i < 20; i++)
        differs |= httpc_backoff_ms(&o, 4, &seed) != first;
    ASSERT(differs);
}

TEST(httpc_retry_after_parsing)
{
    ASSERT_EQ_INT(httpc_parse_retry_after("2"), 2000);
    ASSERT_EQ_INT(httpc_parse_retry_after(" 10\r\n"), 10000);
    ASSERT_EQ_INT(httpc_parse_retry_after("0"), 0);
    ASSERT_EQ_INT(httpc_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
    ASSERT_EQ_INT(httpc_parse_retry_after("-1"), -1);
    ASSERT_EQ_INT(httpc_parse_retry_after("1.5"), -1);
    ASSERT_EQ_INT(httpc_parse_retry_after("99999999999"), -1);
}

TEST(httpc_https_with_test_ca_works_and_sends_json_headers)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{}");
    httpc_options o = opts();
    call c = post(&o, "/v1/embeddings", 0);
    ASSERT_MSG(c.rc == VX_OK, "rc %d: %s", c.rc, c.err);
    ASSERT_EQ_INT(c.status, 200);
    ASSERT_EQ_INT(c.attempts, 1);
    ASSERT(strstr(c.body, "\"index\"") != NULL);
    char stats[4096];
    ASSERT_EQ_INT(stub_control("stats", "{}", stats, sizeof stats), 200);
    ASSERT(strstr(stats, "\"auth_ok\": true") != NULL);
    ASSERT(strstr(stats, "\"content_type\": \"application/json\"") != NULL);
    ASSERT(strstr(stats, "\"expect\": null") != NULL); /* the empty Expect: header removes it */
}

TEST(httpc_tls_verification_is_on)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{}");
    httpc_options o = opts();
    o.ca_file = NULL; /* the system CAs do not know the test CA */
    call c = post(&o, "/v1/embeddings", 0);
    ASSERT_EQ_INT(c.rc, VX_ERR_UPSTREAM);
    ASSERT_EQ_INT(c.attempts, 1); /* certificate problems are not retried */
    ASSERT_MSG(strstr(c.err, "stubtest") != NULL, "message: %s", c.err);
    ASSERT_EQ_INT(stub_stat("requests"), 0);
}

TEST(httpc_plain_http_is_refused)
{
    httpc_options o = {0};
    httpc_pool *p;
    ASSERT_EQ_INT(httpc_pool_create(&p, "x", &o), VX_OK);
    httpc_request rq = {.url = "http://127.0.0.1:9/v1/embeddings", .body = "{}", .body_len = 2};
    httpc_response rs = {0, VX_BUF_INIT, 0};
    char err[200];
    int rc = httpc_post(p, &rq, &rs, err, sizeof err);
    vx_buf_free(&rs.body);
    httpc_pool_destroy(p);
    ASSERT_EQ_INT(rc, VX_ERR_INVALID);
    ASSERT(strstr(err, "https") != NULL);
}

TEST(httpc_429_with_retry_after_then_success)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{\"mode\":\"status\",\"status\":429,\"retry_after\":1,\"times\":1}");
    httpc_options o = opts();
    call c = post(&o, "/v1/embeddings", 0);
    ASSERT_MSG(c.rc == VX_OK, "rc %d: %s", c.rc, c.err);
    ASSERT_EQ_INT(c.status, 200);
    ASSERT_EQ_INT(c.attempts, 2);
    ASSERT_MSG(c.ms >= 950, "waited only %llu ms despite Retry-After: 1", (unsigned long long)c.ms);
    ASSERT_EQ_INT(stub_stat("requests"), 2);
}

TEST(httpc_5xx_retried_then_success_and_bounded)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{\"mode\":\"status\",\"status\":500,\"times\":2}");
    httpc_options o = opts();
    call c = post(&o, "/v1/embeddings", 0);
    ASSERT_MSG(c.rc == VX_OK, "rc %d: %s", c.rc, c.err);
    ASSERT_EQ_INT(c.status, 200);
    ASSERT_EQ_INT(c.attempts, 3);
    /* always failing: exactly max_attempts attempts, the last status returned */
    stub_mode("{\"mode\":\"status\",\"status\":503}");
    c = post(&o, "/v1/embeddings", 0);
    ASSERT_EQ_INT(c.rc, VX_OK);
    ASSERT_EQ_INT(c.status, 503);
    ASSERT_EQ_INT(c.attempts, 3);
    ASSERT_EQ_INT(stub_stat("requests"), 3);
    /* 4xx other than 429 is final */
    stub_mode("{\"mode\":\"status\",\"status\":400}");
    c = post(&o, "/v1/embeddings", 0);
    ASSERT_EQ_INT(c.status, 400);
    ASSERT_EQ_INT(c.attempts, 1);
}

TEST(httpc_dropped_connection_is_retried)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{\"mode\":\"close\",\"times\":1}");
    httpc_options o = opts();
    call c = post(&o, "/v1/embeddings", 0);
    ASSERT_MSG(c.rc == VX_OK, "rc %d: %s", c.rc, c.err);
    ASSERT_EQ_INT(c.status, 200);
    ASSERT_EQ_INT(c.attempts, 2);
}

TEST(httpc_connection_refused_is_upstream_after_bounded_attempts)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    httpc_options o = opts();
    httpc_pool *p;
    ASSERT_EQ_INT(httpc_pool_create(&p, "nobody", &o), VX_OK);
    /* a port nobody listens on: bind one, note it, close it */
    httpc_request rq = {.url = "https://127.0.0.1:1/v1/embeddings", .body = "{}", .body_len = 2};
    httpc_response rs = {0, VX_BUF_INIT, 0};
    char err[256];
    int rc = httpc_post(p, &rq, &rs, err, sizeof err);
    uint32_t attempts = rs.attempts;
    vx_buf_free(&rs.body);
    httpc_pool_destroy(p);
    ASSERT_EQ_INT(rc, VX_ERR_UPSTREAM);
    ASSERT_EQ_INT(attempts, 3);
    ASSERT_MSG(strstr(err, "nobody") != NULL, "message: %s", err);
}

TEST(httpc_slow_response_times_out)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{\"mode\":\"slow\",\"delay\":3}");
    httpc_options o = opts();
    o.timeout_ms = 400;
    call c = post(&o, "/v1/embeddings", 0);
    ASSERT_EQ_INT(c.rc, VX_ERR_TIMEOUT);
    ASSERT_EQ_INT(c.attempts, 1);
    ASSERT_MSG(c.ms < 1500, "took %llu ms", (unsigned long long)c.ms);
    /* the request deadline bounds a longer per-attempt timeout too */
    o.timeout_ms = 10000;
    c = post(&o, "/v1/embeddings", 300);
    ASSERT_EQ_INT(c.rc, VX_ERR_TIMEOUT);
    ASSERT_MSG(c.ms < 1500, "took %llu ms", (unsigned long long)c.ms);
}

TEST(httpc_retry_after_past_the_deadline_is_not_waited_for)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{\"mode\":\"status\",\"status\":429,\"retry_after\":30}");
    httpc_options o = opts();
    call c = post(&o, "/v1/embeddings", 2000);
    ASSERT_EQ_INT(c.rc, VX_OK);
    ASSERT_EQ_INT(c.status, 429);
    ASSERT_EQ_INT(c.attempts, 1);
    ASSERT_MSG(c.ms < 1500, "took %llu ms", (unsigned long long)c.ms);
}

TEST(httpc_oversize_body_is_cut_off)
{
    ASSERT_MSG(stub_get(), "stub: %s", g_stub.error);
    stub_mode("{\"mode\":\"oversize\",\"size\":1048576}");
    httpc_options o = opts();
    o.max_response_bytes = 65536;
    call c = post(&o, "/v1/embeddings", 0);
    ASSERT_EQ_INT(c.rc, VX_ERR_UPSTREAM);
    ASSERT_MSG(strstr(c.err, "larger than") != NULL, "message: %s", c.err);
    ASSERT_EQ_INT(c.attempts, 1);
    /* the same body under a larger limit is fine */
    o.max_response_bytes = 2u << 20;
    c = post(&o, "/v1/embeddings", 0);
    ASSERT_MSG(c.rc == VX_OK, "rc %d: %s", c.rc, c.err);
    ASSERT_EQ_INT(c.status, 200);
}
