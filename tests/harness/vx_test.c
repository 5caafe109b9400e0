/*
 * vx_test.c — main() for unit-test binaries (see vx_test.h).
 * Usage: <test-binary> [name-substring] [-v]
 */
#include "vx_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define VX_TEST_MAX 1024

typedef struct {
    const char *name;
    vx_test_fn fn;
    const char *file;
} vx_test_case;

static vx_test_case vx_tests[VX_TEST_MAX];
static int vx_n_tests;
static int vx_current_failed;
static char vx_tmpdir[256];

void vx_test_register(const char *name, vx_test_fn fn, const char *file)
{
    if (vx_n_tests < VX_TEST_MAX)
        vx_tests[vx_n_tests++] = (vx_test_case){name, fn, file};
}

void vx_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    vx_current_failed = 1;
}

const char *vx_test_tmpdir(void)
{
    if (!vx_tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(vx_tmpdir, sizeof vx_tmpdir, "%s/vxtest.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(vx_tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return vx_tmpdir;
}

static void vx_test_cleanup_tmpdir(void)
{
    if (vx_tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", vx_tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", vx_tmpdir);
        vx_tmpdir[0] = '\0';
    }
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-')
            filter = argv[i];
    int passed = 0, failed = 0;
    for (int i = 0; i < vx_n_tests; i++) {
        if (filter && !strstr(vx_tests[i].name, filter))
            continue;
        vx_current_failed = 0;
        vx_tests[i].fn();
        vx_test_cleanup_tmpdir();
        if (vx_current_failed) {
            failed++;
            printf("FAIL %s (%s)\n", vx_tests[i].name, vx_tests[i].file);
        } else {
            passed++;
            printf("ok   %s\n", vx_tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
