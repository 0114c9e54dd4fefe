/* test_plugin_lua.c: the lua plugin type through the test kit, each case
 * with its own script in a temporary directory: every hook, the request
 * and response objects, lazy values, series handles, errors with
 * file:line, 401, a runaway loop and an unbounded allocation (stopped,
 * the next request answered), a failing on_startup, the sandbox, and
 * hostile values from the script (errors, never crashes). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_lua;

static const pvm_plugin_type *const table[] = {&pvm_plugin_lua, NULL};

static char dir[64];     /* temporary directory */
static char script[128]; /* dir/s.lua */
static char marker[128]; /* dir/shutdown: written by on_shutdown */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A kit with one lua instance `scr` running text; extra keys appended.
 * NULL with err filled when it does not start. */
static pvm_testkit *kit_try(const char *text, const char *extra, char *err,
                            size_t errlen)
{
    write_file(script, text);
    char ini[1024];
    snprintf(ini, sizeof(ini), "[plugin:scr]\ntype = lua\nscript = %s\n%s",
             script, extra ? extra : "");
    return pvm_testkit_new(ini, table, err, errlen);
}

static pvm_testkit *kit(const char *text, const char *extra)
{
    char err[1024];
    pvm_testkit *k = kit_try(text, extra, err, sizeof(err));
    if (!k)
        fail_msg("pvm_testkit_new: %s", err);
    return k;
}

static pvm_test_response *get(pvm_testkit *k, const char *target)
{
    pvm_test_response *r = pvm_testkit_request(k, "GET", target, NULL, NULL);
    assert_non_null(r);
    return r;
}

static void expect_status(pvm_test_response *r, int status)
{
    if (r->status != status)
        fail_msg("status %d, not %d: %s", r->status, status, r->body);
}

static void expect_body_has(pvm_test_response *r, const char *text)
{
    if (!strstr(r->body, text))
        fail_msg("'%s' not in: %s", text, r->body);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/pvm-test-lua-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(script, sizeof(script), "%s/s.lua", dir);
    snprintf(marker, sizeof(marker), "%s/shutdown", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(script);
    unlink(marker);
    rmdir(dir);
    return 0;
}

/* ---- hooks ---------------------------------------------------------------- */

static const char hooks_script[] =
    "local P = {}\n"
    "local ctx\n"
    "function P.on_startup(context)\n"
    "  ctx = context\n"
    "  context.logger:info('starting', context.name, 42)\n"
    "end\n"
    "function P.on_shutdown(context)\n"
    "  local f = io.open(context.settings.marker, 'w')\n"
    "  f:write('bye ' .. context.name)\n"
    "  f:close()\n"
    "end\n"
    "function P.on_instant_query_request(request, response)\n"
    "  response:add_sample('m', 7, {src = ctx.settings.src}, request.time)\n"
    "end\n"
    "function P.on_range_query_request(request, response)\n"
    "  local n = 0\n"
    "  for t in request:timestamps() do\n"
    "    n = n + 1\n"
    "    response:add_sample('m', t, {src = ctx.settings.src}, t)\n"
    "  end\n"
    "  response:add_info('points ' .. n)\n"
    "end\n"
    "function P.on_metric_names_request(request, response)\n"
    "  response:add_value('m')\n"
    "end\n"
    "function P.on_label_names_request(request, response)\n"
    "  response:add_value({'__name__', 'src'})\n"
    "end\n"
    "function P.on_label_values_request(request, response)\n"
    "  if request.label_name == 'src' then\n"
    "    response:add_value(ctx.settings.src)\n"
    "  end\n"
    "end\n"
    "function P.on_metadata_request(request, response)\n"
    "  response:add_metadata({name = 'm', type = 'gauge', help = 'h'})\n"
    "end\n"
    "return P\n";

static void test_every_hook(void **state)
{
    (void)state;
    char extra[256];
    snprintf(extra, sizeof(extra),
             "allow_unsafe = yes\nsrc = lua-test\nmarker = %s\n", marker);
    pvm_testkit *k = kit(hooks_script, extra);

    pvm_test_response *r = pvm_testkit_instant(k, "m", 100);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.src"),
                        "lua-test");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "7");
    pvm_test_response_free(r);

    r = pvm_testkit_range(k, "m", 60, 120, 15);
    expect_status(r, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     5);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].values[4][1]"),
                        "120");
    assert_non_null(pvm_test_json_string(r->json, "infos[0]"));
    assert_non_null(
        strstr(pvm_test_json_string(r->json, "infos[0]"), "points "));
    pvm_test_response_free(r);

    r = get(k, "/api/v1/label/__name__/values");
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "data[0]"), "m");
    pvm_test_response_free(r);

    r = pvm_testkit_label_names(k, NULL);
    expect_status(r, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 2);
    pvm_test_response_free(r);

    r = pvm_testkit_label_values(k, "src", NULL);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "data[0]"), "lua-test");
    pvm_test_response_free(r);

    r = get(k, "/api/v1/metadata");
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "data.m[0].type"),
                        "gauge");
    pvm_test_response_free(r);

    pvm_testkit_free(k);
    FILE *f = fopen(marker, "r");
    assert_non_null(f);
    char buf[64] = "";
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "bye scr");
}

