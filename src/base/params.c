/* params.c: Prometheus API parameters (see params.h): Go's ParseFloat
 * syntax, RFC 3339 times, Prometheus durations and limits. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/calendar.h>
#include <pvm/response.h>

#include "params.h"

#define NS_PER_MS 1000000ULL
#define FLOAT_COPY_MAX 512 /* longest float text with underscores */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
    char l = (char)(c | 0x20);
    return is_digit(c) || (l >= 'a' && l <= 'f');
}

/* Writes s quoted as Go's %q (for messages), cut to fit cap bytes. */
static void go_quote(char *buf, size_t cap, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    for (; *s && o + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, cap - o, "\\%c", c);
        else if (c == '\n')
            o += (size_t)snprintf(buf + o, cap - o, "\\n");
        else if (c == '\t')
            o += (size_t)snprintf(buf + o, cap - o, "\\t");
        else if (c < 0x20 || c == 0x7F)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* Case-insensitive equality of s (n bytes) and lower-case word. */
static bool eq_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((char)(s[i] | 0x20) != word[i])
            return false;
    return true;
}

/* Go's underscoreOK: '_' only between digits (or after a base prefix). */
static bool underscore_ok(const char *s, size_t n)
{
    char saw = '^';
    size_t i = 0;
    if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    bool hex = false;
    if (n >= 2 && s[0] == '0' && strchr("boxBOX", s[1])) {
        i = 2;
        saw = '0';
        hex = (s[1] | 0x20) == 'x';
    }
    for (; i < n; i++) {
        if (is_digit(s[i]) || (hex && is_xdigit(s[i]))) {
            saw = '0';
        } else if (s[i] == '_') {
            if (saw != '0')
                return false;
            saw = '_';
        } else {
            if (saw == '_')
                return false;
            saw = '!';
        }
    }
    return saw != '_';
}

/* Go's readFloat: true when all of s (n bytes) is a decimal or hex float;
 * *unders tells whether it holds underscores. */
static bool go_float_syntax(const char *s, size_t n, bool *unders)
{
    size_t i = 0;
    bool dot = false, digits = false;
    *unders = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    bool hex = i + 2 < n && s[i] == '0' && (s[i + 1] | 0x20) == 'x';
    if (hex)
        i += 2;
    for (; i < n; i++) {
        if (s[i] == '_') {
            *unders = true;
        } else if (s[i] == '.' && !dot) {
            dot = true;
        } else if (is_digit(s[i]) || (hex && is_xdigit(s[i]))) {
            digits = true;
        } else {
            break;
        }
    }
    if (!digits)
        return false;
    if (i < n && (s[i] | 0x20) == (hex ? 'p' : 'e')) {
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return false;
        for (; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
            *unders = *unders || s[i] == '_';
    } else if (hex) {
        return false;
    }
    return i == n && (!*unders || underscore_ok(s, n));
}

enum go_float {
    GO_FLOAT_OK,
    GO_FLOAT_SPECIAL,
    GO_FLOAT_SYNTAX,
    GO_FLOAT_RANGE
};

/* Go's strconv.ParseFloat(s, 64). GO_FLOAT_SPECIAL for "NaN", "Inf",
 * "-infinity" (any case; *v set); GO_FLOAT_RANGE when the value
 * overflows. Texts with underscores longer than FLOAT_COPY_MAX fail. */
static enum go_float go_parse_float(const char *s, double *v)
{
    size_t n = strlen(s);
    const char *t = n && (s[0] == '+' || s[0] == '-') ? s + 1 : s;
    size_t tn = n - (size_t)(t - s);
    if (eq_nocase(t, tn, "inf") || eq_nocase(t, tn, "infinity")) {
        *v = s[0] == '-' ? -INFINITY : INFINITY;
        return GO_FLOAT_SPECIAL;
    }
    if (eq_nocase(s, n, "nan")) {
        *v = NAN;
        return GO_FLOAT_SPECIAL;
    }
    bool unders;
    if (!go_float_syntax(s, n, &unders))
        return GO_FLOAT_SYNTAX;
    char copy[FLOAT_COPY_MAX];
    if (unders) {
        if (n >= sizeof(copy))
            return GO_FLOAT_SYNTAX;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] != '_')
                copy[k++] = s[i];
        copy[k] = '\0';
        s = copy;
    }
    errno = 0;
    *v = strtod(s, NULL);
    if (errno == ERANGE && isinf(*v))
        return GO_FLOAT_RANGE;
    return GO_FLOAT_OK;
}

