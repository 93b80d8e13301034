// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The kind and direction names: the table every exporter prints from. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "model/kinds.h"
#include "testutil.h"

static void test_kind_names(void **state)
{
	static const struct tu_name names[] = {
		{ BT_KIND_NONE, "other" },
		{ BT_KIND_PIPE, "pipe" },
		{ BT_KIND_UNIX_STREAM, "unix_stream" },
		{ BT_KIND_UNIX_DGRAM, "unix_dgram" },
		{ BT_KIND_TCP, "tcp" },
		{ BT_KIND_UDP, "udp" },
		{ BT_KIND_FUTEX, "futex" },
	};

	(void)state;
	tu_expect_names(bt_kind_name, names, sizeof(names) / sizeof(names[0]));
}

static void test_kind_name_bounds(void **state)
{
	static const struct tu_name names[] = {
		{ BT_KIND_MAX, "other" },
		{ 255, "other" },
		{ UINT_MAX, "other" },
	};

	(void)state;
	tu_expect_names(bt_kind_name, names, sizeof(names) / sizeof(names[0]));
}

static void test_every_kind_named_once(void **state)
{
	(void)state;
	/* A kind added to the enum but not to the table would be NULL here. */
	for (unsigned int a = 0; a < BT_KIND_MAX; a++) {
		assert_non_null(bt_kind_name(a));
		assert_true(bt_kind_name(a)[0]);
		for (unsigned int b = a + 1; b < BT_KIND_MAX; b++)
			assert_string_not_equal(bt_kind_name(a), bt_kind_name(b));
	}
}

static void test_parse_round_trip(void **state)
{
	(void)state;
	for (unsigned int k = BT_KIND_NONE + 1; k < BT_KIND_MAX; k++)
		assert_int_equal(bt_kind_parse(bt_kind_name(k)), k);
}

static void test_parse_unknown(void **state)
{
	(void)state;
	/* "other" is not a kind to ask for: it parses to NONE like any unknown. */
	assert_int_equal(bt_kind_parse("other"), BT_KIND_NONE);
	assert_int_equal(bt_kind_parse(""), BT_KIND_NONE);
	assert_int_equal(bt_kind_parse("PIPE"), BT_KIND_NONE);
	assert_int_equal(bt_kind_parse("pipe "), BT_KIND_NONE);
	assert_int_equal(bt_kind_parse("unix"), BT_KIND_NONE);
	assert_int_equal(bt_kind_parse("tcp6"), BT_KIND_NONE);
}

static void test_has_bytes(void **state)
{
	(void)state;
	assert_false(bt_kind_has_bytes(BT_KIND_NONE));
	assert_true(bt_kind_has_bytes(BT_KIND_PIPE));
	assert_true(bt_kind_has_bytes(BT_KIND_UNIX_STREAM));
	assert_true(bt_kind_has_bytes(BT_KIND_UNIX_DGRAM));
	assert_true(bt_kind_has_bytes(BT_KIND_TCP));
	assert_true(bt_kind_has_bytes(BT_KIND_UDP));
	assert_false(bt_kind_has_bytes(BT_KIND_FUTEX));
	assert_false(bt_kind_has_bytes(BT_KIND_MAX));
	assert_false(bt_kind_has_bytes(UINT_MAX));
}

static void test_dir_names(void **state)
{
	static const struct tu_name names[] = {
		{ BT_DIR_SEND, "send" },
		{ BT_DIR_RECV, "recv" },
		{ BT_DIR_WAIT, "wait" },
		{ BT_DIR_WAKE, "wake" },
		{ BT_DIR_MAX, "?" },
		{ UINT_MAX, "?" },
	};

	(void)state;
	tu_expect_names(bt_dir_name, names, sizeof(names) / sizeof(names[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_kind_name_bounds),
		cmocka_unit_test(test_every_kind_named_once),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_unknown),
		cmocka_unit_test(test_has_bytes),
		cmocka_unit_test(test_dir_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
