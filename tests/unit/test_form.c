/* test_form.c: form decoding as Go's url.ParseQuery and Request.Form
 * (Grafana's exact encodings), path segments, U__ label names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"
#include "labels.h"
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

static pvm_form parse_ok(pvm_arena *a, const char *s)
{
    pvm_form f = PVM_FORM_INIT;
    pvm_error err = {0};
    int rc = pvm_form_parse(&f, a, s, strlen(s), &err);
    if (rc != 0)
        fail_msg("\"%s\": %s", s, err.msg);
    return f;
}

/* Checks pair i of f. */
static void expect_pair(const pvm_form *f, size_t i, const char *k,
                        const char *v)
{
    assert_true(i < f->n);
    assert_mem_equal(f->pairs[i].key, f->pairs[i].key_len, k, strlen(k));
    assert_mem_equal(f->pairs[i].value, f->pairs[i].value_len, v, strlen(v));
    assert_int_equal(f->pairs[i].key[f->pairs[i].key_len], '\0');
    assert_int_equal(f->pairs[i].value[f->pairs[i].value_len], '\0');
}

/* Bodies and query strings Grafana sends (grafana-requests.jsonl `raw`,
 * placeholders filled in), with the parameters Prometheus decodes. */
static const struct {
    const char *raw;    /* as sent */
    const char *kv[12]; /* decoded key, value, ... NULL */
} grafana[] = {
    {"query=1%2B1&time=4", {"query", "1+1", "time", "4"}},
    {"query=1%2B1&time=4&timeout=60s",
     {"query", "1+1", "time", "4", "timeout", "60s"}},
    {"limit=1000&start=1732476600&end=1732480200&match%5B%5D=%7B__name__%3D~"
     "%22.*exa.*%22%7D",
     {"limit", "1000", "start", "1732476600", "end", "1732480200", "match[]",
      "{__name__=~\".*exa.*\"}"}},
    {"limit=40000&start=1732476600&end=1732480200&match%5B%5D=%7B__name__%3D"
     "%7E%22example_metric%22%7D",
     {"limit", "40000", "start", "1732476600", "end", "1732480200", "match[]",
      "{__name__=~\"example_metric\"}"}},
    {"start=1732476600&end=1732480200&match%5B%5D=%7B__name__%21%3D%22%22%7D"
     "&limit=40000",
     {"start", "1732476600", "end", "1732480200", "match[]",
      "{__name__!=\"\"}", "limit", "40000"}},
    {"limit=40000&start=1732476600&end=1732480200&match%5B%5D=example_metric"
     "%7Btype%3D%22a%22%7D",
     {"limit", "40000", "start", "1732476600", "end", "1732480200", "match[]",
      "example_metric{type=\"a\"}"}},
    {"match%5B%5D=example_metric%7B%7D", {"match[]", "example_metric{}"}},
    {"end=1732480200&query=sum+by+%28type%29+%28rate%28example_metric%5B1m0s"
     "%5D%29%29&start=1732476600&step=15",
     {"end", "1732480200", "query",
      "sum by (type) (rate(example_metric[1m0s]))", "start", "1732476600",
      "step", "15"}},
    {"end=1732480200&query=changes%28example_metric%5B5m%5D%29+%3E+0&start="
     "1732476600&step=60",
     {"end", "1732480200", "query", "changes(example_metric[5m]) > 0", "start",
      "1732476600", "step", "60"}},
    {"query=example_metric+%2F+0&time=1732480212.345",
     {"query", "example_metric / 0", "time", "1732480212.345"}},
    {"query=test&start=1732478212345&end=1732480012345",
     {"query", "test", "start", "1732478212345", "end", "1732480012345"}},
    {"end=1732480200&query=sum%28&start=1732476600&step=15",
     {"end", "1732480200", "query", "sum(", "start", "1732476600", "step",
      "15"}},
    {"limit=40000", {"limit", "40000"}},
    {"", {NULL}},
};

