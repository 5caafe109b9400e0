/*
 * vx_fmtfloat.h — exact shortest round-trip formatting of float and double.
 *
 * vx_fmt_float(v) writes the SHORTEST decimal string that reads back
 * (strtof, round-to-nearest-even) as exactly v; among the shortest such
 * strings it picks the one nearest to v (an exact tie goes to the even last
 * digit). vx_fmt_double does the same for binary64 and strtod. Both use
 * integer arithmetic only and never depend on the locale.
 *
 * Algorithm (after R. Giulietti, "The Schubfach way to render doubles",
 * 2020; our own implementation). A finite v > 0 is c·2^q (c integer). Every
 * real in its rounding interval R = [v - 2^q/2, v + 2^q/2] (lower half-width
 * 2^q/4 when c is the smallest normal significand, so that the binade below
 * is finer; endpoints included iff c is even) reads back as v. Let
 * k = floor(log10(width of R)); then 10^k <= width < 10^(k+1), so R holds
 * at most one multiple of 10^(k+1) and at least one of 10^k. If it holds a
 * multiple of 10^(k+1), that one (trailing zeros dropped) is the unique
 * shortest; otherwise the shortest have exactly the digits of the multiples
 * of 10^k, and the nearest of s·10^k, (s+1)·10^k (s = floor(v/10^k)) that
 * lies in R is taken. Deciding this only needs v/10^k and the endpoints
 * over 10^k, in quarters, rounded to odd: comparisons of a round-to-odd
 * value with even integers are exact. Each is one multiplication of 4c±2
 * (or 4c-1) by g ≈ 10^-k·2^m from a table built once at first use (64-bit
 * g for float, 128-bit for double). When g is inexact, the products still
 * have the right floor (for float this is checked exhaustively over all
 * 2^32 inputs, scripts/check-fmtfloat-exhaustive.sh); products that are
 * exact integers are recognised by divisibility by 5^k. For double, a
 * product whose fraction is too close to an integer for the error bound to
 * settle is detected and formatted by a slow exact-enough reference path
 * (printf loop) instead — it never triggers in our tests.
 *
 * Text layout follows "%.Pg" with P = max(digits, 6) for float and
 * max(digits, 15) for double (the style of the former printf loop): plain
 * notation when -4 <= X < P (X = decimal exponent of the first digit),
 * otherwise d[.ddd]e±XX with at least two exponent digits. So 0.1f is
 * "0.1", 1e-7f "1e-07", 1e6f "1e+06", 1234567.f "1234567", 1e-4f "0.0001".
 * Zero is "0", negative zero "-0"; NaN and infinities are "nan", "inf",
 * "-inf" (JSON callers write null instead). Every finite output is a valid
 * JSON number.
 *
 * Thread safety: the table is built under pthread_once; all functions are
 * reentrant.
 */
#ifndef VX_FMTFLOAT_H
#define VX_FMTFLOAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any output plus the NUL ("-1.2345678901234567e-308" is 24). */
#define VX_FMT_BUFSZ 32

/* Writes v into buf (at least VX_FMT_BUFSZ bytes, NUL-terminated);
 * returns the length without the NUL. */
size_t vx_fmt_float(float v, char *buf);
size_t vx_fmt_double(double v, char *buf);

/* The shortest decimal of |v|: |v| is written digits·10^exp10 with digits
 * free of trailing zeros. Returns the number of digits (1 for zero, with
 * digits = 0 and exp10 = 0), or 0 for NaN and infinities. */
int vx_fmt_float_decimal(float v, uint32_t *digits, int *exp10);
int vx_fmt_double_decimal(double v, uint64_t *digits, int *exp10);

/* For tests: the printf-based reference vx_fmt_double_decimal falls back to
 * (shortest "%.Ne", N = 1..17, that strtod reads back as v; not always the
 * shortest next to a power of two), and a check of the internal tables and
 * exponent formulas (true when sound). */
int vx_fmt_double_decimal_slow(double v, uint64_t *digits, int *exp10);
bool vx_fmt_selfcheck(void);

#endif
