/* test_config.h: what the two files of test_config share: the loading
 * helpers (test_config.c) and the [server] key tests
 * (test_config_server.c). */
#ifndef PVM_TEST_CONFIG_H
#define PVM_TEST_CONFIG_H

/* registry.h includes the INI module's config.h (src/server/). */
#include "registry.h"

/* Loads text as "pvm.ini"; fails the test on error. */
pvm_config *load_ok(const char *text);

/* Loads text as "pvm.ini" and checks the exact error message. */
void expect_error(const char *text, const char *msg);

/* Loads "[server]\nKEY = VALUE\n" and checks the error on line 2. */
void expect_server_error(const char *key, const char *value, const char *why);

/* Loads "[server]\nKEY = VALUE\n"; the caller frees. */
pvm_config *load_server(const char *key, const char *value);

void test_defaults(void **state);
void test_all_keys(void **state);
void test_repeated_server_key(void **state);
void test_listen(void **state);
void test_prefix_normalization(void **state);
void test_sizes(void **state);
void test_counts(void **state);
void test_durations(void **state);
void test_log_levels(void **state);
void test_fcgi_timeouts(void **state);

#endif
