/* gofloat.c: numbers as Go and Prometheus write them, in one place:
 * integers two digits at a time, Prometheus' sample and timestamp texts,
 * and strconv.FormatFloat(v, 'f' or 'g', -1, 64) on the shortest
 * round-trip digits of the Schubfach algorithm below. */

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gofloat.h"

/* ---- numbers ----------------------------------------------------------
 *
 * Integers (timestamps, exact small integers, decimal significands) are
 * written two digits at a time from json_digit_pairs. Other doubles get
 * their shortest round-trip digits from Schubfach (R. Giulietti, "The
 * Schubfach way to render doubles", 2020): for v = c 2^q, pick k with
 * 10^k <= 2^q (10^k <= 3/4 2^q when the lower neighbour of v is closer
 * than the upper one), scale v and both ends of its rounding interval by
 * 10^-k with one 128-bit multiplication each, rounded to odd so that
 * comparisons with even integers stay exact. The interval holds at most
 * one multiple of 10^(k+1): take it if it is there; else take whichever
 * of s = floor(v 10^-k) and s + 1 (times 10^k) is in the interval, or
 * the closer to v when both are (ties to even). The 128-bit powers of ten
 * are computed once, exactly, at first use. */

#define JSON_POW10_MIN (-292) /* smallest e with 10^e in json_pow10 */
#define JSON_POW10_MAX 324    /* largest */
#define JSON_BIG_LIMBS 18     /* 64-bit limbs of the table's bignums */

/* 10^e ~ g 2^(beta - 127) with beta = floor(log2(10^e)) and
 * g = floor(10^e 2^(127 - beta)) + 1 in (2^127, 2^128): an overestimate
 * by less than one unit of g, as Schubfach requires. */
typedef struct json_pow10_entry {
    uint64_t hi; /* g >> 64 */
    uint64_t lo; /* g mod 2^64 */
    int beta;    /* floor(log2(10^e)) */
} json_pow10_entry;

/* A non-negative integer below 2^(64 JSON_BIG_LIMBS). */
typedef struct json_big {
    uint64_t limb[JSON_BIG_LIMBS]; /* least significant first */
} json_big;

static json_pow10_entry json_pow10[JSON_POW10_MAX - JSON_POW10_MIN + 1];
static pthread_once_t json_pow10_once = PTHREAD_ONCE_INIT;

#define JSON_PAIRS_ROW(d)                                                     \
#d "0" #d "1" #d "2" #d "3" #d "4" #d "5" #d "6" #d "7" #d "8" #d "9"
/* "00" "01" ... "99": the two-digit texts of 0..99, back to back. */
static const char json_digit_pairs[201] = JSON_PAIRS_ROW(0) JSON_PAIRS_ROW(1)
    JSON_PAIRS_ROW(2) JSON_PAIRS_ROW(3) JSON_PAIRS_ROW(4) JSON_PAIRS_ROW(5)
        JSON_PAIRS_ROW(6) JSON_PAIRS_ROW(7) JSON_PAIRS_ROW(8)
            JSON_PAIRS_ROW(9);

/* Number of decimal digits of v (1 for 0): n = floor(bits log10 2) (that
 * is bits * 1233 >> 12 for bits <= 64) or n + 1, told apart by one
 * comparison. */
static size_t decimal_length(uint64_t v)
{
    static const uint64_t pow10[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};
    uint64_t w = v | 1; /* as many digits as v: 10^n - 1 is odd */
    size_t bits = 64 - (size_t)__builtin_clzll(w);
    size_t n = (bits * 1233) >> 12; /* 10^n <= 2^bits */
    return n + (w >= pow10[n]);
}

