/* goregex.h: the one door for regular expressions. Every regex in the
 * project (selector matchers, label_replace, plugins) is compiled here:
 * Go's RE2 syntax checked and translated to PCRE2 (base/re2pcre.h), fully
 * anchored as Prometheus does (^(?s:...)$: PCRE2_ANCHORED |
 * PCRE2_ENDANCHORED, dot matches newline), JIT where it helps, and run
 * under a match context with match and depth limits, so a pathological
 * pattern fails with PVM_ERR_EXECUTION instead of pinning a worker.
 * A compiled regex belongs to the arena it was compiled in (a cleanup
 * callback frees the PCRE2 objects) and is used by one thread at a time. */
#ifndef PVM_BASE_REGEX_H
#define PVM_BASE_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include <pvm/arena.h>
#include <pvm/error.h>

#define PVM_REGEX_MATCH_LIMIT 5000000u /* backtracking steps per match */
#define PVM_REGEX_DEPTH_LIMIT 1000000u /* backtracking depth (interpreter) */

/* Flags of pvm_regex_compile. */
#define PVM_REGEX_CAPTURE 1u /* keep capture groups for pvm_regex_exec */

typedef struct pvm_regex pvm_regex;

/* Compiles pat[0..n) (Go regexp syntax; may contain NUL) in a. Without
 * PVM_REGEX_CAPTURE, common shapes (literals, literal alternations, .*, .+,
 * prefix/suffix/contains) skip PCRE2. Returns NULL with err filled:
 * PVM_ERR_BAD_DATA and a message like Prometheus'
 *   invalid regular expression "a(": missing closing )
 * or PVM_ERR_NOMEM. */
pvm_regex *pvm_regex_compile(pvm_arena *a, const char *pat, size_t n,
                             unsigned flags, pvm_error *err);

/* Returns 1 when all of s[0..n) matches, 0 when not, PVM_ERR_EXECUTION
 * when the match or depth limit was hit, PVM_ERR_NOMEM when a value with
 * invalid UTF-8 could not be copied for repair (invalid bytes match as
 * U+FFFD, as in Go). */
int pvm_regex_match(pvm_regex *re, const char *s, size_t n);

/* Like pvm_regex_match; on a match *groups points to 2 * (ngroups + 1)
 * offsets into s, start and end of the whole match and of each group, both
 * SIZE_MAX for a group that did not take part. Valid until the next call
 * on re. Needs PVM_REGEX_CAPTURE (else only the whole match is given). */
int pvm_regex_exec(pvm_regex *re, const char *s, size_t n,
                   const size_t **groups);

/* Capture groups of re (0 without PVM_REGEX_CAPTURE). */
size_t pvm_regex_group_count(const pvm_regex *re);

/* Number of the leftmost group named name[0..n) (Go's SubexpIndex), or -1. */
int pvm_regex_group_index(const pvm_regex *re, const char *name, size_t n);

/* True when the regex accepts the empty string. */
bool pvm_regex_matches_empty(const pvm_regex *re);

#endif
