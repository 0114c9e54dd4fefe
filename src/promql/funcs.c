/* funcs.c: PromQL function calls. Range-vector functions go to
 * funcs_range.c; here: element-wise math and date functions, clamp,
 * round, timestamp, time, vector, scalar, absent, sort*, label_replace,
 * label_join, histogram_quantile and histogram_fraction over classic
 * buckets. Our own evaluation table, indexed by the PVM_FN_* ids of the
 * parser's functions.def. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "functions.h"

/* ---- element-wise ------------------------------------------------------ */

static double f_sgn(double v)
{
    return v < 0 ? -1 : v > 0 ? 1 : v;
}
static double f_deg(double v)
{
    return v * 180 / M_PI;
}
static double f_rad(double v)
{
    return v * M_PI / 180;
}

/* The float function of an element-wise function id, or NULL. */
static double (*simple_fn(int id))(double)
{
    switch (id) {
    case PVM_FN_ABS: return fabs;
    case PVM_FN_CEIL: return ceil;
    case PVM_FN_FLOOR: return floor;
    case PVM_FN_EXP: return exp;
    case PVM_FN_SQRT: return sqrt;
    case PVM_FN_LN: return log;
    case PVM_FN_LOG2: return log2;
    case PVM_FN_LOG10: return log10;
    case PVM_FN_SIN: return sin;
    case PVM_FN_COS: return cos;
    case PVM_FN_TAN: return tan;
    case PVM_FN_ASIN: return asin;
    case PVM_FN_ACOS: return acos;
    case PVM_FN_ATAN: return atan;
    case PVM_FN_SINH: return sinh;
    case PVM_FN_COSH: return cosh;
    case PVM_FN_TANH: return tanh;
    case PVM_FN_ASINH: return asinh;
    case PVM_FN_ACOSH: return acosh;
    case PVM_FN_ATANH: return atanh;
    case PVM_FN_SGN: return f_sgn;
    case PVM_FN_DEG: return f_deg;
    case PVM_FN_RAD: return f_rad;
    default: return NULL;
    }
}

/* Applies op to every point of every series (labels kept, name dropped). */
static int map_series(eval_ctx *c, const pvm_call *call, eval_value *in,
                      eval_value *out)
{
    eval_query *q = c->q;
    int id = call->func->id;
    double *a1 = NULL, *a2 = NULL;
    int r = 0;
    if (call->nargs > 1)
        r = pvm_eval_scalar_steps(c, call->args[1], &a1);
    if (r >= 0 && call->nargs > 2)
        r = pvm_eval_scalar_steps(c, call->args[2], &a2);
    if (r < 0)
        return r;
    double (*fn)(double) = simple_fn(id);
    out->type = PVM_VT_VECTOR;
    for (size_t i = 0; i < in->m.n; i++) {
        const eval_series *s = &in->m.s[i];
        eval_series *d = NULL;
        if (eval_work(q, s->n + 1) < 0)
            return q->err->code;
        for (size_t j = 0; j < s->n; j++) {
            size_t k = (size_t)((s->pts[j].t - c->start) / c->interval);
            double v = s->pts[j].v, res;
            if (fn) {
                res = fn(v);
            } else if (id == PVM_FN_TIMESTAMP) {
                res = (double)s->pts[j].t / 1000;
            } else if (id == PVM_FN_ROUND) {
                double inv = 1.0 / (a1 ? a1[k] : 1.0);
                res = floor(v * inv + 0.5) / inv;
            } else if (id == PVM_FN_CLAMP || id == PVM_FN_CLAMP_MIN ||
                       id == PVM_FN_CLAMP_MAX) {
                double lo = id == PVM_FN_CLAMP_MAX ? -INFINITY : a1[k];
                double hi = id == PVM_FN_CLAMP       ? a2[k]
                            : id == PVM_FN_CLAMP_MAX ? a1[k]
                                                     : INFINITY;
                if (hi < lo)
                    continue;
                res = fmax(lo, fmin(hi, v));
                if (isnan(v))
                    res = v;
            } else {
                res = pvm_eval_date_part(id, v);
            }
            if (!d && !(d = pvm_eval_matrix_add(q, &out->m, s->labels,
                                                s->nlabels, true)))
                return PVM_ERR_NOMEM;
            if (pvm_eval_series_push(q, d, s->pts[j].t, res) < 0)
                return PVM_ERR_NOMEM;
        }
    }
    return 0;
}

/* ---- scalar-valued and constant functions ----------------------------- */

