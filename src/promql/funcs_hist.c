/* funcs_hist.c: histogram_quantile() and histogram_fraction() over
 * classic histograms (series with an "le" label), with Prometheus'
 * bucket coalescing, monotonicity fix and annotations; and the calendar
 * parts of the date functions (UTC, proleptic Gregorian). Native
 * histograms do not exist in this server's data model. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "functions.h"

#include <pvm/calendar.h>

typedef struct bucket {
    double ub;    /* upper bound */
    double count; /* cumulative count */
} bucket;

/* One histogram (all buckets of one label set but le) at one step. */
typedef struct hgroup {
    const pvm_label *labels; /* labels without le */
    size_t nlabels;          /* their number */
    const char *name;        /* metric name, for annotations */
    bucket *b;               /* buckets */
    size_t n;                /* number of buckets */
} hgroup;

/* pvm_idxmap equality of group i of the array ctx (hgroup[]) with probe
 * (a pvm_labelset). */
static bool hgroup_eq(const void *ctx, size_t i, const void *probe)
{
    const hgroup *g = (const hgroup *)ctx + i;
    const pvm_labelset *k = probe;
    return pvm_labels_equal(g->labels, g->nlabels, k->labels, k->n);
}

static int cmp_bucket(const void *x, const void *y)
{
    const bucket *a = x, *b = y;
    return a->ub < b->ub ? -1 : a->ub > b->ub;
}

static size_t coalesce(bucket *b, size_t n)
{
    size_t i = 0;
    bucket last = b[0];
    for (size_t j = 1; j < n; j++) {
        if (b[j].ub == last.ub) {
            last.count += b[j].count;
        } else {
            b[i++] = last;
            last = b[j];
        }
    }
    b[i++] = last;
    return i;
}

static bool almost_equal(double a, double b, double eps)
{
    if (a == b)
        return true;
    double sum = fabs(a) + fabs(b), diff = fabs(a - b);
    const double min_normal = 2.2250738585072014e-308;
    if (a == 0 || b == 0 || sum < min_normal)
        return diff < eps * min_normal;
    return diff / fmin(sum, 1.7976931348623157e308) < eps;
}

/* Returns true when counts had to be forced monotonic. */
static bool monotonic(bucket *b, size_t n, double *min_b, double *max_b,
                      double *max_diff)
{
    bool forced = false;
    *min_b = INFINITY;
    *max_b = -INFINITY;
    *max_diff = 0;
    double prev = b[0].count;
    for (size_t i = 1; i < n; i++) {
        double cur = b[i].count;
        if (cur == prev)
            continue;
        if (almost_equal(prev, cur, 1e-12)) {
            b[i].count = prev;
            continue;
        }
        if (cur < prev) {
            b[i].count = prev;
            forced = true;
            *min_b = fmin(*min_b, b[i].ub);
            *max_b = fmax(*max_b, b[i].ub);
            *max_diff = fmax(*max_diff, prev - cur);
            continue;
        }
        prev = cur;
    }
    return forced;
}

static double bucket_quantile(double q, bucket *b, size_t n, bool *forced,
                              double *mn, double *mx, double *md)
{
    *forced = false;
    if (isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    qsort(b, n, sizeof(*b), cmp_bucket);
    if (!isinf(b[n - 1].ub) || b[n - 1].ub < 0)
        return NAN;
    n = coalesce(b, n);
    *forced = monotonic(b, n, mn, mx, md);
    if (n < 2)
        return NAN;
    double obs = b[n - 1].count;
    if (obs == 0)
        return NAN;
    double rank = q * obs;
    size_t i = 0;
    while (i < n - 1 && !(b[i].count >= rank))
        i++;
    if (i == n - 1)
        return b[n - 2].ub;
    if (i == 0 && b[0].ub <= 0)
        return b[0].ub;
    double start = 0, end = b[i].ub, count = b[i].count;
    if (i > 0) {
        start = b[i - 1].ub;
        count -= b[i - 1].count;
        rank -= b[i - 1].count;
    }
    return start + (end - start) * (rank / count);
}

static double bucket_fraction(double lo, double hi, bucket *b, size_t n)
{
    qsort(b, n, sizeof(*b), cmp_bucket);
    if (!isinf(b[n - 1].ub) || b[n - 1].ub < 0)
        return NAN;
    n = coalesce(b, n);
    double count = b[n - 1].count;
    if (count == 0 || isnan(lo) || isnan(hi))
        return NAN;
    if (lo >= hi)
        return 0;
    double rank = 0, lr = 0, ur = 0;
    bool ls = false, us = false;
    double lb = b[0].ub <= 0 ? -INFINITY : 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            lb = b[i - 1].ub;
        double ub = b[i].ub;
#define INTERP(v_)                                                            \
    (isinf(lb) && lb < 0                                                      \
         ? b[i].count                                                         \
         : rank + (b[i].count - rank) * ((v_)-lb) / (ub - lb))
        if (!ls && lb >= lo)
            lr = rank, ls = true;
        if (!us && lb >= hi)
            ur = rank, us = true;
        if (ls && us)
            break;
        if (!ls && lb < lo && ub > lo)
            lr = INTERP(lo), ls = true;
        if (!us && lb < hi && ub > hi)
            ur = INTERP(hi), us = true;
#undef INTERP
        if (ls && us)
            break;
        rank = b[i].count;
    }
    if (!ls || lr > count)
        lr = count;
    if (!us || ur > count)
        ur = count;
    return (ur - lr) / count;
}

