/* table.c: the compile-time plugin table, NULL-terminated. To add a
 * plugin: drop plugins/NAME.c defining `const pvm_plugin_type
 * pvm_plugin_NAME`, add it to plugins/local.am and to this list, and
 * rebuild. The order here is only the order of --list-plugins; the order
 * plugins run in is the order of [plugin:...] sections in pvm.ini. */
#include <stddef.h>

#include <pvm/plugin.h>

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_catch_errors;
extern const pvm_plugin_type pvm_plugin_basic_auth;
extern const pvm_plugin_type pvm_plugin_openmetrics_file;
extern const pvm_plugin_type pvm_plugin_sqlite;

const pvm_plugin_type *const pvm_plugin_table[] = {
    &pvm_plugin_example,  /* plugins/example.c */
    &pvm_plugin_catch_errors,     /* plugins/catch_errors.c: shields */
    &pvm_plugin_basic_auth,       /* plugins/basic_auth.c: HTTP Basic */
    &pvm_plugin_openmetrics_file, /* plugins/openmetrics_file.c: a file */
    &pvm_plugin_sqlite,           /* plugins/sqlite.c: an SQL query */
    NULL,
};
