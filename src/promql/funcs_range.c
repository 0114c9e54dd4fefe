/* funcs_range.c: functions over range vectors (rate, increase, delta,
 * irate, idelta, deriv, predict_linear, resets, changes, *_over_time,
 * absent_over_time, double_exponential_smoothing) and subqueries. Each
 * series is walked once with two pointers: the window (ref-range, ref] of
 * step k+1 starts where the one of step k did, so nothing is rescanned. */

#include <math.h>
#include <string.h>

#include "engine_internal.h"
#include "functions.h"

/* Arguments of one window evaluation. */
typedef struct win {
    const pvm_point *p; /* points in the window, time order, not stale */
    size_t n;           /* number of points (>= 1) */
    int64_t ts;         /* evaluation time of the step */
    int64_t ref;        /* end of the window (ts or @, minus offset) */
    int64_t range;      /* range, ms */
    double arg;         /* scalar argument of the step, if any */
    double arg2;        /* second scalar argument (smoothing) */
    size_t resets;      /* i with p[i].v < p[i-1].v in the window, kept
                           by the sliding loop (one_series) */
    bool has_extreme;   /* extreme is set: max/min_over_time */
    double extreme;     /* the window's max (min), from the sliding
                           deque: what cmp_fn would find */
} win;

/* Prometheus' extrapolatedRate for floats. */
static bool rate_fn(const win *w, bool counter, bool rate, double *out)
{
    if (w->n < 2)
        return false;
    const pvm_point *p = w->p;
    size_t last = w->n - 1;
    double result = p[last].v - p[0].v;
    if (counter && w->resets) /* the same additions, in the same order */
        for (size_t i = 1; i < w->n; i++)
            if (p[i].v < p[i - 1].v)
                result += p[i - 1].v;
    double range_start = (double)(w->ref - w->range);
    double to_start = ((double)p[0].t - range_start) / 1000;
    double to_end = (double)(w->ref - p[last].t) / 1000;
    double sampled = (double)(p[last].t - p[0].t) / 1000;
    double avg = sampled / (double)last;
    double threshold = avg * 1.1;
    if (to_start >= threshold)
        to_start = avg / 2;
    if (counter) {
        double to_zero = to_start;
        if (result > 0 && p[0].v >= 0)
            to_zero = sampled * (p[0].v / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    if (to_end >= threshold)
        to_end = avg / 2;
    double factor = 1;
    if (sampled != 0)
        factor = (sampled + to_start + to_end) / sampled;
    if (rate)
        factor /= (double)w->range / 1000;
    *out = result * factor;
    return true;
}

static bool instant_fn(const win *w, bool rate, double *out)
{
    if (w->n < 2)
        return false;
    const pvm_point *a = &w->p[w->n - 2], *b = &w->p[w->n - 1];
    int64_t dt = b->t - a->t;
    if (dt == 0)
        return false;
    double v = b->v;
    if (!rate || !(b->v < a->v))
        v = b->v - a->v;
    if (rate)
        v /= (double)dt / 1000;
    *out = v;
    return true;
}

static void linreg(const win *w, int64_t icept, double *slope, double *ic)
{
    double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0;
    double sx2 = 0, cx2 = 0, init = w->p[0].v;
    bool constant = true;
    for (size_t i = 0; i < w->n; i++) {
        double v = w->p[i].v;
        if (constant && i > 0 && v != init)
            constant = false;
        n += 1;
        double x = (double)(w->p[i].t - icept) / 1e3;
        sx = pvm_eval_kahan_inc(x, sx, &cx);
        sy = pvm_eval_kahan_inc(v, sy, &cy);
        sxy = pvm_eval_kahan_inc(x * v, sxy, &cxy);
        sx2 = pvm_eval_kahan_inc(x * x, sx2, &cx2);
    }
    if (constant) {
        *slope = isinf(init) ? NAN : 0;
        *ic = isinf(init) ? NAN : init;
        return;
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    double cov = sxy - sx * sy / n, var = sx2 - sx * sx / n;
    *slope = cov / var;
    *ic = sy / n - *slope * sx / n;
}

static double avg_fn(const win *w)
{
    double sum = w->p[0].v, c = 0, mean = 0, count = 1;
    bool inc = false;
    for (size_t i = 1; i < w->n; i++) {
        double f = w->p[i].v;
        count = (double)(i + 1);
        if (!inc) {
            double c2 = c;
            double ns = pvm_eval_kahan_inc(f, sum, &c2);
            if (!isinf(ns)) {
                sum = ns;
                c = c2;
                continue;
            }
            inc = true;
            mean = sum / (count - 1);
            c /= count - 1;
        }
        double q = (count - 1) / count;
        c *= q;
        mean = pvm_eval_kahan_inc(f / count, q * mean, &c);
    }
    if (inc)
        return mean + c;
    return sum / count + c / count;
}

static double variance_fn(const win *w)
{
    double count = 0, mean = 0, cm = 0, aux = 0, ca = 0;
    for (size_t i = 0; i < w->n; i++) {
        double f = w->p[i].v;
        count++;
        double delta = f - (mean + cm);
        mean = pvm_eval_kahan_inc(delta / count, mean, &cm);
        aux = pvm_eval_kahan_inc(delta * (f - (mean + cm)), aux, &ca);
    }
    return (aux + ca) / count;
}

static double cmp_fn(const win *w, int mode, bool ts)
{
    double best = w->p[0].v;
    int64_t bt = w->p[0].t;
    for (size_t i = 0; i < w->n; i++) {
        double f = w->p[i].v;
        bool take;
        switch (mode) {
        case 0: take = f > best || isnan(best); break;   /* max */
        case 1: take = f < best || isnan(best); break;   /* min */
        case 2: take = f >= best || isnan(best); break;  /* ts of max */
        default: take = f <= best || isnan(best); break; /* ts of min */
        }
        if (take) {
            best = f;
            bt = w->p[i].t;
        }
    }
    return ts ? (double)bt / 1000 : best;
}

static int des_fn(eval_query *q, const win *w, double *out)
{
    double sf = w->arg, tf = w->arg2;
    if (sf <= 0 || sf >= 1)
        return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                             "invalid smoothing factor. "
                             "Expected: 0 < sf < 1, got: %f",
                             sf);
    if (tf <= 0 || tf >= 1)
        return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                             "invalid trend factor. "
                             "Expected: 0 < tf < 1, got: %f",
                             tf);
    if (w->n < 2)
        return 0;
    double s0 = 0, s1 = w->p[0].v, b = w->p[1].v - w->p[0].v;
    for (size_t i = 1; i < w->n; i++) {
        double x = sf * w->p[i].v;
        if (i > 1)
            b = tf * (s1 - s0) + (1 - tf) * b;
        double y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    *out = s1;
    return 1;
}

static double mad_fn(eval_query *q, const win *w, bool *ok)
{
    double *v = pvm_eval_scratch(q, w->n);
    if (!v) {
        *ok = false;
        pvm_eval_nomem(q);
        return 0;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (isnan(w->p[i].v))
            return NAN;
        v[i] = w->p[i].v;
    }
    double med = pvm_eval_quantile(0.5, v, w->n);
    for (size_t i = 0; i < w->n; i++)
        v[i] = fabs(v[i] - med);
    return pvm_eval_quantile(0.5, v, w->n);
}

/* Evaluates function id on one window: 1 with *out set, 0 for no
 * result, < 0 on error. */
static int apply(eval_query *q, int id, const win *w, double *out)
{
    double s, ic, sum, c;
    bool ok = true;
    switch (id) {
    case PVM_FN_RATE: return rate_fn(w, true, true, out);
    case PVM_FN_INCREASE: return rate_fn(w, true, false, out);
    case PVM_FN_DELTA: return rate_fn(w, false, false, out);
    case PVM_FN_IRATE: return instant_fn(w, true, out);
    case PVM_FN_IDELTA: return instant_fn(w, false, out);
    case PVM_FN_DERIV:
        if (w->n < 2)
            return 0;
        linreg(w, w->p[0].t, &s, &ic);
        *out = s;
        return 1;
    case PVM_FN_PREDICT_LINEAR:
        if (w->n < 2)
            return 0;
        linreg(w, w->ts, &s, &ic);
        *out = s * w->arg + ic;
        return 1;
    case PVM_FN_RESETS: *out = (double)w->resets; return 1;
    case PVM_FN_CHANGES: {
        double k = 0;
        for (size_t i = 1; i < w->n; i++) {
            double a = w->p[i - 1].v, b = w->p[i].v;
            if (id == PVM_FN_RESETS ? b < a
                                    : b != a && !(isnan(a) && isnan(b)))
                k++;
        }
        *out = k;
        return 1;
    }
    case PVM_FN_AVG_OVER_TIME: *out = avg_fn(w); return 1;
    case PVM_FN_SUM_OVER_TIME:
        sum = 0, c = 0;
        for (size_t i = 0; i < w->n; i++)
            sum = pvm_eval_kahan_inc(w->p[i].v, sum, &c);
        *out = isinf(sum) ? sum : sum + c;
        return 1;
    case PVM_FN_COUNT_OVER_TIME: *out = (double)w->n; return 1;
    case PVM_FN_PRESENT_OVER_TIME: *out = 1; return 1;
    case PVM_FN_LAST_OVER_TIME: *out = w->p[w->n - 1].v; return 1;
    case PVM_FN_FIRST_OVER_TIME: *out = w->p[0].v; return 1;
    case PVM_FN_TS_OF_LAST_OVER_TIME:
        *out = (double)w->p[w->n - 1].t / 1000;
        return 1;
    case PVM_FN_TS_OF_FIRST_OVER_TIME:
        *out = (double)w->p[0].t / 1000;
        return 1;
    case PVM_FN_MAX_OVER_TIME:
        *out = w->has_extreme ? w->extreme : cmp_fn(w, 0, false);
        return 1;
    case PVM_FN_MIN_OVER_TIME:
        *out = w->has_extreme ? w->extreme : cmp_fn(w, 1, false);
        return 1;
    case PVM_FN_TS_OF_MAX_OVER_TIME: *out = cmp_fn(w, 2, true); return 1;
    case PVM_FN_TS_OF_MIN_OVER_TIME: *out = cmp_fn(w, 3, true); return 1;
    case PVM_FN_STDVAR_OVER_TIME: *out = variance_fn(w); return 1;
    case PVM_FN_STDDEV_OVER_TIME: *out = sqrt(variance_fn(w)); return 1;
    case PVM_FN_MAD_OVER_TIME:
        *out = mad_fn(q, w, &ok);
        return ok ? 1 : PVM_ERR_NOMEM;
    case PVM_FN_QUANTILE_OVER_TIME: {
        double *v = pvm_eval_scratch(q, w->n);
        if (!v)
            return pvm_eval_nomem(q);
        for (size_t i = 0; i < w->n; i++)
            v[i] = w->p[i].v;
        *out = pvm_eval_quantile(w->arg, v, w->n);
        return 1;
    }
    case PVM_FN_DOUBLE_EXPONENTIAL_SMOOTHING: return des_fn(q, w, out);
    case PVM_FN_ABSENT_OVER_TIME: *out = 1; return 1;
    default:
        return pvm_eval_fail(q, PVM_ERR_BAD_DATA,
                             "function %s is not supported",
                             pvm_function_at(id)->name);
    }
}

bool pvm_eval_subquery_grid(const eval_query *q, const pvm_subquery *sq,
                            int64_t cstart, int64_t cend, int64_t *start,
                            int64_t *end, int64_t *step)
{
    *step = sq->step_ms ? sq->step_ms : q->subq_step;
    if (sq->at_kind == PVM_AT_START)
        cstart = cend = q->opts->start;
    else if (sq->at_kind == PVM_AT_END)
        cstart = cend = q->opts->end;
    else if (sq->at_kind != PVM_AT_NONE)
        cstart = cend = sq->at_ms;
    int64_t base = cstart - sq->offset_ms - sq->range_ms;
    *start = *step * (base / *step);
    if (*start <= base)
        *start += *step;
    int64_t last = cend - sq->offset_ms;
    if (last < *start)
        return false;
    *end = *start + (last - *start) / *step * *step;
    return true;
}

int pvm_eval_subquery(eval_ctx *c, const pvm_expr *e, eval_matrix *out,
                      int64_t *at, bool *has_at)
{
    eval_query *q = c->q;
    const pvm_subquery *sq = &e->u.subquery;
    *has_at = sq->at_kind != PVM_AT_NONE;
    if (*has_at)
        pvm_eval_at_time(c, sq->at_kind, sq->at_ms, at);
    int64_t start, end, step;
    memset(out, 0, sizeof(*out));
    if (!pvm_eval_subquery_grid(q, sq, c->start, c->end, &start, &end, &step))
        return 0;
    /* Refused before any work when its steps alone would exceed the
     * sample limit: x[1y:1ms] has 3e10 (Prometheus would only find out
     * step by step, after minutes). */
    uint64_t span = (uint64_t)end - (uint64_t)start;
    uint64_t nsteps = span / (uint64_t)step + 1;
    if (q->opts->max_samples && nsteps > q->opts->max_samples)
        return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                             "query processing would load too many samples "
                             "into memory in query execution");
    if (pvm_eval_check(c) < 0)
        return q->err->code;
    eval_ctx child = {.q = q, .start = start, .interval = step};
    child.nsteps = (size_t)nsteps;
    child.end = pvm_eval_step_ts(&child, child.nsteps - 1);
    eval_value v;
    int r = pvm_eval_node(&child, sq->expr, &v);
    if (r < 0)
        return r;
    *out = v.m;
    return 0;
}

static bool counter_name(const char *n)
{
    static const char *suffix[] = {"_total", "_sum", "_count", "_bucket"};
    size_t len = strlen(n);
    for (size_t i = 0; i < 4; i++) {
        size_t sl = strlen(suffix[i]);
        if (len >= sl && strcmp(n + len - sl, suffix[i]) == 0)
            return true;
    }
    return false;
}

/* absent_over_time: 1 at the steps where no series had a value. */
static int absent_over_time(eval_ctx *c, const pvm_expr *arg,
                            const eval_matrix *m, eval_value *out)
{
    eval_query *q = c->q;
    bool *found = pvm_arena_calloc(q->a, c->nsteps, sizeof(*found));
    if (!found)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < m->n; i++) {
        if (eval_work(q, m->s[i].n + 1) < 0)
            return q->err->code;
        for (size_t j = 0; j < m->s[i].n; j++)
            found[(m->s[i].pts[j].t - c->start) / c->interval] = true;
    }
    out->type = PVM_VT_VECTOR;
    out->m.n = 0;
    const pvm_label *l;
    size_t n;
    if (pvm_eval_absent_labels(q, arg, &l, &n) < 0)
        return PVM_ERR_NOMEM;
    eval_series *s = NULL;
    for (size_t k = 0; k < c->nsteps; k++) {
        if (eval_tick(q) < 0)
            return q->err->code;
        if (found[k])
            continue;
        if (!s && !(s = pvm_eval_matrix_add(q, &out->m, l, n, true)))
            return PVM_ERR_NOMEM;
        if (pvm_eval_series_push(q, s, pvm_eval_step_ts(c, k), 1) < 0)
            return PVM_ERR_NOMEM;
    }
    return 0;
}

