/* python_response.c: PrometheusResponse of the built-in module
 * prometheus_virtual_metrics: add_sample with the original's signature
 * (parsed by hand from a vectorcall: one pass over the arguments per
 * sample, keyword names compared by pointer first), a lazy value computed
 * only for a kept sample, add_samples (a whole series from (timestamp,
 * value) pairs or a float64 buffer, through pvm_response_find_series and
 * pvm_response_add_point), add_value, add_info, add_warning and
 * add_metadata. */
#include "python_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>

#include "basic_auth.h"

#define STACK_LABELS 32 /* labels converted without malloc */

typedef struct {
    PyObject_HEAD pvm_response *resp; /* NULL once the hook returned */
    PyObject *request;                /* the PrometheusRequest */
    int status;                       /* last negative pvm status, or 0 */
} py_response;

/* Keyword names, interned once per interpreter (pvm_py_response_ready). */
enum {
    KW_METRIC_NAME,
    KW_METRIC_VALUE,
    KW_TIMESTAMP,
    KW_METRIC_LABELS,
    KW_SKIP_TYPE_CHECKS,
    KW_SKIP_QUERY_CHECKS,
    KW_SAMPLES,
    KW_COUNT
};
static const char *const kw_text[KW_COUNT] = {
    "metric_name",      "metric_value",      "timestamp", "metric_labels",
    "skip_type_checks", "skip_query_checks", "samples",
};
static PyObject *kw_obj[KW_COUNT];

static pvm_response *response_get(py_response *self)
{
    if (!self->resp)
        PyErr_SetString(PyExc_RuntimeError, "this response has ended");
    return self->resp;
}

/* After a negative pvm status the response has failed: raise, so that
 * the hook stops; python.c answers with the response's own error. */
static PyObject *response_failed(py_response *self, int rc)
{
    self->status = rc;
    PyErr_Format(PyExc_RuntimeError, "the response failed (%s)",
                 rc == PVM_ERR_NOMEM ? "out of request memory"
                 : rc == PVM_ERR_BAD_DATA
                     ? "invalid labels or values"
                     : "a limit or an error; see the answer");
    return NULL;
}

/* Sorts args and kwnames into out[0..n) by the parameter ids in ids[];
 * missing ones stay NULL. fname names the function in errors. */
static int parse_args(PyObject *const *args, Py_ssize_t nargs,
                      PyObject *kwnames, const int *ids, int n, PyObject **out,
                      const char *fname)
{
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (nargs > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments", fname,
                     n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int found = -1;
        for (int i = 0; i < n && found < 0; i++)
            if (key == kw_obj[ids[i]])
                found = i;
        for (int i = 0; i < n && found < 0; i++)
            if (PyUnicode_Compare(key, kw_obj[ids[i]]) == 0)
                found = i;
        if (found < 0) {
            PyErr_Format(PyExc_TypeError,
                         "%s() got an unexpected keyword argument '%U'", fname,
                         key);
            return -1;
        }
        if (out[found]) {
            PyErr_Format(PyExc_TypeError,
                         "%s() got multiple values for argument '%U'", fname,
                         key);
            return -1;
        }
        out[found] = args[nargs + k];
    }
    return 0;
}

static int is_true(PyObject *o)
{
    return o ? PyObject_IsTrue(o) : 0;
}

/* A sample value: a number (not a bool, unless unchecked). */
static int to_double(PyObject *o, int checked, double *out)
{
    if (PyFloat_CheckExact(o)) {
        *out = PyFloat_AS_DOUBLE(o);
        return 0;
    }
    if (checked && (PyBool_Check(o) || !PyNumber_Check(o))) {
        PyErr_SetString(PyExc_TypeError, "metric_value has to be a number");
        return -1;
    }
    *out = PyFloat_AsDouble(o);
    return *out == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* A labels dict into l (STACK_LABELS entries, else malloc'd into *heap,
 * which the caller frees). Returns the count, or -1. */
static Py_ssize_t to_labels(PyObject *dict, pvm_label *l, pvm_label **heap)
{
    *heap = NULL;
    if (!dict || dict == Py_None)
        return 0;
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "metric_labels has to be a dict");
        return -1;
    }
    Py_ssize_t n = PyDict_GET_SIZE(dict), i = 0, pos = 0;
    if (n > STACK_LABELS) {
        l = *heap = malloc((size_t)n * sizeof *l);
        if (!l) {
            PyErr_NoMemory();
            return -1;
        }
    }
    PyObject *k, *v;
    while (PyDict_Next(dict, &pos, &k, &v) && i < n) {
        l[i].name = pvm_py_utf8(k, "metric_labels may only contain strings:"
                                   " a label name");
        l[i].value = l[i].name ? pvm_py_utf8(v, "metric_labels may only "
                                                "contain strings: a label "
                                                "value")
                               : NULL;
        if (!l[i].value) {
            free(*heap);
            *heap = NULL;
            return -1;
        }
        i++;
    }
    return i;
}

