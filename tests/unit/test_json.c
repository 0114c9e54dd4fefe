/* test_json.c: the streaming JSON writer: escaping, commas and nesting,
 * buffer boundaries, sink errors, integers against printf; every document
 * must parse with json-c. The float and timestamp text is tested in
 * test_json_float.c (test_json.h), linked into the same program. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "json.h"
#include "json_ref.h"
#include "test_json.h"
#include "testutil.h"

/* Sink collecting output in a malloc'd buffer; can fail after `fail_after`
 * bytes. */
typedef struct sink {
    char *data;       /* collected output, NUL-terminated */
    size_t len;       /* bytes collected */
    size_t cap;       /* bytes allocated */
    size_t calls;     /* sink calls */
    size_t max_chunk; /* largest chunk seen */
    long fail_after;  /* fail once len would exceed this (-1: never) */
} sink;

static int sink_fn(void *ctx, const char *buf, size_t len)
{
    sink *s = ctx;
    s->calls++;
    if (len > s->max_chunk)
        s->max_chunk = len;
    if (s->fail_after >= 0 && s->len + len > (size_t)s->fail_after)
        return PVM_ERR_CANCELED;
    if (s->len + len + 1 > s->cap) {
        s->cap = (s->len + len + 1) * 2;
        s->data = realloc(s->data, s->cap);
        assert_non_null(s->data);
    }
    memcpy(s->data + s->len, buf, len);
    s->len += len;
    s->data[s->len] = '\0';
    return 0;
}

typedef struct fixture {
    pvm_arena *arena; /* per-test arena */
    sink out;         /* collected output */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->arena = pvm_arena_new(0);
    f->out.fail_after = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pvm_arena_free(f->arena);
    free(f->out.data);
    free(f);
    return 0;
}

static pvm_json *writer(fixture *f, size_t bufsize)
{
    free(f->out.data);
    memset(&f->out, 0, sizeof(f->out));
    f->out.fail_after = -1;
    pvm_json *j = pvm_json_new(f->arena, bufsize, sink_fn, &f->out);
    assert_non_null(j);
    return j;
}

/* Flushes j and checks the output equals want and parses with json-c. */
static void expect_output(fixture *f, pvm_json *j, const char *want)
{
    assert_int_equal(pvm_json_flush(j), 0);
    assert_non_null(f->out.data);
    assert_string_equal(f->out.data, want);
    assert_int_equal(pvm_json_bytes(j), strlen(want));
    json_tokener *tok = json_tokener_new_ex(PVM_JSON_MAX_DEPTH + 1);
    json_object *o = json_tokener_parse_ex(tok, f->out.data, -1);
    if (!o)
        fail_msg("json-c cannot parse: %s", f->out.data);
    json_object_put(o);
    json_tokener_free(tok);
}

/* pvm_json_int64 writes what printf("%lld") does: powers of ten and their
 * neighbours, both extremes, random values of every length. */
static void test_int64_vs_printf(void **state)
{
    fixture *f = *state;
    pvm_json *j = writer(f, 0);
    char *want = malloc(64 * 1024), *w = want;
    assert_non_null(want);
    pvm_json_begin_array(j);
    w += sprintf(w, "[");
    for (int i = 0; i < 1000; i++) {
        int64_t v;
        if (i < 19 * 6) {
            int64_t p = 1;
            for (int k = 0; k < i / 6; k++)
                p *= 10;
            v = (i % 2 ? -1 : 1) * (p + (int64_t)(i % 3) - 1);
        } else if (i < 19 * 6 + 4) {
            static const int64_t ext[] = {INT64_MAX, INT64_MIN, 0,
                                          INT64_MIN + 1};
            v = ext[i - 19 * 6];
        } else {
            uint64_t r = rng();
            v = (int64_t)(r >> (r % 64));
        }
        pvm_json_int64(j, v);
        w += sprintf(w, "%s%lld", i ? "," : "", (long long)v);
    }
    pvm_json_end_array(j);
    sprintf(w, "]");
    expect_output(f, j, want);
    free(want);
}