/* The source of a range function: its series and window parameters. */
typedef struct source {
    eval_matrix m;  /* series (points not stale) */
    int64_t offset; /* offset, ms */
    int64_t range;  /* range, ms */
    bool has_at;    /* @ given */
    int64_t at;     /* its time */
} source;

static int load_source(eval_ctx *c, const pvm_expr *a, source *src)
{
    eval_query *q = c->q;
    memset(src, 0, sizeof(*src));
    if (a->kind == PVM_EXPR_SUBQUERY) {
        src->offset = a->u.subquery.offset_ms;
        src->range = a->u.subquery.range_ms;
        return pvm_eval_subquery(c, a, &src->m, &src->at, &src->has_at);
    }
    const pvm_expr *vse = a->u.matrix.vs;
    const pvm_vector_selector *vs = &vse->u.vs;
    src->offset = vs->offset_ms;
    src->range = a->u.matrix.range_ms;
    src->has_at = vs->at_kind != PVM_AT_NONE;
    pvm_eval_at_time(c, vs->at_kind, vs->at_ms, &src->at);
    eval_sel *sel = pvm_eval_sel_find(q, vse);
    if (!sel)
        return PVM_ERR_INTERNAL;
    src->m.s = pvm_arena_calloc(q->a, sel->n + 1, sizeof(eval_series));
    if (!src->m.s)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < sel->n; i++) {
        const pvm_point *p;
        size_t n;
        if (pvm_eval_sel_clean(q, sel, i, &p, &n) < 0)
            return PVM_ERR_NOMEM;
        if (pvm_eval_check(c) < 0)
            return q->err->code;
        eval_series *s = &src->m.s[src->m.n++];
        *s = sel->s[i];
        s->pts = (pvm_point *)p;
        s->n = s->cap = n;
    }
    return 0;
}

