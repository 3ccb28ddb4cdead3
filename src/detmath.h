// Elementary functions that give the same bits on every machine.
//
// libm's log, cos and pow are accurate, but they are not the same
// everywhere: glibc's and WebAssembly's (wasi-libc's, from musl) differ in
// the last bit now and then. A weight drawn at initialisation, or a learning
// rate, that differs in its last bit makes a run in the browser drift away
// from the same run on the command line. These are written out in double
// arithmetic, whose +, -, * and / IEEE 754 makes the same on every machine,
// and are accurate to about 1e-15: far below a float's 6e-8. (The kernels'
// exponential, gg_expf_neg, is in ops_rows.h, in float, to vectorise.)
#ifndef GLASSGPT_DETMATH_H
#define GLASSGPT_DETMATH_H

#include <math.h>

#define GG_LN2 0.69314718055994530942
#define GG_LN2_HI 0.693147180369123816490  // ln 2 in two parts: hi has 32 bits,
#define GG_LN2_LO 1.90821492927058770002e-10  // so n * hi is exact for |n| < 2^20
#define GG_TWO_PI 6.28318530717958647692

// The natural logarithm. x = m 2^e with m in [sqrt(1/2), sqrt(2)); then
// log m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m - 1) / (m + 1),
// |s| <= 0.172, so 13 terms reach 1e-20.
static inline double gg_log(double x) {
    if (!(x > 0.0)) return x == 0.0 ? -INFINITY : NAN;
    if (isinf(x)) return x;
    int e;
    double m = frexp(x, &e);  // exact: m in [0.5, 1)
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e--;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, term = s, sum = 0.0;
    for (int k = 1; k <= 25; k += 2) {
        sum += term / k;
        term *= s2;
    }
    return 2.0 * sum + e * GG_LN2_LO + e * GG_LN2_HI;
}

// e^x, for |x| < 700. x = n ln2 + r with |r| <= ln2 / 2; e^r by its series
// (18 terms reach 1e-20), then times 2^n, exactly.
static inline double gg_exp(double x) {
    if (x != x) return x;
    if (x > 709.0) return INFINITY;
    if (x < -745.0) return 0.0;
    double n = floor(x / GG_LN2 + 0.5);
    double r = (x - n * GG_LN2_HI) - n * GG_LN2_LO, term = 1.0, sum = 1.0;
    for (int k = 1; k <= 18; k++) {
        term *= r / k;
        sum += term;
    }
    return ldexp(sum, (int)n);
}

// cos(2 pi u): u in turns, reduced by symmetry to [0, 1/4] (each step
// exact), then the series of cos y for y = 2 pi u <= pi / 2 (14 terms reach
// 1e-20).
static inline double gg_cos_turns(double u) {
    u -= floor(u);  // [0, 1)
    if (u > 0.5) u = 1.0 - u;  // cos(2 pi u) = cos(2 pi (1 - u))
    double sign = 1.0;
    if (u > 0.25) {  // cos(2 pi u) = -cos(2 pi (1/2 - u))
        u = 0.5 - u;
        sign = -1.0;
    }
    double y = GG_TWO_PI * u, y2 = y * y, term = 1.0, sum = 1.0;
    for (int k = 1; k <= 14; k++) {
        term *= -y2 / ((2.0 * k - 1.0) * (2.0 * k));
        sum += term;
    }
    return sign * sum;
}

// sin(2 pi u) = cos(2 pi (u - 1/4))
static inline double gg_sin_turns(double u) { return gg_cos_turns(u - 0.25); }

// b^n for a whole n >= 0, by repeated squaring.
static inline double gg_pow_int(double b, long n) {
    double r = 1.0;
    for (; n > 0; n >>= 1) {
        if (n & 1) r *= b;
        b *= b;
    }
    return r;
}

#endif
