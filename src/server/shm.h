/* shm.h: the memory the master shares with its workers: one slot per
 * worker (who it is, the request it is serving and since when) and the
 * self-monitoring counters (metrics_data.h, metrics.h). Mapped
 * MAP_SHARED|MAP_ANONYMOUS once, before the first fork, so every worker
 * sees the same pages.
 * Counters and timestamps are updated with atomic builtins; strings are
 * written by one process (the slot's owner, or the master) and read racily
 * by others (the master's log line, /metrics), which is harmless. */
#ifndef PVM_SHM_H
#define PVM_SHM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "metrics_data.h"

/* Slots: workers of two generations may run side by side during a
 * reload, so twice the largest [server] workers. */
#define PVM_SHM_SLOTS 2050
/* Bytes of the request line kept per slot ("GET /api/v1/query?..."). */
#define PVM_SHM_LINE 256

/* One worker process. pid, generation and ready are written by the
 * master (pid) or the worker (ready); busy_since_ns and line by the
 * worker. */
typedef struct pvm_worker_slot {
    int32_t pid;             /* owner; 0: free (written by the master) */
    uint32_t generation;     /* configuration generation of the owner */
    uint32_t ready;          /* 1 once on_startup ran and it accepts */
    uint32_t pad;            /* alignment */
    uint64_t busy_since_ns;  /* CLOCK_MONOTONIC start of the request being
                               served, 0 when idle (atomic) */
    uint64_t requests;       /* requests served by this worker (atomic) */
    char line[PVM_SHM_LINE]; /* request line of the current (or last)
                                request, NUL-terminated */
} pvm_worker_slot;

/* The shared region. */
typedef struct pvm_shm {
    pvm_metrics_data metrics;             /* self-monitoring counters */
    pvm_worker_slot slots[PVM_SHM_SLOTS]; /* one per live worker */
    uint64_t config_time;   /* when the serving configuration was loaded,
                               seconds since the epoch (master-written) */
    uint32_t reload_failed; /* 1 when the last SIGHUP reload was rejected */
    uint32_t stopping;      /* 1 once the master began a graceful stop:
                               /-/ready answers 503 */
} pvm_shm;

/* Maps a zeroed shared region (before any fork). NULL on failure (errno
 * set). */
pvm_shm *pvm_shm_new(void);

/* Unmaps it (in the process calling; others keep their mapping). NULL ok. */
void pvm_shm_free(pvm_shm *shm);

/* Claims a free slot for pid (master only). Returns its index, or -1
 * when all are taken. */
int pvm_shm_slot_claim(pvm_shm *shm, pid_t pid, uint32_t generation);

/* Frees the slot (master only, after the worker was reaped). */
void pvm_shm_slot_release(pvm_shm *shm, int slot);

/* Worker side: marks the slot busy with a request line made of method
 * and uri (either may be NULL), from now. Async-signal-safe readers may
 * see a half-written line. */
void pvm_shm_slot_begin(pvm_shm *shm, int slot, const char *method,
                        const char *uri);

/* Worker side: marks the slot idle and counts the request. */
void pvm_shm_slot_end(pvm_shm *shm, int slot);

/* Master side: nanoseconds the slot's worker has been busy with its
 * current request at now_ns, 0 when idle. */
uint64_t pvm_shm_slot_busy_ns(const pvm_shm *shm, int slot, uint64_t now_ns);

/* Copies the slot's request line into buf (n bytes, NUL-terminated);
 * "(idle)" when the worker was not serving a request. */
void pvm_shm_slot_line(const pvm_shm *shm, int slot, char *buf, size_t n);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t pvm_shm_now_ns(void);

#endif
