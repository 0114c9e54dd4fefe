/* python_module.c: the built-in module prometheus_virtual_metrics of the
 * python plugin type, C half: PrometheusRequest, PromqlQuery, the
 * request's timestamps iterator, the time conversions, and the helpers
 * the Python half (python_glue.c) calls (_log, _setting, _credentials).
 * PrometheusResponse is in python_response.c. Objects wrap the C request
 * for the duration of one hook and refuse every use after it. */
#include "python_core.h"

#include <datetime.h>
#include <math.h>
#include <string.h>

#include <pvm/calendar.h>
#include <pvm/pvm.h>

#include "basic_auth.h"
#include "catch_errors.h"

/* The module object of the running interpreter (NULL before init). */
static PyObject *py_module;
/* The context the helpers read settings from (set by python.c). */
static pvm_context *py_ctx;

/* ---- time ------------------------------------------------------------- */

PyObject *pvm_py_datetime(int64_t ms)
{
    /* 0001-01-01 and 9999-12-31T23:59:59.999 in ms */
    if (ms < -62135596800000LL || ms > 253402300799999LL)
        Py_RETURN_NONE;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rest = ms - days * 86400000;
    int64_t y;
    int mo, d;
    pvm_civil_from_days(days, &y, &mo, &d);
    int h = (int)(rest / 3600000), mi = (int)(rest / 60000 % 60);
    int s = (int)(rest / 1000 % 60), us = (int)(rest % 1000) * 1000;
    return PyDateTimeAPI->DateTime_FromDateAndTime(
        (int)y, mo, d, h, mi, s, us, PyDateTime_TimeZone_UTC,
        PyDateTimeAPI->DateTimeType);
}

int pvm_py_to_ms(PyObject *o, int64_t *out)
{
    if (PyLong_Check(o) && !PyBool_Check(o)) {
        long long s = PyLong_AsLongLong(o);
        if (s == -1 && PyErr_Occurred())
            return -1;
        if (s > INT64_MAX / 1000 || s < INT64_MIN / 1000) {
            PyErr_SetString(PyExc_OverflowError, "timestamp out of range");
            return -1;
        }
        *out = (int64_t)s * 1000;
        return 0;
    }
    double secs;
    if (PyDateTime_Check(o)) {
        PyObject *tz = PyDateTime_DATE_GET_TZINFO(o);
        if (tz == PyDateTime_TimeZone_UTC) {
            int64_t days = pvm_days_from_civil(PyDateTime_GET_YEAR(o),
                                               PyDateTime_GET_MONTH(o),
                                               PyDateTime_GET_DAY(o));
            *out = days * 86400000 +
                   (int64_t)PyDateTime_DATE_GET_HOUR(o) * 3600000 +
                   (int64_t)PyDateTime_DATE_GET_MINUTE(o) * 60000 +
                   (int64_t)PyDateTime_DATE_GET_SECOND(o) * 1000 +
                   PyDateTime_DATE_GET_MICROSECOND(o) / 1000;
            return 0;
        }
        PyObject *f = PyObject_CallMethod(o, "timestamp", NULL);
        if (!f)
            return -1;
        secs = PyFloat_AsDouble(f);
        Py_DECREF(f);
    } else if (PyFloat_Check(o) || PyNumber_Check(o)) {
        secs = PyFloat_AsDouble(o);
    } else {
        PyErr_SetString(PyExc_TypeError, "timestamp has to be a "
                                         "datetime.datetime object or a "
                                         "number");
        return -1;
    }
    if (secs == -1.0 && PyErr_Occurred())
        return -1;
    if (!isfinite(secs) || fabs(secs) > 9.2e15) {
        PyErr_SetString(PyExc_OverflowError, "timestamp out of range");
        return -1;
    }
    *out = llround(secs * 1000.0);
    return 0;
}

