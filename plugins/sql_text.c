/* sql_text.c: the byte parsers of the SQL core: named parameters in the
 * user's SQL, literal alternations in regexes (what can be pushed down as
 * IN (...)), the `metrics =` and `label_columns =` lists, and numbers and
 * timestamps written as text. fuzz_sql runs them on arbitrary bytes. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql_core.h"

#include <pvm/calendar.h>

/* ---- named parameters ---------------------------------------------------- */

static const char *const named[] = {"start", "end", "step", "lookback"};

struct out {
    char *v;    /* text */
    size_t n;   /* bytes used */
    size_t cap; /* bytes allocated */
    bool nomem; /* an allocation failed */
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->nomem)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = (o->n + n + 1) * 2;
        char *v = realloc(o->v, cap);
        if (!v) {
            o->nomem = true;
            return;
        }
        o->v = v;
        o->cap = cap;
    }
    memcpy(o->v + o->n, s, n);
    o->n += n;
    o->v[o->n] = '\0';
}

/* Length of a quoted part starting at s (the quote), up to and with the
 * closing quote (doubled quotes inside stay inside; backslash escapes
 * too when esc): to the end when unterminated. */
static size_t quoted_len(const char *s, char close, bool esc)
{
    size_t i = 1;
    for (; s[i]; i++) {
        if (esc && s[i] == '\\' && s[i + 1]) {
            i++;
        } else if (s[i] == close) {
            if (s[i + 1] == close)
                i++;
            else
                return i + 1;
        }
    }
    return i;
}

/* Length of a dollar-quoted string at s ("$tag$...$tag$"), or 0 when s
 * does not start one. */
static size_t dollar_len(const char *s)
{
    size_t t = 1;
    while (isalnum((unsigned char)s[t]) || s[t] == '_')
        t++;
    if (s[t] != '$' || (t > 1 && isdigit((unsigned char)s[1])))
        return 0;
    t++; /* the tag with both dollars */
    for (const char *p = s + t; *p; p++)
        if (*p == '$' && strncmp(p, s, t) == 0)
            return (size_t)(p - s) + t;
    return strlen(s);
}

/* A :name at s (s[0] == ':'): its index in named[], or -1 with *len the
 * name's length (0 when no name follows). */
static int named_at(const char *s, size_t *len)
{
    size_t n = 1;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
        n++;
    *len = n - 1;
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (n - 1 == strlen(named[i]) && memcmp(s + 1, named[i], n - 1) == 0)
            return (int)i;
    return -1;
}

int pvm_sql_rewrite(const char *sql, const pvm_sql_driver *drv, char **out,
                    pvm_sql_named **params, size_t *nparams, pvm_error *err)
{
    struct out o = {0};
    pvm_sql_named *p = NULL;
    size_t np = 0;
    const char *s = sql;
    int rc = 0;
    char ph1[32];
    drv->placeholder(1, ph1, sizeof(ph1));
    bool qmark = ph1[0] == '?'; /* '?' is a placeholder there */
    put(&o, "", 0);
    while (*s && rc == 0) {
        size_t n = 1;
        char c = *s;
        bool word_before = s > sql && (isalnum((unsigned char)s[-1]) ||
                                       s[-1] == '_' || s[-1] == '$');
        if (c == '\'')
            n = quoted_len(s, '\'',
                           drv->ident_quote == '`' || /* MySQL: \' */
                               (s > sql && (s[-1] == 'E' || s[-1] == 'e')));
        else if (c == '"')
            n = quoted_len(s, '"', false);
        else if (c == '`')
            n = quoted_len(s, '`', false);
        else if (c == '-' && s[1] == '-')
            n = strcspn(s, "\n");
        else if (c == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            n = e ? (size_t)(e - s) + 2 : strlen(s);
        } else if (c == '$' && !word_before && (n = dollar_len(s)) == 0) {
            if (isdigit((unsigned char)s[1]))
                rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                                   "placeholder $%c: use the named "
                                   "parameters :start, :end, :step and "
                                   ":lookback",
                                   s[1]);
            n = 1;
        } else if (c == '?' && qmark)
            rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                               "placeholder '?': use the named parameters "
                               ":start, :end, :step and :lookback");
        else if (c == ':' && s[1] == ':')
            n = 2; /* a PostgreSQL cast */
        else if (c == ':' && !word_before) {
            size_t len;
            int k = named_at(s, &len);
            if (k < 0 && len > 0) {
                rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                                   "parameter :%.*s is not known (use "
                                   ":start, :end, :step and :lookback, "
                                   "seconds)",
                                   (int)(len > 64 ? 64 : len), s + 1);
                break;
            }
            if (k >= 0) {
                pvm_sql_named *q = realloc(p, (np + 1) * sizeof(*p));
                if (!q) {
                    o.nomem = true;
                    break;
                }
                p = q;
                p[np++] = (pvm_sql_named)k;
                char ph[32];
                drv->placeholder((unsigned)np, ph, sizeof(ph));
                put(&o, ph, strlen(ph));
                s += len + 1;
                continue;
            }
        }
        put(&o, s, n);
        s += n;
    }
    if (rc == 0 && o.nomem)
        rc = pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    if (rc < 0) {
        free(o.v);
        free(p);
        return rc;
    }
    *out = o.v;
    *params = p;
    *nparams = np;
    return 0;
}

