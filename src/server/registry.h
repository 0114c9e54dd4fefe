/* registry.h: plugin instances and the server context. The context is
 * created from a loaded config and the compile-time plugin table; it owns
 * the instances and runs their hooks in configuration order; it sets the
 * logger's level (log.h). */
#ifndef PVM_REGISTRY_H
#define PVM_REGISTRY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <pvm/plugin.h>
#include <pvm/wrap.h>

#include "config.h"
#include "log.h"

/* Creates the context: for each [plugin:NAME] section, in file order,
 * finds the type (`type =`, default NAME) in table (NULL-terminated),
 * allocates zeroed state, passes every other key to configure() and calls
 * check(). Takes ownership of cfg (also on failure). NULL on error with
 * err->msg like "pvm.ini:14: [plugin:demo] amplitude: not a number"; the
 * instances created so far, the failing one included, are destroyed
 * (destroy() must cope with a partly configured, zero-initialised state).
 * Sets the global log level from [server] log_level first, so that
 * configure() and check() log at the configured level. */
pvm_context *pvm_context_new(pvm_config *cfg,
                             const pvm_plugin_type *const *table,
                             pvm_error *err);

/* Runs on_startup of every instance in order, skipping wrapped instances
 * (their wrapper starts them). On failure err->msg names the instance
 * ("plugin demo: on_startup failed: ...") and the instances started so far
 * are shut down again, in reverse order. */
int pvm_context_startup(pvm_context *ctx, pvm_error *err);

/* True when on_startup ran successfully for every instance that is not
 * wrapped (and none was shut down since): what /-/ready reports. */
bool pvm_context_is_started(const pvm_context *ctx);

/* Calls the validate hook of every instance (wrapped ones too), in
 * configuration order, for --check-config. Stops at the first failure:
 * err->msg then reads "FILE:LINE: [plugin:NAME]: ..." as a check()
 * failure does. Nothing is started. */
int pvm_context_validate(pvm_context *ctx, pvm_error *err);

/* Runs on_shutdown of every started instance, in reverse order; a
 * failure is logged and the others still run. */
void pvm_context_shutdown(pvm_context *ctx);

/* Calls destroy() of every instance (started or not, in reverse order)
 * and frees everything, the config included. Does not run on_shutdown:
 * call pvm_context_shutdown first. NULL ok. */
void pvm_context_free(pvm_context *ctx);

const pvm_config *pvm_context_config(const pvm_context *ctx);

/* Runs a request hook of every instance that has it and is not wrapped
 * (on_request: wrapped or not, so that no wrapper can open a gate), in
 * configuration order, stopping at the first failure or chosen answer
 * (logged at error or info level). A failure is
 * reported into resp (see pvm_response_note_failure) and logged. Returns
 * 0 or the failing status. */
int pvm_context_run_request_hook(pvm_context *ctx, pvm_hook hook,
                                 pvm_request *req, pvm_response *resp);

/* Prints a type for `pvm-fcgi --describe TYPE`: "NAME: DESCRIPTION",
 * then per key of its table (src/settings.c)
 *   "  KEY = TYPE[ BOUNDS][ (required)][ (default X)][ (repeatable)]"
 *   "      DOC"
 * docs/plugins/NAME.md shows the same lines (checked by
 * tests/unit/test_settings). */
void pvm_plugin_describe(FILE *f, const pvm_plugin_type *t);

/* Looks a type up by name in a NULL-terminated table. */
const pvm_plugin_type *pvm_plugin_table_find(
    const pvm_plugin_type *const *table, const char *name);

#endif
