// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON writer: commas, nesting, escaping. Output goes to a memstream. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/json.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct jw w;
};

static void cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	jw_init(&c->w, c->f);
}

/* Closes the stream, compares, frees. */
static void cap_check(struct capture *c, const char *expected)
{
	assert_int_equal(fclose(c->f), 0);
	assert_string_equal(c->buf, expected);
	assert_int_equal(c->len, strlen(expected));
	free(c->buf);
}

static void check_escaped(const char *in, const char *expected)
{
	struct capture c;

	cap_open(&c);
	json_write_string(c.f, in);
	cap_check(&c, expected);
}

static void test_empty_containers(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_obj_begin(&c.w);
	jw_obj_end(&c.w);
	cap_check(&c, "{}");

	cap_open(&c);
	jw_arr_begin(&c.w);
	jw_arr_end(&c.w);
	cap_check(&c, "[]");
}

static void test_object_commas(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_obj_begin(&c.w);
	jw_kstr(&c.w, "s", "x");
	jw_ku64(&c.w, "u", 1);
	jw_ki64(&c.w, "i", -2);
	jw_kdouble(&c.w, "d", 1.5);
	jw_kbool(&c.w, "t", true);
	jw_kbool(&c.w, "f", false);
	jw_obj_end(&c.w);
	cap_check(&c, "{\"s\":\"x\",\"u\":1,\"i\":-2,\"d\":1.5,\"t\":true,\"f\":false}");
}

static void test_array_commas(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_arr_begin(&c.w);
	jw_u64(&c.w, 1);
	jw_str(&c.w, "two");
	jw_i64(&c.w, -3);
	jw_bool(&c.w, true);
	jw_double(&c.w, 0.25);
	jw_arr_end(&c.w);
	cap_check(&c, "[1,\"two\",-3,true,0.25]");
}

static void test_nesting(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_obj_begin(&c.w);
	jw_key(&c.w, "a");
	jw_arr_begin(&c.w);
	jw_u64(&c.w, 1);
	jw_u64(&c.w, 2);
	jw_obj_begin(&c.w);
	jw_key(&c.w, "b");
	jw_arr_begin(&c.w);
	jw_arr_end(&c.w);
	jw_obj_end(&c.w);
	jw_arr_begin(&c.w);
	jw_arr_end(&c.w);
	jw_arr_end(&c.w);
	jw_key(&c.w, "c");
	jw_obj_begin(&c.w);
	jw_obj_end(&c.w);
	jw_ku64(&c.w, "d", 4);
	jw_obj_end(&c.w);
	cap_check(&c, "{\"a\":[1,2,{\"b\":[]},[]],\"c\":{},\"d\":4}");
}

static void test_array_of_objects(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_arr_begin(&c.w);
	for (int i = 0; i < 3; i++) {
		jw_obj_begin(&c.w);
		jw_ku64(&c.w, "i", i);
		jw_kstr(&c.w, "n", "v");
		jw_obj_end(&c.w);
	}
	jw_arr_end(&c.w);
	cap_check(&c, "[{\"i\":0,\"n\":\"v\"},{\"i\":1,\"n\":\"v\"},{\"i\":2,\"n\":\"v\"}]");
}

static void test_deep_nesting(void **state)
{
	char expected[4 * JW_MAX_DEPTH + 8];
	struct capture c;
	int depth = JW_MAX_DEPTH - 1, n = 0;

	(void)state;
	/* The deepest nesting the writer tracks, with a sibling at every level. */
	cap_open(&c);
	for (int i = 0; i < depth; i++) {
		jw_arr_begin(&c.w);
		expected[n++] = '[';
	}
	for (int i = 0; i < depth; i++) {
		jw_arr_end(&c.w);
		expected[n++] = ']';
		if (i == depth - 1)
			break;
		jw_u64(&c.w, 7);
		expected[n++] = ',';
		expected[n++] = '7';
	}
	expected[n] = 0;
	cap_check(&c, expected);
}