static int scalar_arg(eval_ctx *c, const pvm_call *call, size_t i,
                      double **vals)
{
    if (i >= call->nargs)
        return 0;
    return pvm_eval_scalar_steps(c, call->args[i], vals);
}

/* Does function id read every point of a window (then a window costs its
 * length in deadline work units), not just its ends? */
static bool reads_whole_window(int id)
{
    switch (id) {
    case PVM_FN_COUNT_OVER_TIME:
    case PVM_FN_LAST_OVER_TIME:
    case PVM_FN_FIRST_OVER_TIME:
    case PVM_FN_PRESENT_OVER_TIME:
    case PVM_FN_ABSENT_OVER_TIME:
    case PVM_FN_IRATE:
    case PVM_FN_IDELTA:
    case PVM_FN_TS_OF_LAST_OVER_TIME:
    case PVM_FN_TS_OF_FIRST_OVER_TIME: return false;
    default: return true;
    }
}

/* The sliding state of one series' windows, updated as the window's
 * ends move right: the counter resets inside it, and for max/min_over_time
 * a monotonic deque of point indices (values decreasing for max,
 * increasing for min; NaN left out), whose front is the earliest extreme
 * value of the window, as cmp_fn's scan would pick it. Each point enters
 * and leaves once: O(1) per step instead of a rescan of the window. */
