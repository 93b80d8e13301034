// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The one interner: ids dense and stable, one name of two kinds is two
 * names, a full buffer is cut where it ends, the recent cache answers
 * what the index would, and many names checked against a plain array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/strtab.h"

static void test_ids_stable(void **state)
{
	struct bt_strtab t = { 0 };
	char again[] = "frontend";

	(void)state;
	assert_int_equal(bt_strtab_id(&t, "frontend"), 0);
	assert_int_equal(bt_strtab_id(&t, "backend"), 1);
	assert_int_equal(bt_strtab_id(&t, ""), 2);
	/* Another copy of the bytes is the same name. */
	assert_int_equal(bt_strtab_id(&t, again), 0);
	assert_int_equal(bt_strtab_id(&t, "backend"), 1);
	assert_int_equal(bt_strtab_id(&t, ""), 2);
	assert_int_equal(t.n, 3);
	assert_string_equal(bt_strtab_str(&t, 0), "frontend");
	assert_string_equal(bt_strtab_str(&t, 1), "backend");
	assert_string_equal(bt_strtab_str(&t, 2), "");
	assert_int_equal(bt_strtab_kind(&t, 1), 0);
	bt_strtab_free(&t);
	assert_int_equal(t.n, 0);
	assert_null(t.v);
}

static void test_kinds_distinct(void **state)
{
	struct bt_strtab t = { 0 };

	(void)state;
	assert_int_equal(bt_strtab_kind_id(&t, 1, "pipe:[7]", 128), 0);
	assert_int_equal(bt_strtab_kind_id(&t, 2, "pipe:[7]", 128), 1);
	assert_int_equal(bt_strtab_kind_id(&t, 255, "pipe:[7]", 128), 2);
	assert_int_equal(bt_strtab_id(&t, "pipe:[7]"), 3);
	assert_int_equal(bt_strtab_kind_id(&t, 2, "pipe:[7]", 128), 1);
	assert_int_equal(bt_strtab_kind_id(&t, 1, "pipe:[7]", 128), 0);
	assert_int_equal(bt_strtab_kind(&t, 0), 1);
	assert_int_equal(bt_strtab_kind(&t, 1), 2);
	assert_int_equal(bt_strtab_kind(&t, 2), 255);
	assert_int_equal(bt_strtab_kind(&t, 3), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_string_equal(bt_strtab_str(&t, i), "pipe:[7]");
	bt_strtab_free(&t);
}

static void test_cut_length(void **state)
{
	struct bt_strtab t = { 0 };
	/* A full buffer: no NUL in its 8 bytes; only 7 are read. */
	char full[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };

	(void)state;
	assert_int_equal(bt_strtab_kind_id(&t, 0, full, sizeof(full)), 0);
	assert_string_equal(bt_strtab_str(&t, 0), "abcdefg");
	/* The cut name is the name of its first max - 1 bytes, and no other. */
	assert_int_equal(bt_strtab_id(&t, "abcdefg"), 0);
	assert_int_equal(bt_strtab_id(&t, "abcdefgh"), 1);
	assert_int_equal(bt_strtab_id(&t, "abcdef"), 2);
	assert_int_equal(bt_strtab_kind_id(&t, 0, "abcdefgXYZ", 8), 0);
	/* A shorter string than the cut is read to its NUL. */
	assert_int_equal(bt_strtab_kind_id(&t, 0, "abcdef", 8), 2);
	assert_int_equal(bt_strtab_kind_id(&t, 0, "abcdef", 1), 3);
	assert_string_equal(bt_strtab_str(&t, 3), "");
	assert_int_equal(t.n, 4);
	bt_strtab_free(&t);
}

static void test_recent_cache(void **state)
{
	struct bt_strtab t = { 0 };

	(void)state;
	assert_int_equal(bt_strtab_id(&t, "a"), 0);
	assert_int_equal(bt_strtab_id(&t, "b"), 1);
	assert_int_equal(t.recent[0], 2);
	assert_int_equal(t.recent[1], 1);
	/* Both recent names are answered from the cache: it does not move. */
	assert_int_equal(bt_strtab_id(&t, "a"), 0);
	assert_int_equal(bt_strtab_id(&t, "b"), 1);
	assert_int_equal(t.recent[0], 2);
	assert_int_equal(t.recent[1], 1);
	/* The cache checks the kind and the whole name, not only a prefix. */
	assert_int_equal(bt_strtab_kind_id(&t, 3, "a", 8), 2);
	assert_int_equal(bt_strtab_id(&t, "ab"), 3);
	assert_int_equal(bt_strtab_kind_id(&t, 0, "ab", 2), 0);
	/* A name found in the index becomes recent. */
	assert_int_equal(bt_strtab_id(&t, "b"), 1);
	assert_int_equal(t.recent[0], 2);
	assert_int_equal(t.recent[1], 1);
	assert_int_equal(t.n, 4);
	bt_strtab_free(&t);
	assert_int_equal(t.recent[0], 0);
}

/* Many names of a few kinds against a plain array, ids in order of first sight. */
static void test_many_against_scan(void **state)
{
	enum { N = 5000 };
	struct bt_strtab t = { 0 };
	char s[32];

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < N; i++) {
			snprintf(s, sizeof(s), "svc-%u", i / 3);
			assert_int_equal(bt_strtab_kind_id(&t, (uint8_t)(i % 3), s, sizeof(s)), i);
		}
		assert_int_equal(t.n, N);
	}
	for (uint32_t i = 0; i < N; i++) {
		snprintf(s, sizeof(s), "svc-%u", i / 3);
		assert_string_equal(bt_strtab_str(&t, i), s);
		assert_int_equal(bt_strtab_kind(&t, i), i % 3);
	}
	bt_strtab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_stable),
		cmocka_unit_test(test_kinds_distinct),
		cmocka_unit_test(test_cut_length),
		cmocka_unit_test(test_recent_cache),
		cmocka_unit_test(test_many_against_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
