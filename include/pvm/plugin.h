/* pvm/plugin.h: the plugin type, its hooks, the server context and the
 * logger. A plugin is one .c file in plugins/ defining one
 *     const pvm_plugin_type pvm_plugin_<name> = { ... };
 * listed in plugins/plugins.def. Each [plugin:NAME] section of pvm.ini
 * creates an instance (type = TYPE, default NAME) with its own zeroed
 * state. */
#ifndef PVM_PLUGIN_H
#define PVM_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/config.h>
#include <pvm/error.h>
#include <pvm/request.h>
#include <pvm/response.h>

typedef struct pvm_plugin pvm_plugin; /* a plugin instance */

/* Hook identifiers, generated from pvm/hooks.def (the seed API's order,
 * then the hooks added after it): PVM_HOOK_STARTUP, PVM_HOOK_SHUTDOWN,
 * PVM_HOOK_INSTANT_QUERY, PVM_HOOK_RANGE_QUERY, PVM_HOOK_METRIC_NAMES,
 * PVM_HOOK_LABEL_NAMES, PVM_HOOK_LABEL_VALUES, PVM_HOOK_REQUEST (on_request:
 * the gate before routing), PVM_HOOK_METADATA (on_metadata_request),
 * PVM_HOOK_MASTER_STARTUP, PVM_HOOK_VALIDATE; PVM_HOOK_COUNT last. */
typedef enum pvm_hook {
#define PVM_HOOK(id, slot, kind, wrap) PVM_HOOK_##id,
#include <pvm/hooks.def>
    PVM_HOOK_COUNT
} pvm_hook;

/* A request hook returns 0, or a negative status after
 * pvm_response_fail()/pvm_response_set_error(). */
typedef int (*pvm_request_hook_fn)(pvm_plugin *self, pvm_request *req,
                                   pvm_response *resp);

/* A context hook returns 0, or a negative status with err filled. */
typedef int (*pvm_context_hook_fn)(pvm_plugin *self, pvm_context *ctx,
                                   pvm_error *err);

typedef struct pvm_plugin_type {
    const char *name;        /* type name, used by `type =` in pvm.ini */
    const char *description; /* one line, shown by --list-plugins */
    size_t state_size;       /* bytes of zeroed state per instance */

    /* Receives each key of the instance's section except `type` that the
     * key table (`keys`, below) does not store itself, in file order
     * (repeated keys repeatedly). Validate and store; on a bad value
     * return pvm_error_set(err, PVM_ERR_BAD_DATA, "...") and the server
     * reports file, line and key. NULL: the type takes no settings. */
    int (*configure)(pvm_plugin *self, const char *key, const char *value,
                     pvm_error *err);

    /* Called once after all keys and the key table's defaults (required
     * keys are checked by the server): check what the table cannot say,
     * e.g. keys that need each other. NULL: nothing to check. */
    int (*check)(pvm_plugin *self, pvm_error *err);

    /* Frees what configure/startup allocated. Called once, last; the
     * server frees the key table's strings and lists after it. */
    void (*destroy)(pvm_plugin *self);

    /* The seven hooks of the seed API; all optional (NULL). */
    pvm_context_hook_fn on_startup;  /* once per worker, before serving */
    pvm_context_hook_fn on_shutdown; /* once per worker, on graceful stop */
    pvm_request_hook_fn on_instant_query_request;
    pvm_request_hook_fn on_range_query_request;
    pvm_request_hook_fn on_metric_names_request;
    pvm_request_hook_fn on_label_names_request;
    pvm_request_hook_fn on_label_values_request;

    /* Optional (NULL). Runs once in the master process after the
     * configuration is loaded and before any worker is forked (again for
     * the new configuration on SIGHUP; in single-process mode just before
     * on_startup). For one-time work whose result the workers inherit
     * copy-on-write, e.g. loading a large read-only file into the state.
     * Must not start threads or open connections: each worker opens its
     * own in on_startup. A failure stops the server from starting (or
     * rejects the reload). Added last so that existing initialisers stay
     * valid. */
    pvm_context_hook_fn on_master_startup;

    /* Optional (NULL). The per-request gate: called for EVERY HTTP request
     * (every API endpoint, the self-monitoring path, unknown paths, any
     * method) before routing, before parameters are decoded and before
     * any other hook, in configuration order. The request has type
     * PVM_REQUEST_HTTP, an empty query, and only its HTTP details are
     * filled: method, path (without the query string), client address
     * and headers; its query and body parameters are not decoded yet
     * (none are listed). Return 0 to let the request pass, or answer it
     * instead with pvm_response_set_error() (e.g. PVM_ERR_FORBIDDEN: 401,
     * with pvm_response_add_header() for WWW-Authenticate); then no later
     * instance runs and nothing else is done. Any failure (a negative
     * return or pvm_response_fail()) also stops the request, with a 500:
     * a broken gate stays closed. The server calls it for wrapped
     * instances too (pvm_plugin_set_wrapped), so no wrapper can skip or
     * shield a gate. Chosen answers are logged at info level, failures at
     * error level. Cost: it runs once per HTTP request. Added last so
     * that existing initialisers stay valid. */
    pvm_request_hook_fn on_request;
    /* Optional (NULL). Declares metric metadata (HELP, TYPE, UNIT) with
     * pvm_response_add_metadata() into a PVM_RESPONSE_METADATA response,
     * for /api/v1/metadata and the # HELP/# TYPE lines of /federate. The
     * request's query selects by metric name (empty: every metric), so
     * pvm_query_name_matches() can skip work; pvm_response_add_metadata
     * filters anyway. Called per request: keep it cheap. Added last so
     * that existing initialisers stay valid. */
    pvm_request_hook_fn on_metadata_request;
    /* Optional (NULL). Run by `pvm-fcgi --check-config` after configure
     * and check: validates what only the running plugin would otherwise
     * find out, e.g. opens its files read-only and parses them, opens a
     * database read-only and prepares its statements. Must have no side
     * effects (no writes, no files created, no threads, no connections
     * left open) and must not put secrets (passwords, tokens) into err.
     * Leaves the state as configure/check left it, or frees what it added:
     * the instance may be destroyed next. A failure makes --check-config
     * report the instance and exit 1. Added last so that existing
     * initialisers stay valid. */
    pvm_context_hook_fn validate;
    /* Optional (NULL). The type's [plugin:NAME] keys, {NULL}-ended (see
     * pvm/config.h): the server parses and stores each value into the
     * state, applies defaults, refuses missing required keys, and passes
     * PVM_KEY_CUSTOM keys and keys not in the table to configure. Shown
     * by `pvm-fcgi --describe TYPE`. Added last so that existing
     * initialisers stay valid. */
    const struct pvm_plugin_key *keys;
} pvm_plugin_type;

