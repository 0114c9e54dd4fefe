/* test_query.c: query.c, the selectors of a request's query: many
 * match[] selectors cost memory linear in their number (the selector
 * array grows by doubling), and the name index of a query with many
 * selectors answers pvm_query_match / pvm_query_name_matches exactly as
 * trying every selector in turn does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/arena.h>

#include "query_impl.h"

/* Arena bytes used by a query of n match[] selectors "m<i>{a="x"}". */
static size_t bytes_for(size_t n)
{
    pvm_arena *a = pvm_arena_new(0);
    assert_non_null(a);
    char **texts = calloc(n, sizeof(*texts));
    assert_non_null(texts);
    for (size_t i = 0; i < n; i++)
        assert_true(asprintf(&texts[i], "m%zu{a=\"x\"}", i) > 0);
    pvm_error err = {0};
    pvm_query *q = pvm_query_parse_selectors(a, (const char *const *)texts, n,
                                             &err);
    assert_non_null(q);
    assert_int_equal(pvm_query_selector_count(q), n);
    char last[32];
    snprintf(last, sizeof(last), "m%zu", n - 1);
    assert_string_equal(pvm_selector_name(pvm_query_selector(q, n - 1)), last);
    size_t used = pvm_arena_used(a);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    pvm_arena_free(a);
    return used;
}

/* 4 times the selectors: about 4 times the bytes (exact-fit growth made
 * it 16 times: 1,000 selectors took 18 MB, 7,000 over 1 GB). */
static void test_selector_memory_is_linear(void **state)
{
    (void)state;
    size_t b1 = bytes_for(1000), b4 = bytes_for(4000);
    if (b4 > 6 * b1)
        fail_msg("1,000 selectors: %zu bytes, 4,000: %zu (not linear)", b1,
                 b4);
    /* and small: a few kilobytes a selector at most */
    assert_true(b4 / 4000 < 4096);
}

/* The reference: every selector in turn, as before the index. */
static int naive_match(const pvm_query *q, const char *name,
                       const pvm_label *l, size_t n)
{
    for (size_t i = 0; i < pvm_query_selector_count(q); i++) {
        int m = pvm_selector_match(pvm_query_selector(q, i), name, l, n);
        if (m != 0)
            return m;
    }
    return 0;
}

static bool naive_name_matches(const pvm_query *q, const char *name)
{
    for (size_t i = 0; i < pvm_query_selector_count(q); i++) {
        const pvm_selector *s = pvm_query_selector(q, i);
        bool ok = true;
        for (size_t k = 0; k < pvm_selector_matcher_count(s) && ok; k++) {
            const char *ln, *v;
            pvm_match_op op;
            pvm_selector_matcher(s, k, &ln, &op, &v);
            if (strcmp(ln, "__name__") == 0)
                ok = pvm_matcher_match(&s->matchers[k], name, strlen(name)) ==
                     1;
        }
        if (ok)
            return true;
    }
    return false;
}

/* Selector lists, with and without names, and the same checked on many
 * series: the indexed answer equals the naive one. */
static void test_index_matches_like_every_selector(void **state)
{
    (void)state;
    static const char *const named_only[] = {
        "a",           "b{x=\"1\"}",
        "c{x!=\"1\"}", "{__name__=\"d\", x=~\"1|2\"}",
        "a{x=\"2\"}",  "e",
        "f",           "g",
        "h",           "b{y=\"\"}",
    };
    static const char *const mixed[] = {
        "a{x=\"1\"}",
        "{x=\"3\"}",
        "b",
        "{__name__=~\"c|d\"}",
        "e{x=\"2\"}",
        "f",
        "{__name__=\"g\", __name__!=\"g\"}",
        "h",
        "i",
        "{y=~\".+\"}",
    };
    static const char *const names[] = {"a", "b", "c", "d", "e", "f",
                                        "g", "h", "i", "z", ""};
    static const char *const xs[] = {NULL, "1", "2", "3"};
    static const char *const ys[] = {NULL, "", "y"};
    const char *const *lists[] = {named_only, mixed};
    for (size_t li = 0; li < 2; li++) {
        pvm_arena *a = pvm_arena_new(0);
        pvm_error err = {0};
        pvm_query *q = pvm_query_parse_selectors(a, lists[li], 10, &err);
        assert_non_null(q);
        assert_non_null(q->named); /* indexed: >= 8 selectors */
        for (size_t ni = 0; ni < sizeof(names) / sizeof(names[0]); ni++) {
            assert_int_equal(pvm_query_name_matches(q, names[ni]) ||
                                 !naive_name_matches(q, names[ni]),
                             1);
            for (size_t xi = 0; xi < 4; xi++)
                for (size_t yi = 0; yi < 3; yi++) {
                    pvm_label l[2];
                    size_t n = 0;
                    if (xs[xi])
                        l[n++] = (pvm_label){"x", xs[xi]};
                    if (ys[yi])
                        l[n++] = (pvm_label){"y", ys[yi]};
                    int want = naive_match(q, names[ni], l, n);
                    int got = pvm_query_match(q, names[ni], l, n);
                    if (want != got)
                        fail_msg("list %zu, %s{x=%s,y=%s}: %d, want %d", li,
                                 names[ni], xs[xi] ? xs[xi] : "-",
                                 ys[yi] ? ys[yi] : "-", got, want);
                }
        }
        /* the name pre-check is exact for equality names */
        if (li == 0) {
            assert_true(pvm_query_name_matches(q, "a"));
            assert_false(pvm_query_name_matches(q, "z"));
            assert_false(pvm_query_name_matches(q, ""));
        }
        pvm_arena_free(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_memory_is_linear),
        cmocka_unit_test(test_index_matches_like_every_selector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