/* The lazy value's argument. */
struct lazy {
    PyObject *fn; /* the callable */
    int checked;  /* type checks on */
    int failed;   /* it raised: the exception is set */
};

static double lazy_value(void *arg)
{
    struct lazy *lz = arg;
    PyObject *v = PyObject_CallNoArgs(lz->fn);
    double d = NAN;
    if (!v || to_double(v, lz->checked, &d) < 0)
        lz->failed = 1;
    Py_XDECREF(v);
    return d;
}

static int check_sample_response(pvm_response *r)
{
    pvm_response_type t = pvm_response_get_type(r);
    if (t == PVM_RESPONSE_VECTOR || t == PVM_RESPONSE_MATRIX)
        return 0;
    PyErr_SetString(PyExc_TypeError, "response is not a sample response");
    return -1;
}

/* add_sample(metric_name, metric_value, timestamp, metric_labels=None,
 *            skip_type_checks=False, skip_query_checks=False) -> bool */
static PyObject *response_add_sample(py_response *self, PyObject *const *args,
                                     Py_ssize_t nargsf, PyObject *kwnames)
{
    static const int ids[] = {KW_METRIC_NAME,      KW_METRIC_VALUE,
                              KW_TIMESTAMP,        KW_METRIC_LABELS,
                              KW_SKIP_TYPE_CHECKS, KW_SKIP_QUERY_CHECKS};
    PyObject *a[6];
    pvm_response *r = response_get(self);
    if (!r || check_sample_response(r) < 0 ||
        parse_args(args, PyVectorcall_NARGS(nargsf), kwnames, ids, 6, a,
                   "add_sample") < 0)
        return NULL;
    if (!a[0] || !a[1] || !a[2]) {
        PyErr_SetString(PyExc_TypeError, "add_sample() needs metric_name, "
                                         "metric_value and timestamp");
        return NULL;
    }
    int checked = !is_true(a[4]);
    pvm_sample s = {0};
    struct lazy lz = {a[1], checked, 0};
    s.name = pvm_py_utf8(a[0], "metric_name");
    if (!s.name || pvm_py_to_ms(a[2], &s.timestamp) < 0)
        return NULL;
    if (!PyFloat_CheckExact(a[1]) && !PyLong_CheckExact(a[1]) &&
        PyCallable_Check(a[1])) {
        s.value_fn = lazy_value;
        s.value_arg = &lz;
    } else if (to_double(a[1], checked, &s.value) < 0) {
        return NULL;
    }
    pvm_label stack[STACK_LABELS], *heap;
    Py_ssize_t n = to_labels(a[3], stack, &heap);
    if (n < 0)
        return NULL;
    s.labels = heap ? heap : stack;
    s.nlabels = (size_t)n;
    int rc = pvm_response_add_sample_ex(
        r, &s, is_true(a[5]) ? PVM_SAMPLE_SKIP_QUERY_CHECK : 0);
    free(heap);
    if (lz.failed)
        return NULL;
    if (rc < 0)
        return response_failed(self, rc);
    return PyBool_FromLong(rc > 0);
}

/* Adds n pairs of doubles (seconds, value) to ser. */
static int add_buffer_points(py_response *self, pvm_series_ref *ser,
                             const double *d, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
        double secs = d[i];
        if (!isfinite(secs) || fabs(secs) > 9.2e15) {
            PyErr_SetString(PyExc_OverflowError, "timestamp out of range");
            return -1;
        }
        int rc = pvm_response_add_point(self->resp, ser, llround(secs * 1e3),
                                        d[i + 1]);
        if (rc < 0) {
            response_failed(self, rc);
            return -1;
        }
    }
    return 0;
}