static int per_step(eval_ctx *c, const pvm_call *call, eval_value *out)
{
    eval_query *q = c->q;
    const pvm_eval_opts *o = q->opts;
    int id = call->func->id;
    double *a = NULL, *b = NULL;
    int r = 0;
    if ((id == PVM_FN_MIN_OF || id == PVM_FN_MAX_OF || id == PVM_FN_VECTOR) &&
        (r = pvm_eval_scalar_steps(c, call->args[0], &a)) < 0)
        return r;
    if ((id == PVM_FN_MIN_OF || id == PVM_FN_MAX_OF) &&
        (r = pvm_eval_scalar_steps(c, call->args[1], &b)) < 0)
        return r;
    out->type = call->func->ret;
    eval_series *s = pvm_eval_matrix_add(q, &out->m, NULL, 0, false);
    if (!s)
        return PVM_ERR_NOMEM;
    for (size_t k = 0; k < c->nsteps; k++) {
        int64_t ts = pvm_eval_step_ts(c, k);
        double v;
        if (eval_tick(q) < 0)
            return q->err->code;
        switch (id) {
        case PVM_FN_TIME: v = (double)ts / 1000; break;
        case PVM_FN_PI: v = M_PI; break;
        case PVM_FN_START: v = (double)o->start / 1000; break;
        case PVM_FN_END: v = (double)o->end / 1000; break;
        case PVM_FN_RANGE: v = (double)(o->end - o->start) / 1000; break;
        case PVM_FN_STEP:
            v = o->start == o->end ? 0 : (double)o->step / 1000;
            break;
        case PVM_FN_VECTOR: v = a[k]; break;
        case PVM_FN_MIN_OF:
            v = isnan(a[k]) || isnan(b[k]) ? NAN : fmin(a[k], b[k]);
            break;
        case PVM_FN_MAX_OF:
            v = isnan(a[k]) || isnan(b[k]) ? NAN : fmax(a[k], b[k]);
            break;
        default: v = pvm_eval_date_part(id, (double)(ts / 1000)); break;
        }
        if (pvm_eval_series_push(q, s, ts, v) < 0)
            return PVM_ERR_NOMEM;
    }
    return 0;
}

/* scalar(v): the value of the only sample, NaN otherwise. */
static int fn_scalar(eval_ctx *c, eval_value *in, eval_value *out)
{
    eval_query *q = c->q;
    double *v = pvm_arena_alloc(q->a, c->nsteps * sizeof(*v));
    size_t *cnt = pvm_arena_calloc(q->a, c->nsteps, sizeof(*cnt));
    if (!v || !cnt)
        return pvm_eval_nomem(q);
    if (eval_work(q, pvm_eval_matrix_points(&in->m) + c->nsteps) < 0)
        return q->err->code;
    for (size_t i = 0; i < in->m.n; i++)
        for (size_t j = 0; j < in->m.s[i].n; j++) {
            const pvm_point *p = &in->m.s[i].pts[j];
            size_t k = (size_t)((p->t - c->start) / c->interval);
            cnt[k]++;
            v[k] = p->v;
        }
    out->type = PVM_VT_SCALAR;
    eval_series *s = pvm_eval_matrix_add(q, &out->m, NULL, 0, false);
    if (!s)
        return PVM_ERR_NOMEM;
    for (size_t k = 0; k < c->nsteps; k++)
        if (pvm_eval_series_push(q, s, pvm_eval_step_ts(c, k),
                                 cnt[k] == 1 ? v[k] : NAN) < 0)
            return PVM_ERR_NOMEM;
    return 0;
}

