/* testutil.h: small helpers for cmocka tests. cmocka 1.1.5 compares floats
 * as float; these compare doubles exactly or within a tolerance, treat two
 * NaNs as equal and tell -0 from +0 when asked, and print both values with
 * full precision on failure. Include after <cmocka.h>. */
#ifndef PVM_TESTUTIL_H
#define PVM_TESTUTIL_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* True when a and b are the same double: both NaN, or equal (with
 * same_sign, -0 differs from +0), or within eps of each other. */
static inline bool pvm_test_double_eq(double a, double b, double eps,
                                      bool same_sign)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (a == b)
        return !same_sign || signbit(a) == signbit(b);
    if (isinf(a) || isinf(b))
        return false;
    return fabs(a - b) <= eps;
}

static inline void pvm_test_double_check(double a, double b, double eps,
                                         bool same_sign, const char *ea,
                                         const char *eb, const char *file,
                                         int line)
{
    if (pvm_test_double_eq(a, b, eps, same_sign))
        return;
    print_error("%s (%.17g) != %s (%.17g)\n", ea, a, eb, b);
    _fail(file, line);
}

/* pvm_assert_double_eq(a, b): identical doubles (NaN == NaN, -0 == 0).
 * Not named assert_double_equal: cmocka >= 1.1.6 has a three-argument
 * macro of that name. */
#define pvm_assert_double_eq(a, b)                                            \
    pvm_test_double_check((a), (b), 0.0, false, #a, #b, __FILE__, __LINE__)

/* assert_double_same(a, b): identical, and -0 differs from +0. */
#define assert_double_same(a, b)                                              \
    pvm_test_double_check((a), (b), 0.0, true, #a, #b, __FILE__, __LINE__)

/* assert_double_near(a, b, eps): |a - b| <= eps (NaN == NaN). */
#define assert_double_near(a, b, eps)                                         \
    pvm_test_double_check((a), (b), (eps), false, #a, #b, __FILE__, __LINE__)

/* assert_mem_equal(p, n, q, m): byte strings of possibly different
 * lengths are equal. */
#define assert_mem_equal(p, n, q, m)                                          \
    do {                                                                      \
        size_t pvm_n_ = (n), pvm_m_ = (m);                                    \
        if (pvm_n_ != pvm_m_ || memcmp((p), (q), pvm_n_) != 0) {              \
            print_error("%s (%zu bytes \"%.*s\") != %s (%zu bytes "           \
                        "\"%.*s\")\n",                                        \
                        #p, pvm_n_, (int)pvm_n_, (const char *)(p), #q,       \
                        pvm_m_, (int)pvm_m_, (const char *)(q));              \
            _fail(__FILE__, __LINE__);                                        \
        }                                                                     \
    } while (0)

#endif
