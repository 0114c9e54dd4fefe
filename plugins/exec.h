/* exec.h: the parts of the exec plugin (plugins/exec.c) shared by its
 * files: the parsers of exec_parse.c (the command line, env_file, the
 * value lines of discovery answers), the request of exec_request.c (JSON
 * on stdin, environment) and the child processes of exec_proc.c. */
#ifndef PVM_EXEC_H
#define PVM_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pvm/pvm.h>

#define PVM_EXEC_MAX_ARGS 256        /* words of `command =` */
#define PVM_EXEC_MAX_ENV_VALUE 32768 /* longer PVM_QUERY, ...: empty */
#define PVM_EXEC_FIRST_ERR 256       /* bytes kept of the first stderr line */
#define PVM_EXEC_TERMINATOR "# EOF"  /* ends an answer in persistent mode */

/* ---- exec_parse.c ------------------------------------------------------ */

/* Splits a command line into words without a shell: blanks separate
 * words; '...' keeps everything literally; "..." keeps everything but
 * \" and \\, which stand for " and \; outside quotes a backslash keeps
 * the next character literally. Nothing else is special ($, *, ~, ;, |
 * are plain characters). Returns the number of words (>= 1) and sets
 * *argv to a NULL-terminated malloc'd array (free with
 * pvm_exec_argv_free), or a negative status with err filled (an empty
 * command, an unterminated quote, a trailing backslash, a NUL byte, too
 * many words). */
int pvm_exec_split_command(const char *cmd, size_t len, char ***argv,
                           pvm_error *err);

void pvm_exec_argv_free(char **argv);

/* True when s is an environment variable name [A-Za-z_][A-Za-z0-9_]*. */
bool pvm_exec_is_env_name(const char *s, size_t n);

/* Parses env_file text: one NAME=VALUE a line, the value literal to the
 * end of the line (a trailing \r dropped); blank lines and lines starting
 * with # are skipped. Calls add(arg, "NAME=VALUE") for each (a malloc'd
 * string handed over to add, which frees it on failure). Errors name
 * what:LINE and never repeat a value (the file may hold secrets). */
int pvm_exec_parse_env(const char *text, size_t len, const char *what,
                       int (*add)(void *arg, char *entry), void *arg,
                       pvm_error *err);

/* Reads the value lines of a discovery answer: one value a line (a
 * trailing \r dropped), empty lines skipped, a line "# EOF" ends the
 * answer (only blank lines may follow). Calls fn(arg, value) with each
 * value NUL-terminated in a scratch copy valid during the call; a
 * negative return of fn stops the walk and is returned. A NUL byte or
 * content after # EOF: PVM_ERR_BAD_DATA with err "line N: ...". */
int pvm_exec_parse_values(const char *buf, size_t len,
                          int (*fn)(void *arg, const char *value), void *arg,
                          pvm_error *err);

/* ---- exec_proc.c ------------------------------------------------------- */

/* One child process: its process group and the parent's pipe ends. */
typedef struct pvm_exec_child {
    pid_t pid;       /* leader and process group id, 0 when none */
    int in;          /* its stdin (write end, non-blocking), -1 closed */
    int out;         /* its stdout (read end, non-blocking), -1 at EOF */
    int err;         /* its stderr (read end, non-blocking), -1 at EOF */
    int pidfd;       /* pidfd_open(pid), -1 when unavailable */
    char ebuf[512];  /* the stderr line being read (longer lines
                            are cut) */
    size_t elen;     /* bytes in ebuf */
    unsigned logged; /* stderr lines logged in this request */
    char *first_err; /* where the first stderr line goes, or NULL */
} pvm_exec_child;

/* What a run produced. */
typedef struct pvm_exec_result {
    char *out;      /* stdout, malloc'd (caller frees), NUL-ended */
    size_t out_len; /* bytes in out */
    char first_err[PVM_EXEC_FIRST_ERR]; /* first non-empty stderr line
                                           (cut), "" when none */
    int status;                         /* wait status, valid when exited */
    bool exited;                        /* the process ended and was reaped */
    bool timed_out;                     /* the deadline passed: group killed */
    bool too_big;  /* more than max_output bytes: group killed */
    bool closed;   /* persistent: stdout closed before the answer */
    int sys_errno; /* a failing system call (fork, pipe), or 0 */
} pvm_exec_result;

/* How to run. */
typedef struct pvm_exec_spec {
    char *const *argv;   /* argv[0] is run from PATH unless it has / */
    char *const *envp;   /* the complete environment */
    const char *workdir; /* chdir before exec, NULL: pvm's */
    size_t max_output;   /* stdout bytes allowed */
    int64_t deadline_ms; /* CLOCK_MONOTONIC ms: killed then */
    pvm_plugin *self;    /* for the info log of stderr lines */
} pvm_exec_spec;

/* Starts spec->argv in a new process group with pipes on 0, 1 and 2 and
 * every other descriptor closed. 0, or a negative status (errno in
 * *sys_errno). A command that cannot be executed exits 127 after
 * writing "cannot execute ARGV0: REASON" to its stderr. */
int pvm_exec_spawn(const pvm_exec_spec *spec, pvm_exec_child *c,
                   int *sys_errno);

/* One-shot: spawns, writes input (closing stdin after it, or when the
 * command closes it), reads stdout up to the limit and stderr, until both
 * end and the process exits, or the deadline or the limit: the group is
 * killed (SIGKILL) in every case before the leader is reaped. res->out
 * is set even on failure. 0, or negative when it could not start. */
int pvm_exec_run(const pvm_exec_spec *spec, const char *input,
                 size_t input_len, pvm_exec_result *res);

/* Persistent: writes one request line (input, which ends in \n) to a
 * running child and reads its answer up to a line "# EOF" (not
 * included in res->out). On a timeout, the limit, or output after the
 * terminator the child is stopped (group killed, reaped: c->pid 0); when
 * it closed stdout it is reaped too. 0 with an answer, else negative. */
int pvm_exec_ask(const pvm_exec_spec *spec, pvm_exec_child *c,
                 const char *input, size_t input_len, pvm_exec_result *res);

/* True when c's process still runs (reaps it when it has ended). */
bool pvm_exec_alive(pvm_exec_child *c, pvm_exec_result *res);

/* Stops c: closes its stdin, waits up to grace_ms for it to exit, then
 * kills the group and reaps the leader. Safe on a stopped child. */
void pvm_exec_stop(pvm_exec_child *c, int64_t grace_ms, pvm_plugin *self);

/* CLOCK_MONOTONIC in ms. */
int64_t pvm_exec_now_ms(void);

/* ---- exec_request.c ---------------------------------------------------- */

/* What the program is asked (one hook call). */
typedef struct pvm_exec_ask_info {
    const char *type;         /* "instant", "range", "metric_names",
                                  "label_names", "label_values" */
    pvm_request *req;         /* the request */
    const pvm_key_list *pass; /* header names passed (case-insensitive) */
} pvm_exec_ask_info;

/* The request as one line of JSON ended by \n (docs/plugins/exec.md),
 * in the request arena; *len its length. NULL when out of memory. */
char *pvm_exec_request_json(const pvm_exec_ask_info *ai, size_t *len);

/* The environment of a one-shot command: base (nbase NAME=VALUE strings
 * kept from pvm's environment and the configuration), then the PVM_*
 * variables of the request (a persistent process gets base alone). The
 * array is in the request arena; NULL when out of memory. */
char **pvm_exec_environment(const pvm_exec_ask_info *ai, char *const *base,
                            size_t nbase);

#endif
