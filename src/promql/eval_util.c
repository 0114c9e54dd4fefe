/* eval_util.c: helpers of the PromQL evaluator: series and matrices in
 * the arena, label-set operations (hash, compare, keep/drop, signatures),
 * the per-step output collector, annotations and Go-compatible number
 * formatting for messages. */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "hashmap.h"
#include "strbuf.h"

#define NAME_LABEL "__name__"

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

/* ---- label sets ---------------------------------------------------- */

/* Prometheus' schema.IsMetadataLabel: __name__, __type__, __unit__. */
bool pvm_eval_is_metadata(const char *name)
{
    return strcmp(name, NAME_LABEL) == 0 || strcmp(name, "__type__") == 0 ||
           strcmp(name, "__unit__") == 0;
}

int pvm_eval_labels_drop_meta(eval_query *q, const pvm_label *in, size_t n,
                              const pvm_label **out, size_t *nout)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !pvm_eval_is_metadata(in[i].name);
    if (k == n) {
        *out = in;
        *nout = n;
        return 0;
    }
    pvm_label *l = pvm_arena_alloc(q->a, (k ? k : 1) * sizeof(*l));
    if (!l)
        return pvm_eval_nomem(q);
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (!pvm_eval_is_metadata(in[i].name))
            l[k++] = in[i];
    *out = l;
    *nout = k;
    return 0;
}

/* Sets name=value in a copy (value NULL or "" deletes the label). */
int pvm_eval_labels_set(eval_query *q, const pvm_label *in, size_t n,
                        const char *name, const char *value,
                        const pvm_label **out, size_t *nout)
{
    pvm_label *l = pvm_arena_alloc(q->a, (n + 1) * sizeof(*l));
    if (!l)
        return pvm_eval_nomem(q);
    bool del = !value || !*value;
    size_t k = 0;
    bool done = false;
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(in[i].name, name);
        if (!done && c >= 0) {
            if (!del)
                l[k++] = (pvm_label){in[i].name == name ? name : name, value};
            done = true;
            if (c == 0)
                continue;
        }
        l[k++] = in[i];
    }
    if (!done && !del)
        l[k++] = (pvm_label){name, value};
    *out = l;
    *nout = k;
    return 0;
}

bool pvm_eval_list_has(const pvm_label_list *names, const char *name)
{
    for (size_t i = 0; names && i < names->n; i++)
        if (strcmp(names->names[i], name) == 0)
            return true;
    return false;
}

/* keep: only the labels in names; else all but those in names (and
 * __name__ too when also_name). */
int pvm_eval_labels_filter(eval_query *q, const pvm_label *in, size_t n,
                           const pvm_label_list *names, bool keep,
                           bool also_name, const pvm_label **out, size_t *nout)
{
    pvm_label *l = pvm_arena_alloc(q->a, (n ? n : 1) * sizeof(*l));
    if (!l)
        return pvm_eval_nomem(q);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool in_list = pvm_eval_list_has(names, in[i].name);
        bool take = keep ? in_list
                         : !in_list && !(also_name &&
                                         strcmp(in[i].name, NAME_LABEL) == 0);
        if (take)
            l[k++] = in[i];
    }
    *out = l;
    *nout = k;
    return 0;
}

/* Hash of the matching labels: on: the listed ones; ignoring: all but the
 * listed ones and __name__. */
uint64_t pvm_eval_labels_sig(const pvm_label *l, size_t n,
                             const pvm_label_list *names, bool on)
{
    uint64_t h = PVM_LABELS_HASH_INIT;
    for (size_t i = 0; i < n; i++) {
        bool in_list = pvm_eval_list_has(names, l[i].name);
        bool take = on ? in_list
                       : !in_list && strcmp(l[i].name, NAME_LABEL) != 0;
        if (take)
            h = pvm_labels_hash_add(h, &l[i]);
    }
    return h;
}

/* Go's strconv.Quote of s, in the arena (pvm_strbuf_quote). */
char *pvm_eval_go_quote(eval_query *q, const char *s, size_t len)
{
    pvm_strbuf sb;
    pvm_strbuf_init(&sb, q->a);
    pvm_strbuf_quote(&sb, s, len, 0);
    if (sb.failed) {
        pvm_eval_nomem(q);
        return NULL;
    }
    return sb.buf;
}

