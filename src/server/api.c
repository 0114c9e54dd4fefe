/* api.c: the router of the Prometheus HTTP API (GET|POST /api/v1/...,
 * /federate, /metrics, /-/healthy, /-/ready): the request path, the
 * plugins' on_request gates, one static route table, the form decoding,
 * and one log line and /metrics observation per request from the handler's
 * explicit answer (pvm_answer). The handlers live by concern in
 * api_query.c, api_series.c, api_status.c, api_metadata.c,
 * api_federate.c and remote/read.c. */

#include <string.h>
#include <strings.h>
#include <time.h>

#include <pvm/plugin.h>

#include "api.h"
#include "api_federate.h"
#include "api_metadata.h"
#include "api_query.h"
#include "api_series.h"
#include "api_status.h"
#include "cache.h"
#include "form.h"
#include "labels.h"
#include "metrics.h"
#include "output.h"
#include "registry.h"
#include "remote/read.h"

#define M_GET 0x1u  /* route accepts GET */
#define M_POST 0x2u /* route accepts POST */
#define M_HEAD                                                                \
    0x4u           /* HEAD (answered as GET; the web server drops the
                        body) */
#define M_RAW 0x8u /* the POST body is not a form: the handler reads it */

/* A handler: returns the HTTP status written, or a negative status with
 * c->ans->err filled and nothing written (see api.h). */
typedef int (*api_handler)(pvm_api_call *c);

static int decode_params(pvm_api_call *r, bool post);

/* ---- handlers outside the table ---------------------------------------- */

/* GET|POST <prefix>/federate?match[]= (api_federate.c) */
static int h_federate(pvm_api_call *r, unsigned method)
{
    r->ans->kind = "federate";
    r->ans->unit = "series";
    r->ans->route = "federate";
    if (!(method & (M_GET | M_POST | M_HEAD)))
        return pvm_error_set(&r->ans->err, PVM_ERR_METHOD,
                             "method %.20s not allowed for %s/federate "
                             "(use GET or POST)",
                             r->hr->method ? r->hr->method : "",
                             r->env->cfg->api_url_prefix);
    if (method == M_POST && r->hr->body_too_large)
        return pvm_error_set(&r->ans->err, PVM_ERR_TOO_LARGE,
                             "request body too large (over [server] "
                             "max_body_bytes = %zu bytes)",
                             r->env->cfg->max_body_bytes);
    if (decode_params(r, method == M_POST) < 0)
        return r->ans->err.code;
    const char *m = pvm_api_param(r, "match[]");
    r->ans->query = m ? m : "";
    return pvm_api_federate(r);
}

/* GET|HEAD <prefix>/-/healthy and <prefix>/-/ready (api_status.c):
 * answered first, before routing and before the plugins' on_request gates
 * (unless [server] gate_health_checks = yes), so that load balancers and
 * supervisors always get through. Returns the status written when path
 * was one of them, else 0. */
static int health_route(pvm_api_call *r, const char *path, unsigned method)
{
    const char *prefix = r->env->cfg->api_url_prefix;
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0)
        return 0;
    bool healthy = strcmp(path + pl, "/-/healthy") == 0;
    if (!healthy && strcmp(path + pl, "/-/ready") != 0)
        return 0;
    r->ans->kind = healthy ? "healthy" : "ready";
    r->ans->route = healthy ? "-/healthy" : "-/ready";
    if (!(method & (M_GET | M_HEAD))) {
        pvm_error_set(&r->ans->err, PVM_ERR_METHOD,
                      "method %.20s not allowed for %.200s (use GET)",
                      r->hr->method ? r->hr->method : "", path);
        return pvm_output_error(r->out, r->ans->err.code, r->ans->err.msg,
                                NULL, 0);
    }
    r->ans->count = 1;
    return healthy ? pvm_api_healthy(r) : pvm_api_ready(r);
}

/* POST /api/v1/read (snappy-compressed protobuf, remote/read.h) */
static int h_read(pvm_api_call *r)
{
    return pvm_remote_read(r->env, r->a, r->hr, r->out, r->ans);
}

