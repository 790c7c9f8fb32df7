/* Unit tests for keytab.c: every record found again after any number of
 * growths, in arrival order, none past the cap, and a cleared table as
 * good as new. The reference is a plain array searched key by key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keytab.h"

/* A key of an odd size (not a multiple of eight) and a payload. */
typedef struct key {
    uint8_t b[37];
} key;
typedef struct rec {
    key k;
    uint64_t count;
} rec;

static key make_key(uint32_t n)
{
    key k;
    memset(&k, 0, sizeof k);
    /* Keys that differ only in their last byte or only in their first
     * word, to reach the hash's tail and head alike. */
    k.b[36] = (uint8_t)n;
    memcpy(k.b, &n, sizeof n);
    k.b[20] = (uint8_t)(n >> 8);
    return k;
}

static void test_find_and_order(void **state)
{
    (void)state;
    enum { N = 20000 };
    fa_keytab t;
    fa_keytab_init(&t, sizeof(rec), sizeof(key), N);
    key k = make_key(1);
    assert_null(fa_keytab_find(&t, &k));
    uint32_t *order = malloc(N * sizeof *order);
    /* The reference: what each key's count must be, or 0 if refused. */
    uint64_t *want = calloc(N + N / 2, sizeof *want);
    assert_non_null(order);
    assert_non_null(want);
    srand(7);
    uint32_t added_n = 0;
    for (int i = 0; i < 3 * N; i++) {
        uint32_t n = (uint32_t)rand() % (N + N / 2);
        k = make_key(n);
        bool added;
        rec *r = fa_keytab_get(&t, &k, &added);
        if (!r) {
            /* Only a new key past the cap is refused. */
            assert_int_equal(t.n, N);
            assert_null(fa_keytab_find(&t, &k));
            continue;
        }
        assert_memory_equal(&r->k, &k, sizeof k);
        if (added) {
            assert_int_equal(r->count, 0);
            order[added_n++] = n;
        }
        r->count++;
        want[n]++;
    }
    assert_int_equal(t.n, added_n);
    for (uint32_t i = 0; i < t.n; i++) {
        const rec *r = fa_keytab_at(&t, i);
        k = make_key(order[i]);
        assert_memory_equal(&r->k, &k, sizeof k);
        assert_ptr_equal(fa_keytab_find(&t, &k), r);
        assert_int_equal(r->count, want[order[i]]);
    }
    for (uint32_t n = 0; n < N + N / 2; n++) {
        k = make_key(n);
        const rec *r = fa_keytab_find(&t, &k);
        if (!r)
            assert_int_equal(want[n], 0);
    }
    k = make_key(N + N / 2 + 1);
    assert_null(fa_keytab_find(&t, &k));
    free(order);
    free(want);
    fa_keytab_clear(&t);
}

static void test_cap_and_clear(void **state)
{
    (void)state;
    fa_keytab t;
    fa_keytab_init(&t, sizeof(rec), sizeof(key), 100);
    bool added;
    for (uint32_t n = 0; n < 100; n++) {
        key k = make_key(n);
        assert_non_null(fa_keytab_get(&t, &k, &added));
        assert_true(added);
    }
    key k = make_key(100);
    assert_null(fa_keytab_get(&t, &k, &added));
    assert_false(added);
    k = make_key(99);
    assert_non_null(fa_keytab_get(&t, &k, &added));
    assert_false(added);
    fa_keytab_clear(&t);
    assert_int_equal(t.n, 0);
    assert_null(fa_keytab_find(&t, &k));
    assert_non_null(fa_keytab_get(&t, &k, &added));
    assert_true(added);
    assert_int_equal(t.n, 1);
    fa_keytab_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_order),
        cmocka_unit_test(test_cap_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
