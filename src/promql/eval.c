/* eval.c: the PromQL evaluator's entry point (pvm_eval) and node
 * dispatch: literals, parentheses, unary minus, selectors, subqueries;
 * binary operators, aggregations and calls live in binop.c, aggr.c,
 * funcs.c and funcs_range.c. Also the query-wide checks (deadline, sample
 * limit) and the final clean-up (delayed __name__ removal, sorting). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_internal.h"

int64_t pvm_eval_step_ts(const eval_ctx *c, size_t k)
{
    return c->start + (int64_t)k * c->interval;
}

const pvm_expr *pvm_eval_unparen(const pvm_expr *e)
{
    while (e && e->kind == PVM_EXPR_PAREN)
        e = e->u.paren.expr;
    return e;
}

/* Reads the clock (see eval_work): fails with Prometheus' timeout error
 * past the deadline. */
int pvm_eval_deadline(eval_query *q)
{
    q->tick = 0;
    if (!q->opts->deadline_ns)
        return 0;
    if (q->err->code == PVM_ERR_TIMEOUT)
        return PVM_ERR_TIMEOUT;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (now > q->opts->deadline_ns)
        return pvm_eval_fail(q, PVM_ERR_TIMEOUT,
                             "query timed out in expression evaluation");
    return 0;
}

/* Deadline check of a node or a series: counts as a few loop
 * iterations. */
int pvm_eval_check(eval_ctx *c)
{
    return eval_work(c->q, EVAL_TICK_EVERY / 64);
}

/* Accounts n more samples held in memory; fails past max_samples. */
int pvm_eval_count_samples(eval_ctx *c, size_t n)
{
    eval_query *q = c->q;
    q->cur_samples += n;
    if (q->opts->max_samples && q->cur_samples > q->opts->max_samples)
        return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                             "query processing would load too many samples "
                             "into memory in query execution");
    return 0;
}

int pvm_eval_at_time(const eval_ctx *c, int at_kind, int64_t at_ms,
                     int64_t *at)
{
    if (at_kind == PVM_AT_START)
        *at = c->q->opts->start;
    else if (at_kind == PVM_AT_END)
        *at = c->q->opts->end;
    else
        *at = at_ms;
    return 0;
}

/* A scalar expression's value at every step of c (vals[k]). */
int pvm_eval_scalar_steps(eval_ctx *c, const pvm_expr *e, double **vals)
{
    eval_value v;
    memset(&v, 0, sizeof(v));
    int r = pvm_eval_node(c, e, &v);
    if (r < 0)
        return r;
    double *out = pvm_arena_alloc(c->q->a, c->nsteps * sizeof(*out));
    if (!out)
        return pvm_eval_nomem(c->q);
    if (eval_work(c->q, c->nsteps) < 0)
        return c->q->err->code;
    for (size_t k = 0; k < c->nsteps; k++)
        out[k] = NAN;
    if (v.m.n) {
        const eval_series *s = &v.m.s[0];
        for (size_t j = 0; j < s->n; j++) {
            size_t k = (size_t)((s->pts[j].t - c->start) / c->interval);
            if (k < c->nsteps)
                out[k] = s->pts[j].v;
        }
    }
    *vals = out;
    return 0;
}

static int eval_constant(eval_ctx *c, double v, eval_value *out)
{
    out->type = PVM_VT_SCALAR;
    eval_series *s = pvm_eval_matrix_add(c->q, &out->m, NULL, 0, false);
    if (!s)
        return PVM_ERR_NOMEM;
    s->pts = pvm_arena_alloc(c->q->a, c->nsteps * sizeof(*s->pts));
    if (!s->pts)
        return pvm_eval_nomem(c->q);
    s->cap = s->n = c->nsteps;
    if (eval_work(c->q, c->nsteps) < 0)
        return c->q->err->code;
    for (size_t k = 0; k < c->nsteps; k++)
        s->pts[k] = (pvm_point){pvm_eval_step_ts(c, k), v};
    return pvm_eval_count_samples(c, c->nsteps);
}

static int eval_unary(eval_ctx *c, const pvm_expr *e, eval_value *out)
{
    int r = pvm_eval_node(c, e->u.unary.expr, out);
    if (r < 0 || e->u.unary.op != PVM_OP_SUB)
        return r;
    for (size_t i = 0; i < out->m.n; i++) {
        eval_series *s = &out->m.s[i];
        if (pvm_eval_series_own(c->q, s) < 0)
            return PVM_ERR_NOMEM;
        if (out->type != PVM_VT_SCALAR)
            s->drop_name = true;
        if (eval_work(c->q, s->n + 1) < 0)
            return c->q->err->code;
        for (size_t j = 0; j < s->n; j++)
            s->pts[j].v = -s->pts[j].v;
    }
    return 0;
}

