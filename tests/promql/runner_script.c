/* runner_script.c: the promqltest script language for the runner
 * (runner.h): trimming, durations, strings, label sets, the expanding
 * value notation of `load` lines, and `eval` commands with their expect
 * lines and expected results. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions.h"
#include "runner.h"

/* ---- small parsers --------------------------------------------------- */

char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* Prometheus' model.ParseDuration (units y w d h m s ms, "0"). */
int parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *u;
        int64_t ms;
    } units[] = {
        {"ms", 1},       {"y", 365LL * 86400000}, {"w", 7LL * 86400000},
        {"d", 86400000}, {"h", 3600000},          {"m", 60000},
        {"s", 1000}};
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    int64_t total = 0;
    const char *p = s;
    if (!*p)
        return -1;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        int64_t v = 0;
        while (isdigit((unsigned char)*p))
            v = v * 10 + (*p++ - '0');
        size_t i;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strncmp(p, units[i].u, strlen(units[i].u)) == 0)
                break;
        if (i == sizeof(units) / sizeof(units[0]))
            return -1;
        total += v * units[i].ms;
        p += strlen(units[i].u);
    }
    *ms = total;
    return 0;
}

/* Appends the UTF-8 encoding of cp. */
static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A Go string literal at *p ("...", '...' or `...`), unescaped into the
 * arena. Advances *p. NULL on a syntax error. */
static char *parse_string(pvm_arena *a, const char **p)
{
    char q = **p;
    if (q != '"' && q != '\'' && q != '`')
        return NULL;
    const char *s = *p + 1;
    char *o = pvm_arena_alloc(a, strlen(s) + 1);
    size_t k = 0;
    while (*s && *s != q) {
        if (*s != '\\' || q == '`') {
            o[k++] = *s++;
            continue;
        }
        s++;
        char c = *s++;
        switch (c) {
        case 'a': o[k++] = '\a'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'v': o[k++] = '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
            int nd = c == 'x' ? 2 : c == 'u' ? 4 : 8;
            char hex[9] = {0};
            memcpy(hex, s, (size_t)nd);
            s += nd;
            uint32_t v = (uint32_t)strtoul(hex, NULL, 16);
            if (c == 'x')
                o[k++] = (char)v;
            else
                k += put_utf8(o + k, v);
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0';
                for (int i = 0; i < 2 && *s >= '0' && *s <= '7'; i++)
                    v = v * 8 + (*s++ - '0');
                o[k++] = (char)v;
            } else {
                o[k++] = c;
            }
        }
    }
    if (*s != q)
        return NULL;
    o[k] = 0;
    *p = s + 1;
    return o;
}

static bool ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == ':';
}

static char *parse_ident(pvm_arena *a, const char **p)
{
    const char *s = *p;
    if (!ident_start(*s))
        return NULL;
    while (ident_char(**p))
        (*p)++;
    return pvm_arena_strndup(a, s, (size_t)(*p - s));
}

static void skip_space(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

static int cmp_label(const void *x, const void *y)
{
    return strcmp(((const pvm_label *)x)->name, ((const pvm_label *)y)->name);
}

/* metric{l="v", ...}: labels sorted into l (with __name__). */
int parse_metric(pvm_arena *a, const char **p, pvm_label *l, size_t *n)
{
    *n = 0;
    skip_space(p);
    if (ident_start(**p))
        l[(*n)++] = (pvm_label){"__name__", parse_ident(a, p)};
    if (**p == '{') {
        (*p)++;
        for (;;) {
            skip_space(p);
            if (**p == '}')
                break;
            char *name = **p == '"' || **p == '\'' || **p == '`'
                             ? parse_string(a, p)
                             : parse_ident(a, p);
            if (!name || *n >= MAX_LABELS)
                return -1;
            skip_space(p);
            if (**p == '=') {
                (*p)++;
                skip_space(p);
                char *v = parse_string(a, p);
                if (!v)
                    return -1;
                if (*v)
                    l[(*n)++] = (pvm_label){name, v};
            } else {
                l[(*n)++] = (pvm_label){"__name__", name};
            }
            skip_space(p);
            if (**p == ',')
                (*p)++;
            else if (**p != '}')
                return -1;
        }
        (*p)++;
    }
    qsort(l, *n, sizeof(*l), cmp_label);
    return 0;
}

/* A number of the series notation: [+-] digits/./e, Inf, NaN. */
static int scan_number(const char **p, double *v)
{
    const char *s = *p, *q = s;
    if (*q == '+' || *q == '-')
        q++;
    if (strncasecmp(q, "inf", 3) == 0 || strncasecmp(q, "nan", 3) == 0) {
        q += 3;
    } else {
        const char *d = q;
        while (isdigit((unsigned char)*q) || *q == '.')
            q++;
        if (q == d)
            return -1;
        if ((*q == 'e' || *q == 'E') &&
            (isdigit((unsigned char)q[1]) ||
             ((q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])))) {
            q += 2;
            while (isdigit((unsigned char)*q))
                q++;
        }
    }
    char buf[64];
    size_t n = (size_t)(q - s);
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    *v = strtod(buf, NULL);
    *p = q;
    return 0;
}

