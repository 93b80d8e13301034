// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Human units: thousands separators, binary byte units, time units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "lib/units.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define TiB (1024ull * GiB)
#define PiB (1024ull * TiB)
#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

static void check_count(uint64_t v, const char *expected)
{
	char buf[64];

	assert_ptr_equal(fmt_count(v, buf, sizeof(buf)), buf);
	assert_string_equal(buf, expected);
}

static void check_bytes(uint64_t v, const char *expected)
{
	char buf[64];

	assert_ptr_equal(fmt_bytes(v, buf, sizeof(buf)), buf);
	assert_string_equal(buf, expected);
}

static void check_ns(uint64_t v, const char *expected)
{
	char buf[64];

	assert_ptr_equal(fmt_ns(v, buf, sizeof(buf)), buf);
	assert_string_equal(buf, expected);
}

static void test_count(void **state)
{
	(void)state;
	check_count(0, "0");
	check_count(7, "7");
	check_count(999, "999");
	check_count(1000, "1,000");
	check_count(1001, "1,001");
	check_count(12004, "12,004");
	check_count(100000, "100,000");
	check_count(999999, "999,999");
	check_count(1000000, "1,000,000");
	check_count(1234567890, "1,234,567,890");
	check_count(UINT64_MAX, "18,446,744,073,709,551,615");
}

static void test_count_truncates(void **state)
{
	char buf[4];

	(void)state;
	/* A short buffer gets a terminated prefix, never an overflow. */
	assert_string_equal(fmt_count(12004, buf, sizeof(buf)), "12,");
	assert_string_equal(fmt_count(UINT64_MAX, buf, 1), "");
}

static void test_bytes_plain(void **state)
{
	(void)state;
	check_bytes(0, "0 B");
	check_bytes(1, "1 B");
	check_bytes(999, "999 B");
	check_bytes(1023, "1023 B");
}

static void test_bytes_boundaries(void **state)
{
	(void)state;
	check_bytes(KiB, "1.0 KiB");
	check_bytes(1536, "1.5 KiB");
	check_bytes(99 * KiB, "99.0 KiB");
	check_bytes(100 * KiB, "100 KiB");
	check_bytes(1023 * KiB, "1023 KiB");
	check_bytes(MiB, "1.0 MiB");
	check_bytes(GiB, "1.0 GiB");
	check_bytes(TiB, "1.0 TiB");
	check_bytes(PiB, "1.0 PiB");
	check_bytes(4 * MiB + 100 * KiB, "4.1 MiB");
	/* PiB is the last unit: beyond it the number grows. */
	check_bytes(1024 * PiB, "1024 PiB");
	check_bytes(UINT64_MAX, "16384 PiB");
}

static void test_bytes_rounding(void **state)
{
	(void)state;
	/* What rounds up to the next unit is printed in it: never "1024 KiB". */
	check_bytes(MiB - 1, "1.0 MiB");
	check_bytes(GiB - 1, "1.0 GiB");
	/* At or above 99.95 one decimal would read "100.0": no decimal there. */
	check_bytes(100 * KiB - 1, "100 KiB");
	check_bytes(102348, "99.9 KiB");
}

static void test_ns_plain(void **state)
{
	(void)state;
	check_ns(0, "0 ns");
	check_ns(1, "1 ns");
	check_ns(999, "999 ns");
}

static void test_ns_boundaries(void **state)
{
	(void)state;
	check_ns(US, "1.0 us");
	check_ns(1500, "1.5 us");
	check_ns(99900, "99.9 us");
	check_ns(100 * US, "100 us");
	check_ns(MS, "1.0 ms");
	check_ns(3200 * US, "3.2 ms");
	check_ns(100 * MS, "100 ms");
	check_ns(SEC, "1.0 s");
	check_ns(59 * SEC, "59.0 s");
	check_ns(60 * SEC, "1.0 min");
	check_ns(90 * SEC, "1.5 min");
	check_ns(3600 * SEC, "60.0 min");
	check_ns(UINT64_MAX, "307445734.6 min");
}

static void test_ns_rounding(void **state)
{
	(void)state;
	check_ns(MS - 1, "1.0 ms");
	check_ns(SEC - 1, "1.0 s");
	check_ns(100 * US - 1, "100 us");
	/* 59.99 s would read "60.0 s": that is a minute. */
	check_ns(60 * SEC - 1, "1.0 min");
	check_ns(59940 * MS, "59.9 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_count_truncates),
		cmocka_unit_test(test_bytes_plain),
		cmocka_unit_test(test_bytes_boundaries),
		cmocka_unit_test(test_bytes_rounding),
		cmocka_unit_test(test_ns_plain),
		cmocka_unit_test(test_ns_boundaries),
		cmocka_unit_test(test_ns_rounding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
