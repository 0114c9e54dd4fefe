/* ast_json.h: a PromQL AST as the JSON of /api/v1/parse_query. */
#ifndef PVM_AST_JSON_H
#define PVM_AST_JSON_H

#include "json.h"
#include "ast.h"

/* Writes e as one JSON value (recursion bounded by the parser's depth
 * limit). Returns 0 or the writer's sticky error. */
int pvm_ast_write_json(pvm_json *j, const pvm_expr *e);

#endif