static void test_grafana(void **state)
{
    pvm_arena *a = *state;
    for (size_t i = 0; i < sizeof(grafana) / sizeof(grafana[0]); i++) {
        pvm_form f = parse_ok(a, grafana[i].raw);
        size_t n = 0;
        while (grafana[i].kv[2 * n])
            n++;
        assert_int_equal(f.n, n);
        for (size_t k = 0; k < n; k++)
            expect_pair(&f, k, grafana[i].kv[2 * k], grafana[i].kv[2 * k + 1]);
    }
}

static void test_decoding(void **state)
{
    pvm_arena *a = *state;
    pvm_form f = parse_ok(a, "a+b=c+d&%41%62%2b=%7e%7E&k&=v&&x=&y==z&+=+");
    assert_int_equal(f.n, 7);
    expect_pair(&f, 0, "a b", "c d");
    expect_pair(&f, 1, "Ab+", "~~");
    expect_pair(&f, 2, "k", "");
    expect_pair(&f, 3, "", "v");
    expect_pair(&f, 4, "x", "");
    expect_pair(&f, 5, "y", "=z");
    expect_pair(&f, 6, " ", " ");
    /* Raw bytes (UTF-8 or not) pass through; decoded escapes too. */
    f = parse_ok(a, "&&&");
    assert_int_equal(f.n, 0);
    f = parse_ok(a, "é=%C3%A9&b=%ff");
    expect_pair(&f, 0, "é", "é");
    expect_pair(&f, 1, "b", "\xff");
}

static void test_nul_bytes(void **state)
{
    pvm_arena *a = *state;
    pvm_form f = parse_ok(a, "k%00x=a%00b");
    assert_int_equal(f.n, 1);
    assert_mem_equal(f.pairs[0].key, f.pairs[0].key_len, "k\0x", 3);
    assert_mem_equal(f.pairs[0].value, f.pairs[0].value_len, "a\0b", 3);
    size_t len;
    assert_null(pvm_form_get(&f, "k"));
    /* A literal NUL in the input is kept too. */
    pvm_form g = PVM_FORM_INIT;
    assert_int_equal(pvm_form_parse(&g, a, "q=a\0b&r=1", 9, NULL), 0);
    const char *q = pvm_form_get_n(&g, "q", &len);
    assert_mem_equal(q, len, "a\0b", 3);
    assert_string_equal(pvm_form_get(&g, "r"), "1");
}

static void check_error(pvm_arena *a, const char *s, const char *msg,
                        size_t npairs)
{
    pvm_form f = PVM_FORM_INIT;
    pvm_error err = {0};
    int rc = pvm_form_parse(&f, a, s, strlen(s), &err);
    assert_int_equal(rc, PVM_ERR_BAD_DATA);
    assert_int_equal(err.code, PVM_ERR_BAD_DATA);
    assert_string_equal(err.msg, msg);
    assert_int_equal(f.n, npairs);
}

