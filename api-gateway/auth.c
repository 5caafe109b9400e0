/*
 * auth.c — API-key table, loaders, request check, route→role policy, the
 * bind-address rule and the trusted-proxy client address (see auth.h).
 *
 * Invariants:
 * - The table stores SHA-256 digests only; plaintext keys exist in memory
 *   only inside auth_table_add_key / auth_parse_keys / auth_check, and every
 *   buffer that held one is wiped with vx_wipe before returning.
 * - auth_check touches every digest of the table whatever the outcome
 *   (constant-time compare, branch-free select), so timing does not reveal
 *   which key matched or how close a guess came.
 * - Error texts never contain configured or presented key material; they
 *   name the source, entry or line number and the rule broken.
 */
#include "auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vx_err.h"
#include "vx_log.h"
#include "vx_sha256.h"

typedef struct auth_entry {
    unsigned char digest[VX_SHA256_LEN];
    auth_role role;
} auth_entry;

struct auth_table {
    auth_entry *e;
    size_t n, cap;
};

static void fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t len, const char *f, ...)
{
    if (!buf || len == 0)
        return;
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
}

/* ---- roles ------------------------------------------------------------- */

const char *auth_role_name(auth_role r)
{
    switch (r) {
    case AUTH_ROLE_READ: return "read";
    case AUTH_ROLE_WRITE: return "write";
    case AUTH_ROLE_ADMIN: return "admin";
    default: return "none";
    }
}

int auth_role_parse(const char *s, size_t len, auth_role *out)
{
    static const struct {
        const char *name;
        auth_role role;
    } names[] = {{"read", AUTH_ROLE_READ}, {"write", AUTH_ROLE_WRITE}, {"admin", AUTH_ROLE_ADMIN}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == len && memcmp(names[i].name, s, len) == 0) {
            *out = names[i].role;
            return VX_OK;
        }
    }
    return VX_ERR_INVALID;
}

/* ---- table ------------------------------------------------------------- */

int auth_table_create(auth_table **out)
{
    auth_table *t = calloc(1, sizeof(*t));
    if (!t)
        return VX_ERR_NOMEM;
    *out = t;
    return VX_OK;
}

void auth_table_destroy(auth_table *t)
{
    if (!t)
        return;
    vx_wipe(t->e, t->cap * sizeof(auth_entry));
    free(t->e);
    vx_wipe(t, sizeof(*t));
    free(t);
}

size_t auth_table_count(const auth_table *t) { return t ? t->n : 0; }

int auth_table_add_digest(auth_table *t, auth_role role, const unsigned char digest[32])
{
    if (role < AUTH_ROLE_READ || role > AUTH_ROLE_ADMIN)
        return VX_ERR_INVALID;
    for (size_t i = 0; i < t->n; i++)
        if (vx_ct_equal(t->e[i].digest, digest, VX_SHA256_LEN))
            return VX_ERR_CONFLICT;
    if (t->n == AUTH_MAX_KEYS)
        return VX_ERR_LIMIT;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        auth_entry *e = calloc(cap, sizeof(*e));
        if (!e)
            return VX_ERR_NOMEM;
        if (t->n)
            memcpy(e, t->e, t->n * sizeof(*e));
        vx_wipe(t->e, t->cap * sizeof(*e));
        free(t->e);
        t->e = e;
        t->cap = cap;
    }
    memcpy(t->e[t->n].digest, digest, VX_SHA256_LEN);
    t->e[t->n].role = role;
    t->n++;
    return VX_OK;
}

/* Keys are visible ASCII; ',' is excluded because it separates entries. */
static bool key_chars_ok(const char *key, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < '!' || c > '~' || c == ',')
            return false;
    }
    return true;
}

