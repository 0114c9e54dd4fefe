/* api.c: the Prometheus HTTP API (GET|POST /api/v1/...): one static route
 * table, parameter parsing as Prometheus does it, the plugin hooks, and
 * one log line per request. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <pvm/plugin.h>

#include "api.h"
#include "api_eval.h"
#include "api_federate.h"
#include "api_metadata.h"
#include "api_series.h"
#include "api_status.h"
#include "form.h"
#include "metrics.h"
#include "output.h"
#include "params.h"
#include "query_impl.h"
#include "registry.h"
#include "remote/read.h"

/* Prometheus' limit on points per series of a range query. */
#define MAX_POINTS_PER_SERIES 11000

#define M_GET 0x1u   /* route accepts GET */
#define M_POST 0x2u  /* route accepts POST */
#define M_HEAD 0x4u  /* HEAD (answered as GET; the web server drops the
                        body) */
#define M_RAW 0x8u   /* the POST body is not a form: the handler reads it */

/* State of one API request. */
typedef struct api_req {
    const pvm_api_env *env;       /* server */
    pvm_arena *a;                 /* request arena */
    const pvm_http_request *hr;   /* the HTTP request */
    const pvm_http_out *out;      /* where the answer goes */
    const char *route_arg;        /* <name> of label/<name>/values */
    pvm_kv *url;                  /* decoded query string */
    size_t nurl;                  /* pairs in url */
    pvm_kv *body;                 /* decoded form body */
    size_t nbody;                 /* pairs in body */
    pvm_answer ans;               /* what was answered (api.h) */
    const char *path;             /* request path (no query string) */
} api_req;

/* A handler: returns the HTTP status written, or a negative status with
 * r->ans.err filled and nothing written (see api.h). */
typedef int (*api_handler)(api_req *r);

static int decode_params(api_req *r, bool post);

/* ---- parameters -------------------------------------------------------- */

/* First value of key: the body first, then the query string, as Go's
 * Request.FormValue. NULL when absent. */
static const char *param(const api_req *r, const char *key)
{
    for (size_t i = 0; i < r->nbody; i++)
        if (strcmp(r->body[i].key, key) == 0)
            return r->body[i].value;
    for (size_t i = 0; i < r->nurl; i++)
        if (strcmp(r->url[i].key, key) == 0)
            return r->url[i].value;
    return NULL;
}

/* All values of key (body first), in an arena array. */
static const char **params_all(const api_req *r, const char *key, size_t *n)
{
    size_t k = 0;
    const char **v =
        pvm_arena_alloc(r->a, (r->nbody + r->nurl + 1) * sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < r->nbody; i++)
        if (strcmp(r->body[i].key, key) == 0)
            v[k++] = r->body[i].value;
    for (size_t i = 0; i < r->nurl; i++)
        if (strcmp(r->url[i].key, key) == 0)
            v[k++] = r->url[i].value;
    *n = k;
    return v;
}

/* Prefixes r->ans.err's message with `invalid parameter "name": `. */
static int invalid_param(api_req *r, const char *name)
{
    char msg[sizeof(r->ans.err.msg)];
    snprintf(msg, sizeof(msg), "invalid parameter \"%s\": %.*s", name,
             (int)(sizeof(msg) - 64), r->ans.err.msg);
    memcpy(r->ans.err.msg, msg, sizeof(msg));
    return r->ans.err.code ? r->ans.err.code : PVM_ERR_BAD_DATA;
}

