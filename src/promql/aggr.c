/* aggr.c: aggregation operators (sum avg count min max group stddev
 * stdvar quantile topk bottomk limitk limit_ratio count_values) with by
 * and without, step by step over the input series as Prometheus'
 * rangeEvalAgg does, with its float semantics (Kahan sums, incremental
 * mean on overflow, NaN ordering). */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "engine_internal.h"

/* Accumulator of one group at one step. */
typedef struct group {
    bool seen;        /* has a sample at this step */
    double value;     /* running value */
    double mean;      /* running mean (avg, stddev) */
    double comp;      /* Kahan compensation */
    double count;     /* samples */
    bool incremental; /* avg switched to incremental mean */
    bool drop_name;   /* some input had drop_name */
    size_t *idx;      /* topk/bottomk/limitk: chosen samples */
    size_t nidx;      /* number chosen */
    double *vals;     /* quantile: the values */
} group;

/* Parses a float like Go's strconv.ParseFloat (no spaces); 0 or -1. */
int pvm_eval_parse_float(const char *s, double *v)
{
    if (!*s || *s == ' ' || *s == '\t' || *s == '\n')
        return -1;
    char *end;
    *v = strtod(s, &end);
    return *end ? -1 : 0;
}

static void group_add(group *g, pvm_aggr_op op, double f)
{
    switch (op) {
    case PVM_AGGR_SUM:
        g->value = pvm_eval_kahan_inc(f, g->value, &g->comp);
        break;
    case PVM_AGGR_AVG:
        g->count++;
        if (!g->incremental) {
            double c = g->comp;
            double nv = pvm_eval_kahan_inc(f, g->value, &c);
            if (!isinf(nv)) {
                g->value = nv;
                g->comp = c;
                break;
            }
            g->incremental = true;
            g->mean = g->value / (g->count - 1);
            g->comp /= g->count - 1;
        }
        {
            double q = (g->count - 1) / g->count;
            g->comp *= q;
            g->mean = pvm_eval_kahan_inc(f / g->count, q * g->mean, &g->comp);
        }
        break;
    case PVM_AGGR_MAX:
        if (g->value < f || isnan(g->value))
            g->value = f;
        break;
    case PVM_AGGR_MIN:
        if (g->value > f || isnan(g->value))
            g->value = f;
        break;
    case PVM_AGGR_COUNT:
    case PVM_AGGR_QUANTILE: g->count++; break;
    case PVM_AGGR_STDDEV:
    case PVM_AGGR_STDVAR: {
        g->count++;
        double delta = f - g->mean;
        g->mean += delta / g->count;
        g->value += delta * (f - g->mean);
        break;
    }
    default: break;
    }
}

static void group_init(group *g, pvm_aggr_op op, double f, bool drop)
{
    double *vals = g->vals;
    memset(g, 0, sizeof(*g));
    g->vals = vals;
    g->seen = true;
    g->value = f;
    g->mean = f;
    g->count = 1;
    g->drop_name = drop;
    if (op == PVM_AGGR_STDDEV || op == PVM_AGGR_STDVAR)
        g->value = isnan(f) || isinf(f) ? NAN : 0;
    else if (op == PVM_AGGR_GROUP)
        g->value = 1;
}

static double group_result(group *g, pvm_aggr_op op, double param)
{
    switch (op) {
    case PVM_AGGR_AVG:
        if (g->incremental)
            return g->mean + g->comp;
        return g->value / g->count + g->comp / g->count;
    case PVM_AGGR_COUNT: return g->count;
    case PVM_AGGR_STDVAR: return g->value / g->count;
    case PVM_AGGR_STDDEV: return sqrt(g->value / g->count);
    case PVM_AGGR_QUANTILE:
        return pvm_eval_quantile(param, g->vals, (size_t)g->count);
    case PVM_AGGR_SUM: return isinf(g->value) ? g->value : g->value + g->comp;
    default: return g->value;
    }
}

/* Output labels of the group of a series. */
static int group_labels(eval_query *q, const pvm_aggregate *ag,
                        const eval_series *s, const pvm_label **l, size_t *n)
{
    if (ag->without)
        return pvm_eval_labels_filter(q, s->labels, s->nlabels, &ag->grouping,
                                      false, true, l, n);
    if (!ag->grouping.n) {
        *l = NULL;
        *n = 0;
        return 0;
    }
    return pvm_eval_labels_filter(q, s->labels, s->nlabels, &ag->grouping,
                                  true, false, l, n);
}

