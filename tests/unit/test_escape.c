// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Terminal escaping of other processes' bytes: strace's forms, nothing raw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/escape.h"

static void check(const char *in, const char *want)
{
	char buf[256];

	assert_ptr_equal(bt_escape(in, buf, sizeof(buf)), buf);
	assert_string_equal(buf, want);
}

static void test_printable_stays(void **state)
{
	(void)state;
	check("nginx: worker", "nginx: worker");
	check("a\"b'c", "a\"b'c");
	check("", "");
	check(NULL, "");
}

static void test_controls_escaped(void **state)
{
	(void)state;
	check("\033[2Jevil\a", "\\33[2Jevil\\7");
	check("a\nb\tc\rd", "a\\nb\\tc\\rd");
	check("back\\slash", "back\\\\slash");
	check("\x7f", "\\177");
	/* A digit after an octal escape would join it: three digits then. */
	check("\0331", "\\0331");
	check("\a7x", "\\0077x");
}

static void test_utf8(void **state)
{
	(void)state;
	/* Invalid UTF-8 and C1 controls (U+009B is CSI on some terminals) alike. */
	check("\xff\xfe", "\\377\\376");
	check("\xc2\x9b", "\\302\\233");
	/* Overlong '/', a surrogate, a cut sequence, a bidi override. */
	check("\xc0\xaf", "\\300\\257");
	check("\xed\xa0\x80", "\\355\\240\\200");
	check("\xe2\x86", "\\342\\206");
	check("a\xe2\x80\xaeb", "a\\342\\200\\256b");
	/* Well-formed text stays. */
	check("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xa7");
}

static void test_cut_between_escapes(void **state)
{
	char buf[6];

	(void)state;
	/* "ab" + "\33" is 5 bytes with the NUL; the next escape does not fit whole. */
	bt_escape("ab\033\033", buf, sizeof(buf));
	assert_string_equal(buf, "ab\\33");
	bt_escape("abcdefgh", buf, sizeof(buf));
	assert_string_equal(buf, "abcde");
	assert_ptr_equal(bt_escape("x", buf, 0), buf);
}

static void test_fputs(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	bt_fputs_escaped(f, "x\033y\\\n");
	fclose(f);
	assert_string_equal(text, "x\\33y\\\\\\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable_stays),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_cut_between_escapes),
		cmocka_unit_test(test_fputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
