/* exec.c: a data source in any language. For each selector the engine
 * asks for, the instance runs a command with the request as JSON on its
 * stdin and as PVM_* environment variables; the command answers on
 * stdout in the OpenMetrics text format with timestamps (read by
 * openmetrics_load.c, as openmetrics_file reads its file) or, for
 * discovery, one value a line. With `persistent = yes` one process per
 * worker answers request after request (JSON lines in, answers ended by
 * a line "# EOF" out). Processes: exec_proc.c; the request: exec_request.c;
 * the parsers: exec_parse.c. docs/plugins/exec.md has the protocol. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pvm/pvm.h>

#include "exec.h"
#include "openmetrics_load.h"

#define MAX_ENV 4096       /* variables from env_file and env */
#define STOP_GRACE_MS 1000 /* a persistent process's time to exit */

/* Per-instance state. */
struct exec_plugin {
    char *command;        /* `command =` (set and freed by the server) */
    bool shell;           /* `shell =`: /bin/sh -c command */
    int64_t timeout_ms;   /* `timeout =` */
    pvm_key_list env;     /* `env = NAME=VALUE`, repeated */
    char *env_file;       /* `env_file =`, resolved, or NULL */
    size_t max_output;    /* `max_output_bytes =` */
    char *workdir;        /* `working_directory =`, resolved, or NULL */
    pvm_key_list pass;    /* `pass_headers =`, repeated */
    bool persistent;      /* `persistent =` */
    char **argv;          /* the command split (check), malloc'd */
    char **base_env;      /* NULL-terminated, malloc'd (on_startup) */
    size_t nbase;         /* entries in base_env */
    int64_t lookback;     /* ms, [server] lookback_delta */
    char *run_dir;        /* working_directory, or pvm.ini's directory
                              (on_startup), malloc'd */
    pvm_exec_child child; /* the persistent process (pid 0: none) */
    unsigned restarts;    /* persistent restarts, for the log */
};

/* ---- configuration ---------------------------------------------------- */

#define EX(field) offsetof(struct exec_plugin, field)

/* [plugin:NAME] keys (pvm/config.h). */
static const pvm_plugin_key exec_keys[] = {
    {"command", PVM_KEY_STRING, EX(command), .required = true,
     .doc = "the program and its arguments, split on blanks with '...' "
            "and \"...\" quoting (no shell)"},
    {"shell", PVM_KEY_BOOL, EX(shell), .def = "no",
     .doc = "run command through /bin/sh -c"},
    {"timeout", PVM_KEY_DURATION, EX(timeout_ms), .def = "10s", .min = 10,
     .max = 3600000,
     .doc = "longest run of one request (also bounded by the request's "
            "deadline); then the process group is killed"},
    {"env", PVM_KEY_STRING, EX(env), .repeat = true,
     .doc = "NAME=VALUE set in the command's environment (repeatable)"},
    {"env_file", PVM_KEY_PATH, EX(env_file),
     .doc = "a file of NAME=VALUE lines for the command's environment "
            "(for secrets: never logged)"},
    {"max_output_bytes", PVM_KEY_SIZE, EX(max_output), .def = "16M",
     .min = 1024, .max = (int64_t)1 << 30,
     .doc = "most stdout bytes of one answer; more kills the process"},
    {"working_directory", PVM_KEY_PATH, EX(workdir),
     .doc = "directory the command runs in (default: pvm.ini's)"},
    {"pass_headers", PVM_KEY_STRING, EX(pass), .repeat = true,
     .doc = "HTTP request headers passed in the request's JSON "
            "(names, comma-separated, repeatable; default none)"},
    {"persistent", PVM_KEY_BOOL, EX(persistent), .def = "no",
     .doc = "keep one process per worker and send it one JSON request "
            "a line; answers end with a line # EOF"},
    {NULL},
};

