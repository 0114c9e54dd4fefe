/* pvm/request.h: what a request hook receives. All strings and objects are
 * owned by the request and valid until the request ends. Times are
 * milliseconds since the Unix epoch, as in Prometheus. */
#ifndef PVM_REQUEST_H
#define PVM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/query.h>

typedef struct pvm_request pvm_request;
typedef struct pvm_context pvm_context;

typedef enum pvm_request_type {
    PVM_REQUEST_INSTANT,      /* /api/v1/query */
    PVM_REQUEST_RANGE,        /* /api/v1/query_range */
    PVM_REQUEST_SERIES,       /* /api/v1/series */
    PVM_REQUEST_METRIC_NAMES, /* /api/v1/label/__name__/values */
    PVM_REQUEST_LABEL_NAMES,  /* /api/v1/labels */
    PVM_REQUEST_LABEL_VALUES, /* /api/v1/label/<name>/values */
    PVM_REQUEST_HTTP,         /* any request, before routing (on_request) */
    PVM_REQUEST_METADATA,     /* /api/v1/metadata, /federate (metadata) */
} pvm_request_type;

pvm_request_type pvm_request_get_type(const pvm_request *r);

/* The parsed query (never NULL; see pvm/query.h). */
const pvm_query *pvm_request_query(const pvm_request *r);

/* The `query` parameter, or for series and label requests the first
 * match[] ("" when absent). */
const char *pvm_request_query_string(const pvm_request *r);

/* Evaluation time of an instant query (default: now). For range queries,
 * equal to end. An instant hook answers per series either a value
 * computed at `time` (stamped `time`) or the latest stored sample in
 * (time - lookback_delta, time] at its own timestamp (see
 * pvm_context_lookback_ms and the sample timestamps in pvm/response.h). */
int64_t pvm_request_time(const pvm_request *r);

/* Range of a range query (start <= end), or of a series/label request
 * (defaults: the widest representable range). For an instant query both
 * equal the evaluation time. */
int64_t pvm_request_start(const pvm_request *r);
int64_t pvm_request_end(const pvm_request *r);

/* Step of a range query in ms (> 0); 0 for other requests. */
int64_t pvm_request_step(const pvm_request *r);

/* Iterates the timestamps start, start+step, ... <= end of a range query
 * (just `time` for an instant query). For a query the server chooses a
 * grid that contains every step of the client's query (start + k * step,
 * whatever end the client sent), so values computed at these timestamps
 * are the values of its steps:
 *     pvm_timestamps it = pvm_request_timestamps(req);
 *     int64_t t;
 *     while (pvm_timestamps_next(&it, &t)) ...                           */
typedef struct pvm_timestamps {
    int64_t next; /* next timestamp to yield */
    int64_t end;  /* last timestamp that may be yielded */
    int64_t step; /* distance between timestamps (> 0) */
    bool done;    /* true once exhausted */
} pvm_timestamps;

pvm_timestamps pvm_request_timestamps(const pvm_request *r);
bool pvm_timestamps_next(pvm_timestamps *it, int64_t *t);

/* Number of timestamps the iterator yields. */
size_t pvm_request_timestamp_count(const pvm_request *r);

/* The label of /api/v1/label/<name>/values (unescaped), else "". */
const char *pvm_request_label_name(const pvm_request *r);

/* The `limit` parameter (0 = none). */
size_t pvm_request_limit(const pvm_request *r);

/* HTTP details. */
const char *pvm_request_http_method(const pvm_request *r); /* "GET" */
const char *pvm_request_http_path(const pvm_request *r);   /* no query */
const char *pvm_request_http_remote(const pvm_request *r); /* client IP */

/* A request header by name, case-insensitive ("Authorization"), or NULL. */
const char *pvm_request_http_header(const pvm_request *r, const char *name);

/* Reads the user name and password of the request's
 * `Authorization: Basic BASE64(user:password)` header (the original's
 * get_credentials) into the caller's buffers (ulen and plen bytes,
 * NUL-terminated; the password is the part after the first colon and may
 * contain colons). Returns 0, or
 *   PVM_ERR_NOT_FOUND  no Authorization header, or not the Basic scheme;
 *   PVM_ERR_BAD_DATA   bad base64, no colon, a NUL byte, or a part that
 *                      does not fit its buffer.
 * On error both buffers hold "". The scheme is matched case-insensitively
 * (RFC 7617). The function keeps no copy; wipe the password buffer
 * (explicit_bzero) when done with it. The basic_auth plugin checks every
 * request with it; plugins that check users themselves use it too. */
int pvm_request_basic_credentials(const pvm_request *req, char *user,
                                  size_t ulen, char *pass, size_t plen);

/* Iterates all headers (names as sent, e.g. "User-Agent"). */
size_t pvm_request_http_header_count(const pvm_request *r);
void pvm_request_http_header_at(const pvm_request *r, size_t i,
                                const char **name, const char **value);

/* Decoded parameters from the URL query string and from a urlencoded
 * POST body. _get returns the first value of a key or NULL; _at iterates
 * all pairs in order, repeated keys included. */
const char *pvm_request_http_query(const pvm_request *r, const char *key);
size_t pvm_request_http_query_count(const pvm_request *r);
void pvm_request_http_query_at(const pvm_request *r, size_t i,
                               const char **key, const char **value);
const char *pvm_request_http_post_data(const pvm_request *r, const char *key);
size_t pvm_request_http_post_data_count(const pvm_request *r);
void pvm_request_http_post_data_at(const pvm_request *r, size_t i,
                                   const char **key, const char **value);

/* The server context (configuration, plugins, logger). */
pvm_context *pvm_request_context(const pvm_request *r);

/* The request's arena: memory that lives until the request ends. */
pvm_arena *pvm_request_arena(const pvm_request *r);

/* The time by which the request must be answered, in milliseconds of
 * CLOCK_MONOTONIC (the clock of clock_gettime(CLOCK_MONOTONIC, ...), not
 * the epoch), or 0 when it has none. For query and query_range it is the
 * query's `timeout` (at most [server] max_query_timeout) from the
 * request's arrival; for every request it is at most max_query_timeout,
 * and never later than 5/6 of [server] request_timeout, when the master
 * would kill the worker. The same for every hook of the request. */
int64_t pvm_request_deadline_ms(const pvm_request *r);

/* Milliseconds left until the deadline: <= 0 when it has passed,
 * INT64_MAX when the request has none. A hook whose work can take long
 * (a slow database, a big computation) checks it now and then and stops
 * when it is used up; the server answers a query past its deadline with
 * Prometheus' 503 timeout error whatever the hook returns. To answer
 * with that error at once:
 *     if (pvm_request_remaining_ms(req) <= 0)
 *         return pvm_response_set_error(resp, PVM_ERR_TIMEOUT,
 *                                       "query timed out in my_plugin");  */
int64_t pvm_request_remaining_ms(const pvm_request *r);

#endif
