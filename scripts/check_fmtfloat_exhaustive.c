/*
 * check_fmtfloat_exhaustive.c — checks vx_fmt_float (common/vx_fmtfloat.c)
 * on every float bit pattern, with its own exact arithmetic (no code shared
 * with the formatter) plus glibc's strtof. Not part of the services or of
 * make test: scripts/check-fmtfloat-exhaustive.sh compiles and runs it.
 *
 *   check_fmtfloat_exhaustive [FIRST LAST]     bit patterns FIRST..LAST (hex,
 *                                              default 0..ffffffff)
 *   check_fmtfloat_exhaustive --bench          time one 512-float vector
 *   check_fmtfloat_exhaustive --diff-old N     compare N random floats with
 *                                              the former printf loop
 *
 * For a finite v = c·2^q > 0 with rounding interval R (half-widths 2^(q-1),
 * or 2^(q-2) below when c is the smallest normal significand; closed iff c
 * is even) and output text T, parsed as D·10^e (D without trailing zeros,
 * n digits):
 *   1. T is a JSON number, and D, e, n equal vx_fmt_float_decimal's;
 *   2. strtof(T) is v bit for bit, and D·10^e lies in R (exact arithmetic);
 *   3. shortest: neither floor(D/10)·10^(e+1) nor (floor(D/10)+1)·10^(e+1)
 *      lies in R (R is an interval holding D·10^e, so if any decimal with
 *      fewer digits were in R, one of these two would be);
 *   4. nearest: when (D-1)·10^e or (D+1)·10^e lies in R, D·10^e is at least
 *      as close to v, and on an exact tie D is even. (A closer decimal of
 *      the same length would put one of these two in R.)
 * and -v formats as "-" followed by the text of v. Zero must be "0"/"-0";
 * NaN and infinities are skipped. Prints counts, "OK" or the first
 * failures, and exits non-zero on any failure.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vx_fmtfloat.h"

/* ---- exact comparison of a·10^e with m·2^f (a, m > 0) ------------------------------ */

typedef struct {
    uint64_t w[3]; /* little-endian, 192 bits */
} u192;

static u192 u192_of(uint64_t x) { return (u192){{x, 0, 0}}; }

static void u192_mul(u192 *x, uint64_t m) /* the callers keep the result < 2^192 */
{
    __uint128_t carry = 0;
    for (int i = 0; i < 3; i++) {
        carry += (__uint128_t)x->w[i] * m;
        x->w[i] = (uint64_t)carry;
        carry >>= 64;
    }
    if (carry) {
        fprintf(stderr, "u192 overflow\n");
        exit(2);
    }
}

static int u192_bitlen(const u192 *x)
{
    for (int i = 2; i >= 0; i--)
        if (x->w[i])
            return i * 64 + 64 - __builtin_clzll(x->w[i]);
    return 0;
}

static void u192_shl(u192 *x, int n) /* n < 192, result fits */
{
    while (n >= 64) {
        x->w[2] = x->w[1];
        x->w[1] = x->w[0];
        x->w[0] = 0;
        n -= 64;
    }
    if (n) {
        x->w[2] = x->w[2] << n | x->w[1] >> (64 - n);
        x->w[1] = x->w[1] << n | x->w[0] >> (64 - n);
        x->w[0] <<= n;
    }
}

