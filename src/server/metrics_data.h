/* metrics_data.h: the self-monitoring counters as they lie in shared
 * memory (a part of pvm_shm, shm.h); metrics.c updates and writes them. */
#ifndef PVM_METRICS_DATA_H
#define PVM_METRICS_DATA_H

#include <stdint.h>

/* Handlers counted separately: the API routes, /metrics, and everything
 * else ("other": unknown paths). See the table in metrics.c. */
#define PVM_METRICS_HANDLERS 20
/* HTTP status codes counted separately; others count as the last one. */
#define PVM_METRICS_CODES 14
/* Duration histogram buckets, +Inf excluded. */
#define PVM_METRICS_BUCKETS 13
/* Plugin instances whose errors are counted by name. */
#define PVM_METRICS_PLUGINS 64
#define PVM_METRICS_PLUGIN_NAME 64

/* Why the master replaced a worker. */
typedef enum pvm_restart_reason {
    PVM_RESTART_CRASH,   /* killed by a signal (segfault, abort, ...) */
    PVM_RESTART_EXIT,    /* exited by itself while it should serve */
    PVM_RESTART_TIMEOUT, /* busy longer than [server] request_timeout */
    PVM_RESTART_STARTUP, /* on_startup failed in the worker */
    PVM_RESTART_NREASONS
} pvm_restart_reason;

/* The counters (all updated atomically; part of pvm_shm). */
typedef struct pvm_metrics_data {
    uint64_t requests[PVM_METRICS_HANDLERS][PVM_METRICS_CODES];  /* count */
    uint64_t buckets[PVM_METRICS_HANDLERS][PVM_METRICS_BUCKETS]; /* le */
    uint64_t duration_us[PVM_METRICS_HANDLERS];    /* sum of durations, µs */
    uint64_t duration_count[PVM_METRICS_HANDLERS]; /* observations */
    uint64_t restarts[PVM_RESTART_NREASONS];       /* worker restarts */
    uint64_t reloads_ok;                           /* SIGHUP reloads applied */
    uint64_t reloads_failed;     /* SIGHUP reloads rejected */
    uint64_t workers_configured; /* current target of workers */
    uint64_t start_time;         /* master start, seconds since epoch */
    uint32_t nplugins;           /* names used in plugin_names */
    uint32_t pad;                /* alignment */
    char plugin_names[PVM_METRICS_PLUGINS][PVM_METRICS_PLUGIN_NAME];
    /* instance names, master-written */
    uint64_t plugin_errors[PVM_METRICS_PLUGINS]; /* failed hook calls */
} pvm_metrics_data;

#endif
