/* lua.c: the `lua` plugin type: a Lua 5.4 script with the seed's plugin
 * API. `script =` names the file; the other keys of the section become
 * context.settings. Each worker gets its own state in on_startup (the
 * script runs once there; it returns a table of hooks or defines them as
 * globals) and keeps it between requests; a SIGHUP reload starts new
 * workers, which read the script again. Every call is bounded in time
 * (the request's deadline, `timeout`) and the state in memory
 * (`memory_limit`): see lua_sandbox.c. The objects are in
 * lua_request.c and lua_response.c; docs/plugins/lua.md is the manual. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_core.h"

/* Longest Lua error message put into an answer or a log line. */
#define MSG_MAX 2000

#define OFF(field) offsetof(struct pvm_lua, field)

/* Hook names as the script spells them, in PVM_LUA_* order. */
static const char *const hook_names[PVM_LUA_NHOOKS] = {
    "on_startup",
    "on_shutdown",
    "on_instant_query_request",
    "on_range_query_request",
    "on_metric_names_request",
    "on_label_names_request",
    "on_label_values_request",
    "on_metadata_request",
};

/* ---- configuration ------------------------------------------------------- */

/* Every key the table does not know is a setting of the script. */
static int lua_configure(pvm_plugin *self, const char *key, const char *value,
                         pvm_error *err)
{
    struct pvm_lua *p = pvm_plugin_state(self);
    char **k = realloc(p->set_keys, (p->nset + 1) * sizeof(*k));
    if (k)
        p->set_keys = k;
    char **v = realloc(p->set_vals, (p->nset + 1) * sizeof(*v));
    if (v)
        p->set_vals = v;
    char *kc = strdup(key), *vc = strdup(value);
    if (!k || !v || !kc || !vc) {
        free(kc);
        free(vc);
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    }
    p->set_keys[p->nset] = kc;
    p->set_vals[p->nset] = vc;
    p->nset++;
    return 0;
}

/* ---- errors -------------------------------------------------------------- */

/* Message handler: errors raised in C (a bad argument to add_sample, the
 * deadline) carry no position; give them the script's file:line. */
static int msgh(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING)
        return 1;
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
            continue;
        size_t n = strlen(ar.short_src);
        const char *m = lua_tostring(L, 1);
        if (strncmp(m, ar.short_src, n) == 0 && m[n] == ':')
            return 1;
        lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, m);
        return 1;
    }
    return 1;
}

/* The text of the error value on the top of the stack, without
 * allocating in the state (it may be out of memory, outside protected
 * mode): a string as it is, anything else described in buf. */
static const char *error_text(lua_State *L, int rc, char *buf, size_t len)
{
    if (rc == LUA_ERRMEM)
        return "not enough memory";
    if (lua_type(L, -1) == LUA_TSTRING)
        return lua_tostring(L, -1);
    if (lua_type(L, -1) == LUA_TNUMBER)
        snprintf(buf, len, "%.14g", lua_tonumber(L, -1));
    else
        snprintf(buf, len, "(error object is a %s value)",
                 luaL_typename(L, -1));
    return buf;
}

/* The error of a failed call as a context hook's err (the server names
 * the instance and the hook). */
static int context_error(struct pvm_lua *p, int rc, pvm_error *err)
{
    if (rc == LUA_ERRMEM)
        return pvm_error_set(err, PVM_ERR_PLUGIN,
                             "the script ran out of memory "
                             "(memory_limit = %zu bytes)",
                             p->memory_limit);
    char buf[64];
    return pvm_error_set(err, PVM_ERR_PLUGIN, "%.*s", MSG_MAX,
                         error_text(p->L, rc, buf, sizeof(buf)));
}

