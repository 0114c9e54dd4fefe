/* table.c: the compile-time plugin table, NULL-terminated. To add a
 * plugin: drop plugins/NAME.c defining `const pvm_plugin_type
 * pvm_plugin_NAME`, add it to plugins/local.am and to this list, and
 * rebuild. The order here is only the order of --list-plugins; the order
 * plugins run in is the order of [plugin:...] sections in pvm.ini. */
#include <stddef.h>

#include <pvm/plugin.h>

extern const pvm_plugin_type pvm_plugin_example;

const pvm_plugin_type *const pvm_plugin_table[] = {
    &pvm_plugin_example,  /* plugins/example.c */
    NULL,
};
