/* runner.c: runs promqltest scripts (Prometheus promql/promqltest) against
 * the engine: `load` blocks fill an in-memory store served through the
 * engine's fetch callback; `eval` commands (instant with the @-modifier
 * variants and the range-mode cross-check of test.go, range, the legacy
 * eval_fail/_warn/_info/_ordered forms and `expect` lines) are compared
 * with promqltest's float tolerance.
 *
 * Usage: runner [--experimental] [-v] [--own|--shared] [FILE|DIR]...
 * Without files: every .test file of tests/promql (--own; must all pass)
 * and the shared Prometheus scripts (--shared) in $PVM_PROMQLTEST_DIR,
 * else $PVM_SHARED_DIR/promqltest, else ../shared/promqltest next to the
 * source tree; without --own or --shared both. Any failure fails the exit
 * status. Shared scripts that are missing are reported on a "SKIP:" line
 * and counted as one skipped test; with --shared alone the exit status is
 * then 77 (automake's SKIP). Evals are skipped only for native histograms
 * and, in the shared scripts, experimental (feature-flagged) features. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/arena.h>

#include "labels.h"
#include "promql/ast.h"
#include "promql/engine.h"
#include "promql/functions.h"
#include "series.h"

#ifndef PVM_PROMQLTEST_DEFAULT_DIR
#define PVM_PROMQLTEST_DEFAULT_DIR "../shared/promqltest"
#endif
#ifndef PVM_PROMQL_OWN_DIR
#define PVM_PROMQL_OWN_DIR "tests/promql"
#endif

#define MAX_LABELS 64
#define MAX_FAIL_PRINT 25
#define QUERY_ARENA_CAP ((size_t)512 << 20)
#define MAX_SAMPLES 50000000

/* One stored series. */
typedef struct stored {
    pvm_label *labels;  /* sorted */
    size_t n;           /* number of labels */
    pvm_point *pts;     /* points in load order */
    size_t npts, cap;   /* count, capacity */
    bool has_hist;      /* had native histogram samples (not stored) */
} stored;

/* The store of the current file. */
typedef struct store {
    pvm_arena *a;       /* owns everything */
    stored *s;          /* series */
    size_t n, cap;      /* count, capacity */
    bool hit_hist;      /* the last query touched a histogram series */
} store;

/* One expected series or scalar. */
typedef struct expected {
    pvm_label labels[MAX_LABELS];  /* sorted */
    size_t n;                      /* labels */
    double *vals;                  /* values */
    bool *omitted;                 /* `_` entries */
    size_t nvals;                  /* number of values */
    bool seen;                     /* matched while comparing */
} expected;

/* One expect line (or legacy form). */
typedef struct expect {
    int kind;          /* 'f' fail, 'w' warn, 'i' info, 'W' no_warn,
                          'I' no_info, 'o' ordered */
    char *msg;         /* exact message, or NULL */
    char *regex;       /* regex (search), or NULL: match anything */
} expect;

/* A parsed eval command. */
typedef struct evalcmd {
    char *expr;               /* query text */
    int line;                 /* line number (1-based) */
    bool range;               /* range query */
    int64_t start, end, step; /* times, ms */
    expect ex[32];            /* expect lines */
    size_t nex;               /* count */
    bool fail, warn, info, ordered; /* legacy modifiers */
    char *fail_msg;           /* expected_fail_message */
    char *fail_regexp;        /* expected_fail_regexp */
    expected *exp;            /* expected series */
    size_t nexp;              /* count */
    bool scalar;              /* expects a scalar */
    bool has_string;          /* expects a string */
    char *string;             /* the string */
    bool range_vector;        /* expect range vector given */
    bool exclude_range;       /* skip the range-mode check */
    bool native;              /* expected values use {{...}} */
} evalcmd;

/* Counts of a file or a run. */
typedef struct counts {
    int passed, failed, skip_native, skip_exp;
    int skip_missing; /* a directory of scripts that is not there */
} counts;

static bool opt_experimental, opt_verbose;
static int printed_failures;