/* The shape of a Prometheus query response. */
static void test_document(void **state)
{
    fixture *f = *state;
    pvm_json *j = writer(f, 0);
    pvm_json_begin_object(j);
    pvm_json_key(j, "status");
    pvm_json_string(j, "success");
    pvm_json_key(j, "data");
    pvm_json_begin_object(j);
    pvm_json_key(j, "resultType");
    pvm_json_string(j, "matrix");
    pvm_json_key(j, "result");
    pvm_json_begin_array(j);
    pvm_json_begin_object(j);
    pvm_json_key(j, "metric");
    pvm_json_begin_object(j);
    pvm_json_key(j, "type");
    pvm_json_string(j, "a");
    pvm_json_end_object(j);
    pvm_json_key(j, "values");
    pvm_json_begin_array(j);
    for (int i = 0; i < 2; i++) {
        pvm_json_begin_array(j);
        pvm_json_timestamp(j, 1732476600000 + i * 15000);
        pvm_json_float(j, i ? NAN : 0.25);
        pvm_json_end_array(j);
    }
    pvm_json_end_array(j);
    pvm_json_end_object(j);
    pvm_json_end_array(j);
    pvm_json_end_object(j);
    pvm_json_key(j, "warnings");
    pvm_json_begin_array(j);
    pvm_json_end_array(j);
    pvm_json_key(j, "n");
    pvm_json_int64(j, -42);
    pvm_json_key(j, "t");
    pvm_json_bool(j, true);
    pvm_json_key(j, "f");
    pvm_json_bool(j, false);
    pvm_json_key(j, "z");
    pvm_json_null(j);
    pvm_json_key(j, "raw");
    pvm_json_raw(j, "{\"x\":[1,2]}", 11);
    pvm_json_key(j, "big");
    pvm_json_int64(j, INT64_MIN);
    assert_int_equal(pvm_json_depth(j), 1);
    assert_int_equal(pvm_json_end_object(j), 0);
    assert_int_equal(pvm_json_depth(j), 0);
    expect_output(
        f, j,
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
        "\"result\":[{\"metric\":{\"type\":\"a\"},\"values\":[[1732476600,"
        "\"0.25\"],[1732476615,\"NaN\"]]}]},\"warnings\":[],\"n\":-42,"
        "\"t\":true,\"f\":false,\"z\":null,\"raw\":{\"x\":[1,2]},"
        "\"big\":-9223372036854775808}");
    assert_int_equal(f->out.calls, 1);
}

static void test_empty_containers(void **state)
{
    fixture *f = *state;
    pvm_json *j = writer(f, 0);
    pvm_json_begin_array(j);
    pvm_json_begin_object(j);
    pvm_json_end_object(j);
    pvm_json_begin_array(j);
    pvm_json_end_array(j);
    pvm_json_float(j, -0.0);
    pvm_json_float(j, INFINITY);
    pvm_json_float(j, -INFINITY);
    pvm_json_float(j, 1e-7);
    pvm_json_timestamp(j, -1500);
    pvm_json_string_n(j, "", 0);
    pvm_json_end_array(j);
    expect_output(f, j,
                  "[{},[],\"-0\",\"+Inf\",\"-Inf\",\"1e-07\",-1.500,\"\"]");
}

static void test_escaping(void **state)
{
    fixture *f = *state;
    pvm_json *j = writer(f, 0);
    static const char in[] = "q\"b\\n\nr\rt\tbs\bff\fnul\0x\x01\x1f\x7f"
                             "<a>&é€😀\xe2\x80\xa8\xe2\x80\xa9"
                             "bad\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80"
                             "\xe2\x82";
    pvm_json_begin_object(j);
    pvm_json_key_n(j, "k\"<\0", 4);
    pvm_json_string_n(j, in, sizeof(in) - 1);
    pvm_json_end_object(j);
    expect_output(f, j,
                  "{\"k\\\"\\u003c\\u0000\":\"q\\\"b\\\\n\\nr\\rt\\tbs"
                  "\\u0008ff\\u000cnul\\u0000x\\u0001\\u001f\x7f"
                  "\\u003ca\\u003e\\u0026é€😀\\u2028\\u2029"
                  "bad\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
                  "\\ufffd\\ufffd\\ufffd\\ufffd\"}");
    /* json-c decodes it back: valid UTF-8 survives, NUL included. */
    json_object *o = json_tokener_parse(f->out.data);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "k\"<", &v) ||
                json_object_object_length(o) == 1);
    json_object_put(o);
}

static void test_misuse(void **state)
{
    fixture *f = *state;
    pvm_json *j = writer(f, 0);
    pvm_json_begin_object(j);
    assert_int_equal(pvm_json_string(j, "no key"), PVM_ERR_INTERNAL);
    assert_int_equal(pvm_json_error(j), PVM_ERR_INTERNAL);
    assert_int_equal(pvm_json_end_object(j), PVM_ERR_INTERNAL);
    assert_int_equal(pvm_json_flush(j), PVM_ERR_INTERNAL);

    j = writer(f, 0);
    pvm_json_begin_array(j);
    assert_int_equal(pvm_json_key(j, "k"), PVM_ERR_INTERNAL);

    j = writer(f, 0);
    pvm_json_begin_array(j);
    assert_int_equal(pvm_json_end_object(j), PVM_ERR_INTERNAL);

    j = writer(f, 0);
    assert_int_equal(pvm_json_end_array(j), PVM_ERR_INTERNAL);

    j = writer(f, 0);
    pvm_json_begin_object(j);
    pvm_json_key(j, "k");
    assert_int_equal(pvm_json_key(j, "k2"), PVM_ERR_INTERNAL);

    j = writer(f, 0);
    pvm_json_begin_object(j);
    pvm_json_key(j, "k");
    assert_int_equal(pvm_json_end_object(j), PVM_ERR_INTERNAL);
}

