/* request.c: accessors of pvm_request (see pvm/request.h). */

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "request_impl.h"

pvm_request_type pvm_request_get_type(const pvm_request *r)
{
    return r->type;
}

const pvm_query *pvm_request_query(const pvm_request *r)
{
    return r->query;
}

const char *pvm_request_query_string(const pvm_request *r)
{
    return r->query_string ? r->query_string : "";
}

int64_t pvm_request_time(const pvm_request *r)
{
    return r->time;
}

int64_t pvm_request_start(const pvm_request *r)
{
    return r->start;
}

int64_t pvm_request_end(const pvm_request *r)
{
    return r->end;
}

int64_t pvm_request_step(const pvm_request *r)
{
    return r->step;
}

pvm_timestamps pvm_request_timestamps(const pvm_request *r)
{
    pvm_timestamps it = {0};
    if (r->type == PVM_REQUEST_RANGE && r->step > 0) {
        it.next = r->start;
        it.end = r->end;
        it.step = r->step;
        it.done = r->start > r->end;
    } else if (r->type == PVM_REQUEST_INSTANT) {
        it.next = it.end = r->time;
        it.step = 1;
    } else {
        it.done = true;
        it.step = 1;
    }
    return it;
}

bool pvm_timestamps_next(pvm_timestamps *it, int64_t *t)
{
    if (it->done)
        return false;
    *t = it->next;
    if (it->end - it->next < it->step)
        it->done = true;
    else
        it->next += it->step;
    return true;
}

size_t pvm_request_timestamp_count(const pvm_request *r)
{
    if (r->type == PVM_REQUEST_INSTANT)
        return 1;
    if (r->type != PVM_REQUEST_RANGE || r->step <= 0 || r->start > r->end)
        return 0;
    return (size_t)((r->end - r->start) / r->step) + 1;
}

const char *pvm_request_label_name(const pvm_request *r)
{
    return r->label_name ? r->label_name : "";
}

size_t pvm_request_limit(const pvm_request *r)
{
    return r->limit;
}

const char *pvm_request_http_method(const pvm_request *r)
{
    return r->method ? r->method : "";
}

const char *pvm_request_http_path(const pvm_request *r)
{
    return r->path ? r->path : "";
}

const char *pvm_request_http_remote(const pvm_request *r)
{
    return r->remote ? r->remote : "";
}

const char *pvm_request_http_header(const pvm_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].key, name) == 0)
            return r->headers[i].value;
    return NULL;
}

size_t pvm_request_http_header_count(const pvm_request *r)
{
    return r->nheaders;
}

void pvm_request_http_header_at(const pvm_request *r, size_t i,
                                const char **name, const char **value)
{
    *name = i < r->nheaders ? r->headers[i].key : NULL;
    *value = i < r->nheaders ? r->headers[i].value : NULL;
}

static const char *kv_get(const pvm_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

const char *pvm_request_http_query(const pvm_request *r, const char *key)
{
    return kv_get(r->url_params, r->nurl_params, key);
}

size_t pvm_request_http_query_count(const pvm_request *r)
{
    return r->nurl_params;
}

void pvm_request_http_query_at(const pvm_request *r, size_t i,
                               const char **key, const char **value)
{
    *key = i < r->nurl_params ? r->url_params[i].key : NULL;
    *value = i < r->nurl_params ? r->url_params[i].value : NULL;
}

const char *pvm_request_http_post_data(const pvm_request *r, const char *key)
{
    return kv_get(r->body_params, r->nbody_params, key);
}

size_t pvm_request_http_post_data_count(const pvm_request *r)
{
    return r->nbody_params;
}

void pvm_request_http_post_data_at(const pvm_request *r, size_t i,
                                   const char **key, const char **value)
{
    *key = i < r->nbody_params ? r->body_params[i].key : NULL;
    *value = i < r->nbody_params ? r->body_params[i].value : NULL;
}

pvm_context *pvm_request_context(const pvm_request *r)
{
    return r->ctx;
}

pvm_arena *pvm_request_arena(const pvm_request *r)
{
    return r->arena;
}

int64_t pvm_request_deadline_ms(const pvm_request *r)
{
    return r->deadline_ms;
}

int64_t pvm_request_remaining_ms(const pvm_request *r)
{
    if (!r->deadline_ms)
        return INT64_MAX;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return r->deadline_ms -
           ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