typedef struct slide {
    const pvm_point *p; /* the series' points */
    size_t resets;      /* resets among the points in [lo, hi) */
    int mode;           /* 0 max, 1 min, -1 no deque */
    size_t *dq;         /* the deque: indices, dq[head..tail) */
    size_t head, tail;  /* its ends */
} slide;

/* Point i enters the window [lo, i). */
static void slide_enter(slide *sl, size_t lo, size_t i)
{
    const pvm_point *p = sl->p;
    if (i > lo && p[i].v < p[i - 1].v)
        sl->resets++;
    if (sl->mode < 0 || isnan(p[i].v))
        return;
    double f = p[i].v;
    while (sl->tail > sl->head &&
           (sl->mode == 0 ? p[sl->dq[sl->tail - 1]].v < f
                          : p[sl->dq[sl->tail - 1]].v > f))
        sl->tail--;
    sl->dq[sl->tail++] = i;
}

/* Point lo leaves the window [lo, hi). */
static void slide_leave(slide *sl, size_t lo, size_t hi)
{
    const pvm_point *p = sl->p;
    if (lo + 1 < hi && p[lo + 1].v < p[lo].v)
        sl->resets--;
    if (sl->mode >= 0 && sl->head < sl->tail && sl->dq[sl->head] == lo)
        sl->head++;
}

