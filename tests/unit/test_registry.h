/* test_registry.h: what the files of the test_registry program share:
 * the fake plugin table, context and stderr-capture helpers of
 * test_registry.c, and the tests of test_registry_log.c that main()
 * runs. */
#ifndef PVM_TESTS_UNIT_TEST_REGISTRY_H
#define PVM_TESTS_UNIT_TEST_REGISTRY_H

#include <stdio.h>

#include "registry.h"

/* stderr capture, for the log lines. */
struct capture {
    int saved;  /* the real stderr */
    FILE *file; /* temporary file on fd 2 meanwhile */
};

/* The fake plugin types (rec, bare, failing), NULL-terminated. */
extern const pvm_plugin_type *const table[];
/* Creates a context from text; fails the test on error. */
pvm_context *new_ok(const char *text);
/* Sends stderr to a temporary file. */
void capture_start(struct capture *c);
/* Restores stderr; returns what was written (caller frees). */
char *capture_end(struct capture *c);

void test_context_lookback_and_paths(void **state);
void test_log_levels(void **state);
void test_log_format(void **state);
void test_log_long_line(void **state);

#endif