/* ---- small parsers --------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* Prometheus' model.ParseDuration (units y w d h m s ms, "0"). */
static int parse_duration(const char *s, int64_t *ms)
{
    static const struct { const char *u; int64_t ms; } units[] = {
        {"ms", 1}, {"y", 365LL * 86400000}, {"w", 7LL * 86400000},
        {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
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
        case 'x': case 'u': case 'U': {
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
static int parse_metric(pvm_arena *a, const char **p, pvm_label *l,
                        size_t *n)
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
static int parse_values(pvm_arena *a, const char *p, double **vals,
                        bool **om, size_t *n, bool *hist)
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
            if ((*p == '+' || *p == '-') && p[1] == '{' && skip_hist(&(const char *){p + 1}) == 0) {
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

/* ---- store and fetch ------------------------------------------------- */

static stored *store_get(store *st, const pvm_label *l, size_t n)
{
    for (size_t i = 0; i < st->n; i++)
        if (pvm_labels_equal(st->s[i].labels, st->s[i].n, l, n))
            return &st->s[i];
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 64;
        st->s = pvm_arena_realloc(st->a, st->s, st->cap * sizeof(stored),
                                  nc * sizeof(stored));
        st->cap = nc;
    }
    stored *s = &st->s[st->n++];
    memset(s, 0, sizeof(*s));
    s->labels = pvm_labels_copy(st->a, l, n);
    s->n = n;
    return s;
}

static int fetch(void *ctx, const pvm_fetch_request *req,
                 pvm_series_set *out, pvm_error *err)
{
    store *st = ctx;
    const pvm_vector_selector *vs = req->vs;
    for (size_t i = 0; i < st->n; i++) {
        stored *s = &st->s[i];
        bool ok = true;
        for (size_t j = 0; j < vs->nmatchers && ok; j++) {
            const char *v = pvm_labels_get(s->labels, s->n,
                                           vs->matchers[j].name);
            ok = pvm_matcher_match(&vs->matchers[j], v ? v : "",
                                   v ? strlen(v) : 0) == 1;
        }
        if (!ok)
            continue;
        if (s->has_hist)
            st->hit_hist = true;
        pvm_series *ser = NULL;
        for (size_t j = 0; j < s->npts; j++) {
            if (s->pts[j].t < req->mint || s->pts[j].t > req->maxt)
                continue;
            if (!ser)
                ser = pvm_series_set_get(out, s->labels, s->n,
                                         pvm_labels_hash(s->labels, s->n));
            if (!ser || pvm_series_append(out, ser, s->pts[j].t,
                                          s->pts[j].v) < 0)
                return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

/* load_with_nhcb also creates native histograms with custom buckets
 * from classic ones (x_bucket, x_count, x_sum -> x): we store an empty
 * series flagged as a histogram, so that queries touching it are skipped
 * as native-histogram evals. */
static void add_nhcb_placeholder(store *st, const pvm_label *l, size_t n)
{
    static const char *suffix[] = {"_bucket", "_count", "_sum"};
    pvm_label out[MAX_LABELS];
    size_t k = 0;
    bool ok = false;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(l[i].name, "le"))
            continue;
        out[k] = l[i];
        if (!strcmp(l[i].name, "__name__")) {
            size_t len = strlen(l[i].value);
            for (size_t j = 0; j < 3 && !ok; j++) {
                size_t sl = strlen(suffix[j]);
                if (len > sl && !strcmp(l[i].value + len - sl, suffix[j])) {
                    out[k].value = pvm_arena_strndup(st->a, l[i].value,
                                                     len - sl);
                    ok = true;
                }
            }
        }
        k++;
    }
    if (ok)
        store_get(st, out, k)->has_hist = true;
}

/* load <interval> and its series lines; returns the next line index. */
static int do_load(store *st, char **lines, int i, int nlines, char **why)
{
    int64_t gap;
    char *arg = trim(lines[i] + 4);
    bool nhcb = strncmp(arg, "_with_nhcb", 10) == 0;
    if (nhcb)
        arg = trim(arg + 10);
    if (parse_duration(arg, &gap) < 0) {
        *why = "invalid load command";
        return -1;
    }
    for (i++; i < nlines && *lines[i]; i++) {
        pvm_label l[MAX_LABELS];
        size_t n;
        const char *p = lines[i];
        double *vals;
        bool *om, hist = false;
        size_t nv;
        if (parse_metric(st->a, &p, l, &n) < 0 ||
            parse_values(st->a, p, &vals, &om, &nv, &hist) < 0) {
            *why = lines[i];
            return -1;
        }
        stored *s = store_get(st, l, n);
        s->has_hist |= hist;
        if (nhcb)
            add_nhcb_placeholder(st, l, n);
        for (size_t k = 0; k < nv; k++) {
            if (om[k])
                continue;
            if (s->npts == s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 16;
                s->pts = pvm_arena_realloc(st->a, s->pts,
                                           s->cap * sizeof(pvm_point),
                                           nc * sizeof(pvm_point));
                s->cap = nc;
            }
            s->pts[s->npts++] = (pvm_point){(int64_t)k * gap, vals[k]};
        }
    }
    return i;
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
    static const struct { const char *w; int k; } kinds[] = {
        {"ordered", 'o'}, {"fail", 'f'}, {"warn", 'w'}, {"no_warn", 'W'},
        {"info", 'i'}, {"no_info", 'I'}};
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
static int parse_eval(pvm_arena *a, char **lines, int i, int nlines,
                      evalcmd *ev, char **why)
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
            ev->exp = pvm_arena_realloc(a, ev->exp, ev->nexp * sizeof(expected),
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

/* ---- matching messages ----------------------------------------------- */

/* Go regexp MatchString: an unanchored search. */
static bool re_search(const char *re, const char *s)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                                  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec,
                                  &eo, NULL);
    if (!c)
        return false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
    int rc = pcre2_match(c, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(c);
    return rc >= 0;
}

static bool ex_match(const expect *e, const char *s)
{
    if (e->msg)
        return strcmp(e->msg, s) == 0;
    return !e->regex || re_search(e->regex, s);
}

/* ---- results --------------------------------------------------------- */

/* promqltest's almost.Equal with epsilon 1e-6 (NaN equals NaN). */
static bool almost(double a, double b)
{
    bool sa = pvm_is_stale_nan(a), sb = pvm_is_stale_nan(b);
    if (sa || sb)
        return sa && sb;
    if (isnan(a) && isnan(b))
        return true;
    if (a == b)
        return true;
    double sum = fabs(a) + fabs(b), diff = fabs(a - b);
    const double min_normal = 2.2250738585072014e-308;
    if (a == 0 || b == 0 || sum < min_normal)
        return diff < 1e-6 * min_normal;
    return diff / fmin(sum, 1.7976931348623157e308) < 1e-6;
}

static char msgbuf[2048];

static int failf(const char *fmt, ...) PVM_PRINTF(1, 2);
static int failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msgbuf, sizeof(msgbuf), fmt, ap);
    va_end(ap);
    return -1;
}

static const char *lstr(const pvm_label *l, size_t n)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ & 3];
    size_t o = 0;
    o += (size_t)snprintf(b + o, 512 - o, "{");
    for (size_t i = 0; i < n && o < 500; i++)
        o += (size_t)snprintf(b + o, 512 - o, "%s%s=\"%s\"", i ? ", " : "",
                              l[i].name, l[i].value);
    snprintf(b + o, 512 - o, "}");
    return b;
}

static expected *find_exp(evalcmd *ev, const pvm_label *l, size_t n)
{
    for (size_t i = 0; i < ev->nexp; i++)
        if (pvm_labels_equal(ev->exp[i].labels, ev->exp[i].n, l, n))
            return &ev->exp[i];
    return NULL;
}

static int compare_matrix(evalcmd *ev, const pvm_eval_result *r)
{
    if (ev->ordered)
        return failf("expected ordered result, but query returned a matrix");
    if (ev->scalar)
        return failf("expected scalar result, but got matrix");
    for (size_t i = 0; i < ev->nexp; i++)
        ev->exp[i].seen = false;
    for (size_t i = 0; i < r->nseries; i++) {
        const pvm_result_series *s = &r->series[i];
        expected *e = find_exp(ev, s->labels, s->nlabels);
        if (!e)
            return failf("unexpected metric %s in result (%zu points)",
                         lstr(s->labels, s->nlabels), s->npoints);
        e->seen = true;
        size_t k = 0;
        for (size_t j = 0; j < e->nvals; j++) {
            int64_t t = ev->start + (int64_t)j * ev->step;
            if (t > ev->end)
                return failf("expected %zu points for %s, but query time "
                             "range cannot return this many points",
                             e->nvals, lstr(e->labels, e->n));
            if (e->omitted[j])
                continue;
            if (k >= s->npoints)
                return failf("%s: expected a point at t=%lld, got %zu "
                             "points", lstr(e->labels, e->n), (long long)t,
                             s->npoints);
            if (s->points[k].t != t)
                return failf("%s: point %zu has timestamp %lld, expected "
                             "%lld", lstr(e->labels, e->n), k,
                             (long long)s->points[k].t, (long long)t);
            if (!almost(s->points[k].v, e->vals[j]))
                return failf("%s at t=%lld: expected %.17g, got %.17g",
                             lstr(e->labels, e->n), (long long)t, e->vals[j],
                             s->points[k].v);
            k++;
        }
        if (k != s->npoints)
            return failf("%s: expected %zu points, got %zu",
                         lstr(e->labels, e->n), k, s->npoints);
    }
    for (size_t i = 0; i < ev->nexp; i++)
        if (!ev->exp[i].seen)
            return failf("expected metric %s not found",
                         lstr(ev->exp[i].labels, ev->exp[i].n));
    return 0;
}

/* Compares an instant vector (series of one point each, in order). */
static int compare_vector(evalcmd *ev, const pvm_result_series *ss, size_t n,
                          bool ordered)
{
    if (ev->scalar)
        return failf("expected scalar result, but got vector");
    for (size_t i = 0; i < ev->nexp; i++)
        ev->exp[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        const pvm_result_series *s = &ss[i];
        expected *e = find_exp(ev, s->labels, s->nlabels);
        double v = s->npoints ? s->points[0].v : NAN;
        if (!e)
            return failf("unexpected metric %s in result, has value %.17g",
                         lstr(s->labels, s->nlabels), v);
        if (ordered && (size_t)(e - ev->exp) != i)
            return failf("expected metric %s at position %zu but was at %zu",
                         lstr(e->labels, e->n), (size_t)(e - ev->exp) + 1,
                         i + 1);
        if (!e->nvals || !almost(e->vals[0], v))
            return failf("expected %.17g for %s but got %.17g",
                         e->nvals ? e->vals[0] : NAN, lstr(e->labels, e->n),
                         v);
        e->seen = true;
    }
    for (size_t i = 0; i < ev->nexp; i++)
        if (!ev->exp[i].seen)
            return failf("expected metric %s not found",
                         lstr(ev->exp[i].labels, ev->exp[i].n));
    return 0;
}

static int compare_result(evalcmd *ev, const pvm_eval_result *r)
{
    switch (r->type) {
    case PVM_VT_MATRIX:
        return compare_matrix(ev, r);
    case PVM_VT_VECTOR:
        return compare_vector(ev, r->series, r->nseries,
                              ev->ordered || false);
    case PVM_VT_SCALAR:
        if (!ev->scalar)
            return failf("expected vector or matrix result, but got scalar "
                         "%.17g", r->scalar);
        if (!almost(ev->exp[0].vals[0], r->scalar))
            return failf("expected scalar %.17g but got %.17g",
                         ev->exp[0].vals[0], r->scalar);
        return 0;
    case PVM_VT_STRING:
        if (!ev->string || strcmp(ev->string, r->string))
            return failf("expected string \"%s\" but got \"%s\"",
                         ev->string ? ev->string : "", r->string);
        return 0;
    default:
        return failf("unexpected result type");
    }
}

static int check_annos_of(evalcmd *ev, int kind, const char **got, size_t n,
                          const char *what)
{
    bool any = false;
    for (size_t i = 0; i < ev->nex; i++) {
        if (ev->ex[i].kind != kind)
            continue;
        any = true;
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = ex_match(&ev->ex[i], got[j]);
        if (!found)
            return failf("expected %s annotation matching %s, found %zu "
                         "(first: %s)", what,
                         ev->ex[i].msg ? ev->ex[i].msg
                         : ev->ex[i].regex ? ev->ex[i].regex : ".*",
                         n, n ? got[0] : "-");
    }
    if (!any)
        return 0;
    for (size_t j = 0; j < n; j++) {
        bool found = false;
        for (size_t i = 0; i < ev->nex && !found; i++)
            found = ev->ex[i].kind == kind && ex_match(&ev->ex[i], got[j]);
        if (!found)
            return failf("unexpected %s annotation \"%s\"", what, got[j]);
    }
    return 0;
}

static bool has_kind(const evalcmd *ev, int kind)
{
    for (size_t i = 0; i < ev->nex; i++)
        if (ev->ex[i].kind == kind)
            return true;
    return false;
}

static int check_annos(evalcmd *ev, const pvm_eval_result *r)
{
    if (ev->warn && !r->nwarnings)
        return failf("expected warnings but got none");
    if (ev->info && !r->ninfos)
        return failf("expected info annotations but got none");
    if (check_annos_of(ev, 'w', r->warnings, r->nwarnings, "warn") < 0 ||
        check_annos_of(ev, 'i', r->infos, r->ninfos, "info") < 0)
        return -1;
    if (has_kind(ev, 'W') && r->nwarnings)
        return failf("unexpected warning annotations: %s", r->warnings[0]);
    if (has_kind(ev, 'I') && r->ninfos)
        return failf("unexpected info annotations: %s", r->infos[0]);
    return 0;
}

static bool expects_fail(const evalcmd *ev)
{
    return ev->fail || has_kind(ev, 'f');
}

static int check_failure(const evalcmd *ev, const char *msg)
{
    if (ev->fail_msg && strcmp(ev->fail_msg, msg))
        return failf("expected error \"%s\", but got: %s", ev->fail_msg, msg);
    if (ev->fail_regexp && !re_search(ev->fail_regexp, msg))
        return failf("expected error matching \"%s\", but got: %s",
                     ev->fail_regexp, msg);
    for (size_t i = 0; i < ev->nex; i++)
        if (ev->ex[i].kind == 'f' && !ex_match(&ev->ex[i], msg))
            return failf("expected error matching \"%s\", but got: %s",
                         ev->ex[i].msg ? ev->ex[i].msg : ev->ex[i].regex,
                         msg);
    return 0;
}

/* ---- running --------------------------------------------------------- */

/* Parses and evaluates text; 0, or -1 with msgbuf holding the error. */
static int run(store *st, pvm_arena *a, const char *text, int64_t start,
               int64_t end, int64_t step, pvm_eval_result *res)
{
    pvm_error err;
    pvm_expr *e = pvm_promql_parse(a, text, strlen(text), &err);
    if (!e)
        return failf("%s", err.msg);
    pvm_eval_opts o = {
        .start = start, .end = end, .step = step, .max_samples = MAX_SAMPLES,
        .fetch = fetch, .fetch_ctx = st, .query = text,
        .query_len = strlen(text),
    };
    if (pvm_eval(a, e, &o, res, &err) < 0)
        return failf("%s", err.msg);
    return 0;
}

static bool unsafe_fn(int id)
{
    switch (id) {
    case PVM_FN_DAYS_IN_MONTH: case PVM_FN_DAY_OF_MONTH:
    case PVM_FN_DAY_OF_WEEK: case PVM_FN_DAY_OF_YEAR: case PVM_FN_END:
    case PVM_FN_HOUR: case PVM_FN_MINUTE: case PVM_FN_MONTH:
    case PVM_FN_YEAR: case PVM_FN_PREDICT_LINEAR: case PVM_FN_RANGE:
    case PVM_FN_START: case PVM_FN_STEP: case PVM_FN_TIME:
    case PVM_FN_TIMESTAMP:
        return true;
    default:
        return false;
    }
}

/* A copy of e with `@ ts` on every selector and outermost subquery that
 * has none (test.go's atModifierTestCases). *unsafe is set when e calls a
 * function whose result depends on the evaluation time. */
static pvm_expr *clone_at(pvm_arena *a, const pvm_expr *e, int64_t ts,
                          bool *unsafe)
{
    pvm_expr *c = pvm_arena_alloc(a, sizeof(*c));
    *c = *e;
    switch (e->kind) {
    case PVM_EXPR_VECTOR_SELECTOR:
        if (c->u.vs.at_kind == PVM_AT_NONE) {
            c->u.vs.at_kind = PVM_AT_TIMESTAMP;
            c->u.vs.at_ms = ts;
        }
        break;
    case PVM_EXPR_MATRIX_SELECTOR:
        c->u.matrix.vs = clone_at(a, e->u.matrix.vs, ts, unsafe);
        break;
    case PVM_EXPR_SUBQUERY:
        if (c->u.subquery.at_kind == PVM_AT_NONE) {
            c->u.subquery.at_kind = PVM_AT_TIMESTAMP;
            c->u.subquery.at_ms = ts;
        }
        break;
    case PVM_EXPR_PAREN:
        c->u.paren.expr = clone_at(a, e->u.paren.expr, ts, unsafe);
        break;
    case PVM_EXPR_UNARY:
        c->u.unary.expr = clone_at(a, e->u.unary.expr, ts, unsafe);
        break;
    case PVM_EXPR_BINARY:
        c->u.binary.lhs = clone_at(a, e->u.binary.lhs, ts, unsafe);
        c->u.binary.rhs = clone_at(a, e->u.binary.rhs, ts, unsafe);
        break;
    case PVM_EXPR_AGGREGATE:
        c->u.aggregate.expr = clone_at(a, e->u.aggregate.expr, ts, unsafe);
        if (e->u.aggregate.param)
            c->u.aggregate.param =
                clone_at(a, e->u.aggregate.param, ts, unsafe);
        break;
    case PVM_EXPR_CALL:
        *unsafe |= unsafe_fn(e->u.call.func->id);
        c->u.call.args = pvm_arena_alloc(a, (e->u.call.nargs + 1) *
                                                sizeof(pvm_expr *));
        for (size_t i = 0; i < e->u.call.nargs; i++)
            c->u.call.args[i] = clone_at(a, e->u.call.args[i], ts, unsafe);
        break;
    default:
        break;
    }
    return c;
}

static bool uses_experimental(const pvm_expr *e)
{
    switch (e->kind) {
    case PVM_EXPR_MATRIX_SELECTOR:
        return uses_experimental(e->u.matrix.vs);
    case PVM_EXPR_SUBQUERY:
        return uses_experimental(e->u.subquery.expr);
    case PVM_EXPR_PAREN:
        return uses_experimental(e->u.paren.expr);
    case PVM_EXPR_UNARY:
        return uses_experimental(e->u.unary.expr);
    case PVM_EXPR_BINARY:
        return uses_experimental(e->u.binary.lhs) ||
               uses_experimental(e->u.binary.rhs);
    case PVM_EXPR_AGGREGATE:
        return e->u.aggregate.op == PVM_AGGR_LIMITK ||
               e->u.aggregate.op == PVM_AGGR_LIMIT_RATIO ||
               uses_experimental(e->u.aggregate.expr) ||
               (e->u.aggregate.param &&
                uses_experimental(e->u.aggregate.param));
    case PVM_EXPR_CALL:
        if (e->u.call.func->experimental)
            return true;
        for (size_t i = 0; i < e->u.call.nargs; i++)
            if (uses_experimental(e->u.call.args[i]))
                return true;
        return false;
    default:
        return false;
    }
}

static bool context_fn(const char *s)
{
    static const char *f[] = {"start()", "end()", "range()", "step()"};
    for (size_t i = 0; i < 4; i++)
        if (strstr(s, f[i]))
            return true;
    return false;
}

/* test.go's runInstantQuery: the query at t, then in range mode. */
static int run_instant(store *st, evalcmd *ev, const char *text, int64_t t)
{
    pvm_arena *a = pvm_arena_new(QUERY_ARENA_CAP);
    pvm_eval_result r;
    int rc = run(st, a, text, t, t, 0, &r);
    if (rc < 0) {
        rc = expects_fail(ev) ? check_failure(ev, msgbuf) : -1;
        goto out;
    }
    if (expects_fail(ev)) {
        rc = failf("expected error evaluating query but got none");
        goto out;
    }
    if ((rc = check_annos(ev, &r)) < 0 || (rc = compare_result(ev, &r)) < 0)
        goto out;
    if (ev->exclude_range || context_fn(text) || ev->ordered ||
        has_kind(ev, 'o'))
        goto out;
    pvm_eval_result rr;
    if (run(st, a, text, t - 60000, t + 60000, 60000, &rr) < 0) {
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%.1000s", msgbuf);
        rc = failf("range mode: %s", tmp);
        goto out;
    }
    pvm_result_series *v = pvm_arena_calloc(a, rr.nseries + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < rr.nseries; i++)
        for (size_t j = 0; j < rr.series[i].npoints; j++)
            if (rr.series[i].points[j].t == t) {
                v[n] = rr.series[i];
                v[n].points = &rr.series[i].points[j];
                v[n++].npoints = 1;
                break;
            }
    if (r.type == PVM_VT_SCALAR) {
        if (!n || !almost(ev->exp[0].vals[0], v[0].points[0].v))
            rc = failf("range mode: expected scalar %.17g", ev->exp[0].vals[0]);
    } else {
        rc = compare_vector(ev, v, n, false);
    }
    if (rc < 0) {
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%.1000s", msgbuf);
        failf("range mode: %s", tmp);
    }
out:
    pvm_arena_free(a);
    return rc;
}

/* Runs one eval: 0 passed, -1 failed (msgbuf), 1 skipped (native
 * histograms), 2 skipped (experimental). */
static int exec_eval(store *st, evalcmd *ev, bool shared)
{
    if (ev->native)
        return 1;
    pvm_arena *a = pvm_arena_new(QUERY_ARENA_CAP);
    pvm_error err;
    pvm_expr *e = pvm_promql_parse(a, ev->expr, strlen(ev->expr), &err);
    int rc = 0;
    if (!e && shared && (strstr(err.msg, "experimental") ||
                         strstr(err.msg, "anchored modifier") ||
                         strstr(err.msg, "smoothed modifier"))) {
        rc = 2;
        goto out;
    }
    if (e && shared && !opt_experimental && uses_experimental(e)) {
        rc = 2;
        goto out;
    }
    st->hit_hist = false;
    if (ev->range) {
        pvm_eval_result r;
        rc = run(st, a, ev->expr, ev->start, ev->end, ev->step, &r);
        if (rc < 0)
            rc = expects_fail(ev) ? check_failure(ev, msgbuf) : -1;
        else if (expects_fail(ev))
            rc = failf("expected error evaluating query but got none");
        else if ((rc = check_annos(ev, &r)) == 0)
            rc = compare_result(ev, &r);
        goto out;
    }
    int64_t t = ev->range_vector ? ev->end : ev->start;
    if ((rc = run_instant(st, ev, ev->expr, t)) < 0 || !e)
        goto out;
    bool unsafe = false;
    pvm_expr *c = clone_at(a, e, t, &unsafe);
    if (unsafe)
        goto out;
    char *text = pvm_promql_format(a, c);
    int64_t times[5] = {-10 * t, 0, t / 5, t, 10 * t};
    int64_t zero[3] = {-1000, 0, 1000};
    int64_t *tv = t ? times : zero;
    for (int i = 0; i < (t ? 5 : 3) && text; i++)
        if ((rc = run_instant(st, ev, text, tv[i])) < 0) {
            char tmp[1024];
            snprintf(tmp, sizeof(tmp), "%.1000s", msgbuf);
            failf("%s (as \"%s\" at %lld)", tmp, text, (long long)tv[i]);
            goto out;
        }
out:
    if (st->hit_hist)
        rc = 1;
    pvm_arena_free(a);
    return rc;
}

/* ---- files ----------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static void report_failure(const char *file, const evalcmd *ev)
{
    if (printed_failures++ >= MAX_FAIL_PRINT && !opt_verbose)
        return;
    fprintf(stdout, "  FAIL %s:%d: %.300s\n    %.600s\n", file, ev->line,
            ev->expr, msgbuf);
}

static void run_file(const char *path, bool shared, counts *total)
{
    size_t len;
    char *text = read_file(path, &len);
    counts c = {0};
    if (!text) {
        printf("%s: cannot read\n", path);
        total->failed++;
        return;
    }
    size_t nl = 1;
    for (size_t i = 0; i < len; i++)
        nl += text[i] == '\n';
    char **lines = malloc(nl * sizeof(*lines));
    int n = 0;
    for (char *s = text, *e; s; s = e) {
        e = strchr(s, '\n');
        if (e)
            *e++ = 0;
        char *t = trim(s);
        lines[n++] = *t == '#' ? t + strlen(t) : t;
    }
    store st = {.a = pvm_arena_new(0)};
    pvm_arena *pa = pvm_arena_new(0);
    for (int i = 0; i < n; i++) {
        if (!*lines[i])
            continue;
        char *why = NULL;
        if (!strncasecmp(lines[i], "clear", 5)) {
            pvm_arena_free(st.a);
            st = (store){.a = pvm_arena_new(0)};
        } else if (!strncasecmp(lines[i], "load", 4)) {
            int next = do_load(&st, lines, i, n, &why);
            if (next < 0) {
                printf("  %s:%d: bad load: %.200s\n", path, i + 1, why);
                c.failed++;
                break;
            }
            i = next - 1;
        } else if (!strncasecmp(lines[i], "eval", 4)) {
            evalcmd ev;
            int last = parse_eval(pa, lines, i, n, &ev, &why);
            if (last < 0) {
                printf("  %s:%d: bad eval: %.200s\n", path, i + 1, why);
                c.failed++;
                continue;
            }
            i = last;
            int rc = exec_eval(&st, &ev, shared);
            if (rc == 0)
                c.passed++;
            else if (rc == 1)
                c.skip_native++;
            else if (rc == 2)
                c.skip_exp++;
            else {
                c.failed++;
                report_failure(path, &ev);
            }
        } else {
            printf("  %s:%d: invalid command %.100s\n", path, i + 1,
                   lines[i]);
            c.failed++;
        }
    }
    const char *base = strrchr(path, '/');
    printf("%s: %d passed, %d failed, %d skipped (native histograms: %d, "
           "experimental: %d)\n", base ? base + 1 : path, c.passed, c.failed,
           c.skip_native + c.skip_exp, c.skip_native, c.skip_exp);
    total->passed += c.passed;
    total->failed += c.failed;
    total->skip_native += c.skip_native;
    total->skip_exp += c.skip_exp;
    pvm_arena_free(st.a);
    pvm_arena_free(pa);
    free(lines);
    free(text);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs a file, or every *.test of a directory (sorted). Returns -1 when
 * the path does not exist. */
static int run_path(const char *path, bool shared, counts *total)
{
    DIR *d = opendir(path);
    if (!d) {
        FILE *f = fopen(path, "r");
        if (!f)
            return -1;
        fclose(f);
        run_file(path, shared, total);
        return 0;
    }
    char *names[512];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 512) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".test"))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", path, names[i]);
        run_file(p, shared, total);
        free(names[i]);
    }
    return 0;
}