/* Hooks as globals; the state is kept between requests. */
static void test_globals_and_state(void **state)
{
    (void)state;
    pvm_testkit *k = kit("calls = 0\n"
                         "function on_instant_query_request(req, resp)\n"
                         "  calls = calls + 1\n"
                         "  resp:add_sample('m', calls)\n"
                         "end\n",
                         NULL);
    for (int i = 1; i <= 3; i++) {
        pvm_test_response *r = pvm_testkit_instant(k, "m", 10);
        expect_status(r, 200);
        char want[8];
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(pvm_test_json_string(r->json,
                                                 "data.result[0].value[1]"),
                            want);
        pvm_test_response_free(r);
    }
    pvm_testkit_free(k);
}

/* ---- the request object --------------------------------------------------- */

static const char request_script[] =
    "local P = {}\n"
    "local kept\n"
    "function P.on_instant_query_request(req, resp)\n"
    "  local case = req.http_query.case\n"
    "  if case == 'fields' then\n"
    "    local n = 0\n"
    "    for k, v in pairs(req.http_headers) do n = n + 1 end\n"
    "    resp:add_warning(table.concat({req.query.string, tostring(req.time),\n"
    "      req.http_headers['x-token'], req.http_headers['X-TOKEN'],\n"
    "      req.http_remote ~= nil and 'remote' or 'none', req.type,\n"
    "      tostring(req.query:name_matches('m')),\n"
    "      tostring(req.query:matches('m', {a = 'x'})),\n"
    "      tostring(req.query:matches('m', {a = 'y'})),\n"
    "      n > 0 and 'headers' or 'no headers',\n"
    "      req.http_post_data.extra or 'none',\n"
    "      req.http_query.nothing or 'nil'}, '|'))\n"
    "  elseif case == 'keep' then\n"
    "    kept = req\n"
    "  end\n"
    "end\n"
    "function P.on_shutdown(context)\n"
    "  local ok, err = pcall(function() return kept.time end)\n"
    "  local f = io.open(context.settings.marker, 'w')\n"
    "  f:write(tostring(ok) .. ' ' .. err)\n"
    "  f:close()\n"
    "end\n"
    "function P.on_range_query_request(req, resp)\n"
    "  resp:add_warning(tostring(req.start <= 60 and req['end'] >= 120\n"
    "                            and req.step == 15))\n"
    "end\n"
    "return P\n";

static void test_request_object(void **state)
{
    (void)state;
    char extra[256];
    snprintf(extra, sizeof(extra), "allow_unsafe = yes\nmarker = %s\n",
             marker);
    pvm_testkit *k = kit(request_script, extra);
    const char *const headers[] = {"X-Token: abc", NULL};
    pvm_test_response *r = pvm_testkit_request(
        k, "POST", "/api/v1/query?case=fields",
        "query=m%7Ba%3D%22x%22%7D&time=12.5&extra=e1", headers);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"),
                        "m{a=\"x\"}|12.5|abc|abc|remote|instant|true|true|"
                        "false|headers|e1|nil");
    pvm_test_response_free(r);

    r = pvm_testkit_range(k, "m", 60, 120.5, 15);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"), "true");
    pvm_test_response_free(r);

    /* the objects are reused for every request: one kept past its hook
     * raises outside a request hook, it does not read freed memory */
    r = get(k, "/api/v1/query?query=m&time=1&case=keep");
    expect_status(r, 200);
    pvm_test_response_free(r);
    pvm_testkit_free(k);
    FILE *f = fopen(marker, "r");
    assert_non_null(f);
    char buf[256] = "";
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    if (!strstr(buf, "false ") || !strstr(buf, "valid only during its hook"))
        fail_msg("%s", buf);
}

/* ---- lazy values ---------------------------------------------------------- */