const char *pvm_py_utf8(PyObject *o, const char *what)
{
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s has to be a string, not %.80s", what,
                     Py_TYPE(o)->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s && strlen(s) != (size_t)n) {
        PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* ---- PromqlQuery ------------------------------------------------------ */

typedef struct {
    PyObject_HEAD const pvm_query *q; /* NULL once the hook returned */
    PyObject *owner;                  /* the request object */
} py_query;

static const pvm_query *query_get(py_query *self)
{
    if (!self->q)
        PyErr_SetString(PyExc_RuntimeError,
                        "the request of this query has ended");
    return self->q;
}

static PyObject *query_string(py_query *self, void *closure)
{
    (void)closure;
    const pvm_query *q = query_get(self);
    return q ? PyUnicode_FromString(pvm_query_string(q)) : NULL;
}

/* `name`: the metric name of the first selector, as the original read it
 * from its AST ("" when none). */
static PyObject *query_name(py_query *self, void *closure)
{
    (void)closure;
    const pvm_query *q = query_get(self);
    if (!q)
        return NULL;
    const char *n = NULL;
    if (pvm_query_selector_count(q) > 0)
        n = pvm_selector_name(pvm_query_selector(q, 0));
    return PyUnicode_FromString(n ? n : "");
}

static PyObject *query_none(py_query *self, void *closure)
{
    (void)self, (void)closure;
    Py_RETURN_NONE;
}

static PyObject *query_name_matches(py_query *self, PyObject *arg)
{
    const pvm_query *q = query_get(self);
    const char *name = q ? pvm_py_utf8(arg, "name") : NULL;
    if (!name)
        return NULL;
    return PyBool_FromLong(pvm_query_name_matches(q, name));
}

#define QUERY_MAX_LABELS 256

static PyObject *query_matches(py_query *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "labels", NULL};
    const char *name = "";
    PyObject *labels = Py_None;
    const pvm_query *q = query_get(self);
    if (!q ||
        !PyArg_ParseTupleAndKeywords(args, kw, "|sO", kwlist, &name, &labels))
        return NULL;
    pvm_label l[QUERY_MAX_LABELS];
    size_t n = 0;
    if (labels != Py_None) {
        if (!PyDict_Check(labels)) {
            PyErr_SetString(PyExc_TypeError, "labels has to be a dict");
            return NULL;
        }
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(labels, &pos, &k, &v)) {
            if (n == QUERY_MAX_LABELS) {
                PyErr_SetString(PyExc_ValueError, "too many labels");
                return NULL;
            }
            l[n].name = pvm_py_utf8(k, "a label name");
            l[n].value = l[n].name ? pvm_py_utf8(v, "a label value") : NULL;
            if (!l[n].value)
                return NULL;
            n++;
        }
    }
    return PyBool_FromLong(pvm_query_matches(q, name, l, n));
}

static PyObject *query_repr(py_query *self)
{
    if (!self->q)
        return PyUnicode_FromString("<PromqlQuery(ended)>");
    return PyUnicode_FromFormat("<PromqlQuery('%s')>",
                                pvm_query_string(self->q));
}

static void query_dealloc(py_query *self)
{
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef query_methods[] = {
    {"name_matches", (PyCFunction)query_name_matches, METH_O,
     "True when a sample of this metric name can match the query"},
    {"matches", (PyCFunction)(void (*)(void))query_matches,
     METH_VARARGS | METH_KEYWORDS,
     "True when a series (name, labels dict) matches the query"},
    {NULL},
};

static PyGetSetDef query_getset[] = {
    {"string", (getter)query_string, NULL, "the query as received", NULL},
    {"name", (getter)query_name, NULL, "metric name of the first selector",
     NULL},
    {"ast", (getter)query_none, NULL, "None (pvm parses PromQL in C)", NULL},
    {NULL},
};

static PyTypeObject query_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = PVM_PY_MODULE ".PromqlQuery",
    .tp_basicsize = sizeof(py_query),
    .tp_dealloc = (destructor)query_dealloc,
    .tp_repr = (reprfunc)query_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The PromQL query of a request (its vector selectors).",
    .tp_methods = query_methods,
    .tp_getset = query_getset,
};

/* ---- timestamps ------------------------------------------------------- */

typedef struct {
    PyObject_HEAD pvm_timestamps it; /* a copy: needs no request */
} py_timestamps;

static PyObject *timestamps_next(py_timestamps *self)
{
    int64_t t;
    if (!pvm_timestamps_next(&self->it, &t))
        return NULL; /* StopIteration */
    return pvm_py_datetime(t);
}

static PyTypeObject timestamps_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = PVM_PY_MODULE "._Timestamps",
    .tp_basicsize = sizeof(py_timestamps),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)timestamps_next,
};

/* ---- PrometheusRequest ------------------------------------------------ */

