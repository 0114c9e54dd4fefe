/* catch_errors.h: the words of a caught failure, shared by the
 * catch_errors type (catch_errors.c) and the python type's
 * CatchErrorsPlugin (python_module.c), so that both report a failure the
 * way the seed's CatchErrorsPlugin did. */
#ifndef PVM_CATCH_ERRORS_H
#define PVM_CATCH_ERRORS_H

/* printf format of the log line and the warning, with three strings: what
 * failed (the error, "TypeError: ..."), the instance or class that raised
 * it, the hook. Only %s conversions, so that PyUnicode_FromFormat reads it
 * too. */
#define PVM_CATCH_ERRORS_FORMAT                                               \
    "PluginError: '%s' raised while running %s.%s()"

#endif
