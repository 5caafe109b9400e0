/*
 * vx_err.c — lookups over the VX_ERR_MAP table (see vx_err.h).
 */
#include "vx_err.h"

#include <string.h>

typedef struct {
    int code;
    const char *name;
    int http;
    const char *msg;
} vx_err_row;

static const vx_err_row vx_err_rows[] = {
#define VX_ERR_ROW_(name, val, wire, http, msg) {(val), (wire), (http), (msg)},
    VX_ERR_MAP(VX_ERR_ROW_)
#undef VX_ERR_ROW_
};

static const vx_err_row *vx_err_find(int code)
{
    for (size_t i = 0; i < sizeof vx_err_rows / sizeof vx_err_rows[0]; i++)
        if (vx_err_rows[i].code == code)
            return &vx_err_rows[i];
    return NULL;
}

const char *vx_errname(int code)
{
    const vx_err_row *r = vx_err_find(code);
    return r ? r->name : "unknown_error";
}

const char *vx_strerror(int code)
{
    const vx_err_row *r = vx_err_find(code);
    return r ? r->msg : "unknown error";
}

int vx_err_http_status(int code)
{
    const vx_err_row *r = vx_err_find(code);
    return r ? r->http : 500;
}

int vx_err_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof vx_err_rows / sizeof vx_err_rows[0]; i++)
        if (strcmp(vx_err_rows[i].name, name) == 0)
            return vx_err_rows[i].code;
    return VX_ERR_INTERNAL;
}

int vx_err_is_known(int code)
{
    return vx_err_find(code) != NULL;
}
