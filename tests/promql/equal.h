/* equal.h: structural equality of two ASTs, for the round-trip tests and
 * the fuzz target (test code, not in the engine library). */
#ifndef PVM_TEST_EQUAL_H
#define PVM_TEST_EQUAL_H

#include <stdbool.h>

#include "ast.h"

/* Structural equality, ignoring positions; matchers compare as sets
 * (the printer sorts them, like Prometheus), NaN equals NaN. */
bool pvm_expr_equal(const pvm_expr *a, const pvm_expr *b);

#endif
