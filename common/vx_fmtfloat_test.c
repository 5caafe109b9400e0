/*
 * vx_fmtfloat_test.c — shortest round-trip formatting: exact text of edge
 * cases, powers of 2 and 10 and their neighbours, and 2^21 random float bit
 * patterns (plus random doubles) checked against the C library:
 *   (a) strtof/strtod of the output gives back the value bit-exactly;
 *   (b) shortest: no decimal with one digit less reads back as the value.
 *       Given (a), if one did, the neighbour of our digits on that coarser
 *       grid on its side would too, so trying those two settles it;
 *   (c) with n our digit count, "%.ng" (written "%.(n-1)e") reads back and
 *       has exactly our digits (it is the nearest n-digit decimal, so ours
 *       is the nearest of the shortest). With (b) this makes n the length of
 *       the shortest "%.Ng" that reads back: the rounding interval is
 *       symmetric unless the significand is a power of two, so a nearer
 *       N-digit decimal reads back whenever a farther one does. Next to
 *       powers of two the true shortest can be shorter than every "%.Ng"
 *       that reads back (2^-96, 2^87, 2^90 for float): only there may (c)
 *       find "%.ng" failing.
 * The exhaustive check over all 2^32 floats is
 * scripts/check-fmtfloat-exhaustive.sh (not part of make test).
 */
#include "vx_fmtfloat.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vx_test.h"

/* ---- helpers ----------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float f_of_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof(f));
    return f;
}

static uint32_t bits_of_f(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof(b));
    return b;
}

static double d_of_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

static uint64_t bits_of_d(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

/* A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* Digits and exponent of a "%.Ne" string, trailing zeros dropped. */
static void parse_e(const char *s, uint64_t *d, int *x)
{
    uint64_t v = 0;
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') {
            v = v * 10 + (uint64_t)(*s - '0');
            n++;
        }
    int e = (int)strtol(s + 1, NULL, 10) - (n - 1);
    while (v != 0 && v % 10 == 0) {
        v /= 10;
        e++;
    }
    *d = v;
    *x = e;
}

/* "<c>e<x>" into buf (snprintf would dominate the random test's time). */
static void put_candidate(char *buf, uint64_t c, int x)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + c % 10);
        c /= 10;
    } while (c);
    while (n)
        *buf++ = t[--n];
    *buf++ = 'e';
    if (x < 0) {
        *buf++ = '-';
        x = -x;
    }
    if (x >= 100)
        *buf++ = (char)('0' + x / 100);
    if (x >= 10)
        *buf++ = (char)('0' + x / 10 % 10);
    *buf++ = (char)('0' + x % 10);
    *buf = '\0';
}

/* Checks (a), (b), (c) for one finite float; returns a message or NULL.
 * *shorter is set when our output is shorter than every "%.Ng". */
static const char *check_float(float f, bool *shorter)
{
    static char msg[200];
    char out[VX_FMT_BUFSZ], tmp[64];
    size_t len = vx_fmt_float(f, out);
    if (len != strlen(out) || !is_json_number(out))
        return "not a JSON number";
    if (bits_of_f(strtof(out, NULL)) != bits_of_f(f))
        return "(a) does not read back";
    uint32_t d;
    int x;
    int n = vx_fmt_float_decimal(f, &d, &x);
    if (f == 0)
        return (n == 1 && d == 0) ? NULL : "zero";
    if (d % 10 == 0 || n < 1 || n > 9)
        return "digits";
    float a = fabsf(f);
    if (n > 1) { /* (b): d/10 and d/10 + 1 at 10^(x+1) */
        for (uint32_t c = d / 10; c <= d / 10 + 1; c++) {
            put_candidate(tmp, c, x + 1);
            if (c != 0 && strtof(tmp, NULL) == a) {
                snprintf(msg, sizeof(msg), "(b) %s reads back, ours %s", tmp, out);
                return msg;
            }
        }
    }
    /* (c) */
    snprintf(tmp, sizeof(tmp), "%.*e", n - 1, (double)a);
    *shorter = false;
    if (strtof(tmp, NULL) != a) {
        if (bits_of_f(a) & 0x7fffffu) {
            snprintf(msg, sizeof(msg), "(c) %%.%de %s fails, ours %s", n - 1, tmp, out);
            return msg;
        }
        *shorter = true; /* power of two: legitimately shorter */
        return NULL;
    }
    uint64_t pd;
    int px;
    parse_e(tmp, &pd, &px);
    if (pd != d || px != x) {
        snprintf(msg, sizeof(msg), "(c) not the nearest: %s vs ours %s", tmp, out);
        return msg;
    }
    return NULL;
}

