/* test_matcher.c: label matchers: Prometheus semantics, RE2 syntax (what
 * Go accepts and rejects), anchoring, newline handling, pathological
 * patterns, invalid UTF-8 subjects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "matcher.h"
#include "testutil.h"

static int setup(void **state)
{
    *state = pvm_arena_new(0);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    pvm_arena_free(*state);
    return 0;
}

/* Compiles op/pattern (len bytes) or fails the test. */
static pvm_matcher compile_n(pvm_arena *a, pvm_match_op op, const char *pat,
                             size_t len)
{
    pvm_matcher m;
    pvm_error err = {0};
    int rc = pvm_matcher_init(&m, a, op, "l", 1, pat, len, &err);
    if (rc != 0)
        print_error("pattern \"%s\": %s\n", pat, err.msg);
    assert_int_equal(rc, 0);
    return m;
}

static pvm_matcher compile(pvm_arena *a, pvm_match_op op, const char *pat)
{
    return compile_n(a, op, pat, strlen(pat));
}

/* Result of matching subject s against =~pat. */
static int rx(pvm_arena *a, const char *pat, const char *s)
{
    pvm_matcher m = compile(a, PVM_MATCH_REGEX, pat);
    return pvm_matcher_match(&m, s, strlen(s));
}

#define MATCH(pat, s) assert_int_equal(rx(a, (pat), (s)), 1)
#define NO_MATCH(pat, s) assert_int_equal(rx(a, (pat), (s)), 0)

/* The message for an invalid pattern ("" when it compiles). */
static const char *reject_msg(pvm_arena *a, const char *pat, size_t len)
{
    static pvm_error err;
    pvm_matcher m;
    pvm_error_clear(&err);
    int rc = pvm_matcher_init(&m, a, PVM_MATCH_REGEX, "l", 1, pat, len, &err);
    if (rc == 0)
        return "";
    assert_int_equal(rc, PVM_ERR_BAD_DATA);
    assert_int_equal(err.code, PVM_ERR_BAD_DATA);
    return err.msg;
}

static void test_equal(void **state)
{
    pvm_arena *a = *state;
    pvm_matcher m = compile(a, PVM_MATCH_EQUAL, "foo");
    assert_int_equal(pvm_matcher_match(&m, "foo", 3), 1);
    assert_int_equal(pvm_matcher_match(&m, "foobar", 6), 0);
    assert_int_equal(pvm_matcher_match(&m, "", 0), 0);
    assert_false(pvm_matcher_matches_empty(&m));
    m = compile(a, PVM_MATCH_NOT_EQUAL, "foo");
    assert_int_equal(pvm_matcher_match(&m, "foo", 3), 0);
    assert_int_equal(pvm_matcher_match(&m, "fo", 2), 1);
    assert_true(pvm_matcher_matches_empty(&m));
    m = compile(a, PVM_MATCH_EQUAL, "");
    assert_true(pvm_matcher_matches_empty(&m));
    assert_int_equal(pvm_matcher_match(&m, NULL, 0), 1);
    m = compile(a, PVM_MATCH_NOT_EQUAL, "");
    assert_false(pvm_matcher_matches_empty(&m));
    /* NUL bytes are part of values. */
    m = compile_n(a, PVM_MATCH_EQUAL, "a\0b", 3);
    assert_int_equal(m.value_len, 3);
    assert_memory_equal(m.value, "a\0b", 4);
    assert_string_equal(m.name, "l");
    assert_int_equal(pvm_matcher_match(&m, "a\0b", 3), 1);
    assert_int_equal(pvm_matcher_match(&m, "a\0c", 3), 0);
    assert_int_equal(pvm_matcher_match(&m, "a", 1), 0);
}

