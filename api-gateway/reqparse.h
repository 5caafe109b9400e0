/*
 * reqparse.h — validation at the HTTP boundary: JSON bodies, path segments
 * and query strings turned into proto structures, or a VX_ERR_INVALID /
 * VX_ERR_LIMIT with a message naming the offending field
 * ("points[2].vector: element 3 is not a finite float32").
 *
 * Every function writes its message into err (err_len bytes, NUL-
 * terminated) on failure. Everything produced lives in the caller's arena.
 * Filters are only checked to be objects here; their operators are
 * validated by the store (its VX_ERR_INVALID names the operator).
 * Nothing here does I/O, so all of it is unit-tested (reqparse_test.c).
 */
#ifndef REQPARSE_H
#define REQPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_arena.h"
#include "vx_proto.h"
#include "vx_value.h"

#define RQ_ERR_LEN 256

/* Percent-decodes a path segment (no '+' translation). Rejects malformed
 * escapes. *out is NUL-terminated, *out_len excludes the NUL. */
int rq_percent_decode(const char *s, size_t len, vx_arena *a, char **out, size_t *out_len);
/* Point id: 1..VX_MAX_ID_LEN bytes of valid UTF-8 without NUL. */
int rq_check_id(const char *id, size_t len, const char *field, char *err, size_t err_len);
/* Collection name: [A-Za-z0-9_-]{1,VX_MAX_NAME_LEN}. */
int rq_check_name(const char *name, char *err, size_t err_len);

/* Query string lookup: first value of key, percent-decoded ('+' is a
 * space). Returns VX_OK (found), VX_ERR_NOT_FOUND, or VX_ERR_INVALID. */
int rq_query_get(const char *query, const char *key, vx_arena *a, const char **out);
/* Query integer in [min, max]; absent → *out = def. */
int rq_query_uint(const char *query, const char *key, uint32_t min, uint32_t max, uint32_t def,
                  vx_arena *a, uint32_t *out, char *err, size_t err_len);

/* The body must be a JSON object. */
int rq_require_object(const vx_value *body, char *err, size_t err_len);
/* Object members: absent → default (or error when required). */
int rq_get_uint(const vx_value *obj, const char *key, const char *field, uint32_t min,
                uint32_t max, uint32_t def, bool required, uint32_t *out, char *err,
                size_t err_len);
int rq_get_bool(const vx_value *obj, const char *key, const char *field, bool def, bool *out,
                char *err, size_t err_len);
/* String of 1..max_len bytes (valid UTF-8); absent → *out = NULL unless required. */
int rq_get_string(const vx_value *obj, const char *key, const char *field, size_t max_len,
                  bool required, const char **out, char *err, size_t err_len);
/* Vector: array of 1..VX_MAX_DIM numbers, each finite as float32.
 * expect_dim > 0 also requires that dimension. */
int rq_vector(const vx_value *v, const char *field, uint32_t expect_dim, vx_arena *a,
              float **out, uint32_t *dim, char *err, size_t err_len);

/* A point of an upsert body: id, exactly one of vector/text, optional
 * metadata object. texts[i] is set (and vector NULL) for text points. */
typedef struct rq_points {
    vx_point *points;
    const char **texts; /* n entries, NULL for vector points */
    uint32_t n;
    uint32_t n_text;
} rq_points;
int rq_parse_points(const vx_value *body, vx_arena *a, rq_points *out, char *err,
                    size_t err_len);

/* Search body → req (collection not set); *text is set for text queries. */
int rq_parse_search(const vx_value *body, vx_arena *a, vx_search_req *req, const char **text,
                    char *err, size_t err_len);
/* Create body → cfg (name not set). */
int rq_parse_coll_create(const vx_value *body, vx_coll_config *cfg, char *err, size_t err_len);
/* {"ids": [...]} or {"filter": {...}} → req (collection not set). */
int rq_parse_delete(const vx_value *body, vx_arena *a, vx_delete_req *req, char *err,
                    size_t err_len);

#endif
