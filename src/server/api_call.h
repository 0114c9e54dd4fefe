/* api_call.h: what the API handlers share: the server environment of a
 * request (pvm_api_env) and one routed call (pvm_api_call), with the
 * parameter and request helpers of api_call.c. */
#ifndef PVM_API_CALL_H
#define PVM_API_CALL_H

#include <signal.h>

#include <pvm/plugin.h>

#include "config.h"
#include "http.h"

typedef struct pvm_shm pvm_shm;

/* Everything a request needs from the server. */
typedef struct pvm_api_env {
    pvm_context *ctx;                      /* plugins and configuration */
    const pvm_server_config *cfg;          /* [server] settings */
    pvm_shm *shm;                          /* shared counters and worker slots
                                       (shm.h); NULL: no self-monitoring */
    int slot;                              /* this worker's slot in shm */
    const volatile sig_atomic_t *stopping; /* set when this process was
                                       told to stop (/-/ready: 503);
                                       NULL: never */
} pvm_api_env;

/* What a request was answered with, filled by its handler as it goes
 * and read by pvm_api_handle for the access log and /metrics: nothing is
 * parsed back out of the bytes written or out of a message. */
typedef struct pvm_answer {
    int status;               /* HTTP status written (0: not yet) */
    pvm_error err;            /* the error answered (code 0: none) */
    const pvm_plugin *failed; /* the instance whose hook failed or chose
                                   the error, as the registry recorded it
                                   (failed_plugin), or NULL; /metrics
                                   counts it when err is PVM_ERR_PLUGIN */
    const char *kind;         /* request type for the log ("instant") */
    const char *unit;         /* what count counts ("series") */
    size_t count;             /* results returned */
    const char *query;        /* query text for the log, or NULL */
    const char *route;        /* route for /metrics' handler label, or
                                   NULL ("other") */
} pvm_answer;

/* Notes in ans the error of a response a hook failed or chose: its code
 * and message, and the failing instance. */
void pvm_answer_response_error(pvm_answer *ans, const pvm_response *resp);

/* One request as the router (api.c) and the handlers see it: api.c fills
 * it while routing and decoding the parameters. Handlers are
 * `int h(pvm_api_call *c)` and return the HTTP status written, or a
 * negative pvm_status with c->ans->err filled and nothing written. */
typedef struct pvm_api_call {
    const pvm_api_env *env;     /* server */
    pvm_arena *a;               /* request arena */
    const pvm_http_request *hr; /* the HTTP request */
    const pvm_http_out *out;    /* where the answer goes */
    const char *path;           /* request path (no query string) */
    const char *route_arg;      /* <name> of label/<name>/values */
    const pvm_kv *url;          /* decoded query string */
    size_t nurl;                /* pairs in url */
    const pvm_kv *body;         /* decoded form body */
    size_t nbody;               /* pairs in body */
    pvm_answer *ans;            /* out: what was answered (count, the
                                    failing instance) */
    int64_t start_ms;           /* arrival, ms of CLOCK_MONOTONIC */
    int64_t deadline_ms;        /* answer by (pvm_request_deadline_ms) */
    pvm_cache_state *cache;     /* cacheability (cache.h): a handler
                                    whose times are explicit sets
                                    cache->candidate */
} pvm_api_call;

/* (api_call.c) The first value of key, body first, as Go's FormValue;
 * NULL when absent. */
const char *pvm_api_param(const pvm_api_call *c, const char *key);

/* (api_call.c) All values of key (body first) in an arena array; NULL
 * when out of memory. */
const char **pvm_api_params(const pvm_api_call *c, const char *key, size_t *n);

/* (api_call.c) A plugin request of type for query q, with the HTTP
 * details of the call; times are left 0. NULL when out of memory. */
pvm_request *pvm_api_new_request(const pvm_api_call *c, pvm_request_type type,
                                 const pvm_query *q);

/* (api_call.c) A plugin request for a routed API endpoint: as
 * pvm_api_new_request, with the request path (no query string) and no
 * label name. NULL when out of memory. */
pvm_request *pvm_api_route_request(const pvm_api_call *c,
                                   pvm_request_type type, const pvm_query *q);

/* (api_call.c) Prefixes c->ans->err's message with
 * `invalid parameter "name": `; returns its code (PVM_ERR_BAD_DATA when
 * none). */
int pvm_api_invalid_param(pvm_api_call *c, const char *name);

/* (api_call.c) Parameters as Prometheus parses them; each returns 0, or a
 * negative status with c->ans->err filled. A time (def when absent or
 * empty); the optional `timeout` (0 when absent); the optional `limit`
 * (0 when absent). */
int pvm_api_time_param(pvm_api_call *c, const char *name, int64_t def,
                       int64_t *out);
int pvm_api_timeout_param(pvm_api_call *c, int64_t *ms);
int pvm_api_limit_param(pvm_api_call *c, size_t *limit);

/* (api_call.c) The value of a request header (case-insensitive), or NULL. */
const char *pvm_http_header(const pvm_http_request *hr, const char *name);

/* (api_call.c) Current time, ms since the epoch. */
int64_t pvm_api_now_ms(void);

#endif