static int one_series(eval_ctx *c, const pvm_expr *e, const source *src,
                      const eval_series *in, double *a1, double *a2,
                      size_t *dq, eval_value *out)
{
    eval_query *q = c->q;
    int id = e->u.call.func->id;
    bool keep_name = id == PVM_FN_LAST_OVER_TIME ||
                     id == PVM_FN_FIRST_OVER_TIME;
    bool whole = reads_whole_window(id);
    eval_series *dst = NULL;
    size_t lo = 0, hi = 0;
    slide sl = {.p = in->pts, .mode = -1, .dq = dq};
    if (dq && id == PVM_FN_MAX_OVER_TIME)
        sl.mode = 0;
    else if (dq && id == PVM_FN_MIN_OVER_TIME)
        sl.mode = 1;
    for (size_t k = 0; k < c->nsteps; k++) {
        win w = {.ts = pvm_eval_step_ts(c, k), .range = src->range};
        w.ref = (src->has_at ? src->at : w.ts) - src->offset;
        int64_t mint = w.ref - src->range;
        size_t lo0 = lo, hi0 = hi;
        for (; hi < in->n && in->pts[hi].t <= w.ref; hi++)
            slide_enter(&sl, lo, hi);
        for (; lo < hi && in->pts[lo].t <= mint; lo++)
            slide_leave(&sl, lo, hi);
        if (eval_work(q, (hi - hi0) + (lo - lo0) + 1) < 0)
            return q->err->code;
        if (lo == hi)
            continue;
        w.p = in->pts + lo;
        w.n = hi - lo;
        w.resets = sl.resets;
        if (sl.mode >= 0) {
            w.has_extreme = true;
            w.extreme = sl.head < sl.tail ? in->pts[sl.dq[sl.head]].v
                                          : w.p[0].v;
        }
        if (whole && !dq && eval_work(q, w.n) < 0)
            return q->err->code;
        w.arg = a1 ? a1[k] : 0;
        w.arg2 = a2 ? a2[k] : 0;
        if (id == PVM_FN_QUANTILE_OVER_TIME &&
            (isnan(w.arg) || w.arg < 0 || w.arg > 1)) {
            char b[40];
            pvm_format_float_g(b, sizeof(b), w.arg);
            pvm_eval_annotate(
                q, true, e->u.call.args[0],
                "PromQL warning: "
                "quantile value should be between 0 and 1, got %s",
                b);
        }
        double v;
        int r = apply(q, id, &w, &v);
        if (r < 0)
            return r;
        if (!r)
            continue;
        if (!dst &&
            !(dst = pvm_eval_matrix_add(q, &out->m, in->labels, in->nlabels,
                                        !keep_name || in->drop_name)))
            return PVM_ERR_NOMEM;
        if (pvm_eval_series_push(q, dst, w.ts, v) < 0)
            return PVM_ERR_NOMEM;
    }
    if (dst && (id == PVM_FN_RATE || id == PVM_FN_INCREASE)) {
        const char *name = pvm_labels_get_unsorted(in->labels, in->nlabels,
                                                   "__name__");
        if (name && *name && !counter_name(name)) {
            char *qn = pvm_eval_go_quote(q, name, strlen(name));
            if (!qn)
                return PVM_ERR_NOMEM;
            pvm_eval_annotate(
                q, false, e->u.call.args[0],
                "PromQL info: metric might not be a counter, name "
                "does not end in _total/_sum/_count/_bucket: %s",
                qn);
        }
    }
    return dst ? pvm_eval_count_samples(c, dst->n) : 0;
}

