/*
 * auth.h — API keys, roles and the bind-address safety rule of vectron-api.
 *
 * Roles are ordered: read < write < admin; a key of a role may do what the
 * lower roles may. Keys come from two sources (both may be used together):
 *   VECTRON_API_KEYS       "role:key,role:key" — plaintext, for quick starts;
 *                          hashed at load, then the plaintext (our copy AND
 *                          the environment string) is wiped.
 *   VECTRON_API_KEYS_FILE  one "role:<64 hex digits of sha256(key)>" per line;
 *                          '#' starts a comment, blank lines are ignored.
 * The table holds only SHA-256 digests. A presented key is hashed and
 * compared with EVERY digest in constant time. No function here ever writes
 * a key (or any part of a VECTRON_API_KEYS entry) into a message or a log:
 * errors name the source, the entry/line number and what is wrong.
 *
 * An empty table means "auth off" (allowed only where auth_bind_allowed
 * says so): auth_check then grants admin to everybody.
 *
 * Ownership: auth_table is opaque, created by auth_table_create or the
 * loaders, freed (and wiped) by auth_table_destroy. Immutable after loading,
 * so auth_check may run on many threads at once.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum auth_role {
    AUTH_ROLE_NONE = 0, /* open route: no key needed */
    AUTH_ROLE_READ = 1,
    AUTH_ROLE_WRITE = 2,
    AUTH_ROLE_ADMIN = 3,
} auth_role;

#define AUTH_MIN_KEY_LEN 16   /* plaintext keys shorter than this are refused */
#define AUTH_MAX_KEY_LEN 512  /* longer presented or configured keys are refused */
#define AUTH_MAX_KEYS 4096    /* keys per table */
#define AUTH_KEY_ID_LEN 12    /* "k:" + 8 hex digits + NUL, see auth_identity */
#define AUTH_ERR_LEN 256      /* a good size for the err buffers below */
#define AUTH_REASON_LEN 128

typedef struct auth_table auth_table;

/* Who a successful auth_check let in. key_id is "k:" + the first 8 hex
 * digits of sha256(key) — stable, safe to log and to key rate limits by
 * (operators get it with: printf %s KEY | sha256sum | cut -c1-8). With auth
 * off it is "" and role is admin. */
typedef struct auth_identity {
    auth_role role;
    char key_id[AUTH_KEY_ID_LEN];
    /* For a refusal: what to tell the client, e.g. "invalid API key" or
     * "this route needs the write role; the key has read" (never the key). */
    char reason[AUTH_REASON_LEN];
} auth_identity;

/* "read" | "write" | "admin" | "none". */
const char *auth_role_name(auth_role r);
/* Parses one of read/write/admin (exact, lower case) of len bytes.
 * Returns VX_OK or VX_ERR_INVALID. */
int auth_role_parse(const char *s, size_t len, auth_role *out);

int auth_table_create(auth_table **out);
void auth_table_destroy(auth_table *t);
/* Number of keys; 0 means auth is off. */
size_t auth_table_count(const auth_table *t);

/* Adds a plaintext key (hashed here; the caller wipes its copy). Returns
 * VX_OK, VX_ERR_INVALID (too short/long, a byte outside '!'..'~'),
 * VX_ERR_CONFLICT (the same key is already present) or VX_ERR_LIMIT. */
int auth_table_add_key(auth_table *t, auth_role role, const char *key, size_t len);
/* Adds a digest; same errors (no length rule: the key is unknown). */
int auth_table_add_digest(auth_table *t, auth_role role, const unsigned char digest[32]);

/* Parses a VECTRON_API_KEYS value into t. spec is modified: every byte of
 * it is wiped before returning, on success and on error. Entries are
 * separated by ',' (surrounding spaces ignored; empty entries skipped).
 * On error returns VX_ERR_INVALID/CONFLICT/LIMIT and writes e.g.
 * "VECTRON_API_KEYS entry 2: unknown role (want read, write or admin)". */
int auth_parse_keys(auth_table *t, char *spec, char *err, size_t err_len);
/* Loads a keys file into t. Errors: VX_ERR_IO (cannot open/read; message
 * names the path and strerror), VX_ERR_INVALID/CONFLICT/LIMIT with
 * "<path> line 7: expected 64 hex digits after \"write:\"". */
int auth_load_file(auth_table *t, const char *path, char *err, size_t err_len);

/* Builds a table from the environment: VECTRON_API_KEYS (then scrubbed
 * from the environment: its bytes are zeroed in place and the variable is
 * unset) and VECTRON_API_KEYS_FILE. Either may be absent; with neither the
 * table is empty (auth off). On error *out is NULL and err says why.
 * Call it at start-up, before other threads exist (it calls unsetenv). */
int auth_load_env(auth_table **out, char *err, size_t err_len);

/* Checks the credentials of one request. authorization is the raw
 * Authorization header ("Bearer <key>", scheme case-insensitive) or NULL;
 * x_api_key the raw X-API-Key header or NULL. When both are given they
 * must carry the same key. Returns:
 *   VX_OK                 needed is NONE, or the key is valid with a role
 *                         >= needed (or the table is empty: auth off);
 *   VX_ERR_UNAUTHORIZED   no key, a malformed header, or an unknown key;
 *   VX_ERR_FORBIDDEN      a valid key whose role is below needed.
 * who (may be NULL) is always filled: role and key_id of a valid key (role
 * NONE when none was valid), reason for a refusal. On an open route
 * (needed == NONE) an invalid key is not an error. */
int auth_check(const auth_table *t, const char *authorization, const char *x_api_key,
               auth_role needed, auth_identity *who);
/* Same as auth_check with who == NULL, but reports the granted role. */
int auth_check_role(const auth_table *t, const char *authorization, const char *x_api_key,
                    auth_role needed, auth_role *granted);

/* The role a route needs. pattern is the route table's pattern
 * ("/collections/{name}/points"), or NULL for a request no route matched
 * (404/405: needs READ, so unauthenticated clients cannot map the API).
 * Unknown (method, pattern) pairs need ADMIN: new routes fail closed. */
auth_role auth_required_role(const char *method, const char *pattern);

/* The bind-address rule. Loopback (127.0.0.0/8, ::1, "localhost") is always
 * allowed. Any other address needs keys, unless insecure is set. Returns
 * VX_OK (msg holds a warning for the log when insecure was needed, else "")
 * or VX_ERR_INVALID with msg saying why and how to fix it. */
int auth_bind_allowed(const char *bind_addr, bool have_keys, bool insecure, char *msg,
                      size_t msg_len);

/* The client address to log and rate-limit by: the last address of
 * X-Forwarded-For when the peer (remote_ip) is one of trusted_proxies (a
 * comma-separated list of IP addresses, "" or NULL for none) and the header
 * holds a valid IP address; otherwise remote_ip. Writes at most out_len
 * bytes (NUL-terminated). */
void auth_client_addr(const char *remote_ip, const char *xff, const char *trusted_proxies,
                      char *out, size_t out_len);

#endif
