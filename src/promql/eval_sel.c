/* eval_sel.c: selector data. Before evaluation every vector selector node
 * is fetched once, through the fetch callback, for the whole time window
 * the query can need (Prometheus' getTimeRangesForSelector); evaluation
 * then reads instant vectors (last sample within the lookback delta, not
 * stale) and range windows (t-range, t] from the sorted point arrays. */

#include <math.h>
#include <string.h>

#include "engine_internal.h"
#include "functions.h"
#include "series.h"

/* What the walk knows about the path from the root to a node: the steps
 * of the evaluator the node is evaluated in (the query's, or the innermost
 * subquery's), the same ones pvm_eval_node will use. */
typedef struct walk_state {
    int64_t first;      /* first step, ms */
    int64_t last;       /* last step, ms (on the grid, <= the query's
                              end) */
    int64_t interval;   /* step, ms (> 0) */
    bool in_subquery;   /* the steps are a subquery's */
    int64_t eval_range; /* range of the enclosing matrix selector */
    const char *func;   /* enclosing function or aggregation */
} walk_state;

bool pvm_is_stale_nan(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return bits == PVM_STALE_NAN_BITS;
}

static int64_t resolve_at(const eval_query *q, int kind, int64_t ms)
{
    if (kind == PVM_AT_START)
        return q->opts->start;
    if (kind == PVM_AT_END)
        return q->opts->end;
    return ms;
}

/* Returns 1 when the series matches every matcher, 0 if not, < 0 on a
 * regex engine error. */
static int series_matches(const pvm_vector_selector *vs, const pvm_series *s)
{
    for (size_t i = 0; i < vs->nmatchers; i++) {
        const pvm_matcher *m = &vs->matchers[i];
        const char *v = NULL;
        for (size_t j = 0; j < s->nlabels && !v; j++)
            if (strcmp(s->labels[j].name, m->name) == 0)
                v = s->labels[j].value;
        int r = pvm_matcher_match(m, v ? v : "", v ? strlen(v) : 0);
        if (r <= 0)
            return r;
    }
    return 1;
}

/* Copies the matching series of set into sel, points clipped to
 * [mint, maxt]. */
static int take_series(eval_query *q, eval_sel *sel, pvm_series_set *set,
                       const pvm_vector_selector *vs, int64_t mint,
                       int64_t maxt)
{
    sel->s = pvm_arena_calloc(q->a, set->n ? set->n : 1, sizeof(*sel->s));
    if (!sel->s)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < set->n; i++) {
        const pvm_series *ps = set->list[i];
        int r = series_matches(vs, ps);
        if (r < 0)
            return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "regular expression match limit exceeded");
        if (!r)
            continue;
        size_t n;
        const pvm_point *p = pvm_series_points(set, ps, &n);
        if (!p)
            return pvm_eval_nomem(q);
        size_t lo = 0, hi = n;
        while (lo < n && p[lo].t < mint)
            lo++;
        while (hi > lo && p[hi - 1].t > maxt)
            hi--;
        eval_series *es = &sel->s[sel->n++];
        es->labels = ps->labels;
        es->nlabels = ps->nlabels;
        es->pts = (pvm_point *)(p + lo);
        es->n = es->cap = hi - lo;
        es->shared = true;
    }
    sel->clean = pvm_arena_calloc(q->a, sel->n + 1, sizeof(*sel->clean));
    sel->nclean = pvm_arena_calloc(q->a, sel->n + 1, sizeof(*sel->nclean));
    return sel->clean && sel->nclean ? 0 : pvm_eval_nomem(q);
}