int auth_table_add_key(auth_table *t, auth_role role, const char *key, size_t len)
{
    if (!key || len < AUTH_MIN_KEY_LEN || len > AUTH_MAX_KEY_LEN || !key_chars_ok(key, len))
        return VX_ERR_INVALID;
    unsigned char d[VX_SHA256_LEN];
    vx_sha256(key, len, d);
    int rc = auth_table_add_digest(t, role, d);
    vx_wipe(d, sizeof(d));
    return rc;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
                        (*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\n'))
        (*len)--;
}

static const char *add_error_text(int rc)
{
    switch (rc) {
    case VX_ERR_CONFLICT: return "the same key is listed twice";
    case VX_ERR_LIMIT: return "too many keys";
    case VX_ERR_NOMEM: return "out of memory";
    default: return "invalid";
    }
}

int auth_parse_keys(auth_table *t, char *spec, char *err, size_t err_len)
{
    int rc = VX_OK;
    size_t total = spec ? strlen(spec) : 0;
    char *p = spec;
    int entry = 0;
    while (p && *p) {
        char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *next = comma ? comma + 1 : p + len;
        const char *s = p;
        trim(&s, &len);
        p = next;
        if (len == 0)
            continue;
        entry++;
        const char *colon = memchr(s, ':', len);
        if (!colon) {
            fmt(err, err_len, "VECTRON_API_KEYS entry %d: expected role:key", entry);
            rc = VX_ERR_INVALID;
            goto done;
        }
        auth_role role;
        if (auth_role_parse(s, (size_t)(colon - s), &role) != VX_OK) {
            fmt(err, err_len, "VECTRON_API_KEYS entry %d: unknown role (want read, write or admin)",
                entry);
            rc = VX_ERR_INVALID;
            goto done;
        }
        const char *key = colon + 1;
        size_t klen = len - (size_t)(key - s);
        if (klen < AUTH_MIN_KEY_LEN || klen > AUTH_MAX_KEY_LEN) {
            fmt(err, err_len,
                "VECTRON_API_KEYS entry %d: the key must be %d to %d characters long (it has %zu)",
                entry, AUTH_MIN_KEY_LEN, AUTH_MAX_KEY_LEN, klen);
            rc = VX_ERR_INVALID;
            goto done;
        }
        if (!key_chars_ok(key, klen)) {
            fmt(err, err_len,
                "VECTRON_API_KEYS entry %d: the key may only contain visible ASCII characters",
                entry);
            rc = VX_ERR_INVALID;
            goto done;
        }
        rc = auth_table_add_key(t, role, key, klen);
        if (rc) {
            fmt(err, err_len, "VECTRON_API_KEYS entry %d: %s", entry, add_error_text(rc));
            goto done;
        }
    }
done:
    vx_wipe(spec, total);
    return rc;
}

/* One line of a keys file (NUL-terminated, may end in \n). */
static int parse_file_line(auth_table *t, char *line, const char *path, int lineno, char *err,
                           size_t err_len)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    const char *s = line;
    size_t len = strlen(line);
    trim(&s, &len);
    if (len == 0)
        return VX_OK;
    const char *colon = memchr(s, ':', len);
    if (!colon) {
        fmt(err, err_len, "%s line %d: expected role:sha256-hex", path, lineno);
        return VX_ERR_INVALID;
    }
    auth_role role;
    size_t rlen = (size_t)(colon - s);
    while (rlen > 0 && (s[rlen - 1] == ' ' || s[rlen - 1] == '\t'))
        rlen--;
    if (auth_role_parse(s, rlen, &role) != VX_OK) {
        fmt(err, err_len, "%s line %d: unknown role (want read, write or admin)", path, lineno);
        return VX_ERR_INVALID;
    }
    const char *hex = colon + 1;
    size_t hlen = len - (size_t)(hex - s);
    trim(&hex, &hlen);
    unsigned char d[VX_SHA256_LEN];
    if (vx_sha256_from_hex(hex, hlen, d) != VX_OK) {
        fmt(err, err_len,
            "%s line %d: expected 64 hex digits of sha256(key) after \"%s:\" (store digests, "
            "not keys: printf %%s KEY | sha256sum)",
            path, lineno, auth_role_name(role));
        return VX_ERR_INVALID;
    }
    int rc = auth_table_add_digest(t, role, d);
    if (rc)
        fmt(err, err_len, "%s line %d: %s", path, lineno, add_error_text(rc));
    return rc;
}