/* ---- regexes that are literal alternations ------------------------------- */

size_t pvm_sql_regex_literals(const char *re, char *buf, size_t n,
                              const char **alts, size_t max)
{
    size_t k = 0, used = 0;
    if (max == 0 || n == 0)
        return 0;
    alts[k++] = buf;
    for (const char *s = re;; s++) {
        char c = *s;
        if (c == '\0' || c == '|') {
            if (buf + used == alts[k - 1]) /* empty alternative */
                return 0;
            if (used + 1 > n)
                return 0;
            buf[used++] = '\0';
            if (c == '\0')
                return k;
            if (k == max)
                return 0;
            alts[k++] = buf + used;
            continue;
        }
        if (c == '\\') {
            /* only escaped punctuation is a literal (\. \* \\ \| ...);
             * \d, \w, \pL, \x41 and the like are classes or codes */
            c = *++s;
            if (c == '\0' || !ispunct((unsigned char)c))
                return 0;
        } else if (strchr(".^$*+?()[]{}", c)) {
            return 0;
        }
        if (used + 1 >= n)
            return 0;
        buf[used++] = c;
    }
}

/* ---- lists ---------------------------------------------------------------- */

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* The next comma-separated item of *s, without blanks around it: its
 * start and length; *s moves past the comma. */
static const char *next_item(const char **s, size_t *len)
{
    const char *b = skip_blanks(*s);
    const char *e = b + strcspn(b, ",");
    *s = *e ? e + 1 : e;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *len = (size_t)(e - b);
    return b;
}

static char *dup_name(const char *s, size_t n, bool metric)
{
    char *d = strndup(s, n);
    if (d && !(metric ? pvm_is_metric_name(d) : pvm_is_label_name(d))) {
        free(d);
        return (char *)""; /* marks "not a name" */
    }
    return d;
}

int pvm_sql_names_parse(const char *s, char ***out, size_t *n, pvm_error *err)
{
    char **v = NULL;
    size_t k = 0;
    while (*skip_blanks(s)) {
        size_t len;
        const char *b = next_item(&s, &len);
        char *d = dup_name(b, len, false);
        char **nv = d && *d ? realloc(v, (k + 1) * sizeof(*v)) : NULL;
        if (!nv) {
            if (d && *d)
                free(d);
            for (size_t i = 0; i < k; i++)
                free(v[i]);
            free(v);
            if (d && !*d)
                return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                     "'%.*s' is not a label name "
                                     "([a-zA-Z_][a-zA-Z0-9_]*)",
                                     (int)(len > 64 ? 64 : len), b);
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        }
        v = nv;
        v[k++] = d;
    }
    *out = v;
    *n = k;
    return 0;
}

