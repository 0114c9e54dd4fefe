/* master.h: the master process (the PHP-FPM model): it owns the listening
 * socket and keeps [server] workers worker processes accepting on it,
 * replaces those that die or hang, reloads the configuration on SIGHUP
 * and stops gracefully on SIGTERM/SIGINT. */
#ifndef PVM_MASTER_H
#define PVM_MASTER_H

#include <stdbool.h>

#include <pvm/plugin.h>

#include "config.h"
#include "shm.h"

/* What the master needs besides the running context. */
typedef struct pvm_master_opts {
    const char *config_path;     /* re-read on SIGHUP */
    const char *listen_override; /* --listen, NULL if none */
    bool inherited;              /* the socket came from fd 0 or systemd:
                                      [server] listen is not used */
    const pvm_plugin_type *const *table; /* compile-time plugin table */
    const char *unix_path;               /* socket file removed when stopping
                                      (unix: listen), or NULL */
} pvm_master_opts;

/* The number of workers a config asks for: [server] workers, or the
 * number of online CPUs for 0. */
int pvm_master_worker_count(const pvm_server_config *s);

/* Runs the on_master_startup hook of every instance of ctx that has one,
 * in configuration order. 0, or the first failure with err naming the
 * instance. */
int pvm_master_startup_hooks(pvm_context *ctx, pvm_error *err);

/* Runs the master until it is told to stop: forks the workers of ctx on
 * fd, supervises them, reloads on SIGHUP (a new context from
 * o->config_path; a broken one is logged and the running one kept).
 * Takes ownership of ctx (freed before returning). Returns the process
 * exit status: 0 after a graceful stop, 1 when the first workers could
 * not start (an on_startup hook failed). */
int pvm_master_run(const pvm_master_opts *o, pvm_context *ctx, int fd,
                   pvm_shm *shm);

#endif
