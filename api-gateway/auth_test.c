/*
 * auth_test.c — API keys: both sources (env string, hashed file), their
 * error messages (line/entry numbers, never key material), the scrubbing
 * of plaintext, header parsing (Bearer / X-API-Key), 401 vs 403, the route
 * policy, the bind rule and the trusted-proxy client address.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vx_err.h"
#include "vx_sha256.h"
#include "vx_test.h"

#define K_READ "read-key-0123456789abcdef"
#define K_WRITE "write-key-0123456789abcdef"
#define K_ADMIN "admin-key-0123456789abcdef"

static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", vx_test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

static void hex_of(const char *key, char hex[65])
{
    unsigned char d[32];
    vx_sha256(key, strlen(key), d);
    vx_sha256_hex(d, hex);
}

static auth_table *table_from(const char *spec)
{
    auth_table *t = NULL;
    char err[AUTH_ERR_LEN];
    char *copy = strdup(spec);
    if (auth_table_create(&t) != VX_OK || auth_parse_keys(t, copy, err, sizeof(err)) != VX_OK) {
        auth_table_destroy(t);
        t = NULL;
    }
    free(copy);
    return t;
}

TEST(auth_role_names)
{
    auth_role r;
    ASSERT_EQ_INT(auth_role_parse("read", 4, &r), VX_OK);
    ASSERT_EQ_INT(r, AUTH_ROLE_READ);
    ASSERT_EQ_INT(auth_role_parse("write", 5, &r), VX_OK);
    ASSERT_EQ_INT(r, AUTH_ROLE_WRITE);
    ASSERT_EQ_INT(auth_role_parse("admin", 5, &r), VX_OK);
    ASSERT_EQ_INT(r, AUTH_ROLE_ADMIN);
    ASSERT_EQ_INT(auth_role_parse("Admin", 5, &r), VX_ERR_INVALID);
    ASSERT_EQ_INT(auth_role_parse("adminx", 6, &r), VX_ERR_INVALID);
    ASSERT_EQ_INT(auth_role_parse("rea", 3, &r), VX_ERR_INVALID);
    ASSERT_EQ_INT(auth_role_parse("", 0, &r), VX_ERR_INVALID);
    ASSERT_STR_EQ(auth_role_name(AUTH_ROLE_WRITE), "write");
    ASSERT_STR_EQ(auth_role_name(AUTH_ROLE_NONE), "none");
}

TEST(auth_env_keys_parse_and_wipe)
{
    auth_table *t;
    ASSERT_EQ_INT(auth_table_create(&t), VX_OK);
    char spec[] = " read:" K_READ " , ,write:" K_WRITE ",admin:" K_ADMIN ",";
    size_t n = strlen(spec);
    char err[AUTH_ERR_LEN] = "";
    int rc = auth_parse_keys(t, spec, err, sizeof(err));
    ASSERT_MSG(rc == VX_OK, "parse: %s", err);
    ASSERT_EQ_INT(auth_table_count(t), 3);
    for (size_t i = 0; i < n; i++)
        ASSERT_MSG(spec[i] == 0, "byte %zu of the spec not wiped", i);
    auth_role g;
    ASSERT_EQ_INT(auth_check_role(t, "Bearer " K_READ, NULL, AUTH_ROLE_READ, &g), VX_OK);
    ASSERT_EQ_INT(g, AUTH_ROLE_READ);
    ASSERT_EQ_INT(auth_check_role(t, "Bearer " K_WRITE, NULL, AUTH_ROLE_READ, &g), VX_OK);
    ASSERT_EQ_INT(g, AUTH_ROLE_WRITE);
    ASSERT_EQ_INT(auth_check_role(t, NULL, K_ADMIN, AUTH_ROLE_ADMIN, &g), VX_OK);
    ASSERT_EQ_INT(g, AUTH_ROLE_ADMIN);
    auth_table_destroy(t);
}

/* Each bad spec: the error names the entry and never contains the key. */
TEST(auth_env_keys_errors_name_entry_not_key)
{
    static const struct {
        const char *spec;
        int rc;
        const char *must;
    } cases[] = {
        {"read:" K_READ ",secretsecretsecretsecret", VX_ERR_INVALID, "entry 2: expected role:key"},
        {"reader:secretsecretsecretsecret", VX_ERR_INVALID, "entry 1: unknown role"},
        {"secretsecretsecretsecret:read", VX_ERR_INVALID, "entry 1: unknown role"},
        {"write:secretshort", VX_ERR_INVALID, "entry 1: the key must be 16 to 512"},
        {"write:secret\x01secretsecretsecret", VX_ERR_INVALID, "visible ASCII"},
        {"read:secretsecretsecretsecret,admin:secretsecretsecretsecret", VX_ERR_CONFLICT,
         "entry 2: the same key is listed twice"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        auth_table *t;
        ASSERT_EQ_INT(auth_table_create(&t), VX_OK);
        char *spec = strdup(cases[i].spec);
        char err[AUTH_ERR_LEN] = "";
        int rc = auth_parse_keys(t, spec, err, sizeof(err));
        free(spec);
        auth_table_destroy(t);
        ASSERT_MSG(rc == cases[i].rc, "case %zu: rc %d want %d (%s)", i, rc, cases[i].rc, err);
        ASSERT_MSG(strstr(err, cases[i].must) != NULL, "case %zu: error %s lacks %s", i, err,
                   cases[i].must);
        ASSERT_MSG(strstr(err, "secret") == NULL && strstr(err, "key-0123") == NULL,
                   "case %zu: error leaks key material: %s", i, err);
    }
}

TEST(auth_file_with_comments_blank_lines_and_crlf)
{
    char hr[65], hw[65], ha[65], line[1024];
    hex_of(K_READ, hr);
    hex_of(K_WRITE, hw);
    hex_of(K_ADMIN, ha);
    for (int i = 0; ha[i]; i++) /* upper-case hex is accepted too */
        if (ha[i] >= 'a' && ha[i] <= 'f')
            ha[i] = (char)(ha[i] - 32);
    snprintf(line, sizeof(line),
             "# Vectron API keys\n\n  read:%s   # the dashboard\r\nwrite : %s\n\t\nadmin:%s", hr, hw,
             ha);
    const char *path = write_file("keys", line, 0600);
    ASSERT(path);
    auth_table *t;
    char err[AUTH_ERR_LEN] = "";
    ASSERT_EQ_INT(auth_table_create(&t), VX_OK);
    int rc = auth_load_file(t, path, err, sizeof(err));
    ASSERT_MSG(rc == VX_OK, "load: %s", err);
    ASSERT_EQ_INT(auth_table_count(t), 3);
    auth_identity who;
    ASSERT_EQ_INT(auth_check(t, NULL, K_WRITE, AUTH_ROLE_WRITE, &who), VX_OK);
    ASSERT_EQ_INT(who.role, AUTH_ROLE_WRITE);
    /* key_id is "k:" + the first 8 hex digits of sha256(key). */
    char want[16];
    snprintf(want, sizeof(want), "k:%.8s", hw);
    ASSERT_STR_EQ(who.key_id, want);
    ASSERT_EQ_INT(auth_check(t, "Bearer " K_ADMIN, NULL, AUTH_ROLE_ADMIN, &who), VX_OK);
    ASSERT_EQ_INT(auth_check(t, "Bearer " K_READ, NULL, AUTH_ROLE_WRITE, &who), VX_ERR_FORBIDDEN);
    auth_table_destroy(t);
}

TEST(auth_file_errors_name_the_line)
{
    char hr[65], text[1024], err[AUTH_ERR_LEN];
    hex_of(K_READ, hr);
    static const struct {
        const char *line3;
        const char *must;
    } cases[] = {
        {"write", "line 3: expected role:sha256-hex"},
        {"writer:%s", "line 3: unknown role"},
        {"write:" K_WRITE, "line 3: expected 64 hex digits"}, /* a plaintext key by mistake */
        {"write:%s", "line 3: the same key is listed twice"},
        {"write:%.63s", "line 3: expected 64 hex digits"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char l3[200];
        snprintf(l3, sizeof(l3), cases[i].line3, hr);
        snprintf(text, sizeof(text), "# keys\nread:%s\n%s\n", hr, l3);
        const char *path = write_file("bad", text, 0600);
        ASSERT(path);
        auth_table *t;
        ASSERT_EQ_INT(auth_table_create(&t), VX_OK);
        err[0] = 0;
        int rc = auth_load_file(t, path, err, sizeof(err));
        auth_table_destroy(t);
        ASSERT_MSG(rc != VX_OK, "case %zu accepted", i);
        ASSERT_MSG(strstr(err, cases[i].must), "case %zu: %s lacks %s", i, err, cases[i].must);
        ASSERT_MSG(strstr(err, path), "case %zu: %s does not name the file", i, err);
        ASSERT_MSG(!strstr(err, "key-0123"), "case %zu: leaks the key: %s", i, err);
    }
}

TEST(auth_file_missing_or_world_writable)
{
    char err[AUTH_ERR_LEN] = "", path[512], hr[65], text[128];
    auth_table *t;
    ASSERT_EQ_INT(auth_table_create(&t), VX_OK);
    snprintf(path, sizeof(path), "%s/nope", vx_test_tmpdir());
    ASSERT_EQ_INT(auth_load_file(t, path, err, sizeof(err)), VX_ERR_IO);
    ASSERT(strstr(err, path) && strstr(err, "No such file"));
    hex_of(K_READ, hr);
    snprintf(text, sizeof(text), "admin:%s\n", hr);
    const char *p = write_file("ww", text, 0666);
    ASSERT(p);
    ASSERT_EQ_INT(auth_load_file(t, p, err, sizeof(err)), VX_ERR_INVALID);
    ASSERT(strstr(err, "writable by every user"));
    ASSERT_EQ_INT(auth_table_count(t), 0);
    auth_table_destroy(t);
}

TEST(auth_load_env_scrubs_environment)
{
    char hw[65], text[128], err[AUTH_ERR_LEN] = "";
    hex_of(K_WRITE, hw);
    snprintf(text, sizeof(text), "write:%s\n", hw);
    const char *path = write_file("envkeys", text, 0640);
    ASSERT(path);
    setenv("VECTRON_API_KEYS", "read:" K_READ, 1);
    setenv("VECTRON_API_KEYS_FILE", path, 1);
    char *in_env = getenv("VECTRON_API_KEYS");
    size_t n = strlen(in_env);
    auth_table *t = NULL;
    int rc = auth_load_env(&t, err, sizeof(err));
    unsetenv("VECTRON_API_KEYS_FILE");
    ASSERT_MSG(rc == VX_OK, "load_env: %s", err);
    ASSERT_EQ_INT(auth_table_count(t), 2);
    ASSERT(getenv("VECTRON_API_KEYS") == NULL);
    /* glibc keeps setenv'd strings alive after unsetenv: they must be zeros. */
    for (size_t i = 0; i < n; i++)
        ASSERT_MSG(in_env[i] == 0, "environment byte %zu not wiped", i);
    ASSERT_EQ_INT(auth_check(t, NULL, K_READ, AUTH_ROLE_READ, NULL), VX_OK);
    ASSERT_EQ_INT(auth_check(t, NULL, K_WRITE, AUTH_ROLE_WRITE, NULL), VX_OK);
    auth_table_destroy(t);

    /* A bad env value: error, no table, and still scrubbed. */
    setenv("VECTRON_API_KEYS", "root:" K_ADMIN, 1);
    t = (auth_table *)1;
    rc = auth_load_env(&t, err, sizeof(err));
    ASSERT_EQ_INT(rc, VX_ERR_INVALID);
    ASSERT(t == NULL);
    ASSERT(getenv("VECTRON_API_KEYS") == NULL);
    ASSERT(strstr(err, "entry 1: unknown role") && !strstr(err, "key-0123"));

    /* Neither source: empty table (auth off). */
    rc = auth_load_env(&t, err, sizeof(err));
    ASSERT_EQ_INT(rc, VX_OK);
    ASSERT_EQ_INT(auth_table_count(t), 0);
    auth_table_destroy(t);
}

TEST(auth_check_headers_and_statuses)
{
    auth_table *t = table_from("read:" K_READ ",write:" K_WRITE ",admin:" K_ADMIN);
    ASSERT(t);
    auth_identity who;
    /* Missing → 401 with a reason that tells how to send a key. */
    ASSERT_EQ_INT(auth_check(t, NULL, NULL, AUTH_ROLE_READ, &who), VX_ERR_UNAUTHORIZED);
    ASSERT(strstr(who.reason, "Bearer"));
    ASSERT_EQ_INT(auth_check(t, "", NULL, AUTH_ROLE_READ, &who), VX_ERR_UNAUTHORIZED);
    /* Scheme is case-insensitive, whitespace is trimmed. */
    ASSERT_EQ_INT(auth_check(t, "bearer   " K_READ "  ", NULL, AUTH_ROLE_READ, &who), VX_OK);
    ASSERT_EQ_INT(auth_check(t, "BEARER " K_READ, NULL, AUTH_ROLE_READ, &who), VX_OK);
    ASSERT_EQ_INT(auth_check(t, NULL, "  " K_READ, AUTH_ROLE_READ, &who), VX_OK);
    /* Invalid / malformed → 401; the reason never repeats the key. */
    ASSERT_EQ_INT(auth_check(t, "Bearer " K_READ "x", NULL, AUTH_ROLE_READ, &who),
                  VX_ERR_UNAUTHORIZED);
    ASSERT_STR_EQ(who.reason, "invalid API key");
    ASSERT_EQ_INT(who.role, AUTH_ROLE_NONE);
    ASSERT_EQ_INT(auth_check(t, "Bearer", NULL, AUTH_ROLE_READ, &who), VX_ERR_UNAUTHORIZED);
    ASSERT_EQ_INT(auth_check(t, "Bearer a b", NULL, AUTH_ROLE_READ, &who), VX_ERR_UNAUTHORIZED);
    ASSERT_EQ_INT(auth_check(t, K_READ, NULL, AUTH_ROLE_READ, &who), VX_ERR_UNAUTHORIZED);
    ASSERT(!strstr(who.reason, "key-0123"));
    ASSERT_EQ_INT(auth_check(t, "Basic dXNlcjpwYXNz", NULL, AUTH_ROLE_READ, &who),
                  VX_ERR_UNAUTHORIZED);
    /* Basic credentials of a proxy plus our key in X-API-Key: fine. */
    ASSERT_EQ_INT(auth_check(t, "Basic dXNlcjpwYXNz", K_WRITE, AUTH_ROLE_WRITE, &who), VX_OK);
    /* Both headers: must agree. */
    ASSERT_EQ_INT(auth_check(t, "Bearer " K_WRITE, K_WRITE, AUTH_ROLE_WRITE, &who), VX_OK);
    ASSERT_EQ_INT(auth_check(t, "Bearer " K_ADMIN, K_READ, AUTH_ROLE_READ, &who),
                  VX_ERR_UNAUTHORIZED);
    ASSERT(strstr(who.reason, "different keys"));
    /* Roles are ordered; too low → 403 naming both roles. */
    ASSERT_EQ_INT(auth_check(t, NULL, K_READ, AUTH_ROLE_WRITE, &who), VX_ERR_FORBIDDEN);
    ASSERT_STR_EQ(who.reason, "this route needs the write role; the key has read");
    ASSERT_EQ_INT(who.role, AUTH_ROLE_READ);
    ASSERT_EQ_INT(auth_check(t, NULL, K_WRITE, AUTH_ROLE_ADMIN, &who), VX_ERR_FORBIDDEN);
    ASSERT_EQ_INT(auth_check(t, NULL, K_ADMIN, AUTH_ROLE_READ, &who), VX_OK);
    ASSERT_EQ_INT(who.role, AUTH_ROLE_ADMIN);
    /* Open routes: no key, a bad key or a good one are all fine. */
    ASSERT_EQ_INT(auth_check(t, NULL, NULL, AUTH_ROLE_NONE, &who), VX_OK);
    ASSERT_EQ_INT(auth_check(t, "Bearer nope", NULL, AUTH_ROLE_NONE, &who), VX_OK);
    ASSERT_EQ_INT(who.role, AUTH_ROLE_NONE);
    ASSERT_EQ_INT(auth_check(t, "Bearer " K_WRITE, NULL, AUTH_ROLE_NONE, &who), VX_OK);
    ASSERT_EQ_INT(who.role, AUTH_ROLE_WRITE);
    /* A key longer than the limit is refused without hashing surprises. */
    char big[AUTH_MAX_KEY_LEN + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ASSERT_EQ_INT(auth_check(t, NULL, big, AUTH_ROLE_READ, &who), VX_ERR_UNAUTHORIZED);
    auth_table_destroy(t);
}

TEST(auth_off_when_table_empty)
{
    auth_table *t;
    ASSERT_EQ_INT(auth_table_create(&t), VX_OK);
    auth_identity who;
    ASSERT_EQ_INT(auth_check(t, NULL, NULL, AUTH_ROLE_ADMIN, &who), VX_OK);
    ASSERT_EQ_INT(who.role, AUTH_ROLE_ADMIN);
    ASSERT_STR_EQ(who.key_id, "");
    ASSERT_EQ_INT(auth_check(NULL, NULL, NULL, AUTH_ROLE_WRITE, NULL), VX_OK);
    auth_table_destroy(t);
}

TEST(auth_add_key_rules)
{
    auth_table *t;
    ASSERT_EQ_INT(auth_table_create(&t), VX_OK);
    ASSERT_EQ_INT(auth_table_add_key(t, AUTH_ROLE_READ, "short", 5), VX_ERR_INVALID);
    ASSERT_EQ_INT(auth_table_add_key(t, AUTH_ROLE_READ, "has space in the key", 20),
                  VX_ERR_INVALID);
    ASSERT_EQ_INT(auth_table_add_key(t, AUTH_ROLE_NONE, K_READ, strlen(K_READ)), VX_ERR_INVALID);
    ASSERT_EQ_INT(auth_table_add_key(t, AUTH_ROLE_READ, K_READ, strlen(K_READ)), VX_OK);
    ASSERT_EQ_INT(auth_table_add_key(t, AUTH_ROLE_ADMIN, K_READ, strlen(K_READ)), VX_ERR_CONFLICT);
    /* The same key through a digest is the same key. */
    unsigned char d[32];
    vx_sha256(K_READ, strlen(K_READ), d);
    ASSERT_EQ_INT(auth_table_add_digest(t, AUTH_ROLE_WRITE, d), VX_ERR_CONFLICT);
    /* Growth past the initial capacity keeps every key. */
    for (int i = 0; i < 100; i++) {
        char k[64];
        snprintf(k, sizeof(k), "generated-key-number-%03d", i);
        ASSERT_EQ_INT(auth_table_add_key(t, AUTH_ROLE_WRITE, k, strlen(k)), VX_OK);
    }
    ASSERT_EQ_INT(auth_table_count(t), 101);
    ASSERT_EQ_INT(auth_check(t, NULL, "generated-key-number-000", AUTH_ROLE_WRITE, NULL), VX_OK);
    ASSERT_EQ_INT(auth_check(t, NULL, "generated-key-number-099", AUTH_ROLE_WRITE, NULL), VX_OK);
    ASSERT_EQ_INT(auth_check(t, NULL, K_READ, AUTH_ROLE_READ, NULL), VX_OK);
    auth_table_destroy(t);
}

TEST(auth_route_policy)
{
    static const struct {
        const char *m, *p;
        auth_role r;
    } want[] = {
        {"GET", "/health", AUTH_ROLE_NONE},
        {"HEAD", "/health", AUTH_ROLE_NONE},
        {"GET", "/dashboard", AUTH_ROLE_NONE},
        {"GET", "/dashboard/app.js", AUTH_ROLE_NONE},
        {"GET", "/dashboard/style.css", AUTH_ROLE_NONE},
        {"POST", "/dashboard", AUTH_ROLE_ADMIN},
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
        /* Fail closed: an unlisted route needs admin. */
        {"POST", "/admin/keys", AUTH_ROLE_ADMIN},
        {"PATCH", "/collections/{name}", AUTH_ROLE_ADMIN},
        {"POST", "/health", AUTH_ROLE_ADMIN},
        /* No route matched (404/405): a valid key of any role. */
        {"GET", NULL, AUTH_ROLE_READ},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ASSERT_MSG(auth_required_role(want[i].m, want[i].p) == want[i].r, "%s %s: got %s", want[i].m,
                   want[i].p ? want[i].p : "(none)",
                   auth_role_name(auth_required_role(want[i].m, want[i].p)));
}

TEST(auth_bind_rule)
{
    char msg[512];
    const char *loop[] = {"127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "::ffff:127.0.0.1",
                          "", NULL};
    for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
        ASSERT_MSG(auth_bind_allowed(loop[i], false, false, msg, sizeof(msg)) == VX_OK, "%s: %s",
                   loop[i] ? loop[i] : "NULL", msg);
        ASSERT_STR_EQ(msg, "");
    }
    const char *open[] = {"0.0.0.0", "::", "10.1.2.3", "192.168.0.5", "example.com", "128.0.0.1"};
    for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
        ASSERT_MSG(auth_bind_allowed(open[i], false, false, msg, sizeof(msg)) == VX_ERR_INVALID,
                   "%s allowed without keys", open[i]);
        ASSERT(strstr(msg, open[i]) && strstr(msg, "VECTRON_API_KEYS") && strstr(msg, "--insecure"));
        ASSERT_EQ_INT(auth_bind_allowed(open[i], true, false, msg, sizeof(msg)), VX_OK);
        ASSERT_STR_EQ(msg, "");
        ASSERT_EQ_INT(auth_bind_allowed(open[i], false, true, msg, sizeof(msg)), VX_OK);
        ASSERT(strstr(msg, "WITHOUT authentication"));
    }
}

TEST(auth_client_addr_trusts_only_the_proxy)
{
    char out[64];
    /* No trusted proxy: the header is ignored. */
    auth_client_addr("10.0.0.7", "1.2.3.4", "", out, sizeof(out));
    ASSERT_STR_EQ(out, "10.0.0.7");
    auth_client_addr("10.0.0.7", "1.2.3.4", NULL, out, sizeof(out));
    ASSERT_STR_EQ(out, "10.0.0.7");
    /* Peer is not the proxy: ignored. */
    auth_client_addr("10.0.0.7", "1.2.3.4", "127.0.0.1", out, sizeof(out));
    ASSERT_STR_EQ(out, "10.0.0.7");
    /* Peer is the proxy: the last hop counts (a client-sent prefix does not). */
    auth_client_addr("127.0.0.1", "6.6.6.6, 1.2.3.4", " 10.9.9.9 , 127.0.0.1", out, sizeof(out));
    ASSERT_STR_EQ(out, "1.2.3.4");
    auth_client_addr("::1", "2001:db8::7", "127.0.0.1,::1", out, sizeof(out));
    ASSERT_STR_EQ(out, "2001:db8::7");
    /* A garbage header falls back to the peer. */
    auth_client_addr("127.0.0.1", "not-an-ip", "127.0.0.1", out, sizeof(out));
    ASSERT_STR_EQ(out, "127.0.0.1");
    auth_client_addr("127.0.0.1", NULL, "127.0.0.1", out, sizeof(out));
    ASSERT_STR_EQ(out, "127.0.0.1");
    /* Truncation is safe. */
    char tiny[4];
    auth_client_addr("10.0.0.7", NULL, NULL, tiny, sizeof(tiny));
    ASSERT_STR_EQ(tiny, "10.");
}
