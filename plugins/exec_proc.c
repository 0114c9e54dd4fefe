/* exec_proc.c: the child processes of the exec plugin (see exec.h). Each
 * runs in its own process group with pipes on stdin, stdout and stderr;
 * one poll loop writes the request, reads the answer up to its limit and
 * logs stderr, until the leader exits or the deadline. The group is
 * killed with SIGKILL before the leader is reaped (so that its id cannot
 * be reused meanwhile), and every child is reaped: no zombies. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pvm/pvm.h>

#include "exec.h"

#define MAX_LOGGED_LINES 50 /* stderr lines logged per request */

int64_t pvm_exec_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- starting ----------------------------------------------------------- */

/* In the child after fork: only async-signal-safe calls from here.
 * parent: the worker's pid, to see whether it died before the prctl. */
static void child_exec(const pvm_exec_spec *spec, int in, int out, int err,
                       pid_t parent)
{
    struct sigaction dfl = {0};
    sigset_t none;
    dfl.sa_handler = SIG_DFL;
    setpgid(0, 0);
    /* a worker killed for request_timeout (SIGKILL: no cleanup) takes
     * its command with it */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL); /* ignored ones (SIGPIPE) too */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    closefrom(3); /* the FastCGI sockets, other plugins' files */
    const char *what = "cannot execute ";
    if (spec->workdir && chdir(spec->workdir) < 0)
        what = "cannot change to the working directory for ";
    else
        execvpe(spec->argv[0], spec->argv, spec->envp);
    const char *why = strerror(errno);
    (void)!write(2, what, strlen(what));
    (void)!write(2, spec->argv[0], strlen(spec->argv[0]));
    (void)!write(2, ": ", 2);
    (void)!write(2, why, strlen(why));
    (void)!write(2, "\n", 1);
    _exit(127);
}

/* See exec.h. */
int pvm_exec_spawn(const pvm_exec_spec *spec, pvm_exec_child *c,
                   int *sys_errno)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    *c = (pvm_exec_child){.in = -1, .out = -1, .err = -1, .pidfd = -1};
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
        pipe2(err, O_CLOEXEC) < 0)
        goto fail;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0)
        child_exec(spec, in[0], out[1], err[1], parent);
    setpgid(pid, pid); /* also here: kill(-pid) works at once */
    close(in[0]);
    close(out[1]);
    close(err[1]);
    c->pid = pid;
    c->in = in[1];
    c->out = out[0];
    c->err = err[0];
    c->pidfd = pidfd_open(pid, 0);
    fcntl(c->in, F_SETFL, O_NONBLOCK);
    fcntl(c->out, F_SETFL, O_NONBLOCK);
    fcntl(c->err, F_SETFL, O_NONBLOCK);
    return 0;
fail:
    *sys_errno = errno;
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&err[i]);
    }
    return PVM_ERR_INTERNAL;
}

/* ---- stderr ------------------------------------------------------------- */

/* One stderr line: the first non-empty one is kept for the error
 * message, each is logged at info (control characters shown as ?). */
static void err_line(pvm_exec_child *c, pvm_plugin *self)
{
    char *s = c->ebuf;
    size_t n = c->elen;
    c->elen = 0;
    if (n && s[n - 1] == '\r')
        n--;
    s[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = '?';
    if (!n)
        return;
    if (c->first_err && !c->first_err[0]) {
        size_t k = n < PVM_EXEC_FIRST_ERR - 1 ? n : PVM_EXEC_FIRST_ERR - 1;
        memcpy(c->first_err, s, k);
        c->first_err[k] = '\0';
    }
    if (!self)
        return;
    if (++c->logged <= MAX_LOGGED_LINES)
        pvm_plugin_log(self, PVM_LOG_INFO, "stderr: %s", s);
    else if (c->logged == MAX_LOGGED_LINES + 1)
        pvm_plugin_log(self, PVM_LOG_INFO, "stderr: (more lines not logged)");
}

/* Reads what stderr has; -1 closes it at EOF. */
static void read_err(pvm_exec_child *c, pvm_plugin *self)
{
    char buf[4096];
    for (;;) {
        ssize_t r = read(c->err, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            if (c->elen)
                err_line(c, self);
            close_fd(&c->err);
            return;
        }
        if (r < 0)
            return;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == '\n') {
                err_line(c, self);
            } else if (c->elen < sizeof(c->ebuf) - 1) {
                c->ebuf[c->elen++] = buf[i];
            }
        }
    }
}

/* ---- stdin and stdout --------------------------------------------------- */