size_t pvm_format_u64(char *p, uint64_t v)
{
    size_t n = decimal_length(v);
    char *q = p + n;
    while (v >= 100) {
        size_t r = (size_t)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, json_digit_pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(q - 2, json_digit_pairs + 2 * v, 2);
    else
        q[-1] = (char)('0' + v);
    return n;
}

size_t pvm_format_i64(char *p, int64_t v)
{
    if (v >= 0)
        return pvm_format_u64(p, (uint64_t)v);
    *p = '-';
    return 1 + pvm_format_u64(p + 1, 0 - (uint64_t)v);
}

size_t pvm_format_timestamp(char buf[PVM_FLOAT_BUFSIZE], int64_t ms)
{
    uint64_t u = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;
    size_t n = 0;
    if (ms < 0)
        buf[n++] = '-';
    n += pvm_format_u64(buf + n, u / 1000);
    unsigned frac = (unsigned)(u % 1000);
    if (frac) {
        buf[n++] = '.';
        buf[n++] = (char)('0' + frac / 100);
        memcpy(buf + n, json_digit_pairs + 2 * (frac % 100), 2);
        n += 2;
    }
    buf[n] = '\0';
    return n;
}

/* ---- the power-of-ten table, in exact integer arithmetic ---- */

/* b *= m; the product must fit. */
static void big_mul_small(json_big *b, uint64_t m)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < JSON_BIG_LIMBS; i++) {
        unsigned __int128 t = (unsigned __int128)b->limb[i] * m + carry;
        b->limb[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
}

/* Number of significant bits of b (b > 0). */
static int big_bits(const json_big *b)
{
    size_t i = JSON_BIG_LIMBS - 1;
    while (b->limb[i] == 0)
        i--;
    return (int)(i * 64 + 64) - __builtin_clzll(b->limb[i]);
}

/* floor(b / 2^lo) mod 2^128; lo may be negative (a left shift). */
static unsigned __int128 big_bits_at(const json_big *b, int lo)
{
    unsigned __int128 r = 0;
    for (int bit = lo + 127; bit >= lo; bit--) {
        uint64_t v = 0;
        if (bit >= 0 && bit < 64 * JSON_BIG_LIMBS)
            v = (b->limb[bit / 64] >> (bit % 64)) & 1;
        r = (r << 1) | v;
    }
    return r;
}

/* a >= b, comparing their n low limbs (the others are zero). */
static bool big_ge(const json_big *a, const json_big *b, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (a->limb[i] != b->limb[i])
            return a->limb[i] > b->limb[i];
    return true;
}

/* a -= b, for a >= b below 2^(64 n). */
static void big_sub(json_big *a, const json_big *b, size_t n)
{
    uint64_t borrow = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = a->limb[i], y = b->limb[i];
        a->limb[i] = x - y - borrow;
        borrow = x < y || (x == y && borrow);
    }
}

/* a *= 2, for 2a below 2^(64 n). */
static void big_double(json_big *a, size_t n)
{
    for (size_t i = n - 1; i > 0; i--)
        a->limb[i] = (a->limb[i] << 1) | (a->limb[i - 1] >> 63);
    a->limb[0] <<= 1;
}

/* floor(2^(bits(d) + 127) / d) for d > 1 not a power of two (so the
 * quotient is in (2^127, 2^128)), by restoring division: 128 steps that
 * each double the remainder (< d, so 2 rem < 2^(bits(d) + 1)) and take
 * one quotient bit. */
static unsigned __int128 big_recip128(const json_big *d)
{
    json_big rem = {{0}};
    int top = big_bits(d) - 1;
    size_t n = (size_t)top / 64 + 2;         /* limbs of 2 rem */
    rem.limb[top / 64] = 1ULL << (top % 64); /* 2^(bits - 1) < d */
    unsigned __int128 q = 0;
    for (int i = 0; i < 128; i++) {
        big_double(&rem, n);
        q <<= 1;
        if (big_ge(&rem, d, n)) {
            big_sub(&rem, d, n);
            q |= 1;
        }
    }
    return q;
}

static void pow10_set(int e, unsigned __int128 g, int beta)
{
    json_pow10_entry *p = &json_pow10[e - JSON_POW10_MIN];
    p->hi = (uint64_t)(g >> 64);
    p->lo = (uint64_t)g;
    p->beta = beta;
}

/* Fills json_pow10 (run once; about a millisecond). With P = 10^n of L
 * bits: for e = n, beta = L - 1 and g = floor(P 2^(128 - L)) + 1; for
 * e = -n (n > 0), beta = -L (P is not a power of two) and
 * g = floor(2^(127 + L) / P) + 1. No floor in the table is 2^128 - 1, so
 * the + 1 never carries out of 128 bits (checked with exact integers). */
static void pow10_init(void)
{
    json_big p = {{1}};
    for (int n = 0; n <= JSON_POW10_MAX; n++) {
        int bits = big_bits(&p);
        pow10_set(n, big_bits_at(&p, bits - 128) + 1, bits - 1);
        if (n > 0 && -n >= JSON_POW10_MIN)
            pow10_set(-n, big_recip128(&p) + 1, -bits);
        big_mul_small(&p, 10);
    }
}

