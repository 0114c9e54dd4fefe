/* lua_response.c: the response object a `lua` script's hooks fill,
 * mirroring the seed's PrometheusResponse: add_sample (a value or a
 * function computing it, called only when the sample is kept),
 * add_value, add_info, add_warning; and the `pvm` global table with
 * pvm.forbidden(msg), the error value that answers 401. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_core.h"

#define MT_RESPONSE "pvm.response"
#define MT_SERIES "pvm.series"
#define MT_FORBIDDEN "pvm.forbidden"

/* Largest |timestamp| in seconds that fits int64 ms. */
#define MAX_TIMESTAMP_S 9.2e15

/* The plugin of a method (its upvalue), checking that it was called on
 * the response object (`response:m(...)`, not `response.m(...)`): one
 * pointer comparison, as add_sample runs for every sample. */
static struct pvm_lua *check(lua_State *L)
{
    struct pvm_lua *p = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_touserdata(L, 1) != p->resp_ud)
        luaL_error(L, "response methods are called as response:method(...)");
    if (!p->resp)
        luaL_error(L, "the response object is valid only during its hook");
    return p;
}

/* A response call failed: the response is marked failed already; stop
 * the script and let the hook return the status. */
static int failed(lua_State *L, struct pvm_lua *p, int rc, const char *what)
{
    p->status = rc;
    return luaL_error(L, "response:%s failed", what);
}

static int64_t timestamp_arg(lua_State *L, struct pvm_lua *p, int idx)
{
    if (lua_isnoneornil(L, idx))
        return pvm_request_time(p->req);
    if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_error(L,
                   "timestamp must be a number (seconds), "
                   "not %s",
                   luaL_typename(L, idx));
    double t = lua_tonumber(L, idx);
    if (!(fabs(t) < MAX_TIMESTAMP_S))
        luaL_error(L, "timestamp %g is out of range", t);
    return llround(t * 1000.0);
}

/* response:add_sample(name, value, labels, timestamp, skip_query_checks)
 * -> true when added, false when the query does not select it. value is
 * a number or a function returning one (called only when kept); labels a
 * table of strings (or nil); timestamp in seconds (nil: request.time). */