/* GET <prefix><metrics_path> (default /metrics): self-monitoring in the
 * Prometheus text format, for the whole server (metrics.h). */
static int h_metrics(pvm_api_call *r, unsigned method)
{
    r->ans->kind = "metrics";
    r->ans->route = "metrics";
    if (method != M_GET)
        return pvm_error_set(&r->ans->err, PVM_ERR_METHOD,
                             "method %.20s not allowed for %s (use GET)",
                             r->hr->method ? r->hr->method : "",
                             r->env->cfg->metrics_path);
    static const pvm_kv no_store[] = {{"Cache-Control", "no-store"}};
    if (pvm_output_head(r->out, 200, PVM_METRICS_CONTENT_TYPE, NULL, no_store,
                        1) >= 0)
        pvm_metrics_write(r->env->shm, r->out);
    return 200; /* even when the client has gone */
}

/* ---- routing ----------------------------------------------------------- */

/* Routes below <prefix>/api/v1/. A '*' segment matches one path segment
 * (its text becomes route_arg). kind and unit go to the access log
 * (NULL: the handler sets them). */
static const struct route {
    unsigned methods;    /* M_GET | M_POST */
    const char *path;    /* path below /api/v1/ */
    api_handler handler; /* the handler */
    const char *kind;    /* request type for the log line */
    const char *unit;    /* what the logged count counts */
} routes[] = {
    {M_GET | M_POST, "query", pvm_api_query, "instant", "series"},
    {M_GET | M_POST, "query_range", pvm_api_query_range, "range", "series"},
    {M_GET | M_POST, "series", pvm_api_series, "series", "series"},
    {M_GET | M_POST, "labels", pvm_api_labels, "label names", "values"},
    {M_GET, "label/*/values", pvm_api_label_values, NULL, "values"},
    {M_GET | M_POST, "query_exemplars", pvm_api_query_exemplars, "exemplars",
     "exemplars"},
    {M_GET | M_POST, "format_query", pvm_api_format_query, "format",
     "queries"},
    {M_GET | M_POST, "parse_query", pvm_api_parse_query, "parse", "queries"},
    {M_GET, "status/buildinfo", pvm_api_buildinfo, "buildinfo", "values"},
    {M_GET, "status/flags", pvm_api_status_flags, "flags", "values"},
    {M_GET, "status/runtimeinfo", pvm_api_status_runtimeinfo, "runtimeinfo",
     "values"},
    {M_GET, "rules", pvm_api_rules, "rules", "groups"},
    {M_GET, "alerts", pvm_api_alerts, "alerts", "alerts"},
    {M_GET, "metadata", pvm_api_metadata, "metadata", "metrics"},
    {M_POST | M_RAW, "read", h_read, "remote read", "series"},
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
static const char *request_path(pvm_api_call *r)
{
    const pvm_http_request *hr = r->hr;
    if (hr->request_uri && *hr->request_uri) {
        const char *q = strchr(hr->request_uri, '?');
        size_t n = q ? (size_t)(q - hr->request_uri) : strlen(hr->request_uri);
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
static int decode_kv(pvm_api_call *r, const char *s, size_t len,
                     const pvm_kv **out, size_t *n)
{
    pvm_form f = {0};
    if (pvm_form_parse(&f, r->a, s, len, &r->ans->err) < 0)
        return r->ans->err.code;
    pvm_kv *kv = pvm_arena_calloc(r->a, f.n + 1, sizeof(*kv));
    if (!kv)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f.n; i++) {
        const pvm_form_pair *p = &f.pairs[i];
        if (strlen(p->key) != p->key_len || strlen(p->value) != p->value_len)
            return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                                 "invalid parameter \"%.100s\": contains a "
                                 "NUL byte",
                                 p->key);
        kv[i].key = p->key;
        kv[i].value = p->value;
    }
    *out = kv;
    *n = f.n;
    return 0;
}

/* Decodes the query string and, for POST, the body. */
static int decode_params(pvm_api_call *r, bool post)
{
    const pvm_http_request *hr = r->hr;
    const char *qs = hr->query_string;
    if (!qs && hr->request_uri && strchr(hr->request_uri, '?'))
        qs = strchr(hr->request_uri, '?') + 1;
    if (qs && decode_kv(r, qs, strlen(qs), &r->url, &r->nurl) < 0)
        return r->ans->err.code;
    if (!post || hr->body_len == 0)
        return 0;
    if (!is_form_type(hr->content_type))
        return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                             "unsupported Content-Type \"%.100s\" for a POST "
                             "body: send application/x-www-form-urlencoded",
                             hr->content_type ? hr->content_type : "");
    if (decode_kv(r, hr->body, hr->body_len, &r->body, &r->nbody) < 0)
        return r->ans->err.code;
    return 0;
}

