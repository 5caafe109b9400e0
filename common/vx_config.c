/*
 * vx_config.c — table-driven configuration (see vx_config.h).
 *
 * vx_config_load makes three passes over the same table: defaults, then
 * environment variables, then the command line, each value parsed and
 * checked by vx_conf_set() before it is stored, so a later source simply
 * overwrites an earlier one (precedence default < env < flag). An empty
 * environment variable counts as unset. --help is honoured before anything
 * is parsed (a bad value elsewhere must not hide the help); --print-config
 * acts only after every source was applied, so it shows the values the
 * service would really run with (and fails like the service would).
 *
 * Value syntax: INT is a base-10 int64 in [min, max] (min == max == 0
 * means unbounded); BOOL is true/false/1/0/yes/no/on/off (a bare bool
 * flag means true); ENUM is one of the '|'-separated choices, stored as
 * its index. --help and --print-config write to stdout; errors go to
 * stderr as "prog: message" and name the key, its flag and env variable.
 */
#include "vx_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { VX_SRC_DEFAULT, VX_SRC_ENV, VX_SRC_FLAG } vx_conf_src;

static bool vx_conf_has_range(const vx_conf_row *r) { return !(r->min == 0 && r->max == 0); }

/* Index of word (len n) among the '|'-separated choices, or -1. */
static int vx_conf_choice_index(const char *choices, const char *word, size_t n)
{
    int idx = 0;
    const char *p = choices ? choices : "";
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return idx;
        if (!bar)
            return -1;
        p = bar + 1;
        idx++;
    }
}

/* Writes choice number idx of choices to f. */
static void vx_conf_print_choice(FILE *f, const char *choices, int idx)
{
    const char *p = choices ? choices : "";
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p) {
        fputs("?", f);
        return;
    }
    const char *bar = strchr(p, '|');
    fprintf(f, "%.*s", (int)(bar ? (size_t)(bar - p) : strlen(p)), p);
}

static int vx_conf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int vx_conf_parse_int(const char *s, int64_t *out)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Describes where a row's value comes from, for error messages. */
static void vx_conf_describe(const vx_conf_row *r, char *buf, size_t n)
{
    if (r->flag && r->env)
        snprintf(buf, n, "%s (%s / %s)", r->key, r->flag, r->env);
    else if (r->flag)
        snprintf(buf, n, "%s (%s)", r->key, r->flag);
    else if (r->env)
        snprintf(buf, n, "%s (%s)", r->key, r->env);
    else
        snprintf(buf, n, "%s", r->key);
}

static const char *vx_conf_src_name(vx_conf_src s)
{
    return s == VX_SRC_ENV ? "environment" : s == VX_SRC_FLAG ? "command line" : "default";
}

/* Parses text for row r and stores it in the target. Returns 0, or -1
 * after printing an error naming the key. text NULL means "no value"
 * (allowed for strings only: the target becomes NULL). */
static int vx_conf_set(const char *prog, const vx_conf_row *r, const char *text, vx_conf_src src)
{
    char what[256];
    vx_conf_describe(r, what, sizeof what);
    const char *shown = r->secret ? "(secret)" : text;
    switch (r->type) {
    case VX_CONF_STRING:
        *(const char **)r->target = text;
        return 0;
    case VX_CONF_INT: {
        int64_t v;
        if (!text || vx_conf_parse_int(text, &v) != 0) {
            if (vx_conf_has_range(r))
                fprintf(stderr,
                        "%s: invalid %s value \"%s\" for %s: expected an integer in %" PRId64
                        "..%" PRId64 "\n",
                        prog, vx_conf_src_name(src), text ? shown : "", what, r->min, r->max);
            else
                fprintf(stderr, "%s: invalid %s value \"%s\" for %s: expected an integer\n", prog,
                        vx_conf_src_name(src), text ? shown : "", what);
            return -1;
        }
        if (vx_conf_has_range(r) && (v < r->min || v > r->max)) {
            fprintf(stderr,
                    "%s: %s value %s for %s is out of range: allowed %" PRId64 "..%" PRId64 "\n",
                    prog, vx_conf_src_name(src), shown, what, r->min, r->max);
            return -1;
        }
        *(int64_t *)r->target = v;
        return 0;
    }
    case VX_CONF_BOOL: {
        bool b;
        if (!text || vx_conf_parse_bool(text, &b) != 0) {
            fprintf(stderr,
                    "%s: invalid %s value \"%s\" for %s: expected true/false (also 1/0, yes/no, "
                    "on/off)\n",
                    prog, vx_conf_src_name(src), text ? shown : "", what);
            return -1;
        }
        *(bool *)r->target = b;
        return 0;
    }
    case VX_CONF_ENUM: {
        int idx = text ? vx_conf_choice_index(r->choices, text, strlen(text)) : -1;
        if (idx < 0) {
            fprintf(stderr, "%s: invalid %s value \"%s\" for %s: expected one of %s\n", prog,
                    vx_conf_src_name(src), text ? shown : "", what, r->choices ? r->choices : "");
            return -1;
        }
        *(int *)r->target = idx;
        return 0;
    }
    }
    fprintf(stderr, "%s: %s has an unknown type\n", prog, what);
    return -1;
}

