// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Percentiles from log2 histograms: slot i holds [2^i, 2^(i+1)), slot 0
 * also 0; the rank is nearest-rank (ceil(q * n)) and the value is
 * interpolated linearly inside the slot that holds it, then truncated.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "model/hist.h"

static void test_empty(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	assert_int_equal(bt_hist_count(h), 0);
	assert_int_equal(bt_hist_percentile(h, 0.5), 0);
	assert_int_equal(bt_hist_percentile(h, 0.99), 0);
	assert_int_equal(bt_hist_percentile(h, 1.0), 0);
	assert_int_equal(bt_hist_percentile(h, 2.0), 0);
}

static void test_single_sample(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[10] = 1;	/* one sample in [1024, 2048) */
	assert_int_equal(bt_hist_count(h), 1);
	/* Its rank is 1 for every q: the top of its slot. */
	assert_int_equal(bt_hist_percentile(h, 0.01), 2048);
	assert_int_equal(bt_hist_percentile(h, 0.5), 2048);
	assert_int_equal(bt_hist_percentile(h, 1.0), 2048);
}

static void test_single_slot(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[10] = 4;	/* spread evenly over [1024, 2048) */
	assert_int_equal(bt_hist_count(h), 4);
	assert_int_equal(bt_hist_percentile(h, 0.25), 1280);
	assert_int_equal(bt_hist_percentile(h, 0.5), 1536);
	assert_int_equal(bt_hist_percentile(h, 0.75), 1792);
	assert_int_equal(bt_hist_percentile(h, 1.0), 2048);
	/* Nearest rank: ceil(0.3 * 4) = 2, ceil(0.9 * 4) = 4. */
	assert_int_equal(bt_hist_percentile(h, 0.3), 1536);
	assert_int_equal(bt_hist_percentile(h, 0.9), 2048);
	/* The smallest q still has rank 1. */
	assert_int_equal(bt_hist_percentile(h, 1e-9), 1280);
}

static void test_slot_zero(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[0] = 4;	/* zeros and ones: [0, 2) */
	assert_int_equal(bt_hist_percentile(h, 0.25), 0);	/* 0.5, truncated */
	assert_int_equal(bt_hist_percentile(h, 0.5), 1);
	assert_int_equal(bt_hist_percentile(h, 0.75), 1);	/* 1.5, truncated */
	assert_int_equal(bt_hist_percentile(h, 1.0), 2);
}

static void test_interpolation_exact(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[3] = 3;	/* [8, 16): rank 2 of 3 is 8 + 8 * 2/3 = 13.33 */
	assert_int_equal(bt_hist_percentile(h, 0.5), 13);
	assert_int_equal(bt_hist_percentile(h, 0.34), 13);
	assert_int_equal(bt_hist_percentile(h, 0.33), 10);	/* 8 + 8/3 */

	memset(h, 0, sizeof(h));
	h[20] = 10;	/* [1048576, 2097152) */
	/* 1048576 + 1048576 * 1/10 = 1153433.6 */
	assert_int_equal(bt_hist_percentile(h, 0.1), 1153433);
	/* rank ceil(5.5) = 6: 1048576 + 1048576 * 6/10 = 1677721.6 */
	assert_int_equal(bt_hist_percentile(h, 0.55), 1677721);
	assert_int_equal(bt_hist_percentile(h, 0.5), 1572864);
}

static void test_q_one_and_above(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[4] = 7;
	h[12] = 2;
	/* q = 1 is the top of the highest non-empty slot. */
	assert_int_equal(bt_hist_percentile(h, 1.0), 8192);
	/* Past 1: clamped to 1. */
	assert_int_equal(bt_hist_percentile(h, 1.0000001), 8192);
	assert_int_equal(bt_hist_percentile(h, 1.5), 8192);
	assert_int_equal(bt_hist_percentile(h, 100.0), 8192);
	assert_int_equal(bt_hist_percentile(h, INFINITY), 8192);
}

static void test_q_zero_or_below(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[4] = 7;
	assert_int_equal(bt_hist_percentile(h, 0.0), 0);
	assert_int_equal(bt_hist_percentile(h, -0.0), 0);
	assert_int_equal(bt_hist_percentile(h, -0.5), 0);
	assert_int_equal(bt_hist_percentile(h, -INFINITY), 0);
	assert_int_equal(bt_hist_percentile(h, NAN), 0);
}

static void test_many_slots(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[2] = 10;	/* [4, 8)          ranks   1..10  */
	h[5] = 30;	/* [32, 64)        ranks  11..40  */
	h[9] = 50;	/* [512, 1024)     ranks  41..90  */
	h[15] = 9;	/* [32768, 65536)  ranks  91..99  */
	h[25] = 1;	/* [2^25, 2^26)    rank  100      */
	assert_int_equal(bt_hist_count(h), 100);
	assert_int_equal(bt_hist_percentile(h, 0.01), 4);	/* 4.4 */
	assert_int_equal(bt_hist_percentile(h, 0.05), 6);
	/* The last rank of a slot is that slot's top, not the next slot's bottom. */
	assert_int_equal(bt_hist_percentile(h, 0.10), 8);
	assert_int_equal(bt_hist_percentile(h, 0.11), 33);	/* 32 + 32/30 */
	assert_int_equal(bt_hist_percentile(h, 0.20), 42);	/* 32 + 32 * 10/30 */
	assert_int_equal(bt_hist_percentile(h, 0.40), 64);
	assert_int_equal(bt_hist_percentile(h, 0.41), 522);	/* 512 + 512/50 */
	assert_int_equal(bt_hist_percentile(h, 0.50), 614);	/* 512 + 512 * 10/50 */
	assert_int_equal(bt_hist_percentile(h, 0.90), 1024);
	assert_int_equal(bt_hist_percentile(h, 0.95), 50972);	/* 32768 + 32768 * 5/9 */
	assert_int_equal(bt_hist_percentile(h, 0.99), 65536);
	assert_int_equal(bt_hist_percentile(h, 1.0), 67108864);
}

