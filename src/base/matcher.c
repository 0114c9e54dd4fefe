/* matcher.c: label matchers (=, !=, =~, !~) with Prometheus semantics.
 * Regexes go through pvm_regex_compile (base/goregex.h): RE2 syntax, fully
 * anchored, under match limits. */
#include <string.h>

#include "goregex.h"
#include "matcher.h"

int pvm_matcher_init(pvm_matcher *m, pvm_arena *a, pvm_match_op op,
                     const char *name, size_t name_len, const char *value,
                     size_t value_len, pvm_error *err)
{
    memset(m, 0, sizeof(*m));
    m->op = op;
    m->name = pvm_arena_strndup(a, name, name_len);
    m->value = pvm_arena_strndup(a, value, value_len);
    m->value_len = value_len;
    if (!m->name || !m->value)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    if (op == PVM_MATCH_REGEX || op == PVM_MATCH_NOT_REGEX) {
        pvm_error local;
        pvm_error *e = err ? err : &local;
        m->impl = pvm_regex_compile(a, m->value, value_len, 0, e);
        if (!m->impl)
            return e->code;
    }
    return 0;
}

int pvm_matcher_match(const pvm_matcher *m, const char *s, size_t len)
{
    bool eq;
    switch (m->op) {
    case PVM_MATCH_EQUAL:
    case PVM_MATCH_NOT_EQUAL:
        eq = len == m->value_len && (len == 0 || !memcmp(s, m->value, len));
        return m->op == PVM_MATCH_EQUAL ? eq : !eq;
    case PVM_MATCH_REGEX:
    case PVM_MATCH_NOT_REGEX: break;
    }
    if (!m->impl)
        return PVM_ERR_INTERNAL;
    int r = pvm_regex_match(m->impl, s, len);
    if (r < 0)
        return r;
    return m->op == PVM_MATCH_REGEX ? r : !r;
}

bool pvm_matcher_matches_empty(const pvm_matcher *m)
{
    switch (m->op) {
    case PVM_MATCH_EQUAL: return m->value_len == 0;
    case PVM_MATCH_NOT_EQUAL: return m->value_len != 0;
    case PVM_MATCH_REGEX: return m->impl && pvm_regex_matches_empty(m->impl);
    case PVM_MATCH_NOT_REGEX:
        return m->impl && !pvm_regex_matches_empty(m->impl);
    }
    return false;
}

const char *pvm_match_op_str(pvm_match_op op)
{
    switch (op) {
    case PVM_MATCH_EQUAL: return "=";
    case PVM_MATCH_NOT_EQUAL: return "!=";
    case PVM_MATCH_REGEX: return "=~";
    case PVM_MATCH_NOT_REGEX: return "!~";
    }
    return "?";
}
