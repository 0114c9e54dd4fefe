/* engine_internal.h: types and helpers shared by the evaluator files
 * (eval.c, eval_util.c, eval_sel.c, binop.c, aggr.c, funcs.c,
 * funcs_range.c). Not part of any public interface.
 *
 * Model (as Prometheus' engine.go): every expression is evaluated once over
 * all steps start, start+interval, ..., end of its evaluator and yields a
 * matrix: series with at most one point per step. An instant query is a
 * range evaluation of one step. Scalars are one label-less series with a
 * point at every step. Everything lives in the request arena; a failed
 * allocation becomes PVM_ERR_NOMEM. */
#ifndef PVM_PROMQL_ENGINE_INTERNAL_H
#define PVM_PROMQL_ENGINE_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/error.h>
#include <pvm/labels.h>

#include "gofloat.h"
#include <pvm/hashmap.h>
#include "labels.h"
#include "ast.h"
#include "engine.h"

/* One series of an intermediate result. */
typedef struct eval_series {
    const pvm_label *labels; /* sorted label set (shared, never modified) */
    size_t nlabels;          /* number of labels */
    pvm_point *pts;          /* points in time order */
    size_t n;                /* number of points */
    size_t cap;              /* capacity of pts */
    bool drop_name;          /* drop __name__ when the query ends
                                 (Prometheus' delayed name removal) */
    bool shared;             /* pts belongs to selector data: read only
                                 (pvm_eval_series_own before writing) */
} eval_series;

/* pvm_idxmap equality for the engine's label-set tables: is the label set
 * of series i of the array ctx (eval_series[]) equal to probe (a
 * pvm_labelset; its hash field is not read)? */
static inline bool pvm_eval_series_key_eq(const void *ctx, size_t i,
                                          const void *probe)
{
    const eval_series *s = (const eval_series *)ctx + i;
    const pvm_labelset *k = probe;
    return pvm_labels_equal(s->labels, s->nlabels, k->labels, k->n);
}

/* The same for a table over an array of label sets (ctx: pvm_labelset[]). */
static inline bool pvm_eval_labelset_key_eq(const void *ctx, size_t i,
                                            const void *probe)
{
    const pvm_labelset *s = (const pvm_labelset *)ctx + i;
    const pvm_labelset *k = probe;
    return pvm_labels_equal(s->labels, s->n, k->labels, k->n);
}

/* A list of series. */
typedef struct eval_matrix {
    eval_series *s; /* the series */
    size_t n;       /* number of series */
    size_t cap;     /* capacity of s */
} eval_matrix;

/* The value of a node. */
typedef struct eval_value {
    pvm_value_type type; /* SCALAR, VECTOR, MATRIX or STRING */
    eval_matrix m;       /* SCALAR: one series; VECTOR: one point per
                             step; MATRIX (instant only): raw windows */
    const char *str;     /* STRING: the value */
} eval_value;

/* Data fetched for one vector selector node. */
typedef struct eval_sel {
    const pvm_expr *node; /* the PVM_EXPR_VECTOR_SELECTOR node */
    eval_series *s;       /* matching series, points sorted, clipped to
                              the window, stale markers included */
    size_t n;             /* number of series */
    pvm_point **clean;    /* per series: points without stale markers,
                              built on first use by range functions */
    size_t *nclean;       /* their counts */
} eval_sel;

/* One annotation (warning or info), deduplicated by its text. */
typedef struct eval_anno {
    bool warn;              /* warning (else info) */
    const char *msg;        /* text without position */
    size_t pos;             /* byte offset of the expression */
    bool has_pos;           /* pos is meaningful */
    struct eval_anno *next; /* next annotation */
    /* histogram_quantile monotonicity details (merged) */
    bool mono;              /* a monotonicity info */
    int64_t min_ts, max_ts; /* time range of the fixed samples, ms */
    double min_b, max_b;    /* bucket range */
    double max_diff;        /* largest difference */
    size_t count;           /* fixed samples */
} eval_anno;

