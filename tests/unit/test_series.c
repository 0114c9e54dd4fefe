/* test_series.c: label sets, the series store, and the per-response
 * cache of label arrays in front of it (response.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "labels.h"
#include "query_impl.h"
#include "response_impl.h"
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
    assert_ptr_equal(pvm_series_set_get(&s, l, 1, pvm_labels_hash(l, 1)), ser);
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
        pvm_series *ser = pvm_series_set_get(&s, l, 2, pvm_labels_hash(l, 2));
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


static void test_series_grows_in_place_when_last(void **state)
{
    pvm_series_set s;
    assert_int_equal(pvm_series_set_init(&s, *state), 0);
    pvm_label l1[] = {{"__name__", "a"}};
    pvm_label l2[] = {{"__name__", "b"}};
    pvm_series *a = pvm_series_set_get(&s, l1, 1, pvm_labels_hash(l1, 1));
    pvm_series *b = pvm_series_set_get(&s, l2, 1, pvm_labels_hash(l2, 1));
    /* one series after the other: each ends in a single chunk (while
     * the arena's block has room) */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pvm_series_append(&s, a, i, i), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pvm_series_append(&s, b, i, -i), 0);
    assert_ptr_equal(a->first, a->last);
    assert_ptr_equal(b->first, b->last);
    size_t n;
    const pvm_point *p = pvm_series_points(&s, a, &n);
    assert_ptr_equal(p, a->first->p); /* no copy */
    assert_int_equal(n, 1000);
    for (int i = 0; i < 1000; i++)
        assert_true(p[i].t == i && p[i].v == i);
    /* interleaved: chunks are chained, the points stay right */
    for (int i = 1000; i < 4000; i++) {
        assert_int_equal(pvm_series_append(&s, a, i, i), 0);
        assert_int_equal(pvm_series_append(&s, b, i, -i), 0);
    }
    assert_ptr_not_equal(b->first, b->last);
    p = pvm_series_points(&s, b, &n);
    assert_int_equal(n, 4000);
    for (int i = 0; i < 4000; i++)
        assert_true(p[i].t == i && p[i].v == -i);
}

static void test_arena_reset_reuses_blocks(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(1 << 20);
    for (int round = 0; round < 3; round++) {
        /* blocks kept by the reset count against the cap only when used */
        for (int i = 0; i < 12; i++)
            assert_non_null(pvm_arena_alloc(a, 60 * 1024));
        assert_true(pvm_arena_used(a) <= 1 << 20);
        unsigned char *p = pvm_arena_calloc(a, 1, 1000);
        assert_non_null(p);
        for (int i = 0; i < 1000; i++)
            assert_int_equal(p[i], 0);
        pvm_arena_reset(a);
        assert_int_equal(pvm_arena_used(a), 0);
    }
    /* a request bigger than what was kept still works, up to the cap */
    assert_non_null(pvm_arena_alloc(a, 900 * 1024));
    assert_null(pvm_arena_alloc(a, 200 * 1024));
    assert_true(pvm_arena_is_exhausted(a));
    pvm_arena_reset(a);
    assert_false(pvm_arena_is_exhausted(a));
    pvm_arena_free(a);
}

/* ---- the response's cache of label arrays ---- */

/* A MATRIX response to a request whose query is text, in arena a. */
static pvm_response *matrix_response(pvm_arena *a, const char *text,
                                     size_t max_samples)
{
    pvm_request *req = pvm_arena_calloc(a, 1, sizeof(*req));
    pvm_error err = {0};
    assert_non_null(req);
    req->arena = a;
    req->type = PVM_REQUEST_RANGE;
    req->query = pvm_query_parse(a, text, &err);
    assert_non_null(req->query);
    pvm_response *r = pvm_response_new(req, PVM_RESPONSE_MATRIX, max_samples);
    assert_non_null(r);
    return r;
}

/* The series of r with label l=v (after pvm_series_set_finish). */
static const pvm_series *series_with(pvm_response *r, const char *l,
                                     const char *v)
{
    for (size_t i = 0; i < r->series.n; i++) {
        const char *x = pvm_labels_get(r->series.list[i]->labels,
                                       r->series.list[i]->nlabels, l);
        if (x && strcmp(x, v) == 0)
            return r->series.list[i];
    }
    return NULL;
}