/* The error of a failed request hook as the answer. */
static int request_error(struct pvm_lua *p, int rc, pvm_response *resp)
{
    const char *fmsg;
    char buf[64];
    if (p->status < 0)
        return p->status; /* the response call failed it already */
    if (p->timed_out)
        return pvm_response_set_error(
            resp, PVM_ERR_TIMEOUT,
            "query timed out in plugin %s: the script ran past the "
            "request's deadline (%.*s)",
            pvm_plugin_name(p->self), MSG_MAX,
            error_text(p->L, rc, buf, sizeof(buf)));
    if (rc == LUA_ERRMEM)
        return pvm_response_fail(resp,
                                 "the script ran out of memory "
                                 "(memory_limit = %zu bytes)",
                                 p->memory_limit);
    if (pvm_lua_is_forbidden(p->L, -1, &fmsg))
        return pvm_response_set_error(resp, PVM_ERR_FORBIDDEN, "%.*s", MSG_MAX,
                                      fmsg);
    return pvm_response_fail(resp, "%.*s", MSG_MAX,
                             error_text(p->L, rc, buf, sizeof(buf)));
}

/* ---- calls --------------------------------------------------------------- */

/* Calls hook h with the registry values arg1 and arg2 (LUA_NOREF: none),
 * stopped after deadline_ms. Returns the lua_pcall status; on error the
 * error value is on the top of the stack. */
static int call_hook(struct pvm_lua *p, int h, int arg1, int arg2,
                     int64_t deadline_ms)
{
    lua_State *L = p->L;
    lua_pushcfunction(L, msgh);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->hook_ref[h]);
    lua_rawgeti(L, LUA_REGISTRYINDEX, arg1);
    int nargs = 1;
    if (arg2 != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, arg2);
        nargs = 2;
    }
    pvm_lua_arm(p, deadline_ms);
    int rc = lua_pcall(L, nargs, 0, 1);
    pvm_lua_disarm(p);
    return rc;
}

/* The deadline of a call: now + timeout, or the request's if earlier. */
static int64_t deadline_of(const struct pvm_lua *p, const pvm_request *req)
{
    int64_t d = pvm_lua_now_ms() + p->timeout_ms;
    int64_t rd = req ? pvm_request_deadline_ms(req) : 0;
    return rd > 0 && rd < d ? rd : d;
}

static int request_hook(pvm_plugin *self, pvm_request *req, pvm_response *resp,
                        int h)
{
    struct pvm_lua *p = pvm_plugin_state(self);
    if (!p->L || p->hook_ref[h] == LUA_NOREF)
        return 0;
    p->req = req;
    p->resp = resp;
    p->status = 0;
    p->call++;
    int rc = call_hook(p, h, p->req_ref, p->resp_ref, deadline_of(p, req));
    p->req = NULL;
    p->resp = NULL;
    int out = rc == LUA_OK ? 0 : request_error(p, rc, resp);
    lua_settop(p->L, 0);
    if (rc != LUA_OK)
        lua_gc(p->L, LUA_GCCOLLECT); /* what the failed call left */
    return out;
}

static int lua_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    return request_hook(self, req, resp, PVM_LUA_INSTANT);
}

static int lua_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    return request_hook(self, req, resp, PVM_LUA_RANGE);
}

static int lua_metric_names(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    return request_hook(self, req, resp, PVM_LUA_METRIC_NAMES);
}

static int lua_label_names(pvm_plugin *self, pvm_request *req,
                           pvm_response *resp)
{
    return request_hook(self, req, resp, PVM_LUA_LABEL_NAMES);
}

static int lua_label_values(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    return request_hook(self, req, resp, PVM_LUA_LABEL_VALUES);
}

static int lua_metadata(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    return request_hook(self, req, resp, PVM_LUA_METADATA);
}

/* ---- the context --------------------------------------------------------- */

/* context.logger:info(...), :warning, :error, :debug: the arguments as
 * tostring shows them, separated by spaces, with the instance name. */