/* A time parameter; def when absent. */
static int time_param(api_req *r, const char *name, int64_t def,
                      int64_t *out)
{
    const char *s = param(r, name);
    if (!s || !*s) {
        *out = def;
        return 0;
    }
    if (pvm_parse_time(s, out, &r->ans.err) < 0)
        return invalid_param(r, name);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The optional `timeout` parameter (0 when absent). */
static int timeout_param(api_req *r, int64_t *ms)
{
    const char *s = param(r, "timeout");
    *ms = 0;
    if (s && *s && pvm_parse_duration(s, ms, &r->ans.err) < 0)
        return invalid_param(r, "timeout");
    return 0;
}

static int limit_param(api_req *r, size_t *limit)
{
    const char *s = param(r, "limit");
    *limit = 0;
    if (s && pvm_parse_limit(s, limit, &r->ans.err) < 0)
        return r->ans.err.code;
    return 0;
}

/* ---- plugin requests --------------------------------------------------- */

/* Builds the pvm_request common part. */
static pvm_request *new_request(api_req *r, pvm_request_type type,
                                const pvm_query *q)
{
    pvm_request *req = pvm_arena_calloc(r->a, 1, sizeof(*req));
    if (!req)
        return NULL;
    req->type = type;
    req->arena = r->a;
    req->ctx = r->env->ctx;
    req->query = q;
    req->query_string = pvm_query_string(q);
    req->method = r->hr->method;
    req->path = r->path;
    req->remote = r->hr->remote_addr ? r->hr->remote_addr : "";
    req->headers = r->hr->headers;
    req->nheaders = r->hr->nheaders;
    req->url_params = r->url;
    req->nurl_params = r->nurl;
    req->body_params = r->body;
    req->nbody_params = r->nbody;
    return req;
}

/* Runs hook over req into a new response of type rtype and writes the
 * answer (or the error a plugin chose). */
static int run_and_answer(api_req *r, pvm_request *req, pvm_hook hook,
                          pvm_response_type rtype)
{
    pvm_response *resp =
        pvm_response_new(req, rtype, r->env->cfg->max_samples);
    if (!resp)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
    pvm_context_run_request_hook(r->env->ctx, hook, req, resp);
    bool has_range = param(r, "start") && param(r, "end");
    if (pvm_api_refine_discovery(r->env, req, resp, has_range, &r->ans.err) < 0 &&
        !resp->error_code)
        return r->ans.err.code;
    /* Every series has a name: /labels lists __name__ whenever plugins
     * report any label, as Prometheus does. */
    if (req->type == PVM_REQUEST_LABEL_NAMES && resp->values.n &&
        pvm_strlist_add(r->a, &resp->values, "__name__") < 0)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
    if (pvm_response_finish(resp) < 0) {
        pvm_answer_response_error(&r->ans, resp);
        return pvm_output_error(r->out, resp->error_code, resp->error_msg,
                                resp->headers, resp->nheaders);
    }
    r->ans.count = resp->nresults;
    return pvm_output_response(r->a, r->out, resp, req->limit);
}

/* Evaluates q with the engine and answers. */
static int evaluate(api_req *r, const pvm_query *q, bool range,
                    int64_t start, int64_t end, int64_t step, size_t limit,
                    int64_t timeout)
{
    pvm_request *proto = new_request(r, range ? PVM_REQUEST_RANGE
                                              : PVM_REQUEST_INSTANT, q);
    if (!proto)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
    pvm_eval_call call = {.env = r->env, .a = r->a, .proto = proto, .q = q,
                          .range = range, .start = start, .end = end,
                          .step = step, .limit = limit,
                          .timeout_ms = timeout};
    return pvm_api_eval(&call, r->out, &r->ans);
}

/* Parses the `query` parameter. */
static const pvm_query *query_param(api_req *r)
{
    const char *text = param(r, "query");
    r->ans.query = text;
    if (!text) {
        pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                      "missing parameter \"query\" (a PromQL expression)");
        return NULL;
    }
    const pvm_query *q = pvm_query_parse(r->a, text, &r->ans.err);
    if (!q)
        invalid_param(r, "query");
    return q;
}

/* ---- handlers ---------------------------------------------------------- */

/* GET|POST /api/v1/query?query=&time=&timeout=&limit= */
static int h_query(api_req *r)
{
    r->ans.kind = "instant";
    r->ans.unit = "series";
    int64_t t, timeout;
    size_t limit;
    if (time_param(r, "time", now_ms(), &t) < 0 ||
        timeout_param(r, &timeout) < 0 || limit_param(r, &limit) < 0)
        return r->ans.err.code;
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans.err.code;
    return evaluate(r, q, false, t, t, 0, limit, timeout);
}

