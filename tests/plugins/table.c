/* table.c: the plugin table of the test binary tests/pvm-fcgi-test: the
 * shipped example plugin and the test plugins. */
#include <stddef.h>

#include <pvm/plugin.h>

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_fixture;

const pvm_plugin_type *const pvm_plugin_table[] = {
    &pvm_plugin_example, /* plugins/example.c */
    &pvm_plugin_fixture, /* tests/plugins/fixture.c */
    NULL,
};
