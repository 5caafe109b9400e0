/*
 * vx_err.h — the one table of Vectron error codes.
 *
 * Every fallible function in Vectron returns 0 (VX_OK) or one of these
 * negative codes. The table is an X-macro (as libuv's UV_ERRNO_MAP): each row
 * gives the enum name, its value, the stable snake_case name that appears on
 * the wire and in JSON error bodies, the HTTP status the api-gateway answers
 * with, and a default message. The HTTP mapping lives here and nowhere else.
 *
 * Values are part of the wire protocol (proto/PROTOCOL.md): never renumber a
 * row, only append.
 */
#ifndef VX_ERR_H
#define VX_ERR_H

/*  X(NAME,            value, "wire_name",             http, "default message") */
#define VX_ERR_MAP(X)                                                                      \
    X(OK,                 0, "ok",                     200, "success")                     \
    X(INVALID,           -1, "invalid_argument",       400, "invalid argument")            \
    X(NOT_FOUND,         -2, "not_found",              404, "not found")                   \
    X(CONFLICT,          -3, "conflict",               409, "conflicts with existing state") \
    X(TOO_LARGE,         -4, "payload_too_large",      413, "payload too large")           \
    X(MEDIA_TYPE,        -5, "unsupported_media_type", 415, "unsupported media type")      \
    X(METHOD,            -6, "method_not_allowed",     405, "method not allowed")          \
    X(UNAUTHORIZED,      -7, "unauthorized",           401, "missing or invalid API key")  \
    X(FORBIDDEN,         -8, "forbidden",              403, "insufficient role")           \
    X(RATE_LIMITED,      -9, "rate_limited",           429, "rate limit exceeded")         \
    X(UNAVAILABLE,      -10, "backend_unavailable",    503, "backend unavailable")         \
    X(TIMEOUT,          -11, "backend_timeout",        504, "backend timed out")           \
    X(NOMEM,            -12, "out_of_memory",          503, "out of memory")               \
    X(IO,               -13, "io_error",               500, "I/O error")                   \
    X(CORRUPT,          -14, "data_corrupt",           500, "data corrupt")                \
    X(PROTO,            -15, "protocol_error",         400, "malformed message")           \
    X(INTERNAL,         -16, "internal_error",         500, "internal error")              \
    X(EMBED_UNAVAILABLE,-17, "embedding_unavailable",  503, "embedding unavailable")       \
    X(UPSTREAM,         -18, "bad_gateway",            502, "upstream provider error")     \
    X(OVERLOADED,       -19, "overloaded",             503, "server overloaded, retry later") \
    X(LIMIT,            -20, "limit_exceeded",         400, "a limit was exceeded")

typedef enum vx_err {
#define VX_ERR_ENUM_(name, val, wire, http, msg) VX_ERR_##name = (val),
    VX_ERR_MAP(VX_ERR_ENUM_)
#undef VX_ERR_ENUM_
} vx_err;

#define VX_OK VX_ERR_OK

/* Stable snake_case name ("not_found"); "unknown_error" for unknown codes. */
const char *vx_errname(int code);
/* Default human-readable message for a code. */
const char *vx_strerror(int code);
/* HTTP status for a code (500 for unknown codes). */
int vx_err_http_status(int code);
/* Code for a wire name, or VX_ERR_INTERNAL when the name is unknown. */
int vx_err_from_name(const char *name);
/* 1 when code is a row of the table. */
int vx_err_is_known(int code);

#endif
