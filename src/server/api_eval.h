/* api_eval.h: answering query and query_range with the PromQL engine:
 * each vector selector of the expression is fetched from the plugins
 * (their query hooks, once per selector) and the expression evaluated
 * with Prometheus' semantics. */
#ifndef PVM_API_EVAL_H
#define PVM_API_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api_call.h"
#include "query_impl.h"

typedef struct pvm_eval_call {
    const pvm_api_env *env;   /* server */
    pvm_arena *a;             /* request arena */
    const pvm_request *proto; /* template for the plugin requests: HTTP
                                   details and the full query text */
    const pvm_query *q;       /* the parsed expression */
    bool range;               /* query_range (else query) */
    int64_t start;            /* range start, or the instant time (ms) */
    int64_t end;              /* range end (== start when instant) */
    int64_t step;             /* range step (ms), 0 when instant */
    size_t limit;             /* `limit`: most series returned, 0 = all */
    int64_t timeout_ms;       /* `timeout` (0: max_query_timeout); the
                                   deadline itself is proto's
                                   (pvm_request_deadline_ms) */
} pvm_eval_call;

/* Evaluates and writes the answer through out. Returns the HTTP status
 * written (success, or an error that carries plugin headers such as
 * WWW-Authenticate; ans->err then holds it for the log), or a negative
 * status with ans->err filled and nothing written. ans->count receives
 * the number of result series (or 1 for a scalar or string), ans->failed
 * the instance whose hook failed. */
int pvm_api_eval(const pvm_eval_call *c, const pvm_http_out *out,
                 pvm_answer *ans);

/* The time window and step in which a selector's samples are asked from
 * the plugins (see docs/plugin-api.md, "How queries reach plugins"). */
typedef struct pvm_fetch_plan {
    bool instant_hook; /* ask on_instant_query_request at time */
    int64_t time;      /* instant_hook: the time (ms) */
    int64_t start;     /* range hook: first timestamp (ms) */
    int64_t end;       /* range hook: last timestamp (ms) */
    int64_t step;      /* range hook: step (ms) */
} pvm_fetch_plan;

struct pvm_fetch_request;

/* Chooses the hook, window and step for one selector; exposed for tests. */
void pvm_fetch_plan_make(const struct pvm_fetch_request *fr,
                         int64_t lookback_ms, pvm_fetch_plan *plan);

#endif