int pvm_eval_node(eval_ctx *c, const pvm_expr *e, eval_value *out)
{
    memset(out, 0, sizeof(*out));
    if (pvm_eval_check(c) < 0)
        return c->q->err->code;
    size_t before = c->q->cur_samples;
    int r = 0;
    switch (e->kind) {
    case PVM_EXPR_NUMBER: r = eval_constant(c, e->u.number.value, out); break;
    case PVM_EXPR_STRING:
        out->type = PVM_VT_STRING;
        out->str = e->u.string.value;
        break;
    case PVM_EXPR_PAREN: r = pvm_eval_node(c, e->u.paren.expr, out); break;
    case PVM_EXPR_UNARY: r = eval_unary(c, e, out); break;
    case PVM_EXPR_VECTOR_SELECTOR:
        r = pvm_eval_vector_selector(c, e, false, out);
        break;
    case PVM_EXPR_MATRIX_SELECTOR:
        if (c->nsteps != 1)
            return pvm_eval_fail(
                c->q, PVM_ERR_BAD_DATA,
                "cannot do range evaluation of matrix selector");
        r = pvm_eval_matrix_selector(c, e, out);
        break;
    case PVM_EXPR_SUBQUERY: {
        bool has_at;
        int64_t at;
        out->type = PVM_VT_MATRIX;
        r = pvm_eval_subquery(c, e, &out->m, &at, &has_at);
        break;
    }
    case PVM_EXPR_BINARY: r = pvm_eval_binary(c, e, out); break;
    case PVM_EXPR_AGGREGATE: r = pvm_eval_aggregate(c, e, out); break;
    case PVM_EXPR_CALL: r = pvm_eval_call_fn(c, e, out); break;
    }
    if (r < 0)
        return r;
    /* The children's samples are released; this node's result stays. */
    c->q->cur_samples = before;
    return pvm_eval_count_samples(c, pvm_eval_matrix_points(&out->m));
}

/* ---- result ------------------------------------------------------------ */

static int cmp_result(const void *a, const void *b)
{
    const pvm_result_series *x = a, *y = b;
    return pvm_labels_compare(x->labels, x->nlabels, y->labels, y->nlabels);
}

/* Delayed name removal: drop __name__ where flagged, then merge (range)
 * or reject (instant vector) series that became equal. Hashed: linear in
 * the number of series. */
static int cleanup_names(eval_query *q, eval_value *v, bool instant)
{
    for (size_t i = 0; i < v->m.n; i++) {
        eval_series *s = &v->m.s[i];
        if (eval_tick(q) < 0)
            return q->err->code;
        if (s->drop_name &&
            pvm_eval_labels_drop_meta(q, s->labels, s->nlabels, &s->labels,
                                      &s->nlabels) < 0)
            return PVM_ERR_NOMEM;
    }
    if (v->type == PVM_VT_VECTOR && instant) {
        bool dup;
        if (pvm_eval_has_same_labels(q, &v->m, &dup) < 0)
            return q->err->code;
        if (dup)
            return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "vector cannot contain metrics with "
                                 "the same labelset");
        return 0;
    }
    if (v->type == PVM_VT_VECTOR || v->type == PVM_VT_MATRIX)
        return pvm_eval_merge_same_labels(q, &v->m);
    return 0;
}

/* Line and column (1-based, bytes) of byte offset pos of the query, from
 * the offsets of its line starts (nl of them, ascending): a binary search,
 * so that many annotations deep in a long query cost no rescans. */
