/* python.c: the python plugin type. Runs a plugin class written for the
 * Python prometheus-virtual-metrics unchanged: CPython is embedded, one
 * interpreter per worker process, initialised in the worker's first
 * on_startup (never in the master: configure and check only store
 * strings) and finalised after the last instance's on_shutdown. Hooks are
 * found by name on the instance and called with the original's keyword
 * arguments; a coroutine they return runs to completion on the worker's
 * event loop. A hook past its request's deadline is interrupted by a
 * timer signal whose Python handler raises DeadlineExceeded. */
#include "python_core.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pvm/pvm.h>

/* The deadline timer's signal (a real-time one nothing else uses). */
#define DEADLINE_SIGNAL (SIGRTMIN + 6)
#define DEADLINE_REPEAT_NS 20000000L /* again every 20 ms if swallowed */

/* Per-instance state. */
struct python {
    char *file;         /* `file =`, resolved; or NULL */
    char *module;       /* `module =` dotted name; or NULL */
    pvm_key_list paths; /* `python_path =` (repeatable), resolved */
    char *class_name;   /* `class =` */
    char **opt_key;     /* other keys, in file order (malloc'd) */
    char **opt_value;   /* their values (malloc'd) */
    size_t nopt;        /* how many */
    PyObject *instance; /* the plugin object (per worker) */
    PyObject *context;  /* its PrometheusVirtualMetricsContext */
    PyObject *hooks[PVM_HOOK_COUNT]; /* bound methods found, or NULL */
    bool started; /* on_startup ran (the interpreter is held) */
    bool checked; /* validated: holds the --check-config interpreter */
};

/* The worker's interpreter. */
static int py_holders; /* instances holding it: started, or validated by
                          --check-config (never both in one process) */
static PyThreadState *py_main;  /* saved while no hook runs */
static timer_t py_timer;        /* the deadline timer */
static bool py_timer_ok;        /* py_timer was created */
static PyObject *py_kw_request; /* ("request", "response") */
static PyObject *py_kw_context; /* ("context",) */

static const pvm_plugin_key python_keys[] = {
    {"file", PVM_KEY_PATH, offsetof(struct python, file),
     .doc = "the plugin's .py file (relative to pvm.ini); or module"},
    {"module", PVM_KEY_STRING, offsetof(struct python, module),
     .doc = "the plugin's module as a dotted name, found on python_path"},
    {"python_path", PVM_KEY_PATH, offsetof(struct python, paths),
     .repeat = true, .doc = "a directory put in front of sys.path"},
    {"class", PVM_KEY_STRING, offsetof(struct python, class_name),
     .required = true,
     .doc = "the class to instantiate (other keys are its keyword "
            "arguments, json: values parsed as JSON)"},
    {NULL},
};

/* ---- configuration (master: no Python here) --------------------------- */

static int python_configure(pvm_plugin *self, const char *key,
                            const char *value, pvm_error *err)
{
    struct python *st = pvm_plugin_state(self);
    if (!pvm_is_label_name(key) || strcmp(key, "self") == 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "not a Python keyword argument name");
    char **k = realloc(st->opt_key, (st->nopt + 1) * sizeof *k);
    if (!k)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    st->opt_key = k;
    char **v = realloc(st->opt_value, (st->nopt + 1) * sizeof *v);
    if (!v)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    st->opt_value = v;
    for (size_t i = 0; i < st->nopt; i++) {
        if (strcmp(st->opt_key[i], key) == 0) { /* the last one wins */
            char *dup = strdup(value);
            if (!dup)
                return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
            free(st->opt_value[i]);
            st->opt_value[i] = dup;
            return 0;
        }
    }
    k[st->nopt] = strdup(key);
    v[st->nopt] = strdup(value);
    if (!k[st->nopt] || !v[st->nopt]) {
        free(k[st->nopt]);
        free(v[st->nopt]);
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    }
    st->nopt++;
    return 0;
}

static int python_check(pvm_plugin *self, pvm_error *err)
{
    struct python *st = pvm_plugin_state(self);
    if (!st->file == !st->module)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "set either file = PATH or module = NAME");
    return 0;
}

static int interpreter_enter(pvm_plugin *self, pvm_context *ctx,
                             pvm_error *err);
static void interpreter_leave(void);
static PyObject *path_list(const struct python *st);
static int error_from_python(pvm_plugin *self, pvm_error *err,
                             const char *what);

