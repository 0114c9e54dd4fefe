/* query.c: pvm_query, the request's PromQL query as plugins see it: the
 * vector selectors of the expression (or the match[] selectors) and the
 * matching of samples against them. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "query_impl.h"

pvm_query *pvm_query_new_empty(pvm_arena *a)
{
    pvm_query *q = pvm_arena_calloc(a, 1, sizeof(*q));
    if (!q)
        return NULL;
    q->string = "";
    q->empty = true;
    return q;
}

/* Fills s from a vector selector node. */
static void selector_from_node(pvm_selector *s, const pvm_expr *node,
                               int64_t range_ms)
{
    const pvm_vector_selector *vs = pvm_expr_vector_selector(node);
    s->name = vs->name;
    s->matchers = vs->matchers;
    s->nmatchers = vs->nmatchers;
    s->offset_ms = vs->offset_ms;
    s->range_ms = range_ms;
    s->node = node;
}

/* The range of the matrix selector wrapping vector selector node, if
 * any (depth is bounded by the parser). */
static int64_t range_of(const pvm_expr *e, const pvm_expr *node)
{
    if (!e)
        return 0;
    switch (e->kind) {
    case PVM_EXPR_MATRIX_SELECTOR:
        return e->u.matrix.vs == node ? e->u.matrix.range_ms : 0;
    case PVM_EXPR_SUBQUERY: return range_of(e->u.subquery.expr, node);
    case PVM_EXPR_PAREN: return range_of(e->u.paren.expr, node);
    case PVM_EXPR_UNARY: return range_of(e->u.unary.expr, node);
    case PVM_EXPR_BINARY: {
        int64_t r = range_of(e->u.binary.lhs, node);
        return r ? r : range_of(e->u.binary.rhs, node);
    }
    case PVM_EXPR_AGGREGATE: {
        int64_t r = range_of(e->u.aggregate.expr, node);
        return r ? r : range_of(e->u.aggregate.param, node);
    }
    case PVM_EXPR_CALL:
        for (size_t i = 0; i < e->u.call.nargs; i++) {
            int64_t r = range_of(e->u.call.args[i], node);
            if (r)
                return r;
        }
        return 0;
    default: return 0;
    }
}

/* Appends the selectors of expr to q. */
static int add_selectors(pvm_query *q, pvm_arena *a, const pvm_expr *expr,
                         pvm_error *err)
{
    const pvm_expr **nodes;
    size_t n;
    if (pvm_expr_selectors(expr, a, &nodes, &n) < 0)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pvm_selector *sel = q->selectors;
    if (n > q->cap - q->nselectors) {
        /* Doubling, not exact fit: the old array is not reclaimed (the
         * parse of the next match[] sits behind it), so exact fit would
         * cost O(n^2) bytes for n match[] selectors. */
        size_t cap = q->cap ? q->cap : 4;
        while (cap - q->nselectors < n) {
            if (cap > SIZE_MAX / 2 / sizeof(*sel))
                return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
            cap *= 2;
        }
        sel = pvm_arena_realloc(a, q->selectors, q->nselectors * sizeof(*sel),
                                cap * sizeof(*sel));
        if (!sel)
            return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        q->selectors = sel;
        q->cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        selector_from_node(&sel[q->nselectors + i], nodes[i],
                           range_of(expr, nodes[i]));
    q->nselectors += n;
    return 0;
}

/* Queries with at least this many selectors get an index by name. */
#define INDEX_MIN_SELECTORS 8

/* The value of s's first `__name__="..."` matcher, or NULL. */
static const char *selector_metric_name(const pvm_selector *s)
{
    for (size_t i = 0; i < s->nmatchers; i++)
        if (s->matchers[i].op == PVM_MATCH_EQUAL &&
            strcmp(s->matchers[i].name, PVM_METRIC_NAME_LABEL) == 0)
            return s->matchers[i].value;
    return NULL;
}

static int cmp_named(const void *pa, const void *pb)
{
    const struct pvm_named_selector *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->sel > b->sel) - (a->sel < b->sel);
}

/* Indexes the selectors of q by metric name (O(n log n)), so that
 * pvm_query_match costs O(log n + selectors of that name + selectors
 * without a name) instead of O(n). Few selectors are not indexed. */
static int index_selectors(pvm_query *q, pvm_arena *a, pvm_error *err)
{
    if (q->nselectors < INDEX_MIN_SELECTORS)
        return 0;
    q->unnamed = pvm_arena_alloc(a, q->nselectors * sizeof(*q->unnamed));
    q->named = pvm_arena_alloc(a, q->nselectors * sizeof(*q->named));
    if (!q->unnamed || !q->named)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < q->nselectors; i++) {
        const pvm_selector *s = &q->selectors[i];
        const char *name = selector_metric_name(s);
        if (name)
            q->named[q->nnamed++] = (struct pvm_named_selector){name, s};
        else
            q->unnamed[q->nunnamed++] = s;
    }
    qsort(q->named, q->nnamed, sizeof(*q->named), cmp_named);
    return 0;
}

