/* api_eval.c: query and query_range through the PromQL engine (see
 * api_eval.h). The engine asks for each selector's samples once; this file
 * turns that into a plugin request (one selector as the query, a time
 * window on the query's step grid), runs the hooks, and writes the
 * engine's result in Prometheus' JSON. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_eval.h"
#include "json.h"
#include "output.h"
#include "engine.h"
#include "registry.h"
#include "response_impl.h"

/* Finest resolution at which range selectors are asked from plugins:
 * Grafana's default scrape interval, and what makes rate(x[1m]) see four
 * samples. */
#define FETCH_RESOLUTION_MS 15000

/* Most timestamps one fetch asks a plugin for, per series. */
#define FETCH_MAX_POINTS 50000

/* State shared by the fetch callback. */
struct fetch_ctx {
    const pvm_eval_call *call; /* the query being answered */
    pvm_strlist warnings;      /* plugin warnings, merged into the answer */
    pvm_strlist infos;         /* plugin infos */
    pvm_response *failed;      /* the response of a failed fetch */
};

/* The largest divisor of s that is at most r (>= 1), so that the finer
 * grid still hits every timestamp of the query's grid. */
static int64_t grid_step(int64_t s, int64_t r)
{
    if (r >= s)
        return s;
    for (int64_t n = (s + r - 1) / r; n <= 2 * ((s + r - 1) / r); n++)
        if (s % n == 0)
            return s / n;
    return r > 0 ? r : 1;
}

void pvm_fetch_plan_make(const pvm_fetch_request *fr, int64_t lookback_ms,
                         pvm_fetch_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    /* A plain instant selector of an instant query: the instant hook, at
     * the evaluation time minus offset (or the @ time). */
    if (fr->instant && fr->range_ms == 0 &&
        fr->maxt - fr->mint <= lookback_ms) {
        plan->instant_hook = true;
        plan->time = fr->maxt;
        return;
    }
    int64_t res = FETCH_RESOLUTION_MS;
    if (fr->range_ms > 0 && fr->range_ms / 4 < res)
        res = fr->range_ms / 4 > 0 ? fr->range_ms / 4 : 1;
    int64_t step = fr->instant        ? res
                   : fr->range_ms > 0 ? grid_step(fr->step, res)
                                      : fr->step;
    if (step <= 0)
        step = 1;
    int64_t span = fr->maxt - fr->mint;
    if (span / step > FETCH_MAX_POINTS)
        step = span / FETCH_MAX_POINTS + 1;
    /* The grid is anchored at maxt (the last step evaluated, on the
     * start + k * step grid and not the query's end when that is off it,
     * minus the offset), so it contains every evaluation timestamp. */
    plan->end = fr->maxt;
    plan->step = step;
    /* the last grid point at or before mint, so that plugins returning
     * raw samples between start and end cover the whole window */
    plan->start = fr->maxt - ((span + step - 1) / step) * step;
}

/* Keeps the annotations of a fetch's response for the final answer. */
static void keep_annotations(struct fetch_ctx *f, const pvm_response *resp)
{
    pvm_arena *a = f->call->a;
    for (size_t i = 0; i < resp->warnings.n; i++)
        pvm_strlist_add(a, &f->warnings, resp->warnings.v[i]);
    for (size_t i = 0; i < resp->infos.n; i++)
        pvm_strlist_add(a, &f->infos, resp->infos.v[i]);
}

static int fetch(void *ctx, const pvm_fetch_request *fr, pvm_series_set *out,
                 pvm_error *err)
{
    struct fetch_ctx *f = ctx;
    const pvm_eval_call *c = f->call;
    if (pvm_request_remaining_ms(c->proto) <= 0) /* earlier hooks used it */
        return pvm_error_set(err, PVM_ERR_TIMEOUT,
                             "query timed out in expression evaluation");
    pvm_fetch_plan plan;
    pvm_fetch_plan_make(fr, c->env->cfg->lookback_delta_ms, &plan);

    pvm_request *req = pvm_arena_alloc(c->a, sizeof(*req));
    const pvm_query *q = pvm_query_for_selector(c->a, fr->node, fr->range_ms,
                                                err);
    if (!req || !q)
        return err->code ? err->code
                         : pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    *req = *c->proto;
    req->query = q;
    req->type = plan.instant_hook ? PVM_REQUEST_INSTANT : PVM_REQUEST_RANGE;
    req->time = plan.instant_hook ? plan.time : plan.end;
    req->start = plan.instant_hook ? plan.time : plan.start;
    req->end = plan.instant_hook ? plan.time : plan.end;
    req->step = plan.instant_hook ? 0 : plan.step;

    pvm_response *resp = pvm_response_new(req,
                                          plan.instant_hook
                                              ? PVM_RESPONSE_VECTOR
                                              : PVM_RESPONSE_MATRIX,
                                          c->env->cfg->max_samples);
    if (!resp)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pvm_context_run_request_hook(c->env->ctx,
                                 plan.instant_hook ? PVM_HOOK_INSTANT_QUERY
                                                   : PVM_HOOK_RANGE_QUERY,
                                 req, resp);
    if (resp->error_code) {
        f->failed = resp;
        return pvm_error_set(err, resp->error_code, "%s", resp->error_msg);
    }
    if (pvm_response_finish(resp) < 0)
        return pvm_error_set(err, resp->error_code, "%s", resp->error_msg);
    keep_annotations(f, resp);
    *out = resp->series;
    return 0;
}

int pvm_api_eval(const pvm_eval_call *c, const pvm_http_out *out,
                 pvm_answer *ans)
{
    pvm_error *err = &ans->err;
    const pvm_server_config *cfg = c->env->cfg;
    struct fetch_ctx f = {.call = c};
    pvm_eval_opts o = {
        .start = c->start,
        .end = c->end,
        .step = c->range ? c->step : 0,
        .lookback_ms = cfg->lookback_delta_ms,
        .max_samples = cfg->max_samples,
        .deadline_ns = c->proto->deadline_ms * 1000000,
        .fetch = fetch,
        .fetch_ctx = &f,
        .query = c->q->string,
        .query_len = strlen(c->q->string),
    };
    pvm_eval_result res;
    memset(&res, 0, sizeof(res));
    int rc = pvm_eval(c->a, c->q->expr, &o, &res, err);
    if (rc < 0) {
        if (f.failed)
            ans->failed = f.failed->failed_plugin;
        if (f.failed && f.failed->nheaders)
            return pvm_output_error(out, f.failed->error_code,
                                    f.failed->error_msg, f.failed->headers,
                                    f.failed->nheaders);
        return rc;
    }
    if (c->range && res.type == PVM_VT_STRING)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "invalid expression type \"string\" for range "
                             "query, must be Scalar or instant Vector");
    for (size_t i = 0; i < res.nwarnings; i++)
        pvm_strlist_add(c->a, &f.warnings, res.warnings[i]);
    for (size_t i = 0; i < res.ninfos; i++)
        pvm_strlist_add(c->a, &f.infos, res.infos[i]);
    ans->count = res.type == PVM_VT_VECTOR || res.type == PVM_VT_MATRIX
                     ? res.nseries
                     : 1;
    return pvm_output_eval(c->a, out, &res, &f.warnings, &f.infos, c->limit);
}