static int exec_check(pvm_plugin *self, pvm_error *err)
{
    struct exec_plugin *st = pvm_plugin_state(self);
    for (size_t i = 0; i < st->env.n; i++) {
        const char *e = st->env.v[i], *eq = strchr(e, '=');
        if (!eq || !pvm_exec_is_env_name(e, (size_t)(eq - e)))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "env: expected NAME=VALUE with NAME of "
                                 "letters, digits and _, not '%.*s'",
                                 (int)(eq ? eq - e : (long)strlen(e)), e);
        if (strncmp(e, "PVM_", 4) == 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "env: names starting with PVM_ are the "
                                 "request's, not '%.*s'",
                                 (int)(eq - e), e);
    }
    if (st->shell) {
        char **argv = calloc(4, sizeof(*argv));
        if (!argv)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        argv[0] = strdup("/bin/sh");
        argv[1] = strdup("-c");
        argv[2] = strdup(st->command);
        st->argv = argv;
        if (!argv[0] || !argv[1] || !argv[2])
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        return 0;
    }
    pvm_error e = {0};
    if (pvm_exec_split_command(st->command, strlen(st->command), &st->argv,
                               &e) < 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "command: %s", e.msg);
    return 0;
}

static void exec_destroy(pvm_plugin *self)
{
    struct exec_plugin *st = pvm_plugin_state(self);
    pvm_exec_stop(&st->child, 0, NULL);
    pvm_exec_argv_free(st->argv);
    pvm_exec_argv_free(st->base_env);
    free(st->run_dir);
    st->argv = st->base_env = NULL;
    st->run_dir = NULL;
}

/* ---- the environment -------------------------------------------------- */

/* Adds "NAME=VALUE" (taken over) to the base environment, replacing an
 * earlier entry of the same name. */
static int base_add(void *arg, char *entry)
{
    struct exec_plugin *st = arg;
    size_t nl = strcspn(entry, "=");
    for (size_t i = 0; i < st->nbase; i++)
        if (strncmp(st->base_env[i], entry, nl + 1) == 0) {
            free(st->base_env[i]);
            st->base_env[i] = entry;
            return 0;
        }
    if (st->nbase == MAX_ENV) {
        free(entry);
        return -1;
    }
    st->base_env[st->nbase++] = entry;
    st->base_env[st->nbase] = NULL;
    return 0;
}

/* Reads env_file through add (validate passes a counter). */
static int read_env_file(const char *path, int (*add)(void *, char *),
                         void *arg, pvm_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "env_file: cannot open "
                             "%s: %s",
                             path, strerror(errno));
    char *text = malloc(1 << 20);
    size_t len = text ? fread(text, 1, 1 << 20, f) : 0;
    int toolong = text && len == 1 << 20 && fgetc(f) != EOF;
    fclose(f);
    if (!text || toolong) {
        free(text);
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "env_file: %s is larger than 1 MiB", path);
    }
    int rc = pvm_exec_parse_env(text, len, path, add, arg, err);
    free(text);
    return rc;
}

/* The command's environment without the request's variables: a few of
 * pvm-fcgi's own (PATH, HOME, LANG, LC_ALL, TZ, TMPDIR), then env_file,
 * then the env lines. */
static int build_base_env(struct exec_plugin *st, pvm_error *err)
{
    static const char *const kept[] = {"PATH", "HOME",   "LANG", "LC_ALL",
                                       "TZ",   "TMPDIR", NULL};
    st->base_env = calloc(MAX_ENV + 1, sizeof(*st->base_env));
    if (!st->base_env)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    st->nbase = 0;
    for (size_t i = 0; kept[i]; i++) {
        const char *v = getenv(kept[i]);
        if (!v && strcmp(kept[i], "PATH") == 0)
            v = "/usr/local/bin:/usr/bin:/bin";
        if (!v)
            continue;
        size_t n = strlen(kept[i]) + strlen(v) + 2;
        char *e = malloc(n);
        if (!e)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        snprintf(e, n, "%s=%s", kept[i], v);
        base_add(st, e);
    }
    if (st->env_file && read_env_file(st->env_file, base_add, st, err) < 0)
        return err->code;
    for (size_t i = 0; i < st->env.n; i++) {
        char *e = strdup(st->env.v[i]);
        if (!e || base_add(st, e) < 0)
            return pvm_error_set(err, PVM_ERR_INTERNAL,
                                 "too many environment variables");
    }
    return 0;
}

/* ---- startup, shutdown, --check-config --------------------------------- */

static void spec_init(struct exec_plugin *st, pvm_plugin *self,
                      pvm_exec_spec *spec, char *const *envp, int64_t deadline)
{
    *spec = (pvm_exec_spec){.argv = st->argv,
                            .envp = envp,
                            .workdir = st->run_dir,
                            .max_output = st->max_output,
                            .deadline_ms = deadline,
                            .self = self};
}

