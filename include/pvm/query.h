/* pvm/query.h: the parsed PromQL query of a request, as plugins see it.
 * A query holds the vector selectors of the expression (for /series and
 * label requests: of the match[] parameters). Matching follows Prometheus:
 * every matcher of a selector must match, a missing label matches as the
 * empty string, regexes are fully anchored (RE2 syntax). */
#ifndef PVM_QUERY_H
#define PVM_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/labels.h>

typedef struct pvm_query pvm_query;
typedef struct pvm_selector pvm_selector;

typedef enum pvm_match_op {
    PVM_MATCH_EQUAL,     /* =  */
    PVM_MATCH_NOT_EQUAL, /* != */
    PVM_MATCH_REGEX,     /* =~ */
    PVM_MATCH_NOT_REGEX, /* !~ */
} pvm_match_op;

/* The query text as received ("" when the request had none). */
const char *pvm_query_string(const pvm_query *q);

/* True when the request carried no query and no match[]: everything
 * matches an empty query. */
bool pvm_query_is_empty(const pvm_query *q);

/* True when a sample named `name` can match: for some selector, all its
 * __name__ matchers accept `name` (selectors without a name accept any).
 * Cheap; use it to skip work before producing samples. */
bool pvm_query_name_matches(const pvm_query *q, const char *name);

/* True when a series with this name and labels matches some selector of
 * the query. A query with no selectors (e.g. `1+1`) matches nothing; an
 * empty query matches everything. labels may be NULL when n is 0.
 * Cost: a query of many selectors (match[]) is indexed by metric name,
 * so only the selectors asking for `name` and those without a name are
 * tried. */
bool pvm_query_matches(const pvm_query *q, const char *name,
                       const pvm_label *labels, size_t n);

/* The selectors of the query, in source order. */
size_t pvm_query_selector_count(const pvm_query *q);
const pvm_selector *pvm_query_selector(const pvm_query *q, size_t i);

/* The metric name written before the braces, or NULL. */
const char *pvm_selector_name(const pvm_selector *s);

/* Number of matchers, including the __name__ matcher implied by a name. */
size_t pvm_selector_matcher_count(const pvm_selector *s);

/* Reads matcher i. Strings are valid until the request ends. */
void pvm_selector_matcher(const pvm_selector *s, size_t i, const char **name,
                          pvm_match_op *op, const char **value);

/* Range of a range selector (`x[5m]`) in ms, 0 for an instant selector. */
int64_t pvm_selector_range_ms(const pvm_selector *s);

/* Offset (`offset 1h`) in ms, 0 when none. */
int64_t pvm_selector_offset_ms(const pvm_selector *s);

/* True when a series with this name and labels matches this selector. */
bool pvm_selector_matches(const pvm_selector *s, const char *name,
                          const pvm_label *labels, size_t n);

#endif