static void test_malformed(void **state)
{
    pvm_arena *a = *state;
    check_error(a, "a=%zz", "invalid URL escape \"%zz\"", 0);
    check_error(a, "a=%4", "invalid URL escape \"%4\"", 0);
    check_error(a, "a=%", "invalid URL escape \"%\"", 0);
    check_error(a, "a=%4g1", "invalid URL escape \"%4g\"", 0);
    check_error(a, "%g=1", "invalid URL escape \"%g\"", 0);
    check_error(a, "a=%\n1", "invalid URL escape \"%\\n1\"", 0);
    check_error(a, "a=%\xff", "invalid URL escape \"%\\xff\"", 0);
    check_error(a, "a=%\"", "invalid URL escape \"%\\\"\"", 0);
    /* Go quotes the 3 bytes as a string: a whole UTF-8 character stays,
     * a cut one is \x-escaped (url.EscapeError, strconv.Quote). */
    check_error(a, "a=%\xc3\xa9", "invalid URL escape \"%\xc3\xa9\"", 0);
    check_error(a, "a=%\xe2\x82\xac", "invalid URL escape \"%\\xe2\\x82\"", 0);
    /* Other pairs survive, as with Go's ParseQuery. */
    check_error(a, "x=1&a=%zz&y=2&b=%q", "invalid URL escape \"%zz\"", 2);
    check_error(a, "query=up;x&time=4", "invalid semicolon separator in query",
                1);
    check_error(a, ";", "invalid semicolon separator in query", 0);
    /* The semicolon error wins over an earlier escape error (Go). */
    check_error(a, "a=%zz&b;", "invalid semicolon separator in query", 0);
    check_error(a, "b;&a=%zz", "invalid semicolon separator in query", 0);
    pvm_form f = PVM_FORM_INIT;
    assert_int_equal(pvm_form_parse(&f, a, "a=%zz&b=1", 9, NULL),
                     PVM_ERR_BAD_DATA);
    assert_string_equal(pvm_form_get(&f, "b"), "1");
}

static void test_repeated_and_merge(void **state)
{
    pvm_arena *a = *state;
    pvm_form query = parse_ok(a, "match%5B%5D=up&limit=5&match[]=down");
    pvm_form body = parse_ok(a, "match%5B%5D=body1&x=1&match%5B%5D=body2");
    assert_int_equal(pvm_form_count(&query, "match[]"), 2);
    assert_int_equal(pvm_form_count(&query, "nope"), 0);
    assert_null(pvm_form_get(&query, "nope"));
    pvm_form all;
    assert_int_equal(pvm_form_merge(&all, a, &body, &query), 0);
    assert_int_equal(all.n, 6);
    /* Body values come first, as in Go's Request.Form. */
    assert_string_equal(pvm_form_get(&all, "match[]"), "body1");
    assert_string_equal(pvm_form_get(&all, "limit"), "5");
    static const char *const want[] = {"body1", "body2", "up", "down"};
    size_t pos = 0, i = 0;
    const pvm_form_pair *p;
    while ((p = pvm_form_next(&all, "match[]", &pos)))
        assert_string_equal(p->value, want[i++]);
    assert_int_equal(i, 4);
    assert_int_equal(pvm_form_count(&all, "match[]"), 4);
    assert_int_equal(pvm_form_merge(&all, a, NULL, &query), 0);
    assert_int_equal(all.n, 3);
    assert_int_equal(pvm_form_merge(&all, a, NULL, NULL), 0);
    assert_int_equal(all.n, 0);
    assert_null(pvm_form_get(&all, "x"));
    /* Parsing twice into one form appends. */
    pvm_form f = PVM_FORM_INIT;
    assert_int_equal(pvm_form_parse(&f, a, "a=1", 3, NULL), 0);
    assert_int_equal(pvm_form_parse(&f, a, "a=2&b=3", 7, NULL), 0);
    assert_int_equal(f.n, 3);
    assert_int_equal(pvm_form_count(&f, "a"), 2);
}

static void test_large_input(void **state)
{
    pvm_arena *a = *state;
    size_t n = 1 << 20, len = 0;
    char *s = malloc(n + 64);
    while (len + 20 < n)
        len += (size_t)sprintf(s + len, "match%%5B%%5D=x%%2By&");
    len += (size_t)sprintf(s + len, "query=");
    size_t vstart = len;
    memset(s + len, 'q', 40);
    len += 40;
    pvm_form f = PVM_FORM_INIT;
    assert_int_equal(pvm_form_parse(&f, a, s, len, NULL), 0);
    size_t count = pvm_form_count(&f, "match[]");
    assert_int_equal(count, f.n - 1);
    assert_true(count > 50000);
    assert_string_equal(f.pairs[count - 1].value, "x+y");
    assert_mem_equal(pvm_form_get(&f, "query"), 40, s + vstart, 40);
    /* One 1 MB value. */
    memset(s, 'v', n);
    memcpy(s, "big=", 4);
    f = (pvm_form)PVM_FORM_INIT;
    assert_int_equal(pvm_form_parse(&f, a, s, n, NULL), 0);
    size_t vlen;
    pvm_form_get_n(&f, "big", &vlen);
    assert_int_equal(vlen, n - 4);
    free(s);
}

