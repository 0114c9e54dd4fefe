/* metrics.h: self-monitoring in the Prometheus text format, served at
 * [server] api_url_prefix + metrics_path (default /metrics). The counters
 * live in shared memory (shm.h) so that every worker adds to the same
 * numbers and any worker can answer /metrics for the whole server. */
#ifndef PVM_METRICS_H
#define PVM_METRICS_H

#include <stdint.h>

#include <pvm/plugin.h>

#include "http.h"

#include "metrics_data.h"

typedef struct pvm_shm pvm_shm;

/* Registers the instance names of ctx (master, before forking; names
 * already known keep their counters across reloads). */
void pvm_metrics_register_plugins(pvm_shm *shm, const pvm_context *ctx);

/* Counts one answered request: route is the API route pattern ("query",
 * "label/ * /values", ...), "metrics" or NULL (other); status the HTTP
 * status; seconds its duration. shm NULL: nothing. */
void pvm_metrics_observe(pvm_shm *shm, const char *route, int status,
                         double seconds);

/* Counts a failed hook of the instance named plugin (NULL: "unknown"). */
void pvm_metrics_plugin_error(pvm_shm *shm, const char *plugin);

/* Counts a worker restart (master). */
void pvm_metrics_restart(pvm_shm *shm, pvm_restart_reason reason);

/* "crash", "exit", "timeout", "startup". */
const char *pvm_metrics_restart_name(pvm_restart_reason reason);

/* The Content-Type of pvm_metrics_write's text. */
#define PVM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes the body of the answer (text format 0.0.4) to out, after the
 * header block (output.h). Returns 200, or a negative value when writing
 * failed. */
int pvm_metrics_write(const pvm_shm *shm, const pvm_http_out *out);

#endif
