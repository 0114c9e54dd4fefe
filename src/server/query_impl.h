/* query_impl.h: the server side of pvm_query. A query is built either from
 * a parsed PromQL expression (query, query_range) or from a list of
 * match[] selectors (series, labels, label values), or is empty. */
#ifndef PVM_QUERY_IMPL_H
#define PVM_QUERY_IMPL_H

#include <pvm/query.h>

#include "matcher.h"
#include "ast.h"

struct pvm_selector {
    const char *name;            /* metric name before the braces, or NULL */
    const pvm_matcher *matchers; /* all matchers incl. implicit __name__ */
    size_t nmatchers;            /* number of matchers */
    int64_t range_ms;            /* range of a range selector, else 0 */
    int64_t offset_ms;           /* offset, else 0 */
    const pvm_expr *node;        /* the vector selector node in the AST */
};

struct pvm_query {
    const char *string;      /* the query text, "" if none */
    bool empty;              /* no query at all: everything matches */
    const pvm_expr *expr;    /* parsed expression, NULL for match[] */
    pvm_selector *selectors; /* selectors in source order */
    size_t nselectors;       /* number of selectors */
    size_t cap;              /* selectors allocated (grows by
                                   doubling: many match[] stay linear) */
    /* Index of many selectors (NULL when few), so that matching a series
     * tests only the selectors that ask for its name: */
    const pvm_selector **unnamed;     /* selectors without `__name__="..."`,
                                     in source order */
    size_t nunnamed;                  /* number of them */
    struct pvm_named_selector *named; /* the others, by name then source
                                         order */
    size_t nnamed;                    /* number of them */
};

/* A selector with an equality __name__ matcher, keyed by its value. */
struct pvm_named_selector {
    const char *name;        /* the metric name it asks for */
    const pvm_selector *sel; /* the selector */
};

/* An empty query (matches everything). */
pvm_query *pvm_query_new_empty(pvm_arena *a);

/* Parses text as a PromQL expression. NULL with err (bad_data, message
 * "1:5: parse error: ...") on a syntax error. */
pvm_query *pvm_query_parse(pvm_arena *a, const char *text, pvm_error *err);

/* Parses each text as a series selector (match[] semantics: a vector
 * selector only, with at least one non-empty matcher). */
pvm_query *pvm_query_parse_selectors(pvm_arena *a, const char *const *texts,
                                     size_t n, pvm_error *err);

/* A query of one vector selector node (the engine's fetch of one
 * selector); its text is the selector printed back. */
pvm_query *pvm_query_for_selector(pvm_arena *a, const pvm_expr *node,
                                  int64_t range_ms, pvm_error *err);

/* pvm_query_matches with the regex failure made visible: 1 match, 0 not,
 * PVM_ERR_EXECUTION when a regex hit its match limit. */
int pvm_query_match(const pvm_query *q, const char *name,
                    const pvm_label *labels, size_t n);

int pvm_selector_match(const pvm_selector *s, const char *name,
                       const pvm_label *labels, size_t n);

#endif