static int u192_cmp(const u192 *a, const u192 *b)
{
    for (int i = 2; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* 5^0..5^80 (5^80 < 2^186), filled by main */
static u192 g_pow5[81];

static void init_pow5(void)
{
    g_pow5[0] = u192_of(1);
    for (int k = 1; k <= 80; k++) {
        g_pow5[k] = g_pow5[k - 1];
        u192_mul(&g_pow5[k], 5);
    }
}

static void mul_pow5(u192 *x, int k) /* x < 2^64 on entry */
{
    if (k > 80) {
        fprintf(stderr, "5^%d out of range\n", k);
        exit(2);
    }
    uint64_t m = x->w[0];
    *x = g_pow5[k];
    u192_mul(x, m);
}

/* sign of a·10^e - m·2^f */
static int cmp_dec_bin(uint64_t a, int e, uint64_t m, int f)
{
    u192 l = u192_of(a), r = u192_of(m);
    if (e >= 0)
        mul_pow5(&l, e);
    else
        mul_pow5(&r, -e);
    /* now l·2^e versus r·2^f */
    int d = e - f;
    u192 *s = d >= 0 ? &l : &r;
    int sh = d >= 0 ? d : -d;
    int bl = u192_bitlen(s), bo = u192_bitlen(s == &l ? &r : &l);
    if (bl + sh != bo) /* different bit lengths decide it */
        return (bl + sh > bo) == (s == &l) ? 1 : -1;
    u192_shl(s, sh);
    return u192_cmp(&l, &r);
}

/* ---- one float ---------------------------------------------------------------------- */

typedef struct {
    uint64_t lo_m, hi_m; /* R = [lo_m·2^lo_f, hi_m·2^hi_f] */
    int lo_f, hi_f;
    bool closed;
    uint64_t c;
    int q;
} interval;

static interval interval_of(uint32_t bits)
{
    interval r;
    uint32_t be = bits >> 23 & 0xff, t = bits & 0x7fffff;
    r.c = be ? (t | 1u << 23) : t;
    r.q = be ? (int)be - 150 : -149;
    r.closed = (r.c & 1) == 0;
    r.hi_m = 2 * r.c + 1;
    r.hi_f = r.q - 1;
    if (t == 0 && be > 1) {
        r.lo_m = 4 * r.c - 1;
        r.lo_f = r.q - 2;
    } else {
        r.lo_m = 2 * r.c - 1;
        r.lo_f = r.q - 1;
    }
    return r;
}

static bool above_lo(const interval *r, uint64_t a, int e)
{
    int s = cmp_dec_bin(a, e, r->lo_m, r->lo_f);
    return s > 0 || (s == 0 && r->closed);
}

static bool below_hi(const interval *r, uint64_t a, int e)
{
    int s = cmp_dec_bin(a, e, r->hi_m, r->hi_f);
    return s < 0 || (s == 0 && r->closed);
}

static bool in_r(const interval *r, uint64_t a, int e)
{
    return a != 0 && above_lo(r, a, e) && below_hi(r, a, e);
}

/* Parses our own text: returns false unless it is a JSON number. */
static bool parse_text(const char *s, uint64_t *d, int *e, int *n)
{
    const char *p = s;
    uint64_t v = 0;
    int frac = 0, nd = 0, x = 0;
    bool dot = false;
    if (*p == '-')
        p++;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return false; /* leading zero */
    if (!(*p >= '0' && *p <= '9'))
        return false;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (*p == '.') {
            if (dot || !(p[1] >= '0' && p[1] <= '9'))
                return false;
            dot = true;
            continue;
        }
        if (nd >= 19)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v)
            nd++;
        frac += dot;
    }
    if (*p == 'e') {
        p++;
        int sign = 1;
        if (*p == '+' || *p == '-')
            sign = *p++ == '-' ? -1 : 1;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        for (; *p >= '0' && *p <= '9'; p++)
            x = x * 10 + (*p - '0');
        x *= sign;
    }
    if (*p)
        return false;
    x -= frac;
    if (v == 0) {
        *d = 0;
        *e = 0;
        *n = 1;
        return true;
    }
    while (v % 10 == 0) {
        v /= 10;
        x++;
        nd--;
    }
    *d = v;
    *e = x;
    *n = nd;
    return true;
}

static uint64_t n_fail;

static void fail(uint32_t bits, const char *text, const char *why)
{
    float v;
    memcpy(&v, &bits, sizeof(v));
    if (n_fail++ < 20)
        printf("FAIL %08" PRIx32 " (%a) -> \"%s\": %s\n", bits, (double)v, text, why);
}

