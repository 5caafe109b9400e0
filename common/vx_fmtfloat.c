/*
 * vx_fmtfloat.c — shortest round-trip float/double formatting (see
 * vx_fmtfloat.h for the algorithm and the output layout).
 *
 * Notation used below. A finite v > 0 is c·2^q. Its rounding interval R
 * has endpoints (4c-2)·2^(q-2) and (4c+2)·2^(q-2) ((4c-1)·2^(q-2) below
 * when irregular, i.e. c is the smallest normal significand and the binade
 * below is finer); R is closed iff c is even. With p = -k, the table entry
 * for p holds X = 10^p·2^(127-b), b = floor(log2 10^p), so 2^127 <= X <
 * 2^128, as floor(X) and whether X is an integer ("exact": p in 0..55).
 * For cb in {4c-2 or 4c-1, 4c, 4c+2}, y = cb·2^q·10^p (an endpoint or v,
 * over 10^k, in quarters) is computed as (cb·2^h)·g / 2^W, h = q + b + 1
 * (always 1..4, so the division is a word boundary): for double W = 128
 * and g = X, or floor(X)+1 when X is not an integer; for float W = 64 and
 * g is the same for X/2^64 (an integer for p in 0..27). The result is y
 * rounded to odd: floor(y), plus one when y is not an integer and floor(y)
 * is even. Invariants relied upon:
 *   - a round-to-odd value compares with an even integer exactly as y does,
 *     and floor(ro(y)/4) = floor(y/4);
 *   - with g exact the product is y exactly; with g inexact it exceeds y by
 *     at most cb·2^h/2^W and has the same floor (float: checked over all
 *     2^32 inputs; double: a fraction above that bound proves it, and
 *     otherwise the exact-integer case is settled by divisibility by 5^k
 *     and anything else goes to the printf reference, never seen so far);
 *   - with g inexact, y is an integer only for k >= 1, and then iff 5^k
 *     divides cb (k >= 1 implies q - k >= 0, so powers of 2 never matter);
 *     for p beyond the exact range, 2^(q+p) has more negative powers of two
 *     than cb can cancel;
 *   - vb < 2^30 (float) / 2^59 (double), so the comparisons cannot overflow.
 */
#include "vx_fmtfloat.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __uint128_t u128;

/* ---- the table of 10^p, p = P_MIN..P_MAX (built once) ---------------------- */

/* double: q in [-1074, 971] gives k in [-324, 292]; float needs [-45, 31] */
#define P_MIN (-292)
#define P_MAX 324
#define P_EXACT_MAX 55 /* 10^p·2^(127-b) is an integer iff 0 <= p <= 55 */

typedef struct {
    uint64_t hi, lo; /* floor(X) */
    int16_t b;       /* floor(log2 10^p) */
    bool exact;      /* X is an integer */
} pow10_entry;

static pow10_entry g_tab[P_MAX - P_MIN + 1];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_bool g_ready;

static const uint64_t g_pow5[28] = {
    1ull, 5ull, 25ull, 125ull, 625ull, 3125ull, 15625ull, 78125ull, 390625ull,
    1953125ull, 9765625ull, 48828125ull, 244140625ull, 1220703125ull,
    6103515625ull, 30517578125ull, 152587890625ull, 762939453125ull,
    3814697265625ull, 19073486328125ull, 95367431640625ull, 476837158203125ull,
    2384185791015625ull, 11920928955078125ull, 59604644775390625ull,
    298023223876953125ull, 1490116119384765625ull, 7450580596923828125ull,
};

/* A little-endian big integer, only for building the table: 10^324 has
 * 1077 bits, and 2^1100 is the dividend for negative powers. */
#define BN_LIMBS 36
#define BN_DIVIDEND_BITS 1100
typedef struct {
    uint32_t w[BN_LIMBS];
} bn;

static void bn_mul10(bn *x)
{
    uint64_t carry = 0;
    for (int i = 0; i < BN_LIMBS; i++) {
        carry += (uint64_t)x->w[i] * 10u;
        x->w[i] = (uint32_t)carry;
        carry >>= 32;
    }
}

