/*
 * vx_proto.h — the wire contract between Vectron's services.
 *
 * Every message on the bus is one msgpack array, the envelope:
 *   request: [version, type, request_id, deadline_ms, body]
 *   reply:   [version, type, request_id, status, body]
 * version is VX_PROTO_VERSION; type a VX_MSG_* code (a reply repeats the
 * request's type); status 0 (VX_OK) or a negative vx_err code, in which case
 * body is {"code": "<wire name>", "message": "<text>"}. deadline_ms is the
 * time the caller will wait (0 = none); a service drops work past it.
 * Bodies are msgpack maps with string keys; vectors travel as bin of
 * little-endian float32. proto/PROTOCOL.md is the normative description.
 *
 * Decoded messages live in the caller's vx_arena: strings are copied and
 * NUL-terminated, vectors are copied 16-byte aligned. Decoding checks every
 * type and every limit below; it never reads past the input.
 *
 * proto/vx_msgpack.c is the only file that includes <msgpack.h>.
 */
#ifndef VX_PROTO_H
#define VX_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_arena.h"
#include "vx_buf.h"
#include "vx_err.h"
#include "vx_value.h"

#define VX_PROTO_VERSION 1

/* ---- Limits (checked by the decoder, and by the gateway at the boundary) ---- */
#define VX_MAX_DIM 4096             /* vector dimension */
#define VX_MAX_K 1000               /* search k / top_k */
#define VX_MAX_BATCH 1000           /* points per upsert, ids per delete */
#define VX_MAX_ID_LEN 256           /* point id, bytes of UTF-8 */
#define VX_MAX_NAME_LEN 64          /* collection name [A-Za-z0-9_-] */
#define VX_MAX_MODEL_LEN 64         /* model id */
#define VX_MAX_TEXT_LEN 65536       /* text to embed, bytes */
#define VX_MAX_TEXTS 256            /* texts per embed request */
#define VX_MAX_METADATA_BYTES 65536 /* one point's metadata, packed */
#define VX_MAX_LIST_LIMIT 1000      /* points per listing page */
#define VX_DEFAULT_LIST_LIMIT 100
#define VX_MAX_MSG_BYTES (64u << 20) /* one bus message, as the receiving socket counts it */
/* An encoded message must leave room for the transport's own header inside
 * VX_MAX_MSG_BYTES (nng's REQ/REP request id and hop ids): a sender checks
 * against this, since nng drops the connection on an oversized message. */
#define VX_MAX_MSG_PAYLOAD (VX_MAX_MSG_BYTES - 4096u)
#define VX_MAX_CURSOR_LEN 512
#define VX_MAX_BENCH_REPEATS 20     /* MODELS_BENCH runs per model */
#define VX_DEFAULT_BENCH_REPEATS 3

/* ---- Index parameters: DEFAULT / MIN / MAX ---- */
#define VX_HNSW_M_DEFAULT 16
#define VX_HNSW_M_MIN 2
#define VX_HNSW_M_MAX 100
#define VX_HNSW_EFC_DEFAULT 200
#define VX_HNSW_EFC_MIN 4
#define VX_HNSW_EFC_MAX 2000
#define VX_HNSW_EF_DEFAULT 64
#define VX_HNSW_EF_MIN 1
#define VX_HNSW_EF_MAX 10000

/*  X(NAME,          code, "wire name") — codes are part of the protocol */
#define VX_MSG_MAP(X)                          \
    X(HEALTH,           1, "health")           \
    X(COLL_CREATE,     10, "coll_create")      \
    X(COLL_LIST,       11, "coll_list")        \
    X(COLL_INFO,       12, "coll_info")        \
    X(COLL_DELETE,     13, "coll_delete")      \
    X(POINTS_UPSERT,   20, "points_upsert")    \
    X(POINTS_GET,      21, "points_get")       \
    X(POINTS_DELETE,   22, "points_delete")    \
    X(POINTS_LIST,     23, "points_list")      \
    X(SEARCH,          30, "search")           \
    X(EVENTS_SINCE,    40, "events_since")     \
    X(EMBED,           50, "embed")            \
    X(MODELS,          51, "models")           \
    X(MODELS_BENCH,    52, "models_bench")

typedef enum vx_msg_type {
#define VX_MSG_ENUM_(name, code, wire) VX_MSG_##name = (code),
    VX_MSG_MAP(VX_MSG_ENUM_)
#undef VX_MSG_ENUM_
} vx_msg_type;

const char *vx_msg_name(int type); /* "search"; NULL when unknown */

typedef enum vx_metric { VX_METRIC_COSINE = 0, VX_METRIC_DOT = 1, VX_METRIC_L2 = 2 } vx_metric;
typedef enum vx_index_type { VX_INDEX_FLAT = 0, VX_INDEX_HNSW = 1 } vx_index_type;

