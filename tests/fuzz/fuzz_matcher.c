/* fuzz_matcher.c: libFuzzer target for label matchers (matcher.h). The
 * first byte picks the operator, the bytes up to the next NUL are the
 * pattern and the rest the subject. A matcher either compiles or fails
 * with PVM_ERR_BAD_DATA and a message; matching gives 0/1 (or
 * PVM_ERR_EXECUTION for a pattern over the match limit, PVM_ERR_NOMEM);
 * = and != agree with memcmp, =~ and !~ with each other, and
 * pvm_matcher_matches_empty with matching "" (abort otherwise). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/arena.h>

#include "matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int init(pvm_matcher *m, pvm_arena *a, pvm_match_op op, const char *pat,
                size_t plen)
{
    pvm_error err;
    pvm_error_clear(&err);
    int rc = pvm_matcher_init(m, a, op, "l", 1, pat, plen, &err);
    if (rc < 0 && rc != PVM_ERR_NOMEM &&
        (rc != PVM_ERR_BAD_DATA || err.code != rc || !err.msg[0]))
        abort();
    return rc;
}

static int match(const pvm_matcher *m, const char *s, size_t n)
{
    int r = pvm_matcher_match(m, s, n);
    if (r != 0 && r != 1 && r != PVM_ERR_EXECUTION && r != PVM_ERR_NOMEM)
        abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    static const pvm_match_op ops[] = {PVM_MATCH_EQUAL, PVM_MATCH_NOT_EQUAL,
                                       PVM_MATCH_REGEX, PVM_MATCH_NOT_REGEX};
    pvm_match_op op = ops[data[0] % 4];
    const char *pat = (const char *)data + 1;
    size_t rest = size - 1;
    const char *nul = memchr(pat, '\0', rest);
    size_t plen = nul ? (size_t)(nul - pat) : rest;
    const char *subj = nul ? nul + 1 : pat + rest;
    size_t slen = nul ? rest - plen - 1 : 0;

    pvm_arena *a = pvm_arena_new(64u << 20);
    if (!a)
        return 0;
    pvm_matcher m;
    if (init(&m, a, op, pat, plen) == 0) {
        int r = match(&m, subj, slen);
        if (op == PVM_MATCH_EQUAL || op == PVM_MATCH_NOT_EQUAL) {
            int eq = plen == slen && memcmp(pat, subj, plen) == 0;
            if (r != (op == PVM_MATCH_EQUAL ? eq : !eq))
                abort();
        } else {
            pvm_matcher neg;
            pvm_match_op other = op == PVM_MATCH_REGEX ? PVM_MATCH_NOT_REGEX
                                                       : PVM_MATCH_REGEX;
            if (init(&neg, a, other, pat, plen) != 0)
                abort(); /* the same pattern compiled once */
            int rn = match(&neg, subj, slen);
            if (r >= 0 && rn >= 0 && r == rn)
                abort();
        }
        int e = match(&m, "", 0);
        if (e >= 0 && (e == 1) != pvm_matcher_matches_empty(&m))
            abort();
        (void)pvm_match_op_str(op);
    }
    pvm_arena_free(a);
    return 0;
}
