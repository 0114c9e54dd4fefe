/* worker.c: the worker process (see worker.h): signals, plugin startup
 * and shutdown around the FastCGI accept loop of fcgi.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "api.h"
#include "fcgi.h"
#include "registry.h"
#include "worker.h"

/* Set by SIGTERM/SIGINT: finish the request in progress, then stop. */
static volatile sig_atomic_t worker_stop;

static void worker_on_stop(int sig)
{
    (void)sig;
    worker_stop = 1;
}

/* Handlers of a worker (SA_RESTART: the loop waits in ppoll, which is
 * never restarted, so a stop still wakes it). */
static void worker_signals(void)
{
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = worker_on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
}

/* Startup, serve, shutdown; returns a PVM_WORKER_EXIT_* status. forked:
 * a worker of a master, which enforces request_timeout itself. */
static int worker_serve(pvm_context *ctx, int fd, pvm_shm *shm, int slot,
                        int forked)
{
    pvm_error err = {0};
    if (pvm_context_startup(ctx, &err) < 0) {
        pvm_log(PVM_LOG_ERROR, "%s", err.msg);
        return PVM_WORKER_EXIT_STARTUP;
    }
    if (shm && slot >= 0)
        __atomic_store_n(&shm->slots[slot].ready, 1, __ATOMIC_RELEASE);
    const pvm_config *cfg = pvm_context_config(ctx);
    pvm_api_env env = {ctx, &cfg->server, shm, slot, &worker_stop};
    int64_t limit = forked ? cfg->server.request_timeout_ms : 0;
    int rc = pvm_fcgi_serve(&env, fd, &worker_stop, limit) < 0
                 ? PVM_WORKER_EXIT_FAILED
                 : PVM_WORKER_EXIT_OK;
    pvm_context_shutdown(ctx);
    return rc;
}

void pvm_worker_main(const pvm_worker_args *a)
{
    worker_signals();
    for (const int *f = a->close_fds; f && *f >= 0; f++)
        close(*f);
#ifdef __linux__
    /* The master gone (even SIGKILLed): stop gracefully too. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != a->master)
        worker_stop = 1;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int rc = worker_serve(a->ctx, a->fd, a->shm, a->slot, 1);
    fflush(NULL);
    /* _exit: the master's atexit handlers and its copies of other
     * contexts are none of the worker's business. */
    _exit(rc);
}

int pvm_worker_run_inline(pvm_context *ctx, int fd, pvm_shm *shm)
{
    worker_signals();
    int slot = shm ? pvm_shm_slot_claim(shm, getpid(), 1) : -1;
    int rc = worker_serve(ctx, fd, shm, slot, 0);
    pvm_shm_slot_release(shm, slot);
    return rc == PVM_WORKER_EXIT_OK ? 0 : 1;
}
