/* http_template.c: the placeholders of the http plugin's `url` and `body`
 * ({start}, {end}, {step} in unix seconds, milliseconds or RFC 3339;
 * {matcher.LABEL}, percent-encoded) and the sample time forms (seconds,
 * milliseconds, RFC 3339). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "http_plugin.h"

#include <pvm/calendar.h>

/* ---- times ---------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int pvm_http_rfc3339_parse(const char *s, size_t n, int64_t *ms)
{
    int y, mo, d, h, mi, sec;
    if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
        s[16] != ':' || !digits(s + 17, 2, &sec))
        return PVM_ERR_BAD_DATA;
    static const int mdays[] = {31, 29, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 60)
        return PVM_ERR_BAD_DATA;
    size_t i = 19;
    int64_t frac = 0, scale = 1000;
    if (i < n && s[i] == '.') {
        i++;
        size_t first = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
            i++;
        }
        if (i == first)
            return PVM_ERR_BAD_DATA;
    }
    int off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (!digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return PVM_ERR_BAD_DATA;
        off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return PVM_ERR_BAD_DATA;
    }
    if (i != n)
        return PVM_ERR_BAD_DATA;
    int64_t secs = pvm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
                   sec - off * 60;
    *ms = secs * 1000 + frac;
    return 0;
}

void pvm_http_rfc3339_format(int64_t ms, char *buf, size_t n)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t rem = ms - secs * 1000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    pvm_civil_from_days(days, &y, &m, &d);
    if (rem)
        snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y,
                 m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                 (int)(sod % 60), (int)rem);
    else
        snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m,
                 d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

int pvm_http_time_number(double v, bool in_ms, int64_t *ms)
{
    double t = in_ms ? v : v * 1000.0;
    if (!(fabs(t) < 9.2e15)) /* NaN, Inf, beyond year 250,000 */
        return PVM_ERR_BAD_DATA;
    *ms = llround(t);
    return 0;
}

int pvm_http_time_text(const char *s, size_t n, bool in_ms, int64_t *ms)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 20 && s[4] == '-')
        return pvm_http_rfc3339_parse(s, n, ms);
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return PVM_ERR_BAD_DATA;
    memcpy(buf, s, n);
    buf[n] = '\0';
    double v;
    if (pvm_parse_sample_value(buf, &v) < 0)
        return PVM_ERR_BAD_DATA;
    return pvm_http_time_number(v, in_ms, ms);
}

/* ---- placeholders --------------------------------------------------- */

enum ph { PH_NONE, PH_START, PH_END, PH_STEP, PH_MATCHER };
enum form { F_SECONDS, F_MS, F_RFC3339 };

/* Reads the placeholder at s ('{'): its kind, form, length (braces
 * included) and, for matchers, the label (into label, n bytes). PH_NONE
 * when s does not start a placeholder-like {word}; -1 for an unknown
 * word. */
static int placeholder(const char *s, enum form *form, size_t *len,
                       char *label, size_t n)
{
    size_t w = 1;
    while ((s[w] >= 'a' && s[w] <= 'z') || (s[w] >= 'A' && s[w] <= 'Z') ||
           (s[w] >= '0' && s[w] <= '9') || s[w] == '_' || s[w] == '.')
        w++;
    if (w == 1 || s[w] != '}')
        return PH_NONE;
    *len = w + 1;
    const char *word = s + 1;
    size_t wl = w - 1;
    if (wl > 8 && strncmp(word, "matcher.", 8) == 0) {
        if (wl - 8 >= n)
            return -1;
        memcpy(label, word + 8, wl - 8);
        label[wl - 8] = '\0';
        return pvm_is_label_name(label) ? PH_MATCHER : -1;
    }
    static const struct {
        const char *w;
        int ph;
        enum form f;
    } words[] = {
        {"start", PH_START, F_SECONDS},
        {"start_ms", PH_START, F_MS},
        {"start_rfc3339", PH_START, F_RFC3339},
        {"end", PH_END, F_SECONDS},
        {"end_ms", PH_END, F_MS},
        {"end_rfc3339", PH_END, F_RFC3339},
        {"step", PH_STEP, F_SECONDS},
        {"step_ms", PH_STEP, F_MS},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].w) == wl && !memcmp(words[i].w, word, wl)) {
            *form = words[i].f;
            return words[i].ph;
        }
    return -1;
}

int pvm_http_template_check(const char *tmpl, pvm_error *err)
{
    for (const char *p = strchr(tmpl, '{'); p; p = strchr(p + 1, '{')) {
        enum form f;
        size_t len;
        char label[256];
        if (placeholder(p, &f, &len, label, sizeof(label)) < 0) {
            size_t w = strcspn(p, "}") + 1;
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "unknown placeholder %.*s (known: {start}, "
                                 "{end}, {step}, with _ms or _rfc3339, and "
                                 "{matcher.LABEL})",
                                 (int)(w > 64 ? 64 : w), p);
        }
    }
    return 0;
}

/* The first `label="value"` of the selector, or "". */
static const char *matcher_value(const pvm_selector *sel, const char *label)
{
    size_t n = sel ? pvm_selector_matcher_count(sel) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        pvm_match_op op;
        pvm_selector_matcher(sel, i, &name, &op, &value);
        if (op == PVM_MATCH_EQUAL && strcmp(name, label) == 0)
            return value;
    }
    return "";
}

/* Formats a time placeholder into buf. */
static void format_time(int64_t ms, enum form f, bool duration, char *buf,
                        size_t n)
{
    if (f == F_MS || (f == F_RFC3339 && duration))
        snprintf(buf, n, "%lld", (long long)ms);
    else if (f == F_RFC3339)
        pvm_http_rfc3339_format(ms, buf, n);
    else if (ms % 1000 == 0)
        snprintf(buf, n, "%lld", (long long)(ms / 1000));
    else
        snprintf(buf, n, "%.3f", (double)ms / 1000.0);
}

char *pvm_http_expand(pvm_arena *a, const char *tmpl, const pvm_http_vars *v)
{
    size_t cap = strlen(tmpl) + 64, len = 0;
    char *out = pvm_arena_alloc(a, cap);
    for (const char *p = tmpl; out && *p;) {
        enum form f = F_SECONDS;
        size_t plen = 1;
        char label[256], val[64];
        const char *text = p;
        size_t tlen = 1;
        int ph = *p == '{' ? placeholder(p, &f, &plen, label, sizeof(label))
                           : PH_NONE;
        char *enc = NULL;
        if (ph == PH_START || ph == PH_END || ph == PH_STEP) {
            int64_t ms = ph == PH_START ? v->start
                         : ph == PH_END ? v->end
                                        : v->step;
            format_time(ms, f, ph == PH_STEP, val, sizeof(val));
            text = val;
            tlen = strlen(val);
        } else if (ph == PH_MATCHER) {
            if (!(enc = pvm_http_urlencode(a, matcher_value(v->sel, label))))
                return NULL;
            text = enc;
            tlen = strlen(enc);
        } else {
            plen = 1;
        }
        if (len + tlen + 1 > cap) {
            size_t ncap = (len + tlen + 1) * 2;
            out = pvm_arena_realloc(a, out, cap, ncap);
            cap = ncap;
            if (!out)
                return NULL;
        }
        memcpy(out + len, text, tlen);
        len += tlen;
        p += plen;
    }
    if (out)
        out[len] = '\0';
    return out;
}