/* --check-config: the file and python_path are readable, and the
 * plugin's source (file, or module found on python_path and sys.path)
 * compiles. The interpreter is started in the checking process only
 * (pvm_context_validate never runs in a server) and runs no plugin code:
 * a syntax error or a missing module is reported before a reload, what
 * the module does when imported is not. */
static int python_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct python *st = pvm_plugin_state(self);
    if (st->file && access(st->file, R_OK) != 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "file %s: %s", st->file,
                             strerror(errno));
    for (size_t i = 0; i < st->paths.n; i++)
        if (access(st->paths.v[i], R_OK | X_OK) != 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "python_path %s: %s",
                                 st->paths.v[i], strerror(errno));
    int rc = interpreter_enter(self, ctx, err);
    if (rc < 0)
        return rc;
    st->checked = true;
    PyObject *paths = path_list(st);
    PyObject *r = paths
                      ? PyObject_CallMethod(pvm_py_module(), "_check_source",
                                            "zzO", st->file, st->module, paths)
                      : NULL;
    Py_XDECREF(paths);
    rc = r ? 0 : error_from_python(self, err, "the plugin's source");
    Py_XDECREF(r);
    py_main = PyEval_SaveThread();
    return rc;
}

static void python_destroy(pvm_plugin *self)
{
    struct python *st = pvm_plugin_state(self);
    if (st->checked) { /* --check-config's interpreter */
        PyEval_RestoreThread(py_main);
        interpreter_leave();
    }
    for (size_t i = 0; i < st->nopt; i++) {
        free(st->opt_key[i]);
        free(st->opt_value[i]);
    }
    free(st->opt_key);
    free(st->opt_value);
}

/* ---- the interpreter -------------------------------------------------- */

/* The raised exception, normalised, with its traceback (new reference);
 * the error indicator is cleared. */
static PyObject *take_exception(void)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v && tb)
        PyException_SetTraceback(v, tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    return v;
}

/* Logs text line by line (a traceback) after a first line head. */
static void log_lines(pvm_plugin *self, const char *head, const char *text)
{
    pvm_plugin_log(self, PVM_LOG_ERROR, "%s", head);
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        int len = nl ? (int)(nl - text) : (int)strlen(text);
        if (len > 0)
            pvm_plugin_log(self, PVM_LOG_ERROR, "  %.*s", len, text);
        text = nl ? nl + 1 : NULL;
    }
}

/* A Python exception as "what: Type: message" into err (just "Type:
 * message" when what is a hook's "NAME raised:", which the server's
 * message names), its traceback logged after the line `what`. */
static int error_from_python(pvm_plugin *self, pvm_error *err,
                             const char *what)
{
    PyObject *exc = take_exception();
    PyObject *m = pvm_py_module();
    PyObject *d = m && exc ? PyObject_CallMethod(m, "_describe", "O", exc)
                           : NULL;
    PyObject *tb = m && exc ? PyObject_CallMethod(m, "_traceback", "O", exc)
                            : NULL;
    PyErr_Clear();
    const char *ds = d ? PyUnicode_AsUTF8(d) : NULL;
    const char *ts = tb ? PyUnicode_AsUTF8(tb) : NULL;
    PyErr_Clear();
    if (ts)
        log_lines(self, what, ts);
    if (strstr(what, " raised:")) /* a hook's: the server names it */
        pvm_error_set(err, PVM_ERR_INTERNAL, "%s", ds ? ds : "a Python error");
    else
        pvm_error_set(err, PVM_ERR_INTERNAL, "%s: %s", what,
                      ds ? ds : "a Python error");
    Py_XDECREF(d);
    Py_XDECREF(tb);
    Py_XDECREF(exc);
    return PVM_ERR_INTERNAL;
}

/* The deadline timer: a signal whose Python handler raises. */
static int timer_setup(void)
{
    struct sigevent sev = {0};
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = DEADLINE_SIGNAL;
    if (timer_create(CLOCK_MONOTONIC, &sev, &py_timer) != 0)
        return -1;
    py_timer_ok = true;
    PyObject *r = PyObject_CallMethod(pvm_py_module(), "_install_deadline",
                                      "i", DEADLINE_SIGNAL);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* Starts the interpreter with Debian's standard library and none of the
 * environment's PYTHON* variables (a pyenv or virtualenv of the shell
 * must not leak in). */
