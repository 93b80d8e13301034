// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Distributions that merge across windows (exchist.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/exchist.h"
#include "lib/vec.h"

#define LAT_BITS	6
#define LAT_SUB		(1u << LAT_BITS)

static void xspan_add(struct bt_xspan *s, uint64_t v)
{
	if (!s->n || v < s->min)
		s->min = v;
	if (v > s->max)
		s->max = v;
	s->n++;
}

/* The rank of the lower percentile q (no interpolation), as the batch took it. */
static uint64_t xspan_rank(const struct bt_xspan *s, double q)
{
	return (uint64_t)((double)(s->n - 1) * q);
}

static unsigned int lat_slot(uint64_t v)
{
	int o;

	if (v < LAT_SUB)
		return (unsigned int)v;
	o = 63 - __builtin_clzll(v);
	return (unsigned int)(o - LAT_BITS + 1) * LAT_SUB +
	       (unsigned int)((v >> (o - LAT_BITS)) & (LAT_SUB - 1));
}

/* Widens h's held slots to take slot i; false when out of memory. */
static bool lat_hold(struct bt_lat_hist *h, unsigned int i)
{
	unsigned int lo = h->n && h->lo < i ? h->lo : i;
	unsigned int hi = h->n && h->lo + h->n > i + 1 ? h->lo + h->n : i + 1;
	uint64_t *v;

	if (h->n && lo == h->lo && hi == h->lo + h->n)
		return true;
	v = calloc(hi - lo, sizeof(*v));
	if (!v)
		return false;
	if (h->n)
		memcpy(v + (h->lo - lo), h->slot, h->n * sizeof(*v));
	free(h->slot);
	h->slot = v;
	h->lo = lo;
	h->n = hi - lo;
	return true;
}

int bt_lat_add(struct bt_lat_hist *h, uint64_t v)
{
	unsigned int i = lat_slot(v);

	if (!lat_hold(h, i))
		return -ENOMEM;
	h->slot[i - h->lo]++;
	xspan_add(&h->s, v);
	return 0;
}

uint64_t bt_lat_pct(const struct bt_lat_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->s.n)
		return 0;
	rank = xspan_rank(&h->s, q);
	for (unsigned int i = h->lo; i < h->lo + h->n; i++) {
		unsigned int o = i / LAT_SUB + LAT_BITS - 1;
		uint64_t low, width, v;

		seen += h->slot[i - h->lo];
		if (seen <= rank)
			continue;
		if (i < LAT_SUB)
			return i;
		width = 1ull << (o - LAT_BITS);
		low = (uint64_t)(LAT_SUB + i % LAT_SUB) << (o - LAT_BITS);
		v = low + width / 2;
		return v < h->s.min ? h->s.min : v > h->s.max ? h->s.max : v;
	}
	return h->s.max;
}

int bt_calls_add(struct bt_calls_hist *h, uint32_t v)
{
	if (v >= BT_CALLS_EXACT) {
		h->over++;
	} else {
		if (v >= h->cap && !bt_grow((void **)&h->slot, &h->cap, v + 1, sizeof(*h->slot)))
			return -ENOMEM;
		h->slot[v]++;
	}
	xspan_add(&h->s, v);
	return 0;
}

uint32_t bt_calls_pct(const struct bt_calls_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->s.n)
		return 0;
	rank = xspan_rank(&h->s, q);
	for (size_t v = 0; v < h->cap; v++) {
		seen += h->slot[v];
		if (seen > rank)
			return (uint32_t)v;
	}
	return (uint32_t)h->s.max;
}

void bt_lat_free(struct bt_lat_hist *h)
{
	free(h->slot);
	h->slot = NULL;
	h->lo = h->n = 0;
}

void bt_calls_free(struct bt_calls_hist *h)
{
	free(h->slot);
	h->slot = NULL;
	h->cap = 0;
}
