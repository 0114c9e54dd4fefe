/* api_federate.h: GET <prefix>/federate?match[]=...: the latest sample of
 * every series the match[] selectors select, in the Prometheus text
 * exposition format 0.0.4 or, when the Accept header prefers it,
 * OpenMetrics 1.0, for Prometheus' and vmagent's scrapes (federation). */
#ifndef PVM_API_FEDERATE_H
#define PVM_API_FEDERATE_H

#include <stdbool.h>

#include "api_call.h"

/* True when an Accept header value asks for OpenMetrics at least as much
 * as for the text format (by q-values; absent or NULL: false). */
bool pvm_federate_wants_openmetrics(const char *accept);

/* The metric family a series named name belongs to, with the type and
 * metadata written for it: the declared family whose samples may carry
 * that name (NAME_total of a counter, NAME_bucket/_sum/_count of a
 * histogram, ...), else the name itself, untyped. The text format
 * (om false) names counters by their sample name and writes the types it
 * lacks (info, stateset, gaugehistogram) as untyped. */
typedef struct pvm_federate_family {
    const char *name;                /* family name (arena or borrowed) */
    pvm_metric_type type;            /* type written */
    const pvm_metric_metadata *meta; /* HELP/UNIT source, or NULL */
} pvm_federate_family;

void pvm_federate_family_of(pvm_arena *a, const char *name,
                            const pvm_metric_metadata *meta, size_t nmeta,
                            bool om, pvm_federate_family *out);

/* Escapes a label value (\\, \", \n) or, with help set, HELP text (\\
 * and \n; \" too when om) into an arena string. NULL when out of
 * memory. */
char *pvm_federate_escape(pvm_arena *a, const char *s, bool help, bool om);

/* GET|POST <prefix>/federate?match[]= : writes the answer or an error.
 * Returns the HTTP status written, or a negative status with c->ans->err
 * filled and nothing written. c->ans->count receives the number of series
 * written, c->ans->failed the instance whose hook failed. */
int pvm_api_federate(pvm_api_call *c);

#endif
