/* api_call.c: what the handlers outside api.c share (see api_call.h):
 * parameters, plugin requests and headers of one API call. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_call.h"
#include "params.h"
#include "query_impl.h"
#include "response_impl.h"

void pvm_answer_response_error(pvm_answer *ans, const pvm_response *resp)
{
    ans->err.code = resp->error_code;
    snprintf(ans->err.msg, sizeof(ans->err.msg), "%s", resp->error_msg);
    ans->failed = resp->failed_plugin;
}

const char *pvm_api_param(const pvm_api_call *c, const char *key)
{
    for (size_t i = 0; i < c->nbody; i++)
        if (strcmp(c->body[i].key, key) == 0)
            return c->body[i].value;
    for (size_t i = 0; i < c->nurl; i++)
        if (strcmp(c->url[i].key, key) == 0)
            return c->url[i].value;
    return NULL;
}

const char **pvm_api_params(const pvm_api_call *c, const char *key, size_t *n)
{
    size_t k = 0;
    const char **v = pvm_arena_alloc(c->a,
                                     (c->nbody + c->nurl + 1) * sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < c->nbody; i++)
        if (strcmp(c->body[i].key, key) == 0)
            v[k++] = c->body[i].value;
    for (size_t i = 0; i < c->nurl; i++)
        if (strcmp(c->url[i].key, key) == 0)
            v[k++] = c->url[i].value;
    *n = k;
    return v;
}

pvm_request *pvm_api_new_request(const pvm_api_call *c, pvm_request_type type,
                                 const pvm_query *q)
{
    pvm_request *req = pvm_arena_calloc(c->a, 1, sizeof(*req));
    if (!req)
        return NULL;
    req->type = type;
    req->arena = c->a;
    req->ctx = c->env->ctx;
    req->query = q;
    req->query_string = pvm_query_string(q);
    req->label_name = "";
    req->method = c->hr->method;
    req->path = c->hr->request_uri;
    req->remote = c->hr->remote_addr ? c->hr->remote_addr : "";
    req->headers = c->hr->headers;
    req->nheaders = c->hr->nheaders;
    req->url_params = c->url;
    req->nurl_params = c->nurl;
    req->body_params = c->body;
    req->nbody_params = c->nbody;
    req->deadline_ms = c->deadline_ms;
    req->cache = c->cache;
    return req;
}

const char *pvm_http_header(const pvm_http_request *hr, const char *name)
{
    for (size_t i = 0; i < hr->nheaders; i++)
        if (strcasecmp(hr->headers[i].key, name) == 0)
            return hr->headers[i].value;
    return NULL;
}

int64_t pvm_api_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pvm_request *pvm_api_route_request(const pvm_api_call *c,
                                   pvm_request_type type, const pvm_query *q)
{
    pvm_request *req = pvm_api_new_request(c, type, q);
    if (!req)
        return NULL;
    req->path = c->path;
    req->label_name = NULL;
    return req;
}

int pvm_api_invalid_param(pvm_api_call *c, const char *name)
{
    pvm_error *err = &c->ans->err;
    char msg[sizeof(err->msg)];
    snprintf(msg, sizeof(msg), "invalid parameter \"%s\": %.*s", name,
             (int)(sizeof(msg) - 64), err->msg);
    memcpy(err->msg, msg, sizeof(msg));
    return err->code ? err->code : PVM_ERR_BAD_DATA;
}

int pvm_api_time_param(pvm_api_call *c, const char *name, int64_t def,
                       int64_t *out)
{
    const char *s = pvm_api_param(c, name);
    if (!s || !*s) {
        *out = def;
        return 0;
    }
    if (pvm_parse_time(s, out, &c->ans->err) < 0)
        return pvm_api_invalid_param(c, name);
    return 0;
}

int pvm_api_timeout_param(pvm_api_call *c, int64_t *ms)
{
    const char *s = pvm_api_param(c, "timeout");
    *ms = 0;
    if (s && *s && pvm_parse_duration(s, ms, &c->ans->err) < 0)
        return pvm_api_invalid_param(c, "timeout");
    return 0;
}

int pvm_api_limit_param(pvm_api_call *c, size_t *limit)
{
    const char *s = pvm_api_param(c, "limit");
    *limit = 0;
    if (s && pvm_parse_limit(s, limit, &c->ans->err) < 0)
        return c->ans->err.code;
    return 0;
}