/* Assigns each input series to a group; *ngroups distinct groups. */
static int make_groups(eval_query *q, const pvm_aggregate *ag,
                       const eval_matrix *in, size_t *gidx, eval_matrix *out)
{
    pvm_idxmap tab; /* group label set -> index in out */
    if (pvm_idxmap_init(&tab, q->a, in->n) < 0)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < in->n; i++) {
        pvm_labelset k;
        if (eval_tick(q) < 0)
            return q->err->code;
        if (group_labels(q, ag, &in->s[i], &k.labels, &k.n) < 0)
            return PVM_ERR_NOMEM;
        size_t g = pvm_idxmap_put(&tab, pvm_labels_hash(k.labels, k.n),
                                  pvm_eval_series_key_eq, out->s, &k, out->n);
        if (g == PVM_IDXMAP_NONE)
            return pvm_eval_nomem(q);
        if (g == out->n && !pvm_eval_matrix_add(q, out, k.labels, k.n, false))
            return PVM_ERR_NOMEM;
        gidx[i] = g;
    }
    return 0;
}

/* Is sample a "better" than b for topk (bottomk: reverse)? NaN loses. */
static bool better(double a, double b, bool top)
{
    if (isnan(b))
        return !isnan(a);
    if (isnan(a))
        return false;
    return top ? a > b : a < b;
}

static int cmp_k_desc(const void *x, const void *y, void *arg)
{
    const double *v = arg;
    double a = v[*(const size_t *)x], b = v[*(const size_t *)y];
    if (better(a, b, true))
        return -1;
    if (better(b, a, true))
        return 1;
    return 0;
}

static int cmp_k_asc(const void *x, const void *y, void *arg)
{
    const double *v = arg;
    double a = v[*(const size_t *)x], b = v[*(const size_t *)y];
    if (better(a, b, false))
        return -1;
    if (better(b, a, false))
        return 1;
    return 0;
}

/* topk/bottomk keep the chosen samples of a group in a binary heap whose
 * root is the worst one (Prometheus' vectorByValueHeap and its reverse,
 * with Go's container/heap moves), so each sample costs O(log k), not
 * O(k). worse(a, b): a would be dropped before b. */
static bool worse(const double *vals, size_t a, size_t b, bool top)
{
    return better(vals[b], vals[a], top);
}

static void heap_up(size_t *h, size_t j, const double *vals, bool top)
{
    while (j > 0) {
        size_t i = (j - 1) / 2;
        if (!worse(vals, h[j], h[i], top))
            break;
        size_t t = h[i];
        h[i] = h[j];
        h[j] = t;
        j = i;
    }
}

static void heap_down(size_t *h, size_t n, const double *vals, bool top)
{
    size_t i = 0;
    for (;;) {
        size_t j = 2 * i + 1;
        if (j >= n)
            break;
        if (j + 1 < n && worse(vals, h[j + 1], h[j], top))
            j++;
        if (!worse(vals, h[j], h[i], top))
            break;
        size_t t = h[i];
        h[i] = h[j];
        h[j] = t;
        i = j;
    }
}

/* Hash-based sampling of limit_ratio (Prometheus' HashRatioSampler). */
static bool ratio_keep(const eval_sample *s, double r)
{
    double off = (double)pvm_labels_hash(s->labels, s->nlabels) /
                 18446744073709551615.0;
    return r >= 0 ? off < r : off >= 1.0 + r;
}