int pvm_sql_metrics_parse(const char *s, pvm_sql_metric **out, size_t *n,
                          pvm_error *err)
{
    pvm_sql_metric *v = NULL;
    size_t k = 0;
    int rc = 0;
    while (rc == 0 && *skip_blanks(s)) {
        size_t len;
        const char *b = next_item(&s, &len);
        const char *colon = memchr(b, ':', len);
        char *col = NULL, *name = NULL;
        if (colon) {
            const char *c = skip_blanks(colon + 1);
            size_t cl = (size_t)(colon - b);
            while (cl && (b[cl - 1] == ' ' || b[cl - 1] == '\t'))
                cl--;
            col = dup_name(b, cl, false);
            name = dup_name(c, len - (size_t)(c - b), true);
        }
        pvm_sql_metric *nv = NULL;
        if (!colon || (col && !*col) || (name && !*name))
            rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                               "'%.*s' is not column:metric_name "
                               "(a label name, a colon, a metric name)",
                               (int)(len > 64 ? 64 : len), b);
        else if (!col || !name || !(nv = realloc(v, (k + 1) * sizeof(*v))))
            rc = pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        if (rc < 0) {
            if (col && *col)
                free(col);
            if (name && *name)
                free(name);
            break;
        }
        v = nv;
        v[k++] = (pvm_sql_metric){col, name};
    }
    if (rc == 0 && k == 0)
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "no column:metric_name entries");
    if (rc < 0) {
        for (size_t i = 0; i < k; i++)
            free(v[i].column), free(v[i].name);
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

/* ---- numbers and times ---------------------------------------------------- */

/* Copies s (n bytes) without blanks around it into buf (len bytes);
 * false when it holds a NUL byte or does not fit. */
static bool trimmed(const char *s, size_t n, char *buf, size_t len)
{
    if (memchr(s, '\0', n))
        return false;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= len)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

int pvm_sql_parse_number(const char *s, size_t n, double *out)
{
    char buf[128];
    if (!trimmed(s, n, buf, sizeof(buf)))
        return -1;
    return pvm_parse_sample_value(buf, out) == 0 ? 0 : -1;
}

/* Reads exactly w digits at *p into *v. */
static bool digits(const char **p, int w, int *v)
{
    *v = 0;
    for (int i = 0; i < w; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return false;
        *v = *v * 10 + (**p - '0');
    }
    return true;
}

static int parse_iso(const char *p, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
        *p++ != '-' || !digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 ||
        d > 31)
        return -1;
    double frac = 0;
    if (*p == ' ' || *p == 'T') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
            h > 24 || mi > 59)
            return -1;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec) || sec > 60)
                return -1;
        }
        if (*p == '.') {
            double scale = 0.1;
            if (!isdigit((unsigned char)*++p))
                return -1;
            for (; isdigit((unsigned char)*p); p++, scale /= 10)
                frac += (*p - '0') * scale;
        }
    }
    int64_t off = 0; /* seconds east of UTC */
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0, os = 0;
        if (!digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && !digits(&p, 2, &om))
            return -1;
        if (*p == ':' && (p++, !digits(&p, 2, &os)))
            return -1;
        off = sign * (oh * 3600 + om * 60 + os);
    }
    if (*p)
        return -1;
    int64_t s = pvm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
                sec - off;
    *ms = s * 1000 + llround(frac * 1000);
    return 0;
}

int pvm_sql_parse_time(const char *s, size_t n, int64_t *ms)
{
    char buf[128];
    double v;
    if (!trimmed(s, n, buf, sizeof(buf)) || !buf[0])
        return -1;
    if (pvm_parse_sample_value(buf, &v) == 0) {
        if (!(fabs(v) < 9e12))
            return -1;
        *ms = llround(v * 1000.0);
        return 0;
    }
    return parse_iso(buf, ms);
}