/* The route pattern r->path would take ("metrics" for the self-monitoring
 * path), or NULL for an unknown path: to count a request answered before
 * routing under its endpoint. */
static const char *route_name(const pvm_api_call *r)
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
 * go on, or a negative status with r->ans->err set. */
static int run_gate(pvm_api_call *r)
{
    if (!has_gate(r->env->ctx))
        return 0;
    const pvm_query *q = pvm_query_new_empty(r->a);
    pvm_request *req = q ? pvm_api_route_request(r, PVM_REQUEST_HTTP, q)
                         : NULL;
    pvm_response *resp = req ? pvm_response_new(req, PVM_RESPONSE_DATA, 0)
                             : NULL;
    if (!resp)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOMEM, "out of memory");
    r->cache->gated = true; /* what a gate let through is not public */
    pvm_context_run_request_hook(r->env->ctx, PVM_HOOK_REQUEST, req, resp);
    if (!resp->error_code)
        return 0;
    r->ans->route = route_name(r);
    pvm_answer_response_error(r->ans, resp);
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
 * status with r->ans->err set. */
static int dispatch(pvm_api_call *r)
{
    const char *m = r->hr->method ? r->hr->method : "";
    unsigned method = method_of(r->hr);
    const char *path = r->path;
    int rc = health_route(r, path, method); /* here only when gated */
    if (rc)
        return rc;
    const char *prefix = r->env->cfg->api_url_prefix;
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) == 0 && strcmp(path + pl, "/federate") == 0)
        return h_federate(r, method);
    const char *mp = r->env->cfg->metrics_path;
    if (mp && *mp && strncmp(path, prefix, pl) == 0 &&
        strcmp(path + pl, mp) == 0)
        return h_metrics(r, method);
    if (strncmp(path, prefix, pl) != 0 ||
        strncmp(path + pl, "/api/v1/", 8) != 0)
        return pvm_error_set(&r->ans->err, PVM_ERR_NOT_FOUND,
                             "not found: %.200s (the API is served under "
                             "%s/api/v1/)",
                             path, prefix);
    const char *sub = path + pl + 8;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *arg = NULL;
        size_t arg_len = 0;
        if (!route_matches(routes[i].path, sub, &arg, &arg_len))
            continue;
        r->ans->route = routes[i].path;
        if (!(routes[i].methods & method))
            return pvm_error_set(&r->ans->err, PVM_ERR_METHOD,
                                 "method %.20s not allowed for %.200s "
                                 "(use %s)",
                                 m, path,
                                 !(routes[i].methods & M_GET) ? "POST"
                                 : routes[i].methods & M_POST ? "GET or POST"
                                                              : "GET");
        if (method == M_POST && r->hr->body_too_large)
            return pvm_error_set(&r->ans->err, PVM_ERR_TOO_LARGE,
                                 "request body too large (over [server] "
                                 "max_body_bytes = %zu bytes)",
                                 r->env->cfg->max_body_bytes);
        char *seg;
        size_t seg_len;
        if (arg) {
            if (pvm_path_unescape(r->a, arg, arg_len, &seg, &seg_len,
                                  &r->ans->err) < 0)
                return r->ans->err.code;
            if (strlen(seg) != seg_len)
                return pvm_error_set(&r->ans->err, PVM_ERR_BAD_DATA,
                                     "invalid label name: contains a NUL "
                                     "byte");
            r->route_arg = seg;
        }
        if (decode_params(r, method == M_POST &&
                                 !(routes[i].methods & M_RAW)) < 0)
            return r->ans->err.code;
        /* Logged whenever sent, even if another parameter is refused. */
        r->ans->query = pvm_api_param(r, "query");
        if (routes[i].kind)
            r->ans->kind = routes[i].kind;
        if (routes[i].unit)
            r->ans->unit = routes[i].unit;
        return routes[i].handler(r);
    }
    return pvm_error_set(&r->ans->err, PVM_ERR_NOT_FOUND,
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

/* The longest a request may work (ms): max_query_timeout, and at most 5/6
 * of request_timeout, so that a query stopped at its deadline still has
 * the time to answer 503 before the master kills the worker. */
int64_t pvm_api_max_work_ms(const pvm_server_config *cfg)
{
    int64_t ms = cfg->max_query_timeout_ms;
    if (cfg->request_timeout_ms > 0 && ms > cfg->request_timeout_ms / 6 * 5)
        ms = cfg->request_timeout_ms / 6 * 5;
    return ms > 0 ? ms : 1;
}

int pvm_api_handle(const pvm_api_env *env, pvm_arena *a,
                   const pvm_http_request *req, const pvm_http_out *out)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pvm_http_request fronted;
    if (env->cfg->ntrusted_proxies) /* the client behind a trusted proxy */
        req = with_client_addr(env, a, req, &fronted);
    pvm_answer ans = {.kind = "unknown", .unit = "values"};
    pvm_cache_state cache = {
        .max_age_s = env->cfg->cache_max_age_ms / 1000,
        .max_body = env->cfg->cache_max_body_bytes,
        .if_none_match = pvm_http_header(req, "If-None-Match"),
    };
    pvm_http_out cached_out = *out; /* the same sink, with cache headers */
    cached_out.cache = &cache;
    out = &cached_out;
    pvm_api_call r = {.env = env,
                      .a = a,
                      .hr = req,
                      .out = out,
                      .ans = &ans,
                      .cache = &cache};
    r.start_ms = (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000;
    r.deadline_ms = r.start_ms + pvm_api_max_work_ms(env->cfg);
    r.path = request_path(&r);
    int rc = 0;
    if (!r.path)
        rc = pvm_error_set(&ans.err, PVM_ERR_NOMEM, "out of memory");
    else if (!env->cfg->gate_health_checks) /* no gate unless configured */
        rc = health_route(&r, r.path, method_of(req));
    if (rc == 0 && (rc = run_gate(&r)) == 0)
        rc = dispatch(&r);
    if (rc < 0) {
        if (pvm_arena_is_exhausted(a) && ans.err.code != PVM_ERR_NOMEM)
            pvm_error_set(&ans.err, PVM_ERR_NOMEM, "%s",
                          PVM_MSG_TOO_MUCH_MEMORY);
        rc = pvm_output_error(out, ans.err.code, ans.err.msg, NULL, 0);
    }
    ans.status = rc;
    if (ans.err.code == PVM_ERR_PLUGIN && ans.failed)
        pvm_metrics_plugin_error(env->shm, pvm_plugin_name(ans.failed));
    double ms = elapsed_ms(&t0);
    pvm_metrics_observe(env->shm, ans.route, ans.status, ms / 1e3);
    if (env->cfg->access_log_level <= pvm_log_get_level() &&
        !env->cfg->access_log_off)
        pvm_log(env->cfg->access_log_level,
                "handled %s request in %.3fms, returning %zu %s [status=%d, "
                "path=\"%.200s\", query=\"%.200s\", client=%s]",
                ans.kind, ms, ans.count, ans.unit, ans.status,
                r.path ? r.path : "", ans.query ? ans.query : "",
                req->remote_addr ? req->remote_addr : "-");
    return ans.status;
}
