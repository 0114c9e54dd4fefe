/* runner_check.c: comparing what the engine returned with what an eval
 * expects (runner.h): promqltest's float tolerance, series and scalars,
 * warnings/infos, expected failures and their messages. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions.h"
#include "runner.h"

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
bool almost(double a, double b)
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

char msgbuf[2048];

int failf(const char *fmt, ...)
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
                             "points",
                             lstr(e->labels, e->n), (long long)t, s->npoints);
            if (s->points[k].t != t)
                return failf("%s: point %zu has timestamp %lld, expected "
                             "%lld",
                             lstr(e->labels, e->n), k,
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
int compare_vector(evalcmd *ev, const pvm_result_series *ss, size_t n,
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

int compare_result(evalcmd *ev, const pvm_eval_result *r)
{
    switch (r->type) {
    case PVM_VT_MATRIX: return compare_matrix(ev, r);
    case PVM_VT_VECTOR:
        return compare_vector(ev, r->series, r->nseries, ev->ordered || false);
    case PVM_VT_SCALAR:
        if (!ev->scalar)
            return failf("expected vector or matrix result, but got scalar "
                         "%.17g",
                         r->scalar);
        if (!almost(ev->exp[0].vals[0], r->scalar))
            return failf("expected scalar %.17g but got %.17g",
                         ev->exp[0].vals[0], r->scalar);
        return 0;
    case PVM_VT_STRING:
        if (!ev->string || strcmp(ev->string, r->string))
            return failf("expected string \"%s\" but got \"%s\"",
                         ev->string ? ev->string : "", r->string);
        return 0;
    default: return failf("unexpected result type");
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
                         "(first: %s)",
                         what,
                         ev->ex[i].msg     ? ev->ex[i].msg
                         : ev->ex[i].regex ? ev->ex[i].regex
                                           : ".*",
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

bool has_kind(const evalcmd *ev, int kind)
{
    for (size_t i = 0; i < ev->nex; i++)
        if (ev->ex[i].kind == kind)
            return true;
    return false;
}

int check_annos(evalcmd *ev, const pvm_eval_result *r)
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

bool expects_fail(const evalcmd *ev)
{
    return ev->fail || has_kind(ev, 'f');
}

int check_failure(const evalcmd *ev, const char *msg)
{
    if (ev->fail_msg && strcmp(ev->fail_msg, msg))
        return failf("expected error \"%s\", but got: %s", ev->fail_msg, msg);
    if (ev->fail_regexp && !re_search(ev->fail_regexp, msg))
        return failf("expected error matching \"%s\", but got: %s",
                     ev->fail_regexp, msg);
    for (size_t i = 0; i < ev->nex; i++)
        if (ev->ex[i].kind == 'f' && !ex_match(&ev->ex[i], msg))
            return failf("expected error matching \"%s\", but got: %s",
                         ev->ex[i].msg ? ev->ex[i].msg : ev->ex[i].regex, msg);
    return 0;
}