static void test_numbers(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_arr_begin(&c.w);
	jw_u64(&c.w, 0);
	jw_u64(&c.w, UINT64_MAX);
	jw_i64(&c.w, INT64_MIN);
	jw_i64(&c.w, INT64_MAX);
	jw_double(&c.w, 0.1);
	jw_double(&c.w, 1e20);
	jw_double(&c.w, -2.5);
	jw_arr_end(&c.w);
	cap_check(&c, "[0,18446744073709551615,-9223372036854775808,9223372036854775807,"
		      "0.1,1e+20,-2.5]");
}

static void test_non_finite_is_null(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_obj_begin(&c.w);
	jw_kdouble(&c.w, "inf", INFINITY);
	jw_kdouble(&c.w, "nan", NAN);
	jw_kdouble(&c.w, "ninf", -INFINITY);
	jw_obj_end(&c.w);
	cap_check(&c, "{\"inf\":null,\"nan\":null,\"ninf\":null}");
}

static void test_escape_plain(void **state)
{
	(void)state;
	check_escaped("", "\"\"");
	check_escaped("hello world", "\"hello world\"");
	/* '/' needs no escape; printable ASCII passes through. */
	check_escaped("a/b ~!@#$%^&*()", "\"a/b ~!@#$%^&*()\"");
}

static void test_escape_quote_backslash(void **state)
{
	(void)state;
	check_escaped("say \"hi\"", "\"say \\\"hi\\\"\"");
	check_escaped("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	check_escaped("\\\"", "\"\\\\\\\"\"");
}

static void test_escape_control(void **state)
{
	(void)state;
	check_escaped("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
	check_escaped("\x01", "\"\\u0001\"");
	check_escaped("\x08\x0c", "\"\\u0008\\u000c\"");
	check_escaped("\x1f", "\"\\u001f\"");
	check_escaped("x\x1by", "\"x\\u001by\"");
	check_escaped("\x7f", "\"\\u007f\"");
}

static void test_escape_non_ascii(void **state)
{
	(void)state;
	/* comm is raw bytes: every byte >= 0x80 is written on its own. */
	check_escaped("\x80", "\"\\ufffd\"");
	check_escaped("\xff", "\"\\ufffd\"");
	check_escaped("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	check_escaped("\xfe\x01z", "\"\\ufffd\\u0001z\"");
	check_escaped("\xe2\x86\x92", "\"\xe2\x86\x92\"");	/* a valid arrow stays */
	check_escaped("\xc0\xaf", "\"\\ufffd\\ufffd\"");	/* overlong '/' */
	check_escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	check_escaped("\xe2\x82", "\"\\ufffd\\ufffd\"");	/* truncated */
}

static void test_escaped_keys(void **state)
{
	struct capture c;

	(void)state;
	cap_open(&c);
	jw_obj_begin(&c.w);
	jw_kstr(&c.w, "k\"1", "v\n");
	jw_kstr(&c.w, "k\\2", "\xe2\x82\xac");
	jw_obj_end(&c.w);
	cap_check(&c, "{\"k\\\"1\":\"v\\n\",\"k\\\\2\":\"\xe2\x82\xac\"}");
}

static void test_fmemopen(void **state)
{
	char buf[64] = { 0 };
	struct jw w;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(f);
	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_key(&w, "list");
	jw_arr_begin(&w);
	jw_str(&w, "a");
	jw_str(&w, "b");
	jw_arr_end(&w);
	jw_obj_end(&w);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "{\"list\":[\"a\",\"b\"]}");
}

static void test_reinit(void **state)
{
	struct capture c;

	(void)state;
	/* jw_init resets the comma state: a second document starts clean. */
	cap_open(&c);
	jw_arr_begin(&c.w);
	jw_u64(&c.w, 1);
	jw_arr_end(&c.w);
	jw_init(&c.w, c.f);
	jw_arr_begin(&c.w);
	jw_u64(&c.w, 2);
	jw_arr_end(&c.w);
	cap_check(&c, "[1][2]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_containers),
		cmocka_unit_test(test_object_commas),
		cmocka_unit_test(test_array_commas),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_array_of_objects),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_non_finite_is_null),
		cmocka_unit_test(test_escape_plain),
		cmocka_unit_test(test_escape_quote_backslash),
		cmocka_unit_test(test_escape_control),
		cmocka_unit_test(test_escape_non_ascii),
		cmocka_unit_test(test_escaped_keys),
		cmocka_unit_test(test_fmemopen),
		cmocka_unit_test(test_reinit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