static int fetch_one(eval_query *q, const pvm_expr *e, const walk_state *w)
{
    const pvm_eval_opts *o = q->opts;
    const pvm_vector_selector *vs = &e->u.vs;
    /* The sample times looked up (ref in select_steps and the range
     * functions) run from first to last by the step, minus the offset, or
     * are the @ time: maxt is the last of them, so a plugin asked on a
     * grid anchored there computes exactly the values that are read. */
    int64_t start = w->first, end = w->last;
    if (vs->at_kind != PVM_AT_NONE)
        start = end = resolve_at(q, vs->at_kind, vs->at_ms);
    start -= (w->eval_range ? w->eval_range : q->lookback) - 1;
    start -= vs->offset_ms;
    end -= vs->offset_ms;

    pvm_fetch_request req = {
        .node = e,
        .vs = vs,
        .instant = o->step == 0 && !w->in_subquery,
        .time = w->first,
        .start = w->first,
        .end = w->last,
        .step = w->interval,
        .mint = start,
        .maxt = end,
        .range_ms = w->eval_range,
        .func = w->func,
    };
    pvm_series_set set;
    if (pvm_series_set_init(&set, q->a) < 0)
        return pvm_eval_nomem(q);
    int r = o->fetch ? o->fetch(o->fetch_ctx, &req, &set, q->err) : 0;
    if (r < 0) {
        if (!q->err->code)
            pvm_error_set(q->err, r, "fetching series failed");
        return r;
    }
    if (pvm_series_set_finish(&set) < 0)
        return pvm_eval_nomem(q);
    eval_sel *sel = &q->sels[q->nsels++];
    sel->node = e;
    return take_series(q, sel, &set, vs, start, end);
}

static int walk(eval_query *q, const pvm_expr *e, walk_state w)
{
    switch (e->kind) {
    case PVM_EXPR_VECTOR_SELECTOR: return fetch_one(q, e, &w);
    case PVM_EXPR_MATRIX_SELECTOR:
        w.eval_range = e->u.matrix.range_ms;
        return walk(q, e->u.matrix.vs, w);
    case PVM_EXPR_SUBQUERY: {
        /* a subquery without steps is never evaluated: its selectors keep
         * the outer window (fetched, not read) */
        int64_t first, last, step;
        if (pvm_eval_subquery_grid(q, &e->u.subquery, w.first, w.last, &first,
                                   &last, &step)) {
            w.first = first;
            w.last = last;
        }
        w.interval = step;
        w.in_subquery = true;
        return walk(q, e->u.subquery.expr, w);
    }
    case PVM_EXPR_PAREN: return walk(q, e->u.paren.expr, w);
    case PVM_EXPR_UNARY: return walk(q, e->u.unary.expr, w);
    case PVM_EXPR_BINARY: {
        int r = walk(q, e->u.binary.lhs, w);
        return r < 0 ? r : walk(q, e->u.binary.rhs, w);
    }
    case PVM_EXPR_AGGREGATE: {
        w.func = pvm_aggr_op_str(e->u.aggregate.op);
        if (e->u.aggregate.param) {
            int r = walk(q, e->u.aggregate.param, w);
            if (r < 0)
                return r;
        }
        return walk(q, e->u.aggregate.expr, w);
    }
    case PVM_EXPR_CALL:
        w.func = e->u.call.func->name;
        for (size_t i = 0; i < e->u.call.nargs; i++) {
            int r = walk(q, e->u.call.args[i], w);
            if (r < 0)
                return r;
        }
        return 0;
    default: return 0;
    }
}

static size_t count_selectors(const pvm_expr *e)
{
    switch (e->kind) {
    case PVM_EXPR_VECTOR_SELECTOR: return 1;
    case PVM_EXPR_MATRIX_SELECTOR: return count_selectors(e->u.matrix.vs);
    case PVM_EXPR_SUBQUERY: return count_selectors(e->u.subquery.expr);
    case PVM_EXPR_PAREN: return count_selectors(e->u.paren.expr);
    case PVM_EXPR_UNARY: return count_selectors(e->u.unary.expr);
    case PVM_EXPR_BINARY:
        return count_selectors(e->u.binary.lhs) +
               count_selectors(e->u.binary.rhs);
    case PVM_EXPR_AGGREGATE:
        return count_selectors(e->u.aggregate.expr) +
               (e->u.aggregate.param ? count_selectors(e->u.aggregate.param)
                                     : 0);
    case PVM_EXPR_CALL: {
        size_t n = 0;
        for (size_t i = 0; i < e->u.call.nargs; i++)
            n += count_selectors(e->u.call.args[i]);
        return n;
    }
    default: return 0;
    }
}