static const char *vx_conf_type_word(const vx_conf_row *r)
{
    switch (r->type) {
    case VX_CONF_STRING:
        return "<string>";
    case VX_CONF_INT:
        return "<int>";
    case VX_CONF_BOOL:
        return "[bool]";
    case VX_CONF_ENUM:
        return "<choice>";
    }
    return "";
}

static void vx_conf_help(const vx_conf_row *rows, size_t n, const char *prog, const char *summary)
{
    FILE *f = stdout;
    fprintf(f, "Usage: %s [--flag value | --flag=value]...\n\n", prog);
    if (summary && *summary)
        fprintf(f, "%s\n\n", summary);
    fputs("Options (precedence: default < environment < command line):\n", f);
    int wflag = 0, wenv = 0;
    for (size_t i = 0; i < n; i++) {
        int a = (int)(strlen(rows[i].flag ? rows[i].flag : "") + 1 +
                      strlen(vx_conf_type_word(&rows[i])));
        int b = (int)strlen(rows[i].env ? rows[i].env : "-");
        wflag = a > wflag ? a : wflag;
        wenv = b > wenv ? b : wenv;
    }
    for (size_t i = 0; i < n; i++) {
        const vx_conf_row *r = &rows[i];
        char fl[256];
        snprintf(fl, sizeof fl, "%s %s", r->flag ? r->flag : "", vx_conf_type_word(r));
        fprintf(f, "  %-*s  %-*s  ", wflag, fl, wenv, r->env ? r->env : "-");
        if (r->type == VX_CONF_ENUM)
            fprintf(f, "one of %s; ", r->choices ? r->choices : "");
        if (r->type == VX_CONF_INT && vx_conf_has_range(r))
            fprintf(f, "range %" PRId64 "..%" PRId64 "; ", r->min, r->max);
        if (r->secret)
            fputs("secret; ", f);
        else if (r->def && *r->def)
            fprintf(f, "default %s; ", r->def);
        else
            fputs("default unset; ", f);
        fprintf(f, "%s [%s]\n", r->help ? r->help : "", r->key);
    }
    int w = wflag > 14 ? wflag : 14;
    fprintf(f, "  %-*s  %-*s  %s\n", w, "--help", wenv, "-", "print this help and exit");
    fprintf(f, "  %-*s  %-*s  %s\n", w, "--print-config", wenv, "-",
            "print the effective configuration (secrets masked) and exit");
}

static void vx_conf_print(const vx_conf_row *rows, size_t n, const vx_conf_src *src)
{
    FILE *f = stdout;
    for (size_t i = 0; i < n; i++) {
        const vx_conf_row *r = &rows[i];
        fprintf(f, "%s = ", r->key);
        switch (r->type) {
        case VX_CONF_STRING: {
            const char *s = *(const char **)r->target;
            if (r->secret)
                fputs(s && *s ? "(set)" : "(unset)", f);
            else
                fputs(s ? s : "(unset)", f);
            break;
        }
        case VX_CONF_INT:
            if (r->secret)
                fputs("(set)", f);
            else
                fprintf(f, "%" PRId64, *(int64_t *)r->target);
            break;
        case VX_CONF_BOOL:
            fputs(r->secret ? "(set)" : *(bool *)r->target ? "true" : "false", f);
            break;
        case VX_CONF_ENUM:
            if (r->secret)
                fputs("(set)", f);
            else
                vx_conf_print_choice(f, r->choices, *(int *)r->target);
            break;
        }
        fprintf(f, "  (%s)\n", vx_conf_src_name(src[i]));
    }
}