static int logger_log(lua_State *L)
{
    struct pvm_lua *p = lua_touserdata(L, lua_upvalueindex(1));
    pvm_log_level level = (pvm_log_level)lua_tointeger(L, lua_upvalueindex(2));
    int first = lua_istable(L, 1) ? 2 : 1; /* logger:info or logger.info */
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = first; i <= n; i++) {
        if (i > first)
            luaL_addchar(&b, ' ');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    pvm_plugin_log(p->self, level, "%.*s",
                   (int)(len > MSG_MAX ? MSG_MAX : len), s);
    return 0;
}

/* Pushes the context table: name, script, settings, logger. */
static void push_context(lua_State *L, struct pvm_lua *p)
{
    static const struct {
        const char *name;
        pvm_log_level level;
    } levels[] = {{"error", PVM_LOG_ERROR},
                  {"warning", PVM_LOG_WARNING},
                  {"info", PVM_LOG_INFO},
                  {"debug", PVM_LOG_DEBUG}};
    lua_createtable(L, 0, 4);
    lua_pushstring(L, pvm_plugin_name(p->self));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, p->script);
    lua_setfield(L, -2, "script");
    lua_createtable(L, 0, (int)p->nset);
    for (size_t i = 0; i < p->nset; i++) {
        lua_pushstring(L, p->set_vals[i]);
        lua_setfield(L, -2, p->set_keys[i]);
    }
    lua_setfield(L, -2, "settings");
    lua_createtable(L, 0, 4);
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        lua_pushlightuserdata(L, p);
        lua_pushinteger(L, levels[i].level);
        lua_pushcclosure(L, logger_log, 2);
        lua_setfield(L, -2, levels[i].name);
    }
    lua_setfield(L, -2, "logger");
}

/* ---- startup ------------------------------------------------------------- */

/* Protected: the objects, the context, then the script, run once; its
 * hooks from the table it returns or else from the globals. */
static int setup(lua_State *L)
{
    struct pvm_lua *p = lua_touserdata(L, 1);
    pvm_lua_request_open(L, p);
    pvm_lua_response_open(L, p);
    push_context(L, p);
    p->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (luaL_loadfile(L, p->script) != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    bool returned = lua_istable(L, -1);
    if (!returned)
        lua_pushglobaltable(L);
    int t = lua_gettop(L);
    for (int h = 0; h < PVM_LUA_NHOOKS; h++) {
        int ty = lua_getfield(L, t, hook_names[h]);
        if (ty == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (ty != LUA_TFUNCTION)
            return luaL_error(L, "%s: %s is %s, not a function", p->script,
                              hook_names[h], luaL_typename(L, -1));
        p->hook_ref[h] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (!returned)
        return 0;
    /* a misspelt hook would never run: say so */
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                       : "";
        bool known = false;
        for (int h = 0; h < PVM_LUA_NHOOKS; h++)
            known |= strcmp(k, hook_names[h]) == 0;
        if (strncmp(k, "on_", 3) == 0 && !known)
            pvm_plugin_log(p->self, PVM_LOG_WARNING,
                           "%s: '%s' is not a hook (see docs/plugins/lua.md)",
                           p->script, k);
    }
    return 0;
}

static void close_state(struct pvm_lua *p)
{
    if (p->L)
        lua_close(p->L);
    p->L = NULL;
}

static int lua_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    struct pvm_lua *p = pvm_plugin_state(self);
    p->self = self;
    for (int h = 0; h < PVM_LUA_NHOOKS; h++)
        p->hook_ref[h] = LUA_NOREF;
    p->L = pvm_lua_state_new(p);
    if (!p->L)
        return pvm_error_set(err, PVM_ERR_NOMEM,
                             "cannot create a Lua state within "
                             "memory_limit (%zu bytes)",
                             p->memory_limit);
    lua_pushcfunction(p->L, msgh);
    lua_pushcfunction(p->L, setup);
    lua_pushlightuserdata(p->L, p);
    pvm_lua_arm(p, deadline_of(p, NULL));
    int rc = lua_pcall(p->L, 1, 0, 1);
    pvm_lua_disarm(p);
    if (rc == LUA_OK && p->hook_ref[PVM_LUA_STARTUP] != LUA_NOREF) {
        lua_settop(p->L, 0);
        rc = call_hook(p, PVM_LUA_STARTUP, p->ctx_ref, LUA_NOREF,
                       deadline_of(p, NULL));
    }
    if (rc != LUA_OK) {
        context_error(p, rc, err);
        close_state(p);
        return err->code;
    }
    lua_settop(p->L, 0);
    return 0;
}

static int lua_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    struct pvm_lua *p = pvm_plugin_state(self);
    if (!p->L || p->hook_ref[PVM_LUA_SHUTDOWN] == LUA_NOREF)
        return 0;
    int rc = call_hook(p, PVM_LUA_SHUTDOWN, p->ctx_ref, LUA_NOREF,
                       deadline_of(p, NULL));
    if (rc != LUA_OK)
        context_error(p, rc, err);
    lua_settop(p->L, 0);
    return rc == LUA_OK ? 0 : err->code;
}