static int start_persistent(pvm_plugin *self)
{
    struct exec_plugin *st = pvm_plugin_state(self);
    pvm_exec_spec spec;
    int e = 0;
    spec_init(st, self, &spec, st->base_env, 0);
    if (pvm_exec_spawn(&spec, &st->child, &e) < 0) {
        pvm_plugin_log(self, PVM_LOG_ERROR, "cannot start %s: %s", st->argv[0],
                       strerror(e));
        return PVM_ERR_INTERNAL;
    }
    pvm_plugin_log(self, PVM_LOG_INFO, "started %s (pid %ld)", st->argv[0],
                   (long)st->child.pid);
    return 0;
}

static int exec_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct exec_plugin *st = pvm_plugin_state(self);
    st->lookback = pvm_context_lookback_ms(ctx);
    st->child = (pvm_exec_child){.in = -1, .out = -1, .err = -1, .pidfd = -1};
    free(st->run_dir);
    st->run_dir = st->workdir ? strdup(st->workdir)
                              : pvm_context_resolve_path(ctx, ".");
    if (!st->run_dir)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    if (build_base_env(st, err) < 0)
        return err->code ? err->code : PVM_ERR_INTERNAL;
    if (st->persistent && start_persistent(self) < 0)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "cannot start %s: %s",
                             st->argv[0], strerror(errno));
    return 0;
}

static int exec_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct exec_plugin *st = pvm_plugin_state(self);
    (void)ctx;
    (void)err;
    pvm_exec_stop(&st->child, STOP_GRACE_MS, self);
    return 0;
}

static int count_env(void *arg, char *entry)
{
    free(entry);
    (*(size_t *)arg)++;
    return 0;
}

/* True when argv0 names an executable file: relative to dir with a
 * slash (the command runs there), else searched in PATH as execvp does. */
static bool is_runnable(const char *argv0, const char *dir)
{
    char buf[4096];
    if (strchr(argv0, '/')) {
        if (argv0[0] == '/')
            return access(argv0, X_OK) == 0;
        return snprintf(buf, sizeof(buf), "%s/%s", dir, argv0) <
                   (int)sizeof(buf) &&
               access(buf, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, argv0) <
                (int)sizeof(buf) &&
            access(buf, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

/* --check-config: the working directory is one, env_file reads, the
 * program exists and is executable; nothing is run. */
static int exec_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    const struct exec_plugin *st = pvm_plugin_state(self);
    struct stat sb;
    size_t n = 0;
    char *dir = st->workdir ? strdup(st->workdir)
                            : pvm_context_resolve_path(ctx, ".");
    int rc = 0;
    if (!dir)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "working_directory: %s is not a directory", dir);
    else if (st->env_file &&
             read_env_file(st->env_file, count_env, &n, err) < 0)
        rc = err->code;
    else if (!st->shell && !is_runnable(st->argv[0], dir))
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "command: %s is not an executable file%s",
                           st->argv[0],
                           strchr(st->argv[0], '/') ? "" : " in PATH");
    free(dir);
    return rc;
}

/* ---- running the command ------------------------------------------------ */

/* The request's error from a run that did not answer; names the cause and
 * the first stderr line (the server prefixes the instance and hook). */
