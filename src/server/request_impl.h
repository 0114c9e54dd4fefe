/* request_impl.h: the server side of pvm_request. The pipeline fills one
 * per request (all in the request arena); plugins read it through the
 * accessors of pvm/request.h. */
#ifndef PVM_REQUEST_IMPL_H
#define PVM_REQUEST_IMPL_H

#include <pvm/request.h>

/* A decoded key/value pair (query string, body, headers). */
typedef struct pvm_kv {
    const char *key;   /* NUL-terminated */
    const char *value; /* NUL-terminated */
} pvm_kv;

/* Earliest and latest times the API accepts (Prometheus' MinTime and
 * MaxTime, in ms); the defaults of start/end for series and labels. */
#define PVM_MIN_TIME_MS (-9223309901257974LL)
#define PVM_MAX_TIME_MS (9223309901257974LL)

typedef struct pvm_cache_state pvm_cache_state; /* cache.h */

struct pvm_request {
    pvm_request_type type;     /* which endpoint */
    pvm_arena *arena;          /* owns everything here */
    pvm_context *ctx;          /* server context */
    const pvm_query *query;    /* parsed query / match[] selectors */
    const char *query_string;  /* `query` or first match[] ("" if none) */
    int64_t time;              /* instant evaluation time, ms */
    int64_t start;             /* range start, ms */
    int64_t end;               /* range end, ms */
    int64_t step;              /* range step, ms (0 if not a range) */
    const char *label_name;    /* label of label/<name>/values, or "" */
    size_t limit;              /* `limit` parameter, 0 = none */
    const char *method;        /* HTTP method */
    const char *path;          /* request path without query string */
    const char *remote;        /* client address */
    const pvm_kv *headers;     /* request headers, names as sent */
    size_t nheaders;           /* number of headers */
    const pvm_kv *url_params;  /* decoded query string pairs */
    size_t nurl_params;        /* number of url_params */
    const pvm_kv *body_params; /* decoded urlencoded body pairs */
    size_t nbody_params;       /* number of body_params */
    int64_t deadline_ms;       /* answer by this CLOCK_MONOTONIC time
                                   (ms), 0 = none (see api.c) */
    pvm_cache_state *cache;    /* the HTTP request's cacheability
                                   (cache.h), shared by the copies made
                                   per selector; NULL: not tracked */
};

#endif