/* Prometheus' textparse parseFloat: "Keep to pre-Go 1.13 float formats",
 * i.e. ParseFloat refusing 'p', 'P' and '_' (so no hex floats: a hex
 * mantissa needs a p exponent). */
int pvm_parse_sample_value(const char *s, double *out)
{
    double v;
    if (strpbrk(s, "pP_") || go_parse_float(s, &v) >= GO_FLOAT_SYNTAX)
        return PVM_ERR_BAD_DATA;
    *out = v;
    return 0;
}

/* Float seconds to ms as Prometheus: whole part, plus the fraction rounded
 * to ms half away from zero. False outside the int64 ms range. */
static bool seconds_to_ms(double t, int64_t *ms)
{
    double ip;
    double frac = modf(t, &ip);
    if (!(fabs(ip) < 9.3e15))
        return false;
    int64_t whole;
    if (__builtin_mul_overflow((int64_t)ip, (int64_t)1000, &whole))
        return false;
    return !__builtin_add_overflow(whole, (int64_t)round(frac * 1000), ms);
}

/* Reads exactly n digits at *p. */
static bool read_fixed(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!is_digit(**p))
            return false;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Zone suffix at p: "Z" or "+hh:mm"/"-hh:mm" (Go allows hh <= 24,
 * mm <= 60). Sets the offset east of UTC in seconds. */
