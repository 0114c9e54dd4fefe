/* test_registry.h: what the files of the test_registry program share:
 * the fake plugin table and context helper of test_registry.c, the
 * stderr capture of capture.h, and the tests of test_registry_log.c that
 * main() runs. Include after <cmocka.h>. */
#ifndef PVM_TESTS_UNIT_TEST_REGISTRY_H
#define PVM_TESTS_UNIT_TEST_REGISTRY_H

#include <stdio.h>

#include "capture.h"
#include "registry.h"

/* The fake plugin types (rec, bare, failing), NULL-terminated. */
extern const pvm_plugin_type *const table[];
/* Creates a context from text; fails the test on error. */
pvm_context *new_ok(const char *text);

void test_context_lookback_and_paths(void **state);
void test_log_levels(void **state);
void test_log_format(void **state);
void test_log_long_line(void **state);

#endif
