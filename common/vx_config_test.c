/*
 * vx_config_test.c — configuration tables: every type, precedence
 * default < env < flag, both flag syntaxes, range/enum/int errors that name
 * the key, unknown flags, --help and --print-config output (secrets masked).
 */
#include "vx_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vx_test.h"

/* The table under test: one row of every type, plus a secret. */
static const char *t_data_dir;
static int64_t t_port;
static bool t_fsync;
static int t_policy;
static const char *t_api_key;
static int64_t t_delta;

#define ENV_DATA "VXTEST_DATA_DIR"
#define ENV_PORT "VXTEST_PORT"
#define ENV_FSYNC "VXTEST_FSYNC"
#define ENV_POLICY "VXTEST_POLICY"
#define ENV_KEY "VXTEST_API_KEY"

static const vx_conf_row t_rows[] = {
    {"data_dir", ENV_DATA, "--data-dir", VX_CONF_STRING, &t_data_dir, "./data", 0, 0, NULL,
     "data directory", false},
    {"port", ENV_PORT, "--port", VX_CONF_INT, &t_port, "3000", 1, 65535, NULL, "HTTP port", false},
    {"fsync", ENV_FSYNC, "--fsync", VX_CONF_BOOL, &t_fsync, "true", 0, 0, NULL, "fsync writes",
     false},
    {"wal_policy", ENV_POLICY, "--wal-policy", VX_CONF_ENUM, &t_policy, "everysec", 0, 0,
     "always|everysec|none", "WAL sync policy", false},
    {"api_key", ENV_KEY, "--api-key", VX_CONF_STRING, &t_api_key, NULL, 0, 0, NULL, "API key",
     true},
    {"delta", NULL, "--delta", VX_CONF_INT, &t_delta, "-5", 0, 0, NULL, "unbounded integer",
     false},
};
#define N_ROWS (sizeof t_rows / sizeof t_rows[0])

static void clear_env(void)
{
    unsetenv(ENV_DATA);
    unsetenv(ENV_PORT);
    unsetenv(ENV_FSYNC);
    unsetenv(ENV_POLICY);
    unsetenv(ENV_KEY);
}

/* Runs vx_config_load with stdout and stderr captured into out/err. */
static vx_config_result load_capture(int argc, char **argv, char *out, size_t out_n, char *err,
                                     size_t err_n)
{
    char opath[512], epath[512];
    snprintf(opath, sizeof opath, "%s/out.txt", vx_test_tmpdir());
    snprintf(epath, sizeof epath, "%s/err.txt", vx_test_tmpdir());
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *fo = fopen(opath, "w+"), *fe = fopen(epath, "w+");
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    vx_config_result r = vx_config_load(t_rows, N_ROWS, argc, argv, "vxtest", "A test service.");
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    size_t n;
    rewind(fo);
    n = fread(out, 1, out_n - 1, fo);
    out[n] = '\0';
    rewind(fe);
    n = fread(err, 1, err_n - 1, fe);
    err[n] = '\0';
    fclose(fo);
    fclose(fe);
    return r;
}