static void check_positive(uint32_t bits, float v, const char *text)
{
    uint64_t d;
    int e, n;
    if (!parse_text(text, &d, &e, &n))
        return fail(bits, text, "not a JSON number");
    uint32_t d2;
    int e2;
    int n2 = vx_fmt_float_decimal(v, &d2, &e2);
    if (n2 != n || d2 != d || e2 != e)
        return fail(bits, text, "text and vx_fmt_float_decimal disagree");
    if (v == 0)
        return strcmp(text, "0") == 0 ? (void)0 : fail(bits, text, "zero");
    float back = strtof(text, NULL);
    if (memcmp(&back, &v, sizeof(v)) != 0)
        return fail(bits, text, "strtof does not give it back");
    interval r = interval_of(bits);
    if (!in_r(&r, d, e))
        return fail(bits, text, "not in the rounding interval");
    if (n > 1) {
        if (in_r(&r, d / 10, e + 1) || in_r(&r, d / 10 + 1, e + 1))
            return fail(bits, text, "a shorter decimal reads back");
    }
    if (d > 1 && above_lo(&r, d - 1, e)) { /* D-1 in R: v >= (D-1/2)·10^e */
        int s = cmp_dec_bin(2 * d - 1, e, r.c, r.q + 1);
        if (s > 0 || (s == 0 && (d & 1)))
            return fail(bits, text, "D-1 is nearer");
    }
    if (below_hi(&r, d + 1, e)) { /* D+1 in R: v <= (D+1/2)·10^e */
        int s = cmp_dec_bin(2 * d + 1, e, r.c, r.q + 1);
        if (s < 0 || (s == 0 && (d & 1)))
            return fail(bits, text, "D+1 is nearer");
    }
}

static int run_range(uint32_t first, uint32_t last)
{
    uint64_t n_checked = 0, n_skipped = 0;
    char text[VX_FMT_BUFSZ], neg[VX_FMT_BUFSZ];
    time_t t0 = time(NULL);
    /* each positive pattern together with its negative, over the hull of
     * the positive patterns that FIRST..LAST asks for either way */
    const uint32_t sign = 0x80000000u;
    uint32_t lo = sign - 1, hi = 0;
    if (first < sign) {
        lo = first;
        hi = last < sign ? last : sign - 1;
    }
    if (last >= sign) {
        uint32_t nlo = first >= sign ? first - sign : 0;
        lo = nlo < lo ? nlo : lo;
        hi = last - sign > hi ? last - sign : hi;
    }
    for (uint64_t b = lo; b <= hi; b++) {
        uint32_t bits = (uint32_t)b;
        uint32_t nbits = bits | sign;
        bool want_pos = bits >= first && bits <= last;
        bool want_neg = nbits >= first && nbits <= last;
        if ((bits & 0x0fffffffu) == 0 && bits)
            fprintf(stderr, "... %08" PRIx32 " after %lds\n", bits, (long)(time(NULL) - t0));
        if (!want_pos && !want_neg)
            continue;
        float v;
        memcpy(&v, &bits, sizeof(v));
        if (!isfinite(v)) {
            n_skipped += (uint64_t)want_pos + want_neg;
            continue;
        }
        vx_fmt_float(v, text);
        if (want_pos) {
            check_positive(bits, v, text);
            n_checked++;
        }
        if (want_neg) {
            vx_fmt_float(-v, neg);
            if (neg[0] != '-' || strcmp(neg + 1, text) != 0)
                fail(nbits, neg, "negative is not '-' + positive");
            n_checked++;
        }
    }
    /* powers of two: our digits against the shortest "%.Ng" that reads back */
    int n_shorter = 0;
    for (int x = -149; x <= 127; x++) {
        float v = ldexpf(1.0f, x);
        char t[40];
        int np = 1;
        for (; np < 9; np++) {
            snprintf(t, sizeof(t), "%.*g", np, (double)v);
            if (strtof(t, NULL) == v)
                break;
        }
        uint32_t d;
        int e;
        int n = vx_fmt_float_decimal(v, &d, &e);
        if (n < np) {
            vx_fmt_float(v, text);
            printf("2^%d: \"%s\" (%d digits) where the shortest %%.Ng that reads back has %d\n", x,
                   text, n, np);
            n_shorter++;
        }
    }
    printf("checked %" PRIu64 " finite patterns in %08" PRIx32 "..%08" PRIx32
           " (%" PRIu64 " NaN/inf skipped) in %lds; %d powers of two shorter than printf; "
           "%" PRIu64 " failures\n",
           n_checked, first, last, n_skipped, (long)(time(NULL) - t0), n_shorter, n_fail);
    printf("%s\n", n_fail ? "FAILED" : "OK");
    return n_fail ? 1 : 0;
}

