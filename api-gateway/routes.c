/*
 * routes.c — path matching (see routes.h).
 *
 * A path matches a pattern when both have the same number of segments and
 * every literal segment is equal; a parameter segment matches any non-empty
 * raw segment. The first route (in table order) whose pattern and method
 * match wins, so literal routes listed first shadow parameter routes.
 */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "reqparse.h"
#include "vx_err.h"

/* Next segment of a '/'-separated path starting at *p (which points at a
 * '/'). Sets seg/len and advances *p; returns false at the end. */
static bool next_seg(const char **p, const char **seg, size_t *len)
{
    if (**p != '/')
        return false;
    const char *s = *p + 1;
    const char *e = s;
    while (*e && *e != '/')
        e++;
    *seg = s;
    *len = (size_t)(e - s);
    *p = e;
    return true;
}

/* Raw segments of path for params; returns true on a shape match. */
static bool pattern_matches(const char *pattern, const char *path, const char **name,
                            size_t *name_len, const char **id, size_t *id_len)
{
    const char *pp = pattern, *qp = path;
    *name = *id = NULL;
    if (strcmp(pattern, "/") == 0)
        return strcmp(path, "/") == 0;
    for (;;) {
        const char *ps, *qs;
        size_t pl, ql;
        bool pm = next_seg(&pp, &ps, &pl), qm = next_seg(&qp, &qs, &ql);
        if (!pm || !qm)
            return !pm && !qm && *qp == '\0';
        if (pl >= 2 && ps[0] == '{') {
            if (ql == 0)
                return false;
            if (pl == 6 && memcmp(ps, "{name}", 6) == 0) {
                *name = qs;
                *name_len = ql;
            } else {
                *id = qs;
                *id_len = ql;
            }
        } else if (pl != ql || memcmp(ps, qs, pl) != 0) {
            return false;
        }
    }
}

int routes_match(const route *table, size_t n, const char *method, const char *raw_path,
                 vx_arena *a, route_match *m, char *err, size_t err_len)
{
    const char *name = NULL, *id = NULL;
    size_t name_len = 0, id_len = 0;
    bool shape = false;
    memset(m, 0, sizeof(*m));
    if (!raw_path || raw_path[0] != '/')
        return VX_ERR_NOT_FOUND;
    /* HEAD is GET without the body (web_respond leaves the body out) */
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < n; i++) {
        const char *nm, *im;
        size_t nl = 0, il = 0;
        if (!pattern_matches(table[i].pattern, raw_path, &nm, &nl, &im, &il))
            continue;
        if (strcmp(table[i].method, want) == 0) {
            m->route = &table[i];
            name = nm, name_len = nl, id = im, id_len = il;
            break;
        }
        if (!strstr(m->allow, table[i].method)) {
            size_t used = strlen(m->allow);
            snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s", used ? ", " : "",
                     table[i].method);
        }
        shape = true;
    }
    if (!m->route)
        return shape ? VX_ERR_METHOD : VX_ERR_NOT_FOUND;
    m->allow[0] = '\0';
    if (name) {
        char *d;
        size_t dl;
        if (rq_percent_decode(name, name_len, a, &d, &dl) != VX_OK) {
            snprintf(err, err_len, "name: invalid percent-encoding");
            return VX_ERR_INVALID;
        }
        if (strlen(d) != dl) { /* "%00" would otherwise cut the name short */
            snprintf(err, err_len, "name: must not contain NUL");
            return VX_ERR_INVALID;
        }
        int rc = rq_check_name(d, err, err_len);
        if (rc)
            return rc;
        m->name = d;
    }
    if (id) {
        char *d;
        size_t dl;
        if (rq_percent_decode(id, id_len, a, &d, &dl) != VX_OK) {
            snprintf(err, err_len, "id: invalid percent-encoding");
            return VX_ERR_INVALID;
        }
        int rc = rq_check_id(d, dl, "id", err, err_len);
        if (rc)
            return rc;
        m->id = d;
        m->id_len = dl;
    }
    return VX_OK;
}