static const vx_conf_row *vx_conf_find_flag(const vx_conf_row *rows, size_t n, const char *arg,
                                            size_t len, size_t *idx)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i].flag && strlen(rows[i].flag) == len && strncmp(rows[i].flag, arg, len) == 0) {
            *idx = i;
            return &rows[i];
        }
    }
    return NULL;
}

vx_config_result vx_config_load(const vx_conf_row *rows, size_t n_rows, int argc, char **argv,
                                const char *prog, const char *summary)
{
    vx_config_result res = VX_CONFIG_ERROR;
    bool want_print = false;
    if (!prog)
        prog = (argc > 0 && argv && argv[0]) ? argv[0] : "vectron";
    vx_conf_src *src = calloc(n_rows ? n_rows : 1, sizeof *src);
    if (!src) {
        fprintf(stderr, "%s: out of memory reading configuration\n", prog);
        return VX_CONFIG_ERROR;
    }

    /* --help wins over everything, even over a bad value elsewhere */
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            vx_conf_help(rows, n_rows, prog, summary);
            fflush(stdout);
            res = VX_CONFIG_EXIT;
            goto done;
        }
    }

    /* 1. defaults (a bad default is a programming error, reported the same way) */
    for (size_t i = 0; i < n_rows; i++) {
        if (!rows[i].key || !rows[i].target) {
            fprintf(stderr, "%s: configuration row %zu lacks a key or target\n", prog, i);
            goto done;
        }
        if (rows[i].type != VX_CONF_STRING && !rows[i].def) {
            fprintf(stderr, "%s: configuration key %s has no default\n", prog, rows[i].key);
            goto done;
        }
        if (vx_conf_set(prog, &rows[i], rows[i].def, VX_SRC_DEFAULT) != 0)
            goto done;
    }

    /* 2. environment */
    for (size_t i = 0; i < n_rows; i++) {
        const char *v = rows[i].env ? getenv(rows[i].env) : NULL;
        if (!v || !*v)
            continue;
        if (vx_conf_set(prog, &rows[i], v, VX_SRC_ENV) != 0)
            goto done;
        src[i] = VX_SRC_ENV;
    }

    /* 3. command line */
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--print-config") == 0) {
            want_print = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            fprintf(stderr, "%s: unexpected argument \"%s\" (options look like --flag value; see --help)\n",
                    prog, arg);
            goto done;
        }
        const char *eq = strchr(arg, '=');
        size_t flen = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t idx = 0;
        const vx_conf_row *r = vx_conf_find_flag(rows, n_rows, arg, flen, &idx);
        if (!r) {
            fprintf(stderr, "%s: unknown option \"%.*s\" (see --help)\n", prog, (int)flen, arg);
            goto done;
        }
        const char *val;
        if (eq) {
            val = eq + 1;
        } else if (r->type == VX_CONF_BOOL) {
            bool dummy;
            if (a + 1 < argc && vx_conf_parse_bool(argv[a + 1], &dummy) == 0)
                val = argv[++a];
            else
                val = "true";
        } else if (a + 1 < argc) {
            val = argv[++a];
        } else {
            fprintf(stderr, "%s: option %s (%s) needs a value\n", prog, r->flag, r->key);
            goto done;
        }
        if (vx_conf_set(prog, r, val, VX_SRC_FLAG) != 0)
            goto done;
        src[idx] = VX_SRC_FLAG;
    }

    if (want_print) {
        vx_conf_print(rows, n_rows, src);
        res = VX_CONFIG_EXIT;
    } else {
        res = VX_CONFIG_OK;
    }
    fflush(stdout);
done:
    free(src);
    return res;
}
