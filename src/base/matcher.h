/* matcher.h: one label matcher (=, !=, =~, !~) with Prometheus semantics.
 * Regexes are compiled by pvm_regex_compile (base/goregex.h): RE2 syntax,
 * fully anchored, PCRE2 under a match limit, owned by the arena they were
 * compiled in (a cleanup callback frees them). */
#ifndef PVM_MATCHER_H
#define PVM_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include <pvm/arena.h>
#include <pvm/error.h>
#include <pvm/query.h>

typedef struct pvm_matcher {
    pvm_match_op op;        /* =, !=, =~, !~ */
    const char *name;       /* label name (NUL-terminated) */
    const char *value;      /* literal, or regex source (NUL-terminated) */
    size_t value_len;       /* bytes in value (may contain NUL) */
    struct pvm_regex *impl; /* compiled regex of =~ and !~, else NULL */
} pvm_matcher;

/* Fills m. name and value are copied into a. For =~ and !~ the regex is
 * checked against RE2 syntax and compiled; an invalid one fails with
 * PVM_ERR_BAD_DATA and a message like Prometheus':
 *   invalid regular expression "a(": missing closing )               */
int pvm_matcher_init(pvm_matcher *m, pvm_arena *a, pvm_match_op op,
                     const char *name, size_t name_len, const char *value,
                     size_t value_len, pvm_error *err);

/* Returns 1 when s (len bytes) matches, 0 when not, PVM_ERR_EXECUTION when
 * the regex engine hit its match limit (a pathological pattern).
 * (PVM_ERR_NOMEM when a long invalid-UTF-8 value cannot be copied for
 * repair: invalid bytes match as U+FFFD, as in Go.) */
int pvm_matcher_match(const pvm_matcher *m, const char *s, size_t len);

/* True when the matcher accepts the empty string (used by the rule that a
 * selector needs at least one matcher that does not). */
bool pvm_matcher_matches_empty(const pvm_matcher *m);

/* "=", "!=", "=~", "!~" */
const char *pvm_match_op_str(pvm_match_op op);

#endif
