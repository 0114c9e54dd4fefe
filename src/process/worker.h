/* worker.h: the body of a worker process: what runs in the child after
 * the master forks it, and the single-process mode that runs the same
 * loop in the process itself. */
#ifndef PVM_WORKER_H
#define PVM_WORKER_H

#include <sys/types.h>

#include <pvm/plugin.h>

#include "shm.h"

/* Exit statuses of a worker, read by the master. */
#define PVM_WORKER_EXIT_OK 0      /* graceful stop */
#define PVM_WORKER_EXIT_FAILED 1  /* the accept loop failed */
#define PVM_WORKER_EXIT_STARTUP 3 /* an on_startup hook failed */
#define PVM_WORKER_EXIT_TIMEOUT                                               \
    4 /* a request overran request_timeout
                                     (PVM_FCGI_EXIT_TIMEOUT) */

/* What a forked worker needs. */
typedef struct pvm_worker_args {
    pvm_context *ctx;     /* its generation's context (copy-on-write) */
    int fd;               /* the shared listening socket */
    pvm_shm *shm;         /* shared slots and counters */
    int slot;             /* its slot in shm */
    pid_t master;         /* the master's pid (stop when it disappears) */
    const int *close_fds; /* master-only descriptors to close, -1 ended */
} pvm_worker_args;

/* Runs in the child right after fork(), with every signal blocked by the
 * master: installs the worker's signal handlers (SIGTERM/SIGINT: stop
 * after the request in progress; SIGHUP ignored), runs on_startup of every
 * instance, marks the slot ready, serves until told to stop, runs
 * on_shutdown, and _exits with a PVM_WORKER_EXIT_* status. Never returns. */
void pvm_worker_main(const pvm_worker_args *a) __attribute__((noreturn));

/* Single-process mode: runs on_startup, the accept loop on fd and
 * on_shutdown in this process, stopping on SIGTERM/SIGINT (SIGHUP is
 * ignored: there is no master to reload). shm may be NULL. Returns the
 * exit status for main (0: stopped cleanly). */
int pvm_worker_run_inline(pvm_context *ctx, int fd, pvm_shm *shm);

#endif