typedef struct {
    PyObject_HEAD pvm_request *req; /* NULL once the hook returned */
    PyObject *context;              /* PrometheusVirtualMetricsContext */
    PyObject *query;                /* py_query, made on first use */
} py_request;

static pvm_request *request_get(py_request *self)
{
    if (!self->req)
        PyErr_SetString(PyExc_RuntimeError, "this request has ended");
    return self->req;
}

const pvm_request *pvm_py_request_get(PyObject *request)
{
    return request_get((py_request *)request);
}

/* The getters: closure selects the field. */
enum {
    RQ_QUERY_STRING,
    RQ_TIME,
    RQ_START,
    RQ_END,
    RQ_STEP,
    RQ_DURATION,
    RQ_TIMESTAMPS,
    RQ_LABEL_NAME,
    RQ_PATH,
    RQ_REMOTE,
    RQ_HTTP_PATH,
    RQ_HEADERS,
    RQ_QUERY_ARGS,
    RQ_POST_DATA,
};

/* A _CIMultiDict (Python half) of the request's pairs of kind k. */
static PyObject *request_pairs(pvm_request *r, int k)
{
    size_t n = k == RQ_HEADERS      ? pvm_request_http_header_count(r)
               : k == RQ_QUERY_ARGS ? pvm_request_http_query_count(r)
                                    : pvm_request_http_post_data_count(r);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const char *key, *value;
        if (k == RQ_HEADERS)
            pvm_request_http_header_at(r, i, &key, &value);
        else if (k == RQ_QUERY_ARGS)
            pvm_request_http_query_at(r, i, &key, &value);
        else
            pvm_request_http_post_data_at(r, i, &key, &value);
        PyObject *t = Py_BuildValue("(ss)", key, value);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    if (!list)
        return NULL;
    PyObject *res = PyObject_CallMethod(py_module, "_CIMultiDict", "(O)",
                                        list);
    Py_DECREF(list);
    return res;
}

/* `path`: the parts of the HTTP path after /api/v1/ (["query_range"]). */
static PyObject *request_path(pvm_request *r)
{
    const char *p = pvm_request_http_path(r);
    const char *v1 = strstr(p, "/v1/");
    PyObject *s = PyUnicode_FromString(v1 ? v1 + 4 : p);
    if (!s)
        return NULL;
    PyObject *sep = PyUnicode_FromString("/");
    PyObject *parts = sep ? PyUnicode_Split(s, sep, -1) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(s);
    if (!parts)
        return NULL;
    PyObject *res = PyList_New(0);
    for (Py_ssize_t i = 0; res && i < PyList_GET_SIZE(parts); i++) {
        PyObject *part = PyList_GET_ITEM(parts, i);
        if (PyUnicode_GET_LENGTH(part) > 0 && PyList_Append(res, part) < 0)
            Py_CLEAR(res);
    }
    Py_DECREF(parts);
    return res;
}

static PyObject *request_getter(py_request *self, void *closure)
{
    pvm_request *r = request_get(self);
    if (!r)
        return NULL;
    int64_t step = pvm_request_step(r);
    switch ((int)(intptr_t)closure) {
    case RQ_QUERY_STRING:
        return PyUnicode_FromString(pvm_request_query_string(r));
    case RQ_TIME: return pvm_py_datetime(pvm_request_time(r));
    case RQ_START: return pvm_py_datetime(pvm_request_start(r));
    case RQ_END: return pvm_py_datetime(pvm_request_end(r));
    case RQ_STEP: /* seconds: an int when whole, as the original's */
        if (step == 0)
            Py_RETURN_NONE;
        if (step % 1000 == 0)
            return PyLong_FromLongLong(step / 1000);
        return PyFloat_FromDouble((double)step / 1000.0);
    case RQ_DURATION:
        if (step % 1000 == 0)
            return PyUnicode_FromFormat("%llds", (long long)(step / 1000));
        return PyUnicode_FromFormat("%lldms", (long long)step);
    case RQ_TIMESTAMPS: {
        py_timestamps *it = PyObject_New(py_timestamps, &timestamps_type);
        if (it)
            it->it = pvm_request_timestamps(r);
        return (PyObject *)it;
    }
    case RQ_LABEL_NAME: return PyUnicode_FromString(pvm_request_label_name(r));
    case RQ_PATH: return request_path(r);
    case RQ_REMOTE: return PyUnicode_FromString(pvm_request_http_remote(r));
    case RQ_HTTP_PATH: return PyUnicode_FromString(pvm_request_http_path(r));
    default: return request_pairs(r, (int)(intptr_t)closure);
    }
}