static void bn_div10(bn *x)
{
    uint64_t rem = 0;
    for (int i = BN_LIMBS - 1; i >= 0; i--) {
        uint64_t cur = rem << 32 | x->w[i];
        x->w[i] = (uint32_t)(cur / 10u);
        rem = cur % 10u;
    }
}

static int bn_bit(const bn *x, int i)
{
    if (i < 0 || i >= BN_LIMBS * 32)
        return 0;
    return (int)(x->w[i / 32] >> (i % 32)) & 1;
}

static int bn_bitlen(const bn *x)
{
    for (int i = BN_LIMBS * 32 - 1; i >= 0; i--)
        if (bn_bit(x, i))
            return i + 1;
    return 0;
}

/* Bits [start, start+128) as a number (bits below 0 read as zero). */
static u128 bn_bits128(const bn *x, int start)
{
    u128 r = 0;
    for (int i = 127; i >= 0; i--)
        r = r << 1 | (u128)bn_bit(x, start + i);
    return r;
}

static bool bn_low_zero(const bn *x, int nbits)
{
    for (int i = 0; i < nbits; i++)
        if (bn_bit(x, i))
            return false;
    return true;
}

static void put_entry(int p, u128 floor_x, int b, bool exact)
{
    pow10_entry *e = &g_tab[p - P_MIN];
    e->hi = (uint64_t)(floor_x >> 64);
    e->lo = (uint64_t)floor_x;
    e->b = (int16_t)b;
    e->exact = exact;
}

static void build_table(void)
{
    static int len[P_MAX + 1]; /* bit length of 10^p */
    bn x;
    memset(&x, 0, sizeof(x));
    x.w[0] = 1;
    for (int p = 0; p <= P_MAX; p++) {
        int n = bn_bitlen(&x), b = n - 1;
        len[p] = n;
        if (b <= 127)
            put_entry(p, bn_bits128(&x, 0) << (127 - b), b, true);
        else
            put_entry(p, bn_bits128(&x, b - 127), b, bn_low_zero(&x, b - 127));
        bn_mul10(&x);
    }
    /* 10^-j lies strictly between 2^-len and 2^(1-len), so b = -len and
     * X = floor(2^(127+len) / 10^j) = floor(floor(2^D / 10^j) / 2^(D-127-len)). */
    memset(&x, 0, sizeof(x));
    x.w[BN_DIVIDEND_BITS / 32] = 1u << (BN_DIVIDEND_BITS % 32);
    for (int j = 1; j <= -P_MIN; j++) {
        bn_div10(&x);
        put_entry(-j, bn_bits128(&x, BN_DIVIDEND_BITS - 127 - len[j]), -len[j], false);
    }
    atomic_store_explicit(&g_ready, true, memory_order_release);
}

static inline const pow10_entry *entry(int p)
{
    if (!atomic_load_explicit(&g_ready, memory_order_acquire))
        pthread_once(&g_once, build_table);
    return &g_tab[p - P_MIN];
}

/* ---- exponent formulas --------------------------------------------------------- */

/* floor(x / 2^32) for any sign (>> of a negative value is not portable C). */
static inline int floor_shr32(int64_t x)
{
    return x >= 0 ? (int)(x >> 32) : -(int)((-(x + 1)) >> 32) - 1;
}

/* floor(q·log10 2) and floor(q·log10 2 + log10 3/4), exact for |q| <= 1100
 * (checked by vx_fmt_selfcheck). 1292913986 = floor(2^32·log10 2). */
static inline int flog10_pow2(int q) { return floor_shr32((int64_t)q * 1292913986); }
static inline int flog10_3q_pow2(int q)
{
    return floor_shr32((int64_t)q * 1292913986 - 536607788);
}

/* Number of decimal digits of d (1 for 0). */
static inline int digit_count(uint64_t d)
{
    static const uint64_t pow10[20] = {
        1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
        100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
        1000000000000ull, 10000000000000ull, 100000000000000ull,
        1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
        1000000000000000000ull, 10000000000000000000ull,
    };
    /* n = floor(bits·log10 2) is the count or one less */
    int bits = 64 - __builtin_clzll(d | 1);
    int n = (bits * 1233) >> 12;
    return n + (d >= pow10[n]) + (d == 0);
}

