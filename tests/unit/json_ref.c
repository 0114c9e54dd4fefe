/* json_ref.c: the previous pvm_format_float and pvm_format_timestamp,
 * kept for the tests as the reference that the fast versions in
 * src/base/json.c must match byte for byte. Slow and simple: the shortest
 * digits are found by trying 15, 16 and 17 significant digits with
 * snprintf("%.*e") and reading each candidate back with strtod. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_ref.h"

size_t pvm_ref_format_timestamp(char buf[PVM_FLOAT_BUFSIZE], int64_t ms)
{
    uint64_t u = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;
    const char *sign = ms < 0 ? "-" : "";
    unsigned frac = (unsigned)(u % 1000);
    int n = frac ? snprintf(buf, PVM_FLOAT_BUFSIZE, "%s%llu.%03u", sign,
                            (unsigned long long)(u / 1000), frac)
                 : snprintf(buf, PVM_FLOAT_BUFSIZE, "%s%llu", sign,
                            (unsigned long long)(u / 1000));
    return (size_t)n;
}

/* Significant digits of |v| (finite, non-zero) in %e form with prec
 * digits: fills digits (NUL-terminated, trailing zeros kept) and the
 * decimal exponent x (v = d.ddd × 10^x). Returns true when they read back
 * as v. */
static bool digits_at(double v, int prec, char *digits, int *x)
{
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, fabs(v));
    size_t k = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[k++] = *p;
    digits[k] = '\0';
    *x = atoi(p + 1);
    return strtod(tmp, NULL) == fabs(v);
}

/* Tries the prec-digit decimals next to digits (one unit in the last
 * place up and down); on success replaces digits and x. */
static bool try_neighbours(double v, int prec, char *digits, int *x)
{
    unsigned long long d = strtoull(digits, NULL, 10), lo = 1;
    for (int i = 1; i < prec; i++)
        lo *= 10;
    for (int delta = -1; delta <= 1; delta += 2) {
        unsigned long long e = d + (unsigned long long)(long long)delta;
        int ex = *x;
        if (e < lo) {
            e = lo * 10 - 1;
            ex--;
        } else if (e >= lo * 10) {
            e = lo;
            ex++;
        }
        char tmp[40];
        snprintf(tmp, sizeof(tmp), "%llue%d", e, ex - prec + 1);
        if (strtod(tmp, NULL) == fabs(v)) {
            snprintf(digits, 18, "%llu", e);
            *x = ex;
            return true;
        }
    }
    return false;
}

/* True when some prec-digit decimal reads back as v (the correctly
 * rounded one, else a neighbour); fills digits and x with it. */
static bool shortest_at(double v, int prec, char *digits, int *x)
{
    return digits_at(v, prec, digits, x) || try_neighbours(v, prec, digits, x);
}

/* Shortest digits (no trailing zeros) that read back as |v|. For normal
 * numbers, a value with at most 15 significant digits comes back from
 * %.14e (DBL_DIG), so only 15, 16 and 17 digits need trying; subnormals
 * have less precision and are searched from 1 digit up. */
static void shortest_digits(double v, char *digits, int *x)
{
    bool found = fabs(v) >= DBL_MIN && digits_at(v, 15, digits, x);
    for (int prec = fabs(v) < DBL_MIN ? 1 : 16; !found && prec < 17; prec++)
        found = shortest_at(v, prec, digits, x);
    if (!found)
        digits_at(v, 17, digits, x);
    size_t k = strlen(digits);
    while (k > 1 && digits[k - 1] == '0')
        digits[--k] = '\0';
}

/* Lays out digits with exponent x as Go's 'e' or 'f' formats. */
static size_t layout(char *buf, bool neg, const char *digits, int x,
                     bool e_form)
{
    size_t n = 0, k = strlen(digits);
    if (neg)
        buf[n++] = '-';
    if (e_form) {
        buf[n++] = digits[0];
        if (k > 1) {
            buf[n++] = '.';
            memcpy(buf + n, digits + 1, k - 1);
            n += k - 1;
        }
        n += (size_t)snprintf(buf + n, PVM_FLOAT_BUFSIZE - n, "e%c%02d",
                              x < 0 ? '-' : '+', abs(x));
    } else if (x >= 0) {
        for (size_t i = 0; i <= (size_t)x || i < k; i++) {
            if (i == (size_t)x + 1)
                buf[n++] = '.';
            buf[n++] = i < k ? digits[i] : '0';
        }
    } else {
        buf[n++] = '0';
        buf[n++] = '.';
        for (int i = -1; i > x; i--)
            buf[n++] = '0';
        memcpy(buf + n, digits, k);
        n += k;
    }
    buf[n] = '\0';
    return n;
}

size_t pvm_ref_format_float(char buf[PVM_FLOAT_BUFSIZE], double v)
{
    const char *special = isnan(v)   ? "NaN"
                          : isinf(v) ? (v > 0 ? "+Inf" : "-Inf")
                          : v == 0   ? (signbit(v) ? "-0" : "0")
                                     : NULL;
    if (special) {
        strcpy(buf, special);
        return strlen(buf);
    }
    double a = fabs(v);
    if (a < 9007199254740992.0 && a == floor(a))
        return (size_t)snprintf(buf, PVM_FLOAT_BUFSIZE, "%lld", (long long)v);
    char digits[24];
    int x;
    shortest_digits(v, digits, &x);
    return layout(buf, v < 0, digits, x, a < 1e-6 || a >= 1e21);
}
