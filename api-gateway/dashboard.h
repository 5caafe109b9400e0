/*
 * dashboard.h — the web dashboard: three static files (api-gateway/dashboard/
 * index.html, app.js, style.css) compiled into vectron-api and served at
 * GET /dashboard, /dashboard/app.js and /dashboard/style.css.
 *
 * The files hold no data: the page asks the REST API for everything, with
 * the API key the user types in (kept in the browser tab's sessionStorage),
 * so the three routes are open (auth.c) and every call the page makes is
 * checked like any other client's. The page is served with a strict
 * Content-Security-Policy (scripts and styles from the gateway only, no
 * inline code, no framing), and app.js writes server data only as text.
 *
 * The byte arrays are generated at build time (scripts/embed-files.sh, rule
 * in api-gateway/module.mk); they are immutable and live for the process.
 */
#ifndef DASHBOARD_H
#define DASHBOARD_H

#include <stddef.h>

typedef struct dashboard_file {
    const char *name; /* base name: "index.html", "app.js", "style.css" */
    const unsigned char *data;
    size_t len;
} dashboard_file;

extern const dashboard_file dashboard_files[];
extern const size_t dashboard_n_files;

/* The file served for a route's path ("/dashboard" → index.html), or NULL. */
const dashboard_file *dashboard_find(const char *path);
/* Its Content-Type; "application/octet-stream" for an unknown suffix. */
const char *dashboard_content_type(const char *name);

#endif
