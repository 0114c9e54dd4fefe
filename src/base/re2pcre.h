/* re2pcre.h: the RE2 → PCRE2 translator. A pattern in Go's regexp syntax
 * (what Prometheus accepts in =~, !~ and label_replace) is checked with
 * Go's rules and rewritten into PCRE2 text with the same meaning: Go's
 * ASCII \d \w \s \b (\s is [\t\n\f\r ], without \v), \v as U+000B only,
 * Unicode classes by name, Go's repeat and nesting limits. Groups keep
 * RE2's numbering: each ( and (?P<name> opens capture group 1, 2, ... in
 * order of its parenthesis, named ones recorded in names. Only
 * base/goregex.c calls this; everyone else compiles with pvm_regex_compile. */
#ifndef PVM_BASE_RE2PCRE_H
#define PVM_BASE_RE2PCRE_H

#include <stddef.h>

#include <pvm/arena.h>

#define PVM_RE2PCRE_MAX_REPEAT 1000 /* largest {n,m} count and product */
#define PVM_RE2PCRE_MAX_DEPTH 1000  /* deepest group nesting (Go's) */

typedef struct pvm_re2pcre {
    char *pcre;         /* translated pattern, NUL-terminated, in the
                            arena; its plain ( are the capture groups */
    size_t len;         /* bytes in pcre */
    size_t max_depth;   /* deepest group nesting seen */
    size_t ngroups;     /* capture groups (not counting the whole match) */
    const char **names; /* names[1..ngroups]: the group's name or NULL
                            (names[0] unused); NULL when ngroups == 0 */
    /* on error: */
    const char *reason; /* Go's error code text, e.g. "missing closing )" */
    size_t err_at;      /* offset of the failing fragment in the pattern */
    size_t err_end;     /* its end (err_at == err_end: no fragment) */
} pvm_re2pcre;

/* Translates pat[0..n), which must be valid UTF-8 (check it first), into
 * out, allocating in a. Returns 0; PVM_ERR_BAD_DATA with out->reason and
 * the fragment set when the pattern is not valid RE2 syntax; PVM_ERR_NOMEM.
 * Linear in n (plus the output, at most a small multiple of n). */
int pvm_re2pcre_translate(pvm_arena *a, const char *pat, size_t n,
                          pvm_re2pcre *out);

#endif
