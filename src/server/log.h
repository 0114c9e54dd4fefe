/* log.h: the logger's settings and its va_list form, for the server
 * (plugins log through pvm_log and pvm_plugin_log in pvm/plugin.h;
 * implemented in log.c). */
#ifndef PVM_LOG_H
#define PVM_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <pvm/plugin.h>

/* Logger settings (see pvm_log in pvm/plugin.h). The level is global to
 * the process (default info); pvm_context_new sets it from [server]
 * log_level. */
void pvm_log_set_level(pvm_log_level level);
pvm_log_level pvm_log_get_level(void);

/* Parses "error", "warning" (or "warn"), "info", "debug", ignoring case.
 * 0, or PVM_ERR_BAD_DATA with *out untouched. */
int pvm_log_level_parse(const char *s, pvm_log_level *out);

/* "error", "warning", "info", "debug" ("unknown" out of range). */
const char *pvm_log_level_name(pvm_log_level level);

/* True when a message at level would be printed (to skip costly
 * formatting, e.g. of the access log line). */
bool pvm_log_is_enabled(pvm_log_level level);

/* pvm_log with a va_list. */
void pvm_logv(pvm_log_level level, const char *fmt, va_list ap)
    PVM_PRINTF(2, 0);

#endif