const char *vx_metric_name(vx_metric m);         /* "cosine" | "dot" | "l2" */
int vx_metric_parse(const char *s, vx_metric *out); /* VX_OK / VX_ERR_INVALID */
const char *vx_index_type_name(vx_index_type t); /* "flat" | "hnsw" */
int vx_index_type_parse(const char *s, vx_index_type *out);

/* ---- Bodies ---- */

typedef struct vx_index_params {
    vx_index_type type;
    uint32_t m;
    uint32_t ef_construction;
} vx_index_params;

typedef struct vx_coll_config {
    const char *name;
    uint32_t dimension;
    vx_metric metric;
    vx_index_params index;
    const char *model; /* NULL: no model */
} vx_coll_config;

typedef struct vx_coll_info {
    vx_coll_config config;
    uint64_t count;        /* live points */
    uint64_t memory_bytes; /* vectors + metadata + index + id map */
} vx_coll_info;

typedef struct vx_point {
    const char *id;
    const float *vector; /* NULL when absent (get without vector, list) */
    uint32_t dim;
    const vx_value *metadata; /* NULL when none */
} vx_point;

/* name only: COLL_INFO, COLL_DELETE */
typedef struct vx_coll_name_req {
    const char *name;
} vx_coll_name_req;

typedef struct vx_upsert_req {
    const char *collection;
    vx_point *points;
    uint32_t n_points;
    /* Create the collection if missing (cosine, flat, dimension of the
     * first vector): what the legacy /vector route needs for "default". */
    bool create_if_missing;
} vx_upsert_req;

typedef struct vx_write_rep {
    uint32_t n;           /* upserted or deleted */
    uint64_t count;       /* live points after the write */
    uint64_t lsn;         /* log sequence number of the write (0 without WAL) */
    const char *durability; /* fsync policy it was acknowledged under: "always" | "everysec" | "none" */
} vx_write_rep;

typedef struct vx_get_req {
    const char *collection;
    const char *id;
    bool with_vector;
} vx_get_req;

typedef struct vx_delete_req {
    const char *collection;
    const char **ids; /* n_ids ids, or NULL with a filter */
    uint32_t n_ids;
    const vx_value *filter; /* NULL when ids are given */
} vx_delete_req;

typedef struct vx_list_req {
    const char *collection;
    uint32_t limit;     /* 1..VX_MAX_LIST_LIMIT */
    const char *cursor; /* NULL: from the start; else an opaque token from a previous page */
    bool with_vector;
} vx_list_req;

typedef struct vx_list_rep {
    vx_point *points;
    uint32_t n_points;
    const char *next_cursor; /* NULL at the end */
} vx_list_rep;

typedef struct vx_search_req {
    const char *collection;
    const float *vector;
    uint32_t dim;
    uint32_t k;             /* 1..VX_MAX_K */
    const vx_value *filter; /* NULL: none */
    uint32_t ef;            /* 0: collection default */
    bool exact;             /* force the flat scan */
    bool with_vector;
    bool with_metadata;
} vx_search_req;

typedef struct vx_search_hit {
    const char *id;
    float score; /* cosine similarity, dot product, or l2 distance (not squared) */
    const vx_value *metadata; /* NULL unless requested and present */
    const float *vector;      /* NULL unless requested */
    uint32_t dim;
} vx_search_hit;

typedef struct vx_search_rep {
    vx_search_hit *hits; /* best first */
    uint32_t n_hits;
    uint64_t took_us;
    bool used_index; /* false when the exact scan answered */
} vx_search_rep;

typedef struct vx_list_colls_rep {
    vx_coll_info *colls;
    uint32_t n_colls;
} vx_list_colls_rep;

typedef struct vx_health_rep {
    const char *service; /* "store" | "embed" */
    const char *version;
    const vx_value *stats; /* free-form object (counts, cache hit ratio, ...) */
} vx_health_rep;

typedef struct vx_events_req {
    uint64_t after_lsn;
    uint32_t limit;
} vx_events_req;

typedef struct vx_event {
    uint64_t lsn;
    const char *collection;
    const char *op; /* "upsert" | "delete" | "coll_create" | "coll_delete" */
    const char **ids;
    uint32_t n_ids;
} vx_event;

typedef struct vx_events_rep {
    vx_event *events;
    uint32_t n_events;
    uint64_t last_lsn; /* newest committed LSN */
} vx_events_rep;

typedef struct vx_embed_req {
    const char *model; /* NULL: the registry's default */
    const char **texts;
    uint32_t n_texts;
} vx_embed_req;

typedef struct vx_embed_rep {
    const char *model;
    uint32_t dim;
    uint32_t n; /* vectors, row-major n × dim */
    const float *vectors;
    uint64_t took_us;
} vx_embed_rep;