static int step_k(eval_ctx *c, const pvm_aggregate *ag, group *groups,
                  size_t ngroups, const size_t *gidx, const size_t *gsize,
                  eval_sample *sv, size_t ns, double param, size_t nin,
                  double *vals, eval_out *out, int64_t ts)
{
    eval_query *q = c->q;
    pvm_aggr_op op = ag->op;
    int64_t k = 0;
    double r = 0;
    if (op == PVM_AGGR_LIMIT_RATIO) {
        if (param == 0)
            return 0;
        r = param < -1 ? -1 : param > 1 ? 1 : param;
    } else {
        k = (int64_t)param;
        if (k > (int64_t)nin)
            k = (int64_t)nin;
        if (k < 1)
            return 0;
    }
    bool top = op == PVM_AGGR_TOPK;
    for (size_t g = 0; g < ngroups; g++)
        groups[g].nidx = 0, groups[g].seen = false;
    if (eval_work(q, ngroups + ns) < 0)
        return q->err->code;
    for (size_t i = 0; i < ns; i++) {
        size_t gi = gidx[sv[i].series];
        group *g = &groups[gi];
        vals[i] = sv[i].v;
        if (!g->idx) {
            /* at most the group's series are kept at one step */
            g->idx = pvm_arena_alloc(q->a, (gsize[gi] + 1) * sizeof(size_t));
            if (!g->idx)
                return pvm_eval_nomem(q);
        }
        g->seen = true;
        if (op == PVM_AGGR_LIMIT_RATIO) {
            if (ratio_keep(&sv[i], r))
                g->idx[g->nidx++] = i;
        } else if (op == PVM_AGGR_LIMITK) {
            if ((int64_t)g->nidx < k)
                g->idx[g->nidx++] = i;
        } else if ((int64_t)g->nidx < k) {
            g->idx[g->nidx++] = i;
            heap_up(g->idx, g->nidx - 1, vals, top);
        } else if (better(sv[i].v, vals[g->idx[0]], top)) {
            /* replaces the worst kept sample, the heap's root */
            g->idx[0] = i;
            heap_down(g->idx, g->nidx, vals, top);
        }
    }
    for (size_t gi = 0; gi < ngroups; gi++) {
        group *g = &groups[gi];
        if (!g->seen)
            continue;
        if (op == PVM_AGGR_TOPK)
            qsort_r(g->idx, g->nidx, sizeof(size_t), cmp_k_desc, vals);
        else if (op == PVM_AGGR_BOTTOMK)
            qsort_r(g->idx, g->nidx, sizeof(size_t), cmp_k_asc, vals);
        for (size_t j = 0; j < g->nidx; j++) {
            const eval_sample *s = &sv[g->idx[j]];
            if (pvm_eval_out_add(out, s->labels, s->nlabels, s->drop_name, ts,
                                 s->v) < 0)
                return q->err->code;
        }
    }
    return 0;
}

static int count_values(eval_ctx *c, const pvm_expr *e, eval_value *in,
                        const char *label, eval_value *out)
{
    eval_query *q = c->q;
    const pvm_aggregate *ag = &e->u.aggregate;
    eval_out o;
    if (pvm_eval_out_init(c, &o, in->m.n) < 0)
        return PVM_ERR_NOMEM;
    size_t n1 = in->m.n + 1;
    size_t *cur = pvm_arena_calloc(q->a, n1, sizeof(*cur));
    eval_sample *sv = pvm_arena_alloc(q->a, n1 * sizeof(*sv));
    pvm_labelset *gl = pvm_arena_alloc(q->a, n1 * sizeof(*gl));
    double *cnt = pvm_arena_alloc(q->a, n1 * sizeof(*cnt));
    pvm_idxmap tab; /* the groups of a step by label set -> index in gl */
    pvm_label_list grouping = ag->grouping;
    if (!cur || !sv || !gl || !cnt || pvm_idxmap_init(&tab, q->a, n1) < 0)
        return pvm_eval_nomem(q);
    if (!ag->without) {
        const char **names = pvm_arena_alloc(q->a, (grouping.n + 1) *
                                                       sizeof(char *));
        if (!names)
            return pvm_eval_nomem(q);
        if (grouping.n)
            memcpy(names, grouping.names, grouping.n * sizeof(char *));
        names[grouping.n++] = label;
        grouping.names = names;
    }
    pvm_aggregate ag2 = *ag;
    ag2.grouping = grouping;
    for (size_t k = 0; k < c->nsteps; k++) {
        int64_t ts = pvm_eval_step_ts(c, k);
        size_t ns, ng = 0;
        if (pvm_eval_gather(c, &in->m, cur, ts, sv, &ns) < 0 ||
            eval_work(q, ns) < 0)
            return q->err->code;
        for (size_t i = 0; i < ns; i++) {
            char buf[400];
            pvm_format_float_f(buf, sizeof(buf), sv[i].v);
            char *val = pvm_arena_strdup(q->a, buf);
            eval_series tmp = {0};
            if (!val ||
                pvm_eval_labels_set(q, sv[i].labels, sv[i].nlabels, label, val,
                                    &tmp.labels, &tmp.nlabels) < 0)
                return pvm_eval_nomem(q);
            pvm_labelset key;
            if (group_labels(q, &ag2, &tmp, &key.labels, &key.n) < 0)
                return PVM_ERR_NOMEM;
            size_t g = pvm_idxmap_put(&tab, pvm_labels_hash(key.labels, key.n),
                                      pvm_eval_labelset_key_eq, gl, &key, ng);
            if (g == PVM_IDXMAP_NONE)
                return pvm_eval_nomem(q);
            if (g == ng) {
                gl[ng] = key;
                cnt[ng++] = 0;
            }
            cnt[g]++;
        }
        pvm_idxmap_clear(&tab);
        for (size_t g = 0; g < ng; g++)
            if (pvm_eval_out_add(&o, gl[g].labels, gl[g].n, false, ts,
                                 cnt[g]) < 0)
                return q->err->code;
    }
    out->type = PVM_VT_VECTOR;
    out->m = o.m;
    return 0;
}