static void test_depth(void **state)
{
    fixture *f = *state;
    pvm_json *j = writer(f, 0);
    for (int i = 0; i < PVM_JSON_MAX_DEPTH; i++)
        assert_int_equal(pvm_json_begin_array(j), 0);
    assert_int_equal(pvm_json_depth(j), PVM_JSON_MAX_DEPTH);
    assert_int_equal(pvm_json_begin_array(j), PVM_ERR_INTERNAL);
    assert_int_equal(pvm_json_int64(j, 1), PVM_ERR_INTERNAL);

    j = writer(f, 0);
    char want[2 * PVM_JSON_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < PVM_JSON_MAX_DEPTH; i++) {
        pvm_json_begin_array(j);
        want[n++] = '[';
    }
    pvm_json_int64(j, 7);
    want[n++] = '7';
    for (int i = 0; i < PVM_JSON_MAX_DEPTH; i++) {
        pvm_json_end_array(j);
        want[n++] = ']';
    }
    want[n] = '\0';
    expect_output(f, j, want);
}

/* The same document through buffers of many sizes, including strings
 * longer than the buffer and escapes split across flushes. */
static void test_buffer_boundaries(void **state)
{
    fixture *f = *state;
    size_t big = 200000;
    char *s = malloc(big);
    for (size_t i = 0; i < big; i++)
        s[i] = "ab<\n\xc3\xa9"[i % 6];
    char *expected = NULL;
    static const size_t sizes[] = {1, 2, 3, 5, 7, 64, 4096, 65536, 0};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        pvm_json *j = writer(f, sizes[k]);
        pvm_json_begin_array(j);
        pvm_json_string_n(j, s, big);
        for (int i = 0; i < 1000; i++) {
            pvm_json_float(j, i / 7.0);
            pvm_json_timestamp(j, i * 1001);
        }
        pvm_json_string(j, "end");
        pvm_json_end_array(j);
        assert_int_equal(pvm_json_flush(j), 0);
        if (sizes[k] && sizes[k] < big)
            assert_true(f->out.calls > 1);
        if (sizes[k] >= 64) /* smaller buffers pass long tokens through */
            assert_true(f->out.max_chunk <= sizes[k]);
        if (!expected) {
            expected = strdup(f->out.data);
            json_object *o = json_tokener_parse(expected);
            assert_non_null(o);
            assert_int_equal(json_object_array_length(o), 2002);
            const char *str = json_object_get_string(
                json_object_array_get_idx(o, 0));
            assert_memory_equal(str, s, big);
            json_object_put(o);
        } else {
            assert_string_equal(f->out.data, expected);
        }
        assert_int_equal(pvm_json_bytes(j), strlen(expected));
    }
    free(expected);
    free(s);
}

static void test_sink_error(void **state)
{
    fixture *f = *state;
    for (long limit = 0; limit < 40; limit += 3) {
        pvm_json *j = writer(f, 8);
        f->out.fail_after = limit;
        int rc = 0;
        pvm_json_begin_array(j);
        for (int i = 0; i < 20 && rc == 0; i++)
            rc = pvm_json_string(j, "abcdef");
        if (rc == 0)
            rc = pvm_json_flush(j);
        assert_int_equal(rc, PVM_ERR_CANCELED);
        /* Sticky: later calls keep failing and write nothing. */
        size_t calls = f->out.calls;
        assert_int_equal(pvm_json_string(j, "more"), PVM_ERR_CANCELED);
        assert_int_equal(pvm_json_end_array(j), PVM_ERR_CANCELED);
        assert_int_equal(pvm_json_flush(j), PVM_ERR_CANCELED);
        assert_int_equal(pvm_json_error(j), PVM_ERR_CANCELED);
        assert_int_equal(f->out.calls, calls);
        assert_true(f->out.len <= (size_t)limit);
    }
}

/* Every float case also makes a valid JSON document that json-c reads
 * back as the same string, and strtod reads as the same number. */
static void test_float_documents(void **state)
{
    fixture *f = *state;
    pvm_json *j = writer(f, 0);
    pvm_json_begin_array(j);
    size_t n = nfloat_cases;
    for (size_t i = 0; i < n; i++)
        pvm_json_float(j, float_cases[i].v);
    pvm_json_end_array(j);
    assert_int_equal(pvm_json_flush(j), 0);
    json_object *o = json_tokener_parse(f->out.data);
    assert_non_null(o);
    assert_int_equal(json_object_array_length(o), n);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_object_get_string(
            json_object_array_get_idx(o, i));
        assert_string_equal(s, float_cases[i].want);
        double back = strcmp(s, "+Inf") == 0 ? INFINITY : strtod(s, NULL);
        assert_double_same(back, float_cases[i].v);
    }
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_float_table),
        cmocka_unit_test(test_format_float_random),
        cmocka_unit_test(test_format_timestamp),
        cmocka_unit_test(test_format_float_vs_reference_table),
        cmocka_unit_test(test_format_float_vs_reference_edges),
        cmocka_unit_test(test_format_float_vs_reference_random),
        cmocka_unit_test(test_format_timestamp_vs_reference),
        cmocka_unit_test_setup_teardown(test_int64_vs_printf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_containers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_boundaries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sink_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_float_documents, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