/* Prometheus' labels.String(): {a="b", c="d"}. */
char *pvm_eval_labels_str(eval_query *q, const pvm_label *l, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += strlen(l[i].name) + 4 * strlen(l[i].value) + 6;
    char *o = pvm_arena_alloc(q->a, len);
    if (!o) {
        pvm_eval_nomem(q);
        return NULL;
    }
    size_t k = 0;
    o[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        char *v = pvm_eval_go_quote(q, l[i].value, strlen(l[i].value));
        if (!v)
            return NULL;
        k += (size_t)snprintf(o + k, len - k, "%s%s=%s", i ? ", " : "",
                              l[i].name, v);
    }
    o[k++] = '}';
    o[k] = 0;
    return o;
}

/* ---- annotations ----------------------------------------------------- */

/* The kind and text of an annotation, hashed (FNV-1a, as the hash map). */
static uint64_t anno_hash(bool warn, const char *msg)
{
    return pvm_hash_bytes(msg, strlen(msg)) ^ (warn ? 1 : 2);
}

/* The annotation with this text, through a hash table: a query over many
 * series may add one per series (rate over differently named metrics). */
static eval_anno *anno_find(eval_query *q, bool warn, const char *msg)
{
    if (!q->anno_cap)
        return NULL;
    size_t h = anno_hash(warn, msg) & (q->anno_cap - 1);
    for (; q->anno_tab[h]; h = (h + 1) & (q->anno_cap - 1)) {
        eval_anno *a = q->anno_tab[h];
        if (a->warn == warn && strcmp(a->msg, msg) == 0)
            return a;
    }
    return NULL;
}

static int anno_index(eval_query *q, eval_anno *a)
{
    if ((q->nannos + 1) * 2 > q->anno_cap) {
        size_t cap = q->anno_cap ? q->anno_cap * 2 : 16;
        eval_anno **t = pvm_arena_calloc(q->a, cap, sizeof(*t));
        if (!t)
            return -1;
        for (eval_anno *o = q->annos; o; o = o->next) {
            if (o == a)
                continue;
            size_t h = anno_hash(o->warn, o->msg) & (cap - 1);
            while (t[h])
                h = (h + 1) & (cap - 1);
            t[h] = o;
        }
        q->anno_tab = t;
        q->anno_cap = cap;
    }
    size_t h = anno_hash(a->warn, a->msg) & (q->anno_cap - 1);
    while (q->anno_tab[h])
        h = (h + 1) & (q->anno_cap - 1);
    q->anno_tab[h] = a;
    q->nannos++;
    return 0;
}

static eval_anno *anno_new(eval_query *q, bool warn, const char *msg,
                           const pvm_expr *at)
{
    eval_anno *a = pvm_arena_calloc(q->a, 1, sizeof(*a));
    if (!a)
        return NULL;
    a->warn = warn;
    a->msg = msg;
    if (at) {
        a->pos = at->pos;
        a->has_pos = true;
    }
    a->next = q->annos;
    q->annos = a;
    return anno_index(q, a) < 0 ? NULL : a;
}

int pvm_eval_annotate(eval_query *q, bool warn, const pvm_expr *at,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = pvm_arena_vsprintf(q->a, fmt, ap);
    va_end(ap);
    if (!msg)
        return pvm_eval_nomem(q);
    if (anno_find(q, warn, msg))
        return 0;
    return anno_new(q, warn, msg, at) ? 0 : pvm_eval_nomem(q);
}