/* Label names are valid when non-empty UTF-8 (Prometheus 3.x). */
static bool valid_label_name(const char *s)
{
    return *s && pvm_utf8_is_valid(s, strlen(s));
}

/* Checks topk/limit parameters over all steps as Prometheus does. */
static int check_params(eval_ctx *c, const pvm_expr *e, const double *p,
                        bool *empty)
{
    eval_query *q = c->q;
    pvm_aggr_op op = e->u.aggregate.op;
    double mx = -INFINITY, mn = INFINITY;
    bool nan = false;
    if (eval_work(q, c->nsteps) < 0)
        return q->err->code;
    for (size_t k = 0; k < c->nsteps; k++) {
        nan |= isnan(p[k]);
        if (!isnan(p[k])) {
            mx = fmax(mx, p[k]);
            mn = fmin(mn, p[k]);
        }
    }
    const pvm_expr *pe = e->u.aggregate.param;
    char b[40];
    *empty = false;
    switch (op) {
    case PVM_AGGR_TOPK:
    case PVM_AGGR_BOTTOMK:
    case PVM_AGGR_LIMITK:
        if (mx < 1 && !nan) {
            *empty = true;
            return 0;
        }
        if (nan)
            return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "Parameter value is NaN");
        if (mn <= -9223372036854775808.0)
            return pvm_format_float_g(b, sizeof(b), mn),
                   pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "Scalar value %s underflows int64", b);
        if (mx >= 9223372036854775807.0)
            return pvm_format_float_g(b, sizeof(b), mx),
                   pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "Scalar value %s overflows int64", b);
        return 0;
    case PVM_AGGR_LIMIT_RATIO:
        if (mx == 0 && mn == 0 && !nan) {
            *empty = true;
            return 0;
        }
        if (nan)
            return pvm_eval_fail(q, PVM_ERR_EXECUTION, "Ratio value is NaN");
        if (mx > 1)
            pvm_format_float_g(b, sizeof(b), mx),
                pvm_eval_annotate(
                    q, true, pe,
                    "PromQL warning: ratio value "
                    "should be between -1 and 1, got %s, capping "
                    "to 1",
                    b);
        if (mn < -1)
            pvm_format_float_g(b, sizeof(b), mn),
                pvm_eval_annotate(
                    q, true, pe,
                    "PromQL warning: ratio value "
                    "should be between -1 and 1, got %s, capping "
                    "to -1",
                    b);
        return 0;
    case PVM_AGGR_QUANTILE:
        if (nan)
            pvm_eval_annotate(q, true, pe,
                              "PromQL warning: quantile value "
                              "should be between 0 and 1, got NaN");
        if (mx > 1)
            pvm_format_float_g(b, sizeof(b), mx),
                pvm_eval_annotate(q, true, pe,
                                  "PromQL warning: quantile value "
                                  "should be between 0 and 1, got %s",
                                  b);
        if (mn < 0)
            pvm_format_float_g(b, sizeof(b), mn),
                pvm_eval_annotate(q, true, pe,
                                  "PromQL warning: quantile value "
                                  "should be between 0 and 1, got %s",
                                  b);
        return 0;
    default: return 0;
    }
}

static bool is_k_op(pvm_aggr_op op)
{
    return op == PVM_AGGR_TOPK || op == PVM_AGGR_BOTTOMK ||
           op == PVM_AGGR_LIMITK || op == PVM_AGGR_LIMIT_RATIO;
}