static int interpreter_start(pvm_plugin *self, pvm_context *ctx,
                             pvm_error *err)
{
    if (pvm_py_register_module() < 0)
        return pvm_error_set(err, PVM_ERR_INTERNAL,
                             "cannot register the module " PVM_PY_MODULE);
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0; /* SIGINT, SIGPIPE: pvm's */
    config.parse_argv = 0;
    config.site_import = 1;    /* Debian's dist-packages (psycopg2, ...) */
    config.write_bytecode = 0; /* no __pycache__ beside pvm.ini */
    PyStatus status = PyConfig_SetString(&config, &config.program_name,
                                         L"pvm-fcgi");
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        return pvm_error_set(err, PVM_ERR_INTERNAL, "cannot start Python: %s",
                             status.err_msg ? status.err_msg : "?");
    PyObject *m = PyImport_ImportModule(PVM_PY_MODULE);
    if (!m)
        return error_from_python(self, err, "cannot import " PVM_PY_MODULE);
    pvm_py_set_module(m, ctx); /* sys.modules keeps it */
    Py_DECREF(m);
    py_kw_request = Py_BuildValue("(ss)", "request", "response");
    py_kw_context = Py_BuildValue("(s)", "context");
    if (!py_kw_request || !py_kw_context || pvm_py_glue_run(m) < 0)
        return error_from_python(self, err, "cannot set up " PVM_PY_MODULE);
    PyObject *r = PyObject_CallMethod(m, "_setup_logging", NULL);
    Py_XDECREF(r);
    if (!r || timer_setup() < 0)
        return error_from_python(self, err, "cannot set up " PVM_PY_MODULE);
    return 0;
}

static void interpreter_stop(void)
{
    if (py_timer_ok)
        timer_delete(py_timer);
    py_timer_ok = false;
    PyObject *r = pvm_py_module() ? PyObject_CallMethod(pvm_py_module(),
                                                        "_close_loop", NULL)
                                  : NULL;
    if (!r)
        PyErr_Clear();
    Py_XDECREF(r);
    Py_CLEAR(py_kw_request);
    Py_CLEAR(py_kw_context);
    pvm_py_set_module(NULL, NULL);
    Py_FinalizeEx();
}

/* Takes the interpreter for one more holder: the first starts it, the
 * others retake the GIL. 0 with the GIL held, or a negative pvm_err. */
static int interpreter_enter(pvm_plugin *self, pvm_context *ctx,
                             pvm_error *err)
{
    if (py_holders > 0) {
        PyEval_RestoreThread(py_main);
    } else {
        int rc = interpreter_start(self, ctx, err);
        if (rc < 0) {
            if (Py_IsInitialized())
                interpreter_stop();
            return rc;
        }
    }
    py_holders++;
    return 0;
}

/* Gives a holder's share back (with the GIL held): the last one
 * finalises the interpreter, the others release the GIL. */
static void interpreter_leave(void)
{
    if (--py_holders == 0)
        interpreter_stop();
    else
        py_main = PyEval_SaveThread();
}

/* ---- calling hooks ---------------------------------------------------- */

/* Arms the deadline timer for req (deadline_ms 0: none). */
static void deadline_arm(int64_t deadline_ms)
{
    if (!py_timer_ok || deadline_ms <= 0)
        return;
    struct itimerspec its = {0};
    its.it_value.tv_sec = (time_t)(deadline_ms / 1000);
    its.it_value.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    its.it_interval.tv_nsec = DEADLINE_REPEAT_NS;
    PyObject_SetAttrString(pvm_py_module(), "_deadline_armed", Py_True);
    timer_settime(py_timer, TIMER_ABSTIME, &its, NULL);
}

/* Disarms it and drops a signal that came too late to matter. */
static void deadline_disarm(void)
{
    if (!py_timer_ok)
        return;
    struct itimerspec its = {0};
    timer_settime(py_timer, 0, &its, NULL);
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyObject_SetAttrString(pvm_py_module(), "_deadline_armed", Py_False);
    if (PyErr_CheckSignals() < 0)
        PyErr_Clear();
    PyErr_Restore(t, v, tb);
}

/* Calls hook with args named by kwnames; a returned awaitable runs to
 * completion on the worker's loop. New reference or NULL (exception). */
static PyObject *call_hook(PyObject *hook, PyObject *const *args,
                           PyObject *kwnames)
{
    PyObject *res = PyObject_Vectorcall(hook, args, 0, kwnames);
    if (!res || res == Py_None)
        return res;
    if (!PyCoro_CheckExact(res) &&
        !(Py_TYPE(res)->tp_as_async && Py_TYPE(res)->tp_as_async->am_await))
        return res;
    PyObject *done = PyObject_CallMethod(pvm_py_module(), "_run_coroutine",
                                         "O", res);
    Py_DECREF(res);
    return done;
}