/* ---- float ---------------------------------------------------------------------- */

/* cb·g / 2^(64-h) rounded to odd (h in 1..4, so the shift is the word
 * boundary); k >= 1 means g is inexact, and an integral result is then
 * recognised by 5^k | cb. */
static inline uint32_t ro_float(uint64_t g, uint32_t cb, int h, int k)
{
    u128 prod = (u128)g * ((uint64_t)cb << h);
    uint32_t y = (uint32_t)(prod >> 64);
    bool frac = (uint64_t)prod != 0;
    if (frac && k >= 1 && k <= 27 && cb % g_pow5[k] == 0)
        frac = false;
    return y | (uint32_t)frac;
}

int vx_fmt_float_decimal(float v, uint32_t *digits, int *exp10)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof(bits));
    uint32_t be = bits >> 23 & 0xffu, t = bits & 0x7fffffu;
    if (be == 0xffu)
        return 0;
    if (be == 0 && t == 0) {
        *digits = 0;
        *exp10 = 0;
        return 1;
    }
    uint32_t c = be ? t | 1u << 23 : t;
    int q = be ? (int)be - 150 : -149;
    bool irregular = t == 0 && be > 1;
    uint32_t out = c & 1u, cb = c << 2;
    uint32_t cbl = irregular ? cb - 1 : cb - 2, cbr = cb + 2;
    int k = irregular ? flog10_3q_pow2(q) : flog10_pow2(q);
    const pow10_entry *e = entry(-k);
    uint64_t g = e->hi + (uint64_t)!(e->exact && e->lo == 0);
    /* y = cb·2^q·X64·2^(b-63) with X64 = X/2^64, = cb·2^h·g/2^64 */
    int h = q + e->b + 1;
    uint32_t vbl = ro_float(g, cbl, h, k);
    uint32_t vb = ro_float(g, cb, h, k);
    uint32_t vbr = ro_float(g, cbr, h, k);

    uint32_t sv = vb >> 2, d;
    int x = k;
    /* a multiple of 10^(k+1) in R: at most one, and it is the shortest */
    uint32_t sp = sv / 10u;
    bool upin = vbl + out <= 40u * sp;
    bool wpin = 40u * sp + 40u + out <= vbr;
    if (upin != wpin) {
        d = sp + (uint32_t)wpin;
        x = k + 1;
        while (d % 10u == 0) {
            d /= 10u;
            x++;
        }
    } else {
        uint32_t tv = sv + 1;
        bool uin = vbl + out <= 4u * sv;
        bool win = 4u * tv + out <= vbr;
        if (uin != win)
            d = uin ? sv : tv;
        else {
            int64_t cmp = (int64_t)vb - 2 * (int64_t)(sv + tv);
            d = (cmp < 0 || (cmp == 0 && (sv & 1u) == 0)) ? sv : tv;
        }
    }
    *digits = d;
    *exp10 = x;
    return digit_count(d);
}

/* ---- double --------------------------------------------------------------------- */

/* cb·g / 2^(128-h) rounded to odd with g 128-bit (h in 1..4). Sets
 * *unsure when the fraction is within the error bound and y is not known
 * to be an integer. */
static inline uint64_t ro_double(const pow10_entry *e, uint64_t cb, int h, int k, bool *unsure)
{
    uint64_t cp = cb << h;
    u128 g = ((u128)e->hi << 64 | e->lo) + (u128)!e->exact;
    u128 a = (u128)cp * (uint64_t)g;
    u128 top = (u128)cp * (uint64_t)(g >> 64) + (a >> 64); /* product = top·2^64 + low */
    uint64_t low = (uint64_t)a, mid = (uint64_t)top;
    uint64_t y = (uint64_t)(top >> 64);
    if (e->exact)
        return y | (uint64_t)(mid != 0 || low != 0);
    /* the product exceeds the exact value by at most cp·2^-128 */
    if (mid != 0 || low > cp) /* fraction above that: not an integer */
        return y | 1u;
    if (k >= 1 && k <= 27 && cb % g_pow5[k] == 0)
        return y; /* exactly the integer y */
    *unsure = true;
    return y | 1u;
}