/* The instance's state (state_size zeroed bytes, owned by the server). */
void *pvm_plugin_state(const pvm_plugin *self);

/* The instance name (the NAME of [plugin:NAME]) and its type. */
const char *pvm_plugin_name(const pvm_plugin *self);
const pvm_plugin_type *pvm_plugin_get_type(const pvm_plugin *self);

/* The server context the instance belongs to. */
pvm_context *pvm_plugin_context(const pvm_plugin *self);

/* "on_startup", "on_range_query_request", ... */
const char *pvm_hook_name(pvm_hook hook);

/* Wrapping another instance (pvm_plugin_set_wrapped, the hook getters,
 * pvm_response_take_failure): pvm/wrap.h. */

/* The context: configuration, plugin instances, logger. */

/* Path of the configuration file in use. */
const char *pvm_context_config_path(const pvm_context *ctx);

/* A raw setting of the configuration: the last value of key in section
 * ("server", "plugin:NAME", ...), or NULL. */
const char *pvm_context_setting(const pvm_context *ctx, const char *section,
                                const char *key);

/* The lookback delta of instant selectors ([server] lookback_delta,
 * default 5 minutes), in ms: a plugin answering instant queries from
 * stored samples returns the latest one in (time - lookback, time]. */
int64_t pvm_context_lookback_ms(const pvm_context *ctx);

/* A file path from a plugin setting, resolved as users expect: absolute
 * paths unchanged, relative ones relative to the directory of the
 * configuration file (unchanged when it has none, but "file:..." becomes
 * "./file:..." so that SQLite never reads it as a URI). Returns a malloc'd
 * string the caller frees, or NULL when out of memory. */
char *pvm_context_resolve_path(const pvm_context *ctx, const char *path);

/* Instances in configuration order, and by name (NULL if none). */
size_t pvm_context_plugin_count(const pvm_context *ctx);
pvm_plugin *pvm_context_plugin_at(const pvm_context *ctx, size_t i);
pvm_plugin *pvm_context_plugin(const pvm_context *ctx, const char *name);

/* Logging, to stderr, filtered by [server] log_level. */
typedef enum pvm_log_level {
    PVM_LOG_ERROR,
    PVM_LOG_WARNING,
    PVM_LOG_INFO,
    PVM_LOG_DEBUG,
} pvm_log_level;

void pvm_log(pvm_log_level level, const char *fmt, ...) PVM_PRINTF(2, 3);

/* Logs with the instance name as prefix. */
void pvm_plugin_log(const pvm_plugin *self, pvm_log_level level,
                    const char *fmt, ...) PVM_PRINTF(3, 4);

#endif