static void line_col(const size_t *starts, size_t nl, size_t pos, size_t *line,
                     size_t *col)
{
    size_t lo = 0, hi = nl; /* the last start <= pos */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (starts[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    *line = lo + 1;
    *col = pos - starts[lo] + 1;
}

static int collect_annotations(eval_query *q, pvm_eval_result *out)
{
    size_t nw = 0, ni = 0;
    for (eval_anno *a = q->annos; a; a = a->next)
        a->warn ? nw++ : ni++;
    out->warnings = pvm_arena_calloc(q->a, nw + 1, sizeof(char *));
    out->infos = pvm_arena_calloc(q->a, ni + 1, sizeof(char *));
    if (!out->warnings || !out->infos)
        return pvm_eval_nomem(q);
    /* oldest first */
    size_t n = nw + ni, k = 0;
    eval_anno **all = pvm_arena_calloc(q->a, n + 1, sizeof(*all));
    if (!all)
        return pvm_eval_nomem(q);
    for (eval_anno *a = q->annos; a; a = a->next)
        all[n - 1 - k++] = a;
    const char *qs = q->opts->query;
    size_t qlen = qs ? q->opts->query_len : 0, nl = 1;
    for (size_t j = 0; j < qlen; j++)
        nl += qs[j] == '\n';
    size_t *starts = pvm_arena_alloc(q->a, nl * sizeof(*starts));
    if (!starts)
        return pvm_eval_nomem(q);
    starts[0] = 0;
    for (size_t j = 0, l = 1; j < qlen; j++)
        if (qs[j] == '\n')
            starts[l++] = j + 1;
    for (size_t i = 0; i < n; i++) {
        eval_anno *a = all[i];
        char posbuf[64] = "";
        if (qs && a->has_pos && a->pos <= qlen) {
            size_t line, col;
            line_col(starts, nl, a->pos, &line, &col);
            snprintf(posbuf, sizeof(posbuf), " (%zu:%zu)", line, col);
        }
        char *msg;
        if (a->mono) {
            char b1[40], b2[40], b3[40];
            pvm_format_float_g(b1, sizeof(b1), a->min_b);
            pvm_format_float_g(b2, sizeof(b2), a->max_b);
            snprintf(b3, sizeof(b3), "%.2g", a->max_diff);
            char t1[32], t2[32];
            time_t s1 = (time_t)(a->min_ts / 1000), s2 = a->max_ts / 1000;
            struct tm tm;
            gmtime_r(&s1, &tm);
            strftime(t1, sizeof(t1), "%Y-%m-%dT%H:%M:%SZ", &tm);
            gmtime_r(&s2, &tm);
            strftime(t2, sizeof(t2), "%Y-%m-%dT%H:%M:%SZ", &tm);
            msg = pvm_arena_sprintf(q->a,
                                    "%s, from buckets %s to %s, with a max "
                                    "diff of %s, over %zu samples from %s "
                                    "to %s%s",
                                    a->msg, b1, b2, b3, a->count + 1, t1, t2,
                                    posbuf);
        } else {
            msg = pvm_arena_sprintf(q->a, "%s%s", a->msg, posbuf);
        }
        if (!msg)
            return pvm_eval_nomem(q);
        if (a->warn)
            out->warnings[out->nwarnings++] = msg;
        else
            out->infos[out->ninfos++] = msg;
    }
    return 0;
}

static int make_result(eval_query *q, eval_value *v, pvm_eval_result *out)
{
    const pvm_eval_opts *o = q->opts;
    bool instant = o->step == 0;
    out->time = o->start;
    if (v->type == PVM_VT_STRING) {
        out->type = PVM_VT_STRING;
        out->string = v->str;
        return 0;
    }
    if (v->type == PVM_VT_SCALAR && instant) {
        out->type = PVM_VT_SCALAR;
        out->scalar = v->m.n && v->m.s[0].n ? v->m.s[0].pts[0].v : NAN;
        return 0;
    }
    int r = cleanup_names(q, v, instant);
    if (r < 0)
        return r;
    out->type = instant && v->type != PVM_VT_SCALAR ? v->type : PVM_VT_MATRIX;
    out->series = pvm_arena_calloc(q->a, v->m.n + 1, sizeof(*out->series));
    if (!out->series)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < v->m.n; i++) {
        eval_series *s = &v->m.s[i];
        if (eval_tick(q) < 0)
            return q->err->code;
        if (!s->n)
            continue;
        if (instant && v->type == PVM_VT_VECTOR &&
            pvm_eval_series_own(q, s) < 0)
            return PVM_ERR_NOMEM;
        pvm_result_series *rs = &out->series[out->nseries++];
        rs->labels = s->labels;
        rs->nlabels = s->nlabels;
        rs->points = s->pts;
        rs->npoints = s->n;
        if (instant && v->type == PVM_VT_VECTOR)
            s->pts[0].t = o->start;
    }
    if (!(instant && v->type == PVM_VT_VECTOR))
        qsort(out->series, out->nseries, sizeof(*out->series), cmp_result);
    return eval_work(q, out->nseries);
}

int pvm_eval(pvm_arena *a, const pvm_expr *e, const pvm_eval_opts *opts,
             pvm_eval_result *out, pvm_error *err)
{
    memset(out, 0, sizeof(*out));
    pvm_error_clear(err);
    eval_query q = {
        .a = a,
        .opts = opts,
        .err = err,
        .lookback = opts->lookback_ms > 0 ? opts->lookback_ms
                                          : PVM_EVAL_DEFAULT_LOOKBACK_MS,
        .subq_step = opts->subquery_step_ms > 0
                         ? opts->subquery_step_ms
                         : PVM_EVAL_DEFAULT_SUBQUERY_STEP_MS,
    };
    pvm_value_type t = pvm_expr_type(e);
    if (opts->step > 0 && t != PVM_VT_SCALAR && t != PVM_VT_VECTOR)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "invalid expression type \"%s\" for range "
                             "query, must be Scalar or instant Vector",
                             pvm_value_type_name(t));
    if (opts->step < 0 || opts->end < opts->start ||
        (opts->step == 0 && opts->end != opts->start))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "invalid evaluation time range");
    int r = pvm_eval_fetch_all(&q, e);
    if (r < 0)
        return r;
    if (pvm_eval_deadline(&q) < 0) /* the plugins may have used it up */
        return err->code;
    eval_ctx c = {
        .q = &q,
        .start = opts->start,
        .end = opts->end,
        .interval = opts->step > 0 ? opts->step : 1,
    };
    c.nsteps = (size_t)((c.end - c.start) / c.interval) + 1;
    c.end = pvm_eval_step_ts(&c, c.nsteps - 1);
    eval_value v;
    r = pvm_eval_node(&c, e, &v);
    if (r < 0)
        return r;
    r = make_result(&q, &v, out);
    if (r < 0)
        return r;
    return collect_annotations(&q, out);
}