/* Adds the (timestamp, value) pairs of a sequence to ser. */
static int add_sequence_points(py_response *self, pvm_series_ref *ser,
                               PyObject *samples)
{
    PyObject *seq = PySequence_Fast(samples, "samples has to be a sequence "
                                             "of (timestamp, value) pairs or "
                                             "a float64 buffer");
    if (!seq)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    int ret = 0;
    for (Py_ssize_t i = 0; i < n && ret == 0; i++) {
        PyObject *p = items[i], *pair = NULL;
        if (!PyTuple_CheckExact(p) || PyTuple_GET_SIZE(p) != 2) {
            pair = PySequence_Tuple(p);
            if (!pair || PyTuple_GET_SIZE(pair) != 2) {
                if (pair)
                    PyErr_SetString(PyExc_ValueError,
                                    "a sample has to be a (timestamp, "
                                    "value) pair");
                Py_XDECREF(pair);
                ret = -1;
                break;
            }
            p = pair;
        }
        int64_t t;
        double v;
        if (pvm_py_to_ms(PyTuple_GET_ITEM(p, 0), &t) < 0 ||
            to_double(PyTuple_GET_ITEM(p, 1), 1, &v) < 0) {
            ret = -1;
        } else {
            int rc = pvm_response_add_point(self->resp, ser, t, v);
            if (rc < 0) {
                response_failed(self, rc);
                ret = -1;
            }
        }
        Py_XDECREF(pair);
    }
    Py_DECREF(seq);
    return ret;
}

/* Adds all points of samples (a float64 buffer of pairs, or a sequence
 * of pairs) to ser. */
static int add_points(py_response *self, pvm_series_ref *ser,
                      PyObject *samples)
{
    if (!PyObject_CheckBuffer(samples) || PyUnicode_Check(samples))
        return add_sequence_points(self, ser, samples);
    Py_buffer b;
    if (PyObject_GetBuffer(samples, &b, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    const char *f = b.format ? b.format : "B";
    if (*f == '@' || *f == '=' || *f == '<')
        f++;
    int rc = -1;
    if (strcmp(f, "d") != 0 || b.itemsize != 8)
        PyErr_Format(PyExc_TypeError,
                     "a samples buffer has to hold float64 ('d'), not '%s'",
                     b.format ? b.format : "B");
    else if ((b.len / 8) % 2 != 0)
        PyErr_SetString(PyExc_ValueError,
                        "a samples buffer has to hold (timestamp, value) "
                        "pairs: an even number of float64");
    else
        rc = add_buffer_points(self, ser, b.buf, b.len / 8);
    PyBuffer_Release(&b);
    return rc;
}

/* add_samples(metric_name, samples, metric_labels=None,
 *             skip_query_checks=False) -> bool: a whole series at once. */
static PyObject *response_add_samples(py_response *self, PyObject *const *args,
                                      Py_ssize_t nargsf, PyObject *kwnames)
{
    static const int ids[] = {KW_METRIC_NAME, KW_SAMPLES, KW_METRIC_LABELS,
                              KW_SKIP_QUERY_CHECKS};
    PyObject *a[4];
    pvm_response *r = response_get(self);
    if (!r || check_sample_response(r) < 0 ||
        parse_args(args, PyVectorcall_NARGS(nargsf), kwnames, ids, 4, a,
                   "add_samples") < 0)
        return NULL;
    if (!a[0] || !a[1]) {
        PyErr_SetString(PyExc_TypeError,
                        "add_samples() needs metric_name and samples");
        return NULL;
    }
    const char *name = pvm_py_utf8(a[0], "metric_name");
    if (!name)
        return NULL;
    pvm_label stack[STACK_LABELS], *heap;
    Py_ssize_t n = to_labels(a[2], stack, &heap);
    if (n < 0)
        return NULL;
    pvm_series_ref *ser = NULL;
    int rc = pvm_response_find_series(r, name, heap ? heap : stack, (size_t)n,
                                      is_true(a[3])
                                          ? PVM_SAMPLE_SKIP_QUERY_CHECK
                                          : 0,
                                      &ser);
    free(heap);
    if (rc < 0)
        return response_failed(self, rc);
    if (rc == 0)
        Py_RETURN_FALSE;
    if (add_points(self, ser, a[1]) < 0)
        return NULL;
    Py_RETURN_TRUE;
}

/* Calls add(r, text) for a str or each str of a list (str() of other
 * items when unchecked). kind names the argument in errors. */
static PyObject *add_strings(py_response *self, PyObject *args, PyObject *kw,
                             const char *kind,
                             int (*add)(pvm_response *, const char *))
{
    static char *kwlist[] = {"value", "skip_type_checks", NULL};
    PyObject *v;
    int skip = 0;
    pvm_response *r = response_get(self);
    if (!r || !PyArg_ParseTupleAndKeywords(args, kw, "O|p", kwlist, &v, &skip))
        return NULL;
    PyObject *list = PyList_Check(v) ? v : NULL;
    Py_ssize_t n = list ? PyList_GET_SIZE(list) : 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = list ? PyList_GET_ITEM(list, i) : v;
        PyObject *str = NULL;
        if (skip && !PyUnicode_Check(item)) {
            str = PyObject_Str(item);
            if (!str)
                return NULL;
            item = str;
        }
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError,
                         "%s has to be a string or a list of strings", kind);
            return NULL;
        }
        const char *s = pvm_py_utf8(item, kind);
        int rc = s ? add(r, s) : 0;
        Py_XDECREF(str);
        if (!s)
            return NULL;
        if (rc < 0)
            return response_failed(self, rc);
    }
    Py_RETURN_NONE;
}

