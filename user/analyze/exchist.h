/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The distributions the chains keep as the trace goes (exchains.c,
 * chains.c): they merge across windows, so a chain's percentiles do
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
 * sample it stands for. Only the slots from the lowest used to the
 * highest are held (slot[i] is slot base + i): a hop's samples span a
 * few powers of two, so a chain with many hops costs a few hundred bytes
 * each, not the 30 KiB of every slot.
 */
struct bt_lat_hist {
	uint64_t *slot;
	uint32_t base, len;
	struct bt_xspan s;
};

/* 0, or -ENOMEM. */
int bt_lat_add(struct bt_lat_hist *h, uint64_t v);
/*
 * n samples of one slot (bt_lat_slot, lat_slot.h), the smallest min and
 * the largest max (the kernel's one-hop counts; min and max of samples
 * added before may come again: they stay exact). 0, -ENOMEM, or -EINVAL
 * when min or max is not in that slot.
 */
int bt_lat_add_slot(struct bt_lat_hist *h, uint32_t slot, uint64_t n, uint64_t min, uint64_t max);
/* The lower percentile q (the sample at rank (n - 1) q, as a sorted array gave it). */
uint64_t bt_lat_pct(const struct bt_lat_hist *h, double q);
/* Adds src's samples to dst (chains alike once named are one); 0, or -ENOMEM. */
int bt_lat_merge(struct bt_lat_hist *dst, const struct bt_lat_hist *src);
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
/* Adds src's samples to dst; 0, or -ENOMEM. */
int bt_calls_merge(struct bt_calls_hist *dst, const struct bt_calls_hist *src);
void bt_calls_free(struct bt_calls_hist *h);

/* The distinct threads a chain's roots ran on. */
struct bt_tidset {
	uint32_t *v;
	size_t n, cap;
};

/* 0, or -ENOMEM. */
int bt_tidset_add(struct bt_tidset *s, uint32_t tid);
void bt_tidset_free(struct bt_tidset *s);

#endif
