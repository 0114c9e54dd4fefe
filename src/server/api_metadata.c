/* api_metadata.c: GET /api/v1/metadata from the plugins' metadata hooks
 * (see api_metadata.h). The answer follows Prometheus' metricMetadata in
 * web/api/v1/api.go: an object from metric name to its distinct
 * {type, help, unit} entries, `metric` selecting one name, `limit` the
 * number of names (negative: all, 0: none), `limit_per_metric` the
 * entries per name (0 or negative: all); a non-number is bad_data
 * "limit must be a number". Where Prometheus keeps whichever names its
 * maps yield first, pvm keeps the first by name and the first entries in
 * plugin order, so that answers are stable. */
#include <stdlib.h>
#include <string.h>

#include "api_metadata.h"
#include "json.h"
#include "output.h"
#include "query_impl.h"
#include "registry.h"

/* A selector text {__name__="metric"} with metric escaped. */
static char *name_selector(pvm_arena *a, const char *metric)
{
    size_t n = strlen(metric);
    char *s = pvm_arena_alloc(a, 2 * n + 16);
    if (!s)
        return NULL;
    char *p = s;
    memcpy(p, "{__name__=\"", 11);
    p += 11;
    for (const char *m = metric; *m; m++) {
        if (*m == '\\' || *m == '"')
            *p++ = '\\';
        if (*m == '\n') {
            *p++ = '\\';
            *p++ = 'n';
            continue;
        }
        *p++ = *m;
    }
    memcpy(p, "\"}", 3);
    return s;
}

pvm_response *pvm_api_collect_metadata(const pvm_api_call *c,
                                       const char *metric, pvm_error *err)
{
    const pvm_query *q = NULL;
    if (metric && *metric) {
        pvm_error perr = {0};
        const char *sel = name_selector(c->a, metric);
        if (sel)
            q = pvm_query_parse_selectors(c->a, &sel, 1, &perr);
    }
    if (!q) /* all names (also for a name no selector can spell) */
        q = pvm_query_new_empty(c->a);
    pvm_request *req = q ? pvm_api_new_request(c, PVM_REQUEST_METADATA, q)
                         : NULL;
    pvm_response *resp = req ? pvm_response_new(req, PVM_RESPONSE_METADATA, 0)
                             : NULL;
    if (!resp) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    req->time = req->start = req->end = pvm_api_now_ms();
    pvm_context_run_request_hook(c->env->ctx, PVM_HOOK_METADATA, req, resp);
    return resp;
}

int pvm_metadata_parse_limit(const char *s, long long *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return -1;
    unsigned long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (9223372036854775808ULL - (unsigned)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 9223372036854775807ULL + (neg ? 1ULL : 0ULL))
        return -1;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

/* Orders entries by name, then by position (the plugins' order). */
static int by_name(const void *x, const void *y)
{
    const pvm_metric_metadata *const *a = x, *const *b = y;
    int c = strcmp((*a)->name, (*b)->name);
    return c ? c : (*a < *b ? -1 : *a > *b);
}

static void write_entry(pvm_json *j, const pvm_metric_metadata *m)
{
    pvm_json_begin_object(j);
    pvm_json_key(j, "type");
    pvm_json_string(j, pvm_metric_type_name(m->type));
    pvm_json_key(j, "help");
    pvm_json_string(j, m->help ? m->help : "");
    pvm_json_key(j, "unit");
    pvm_json_string(j, m->unit ? m->unit : "");
    pvm_json_end_object(j);
}

/* GET /api/v1/metadata?metric=&limit=&limit_per_metric= */
int pvm_api_metadata(pvm_api_call *c)
{
    pvm_error *err = &c->ans->err;
    long long limit = -1, per_metric = -1;
    const char *s = pvm_api_param(c, "limit");
    if (s && *s && pvm_metadata_parse_limit(s, &limit) < 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "limit must be a number");
    s = pvm_api_param(c, "limit_per_metric");
    if (s && *s && pvm_metadata_parse_limit(s, &per_metric) < 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "limit_per_metric must be a number");
    const char *metric = pvm_api_param(c, "metric");
    pvm_response *resp = pvm_api_collect_metadata(c, metric, err);
    if (!resp)
        return err->code;
    if (resp->error_code) {
        pvm_answer_response_error(c->ans, resp);
        return pvm_output_error(c->out, resp->error_code, resp->error_msg,
                                resp->headers, resp->nheaders);
    }
    const pvm_metric_metadata **v = pvm_arena_alloc(c->a, (resp->nmeta + 1) *
                                                              sizeof(*v));
    if (!v)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < resp->nmeta; i++)
        if (!metric || !*metric || strcmp(resp->meta[i].name, metric) == 0)
            v[n++] = &resp->meta[i];
    qsort(v, n, sizeof(*v), by_name);
    pvm_json *j = pvm_output_begin_data(c->a, c->out);
    if (!j)
        return pvm_status_http(PVM_ERR_NOMEM);
    pvm_json_begin_object(j);
    long long names = 0;
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k < n && strcmp(v[k]->name, v[i]->name) == 0)
            k++;
        if (limit >= 0 && names >= limit)
            break;
        names++;
        pvm_json_key(j, v[i]->name);
        pvm_json_begin_array(j);
        for (size_t e = i; e < k; e++)
            if (per_metric <= 0 || (long long)(e - i) < per_metric)
                write_entry(j, v[e]);
        pvm_json_end_array(j);
        i = k;
    }
    pvm_json_end_object(j);
    pvm_output_end_data(j);
    c->ans->count = (size_t)names;
    return 200;
}
