/* ast_json.c: the JSON form of a PromQL AST that /api/v1/parse_query
 * returns, shaped like Prometheus' translateAST (keys in sorted order, as
 * Go marshals maps; absent parts as null, empty lists as []). */
#include <stdio.h>
#include <string.h>

#include "ast_json.h"

/* An AST level takes at most two JSON levels (a call: its object and the
 * args array), the envelope two more: the writer must hold the deepest
 * tree the parser returns, or parse_query could not answer it. */
_Static_assert(PVM_JSON_MAX_DEPTH >= 2 * PVM_PROMQL_MAX_DEPTH + 8,
               "PVM_JSON_MAX_DEPTH too small for the deepest PromQL AST");

static int write_expr(pvm_json *j, const pvm_expr *e);

static void str_list(pvm_json *j, const pvm_label_list *l)
{
    pvm_json_begin_array(j);
    for (size_t i = 0; i < l->n; i++)
        pvm_json_string(j, l->names[i]);
    pvm_json_end_array(j);
}

static const char *type_name(char c)
{
    switch (c) {
    case 'v': return "vector";
    case 'm': return "matrix";
    case 's': return "scalar";
    default: return "string";
    }
}

static const char *vt_name(pvm_value_type t)
{
    switch (t) {
    case PVM_VT_SCALAR: return "scalar";
    case PVM_VT_VECTOR: return "vector";
    case PVM_VT_MATRIX: return "matrix";
    case PVM_VT_STRING: return "string";
    default: return "none";
    }
}

static const char *card_name(pvm_card c)
{
    switch (c) {
    case PVM_CARD_MANY_TO_ONE: return "many-to-one";
    case PVM_CARD_ONE_TO_MANY: return "one-to-many";
    case PVM_CARD_MANY_TO_MANY: return "many-to-many";
    default: return "one-to-one";
    }
}

static void matchers(pvm_json *j, const pvm_vector_selector *vs)
{
    pvm_json_begin_array(j);
    for (size_t i = 0; i < vs->nmatchers; i++) {
        pvm_json_begin_object(j);
        pvm_json_key(j, "name");
        pvm_json_string(j, vs->matchers[i].name);
        pvm_json_key(j, "type");
        pvm_json_string(j, pvm_match_op_str(vs->matchers[i].op));
        pvm_json_key(j, "value");
        pvm_json_string_n(j, vs->matchers[i].value, vs->matchers[i].value_len);
        pvm_json_end_object(j);
    }
    pvm_json_end_array(j);
}

/* "startOrEnd" and "timestamp" of an @ modifier. */
static void at_fields_start(pvm_json *j, int kind)
{
    pvm_json_key(j, "startOrEnd");
    if (kind == PVM_AT_START)
        pvm_json_string(j, "start");
    else if (kind == PVM_AT_END)
        pvm_json_string(j, "end");
    else
        pvm_json_null(j);
}

static void at_timestamp(pvm_json *j, int kind, int64_t ms)
{
    pvm_json_key(j, "timestamp");
    if (kind == PVM_AT_TIMESTAMP)
        pvm_json_int64(j, ms);
    else
        pvm_json_null(j);
}

static void selector(pvm_json *j, const pvm_vector_selector *vs,
                     const int64_t *range)
{
    pvm_json_key(j, "matchers");
    matchers(j, vs);
    pvm_json_key(j, "name");
    pvm_json_string(j, vs->name ? vs->name : "");
    pvm_json_key(j, "offset");
    pvm_json_int64(j, vs->offset_ms);
    if (range) {
        pvm_json_key(j, "range");
        pvm_json_int64(j, *range);
    }
    at_fields_start(j, vs->at_kind);
    at_timestamp(j, vs->at_kind, vs->at_ms);
    pvm_json_key(j, "type");
    pvm_json_string(j, range ? "matrixSelector" : "vectorSelector");
}

static void binary(pvm_json *j, const pvm_binary *b)
{
    pvm_json_key(j, "bool");
    pvm_json_bool(j, b->return_bool);
    pvm_json_key(j, "lhs");
    write_expr(j, b->lhs);
    pvm_json_key(j, "matching");
    if (b->matching) {
        pvm_json_begin_object(j);
        pvm_json_key(j, "card");
        pvm_json_string(j, card_name(b->matching->card));
        pvm_json_key(j, "include");
        str_list(j, &b->matching->include);
        pvm_json_key(j, "labels");
        str_list(j, &b->matching->labels);
        pvm_json_key(j, "on");
        pvm_json_bool(j, b->matching->on);
        pvm_json_end_object(j);
    } else {
        pvm_json_null(j);
    }
    pvm_json_key(j, "op");
    pvm_json_string(j, pvm_binop_str(b->op));
    pvm_json_key(j, "rhs");
    write_expr(j, b->rhs);
    pvm_json_key(j, "type");
    pvm_json_string(j, "binaryExpr");
}