typedef struct vx_model_info {
    const char *id;
    const char *provider;
    const char *model_name;
    uint32_t dimensions;
    bool is_remote;
    bool available;
    const char *reason; /* why not available, or NULL */
} vx_model_info;

typedef struct vx_models_rep {
    const char *default_model;
    vx_model_info *models;
    uint32_t n_models;
} vx_models_rep;

/* MODELS_BENCH: embed a built-in set of sentences in two topic groups with
 * each model (embed-gateway/embed_bench.h). */
typedef struct vx_models_bench_req {
    const char **models; /* NULL: every registry model; else 1..VX_MAX_LIST_LIMIT ids */
    uint32_t n_models;
    uint32_t repeats;    /* 1..VX_MAX_BENCH_REPEATS (decoded default VX_DEFAULT_BENCH_REPEATS) */
} vx_models_bench_req;

typedef struct vx_model_bench {
    const char *id;
    uint32_t dimensions;
    bool available;     /* the model can embed (vx_model_info.available) */
    const char *reason; /* why unavailable, or why the run failed; NULL when measured */
    /* Measured (finite, times ≥ 0) when available && !reason; else 0 and
     * not on the wire. */
    double single_ms;   /* one text per request, mean per request */
    double batch_ms;    /* all texts in one request */
    double texts_per_s; /* texts / batch time */
    double contrast;    /* within − cross */
    double within;      /* mean cosine within a topic group */
    double cross;       /* mean cosine across the groups */
} vx_model_bench;

typedef struct vx_models_bench_rep {
    const char *default_model;
    vx_model_bench *models;
    uint32_t n_models;
} vx_models_bench_rep;

/* ---- Envelope ---- */

typedef struct vx_request {
    uint32_t version;
    vx_msg_type type;
    uint64_t request_id;
    uint32_t deadline_ms;
    union {
        vx_coll_config coll_create;
        vx_coll_name_req coll_name; /* COLL_INFO, COLL_DELETE */
        vx_upsert_req upsert;
        vx_get_req get;
        vx_delete_req del;
        vx_list_req list;
        vx_search_req search;
        vx_events_req events;
        vx_embed_req embed;
        vx_models_bench_req models_bench;
    } body; /* HEALTH, COLL_LIST, MODELS: empty map */
} vx_request;

typedef struct vx_reply {
    uint32_t version;
    vx_msg_type type;
    uint64_t request_id;
    int32_t status;           /* VX_OK or a vx_err code */
    const char *err_message;  /* when status != VX_OK */
    union {
        vx_coll_info coll_info; /* COLL_CREATE, COLL_INFO */
        vx_list_colls_rep coll_list;
        vx_write_rep write;     /* POINTS_UPSERT, POINTS_DELETE, COLL_DELETE */
        vx_point point;         /* POINTS_GET */
        vx_list_rep list;
        vx_search_rep search;
        vx_health_rep health;
        vx_events_rep events;
        vx_embed_rep embed;
        vx_models_rep models;
        vx_models_bench_rep models_bench;
    } body;
} vx_reply;

/* Appends the encoding of m to out. Returns VX_OK, or VX_ERR_INVALID when m
 * breaks a limit (the encoder checks what the decoder checks). */
int vx_proto_encode_request(const vx_request *m, vx_buf *out);
int vx_proto_encode_reply(const vx_reply *m, vx_buf *out);
/* Convenience: an error reply for (type, request_id). */
void vx_proto_encode_error(vx_msg_type type, uint64_t request_id, int status, const char *message,
                           vx_buf *out);

/* Decodes one whole message. On failure returns VX_ERR_PROTO (malformed:
 * wrong type, truncated, trailing bytes, unknown message type, bad version)
 * or VX_ERR_INVALID / VX_ERR_LIMIT (well-formed but out of range), and
 * writes a message naming the field into err (may be NULL).
 * For requests, *m->type is set as soon as the envelope is read, so a
 * server can answer errors with the right type. */
int vx_proto_decode_request(const void *data, size_t len, vx_arena *a, vx_request *m, char *err,
                            size_t err_len);
/* The same with flags. VX_PROTO_DECODE_LOGGED: a request read back from the
 * store's WAL; its values are not held to the checks added after it may have
 * been written (UTF-8 strings and keys, finite numbers, unique keys: refused
 * at the boundary since 2026-11-24), so old data still replays. */
#define VX_PROTO_DECODE_LOGGED 1u
int vx_proto_decode_request_flags(const void *data, size_t len, vx_arena *a, vx_request *m,
                                  unsigned flags, char *err, size_t err_len);
int vx_proto_decode_reply(const void *data, size_t len, vx_arena *a, vx_reply *m, char *err,
                          size_t err_len);

#endif