/* Scratch space of group_step, allocated once for all steps (n: the
 * number of input series). */
typedef struct hscratch {
    pvm_idxmap tab; /* label set without le -> group index */
    size_t *gid;    /* per sample: its group, or SIZE_MAX (bad le) */
    double *ub;     /* per sample: its upper bound */
    bucket *b;      /* the buckets of all groups of a step */
} hscratch;

static int hscratch_init(eval_query *q, hscratch *h, size_t n)
{
    int rc = pvm_idxmap_init(&h->tab, q->a, n + 1);
    h->gid = pvm_arena_alloc(q->a, (n + 1) * sizeof(*h->gid));
    h->ub = pvm_arena_alloc(q->a, (n + 1) * sizeof(*h->ub));
    h->b = pvm_arena_alloc(q->a, (n + 1) * sizeof(*h->b));
    return rc == 0 && h->gid && h->ub && h->b ? 0 : pvm_eval_nomem(q);
}

/* Groups the samples of one step by label set without le: hashed, and
 * the buckets of every group in one array (linear in the samples). */
static int group_step(eval_ctx *c, const pvm_expr *arg, eval_sample *sv,
                      size_t ns, hgroup *g, size_t *ng, hscratch *hs)
{
    eval_query *q = c->q;
    static const char *le_name[] = {"le"};
    static const pvm_label_list le = {le_name, 1};
    size_t n = 0;
    if (eval_work(q, ns) < 0)
        return q->err->code;
    for (size_t i = 0; i < ns; i++) {
        hs->gid[i] = SIZE_MAX;
        const char *lev = pvm_labels_get_unsorted(sv[i].labels, sv[i].nlabels,
                                                  "le");
        if (!lev || pvm_eval_parse_float(lev, &hs->ub[i]) < 0) {
            const char *name = pvm_labels_get_unsorted(sv[i].labels,
                                                       sv[i].nlabels,
                                                       "__name__");
            char *ql = pvm_eval_go_quote(q, lev ? lev : "",
                                         lev ? strlen(lev) : 0);
            char *qn = name ? pvm_eval_go_quote(q, name, strlen(name)) : NULL;
            if (!ql || (name && !qn))
                return PVM_ERR_NOMEM;
            pvm_eval_annotate(q, true, arg,
                              "PromQL warning: bucket label \"le\" "
                              "is missing or has a malformed value of %s%s%s",
                              ql, qn ? " for metric name " : "", qn ? qn : "");
            continue;
        }
        pvm_labelset k;
        if (pvm_eval_labels_filter(q, sv[i].labels, sv[i].nlabels, &le, false,
                                   false, &k.labels, &k.n) < 0)
            return PVM_ERR_NOMEM;
        size_t gi = pvm_idxmap_put(&hs->tab, pvm_labels_hash(k.labels, k.n),
                                   hgroup_eq, g, &k, n);
        if (gi == PVM_IDXMAP_NONE)
            return pvm_eval_nomem(q);
        if (gi == n)
            g[n++] = (hgroup){k.labels, k.n,
                              pvm_labels_get_unsorted(k.labels, k.n,
                                                      "__name__"),
                              NULL, 0};
        hs->gid[i] = gi;
        g[gi].n++;
    }
    pvm_idxmap_clear(&hs->tab); /* for the next step */
    size_t off = 0;
    for (size_t j = 0; j < n; j++) {
        g[j].b = hs->b + off;
        off += g[j].n;
        g[j].n = 0;
    }
    for (size_t i = 0; i < ns; i++)
        if (hs->gid[i] != SIZE_MAX) {
            hgroup *gr = &g[hs->gid[i]];
            gr->b[gr->n++] = (bucket){hs->ub[i], sv[i].v};
        }
    *ng = n;
    return 0;
}

