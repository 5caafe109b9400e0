/*
 * vx_config.h — table-driven configuration shared by the three services.
 *
 * Each service declares one table of vx_conf_row: key, environment variable,
 * command-line flag, type, default, range and help. vx_config_load applies,
 * in order: defaults → environment → command line ("--flag value" or
 * "--flag=value"), checking types and ranges, and writes each value into its
 * target. "--help" prints every key (flag, env, default, range, help) and
 * "--print-config" prints the effective values (rows marked secret are
 * printed as "(set)"/"(unset)").
 *
 * Ownership: string targets point either at the default literal, at the
 * environment, or into argv — all live for the whole process.
 */
#ifndef VX_CONFIG_H
#define VX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { VX_CONF_STRING, VX_CONF_INT, VX_CONF_BOOL, VX_CONF_ENUM } vx_conf_type;

typedef struct vx_conf_row {
    const char *key;      /* "data_dir" */
    const char *env;      /* "VECTRON_DATA_DIR", or NULL */
    const char *flag;     /* "--data-dir" */
    vx_conf_type type;
    void *target;         /* const char ** | int64_t * | bool * | int * (enum index) */
    const char *def;      /* default as text ("3000", "true", "always") */
    int64_t min, max;     /* VX_CONF_INT range, inclusive */
    const char *choices;  /* VX_CONF_ENUM: "always|everysec|none" */
    const char *help;
    bool secret;          /* never printed */
} vx_conf_row;

typedef enum {
    VX_CONFIG_OK = 0,      /* continue starting */
    VX_CONFIG_EXIT = 1,    /* --help / --print-config printed: exit 0 */
    VX_CONFIG_ERROR = -1,  /* a message was printed to stderr: exit 2 */
} vx_config_result;

/* prog: binary name; summary: one paragraph printed at the top of --help. */
vx_config_result vx_config_load(const vx_conf_row *rows, size_t n_rows, int argc, char **argv,
                                const char *prog, const char *summary);

#endif