/* Appends one value (omitted or not) to vals. */
static void push_val(pvm_arena *a, double **vals, bool **om, size_t *n,
                     size_t *cap, double v, bool omitted)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        *vals = pvm_arena_realloc(a, *vals, *cap * sizeof(double),
                                  nc * sizeof(double));
        *om = pvm_arena_realloc(a, *om, *cap * sizeof(bool),
                                nc * sizeof(bool));
        *cap = nc;
    }
    (*vals)[*n] = v;
    (*om)[(*n)++] = omitted;
}

static int parse_uint_x(const char **p, long *times)
{
    if (**p != 'x' || !isdigit((unsigned char)(*p)[1]))
        return -1;
    (*p)++;
    *times = strtol(*p, (char **)p, 10);
    return 0;
}

/* Skips {{...}}; returns -1 if unterminated. */
static int skip_hist(const char **p)
{
    const char *e = strstr(*p, "}}");
    if (!e)
        return -1;
    *p = e + 2;
    return 0;
}

/* The values of a series line: `1 2 _ stale 1+2x3 _x2 {{...}}`. Sets
 * *hist when a native histogram was seen (stored as omitted). */
int parse_values(pvm_arena *a, const char *p, double **vals, bool **om,
                 size_t *n, bool *hist)
{
    size_t cap = 0;
    *n = 0;
    *vals = NULL;
    *om = NULL;
    for (;;) {
        skip_space(&p);
        if (!*p)
            return 0;
        long times = -1;
        if (*p == '_') {
            p++;
            long t = 1;
            if (*p == 'x' && parse_uint_x(&p, &t) < 0)
                return -1;
            for (long i = 0; i < t; i++)
                push_val(a, vals, om, n, &cap, 0, true);
        } else if (strncmp(p, "{{", 2) == 0) {
            *hist = true;
            if (skip_hist(&p) < 0)
                return -1;
            if ((*p == '+' || *p == '-') && p[1] == '{' &&
                skip_hist(&(const char *){p + 1}) == 0) {
                p++;
                skip_hist(&p);
            }
            if (*p == 'x' && parse_uint_x(&p, &times) < 0)
                return -1;
            for (long i = 0; i <= (times < 0 ? 0 : times); i++)
                push_val(a, vals, om, n, &cap, 0, true);
        } else if (strncmp(p, "stale", 5) == 0) {
            p += 5;
            double v;
            uint64_t bits = PVM_STALE_NAN_BITS;
            memcpy(&v, &bits, sizeof(v));
            push_val(a, vals, om, n, &cap, v, false);
        } else {
            double v, d = 0;
            if (scan_number(&p, &v) < 0)
                return -1;
            if ((*p == '+' || *p == '-') && scan_number(&p, &d) < 0)
                return -1;
            if (*p == 'x' && parse_uint_x(&p, &times) < 0)
                return -1;
            if (times < 0) {
                push_val(a, vals, om, n, &cap, v, false);
            } else {
                for (long i = 0; i <= times; i++, v += d)
                    push_val(a, vals, om, n, &cap, v, false);
            }
        }
        if (*p && !isspace((unsigned char)*p))
            return -1;
    }
}

/* ---- eval parsing ---------------------------------------------------- */

static bool is_number_line(const char *s, double *v)
{
    char *end;
    if (!*s)
        return false;
    long long iv = strtoll(s, &end, 0);
    if (!*end && end != s) {
        *v = (double)iv;
        return true;
    }
    const char *q = s;
    if (scan_number(&q, v) == 0 && !*q)
        return true;
    return false;
}

static int parse_expect(pvm_arena *a, evalcmd *ev, const char *line)
{
    static const struct {
        const char *w;
        int k;
    } kinds[] = {{"ordered", 'o'}, {"fail", 'f'}, {"warn", 'w'},
                 {"no_warn", 'W'}, {"info", 'i'}, {"no_info", 'I'}};
    const char *p = line + 6;
    skip_space(&p);
    size_t i;
    for (i = 0; i < 6; i++) {
        size_t n = strlen(kinds[i].w);
        if (strncmp(p, kinds[i].w, n) == 0 &&
            (!p[n] || isspace((unsigned char)p[n])))
            break;
    }
    if (i == 6 || ev->nex == 32)
        return -1;
    expect *ex = &ev->ex[ev->nex++];
    memset(ex, 0, sizeof(*ex));
    ex->kind = kinds[i].k;
    p += strlen(kinds[i].w);
    skip_space(&p);
    if (strncmp(p, "msg:", 4) == 0)
        ex->msg = trim(pvm_arena_strdup(a, p + 4));
    else if (strncmp(p, "regex:", 6) == 0)
        ex->regex = trim(pvm_arena_strdup(a, p + 6));
    else if (*p)
        return -1;
    return 0;
}