/* Parses and checks start, end and step of a range query. */
static int range_params(api_req *r, int64_t *start, int64_t *end,
                        int64_t *step)
{
    const char *s;
    if (pvm_parse_time((s = param(r, "start")) ? s : "", start, &r->ans.err) < 0)
        return invalid_param(r, "start");
    if (pvm_parse_time((s = param(r, "end")) ? s : "", end, &r->ans.err) < 0)
        return invalid_param(r, "end");
    if (*end < *start)
        return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                             "invalid parameter \"end\": end timestamp must "
                             "not be before start time");
    if (pvm_parse_duration((s = param(r, "step")) ? s : "", step, &r->ans.err) < 0)
        return invalid_param(r, "step");
    if (*step <= 0 && strtod(s, NULL) > 0) {
        /* A positive step below our 1 ms resolution: Prometheus (ns)
         * rejects it for its point count unless start == end. */
        if (*end > *start)
            return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                                 "exceeded maximum resolution of 11,000 "
                                 "points per timeseries. Try decreasing the "
                                 "query resolution (?step=XX)");
        *step = 1;
    }
    if (*step <= 0)
        return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                             "invalid parameter \"step\": zero or negative "
                             "query resolution step widths are not "
                             "accepted. Try a positive integer");
    /* A span too long for int64 ms has too many points too (Go's
     * Time.Sub saturates; a plain subtraction would overflow). */
    int64_t span;
    if (__builtin_sub_overflow(*end, *start, &span) ||
        span / *step > MAX_POINTS_PER_SERIES)
        return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                             "exceeded maximum resolution of 11,000 points "
                             "per timeseries. Try decreasing the query "
                             "resolution (?step=XX)");
    return 0;
}

/* GET|POST /api/v1/query_range?query=&start=&end=&step=&timeout= */
static int h_query_range(api_req *r)
{
    r->ans.kind = "range";
    r->ans.unit = "series";
    int64_t start, end, step, timeout;
    if (range_params(r, &start, &end, &step) < 0 ||
        timeout_param(r, &timeout) < 0)
        return r->ans.err.code;
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans.err.code;
    return evaluate(r, q, true, start, end, step, 0, timeout);
}

/* The match[] selectors, start, end and limit of a metadata request. */
static pvm_request *meta_request(api_req *r, pvm_request_type type,
                                 bool need_match)
{
    size_t n, limit;
    int64_t start, end;
    const char **m = params_all(r, "match[]", &n);
    if (!m) {
        pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (need_match && n == 0) {
        pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                      "no match[] parameter provided");
        return NULL;
    }
    if (time_param(r, "start", PVM_MIN_TIME_MS, &start) < 0 ||
        time_param(r, "end", PVM_MAX_TIME_MS, &end) < 0 ||
        limit_param(r, &limit) < 0)
        return NULL;
    r->ans.query = n ? m[0] : "";
    const pvm_query *q = n ? pvm_query_parse_selectors(r->a, m, n, &r->ans.err)
                           : pvm_query_new_empty(r->a);
    if (!q) {
        if (r->ans.err.code != PVM_ERR_NOMEM)
            invalid_param(r, "match[]");
        return NULL;
    }
    pvm_request *req = new_request(r, type, q);
    if (!req) {
        pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    req->start = start;
    req->end = req->time = end;
    req->limit = limit;
    return req;
}

/* GET|POST /api/v1/series?match[]=&start=&end=&limit= */
static int h_series(api_req *r)
{
    r->ans.kind = "series";
    r->ans.unit = "series";
    pvm_request *req = meta_request(r, PVM_REQUEST_SERIES, true);
    if (!req)
        return r->ans.err.code;
    return run_and_answer(r, req, PVM_HOOK_METRIC_NAMES,
                          PVM_RESPONSE_SERIES);
}

/* GET|POST /api/v1/labels?match[]=&start=&end=&limit= */
static int h_labels(api_req *r)
{
    r->ans.kind = "label names";
    r->ans.unit = "values";
    pvm_request *req = meta_request(r, PVM_REQUEST_LABEL_NAMES, false);
    if (!req)
        return r->ans.err.code;
    return run_and_answer(r, req, PVM_HOOK_LABEL_NAMES, PVM_RESPONSE_DATA);
}

/* GET /api/v1/label/<name>/values?match[]=&start=&end=&limit= */
static int h_label_values(api_req *r)
{
    const char *name = NULL;
    size_t len = 0;
    if (pvm_label_name_unescape(r->a, r->route_arg, strlen(r->route_arg),
                                &name, &len) < 0)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
    bool names = strcmp(name, "__name__") == 0;
    r->ans.kind = names ? "metric names" : "label values";
    r->ans.unit = "values";
    if (!pvm_label_name_is_valid(name, len) || strlen(name) != len)
        return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                             "invalid label name: \"%.200s\"", r->route_arg);
    pvm_request *req = meta_request(
        r, names ? PVM_REQUEST_METRIC_NAMES : PVM_REQUEST_LABEL_VALUES, false);
    if (!req)
        return r->ans.err.code;
    req->label_name = name;
    return run_and_answer(r, req,
                          names ? PVM_HOOK_METRIC_NAMES
                                : PVM_HOOK_LABEL_VALUES,
                          PVM_RESPONSE_DATA);
}

