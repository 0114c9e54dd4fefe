/* test_series.c: label sets and the series store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "labels.h"
#include "series.h"

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

static void test_normalize_sorts_and_adds_name(void **state)
{
    (void)state;
    pvm_label in[] = {{"type", "sine"}, {"amplitude", "1"}, {"empty", ""}};
    pvm_label out[PVM_MAX_LABELS + 1];
    size_t n;
    assert_int_equal(pvm_labels_normalize("m", in, 3, out, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].name, "__name__");
    assert_string_equal(out[0].value, "m");
    assert_string_equal(out[1].name, "amplitude");
    assert_string_equal(out[2].name, "type");
}

static void test_normalize_rejects_bad_labels(void **state)
{
    (void)state;
    pvm_label out[PVM_MAX_LABELS + 1];
    size_t n;
    pvm_error err = {0};
    pvm_label dup[] = {{"a", "1"}, {"a", "2"}};
    assert_int_equal(pvm_labels_normalize("m", dup, 2, out, &n, &err),
                     PVM_ERR_BAD_DATA);
    assert_non_null(strstr(err.msg, "duplicate label name \"a\""));
    pvm_label name[] = {{"__name__", "x"}};
    assert_int_equal(pvm_labels_normalize("m", name, 1, out, &n, &err),
                     PVM_ERR_BAD_DATA);
    pvm_label empty[] = {{"", "x"}};
    assert_int_equal(pvm_labels_normalize("m", empty, 1, out, &n, &err),
                     PVM_ERR_BAD_DATA);
}

static void test_compare_like_prometheus(void **state)
{
    (void)state;
    pvm_label a[] = {{"a", "1"}, {"b", "2"}};
    pvm_label b[] = {{"a", "1"}, {"b", "3"}};
    pvm_label c[] = {{"a", "1"}};
    assert_true(pvm_labels_compare(a, 2, b, 2) < 0);
    assert_true(pvm_labels_compare(b, 2, a, 2) > 0);
    assert_true(pvm_labels_compare(c, 1, a, 2) < 0);
    assert_int_equal(pvm_labels_compare(a, 2, a, 2), 0);
    assert_true(pvm_labels_equal(a, 2, a, 2));
    assert_false(pvm_labels_equal(a, 2, b, 2));
    assert_int_not_equal(pvm_labels_hash(a, 2), pvm_labels_hash(b, 2));
}

static void test_series_append_and_iterate(void **state)
{
    pvm_series_set s;
    assert_int_equal(pvm_series_set_init(&s, *state), 0);
    pvm_label l[] = {{"__name__", "m"}};
    pvm_series *ser = pvm_series_set_get(&s, l, 1, pvm_labels_hash(l, 1));
    assert_non_null(ser);
    /* enough points to span several chunks */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(pvm_series_append(&s, ser, i * 1000, i), 0);
    assert_ptr_equal(pvm_series_set_get(&s, l, 1, pvm_labels_hash(l, 1)),
                     ser);
    assert_int_equal(s.n, 1);
    assert_int_equal(pvm_series_set_finish(&s), 0);
    pvm_point_iter it;
    pvm_point_iter_init(&it, ser);
    const pvm_point *p;
    int k = 0;
    while ((p = pvm_point_iter_next(&it))) {
        assert_int_equal(p->t, (int64_t)k * 1000);
        k++;
    }
    assert_int_equal(k, 10000);
    size_t n;
    const pvm_point *flat = pvm_series_points(&s, ser, &n);
    assert_int_equal(n, 10000);
    assert_int_equal(flat[9999].t, 9999000);
}

static void test_series_sort_and_dedupe_keeps_last(void **state)
{
    pvm_series_set s;
    assert_int_equal(pvm_series_set_init(&s, *state), 0);
    pvm_label l[] = {{"__name__", "m"}};
    pvm_series *ser = pvm_series_set_get(&s, l, 1, pvm_labels_hash(l, 1));
    pvm_series_append(&s, ser, 3000, 3);
    pvm_series_append(&s, ser, 1000, 1);
    pvm_series_append(&s, ser, 2000, 2);
    pvm_series_append(&s, ser, 1000, 11); /* duplicate, added last */
    assert_int_equal(pvm_series_set_finish(&s), 1);
    size_t n;
    const pvm_point *p = pvm_series_points(&s, ser, &n);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].t, 1000);
    assert_true(p[0].v == 11);
    assert_int_equal(p[1].t, 2000);
    assert_int_equal(p[2].t, 3000);
}

static void test_series_sorted_by_labels(void **state)
{
    pvm_series_set s;
    assert_int_equal(pvm_series_set_init(&s, *state), 0);
    /* many series: forces hash table growth */
    char names[200][8];
    for (int i = 199; i >= 0; i--) {
        snprintf(names[i], sizeof(names[i]), "v%03d", i);
        pvm_label l[] = {{"__name__", "m"}, {"k", names[i]}};
        pvm_series *ser =
            pvm_series_set_get(&s, l, 2, pvm_labels_hash(l, 2));
        assert_non_null(ser);
        pvm_series_append(&s, ser, 0, i);
    }
    assert_int_equal(s.n, 200);
    pvm_series_set_finish(&s);
    for (int i = 0; i < 200; i++)
        assert_string_equal(s.list[i]->labels[1].value, names[i]);
}

static void test_arena_cap_fails_cleanly(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(128 * 1024);
    pvm_series_set s;
    assert_int_equal(pvm_series_set_init(&s, a), 0);
    pvm_label l[] = {{"__name__", "m"}};
    pvm_series *ser = pvm_series_set_get(&s, l, 1, pvm_labels_hash(l, 1));
    int rc = 0;
    for (int i = 0; i < 100000 && rc == 0; i++)
        rc = pvm_series_append(&s, ser, i, i);
    assert_int_equal(rc, PVM_ERR_NOMEM);
    assert_true(pvm_arena_is_exhausted(a));
    assert_true(pvm_arena_used(a) <= 128 * 1024);
    pvm_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_sorts_and_adds_name),
        cmocka_unit_test(test_normalize_rejects_bad_labels),
        cmocka_unit_test(test_compare_like_prometheus),
        cmocka_unit_test_setup_teardown(test_series_append_and_iterate,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_sort_and_dedupe_keeps_last,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_sorted_by_labels, setup,
                                        teardown),
        cmocka_unit_test(test_arena_cap_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