static void call(pvm_json *j, const pvm_call *c)
{
    pvm_json_key(j, "args");
    pvm_json_begin_array(j);
    for (size_t i = 0; i < c->nargs; i++)
        write_expr(j, c->args[i]);
    pvm_json_end_array(j);
    pvm_json_key(j, "func");
    pvm_json_begin_object(j);
    pvm_json_key(j, "argTypes");
    pvm_json_begin_array(j);
    for (const char *t = c->func->arg_types; *t; t++)
        pvm_json_string(j, type_name(*t));
    pvm_json_end_array(j);
    pvm_json_key(j, "name");
    pvm_json_string(j, c->func->name);
    pvm_json_key(j, "returnType");
    pvm_json_string(j, vt_name(c->func->ret));
    pvm_json_key(j, "variadic");
    pvm_json_int64(j, c->func->variadic);
    pvm_json_end_object(j);
    pvm_json_key(j, "type");
    pvm_json_string(j, "call");
}

static void aggregate(pvm_json *j, const pvm_aggregate *g)
{
    pvm_json_key(j, "expr");
    write_expr(j, g->expr);
    pvm_json_key(j, "grouping");
    str_list(j, &g->grouping);
    pvm_json_key(j, "op");
    pvm_json_string(j, pvm_aggr_op_str(g->op));
    pvm_json_key(j, "param");
    if (g->param)
        write_expr(j, g->param);
    else
        pvm_json_null(j);
    pvm_json_key(j, "type");
    pvm_json_string(j, "aggregation");
    pvm_json_key(j, "without");
    pvm_json_bool(j, g->without);
}

static void subquery(pvm_json *j, const pvm_subquery *s)
{
    pvm_json_key(j, "expr");
    write_expr(j, s->expr);
    pvm_json_key(j, "offset");
    pvm_json_int64(j, s->offset_ms);
    pvm_json_key(j, "range");
    pvm_json_int64(j, s->range_ms);
    at_fields_start(j, s->at_kind);
    pvm_json_key(j, "step");
    pvm_json_int64(j, s->step_ms);
    at_timestamp(j, s->at_kind, s->at_ms);
    pvm_json_key(j, "type");
    pvm_json_string(j, "subquery");
}

static int write_expr(pvm_json *j, const pvm_expr *e)
{
    char num[PVM_FLOAT_BUFSIZE];
    pvm_json_begin_object(j);
    switch (e->kind) {
    case PVM_EXPR_NUMBER:
        pvm_json_key(j, "type");
        pvm_json_string(j, "numberLiteral");
        pvm_json_key(j, "val");
        pvm_format_float(num, e->u.number.value);
        pvm_json_string(j, num);
        break;
    case PVM_EXPR_STRING:
        pvm_json_key(j, "type");
        pvm_json_string(j, "stringLiteral");
        pvm_json_key(j, "val");
        pvm_json_string_n(j, e->u.string.value, e->u.string.len);
        break;
    case PVM_EXPR_VECTOR_SELECTOR: selector(j, &e->u.vs, NULL); break;
    case PVM_EXPR_MATRIX_SELECTOR:
        selector(j, &e->u.matrix.vs->u.vs, &e->u.matrix.range_ms);
        break;
    case PVM_EXPR_SUBQUERY: subquery(j, &e->u.subquery); break;
    case PVM_EXPR_PAREN:
        pvm_json_key(j, "expr");
        write_expr(j, e->u.paren.expr);
        pvm_json_key(j, "type");
        pvm_json_string(j, "parenExpr");
        break;
    case PVM_EXPR_UNARY:
        pvm_json_key(j, "expr");
        write_expr(j, e->u.unary.expr);
        pvm_json_key(j, "op");
        pvm_json_string(j, pvm_binop_str(e->u.unary.op));
        pvm_json_key(j, "type");
        pvm_json_string(j, "unaryExpr");
        break;
    case PVM_EXPR_BINARY: binary(j, &e->u.binary); break;
    case PVM_EXPR_AGGREGATE: aggregate(j, &e->u.aggregate); break;
    case PVM_EXPR_CALL: call(j, &e->u.call); break;
    }
    return pvm_json_end_object(j);
}

int pvm_ast_write_json(pvm_json *j, const pvm_expr *e)
{
    return write_expr(j, e);
}