#define LOAD(...)                                                                        \
    ({                                                                                   \
        char *argv_[] = {"vxtest", __VA_ARGS__, NULL};                                   \
        load_capture((int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_, out, sizeof out, \
                     err, sizeof err);                                                   \
    })

TEST(config_defaults)
{
    clear_env();
    char out[4096], err[4096];
    char *argv[] = {"vxtest", NULL};
    ASSERT_EQ_INT(load_capture(1, argv, out, sizeof out, err, sizeof err), VX_CONFIG_OK);
    ASSERT_STR_EQ(t_data_dir, "./data");
    ASSERT_EQ_INT(t_port, 3000);
    ASSERT(t_fsync == true);
    ASSERT_EQ_INT(t_policy, 1);
    ASSERT(t_api_key == NULL);
    ASSERT_EQ_INT(t_delta, -5);
    ASSERT_STR_EQ(out, "");
    ASSERT_STR_EQ(err, "");
}

TEST(config_precedence_default_env_flag)
{
    clear_env();
    char out[4096], err[4096];
    setenv(ENV_PORT, "4000", 1);
    setenv(ENV_DATA, "/env/data", 1);
    setenv(ENV_FSYNC, "off", 1);
    setenv(ENV_POLICY, "none", 1);
    setenv(ENV_KEY, "sk-env", 1);
    /* env beats default */
    ASSERT_EQ_INT(LOAD("--delta", "7"), VX_CONFIG_OK);
    ASSERT_EQ_INT(t_port, 4000);
    ASSERT_STR_EQ(t_data_dir, "/env/data");
    ASSERT(t_fsync == false);
    ASSERT_EQ_INT(t_policy, 2);
    ASSERT_STR_EQ(t_api_key, "sk-env");
    ASSERT_EQ_INT(t_delta, 7);
    /* flag beats env, both syntaxes */
    ASSERT_EQ_INT(LOAD("--port=5000", "--data-dir", "/flag/data", "--fsync", "--wal-policy=always",
                       "--api-key", "sk-flag"),
                  VX_CONFIG_OK);
    ASSERT_EQ_INT(t_port, 5000);
    ASSERT_STR_EQ(t_data_dir, "/flag/data");
    ASSERT(t_fsync == true);
    ASSERT_EQ_INT(t_policy, 0);
    ASSERT_STR_EQ(t_api_key, "sk-flag");
    /* an empty env variable counts as unset */
    setenv(ENV_PORT, "", 1);
    ASSERT_EQ_INT(LOAD("--delta", "0"), VX_CONFIG_OK);
    ASSERT_EQ_INT(t_port, 3000);
    /* last flag wins; "=" allows values starting with "--" */
    ASSERT_EQ_INT(LOAD("--port", "1", "--port", "65535", "--data-dir=--odd"), VX_CONFIG_OK);
    ASSERT_EQ_INT(t_port, 65535);
    ASSERT_STR_EQ(t_data_dir, "--odd");
    clear_env();
}

TEST(config_bool_forms)
{
    clear_env();
    char out[4096], err[4096];
    ASSERT_EQ_INT(LOAD("--fsync", "no"), VX_CONFIG_OK);
    ASSERT(t_fsync == false);
    ASSERT_EQ_INT(LOAD("--fsync=YES"), VX_CONFIG_OK);
    ASSERT(t_fsync == true);
    ASSERT_EQ_INT(LOAD("--fsync=0"), VX_CONFIG_OK);
    ASSERT(t_fsync == false);
    /* bare bool flag followed by another flag means true */
    ASSERT_EQ_INT(LOAD("--fsync", "--port", "80"), VX_CONFIG_OK);
    ASSERT(t_fsync == true);
    ASSERT_EQ_INT(t_port, 80);
    ASSERT_EQ_INT(LOAD("--fsync=maybe"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "fsync") != NULL);
    ASSERT(strstr(err, "maybe") != NULL);
}

TEST(config_int_errors_name_key_and_range)
{
    clear_env();
    char out[4096], err[4096];
    ASSERT_EQ_INT(LOAD("--port", "abc"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "port") != NULL);
    ASSERT(strstr(err, "\"abc\"") != NULL);
    ASSERT(strstr(err, "1..65535") != NULL);
    ASSERT_EQ_INT(LOAD("--port", "70000"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "port") != NULL && strstr(err, "out of range") != NULL);
    ASSERT(strstr(err, "1..65535") != NULL);
    ASSERT_EQ_INT(LOAD("--port", "0"), VX_CONFIG_ERROR);
    ASSERT_EQ_INT(LOAD("--port", "12x"), VX_CONFIG_ERROR);
    ASSERT_EQ_INT(LOAD("--port", ""), VX_CONFIG_ERROR);
    ASSERT_EQ_INT(LOAD("--delta", "99999999999999999999"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "delta") != NULL);
    ASSERT_EQ_INT(LOAD("--delta", "-9223372036854775808"), VX_CONFIG_OK);
    ASSERT(t_delta == INT64_MIN);
    /* bad environment values are named with their variable */
    setenv(ENV_PORT, "-1", 1);
    ASSERT_EQ_INT(LOAD("--delta", "1"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, ENV_PORT) != NULL);
    ASSERT(strstr(err, "environment") != NULL);
    /* ...unless a flag overrides it? No: a bad env value is still an error,
     * because it is applied before flags and silently ignoring it would
     * hide a misconfiguration. */
    ASSERT_EQ_INT(LOAD("--port", "80"), VX_CONFIG_ERROR);
    clear_env();
}

TEST(config_enum_errors_list_choices)
{
    clear_env();
    char out[4096], err[4096];
    ASSERT_EQ_INT(LOAD("--wal-policy", "sometimes"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "wal_policy") != NULL);
    ASSERT(strstr(err, "always|everysec|none") != NULL);
    /* prefixes and case variants are not choices */
    ASSERT_EQ_INT(LOAD("--wal-policy", "every"), VX_CONFIG_ERROR);
    ASSERT_EQ_INT(LOAD("--wal-policy", "NONE"), VX_CONFIG_ERROR);
    ASSERT_EQ_INT(LOAD("--wal-policy", "none"), VX_CONFIG_OK);
    ASSERT_EQ_INT(t_policy, 2);
}

TEST(config_unknown_and_malformed_arguments)
{
    clear_env();
    char out[4096], err[4096];
    ASSERT_EQ_INT(LOAD("--prot", "80"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "--prot") != NULL);
    ASSERT(strstr(err, "unknown") != NULL);
    ASSERT_EQ_INT(LOAD("--prot=80"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "\"--prot\"") != NULL);
    ASSERT_EQ_INT(LOAD("stray"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "stray") != NULL);
    ASSERT_EQ_INT(LOAD("--port"), VX_CONFIG_ERROR);
    ASSERT(strstr(err, "needs a value") != NULL);
}

TEST(config_help_lists_every_key)
{
    clear_env();
    char out[8192], err[4096];
    setenv(ENV_PORT, "bogus", 1); /* --help works even with a bad value around */
    ASSERT_EQ_INT(LOAD("--help"), VX_CONFIG_EXIT);
    clear_env();
    ASSERT(strncmp(out, "Usage: vxtest", 13) == 0);
    ASSERT(strstr(out, "A test service.") != NULL);
    for (size_t i = 0; i < N_ROWS; i++) {
        const char *line = strstr(out, t_rows[i].flag);
        ASSERT_MSG(line != NULL, "help lacks %s", t_rows[i].flag);
        const char *eol = strchr(line, '\n');
        ASSERT(eol);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(eol - line), line);
        if (t_rows[i].env)
            ASSERT_MSG(strstr(buf, t_rows[i].env), "line \"%s\" lacks env", buf);
        ASSERT_MSG(strstr(buf, t_rows[i].help), "line \"%s\" lacks help", buf);
        if (!t_rows[i].secret && t_rows[i].def)
            ASSERT_MSG(strstr(buf, t_rows[i].def), "line \"%s\" lacks default", buf);
    }
    ASSERT(strstr(out, "range 1..65535") != NULL);
    ASSERT(strstr(out, "always|everysec|none") != NULL);
    ASSERT(strstr(out, "--print-config") != NULL);
    ASSERT_STR_EQ(err, "");
}