/* Fetches every selector of root once. */
int pvm_eval_fetch_all(eval_query *q, const pvm_expr *root)
{
    size_t n = count_selectors(root);
    q->sels = pvm_arena_calloc(q->a, n ? n : 1, sizeof(*q->sels));
    if (!q->sels)
        return pvm_eval_nomem(q);
    const pvm_eval_opts *o = q->opts;
    walk_state w = {.first = o->start, .interval = o->step > 0 ? o->step : 1};
    w.last = o->start + (o->end - o->start) / w.interval * w.interval;
    return walk(q, root, w);
}

eval_sel *pvm_eval_sel_find(eval_query *q, const pvm_expr *node)
{
    for (size_t i = 0; i < q->nsels; i++)
        if (q->sels[i].node == node)
            return &q->sels[i];
    pvm_eval_fail(q, PVM_ERR_INTERNAL, "selector was not fetched");
    return NULL;
}

/* The points of series i of s without stale markers (built once). */
int pvm_eval_sel_clean(eval_query *q, eval_sel *s, size_t i,
                       const pvm_point **pts, size_t *n)
{
    const eval_series *es = &s->s[i];
    if (!s->clean[i]) {
        size_t k = 0;
        for (size_t j = 0; j < es->n; j++)
            k += !pvm_is_stale_nan(es->pts[j].v);
        if (k == es->n) {
            s->clean[i] = es->pts;
        } else {
            pvm_point *p = pvm_arena_alloc(q->a, (k ? k : 1) * sizeof(*p));
            if (!p)
                return pvm_eval_nomem(q);
            k = 0;
            for (size_t j = 0; j < es->n; j++)
                if (!pvm_is_stale_nan(es->pts[j].v))
                    p[k++] = es->pts[j];
            s->clean[i] = p;
        }
        s->nclean[i] = k;
    }
    *pts = s->clean[i];
    *n = s->nclean[i];
    return 0;
}

