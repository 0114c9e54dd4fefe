/* sql_run.h: the SQL core's statement runner (sql_run.c), for its hooks
 * (sql_hooks.c); drivers use sql_core.h only. */
#ifndef PVM_SQL_RUN_H
#define PVM_SQL_RUN_H

#include "sql_core.h"

/* One row of a query, read: the timestamp, per metric its value (has[i]
 * false for NULL), the metric name (metric_column) and the labels. */
typedef struct pvm_sql_row {
    int64_t t;         /* ms */
    const char *name;  /* metric_column's value, or NULL */
    double *v;         /* per metric of the core (or [0]: metric_column) */
    bool *has;         /* value present (not NULL) */
    pvm_label *labels; /* valid until the next step */
    size_t nlabels;    /* number of labels */
} pvm_sql_row;

/* What a run does with a row: 0 to go on, a negative status to stop
 * (the response already failed). */
typedef int (*pvm_sql_row_fn)(pvm_sql_core *c, const pvm_sql_row *r,
                              void *arg);

/* Runs q for the request (start/end in ms, bound as :start and :end,
 * with :step and :lookback) with the request's matchers pushed down,
 * calling fn per row; bad rows as on_bad_row says. values false
 * (discovery): only labels and metric names are read, and every row
 * counts (the query's own WHERE selects the range). keep(c, row) tells
 * whether a row the selector keeps (for bad rows: only those fail). 0,
 * or the failing status (the response is set). */
int pvm_sql_run(pvm_plugin *self, pvm_sql_query *q, pvm_request *req,
                pvm_response *resp, int64_t start, int64_t end, bool values,
                pvm_sql_row_fn fn, void *arg);

/* True when some metric of the instance can match the request (with
 * metric_column: always). */
bool pvm_sql_any_name(const pvm_sql_core *c, const pvm_query *q);

#endif