TEST(config_print_config_masks_secrets)
{
    clear_env();
    char out[8192], err[4096];
    setenv(ENV_KEY, "sk-very-secret", 1);
    ASSERT_EQ_INT(LOAD("--print-config", "--port", "8080"), VX_CONFIG_EXIT);
    ASSERT(strstr(out, "sk-very-secret") == NULL);
    ASSERT(strstr(out, "api_key = (set)") != NULL);
    ASSERT(strstr(out, "port = 8080") != NULL);
    ASSERT(strstr(out, "command line") != NULL);
    ASSERT(strstr(out, "data_dir = ./data") != NULL);
    ASSERT(strstr(out, "fsync = true") != NULL);
    ASSERT(strstr(out, "wal_policy = everysec") != NULL);
    ASSERT(strstr(out, "delta = -5") != NULL);
    unsetenv(ENV_KEY);
    ASSERT_EQ_INT(LOAD("--print-config"), VX_CONFIG_EXIT);
    ASSERT(strstr(out, "api_key = (unset)") != NULL);
    /* --print-config fails like the service would */
    ASSERT_EQ_INT(LOAD("--print-config", "--port", "0"), VX_CONFIG_ERROR);
    /* a secret's bad value is not echoed in errors */
    static int64_t secret_num;
    static const vx_conf_row srow[] = {
        {"pin", NULL, "--pin", VX_CONF_INT, &secret_num, "1", 0, 9999, NULL, "pin", true},
    };
    char *argv[] = {"vxtest", "--pin", "123456", NULL};
    fflush(stderr);
    char epath[512];
    snprintf(epath, sizeof epath, "%s/pin.txt", vx_test_tmpdir());
    int saved = dup(2);
    FILE *fe = fopen(epath, "w+");
    dup2(fileno(fe), 2);
    vx_config_result r = vx_config_load(srow, 1, 3, argv, "vxtest", NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(fe);
    size_t n = fread(err, 1, sizeof err - 1, fe);
    err[n] = '\0';
    fclose(fe);
    ASSERT_EQ_INT(r, VX_CONFIG_ERROR);
    ASSERT(strstr(err, "pin") != NULL);
    ASSERT(strstr(err, "123456") == NULL);
}

TEST(config_bad_default_is_reported)
{
    static int64_t v;
    static const vx_conf_row bad[] = {
        {"workers", NULL, "--workers", VX_CONF_INT, &v, "0", 1, 64, NULL, "workers", false},
    };
    char *argv[] = {"vxtest", NULL};
    fflush(stderr);
    int saved = dup(2);
    FILE *fe = tmpfile();
    dup2(fileno(fe), 2);
    vx_config_result r = vx_config_load(bad, 1, 1, argv, "vxtest", NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(fe);
    ASSERT_EQ_INT(r, VX_CONFIG_ERROR);
}