int pvm_eval_annotate_mono(eval_query *q, const char *metric,
                           const pvm_expr *at, int64_t ts, double min_b,
                           double max_b, double max_diff)
{
    char *msg;
    const char *base = "PromQL info: input to histogram_quantile needed to "
                       "be fixed for monotonicity (see https://prometheus."
                       "io/docs/prometheus/latest/querying/functions/#"
                       "histogram_quantile)";
    if (metric && *metric) {
        char *qn = pvm_eval_go_quote(q, metric, strlen(metric));
        if (!qn)
            return PVM_ERR_NOMEM;
        msg = pvm_arena_sprintf(q->a, "%s for metric name %s", base, qn);
    } else {
        msg = pvm_arena_sprintf(q->a, "%s", base);
    }
    if (!msg)
        return pvm_eval_nomem(q);
    eval_anno *a = anno_find(q, false, msg);
    if (a) {
        a->min_ts = ts < a->min_ts ? ts : a->min_ts;
        a->max_ts = ts > a->max_ts ? ts : a->max_ts;
        a->min_b = min_b < a->min_b ? min_b : a->min_b;
        a->max_b = max_b > a->max_b ? max_b : a->max_b;
        a->max_diff = max_diff > a->max_diff ? max_diff : a->max_diff;
        a->count++;
        return 0;
    }
    a = anno_new(q, false, msg, at);
    if (!a)
        return pvm_eval_nomem(q);
    a->mono = true;
    a->min_ts = a->max_ts = ts;
    a->min_b = min_b;
    a->max_b = max_b;
    a->max_diff = max_diff;
    return 0;
}

/* ---- per-step output collector --------------------------------------- */

int pvm_eval_out_init(eval_ctx *c, eval_out *o, size_t hint)
{
    memset(o, 0, sizeof(*o));
    o->ctx = c;
    o->instant = c->nsteps == 1;
    if (o->instant)
        return 0;
    o->tcap = 64;
    while (o->tcap < hint * 2)
        o->tcap *= 2;
    o->table = pvm_arena_calloc(c->q->a, o->tcap, sizeof(*o->table));
    return o->table ? 0 : pvm_eval_nomem(c->q);
}

static int out_grow(eval_out *o)
{
    eval_query *q = o->ctx->q;
    size_t cap = o->tcap * 2;
    size_t *t = pvm_arena_calloc(q->a, cap, sizeof(*t));
    if (!t)
        return pvm_eval_nomem(q);
    if (eval_work(q, o->m.n) < 0)
        return q->err->code;
    for (size_t i = 0; i < o->m.n; i++) {
        const eval_series *s = &o->m.s[i];
        size_t h = pvm_labels_hash(s->labels, s->nlabels) & (cap - 1);
        while (t[h])
            h = (h + 1) & (cap - 1);
        t[h] = i + 1;
    }
    o->table = t;
    o->tcap = cap;
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
    if ((o->m.n + 1) * 2 > o->tcap && out_grow(o) < 0)
        return PVM_ERR_NOMEM;
    size_t h = pvm_labels_hash(labels, n) & (o->tcap - 1);
    while (o->table[h]) {
        eval_series *s = &o->m.s[o->table[h] - 1];
        if (pvm_labels_equal(s->labels, s->nlabels, labels, n)) {
            if (s->n && s->pts[s->n - 1].t == ts)
                return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                     "vector cannot contain metrics with the "
                                     "same labelset");
            return pvm_eval_series_push(q, s, ts, v);
        }
        h = (h + 1) & (o->tcap - 1);
    }
    eval_series *s = pvm_eval_matrix_add(q, &o->m, labels, n, drop_name);
    if (!s)
        return PVM_ERR_NOMEM;
    o->table[h] = o->m.n;
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
    size_t cap = 16;
    while (cap < m->n * 2)
        cap *= 2;
    size_t *tab = pvm_arena_calloc(q->a, cap, sizeof(*tab));
    if (!tab)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < m->n; i++) {
        const eval_series *s = &m->s[i];
        if (eval_tick(q) < 0)
            return q->err->code;
        size_t h = pvm_labels_hash(s->labels, s->nlabels) & (cap - 1);
        for (; tab[h]; h = (h + 1) & (cap - 1)) {
            const eval_series *o = &m->s[tab[h] - 1];
            if (pvm_labels_equal(o->labels, o->nlabels, s->labels,
                                 s->nlabels)) {
                *dup = true;
                return 0;
            }
        }
        tab[h] = i + 1;
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

/* ---- numerics --------------------------------------------------------- */

/* Neumaier's compensated summation step (Prometheus' kahansum.Inc). */
double pvm_eval_kahan_inc(double inc, double sum, double *c)
{
    double t = sum + inc;
    if (isinf(t))
        *c = 0;
    else if (fabs(sum) >= fabs(inc))
        *c += (sum - t) + inc;
    else
        *c += (inc - t) + sum;
    return t;
}

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
