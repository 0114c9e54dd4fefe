/* lua_request.c: the request object a `lua` script's hooks receive,
 * mirroring the seed's PrometheusRequest: request.query (with
 * :name_matches, :matches and .string), time/start/end/step in seconds,
 * request:timestamps(), label_name, and the HTTP details (http_headers,
 * case-insensitive; http_query; http_post_data; http_remote). One object
 * per state, pointed at each request in turn; used after its hook
 * returned, it raises an error instead of reading freed memory. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_core.h"

#define MT_REQUEST "pvm.request"
#define MT_QUERY "pvm.query"
#define MT_HEADERS "pvm.http_headers"
#define MT_HTTP_QUERY "pvm.http_query"
#define MT_POST_DATA "pvm.http_post_data"

/* User values of the request object. */
enum { UV_QUERY = 1, UV_HEADERS, UV_HTTP_QUERY, UV_POST_DATA, UV_COUNT };

/* The plugin behind object idx (of metatable mt), with a request. */
static struct pvm_lua *check(lua_State *L, int idx, const char *mt)
{
    struct pvm_lua **u = luaL_checkudata(L, idx, mt);
    if (!(*u)->req)
        luaL_error(L, "the request object is valid only during its hook");
    return *u;
}

static void push_seconds(lua_State *L, int64_t ms)
{
    lua_pushnumber(L, (double)ms / 1000.0);
}

static const char *type_name(pvm_request_type t)
{
    switch (t) {
    case PVM_REQUEST_INSTANT: return "instant";
    case PVM_REQUEST_RANGE: return "range";
    case PVM_REQUEST_SERIES: return "series";
    case PVM_REQUEST_METRIC_NAMES: return "metric_names";
    case PVM_REQUEST_LABEL_NAMES: return "label_names";
    case PVM_REQUEST_LABEL_VALUES: return "label_values";
    case PVM_REQUEST_METADATA: return "metadata";
    case PVM_REQUEST_HTTP: break;
    }
    return "http";
}

/* for t in request:timestamps() do ... end: seconds, as numbers. */
static int timestamps_next(lua_State *L)
{
    pvm_timestamps *it = lua_touserdata(L, lua_upvalueindex(1));
    int64_t t;
    if (!pvm_timestamps_next(it, &t))
        return 0;
    push_seconds(L, t);
    return 1;
}

static int request_timestamps(lua_State *L)
{
    struct pvm_lua *p = check(L, 1, MT_REQUEST);
    pvm_timestamps *it = lua_newuserdatauv(L, sizeof(*it), 0);
    *it = pvm_request_timestamps(p->req);
    lua_pushcclosure(L, timestamps_next, 1);
    return 1;
}

/* request.KEY */
static int request_index(lua_State *L)
{
    struct pvm_lua *p = check(L, 1, MT_REQUEST);
    const pvm_request *r = p->req;
    const char *k = luaL_checkstring(L, 2);
    static const char *const uv[] = {"query", "http_headers", "http_query",
                                     "http_post_data"};
    for (int i = 0; i < UV_COUNT - 1; i++)
        if (strcmp(k, uv[i]) == 0) {
            lua_getiuservalue(L, 1, i + 1);
            return 1;
        }
    if (strcmp(k, "time") == 0)
        push_seconds(L, pvm_request_time(r));
    else if (strcmp(k, "start") == 0)
        push_seconds(L, pvm_request_start(r));
    else if (strcmp(k, "end") == 0)
        push_seconds(L, pvm_request_end(r));
    else if (strcmp(k, "step") == 0)
        push_seconds(L, pvm_request_step(r));
    else if (strcmp(k, "timestamps") == 0)
        lua_pushcfunction(L, request_timestamps);
    else if (strcmp(k, "label_name") == 0)
        lua_pushstring(L, pvm_request_label_name(r));
    else if (strcmp(k, "type") == 0)
        lua_pushstring(L, type_name(pvm_request_get_type(r)));
    else if (strcmp(k, "http_method") == 0)
        lua_pushstring(L, pvm_request_http_method(r));
    else if (strcmp(k, "http_path") == 0)
        lua_pushstring(L, pvm_request_http_path(r));
    else if (strcmp(k, "http_remote") == 0)
        lua_pushstring(L, pvm_request_http_remote(r));
    else if (strcmp(k, "limit") == 0)
        lua_pushinteger(L, (lua_Integer)pvm_request_limit(r));
    else if (strcmp(k, "remaining_ms") == 0)
        lua_pushinteger(L, (lua_Integer)pvm_request_remaining_ms(r));
    else
        lua_pushnil(L);
    return 1;
}

/* ---- labels ------------------------------------------------------------ */


size_t pvm_lua_labels(lua_State *L, int idx, pvm_label *out, size_t max,
                      const char *what)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: labels must be a table of strings, not %s", what,
                   luaL_typename(L, idx));
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L,
                       "%s: labels must map strings to strings, not %s to "
                       "%s",
                       what, luaL_typename(L, -2), luaL_typename(L, -1));
        if (n == max)
            luaL_error(L, "%s: more than %d labels", what, (int)max);
        /* the table keeps both strings alive while it is on the stack;
         * insertion in name order (a few labels: cheaper than qsort) */
        pvm_label l = {lua_tostring(L, -2), lua_tostring(L, -1)};
        size_t i = n++;
        for (; i > 0 && strcmp(out[i - 1].name, l.name) > 0; i--)
            out[i] = out[i - 1];
        out[i] = l;
        lua_pop(L, 1);
    }
    return n;
}