static void test_lazy_values(void **state)
{
    (void)state;
    pvm_testkit *k =
        kit("local calls = 0\n"
            "function on_instant_query_request(req, resp)\n"
            "  local f = function() calls = calls + 1; return 2.5 end\n"
            "  local a = resp:add_sample('m', f, {t = 'a'})\n"
            "  local b = resp:add_sample('m', f, {t = 'b'})\n"
            "  resp:add_warning(string.format('%s %s %d', a, b, calls))\n"
            "end\n",
            NULL);
    pvm_test_response *r = pvm_testkit_instant(k, "m{t=\"a\"}", 10);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"),
                        "true false 1");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "2.5");
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

/* ---- series handles -------------------------------------------------------- */

static const char series_script[] =
    "local kept\n"
    "function on_range_query_request(req, resp)\n"
    "  local a = resp:series('m', {t = 'a'})\n"
    "  local b = resp:series('m', {t = 'b'})\n"
    "  resp:add_warning(tostring(a ~= nil) .. ' ' .. tostring(b ~= nil))\n"
    "  for t in req:timestamps() do a:add(t, t * 2) end\n"
    "  kept = a\n"
    "end\n"
    "function on_instant_query_request(req, resp)\n"
    "  local c = req.http_query.case\n"
    "  if c == 'stale' then kept:add(req.time, 1) end\n"
    "  if c == 'badvalue' then resp:series('m', {}):add(req.time, 'x') end\n"
    "  if c == 'dot' then local s = resp:series('m', {}); s.add(1, 2) end\n"
    "  if c == 'fake' then local s = resp:series('m', {})\n"
    "    s.add(setmetatable({}, {}), 1, 2) end\n"
    "  if c == 'ok' then resp:series('m', {}):add(req.time, 5) end\n"
    "end\n";

static void test_series_handles(void **state)
{
    (void)state;
    pvm_testkit *k = kit(series_script, NULL);
    pvm_test_response *r = pvm_testkit_range(k, "m{t=\"a\"}", 60, 120, 30);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"),
                        "true false");
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].values[2][1]"),
                        "240");
    pvm_test_response_free(r);
    static const struct {
        const char *c;
        int status;
        const char *text;
    } cases[] = {
        {"stale", 500, "valid only during the hook that made it"},
        {"badvalue", 500, "value must be a number"},
        {"dot", 500, "series:add(timestamp, value)"},
        {"fake", 500, "series:add(timestamp, value)"},
        {"ok", 200, "\"5\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char t[128];
        snprintf(t, sizeof(t), "/api/v1/query?query=m&time=10&case=%s",
                 cases[i].c);
        r = get(k, t);
        expect_status(r, cases[i].status);
        expect_body_has(r, cases[i].text);
        pvm_test_response_free(r);
    }
    pvm_testkit_free(k);
}

/* ---- errors --------------------------------------------------------------- */

static const char error_script[] =
    "function on_instant_query_request(req, resp)\n"
    "  local case = req.http_query.case\n"
    "  if case == 'error' then error('boom') end\n"
    "  if case == 'nil' then local t = nil; return t.x end\n"
    "  if case == 'api' then resp:add_sample(42, 1) end\n"
    "  if case == 'forbidden' then error(pvm.forbidden('bad token')) end\n"
    "  if case == 'table' then error({}) end\n"
    "  if case == 'number' then error(4.5) end\n"
    "  resp:add_sample('m', 1)\n"
    "end\n";

