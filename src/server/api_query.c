/* api_query.c: the PromQL endpoints (see api_query.h): query and
 * query_range through the engine (api_eval.c), query_exemplars,
 * format_query and parse_query. Parameters are parsed as Prometheus
 * parses them. */
#include <stdlib.h>
#include <string.h>

#include "api_eval.h"
#include "api_query.h"
#include "cache.h"
#include "output.h"
#include "params.h"
#include "query_impl.h"

/* Prometheus' limit on points per series of a range query. */
#define MAX_POINTS_PER_SERIES 11000

/* Evaluates q with the engine and answers. */
static int evaluate(pvm_api_call *r, const pvm_query *q, bool range,
                    int64_t start, int64_t end, int64_t step, size_t limit,
                    int64_t timeout)
{
    pvm_request *proto = pvm_api_route_request(r,
                                               range ? PVM_REQUEST_RANGE
                                                     : PVM_REQUEST_INSTANT,
                                               q);
    if (!proto)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
    if (timeout > 0 && timeout < proto->deadline_ms - r->start_ms)
        proto->deadline_ms = r->start_ms + timeout;
    pvm_eval_call call = {.env = r->env,
                          .a = r->a,
                          .proto = proto,
                          .q = q,
                          .range = range,
                          .start = start,
                          .end = end,
                          .step = step,
                          .limit = limit,
                          .timeout_ms = timeout};
    return pvm_api_eval(&call, r->out, r->ans);
}

/* Parses the `query` parameter. */
static const pvm_query *query_param(pvm_api_call *r)
{
    const char *text = pvm_api_param(r, "query");
    r->ans->query = text;
    if (!text) {
        pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                      "missing parameter \"query\" (a PromQL expression)");
        return NULL;
    }
    const pvm_query *q = pvm_query_parse(r->a, text, &r->ans->err);
    if (!q)
        pvm_api_invalid_param(r, "query");
    return q;
}

/* GET|POST /api/v1/query?query=&time=&timeout=&limit= */
int pvm_api_query(pvm_api_call *r)
{
    int64_t t, timeout;
    size_t limit;
    if (pvm_api_time_param(r, "time", pvm_api_now_ms(), &t) < 0 ||
        pvm_api_timeout_param(r, &timeout) < 0 ||
        pvm_api_limit_param(r, &limit) < 0)
        return r->ans->err.code;
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans->err.code;
    const char *tp = pvm_api_param(r, "time");
    r->cache->candidate = tp && *tp; /* else the answer is for now */
    return evaluate(r, q, false, t, t, 0, limit, timeout);
}

/* Parses and checks start, end and step of a range query. */
static int range_params(pvm_api_call *r, int64_t *start, int64_t *end,
                        int64_t *step)
{
    const char *s;
    pvm_error *err = &r->ans->err;
    if (pvm_parse_time((s = pvm_api_param(r, "start")) ? s : "", start, err) <
        0)
        return pvm_api_invalid_param(r, "start");
    if (pvm_parse_time((s = pvm_api_param(r, "end")) ? s : "", end, err) < 0)
        return pvm_api_invalid_param(r, "end");
    if (*end < *start)
        return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                             "invalid parameter \"end\": end timestamp must "
                             "not be before start time");
    if (pvm_parse_duration((s = pvm_api_param(r, "step")) ? s : "", step,
                           err) < 0)
        return pvm_api_invalid_param(r, "step");
    if (*step <= 0 && strtod(s, NULL) > 0) {
        /* A positive step below our 1 ms resolution: Prometheus (ns)
         * rejects it for its point count unless start == end. */
        if (*end > *start)
            return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                                 "exceeded maximum resolution of 11,000 "
                                 "points per timeseries. Try decreasing the "
                                 "query resolution (?step=XX)");
        *step = 1;
    }
    if (*step <= 0)
        return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                             "invalid parameter \"step\": zero or negative "
                             "query resolution step widths are not "
                             "accepted. Try a positive integer");
    /* A span too long for int64 ms has too many points too (Go's
     * Time.Sub saturates; a plain subtraction would overflow). */
    int64_t span;
    if (__builtin_sub_overflow(*end, *start, &span) ||
        span / *step > MAX_POINTS_PER_SERIES)
        return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                             "exceeded maximum resolution of 11,000 points "
                             "per timeseries. Try decreasing the query "
                             "resolution (?step=XX)");
    return 0;
}

/* GET|POST /api/v1/query_range?query=&start=&end=&step=&timeout= */
int pvm_api_query_range(pvm_api_call *r)
{
    int64_t start, end, step, timeout;
    if (range_params(r, &start, &end, &step) < 0 ||
        pvm_api_timeout_param(r, &timeout) < 0)
        return r->ans->err.code;
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans->err.code;
    r->cache->candidate = true;
    return evaluate(r, q, true, start, end, step, 0, timeout);
}

/* GET|POST /api/v1/query_exemplars?query=&start=&end= */
int pvm_api_query_exemplars(pvm_api_call *r)
{
    int64_t start, end;
    if (pvm_api_time_param(r, "start", PVM_MIN_TIME_MS, &start) < 0 ||
        pvm_api_time_param(r, "end", PVM_MAX_TIME_MS, &end) < 0)
        return r->ans->err.code;
    if (end < start)
        return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                             "invalid parameter \"end\": end timestamp must "
                             "not be before start time");
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans->err.code;
    /* No plugin hook serves exemplars: an empty list, or no data at all
     * for an expression without selectors, as Prometheus answers. */
    if (q->nselectors == 0)
        return pvm_output_success_no_data(r->a, r->out);
    return pvm_output_data_raw(r->a, r->out, "[]");
}

/* GET|POST /api/v1/format_query?query= */
int pvm_api_format_query(pvm_api_call *r)
{
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans->err.code;
    char *text = pvm_promql_format(r->a, q->expr);
    if (!text)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
    r->ans->count = 1;
    return pvm_output_data_string(r->a, r->out, text);
}

/* GET|POST /api/v1/parse_query?query= */
int pvm_api_parse_query(pvm_api_call *r)
{
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans->err.code;
    r->ans->count = 1;
    return pvm_output_ast(r->a, r->out, q->expr);
}