/* ---- the query ----------------------------------------------------------- */

/* request.query:name_matches(name) */
static int query_name_matches(lua_State *L)
{
    struct pvm_lua *p = check(L, 1, MT_QUERY);
    const char *name = luaL_checkstring(L, 2);
    lua_pushboolean(L,
                    pvm_query_name_matches(pvm_request_query(p->req), name));
    return 1;
}

/* request.query:matches(name, labels) */
static int query_matches(lua_State *L)
{
    struct pvm_lua *p = check(L, 1, MT_QUERY);
    const char *name = luaL_checkstring(L, 2);
    pvm_label labels[PVM_LUA_MAX_LABELS];
    size_t n = pvm_lua_labels(L, 3, labels, PVM_LUA_MAX_LABELS,
                              "query:matches");
    lua_pushboolean(L, pvm_query_matches(pvm_request_query(p->req), name,
                                         labels, n));
    return 1;
}

static int query_index(lua_State *L)
{
    struct pvm_lua *p = check(L, 1, MT_QUERY);
    const char *k = luaL_checkstring(L, 2);
    const pvm_query *q = pvm_request_query(p->req);
    if (strcmp(k, "string") == 0)
        lua_pushstring(L, pvm_query_string(q));
    else if (strcmp(k, "name_matches") == 0)
        lua_pushcfunction(L, query_name_matches);
    else if (strcmp(k, "matches") == 0)
        lua_pushcfunction(L, query_matches);
    else if (strcmp(k, "is_empty") == 0)
        lua_pushboolean(L, pvm_query_is_empty(q));
    else
        lua_pushnil(L);
    return 1;
}

/* ---- headers and parameters ---------------------------------------------- */

/* The three maps differ in their getters only. */
struct map_kind {
    const char *mt;
    const char *(*get)(const pvm_request *r, const char *key);
    size_t (*count)(const pvm_request *r);
    void (*at)(const pvm_request *r, size_t i, const char **k, const char **v);
};

static const struct map_kind maps[] = {
    {MT_HEADERS, pvm_request_http_header, pvm_request_http_header_count,
     pvm_request_http_header_at},
    {MT_HTTP_QUERY, pvm_request_http_query, pvm_request_http_query_count,
     pvm_request_http_query_at},
    {MT_POST_DATA, pvm_request_http_post_data,
     pvm_request_http_post_data_count, pvm_request_http_post_data_at},
};

/* map[key]: the (first) value, or nil; headers case-insensitively. */
static int map_index(lua_State *L)
{
    const struct map_kind *m = lua_touserdata(L, lua_upvalueindex(1));
    struct pvm_lua *p = check(L, 1, m->mt);
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    const char *v = m->get(p->req, lua_tostring(L, 2));
    if (!v)
        return 0;
    lua_pushstring(L, v);
    return 1;
}

static int map_next(lua_State *L)
{
    const struct map_kind *m = lua_touserdata(L, lua_upvalueindex(1));
    struct pvm_lua *p = check(L, lua_upvalueindex(2), m->mt);
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(3));
    if (i < 0 || (size_t)i >= m->count(p->req))
        return 0;
    const char *k, *v;
    m->at(p->req, (size_t)i, &k, &v);
    lua_pushinteger(L, i + 1);
    lua_replace(L, lua_upvalueindex(3));
    lua_pushstring(L, k);
    lua_pushstring(L, v);
    return 2;
}

/* pairs(map): every pair in order (repeated keys repeatedly). */
static int map_pairs(lua_State *L)
{
    const struct map_kind *m = lua_touserdata(L, lua_upvalueindex(1));
    check(L, 1, m->mt);
    lua_pushlightuserdata(L, (void *)m);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, map_next, 3);
    return 1;
}

/* ---- setup --------------------------------------------------------------- */

/* A new object of plugin p with metatable mt, made by the caller (on the
 * top of the stack, popped) and `nuv` user values. */
static void new_object(lua_State *L, struct pvm_lua *p, const char *mt,
                       int nuv)
{
    struct pvm_lua **u = lua_newuserdatauv(L, sizeof(*u), nuv);
    *u = p;
    luaL_setmetatable(L, mt);
}

static void new_metatable(lua_State *L, const char *mt, lua_CFunction index)
{
    luaL_newmetatable(L, mt);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

void pvm_lua_request_open(lua_State *L, struct pvm_lua *p)
{
    new_metatable(L, MT_REQUEST, request_index);
    new_metatable(L, MT_QUERY, query_index);
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        luaL_newmetatable(L, maps[i].mt);
        lua_pushlightuserdata(L, (void *)&maps[i]);
        lua_pushcclosure(L, map_index, 1);
        lua_setfield(L, -2, "__index");
        lua_pushlightuserdata(L, (void *)&maps[i]);
        lua_pushcclosure(L, map_pairs, 1);
        lua_setfield(L, -2, "__pairs");
        lua_pushliteral(L, "locked");
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    new_object(L, p, MT_REQUEST, UV_COUNT - 1);
    new_object(L, p, MT_QUERY, 0);
    lua_setiuservalue(L, -2, UV_QUERY);
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        new_object(L, p, maps[i].mt, 0);
        lua_setiuservalue(L, -2, UV_HEADERS + (int)i);
    }
    p->req_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}
