/* table.c: the compile-time plugin table, NULL-terminated, generated
 * from plugins/plugins.def. To add a plugin: drop plugins/NAME.c defining
 * `const pvm_plugin_type pvm_plugin_NAME`, add PVM_PLUGIN(NAME) to
 * plugins.def and plugins/NAME.c to plugins/local.am, and rebuild. */
#include <stddef.h>

#include <pvm/plugin.h>

#define PVM_PLUGIN(name) extern const pvm_plugin_type pvm_plugin_##name;
#include "plugins.def"

const pvm_plugin_type *const pvm_plugin_table[] = {
#define PVM_PLUGIN(name) &pvm_plugin_##name,
#include "plugins.def"
    NULL,
};