static int run_failed(pvm_plugin *self, pvm_response *resp,
                      const pvm_exec_result *res, bool request_deadline)
{
    const struct exec_plugin *st = pvm_plugin_state(self);
    const char *fe = res->first_err[0] ? res->first_err
                                       : "(nothing on "
                                         "stderr)";
    const char *again = st->persistent ? "; restarted at the next request"
                                       : "";
    if (res->timed_out && request_deadline)
        return pvm_response_set_error(resp, PVM_ERR_TIMEOUT,
                                      "query timed out in plugin %s (its "
                                      "command was killed)",
                                      pvm_plugin_name(self));
    if (res->timed_out)
        return pvm_response_fail(resp,
                                 "%s did not answer within timeout = %lld ms "
                                 "(killed%s): %s",
                                 st->argv[0], (long long)st->timeout_ms, again,
                                 fe);
    if (res->too_big)
        return pvm_response_fail(resp,
                                 "%s wrote more than max_output_bytes = %zu "
                                 "bytes (killed%s)",
                                 st->argv[0], st->max_output, again);
    if (res->sys_errno == EPROTO)
        return pvm_response_fail(resp,
                                 "%s wrote more after its # EOF line "
                                 "(killed%s)",
                                 st->argv[0], again);
    if (res->exited && WIFSIGNALED(res->status))
        return pvm_response_fail(resp, "%s was killed by signal %d%s: %s",
                                 st->argv[0], WTERMSIG(res->status), again,
                                 fe);
    if (res->exited && WEXITSTATUS(res->status))
        return pvm_response_fail(resp, "%s exited with status %d%s: %s",
                                 st->argv[0], WEXITSTATUS(res->status), again,
                                 fe);
    if (res->exited || res->closed)
        return pvm_response_fail(resp, "%s exited before its answer%s: %s",
                                 st->argv[0], again, fe);
    return pvm_response_fail(resp, "cannot run %s: %s", st->argv[0],
                             strerror(res->sys_errno ? res->sys_errno : EIO));
}

/* Runs the command for one hook call. 0 with res->out set (the caller
 * frees it), or the request's error. */
static int ask(pvm_plugin *self, pvm_request *req, pvm_response *resp,
               const char *type, pvm_exec_result *res)
{
    struct exec_plugin *st = pvm_plugin_state(self);
    pvm_exec_ask_info ai = {type, req, &st->pass};
    size_t len = 0;
    char *json = pvm_exec_request_json(&ai, &len);
    char **envp = st->persistent
                      ? st->base_env
                      : pvm_exec_environment(&ai, st->base_env, st->nbase);
    memset(res, 0, sizeof(*res));
    if (!json || !envp)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                      "out of request memory");
    int64_t left = pvm_request_remaining_ms(req);
    bool by_request = left < st->timeout_ms;
    pvm_exec_spec spec;
    spec_init(st, self, &spec, envp,
              pvm_exec_now_ms() + (by_request ? left : st->timeout_ms));
    if (by_request && left <= 0)
        return pvm_response_set_error(resp, PVM_ERR_TIMEOUT,
                                      "query timed out in plugin %s",
                                      pvm_plugin_name(self));
    int rc;
    if (st->persistent) {
        pvm_exec_result dead;
        if (!pvm_exec_alive(&st->child, &dead)) {
            pvm_plugin_log(self, PVM_LOG_WARNING,
                           "%s is not running: restarting it (restart %u)",
                           st->argv[0], ++st->restarts);
            if (start_persistent(self) < 0) {
                res->sys_errno = errno;
                return run_failed(self, resp, res, false);
            }
        }
        rc = pvm_exec_ask(&spec, &st->child, json, len, res);
    } else {
        rc = pvm_exec_run(&spec, json, len, res);
        if (rc == 0 && !res->timed_out && !res->too_big && res->exited &&
            WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0)
            return 0;
        rc = -1;
    }
    if (rc == 0)
        return 0;
    rc = run_failed(self, resp, res, by_request);
    free(res->out);
    res->out = NULL;
    return rc;
}

/* The answer of a query hook, parsed; NULL after failing the response. */
static pvm_om_data *ask_samples(pvm_plugin *self, pvm_request *req,
                                pvm_response *resp, const char *type)
{
    const struct exec_plugin *st = pvm_plugin_state(self);
    pvm_exec_result res;
    if (ask(self, req, resp, type, &res) < 0)
        return NULL;
    pvm_error err = {0};
    pvm_om_data *d = pvm_om_parse(res.out ? res.out : "", res.out_len,
                                  "output line", false, &err);
    free(res.out);
    if (!d)
        pvm_response_fail(resp,
                          "%s wrote no OpenMetrics text with "
                          "timestamps: %s%s%s",
                          st->argv[0], err.msg,
                          res.first_err[0] ? "; stderr: " : "", res.first_err);
    return d;
}

/* Adds the samples of d between lo and hi (ms); with latest, only each
 * series' last one there. pvm filters the series by the selector. */
