/* python_core.h: what the python plugin type (python.c), its built-in
 * module prometheus_virtual_metrics (python_module.c, python_response.c)
 * and the module's Python half (python_glue.c) share. Include it first:
 * Python.h must precede the system headers. */
#ifndef PVM_PYTHON_CORE_H
#define PVM_PYTHON_CORE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pvm/pvm.h>

/* The module's name, importable from a plugin. */
#define PVM_PY_MODULE "prometheus_virtual_metrics"

/* Registers the built-in module with the interpreter's init table: once
 * per process, before the first Py_InitializeFromConfig. */
int pvm_py_register_module(void);

/* Runs the module's Python half (the classes written in Python, the
 * submodules of the original's paths, the logging handler); called once
 * per interpreter after the module is imported. 0, or -1 with a Python
 * exception set. */
int pvm_py_glue_run(PyObject *module);

/* The module of the running interpreter (borrowed; NULL before init) and
 * the context its helpers read settings from: python.c sets both once
 * the module is imported, and NULL when the interpreter ends. */
PyObject *pvm_py_module(void);
void pvm_py_set_module(PyObject *m, pvm_context *ctx);
/* The module's ForbiddenError and DeadlineExceeded (new references). */
PyObject *pvm_py_forbidden_error(void);
PyObject *pvm_py_deadline_error(void);

/* The objects a request hook receives. pvm_py_request_new wraps req (with
 * its query) and pvm_py_response_new resp; both hold their C pointers
 * until pvm_py_request_end / pvm_py_response_end, after which every use
 * raises RuntimeError (a plugin that kept them cannot reach freed
 * memory). New references, or NULL with an exception set. */
PyObject *pvm_py_request_new(pvm_request *req, PyObject *context);
void pvm_py_request_end(PyObject *request);
PyObject *pvm_py_response_new(pvm_response *resp, PyObject *request);
void pvm_py_response_end(PyObject *response);

/* The response type's object (python_response.c), readied by
 * pvm_py_register_module's init function. */
extern PyTypeObject pvm_py_response_type;
int pvm_py_response_ready(PyObject *module);

/* A request's query object (python_module.c) for the response's checks. */
const pvm_request *pvm_py_request_get(PyObject *request);

/* Milliseconds since the epoch of a datetime (aware: its UTC time; naive:
 * local time, as datetime.timestamp() reads it) or of a number of
 * seconds. 0, or -1 with TypeError/OverflowError set. */
int pvm_py_to_ms(PyObject *o, int64_t *out);

/* An aware UTC datetime for ms since the epoch (new reference), or None
 * when outside datetime's range (years 1 to 9999). */
PyObject *pvm_py_datetime(int64_t ms);

/* The UTF-8 text of a str, or NULL with TypeError naming what (a str with
 * a NUL character is refused too). Valid while o lives. */
const char *pvm_py_utf8(PyObject *o, const char *what);

#endif