static void test_errors(void **state)
{
    (void)state;
    pvm_testkit *k = kit(error_script, NULL);
    static const struct {
        const char *c;
        int status;
        const char *text;
    } cases[] = {
        {"error", 500, "s.lua:3: boom"},
        {"nil", 500, "s.lua:4: attempt to index"},
        {"api", 500, "s.lua:5: add_sample: name must be a string"},
        {"forbidden", 401, "bad token"},
        {"table", 500, "error object is a table value"},
        {"number", 500, "failed: 4.5"},
        {"none", 200, "\"success\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char t[128];
        snprintf(t, sizeof(t), "/api/v1/query?query=m&time=1&case=%s",
                 cases[i].c);
        pvm_test_response *r = get(k, t);
        expect_status(r, cases[i].status);
        expect_body_has(r, cases[i].text);
        if (cases[i].status == 500)
            expect_body_has(r, "plugin scr");
        pvm_test_response_free(r);
    }
    pvm_testkit_free(k);
}

/* ---- bounds --------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_runaway_loop(void **state)
{
    (void)state;
    pvm_testkit *k =
        kit("function on_instant_query_request(req, resp)\n"
            "  if req.http_query.case == 'loop' then while true do end end\n"
            "  if req.http_query.case == 'pcall' then\n"
            "    while true do pcall(function() while true do end end) end\n"
            "  end\n"
            "  if req.http_query.case == 'sort' then\n"
            "    local t = {}\n"
            "    for i = 1, 100 do t[i] = i end\n"
            "    table.sort(t, function(a, b) while true do end end)\n"
            "  end\n"
            "  resp:add_sample('m', 1)\n"
            "end\n",
            "timeout = 300ms\n");
    static const char *const cases[] = {"loop", "pcall", "sort"};
    for (size_t i = 0; i < 3; i++) {
        char t[128];
        snprintf(t, sizeof(t), "/api/v1/query?query=m&time=1&case=%s",
                 cases[i]);
        double t0 = now_s();
        pvm_test_response *r = get(k, t);
        double took = now_s() - t0;
        expect_status(r, 503);
        expect_body_has(r, "deadline");
        if (took > 5)
            fail_msg("%s: stopped after %.1f s", cases[i], took);
        pvm_test_response_free(r);
        r = get(k, "/api/v1/query?query=m&time=1");
        expect_status(r, 200);
        pvm_test_response_free(r);
    }
    pvm_testkit_free(k);
}

static void test_unbounded_memory(void **state)
{
    (void)state;
    pvm_testkit *k =
        kit("function on_instant_query_request(req, resp)\n"
            "  if req.http_query.case == 'grow' then\n"
            "    local t = {}\n"
            "    while true do t[#t + 1] = string.rep('x', 1000) .. #t end\n"
            "  end\n"
            "  if req.http_query.case == 'rep' then\n"
            "    local s = string.rep('x', 1 << 30)\n"
            "  end\n"
            "  resp:add_sample('m', 1)\n"
            "end\n",
            "memory_limit = 4M\n");
    static const char *const cases[] = {"grow", "rep"};
    for (size_t i = 0; i < 2; i++) {
        char t[128];
        snprintf(t, sizeof(t), "/api/v1/query?query=m&time=1&case=%s",
                 cases[i]);
        pvm_test_response *r = get(k, t);
        expect_status(r, 500);
        expect_body_has(r, "memory");
        pvm_test_response_free(r);
        r = get(k, "/api/v1/query?query=m&time=1");
        expect_status(r, 200);
        pvm_test_response_free(r);
    }
    pvm_testkit_free(k);
}

/* ---- startup -------------------------------------------------------------- */

static void test_startup_errors(void **state)
{
    (void)state;
    char err[1024];
    pvm_testkit *k = kit_try("local x = 1\n"
                             "function on_startup(ctx)\n"
                             "  error('no database')\n"
                             "end\n",
                             NULL, err, sizeof(err));
    assert_null(k);
    if (!strstr(err, "s.lua:3: no database") || !strstr(err, "scr"))
        fail_msg("%s", err);
    k = kit_try("error('at load')\n", NULL, err, sizeof(err));
    assert_null(k);
    if (!strstr(err, "s.lua:1: at load"))
        fail_msg("%s", err);
    k = kit_try("function on_instant_query_request(\n", NULL, err,
                sizeof(err));
    assert_null(k);
    if (!strstr(err, "s.lua:"))
        fail_msg("%s", err);
    k = kit_try("on_range_query_request = 42\n", NULL, err, sizeof(err));
    assert_null(k);
    if (!strstr(err, "not a function"))
        fail_msg("%s", err);
    k = kit_try("while true do end\n", "timeout = 200ms\n", err, sizeof(err));
    assert_null(k);
    if (!strstr(err, "deadline"))
        fail_msg("%s", err);
}

/* ---- sandbox -------------------------------------------------------------- */

static const char sandbox_script[] =
    "function on_instant_query_request(req, resp)\n"
    "  resp:add_warning(table.concat({tostring(io == nil and\n"
    "                                             coroutine == nil),\n"
    "    tostring(os.execute == nil), tostring(require == nil),\n"
    "    tostring(dofile == nil), tostring(string.dump == nil),\n"
    "    type(os.time()), (load('return 1 + 1'))(),\n"
    "    tostring(select(2, load('\\27Lua')) ~= nil)}, ' '))\n"
    "end\n";

static void test_sandbox(void **state)
{
    (void)state;
    pvm_testkit *k = kit(sandbox_script, NULL);
    pvm_test_response *r = pvm_testkit_instant(k, "m", 1);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"),
                        "true true true true true number 2 true");
    pvm_test_response_free(r);
    pvm_testkit_free(k);

    k = kit(sandbox_script, "allow_unsafe = yes\n");
    r = pvm_testkit_instant(k, "m", 1);
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"),
                        "false false false false false number 2 true");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

