// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /proc parsing: the start time out of a stat line, whatever comm holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "boundtrace.h"
#include "discover/proc.h"

/* Fields 3..21 of a real line; field 22 (starttime) follows. */
#define MID "S 1 1234 1234 34816 1234 4194304 100 200 0 0 5 3 0 0 20 0 1 0"
/* Fields 23.. of a real line. */
#define TAIL "12345678 412 18446744073709551615 94384931479552 0 0 0 17 0 0 0\n"

static void expect_ticks(const char *line, unsigned long long want)
{
	unsigned long long ticks = 0;

	assert_int_equal(bt_proc_parse_stat_start(line, &ticks), 0);
	assert_int_equal(ticks, want);
}

static void expect_malformed(const char *line)
{
	unsigned long long ticks = 0;

	if (bt_proc_parse_stat_start(line, &ticks) != -1)
		fail_msg("accepted malformed line '%s' (ticks %llu)", line, ticks);
}

static void test_normal_line(void **state)
{
	(void)state;
	expect_ticks("1234 (bash) " MID " 987654 " TAIL, 987654);
	expect_ticks("1 (systemd) " MID " 2 " TAIL, 2);
	expect_ticks("1234 (bash) " MID " 0 " TAIL, 0);
}

static void test_comm_with_spaces_and_parens(void **state)
{
	(void)state;
	/* comm is "a) b) c": only the last ')' ends it. */
	expect_ticks("1234 (a) b) c) " MID " 4242 " TAIL, 4242);
	expect_ticks("77 (my prog) " MID " 31337 " TAIL, 31337);
	expect_ticks("77 ((sd-pam)) " MID " 5 " TAIL, 5);
	expect_ticks("77 () " MID " 6 " TAIL, 6);
	/* A comm that looks like fields must not shift the count. */
	expect_ticks("77 (1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22) " MID " 8 "
		     TAIL, 8);
}

static void test_line_ends_at_field_22(void **state)
{
	(void)state;
	expect_ticks("1234 (x) " MID " 123", 123);
	expect_ticks("1234 (x) " MID " 123\n", 123);
}

static void test_large_start(void **state)
{
	(void)state;
	expect_ticks("1 (x) " MID " 18446744073709551615 " TAIL, 18446744073709551615ull);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_malformed("");
	expect_malformed("1234");
	/* no ')' at all */
	expect_malformed("1234 bash " MID " 987654 " TAIL);
	/* too few fields */
	expect_malformed("1234 (bash) S 1 1234");
	expect_malformed("1234 (bash) " MID);
	expect_malformed("1234 (bash) " MID " ");
	expect_malformed("1234 (bash)");
	/* field 22 is not a number */
	expect_malformed("1234 (bash) " MID " abc " TAIL);
	expect_malformed("1234 (bash) " MID " -5 " TAIL);
	expect_malformed("1234 (bash) " MID " 12x " TAIL);
	/* out of range */
	expect_malformed("1234 (bash) " MID " 18446744073709551616 " TAIL);
}

static void test_own_stat(void **state)
{
	char comm[BT_COMM_LEN] = "";
	uint64_t start_ns = 0;

	(void)state;
	/* The real thing: this test process. */
	assert_true(bt_proc_exists(getpid()));
	assert_int_equal(bt_proc_read_identity(getpid(), comm, sizeof(comm), &start_ns), 0);
	assert_true(comm[0] != 0);
	assert_null(strchr(comm, '\n'));
	assert_true(strstr(comm, "test_proc") != NULL);
	assert_true(start_ns > 0);
}

static void test_gone_process(void **state)
{
	char comm[BT_COMM_LEN] = "unchanged";
	uint64_t start_ns = 7;

	(void)state;
	/* Beyond any pid_max: no such process. */
	assert_false(bt_proc_exists(BT_PID_MAX + 1));
	assert_int_equal(bt_proc_read_identity(BT_PID_MAX + 1, comm, sizeof(comm), &start_ns), -1);
	assert_int_equal(start_ns, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_line),
		cmocka_unit_test(test_comm_with_spaces_and_parens),
		cmocka_unit_test(test_line_ends_at_field_22),
		cmocka_unit_test(test_large_start),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_own_stat),
		cmocka_unit_test(test_gone_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