static int is_instance_of(PyObject *exc, PyObject *(*get)(void))
{
    PyObject *cls = get();
    int r = cls ? PyObject_IsInstance(exc, cls) : 0;
    Py_XDECREF(cls);
    PyErr_Clear();
    return r > 0;
}

/* The Python exception of a request hook as the response's error. */
static int fail_from_python(pvm_plugin *self, pvm_hook hook,
                            pvm_response *resp)
{
    PyObject *exc = take_exception();
    if (pvm_response_has_error(resp)) { /* the response failed itself */
        Py_XDECREF(exc);
        return PVM_ERR_PLUGIN;
    }
    PyObject *m = pvm_py_module();
    PyObject *d = PyObject_CallMethod(m, "_describe", "O", exc);
    const char *ds = d ? PyUnicode_AsUTF8(d) : NULL;
    PyErr_Clear();
    int rc;
    if (is_instance_of(exc, pvm_py_forbidden_error)) {
        rc = pvm_response_set_error(resp, PVM_ERR_FORBIDDEN, "%s",
                                    ds ? ds : "ForbiddenError");
    } else if (is_instance_of(exc, pvm_py_deadline_error)) {
        rc = pvm_response_set_error(
            resp, PVM_ERR_TIMEOUT,
            "query timed out in plugin %s: %s ran past the request's "
            "deadline",
            pvm_plugin_name(self), pvm_hook_name(hook));
    } else {
        PyObject *tb = PyObject_CallMethod(m, "_traceback", "O", exc);
        const char *ts = tb ? PyUnicode_AsUTF8(tb) : NULL;
        PyErr_Clear();
        char head[96];
        snprintf(head, sizeof head, "%s raised:", pvm_hook_name(hook));
        log_lines(self, head, ts);
        Py_XDECREF(tb);
        rc = pvm_response_fail(resp, "%s", ds ? ds : "a Python exception");
    }
    Py_XDECREF(d);
    Py_XDECREF(exc);
    return rc;
}

/* One request hook: wrap, arm, call, disarm, unwrap. */
static int run_request_hook(pvm_plugin *self, pvm_hook hook, pvm_request *req,
                            pvm_response *resp)
{
    struct python *st = pvm_plugin_state(self);
    if (!st->hooks[hook])
        return 0;
    PyEval_RestoreThread(py_main);
    int rc = 0;
    PyObject *rq = pvm_py_request_new(req, st->context);
    PyObject *rs = rq ? pvm_py_response_new(resp, rq) : NULL;
    if (!rs) {
        rc = fail_from_python(self, hook, resp);
    } else {
        PyObject *args[2] = {rq, rs};
        deadline_arm(pvm_request_deadline_ms(req));
        PyObject *res = call_hook(st->hooks[hook], args, py_kw_request);
        deadline_disarm();
        if (!res)
            rc = fail_from_python(self, hook, resp);
        else if (pvm_response_has_error(resp))
            rc = PVM_ERR_PLUGIN;
        Py_XDECREF(res);
    }
    if (rq)
        pvm_py_request_end(rq);
    if (rs)
        pvm_py_response_end(rs);
    Py_XDECREF(rs);
    Py_XDECREF(rq);
    py_main = PyEval_SaveThread();
    return rc;
}

#define PY_REQUEST_HOOK(fn, id)                                               \
    static int fn(pvm_plugin *self, pvm_request *req, pvm_response *resp)     \
    {                                                                         \
        return run_request_hook(self, id, req, resp);                         \
    }
PY_REQUEST_HOOK(python_instant, PVM_HOOK_INSTANT_QUERY)
PY_REQUEST_HOOK(python_range, PVM_HOOK_RANGE_QUERY)
PY_REQUEST_HOOK(python_metric_names, PVM_HOOK_METRIC_NAMES)
PY_REQUEST_HOOK(python_label_names, PVM_HOOK_LABEL_NAMES)
PY_REQUEST_HOOK(python_label_values, PVM_HOOK_LABEL_VALUES)
PY_REQUEST_HOOK(python_metadata, PVM_HOOK_METADATA)

/* ---- context hooks ---------------------------------------------------- */

/* The instance: module loaded, class called, hooks looked up, context. */
/* python_path as a list of str (new reference), or NULL with an
 * exception set. */
static PyObject *path_list(const struct python *st)
{
    PyObject *paths = PyList_New(0);
    for (size_t i = 0; paths && i < st->paths.n; i++) {
        PyObject *s = PyUnicode_FromString(st->paths.v[i]);
        if (!s || PyList_Append(paths, s) < 0)
            Py_CLEAR(paths);
        Py_XDECREF(s);
    }
    return paths;
}