/* GET|POST /api/v1/query_exemplars?query=&start=&end= */
static int h_query_exemplars(api_req *r)
{
    r->ans.kind = "exemplars";
    r->ans.unit = "exemplars";
    int64_t start, end;
    if (time_param(r, "start", PVM_MIN_TIME_MS, &start) < 0 ||
        time_param(r, "end", PVM_MAX_TIME_MS, &end) < 0)
        return r->ans.err.code;
    if (end < start)
        return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                             "invalid parameter \"end\": end timestamp must "
                             "not be before start time");
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans.err.code;
    /* No plugin hook serves exemplars: an empty list, or no data at all
     * for an expression without selectors, as Prometheus answers. */
    if (q->nselectors == 0)
        return pvm_output_success_no_data(r->a, r->out);
    return pvm_output_data_raw(r->a, r->out, "[]");
}

/* GET|POST /api/v1/format_query?query= */
static int h_format_query(api_req *r)
{
    r->ans.kind = "format";
    r->ans.unit = "queries";
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans.err.code;
    char *text = pvm_promql_format(r->a, q->expr);
    if (!text)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
    r->ans.count = 1;
    return pvm_output_data_string(r->a, r->out, text);
}

/* GET|POST /api/v1/parse_query?query= */
static int h_parse_query(api_req *r)
{
    r->ans.kind = "parse";
    r->ans.unit = "queries";
    const pvm_query *q = query_param(r);
    if (!q)
        return r->ans.err.code;
    r->ans.count = 1;
    return pvm_output_ast(r->a, r->out, q->expr);
}

/* GET /api/v1/status/buildinfo */
static int h_buildinfo(api_req *r)
{
    r->ans.kind = "buildinfo";
    r->ans.unit = "values";
    /* A Prometheus-like version for clients that gate features on it, and
     * deliberately no "features" key: Grafana reads one as Mimir. */
    return pvm_output_data_raw(
        r->a, r->out,
        "{\"version\":\"3.0.0\",\"revision\":\"pvm-" PACKAGE_VERSION
        "\",\"branch\":\"main\",\"buildUser\":\"pvm\","
        "\"buildDate\":\"" PVM_BUILD_DATE "\",\"goVersion\":\"none "
        "(prometheus-virtual-metrics " PACKAGE_VERSION ", C)\"}");
}

/* GET /api/v1/rules */
static int h_rules(api_req *r)
{
    r->ans.kind = "rules";
    r->ans.unit = "groups";
    return pvm_output_data_raw(r->a, r->out, "{\"groups\":[]}");
}

/* GET /api/v1/alerts */
static int h_alerts(api_req *r)
{
    r->ans.kind = "alerts";
    r->ans.unit = "alerts";
    return pvm_output_data_raw(r->a, r->out, "{\"alerts\":[]}");
}

/* A pvm_api_call for the handlers in other files. */
static pvm_api_call call_of(api_req *r)
{
    return (pvm_api_call){.env = r->env, .a = r->a, .hr = r->hr,
                          .out = r->out, .url = r->url, .nurl = r->nurl,
                          .body = r->body, .nbody = r->nbody,
                          .ans = &r->ans};
}

/* GET /api/v1/metadata?limit=&limit_per_metric=&metric= (api_metadata.c) */
static int h_metadata(api_req *r)
{
    r->ans.kind = "metadata";
    r->ans.unit = "metrics";
    pvm_api_call c = call_of(r);
    return pvm_api_metadata(&c);
}

