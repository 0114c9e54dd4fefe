/* test_hostile.h: what the files of the test_hostile program share: the
 * hostile-request helpers of test_hostile.c and the tests of
 * test_hostile_times.c that main() runs. */
#ifndef PVM_TESTS_UNIT_TEST_HOSTILE_H
#define PVM_TESTS_UNIT_TEST_HOSTILE_H

#include <pvm/testkit.h>

#define METRIC "prometheus_virtual_metrics_example_metric"
/* Wanted statuses besides a plain code. */
#define ANY 0     /* any of 200 and 4xx */
#define ANY_4XX 1 /* any 4xx */

/* printf into a malloc'd string. */
char *fmt(const char *f, ...) PVM_PRINTF(1, 2);
/* Sends one hostile GET, checks the answer (status want) and that the
 * server still answers; returns the status. */
int hit(pvm_testkit *kit, const char *target, int want);
/* A query sent raw: URL-encoded here, as an instant and a range query. */
void hit_raw_query(pvm_testkit *kit, const char *q, int want);

void test_bad_times(void **state);
void test_extreme_times(void **state);
void test_bad_ranges(void **state);

#endif