/* ---- timing and comparison with the former printf loop --------------------------------- */

static size_t old_format(float v, char *tmp, size_t cap)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(tmp, cap, "%.*g", prec, (double)v);
        if (strtof(tmp, NULL) == v)
            break;
    }
    return strlen(tmp);
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int bench(void)
{
    enum { DIM = 512, NVEC = 64, REPS = 20 };
    static float vec[DIM * NVEC];
    uint64_t s = 42;
    for (int i = 0; i < DIM * NVEC; i++) { /* N(0, 0.05) by Box-Muller */
        double u1 = ((double)(rng(&s) >> 11) + 1) * 0x1p-53, u2 = (double)(rng(&s) >> 11) * 0x1p-53;
        vec[i] = (float)(0.05 * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
    }
    char buf[64];
    size_t sink = 0;
    double best_new = 1e9, best_old = 1e9;
    for (int r = 0; r < REPS; r++) {
        double t0 = cpu_seconds();
        for (int i = 0; i < DIM * NVEC; i++)
            sink += vx_fmt_float(vec[i], buf);
        double t1 = cpu_seconds();
        for (int i = 0; i < DIM * NVEC; i++)
            sink += old_format(vec[i], buf, sizeof(buf));
        double t2 = cpu_seconds();
        if ((t1 - t0) / NVEC < best_new)
            best_new = (t1 - t0) / NVEC;
        if ((t2 - t1) / NVEC < best_old)
            best_old = (t2 - t1) / NVEC;
    }
    printf("one 512-float vector, N(0, 0.05), CPU time (best of %d runs of %d vectors):\n"
           "  printf loop (%%.6g..%%.9g + strtof): %8.1f us\n"
           "  vx_fmt_float:                      %8.1f us  (%.1fx) [%zu]\n",
           REPS, NVEC, best_old * 1e6, best_new * 1e6, best_old / best_new, sink % 10);
    return 0;
}

static int diff_old(long n)
{
    uint64_t s = 1;
    long n_diff = 0, n_shorter = 0, n_denormal = 0;
    char a[64], b[64];
    for (long i = 0; i < n;) {
        uint32_t bits = (uint32_t)(rng(&s) >> 32);
        float v;
        memcpy(&v, &bits, sizeof(v));
        if (!isfinite(v))
            continue;
        i++;
        vx_fmt_float(v, a);
        old_format(v, b, sizeof(b));
        if (strcmp(a, b) != 0) {
            n_diff++;
            n_shorter += strlen(a) < strlen(b);
            n_denormal += (bits & 0x7f800000u) == 0;
            if (n_diff <= 5)
                printf("  %08" PRIx32 ": \"%s\" (was \"%s\")\n", bits, a, b);
        }
    }
    printf("%ld random finite floats: %ld differ from the printf loop (%ld shorter, %ld "
           "denormal)\n",
           n, n_diff, n_shorter, n_denormal);
    return 0;
}

int main(int argc, char **argv)
{
    init_pow5();
    if (!vx_fmt_selfcheck()) {
        printf("vx_fmt_selfcheck failed\nFAILED\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--bench") == 0)
        return bench();
    if (argc > 2 && strcmp(argv[1], "--diff-old") == 0)
        return diff_old(atol(argv[2]));
    uint32_t first = 0, last = 0xffffffffu;
    if (argc > 2) {
        first = (uint32_t)strtoul(argv[1], NULL, 16);
        last = (uint32_t)strtoul(argv[2], NULL, 16);
    }
    return run_range(first, last);
}