/* Same for a finite double (strtod). */
static const char *check_double(double f)
{
    static char msg[200];
    char out[VX_FMT_BUFSZ], tmp[64];
    size_t len = vx_fmt_double(f, out);
    if (len != strlen(out) || !is_json_number(out))
        return "not a JSON number";
    if (bits_of_d(strtod(out, NULL)) != bits_of_d(f))
        return "(a) does not read back";
    uint64_t d;
    int x;
    int n = vx_fmt_double_decimal(f, &d, &x);
    if (f == 0)
        return (n == 1 && d == 0) ? NULL : "zero";
    if (d % 10 == 0 || n < 1 || n > 17)
        return "digits";
    double a = fabs(f);
    if (n > 1) {
        for (uint64_t c = d / 10; c <= d / 10 + 1; c++) {
            put_candidate(tmp, c, x + 1);
            if (c != 0 && strtod(tmp, NULL) == a) {
                snprintf(msg, sizeof(msg), "(b) %s reads back, ours %s", tmp, out);
                return msg;
            }
        }
    }
    snprintf(tmp, sizeof(tmp), "%.*e", n - 1, a);
    if (strtod(tmp, NULL) != a) {
        if (bits_of_d(a) & ((1ull << 52) - 1)) {
            snprintf(msg, sizeof(msg), "(c) %%.%de %s fails, ours %s", n - 1, tmp, out);
            return msg;
        }
        return NULL;
    }
    uint64_t pd;
    int px;
    parse_e(tmp, &pd, &px);
    if (pd != d || px != x) {
        snprintf(msg, sizeof(msg), "(c) not the nearest: %s vs ours %s", tmp, out);
        return msg;
    }
    return NULL;
}

static const char *fmt_f(float f)
{
    static char buf[VX_FMT_BUFSZ];
    vx_fmt_float(f, buf);
    return buf;
}

static const char *fmt_d(double f)
{
    static char buf[VX_FMT_BUFSZ];
    vx_fmt_double(f, buf);
    return buf;
}

/* Positive powers of two whose shortest output is shorter than any "%.Ng"
 * that reads back (measured over all floats by the exhaustive check). */
#define N_POW2_SHORTER 3

/* ---- tests ------------------------------------------------------------------- */

TEST(fmt_selfcheck_tables_and_exponent_formulas) { ASSERT(vx_fmt_selfcheck()); }

TEST(fmt_float_exact_text)
{
    ASSERT_STR_EQ(fmt_f(0.0f), "0");
    ASSERT_STR_EQ(fmt_f(-0.0f), "-0");
    ASSERT_STR_EQ(fmt_f(1.0f), "1");
    ASSERT_STR_EQ(fmt_f(3.0f), "3");
    ASSERT_STR_EQ(fmt_f(-0.5f), "-0.5");
    ASSERT_STR_EQ(fmt_f(2.25f), "2.25");
    ASSERT_STR_EQ(fmt_f(0.1f), "0.1");
    ASSERT_STR_EQ(fmt_f(0.3f), "0.3");
    ASSERT_STR_EQ(fmt_f(1.0f / 3.0f), "0.33333334");
    ASSERT_STR_EQ(fmt_f(0.0001f), "0.0001");
    ASSERT_STR_EQ(fmt_f(0.00012345f), "0.00012345");
    ASSERT_STR_EQ(fmt_f(0.00001f), "1e-05");
    ASSERT_STR_EQ(fmt_f(1e-7f), "1e-07");
    ASSERT_STR_EQ(fmt_f(-1.5e-7f), "-1.5e-07");
    ASSERT_STR_EQ(fmt_f(100000.0f), "100000");
    ASSERT_STR_EQ(fmt_f(1e6f), "1e+06");
    ASSERT_STR_EQ(fmt_f(1.5e6f), "1.5e+06");
    ASSERT_STR_EQ(fmt_f(1234567.0f), "1234567");
    ASSERT_STR_EQ(fmt_f(16777216.0f), "16777216");
    ASSERT_STR_EQ(fmt_f(123456789.0f), "1.2345679e+08");
    ASSERT_STR_EQ(fmt_f(1e10f), "1e+10");
    ASSERT_STR_EQ(fmt_f(FLT_MAX), "3.4028235e+38");
    ASSERT_STR_EQ(fmt_f(FLT_MIN), "1.1754944e-38");
    ASSERT_STR_EQ(fmt_f(f_of_bits(0x007fffffu)), "1.1754942e-38"); /* largest denormal */
    ASSERT_STR_EQ(fmt_f(f_of_bits(1)), "1e-45");                   /* smallest */
    ASSERT_STR_EQ(fmt_f(f_of_bits(2)), "3e-45");
    ASSERT_STR_EQ(fmt_f(-f_of_bits(3)), "-4e-45");
    ASSERT_STR_EQ(fmt_f(NAN), "nan");
    ASSERT_STR_EQ(fmt_f(INFINITY), "inf");
    ASSERT_STR_EQ(fmt_f(-INFINITY), "-inf");
    /* exact ties between the two nearest shortest candidates go to even */
    ASSERT_STR_EQ(fmt_f(2097152.25f), "2097152.2");
    ASSERT_STR_EQ(fmt_f(2097152.75f), "2097152.8");
    ASSERT_STR_EQ(fmt_f(33554436.0f), "33554436");
    /* next to powers of two the interval is lopsided: these are shorter
     * than any "%.Ng" that reads back (9 digits) */
    ASSERT_STR_EQ(fmt_f(0x1p-96f), "1.2621775e-29");
    ASSERT_STR_EQ(fmt_f(0x1p87f), "1.5474251e+26");
    ASSERT_STR_EQ(fmt_f(0x1p90f), "1.2379401e+27");

    uint32_t d;
    int x;
    ASSERT_EQ_INT(vx_fmt_float_decimal(NAN, &d, &x), 0);
    ASSERT_EQ_INT(vx_fmt_float_decimal(-0.0f, &d, &x), 1);
    ASSERT(d == 0 && x == 0);
    ASSERT_EQ_INT(vx_fmt_float_decimal(123456789.0f, &d, &x), 8);
    ASSERT(d == 12345679u && x == 1);
}

