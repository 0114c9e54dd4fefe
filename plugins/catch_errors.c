/* catch_errors.c: the seed's CatchErrorsPlugin. Wraps another instance
 * (`wrap = NAME`): the server stops calling that instance's hooks and this
 * one calls them instead; when a shielded hook fails, the failure is taken
 * back from the response, logged, and (send_warnings) turned into a
 * warning, so the other instances' results still come back as success.
 * The gate on_request is not wrapped: the server calls it for the wrapped
 * instance too, so a failing gate keeps the request out (no warning). */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>
#include <pvm/wrap.h>

#include "catch_errors.h"

/* Per-instance state. */
struct catch_errors {
    char *wrap_name;             /* `wrap =`: instance wrapped (set and
                                     freed by the server) */
    pvm_plugin *wrapped;         /* that instance, resolved in check() */
    bool shield[PVM_HOOK_COUNT]; /* hooks whose failures are caught */
    bool hooks_set;              /* `hooks =` was given */
    bool send_warnings;          /* `send_warnings =` (default yes) */
    bool started;                /* the wrapped on_startup succeeded */
};

/* The hooks a wrapper calls instead of the server (pvm/hooks.def). */
static const bool wrapped_hook[PVM_HOOK_COUNT] = {
#define PVM_HOOK(id, slot, kind, wrap) [PVM_HOOK_##id] = wrap,
#include <pvm/hooks.def>
};

static int hook_by_name(const char *name, size_t len)
{
    for (int h = 0; h < PVM_HOOK_COUNT; h++) {
        const char *hn = pvm_hook_name((pvm_hook)h);
        if (strlen(hn) == len && strncmp(hn, name, len) == 0)
            return h;
    }
    return -1;
}

/* `hooks = on_range_query_request, on_instant_query_request ...`: comma
 * or blank separated hook names. */
static int parse_hooks(struct catch_errors *st, const char *value,
                       pvm_error *err)
{
    const char *sep = ", \t";
    memset(st->shield, 0, sizeof(st->shield));
    st->hooks_set = true;
    for (const char *p = value + strspn(value, sep); *p; p += strspn(p, sep)) {
        size_t len = strcspn(p, sep);
        int h = hook_by_name(p, len);
        if (h >= 0 && h != PVM_HOOK_REQUEST && !wrapped_hook[h])
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s cannot be shielded: the server calls "
                                 "it for the wrapped instance too",
                                 pvm_hook_name((pvm_hook)h));
        if (h == PVM_HOOK_REQUEST)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "on_request cannot be shielded: the server "
                                 "runs every instance's gate itself, and a "
                                 "failing gate answers 500 to keep requests "
                                 "out");
        if (h < 0) {
            char names[512] = "";
            for (int i = 0; i < PVM_HOOK_COUNT; i++)
                if (wrapped_hook[i])
                    snprintf(names + strlen(names),
                             sizeof(names) - strlen(names), "%s%s",
                             names[0] ? ", " : "", pvm_hook_name((pvm_hook)i));
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "unknown hook '%.*s' (hooks are %s)",
                                 (int)len, p, names);
        }
        st->shield[h] = true;
        p += len;
    }
    return 0;
}

/* Only `hooks` needs code; the table stores the others. */
static int catch_errors_configure(pvm_plugin *self, const char *key,
                                  const char *value, pvm_error *err)
{
    struct catch_errors *st = pvm_plugin_state(self);
    if (strcmp(key, "hooks") == 0)
        return parse_hooks(st, value, err);
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
}

/* [plugin:NAME] keys (pvm/config.h). */
static const pvm_plugin_key catch_errors_keys[] = {
    {"wrap", PVM_KEY_STRING, offsetof(struct catch_errors, wrap_name),
     .required = true, .doc = "the instance to shield"},
    {"hooks", PVM_KEY_CUSTOM,
     .doc = "hooks shielded, comma or blank "
            "separated (default: the five query and discovery hooks)"},
    {"send_warnings", PVM_KEY_BOOL,
     offsetof(struct catch_errors, send_warnings), .def = "yes",
     .doc = "turn a caught failure into a warning of the response"},
    {NULL},
};

/* True when following `wrap =` from instance p comes back to self. */
static bool wraps_back(const pvm_plugin *self, const pvm_plugin *p)
{
    const pvm_context *ctx = pvm_plugin_context(self);
    size_t n = pvm_context_plugin_count(ctx);
    for (size_t hops = 0; p && hops <= n; hops++) {
        if (p == self)
            return true;
        if (pvm_plugin_get_type(p) != pvm_plugin_get_type(self))
            return false;
        const struct catch_errors *o = pvm_plugin_state(p);
        p = o->wrap_name ? pvm_context_plugin(ctx, o->wrap_name) : NULL;
    }
    return false;
}

/* Resolves the wrapped instance (every instance exists by now) and marks
 * it wrapped, so that the server neither starts nor calls it. */
static int catch_errors_check(pvm_plugin *self, pvm_error *err)
{
    struct catch_errors *st = pvm_plugin_state(self);
    pvm_plugin *w = pvm_context_plugin(pvm_plugin_context(self),
                                       st->wrap_name);
    if (!w)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "wrap: no instance named '%s' (a "
                             "[plugin:%s] section is needed)",
                             st->wrap_name, st->wrap_name);
    if (w == self || wraps_back(self, w))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "wrap: instance '%s' wraps this one back",
                             st->wrap_name);
    if (pvm_plugin_is_wrapped(w))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "wrap: instance '%s' is already wrapped by "
                             "another instance",
                             st->wrap_name);
    if (!st->hooks_set)
        for (int h = PVM_HOOK_INSTANT_QUERY; h <= PVM_HOOK_LABEL_VALUES; h++)
            st->shield[h] = true;
    pvm_plugin_set_wrapped(w);
    st->wrapped = w;
    return 0;
}

