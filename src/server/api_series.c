/* api_series.c: /series, /labels and /label/<name>/values, and series
 * discovery through the query hooks (see api_series.h). Plugins answer the discovery hooks with metric names and
 * label values only; Prometheus answers /series with whole label sets and
 * filters /labels and /label/<name>/values by match[] on them. Asking the
 * query hooks for each selector gives the same answers. */
#include <string.h>

#include "api_series.h"
#include "cache.h"
#include "form.h"
#include "output.h"
#include "params.h"
#include "labels.h"
#include "query_impl.h"
#include "registry.h"

/* Most timestamps a discovery request asks per series. */
#define DISCOVERY_POINTS 100
/* Finest step of a discovery request (ms). */
#define DISCOVERY_MIN_STEP 15000

/* Runs the hooks for one selector and adds its series' label sets. */
static int find_one(const pvm_api_env *env, const pvm_request *proto,
                    const pvm_selector *sel, bool has_range,
                    pvm_series_set *out, pvm_response **failed, pvm_error *err)
{
    pvm_arena *a = proto->arena;
    pvm_request *req = pvm_arena_alloc(a, sizeof(*req));
    const pvm_query *q = req ? pvm_query_for_selector(a, sel->node,
                                                      sel->range_ms, err)
                             : NULL;
    if (!q)
        return err->code ? err->code
                         : pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    *req = *proto;
    req->query = q;
    if (has_range) {
        int64_t span = proto->end - proto->start;
        req->type = PVM_REQUEST_RANGE;
        req->step = span / DISCOVERY_POINTS;
        if (req->step < DISCOVERY_MIN_STEP)
            req->step = DISCOVERY_MIN_STEP;
        req->time = req->end;
    } else {
        int64_t now = pvm_api_now_ms();
        req->type = PVM_REQUEST_INSTANT;
        req->time = proto->end < now ? proto->end : now;
        req->start = req->end = req->time;
        req->step = 0;
    }
    pvm_response *resp = pvm_response_new(req,
                                          has_range ? PVM_RESPONSE_MATRIX
                                                    : PVM_RESPONSE_VECTOR,
                                          env->cfg->max_samples);
    if (!resp)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pvm_context_run_request_hook(env->ctx,
                                 has_range ? PVM_HOOK_RANGE_QUERY
                                           : PVM_HOOK_INSTANT_QUERY,
                                 req, resp);
    if (resp->error_code) {
        *failed = resp;
        return pvm_error_set(err, resp->error_code, "%s", resp->error_msg);
    }
    for (size_t i = 0; i < resp->series.n; i++) {
        const pvm_series *s = resp->series.list[i];
        /* plugins may add samples past the query check: re-check */
        const char *name = pvm_labels_get(s->labels, s->nlabels,
                                          PVM_METRIC_NAME_LABEL);
        if (pvm_selector_match(sel, name ? name : "", s->labels, s->nlabels) !=
            1)
            continue;
        if (!pvm_series_set_get(out, s->labels, s->nlabels, s->hash))
            return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    }
    return 0;
}

int pvm_api_find_series(const pvm_api_env *env, const pvm_request *proto,
                        bool has_range, pvm_series_set *out,
                        pvm_response **failed, pvm_error *err)
{
    if (pvm_series_set_init(out, proto->arena) < 0)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < proto->query->nselectors; i++) {
        int rc = find_one(env, proto, &proto->query->selectors[i], has_range,
                          out, failed, err);
        if (rc < 0)
            return rc;
    }
    pvm_series_set_finish(out);
    return 0;
}

/* Drops {__name__="x"} entries of a SERIES response when a fuller label
 * set of metric x was found. The names with fuller sets go into a hashed
 * set first: O(series), not O(series^2). 0 or PVM_ERR_NOMEM. */
static int drop_bare_names(pvm_series_set *s)
{
    pvm_series_set fuller;
    if (pvm_series_set_init(&fuller, s->arena) < 0)
        return PVM_ERR_NOMEM;
    for (size_t i = 0; i < s->n; i++) {
        const pvm_series *o = s->list[i];
        if (o->nlabels > 1 &&
            strcmp(o->labels[0].name, PVM_METRIC_NAME_LABEL) == 0 &&
            !pvm_series_set_get(&fuller, o->labels, 1,
                                pvm_labels_hash(o->labels, 1)))
            return PVM_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const pvm_series *ser = s->list[i];
        bool bare = ser->nlabels == 1 &&
                    strcmp(ser->labels[0].name, PVM_METRIC_NAME_LABEL) == 0;
        /* covered: the lookup finds it, so the set does not grow */
        size_t before = fuller.n;
        if (bare && !pvm_series_set_get(&fuller, ser->labels, 1, ser->hash))
            return PVM_ERR_NOMEM;
        if (!bare || fuller.n > before)
            s->list[k++] = s->list[i];
    }
    s->n = k;
    return 0;
}