/* First index in q->named with a name >= name. */
static size_t named_lower_bound(const pvm_query *q, const char *name)
{
    size_t lo = 0, hi = q->nnamed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(q->named[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

pvm_query *pvm_query_parse(pvm_arena *a, const char *text, pvm_error *err)
{
    pvm_query *q = pvm_arena_calloc(a, 1, sizeof(*q));
    if (!q) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    q->string = text;
    q->expr = pvm_promql_parse(a, text, strlen(text), err);
    if (!q->expr || add_selectors(q, a, q->expr, err) < 0 ||
        index_selectors(q, a, err) < 0)
        return NULL;
    return q;
}

pvm_query *pvm_query_parse_selectors(pvm_arena *a, const char *const *texts,
                                     size_t n, pvm_error *err)
{
    pvm_query *q = pvm_arena_calloc(a, 1, sizeof(*q));
    if (!q) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    q->string = n ? texts[0] : "";
    for (size_t i = 0; i < n; i++) {
        const pvm_expr *e = pvm_promql_parse(a, texts[i], strlen(texts[i]),
                                             err);
        if (!e)
            return NULL;
        if (e->kind != PVM_EXPR_VECTOR_SELECTOR) {
            pvm_error_set(err, PVM_ERR_BAD_DATA,
                          "%s is not a series selector (write "
                          "metric{label=\"value\"})",
                          texts[i]);
            return NULL;
        }
        if (add_selectors(q, a, e, err) < 0)
            return NULL;
    }
    q->empty = n == 0;
    if (index_selectors(q, a, err) < 0)
        return NULL;
    return q;
}

/* Matches one matcher against the label value of a series; a missing
 * label matches as "". */
static int match_one(const pvm_matcher *m, const char *name,
                     const pvm_label *labels, size_t n)
{
    const char *v;
    if (strcmp(m->name, PVM_METRIC_NAME_LABEL) == 0)
        v = name ? name : "";
    else
        v = pvm_labels_get_unsorted(labels, n, m->name);
    if (!v)
        v = "";
    return pvm_matcher_match(m, v, strlen(v));
}

int pvm_selector_match(const pvm_selector *s, const char *name,
                       const pvm_label *labels, size_t n)
{
    for (size_t i = 0; i < s->nmatchers; i++) {
        int m = match_one(&s->matchers[i], name, labels, n);
        if (m <= 0)
            return m;
    }
    return 1;
}

int pvm_query_match(const pvm_query *q, const char *name,
                    const pvm_label *labels, size_t n)
{
    if (q->empty)
        return 1;
    if (q->named) {
        for (size_t i = 0; i < q->nunnamed; i++) {
            int m = pvm_selector_match(q->unnamed[i], name, labels, n);
            if (m != 0)
                return m;
        }
        const char *key = name ? name : "";
        for (size_t i = named_lower_bound(q, key);
             i < q->nnamed && strcmp(q->named[i].name, key) == 0; i++) {
            int m = pvm_selector_match(q->named[i].sel, name, labels, n);
            if (m != 0)
                return m;
        }
        return 0;
    }
    for (size_t i = 0; i < q->nselectors; i++) {
        int m = pvm_selector_match(&q->selectors[i], name, labels, n);
        if (m != 0)
            return m;
    }
    return 0;
}

bool pvm_query_matches(const pvm_query *q, const char *name,
                       const pvm_label *labels, size_t n)
{
    return pvm_query_match(q, name, labels, n) == 1;
}

bool pvm_query_name_matches(const pvm_query *q, const char *name)
{
    if (q->empty)
        return true;
    if (q->named && q->nunnamed == 0) { /* only equality names */
        size_t i = named_lower_bound(q, name);
        return i < q->nnamed && strcmp(q->named[i].name, name) == 0;
    }
    for (size_t i = 0; i < q->nselectors; i++) {
        const pvm_selector *s = &q->selectors[i];
        bool ok = true;
        for (size_t k = 0; k < s->nmatchers && ok; k++)
            if (strcmp(s->matchers[k].name, PVM_METRIC_NAME_LABEL) == 0)
                ok = pvm_matcher_match(&s->matchers[k], name, strlen(name)) ==
                     1;
        if (ok)
            return true;
    }
    return false;
}

const char *pvm_query_string(const pvm_query *q)
{
    return q->string;
}

bool pvm_query_is_empty(const pvm_query *q)
{
    return q->empty;
}

size_t pvm_query_selector_count(const pvm_query *q)
{
    return q->nselectors;
}

const pvm_selector *pvm_query_selector(const pvm_query *q, size_t i)
{
    return i < q->nselectors ? &q->selectors[i] : NULL;
}

const char *pvm_selector_name(const pvm_selector *s)
{
    return s->name;
}

size_t pvm_selector_matcher_count(const pvm_selector *s)
{
    return s->nmatchers;
}

void pvm_selector_matcher(const pvm_selector *s, size_t i, const char **name,
                          pvm_match_op *op, const char **value)
{
    const pvm_matcher *m = &s->matchers[i < s->nmatchers ? i : 0];
    *name = m->name;
    *op = m->op;
    *value = m->value;
}

int64_t pvm_selector_range_ms(const pvm_selector *s)
{
    return s->range_ms;
}

int64_t pvm_selector_offset_ms(const pvm_selector *s)
{
    return s->offset_ms;
}

bool pvm_selector_matches(const pvm_selector *s, const char *name,
                          const pvm_label *labels, size_t n)
{
    return pvm_selector_match(s, name, labels, n) == 1;
}

pvm_query *pvm_query_for_selector(pvm_arena *a, const pvm_expr *node,
                                  int64_t range_ms, pvm_error *err)
{
    pvm_query *q = pvm_arena_calloc(a, 1, sizeof(*q));
    pvm_selector *s = pvm_arena_calloc(a, 1, sizeof(*s));
    char *text = pvm_promql_format(a, node);
    if (!q || !s || !text) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    selector_from_node(s, node, range_ms);
    q->string = text;
    q->expr = node;
    q->selectors = s;
    q->nselectors = 1;
    return q;
}