/* Labels absent() and absent_over_time() give: the = matchers. */
int pvm_eval_absent_labels(eval_query *q, const pvm_expr *arg,
                           const pvm_label **l, size_t *n)
{
    *l = NULL;
    *n = 0;
    arg = pvm_eval_unparen(arg);
    if (arg->kind == PVM_EXPR_MATRIX_SELECTOR)
        arg = arg->u.matrix.vs;
    if (arg->kind != PVM_EXPR_VECTOR_SELECTOR)
        return 0;
    const pvm_vector_selector *vs = &arg->u.vs;
    for (size_t i = 0; i < vs->nmatchers; i++) {
        const pvm_matcher *m = &vs->matchers[i];
        if (strcmp(m->name, "__name__") == 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(vs->matchers[j].name, m->name) == 0 &&
                    vs->matchers[j].op == PVM_MATCH_EQUAL;
        const char *v = m->op == PVM_MATCH_EQUAL && !seen ? m->value : NULL;
        if (pvm_eval_labels_set(q, *l, *n, m->name, v, l, n) < 0)
            return PVM_ERR_NOMEM;
    }
    return 0;
}

static int fn_absent(eval_ctx *c, const pvm_call *call, eval_value *in,
                     eval_value *out)
{
    eval_query *q = c->q;
    bool *found = pvm_arena_calloc(q->a, c->nsteps, sizeof(*found));
    if (!found)
        return pvm_eval_nomem(q);
    if (eval_work(q, pvm_eval_matrix_points(&in->m) + in->m.n + c->nsteps) < 0)
        return q->err->code;
    for (size_t i = 0; i < in->m.n; i++)
        for (size_t j = 0; j < in->m.s[i].n; j++)
            found[(in->m.s[i].pts[j].t - c->start) / c->interval] = true;
    const pvm_label *l;
    size_t n;
    if (pvm_eval_absent_labels(q, call->args[0], &l, &n) < 0)
        return PVM_ERR_NOMEM;
    out->type = PVM_VT_VECTOR;
    eval_series *s = NULL;
    for (size_t k = 0; k < c->nsteps; k++) {
        if (found[k])
            continue;
        if (!s && !(s = pvm_eval_matrix_add(q, &out->m, l, n, false)))
            return PVM_ERR_NOMEM;
        if (pvm_eval_series_push(q, s, pvm_eval_step_ts(c, k), 1) < 0)
            return PVM_ERR_NOMEM;
    }
    return 0;
}

/* The index of the first range-vector argument, or -1. */
static int matrix_arg(const pvm_call *call)
{
    for (size_t i = 0; i < call->nargs; i++) {
        const pvm_expr *a = pvm_eval_unparen(call->args[i]);
        if (a->kind == PVM_EXPR_MATRIX_SELECTOR ||
            a->kind == PVM_EXPR_SUBQUERY)
            return (int)i;
    }
    return -1;
}

static int unsupported(eval_query *q, const pvm_call *call)
{
    return pvm_eval_fail(q, PVM_ERR_BAD_DATA,
                         "function %s() is not supported by this server",
                         call->func->name);
}

int pvm_eval_call_fn(eval_ctx *c, const pvm_expr *e, eval_value *out)
{
    eval_query *q = c->q;
    const pvm_call *call = &e->u.call;
    int id = call->func->id;
    int m = matrix_arg(call);
    if (m >= 0)
        return pvm_eval_range_call(c, e, (size_t)m, out);
    switch (id) {
    case PVM_FN_LABEL_REPLACE: return pvm_eval_label_replace(c, call, out);
    case PVM_FN_LABEL_JOIN: return pvm_eval_label_join(c, call, out);
    case PVM_FN_INFO:
    case PVM_FN_HISTOGRAM_QUANTILES: return unsupported(q, call);
    case PVM_FN_TIME:
    case PVM_FN_PI:
    case PVM_FN_START:
    case PVM_FN_END:
    case PVM_FN_RANGE:
    case PVM_FN_STEP:
    case PVM_FN_VECTOR:
    case PVM_FN_MIN_OF:
    case PVM_FN_MAX_OF: return per_step(c, call, out);
    default: break;
    }
    if (call->nargs == 0) /* year(), hour(), ...: of the step time */
        return per_step(c, call, out);
    if (id == PVM_FN_HISTOGRAM_QUANTILE || id == PVM_FN_HISTOGRAM_FRACTION)
        return pvm_eval_histogram_fn(c, e, out);
    size_t vi = 0;
    eval_value in;
    const pvm_expr *arg = pvm_eval_unparen(call->args[vi]);
    int r;
    if (id == PVM_FN_TIMESTAMP && arg->kind == PVM_EXPR_VECTOR_SELECTOR) {
        r = pvm_eval_vector_selector(c, arg, true, out);
        for (size_t i = 0; r >= 0 && i < out->m.n; i++)
            out->m.s[i].drop_name = true;
        return r;
    }
    if ((r = pvm_eval_node(c, call->args[vi], &in)) < 0)
        return r;
    switch (id) {
    case PVM_FN_SCALAR: return fn_scalar(c, &in, out);
    case PVM_FN_ABSENT: return fn_absent(c, call, &in, out);
    case PVM_FN_SORT:
    case PVM_FN_SORT_DESC:
    case PVM_FN_SORT_BY_LABEL:
    case PVM_FN_SORT_BY_LABEL_DESC: return pvm_eval_sort(c, e, &in, out);
    case PVM_FN_HISTOGRAM_COUNT:
    case PVM_FN_HISTOGRAM_SUM:
    case PVM_FN_HISTOGRAM_AVG:
    case PVM_FN_HISTOGRAM_STDDEV:
    case PVM_FN_HISTOGRAM_STDVAR:
    case PVM_FN_START_TIMESTAMP:
        out->type = PVM_VT_VECTOR; /* float samples have no histogram */
        return 0;
    default: return map_series(c, call, &in, out);
    }
}
