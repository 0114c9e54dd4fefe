/* test_output.c: answers are never a 200 with a cut body. parse_query
 * answers the deepest expression the parser accepts (it answered 200 with
 * an empty body beyond 64 JSON levels), and a writer failure before the
 * first bytes leave answers an error envelope instead of the 200. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <pvm/testkit.h>

#include "apiutil.h"
#include "kitutil.h"

#include "json.h"
#include "output.h"
#include "ast.h"

extern const pvm_plugin_type pvm_plugin_example;

static const pvm_plugin_type *const table[] = {&pvm_plugin_example, NULL};

/* Parses a JSON text of any depth; NULL when invalid. */
static json_object *parse_deep(const char *s)
{
    json_tokener *tok = json_tokener_new_ex(4 * PVM_JSON_MAX_DEPTH);
    assert_non_null(tok);
    json_object *o = json_tokener_parse_ex(tok, s, -1);
    json_tokener_free(tok);
    return o;
}

/* Builds prefix*n + mid + suffix*n, URL-encoded by the caller's choice of
 * pieces (malloc; caller frees). */
static char *nested(const char *prefix, size_t n, const char *mid,
                    const char *suffix)
{
    size_t lp = strlen(prefix), lm = strlen(mid), ls = strlen(suffix);
    char *s = malloc(64 + n * (lp + ls) + lm);
    assert_non_null(s);
    size_t k = (size_t)sprintf(s, "/api/v1/parse_query?query=");
    for (size_t i = 0; i < n; i++, k += lp)
        memcpy(s + k, prefix, lp);
    memcpy(s + k, mid, lm);
    k += lm;
    for (size_t i = 0; i < n; i++, k += ls)
        memcpy(s + k, suffix, ls);
    s[k] = '\0';
    return s;
}

/* Every shape nested as deep as the parser allows answers 200 with the
 * whole AST: the JSON writer holds two levels per AST level. */
static void test_parse_query_deepest(void **state)
{
    (void)state;
    pvm_testkit *k = kit_or_fail("[server]\n[plugin:example]\n", table);
    static const struct {
        const char *prefix, *mid, *suffix;
        size_t n;
    } cases[] = {
        {"abs%28", "x", "%29", 998}, /* call: object + args array */
        {"%28", "1", "%29", 999},    /* parentheses */
        {"-", "x", "", 999},         /* unary minus */
        {"sum%28", "x", "%29", 998}, /* aggregations */
        {"", "x", "%2Bx", 999},      /* left-deep binary chain */
        {"max_over_time%28", "x", "%5B5m:%5D%29", 499}, /* subqueries */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *target = nested(cases[i].prefix, cases[i].n, cases[i].mid,
                              cases[i].suffix);
        pvm_test_response *r = pvm_testkit_request(k, "GET", target, NULL,
                                                   NULL);
        assert_non_null(r);
        if (r->status != 200)
            fail_msg("case %zu: %d %.200s", i, r->status, r->body);
        json_object *o = parse_deep(r->body);
        if (!o)
            fail_msg("case %zu: 200 with a body that is not JSON (%zu "
                     "bytes)",
                     i, strlen(r->body));
        json_object *st;
        assert_true(json_object_object_get_ex(o, "status", &st));
        assert_string_equal(json_object_get_string(st), "success");
        json_object_put(o);
        pvm_test_response_free(r);
        free(target);
    }
    /* one level more is the parser's 400, not a 200 */
    char *target = nested("abs%28", 1001, "x", "%29");
    pvm_test_response *r = pvm_testkit_request(k, "GET", target, NULL, NULL);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "\"errorType\":\"bad_data\""));
    pvm_test_response_free(r);
    free(target);
    pvm_testkit_free(k);
}

/* A tree deeper than the writer holds (built by hand: the parser would
 * refuse it) cannot be written: the answer is an error envelope, not a
 * 200 header block with an empty or cut body. */
static void test_writer_failure_is_an_error(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(0);
    size_t n = PVM_JSON_MAX_DEPTH + 10;
    pvm_expr *e = pvm_arena_calloc(a, n + 1, sizeof(*e));
    assert_non_null(e);
    for (size_t i = 0; i < n; i++) {
        e[i].kind = PVM_EXPR_PAREN;
        e[i].u.paren.expr = &e[i + 1];
    }
    e[n].kind = PVM_EXPR_NUMBER;
    e[n].u.number.value = 1;
    sink *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    pvm_http_out out = {sink_write, s, NULL};
    int status = pvm_output_ast(a, &out, e);
    assert_int_equal(status, 500);
    if (strncmp(s->buf, "Status: 500 ", 12) != 0)
        fail_msg("answered: %.200s", s->buf);
    assert_null(strstr(s->buf, "Status: 200"));
    const char *body = strstr(s->buf, "\r\n\r\n");
    assert_non_null(body);
    assert_string_equal(body + 4,
                        "{\"status\":\"error\",\"errorType\":\"internal\","
                        "\"error\":\"internal error: the answer could not "
                        "be written as JSON\"}");
    /* a tree it holds still answers 200 */
    s->len = 0;
    assert_int_equal(pvm_output_ast(a, &out, &e[n - 100]), 200);
    assert_int_equal(strncmp(s->buf, "Status: 200 ", 12), 0);
    free(s);
    pvm_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_query_deepest),
        cmocka_unit_test(test_writer_failure_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