/* --check-config and the master (start and reload): the script compiles.
 * It does not run: running it is on_startup's, in each worker. */
static int lua_compile(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    struct pvm_lua *p = pvm_plugin_state(self);
    p->self = self;
    lua_State *L = pvm_lua_state_new(p);
    if (!L)
        return pvm_error_set(err, PVM_ERR_NOMEM,
                             "cannot create a Lua state within "
                             "memory_limit (%zu bytes)",
                             p->memory_limit);
    int rc = 0;
    if (luaL_loadfile(L, p->script) != LUA_OK)
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA, "%.*s", MSG_MAX,
                           lua_type(L, -1) == LUA_TSTRING
                               ? lua_tostring(L, -1)
                               : "not enough memory");
    lua_close(L);
    p->mem_used = 0;
    return rc;
}

static void lua_destroy(pvm_plugin *self)
{
    struct pvm_lua *p = pvm_plugin_state(self);
    close_state(p);
    for (size_t i = 0; i < p->nset; i++) {
        free(p->set_keys[i]);
        free(p->set_vals[i]);
    }
    free(p->set_keys);
    free(p->set_vals);
}

/* [plugin:NAME] keys (pvm/config.h); every other key is passed to the
 * script in context.settings. */
static const pvm_plugin_key lua_keys[] = {
    {"script", PVM_KEY_PATH, OFF(script), .required = true,
     .doc = "the Lua 5.4 script (relative to pvm.ini); other keys of the "
            "section are its context.settings"},
    {"allow_unsafe", PVM_KEY_BOOL, OFF(allow_unsafe), .def = "no",
     .doc = "open every standard library (io, os, require of C modules)"},
    {"memory_limit", PVM_KEY_SIZE, OFF(memory_limit), .def = "64M",
     .min = 256 * 1024,
     .doc = "memory the script's state may hold, per worker"},
    {"timeout", PVM_KEY_DURATION, OFF(timeout_ms), .def = "30s", .min = 1,
     .doc = "longest run of one hook (a request's deadline comes first)"},
    {NULL},
};

const pvm_plugin_type pvm_plugin_lua = {
    .name = "lua",
    .description = "a Lua 5.4 script with the seed's plugin API",
    .state_size = sizeof(struct pvm_lua),
    .configure = lua_configure, /* free keys: context.settings */
    .destroy = lua_destroy,     /* closes the state */
    .on_startup = lua_startup,  /* the state, the script, its on_startup */
    .on_shutdown = lua_shutdown,
    .on_instant_query_request = lua_instant,
    .on_range_query_request = lua_range,
    .on_metric_names_request = lua_metric_names,
    .on_label_names_request = lua_label_names,
    .on_label_values_request = lua_label_values,
    .on_metadata_request = lua_metadata, /* HELP, TYPE, UNIT */
    .on_master_startup = lua_compile,    /* syntax errors stop a start or
                                         a reload */
    .validate = lua_compile,             /* --check-config */
    .keys = lua_keys, /* script, allow_unsafe, memory_limit, timeout */
};
