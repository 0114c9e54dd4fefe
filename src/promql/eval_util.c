/* eval_util.c: helpers of the PromQL evaluator: errors, series and
 * matrices in the arena, and numerics (Kahan sums, quantiles). Label sets
 * are in eval_labels.c, annotations in eval_annot.c, the per-step output
 * collector in eval_out.c. */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

int pvm_eval_nomem(eval_query *q)
{
    return pvm_error_set(q->err, PVM_ERR_NOMEM,
                         "query exceeded its memory limit");
}

int pvm_eval_fail(eval_query *q, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[sizeof(q->err->msg)];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return pvm_error_set(q->err, code, "%s", buf);
}

eval_series *pvm_eval_matrix_add(eval_query *q, eval_matrix *m,
                                 const pvm_label *labels, size_t n,
                                 bool drop_name)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        eval_series *s = pvm_arena_realloc(q->a, m->s, m->cap * sizeof(*s),
                                           cap * sizeof(*s));
        if (!s) {
            pvm_eval_nomem(q);
            return NULL;
        }
        m->s = s;
        m->cap = cap;
    }
    eval_series *s = &m->s[m->n++];
    memset(s, 0, sizeof(*s));
    s->labels = labels;
    s->nlabels = n;
    s->drop_name = drop_name;
    return s;
}

/* Gives s its own copy of shared points, before they are modified. */
int pvm_eval_series_own(eval_query *q, eval_series *s)
{
    if (!s->shared)
        return 0;
    pvm_point *p = pvm_arena_alloc(q->a, (s->n ? s->n : 1) * sizeof(*p));
    if (!p)
        return pvm_eval_nomem(q);
    if (s->n)
        memcpy(p, s->pts, s->n * sizeof(*p));
    s->pts = p;
    s->cap = s->n;
    s->shared = false;
    return 0;
}

int pvm_eval_series_push(eval_query *q, eval_series *s, int64_t t, double v)
{
    if (s->shared && pvm_eval_series_own(q, s) < 0)
        return PVM_ERR_NOMEM;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        pvm_point *p = pvm_arena_realloc(q->a, s->pts, s->cap * sizeof(*p),
                                         cap * sizeof(*p));
        if (!p)
            return pvm_eval_nomem(q);
        s->pts = p;
        s->cap = cap;
    }
    s->pts[s->n++] = (pvm_point){t, v};
    return 0;
}

size_t pvm_eval_matrix_points(const eval_matrix *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += m->s[i].n;
    return n;
}

/* ---- numerics --------------------------------------------------------- */

static int cmp_double_nan_first(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x))
        return isnan(y) ? 0 : -1;
    if (isnan(y))
        return 1;
    return x < y ? -1 : x > y;
}

void pvm_eval_sort_doubles(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double_nan_first);
}

/* Prometheus' quantile(): v is sorted in place. */
double pvm_eval_quantile(double q, double *v, size_t n)
{
    if (n == 0 || isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    pvm_eval_sort_doubles(v, n);
    double rank = q * (double)(n - 1);
    double lo = fmax(0, floor(rank));
    double hi = fmin((double)n - 1, lo + 1);
    double w = rank - floor(rank);
    return v[(size_t)lo] * (1 - w) + v[(size_t)hi] * w;
}