static PyObject *request_query(py_request *self, void *closure)
{
    (void)closure;
    pvm_request *r = request_get(self);
    if (!r)
        return NULL;
    if (!self->query) {
        py_query *q = PyObject_New(py_query, &query_type);
        if (!q)
            return NULL;
        q->q = pvm_request_query(r);
        q->owner = NULL; /* the request ends it (no cycle) */
        self->query = (PyObject *)q;
    }
    Py_INCREF(self->query);
    return self->query;
}

static PyObject *request_context(py_request *self, void *closure)
{
    (void)closure;
    Py_INCREF(self->context);
    return self->context;
}

static PyObject *request_remaining(py_request *self, void *closure)
{
    (void)closure;
    pvm_request *r = request_get(self);
    if (!r)
        return NULL;
    int64_t ms = pvm_request_remaining_ms(r);
    if (ms == INT64_MAX)
        Py_RETURN_NONE;
    return PyFloat_FromDouble((double)ms / 1000.0);
}

static PyObject *request_repr(py_request *self)
{
    if (!self->req)
        return PyUnicode_FromString("<PrometheusRequest(ended)>");
    return PyUnicode_FromFormat("<PrometheusRequest(%s, query=%s)>",
                                pvm_request_http_path(self->req),
                                pvm_request_query_string(self->req));
}

static void request_dealloc(py_request *self)
{
    Py_XDECREF(self->context);
    Py_XDECREF(self->query);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define RQ(name, id, doc)                                                     \
    {                                                                         \
        name, (getter)request_getter, NULL, doc, (void *)(intptr_t)(id)       \
    }

static PyGetSetDef request_getset[] = {
    {"query", (getter)request_query, NULL, "the PromqlQuery", NULL},
    RQ("query_string", RQ_QUERY_STRING, "the query as text"),
    RQ("time", RQ_TIME, "evaluation time (aware UTC datetime)"),
    RQ("start", RQ_START, "start of the range (datetime, None if unset)"),
    RQ("end", RQ_END, "end of the range (datetime, None if unset)"),
    RQ("step", RQ_STEP, "step in seconds (None outside range queries)"),
    RQ("duration_string", RQ_DURATION, "step as a duration: '15s'"),
    RQ("timestamps", RQ_TIMESTAMPS, "the timestamps asked (datetimes)"),
    RQ("label_name", RQ_LABEL_NAME, "the label of a label values request"),
    RQ("path", RQ_PATH, "the path after /api/v1/, split at '/'"),
    RQ("http_remote", RQ_REMOTE, "client address"),
    RQ("http_path", RQ_HTTP_PATH, "HTTP path without the query string"),
    RQ("http_headers", RQ_HEADERS, "headers (case-insensitive multidict)"),
    RQ("http_query", RQ_QUERY_ARGS, "URL parameters (multidict)"),
    RQ("http_post_data", RQ_POST_DATA, "urlencoded body parameters"),
    {"context", (getter)request_context, NULL, "the context", NULL},
    {"remaining_seconds", (getter)request_remaining, NULL,
     "seconds left until the request's deadline (None: none)", NULL},
    {NULL},
};

static PyTypeObject request_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = PVM_PY_MODULE
    ".PrometheusRequest",
    .tp_basicsize = sizeof(py_request),
    .tp_dealloc = (destructor)request_dealloc,
    .tp_repr = (reprfunc)request_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A Prometheus API request, valid during one hook.",
    .tp_getset = request_getset,
};

PyObject *pvm_py_request_new(pvm_request *req, PyObject *context)
{
    py_request *r = PyObject_New(py_request, &request_type);
    if (!r)
        return NULL;
    r->req = req;
    r->context = context;
    Py_INCREF(context);
    r->query = NULL;
    return (PyObject *)r;
}

void pvm_py_request_end(PyObject *request)
{
    py_request *r = (py_request *)request;
    r->req = NULL;
    if (r->query)
        ((py_query *)r->query)->q = NULL;
}

/* ---- module helpers --------------------------------------------------- */