/* GET /api/v1/status/flags (api_status.c) */
static int h_flags(api_req *r)
{
    r->ans.kind = "flags";
    pvm_api_call c = call_of(r);
    return pvm_api_status_flags(&c);
}

/* GET /api/v1/status/runtimeinfo (api_status.c) */
static int h_runtimeinfo(api_req *r)
{
    r->ans.kind = "runtimeinfo";
    pvm_api_call c = call_of(r);
    return pvm_api_status_runtimeinfo(&c);
}

/* GET|POST <prefix>/federate?match[]= (api_federate.c) */
static int h_federate(api_req *r, unsigned method)
{
    r->ans.kind = "federate";
    r->ans.unit = "series";
    r->ans.route = "federate";
    if (!(method & (M_GET | M_POST | M_HEAD)))
        return pvm_error_set(&r->ans.err, PVM_ERR_METHOD,
                             "method %.20s not allowed for %s/federate "
                             "(use GET or POST)",
                             r->hr->method ? r->hr->method : "",
                             r->env->cfg->api_url_prefix);
    if (method == M_POST && r->hr->body_too_large)
        return pvm_error_set(&r->ans.err, PVM_ERR_TOO_LARGE,
                             "request body too large (over [server] "
                             "max_body_bytes = %zu bytes)",
                             r->env->cfg->max_body_bytes);
    if (decode_params(r, method == M_POST) < 0)
        return r->ans.err.code;
    pvm_api_call c = call_of(r);
    const char *m = pvm_api_param(&c, "match[]");
    r->ans.query = m ? m : "";
    return pvm_api_federate(&c);
}

/* GET|HEAD <prefix>/-/healthy and <prefix>/-/ready (api_status.c):
 * answered first, before routing and before the plugins' on_request gates
 * (unless [server] gate_health_checks = yes), so that load balancers and
 * supervisors always get through. Returns the status written when path
 * was one of them, else 0. */
static int health_route(api_req *r, const char *path, unsigned method)
{
    const char *prefix = r->env->cfg->api_url_prefix;
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0)
        return 0;
    bool healthy = strcmp(path + pl, "/-/healthy") == 0;
    if (!healthy && strcmp(path + pl, "/-/ready") != 0)
        return 0;
    r->ans.kind = healthy ? "healthy" : "ready";
    r->ans.route = healthy ? "-/healthy" : "-/ready";
    if (!(method & (M_GET | M_HEAD))) {
        pvm_error_set(&r->ans.err, PVM_ERR_METHOD,
                      "method %.20s not allowed for %.200s (use GET)",
                      r->hr->method ? r->hr->method : "", path);
        return pvm_output_error(r->out, r->ans.err.code, r->ans.err.msg,
                                NULL, 0);
    }
    pvm_api_call c = call_of(r);
    r->ans.count = 1;
    return healthy ? pvm_api_healthy(&c) : pvm_api_ready(&c);
}

/* POST /api/v1/read (snappy-compressed protobuf, remote/read.h) */
static int h_read(api_req *r)
{
    r->ans.kind = "remote read";
    r->ans.unit = "series";
    return pvm_remote_read(r->env, r->a, r->hr, r->out, &r->ans);
}

/* GET <prefix><metrics_path> (default /metrics): self-monitoring in the
 * Prometheus text format, for the whole server (metrics.h). */
static int h_metrics(api_req *r, unsigned method)
{
    r->ans.kind = "metrics";
    r->ans.route = "metrics";
    if (method != M_GET)
        return pvm_error_set(&r->ans.err, PVM_ERR_METHOD,
                             "method %.20s not allowed for %s (use GET)",
                             r->hr->method ? r->hr->method : "",
                             r->env->cfg->metrics_path);
    static const pvm_kv no_store[] = {{"Cache-Control", "no-store"}};
    if (pvm_output_head(r->out, 200, PVM_METRICS_CONTENT_TYPE, NULL,
                        no_store, 1) >= 0)
        pvm_metrics_write(r->env->shm, r->out);
    return 200; /* even when the client has gone */
}

/* ---- routing ----------------------------------------------------------- */

/* Routes below <prefix>/api/v1/. A '*' segment matches one path segment
 * (its text becomes route_arg). */