int auth_load_file(auth_table *t, const char *path, char *err, size_t err_len)
{
    int rc = VX_OK;
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        fmt(err, err_len, "VECTRON_API_KEYS_FILE %s: %s", path, strerror(errno));
        return VX_ERR_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fmt(err, err_len, "VECTRON_API_KEYS_FILE %s: %s", path, strerror(errno));
        rc = VX_ERR_IO;
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        fmt(err, err_len, "VECTRON_API_KEYS_FILE %s: not a regular file", path);
        rc = VX_ERR_INVALID;
        goto done;
    }
    if (st.st_mode & S_IWOTH) {
        fmt(err, err_len,
            "VECTRON_API_KEYS_FILE %s: writable by every user, who could add an admin key "
            "(chmod o-w %s)",
            path, path);
        rc = VX_ERR_INVALID;
        goto done;
    }
    int lineno = 0;
    ssize_t n;
    errno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)n != strlen(line)) {
            fmt(err, err_len, "%s line %d: contains a NUL byte", path, lineno);
            rc = VX_ERR_INVALID;
            goto done;
        }
        rc = parse_file_line(t, line, path, lineno, err, err_len);
        if (rc)
            goto done;
    }
    if (ferror(f)) {
        fmt(err, err_len, "VECTRON_API_KEYS_FILE %s: read error: %s", path, strerror(errno));
        rc = VX_ERR_IO;
    }
done:
    if (line)
        vx_wipe(line, cap);
    free(line);
    fclose(f);
    return rc;
}

int auth_load_env(auth_table **out, char *err, size_t err_len)
{
    auth_table *t = NULL;
    char *copy = NULL;
    *out = NULL;
    int rc = auth_table_create(&t);
    if (rc) {
        fmt(err, err_len, "out of memory");
        return rc;
    }
    char *keys = getenv("VECTRON_API_KEYS");
    if (keys) {
        size_t len = strlen(keys);
        copy = malloc(len + 1);
        if (!copy) {
            rc = VX_ERR_NOMEM;
            fmt(err, err_len, "out of memory");
        } else {
            memcpy(copy, keys, len + 1);
            rc = auth_parse_keys(t, copy, err, err_len); /* wipes copy */
        }
        /* Scrub the plaintext from the environment block as well, so it
         * does not linger in /proc/<pid>/environ or in child processes. */
        vx_wipe(keys, len);
        unsetenv("VECTRON_API_KEYS");
        free(copy);
        if (rc)
            goto fail;
    }
    const char *file = getenv("VECTRON_API_KEYS_FILE");
    if (file && *file) {
        rc = auth_load_file(t, file, err, err_len);
        if (rc)
            goto fail;
    }
    *out = t;
    return VX_OK;
fail:
    auth_table_destroy(t);
    return rc;
}

/* ---- request check ----------------------------------------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* The token of a header value: trimmed, non-empty, no inner whitespace. */
static bool header_token(const char *v, const char **tok, size_t *len)
{
    while (is_space(*v))
        v++;
    size_t n = strlen(v);
    while (n > 0 && is_space(v[n - 1]))
        n--;
    if (n == 0 || n > AUTH_MAX_KEY_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < '!' || (unsigned char)v[i] > '~')
            return false;
    *tok = v;
    *len = n;
    return true;
}

/* "Bearer <token>" → token. */
static int bearer_token(const char *h, const char **tok, size_t *len)
{
    while (is_space(*h))
        h++;
    if (strncasecmp(h, "bearer", 6) != 0 || !is_space(h[6]))
        return VX_ERR_INVALID;
    return header_token(h + 7, tok, len) ? VX_OK : VX_ERR_INVALID;
}

static int refuse(auth_identity *who, int rc, const char *reason)
{
    if (who)
        fmt(who->reason, sizeof(who->reason), "%s", reason);
    return rc;
}

