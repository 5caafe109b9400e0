/*
 * vx_test.h — the unit-test harness shared by every *_test.c.
 *
 *   TEST(arena_grows) { ... ASSERT(x); ASSERT_EQ_INT(a, b); ... }
 *
 * Tests register themselves at load time; tests/harness/vx_test.c provides
 * main(), which runs them all (or those whose name contains argv[1]), prints
 * one line per test and ends with "N passed, N failed". A failed ASSERT
 * records the failure and returns from the test function, so tests must
 * not leave resources that a later test depends on.
 */
#ifndef VX_TEST_H
#define VX_TEST_H

#include <stdint.h>
#include <string.h>

typedef void (*vx_test_fn)(void);

void vx_test_register(const char *name, vx_test_fn fn, const char *file);
void vx_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Directory for temporary files of the current test (created, removed after). */
const char *vx_test_tmpdir(void);

#define TEST(name)                                                                    \
    static void name(void);                                                           \
    __attribute__((constructor)) static void name##_register(void)                    \
    {                                                                                 \
        vx_test_register(#name, name, __FILE__);                                      \
    }                                                                                 \
    static void name(void)

#define ASSERT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) {                                                                \
            vx_test_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);          \
            return;                                                                   \
        }                                                                             \
    } while (0)

#define ASSERT_MSG(cond, ...)                                                         \
    do {                                                                              \
        if (!(cond)) {                                                                \
            vx_test_fail(__FILE__, __LINE__, __VA_ARGS__);                            \
            return;                                                                   \
        }                                                                             \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                                           \
    do {                                                                              \
        long long vx_a_ = (long long)(a), vx_b_ = (long long)(b);                     \
        if (vx_a_ != vx_b_) {                                                         \
            vx_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, vx_a_, \
                         vx_b_);                                                      \
            return;                                                                   \
        }                                                                             \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                           \
    do {                                                                              \
        const char *vx_a_ = (a), *vx_b_ = (b);                                        \
        if (!vx_a_ || !vx_b_ || strcmp(vx_a_, vx_b_) != 0) {                          \
            vx_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,    \
                         vx_a_ ? vx_a_ : "(null)", vx_b_ ? vx_b_ : "(null)");         \
            return;                                                                   \
        }                                                                             \
    } while (0)

#define ASSERT_NEAR(a, b, eps)                                                        \
    do {                                                                              \
        double vx_a_ = (double)(a), vx_b_ = (double)(b);                              \
        if (!(vx_a_ - vx_b_ <= (eps) && vx_b_ - vx_a_ <= (eps))) {                    \
            vx_test_fail(__FILE__, __LINE__, "%s ~= %s: %.9g vs %.9g (eps %g)", #a,   \
                         #b, vx_a_, vx_b_, (double)(eps));                            \
            return;                                                                   \
        }                                                                             \
    } while (0)

#endif
