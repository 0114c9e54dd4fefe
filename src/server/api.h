/* api.h: the Prometheus HTTP API: routing, parameters, plugin hooks and
 * the JSON answer, for one request. What the handlers share (the server
 * environment, one call) is in api_call.h. */
#ifndef PVM_API_H
#define PVM_API_H

#include <pvm/plugin.h>

#include "api_call.h"
#include "http.h"

/* Answers one HTTP request through out, using arena a for everything it
 * allocates (the caller frees it afterwards). Always writes a complete
 * response (an error envelope when something fails). Returns the HTTP
 * status written. */
int pvm_api_handle(const pvm_api_env *env, pvm_arena *a,
                   const pvm_http_request *req, const pvm_http_out *out);

#endif
