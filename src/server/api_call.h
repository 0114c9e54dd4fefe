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
    pvm_context *ctx;               /* plugins and configuration */
    const pvm_server_config *cfg;   /* [server] settings */
    pvm_shm *shm;                   /* shared counters and worker slots
                                       (shm.h); NULL: no self-monitoring */
    int slot;                       /* this worker's slot in shm */
    const volatile sig_atomic_t *stopping; /* set when this process was
                                       told to stop (/-/ready: 503);
                                       NULL: never */
} pvm_api_env;

/* One request as the handlers outside api.c see it (api.c fills it after
 * routing and decoding the parameters). */
typedef struct pvm_api_call {
    const pvm_api_env *env;      /* server */
    pvm_arena *a;                /* request arena */
    const pvm_http_request *hr;  /* the HTTP request */
    const pvm_http_out *out;     /* where the answer goes */
    const pvm_kv *url;           /* decoded query string */
    size_t nurl;                 /* pairs in url */
    const pvm_kv *body;          /* decoded form body */
    size_t nbody;                /* pairs in body */
    size_t count;                /* out: results returned, for the log */
} pvm_api_call;

/* (api_call.c) The first value of key, body first, as Go's FormValue;
 * NULL when absent. */
const char *pvm_api_param(const pvm_api_call *c, const char *key);

/* (api_call.c) All values of key (body first) in an arena array; NULL
 * when out of memory. */
const char **pvm_api_params(const pvm_api_call *c, const char *key,
                            size_t *n);

/* (api_call.c) A plugin request of type for query q, with the HTTP
 * details of the call; times are left 0. NULL when out of memory. */
pvm_request *pvm_api_new_request(const pvm_api_call *c,
                                 pvm_request_type type, const pvm_query *q);

/* (api_call.c) The value of a request header (case-insensitive), or NULL. */
const char *pvm_http_header(const pvm_http_request *hr, const char *name);

/* (api_call.c) Current time, ms since the epoch. */
int64_t pvm_api_now_ms(void);

#endif