int vx_fmt_double_decimal(double v, uint64_t *digits, int *exp10)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    uint32_t be = (uint32_t)(bits >> 52 & 0x7ffu);
    uint64_t t = bits & ((1ull << 52) - 1);
    if (be == 0x7ffu)
        return 0;
    if (be == 0 && t == 0) {
        *digits = 0;
        *exp10 = 0;
        return 1;
    }
    uint64_t c = be ? t | 1ull << 52 : t;
    int q = be ? (int)be - 1075 : -1074;
    bool irregular = t == 0 && be > 1;
    uint64_t out = c & 1u, cb = c << 2;
    uint64_t cbl = irregular ? cb - 1 : cb - 2, cbr = cb + 2;
    int k = irregular ? flog10_3q_pow2(q) : flog10_pow2(q);
    const pow10_entry *e = entry(-k);
    /* y = cb·2^q·X·2^(b-127) = cb·2^h·g/2^128 */
    int h = q + e->b + 1;
    bool unsure = false;
    uint64_t vbl = ro_double(e, cbl, h, k, &unsure);
    uint64_t vb = ro_double(e, cb, h, k, &unsure);
    uint64_t vbr = ro_double(e, cbr, h, k, &unsure);
    if (unsure)
        return vx_fmt_double_decimal_slow(v, digits, exp10);

    uint64_t sv = vb >> 2, d;
    int x = k;
    uint64_t sp = sv / 10u;
    bool upin = vbl + out <= 40u * sp;
    bool wpin = 40u * sp + 40u + out <= vbr;
    if (upin != wpin) {
        d = sp + (uint64_t)wpin;
        x = k + 1;
        while (d % 10u == 0) {
            d /= 10u;
            x++;
        }
    } else {
        uint64_t tv = sv + 1;
        bool uin = vbl + out <= 4u * sv;
        bool win = 4u * tv + out <= vbr;
        if (uin != win)
            d = uin ? sv : tv;
        else {
            /* vb and 2(s+t) are below 2^62: the difference fits */
            int64_t cmp = (int64_t)vb - 2 * (int64_t)(sv + tv);
            d = (cmp < 0 || (cmp == 0 && (sv & 1u) == 0)) ? sv : tv;
        }
    }
    *digits = d;
    *exp10 = x;
    return digit_count(d);
}

int vx_fmt_double_decimal_slow(double v, uint64_t *digits, int *exp10)
{
    if (!isfinite(v))
        return 0;
    if (v == 0) {
        *digits = 0;
        *exp10 = 0;
        return 1;
    }
    double a = fabs(v);
    char tmp[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec, a);
        if (strtod(tmp, NULL) == a)
            break;
    }
    /* "d[<point>ddd]e<exp>": digits up to the 'e', whatever the locale's point */
    uint64_t d = 0;
    int n = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9') {
            d = d * 10u + (uint64_t)(*p - '0');
            n++;
        }
    }
    int x = (*p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0) - (n - 1);
    while (d % 10u == 0) {
        d /= 10u;
        x++;
        n--;
    }
    *digits = d;
    *exp10 = x;
    return n;
}

/* ---- text layout ------------------------------------------------------------------ */

/* Writes the n digits of d at o with a '.' after the first ip of them
 * when ip < n; returns the characters written. */
static inline size_t put_digits(char *o, uint64_t d, int n, int ip)
{
    size_t len = (size_t)n + (ip < n);
    for (int i = n - 1; i >= 0; i--) {
        o[i + (i >= ip)] = (char)('0' + d % 10u);
        d /= 10u;
    }
    if (ip < n)
        o[ip] = '.';
    return len;
}