/* The index of the first point of src at or after t (binary search). */
static size_t first_at_or_after(const eval_series *src, int64_t t)
{
    size_t lo = 0, hi = src->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (src->pts[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* If src has a point exactly at every step of c, none of them a stale
 * marker, the index of the first one (the selector's value is then those
 * points as they are); else -1. Only for selectors without offset and @. */
static long on_step_grid(const eval_ctx *c, const eval_series *src)
{
    size_t j = first_at_or_after(src, c->start);
    if (src->n - j < c->nsteps)
        return -1;
    const pvm_point *p = src->pts + j;
    int64_t ts = c->start;
    for (size_t k = 0; k < c->nsteps; k++, ts += c->interval)
        if (p[k].t != ts || pvm_is_stale_nan(p[k].v))
            return -1;
    return (long)j;
}

/* The sample of src at step ts (ref: the time it is looked up at, ts minus
 * the offset, or the @ time): the last point at or before ref, within
 * the lookback delta and not a stale marker. *j is the first point after
 * the previous ref, moved forward; NULL when there is none. */
static const pvm_point *sample_at(const eval_query *q, const eval_series *src,
                                  int64_t ref, size_t *j)
{
    while (*j < src->n && src->pts[*j].t <= ref)
        (*j)++;
    if (*j == 0)
        return NULL;
    const pvm_point *p = &src->pts[*j - 1];
    if (p->t <= ref - q->lookback || pvm_is_stale_nan(p->v))
        return NULL;
    return p;
}

/* Evaluates src at every step of c into dst (an exactly sized array).
 * Returns the number of points, or a negative status. */
static long select_steps(eval_ctx *c, const pvm_vector_selector *vs,
                         bool orig_ts, const eval_series *src,
                         eval_series *dst)
{
    eval_query *q = c->q;
    bool has_at = vs->at_kind != PVM_AT_NONE;
    int64_t at = has_at ? resolve_at(q, vs->at_kind, vs->at_ms) : 0;
    size_t n = 0, j = 0;
    for (size_t k = 0; k < c->nsteps; k++) {
        int64_t ref = (has_at ? at : pvm_eval_step_ts(c, k)) - vs->offset_ms;
        n += sample_at(q, src, ref, &j) != NULL;
        if (eval_tick(q) < 0)
            return q->err->code;
    }
    if (!n)
        return 0;
    dst->pts = pvm_arena_alloc(q->a, n * sizeof(*dst->pts));
    if (!dst->pts)
        return pvm_eval_nomem(q);
    dst->cap = n;
    j = 0;
    for (size_t k = 0; k < c->nsteps; k++) {
        int64_t ts = pvm_eval_step_ts(c, k);
        if (eval_tick(q) < 0)
            return q->err->code;
        const pvm_point *p = sample_at(q, src,
                                       (has_at ? at : ts) - vs->offset_ms, &j);
        if (p)
            dst->pts[dst->n++] = (pvm_point){ts, orig_ts
                                                     ? (double)p->t / 1000.0
                                                     : p->v};
    }
    return (long)n;
}

/* An instant vector selector over all steps. With orig_ts the value is
 * the sample's own timestamp in seconds (for timestamp()). A series with
 * a point at every step is shared, not copied (eval_series.shared). */
int pvm_eval_vector_selector(eval_ctx *c, const pvm_expr *e, bool orig_ts,
                             eval_value *out)
{
    eval_query *q = c->q;
    const pvm_vector_selector *vs = &e->u.vs;
    eval_sel *sel = pvm_eval_sel_find(q, e);
    if (!sel)
        return PVM_ERR_INTERNAL;
    bool plain = !orig_ts && vs->at_kind == PVM_AT_NONE && !vs->offset_ms;
    out->type = PVM_VT_VECTOR;
    for (size_t i = 0; i < sel->n; i++) {
        const eval_series *src = &sel->s[i];
        eval_series tmp = {.labels = src->labels, .nlabels = src->nlabels};
        long j = plain ? on_step_grid(c, src) : -1;
        if (j >= 0) {
            tmp.pts = src->pts + j;
            tmp.n = tmp.cap = c->nsteps;
            tmp.shared = true;
        } else {
            long n = select_steps(c, vs, orig_ts, src, &tmp);
            if (n < 0)
                return (int)n;
        }
        if (tmp.n) {
            eval_series *dst = pvm_eval_matrix_add(q, &out->m, src->labels,
                                                   src->nlabels, false);
            if (!dst)
                return PVM_ERR_NOMEM;
            *dst = tmp;
            if (pvm_eval_count_samples(c, tmp.n) < 0)
                return q->err->code;
        }
        if (pvm_eval_check(c) < 0)
            return q->err->code;
    }
    return 0;
}

/* A range selector as a value (instant queries only): the raw window. */
int pvm_eval_matrix_selector(eval_ctx *c, const pvm_expr *e, eval_value *out)
{
    eval_query *q = c->q;
    const pvm_expr *vse = e->u.matrix.vs;
    const pvm_vector_selector *vs = &vse->u.vs;
    eval_sel *sel = pvm_eval_sel_find(q, vse);
    if (!sel)
        return PVM_ERR_INTERNAL;
    int64_t ref = vs->at_kind != PVM_AT_NONE
                      ? resolve_at(q, vs->at_kind, vs->at_ms)
                      : c->start;
    ref -= vs->offset_ms;
    int64_t mint = ref - e->u.matrix.range_ms;
    out->type = PVM_VT_MATRIX;
    for (size_t i = 0; i < sel->n; i++) {
        const pvm_point *p;
        size_t n;
        if (pvm_eval_sel_clean(q, sel, i, &p, &n) < 0)
            return PVM_ERR_NOMEM;
        eval_series *dst = NULL;
        if (eval_work(q, n + 1) < 0)
            return q->err->code;
        for (size_t j = 0; j < n; j++) {
            if (p[j].t <= mint || p[j].t > ref)
                continue;
            if (!dst) {
                dst = pvm_eval_matrix_add(q, &out->m, sel->s[i].labels,
                                          sel->s[i].nlabels, false);
                if (!dst)
                    return PVM_ERR_NOMEM;
            }
            if (pvm_eval_series_push(q, dst, p[j].t, p[j].v) < 0 ||
                pvm_eval_count_samples(c, 1) < 0)
                return q->err->code;
        }
    }
    return 0;
}
