/* api_metadata.h: metric metadata (HELP, TYPE, UNIT) from the plugins'
 * on_metadata_request hooks: GET /api/v1/metadata, and the lookup that
 * /federate uses for its # HELP/# TYPE/# UNIT lines. */
#ifndef PVM_API_METADATA_H
#define PVM_API_METADATA_H

#include "api_call.h"
#include "response_impl.h"

/* Runs every instance's on_metadata_request into a new METADATA response
 * (in c's arena). metric: the one metric name asked for, or NULL/"" for
 * all. Returns the response; its error_code is set when a hook failed
 * (answer with its message and headers). NULL with err when out of
 * memory. */
pvm_response *pvm_api_collect_metadata(const pvm_api_call *c,
                                       const char *metric, pvm_error *err);

/* Parses a limit as Go's strconv.Atoi (optional sign, decimal digits,
 * 64-bit range). 0, or -1 on bad syntax. */
int pvm_metadata_parse_limit(const char *s, long long *out);

/* GET /api/v1/metadata?metric=&limit=&limit_per_metric= : writes the
 * answer (or an error envelope). Returns the HTTP status written, or a
 * negative status with c->ans->err filled and nothing written. */
int pvm_api_metadata(pvm_api_call *c);

#endif