/* sign, then digits·10^x in "%.Pg" style with P = max(n, min_prec) */
static size_t layout(char *buf, bool neg, uint64_t digits, int n, int x, int min_prec)
{
    char *o = buf;
    if (neg)
        *o++ = '-';
    int sx = x + n - 1; /* exponent of the first digit */
    int prec = n > min_prec ? n : min_prec;
    if (sx >= 0 && sx < prec) {
        int ip = sx + 1; /* digits before the point */
        o += put_digits(o, digits, n, ip);
        for (int i = n; i < ip; i++)
            *o++ = '0';
    } else if (sx < 0 && sx >= -4) {
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > sx; i--)
            *o++ = '0';
        o += put_digits(o, digits, n, n);
    } else {
        o += put_digits(o, digits, n, 1);
        *o++ = 'e';
        *o++ = sx < 0 ? '-' : '+';
        int ax = sx < 0 ? -sx : sx;
        if (ax >= 100)
            *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    }
    *o = '\0';
    return (size_t)(o - buf);
}

static size_t non_finite(char *buf, bool nan, bool neg)
{
    const char *s = nan ? "nan" : neg ? "-inf" : "inf";
    size_t n = strlen(s);
    memcpy(buf, s, n + 1);
    return n;
}

size_t vx_fmt_float(float v, char *buf)
{
    uint32_t d;
    int x;
    bool neg = signbit(v) != 0;
    int n = vx_fmt_float_decimal(v, &d, &x);
    if (n == 0)
        return non_finite(buf, isnan(v), neg);
    return layout(buf, neg, d, n, x, 6);
}

size_t vx_fmt_double(double v, char *buf)
{
    uint64_t d;
    int x;
    bool neg = signbit(v) != 0;
    int n = vx_fmt_double_decimal(v, &d, &x);
    if (n == 0)
        return non_finite(buf, isnan(v), neg);
    return layout(buf, neg, d, n, x, 15);
}

/* ---- self-check (tests) ------------------------------------------------------------ */

bool vx_fmt_selfcheck(void)
{
    (void)entry(0);
    for (int p = P_MIN; p <= P_MAX; p++) {
        const pow10_entry *e = &g_tab[p - P_MIN];
        /* 2^127 <= X < 2^128, and neither g = floor(X)+1 nor its 64-bit
         * counterpart overflows */
        if (!(e->hi >> 63) || (!e->exact && e->hi == UINT64_MAX && e->lo == UINT64_MAX))
            return false;
        if (e->hi == UINT64_MAX && !(e->exact && e->lo == 0))
            return false;
        if (e->exact != (p >= 0 && p <= P_EXACT_MAX))
            return false;
        /* b = floor(log2 10^p): 10^p < 2^(b+1), and 10^p >= 2^b */
        double l2 = (double)p * 3.321928094887362;
        if (e->b > l2 + 1e-9 || e->b + 1 < l2 - 1e-9)
            return false;
    }
    /* the exponent formulas against long double logarithms; their exact
     * values are never within 1e-12 of an integer here (the nearest is 8e-5) */
    const long double l10_2 = 0.30102999566398119521373889472449302677L;
    const long double l10_34 = -0.12493873660829995313244988619036543557L;
    for (int q = -1100; q <= 1100; q++) {
        long double a = (long double)q * l10_2, b = a + l10_34;
        if (fabsl(a - roundl(a)) < 1e-12L && q != 0)
            return false;
        if (fabsl(b - roundl(b)) < 1e-12L)
            return false;
        if (flog10_pow2(q) != (int)floorl(a) || flog10_3q_pow2(q) != (int)floorl(b))
            return false;
    }
    /* every q of a double (float's are a subset) finds its entry, h in 1..4 */
    for (int q = -1074; q <= 971; q++) {
        for (int irregular = 0; irregular <= (q > -1074); irregular++) {
            int k = irregular ? flog10_3q_pow2(q) : flog10_pow2(q);
            if (-k < P_MIN || -k > P_MAX)
                return false;
            int h = q + g_tab[-k - P_MIN].b + 1;
            if (h < 1 || h > 4)
                return false;
        }
    }
    return true;
}
