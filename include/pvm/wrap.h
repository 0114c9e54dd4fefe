/* pvm/wrap.h: for plugins that wrap another instance (catch_errors): take
 * over its hooks, call them, and take a failure back from the response.
 * Ordinary plugins do not need it (pvm/pvm.h does not include it). */
#ifndef PVM_WRAP_H
#define PVM_WRAP_H

#include <stdbool.h>

#include <pvm/plugin.h>
#include <pvm/response.h>

/* Marks an instance as wrapped by another (e.g. catch_errors): the server
 * then no longer calls its hooks itself; the wrapper does. Exceptions,
 * the hooks with WRAP 0 in pvm/hooks.def: on_master_startup, validate and
 * the gate on_request, which the server still calls. */
void pvm_plugin_set_wrapped(pvm_plugin *self);
bool pvm_plugin_is_wrapped(const pvm_plugin *self);

/* The hook function of an instance, or NULL if its type has none (or the
 * hook is not of that kind: see pvm/hooks.def). A wrapper calls the
 * wrapped instance's hooks through these. */
pvm_request_hook_fn pvm_plugin_request_hook(const pvm_plugin *self,
                                            pvm_hook hook);
pvm_context_hook_fn pvm_plugin_context_hook(const pvm_plugin *self,
                                            pvm_hook hook);

/* After a wrapped hook returned an error, takes back the failure
 * recorded with pvm_response_fail() (or the error set with
 * pvm_response_set_error()), clearing it so the response can still
 * succeed. Returns the message, valid until the request ends, or NULL
 * when nothing was recorded. */
const char *pvm_response_take_failure(pvm_response *r);

#endif