int pvm_eval_range_call(eval_ctx *c, const pvm_expr *e, size_t marg,
                        eval_value *out)
{
    eval_query *q = c->q;
    const pvm_call *call = &e->u.call;
    int id = call->func->id;
    double *a1 = NULL, *a2 = NULL;
    int r = 0;
    if (id == PVM_FN_QUANTILE_OVER_TIME)
        r = scalar_arg(c, call, 0, &a1);
    else if (id == PVM_FN_PREDICT_LINEAR)
        r = scalar_arg(c, call, 1, &a1);
    else if (id == PVM_FN_DOUBLE_EXPONENTIAL_SMOOTHING) {
        r = scalar_arg(c, call, 1, &a1);
        if (r >= 0)
            r = scalar_arg(c, call, 2, &a2);
    }
    if (r < 0)
        return r;
    source src;
    if ((r = load_source(c, pvm_eval_unparen(call->args[marg]), &src)) < 0)
        return r;
    out->type = PVM_VT_VECTOR;
    size_t *dq = NULL; /* the deque of max/min_over_time, sized for the
                          longest series */
    if (id == PVM_FN_MAX_OVER_TIME || id == PVM_FN_MIN_OVER_TIME) {
        size_t longest = 1;
        for (size_t i = 0; i < src.m.n; i++)
            if (src.m.s[i].n > longest)
                longest = src.m.s[i].n;
        if (!(dq = pvm_arena_alloc(q->a, longest * sizeof(*dq))))
            return pvm_eval_nomem(q);
    }
    for (size_t i = 0; i < src.m.n; i++) {
        if ((r = one_series(c, e, &src, &src.m.s[i], a1, a2, dq, out)) < 0)
            return r;
        if (pvm_eval_check(c) < 0)
            return q->err->code;
    }
    if (id == PVM_FN_ABSENT_OVER_TIME) {
        eval_matrix m = out->m;
        memset(out, 0, sizeof(*out));
        return absent_over_time(c, call->args[marg], &m, out);
    }
    return 0;
}
