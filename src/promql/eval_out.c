/* eval_out.c: the per-step output collector of the PromQL evaluator: the
 * series of an instant or range result, built step by step. */

#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

int pvm_eval_out_init(eval_ctx *c, eval_out *o, size_t hint)
{
    memset(o, 0, sizeof(*o));
    o->ctx = c;
    o->instant = c->nsteps == 1;
    if (o->instant)
        return 0;
    if (pvm_idxmap_init(&o->table, c->q->a, hint > 32 ? hint : 32) < 0)
        return pvm_eval_nomem(c->q);
    return 0;
}

/* Adds a sample of step ts to the series with these labels; in a range
 * evaluation a second sample for one series at one step is Prometheus'
 * "vector cannot contain metrics with the same labelset". */
int pvm_eval_out_add(eval_out *o, const pvm_label *labels, size_t n,
                     bool drop_name, int64_t ts, double v)
{
    eval_query *q = o->ctx->q;
    if (o->instant) {
        eval_series *s = pvm_eval_matrix_add(q, &o->m, labels, n, drop_name);
        if (!s)
            return PVM_ERR_NOMEM;
        return pvm_eval_series_push(q, s, ts, v);
    }
    /* Growing rehashes every series: count it as work (the deadline). */
    if ((o->table.n + 1) * 2 > o->table.cap && eval_work(q, o->m.n) < 0)
        return q->err->code;
    pvm_labelset key = {labels, n, 0};
    size_t i = pvm_idxmap_put(&o->table, pvm_labels_hash(labels, n),
                              pvm_eval_series_key_eq, o->m.s, &key, o->m.n);
    if (i == PVM_IDXMAP_NONE)
        return pvm_eval_nomem(q);
    eval_series *s = &o->m.s[i];
    if (i < o->m.n) {
        if (s->n && s->pts[s->n - 1].t == ts)
            return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "vector cannot contain metrics with the "
                                 "same labelset");
        return pvm_eval_series_push(q, s, ts, v);
    }
    s = pvm_eval_matrix_add(q, &o->m, labels, n, drop_name);
    if (!s)
        return PVM_ERR_NOMEM;
    return pvm_eval_series_push(q, s, ts, v);
}

static int cmp_point(const void *a, const void *b)
{
    const pvm_point *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_series_idx(const void *a, const void *b, void *arg)
{
    const eval_series *s = arg;
    const eval_series *x = &s[*(const size_t *)a], *y = &s[*(const size_t *)b];
    int c = pvm_labels_compare(x->labels, x->nlabels, y->labels, y->nlabels);
    if (c)
        return c;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Prometheus' mergeSeriesWithSameLabelset: series whose label sets became
 * equal are merged; two points at one time fail the query. Keeps the
 * order of first appearance. */
int pvm_eval_merge_same_labels(eval_query *q, eval_matrix *m)
{
    if (m->n < 2)
        return 0;
    size_t *idx = pvm_arena_alloc(q->a, m->n * sizeof(*idx));
    if (!idx)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < m->n; i++)
        idx[i] = i;
    if (eval_work(q, m->n) < 0)
        return q->err->code;
    qsort_r(idx, m->n, sizeof(*idx), cmp_series_idx, m->s);
    if (eval_work(q, m->n) < 0)
        return q->err->code;
    bool dup = false;
    for (size_t i = 1; i < m->n && !dup; i++) {
        const eval_series *x = &m->s[idx[i - 1]], *y = &m->s[idx[i]];
        dup = pvm_labels_equal(x->labels, x->nlabels, y->labels, y->nlabels);
    }
    if (!dup)
        return 0;
    bool *gone = pvm_arena_calloc(q->a, m->n, sizeof(*gone));
    if (!gone)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < m->n;) {
        size_t j = i + 1;
        eval_series *base = &m->s[idx[i]];
        while (j < m->n &&
               pvm_labels_equal(base->labels, base->nlabels,
                                m->s[idx[j]].labels, m->s[idx[j]].nlabels)) {
            eval_series *o = &m->s[idx[j]];
            if (eval_work(q, o->n + 1) < 0)
                return q->err->code;
            for (size_t k = 0; k < o->n; k++)
                if (pvm_eval_series_push(q, base, o->pts[k].t, o->pts[k].v) <
                    0)
                    return PVM_ERR_NOMEM;
            gone[idx[j]] = true;
            j++;
        }
        if (j > i + 1) {
            qsort(base->pts, base->n, sizeof(*base->pts), cmp_point);
            for (size_t k = 1; k < base->n; k++)
                if (base->pts[k].t == base->pts[k - 1].t)
                    return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                         "vector cannot contain metrics with "
                                         "the same labelset");
        }
        i = j;
    }
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!gone[i])
            m->s[k++] = m->s[i];
    m->n = k;
    return 0;
}

/* Does m hold two series with equal label sets? Expected linear time: a
 * hash table of series indices (the instant-vector check of Prometheus'
 * "vector cannot contain metrics with the same labelset"). */
int pvm_eval_has_same_labels(eval_query *q, const eval_matrix *m, bool *dup)
{
    *dup = false;
    if (m->n < 2)
        return 0;
    pvm_idxmap tab;
    if (pvm_idxmap_init(&tab, q->a, m->n) < 0)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < m->n; i++) {
        const eval_series *s = &m->s[i];
        if (eval_tick(q) < 0)
            return q->err->code;
        pvm_labelset key = {s->labels, s->nlabels, 0};
        size_t at = pvm_idxmap_put(&tab,
                                   pvm_labels_hash(s->labels, s->nlabels),
                                   pvm_eval_series_key_eq, m->s, &key, i);
        if (at == PVM_IDXMAP_NONE)
            return pvm_eval_nomem(q);
        if (at != i) {
            *dup = true;
            return 0;
        }
    }
    return 0;
}

/* A buffer of n doubles for one window function call, reused (grown) from
 * call to call instead of a new arena block per step. Valid until the
 * next call. */
double *pvm_eval_scratch(eval_query *q, size_t n)
{
    if (n > q->scratch_cap) {
        size_t cap = q->scratch_cap ? q->scratch_cap : 64;
        while (cap < n)
            cap *= 2;
        double *p = pvm_arena_alloc(q->a, cap * sizeof(*p));
        if (!p) {
            pvm_eval_nomem(q);
            return NULL;
        }
        q->scratch = p;
        q->scratch_cap = cap;
    }
    return q->scratch;
}

/* Gathers the samples of step ts: cursor[i] walks series i forward. */
int pvm_eval_gather(const eval_ctx *c, const eval_matrix *m, size_t *cursor,
                    int64_t ts, eval_sample *out, size_t *n)
{
    size_t k = 0;
    *n = 0;
    if (eval_work(c->q, m->n + 1) < 0)
        return c->q->err->code;
    for (size_t i = 0; i < m->n; i++) {
        const eval_series *s = &m->s[i];
        size_t j = cursor[i];
        while (j < s->n && s->pts[j].t < ts)
            j++;
        cursor[i] = j;
        if (j < s->n && s->pts[j].t == ts) {
            out[k++] = (eval_sample){s->labels, s->nlabels, s->pts[j].v,
                                     s->drop_name, i};
            cursor[i] = j + 1;
        }
    }
    *n = k;
    return 0;
}
