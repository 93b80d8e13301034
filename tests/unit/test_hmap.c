// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The keyed index: hits and misses, keys that share a hash, growth,
 * deletes and tombstones, elements that move, and many keys checked
 * against a plain array (the oracle: a linear scan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/hmap.h"

static bool u64_eq(const void *ctx, uint32_t e, const void *key)
{
	return ((const uint64_t *)ctx)[e] == *(const uint64_t *)key;
}

static uint32_t get(const struct bt_hmap *m, const uint64_t *keys, uint64_t h, uint64_t key)
{
	return bt_hmap_get(m, h, u64_eq, keys, &key);
}

static void test_empty(void **state)
{
	struct bt_hmap m = { 0 };
	uint64_t keys[1] = { 7 };

	(void)state;
	assert_int_equal(get(&m, keys, 123, 7), BT_HMAP_NONE);
	assert_false(bt_hmap_del(&m, 123, 0));
	assert_false(bt_hmap_move(&m, 123, 0, 1));
	bt_hmap_clear(&m);
	bt_hmap_free(&m);
}

static void test_put_get(void **state)
{
	uint64_t keys[3] = { 10, 20, 30 };
	struct bt_hmap m = { 0 };

	(void)state;
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(bt_hmap_put(&m, bt_hash(&keys[i], 8), i), 0);
	assert_int_equal(m.n, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(get(&m, keys, bt_hash(&keys[i], 8), keys[i]), i);
	uint64_t absent = 40;

	assert_int_equal(get(&m, keys, bt_hash(&absent, 8), absent), BT_HMAP_NONE);
	bt_hmap_free(&m);
	assert_null(m.slot);
	assert_int_equal(m.cap, 0);
}

/* Every key under one hash: the probe must compare keys, not hashes. */
static void test_collisions(void **state)
{
	enum { N = 100 };
	uint64_t keys[N];
	struct bt_hmap m = { 0 };

	(void)state;
	for (uint32_t i = 0; i < N; i++) {
		keys[i] = 1000 + i;
		assert_int_equal(bt_hmap_put(&m, 42, i), 0);
	}
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(get(&m, keys, 42, keys[i]), i);
	assert_int_equal(get(&m, keys, 42, 5), BT_HMAP_NONE);
	/* Same low bits, other high bits: the stored 32 bits tell them apart. */
	assert_int_equal(get(&m, keys, 42 | 1ull << 31, keys[3]), BT_HMAP_NONE);
	/* A delete in the middle of the run keeps the ones after it reachable. */
	assert_true(bt_hmap_del(&m, 42, 50));
	assert_int_equal(get(&m, keys, 42, keys[50]), BT_HMAP_NONE);
	for (uint32_t i = 51; i < N; i++)
		assert_int_equal(get(&m, keys, 42, keys[i]), i);
	assert_int_equal(m.n, N - 1);
	bt_hmap_free(&m);
}

static void test_growth_keeps_half_empty(void **state)
{
	enum { N = 5000 };
	uint64_t *keys = malloc(N * sizeof(*keys));
	struct bt_hmap m = { 0 };

	(void)state;
	assert_non_null(keys);
	for (uint32_t i = 0; i < N; i++) {
		keys[i] = (uint64_t)i * 0x9e3779b97f4a7c15ull;
		assert_int_equal(bt_hmap_put(&m, bt_hash(&keys[i], 8), i), 0);
		/* A power of two, at most half full. */
		assert_int_equal(m.cap & (m.cap - 1), 0);
		assert_true(m.n * 2 <= m.cap);
	}
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(get(&m, keys, bt_hash(&keys[i], 8), keys[i]), i);
	bt_hmap_free(&m);
	free(keys);
}

/* Deleting and adding forever must not fill the map with tombstones. */
static void test_tombstones_recycled(void **state)
{
	uint64_t keys[2] = { 0, 0 };
	struct bt_hmap m = { 0 };
	size_t cap;

	(void)state;
	assert_int_equal(bt_hmap_put(&m, bt_hash(&keys[0], 8), 0), 0);
	cap = m.cap;
	for (uint64_t k = 1; k < 100000; k++) {
		keys[1] = k;
		assert_int_equal(bt_hmap_put(&m, bt_hash(&keys[1], 8), 1), 0);
		assert_int_equal(get(&m, keys, bt_hash(&keys[1], 8), k), 1);
		assert_true(bt_hmap_del(&m, bt_hash(&keys[1], 8), 1));
		assert_int_equal(get(&m, keys, bt_hash(&keys[1], 8), k), BT_HMAP_NONE);
	}
	assert_int_equal(m.n, 1);
	assert_int_equal(m.cap, cap);
	assert_true(m.n + m.dead <= m.cap / 2);
	assert_int_equal(get(&m, keys, bt_hash(&keys[0], 8), 0), 0);
	bt_hmap_free(&m);
}

/* A swap-remove: the last element takes the place of a deleted one. */
static void test_move(void **state)
{
	uint64_t keys[4] = { 1, 2, 3, 4 };
	struct bt_hmap m = { 0 };

	(void)state;
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(bt_hmap_put(&m, bt_hash(&keys[i], 8), i), 0);
	assert_true(bt_hmap_del(&m, bt_hash(&keys[1], 8), 1));
	assert_true(bt_hmap_move(&m, bt_hash(&keys[3], 8), 3, 1));
	keys[1] = keys[3];
	assert_int_equal(get(&m, keys, bt_hash(&keys[1], 8), 4), 1);
	assert_int_equal(get(&m, keys, bt_hash(&keys[0], 8), 1), 0);
	assert_int_equal(get(&m, keys, bt_hash(&keys[2], 8), 3), 2);
	/* Element 3 is no longer filed: moving it again fails. */
	assert_false(bt_hmap_move(&m, bt_hash(&keys[1], 8), 3, 0));
	/* A wrong hash finds nothing to delete. */
	assert_false(bt_hmap_del(&m, bt_hash(&keys[0], 8) ^ 1, 0));
	bt_hmap_clear(&m);
	assert_int_equal(m.n, 0);
	assert_int_equal(get(&m, keys, bt_hash(&keys[0], 8), 1), BT_HMAP_NONE);
	bt_hmap_free(&m);
}

static void test_hash(void **state)
{
	const char a[] = "pipe:[12345]", b[] = "pipe:[12346]";
	uint64_t x = 0, y = 0;

	(void)state;
	assert_true(bt_hash(a, sizeof(a)) == bt_hash(a, sizeof(a)));
	assert_true(bt_hash(a, sizeof(a)) != bt_hash(b, sizeof(b)));
	/* The length takes part: a key is not its zero-padded prefix. */
	assert_true(bt_hash(&x, 4) != bt_hash(&y, 8));
	assert_true(bt_hash("", 0) != bt_hash(&x, 1));
}

/* Many keys, random operations, checked against a linear scan of the array. */
static void test_many_keys_against_scan(void **state)
{
	enum { CAP = 20000, OPS = 200000 };
	uint64_t *keys = malloc(CAP * sizeof(*keys));
	struct bt_hmap m = { 0 };
	size_t n = 0;
	uint64_t rng = 88172645463325252ull;

	(void)state;
	assert_non_null(keys);
	for (int op = 0; op < OPS; op++) {
		uint64_t k, want = BT_HMAP_NONE;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		k = rng % 30000;	/* small range: hits, misses and repeats */
		for (size_t i = 0; i < n; i++)
			if (keys[i] == k)
				want = i;
		assert_int_equal(get(&m, keys, bt_hash(&k, 8), k), want);
		if (want == BT_HMAP_NONE && n < CAP && (rng >> 40) % 3) {
			keys[n] = k;
			assert_int_equal(bt_hmap_put(&m, bt_hash(&k, 8), n), 0);
			n++;
		} else if (want != BT_HMAP_NONE) {
			/* Swap-remove, as the model drops an element. */
			assert_true(bt_hmap_del(&m, bt_hash(&k, 8), want));
			if (want != n - 1) {
				assert_true(bt_hmap_move(&m, bt_hash(&keys[n - 1], 8), n - 1, want));
				keys[want] = keys[n - 1];
			}
			n--;
		}
		assert_int_equal(m.n, n);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(get(&m, keys, bt_hash(&keys[i], 8), keys[i]), i);
	bt_hmap_free(&m);
	free(keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_growth_keeps_half_empty),
		cmocka_unit_test(test_tombstones_recycled),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_many_keys_against_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