/* floor(log10(2^q)), or floor(log10(3/4 2^q)) when three_quarters; exact
 * for |q| <= 1500 (checked against exact integer logarithms). Right shifts
 * of negative values are arithmetic on every compiler we support. */
static int floor_log10_pow2(int q, bool three_quarters)
{
    return (q * 1262611 - (three_quarters ? 524031 : 0)) >> 22;
}

/* x 2^q 10^-k rounded to odd (the floor, with its lowest bit set when the
 * value is not an integer), given g, the entry of 10^-k, and
 * cp = x << h with h = q + g->beta (so cp < 2^59): the 192-bit product
 * g cp is x 2^q 10^-k 2^127, slightly over. Only its upper 128 bits are
 * computed; that the low word and the overestimate never change the
 * result is the core lemma of the paper (for the q and x of doubles). */
static uint64_t round_to_odd(const json_pow10_entry *g, uint64_t cp)
{
    unsigned __int128 lo = (unsigned __int128)g->lo * cp;
    unsigned __int128 mid = (unsigned __int128)g->hi * cp +
                            (uint64_t)(lo >> 64);
    return (uint64_t)(mid >> 63) | ((uint64_t)mid != 0);
}

/* The shortest decimal d 10^k that reads back as v = c 2^q > 0 (c the
 * significand with its hidden bit; lower_closer when c = 2^52 and v is not
 * the smallest normal, so the double below v is nearer than the one
 * above); the closest to v when there are several, ties to an even d.
 * d may end in zeros; d < 10^17. Computes the table on first use. */
static uint64_t shortest_decimal(uint64_t c, int q, bool lower_closer,
                                 int *k_out)
{
    pthread_once(&json_pow10_once, pow10_init);
    int k = floor_log10_pow2(q, lower_closer);
    const json_pow10_entry *g = &json_pow10[-k - JSON_POW10_MIN];
    int h = q + g->beta; /* 0..3 */
    uint64_t vbl = round_to_odd(g, (4 * c - 2 + lower_closer) << h);
    uint64_t vb = round_to_odd(g, (4 * c) << h);
    uint64_t vbr = round_to_odd(g, (4 * c + 2) << h);
    bool odd = c & 1; /* the interval's ends read back as v iff c is even */
    uint64_t lower = vbl + odd, upper = vbr - odd;
    uint64_t s = vb / 4;
    if (s >= 10) {
        uint64_t sp = s / 10; /* one digit less */
        bool up_in = lower <= 40 * sp, wp_in = 40 * sp + 40 <= upper;
        if (up_in != wp_in) {
            *k_out = k + 1;
            return sp + wp_in;
        }
    }
    bool u_in = lower <= 4 * s, w_in = 4 * s + 4 <= upper;
    *k_out = k;
    if (u_in != w_in)
        return s + w_in;
    uint64_t mid = 4 * s + 2;
    return s + (vb > mid || (vb == mid && (s & 1)));
}

/* Writes the n digits dig (no trailing zeros) times 10^x, scaled so that
 * the first digit is the units, in Go's 'e' form: d.ddde+XX, d.ddde-XXX. */
static size_t layout_exp(char *p, const char *dig, size_t n, int x)
{
    size_t len = 0;
    p[len++] = dig[0];
    if (n > 1) {
        p[len++] = '.';
        memcpy(p + len, dig + 1, n - 1);
        len += n - 1;
    }
    p[len++] = 'e';
    p[len++] = x < 0 ? '-' : '+';
    unsigned ax = (unsigned)(x < 0 ? -x : x);
    if (ax >= 100) {
        p[len++] = (char)('0' + ax / 100);
        ax %= 100;
    }
    memcpy(p + len, json_digit_pairs + 2 * ax, 2);
    return len + 2;
}

/* Writes the n digits dig with the decimal point after dp of them (dp may
 * be <= 0 or >= n) in Go's 'f' form: 0.000ddd, ddd000, dd.d. */
static size_t layout_fixed(char *p, const char *dig, size_t n, int dp)
{
    if (dp <= 0) {
        size_t zeros = (size_t)-dp;
        memcpy(p, "0.", 2);
        memset(p + 2, '0', zeros);
        memcpy(p + 2 + zeros, dig, n);
        return 2 + zeros + n;
    }
    size_t ip = (size_t)dp;
    if (ip >= n) {
        memcpy(p, dig, n);
        memset(p + n, '0', ip - n);
        return ip;
    }
    memcpy(p, dig, ip);
    p[ip] = '.';
    memcpy(p + ip + 1, dig + ip, n - ip);
    return n + 1;
}