static int response_add_sample(lua_State *L)
{
    struct pvm_lua *p = check(L);
    if (lua_type(L, 2) != LUA_TSTRING)
        return luaL_error(L, "add_sample: name must be a string, not %s",
                          luaL_typename(L, 2));
    const char *name = lua_tostring(L, 2);
    int vt = lua_type(L, 3);
    if (vt != LUA_TNUMBER && vt != LUA_TFUNCTION)
        return luaL_error(L,
                          "add_sample: value must be a number or a "
                          "function, not %s",
                          luaL_typename(L, 3));
    pvm_label labels[PVM_LUA_MAX_LABELS];
    size_t n = pvm_lua_labels(L, 4, labels, PVM_LUA_MAX_LABELS, "add_sample");
    int64_t ts = timestamp_arg(L, p, 5);
    unsigned flags = lua_toboolean(L, 6) ? PVM_SAMPLE_SKIP_QUERY_CHECK : 0;
    int rc;
    if (vt == LUA_TNUMBER && flags == 0) {
        rc = pvm_response_add_sample(p->resp, name, lua_tonumber(L, 3), ts,
                                     labels, n);
    } else if (vt == LUA_TNUMBER) {
        pvm_sample s = {.name = name,
                        .labels = labels,
                        .nlabels = n,
                        .timestamp = ts,
                        .value = lua_tonumber(L, 3)};
        rc = pvm_response_add_sample_ex(p->resp, &s, flags);
    } else {
        /* lazy: find the series first (name and labels are copied), call
         * the function only for a kept one */
        pvm_series_ref *ser;
        rc = pvm_response_find_series(p->resp, name, labels, n, flags, &ser);
        if (rc > 0) {
            lua_pushvalue(L, 3);
            lua_call(L, 0, 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                return luaL_error(L,
                                  "add_sample: the value function returned "
                                  "%s, not a number",
                                  luaL_typename(L, -1));
            if (!p->resp)
                return luaL_error(L, "the response object is valid only "
                                     "during its hook");
            rc = pvm_response_add_point(p->resp, ser, ts, lua_tonumber(L, -1));
        }
    }
    if (rc < 0)
        return failed(L, p, rc, "add_sample");
    lua_pushboolean(L, rc > 0);
    return 1;
}

/* A series handle (response:series): one series of this call's
 * response, to add many points without naming it each time. */
struct series_handle {
    struct pvm_lua *p;   /* the plugin */
    pvm_series_ref *ref; /* the series, valid during `call` only */
    uint64_t call;       /* the hook call it belongs to */
};

/* response:series(name, labels [, skip_query_checks]) -> a handle, or
 * nil when the query does not select the series (skip its points). The
 * fast path of add_sample for many points of one series, like the C
 * API's pvm_response_find_series. */
static int response_series(lua_State *L)
{
    struct pvm_lua *p = check(L);
    if (lua_type(L, 2) != LUA_TSTRING)
        return luaL_error(L, "series: name must be a string, not %s",
                          luaL_typename(L, 2));
    pvm_label labels[PVM_LUA_MAX_LABELS];
    size_t n = pvm_lua_labels(L, 3, labels, PVM_LUA_MAX_LABELS, "series");
    unsigned flags = lua_toboolean(L, 4) ? PVM_SAMPLE_SKIP_QUERY_CHECK : 0;
    pvm_series_ref *ref;
    int rc = pvm_response_find_series(p->resp, lua_tostring(L, 2), labels, n,
                                      flags, &ref);
    if (rc < 0)
        return failed(L, p, rc, "series");
    if (rc == 0)
        return 0;
    struct series_handle *h = lua_newuserdatauv(L, sizeof(*h), 0);
    *h = (struct series_handle){p, ref, p->call};
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setmetatable(L, -2);
    return 1;
}

/* series:add(timestamp, value): a point (seconds, a number); true. */
static int series_add(lua_State *L)
{
    struct series_handle *h = lua_touserdata(L, 1);
    if (!h || !lua_getmetatable(L, 1) ||
        !lua_rawequal(L, -1, lua_upvalueindex(1)))
        return luaL_error(L, "series methods are called as "
                             "series:add(timestamp, value)");
    struct pvm_lua *p = h->p;
    if (!p->resp || h->call != p->call)
        return luaL_error(L, "a series handle is valid only during the "
                             "hook that made it");
    if (lua_type(L, 3) != LUA_TNUMBER)
        return luaL_error(L, "series:add: value must be a number, not %s",
                          luaL_typename(L, 3));
    int64_t ts = timestamp_arg(L, p, 2);
    int rc = pvm_response_add_point(p->resp, h->ref, ts, lua_tonumber(L, 3));
    if (rc < 0)
        return failed(L, p, rc, "series:add");
    lua_pushboolean(L, 1);
    return 1;
}

/* response:add_value(v) or response:add_value({v1, v2, ...}): label
 * names, label values or metric names (strings). */
static int response_add_value(lua_State *L)
{
    struct pvm_lua *p = check(L);
    int rc = 0;
    if (lua_type(L, 2) == LUA_TSTRING) {
        rc = pvm_response_add_value(p->resp, lua_tostring(L, 2));
    } else if (lua_istable(L, 2)) {
        lua_Unsigned len = lua_rawlen(L, 2);
        for (lua_Unsigned i = 1; i <= len && rc >= 0; i++) {
            lua_rawgeti(L, 2, (lua_Integer)i);
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L,
                                  "add_value: element %d is %s, not a "
                                  "string",
                                  (int)i, luaL_typename(L, -1));
            rc = pvm_response_add_value(p->resp, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    } else {
        return luaL_error(L,
                          "add_value: a string or a list of strings, "
                          "not %s",
                          luaL_typename(L, 2));
    }
    if (rc < 0)
        return failed(L, p, rc, "add_value");
    return 0;
}

static int add_message(lua_State *L, bool warning)
{
    struct pvm_lua *p = check(L);
    const char *msg = luaL_checkstring(L, 2);
    int rc = warning ? pvm_response_add_warning(p->resp, "%s", msg)
                     : pvm_response_add_info(p->resp, "%s", msg);
    if (rc < 0)
        return failed(L, p, rc, warning ? "add_warning" : "add_info");
    return 0;
}

/* response:add_info(msg), response:add_warning(msg) */
static int response_add_info(lua_State *L)
{
    return add_message(L, false);
}

static int response_add_warning(lua_State *L)
{
    return add_message(L, true);
}

/* response:add_metadata{name = ..., type = "gauge", help = ..., unit = ...}
 * -> true when added (on_metadata_request). type is a word of # TYPE
 * lines (default unknown); help and unit are optional. */
static int response_add_metadata(lua_State *L)
{
    struct pvm_lua *p = check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const fields[] = {"name", "type", "help", "unit"};
    const char *v[4];
    for (int i = 0; i < 4; i++) {
        int ty = lua_getfield(L, 2, fields[i]);
        if (ty != LUA_TNIL && ty != LUA_TSTRING)
            return luaL_error(L, "add_metadata: %s must be a string, not %s",
                              fields[i], luaL_typename(L, -1));
        v[i] = lua_tostring(L, -1); /* kept alive on the stack */
    }
    pvm_metric_metadata md = {.name = v[0], .help = v[2], .unit = v[3]};
    if (v[1] && pvm_metric_type_parse(v[1], &md.type) < 0)
        return luaL_error(L, "add_metadata: '%s' is not a metric type", v[1]);
    int rc = pvm_response_add_metadata(p->resp, &md);
    if (rc < 0)
        return failed(L, p, rc, "add_metadata");
    lua_pushboolean(L, rc > 0);
    return 1;
}

/* ---- pvm.forbidden ------------------------------------------------------- */

/* pvm.forbidden([msg]): error(pvm.forbidden("bad token")) answers 401. */
static int forbidden_new(lua_State *L)
{
    const char *msg = luaL_optstring(L, 1, "forbidden");
    lua_createtable(L, 0, 1);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    luaL_setmetatable(L, MT_FORBIDDEN);
    return 1;
}

static int forbidden_tostring(lua_State *L)
{
    lua_getfield(L, 1, "message");
    lua_pushfstring(L, "forbidden: %s", lua_tostring(L, -1));
    return 1;
}

bool pvm_lua_is_forbidden(lua_State *L, int idx, const char **msg)
{
    if (!lua_istable(L, idx) || !lua_getmetatable(L, idx))
        return false;
    luaL_getmetatable(L, MT_FORBIDDEN);
    bool is = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!is)
        return false;
    lua_pushliteral(L, "message");
    lua_rawget(L, idx < 0 ? idx - 1 : idx);
    /* a string stays alive in the table, which is on the stack */
    *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "forbidden";
    lua_pop(L, 1);
    return true;
}

void pvm_lua_response_open(lua_State *L, struct pvm_lua *p)
{
    static const luaL_Reg methods[] = {
        {"add_sample", response_add_sample},
        {"add_value", response_add_value},
        {"add_info", response_add_info},
        {"add_warning", response_add_warning},
        {"add_metadata", response_add_metadata},
        {"series", response_series},
        {NULL, NULL},
    };
    /* the series handles' metatable: {__index = {add = series_add}} */
    luaL_newmetatable(L, MT_SERIES);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, series_add, 1);
    lua_setfield(L, -2, "add");
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    /* the response's methods: upvalues p and that metatable */
    luaL_newmetatable(L, MT_RESPONSE);
    luaL_newlibtable(L, methods);
    lua_pushlightuserdata(L, p);
    lua_pushvalue(L, -4);
    luaL_setfuncs(L, methods, 2);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
    struct pvm_lua **u = lua_newuserdatauv(L, sizeof(*u), 0);
    *u = p;
    p->resp_ud = u;
    luaL_setmetatable(L, MT_RESPONSE);
    p->resp_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    luaL_newmetatable(L, MT_FORBIDDEN);
    lua_pushcfunction(L, forbidden_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, forbidden_new);
    lua_setfield(L, -2, "forbidden");
    lua_pushcfunction(L, forbidden_new);
    lua_setfield(L, -2, "ForbiddenError");
    lua_setglobal(L, "pvm");
}
