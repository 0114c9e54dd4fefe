/* test_hashmap.c: base/hashmap: byte keys (empty, with NUL bytes,
 * colliding prefixes), growth past many doublings, structured keys with
 * the caller's hash and equality, and the arena cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/hashmap.h>

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

static void test_bytes(void **state)
{
    pvm_hashmap m;
    assert_int_equal(pvm_hashmap_init(&m, *state, 0), 0);
    bool added;
    pvm_hashmap_slot *s = pvm_hashmap_put(&m, "", 0, &added);
    assert_non_null(s);
    assert_true(added);
    s->value = "empty";
    s = pvm_hashmap_put(&m, "a\0b", 3, &added);
    assert_true(added);
    s->value = "a0b";
    s = pvm_hashmap_put(&m, "a", 1, &added);
    assert_true(added);
    s->value = "a";
    s = pvm_hashmap_put(&m, "a\0b", 3, &added);
    assert_false(added);
    assert_string_equal(s->value, "a0b");
    assert_string_equal(pvm_hashmap_get(&m, NULL, 0)->value, "empty");
    assert_string_equal(pvm_hashmap_get(&m, "a", 1)->value, "a");
    assert_null(pvm_hashmap_get(&m, "a\0", 2));
    assert_null(pvm_hashmap_get(&m, "b", 1));
    assert_int_equal(m.n, 3);
}

static void test_growth(void **state)
{
    enum { N = 20000 };
    static char keys[N][12];
    pvm_hashmap m;
    assert_int_equal(pvm_hashmap_init(&m, *state, 1), 0);
    for (size_t i = 0; i < N; i++) {
        int n = snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        bool added;
        pvm_hashmap_slot *s = pvm_hashmap_put(&m, keys[i], (size_t)n, &added);
        assert_non_null(s);
        assert_true(added);
        s->value = keys[i];
    }
    assert_int_equal(m.n, N);
    assert_true(m.cap >= 2 * N);
    for (size_t i = 0; i < N; i++) {
        pvm_hashmap_slot *s = pvm_hashmap_get(&m, keys[i], strlen(keys[i]));
        assert_non_null(s);
        assert_ptr_equal(s->value, keys[i]);
    }
}

typedef struct pair {
    int a, b;
} pair;

static bool pair_eq(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    return p->a == q->a && p->b == q->b;
}

/* Every key hashes alike: equality alone tells them apart. */
static void test_hashed(void **state)
{
    static pair keys[64];
    pvm_hashmap m;
    assert_int_equal(pvm_hashmap_init(&m, *state, 4), 0);
    for (int i = 0; i < 64; i++) {
        keys[i] = (pair){i / 8, i % 8};
        bool added;
        pvm_hashmap_slot *s = pvm_hashmap_put_hashed(&m, 42, &keys[i], pair_eq,
                                                     &added);
        assert_true(added);
        s->value = &keys[i];
    }
    pair probe = {3, 5};
    pvm_hashmap_slot *s = pvm_hashmap_get_hashed(&m, 42, &probe, pair_eq);
    assert_non_null(s);
    assert_ptr_equal(s->value, &keys[29]);
    bool added;
    assert_non_null(pvm_hashmap_put_hashed(&m, 42, &probe, pair_eq, &added));
    assert_false(added);
    probe.a = 9;
    assert_null(pvm_hashmap_get_hashed(&m, 42, &probe, pair_eq));
}

/* Growth that the arena cannot pay for fails cleanly. */
static void test_arena_cap(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(16 * 1024);
    assert_non_null(a);
    pvm_hashmap m;
    assert_int_equal(pvm_hashmap_init(&m, a, 0), 0);
    static char keys[4096][8];
    size_t i = 0;
    for (; i < 4096; i++) {
        int n = snprintf(keys[i], sizeof(keys[i]), "%zu", i);
        bool added;
        if (!pvm_hashmap_put(&m, keys[i], (size_t)n, &added))
            break;
    }
    assert_true(i < 4096);
    assert_int_equal(m.n, i);
    assert_non_null(pvm_hashmap_get(&m, "0", 1));
    pvm_arena_free(a);
}

/* The index-only form: items in the caller's array, keys compared by
 * the caller's equality; all hashes equal (the worst case), growth, and
 * clearing for reuse at the next step. */
static bool item_eq(const void *ctx, size_t index, const void *probe)
{
    const int *items = ctx;
    return items[index] == *(const int *)probe;
}

static void test_idxmap(void **state)
{
    pvm_idxmap m;
    assert_int_equal(pvm_idxmap_init(&m, *state, 0), 0);
    static int items[5000];
    size_t n = 0;
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 5000; k++) {
            int key = k % 2500; /* each key twice */
            uint64_t h = round ? 7 : (uint64_t)key * 2654435761u;
            if (round && k >= 300)
                break; /* colliding hashes: keep it quadratic-small */
            size_t got = pvm_idxmap_put(&m, h, item_eq, items, &key, n);
            if (got == n)
                items[n++] = key;
            else
                assert_int_equal(items[got], key);
        }
        size_t distinct = round ? 300 : 2500;
        assert_int_equal(m.n, distinct);
        assert_int_equal(n, distinct);
        int probe = 299;
        uint64_t h = round ? 7 : (uint64_t)probe * 2654435761u;
        size_t at = pvm_idxmap_get(&m, h, item_eq, items, &probe);
        assert_true(at != PVM_IDXMAP_NONE);
        assert_int_equal(items[at], 299);
        probe = 100000;
        assert_int_equal(pvm_idxmap_get(&m, h, item_eq, items, &probe),
                         PVM_IDXMAP_NONE);
        pvm_idxmap_clear(&m);
        assert_int_equal(m.n, 0);
        probe = 299;
        assert_int_equal(pvm_idxmap_get(&m, h, item_eq, items, &probe),
                         PVM_IDXMAP_NONE);
        for (size_t i = 0; i < m.cap; i++)
            assert_true(m.slots[i] == 0);
        n = 0;
    }
}

/* An index table whose growth the arena cannot pay for fails cleanly. */
static void test_idxmap_cap(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(16 * 1024);
    assert_non_null(a);
    pvm_idxmap m;
    assert_int_equal(pvm_idxmap_init(&m, a, 0), 0);
    static int items[100000];
    size_t i = 0;
    for (; i < 100000; i++) {
        int key = (int)i;
        if (pvm_idxmap_put(&m, i * 2654435761u, item_eq, items, &key, i) != i)
            break;
        items[i] = key;
    }
    assert_true(i < 100000);
    assert_int_equal(m.n, i);
    int key = 0;
    assert_int_equal(pvm_idxmap_get(&m, 0, item_eq, items, &key), 0);
    pvm_arena_free(a);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_bytes),  T(test_growth),
        T(test_hashed), cmocka_unit_test(test_arena_cap),
        T(test_idxmap), cmocka_unit_test(test_idxmap_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