static int add_samples(pvm_response *resp, const pvm_om_data *d, int64_t lo,
                       int64_t hi, bool latest)
{
    for (size_t i = 0; i < d->nseries; i++) {
        const pvm_om_series *s = &d->series[i];
        pvm_series_ref *ref;
        size_t k = 0, end = s->n;
        while (k < s->n && s->ts[k] < lo)
            k++;
        while (end > k && s->ts[end - 1] > hi)
            end--;
        if (k == end)
            continue;
        if (latest)
            k = end - 1;
        int rc = pvm_response_find_series(resp, s->name, s->labels, s->nlabels,
                                          0, &ref);
        for (; rc > 0 && k < end; k++)
            rc = pvm_response_add_point(resp, ref, s->ts[k], s->v[k]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* GET|POST /api/v1/query_range (and every selector that needs a window):
 * the samples the command wrote between start and end. */
static int exec_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    pvm_om_data *d = ask_samples(self, req, resp, "range");
    if (!d)
        return PVM_ERR_PLUGIN;
    int rc = add_samples(resp, d, pvm_request_start(req), pvm_request_end(req),
                         false);
    pvm_om_free(d);
    return rc < 0 ? rc : 0;
}

/* GET|POST /api/v1/query (a plain selector): per series the latest
 * sample in (time - lookback_delta, time], at its own timestamp. */
static int exec_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    const struct exec_plugin *st = pvm_plugin_state(self);
    pvm_om_data *d = ask_samples(self, req, resp, "instant");
    if (!d)
        return PVM_ERR_PLUGIN;
    int64_t t = pvm_request_time(req);
    int rc = add_samples(resp, d, t - st->lookback + 1, t, true);
    pvm_om_free(d);
    return rc < 0 ? rc : 0;
}

/* Discovery: one value a line. */
struct value_ctx {
    pvm_response *resp; /* where values go */
    const pvm_query *q; /* metric names: filtered by it, else NULL */
};

static int add_value(void *arg, const char *v)
{
    struct value_ctx *vc = arg;
    if (vc->q && !pvm_query_name_matches(vc->q, v))
        return 0;
    return pvm_response_add_value(vc->resp, v);
}

static int discover(pvm_plugin *self, pvm_request *req, pvm_response *resp,
                    const char *type, bool names)
{
    const struct exec_plugin *st = pvm_plugin_state(self);
    pvm_exec_result res;
    if (ask(self, req, resp, type, &res) < 0)
        return PVM_ERR_PLUGIN;
    struct value_ctx vc = {resp, names ? pvm_request_query(req) : NULL};
    pvm_error err = {0};
    int rc = pvm_exec_parse_values(res.out ? res.out : "", res.out_len,
                                   add_value, &vc, &err);
    free(res.out);
    if (rc < 0 && err.code)
        return pvm_response_fail(resp, "%s wrote bad values: %s%s%s",
                                 st->argv[0], err.msg,
                                 res.first_err[0] ? "; stderr: " : "",
                                 res.first_err);
    return rc < 0 ? rc : 0;
}

/* /api/v1/label/__name__/values and /api/v1/series */
static int exec_metric_names(pvm_plugin *self, pvm_request *req,
                             pvm_response *resp)
{
    return discover(self, req, resp, "metric_names", true);
}

/* /api/v1/labels */
static int exec_label_names(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    return discover(self, req, resp, "label_names", false);
}

/* /api/v1/label/<name>/values */
static int exec_label_values(pvm_plugin *self, pvm_request *req,
                             pvm_response *resp)
{
    return discover(self, req, resp, "label_values", false);
}

const pvm_plugin_type pvm_plugin_exec = {
    .name = "exec", /* `type = exec` */
    .description = "runs a program in any language for each request: the "
                   "request as JSON on stdin, OpenMetrics text on stdout",
    .state_size = sizeof(struct exec_plugin), /* zeroed per instance */
    .check = exec_check,                      /* splits the command */
    .destroy = exec_destroy,                  /* stops a persistent process */
    .on_startup = exec_startup,   /* environment; persistent: starts it */
    .on_shutdown = exec_shutdown, /* persistent: EOF, then the group killed */
    .on_instant_query_request = exec_instant,     /* latest within lookback */
    .on_range_query_request = exec_range,         /* samples in the window */
    .on_metric_names_request = exec_metric_names, /* value lines */
    .on_label_names_request = exec_label_names,
    .on_label_values_request = exec_label_values,
    .validate = exec_validate, /* --check-config: program, directory */
    .keys = exec_keys,         /* command, timeout, env, ... */
};
