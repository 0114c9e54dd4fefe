/* equal.c: structural equality of two ASTs (pvm_expr_equal, equal.h),
 * used by the round-trip tests and the fuzz target. Positions are ignored;
 * matchers of a selector compare as multisets, since the printer sorts
 * them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "equal.h"

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool labels_eq(const pvm_label_list *a, const pvm_label_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->names[i], b->names[i]) != 0)
            return false;
    return true;
}

static int matcher_cmp(const void *x, const void *y)
{
    const pvm_matcher *a = *(const pvm_matcher *const *)x;
    const pvm_matcher *b = *(const pvm_matcher *const *)y;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    size_t n = a->value_len < b->value_len ? a->value_len : b->value_len;
    c = memcmp(a->value, b->value, n);
    if (c)
        return c;
    return a->value_len < b->value_len ? -1 : a->value_len > b->value_len;
}

/* Matchers as multisets. Sorts pointer copies (malloc: this is a test
 * helper, not on the request path). */
static bool matchers_eq(const pvm_vector_selector *a,
                        const pvm_vector_selector *b)
{
    size_t n = a->nmatchers;
    if (n != b->nmatchers)
        return false;
    if (n == 0)
        return true;
    const pvm_matcher **pa = malloc(2 * n * sizeof(*pa));
    if (!pa)
        return false;
    const pvm_matcher **pb = pa + n;
    for (size_t i = 0; i < n; i++) {
        pa[i] = &a->matchers[i];
        pb[i] = &b->matchers[i];
    }
    qsort(pa, n, sizeof(*pa), matcher_cmp);
    qsort(pb, n, sizeof(*pb), matcher_cmp);
    bool eq = true;
    for (size_t i = 0; i < n && eq; i++)
        eq = matcher_cmp(&pa[i], &pb[i]) == 0;
    free(pa);
    return eq;
}

static bool vs_eq(const pvm_vector_selector *a, const pvm_vector_selector *b)
{
    return str_eq(a->name, b->name) && a->offset_ms == b->offset_ms &&
           a->at_kind == b->at_kind && a->at_ms == b->at_ms &&
           a->bypass_empty_check == b->bypass_empty_check && matchers_eq(a, b);
}

static bool number_eq(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static bool matching_eq(const pvm_vector_matching *a,
                        const pvm_vector_matching *b)
{
    if (!a || !b)
        return a == b;
    return a->card == b->card && a->on == b->on &&
           labels_eq(&a->labels, &b->labels) &&
           labels_eq(&a->include, &b->include);
}

static bool binary_eq(const pvm_binary *a, const pvm_binary *b)
{
    return a->op == b->op && a->return_bool == b->return_bool &&
           matching_eq(a->matching, b->matching) &&
           pvm_expr_equal(a->lhs, b->lhs) && pvm_expr_equal(a->rhs, b->rhs);
}

static bool aggregate_eq(const pvm_aggregate *a, const pvm_aggregate *b)
{
    return a->op == b->op && a->without == b->without &&
           labels_eq(&a->grouping, &b->grouping) &&
           (a->param ? b->param && pvm_expr_equal(a->param, b->param)
                     : !b->param) &&
           pvm_expr_equal(a->expr, b->expr);
}

static bool call_eq(const pvm_call *a, const pvm_call *b)
{
    if (a->func != b->func || a->nargs != b->nargs)
        return false;
    for (size_t i = 0; i < a->nargs; i++)
        if (!pvm_expr_equal(a->args[i], b->args[i]))
            return false;
    return true;
}

static bool subquery_eq(const pvm_subquery *a, const pvm_subquery *b)
{
    return a->range_ms == b->range_ms && a->step_ms == b->step_ms &&
           a->offset_ms == b->offset_ms && a->at_kind == b->at_kind &&
           a->at_ms == b->at_ms && pvm_expr_equal(a->expr, b->expr);
}

bool pvm_expr_equal(const pvm_expr *a, const pvm_expr *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PVM_EXPR_NUMBER:
        return number_eq(a->u.number.value, b->u.number.value) &&
               a->u.number.is_duration == b->u.number.is_duration;
    case PVM_EXPR_STRING:
        return a->u.string.len == b->u.string.len &&
               memcmp(a->u.string.value, b->u.string.value, a->u.string.len) ==
                   0;
    case PVM_EXPR_VECTOR_SELECTOR: return vs_eq(&a->u.vs, &b->u.vs);
    case PVM_EXPR_MATRIX_SELECTOR:
        return a->u.matrix.range_ms == b->u.matrix.range_ms &&
               pvm_expr_equal(a->u.matrix.vs, b->u.matrix.vs);
    case PVM_EXPR_SUBQUERY: return subquery_eq(&a->u.subquery, &b->u.subquery);
    case PVM_EXPR_PAREN:
        return pvm_expr_equal(a->u.paren.expr, b->u.paren.expr);
    case PVM_EXPR_UNARY:
        return a->u.unary.op == b->u.unary.op &&
               pvm_expr_equal(a->u.unary.expr, b->u.unary.expr);
    case PVM_EXPR_BINARY: return binary_eq(&a->u.binary, &b->u.binary);
    case PVM_EXPR_AGGREGATE:
        return aggregate_eq(&a->u.aggregate, &b->u.aggregate);
    case PVM_EXPR_CALL: return call_eq(&a->u.call, &b->u.call);
    }
    return false;
}
