// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <math.h>
#include <stdint.h>
#include "model/hist.h"

uint64_t bt_hist_count(const __u64 hist[BT_HIST_SLOTS])
{
	uint64_t n = 0;

	for (int i = 0; i < BT_HIST_SLOTS; i++)
		n += hist[i];
	return n;
}

void bt_hist_add(__u64 a[BT_HIST_SLOTS], const __u64 b[BT_HIST_SLOTS])
{
	for (int i = 0; i < BT_HIST_SLOTS; i++)
		a[i] += b[i];
}

uint64_t bt_hist_percentile(const __u64 hist[BT_HIST_SLOTS], double q)
{
	uint64_t total = bt_hist_count(hist), seen = 0;
	double rank;

	if (!total || !(q > 0))
		return 0;
	if (q > 1)
		q = 1;
	/* The rank of the wanted sample, 1-based, as nearest-rank does. */
	rank = ceil(q * (double)total);
	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		double lo, hi, frac;

		if (!hist[i] || seen + hist[i] < rank) {
			seen += hist[i];
			continue;
		}
		lo = i ? ldexp(1.0, i) : 0;
		hi = ldexp(1.0, i + 1);
		frac = (rank - (double)seen) / (double)hist[i];
		return (uint64_t)(lo + (hi - lo) * frac);
	}
	return (uint64_t)ldexp(1.0, BT_HIST_SLOTS);
}

uint64_t bt_hist_percentile_max(const __u64 hist[BT_HIST_SLOTS], double q, uint64_t max)
{
	uint64_t v = bt_hist_percentile(hist, q);

	return max && v > max ? max : v;
}

uint64_t bt_hist_slot_low(int i)
{
	return i ? 1ull << i : 0;
}

uint64_t bt_hist_slot_high(int i)
{
	return i >= BT_HIST_SLOTS - 1 ? UINT64_MAX : (2ull << i) - 1;
}

uint64_t bt_hist_percentile_bound(const __u64 hist[BT_HIST_SLOTS], double q, uint64_t max)
{
	uint64_t total = bt_hist_count(hist), seen = 0, top = 0;
	double rank;

	if (!total || !(q > 0))
		return 0;
	rank = ceil((q > 1 ? 1 : q) * (double)total);
	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		seen += hist[i];
		if (hist[i] && (double)seen >= rank) {
			top = bt_hist_slot_high(i);
			break;
		}
	}
	return max && top > max ? max : top;
}