int auth_check(const auth_table *t, const char *authorization, const char *x_api_key,
               auth_role needed, auth_identity *who)
{
    auth_identity scratch;
    if (!who)
        who = &scratch;
    memset(who, 0, sizeof(*who));
    if (auth_table_count(t) == 0) {
        who->role = AUTH_ROLE_ADMIN; /* auth off */
        return VX_OK;
    }
    const char *tok = NULL, *tok2 = NULL;
    size_t len = 0, len2 = 0;
    bool have_bearer = false;
    if (authorization && *authorization) {
        if (bearer_token(authorization, &tok, &len) == VX_OK)
            have_bearer = true;
        else if (!x_api_key) /* e.g. Basic credentials, and nothing else */
            return needed == AUTH_ROLE_NONE
                       ? VX_OK
                       : refuse(who, VX_ERR_UNAUTHORIZED,
                                "malformed Authorization header (want: Bearer <key>)");
    }
    if (x_api_key) {
        if (!header_token(x_api_key, &tok2, &len2))
            return needed == AUTH_ROLE_NONE
                       ? VX_OK
                       : refuse(who, VX_ERR_UNAUTHORIZED, "malformed X-API-Key header");
        if (have_bearer && (len != len2 || !vx_ct_equal(tok, tok2, len)))
            return needed == AUTH_ROLE_NONE
                       ? VX_OK
                       : refuse(who, VX_ERR_UNAUTHORIZED,
                                "Authorization and X-API-Key carry different keys");
        if (!have_bearer) {
            tok = tok2;
            len = len2;
        }
    }
    if (!tok) {
        if (needed == AUTH_ROLE_NONE)
            return VX_OK;
        return refuse(who, VX_ERR_UNAUTHORIZED,
                      "no API key (send Authorization: Bearer <key> or X-API-Key: <key>)");
    }
    unsigned char d[VX_SHA256_LEN];
    vx_sha256(tok, len, d);
    /* Visit every entry; select the match without branching on secrets. */
    unsigned role = 0;
    for (size_t i = 0; i < t->n; i++) {
        unsigned eq = (unsigned)vx_ct_equal(t->e[i].digest, d, VX_SHA256_LEN);
        unsigned mask = 0u - eq;
        role |= mask & (unsigned)t->e[i].role;
    }
    if (role != 0) {
        char hex[VX_SHA256_HEX_LEN + 1];
        vx_sha256_hex(d, hex);
        snprintf(who->key_id, sizeof(who->key_id), "k:%.8s", hex);
        vx_wipe(hex, sizeof(hex));
    }
    vx_wipe(d, sizeof(d));
    who->role = (auth_role)role;
    if (needed == AUTH_ROLE_NONE)
        return VX_OK;
    if (role == 0)
        return refuse(who, VX_ERR_UNAUTHORIZED, "invalid API key");
    if (role < (unsigned)needed) {
        fmt(who->reason, sizeof(who->reason), "this route needs the %s role; the key has %s",
            auth_role_name(needed), auth_role_name((auth_role)role));
        return VX_ERR_FORBIDDEN;
    }
    return VX_OK;
}

int auth_check_role(const auth_table *t, const char *authorization, const char *x_api_key,
                    auth_role needed, auth_role *granted)
{
    auth_identity who;
    int rc = auth_check(t, authorization, x_api_key, needed, &who);
    if (granted)
        *granted = who.role;
    return rc;
}

/* ---- route policy ------------------------------------------------------ */

/* Keep in step with the route table (dispatch.c) and docs/SECURITY.md. */
static const struct {
    const char *method, *pattern;
    auth_role role;
} policy[] = {
    {"GET", "/health", AUTH_ROLE_NONE},
    /* the dashboard's static files hold no data (dashboard.h) */
    {"GET", "/dashboard", AUTH_ROLE_NONE},
    {"GET", "/dashboard/app.js", AUTH_ROLE_NONE},
    {"GET", "/dashboard/style.css", AUTH_ROLE_NONE},
    {"GET", "/", AUTH_ROLE_READ},
    {"GET", "/metrics", AUTH_ROLE_READ},
    {"GET", "/collections", AUTH_ROLE_READ},
    {"GET", "/collections/{name}", AUTH_ROLE_READ},
    {"GET", "/collections/{name}/points", AUTH_ROLE_READ},
    {"GET", "/collections/{name}/points/{id}", AUTH_ROLE_READ},
    {"POST", "/collections/{name}/search", AUTH_ROLE_READ},
    {"GET", "/vector/{id}", AUTH_ROLE_READ},
    {"GET", "/vectors", AUTH_ROLE_READ},
    {"POST", "/search/vector", AUTH_ROLE_READ},
    {"POST", "/search/text", AUTH_ROLE_READ},
    {"POST", "/embed", AUTH_ROLE_READ},
    {"POST", "/batch-embed", AUTH_ROLE_READ},
    {"GET", "/models", AUTH_ROLE_READ},
    {"PUT", "/collections/{name}", AUTH_ROLE_WRITE},
    {"DELETE", "/collections/{name}", AUTH_ROLE_WRITE},
    {"POST", "/collections/{name}/points", AUTH_ROLE_WRITE},
    {"POST", "/collections/{name}/points/delete", AUTH_ROLE_WRITE},
    {"DELETE", "/collections/{name}/points/{id}", AUTH_ROLE_WRITE},
    {"POST", "/vector", AUTH_ROLE_WRITE},
    {"DELETE", "/vector/{id}", AUTH_ROLE_WRITE},
    {"POST", "/upsert-text", AUTH_ROLE_WRITE},
    {"POST", "/benchmark", AUTH_ROLE_ADMIN},
    {"POST", "/benchmark/models", AUTH_ROLE_ADMIN},
};