/* Prints the counts; only the total carries the PVM-RESULT prefix that
 * test.sh sums, so the partial lines are not counted twice. */
static void print_result(const char *name, const counts *c, bool total)
{
    printf("%s%s: %d passed, %d failed, %d skipped (%d native histograms, "
           "%d experimental, %d missing)\n", total ? "PVM-RESULT: " : "",
           name, c->passed, c->failed,
           c->skip_native + c->skip_exp + c->skip_missing, c->skip_native,
           c->skip_exp, c->skip_missing);
}

/* The directory of the shared Prometheus scripts: $PVM_PROMQLTEST_DIR,
 * else $PVM_SHARED_DIR/promqltest, else the build's default. */
static const char *shared_dir(char *buf, size_t size)
{
    const char *dir = getenv("PVM_PROMQLTEST_DIR");
    const char *shared = getenv("PVM_SHARED_DIR");
    if (dir && *dir)
        return dir;
    if (shared && *shared) {
        snprintf(buf, size, "%s/promqltest", shared);
        return buf;
    }
    return PVM_PROMQLTEST_DEFAULT_DIR;
}

int main(int argc, char **argv)
{
    counts own = {0}, shared = {0};
    int nfiles = 0;
    bool want_own = false, want_shared = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--experimental"))
            opt_experimental = true;
        else if (!strcmp(argv[i], "-v"))
            opt_verbose = true;
        else if (!strcmp(argv[i], "--own"))
            want_own = true;
        else if (!strcmp(argv[i], "--shared"))
            want_shared = true;
        else {
            nfiles++;
            if (run_path(argv[i], false, &own) < 0) {
                printf("%s: not found\n", argv[i]);
                own.failed++;
            }
        }
    }
    if (!nfiles && !want_own && !want_shared)
        want_own = want_shared = true;
    if (want_own) {
        const char *own_dir = getenv("PVM_PROMQL_OWN_DIR");
        if (!own_dir || !*own_dir)
            own_dir = PVM_PROMQL_OWN_DIR;
        if (run_path(own_dir, false, &own) < 0) {
            printf("own tests: %s not found\n", own_dir);
            own.failed++;
        }
        print_result("promqltest-own", &own, false);
    }
    if (want_shared) {
        char buf[4096];
        const char *dir = shared_dir(buf, sizeof(buf));
        printf("-- shared promqltest scripts (%s) --\n", dir);
        if (run_path(dir, true, &shared) < 0) {
            printf("SKIP: shared promqltest scripts: %s not found (set "
                   "PVM_SHARED_DIR to the shared directory or "
                   "PVM_PROMQLTEST_DIR to the scripts)\n", dir);
            shared.skip_missing++;
        }
        print_result("promqltest-shared", &shared, false);
    }
    counts all = own;
    all.passed += shared.passed;
    all.failed += shared.failed;
    all.skip_native += shared.skip_native;
    all.skip_exp += shared.skip_exp;
    all.skip_missing += shared.skip_missing;
    print_result("promqltest", &all, true);
    if (own.failed || shared.failed)
        return 1;
    return want_shared && !want_own && !nfiles && shared.skip_missing ? 77
                                                                      : 0;
}