TEST(fmt_float_powers_and_neighbours)
{
    bool shorter;
    const char *err;
    int n_shorter = 0;
    /* every power of two, and three floats on each side */
    for (int e = -149; e <= 127; e++) {
        float p = ldexpf(1.0f, e);
        for (int off = -3; off <= 3; off++) {
            uint32_t b = bits_of_f(p) + (uint32_t)off;
            float f = f_of_bits(b);
            if (!isfinite(f) || f <= 0)
                continue;
            err = check_float(f, &shorter);
            ASSERT_MSG(err == NULL, "%a: %s", (double)f, err);
            n_shorter += shorter;
            err = check_float(-f, &shorter);
            ASSERT_MSG(err == NULL, "-%a: %s", (double)f, err);
        }
    }
    ASSERT_EQ_INT(n_shorter, N_POW2_SHORTER);
    /* every power of ten in range: one digit; and its neighbours */
    for (int e = -45; e <= 38; e++) {
        char s[16];
        snprintf(s, sizeof(s), "1e%d", e);
        float p = strtof(s, NULL);
        uint32_t d;
        int x;
        ASSERT_EQ_INT(vx_fmt_float_decimal(p, &d, &x), 1);
        ASSERT_MSG(d == 1 && x == e, "%s: %u e%d", s, d, x);
        for (int off = -3; off <= 3; off++) {
            float f = f_of_bits(bits_of_f(p) + (uint32_t)off);
            if (!isfinite(f) || f <= 0)
                continue;
            err = check_float(f, &shorter);
            ASSERT_MSG(err == NULL, "%s%+d ulp: %s", s, off, err);
        }
    }
}

TEST(fmt_float_random_bit_patterns)
{
    /* 2^21 finite random floats, fixed seed; about a second */
    uint64_t seed = 0x5eed5eedull;
    long n = 0, n_shorter = 0;
    while (n < (1l << 21)) {
        uint32_t b = (uint32_t)(rng_next(&seed) >> 32);
        float f = f_of_bits(b);
        if (!isfinite(f))
            continue;
        bool shorter = false;
        const char *err = check_float(f, &shorter);
        ASSERT_MSG(err == NULL, "bits %08x: %s", b, err);
        n_shorter += shorter;
        n++;
    }
    ASSERT(n_shorter <= 2); /* only significands that are powers of two */
}

TEST(fmt_float_embedding_like_values)
{
    /* values like embedding components, and small integers */
    uint64_t seed = 7;
    for (int i = 0; i < 200000; i++) {
        double u = (double)(rng_next(&seed) >> 11) * 0x1p-53 - 0.5;
        float f = (float)(u * 0.2);
        bool shorter;
        const char *err = check_float(f, &shorter);
        ASSERT_MSG(err == NULL, "%.9g: %s", (double)f, err);
    }
    for (int i = -100000; i <= 100000; i++) {
        char s[16];
        snprintf(s, sizeof(s), "%d", i);
        ASSERT_STR_EQ(fmt_f((float)i), s);
    }
}