static int instance_create(pvm_plugin *self, pvm_error *err)
{
    struct python *st = pvm_plugin_state(self);
    PyObject *m = pvm_py_module();
    PyObject *paths = path_list(st), *opts = PyList_New(0);
    for (size_t i = 0; opts && i < st->nopt; i++) {
        PyObject *t = Py_BuildValue("(ss)", st->opt_key[i], st->opt_value[i]);
        if (!t || PyList_Append(opts, t) < 0)
            Py_CLEAR(opts);
        Py_XDECREF(t);
    }
    PyObject *pair = paths && opts
                         ? PyObject_CallMethod(m, "_instantiate", "zzOsOs",
                                               st->file, st->module, paths,
                                               st->class_name, opts,
                                               pvm_plugin_name(self))
                         : NULL;
    PyObject *settings = pair ? PyObject_CallMethod(m, "_Settings", "sO",
                                                    pvm_plugin_name(self),
                                                    PyTuple_GET_ITEM(pair, 1))
                              : NULL;
    st->context = settings
                      ? PyObject_CallMethod(m,
                                            "PrometheusVirtualMetricsContext",
                                            "O", settings)
                      : NULL;
    if (st->context) {
        st->instance = PyTuple_GET_ITEM(pair, 0);
        Py_INCREF(st->instance);
    }
    Py_XDECREF(settings);
    Py_XDECREF(pair);
    Py_XDECREF(paths);
    Py_XDECREF(opts);
    if (!st->context)
        return error_from_python(self, err, "cannot load the plugin");
    for (int h = 0; h < PVM_HOOK_COUNT; h++) {
        const char *name = pvm_hook_name((pvm_hook)h);
        PyObject *fn = PyObject_GetAttrString(st->instance, name);
        if (!fn || !PyCallable_Check(fn)) {
            PyErr_Clear();
            Py_XDECREF(fn);
            fn = NULL;
        }
        st->hooks[h] = fn;
    }
    return 0;
}

static void instance_clear(struct python *st)
{
    for (int h = 0; h < PVM_HOOK_COUNT; h++)
        Py_CLEAR(st->hooks[h]);
    Py_CLEAR(st->instance);
    Py_CLEAR(st->context);
}

/* Runs on_startup/on_shutdown(context=...) if the plugin has it. */
static int run_context_hook(pvm_plugin *self, pvm_hook hook, pvm_error *err)
{
    struct python *st = pvm_plugin_state(self);
    if (!st->hooks[hook])
        return 0;
    PyObject *args[1] = {st->context};
    PyObject *res = call_hook(st->hooks[hook], args, py_kw_context);
    if (!res) {
        char head[64];
        snprintf(head, sizeof head, "%s raised:", pvm_hook_name(hook));
        return error_from_python(self, err, head);
    }
    Py_DECREF(res);
    return 0;
}

static int python_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct python *st = pvm_plugin_state(self);
    int rc = interpreter_enter(self, ctx, err);
    if (rc < 0)
        return rc;
    rc = instance_create(self, err);
    if (rc == 0)
        rc = run_context_hook(self, PVM_HOOK_STARTUP, err);
    if (rc < 0) {
        instance_clear(st);
        interpreter_leave();
        return rc;
    }
    st->started = true;
    py_main = PyEval_SaveThread(); /* plugin threads run between hooks */
    return 0;
}

static int python_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    struct python *st = pvm_plugin_state(self);
    if (!st->started)
        return 0;
    st->started = false;
    PyEval_RestoreThread(py_main);
    int rc = run_context_hook(self, PVM_HOOK_SHUTDOWN, err);
    instance_clear(st);
    interpreter_leave();
    return rc;
}

const pvm_plugin_type pvm_plugin_python = {
    .name = "python",
    .description = "a plugin class written in Python for "
                   "prometheus-virtual-metrics, run unchanged",
    .state_size = sizeof(struct python),
    .configure = python_configure, /* other keys: constructor keywords */
    .check = python_check,         /* file or module */
    .destroy = python_destroy,
    .on_startup = python_startup,   /* interpreter, instance, on_startup */
    .on_shutdown = python_shutdown, /* on_shutdown, then finalise */
    .on_instant_query_request = python_instant,
    .on_range_query_request = python_range,
    .on_metric_names_request = python_metric_names,
    .on_label_names_request = python_label_names,
    .on_label_values_request = python_label_values,
    .on_metadata_request = python_metadata, /* response.add_metadata */
    .validate = python_validate,            /* the source compiles */
    .keys = python_keys,
};