static int add_info_text(pvm_response *r, const char *s)
{
    return pvm_response_add_info(r, "%s", s);
}

static int add_warning_text(pvm_response *r, const char *s)
{
    return pvm_response_add_warning(r, "%s", s);
}

static PyObject *response_add_value(py_response *self, PyObject *args,
                                    PyObject *kw)
{
    pvm_response *r = response_get(self);
    if (!r)
        return NULL;
    pvm_response_type t = pvm_response_get_type(r);
    if (t != PVM_RESPONSE_DATA && t != PVM_RESPONSE_SERIES) {
        PyErr_SetString(PyExc_TypeError, "response is not a data response");
        return NULL;
    }
    return add_strings(self, args, kw, "value", pvm_response_add_value);
}

static PyObject *response_add_info(py_response *self, PyObject *args,
                                   PyObject *kw)
{
    return add_strings(self, args, kw, "message", add_info_text);
}

static PyObject *response_add_warning(py_response *self, PyObject *args,
                                      PyObject *kw)
{
    return add_strings(self, args, kw, "message", add_warning_text);
}

/* add_metadata(metric_name, metric_type='unknown', help=None, unit=None)
 * -> bool, in on_metadata_request (a pvm addition). */
static PyObject *response_add_metadata(py_response *self, PyObject *args,
                                       PyObject *kw)
{
    static char *kwlist[] = {"metric_name", "metric_type", "help", "unit",
                             NULL};
    pvm_metric_metadata md = {0};
    const char *type = "unknown";
    pvm_response *r = response_get(self);
    if (!r || !PyArg_ParseTupleAndKeywords(args, kw, "s|szz", kwlist, &md.name,
                                           &type, &md.help, &md.unit))
        return NULL;
    if (strcmp(type, "unknown") != 0 &&
        pvm_metric_type_parse(type, &md.type) < 0) {
        PyErr_Format(PyExc_ValueError, "unknown metric_type '%s'", type);
        return NULL;
    }
    if (pvm_response_get_type(r) != PVM_RESPONSE_METADATA) {
        PyErr_SetString(PyExc_TypeError,
                        "response is not a metadata response");
        return NULL;
    }
    int rc = pvm_response_add_metadata(r, &md);
    if (rc < 0)
        return response_failed(self, rc);
    return PyBool_FromLong(rc > 0);
}

static PyObject *response_type_get(py_response *self, void *closure)
{
    (void)closure;
    pvm_response *r = response_get(self);
    if (!r)
        return NULL;
    static const char *const names[] = {"VECTOR", "MATRIX", "DATA", "SERIES",
                                        "METADATA"};
    unsigned t = (unsigned)pvm_response_get_type(r);
    PyObject *e = PyObject_GetAttrString(pvm_py_module(),
                                         "PROMETHEUS_RESPONSE_TYPE");
    if (!e)
        return NULL;
    PyObject *res = PyObject_GetAttrString(e, t < 5 ? names[t] : "DATA");
    Py_DECREF(e);
    return res;
}

static PyObject *response_request(py_response *self, void *closure)
{
    (void)closure;
    Py_INCREF(self->request);
    return self->request;
}

static PyObject *response_count(py_response *self, void *closure)
{
    (void)closure;
    pvm_response *r = response_get(self);
    return r ? PyLong_FromSize_t(pvm_response_result_count(r)) : NULL;
}