TEST(fmt_double_exact_text)
{
    ASSERT_STR_EQ(fmt_d(0.0), "0");
    ASSERT_STR_EQ(fmt_d(-0.0), "-0");
    ASSERT_STR_EQ(fmt_d(0.1), "0.1");
    ASSERT_STR_EQ(fmt_d(1.0 / 3.0), "0.3333333333333333");
    ASSERT_STR_EQ(fmt_d(2.0 / 3.0), "0.6666666666666666");
    ASSERT_STR_EQ(fmt_d(1e14), "100000000000000");
    ASSERT_STR_EQ(fmt_d(1e15), "1e+15");
    ASSERT_STR_EQ(fmt_d(123456789012345.0), "123456789012345");
    ASSERT_STR_EQ(fmt_d(1234567890123456.0), "1234567890123456");
    ASSERT_STR_EQ(fmt_d(1e23), "1e+23");
    ASSERT_STR_EQ(fmt_d(1e-5), "1e-05");
    ASSERT_STR_EQ(fmt_d(0.0001), "0.0001");
    ASSERT_STR_EQ(fmt_d(5e-324), "5e-324");
    ASSERT_STR_EQ(fmt_d(DBL_MAX), "1.7976931348623157e+308");
    ASSERT_STR_EQ(fmt_d(DBL_MIN), "2.2250738585072014e-308");
    ASSERT_STR_EQ(fmt_d(-1e100), "-1e+100");
    ASSERT_STR_EQ(fmt_d(9007199254740993.0), "9007199254740992");
    ASSERT_STR_EQ(fmt_d(0.1f), "0.10000000149011612");
    ASSERT_STR_EQ(fmt_d(0x1p-24), "5.960464477539063e-08"); /* "%.17g" needs 17 */
    ASSERT_STR_EQ(fmt_d(NAN), "nan");
}

TEST(fmt_double_powers_and_random)
{
    const char *err;
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        for (int off = -2; off <= 2; off++) {
            double f = d_of_bits(bits_of_d(p) + (uint64_t)(int64_t)off);
            if (!isfinite(f) || f <= 0)
                continue;
            err = check_double(f);
            ASSERT_MSG(err == NULL, "%a: %s", f, err);
        }
    }
    for (int e = -323; e <= 308; e++) {
        char s[16];
        snprintf(s, sizeof(s), "1e%d", e);
        double p = strtod(s, NULL);
        uint64_t d;
        int x;
        ASSERT_EQ_INT(vx_fmt_double_decimal(p, &d, &x), 1);
        ASSERT_MSG(d == 1 && x == e, "%s", s);
        for (int off = -2; off <= 2; off++) {
            double f = d_of_bits(bits_of_d(p) + (uint64_t)(int64_t)off);
            if (!isfinite(f))
                continue;
            err = check_double(f);
            ASSERT_MSG(err == NULL, "%s%+d ulp: %s", s, off, err);
        }
    }
    /* integers and exact decimals (products that are exact integers) */
    uint64_t seed = 99;
    for (int i = 0; i < 50000; i++) {
        uint64_t m = rng_next(&seed) >> (11 + i % 40);
        int sc = (int)(rng_next(&seed) % 40) - 20;
        double f = (double)m * pow(10.0, sc);
        err = check_double(f);
        ASSERT_MSG(err == NULL, "%.17g: %s", f, err);
    }
    for (int i = 0; i < 150000; i++) {
        uint64_t b = rng_next(&seed);
        double f = d_of_bits(b);
        if (!isfinite(f))
            continue;
        err = check_double(f);
        ASSERT_MSG(err == NULL, "bits %016llx: %s", (unsigned long long)b, err);
    }
}

TEST(fmt_double_slow_reference_agrees)
{
    uint64_t seed = 3;
    for (int i = 0; i < 10000; i++) {
        double f = d_of_bits(rng_next(&seed));
        if (!isfinite(f))
            continue;
        uint64_t d1, d2;
        int x1, x2;
        int n1 = vx_fmt_double_decimal(f, &d1, &x1);
        int n2 = vx_fmt_double_decimal_slow(f, &d2, &x2);
        ASSERT(n1 <= n2);
        if (bits_of_d(f) & ((1ull << 52) - 1))
            ASSERT_MSG(d1 == d2 && x1 == x2, "%a", f);
    }
    uint64_t d;
    int x;
    ASSERT_EQ_INT(vx_fmt_double_decimal_slow(0.0, &d, &x), 1);
    ASSERT_EQ_INT(vx_fmt_double_decimal_slow(1.5e300, &d, &x), 2);
    ASSERT(d == 15 && x == 299);
}
