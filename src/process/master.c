/* master.c: the master process (see master.h). One loop, woken by a
 * self-pipe from the signal handlers or every TICK_MS: reap children,
 * act on stop and reload requests, kill workers over request_timeout or
 * past their stop deadline, and fork workers up to the target, with an
 * exponential back-off while they keep dying young. The master never
 * accepts connections and never runs request hooks. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "master.h"
#include "metrics.h"
#include "registry.h"
#include "worker.h"

#define TICK_MS 100 /* housekeeping period */
#define NS_PER_MS 1000000ull
#define YOUNG_NS (1000 * NS_PER_MS) /* dying sooner: a crash loop */
#define BACKOFF_FIRST_MS 100        /* first delay of a crash loop */
#define BACKOFF_MAX_MS 10000        /* cap of the delay */
#define RELOAD_READY_MS 60000       /* new workers must be ready by */
#define TIMEOUT_GRACE_MS                                                      \
    2000 /* a worker answers its own
                                              request_timeout (503); SIGKILL
                                              this much later */

/* A worker process the master started. */
typedef struct master_worker {
    pid_t pid;                 /* 0: entry unused */
    int slot;                  /* its slot in shm */
    unsigned gen;              /* generation (configuration) it serves */
    uint64_t started_ns;       /* fork time, monotonic */
    uint64_t stop_deadline_ns; /* SIGTERM sent: SIGKILL after this; 0: not
                                  stopping */
    int timed_out;             /* SIGKILLed for request_timeout */
} master_worker;

/* A configuration generation: a context and its workers. */
typedef struct master_gen {
    pvm_context *ctx;     /* owned; NULL: no such generation */
    unsigned id;          /* generation number (1, 2, ...) */
    int target;           /* workers to keep running */
    int ever_ready;       /* some worker finished on_startup */
    uint64_t deadline_ns; /* pending generation: ready by then */
} master_gen;

typedef struct master {
    const pvm_master_opts *o;       /* options */
    int fd;                         /* the listening socket */
    pvm_shm *shm;                   /* shared slots and counters */
    master_gen cur;                 /* the generation serving */
    master_gen pending;             /* a reload starting up (ctx NULL: none) */
    master_worker w[PVM_SHM_SLOTS]; /* worker table */
    unsigned last_gen;              /* highest generation number used */
    int crash_streak;               /* consecutive young deaths */
    uint64_t next_spawn_ns;         /* back-off: no fork before this */
    int stopping;                   /* graceful stop in progress */
    int exit_status;                /* returned by pvm_master_run */
} master;

/* Signal state: flags plus a self-pipe that wakes poll(). */
static int self_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_stop, got_hup;

static void master_on_signal(int sig)
{
    int e = errno;
    if (sig == SIGHUP)
        got_hup = 1;
    else if (sig == SIGTERM || sig == SIGINT)
        got_stop = 1;
    ssize_t r = write(self_pipe[1], "", 1); /* SIGCHLD: just wake up */
    (void)r;
    errno = e;
}