/* Writes finite, non-zero |v| (bits: v's without the sign) in Go's format,
 * 'e' when |v| < 1e-6 or |v| >= 1e21, else 'f'. No NUL. */
/* Shortest round-trip digits of finite, non-zero |v| (bits: v's without
 * the sign) into dig, without trailing zeros; |v| = dig * 10^*k. Returns
 * the number of digits. */
static size_t shortest_digits(uint64_t bits, char dig[20], int *k)
{
    uint64_t m = bits & ((1ULL << 52) - 1);
    int e = (int)(bits >> 52);
    uint64_t c = e ? m | (1ULL << 52) : m;
    int q = (e ? e : 1) - 1075;
    uint64_t d = shortest_decimal(c, q, m == 0 && e > 1, k);
    while (d % 10 == 0) {
        d /= 10;
        (*k)++;
    }
    return pvm_format_u64(dig, d);
}

static size_t format_shortest(char *p, uint64_t bits)
{
    char dig[20];
    int k;
    size_t n = shortest_digits(bits, dig, &k);
    double a;
    memcpy(&a, &bits, sizeof(a));
    if (a < 1e-6 || a >= 1e21)
        return layout_exp(p, dig, n, k + (int)n - 1);
    return layout_fixed(p, dig, n, k + (int)n);
}

size_t pvm_format_float(char buf[PVM_FLOAT_BUFSIZE], double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    bool neg = bits >> 63;
    bits &= ~(1ULL << 63);
    size_t n = 0;
    if (bits >= 0x7FF0000000000000ULL) { /* infinities and NaNs */
        const char *s = bits > 0x7FF0000000000000ULL ? "NaN"
                        : neg                        ? "-Inf"
                                                     : "+Inf";
        n = strlen(s);
        memcpy(buf, s, n + 1);
        return n;
    }
    if (neg)
        buf[n++] = '-';
    double a = fabs(v);
    if (a < 9007199254740992.0 && a == (double)(int64_t)a) /* incl. 0 */
        n += pvm_format_u64(buf + n, (uint64_t)a);
    else
        n += format_shortest(buf + n, bits);
    buf[n] = '\0';
    return n;
}

size_t pvm_float_digits(double v, char dig[20], int *dp)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    bits &= ~(1ULL << 63);
    int k;
    size_t n = shortest_digits(bits, dig, &k);
    dig[n] = '\0';
    *dp = k + (int)n;
    return n;
}

/* NaN, +Inf, -Inf, 0 and -0 as Go writes them; 0 for other values. */
static size_t special(char *tmp, double v)
{
    const char *s = isnan(v)   ? "NaN"
                    : isinf(v) ? (v > 0 ? "+Inf" : "-Inf")
                    : v == 0   ? (signbit(v) ? "-0" : "0")
                               : NULL;
    if (!s)
        return 0;
    size_t n = strlen(s);
    memcpy(tmp, s, n + 1);
    return n;
}

/* Copies tmp (n bytes) into buf (size > 0), cut to size - 1 bytes. */
static size_t copy_out(char *buf, size_t size, const char *tmp, size_t n)
{
    if (size == 0)
        return n;
    size_t m = n < size - 1 ? n : size - 1;
    memcpy(buf, tmp, m);
    buf[m] = '\0';
    return n;
}

size_t pvm_format_float_f(char *buf, size_t size, double v)
{
    char tmp[PVM_FLOAT_F_BUFSIZE];
    size_t k = special(tmp, v);
    if (k)
        return copy_out(buf, size, tmp, k);
    char d[20];
    int dp;
    size_t nd = pvm_float_digits(v, d, &dp);
    if (v < 0)
        tmp[k++] = '-';
    k += layout_fixed(tmp + k, d, nd, dp);
    return copy_out(buf, size, tmp, k);
}

size_t pvm_format_float_g(char *buf, size_t size, double v)
{
    char d[20];
    int dp = 1;
    size_t nd = 0;
    if (isfinite(v) && v != 0)
        nd = pvm_float_digits(v, d, &dp);
    if (nd == 0 || (dp - 1 >= -4 && dp - 1 < 6))
        return pvm_format_float_f(buf, size, v);
    char tmp[PVM_FLOAT_BUFSIZE];
    size_t k = 0;
    if (v < 0)
        tmp[k++] = '-';
    k += layout_exp(tmp + k, d, nd, dp - 1);
    return copy_out(buf, size, tmp, k);
}
