/* engine.h: PromQL evaluation with Prometheus' semantics. The engine never
 * calls plugins itself: it asks a fetch callback for the raw samples of
 * each vector selector (once per selector per query), then evaluates the
 * expression over them. The server wires the callback to the plugin hooks
 * (api.c); the promqltest runner wires it to the data of `load` blocks.
 * Everything is allocated in the arena given. */
#ifndef PVM_PROMQL_ENGINE_H
#define PVM_PROMQL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/error.h>

#include "ast.h"
#include "series.h"

/* How the engine asks for the samples of one vector selector. */
typedef struct pvm_fetch_request {
    const pvm_expr *node;          /* the PVM_EXPR_VECTOR_SELECTOR node */
    const pvm_vector_selector *vs; /* its selector (matchers, offset, @) */
    bool instant;                  /* true: one evaluation time (`time`,
                                      an instant query outside
                                      subqueries), false: start..end by
                                      step */
    int64_t time;                  /* instant: the time to sample at, ms */
    int64_t start;                 /* range: first timestamp, ms */
    int64_t end;                   /* range: last timestamp, ms: on the
                                      grid (start + k * step), never the
                                      query's end when that is off it */
    int64_t step;                  /* range: step, ms (> 0); for a selector
                                      inside a subquery the innermost
                                      subquery's step, start and end
                                      then its steps (multiples of it) */
    int64_t mint;                  /* first sample time needed, ms
                                      (inclusive): the data window, with
                                      lookback, ranges, offsets, @ and
                                      subqueries applied, as Prometheus'
                                      storage.SelectHints.Start */
    int64_t maxt;                  /* last sample time needed, ms
                                      (inclusive): end minus the offset,
                                      or the @ time; every time a sample
                                      is looked up at is maxt - k * step */
    int64_t range_ms;              /* range of the enclosing matrix
                                      selector, 0 for an instant selector */
    const char *func;              /* name of the enclosing function or
                                      aggregation ("rate", "sum"), or NULL:
                                      a hint only */
} pvm_fetch_request;

/* Fills out (initialised, in the engine's arena) with every series that
 * matches the selector and its samples with mint <= t <= maxt (more is
 * allowed: the engine clips and re-checks the matchers). Points may come in
 * any order; of duplicate timestamps the last appended wins. A stale
 * marker is the NaN with bits PVM_STALE_NAN_BITS. Called once per vector
 * selector node, before evaluation starts. Returns 0 or a negative status
 * with err filled (the query then fails with it). */
typedef int (*pvm_fetch_fn)(void *ctx, const pvm_fetch_request *req,
                            pvm_series_set *out, pvm_error *err);

/* Prometheus' staleness marker (value.StaleNaN). */
#define PVM_STALE_NAN_BITS 0x7ff0000000000002ULL

/* Default lookback delta and default subquery step (ms). */
#define PVM_EVAL_DEFAULT_LOOKBACK_MS (5 * 60 * 1000)
#define PVM_EVAL_DEFAULT_SUBQUERY_STEP_MS (60 * 1000)

typedef struct pvm_eval_opts {
    int64_t start;            /* range query start, or the instant time */
    int64_t end;              /* range query end (== start for instant) */
    int64_t step;             /* range query step; 0 for an instant query */
    int64_t lookback_ms;      /* lookback delta (0: default 5 m) */
    int64_t subquery_step_ms; /* step of `x[5m:]` (0: default 1 m, the
                                   evaluation interval of promqltest) */
    size_t max_samples;       /* samples a query may hold (0 = none) */
    int64_t deadline_ns;      /* CLOCK_MONOTONIC deadline, 0 = none */
    pvm_fetch_fn fetch;       /* where selector data comes from */
    void *fetch_ctx;          /* its argument */
    const char *query;        /* the query text, for the "(1:8)"
                                   positions of annotations; may be NULL */
    size_t query_len;         /* bytes in query */
} pvm_eval_opts;

/* One series of a result. */
typedef struct pvm_result_series {
    const pvm_label *labels; /* sorted, with __name__ where kept */
    size_t nlabels;          /* number of labels */
    const pvm_point *points; /* points in time order (vector: one) */
    size_t npoints;          /* number of points */
} pvm_result_series;

typedef struct pvm_eval_result {
    pvm_value_type type;       /* SCALAR, VECTOR, MATRIX or STRING */
    double scalar;             /* SCALAR: the value (instant queries) */
    const char *string;        /* STRING: the value */
    int64_t time;              /* SCALAR/STRING: evaluation time */
    pvm_result_series *series; /* VECTOR/MATRIX (a range query always
                                   gives MATRIX; a scalar over a range is
                                   one label-less series) */
    size_t nseries;            /* number of series */
    const char **warnings;     /* annotations Prometheus would add */
    size_t nwarnings;          /* number of warnings */
    const char **infos;        /* info annotations */
    size_t ninfos;             /* number of infos */
} pvm_eval_result;

/* Returns true when v is Prometheus' staleness marker. */
bool pvm_is_stale_nan(double v);

/* Evaluates e (a tree from pvm_promql_parse, not modified). The result
 * and everything it points to live in a. Instant vectors keep the order
 * Prometheus gives them (sort(), topk() are visible); range results are
 * sorted by label set. Errors: PVM_ERR_EXECUTION (422) with Prometheus' messages
 * (many-to-many matching, duplicate series, too many samples, ...),
 * PVM_ERR_BAD_DATA for invalid arguments where Prometheus says bad_data,
 * PVM_ERR_TIMEOUT past the deadline, PVM_ERR_NOMEM when the arena's cap
 * is hit, or the fetch callback's status. */
int pvm_eval(pvm_arena *a, const pvm_expr *e, const pvm_eval_opts *opts,
             pvm_eval_result *out, pvm_error *err);

#endif