static void test_sample_cache_hits_and_misses(void **state)
{
    pvm_response *r = matrix_response(*state, "m", 0);
    char buf[8] = "x"; /* one buffer, rewritten: same pointers */
    pvm_label l[] = {{"a", "1"}, {"b", buf}};
    assert_int_equal(pvm_response_add_sample(r, "m", 1, 0, l, 2), 1);
    assert_int_equal(r->keys.n, 1);
    assert_int_equal(pvm_response_add_sample(r, "m", 2, 1, l, 2), 1);
    assert_int_equal(r->keys.n, 1); /* a hit */
    strcpy(buf, "y");               /* differs in one value only */
    assert_int_equal(pvm_response_add_sample(r, "m", 3, 0, l, 2), 1);
    assert_int_equal(r->keys.n, 2);
    assert_int_equal(r->series.n, 2);
    strcpy(buf, "x");
    pvm_label swapped[] = {{"b", "x"}, {"a", "1"}};
    assert_int_equal(pvm_response_add_sample(r, "m", 4, 2, swapped, 2), 1);
    pvm_label empty[] = {{"a", "1"}, {"b", "x"}, {"c", ""}};
    assert_int_equal(pvm_response_add_sample(r, "m", 5, 3, empty, 3), 1);
    pvm_label null_value[] = {{"a", "1"}, {"b", "x"}, {"c", NULL}};
    assert_int_equal(pvm_response_add_sample(r, "m", 6, 4, null_value, 3), 1);
    /* other order, empty and NULL values: their own keys, the same series */
    assert_int_equal(r->keys.n, 4);
    assert_int_equal(r->series.n, 2);
    /* another name with the same labels: another series */
    assert_int_equal(pvm_response_add_sample(r, "n", 7, 0, l, 2), 0);
    assert_int_equal(r->series.n, 2); /* the query wants m only */
    assert_int_equal(r->keys.n, 5);
    assert_int_equal(r->keys.nrejected, 1);
    assert_int_equal(pvm_response_add_sample(r, "n", 7, 1, l, 2), 0);
    assert_int_equal(r->keys.n, 5); /* the rejection was remembered */
    assert_int_equal(pvm_series_set_finish(&r->series), 0);
    const pvm_series *x = series_with(r, "b", "x");
    const pvm_series *y = series_with(r, "b", "y");
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(x->npoints, 5);
    assert_int_equal(y->npoints, 1);
    static const double want[] = {1, 2, 4, 5, 6};
    size_t n;
    const pvm_point *p = pvm_series_points(&r->series, x, &n);
    for (size_t i = 0; i < n; i++)
        assert_true(p[i].t == (int64_t)i && p[i].v == want[i]);
}

static void test_sample_cache_follows_a_cycle(void **state)
{
    /* time-major: the same 5 series at each timestamp, in a fixed order */
    pvm_response *r = matrix_response(*state, "m{i!=\"3\"}", 0);
    static const char *const ids[] = {"0", "1", "2", "3", "4"};
    for (int t = 0; t < 100; t++)
        for (int i = 0; i < 5; i++) {
            pvm_label l[] = {{"i", ids[i]}};
            assert_int_equal(pvm_response_add_sample(r, "m", t * 10 + i, t, l,
                                                     1),
                             i == 3 ? 0 : 1);
        }
    assert_int_equal(r->keys.n, 5);
    assert_int_equal(r->series.n, 4);
    assert_int_equal(r->nresults, 400);
    /* each key predicts the next */
    for (size_t b = 0; b < r->keys.nbuckets; b++)
        for (const pvm_series_ref *k = r->keys.buckets[b]; k; k = k->next) {
            int i = atoi(k->labels[0].value);
            assert_string_equal(k->follow->labels[0].value, ids[(i + 1) % 5]);
        }
    assert_int_equal(pvm_series_set_finish(&r->series), 0);
    const pvm_series *s2 = series_with(r, "i", "2");
    size_t n;
    const pvm_point *p = pvm_series_points(&r->series, s2, &n);
    assert_int_equal(n, 100);
    assert_true(p[99].t == 99 && p[99].v == 992);
}

static void test_find_series_and_add_point(void **state)
{
    pvm_response *r = matrix_response(*state, "m{a=\"1\"}", 3);
    pvm_label l[] = {{"a", "1"}};
    pvm_label other[] = {{"a", "2"}};
    pvm_series_ref *s = NULL, *t = NULL, *u = NULL;
    assert_int_equal(pvm_response_find_series(r, "m", l, 1, 0, &s), 1);
    assert_non_null(s);
    assert_int_equal(pvm_response_find_series(r, "m", other, 1, 0, &t), 0);
    assert_null(t);
    assert_int_equal(pvm_response_find_series(r, "m", other, 1,
                                              PVM_SAMPLE_SKIP_QUERY_CHECK, &u),
                     1);
    assert_non_null(u);
    /* the same series through add_sample */
    assert_int_equal(pvm_response_add_sample(r, "m", 1, 0, l, 1), 1);
    assert_int_equal(pvm_response_add_point(r, s, 1, 2), 1);
    assert_int_equal(pvm_response_add_point(r, u, 0, 9), 1);
    assert_int_equal(r->series.n, 2);
    /* the sample limit (3) applies to points too */
    assert_int_equal(pvm_response_add_point(r, s, 2, 3), PVM_ERR_EXECUTION);
    assert_true(pvm_response_has_error(r));
    const pvm_series *x = series_with(r, "a", "1");
    assert_int_equal(x->npoints, 2);
    /* not a handle of this response */
    assert_true(pvm_response_add_point(r, NULL, 0, 0) < 0);
    pvm_response *r2 = matrix_response(*state, "m", 0);
    assert_true(pvm_response_add_point(r2, s, 0, 0) < 0);
    assert_non_null(pvm_response_take_failure(r2));
    /* invalid labels fail like add_sample */
    pvm_label dup[] = {{"a", "1"}, {"a", "1"}};
    assert_true(pvm_response_find_series(r2, "m", dup, 2, 0, &t) < 0);
    assert_null(t);
    assert_non_null(strstr(pvm_response_take_failure(r2), "duplicate"));
    pvm_label noname[] = {{NULL, "1"}};
    assert_true(pvm_response_find_series(r2, "m", noname, 1, 0, &t) < 0);
    assert_true(pvm_response_add_sample(r2, "m", 0, 0, noname, 1) < 0);
}