/* State shared by all evaluators of one query. */
typedef struct eval_query {
    pvm_arena *a;              /* the request arena */
    const pvm_eval_opts *opts; /* options (times, limits, fetch) */
    pvm_error *err;            /* where errors go */
    int64_t lookback;          /* lookback delta, ms */
    int64_t subq_step;         /* default subquery step, ms */
    eval_sel *sels;            /* fetched selectors */
    size_t nsels;              /* number of them */
    size_t cur_samples;        /* samples currently held */
    size_t tick;               /* work done since the clock was last
                                    read (see eval_work) */
    eval_anno *annos;          /* annotations, newest first */
    pvm_hashmap anno_map;      /* the same by kind and text (keys:
                                    eval_anno; slots NULL until the
                                    first annotation) */
    double *scratch;           /* reusable buffer of window functions */
    size_t scratch_cap;        /* its capacity, in doubles */
} eval_query;

/* One evaluator: a time range and its steps. */
typedef struct eval_ctx {
    eval_query *q;    /* the query */
    int64_t start;    /* first step, ms */
    int64_t end;      /* last step, ms (>= start) */
    int64_t interval; /* step, ms (> 0) */
    size_t nsteps;    /* number of steps */
} eval_ctx;

/* A sample of one step, as gathered from a matrix. */
typedef struct eval_sample {
    const pvm_label *labels; /* label set */
    size_t nlabels;          /* number of labels */
    double v;                /* value */
    bool drop_name;          /* delayed name removal flag */
    size_t series;           /* index of the series in its matrix */
} eval_sample;

/* Collects per-step output samples into series (rangeEval's map). */
typedef struct eval_out {
    eval_ctx *ctx;    /* evaluator */
    eval_matrix m;    /* the output */
    int64_t *last_ts; /* per series: time of its last point */
    pvm_idxmap table; /* label set -> index in m (range only) */
    bool instant;     /* one step: keep order, allow duplicates */
} eval_out;

/* Work units (about one loop iteration each) between two readings of
 * the clock: a few microseconds of work, so a query stops within a few
 * microseconds of its deadline, and the clock (vDSO, ~20 ns) costs < 1%. */
#define EVAL_TICK_EVERY 4096

/* ---- eval.c ---- */
int pvm_eval_node(eval_ctx *c, const pvm_expr *e, eval_value *out);
int pvm_eval_check(eval_ctx *c);
int pvm_eval_deadline(eval_query *q);

/* Counts n units of work (loop iterations, elements sorted...) and reads
 * the clock every EVAL_TICK_EVERY units: 0, or PVM_ERR_TIMEOUT (err set)
 * past the deadline. Every loop whose length depends on the data, the
 * steps or the result calls it (eval_tick: one unit), so no loop runs
 * long unchecked. */
static inline int eval_work(eval_query *q, size_t n)
{
    q->tick += n;
    return q->tick < EVAL_TICK_EVERY ? 0 : pvm_eval_deadline(q);
}

static inline int eval_tick(eval_query *q)
{
    return ++q->tick < EVAL_TICK_EVERY ? 0 : pvm_eval_deadline(q);
}
int pvm_eval_count_samples(eval_ctx *c, size_t n);
int64_t pvm_eval_step_ts(const eval_ctx *c, size_t k);
const pvm_expr *pvm_eval_unparen(const pvm_expr *e);
int pvm_eval_scalar_steps(eval_ctx *c, const pvm_expr *e, double **vals);
int pvm_eval_at_time(const eval_ctx *c, int at_kind, int64_t at_ms,
                     int64_t *at);

/* ---- eval_sel.c ---- */
int pvm_eval_fetch_all(eval_query *q, const pvm_expr *root);
eval_sel *pvm_eval_sel_find(eval_query *q, const pvm_expr *node);
int pvm_eval_vector_selector(eval_ctx *c, const pvm_expr *e, bool orig_ts,
                             eval_value *out);
int pvm_eval_matrix_selector(eval_ctx *c, const pvm_expr *e, eval_value *out);
int pvm_eval_sel_clean(eval_query *q, eval_sel *s, size_t i,
                       const pvm_point **pts, size_t *n);

/* ---- eval_util.c ---- */
int pvm_eval_nomem(eval_query *q);
int pvm_eval_fail(eval_query *q, int code, const char *fmt, ...)
    PVM_PRINTF(3, 4);
eval_series *pvm_eval_matrix_add(eval_query *q, eval_matrix *m,
                                 const pvm_label *labels, size_t n,
                                 bool drop_name);
int pvm_eval_series_push(eval_query *q, eval_series *s, int64_t t, double v);
int pvm_eval_series_own(eval_query *q, eval_series *s);
size_t pvm_eval_matrix_points(const eval_matrix *m);
bool pvm_eval_is_metadata(const char *name);
int pvm_eval_labels_drop_meta(eval_query *q, const pvm_label *in, size_t n,
                              const pvm_label **out, size_t *nout);