static PyObject *response_http_status(py_response *self, void *closure)
{
    (void)closure;
    pvm_response *r = response_get(self);
    return r ? PyLong_FromLong(pvm_response_has_error(r) ? 500 : 200) : NULL;
}

/* _challenge(realm): the WWW-Authenticate challenge of pvm's basic_auth
 * type on this response, for BasicAuthPlugin before it raises
 * ForbiddenError. */
static PyObject *response_challenge(py_response *self, PyObject *arg)
{
    pvm_response *r = response_get(self);
    if (!r)
        return NULL;
    const char *realm = pvm_py_utf8(arg, "realm");
    if (!realm)
        return NULL;
    size_t n = strlen(realm);
    if (n == 0 || n > PVM_BASIC_AUTH_REALM_MAX || strpbrk(realm, "\"\\\r\n")) {
        PyErr_Format(PyExc_ValueError,
                     "realm: 1 to %d characters without \", \\ or a line "
                     "break",
                     PVM_BASIC_AUTH_REALM_MAX);
        return NULL;
    }
    char value[PVM_BASIC_AUTH_REALM_MAX + 32];
    snprintf(value, sizeof(value), PVM_BASIC_AUTH_CHALLENGE, realm);
    if (pvm_response_add_header(r, "WWW-Authenticate", value) < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static void response_dealloc(py_response *self)
{
    Py_XDECREF(self->request);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *response_repr(py_response *self)
{
    (void)self;
    return PyUnicode_FromString("<PrometheusResponse>");
}

#define FASTKW (METH_FASTCALL | METH_KEYWORDS)
#define VARKW (METH_VARARGS | METH_KEYWORDS)
#define FN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef response_methods[] = {
    {"add_sample", FN(response_add_sample), FASTKW,
     "add_sample(metric_name, metric_value, timestamp, metric_labels=None, "
     "skip_type_checks=False, skip_query_checks=False) -> bool"},
    {"add_samples", FN(response_add_samples), FASTKW,
     "add_samples(metric_name, samples, metric_labels=None, "
     "skip_query_checks=False) -> bool: a whole series"},
    {"add_value", FN(response_add_value), VARKW,
     "add_value(value or list of values, skip_type_checks=False)"},
    {"add_info", FN(response_add_info), VARKW, "add_info(message)"},
    {"add_warning", FN(response_add_warning), VARKW, "add_warning(message)"},
    {"_challenge", FN(response_challenge), METH_O,
     "_challenge(realm): basic_auth's WWW-Authenticate challenge"},
    {"add_metadata", FN(response_add_metadata), VARKW,
     "add_metadata(metric_name, metric_type='unknown', help=None, "
     "unit=None) -> bool"},
    {NULL},
};

static PyGetSetDef response_getset[] = {
    {"response_type", (getter)response_type_get, NULL,
     "PROMETHEUS_RESPONSE_TYPE member", NULL},
    {"request", (getter)response_request, NULL, "the PrometheusRequest", NULL},
    {"result_count", (getter)response_count, NULL, "samples or values added",
     NULL},
    {"http_status", (getter)response_http_status, NULL, "200, or 500", NULL},
    {NULL},
};

PyTypeObject pvm_py_response_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = PVM_PY_MODULE
    ".PrometheusResponse",
    .tp_basicsize = sizeof(py_response),
    .tp_dealloc = (destructor)response_dealloc,
    .tp_repr = (reprfunc)response_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "What a request hook fills, valid during one hook.",
    .tp_methods = response_methods,
    .tp_getset = response_getset,
};

int pvm_py_response_ready(PyObject *module)
{
    for (int i = 0; i < KW_COUNT; i++) {
        kw_obj[i] = PyUnicode_InternFromString(kw_text[i]);
        if (!kw_obj[i])
            return -1;
    }
    if (PyType_Ready(&pvm_py_response_type) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "PrometheusResponse",
                                 (PyObject *)&pvm_py_response_type);
}

PyObject *pvm_py_response_new(pvm_response *resp, PyObject *request)
{
    py_response *r = PyObject_New(py_response, &pvm_py_response_type);
    if (!r)
        return NULL;
    r->resp = resp;
    r->request = request;
    Py_INCREF(request);
    r->status = 0;
    return (PyObject *)r;
}

void pvm_py_response_end(PyObject *response)
{
    ((py_response *)response)->resp = NULL;
}