int pvm_api_refine_discovery(const pvm_api_env *env, pvm_request *req,
                             pvm_response *resp, bool has_range,
                             pvm_error *err)
{
    if (pvm_query_is_empty(req->query) || resp->error_code)
        return 0;
    pvm_series_set found;
    pvm_response *failed = NULL;
    int rc = pvm_api_find_series(env, req, has_range, &found, &failed, err);
    if (rc < 0) {
        if (failed) /* the plugin's own error (and headers) stand */
            *resp = *failed;
        return rc;
    }
    if (resp->type == PVM_RESPONSE_SERIES) {
        for (size_t i = 0; i < found.n; i++)
            if (!pvm_series_set_get(&resp->series, found.list[i]->labels,
                                    found.list[i]->nlabels,
                                    found.list[i]->hash))
                return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        pvm_series_set_finish(&resp->series);
        if (drop_bare_names(&resp->series) < 0)
            return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        resp->nresults = resp->series.n;
        return 0;
    }
    if (found.n == 0)
        return 0; /* only the discovery hooks know: keep their answer */
    resp->values.n = 0;
    for (size_t i = 0; i < found.n; i++) {
        const pvm_series *s = found.list[i];
        for (size_t k = 0; k < s->nlabels; k++) {
            const char *v = req->type == PVM_REQUEST_LABEL_NAMES
                                ? s->labels[k].name
                            : strcmp(s->labels[k].name,
                                     pvm_request_label_name(req)) == 0
                                ? s->labels[k].value
                                : NULL;
            if (v && pvm_strlist_add(req->arena, &resp->values, v) < 0)
                return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        }
    }
    resp->nresults = resp->values.n;
    return 0;
}

/* ---- handlers ---------------------------------------------------------- */

/* Runs hook over req into a new response of type rtype and writes the
 * answer (or the error a plugin chose). */
static int run_and_answer(pvm_api_call *r, pvm_request *req, pvm_hook hook,
                          pvm_response_type rtype)
{
    pvm_response *resp = pvm_response_new(req, rtype,
                                          r->env->cfg->max_samples);
    if (!resp)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
    pvm_context_run_request_hook(r->env->ctx, hook, req, resp);
    bool has_range = pvm_api_param(r, "start") && pvm_api_param(r, "end");
    if (pvm_api_refine_discovery(r->env, req, resp, has_range, &r->ans->err) <
            0 &&
        !resp->error_code)
        return r->ans->err.code;
    /* Every series has a name: /labels lists __name__ whenever plugins
     * report any label, as Prometheus does. */
    if (req->type == PVM_REQUEST_LABEL_NAMES && resp->values.n &&
        pvm_strlist_add(r->a, &resp->values, "__name__") < 0)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
    if (pvm_response_finish(resp) < 0) {
        pvm_answer_response_error(r->ans, resp);
        return pvm_output_error(r->out, resp->error_code, resp->error_msg,
                                resp->headers, resp->nheaders);
    }
    r->ans->count = resp->nresults;
    return pvm_output_response(r->a, r->out, resp, req->limit);
}

/* The match[] selectors, start, end and limit of a metadata request. */
static pvm_request *meta_request(pvm_api_call *r, pvm_request_type type,
                                 bool need_match)
{
    size_t n, limit;
    int64_t start, end;
    const char **m = pvm_api_params(r, "match[]", &n);
    if (!m) {
        pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (need_match && n == 0) {
        pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                      "no match[] parameter provided");
        return NULL;
    }
    if (pvm_api_time_param(r, "start", PVM_MIN_TIME_MS, &start) < 0 ||
        pvm_api_time_param(r, "end", PVM_MAX_TIME_MS, &end) < 0 ||
        pvm_api_limit_param(r, &limit) < 0)
        return NULL;
    r->ans->query = n ? m[0] : "";
    const pvm_query *q = n ? pvm_query_parse_selectors(r->a, m, n,
                                                       &r->ans->err)
                           : pvm_query_new_empty(r->a);
    if (!q) {
        if (r->ans->err.code != PVM_ERR_NOMEM)
            pvm_api_invalid_param(r, "match[]");
        return NULL;
    }
    pvm_request *req = pvm_api_route_request(r, type, q);
    if (!req) {
        pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    req->start = start;
    req->end = req->time = end;
    req->limit = limit;
    const char *sp = pvm_api_param(r, "start"), *ep = pvm_api_param(r, "end");
    r->cache->candidate = sp && *sp && ep && *ep; /* else up to now */
    return req;
}

/* GET|POST /api/v1/series?match[]=&start=&end=&limit= */
int pvm_api_series(pvm_api_call *r)
{
    pvm_request *req = meta_request(r, PVM_REQUEST_SERIES, true);
    if (!req)
        return r->ans->err.code;
    return run_and_answer(r, req, PVM_HOOK_METRIC_NAMES, PVM_RESPONSE_SERIES);
}

/* GET|POST /api/v1/labels?match[]=&start=&end=&limit= */
int pvm_api_labels(pvm_api_call *r)
{
    pvm_request *req = meta_request(r, PVM_REQUEST_LABEL_NAMES, false);
    if (!req)
        return r->ans->err.code;
    return run_and_answer(r, req, PVM_HOOK_LABEL_NAMES, PVM_RESPONSE_DATA);
}

/* GET /api/v1/label/<name>/values?match[]=&start=&end=&limit= */
int pvm_api_label_values(pvm_api_call *r)
{
    const char *name = NULL;
    size_t len = 0;
    if (pvm_label_name_unescape(r->a, r->route_arg, strlen(r->route_arg),
                                &name, &len) < 0)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
    bool names = strcmp(name, "__name__") == 0;
    r->ans->kind = names ? "metric names" : "label values";
    if (!pvm_label_name_is_valid(name, len) || strlen(name) != len)
        return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                             "invalid label name: \"%.200s\"", r->route_arg);
    pvm_request *req = meta_request(r,
                                    names ? PVM_REQUEST_METRIC_NAMES
                                          : PVM_REQUEST_LABEL_VALUES,
                                    false);
    if (!req)
        return r->ans->err.code;
    req->label_name = name;
    return run_and_answer(r, req,
                          names ? PVM_HOOK_METRIC_NAMES
                                : PVM_HOOK_LABEL_VALUES,
                          PVM_RESPONSE_DATA);
}