static bool read_zone(const char *p, int *offset)
{
    int hh, mm;
    if (p[0] == 'Z' && p[1] == '\0') {
        *offset = 0;
        return true;
    }
    if (p[0] != '+' && p[0] != '-')
        return false;
    const char *q = p + 1;
    if (!read_fixed(&q, 2, &hh) || *q++ != ':' || !read_fixed(&q, 2, &mm) ||
        *q != '\0' || hh > 24 || mm > 60)
        return false;
    *offset = (p[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return true;
}

/* Go's time.Parse(time.RFC3339Nano, s), then timestamp.FromTime: the
 * hour may have one digit, the fraction any number of digits after '.' or
 * ',' (truncated to ms). */
static bool parse_rfc3339(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, offset, frac = 0;
    const char *p = s;
    if (!read_fixed(&p, 4, &y) || *p++ != '-' || !read_fixed(&p, 2, &mo) ||
        *p++ != '-' || !read_fixed(&p, 2, &d) || *p++ != 'T')
        return false;
    if (!read_fixed(&p, 1, &h))
        return false;
    if (is_digit(*p))
        h = h * 10 + (*p++ - '0');
    if (*p++ != ':' || !read_fixed(&p, 2, &mi) || *p++ != ':' ||
        !read_fixed(&p, 2, &sec))
        return false;
    if ((*p == '.' || *p == ',') && is_digit(p[1])) {
        int digits = 0;
        for (p++; is_digit(*p); p++, digits++)
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (!read_zone(p, &offset) || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return false;
    int64_t t = pvm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
                sec - offset;
    *ms = t * 1000 + frac;
    return true;
}

int pvm_parse_time(const char *s, int64_t *ms, pvm_error *err)
{
    double t;
    enum go_float r = go_parse_float(s, &t);
    if (r == GO_FLOAT_OK && seconds_to_ms(t, ms))
        return 0;
    if (r == GO_FLOAT_SYNTAX) {
        if (parse_rfc3339(s, ms))
            return 0;
        if (strcmp(s, PVM_MIN_TIME_STRING) == 0) {
            *ms = PVM_PARAMS_MIN_TIME_MS;
            return 0;
        }
        if (strcmp(s, PVM_MAX_TIME_STRING) == 0) {
            *ms = PVM_PARAMS_MAX_TIME_MS;
            return 0;
        }
    }
    char q[256];
    go_quote(q, sizeof(q), s);
    return pvm_error_set(err, PVM_ERR_BAD_DATA,
                         "cannot parse %s to a valid timestamp", q);
}

int pvm_parse_duration(const char *s, int64_t *ms, pvm_error *err)
{
    double d;
    char q[256];
    enum go_float r = go_parse_float(s, &d);
    if (r == GO_FLOAT_OK || (r == GO_FLOAT_SPECIAL && !isnan(d))) {
        double ns = d * 1e9;
        if (ns >= 9223372036854775808.0 || ns < -9223372036854775808.0) {
            go_quote(q, sizeof(q), s);
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "cannot parse %s to a valid duration. It "
                                 "overflows int64",
                                 q);
        }
        *ms = (int64_t)ns / (int64_t)NS_PER_MS;
        return 0;
    }
    if (r != GO_FLOAT_SPECIAL &&
        pvm_parse_prom_duration(s, strlen(s), ms) == 0)
        return 0;
    go_quote(q, sizeof(q), s);
    return pvm_error_set(err, PVM_ERR_BAD_DATA,
                         "cannot parse %s to a valid duration", q);
}

/* The units of model.ParseDuration, largest first, in ms. */
static const struct {
    const char *name; /* unit text */
    uint64_t ms;      /* its length */
} duration_units[] = {
    {"y", 365ULL * 24 * 3600 * 1000},
    {"w", 7ULL * 24 * 3600 * 1000},
    {"d", 24ULL * 3600 * 1000},
    {"h", 3600ULL * 1000},
    {"m", 60ULL * 1000},
    {"s", 1000},
    {"ms", 1},
};

#define NUNITS (sizeof(duration_units) / sizeof(duration_units[0]))

int pvm_parse_prom_duration_err(const char *s, size_t len, int64_t *ms,
                                pvm_error *err)
{
    const uint64_t max_ns = (1ULL << 63) - 1;
    uint64_t total_ns = 0;
    size_t last = 0, i = 0;
    if (len == 1 && s[0] == '0') {
        *ms = 0;
        return 0;
    }
    if (len == 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "empty duration string");
    while (i < len) {
        size_t start = i, ustart;
        uint64_t v = 0;
        bool too_big = false;
        for (; i < len && is_digit(s[i]); i++) {
            unsigned dgt = (unsigned)(s[i] - '0');
            too_big = too_big || v > UINT64_MAX / 10 ||
                      (v == UINT64_MAX / 10 && dgt > UINT64_MAX % 10);
            v = v * 10 + dgt;
        }
        for (ustart = i; i < len && !is_digit(s[i]); i++)
            ;
        if (i == start || ustart == start || ustart == i || too_big)
            goto invalid;
        size_t u = 0;
        while (u < NUNITS &&
               (strlen(duration_units[u].name) != i - ustart ||
                memcmp(duration_units[u].name, s + ustart, i - ustart) != 0))
            u++;
        if (u == NUNITS)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "unknown unit \"%.*s\" in duration \"%.*s\"",
                                 (int)(i - ustart), s + ustart, (int)len, s);
        if (u + 1 <= last)
            goto invalid;
        last = u + 1;
        uint64_t mult = duration_units[u].ms * NS_PER_MS;
        if (v > (1ULL << 63) / mult || (total_ns += v * mult) > max_ns)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "duration out of range");
    }
    *ms = (int64_t)(total_ns / NS_PER_MS);
    return 0;
invalid:
    return pvm_error_set(err, PVM_ERR_BAD_DATA,
                         "not a valid duration string: \"%.*s\"", (int)len, s);
}

int pvm_parse_prom_duration(const char *s, size_t len, int64_t *ms)
{
    return pvm_parse_prom_duration_err(s, len, ms, NULL);
}

size_t pvm_format_duration(char *buf, size_t n, int64_t ms)
{
    char tmp[64];
    size_t o = 0;
    uint64_t u = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;
    if (ms == 0)
        o = (size_t)snprintf(tmp, sizeof(tmp), "0s");
    else if (ms < 0)
        tmp[o++] = '-';
    for (size_t k = 0; k < NUNITS && u > 0; k++) {
        uint64_t mult = duration_units[k].ms;
        bool exact_only = k < 2; /* y and w only when nothing remains */
        if ((exact_only && u % mult != 0) || u / mult == 0)
            continue;
        o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%llu%s",
                              (unsigned long long)(u / mult),
                              duration_units[k].name);
        u %= mult;
    }
    if (n > 0)
        snprintf(buf, n, "%s", tmp);
    return o;
}

int pvm_parse_limit(const char *s, size_t *out, pvm_error *err)
{
    *out = 0;
    if (!s || !*s)
        return 0;
    const char *p = s + (s[0] == '+' || s[0] == '-');
    bool neg = s[0] == '-';
    if (!*p)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "limit must be a number");
    uint64_t v = 0;
    for (; *p; p++) {
        if (!is_digit(*p) || v > (uint64_t)INT64_MAX / 10 ||
            v * 10 + (uint64_t)(*p - '0') > (uint64_t)INT64_MAX + neg)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "limit must be a number");
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (neg && v > 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "limit must be non-negative");
    *out = (size_t)v;
    return 0;
}
