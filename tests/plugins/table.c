/* tests/plugins/table.c: the compile-time plugin table of the test binary
 * tests/pvm-fcgi-test: the shipped example plugin plus the test fixture
 * and the chaos plugin.
 * src/process/main.c finds it through the symbol pvm_plugin_table. */
#include <stddef.h>

#include <pvm/pvm.h>

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_fixture;
extern const pvm_plugin_type pvm_plugin_catch_errors;
extern const pvm_plugin_type pvm_plugin_basic_auth;
extern const pvm_plugin_type pvm_plugin_openmetrics_file;
extern const pvm_plugin_type pvm_plugin_sqlite;
extern const pvm_plugin_type pvm_plugin_exec;
extern const pvm_plugin_type pvm_plugin_http;
extern const pvm_plugin_type pvm_plugin_prometheus;
extern const pvm_plugin_type pvm_plugin_lua;
extern const pvm_plugin_type pvm_plugin_postgresql;
extern const pvm_plugin_type pvm_plugin_bench;
extern const pvm_plugin_type pvm_plugin_chaos;
extern const pvm_plugin_type *const pvm_plugin_table[];

const pvm_plugin_type *const pvm_plugin_table[] = {
    &pvm_plugin_example,      /* plugins/example.c */
    &pvm_plugin_fixture,      /* tests/plugins/fixture.c */
    &pvm_plugin_catch_errors, /* the shipped plugins, for */
    &pvm_plugin_basic_auth,   /* tests/integration/plugins.sh */
    &pvm_plugin_openmetrics_file,
    &pvm_plugin_sqlite,
    &pvm_plugin_exec, /* plugins/exec.c, tests/integration/exec.sh */
    &pvm_plugin_prometheus,
    &pvm_plugin_http, /* tests/integration/http.sh */
    &pvm_plugin_lua,  /* tests/integration/lua.sh */
    &pvm_plugin_postgresql,
    &pvm_plugin_bench, /* tests/plugins/bench.c: N series, hostile */
    &pvm_plugin_chaos, /* tests/plugins/chaos.c (process-model tests) */
    NULL,
};