/* Runs a context hook of the wrapped instance; a failure of a shielded
 * hook is logged and ignored, others fail this instance's hook. */
static int run_context_hook(pvm_plugin *self, pvm_hook hook, pvm_context *ctx,
                            pvm_error *err)
{
    struct catch_errors *st = pvm_plugin_state(self);
    pvm_context_hook_fn fn = pvm_plugin_context_hook(st->wrapped, hook);
    if (!fn)
        return 0;
    pvm_error werr = {0};
    int rc = fn(st->wrapped, ctx, &werr);
    if (rc >= 0)
        return 0;
    const char *msg = werr.msg[0] ? werr.msg : "(no message)";
    if (st->shield[hook]) {
        pvm_plugin_log(self, PVM_LOG_ERROR,
                       "PluginError: '%s' raised while running %s.%s()", msg,
                       pvm_plugin_name(st->wrapped), pvm_hook_name(hook));
        return 0;
    }
    return pvm_error_set(err, werr.code ? werr.code : rc,
                         "wrapped instance %s: %s failed: %s",
                         pvm_plugin_name(st->wrapped), pvm_hook_name(hook),
                         msg);
}

/* The server skips wrapped instances when it starts and stops plugins:
 * the wrapper starts its instance at its own place in the order. */
static int catch_errors_startup(pvm_plugin *self, pvm_context *ctx,
                                pvm_error *err)
{
    struct catch_errors *st = pvm_plugin_state(self);
    int rc = run_context_hook(self, PVM_HOOK_STARTUP, ctx, err);
    st->started = rc >= 0;
    return rc;
}

static int catch_errors_shutdown(pvm_plugin *self, pvm_context *ctx,
                                 pvm_error *err)
{
    struct catch_errors *st = pvm_plugin_state(self);
    if (!st->started)
        return 0;
    st->started = false;
    return run_context_hook(self, PVM_HOOK_SHUTDOWN, ctx, err);
}

/* Calls hook of the wrapped instance. A failure of a shielded hook is
 * taken back from the response: logged, reported as a warning in the
 * original's words unless send_warnings = no, and 0 returned. */
static int run_request_hook(pvm_plugin *self, pvm_hook hook, pvm_request *req,
                            pvm_response *resp)
{
    const struct catch_errors *st = pvm_plugin_state(self);
    pvm_request_hook_fn fn = pvm_plugin_request_hook(st->wrapped, hook);
    if (!fn)
        return 0;
    int rc = fn(st->wrapped, req, resp);
    if (rc >= 0 && !pvm_response_has_error(resp))
        return 0;
    const char *wname = pvm_plugin_name(st->wrapped);
    const char *hname = pvm_hook_name(hook);
    if (!st->shield[hook]) {
        /* Not shielded: the failure stands, but should name the wrapped
         * instance rather than this one. A chosen error (401, ...)
         * passes unchanged. */
        if (pvm_response_has_error(resp))
            return rc < 0 ? rc : PVM_ERR_PLUGIN;
        const char *msg = pvm_response_take_failure(resp);
        return pvm_response_fail(resp, "wrapped instance %s: %s", wname,
                                 msg ? msg : "hook returned an error");
    }
    const char *msg = pvm_response_take_failure(resp);
    if (!msg)
        msg = "hook returned an error";
    pvm_plugin_log(self, PVM_LOG_ERROR, PVM_CATCH_ERRORS_FORMAT, msg, wname,
                   hname);
    if (!st->send_warnings)
        return 0;
    rc = pvm_response_add_warning(resp, PVM_CATCH_ERRORS_FORMAT, msg, wname,
                                  hname);
    return rc < 0 ? rc : 0;
}

/* One shield per request hook a wrapper calls (pvm/hooks.def, WRAP 1):
 * catch_errors_on_instant_query_request(), ... */
#define SHIELD_REQUEST_1(id, slot)                                            \
    static int catch_errors_##slot(pvm_plugin *self, pvm_request *req,        \
                                   pvm_response *resp)                        \
    {                                                                         \
        return run_request_hook(self, PVM_HOOK_##id, req, resp);              \
    }
#define SHIELD_REQUEST_0(id, slot)
#define SHIELD_CONTEXT_1(id, slot)
#define SHIELD_CONTEXT_0(id, slot)
#define PVM_HOOK(id, slot, kind, wrap) SHIELD_##kind##_##wrap(id, slot)
#include <pvm/hooks.def>

/* Their slots in the type. */
#define SLOT_REQUEST_1(slot) .slot = catch_errors_##slot,
#define SLOT_REQUEST_0(slot)
#define SLOT_CONTEXT_1(slot)
#define SLOT_CONTEXT_0(slot)

const pvm_plugin_type pvm_plugin_catch_errors = {
    .name = "catch_errors", /* `type = catch_errors` */
    .description = "shields the other plugins from a failing instance "
                   "(the seed's CatchErrorsPlugin)",
    .state_size = sizeof(struct catch_errors), /* zeroed per instance */
    .configure = catch_errors_configure,       /* hooks */
    .check = catch_errors_check,               /* resolves and marks `wrap` */
    .on_startup = catch_errors_startup,        /* starts the wrapped one */
    .on_shutdown = catch_errors_shutdown,      /* stops the wrapped one */
/* every request hook a wrapper calls: on_instant_query_request, ... */
#define PVM_HOOK(id, slot, kind, wrap) SLOT_##kind##_##wrap(slot)
#include <pvm/hooks.def>
    .keys = catch_errors_keys, /* wrap, hooks, send_warnings */
};