static int step_plain(eval_ctx *c, const pvm_aggregate *ag, group *groups,
                      eval_matrix *gm, const size_t *gidx, const size_t *gsize,
                      eval_sample *sv, size_t ns, double param, int64_t ts)
{
    eval_query *q = c->q;
    if (eval_work(q, gm->n + ns) < 0)
        return q->err->code;
    for (size_t g = 0; g < gm->n; g++)
        groups[g].seen = false;
    for (size_t i = 0; i < ns; i++) {
        size_t gi = gidx[sv[i].series];
        group *g = &groups[gi];
        if (!g->seen) {
            group_init(g, ag->op, sv[i].v, sv[i].drop_name);
        } else {
            g->drop_name |= sv[i].drop_name;
            group_add(g, ag->op, sv[i].v);
        }
        if (ag->op == PVM_AGGR_QUANTILE) {
            if (!g->vals) {
                /* a step has at most one sample per series of the group */
                g->vals = pvm_arena_alloc(q->a,
                                          (gsize[gi] + 1) * sizeof(double));
                if (!g->vals)
                    return pvm_eval_nomem(q);
            }
            g->vals[(size_t)g->count - 1] = sv[i].v;
        }
    }
    for (size_t gi = 0; gi < gm->n; gi++) {
        group *g = &groups[gi];
        if (!g->seen)
            continue;
        eval_series *s = &gm->s[gi];
        s->drop_name = g->drop_name;
        if (pvm_eval_series_push(q, s, ts, group_result(g, ag->op, param)) < 0)
            return PVM_ERR_NOMEM;
    }
    return 0;
}

int pvm_eval_aggregate(eval_ctx *c, const pvm_expr *e, eval_value *out)
{
    eval_query *q = c->q;
    const pvm_aggregate *ag = &e->u.aggregate;
    double *param = NULL;
    int r;
    if (ag->op == PVM_AGGR_COUNT_VALUES) {
        const char *label = pvm_eval_unparen(ag->param)->u.string.value;
        if (!valid_label_name(label)) {
            char *qs = pvm_eval_go_quote(q, label, strlen(label));
            return qs ? pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                      "invalid label name %s", qs)
                      : PVM_ERR_NOMEM;
        }
    } else if (ag->param &&
               (r = pvm_eval_scalar_steps(c, ag->param, &param)) < 0)
        return r;
    eval_value in;
    if ((r = pvm_eval_node(c, ag->expr, &in)) < 0)
        return r;
    if (ag->op == PVM_AGGR_COUNT_VALUES)
        return count_values(c, e, &in,
                            pvm_eval_unparen(ag->param)->u.string.value, out);
    bool empty = false;
    if (param && (r = check_params(c, e, param, &empty)) < 0)
        return r;
    out->type = PVM_VT_VECTOR;
    if (empty)
        return 0;
    size_t *gidx = pvm_arena_alloc(q->a, (in.m.n + 1) * sizeof(*gidx));
    size_t *cur = pvm_arena_calloc(q->a, in.m.n + 1, sizeof(*cur));
    eval_sample *sv = pvm_arena_alloc(q->a, (in.m.n + 1) * sizeof(*sv));
    double *vals = pvm_arena_alloc(q->a, (in.m.n + 1) * sizeof(*vals));
    eval_matrix gm = {0};
    if (!gidx || !cur || !sv || !vals)
        return pvm_eval_nomem(q);
    if ((r = make_groups(q, ag, &in.m, gidx, &gm)) < 0)
        return r;
    group *groups = pvm_arena_calloc(q->a, gm.n + 1, sizeof(*groups));
    size_t *gsize = pvm_arena_calloc(q->a, gm.n + 1, sizeof(*gsize));
    eval_out o;
    if (!groups || !gsize || pvm_eval_out_init(c, &o, in.m.n) < 0)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < in.m.n; i++)
        gsize[gidx[i]]++;
    for (size_t k = 0; k < c->nsteps; k++) {
        int64_t ts = pvm_eval_step_ts(c, k);
        size_t ns;
        if (pvm_eval_gather(c, &in.m, cur, ts, sv, &ns) < 0)
            return q->err->code;
        double p = param ? param[k] : 0;
        if (is_k_op(ag->op))
            r = step_k(c, ag, groups, gm.n, gidx, gsize, sv, ns, p, in.m.n,
                       vals, &o, ts);
        else
            r = step_plain(c, ag, groups, &gm, gidx, gsize, sv, ns, p, ts);
        if (r < 0 || pvm_eval_check(c) < 0)
            return q->err->code ? q->err->code : r;
    }
    if (is_k_op(ag->op)) {
        out->m = o.m;
        return 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < gm.n; i++)
        if (gm.s[i].n)
            gm.s[k++] = gm.s[i];
    gm.n = k;
    out->m = gm;
    return 0;
}