static void test_op_str(void **state)
{
    (void)state;
    assert_string_equal(pvm_match_op_str(PVM_MATCH_EQUAL), "=");
    assert_string_equal(pvm_match_op_str(PVM_MATCH_NOT_EQUAL), "!=");
    assert_string_equal(pvm_match_op_str(PVM_MATCH_REGEX), "=~");
    assert_string_equal(pvm_match_op_str(PVM_MATCH_NOT_REGEX), "!~");
}

static void test_anchoring(void **state)
{
    pvm_arena *a = *state;
    NO_MATCH("foo", "foobar");
    NO_MATCH("foo", "xfoo");
    MATCH("foo", "foo");
    NO_MATCH("fo", "foo");
    MATCH("a|b", "a");
    MATCH("a|b", "b");
    NO_MATCH("a|b", "ab");
    MATCH("a|bc", "bc");
    NO_MATCH("a|bc", "abc");
    NO_MATCH("a|bc", "ac");
    MATCH("foo.*", "foobar");
    NO_MATCH("foo.+", "foo");
    MATCH(".*bar", "foobar");
    NO_MATCH(".*bar", "barfoo");
    MATCH(".*o.*", "foobar");
    NO_MATCH(".*z.*", "foobar");
    MATCH("f(o|x)+bar", "foxobar");
    NO_MATCH("f(o|x)+", "foxobar");
    MATCH("^foo$", "foo");
    NO_MATCH("x^foo", "xfoo");
    MATCH("", "");
    NO_MATCH("", "a");
    MATCH("(?:a|b)*", "abba");
    /* Alternation with an empty branch. */
    MATCH("a|", "");
    MATCH("a|", "a");
    NO_MATCH("a|", "b");
    /* Literal with escapes: a regex, still anchored. */
    MATCH("foo\\.bar", "foo.bar");
    NO_MATCH("foo\\.bar", "fooxbar");
    NO_MATCH("foo\\.bar", "foo.barx");
}

static void test_newline(void **state)
{
    pvm_arena *a = *state;
    MATCH(".", "\n");
    MATCH("a.b", "a\nb");
    MATCH(".*", "a\nb\n");
    MATCH(".+", "\n");
    MATCH("a.*", "a\nb\n");
    MATCH(".*b", "a\nb");
    NO_MATCH("foo$", "foo\n");
    NO_MATCH("foo", "foo\n");
    NO_MATCH("^foo$", "foo\n");
    MATCH("foo\\n", "foo\n");
    MATCH("foo\n", "foo\n");
    NO_MATCH("(?-s).", "\n");
    NO_MATCH("(?-s:.*)", "a\nb");
    MATCH("(?-s:a).", "a\n");
    MATCH("(?m)a$\\n^b", "a\nb");
    MATCH("(?m)a\\n^", "a\n");
    NO_MATCH("a$\\nb", "a\nb");
    MATCH("[^a]", "\n");
    MATCH("\\s", "\n");
    MATCH("a\\zb|a", "a");
}

static void test_flags(void **state)
{
    pvm_arena *a = *state;
    MATCH("(?i)foo", "FoO");
    NO_MATCH("foo", "FOO");
    MATCH("(?i:a)b", "Ab");
    NO_MATCH("(?i:a)b", "AB");
    MATCH("a(?i)b", "aB");
    NO_MATCH("a(?i)b", "AB");
    MATCH("(?i)[a-c]+", "AbC");
    MATCH("(?i)é", "É");
    MATCH("(?U)a+", "aaa");
    MATCH("(?U)(a+)(a*)", "aaa");
    MATCH("(?is)a.b", "A\nB");
    NO_MATCH("(?i-s:a.)b", "A\nb");
    MATCH("(?)a", "a");
    MATCH("(?:a)", "a");
    MATCH("a+?", "aaa");
    MATCH("a*?b", "aab");
    MATCH("a??", "");
    MATCH("a{2,3}?", "aaa");
}