/* histogram_quantile(q, v) and histogram_fraction(lo, hi, v). */
int pvm_eval_histogram_fn(eval_ctx *c, const pvm_expr *e, eval_value *out)
{
    eval_query *q = c->q;
    const pvm_call *call = &e->u.call;
    bool quant = call->func->id == PVM_FN_HISTOGRAM_QUANTILE;
    size_t vi = quant ? 1 : 2;
    double *p0, *p1 = NULL;
    int r = pvm_eval_scalar_steps(c, call->args[0], &p0);
    if (r >= 0 && !quant)
        r = pvm_eval_scalar_steps(c, call->args[1], &p1);
    eval_value in;
    if (r < 0 || (r = pvm_eval_node(c, call->args[vi], &in)) < 0)
        return r;
    size_t *cur = pvm_arena_calloc(q->a, in.m.n + 1, sizeof(*cur));
    eval_sample *sv = pvm_arena_alloc(q->a, (in.m.n + 1) * sizeof(*sv));
    hgroup *g = pvm_arena_alloc(q->a, (in.m.n + 1) * sizeof(*g));
    eval_out o;
    hscratch hs;
    if (!cur || !sv || !g || pvm_eval_out_init(c, &o, in.m.n) < 0 ||
        hscratch_init(q, &hs, in.m.n) < 0)
        return pvm_eval_nomem(q);
    for (size_t k = 0; k < c->nsteps; k++) {
        int64_t ts = pvm_eval_step_ts(c, k);
        size_t ns, ng = 0;
        if (pvm_eval_gather(c, &in.m, cur, ts, sv, &ns) < 0)
            return q->err->code;
        if (quant && (isnan(p0[k]) || p0[k] < 0 || p0[k] > 1)) {
            char b[40];
            pvm_format_float_g(b, sizeof(b), p0[k]);
            pvm_eval_annotate(q, true, call->args[0],
                              "PromQL warning: quantile "
                              "value should be between 0 and 1, got %s",
                              b);
        }
        if ((r = group_step(c, call->args[vi], sv, ns, g, &ng, &hs)) < 0)
            return r;
        for (size_t j = 0; j < ng; j++) {
            double v;
            if (quant) {
                bool forced;
                double mn, mx, md;
                v = bucket_quantile(p0[k], g[j].b, g[j].n, &forced, &mn, &mx,
                                    &md);
                if (forced &&
                    pvm_eval_annotate_mono(q, g[j].name, call->args[vi], ts,
                                           mn, mx, md) < 0)
                    return PVM_ERR_NOMEM;
            } else {
                v = bucket_fraction(p0[k], p1[k], g[j].b, g[j].n);
            }
            if (pvm_eval_out_add(&o, g[j].labels, g[j].nlabels, true, ts, v) <
                0)
                return q->err->code;
        }
        if (pvm_eval_check(c) < 0)
            return q->err->code;
    }
    out->type = PVM_VT_VECTOR;
    out->m = o.m;
    return 0;
}

/* ---- dates ------------------------------------------------------------ */

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The calendar field of function id for a Unix time in seconds. */
double pvm_eval_date_part(int id, double seconds)
{
    int64_t s;
    if (isnan(seconds) || seconds >= 9.2e18 || seconds <= -9.2e18)
        s = INT64_MIN / 2; /* Go's int64(NaN) is unspecified */
    else
        s = (int64_t)seconds;
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    pvm_civil_from_days(days, &y, &m, &d);
    static const int mdays[] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    static const int before[] = {0,   31,  59,  90,  120, 151,
                                 181, 212, 243, 273, 304, 334};
    switch (id) {
    case PVM_FN_YEAR: return (double)y;
    case PVM_FN_MONTH: return m;
    case PVM_FN_DAY_OF_MONTH: return d;
    case PVM_FN_DAY_OF_YEAR: return before[m - 1] + d + (m > 2 && leap(y));
    case PVM_FN_DAY_OF_WEEK: {
        int64_t w = (days % 7 + 7 + 4) % 7; /* 1970-01-01 was a Thursday */
        return (double)w;
    }
    case PVM_FN_DAYS_IN_MONTH: return mdays[m - 1] + (m == 2 && leap(y));
    case PVM_FN_HOUR: return (double)(rem / 3600);
    case PVM_FN_MINUTE: return (double)(rem % 3600 / 60);
    default: return NAN;
    }
}
