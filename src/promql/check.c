/* check.c: type checking of a parsed PromQL expression, with Prometheus'
 * rules and messages (checkAST in promql/parser/parse.go). Runs once after
 * a successful parse; records the first error in the parser. It also
 * finalises two things the evaluator relies on: binary nodes between a
 * scalar and anything lose their vector matching (NULL), and the second
 * argument of info() is exempt from the non-empty matcher rule. */
#include <string.h>

#include "functions.h"
#include "parse.h"
#include "strbuf.h"

static pvm_value_type check(pvm_parser *p, pvm_expr *e);

/* Prometheus' ValueType.String(), used by one message. */
static const char *value_type_short(pvm_value_type t)
{
    switch (t) {
    case PVM_VT_SCALAR: return "scalar";
    case PVM_VT_VECTOR: return "vector";
    case PVM_VT_MATRIX: return "matrix";
    case PVM_VT_STRING: return "string";
    default: return "none";
    }
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Byte range of the operator and its modifiers between the operands. */
static void op_range(const pvm_parser *p, const pvm_expr *e, size_t *pos,
                     size_t *end)
{
    size_t s = e->u.binary.lhs->end, t = e->u.binary.rhs->pos;
    while (s < t && is_space(p->lx.in[s]))
        s++;
    while (t > s && is_space(p->lx.in[t - 1]))
        t--;
    *pos = s;
    *end = t;
}

/* Checks e and fails when its type is not want. */
static void expect_type(pvm_parser *p, pvm_expr *e, pvm_value_type want,
                        const char *context)
{
    pvm_value_type t = check(p, e);
    if (t != want)
        pvm_parse_error(p, e->pos, e->end, "expected type %s in %s, got %s",
                        pvm_value_type_name(want), context,
                        pvm_value_type_name(t));
}

static void check_aggregate(pvm_parser *p, pvm_expr *e)
{
    pvm_aggregate *ag = &e->u.aggregate;
    expect_type(p, ag->expr, PVM_VT_VECTOR, "aggregation expression");
    if (ag->op == PVM_AGGR_COUNT_VALUES)
        expect_type(p, ag->param, PVM_VT_STRING, "aggregation parameter");
    else if (ag->param)
        expect_type(p, ag->param, PVM_VT_SCALAR, "aggregation parameter");
}

/* The rules on operators, modifiers and operand types. */
static void check_binary_rules(pvm_parser *p, pvm_expr *e, pvm_value_type lt,
                               pvm_value_type rt)
{
    pvm_binary *b = &e->u.binary;
    pvm_vector_matching *m = b->matching;
    size_t opos, oend;
    op_range(p, e, &opos, &oend);
    if (b->return_bool && !pvm_binop_is_comparison(b->op))
        pvm_parse_error(p, opos, oend,
                        "bool modifier can only be used on "
                        "comparison operators");
    if (pvm_binop_is_comparison(b->op) && !b->return_bool &&
        lt == PVM_VT_SCALAR && rt == PVM_VT_SCALAR)
        pvm_parse_error(p, opos, oend,
                        "comparisons between scalars must "
                        "use BOOL modifier");
    for (size_t i = 0; m && m->on && i < m->labels.n; i++)
        for (size_t j = 0; j < m->include.n; j++)
            if (strcmp(m->labels.names[i], m->include.names[j]) == 0)
                pvm_parse_error(p, opos, oend,
                                "label \"%s\" must not occur in ON and GROUP "
                                "clause at once",
                                m->labels.names[i]);
    if (lt != PVM_VT_SCALAR && lt != PVM_VT_VECTOR)
        pvm_parse_error(p, b->lhs->pos, b->lhs->end,
                        "binary expression must contain only scalar and "
                        "instant vector types");
    if (rt != PVM_VT_SCALAR && rt != PVM_VT_VECTOR)
        pvm_parse_error(p, b->rhs->pos, b->rhs->end,
                        "binary expression must contain only scalar and "
                        "instant vector types");
}

static void check_binary(pvm_parser *p, pvm_expr *e)
{
    pvm_binary *b = &e->u.binary;
    pvm_value_type lt = check(p, b->lhs);
    pvm_value_type rt = check(p, b->rhs);
    check_binary_rules(p, e, lt, rt);
    pvm_vector_matching *m = b->matching;
    const char *op = pvm_binop_str(b->op);
    if ((lt != PVM_VT_VECTOR || rt != PVM_VT_VECTOR) && m) {
        if (m->labels.n > 0)
            pvm_parse_error(p, e->pos, e->end,
                            "vector matching only "
                            "allowed between instant "
                            "vectors");
        b->matching = NULL;
    } else if (pvm_binop_is_set(b->op)) {
        if (m->card == PVM_CARD_ONE_TO_MANY || m->card == PVM_CARD_MANY_TO_ONE)
            pvm_parse_error(p, e->pos, e->end,
                            "no grouping allowed for \"%s\" operation", op);
        if (m->card != PVM_CARD_MANY_TO_MANY)
            pvm_parse_error(p, e->pos, e->end,
                            "set operations must always be many-to-many");
    }
    if ((lt == PVM_VT_SCALAR || rt == PVM_VT_SCALAR) &&
        pvm_binop_is_set(b->op))
        pvm_parse_error(p, e->pos, e->end,
                        "set operator \"%s\" not allowed in binary scalar "
                        "expression",
                        op);
}

/* Arity of a call against the function table. */
static void check_arity(pvm_parser *p, pvm_expr *e)
{
    const pvm_function *f = e->u.call.func;
    size_t n = e->u.call.nargs, nt = strlen(f->arg_types);
    if (f->variadic == 0) {
        if (n != nt)
            pvm_parse_error(p, e->pos, e->end,
                            "expected %zu argument(s) in call to \"%s\", got "
                            "%zu",
                            nt, f->name, n);
        return;
    }
    if (nt - 1 > n)
        pvm_parse_error(p, e->pos, e->end,
                        "expected at least %zu argument(s) in call to "
                        "\"%s\", got %zu",
                        nt - 1, f->name, n);
    else if (f->variadic > 0 && nt - 1 + (size_t)f->variadic < n)
        pvm_parse_error(p, e->pos, e->end,
                        "expected at most %zu argument(s) in call to \"%s\", "
                        "got %zu",
                        nt - 1 + (size_t)f->variadic, f->name, n);
}

/* info(v, {label selectors}): the second argument's special rules. */
static void check_info(pvm_parser *p, pvm_expr *e)
{
    pvm_expr *arg = e->u.call.args[1];
    pvm_value_type t = pvm_expr_type(arg);
    if (t != PVM_VT_VECTOR)
        pvm_parse_error(p, e->pos, e->end,
                        "expected type instant vector in call to function "
                        "\"info\", got %s",
                        pvm_value_type_name(t));
    if (arg->kind == PVM_EXPR_VECTOR_SELECTOR && arg->u.vs.name)
        pvm_parse_error(p, arg->pos, arg->end,
                        "expected label selectors "
                        "only, got vector selector "
                        "instead");
    else if (arg->kind == PVM_EXPR_VECTOR_SELECTOR)
        arg->u.vs.bypass_empty_check = true;
    else
        pvm_parse_error(p, arg->pos, arg->end,
                        "expected label selectors only");
}

static void check_call(pvm_parser *p, pvm_expr *e)
{
    const pvm_function *f = e->u.call.func;
    check_arity(p, e);
    if (f->id == PVM_FN_INFO && e->u.call.nargs > 1)
        check_info(p, e);
    for (size_t i = 0; i < e->u.call.nargs; i++) {
        pvm_value_type want = pvm_function_arg_type(f, i);
        if (want == PVM_VT_NONE)
            break;
        pvm_expr *arg = e->u.call.args[i];
        pvm_value_type t = check(p, arg);
        if (t != want)
            pvm_parse_error(p, arg->pos, arg->end,
                            "expected type %s in call to function \"%s\", got "
                            "%s",
                            pvm_value_type_name(want), f->name,
                            pvm_value_type_name(t));
    }
}

static void check_selector(pvm_parser *p, pvm_expr *e)
{
    const pvm_vector_selector *vs = &e->u.vs;
    if (vs->name) {
        /* The implicit name matcher is last; any other __name__ clashes. */
        for (size_t i = 0; i + 1 < vs->nmatchers; i++) {
            if (strcmp(vs->matchers[i].name, "__name__") != 0)
                continue;
            char q[300];
            pvm_strbuf sb;
            pvm_strbuf_init_fixed(&sb, q, sizeof(q));
            pvm_strbuf_quote(&sb, vs->name, strlen(vs->name), 0);
            pvm_strbuf_puts(&sb, " or ");
            pvm_strbuf_quote(&sb, vs->matchers[i].value,
                             vs->matchers[i].value_len, 0);
            pvm_parse_error(p, e->pos, e->end,
                            "metric name must not be set twice: %s", q);
        }
        return;
    }
    if (vs->bypass_empty_check)
        return;
    for (size_t i = 0; i < vs->nmatchers; i++)
        if (!pvm_matcher_matches_empty(&vs->matchers[i]))
            return;
    pvm_parse_error(p, e->pos, e->end,
                    "vector selector must contain at least one non-empty "
                    "matcher");
}

static pvm_value_type check(pvm_parser *p, pvm_expr *e)
{
    pvm_value_type t = pvm_expr_type(e);
    if (p->failed)
        return t;
    switch (e->kind) {
    case PVM_EXPR_AGGREGATE: check_aggregate(p, e); break;
    case PVM_EXPR_BINARY: check_binary(p, e); break;
    case PVM_EXPR_CALL: check_call(p, e); break;
    case PVM_EXPR_PAREN: check(p, e->u.paren.expr); break;
    case PVM_EXPR_UNARY: {
        pvm_value_type ut = check(p, e->u.unary.expr);
        if (ut != PVM_VT_SCALAR && ut != PVM_VT_VECTOR)
            pvm_parse_error(p, e->pos, e->end,
                            "unary expression only allowed on expressions of "
                            "type scalar or instant vector, got \"%s\"",
                            pvm_value_type_name(ut));
        break;
    }
    case PVM_EXPR_SUBQUERY: {
        pvm_value_type st = check(p, e->u.subquery.expr);
        if (st != PVM_VT_VECTOR)
            pvm_parse_error(p, e->pos, e->end,
                            "subquery is only allowed on instant vector, got "
                            "%s instead",
                            value_type_short(st));
        break;
    }
    case PVM_EXPR_MATRIX_SELECTOR: check(p, e->u.matrix.vs); break;
    case PVM_EXPR_VECTOR_SELECTOR: check_selector(p, e); break;
    case PVM_EXPR_NUMBER:
    case PVM_EXPR_STRING: break;
    }
    return t;
}

bool pvm_parse_check(pvm_parser *p, pvm_expr *e)
{
    check(p, e);
    return !p->failed;
}