static void test_top_slot(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	/* Slot 31 is [2^31, 2^32): the answers stay inside it, no overflow. */
	h[BT_HIST_SLOTS - 1] = 2;
	assert_int_equal(bt_hist_percentile(h, 0.5), 3221225472ull);
	assert_int_equal(bt_hist_percentile(h, 1.0), 4294967296ull);
	h[0] = 2;
	assert_int_equal(bt_hist_percentile(h, 0.5), 2);
	assert_int_equal(bt_hist_percentile(h, 0.75), 3221225472ull);
	assert_int_equal(bt_hist_percentile(h, 0.99), 4294967296ull);
}

static void test_large_counts(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	h[4] = 1000000000000ull;
	h[5] = 1000000000000ull;
	assert_int_equal(bt_hist_count(h), 2000000000000ull);
	assert_int_equal(bt_hist_percentile(h, 0.5), 32);
	assert_int_equal(bt_hist_percentile(h, 0.75), 48);
	assert_int_equal(bt_hist_percentile(h, 1.0), 64);
}

static void test_add(void **state)
{
	__u64 a[BT_HIST_SLOTS] = { 0 }, b[BT_HIST_SLOTS] = { 0 };

	(void)state;
	a[0] = 1;
	a[7] = 5;
	b[7] = 2;
	b[31] = 9;
	bt_hist_add(a, b);
	assert_int_equal(a[0], 1);
	assert_int_equal(a[7], 7);
	assert_int_equal(a[31], 9);
	assert_int_equal(bt_hist_count(a), 17);
	/* b is left alone. */
	assert_int_equal(b[7], 2);
	assert_int_equal(bt_hist_count(b), 11);
	for (int i = 0; i < BT_HIST_SLOTS; i++)
		if (i != 0 && i != 7 && i != 31)
			assert_int_equal(a[i], 0);
}

/* Inclusive slot bounds: [0, 1], [2, 3], [4, 7] ... and an open top slot. */
static void test_slot_bounds(void **state)
{
	(void)state;
	assert_int_equal(bt_hist_slot_low(0), 0);
	assert_int_equal(bt_hist_slot_high(0), 1);
	assert_int_equal(bt_hist_slot_low(1), 2);
	assert_int_equal(bt_hist_slot_high(1), 3);
	assert_int_equal(bt_hist_slot_low(10), 1024);
	assert_int_equal(bt_hist_slot_high(10), 2047);
	assert_int_equal(bt_hist_slot_high(30), 2147483647ull);
	assert_int_equal(bt_hist_slot_low(31), 2147483648ull);
	assert_true(bt_hist_slot_high(31) == UINT64_MAX);
	/* Adjacent slots touch: nothing falls between them. */
	for (int i = 1; i < BT_HIST_SLOTS; i++)
		assert_int_equal(bt_hist_slot_low(i), bt_hist_slot_high(i - 1) + 1);
}

/* The stated bound is the top of the slot holding the rank, clamped to max. */
static void test_percentile_bound(void **state)
{
	__u64 h[BT_HIST_SLOTS] = { 0 };

	(void)state;
	assert_int_equal(bt_hist_percentile_bound(h, 0.99, 0), 0);
	h[5] = 98;	/* [32, 63] */
	h[9] = 2;	/* [512, 1023] */
	/* rank 99 of 100 is in slot 9: p99 <= 1023; rank 98 in slot 5. */
	assert_int_equal(bt_hist_percentile_bound(h, 0.99, 0), 1023);
	assert_int_equal(bt_hist_percentile_bound(h, 0.98, 0), 63);
	assert_int_equal(bt_hist_percentile_bound(h, 0.5, 0), 63);
	/* Never above the largest sample seen. */
	assert_int_equal(bt_hist_percentile_bound(h, 0.99, 700), 700);
	/* And never below the interpolated estimate. */
	assert_true(bt_hist_percentile(h, 0.99) <= bt_hist_percentile_bound(h, 0.99, 0) + 1);
	assert_int_equal(bt_hist_percentile_bound(h, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_sample),
		cmocka_unit_test(test_single_slot),
		cmocka_unit_test(test_slot_zero),
		cmocka_unit_test(test_interpolation_exact),
		cmocka_unit_test(test_q_one_and_above),
		cmocka_unit_test(test_q_zero_or_below),
		cmocka_unit_test(test_many_slots),
		cmocka_unit_test(test_top_slot),
		cmocka_unit_test(test_large_counts),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_slot_bounds),
		cmocka_unit_test(test_percentile_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