static void test_path_unescape(void **state)
{
    pvm_arena *a = *state;
    char *out;
    size_t n;
    pvm_error err = {0};
    assert_int_equal(pvm_path_unescape(a, "a+b%2Fc%20d", 11, &out, &n, &err),
                     0);
    assert_string_equal(out, "a+b/c d");
    assert_int_equal(n, 7);
    assert_int_equal(pvm_path_unescape(a, "%00", 3, &out, &n, &err), 0);
    assert_mem_equal(out, n, "\0", 1);
    assert_int_equal(pvm_path_unescape(a, "x%2", 3, &out, &n, &err),
                     PVM_ERR_BAD_DATA);
    assert_string_equal(err.msg, "invalid URL escape \"%2\"");
}

static void test_label_names(void **state)
{
    pvm_arena *a = *state;
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"type", "type"},
        {"U__type", "type"},
        {"U__my_2e_label", "my.label"},
        {"U__a__b", "a_b"},
        {"U___2e_", "."},
        {"U__http_3a__2f__2f_x", "http://x"},
        {"U___1f600_", "😀"},
        {"U___1F600_", "😀"},
        {"U___e9_t_e9_", "été"},
        {"U__", ""},
        /* Malformed: the name stays as it is. */
        {"U__a_", "U__a_"},
        {"U__a_2e", "U__a_2e"},
        {"U__a_zz_", "U__a_zz_"},
        {"U__a_d800_", "U__a_d800_"},
        {"U__a_10ffff_", "U__a_10ffff_"},
        {"U__a_0010ffff_", "U__a_0010ffff_"},
        {"U__a_110000_", "U__a_110000_"},
        {"U__a__", "a_"},
        {"U__a___", "U__a___"},
        {"u__a", "u__a"},
        {"U_a", "U_a"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *out;
        size_t n;
        assert_int_equal(pvm_label_name_unescape(a, cases[i].in,
                                                 strlen(cases[i].in), &out,
                                                 &n),
                         0);
        if (n != strlen(cases[i].out) || memcmp(out, cases[i].out, n) != 0)
            fail_msg("%s: got %.*s, want %s", cases[i].in, (int)n, out,
                     cases[i].out);
        assert_int_equal(out[n], '\0');
    }
    assert_true(pvm_label_name_is_valid("my.label", 8));
    assert_true(pvm_label_name_is_valid("été", strlen("été")));
    assert_false(pvm_label_name_is_valid("", 0));
    assert_false(pvm_label_name_is_valid("a\xff", 2));
    assert_false(pvm_label_name_is_valid("\xed\xa0\x80", 3));
    assert_true(pvm_label_name_is_legacy("_a1", 3));
    assert_false(pvm_label_name_is_legacy("1a", 2));
    assert_false(pvm_label_name_is_legacy("a.b", 3));
    assert_false(pvm_label_name_is_legacy("", 0));
}

/* UTF-8 validation (label names). */
static void test_api_helpers(void **state)
{
    (void)state;
    assert_true(pvm_is_valid_utf8("", 0));
    assert_true(pvm_is_valid_utf8("é😀", strlen("é😀")));
    assert_false(pvm_is_valid_utf8("\xc0\x80", 2));
    assert_false(pvm_is_valid_utf8("\xf4\x90\x80\x80", 4));
    assert_false(pvm_is_valid_utf8("\xe2\x82", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grafana, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_and_merge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_large_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_unescape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_helpers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