static const struct route {
    unsigned methods;     /* M_GET | M_POST */
    const char *path;     /* path below /api/v1/ */
    api_handler handler;  /* the handler */
} routes[] = {
    {M_GET | M_POST, "query", h_query},
    {M_GET | M_POST, "query_range", h_query_range},
    {M_GET | M_POST, "series", h_series},
    {M_GET | M_POST, "labels", h_labels},
    {M_GET, "label/*/values", h_label_values},
    {M_GET | M_POST, "query_exemplars", h_query_exemplars},
    {M_GET | M_POST, "format_query", h_format_query},
    {M_GET | M_POST, "parse_query", h_parse_query},
    {M_GET, "status/buildinfo", h_buildinfo},
    {M_GET, "status/flags", h_flags},
    {M_GET, "status/runtimeinfo", h_runtimeinfo},
    {M_GET, "rules", h_rules},
    {M_GET, "alerts", h_alerts},
    {M_GET, "metadata", h_metadata},
    {M_POST | M_RAW, "read", h_read},
};

/* Matches path against pattern; sets *arg for a '*' segment. */
static bool route_matches(const char *pattern, const char *path,
                          const char **arg_start, size_t *arg_len)
{
    while (*pattern) {
        if (*pattern == '*') {
            const char *slash = strchr(path, '/');
            size_t n = slash ? (size_t)(slash - path) : strlen(path);
            if (n == 0)
                return false;
            *arg_start = path;
            *arg_len = n;
            path += n;
            pattern++;
            continue;
        }
        if (*pattern++ != *path++)
            return false;
    }
    return *path == '\0';
}

/* The request path (raw, not decoded): REQUEST_URI up to '?', which every
 * web server sets alike; else SCRIPT_NAME + PATH_INFO. */
static const char *request_path(api_req *r)
{
    const pvm_http_request *hr = r->hr;
    if (hr->request_uri && *hr->request_uri) {
        const char *q = strchr(hr->request_uri, '?');
        size_t n = q ? (size_t)(q - hr->request_uri)
                     : strlen(hr->request_uri);
        return pvm_arena_strndup(r->a, hr->request_uri, n);
    }
    return pvm_arena_sprintf(r->a, "%s%s",
                             hr->script_name ? hr->script_name : "",
                             hr->path_info ? hr->path_info : "");
}

static bool is_form_type(const char *ct)
{
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form) - 1;
    return ct && strncasecmp(ct, form, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Decodes an urlencoded string into key/value pairs in the arena.
 * Parameters with a NUL byte are refused: nothing downstream could see
 * past it. */
static int decode_kv(api_req *r, const char *s, size_t len, pvm_kv **out,
                     size_t *n)
{
    pvm_form f = {0};
    if (pvm_form_parse(&f, r->a, s, len, &r->ans.err) < 0)
        return r->ans.err.code;
    pvm_kv *kv = pvm_arena_calloc(r->a, f.n + 1, sizeof(*kv));
    if (!kv)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f.n; i++) {
        const pvm_form_pair *p = &f.pairs[i];
        if (strlen(p->key) != p->key_len || strlen(p->value) != p->value_len)
            return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                                 "invalid parameter \"%.100s\": contains a "
                                 "NUL byte", p->key);
        kv[i].key = p->key;
        kv[i].value = p->value;
    }
    *out = kv;
    *n = f.n;
    return 0;
}

/* Decodes the query string and, for POST, the body. */
static int decode_params(api_req *r, bool post)
{
    const pvm_http_request *hr = r->hr;
    const char *qs = hr->query_string;
    if (!qs && hr->request_uri && strchr(hr->request_uri, '?'))
        qs = strchr(hr->request_uri, '?') + 1;
    if (qs && decode_kv(r, qs, strlen(qs), &r->url, &r->nurl) < 0)
        return r->ans.err.code;
    if (!post || hr->body_len == 0)
        return 0;
    if (!is_form_type(hr->content_type))
        return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                             "unsupported Content-Type \"%.100s\" for a POST "
                             "body: send application/x-www-form-urlencoded",
                             hr->content_type ? hr->content_type : "");
    if (decode_kv(r, hr->body, hr->body_len, &r->body, &r->nbody) < 0)
        return r->ans.err.code;
    return 0;
}

