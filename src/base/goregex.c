/* goregex.c: every regex of the project, compiled and run in one place:
 * RE2 syntax translated to PCRE2 (re2pcre.c), anchored at both ends, JIT
 * where the nesting allows, a match context with match and depth limits;
 * subjects with invalid UTF-8 are matched as Go sees them (each invalid
 * byte a U+FFFD). Common shapes skip the regex engine. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "re2pcre.h"
#include "goregex.h"
#include "utf8.h"

#define RX_JIT_STACK_MIN (32 * 1024)
#define RX_JIT_STACK_MAX (1024 * 1024)
#define RX_JIT_MAX_DEPTH 200 /* PCRE2's JIT compiler recurses per group */
#define RX_MSG_PATTERN 256   /* pattern bytes quoted in messages */

enum rx_kind {
    RX_REGEX,    /* run PCRE2 */
    RX_ANYTHING, /* .* */
    RX_NONEMPTY, /* .+ */
    RX_LITERALS, /* a|b|c: equal to one of lits */
    RX_PREFIX,   /* lit.* */
    RX_SUFFIX,   /* .*lit */
    RX_CONTAINS, /* .*lit.* */
};

/* A compiled regex. */
struct pvm_regex {
    enum rx_kind kind;          /* how to match */
    const char **lits;          /* literals of RX_LITERALS, or the one
                                    literal of prefix/suffix/contains */
    size_t *lit_lens;           /* their lengths */
    size_t nlits;               /* number of literals */
    pcre2_code *code;           /* compiled pattern (RX_REGEX) */
    pcre2_match_data *md;       /* match data, created once */
    pcre2_match_context *mctx;  /* match/depth limits, JIT stack */
    pcre2_jit_stack *jit_stack; /* JIT stack, NULL without JIT */
    pvm_arena *arena;           /* owner, for the scratch buffer */
    char *scratch;              /* subject with invalid UTF-8 repaired */
    size_t scratch_cap;         /* bytes available in scratch */
    size_t ngroups;             /* capture groups (PVM_REGEX_CAPTURE) */
    const char **names;         /* names[1..ngroups], NULL entries */
    size_t *groups;             /* 2 * (ngroups + 1) offsets of exec */
    bool matches_empty;         /* the regex accepts "" */
};
typedef struct pvm_regex rx_impl;

/* ---- fast paths ------------------------------------------------------ */

static bool contains(const char *s, size_t n, const char *w, size_t m);

static bool is_meta(char c)
{
    return c && strchr("\\.+*?()|[]{}^$", c) != NULL;
}

static bool has_meta(const char *s, size_t n, bool allow_bar)
{
    for (size_t i = 0; i < n; i++)
        if (is_meta(s[i]) && !(allow_bar && s[i] == '|'))
            return true;
    return false;
}

/* Recognises .*, .+, a|b|c, lit.*, .*lit, .*lit.* (pattern valid UTF-8).
 * A literal U+FFFD takes the slow path: it also matches an invalid byte. */
static bool rx_fast_path(rx_impl *x, pvm_arena *a, const char *s, size_t n)
{
    if (contains(s, n, PVM_UTF8_REPLACEMENT, 3))
        return false;
    if (n == 2 && s[0] == '.' && (s[1] == '*' || s[1] == '+')) {
        x->kind = s[1] == '*' ? RX_ANYTHING : RX_NONEMPTY;
        return true;
    }
    bool dot_head = n >= 2 && s[0] == '.' && s[1] == '*';
    bool dot_tail = n >= 3 && s[n - 2] == '.' && s[n - 1] == '*' &&
                    s[n - 3] != '\\';
    if (dot_head && dot_tail && n < 4)
        return false;
    const char *lit = s + (dot_head ? 2 : 0);
    size_t llen = n - (dot_head ? 2 : 0) - (dot_tail ? 2 : 0);
    if (has_meta(lit, llen, !dot_head && !dot_tail))
        return false;
    size_t count = 1;
    for (size_t i = 0; i < llen; i++)
        count += lit[i] == '|';
    x->lits = pvm_arena_calloc(a, count, sizeof(*x->lits));
    x->lit_lens = pvm_arena_calloc(a, count, sizeof(*x->lit_lens));
    if (!x->lits || !x->lit_lens)
        return false;
    size_t from = 0;
    for (size_t i = 0; i <= llen; i++) {
        if (i == llen || lit[i] == '|') {
            x->lits[x->nlits] = lit + from;
            x->lit_lens[x->nlits++] = i - from;
            from = i + 1;
        }
    }
    x->kind = dot_head && dot_tail ? RX_CONTAINS
              : dot_head           ? RX_SUFFIX
              : dot_tail           ? RX_PREFIX
                                   : RX_LITERALS;
    return true;
}

static bool contains(const char *s, size_t n, const char *w, size_t m)
{
    if (m == 0)
        return true;
    for (const char *q = s; n >= m && (size_t)(q - s) <= n - m; q++) {
        q = memchr(q, w[0], n - m + 1 - (size_t)(q - s));
        if (!q)
            return false;
        if (memcmp(q, w, m) == 0)
            return true;
    }
    return false;
}