/* A slice added at once: the same points as one append each, one
 * contiguous array when the series is the arena's newest, out-of-order
 * slices marked for sorting; add_points checks its handle and the sample
 * limit (all or nothing). */
static void test_append_many(void **state)
{
    pvm_series_set s;
    assert_int_equal(pvm_series_set_init(&s, *state), 0);
    pvm_label l1[] = {{"__name__", "a"}};
    pvm_label l2[] = {{"__name__", "b"}};
    pvm_series *a = pvm_series_set_get(&s, l1, 1, pvm_labels_hash(l1, 1));
    pvm_series *b = pvm_series_set_get(&s, l2, 1, pvm_labels_hash(l2, 1));
    static int64_t t[1500];
    static double v[1500];
    for (int i = 0; i < 1500; i++) {
        t[i] = 11500 * (int64_t)i;
        v[i] = i * 0.5;
    }
    assert_int_equal(pvm_series_append_many(&s, a, t, v, 1000), 0);
    assert_int_equal(pvm_series_append_many(&s, a, t + 1000, v + 1000, 500),
                     0);
    assert_ptr_equal(a->first, a->last);
    assert_false(a->unsorted);
    for (int i = 0; i < 1500; i++)
        assert_int_equal(pvm_series_append(&s, b, t[i], v[i]), 0);
    size_t na, nb;
    const pvm_point *pa = pvm_series_points(&s, a, &na);
    const pvm_point *pb = pvm_series_points(&s, b, &nb);
    assert_int_equal(na, 1500);
    assert_int_equal(nb, 1500);
    assert_memory_equal(pa, pb, 1500 * sizeof(*pa));
    assert_int_equal(s.npoints, 3000);
    /* a slice starting before the last point, or unsorted inside */
    assert_int_equal(pvm_series_append_many(&s, a, t, v, 1), 0);
    assert_true(a->unsorted);
    int64_t bad[] = {1, 3, 2};
    pvm_series *c = pvm_series_set_get(&s, l1, 0, pvm_labels_hash(l1, 0));
    assert_int_equal(pvm_series_append_many(&s, c, bad, v, 3), 0);
    assert_true(c->unsorted);

    pvm_response *r = matrix_response(*state, "m", 4);
    pvm_label l[] = {{"a", "1"}};
    pvm_series_ref *ref = NULL;
    assert_int_equal(pvm_response_find_series(r, "m", l, 1, 0, &ref), 1);
    assert_int_equal(pvm_response_add_points(r, ref, t, v, 0), 0);
    assert_int_equal(pvm_response_add_points(r, ref, t, v, 3), 1);
    assert_int_equal(pvm_response_result_count(r), 3);
    assert_int_equal(pvm_response_add_points(r, ref, t + 3, v + 3, 2),
                     PVM_ERR_EXECUTION);
    assert_int_equal(series_with(r, "a", "1")->npoints, 3);
    pvm_response *r2 = matrix_response(*state, "m", 0);
    assert_true(pvm_response_add_points(r2, ref, t, v, 1) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_sorts_and_adds_name),
        cmocka_unit_test(test_normalize_rejects_bad_labels),
        cmocka_unit_test(test_compare_like_prometheus),
        cmocka_unit_test_setup_teardown(test_series_append_and_iterate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_series_sort_and_dedupe_keeps_last,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_sorted_by_labels, setup,
                                        teardown),
        cmocka_unit_test(test_arena_cap_fails_cleanly),
        cmocka_unit_test_setup_teardown(test_series_grows_in_place_when_last,
                                        setup, teardown),
        cmocka_unit_test(test_arena_reset_reuses_blocks),
        cmocka_unit_test_setup_teardown(test_sample_cache_hits_and_misses,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_cache_follows_a_cycle,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_series_and_add_point, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_append_many, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
