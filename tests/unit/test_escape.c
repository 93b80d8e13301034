// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Terminal escaping of other processes' bytes: nothing a terminal acts on comes out raw. */
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

	assert_ptr_equal(bt_escape_term(in, buf, sizeof(buf)), buf);
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
	check("\033[2Jevil\a", "\\x1b[2Jevil\\x07");
	check("a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd");
	check("back\\slash", "back\\\\slash");
	check("\x7f", "\\x7f");
}

static void test_utf8(void **state)
{
	(void)state;
	/* Invalid UTF-8 and C1 controls (U+009B is CSI on some terminals) alike. */
	check("\xff\xfe", "\\xff\\xfe");
	check("\xc2\x9b", "\\xc2\\x9b");
	/* Overlong '/', a surrogate, a cut sequence, a bidi override, an isolate, a line separator. */
	check("\xc0\xaf", "\\xc0\\xaf");
	check("\xed\xa0\x80", "\\xed\\xa0\\x80");
	check("\xe2\x86", "\\xe2\\x86");
	check("a\xe2\x80\xae" "b", "a\\xe2\\x80\\xaeb");
	check("\xe2\x81\xa6", "\\xe2\\x81\\xa6");
	check("\xe2\x80\xa8", "\\xe2\\x80\\xa8");
	/* Well-formed text stays. */
	check("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xa7");
}

static void test_cut_between_escapes(void **state)
{
	char buf[6];

	(void)state;
	/* "a" + "\x1b" is 6 bytes with the NUL; the next escape does not fit whole. */
	bt_escape_term("a\033\033", buf, sizeof(buf));
	assert_string_equal(buf, "a\\x1b");
	bt_escape_term("abcdefgh", buf, sizeof(buf));
	assert_string_equal(buf, "abcde");
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
	assert_string_equal(text, "x\\x1by\\\\\\x0a");
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
