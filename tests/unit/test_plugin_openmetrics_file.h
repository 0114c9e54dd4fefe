/* test_plugin_openmetrics_file.h: what the two files of the
 * test_plugin_openmetrics_file program share: the fixture (a temporary
 * data file, a test kit over it) and helpers of
 * test_plugin_openmetrics_file.c, and the tests of
 * test_plugin_openmetrics_file_large.c that main() runs. Include after
 * <cmocka.h> (kitutil.h's ok and joined serve both files). */
#ifndef PVM_TESTS_UNIT_TEST_PLUGIN_OPENMETRICS_FILE_H
#define PVM_TESTS_UNIT_TEST_PLUGIN_OPENMETRICS_FILE_H

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

/* The data file in the test's temporary directory. */
extern char file[128];
/* A test kit with one openmetrics_file instance over `file`; server is
 * extra [server] text. */
pvm_testkit *kit_with(const char *server);

void test_many_selectors(void **state);
void test_large_file_discovery(void **state);
void test_name_index(void **state);

#endif