/* The route pattern r->path would take ("metrics" for the self-monitoring
 * path), or NULL for an unknown path: to count a request answered before
 * routing under its endpoint. */
static const char *route_name(const api_req *r)
{
    const char *prefix = r->env->cfg->api_url_prefix;
    const char *mp = r->env->cfg->metrics_path;
    size_t pl = strlen(prefix);
    if (strncmp(r->path, prefix, pl) != 0)
        return NULL;
    const char *rest = r->path + pl;
    if (mp && *mp && strcmp(rest, mp) == 0)
        return "metrics";
    if (strncmp(rest, "/api/v1/", 8) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *arg = NULL;
        size_t arg_len = 0;
        if (route_matches(routes[i].path, rest + 8, &arg, &arg_len))
            return routes[i].path;
    }
    return NULL;
}

/* True when an instance has on_request (wrapped or not: the registry
 * calls every gate itself). */
static bool has_gate(const pvm_context *ctx)
{
    for (size_t i = 0; i < pvm_context_plugin_count(ctx); i++)
        if (pvm_plugin_request_hook(pvm_context_plugin_at(ctx, i),
                                    PVM_HOOK_REQUEST))
            return true;
    return false;
}

/* Runs the on_request gates (pvm/plugin.h) before anything else looks at
 * the request. Returns the status written when a gate answered (a chosen
 * error such as 401, or a 500 for a failing gate: it fails closed), 0 to
 * go on, or a negative status with r->ans.err set. */
static int run_gate(api_req *r)
{
    if (!has_gate(r->env->ctx))
        return 0;
    const pvm_query *q = pvm_query_new_empty(r->a);
    pvm_request *req = q ? new_request(r, PVM_REQUEST_HTTP, q) : NULL;
    pvm_response *resp = req ? pvm_response_new(req, PVM_RESPONSE_DATA, 0)
                             : NULL;
    if (!resp)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOMEM, "out of memory");
    pvm_context_run_request_hook(r->env->ctx, PVM_HOOK_REQUEST, req, resp);
    if (!resp->error_code)
        return 0;
    r->ans.route = route_name(r);
    pvm_answer_response_error(&r->ans, resp);
    return pvm_output_error(r->out, resp->error_code, resp->error_msg,
                            resp->headers, resp->nheaders);
}

/* The method as a route bit (M_GET, M_POST, M_HEAD), 0 for any other. */
static unsigned method_of(const pvm_http_request *hr)
{
    const char *m = hr->method ? hr->method : "";
    return strcmp(m, "GET") == 0    ? M_GET
           : strcmp(m, "POST") == 0 ? M_POST
           : strcmp(m, "HEAD") == 0 ? M_HEAD
                                    : 0;
}

/* Finds the route and runs it; returns the status written, or a negative
 * status with r->ans.err set. */
static int dispatch(api_req *r)
{
    const char *m = r->hr->method ? r->hr->method : "";
    unsigned method = method_of(r->hr);
    const char *path = r->path;
    int rc = health_route(r, path, method); /* here only when gated */
    if (rc)
        return rc;
    const char *prefix = r->env->cfg->api_url_prefix;
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) == 0 &&
        strcmp(path + pl, "/federate") == 0)
        return h_federate(r, method);
    const char *mp = r->env->cfg->metrics_path;
    if (mp && *mp && strncmp(path, prefix, pl) == 0 &&
        strcmp(path + pl, mp) == 0)
        return h_metrics(r, method);
    if (strncmp(path, prefix, pl) != 0 ||
        strncmp(path + pl, "/api/v1/", 8) != 0)
        return pvm_error_set(&r->ans.err, PVM_ERR_NOT_FOUND,
                             "not found: %.200s (the API is served under "
                             "%s/api/v1/)", path, prefix);
    const char *sub = path + pl + 8;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *arg = NULL;
        size_t arg_len = 0;
        if (!route_matches(routes[i].path, sub, &arg, &arg_len))
            continue;
        r->ans.route = routes[i].path;
        if (!(routes[i].methods & method))
            return pvm_error_set(&r->ans.err, PVM_ERR_METHOD,
                                 "method %.20s not allowed for %.200s "
                                 "(use %s)", m, path,
                                 !(routes[i].methods & M_GET) ? "POST"
                                 : routes[i].methods & M_POST ? "GET or POST"
                                                              : "GET");
        if (method == M_POST && r->hr->body_too_large)
            return pvm_error_set(&r->ans.err, PVM_ERR_TOO_LARGE,
                                 "request body too large (over [server] "
                                 "max_body_bytes = %zu bytes)",
                                 r->env->cfg->max_body_bytes);
        char *seg;
        size_t seg_len;
        if (arg) {
            if (pvm_path_unescape(r->a, arg, arg_len, &seg, &seg_len,
                                  &r->ans.err) < 0)
                return r->ans.err.code;
            if (strlen(seg) != seg_len)
                return pvm_error_set(&r->ans.err, PVM_ERR_BAD_DATA,
                                     "invalid label name: contains a NUL "
                                     "byte");
            r->route_arg = seg;
        }
        if (decode_params(r, method == M_POST &&
                                 !(routes[i].methods & M_RAW)) < 0)
            return r->ans.err.code;
        /* Logged whenever sent, even if another parameter is refused. */
        r->ans.query = param(r, "query");
        return routes[i].handler(r);
    }
    return pvm_error_set(&r->ans.err, PVM_ERR_NOT_FOUND,
                         "not found: %.200s (unknown API endpoint)", path);
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* req with remote_addr replaced by the client a trusted proxy names in
 * X-Forwarded-For or X-Real-IP ([server] trusted_proxies, proxy.h), in
 * *copy; req itself when nothing changes. */
