/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The distributions the exchange chains keep as the trace goes
 * (exchains.c): they merge across windows, so a chain's percentiles do
 * not need every sample kept to the end.
 */
#ifndef BT_EXCHIST_H
#define BT_EXCHIST_H

#include <stddef.h>
#include <stdint.h>

/* How many samples, the smallest and the largest: exact whatever the slots. */
struct bt_xspan {
	uint64_t n, min, max;
};

/*
 * Latencies, log-linear: below 2^6 one slot per nanosecond, above that
 * 64 slots per power of two (each within 1/64 of its value). A
 * percentile is its slot's middle, within [min, max]: within 0.8% of the
 * sample it stands for.
 */
struct bt_lat_hist {
	/*
	 * Only the slots from the lowest to the highest used are held
	 * (slot[i] is slot lo + i): a chain seen once costs one slot, not
	 * all 3,776 (a trace of short connections can make thousands).
	 */
	uint64_t *slot;
	uint32_t lo, n;
	struct bt_xspan s;
};

/* 0, or -ENOMEM. */
int bt_lat_add(struct bt_lat_hist *h, uint64_t v);
/* The lower percentile q (the sample at rank (n - 1) q, as a sorted array gave it). */
uint64_t bt_lat_pct(const struct bt_lat_hist *h, double q);
void bt_lat_free(struct bt_lat_hist *h);

/*
 * Calls per request, exactly: one count per value up to BT_CALLS_EXACT (a
 * request making more is counted in over, and a percentile that falls
 * among those says the largest), min and max always exact.
 */
#define BT_CALLS_EXACT	4096

struct bt_calls_hist {
	uint64_t *slot;
	size_t cap;
	uint64_t over;
	struct bt_xspan s;
};

/* 0, or -ENOMEM. */
int bt_calls_add(struct bt_calls_hist *h, uint32_t v);
uint32_t bt_calls_pct(const struct bt_calls_hist *h, double q);
void bt_calls_free(struct bt_calls_hist *h);

#endif
