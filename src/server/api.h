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

/* The longest any request may work, in ms: [server] max_query_timeout,
 * but at most 5/6 of request_timeout (when set), so that a query stopped
 * at its deadline answers Prometheus' 503 timeout error before the master
 * kills the worker. Each request's deadline (pvm_request_deadline_ms) is
 * its arrival plus this, or plus its `timeout` when shorter. */
int64_t pvm_api_max_work_ms(const pvm_server_config *cfg);

#endif