static int master_signals(void)
{
    if (pipe(self_pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(self_pipe[i], F_SETFL, O_NONBLOCK);
        fcntl(self_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = master_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

static uint64_t ms_to_ns(int64_t ms)
{
    return ms > 0 ? (uint64_t)ms * NS_PER_MS : 0;
}

static const pvm_server_config *cur_cfg(const master *m)
{
    return &pvm_context_config(m->cur.ctx)->server;
}

/* Hooks and sizes */

int pvm_master_worker_count(const pvm_server_config *s)
{
    if (s->workers > 0)
        return s->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

int pvm_master_startup_hooks(pvm_context *ctx, pvm_error *err)
{
    size_t n = pvm_context_plugin_count(ctx);
    for (size_t i = 0; i < n; i++) {
        pvm_plugin *p = pvm_context_plugin_at(ctx, i);
        const pvm_plugin_type *t = pvm_plugin_get_type(p);
        if (!t->on_master_startup)
            continue;
        pvm_error perr = {0};
        int rc = t->on_master_startup(p, ctx, &perr);
        if (rc < 0)
            return pvm_error_set(err, perr.code ? perr.code : rc,
                                 "plugin %s: on_master_startup failed: %s",
                                 pvm_plugin_name(p),
                                 perr.msg[0] ? perr.msg : "(no message)");
    }
    return 0;
}

/* Workers */

static int count_gen(const master *m, unsigned gen, int only_running,
                     int only_ready)
{
    int n = 0;
    for (int i = 0; i < PVM_SHM_SLOTS; i++) {
        const master_worker *w = &m->w[i];
        if (!w->pid || w->gen != gen)
            continue;
        if (only_running && w->stop_deadline_ns)
            continue;
        if (only_ready &&
            !__atomic_load_n(&m->shm->slots[w->slot].ready, __ATOMIC_ACQUIRE))
            continue;
        n++;
    }
    return n;
}

static int count_live(const master *m)
{
    int n = 0;
    for (int i = 0; i < PVM_SHM_SLOTS; i++)
        n += m->w[i].pid != 0;
    return n;
}

/* Forks one worker of generation g. Signals are blocked across fork() so
 * that the child never runs the master's handlers. */
static int spawn(master *m, const master_gen *g)
{
    master_worker *w = NULL;
    for (int i = 0; i < PVM_SHM_SLOTS && !w; i++)
        if (!m->w[i].pid)
            w = &m->w[i];
    pid_t me = getpid();
    int slot = w ? pvm_shm_slot_claim(m->shm, me, g->id) : -1;
    if (slot < 0) {
        pvm_log(PVM_LOG_ERROR, "no free worker slot");
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        int close_fds[] = {self_pipe[0], self_pipe[1], -1};
        pvm_worker_args a = {g->ctx, m->fd, m->shm, slot, me, close_fds};
        pvm_worker_main(&a);
    }
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        pvm_shm_slot_release(m->shm, slot);
        pvm_log(PVM_LOG_ERROR, "fork: %s", strerror(e));
        return -1;
    }
    __atomic_store_n(&m->shm->slots[slot].pid, (int32_t)pid, __ATOMIC_RELEASE);
    *w = (master_worker){.pid = pid,
                         .slot = slot,
                         .gen = g->id,
                         .started_ns = pvm_shm_now_ns()};
    pvm_log(PVM_LOG_DEBUG, "started worker %d (generation %u)", (int)pid,
            g->id);
    return 0;
}

/* Asks a worker to stop after its request in progress; SIGKILL after
 * deadline. */
static void stop_worker(master_worker *w, uint64_t deadline_ns)
{
    if (w->stop_deadline_ns)
        return;
    w->stop_deadline_ns = deadline_ns ? deadline_ns : 1;
    kill(w->pid, SIGTERM);
}

static void stop_gen(master *m, unsigned gen, uint64_t deadline_ns)
{
    for (int i = 0; i < PVM_SHM_SLOTS; i++)
        if (m->w[i].pid && m->w[i].gen == gen)
            stop_worker(&m->w[i], deadline_ns);
}

/* Stop and reload */

static void begin_stop(master *m, int status)
{
    if (m->stopping)
        return;
    m->stopping = 1;
    __atomic_store_n(&m->shm->stopping, 1, __ATOMIC_RELEASE);
    m->exit_status = status;
    int64_t grace = cur_cfg(m)->shutdown_timeout_ms;
    pvm_log(PVM_LOG_INFO,
            "stopping: %d workers finish their requests "
            "(up to %lld ms)",
            count_live(m), (long long)grace);
    /* New connections now fail at once (web servers fail over) instead
     * of waiting in the backlog of a socket nobody accepts on. */
    if (m->o->unix_path)
        unlink(m->o->unix_path);
    uint64_t deadline = pvm_shm_now_ns() + ms_to_ns(grace);
    for (int i = 0; i < PVM_SHM_SLOTS; i++)
        if (m->w[i].pid)
            stop_worker(&m->w[i], deadline);
}

static void abort_pending(master *m, const char *why)
{
    pvm_log(PVM_LOG_ERROR,
            "reload failed, keeping the running "
            "configuration: %s",
            why);
    stop_gen(m, m->pending.id,
             pvm_shm_now_ns() + ms_to_ns(cur_cfg(m)->shutdown_timeout_ms));
    pvm_context_free(m->pending.ctx);
    m->pending = (master_gen){0};
    pvm_log_set_level(cur_cfg(m)->log_level);
    __atomic_fetch_add(&m->shm->metrics.reloads_failed, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&m->shm->reload_failed, 1, __ATOMIC_RELAXED);
}

/* SIGHUP: a new context from the file; its workers start next to the
 * running ones, which are stopped once all new ones are ready. */
static void reload(master *m)
{
    pvm_error err = {0};
    if (m->pending.ctx) {
        pvm_log(PVM_LOG_WARNING, "SIGHUP ignored: a reload is in progress");
        return;
    }
    pvm_log(PVM_LOG_INFO, "SIGHUP: reloading %s", m->o->config_path);
    pvm_config *cfg = pvm_config_load(m->o->config_path, &err);
    if (cfg && m->o->listen_override) {
        free(cfg->server.listen);
        cfg->server.listen = strdup(m->o->listen_override);
        if (!cfg->server.listen) {
            pvm_config_free(cfg);
            cfg = NULL;
            pvm_error_set(&err, PVM_ERR_NOMEM, "out of memory");
        }
    }
    if (!cfg) {
        m->pending.ctx = NULL;
        __atomic_fetch_add(&m->shm->metrics.reloads_failed, 1,
                           __ATOMIC_RELAXED);
        __atomic_store_n(&m->shm->reload_failed, 1, __ATOMIC_RELAXED);
        pvm_log(PVM_LOG_ERROR,
                "reload failed, keeping the running "
                "configuration: %s",
                err.msg);
        return;
    }
    const char *was = cur_cfg(m)->listen, *now = cfg->server.listen;
    if (!m->o->inherited && (!was != !now || (was && strcmp(was, now))))
        pvm_log(PVM_LOG_WARNING,
                "reload: [server] listen changed to %s; "
                "the socket (%s) is kept until a restart",
                now ? now : "(inherited)", was ? was : "inherited");
    pvm_context *ctx = pvm_context_new(cfg, m->o->table, &err);
    if (ctx && pvm_master_startup_hooks(ctx, &err) < 0) {
        pvm_context_free(ctx);
        ctx = NULL;
    }
    m->pending = (master_gen){.ctx = ctx};
    if (!ctx) {
        abort_pending(m, err.msg);
        return;
    }
    pvm_metrics_register_plugins(m->shm, ctx);
    m->pending.id = ++m->last_gen;
    m->pending.target = pvm_master_worker_count(
        &pvm_context_config(ctx)->server);
    m->pending.deadline_ns = pvm_shm_now_ns() + ms_to_ns(RELOAD_READY_MS);
    for (int i = 0; i < m->pending.target; i++)
        if (spawn(m, &m->pending) < 0) {
            abort_pending(m, "cannot start the new workers");
            return;
        }
}

/* Promotes the pending generation once all its workers are ready. */
static void check_pending(master *m)
{
    master_gen *p = &m->pending;
    if (!p->ctx)
        return;
    if (count_gen(m, p->id, 1, 1) >= p->target) {
        uint64_t grace = ms_to_ns(cur_cfg(m)->shutdown_timeout_ms);
        stop_gen(m, m->cur.id, pvm_shm_now_ns() + grace);
        pvm_context_free(m->cur.ctx);
        m->cur = *p;
        m->cur.ever_ready = 1;
        *p = (master_gen){0};
        __atomic_store_n(&m->shm->metrics.workers_configured,
                         (uint64_t)m->cur.target, __ATOMIC_RELAXED);
        __atomic_fetch_add(&m->shm->metrics.reloads_ok, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&m->shm->reload_failed, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&m->shm->config_time, (uint64_t)time(NULL),
                         __ATOMIC_RELAXED);
        pvm_log(PVM_LOG_INFO,
                "reloaded: %d workers of generation %u "
                "serving, the previous ones finish their requests",
                m->cur.target, m->cur.id);
    } else if (pvm_shm_now_ns() > p->deadline_ns) {
        abort_pending(m, "the new workers were not ready in time");
    }
}

/* Reaping */

/* Accounts for a worker of the serving generation that died while it
 * should serve: counts the restart and computes the back-off. */
static void worker_lost(master *m, const master_worker *w,
                        pvm_restart_reason why, int was_ready)
{
    uint64_t now = pvm_shm_now_ns();
    if (why == PVM_RESTART_STARTUP && !m->cur.ever_ready && !was_ready) {
        pvm_log(PVM_LOG_ERROR, "the workers cannot start (on_startup "
                               "failed): stopping");
        begin_stop(m, 1);
        return;
    }
    pvm_metrics_restart(m->shm, why);
    if (why != PVM_RESTART_TIMEOUT && now - w->started_ns < YOUNG_NS)
        m->crash_streak++;
    else
        m->crash_streak = 0;
    if (m->crash_streak >= 2) {
        int shift = m->crash_streak - 2 > 10 ? 10 : m->crash_streak - 2;
        uint64_t ms = (uint64_t)BACKOFF_FIRST_MS << shift;
        if (ms > BACKOFF_MAX_MS)
            ms = BACKOFF_MAX_MS;
        m->next_spawn_ns = now + ms * NS_PER_MS;
        pvm_log(PVM_LOG_WARNING,
                "workers keep dying within 1 s of their "
                "start (%d in a row): next start in %llu ms",
                m->crash_streak, (unsigned long long)ms);
    }
}

static void reap_one(master *m, master_worker *w, int st)
{
    char line[PVM_SHM_LINE];
    pvm_shm_slot_line(m->shm, w->slot, line, sizeof(line));
    int ready = (int)__atomic_load_n(&m->shm->slots[w->slot].ready,
                                     __ATOMIC_ACQUIRE);
    master_worker dead = *w;
    pvm_shm_slot_release(m->shm, w->slot);
    w->pid = 0;
    if (dead.stop_deadline_ns && !dead.timed_out) {
        pvm_log(PVM_LOG_DEBUG, "worker %d stopped", (int)dead.pid);
        return;
    }
    pvm_restart_reason why;
    if (dead.timed_out) {
        why = PVM_RESTART_TIMEOUT; /* logged when it was killed */
    } else if (WIFSIGNALED(st)) {
        why = PVM_RESTART_CRASH;
        pvm_log(PVM_LOG_ERROR,
                "worker %d killed by signal %d (%s) while "
                "serving \"%s\"",
                (int)dead.pid, WTERMSIG(st), strsignal(WTERMSIG(st)), line);
    } else if (WEXITSTATUS(st) == PVM_WORKER_EXIT_STARTUP) {
        why = PVM_RESTART_STARTUP;
    } else if (WEXITSTATUS(st) == PVM_WORKER_EXIT_TIMEOUT) {
        why = PVM_RESTART_TIMEOUT;
        pvm_log(PVM_LOG_ERROR,
                "worker %d stopped itself serving \"%s\" "
                "(over [server] request_timeout): the client got 503",
                (int)dead.pid, line);
    } else {
        why = PVM_RESTART_EXIT;
        pvm_log(PVM_LOG_ERROR,
                "worker %d exited with status %d while "
                "serving \"%s\"",
                (int)dead.pid, WEXITSTATUS(st), line);
    }
    if (m->pending.ctx && dead.gen == m->pending.id && !ready)
        abort_pending(m, "a worker of the new configuration did not start");
    else if (dead.gen == m->cur.id && !m->stopping)
        worker_lost(m, &dead, why, ready);
}

static void reap(master *m)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < PVM_SHM_SLOTS; i++)
            if (m->w[i].pid == pid) {
                reap_one(m, &m->w[i], st);
                break;
            }
    }
}

/* Timeouts */

static void check_timeouts(master *m)
{
    uint64_t now = pvm_shm_now_ns();
    int64_t limit_ms = cur_cfg(m)->request_timeout_ms;
    uint64_t limit = ms_to_ns(limit_ms > 0 ? limit_ms + TIMEOUT_GRACE_MS : 0);
    for (int i = 0; i < PVM_SHM_SLOTS; i++) {
        master_worker *w = &m->w[i];
        if (!w->pid || w->timed_out)
            continue;
        char line[PVM_SHM_LINE];
        uint64_t busy = pvm_shm_slot_busy_ns(m->shm, w->slot, now);
        if (limit && busy > limit) {
            pvm_shm_slot_line(m->shm, w->slot, line, sizeof(line));
            pvm_log(PVM_LOG_ERROR,
                    "worker %d busy for %.1f s serving \"%s\" "
                    "(over [server] request_timeout and it did not stop "
                    "itself): killing it",
                    (int)w->pid, (double)busy / 1e9, line);
            kill(w->pid, SIGKILL);
            w->timed_out = 1;
        } else if (w->stop_deadline_ns && now > w->stop_deadline_ns) {
            pvm_shm_slot_line(m->shm, w->slot, line, sizeof(line));
            pvm_log(PVM_LOG_WARNING,
                    "worker %d still busy after "
                    "shutdown_timeout serving \"%s\": killing it",
                    (int)w->pid, line);
            kill(w->pid, SIGKILL);
            w->stop_deadline_ns = UINT64_MAX;
        }
    }
}

/* Forks workers of the serving generation up to its target. */
static void maintain(master *m)
{
    if (!m->cur.ever_ready && count_gen(m, m->cur.id, 1, 1) > 0)
        m->cur.ever_ready = 1;
    if (m->stopping || pvm_shm_now_ns() < m->next_spawn_ns)
        return;
    for (int n = count_gen(m, m->cur.id, 1, 0); n < m->cur.target; n++)
        if (spawn(m, &m->cur) < 0)
            break;
}

/* The loop */

int pvm_master_run(const pvm_master_opts *o, pvm_context *ctx, int fd,
                   pvm_shm *shm)
{
    master *m = calloc(1, sizeof(*m));
    if (!m || master_signals() < 0) {
        pvm_log(PVM_LOG_ERROR, "cannot start the master: %s", strerror(errno));
        free(m);
        pvm_context_free(ctx);
        return 1;
    }
    m->o = o;
    m->fd = fd;
    m->shm = shm;
    m->cur = (master_gen){.ctx = ctx, .id = ++m->last_gen};
    m->cur.target = pvm_master_worker_count(cur_cfg(m));
    __atomic_store_n(&shm->metrics.workers_configured, (uint64_t)m->cur.target,
                     __ATOMIC_RELAXED);
    pvm_log(PVM_LOG_INFO, "master %d: starting %d workers", (int)getpid(),
            m->cur.target);
    for (;;) {
        reap(m);
        if (got_stop)
            begin_stop(m, 0);
        if (got_hup) {
            got_hup = 0;
            if (!m->stopping)
                reload(m);
        }
        if (!m->stopping)
            check_pending(m);
        check_timeouts(m);
        maintain(m);
        if (m->stopping && count_live(m) == 0)
            break;
        struct pollfd p = {.fd = self_pipe[0], .events = POLLIN};
        if (poll(&p, 1, TICK_MS) > 0) {
            char buf[64];
            while (read(self_pipe[0], buf, sizeof(buf)) > 0)
                ;
        }
    }
    pvm_log(PVM_LOG_INFO, "all workers stopped");
    int rc = m->exit_status;
    pvm_context_free(m->pending.ctx);
    pvm_context_free(m->cur.ctx);
    close(self_pipe[0]);
    close(self_pipe[1]);
    free(m);
    return rc;
}