static char *next_word(pvm_arena *a, const char **p)
{
    skip_space(p);
    const char *w = *p;
    while (**p && !isspace((unsigned char)**p))
        (*p)++;
    return pvm_arena_strndup(a, w, (size_t)(*p - w));
}

/* Parses the eval command at lines[i]; returns the index of its last
 * line, or -1 with *why set. */
int parse_eval(pvm_arena *a, char **lines, int i, int nlines, evalcmd *ev,
               char **why)
{
    memset(ev, 0, sizeof(*ev));
    ev->line = i + 1;
    char *l = pvm_arena_strdup(a, lines[i]);
    char *sp = l + strcspn(l, " \t");
    char *mod = strchr(l, '_');
    if (mod && mod < sp) {
        mod++;
        size_t n = (size_t)(sp - mod);
        ev->fail = n == 4 && !strncmp(mod, "fail", 4);
        ev->warn = n == 4 && !strncmp(mod, "warn", 4);
        ev->info = n == 4 && !strncmp(mod, "info", 4);
        ev->ordered = n == 7 && !strncmp(mod, "ordered", 7);
    }
    const char *p = sp;
    char *w0 = next_word(a, &p);
    if (!strcmp(w0, "instant")) {
        const char *save = p;
        char *w = next_word(a, &p);
        if (!strcmp(w, "at")) {
            if (parse_duration(next_word(a, &p), &ev->start) < 0) {
                *why = "invalid timestamp";
                return -1;
            }
        } else {
            p = save;
        }
        skip_space(&p);
        ev->expr = pvm_arena_strdup(a, p);
        ev->end = ev->start;
    } else if (!strcmp(w0, "range")) {
        char *w[6];
        for (int k = 0; k < 6; k++)
            w[k] = next_word(a, &p);
        skip_space(&p);
        ev->expr = pvm_arena_strdup(a, p);
        ev->range = true;
        if (strcmp(w[0], "from") || strcmp(w[2], "to") ||
            strcmp(w[4], "step") || parse_duration(w[1], &ev->start) < 0 ||
            parse_duration(w[3], &ev->end) < 0 ||
            parse_duration(w[5], &ev->step) < 0) {
            *why = "invalid range";
            return -1;
        }
    } else {
        *why = "invalid eval command";
        return -1;
    }
    size_t cap = 0;
    for (i++; i < nlines && *lines[i]; i++) {
        char *d = lines[i];
        if (ev->fail && !strncmp(d, "expected_fail_message", 21)) {
            ev->fail_msg = trim(pvm_arena_strdup(a, d + 21));
            return i;
        }
        if (ev->fail && !strncmp(d, "expected_fail_regexp", 20)) {
            ev->fail_regexp = trim(pvm_arena_strdup(a, d + 20));
            return i;
        }
        if (!strncmp(d, "expect range vector", 19)) {
            char w[5][64];
            if (sscanf(d + 19, " %63s %63s %63s %63s %63s %63s", w[0], w[1],
                       w[2], w[3], w[4], w[4]) < 5 ||
                parse_duration(w[1], &ev->start) < 0 ||
                parse_duration(w[3], &ev->end) < 0) {
                *why = "invalid expect range vector";
                return -1;
            }
            char *st = strstr(d, " step ");
            if (!st || parse_duration(trim(pvm_arena_strdup(a, st + 6)),
                                      &ev->step) < 0) {
                *why = "invalid expect range vector";
                return -1;
            }
            ev->range_vector = ev->exclude_range = true;
            continue;
        }
        if (!strncmp(d, "expect string", 13)) {
            const char *q = d + 13;
            skip_space(&q);
            ev->string = parse_string(a, &q);
            ev->has_string = ev->exclude_range = true;
            continue;
        }
        if (!strncmp(d, "expect", 6) && (d[6] == ' ' || d[6] == '\t')) {
            if (parse_expect(a, ev, d) < 0) {
                *why = d;
                return -1;
            }
            continue;
        }
        double v;
        if (cap == ev->nexp) {
            cap = cap ? cap * 2 : 8;
            ev->exp = pvm_arena_realloc(a, ev->exp,
                                        ev->nexp * sizeof(expected),
                                        cap * sizeof(expected));
        }
        expected *e = &ev->exp[ev->nexp];
        memset(e, 0, sizeof(*e));
        if (is_number_line(d, &v)) {
            e->vals = pvm_arena_alloc(a, sizeof(double));
            e->omitted = pvm_arena_calloc(a, 1, sizeof(bool));
            e->vals[0] = v;
            e->nvals = 1;
            ev->nexp++;
            ev->scalar = true;
            return i;
        }
        const char *q = d;
        if (strstr(d, "{{"))
            ev->native = true;
        bool hist = false;
        if (parse_metric(a, &q, e->labels, &e->n) < 0 ||
            parse_values(a, q, &e->vals, &e->omitted, &e->nvals, &hist) < 0) {
            *why = d;
            return -1;
        }
        ev->nexp++;
    }
    return i - 1;
}