int pvm_eval_labels_set(eval_query *q, const pvm_label *in, size_t n,
                        const char *name, const char *value,
                        const pvm_label **out, size_t *nout);
int pvm_eval_labels_filter(eval_query *q, const pvm_label *in, size_t n,
                           const pvm_label_list *names, bool keep,
                           bool also_name, const pvm_label **out,
                           size_t *nout);
uint64_t pvm_eval_labels_sig(const pvm_label *l, size_t n,
                             const pvm_label_list *names, bool on);
bool pvm_eval_list_has(const pvm_label_list *names, const char *name);
char *pvm_eval_labels_str(eval_query *q, const pvm_label *l, size_t n);
char *pvm_eval_go_quote(eval_query *q, const char *s, size_t len);
int pvm_eval_annotate(eval_query *q, bool warn, const pvm_expr *at,
                      const char *fmt, ...) PVM_PRINTF(4, 5);
int pvm_eval_annotate_mono(eval_query *q, const char *metric,
                           const pvm_expr *at, int64_t ts, double min_b,
                           double max_b, double max_diff);
int pvm_eval_out_init(eval_ctx *c, eval_out *o, size_t hint);
int pvm_eval_out_add(eval_out *o, const pvm_label *labels, size_t n,
                     bool drop_name, int64_t ts, double v);
int pvm_eval_merge_same_labels(eval_query *q, eval_matrix *m);
int pvm_eval_has_same_labels(eval_query *q, const eval_matrix *m, bool *dup);
double *pvm_eval_scratch(eval_query *q, size_t n);
int pvm_eval_gather(const eval_ctx *c, const eval_matrix *m, size_t *cursor,
                    int64_t ts, eval_sample *out, size_t *n);
/* Neumaier's compensated summation step (Prometheus' kahansum.Inc):
 * returns sum + inc, the lost low-order part added to *c. Inline: it is
 * the inner step of every window sum and aggregation (29 % of
 * avg_over_time's time as a call). */
static inline double pvm_eval_kahan_inc(double inc, double sum, double *c)
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
void pvm_eval_sort_doubles(double *v, size_t n);
double pvm_eval_quantile(double q, double *v, size_t n);

/* ---- binop.c ---- */
int pvm_eval_binary(eval_ctx *c, const pvm_expr *e, eval_value *out);

/* ---- aggr.c ---- */
int pvm_eval_aggregate(eval_ctx *c, const pvm_expr *e, eval_value *out);
int pvm_eval_parse_float(const char *s, double *v);

/* ---- funcs.c ---- */
int pvm_eval_call_fn(eval_ctx *c, const pvm_expr *e, eval_value *out);
int pvm_eval_absent_labels(eval_query *q, const pvm_expr *arg,
                           const pvm_label **l, size_t *n);

/* ---- funcs_labels.c ---- */
int pvm_eval_label_replace(eval_ctx *c, const pvm_call *call, eval_value *out);
int pvm_eval_label_join(eval_ctx *c, const pvm_call *call, eval_value *out);
int pvm_eval_sort(eval_ctx *c, const pvm_expr *e, eval_value *in,
                  eval_value *out);

/* ---- funcs_hist.c ---- */
int pvm_eval_histogram_fn(eval_ctx *c, const pvm_expr *e, eval_value *out);
double pvm_eval_date_part(int id, double seconds);

/* ---- funcs_range.c ---- */
int pvm_eval_range_call(eval_ctx *c, const pvm_expr *e, size_t marg,
                        eval_value *out);
int pvm_eval_subquery(eval_ctx *c, const pvm_expr *e, eval_matrix *out,
                      int64_t *at, bool *has_at);
/* The steps of subquery sq in an evaluator whose first and last steps are
 * cstart and cend (its @ applied): *start, *start + *step, ... *end, on
 * multiples of the step as in Prometheus. False when there are none. The
 * evaluation and the selector fetch (eval_sel.c) both use it, so plugins
 * are asked for exactly the timestamps evaluated. */
bool pvm_eval_subquery_grid(const eval_query *q, const pvm_subquery *sq,
                            int64_t cstart, int64_t cend, int64_t *start,
                            int64_t *end, int64_t *step);

#endif