/* ---- compile and match ----------------------------------------------- */

static void rx_free(void *arg)
{
    rx_impl *x = arg;
    pcre2_match_data_free(x->md);
    pcre2_match_context_free(x->mctx);
    pcre2_jit_stack_free(x->jit_stack);
    pcre2_code_free(x->code);
}

/* Appends s to buf (size cap) with control bytes, quote and backslash
 * escaped, for messages; cut with "..." after RX_MSG_PATTERN bytes. */
static void quote_into(char *buf, size_t cap, const char *s, size_t n)
{
    size_t o = strlen(buf);
    if (n > RX_MSG_PATTERN && cap > o + 4) {
        quote_into(buf, cap - 4, s, RX_MSG_PATTERN);
        strcat(buf, "...");
        return;
    }
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, cap - o, "\\%c", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
}

static int rx_error(pvm_error *err, const char *pat, size_t n,
                    const char *reason, const char *frag, size_t flen)
{
    char msg[sizeof(err->msg)];
    strcpy(msg, "invalid regular expression \"");
    quote_into(msg, sizeof(msg), pat, n);
    size_t o = strlen(msg);
    snprintf(msg + o, sizeof(msg) - o, "\": %s", reason);
    if (frag && flen > 0) {
        o = strlen(msg);
        snprintf(msg + o, sizeof(msg) - o, ": `");
        quote_into(msg, sizeof(msg) - 1, frag, flen);
        o = strlen(msg);
        snprintf(msg + o, sizeof(msg) - o, "`");
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s", msg);
}
/* Compiles the translated pattern. Subjects are validated (and repaired)
 * before matching, so PCRE2_MATCH_INVALID_UTF is not used: in PCRE2 10.42
 * its JIT code lets \W, \D and \S miss non-ASCII characters. */
static int rx_compile(rx_impl *x, const char *pat, size_t n,
                      const pvm_re2pcre *t, unsigned flags, pvm_error *err)
{
    uint32_t opts = PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED |
                    PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY |
                    PCRE2_ALT_CIRCUMFLEX | PCRE2_NEVER_UCP |
                    PCRE2_NEVER_BACKSLASH_C;
    if (!(flags & PVM_REGEX_CAPTURE))
        opts |= PCRE2_NO_AUTO_CAPTURE;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    pcre2_set_parens_nest_limit(cc, PVM_RE2PCRE_MAX_DEPTH + 100);
    int ec;
    PCRE2_SIZE eo;
    x->code = pcre2_compile((PCRE2_SPTR)t->pcre, t->len, opts, &ec, &eo, cc);
    pcre2_compile_context_free(cc);
    if (!x->code) {
        PCRE2_UCHAR text[160];
        pcre2_get_error_message(ec, text, sizeof(text));
        return rx_error(err, pat, n,
                        ec == PCRE2_ERROR_PATTERN_TOO_LARGE
                            ? "expression too large"
                            : (const char *)text,
                        NULL, 0);
    }
    x->md = pcre2_match_data_create(1 + (uint32_t)x->ngroups, NULL);
    x->mctx = pcre2_match_context_create(NULL);
    if (!x->md || !x->mctx)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pcre2_set_match_limit(x->mctx, PVM_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(x->mctx, PVM_REGEX_DEPTH_LIMIT);
    if (t->max_depth <= RX_JIT_MAX_DEPTH &&
        pcre2_jit_compile(x->code, PCRE2_JIT_COMPLETE) == 0) {
        x->jit_stack = pcre2_jit_stack_create(RX_JIT_STACK_MIN,
                                              RX_JIT_STACK_MAX, NULL);
        if (x->jit_stack)
            pcre2_jit_stack_assign(x->mctx, NULL, x->jit_stack);
    }
    return 0;
}

/* Copies s into the scratch buffer with each invalid byte replaced by
 * U+FFFD, as Go's regexp sees it. Returns the new length or SIZE_MAX. */
static size_t rx_repair(rx_impl *x, const char *s, size_t n)
{
    if (n > SIZE_MAX / 3)
        return SIZE_MAX;
    if (x->scratch_cap < 3 * n) {
        size_t cap = 3 * n > 2 * x->scratch_cap ? 3 * n : 2 * x->scratch_cap;
        x->scratch = pvm_arena_alloc(x->arena, cap);
        x->scratch_cap = x->scratch ? cap : 0;
        if (!x->scratch)
            return SIZE_MAX;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t w = pvm_utf8_decode(s + i, n - i, &cp);
        if (w == 0) {
            memcpy(x->scratch + o, PVM_UTF8_REPLACEMENT, 3);
            o += 3;
            i++;
        } else {
            memcpy(x->scratch + o, s + i, w);
            o += w;
            i += w;
        }
    }
    return o;
}

/* Maps offset off of the repaired copy of s[0..n) back to s. */
static size_t rx_unrepair(const char *s, size_t n, size_t off)
{
    size_t i = 0, o = 0;
    while (i < n && o < off) {
        uint32_t cp;
        size_t w = pvm_utf8_decode(s + i, n - i, &cp);
        o += w ? w : 3;
        i += w ? w : 1;
    }
    return i;
}

/* Runs PCRE2 on s; on a match fills x->groups (when not NULL). */
static int rx_run(rx_impl *x, const char *s, size_t n)
{
    const char *orig = s;
    size_t orig_n = n;
    bool repaired = false;
    if (pvm_utf8_invalid_at(s, n) != n) {
        size_t len = rx_repair(x, s, n);
        if (len == SIZE_MAX)
            return PVM_ERR_NOMEM;
        s = x->scratch;
        n = len;
        repaired = true;
    }
    PCRE2_SPTR subj = (PCRE2_SPTR)(n ? s : "");
    uint32_t opts = PCRE2_NO_UTF_CHECK;
    int rc = pcre2_match(x->code, subj, n, 0, opts, x->md, x->mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(x->code, subj, n, 0, opts | PCRE2_NO_JIT, x->md,
                         x->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return PVM_ERR_EXECUTION;
    if (x->groups) {
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->md);
        for (size_t g = 0; g < 2 * (x->ngroups + 1); g++) {
            size_t v = g < 2 * (size_t)rc ? ov[g] : SIZE_MAX;
            if (v == PCRE2_UNSET)
                v = SIZE_MAX;
            else if (repaired && v != SIZE_MAX)
                v = rx_unrepair(orig, orig_n, v);
            x->groups[g] = v;
        }
    }
    return 1;
}

static int rx_match(rx_impl *x, const char *s, size_t n)
{
    size_t m = x->nlits ? x->lit_lens[0] : 0;
    switch (x->kind) {
    case RX_ANYTHING: return 1;
    case RX_NONEMPTY: return n > 0;
    case RX_LITERALS:
        for (size_t i = 0; i < x->nlits; i++)
            if (x->lit_lens[i] == n && (n == 0 || !memcmp(x->lits[i], s, n)))
                return 1;
        return 0;
    case RX_PREFIX: return n >= m && (m == 0 || !memcmp(s, x->lits[0], m));
    case RX_SUFFIX:
        return n >= m && (m == 0 || !memcmp(s + n - m, x->lits[0], m));
    case RX_CONTAINS: return contains(s, n, x->lits[0], m);
    case RX_REGEX: break;
    }
    return rx_run(x, s, n);
}

pvm_regex *pvm_regex_compile(pvm_arena *a, const char *pat, size_t n,
                             unsigned flags, pvm_error *err)
{
    rx_impl *x = pvm_arena_calloc(a, 1, sizeof(*x));
    if (!x || pvm_arena_on_cleanup(a, rx_free, x) < 0) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    x->arena = a;
    size_t bad = pvm_utf8_invalid_at(pat, n);
    if (bad != n) {
        rx_error(err, pat, n, "invalid UTF-8", pat + bad, n - bad);
        return NULL;
    }
    if ((flags & PVM_REGEX_CAPTURE) || !rx_fast_path(x, a, pat, n)) {
        pvm_re2pcre t;
        int rc = pvm_re2pcre_translate(a, pat, n, &t);
        if (rc == PVM_ERR_NOMEM) {
            pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
            return NULL;
        }
        if (rc < 0) {
            rx_error(err, pat, n, t.reason, pat + t.err_at,
                     t.err_end - t.err_at);
            return NULL;
        }
        x->kind = RX_REGEX;
        if (flags & PVM_REGEX_CAPTURE) {
            x->ngroups = t.ngroups;
            x->names = t.names;
            x->groups = pvm_arena_calloc(a, 2 * (t.ngroups + 1),
                                         sizeof(*x->groups));
            if (!x->groups) {
                pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
                return NULL;
            }
        }
        if (rx_compile(x, pat, n, &t, flags, err) < 0)
            return NULL;
    }
    x->matches_empty = rx_match(x, "", 0) == 1;
    return x;
}

int pvm_regex_match(pvm_regex *re, const char *s, size_t n)
{
    return rx_match(re, s, n);
}

int pvm_regex_exec(pvm_regex *re, const char *s, size_t n,
                   const size_t **groups)
{
    int r = rx_match(re, s, n);
    if (r == 1 && re->kind != RX_REGEX && re->groups) {
        re->groups[0] = 0;
        re->groups[1] = n;
    }
    *groups = re->groups;
    return r;
}

size_t pvm_regex_group_count(const pvm_regex *re)
{
    return re->ngroups;
}

int pvm_regex_group_index(const pvm_regex *re, const char *name, size_t n)
{
    for (size_t g = 1; g <= re->ngroups; g++)
        if (re->names[g] && strlen(re->names[g]) == n &&
            memcmp(re->names[g], name, n) == 0)
            return (int)g;
    return -1;
}

bool pvm_regex_matches_empty(const pvm_regex *re)
{
    return re->matches_empty;
}