static const pvm_http_request *with_client_addr(const pvm_api_env *env,
                                                pvm_arena *a,
                                                const pvm_http_request *req,
                                                pvm_http_request *copy)
{
    const char *client = pvm_proxy_client_addr(
        a, env->cfg->trusted_proxies, env->cfg->ntrusted_proxies,
        req->remote_addr, pvm_http_header(req, "X-Forwarded-For"),
        pvm_http_header(req, "X-Real-IP"));
    if (client == req->remote_addr)
        return req;
    *copy = *req;
    copy->remote_addr = client;
    return copy;
}

int pvm_api_handle(const pvm_api_env *env, pvm_arena *a,
                   const pvm_http_request *req, const pvm_http_out *out)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pvm_http_request fronted;
    if (env->cfg->ntrusted_proxies) /* the client behind a trusted proxy */
        req = with_client_addr(env, a, req, &fronted);
    api_req r = {.env = env, .a = a, .hr = req, .out = out,
                 .ans = {.kind = "unknown", .unit = "values"}};
    r.path = request_path(&r);
    int rc = 0;
    if (!r.path)
        rc = pvm_error_set(&r.ans.err, PVM_ERR_NOMEM, "out of memory");
    else if (!env->cfg->gate_health_checks) /* no gate unless configured */
        rc = health_route(&r, r.path, method_of(req));
    if (rc == 0 && (rc = run_gate(&r)) == 0)
        rc = dispatch(&r);
    if (rc < 0) {
        if (pvm_arena_is_exhausted(a) && r.ans.err.code != PVM_ERR_NOMEM)
            pvm_error_set(&r.ans.err, PVM_ERR_NOMEM, "%s",
                          PVM_MSG_TOO_MUCH_MEMORY);
        rc = pvm_output_error(out, r.ans.err.code, r.ans.err.msg, NULL, 0);
    }
    r.ans.status = rc;
    if (r.ans.err.code == PVM_ERR_PLUGIN && r.ans.failed)
        pvm_metrics_plugin_error(env->shm, pvm_plugin_name(r.ans.failed));
    double ms = elapsed_ms(&t0);
    pvm_metrics_observe(env->shm, r.ans.route, r.ans.status, ms / 1e3);
    if (env->cfg->access_log_level <= pvm_log_get_level() &&
        !env->cfg->access_log_off)
        pvm_log(env->cfg->access_log_level,
                "handled %s request in %.3fms, returning %zu %s [status=%d, "
                "path=\"%.200s\", query=\"%.200s\", client=%s]",
                r.ans.kind, ms, r.ans.count, r.ans.unit, r.ans.status,
                r.path ? r.path : "", r.ans.query ? r.ans.query : "",
                req->remote_addr ? req->remote_addr : "-");
    return r.ans.status;
}
