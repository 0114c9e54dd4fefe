/* ast.c: AST queries shared by the parser, printer and evaluator: types,
 * operator names, structural equality, and the selector walker. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

pvm_value_type pvm_expr_type(const pvm_expr *e)
{
    if (!e)
        return PVM_VT_NONE;
    switch (e->kind) {
    case PVM_EXPR_NUMBER: return PVM_VT_SCALAR;
    case PVM_EXPR_STRING: return PVM_VT_STRING;
    case PVM_EXPR_VECTOR_SELECTOR:
    case PVM_EXPR_AGGREGATE: return PVM_VT_VECTOR;
    case PVM_EXPR_MATRIX_SELECTOR:
    case PVM_EXPR_SUBQUERY: return PVM_VT_MATRIX;
    case PVM_EXPR_PAREN: return pvm_expr_type(e->u.paren.expr);
    case PVM_EXPR_UNARY: return pvm_expr_type(e->u.unary.expr);
    case PVM_EXPR_BINARY:
        return pvm_expr_type(e->u.binary.lhs) == PVM_VT_SCALAR &&
                       pvm_expr_type(e->u.binary.rhs) == PVM_VT_SCALAR
                   ? PVM_VT_SCALAR
                   : PVM_VT_VECTOR;
    case PVM_EXPR_CALL: return e->u.call.func->ret;
    }
    return PVM_VT_NONE;
}

const char *pvm_value_type_name(pvm_value_type t)
{
    switch (t) {
    case PVM_VT_SCALAR: return "scalar";
    case PVM_VT_VECTOR: return "instant vector";
    case PVM_VT_MATRIX: return "range vector";
    case PVM_VT_STRING: return "string";
    default: return "none";
    }
}

const char *pvm_binop_str(pvm_binop op)
{
    static const char *const names[] = {
        [PVM_OP_OR] = "or",         [PVM_OP_AND] = "and",
        [PVM_OP_UNLESS] = "unless", [PVM_OP_EQLC] = "==",
        [PVM_OP_NEQ] = "!=",        [PVM_OP_LSS] = "<",
        [PVM_OP_LTE] = "<=",        [PVM_OP_GTR] = ">",
        [PVM_OP_GTE] = ">=",        [PVM_OP_TRIM_UPPER] = "</",
        [PVM_OP_TRIM_LOWER] = ">/", [PVM_OP_ADD] = "+",
        [PVM_OP_SUB] = "-",         [PVM_OP_MUL] = "*",
        [PVM_OP_DIV] = "/",         [PVM_OP_MOD] = "%",
        [PVM_OP_ATAN2] = "atan2",   [PVM_OP_POW] = "^",
    };
    return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

const char *pvm_aggr_op_str(pvm_aggr_op op)
{
    static const char *const names[] = {
        [PVM_AGGR_SUM] = "sum",
        [PVM_AGGR_AVG] = "avg",
        [PVM_AGGR_COUNT] = "count",
        [PVM_AGGR_MIN] = "min",
        [PVM_AGGR_MAX] = "max",
        [PVM_AGGR_GROUP] = "group",
        [PVM_AGGR_STDDEV] = "stddev",
        [PVM_AGGR_STDVAR] = "stdvar",
        [PVM_AGGR_TOPK] = "topk",
        [PVM_AGGR_BOTTOMK] = "bottomk",
        [PVM_AGGR_QUANTILE] = "quantile",
        [PVM_AGGR_COUNT_VALUES] = "count_values",
        [PVM_AGGR_LIMITK] = "limitk",
        [PVM_AGGR_LIMIT_RATIO] = "limit_ratio",
    };
    return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

bool pvm_binop_is_comparison(pvm_binop op)
{
    return op >= PVM_OP_EQLC && op <= PVM_OP_GTE;
}

bool pvm_binop_is_set(pvm_binop op)
{
    return op == PVM_OP_OR || op == PVM_OP_AND || op == PVM_OP_UNLESS;
}

bool pvm_aggr_op_has_param(pvm_aggr_op op)
{
    return op == PVM_AGGR_TOPK || op == PVM_AGGR_BOTTOMK ||
           op == PVM_AGGR_QUANTILE || op == PVM_AGGR_COUNT_VALUES ||
           op == PVM_AGGR_LIMITK || op == PVM_AGGR_LIMIT_RATIO;
}

const pvm_vector_selector *pvm_expr_vector_selector(const pvm_expr *e)
{
    if (e && e->kind == PVM_EXPR_VECTOR_SELECTOR)
        return &e->u.vs;
    if (e && e->kind == PVM_EXPR_MATRIX_SELECTOR)
        return &e->u.matrix.vs->u.vs;
    return NULL;
}

int64_t pvm_expr_range_ms(const pvm_expr *e)
{
    if (e && e->kind == PVM_EXPR_MATRIX_SELECTOR)
        return e->u.matrix.range_ms;
    if (e && e->kind == PVM_EXPR_SUBQUERY)
        return e->u.subquery.range_ms;
    return 0;
}

/* Growable list of selector nodes for pvm_expr_selectors. */
typedef struct sel_vec {
    pvm_arena *a;       /* owner */
    const pvm_expr **v; /* nodes */
    size_t n;           /* used */
    size_t cap;         /* allocated */
} sel_vec;

static int collect(const pvm_expr *e, sel_vec *sv)
{
    int rc = 0;
    switch (e->kind) {
    case PVM_EXPR_VECTOR_SELECTOR:
        if (sv->n == sv->cap) {
            size_t ncap = sv->cap ? sv->cap * 2 : 8;
            const pvm_expr **nv = pvm_arena_realloc(sv->a, (void *)sv->v,
                                                    sv->cap * sizeof(*nv),
                                                    ncap * sizeof(*nv));
            if (!nv)
                return PVM_ERR_NOMEM;
            sv->v = nv;
            sv->cap = ncap;
        }
        sv->v[sv->n++] = e;
        return 0;
    case PVM_EXPR_MATRIX_SELECTOR: return collect(e->u.matrix.vs, sv);
    case PVM_EXPR_SUBQUERY: return collect(e->u.subquery.expr, sv);
    case PVM_EXPR_PAREN: return collect(e->u.paren.expr, sv);
    case PVM_EXPR_UNARY: return collect(e->u.unary.expr, sv);
    case PVM_EXPR_BINARY:
        rc = collect(e->u.binary.lhs, sv);
        return rc ? rc : collect(e->u.binary.rhs, sv);
    case PVM_EXPR_AGGREGATE:
        if (e->u.aggregate.param)
            rc = collect(e->u.aggregate.param, sv);
        return rc ? rc : collect(e->u.aggregate.expr, sv);
    case PVM_EXPR_CALL:
        for (size_t i = 0; i < e->u.call.nargs && rc == 0; i++)
            rc = collect(e->u.call.args[i], sv);
        return rc;
    case PVM_EXPR_NUMBER:
    case PVM_EXPR_STRING: return 0;
    }
    return 0;
}

int pvm_expr_selectors(const pvm_expr *e, pvm_arena *a, const pvm_expr ***out,
                       size_t *n)
{
    sel_vec sv = {.a = a};
    int rc = e ? collect(e, &sv) : 0;
    *out = rc ? NULL : sv.n ? sv.v : NULL;
    *n = rc ? 0 : sv.n;
    return rc;
}
