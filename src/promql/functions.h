/* functions.h: lookup in the PromQL function table (functions.def), shared
 * by the parser, the type checker and the evaluator. */
#ifndef PVM_PROMQL_FUNCTIONS_H
#define PVM_PROMQL_FUNCTIONS_H

#include <stddef.h>

#include "ast.h"

/* PVM_FN_ABS, PVM_FN_ABSENT, ...: index of each function in the table. */
typedef enum pvm_func_id {
#define PVM_FUNC(ID_, NAME_, ARGS_, VAR_, RET_, EXP_) PVM_FN_##ID_,
#include "functions.def"
#undef PVM_FUNC
    PVM_FN_COUNT /* number of functions */
} pvm_func_id;

/* The function called name (len bytes, case-sensitive), or NULL. */
const pvm_function *pvm_function_lookup(const char *name, size_t len);

/* The table entry of id (0 <= id < PVM_FN_COUNT). */
const pvm_function *pvm_function_at(pvm_func_id id);

/* The declared type of argument i of a call to f (for variadic functions
 * the last declared type repeats); PVM_VT_NONE when i is past the end of
 * a fixed-arity function. */
pvm_value_type pvm_function_arg_type(const pvm_function *f, size_t i);

/* Least and most number of arguments; max is SIZE_MAX for unlimited. */
size_t pvm_function_min_args(const pvm_function *f);
size_t pvm_function_max_args(const pvm_function *f);

#endif
