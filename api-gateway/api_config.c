/*
 * api_config.c — the configuration table of vectron-api.
 */
#include "api_config.h"

#include <string.h>

#include "vx_cpu_qos.h"
#include "vx_proto.h"

#define STR_(x) #x
#define STR(x) STR_(x)

vx_config_result api_config_load(api_config *c, int argc, char **argv)
{
    memset(c, 0, sizeof(*c));
    const vx_conf_row rows[] = {
        {"bind", "VECTRON_BIND", "--bind", VX_CONF_STRING, &c->bind, "127.0.0.1", 0, 0, NULL,
         "address the HTTP server listens on", false},
        {"port", "VECTRON_PORT", "--port", VX_CONF_INT, &c->port, "3000", 1, 65535, NULL,
         "HTTP port", false},
        {"store_url", "VECTRON_STORE_URL", "--store-url", VX_CONF_STRING, &c->store_url,
         "tcp://127.0.0.1:5601", 0, 0, NULL, "nng URL of vectron-store", false},
        {"embed_url", "VECTRON_EMBED_URL", "--embed-url", VX_CONF_STRING, &c->embed_url,
         "tcp://127.0.0.1:5611", 0, 0, NULL, "nng URL of vectron-embed", false},
        {"threads", "VECTRON_API_THREADS", "--threads", VX_CONF_INT, &c->threads,
         STR(API_DEFAULT_THREADS), 1, 1024, NULL,
         "HTTP worker threads (one per open connection, keep-alive included)", false},
        {"max_body_bytes", "VECTRON_MAX_BODY_BYTES", "--max-body-bytes", VX_CONF_INT,
         &c->max_body_bytes, STR(API_DEFAULT_MAX_BODY_BYTES), 1024, 256ll << 20, NULL,
         "largest accepted request body (larger: 413)", false},
        {"request_timeout_ms", "VECTRON_REQUEST_TIMEOUT_MS", "--request-timeout-ms",
         VX_CONF_INT, &c->request_timeout_ms, STR(API_DEFAULT_TIMEOUT_MS), 100, 600000, NULL,
         "timeout of each backend call (exceeded: 504), and how long a client may take to send a request line, headers or body (then the connection is closed)", false},
        {"log_level", "VECTRON_LOG_LEVEL", "--log-level", VX_CONF_ENUM, &c->log_level, "info", 0,
         0, "debug|info|warn|error|off", "minimum log level", false},
        {"cors_origin", "VECTRON_CORS_ORIGIN", "--cors-origin", VX_CONF_STRING, &c->cors_origin,
         "", 0, 0, NULL, "value of Access-Control-Allow-Origin (empty: no CORS header)", false},
        {"insecure", "VECTRON_INSECURE", "--insecure", VX_CONF_BOOL, &c->insecure, "false", 0, 0,
         NULL,
         "allow listening on a non-loopback address without API keys (VECTRON_API_KEYS / "
         "VECTRON_API_KEYS_FILE, see docs/SECURITY.md)",
         false},
        {"rate_limit", "VECTRON_RATE_LIMIT", "--rate-limit", VX_CONF_INT, &c->rate_limit, "0", 0,
         1000000, NULL, "requests per second per API key (or client address); 0 = no limit",
         false},
        {"rate_burst", "VECTRON_RATE_BURST", "--rate-burst", VX_CONF_INT, &c->rate_burst, "0", 0,
         1000000, NULL, "bucket size: requests allowed back to back before the rate applies; "
         "0 = the rate (at least 1)",
         false},
        {"trusted_proxies", "VECTRON_TRUSTED_PROXIES", "--trusted-proxies", VX_CONF_STRING,
         &c->trusted_proxies, "", 0, 0, NULL,
         "comma-separated proxy addresses whose X-Forwarded-For names the client", false},
        {"max_inflight", "VECTRON_MAX_INFLIGHT", "--max-inflight", VX_CONF_INT, &c->max_inflight,
         STR(API_DEFAULT_MAX_INFLIGHT), 1, 4096, NULL,
         "concurrent calls to each backend service; a request beyond it waits for one to "
         "finish (see --queue-wait-ms)",
         false},
        {"cpu_poll_ms", "VECTRON_CPU_POLL_MS", "--cpu-poll-ms", VX_CONF_INT, &c->cpu_poll_ms,
         STR(VX_CPU_QOS_DEFAULT_LINGER_MS), 0, VX_CPU_QOS_MAX_LINGER_MS, NULL,
         VX_CPU_QOS_MS_HELP, false},
        {"cpu_poll_device", "VECTRON_CPU_POLL_DEVICE", "--cpu-poll-device", VX_CONF_STRING,
         &c->cpu_poll_device, VX_CPU_QOS_DEVICE, 0, 0, NULL,
         VX_CPU_QOS_DEVICE_HELP, false},
        {"queue_wait_ms", "VECTRON_QUEUE_WAIT_MS", "--queue-wait-ms", VX_CONF_INT,
         &c->queue_wait_ms, STR(API_DEFAULT_QUEUE_WAIT_MS), 0, 600000, NULL,
         "how long a request waits for a backend slot before it answers 503 overloaded "
         "(never past --request-timeout-ms); 0 = answer 503 at once",
         false},
    };
    return vx_config_load(rows, sizeof(rows) / sizeof(rows[0]), argc, argv, "vectron-api",
                          "Vectron REST gateway: HTTP/JSON in front of vectron-store and "
                          "vectron-embed.\nLimits: dimension 1.." STR(VX_MAX_DIM) ", k 1.." STR(
                              VX_MAX_K) ", batch <= " STR(VX_MAX_BATCH) " points, id <= " STR(
                              VX_MAX_ID_LEN) " bytes, collection name [A-Za-z0-9_-]{1,64}, "
                                             "ef " STR(VX_HNSW_EF_MIN) ".." STR(VX_HNSW_EF_MAX)
                          ", JSON nesting <= " STR(VX_VALUE_MAX_DEPTH) " levels, metadata <= " STR(
                              VX_MAX_METADATA_BYTES) " bytes packed, request body <= "
                                                     "--max-body-bytes.\n"
                          "API keys come from the environment only (a flag would show in ps): "
                          "VECTRON_API_KEYS=\"role:key,...\" (roles read, write, admin) or "
                          "VECTRON_API_KEYS_FILE=PATH (one role:<64 hex digits of sha256(key)> per line; refused when world-writable); "
                          "without either, auth is off. See docs/SECURITY.md.");
}