auth_role auth_required_role(const char *method, const char *pattern)
{
    if (!pattern)
        return AUTH_ROLE_READ;
    if (!method)
        return AUTH_ROLE_ADMIN;
    /* HEAD is GET without a body. */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < sizeof(policy) / sizeof(policy[0]); i++)
        if (strcmp(policy[i].method, m) == 0 && strcmp(policy[i].pattern, pattern) == 0)
            return policy[i].role;
    return AUTH_ROLE_ADMIN;
}

/* ---- bind rule --------------------------------------------------------- */

/* Parses an IPv4/IPv6 literal (IPv6 may be in brackets). family 0 = not an IP. */
static int parse_ip(const char *s, unsigned char addr[16])
{
    char tmp[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        if (n - 2 >= sizeof(tmp))
            return 0;
        memcpy(tmp, s + 1, n - 2);
        tmp[n - 2] = '\0';
        s = tmp;
    }
    if (inet_pton(AF_INET, s, addr) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, s, addr) == 1)
        return AF_INET6;
    return 0;
}

static bool is_loopback(const char *bind)
{
    unsigned char a[16];
    if (strcasecmp(bind, "localhost") == 0)
        return true;
    int fam = parse_ip(bind, a);
    if (fam == AF_INET)
        return a[0] == 127;
    if (fam == AF_INET6) {
        static const unsigned char v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, v6lo, 16) == 0)
            return true;
        return memcmp(a, mapped, 12) == 0 && a[12] == 127;
    }
    return false;
}

int auth_bind_allowed(const char *bind_addr, bool have_keys, bool insecure, char *msg,
                      size_t msg_len)
{
    const char *b = (bind_addr && *bind_addr) ? bind_addr : "127.0.0.1";
    fmt(msg, msg_len, "%s", "");
    if (have_keys || is_loopback(b))
        return VX_OK;
    if (insecure) {
        fmt(msg, msg_len,
            "listening on %s WITHOUT authentication (--insecure): anyone who can reach this "
            "address can read, change and delete every collection",
            b);
        return VX_OK;
    }
    fmt(msg, msg_len,
        "refusing to listen on %s without API keys: anyone who can reach it could read, change "
        "and delete every collection. Set VECTRON_API_KEYS or VECTRON_API_KEYS_FILE (see "
        "docs/SECURITY.md), or bind to 127.0.0.1, or pass --insecure to accept the risk",
        b);
    return VX_ERR_INVALID;
}

/* ---- client address ---------------------------------------------------- */

static bool in_list(const char *ip, const char *list)
{
    unsigned char a[16], b[16];
    int fa = parse_ip(ip, a);
    if (!fa || !list)
        return false;
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *s = p;
        char item[INET6_ADDRSTRLEN + 2];
        trim(&s, &n);
        if (n < sizeof(item)) {
            memcpy(item, s, n);
            item[n] = '\0';
            if (parse_ip(item, b) == fa && memcmp(a, b, fa == AF_INET ? 4 : 16) == 0)
                return true;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

void auth_client_addr(const char *remote_ip, const char *xff, const char *trusted_proxies,
                      char *out, size_t out_len)
{
    const char *r = remote_ip ? remote_ip : "";
    if (xff && trusted_proxies && *trusted_proxies && in_list(r, trusted_proxies)) {
        /* The last hop is the one our proxy added (nginx overwrites the
         * header with $remote_addr, so normally it is the only one). */
        const char *last = strrchr(xff, ',');
        const char *s = last ? last + 1 : xff;
        size_t n = strlen(s);
        char item[INET6_ADDRSTRLEN + 2];
        unsigned char a[16];
        trim(&s, &n);
        if (n > 0 && n < sizeof(item)) {
            memcpy(item, s, n);
            item[n] = '\0';
            if (parse_ip(item, a)) {
                fmt(out, out_len, "%s", item);
                return;
            }
        }
    }
    fmt(out, out_len, "%s", r);
}
