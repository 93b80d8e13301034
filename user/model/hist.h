/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Percentiles from the kernel's log2 histograms. */
#ifndef BT_HIST_H
#define BT_HIST_H

#include <stdint.h>
#include "boundtrace.h"

/*
 * The value below which a fraction q (0..1] of the samples fall. Slot i
 * holds [2^i, 2^(i+1)) (slot 0 also holds 0; the last slot holds
 * everything from 2^31 up); the answer is interpolated linearly inside
 * the slot, so it is exact to within that slot's width. 0 when the
 * histogram is empty.
 */
uint64_t bt_hist_percentile(const __u64 hist[BT_HIST_SLOTS], double q);
/*
 * The same, never above max, the largest sample seen (0: unknown): the
 * slot's upper bound must not make a p99 larger than the maximum.
 */
uint64_t bt_hist_percentile_max(const __u64 hist[BT_HIST_SLOTS], double q, uint64_t max);
/*
 * The bound a percentile can honestly be stated with: the top of the
 * slot that holds the q-quantile (never above max, 0: unknown). The
 * q-quantile is at most this and more than half of it (slot 0: 0 or 1),
 * so tables print "≤ bound".
 */
uint64_t bt_hist_percentile_bound(const __u64 hist[BT_HIST_SLOTS], double q, uint64_t max);
/*
 * Slot i's smallest and largest value, both inclusive: slot 0 is [0, 1],
 * slot i is [2^i, 2^(i+1) - 1]; the last slot has no top (UINT64_MAX).
 */
uint64_t bt_hist_slot_low(int i);
uint64_t bt_hist_slot_high(int i);
uint64_t bt_hist_count(const __u64 hist[BT_HIST_SLOTS]);
void bt_hist_add(__u64 a[BT_HIST_SLOTS], const __u64 b[BT_HIST_SLOTS]);

#endif