/* _log(level, message): level 0 error .. 3 debug. */
static PyObject *mod_log(PyObject *m, PyObject *args)
{
    (void)m;
    int level;
    const char *msg;
    if (!PyArg_ParseTuple(args, "is", &level, &msg))
        return NULL;
    if (level < PVM_LOG_ERROR)
        level = PVM_LOG_ERROR;
    if (level > PVM_LOG_DEBUG)
        level = PVM_LOG_DEBUG;
    pvm_log((pvm_log_level)level, "%s", msg);
    Py_RETURN_NONE;
}

/* _setting(section, key): a raw pvm.ini value or None; section "": the
 * configuration file's path. */
static PyObject *mod_setting(PyObject *m, PyObject *args)
{
    (void)m;
    const char *section, *key;
    if (!PyArg_ParseTuple(args, "ss", &section, &key))
        return NULL;
    if (!*section && py_ctx) /* the configuration file itself */
        return PyUnicode_FromString(pvm_context_config_path(py_ctx));
    const char *v = py_ctx ? pvm_context_setting(py_ctx, section, key) : NULL;
    if (!v)
        Py_RETURN_NONE;
    return PyUnicode_FromString(v);
}

/* _credentials(request): (user, password) of HTTP Basic, or ('', ''). */
static PyObject *mod_credentials(PyObject *m, PyObject *arg)
{
    (void)m;
    if (!PyObject_TypeCheck(arg, &request_type)) {
        PyErr_SetString(PyExc_TypeError, "a PrometheusRequest is needed");
        return NULL;
    }
    pvm_request *r = request_get((py_request *)arg);
    if (!r)
        return NULL;
    char user[256], pass[1024];
    if (pvm_request_basic_credentials(r, user, sizeof user, pass,
                                      sizeof pass) < 0)
        return Py_BuildValue("(ss)", "", "");
    PyObject *res = Py_BuildValue("(ss)", user, pass);
    explicit_bzero(pass, sizeof pass);
    return res;
}

/* _catch_errors_words(what, raiser, hook): the line CatchErrorsPlugin
 * logs and warns, in the words of pvm's catch_errors type. */
static PyObject *mod_catch_errors_words(PyObject *m, PyObject *args)
{
    (void)m;
    const char *what, *raiser, *hook;
    if (!PyArg_ParseTuple(args, "sss", &what, &raiser, &hook))
        return NULL;
    return PyUnicode_FromFormat(PVM_CATCH_ERRORS_FORMAT, what, raiser, hook);
}

static PyMethodDef module_methods[] = {
    {"_log", mod_log, METH_VARARGS, "log a line through pvm"},
    {"_setting", mod_setting, METH_VARARGS, "a raw pvm.ini setting"},
    {"_credentials", mod_credentials, METH_O, "HTTP Basic credentials"},
    {"_catch_errors_words", mod_catch_errors_words, METH_VARARGS,
     "the words of a failure caught by CatchErrorsPlugin"},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = PVM_PY_MODULE,
    .m_doc = "pvm's implementation of the prometheus-virtual-metrics "
             "plugin API",
    .m_size = -1,
    .m_methods = module_methods,
};

static PyObject *module_init(void)
{
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI)
        return NULL;
    if (PyType_Ready(&query_type) < 0 || PyType_Ready(&request_type) < 0 ||
        PyType_Ready(&timestamps_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "PromqlQuery", (PyObject *)&query_type) < 0 ||
        PyModule_AddObjectRef(m, "PrometheusRequest",
                              (PyObject *)&request_type) < 0 ||
        PyModule_AddStringConstant(m, "_BASIC_AUTH_REALM",
                                   PVM_BASIC_AUTH_REALM) < 0 ||
        pvm_py_response_ready(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

int pvm_py_register_module(void)
{
    static int done;
    if (done)
        return 0;
    done = 1;
    return PyImport_AppendInittab(PVM_PY_MODULE, module_init);
}

PyObject *pvm_py_module(void)
{
    return py_module;
}

void pvm_py_set_module(PyObject *m, pvm_context *ctx)
{
    py_module = m;
    py_ctx = ctx;
}

PyObject *pvm_py_forbidden_error(void)
{
    return PyObject_GetAttrString(py_module, "ForbiddenError");
}

PyObject *pvm_py_deadline_error(void)
{
    return PyObject_GetAttrString(py_module, "DeadlineExceeded");
}