static void test_syntax(void **state)
{
    pvm_arena *a = *state;
    MATCH("(?P<name>a)b", "ab");
    MATCH("(?<name>a)b", "ab");
    MATCH("(?P<n1_>a)(?P<2>b)", "ab");
    MATCH("[a-c]+", "abc");
    NO_MATCH("[a-c]+", "abd");
    MATCH("[]a]+", "]a]");
    MATCH("[^]a]", "b");
    NO_MATCH("[^]a]", "]");
    MATCH("[a-]+", "a-");
    MATCH("[-a]+", "-a");
    MATCH("[a\\-z]+", "-az");
    NO_MATCH("[a\\-z]", "b");
    MATCH("[\\d\\-z]+", "1-z");
    MATCH("[[]", "[");
    MATCH("[[:alpha:]]+", "abZ");
    NO_MATCH("[[:alpha:]]", "1");
    MATCH("[[:^alpha:]]", "1");
    MATCH("[[:word:]]+", "a_1");
    {
        pvm_matcher m = compile(a, PVM_MATCH_REGEX, "\\x41\\x{42}\\101\\0");
        assert_int_equal(pvm_matcher_match(&m, "ABA\0", 4), 1);
    }
    MATCH("\\Q.*+\\E", ".*+");
    NO_MATCH("\\Q.*\\E", "ab");
    MATCH("\\Qab", "ab");
    MATCH("a\\Q\\E", "a");
    MATCH("\\a\\f\\t\\r\\v", "\a\f\t\r\v");
    MATCH("\\_\\#\\ ", "_# ");
    MATCH("a{,5}", "a{,5}");
    MATCH("a{", "a{");
    MATCH("a{x}", "a{x}");
    MATCH("a{01}", "a{01}");
    MATCH("a{2}", "aa");
    MATCH("a{2,}", "aaaaa");
    NO_MATCH("a{2,3}", "aaaa");
    {
        char as[1001];
        memset(as, 'a', 1000);
        as[1000] = '\0';
        MATCH("a{1000}", as);
        NO_MATCH("a{999}", as);
    }
    MATCH("(a{10}){10}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    MATCH("^*a", "a");
    MATCH("(?:^)*a$?", "a");
    MATCH("\\bfoo\\b", "foo");
    MATCH("a\\Bb", "ab");
    MATCH("\\Afoo\\z", "foo");
    MATCH("}]", "}]");
    MATCH("a#b c", "a#b c");
    MATCH("\\p{Greek}+", "αβγ");
    NO_MATCH("\\p{Greek}", "a");
    MATCH("\\P{Greek}", "a");
    MATCH("\\p{^Greek}", "a");
    MATCH("\\pL\\pN", "é٣");
    MATCH("[\\p{Lu}\\d]+", "A1B");
    NO_MATCH("[\\p{Lu}\\d]", "a");
    MATCH("\\p{Any}", "\n");
    MATCH("\\p{ASCII}", "a");
    NO_MATCH("\\p{ASCII}", "é");
    MATCH("\\PL", "1");
    MATCH("[\\P{L}]", "1");
    MATCH("[^\\x{0}-\\x{ffff}]", "\xF0\x9F\x98\x80");
}

static void test_ascii_classes(void **state)
{
    pvm_arena *a = *state;
    MATCH("\\d", "7");
    NO_MATCH("\\d", "٣"); /* ARABIC-INDIC DIGIT THREE */
    MATCH("\\pN", "٣");
    NO_MATCH("\\w", "é");
    MATCH("\\W", "é");
    MATCH("\\pL", "é");
    NO_MATCH("\\s", "\v"); /* Go's \s is [\t\n\f\r ] */
    MATCH("\\S", "\v");
    MATCH("[\\S]", "\v");
    NO_MATCH("[\\s]", "\v");
    MATCH("[[:space:]]", "\v");
    NO_MATCH("\\s", "\xC2\xA0");
    MATCH("\\s+", " \t\n\f\r");
    MATCH("[^\\s]", "x");
    MATCH("\\D\\W", "a.");
    NO_MATCH("\\bé", "é"); /* \b is ASCII */
}

static void test_matches_empty(void **state)
{
    pvm_arena *a = *state;
    static const struct {
        const char *pat;
        bool empty;
    } cases[] = {
        {".*", true},     {".+", false},      {"a|", true},
        {"a?", true},     {"(?:)", true},     {"", true},
        {"a", false},     {"a*", true},       {"foo.*", false},
        {".*foo", false}, {".*foo.*", false}, {"a|b", false},
        {"^$", true},     {"(a|b)*", true},   {"\\s*", true},
        {"[^a]*", true},  {".*.*", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pvm_matcher m = compile(a, PVM_MATCH_REGEX, cases[i].pat);
        if (pvm_matcher_matches_empty(&m) != cases[i].empty)
            fail_msg("=~\"%s\" matches_empty should be %d", cases[i].pat,
                     cases[i].empty);
        m = compile(a, PVM_MATCH_NOT_REGEX, cases[i].pat);
        if (pvm_matcher_matches_empty(&m) == cases[i].empty)
            fail_msg("!~\"%s\" matches_empty should be %d", cases[i].pat,
                     !cases[i].empty);
        assert_int_equal(pvm_matcher_match(&m, "", 0), !cases[i].empty);
    }
}

static void test_not_regex(void **state)
{
    pvm_arena *a = *state;
    pvm_matcher m = compile(a, PVM_MATCH_NOT_REGEX, "foo|bar");
    assert_int_equal(pvm_matcher_match(&m, "foo", 3), 0);
    assert_int_equal(pvm_matcher_match(&m, "foobar", 6), 1);
    m = compile(a, PVM_MATCH_NOT_REGEX, "f.o");
    assert_int_equal(pvm_matcher_match(&m, "fxo", 3), 0);
    assert_int_equal(pvm_matcher_match(&m, "fxox", 4), 1);
}

static void test_nul_bytes(void **state)
{
    pvm_arena *a = *state;
    pvm_matcher m = compile_n(a, PVM_MATCH_REGEX, "a\0b", 3);
    assert_int_equal(pvm_matcher_match(&m, "a\0b", 3), 1);
    assert_int_equal(pvm_matcher_match(&m, "a", 1), 0);
    m = compile_n(a, PVM_MATCH_REGEX, "a\0+b", 4);
    assert_int_equal(pvm_matcher_match(&m, "a\0\0b", 4), 1);
    m = compile(a, PVM_MATCH_REGEX, "a.b");
    assert_int_equal(pvm_matcher_match(&m, "a\0b", 3), 1);
    m = compile(a, PVM_MATCH_REGEX, ".*b.*");
    assert_int_equal(pvm_matcher_match(&m, "\0b\0", 3), 1);
    m = compile(a, PVM_MATCH_REGEX, "x|a\\x00");
    assert_int_equal(pvm_matcher_match(&m, "a\0", 2), 1);
}

static void test_invalid_utf8_subject(void **state)
{
    pvm_arena *a = *state;
    pvm_matcher m = compile(a, PVM_MATCH_REGEX, ".");
    assert_int_equal(pvm_matcher_match(&m, "\xff", 1), 1);
    m = compile(a, PVM_MATCH_REGEX, "a.b");
    assert_int_equal(pvm_matcher_match(&m,
                                       "a\xff"
                                       "b",
                                       3),
                     1);
    m = compile(a, PVM_MATCH_REGEX, "a..b");
    assert_int_equal(pvm_matcher_match(&m,
                                       "a\xe2\x82"
                                       "b",
                                       4),
                     1);
    assert_int_equal(pvm_matcher_match(&m,
                                       "a\xe2\x82\xac"
                                       "b",
                                       5),
                     0);
    m = compile(a, PVM_MATCH_REGEX, "\\x{fffd}+");
    assert_int_equal(pvm_matcher_match(&m, "\xc0\x80", 2), 1);
    m = compile(a, PVM_MATCH_REGEX, "fo(o|x)");
    assert_int_equal(pvm_matcher_match(&m, "fo\xff", 3), 0);
    m = compile(a, PVM_MATCH_REGEX, "[^a]+");
    assert_int_equal(pvm_matcher_match(&m, "\xed\xa0\x80", 3), 1);
    m = compile(a, PVM_MATCH_REGEX, "(?i)x.*");
    char big[5000];
    memset(big, '\xfe', sizeof(big));
    big[0] = 'X';
    for (int i = 0; i < 20; i++)
        assert_int_equal(pvm_matcher_match(&m, big, sizeof(big)), 1);
    m = compile(a, PVM_MATCH_REGEX, "\\x{D800}|a[\\x{D800}]|b[^\\x{DFFF}]");
    assert_int_equal(pvm_matcher_match(&m, "\xed\xa0\x80", 3), 0);
    assert_int_equal(pvm_matcher_match(&m, "a\xed\xa0\x80", 4), 0);
    assert_int_equal(pvm_matcher_match(&m, "bc", 2), 1);
}

static void check_reject(pvm_arena *a, const char *pat, size_t len,
                         const char *want)
{
    const char *msg = reject_msg(a, pat, len);
    if (strcmp(msg, want) != 0)
        fail_msg("pattern \"%s\":\n got  [%s]\n want [%s]", pat, msg, want);
}

#define REJECT(pat, want) check_reject(a, (pat), strlen(pat), (want))

static void test_invalid(void **state)
{
    pvm_arena *a = *state;
    REJECT("a(", "invalid regular expression \"a(\": missing closing )");
    REJECT("a)", "invalid regular expression \"a)\": unexpected )");
    REJECT("[a", "invalid regular expression \"[a\": missing closing ]: `[a`");
    REJECT("x[a", "invalid regular expression \"x[a\": missing closing ]: "
                  "`[a`");
    REJECT("[]", "invalid regular expression \"[]\": missing closing ]: `[]`");
    REJECT("*a", "invalid regular expression \"*a\": missing argument to "
                 "repetition operator: `*`");
    REJECT("a|*", "invalid regular expression \"a|*\": missing argument to "
                  "repetition operator: `*`");
    REJECT("(+)", "invalid regular expression \"(+)\": missing argument to "
                  "repetition operator: `+`");
    REJECT("{2}", "invalid regular expression \"{2}\": missing argument to "
                  "repetition operator: `{2}`");
    REJECT("a**", "invalid regular expression \"a**\": invalid nested "
                  "repetition operator: `**`");
    REJECT("a*??", "invalid regular expression \"a*??\": invalid nested "
                   "repetition operator: `*??`");
    REJECT("a{1001}", "invalid regular expression \"a{1001}\": invalid "
                      "repeat count: `{1001}`");
    REJECT("a{2,1}", "invalid regular expression \"a{2,1}\": invalid repeat "
                     "count: `{2,1}`");
    REJECT("a{100000000000}", "invalid regular expression "
                              "\"a{100000000000}\": invalid repeat count: "
                              "`{100000000000}`");
    REJECT("(a{100}){11}", "invalid regular expression \"(a{100}){11}\": "
                           "invalid repeat count: `{11}`");
    REJECT("((a{10}){10}){11}", "invalid regular expression "
                                "\"((a{10}){10}){11}\": invalid repeat "
                                "count: `{11}`");
    REJECT("[z-a]", "invalid regular expression \"[z-a]\": invalid "
                    "character class range: `z-a`");
    REJECT("[[:foo:]]", "invalid regular expression \"[[:foo:]]\": invalid "
                        "character class range: `[:foo:]`");
    REJECT("\\p{Foo}", "invalid regular expression \"\\\\p{Foo}\": invalid "
                       "character class range: `\\\\p{Foo}`");
    REJECT("\\p{Greek", "invalid regular expression \"\\\\p{Greek\": "
                        "invalid character class range: `\\\\p{Greek`");
    REJECT("a\\", "invalid regular expression \"a\\\\\": trailing backslash "
                  "at end of expression");
    REJECT("\\xZ1", "invalid regular expression \"\\\\xZ1\": invalid escape "
                    "sequence: `\\\\xZ`");
    REJECT("\\x{110000}", "invalid regular expression \"\\\\x{110000}\": "
                          "invalid escape sequence: `\\\\x{110000`");
    REJECT("(?P<>a)", "invalid regular expression \"(?P<>a)\": invalid "
                      "named capture: `(?P<>`");
    REJECT("(?P<a-b>x)", "invalid regular expression \"(?P<a-b>x)\": "
                         "invalid named capture: `(?P<a-b>`");
    REJECT("(?i-)a", "invalid regular expression \"(?i-)a\": invalid or "
                     "unsupported Perl syntax: `(?i-)`");
    REJECT("(?", "invalid regular expression \"(?\": invalid or unsupported "
                 "Perl syntax: `(?`");
    REJECT("a\xff", "invalid regular expression \"a\xff\": invalid UTF-8: "
                    "`\xff`");
    REJECT("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
           "a",
           "invalid regular expression \"((((((((((((((((((((((((((((((((((("
           "((((((((((((((((((((((((((a\": missing closing )");
}

/* Constructs RE2 rejects and PCRE2 would accept. */
static void test_re2_only(void **state)
{
    pvm_arena *a = *state;
    static const char *const bad[] = {
        "(a)\\1",    "\\1",     "(?P<n>a)(?P=n)",
        "\\k<n>",    "\\g1",    "(?=a)",
        "(?!a)",     "(?<=a)b", "(?<!a)b",
        "(?>a)",     "a*+",     "a++",
        "a?+",       "a{2}+",   "(?R)",
        "(?1)",      "(a)(?1)", "(?(1)a|b)",
        "\\K",       "a\\Kb",   "\\Z",
        "\\C",       "\\G",     "\\R",
        "\\X",       "\\h",     "\\N",
        "\\e",       "\\cA",    "\\o{101}",
        "\\u0041",   "(*UTF)a", "(*ANY)a",
        "(?x)a b",   "(?J)a",   "(?n)a",
        "(?|a)",     "(?#c)a",  "(?&n)",
        "(?+1)",     "\\8",     "[\\b]",
        "[\\Q]\\E]", "\\p{L&}", "(?'n'a)",
        "a{2}{3}",   "\\é",     "(?i)*",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *msg = reject_msg(a, bad[i], strlen(bad[i]));
        if (strncmp(msg, "invalid regular expression \"", 28) != 0)
            fail_msg("pattern \"%s\" should be rejected, got [%s]", bad[i],
                     msg);
    }
    /* Specific messages, as Go words them. */
    REJECT("\\1", "invalid regular expression \"\\\\1\": invalid escape "
                  "sequence: `\\\\1`");
    REJECT("(?=a)", "invalid regular expression \"(?=a)\": invalid or "
                    "unsupported Perl syntax: `(?=`");
    REJECT("a*+", "invalid regular expression \"a*+\": invalid nested "
                  "repetition operator: `*+`");
    REJECT("\\K", "invalid regular expression \"\\\\K\": invalid escape "
                  "sequence: `\\\\K`");
    REJECT("a\\K", "invalid regular expression \"a\\\\K\": invalid escape "
                   "sequence: `\\\\K`");
}

static void test_nesting(void **state)
{
    pvm_arena *a = *state;
    char pat[2100];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        pat[n++] = '(';
    pat[n++] = 'a';
    for (int i = 0; i < 1000; i++)
        pat[n++] = ')';
    pvm_matcher m = compile_n(a, PVM_MATCH_REGEX, pat, n);
    assert_int_equal(pvm_matcher_match(&m, "a", 1), 1);
    assert_int_equal(pvm_matcher_match(&m, "b", 1), 0);
    /* Around the depth where JIT compilation stops being used. */
    for (int depth = 195; depth <= 205; depth++) {
        char p2[512];
        size_t k = 0;
        for (int i = 0; i < depth; i++)
            p2[k++] = '(';
        p2[k++] = 'a';
        p2[k++] = '|';
        p2[k++] = 'b';
        for (int i = 0; i < depth; i++)
            p2[k++] = ')';
        p2[k++] = '+';
        pvm_matcher m2 = compile_n(a, PVM_MATCH_REGEX, p2, k);
        assert_int_equal(pvm_matcher_match(&m2, "abba", 4), 1);
        assert_int_equal(pvm_matcher_match(&m2, "abc", 3), 0);
    }
    memmove(pat + 1, pat, n);
    pat[0] = '(';
    pat[n + 1] = ')';
    const char *msg = reject_msg(a, pat, n + 2);
    assert_non_null(strstr(msg, "\": expression nests too deeply"));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exponential-backtracking patterns: PCRE2 gives up at its match limit
 * and the matcher reports PVM_ERR_EXECUTION instead of hanging. */
static void test_bombs(void **state)
{
    pvm_arena *a = *state;
    static const char *const bombs[] = {
        "(a+)+$", "(a|aa)+$", "(a|a?)+b?$", "(.*a){12}", "(\\w+\\s?)+$",
    };
    char subj[64];
    memset(subj, 'a', sizeof(subj));
    subj[sizeof(subj) - 1] = '!';
    int limits = 0;
    for (size_t i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++) {
        pvm_matcher m = compile(a, PVM_MATCH_REGEX, bombs[i]);
        double t0 = now_s();
        int r = pvm_matcher_match(&m, subj, sizeof(subj));
        double dt = now_s() - t0;
        if (dt > 2.0)
            fail_msg("\"%s\" took %.2f s", bombs[i], dt);
        assert_true(r == 0 || r == PVM_ERR_EXECUTION);
        limits += r == PVM_ERR_EXECUTION;
        /* The negated matcher propagates the error too. */
        m = compile(a, PVM_MATCH_NOT_REGEX, bombs[i]);
        r = pvm_matcher_match(&m, subj, sizeof(subj));
        assert_true(r == 1 || r == PVM_ERR_EXECUTION);
    }
    assert_true(limits > 0);
}

/* Long values do not exhaust the JIT stack (falls back to the
 * interpreter) and long literal paths stay correct. */
static void test_long_values(void **state)
{
    pvm_arena *a = *state;
    size_t n = 200000;
    char *s = pvm_arena_alloc(a, n);
    for (size_t i = 0; i < n; i++)
        s[i] = "ab"[i % 2];
    pvm_matcher m = compile(a, PVM_MATCH_REGEX, "(a|b)*");
    assert_int_equal(pvm_matcher_match(&m, s, n), 1);
    m = compile(a, PVM_MATCH_REGEX, "(?:ab)+");
    assert_int_equal(pvm_matcher_match(&m, s, n), 1);
    m = compile(a, PVM_MATCH_REGEX, ".*bab.*");
    assert_int_equal(pvm_matcher_match(&m, s, n), 1);
    m = compile(a, PVM_MATCH_REGEX, ".*bb.*");
    assert_int_equal(pvm_matcher_match(&m, s, n), 0);
    m = compile(a, PVM_MATCH_REGEX, "a.*b");
    assert_int_equal(pvm_matcher_match(&m, s, n), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_equal, setup, teardown),
        cmocka_unit_test(test_op_str),
        cmocka_unit_test_setup_teardown(test_anchoring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ascii_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matches_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_subject, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_re2_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bombs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
