/* test_json.h: what the two files of the test_json program share: the
 * float cases (Go's FormatFloat output, test_json_float.c), the test
 * random generator and the float/timestamp tests main() runs. */
#ifndef PVM_TESTS_UNIT_TEST_JSON_H
#define PVM_TESTS_UNIT_TEST_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Expected text of pvm_format_float: Go's FormatFloat(v, 'f' or 'e', -1). */
typedef struct json_float_case {
    double v;         /* input */
    const char *want; /* Go's output */
} json_float_case;

extern const json_float_case float_cases[];
extern const size_t nfloat_cases;

/* xorshift64: deterministic pseudo-random values for the tests. */
uint64_t rng(void);

void test_format_float_table(void **state);
void test_format_float_random(void **state);
void test_format_timestamp(void **state);
void test_format_float_vs_reference_table(void **state);
void test_format_float_vs_reference_edges(void **state);
void test_format_float_vs_reference_random(void **state);
void test_format_timestamp_vs_reference(void **state);

#endif
