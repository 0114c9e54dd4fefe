/* api.h: the Prometheus HTTP API: routing, parameters, plugin hooks and
 * the JSON answer, for one request. */
#ifndef PVM_API_H
#define PVM_API_H

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
} pvm_api_env;

/* Answers one HTTP request through out, using arena a for everything it
 * allocates (the caller frees it afterwards). Always writes a complete
 * response (an error envelope when something fails). Returns the HTTP
 * status written. */
int pvm_api_handle(const pvm_api_env *env, pvm_arena *a,
                   const pvm_http_request *req, const pvm_http_out *out);

#endif