/* write() that neither raises SIGPIPE nor leaves one pending: a command
 * that closed its stdin gives EPIPE. */
static ssize_t write_nosigpipe(int fd, const char *p, size_t n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t r = write(fd, p, n);
    int e = errno;
    if (r < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}

/* Writes what stdin takes; closes it when done or when the command
 * closed its end (EPIPE), unless keep (persistent mode). -1 on EPIPE
 * in persistent mode. */
static int write_in(pvm_exec_child *c, const char *p, size_t n, size_t *off,
                    bool keep)
{
    while (*off < n) {
        ssize_t w = write_nosigpipe(c->in, p + *off, n - *off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return 0;
        if (w < 0) {
            close_fd(&c->in);
            return keep ? -1 : 0;
        }
        *off += (size_t)w;
    }
    if (!keep)
        close_fd(&c->in);
    return 0;
}

/* Appends what stdout has to res->out; closes it at EOF. -1 when more
 * than max bytes came. */
static int read_out(pvm_exec_child *c, pvm_exec_result *res, size_t max,
                    size_t *cap)
{
    for (;;) {
        if (res->out_len + 4096 + 1 > *cap) {
            size_t ncap = *cap ? *cap * 2 : 16384;
            if (ncap > max + 4096 + 1)
                ncap = max + 4096 + 1;
            if (ncap <= *cap)
                return res->too_big = true, -1;
            char *b = realloc(res->out, ncap);
            if (!b) {
                res->sys_errno = ENOMEM;
                return -1;
            }
            res->out = b;
            *cap = ncap;
        }
        ssize_t r = read(c->out, res->out + res->out_len,
                         *cap - res->out_len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return 0;
        if (r <= 0) {
            close_fd(&c->out);
            return 0;
        }
        res->out_len += (size_t)r;
        res->out[res->out_len] = '\0';
        if (res->out_len > max)
            return res->too_big = true, -1;
    }
}

/* ---- waiting and stopping ----------------------------------------------- */

/* True when the leader has ended (left a zombie: still reserves its id). */
static bool leader_ended(const pvm_exec_child *c)
{
    siginfo_t si = {0};
    if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
        return errno == ECHILD;
    return si.si_pid != 0;
}

/* Kills the group, reaps the leader, closes everything. */
static void child_reap(pvm_exec_child *c, pvm_exec_result *res,
                       pvm_plugin *self)
{
    if (c->pid > 0) {
        int status = 0;
        kill(-c->pid, SIGKILL);
        while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (res) {
            res->status = status;
            res->exited = true;
        }
    }
    if (c->err >= 0)
        read_err(c, self);
    if (c->elen)
        err_line(c, self);
    close_fd(&c->in);
    close_fd(&c->out);
    close_fd(&c->err);
    close_fd(&c->pidfd);
    c->pid = 0;
}

/* The poll loop shared by both modes: until done(), the leader's end,
 * the deadline or the output limit. Returns 1 when done() said so, 0
 * when the leader ended (its output drained), -1 on the deadline, the
 * limit or an error (res says which). */
static int pump(const pvm_exec_spec *spec, pvm_exec_child *c,
                const char *input, size_t input_len, bool keep,
                pvm_exec_result *res, bool (*done)(pvm_exec_result *, void *),
                void *arg)
{
    size_t off = 0, cap = 0;
    if (input_len == 0 && !keep)
        close_fd(&c->in);
    for (;;) {
        int64_t left = spec->deadline_ms - pvm_exec_now_ms();
        if (left <= 0) {
            res->timed_out = true;
            return -1;
        }
        struct pollfd fds[4];
        int nfds = 0, iin = -1, iout = -1, ierr = -1, ipid = -1;
        if (c->in >= 0 && off < input_len)
            fds[iin = nfds++] = (struct pollfd){c->in, POLLOUT, 0};
        if (c->out >= 0)
            fds[iout = nfds++] = (struct pollfd){c->out, POLLIN, 0};
        if (c->err >= 0)
            fds[ierr = nfds++] = (struct pollfd){c->err, POLLIN, 0};
        if (c->pidfd >= 0)
            fds[ipid = nfds++] = (struct pollfd){c->pidfd, POLLIN, 0};
        int wait = left > 1000 ? 1000 : (int)left;
        if (c->pidfd < 0 && wait > 10)
            wait = 10; /* no pidfd: look at the leader now and then */
        int n = poll(fds, (nfds_t)nfds, wait);
        if (n < 0 && errno != EINTR) {
            res->sys_errno = errno;
            return -1;
        }
        if (n <= 0 && c->pidfd >= 0)
            continue;
        if (iin >= 0 && fds[iin].revents &&
            write_in(c, input, input_len, &off, keep) < 0)
            return 0; /* persistent and its stdin closed: it is ending */
        if (iout >= 0 && fds[iout].revents &&
            read_out(c, res, spec->max_output, &cap) < 0)
            return -1;
        if (ierr >= 0 && fds[ierr].revents)
            read_err(c, spec->self);
        if (done && done(res, arg))
            return 1;
        if ((ipid >= 0 && fds[ipid].revents) ||
            (c->pidfd < 0 && leader_ended(c)) || (keep && c->out < 0)) {
            /* the leader ended (or closed stdout in persistent mode):
             * take what its pipes still hold, not what children that
             * outlive it may write later */
            if (c->out >= 0 && read_out(c, res, spec->max_output, &cap) < 0)
                return -1;
            if (c->err >= 0)
                read_err(c, spec->self);
            if (done && done(res, arg))
                return 1;
            if (keep || leader_ended(c))
                return 0;
        }
    }
}

/* See exec.h. */
int pvm_exec_run(const pvm_exec_spec *spec, const char *input,
                 size_t input_len, pvm_exec_result *res)
{
    pvm_exec_child c;
    memset(res, 0, sizeof(*res));
    if (pvm_exec_spawn(spec, &c, &res->sys_errno) < 0)
        return PVM_ERR_INTERNAL;
    c.first_err = res->first_err;
    pump(spec, &c, input, input_len, false, res, NULL, NULL);
    child_reap(&c, res, spec->self);
    if (res->timed_out || res->too_big)
        res->exited = false; /* killed by us, not its own end */
    return 0;
}

/* Persistent: the answer is complete at a line "# EOF". */
struct term_scan {
    size_t line; /* start of the line being read */
    size_t end;  /* answer length once found */
    bool found;  /* terminator seen */
    bool extra;  /* bytes after it */
};

static bool term_found(pvm_exec_result *res, void *arg)
{
    struct term_scan *t = arg;
    if (t->found)
        return true;
    if (!res->out)
        return false; /* nothing on stdout yet */
    const size_t tl = strlen(PVM_EXEC_TERMINATOR);
    for (;;) {
        char *nl = memchr(res->out + t->line, '\n', res->out_len - t->line);
        if (!nl)
            return false;
        size_t n = (size_t)(nl - (res->out + t->line));
        if (n && res->out[t->line + n - 1] == '\r')
            n--;
        if (n == tl &&
            memcmp(res->out + t->line, PVM_EXEC_TERMINATOR, tl) == 0) {
            t->found = true;
            t->end = t->line;
            t->extra = (size_t)(nl + 1 - res->out) != res->out_len;
            return true;
        }
        t->line = (size_t)(nl + 1 - res->out);
    }
}

/* See exec.h. */
int pvm_exec_ask(const pvm_exec_spec *spec, pvm_exec_child *c,
                 const char *input, size_t input_len, pvm_exec_result *res)
{
    memset(res, 0, sizeof(*res));
    c->first_err = res->first_err;
    c->logged = 0;
    struct term_scan t = {0};
    int rc = pump(spec, c, input, input_len, true, res, term_found, &t);
    if (rc == 1 && !t.extra) {
        res->out_len = t.end;
        res->out[t.end] = '\0';
        c->first_err = NULL;
        return 0;
    }
    res->closed = rc == 0;
    res->sys_errno = t.extra ? EPROTO : res->sys_errno;
    child_reap(c, res, spec->self);
    if (res->timed_out || res->too_big || t.extra)
        res->exited = false;
    return PVM_ERR_PLUGIN;
}

/* See exec.h. */
bool pvm_exec_alive(pvm_exec_child *c, pvm_exec_result *res)
{
    if (c->pid <= 0)
        return false;
    if (!leader_ended(c))
        return true;
    child_reap(c, res, NULL);
    return false;
}

/* See exec.h. */
void pvm_exec_stop(pvm_exec_child *c, int64_t grace_ms, pvm_plugin *self)
{
    if (c->pid <= 0)
        return;
    c->first_err = NULL;
    close_fd(&c->in); /* EOF: the program's cue to exit */
    int64_t until = pvm_exec_now_ms() + grace_ms;
    while (!leader_ended(c) && pvm_exec_now_ms() < until) {
        struct timespec ts = {0, 10 * 1000000};
        if (c->err >= 0)
            read_err(c, self);
        nanosleep(&ts, NULL);
    }
    child_reap(c, NULL, self);
}
