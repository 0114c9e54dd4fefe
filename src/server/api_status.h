/* api_status.h: operating endpoints: health and readiness for load
 * balancers and supervisors (/-/healthy, /-/ready, outside the API and
 * before anything a plugin decides), and /api/v1/status/flags and
 * /api/v1/status/runtimeinfo in Prometheus' JSON shapes. */
#ifndef PVM_API_STATUS_H
#define PVM_API_STATUS_H

#include <stdbool.h>

#include "api_call.h"

/* True when this process serves with every plugin instance started and
 * is not stopping (nor is its master); else *why says which ("starting",
 * "stopping"). */
bool pvm_api_is_ready(const pvm_api_env *env, const char **why);

/* GET|HEAD <prefix>/-/healthy: 200 "pvm is Healthy." while the process
 * answers. Returns the status written. */
int pvm_api_healthy(pvm_api_call *c);

/* GET|HEAD <prefix>/-/ready: 200 "pvm is Ready." or 503. Returns the
 * status written. */
int pvm_api_ready(pvm_api_call *c);

/* GET /api/v1/status/flags: the effective settings, as a string map.
 * Returns the HTTP status written. */
int pvm_api_status_flags(pvm_api_call *c);

/* GET /api/v1/status/runtimeinfo. Returns the HTTP status written. */
int pvm_api_status_runtimeinfo(pvm_api_call *c);

/* GET /api/v1/status/buildinfo: a Prometheus-like version. GET
 * /api/v1/rules and /api/v1/alerts: empty lists (pvm has neither). Each
 * returns the HTTP status written. */
int pvm_api_buildinfo(pvm_api_call *c);
int pvm_api_rules(pvm_api_call *c);
int pvm_api_alerts(pvm_api_call *c);

#endif