/* ---- hostile values ------------------------------------------------------- */

static const char hostile_script[] =
    "local C = {\n"
    "  nan = function(r) r:add_sample('m', 0/0) end,\n"
    "  inf = function(r) r:add_sample('m', -1/0) end,\n"
    "  strval = function(r) r:add_sample('m', '1') end,\n"
    "  noname = function(r) r:add_sample(nil, 1) end,\n"
    "  badname = function(r) r:add_sample('', 1, nil, nil, true) end,\n"
    "  arraylabels = function(r) r:add_sample('m', 1, {1, 2}) end,\n"
    "  numlabel = function(r) r:add_sample('m', 1, {a = 1}) end,\n"
    "  badlabel = function(r) r:add_sample('m', 1, {['\\255'] = 'x'}, nil, true) end,\n"
    "  strlabels = function(r) r:add_sample('m', 1, 'a') end,\n"
    "  strts = function(r) r:add_sample('m', 1, nil, 'x') end,\n"
    "  bigts = function(r) r:add_sample('m', 1, nil, 1e300) end,\n"
    "  nants = function(r) r:add_sample('m', 1, nil, 0/0) end,\n"
    "  lazystr = function(r) r:add_sample('m', function() return 'x' end) "
    "end,\n"
    "  lazyerr = function(r) r:add_sample('m', function() error('lz') end) "
    "end,\n"
    "  huge = function(r) r:add_sample('m', 1, {a = string.rep('x', 1 << "
    "24)}) end,\n"
    "  manylabels = function(r) local l = {}\n"
    "    for i = 1, 100 do l['l' .. i] = 'v' end\n"
    "    r:add_sample('m', 1, l) end,\n"
    "  value = function(r) r:add_value(42) end,\n"
    "  values = function(r) r:add_value({'a', {}}) end,\n"
    "  info = function(r) r:add_info(nil) end,\n"
    "  bigerr = function(r) error(string.rep('e', 1 << 20)) end,\n"
    "  binerr = function(r) error('\\0\\255\\254 bin') end,\n"
    "  selfless = function(r) r.add_sample('m', 1) end,\n"
    "  meta = function(r) setmetatable(r, {}) end,\n"
    "}\n"
    "function on_instant_query_request(req, resp)\n"
    "  C[req.http_query.case](resp)\n"
    "end\n";

static void test_hostile_values(void **state)
{
    (void)state;
    pvm_testkit *k = kit(hostile_script, "memory_limit = 128M\n");
    static const struct {
        const char *c;
        int status;
    } cases[] = {
        {"nan", 200},        {"inf", 200},     {"strval", 500},
        {"noname", 500},     {"badname", 0},   {"arraylabels", 500},
        {"numlabel", 500},   {"badlabel", 0},  {"strlabels", 500},
        {"strts", 500},      {"bigts", 500},   {"nants", 500},
        {"lazystr", 500},    {"lazyerr", 500}, {"huge", 0},
        {"manylabels", 500}, {"value", 500},   {"values", 500},
        {"info", 500},       {"bigerr", 500},  {"binerr", 500},
        {"selfless", 500},   {"meta", 500},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char t[128];
        snprintf(t, sizeof(t), "/api/v1/query?query=m&time=1&case=%s",
                 cases[i].c);
        pvm_test_response *r = get(k, t);
        if (cases[i].status && r->status != cases[i].status)
            fail_msg("%s: status %d: %s", cases[i].c, r->status, r->body);
        else if (r->status != 200 && r->status != 422 && r->status != 500)
            fail_msg("%s: status %d", cases[i].c, r->status);
        if (r->status != 200 && !r->json)
            fail_msg("%s: not JSON: %.200s", cases[i].c, r->body);
        if (r->body_len > 8192 && r->status != 200)
            fail_msg("%s: a %zu-byte error", cases[i].c, r->body_len);
        pvm_test_response_free(r);
    }
    pvm_test_response *r = get(k, "/api/v1/query?query=m&time=1&case=nan");
    expect_status(r, 200);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "NaN");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_hook),       T(test_globals_and_state),
        T(test_request_object),   T(test_lazy_values),
        T(test_errors),           T(test_runaway_loop),
        T(test_unbounded_memory), T(test_startup_errors),
        T(test_sandbox),          T(test_hostile_values),
        T(test_series_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
