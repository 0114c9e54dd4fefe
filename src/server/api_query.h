/* api_query.h: the PromQL endpoints of the API. Each handler returns the
 * HTTP status written, or a negative status with c->ans->err filled and
 * nothing written (api.h); c->ans->count receives the results. */
#ifndef PVM_API_QUERY_H
#define PVM_API_QUERY_H

#include "api_call.h"

/* GET|POST /api/v1/query?query=&time=&timeout=&limit= */
int pvm_api_query(pvm_api_call *c);

/* GET|POST /api/v1/query_range?query=&start=&end=&step=&timeout= */
int pvm_api_query_range(pvm_api_call *c);

/* GET|POST /api/v1/query_exemplars?query=&start=&end= : no plugin hook
 * serves exemplars, so an empty list (or no data for an expression
 * without selectors). */
int pvm_api_query_exemplars(pvm_api_call *c);

/* GET|POST /api/v1/format_query?query= */
int pvm_api_format_query(pvm_api_call *c);

/* GET|POST /api/v1/parse_query?query= : the AST as JSON. */
int pvm_api_parse_query(pvm_api_call *c);

#endif
