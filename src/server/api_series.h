/* api_series.h: /series, /labels and /label/<n>/values, and the series
 * that match match[] selectors, found by asking the plugins' query
 * hooks. */
#ifndef PVM_API_SERIES_H
#define PVM_API_SERIES_H

#include <stdbool.h>

#include "api_call.h"
#include "response_impl.h"

/* For each selector of proto->query, runs the query hooks over the
 * request's time range (the range hook over start..end at a coarse step
 * when has_range; else the instant hook at end, or now when end is the
 * default) and collects the distinct label sets into out (in the request
 * arena). Returns 0, or a negative status when a hook failed (*failed is
 * then that response, carrying its error and headers). */
int pvm_api_find_series(const pvm_api_env *env, const pvm_request *proto,
                        bool has_range, pvm_series_set *out,
                        pvm_response **failed, pvm_error *err);

/* With match[] selectors, makes a discovery answer agree with the series
 * the query hooks produce: /series gets their whole label sets (replacing
 * bare {__name__} entries), /labels and /label/<name>/values are taken from
 * them when any were found. Without match[] it does nothing. Returns 0 or
 * a negative status (resp then carries the error to answer). */
int pvm_api_refine_discovery(const pvm_api_env *env, pvm_request *req,
                             pvm_response *resp, bool has_range,
                             pvm_error *err);

/* The discovery endpoints. Each returns the HTTP status written, or a
 * negative status with c->ans->err filled and nothing written (api.h). */

/* GET|POST /api/v1/series?match[]=&start=&end=&limit= */
int pvm_api_series(pvm_api_call *c);

/* GET|POST /api/v1/labels?match[]=&start=&end=&limit= */
int pvm_api_labels(pvm_api_call *c);

/* GET /api/v1/label/<name>/values?match[]=&start=&end=&limit= (the name
 * is c->route_arg, path-unescaped) */
int pvm_api_label_values(pvm_api_call *c);

#endif
