// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Distributions that merge across windows (exchist.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/exchist.h"
#include "lat_slot.h"
#include "lib/vec.h"

#define LAT_BITS	BT_LAT_BITS
#define LAT_SUB		BT_LAT_SUB
#define LAT_SLOTS	BT_LAT_SLOTS

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

/* Room for slot i: the held range grows to cover it, by at least one power of two. */
static int lat_cover(struct bt_lat_hist *h, unsigned int i)
{
	unsigned int lo, hi;
	uint64_t *v;

	if (h->slot && i >= h->base && i < h->base + h->len)
		return 0;
	lo = h->slot && h->base < i ? h->base : i;
	hi = h->slot && h->base + h->len > i + 1 ? h->base + h->len : i + 1;
	if (h->slot) {
		lo = lo > LAT_SUB ? lo - LAT_SUB : 0;
		hi = hi + LAT_SUB < LAT_SLOTS ? hi + LAT_SUB : LAT_SLOTS;
		if (i >= h->base)
			lo = h->base;
		else
			hi = h->base + h->len;
	}
	v = calloc(hi - lo, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (h->slot)
		memcpy(v + (h->base - lo), h->slot, h->len * sizeof(*v));
	free(h->slot);
	h->slot = v;
	h->base = lo;
	h->len = hi - lo;
	return 0;
}

int bt_lat_add(struct bt_lat_hist *h, uint64_t v)
{
	unsigned int i = bt_lat_slot(v);

	if (lat_cover(h, i))
		return -ENOMEM;
	h->slot[i - h->base]++;
	xspan_add(&h->s, v);
	return 0;
}

int bt_lat_add_slot(struct bt_lat_hist *h, uint32_t slot, uint64_t n, uint64_t min, uint64_t max)
{
	if (!n)
		return 0;
	if (slot >= LAT_SLOTS || min > max || bt_lat_slot(min) != slot || bt_lat_slot(max) != slot)
		return -EINVAL;
	if (lat_cover(h, slot))
		return -ENOMEM;
	h->slot[slot - h->base] += n;
	if (!h->s.n || min < h->s.min)
		h->s.min = min;
	if (max > h->s.max)
		h->s.max = max;
	h->s.n += n;
	return 0;
}

uint64_t bt_lat_pct(const struct bt_lat_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->s.n)
		return 0;
	rank = xspan_rank(&h->s, q);
	for (unsigned int i = h->base; i < h->base + h->len; i++) {
		unsigned int o = i / LAT_SUB + LAT_BITS - 1;
		uint64_t low, width, v;

		seen += h->slot[i - h->base];
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

/* dst's span takes src's samples (both may be empty). */
static void xspan_merge(struct bt_xspan *dst, const struct bt_xspan *src)
{
	if (!src->n)
		return;
	if (!dst->n || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
}

int bt_lat_merge(struct bt_lat_hist *dst, const struct bt_lat_hist *src)
{
	if (!src->s.n)
		return 0;
	if (lat_cover(dst, src->base) || lat_cover(dst, src->base + src->len - 1))
		return -ENOMEM;
	for (unsigned int i = 0; i < src->len; i++)
		dst->slot[src->base + i - dst->base] += src->slot[i];
	xspan_merge(&dst->s, &src->s);
	return 0;
}

int bt_calls_merge(struct bt_calls_hist *dst, const struct bt_calls_hist *src)
{
	if (src->cap > dst->cap &&
	    !bt_grow((void **)&dst->slot, &dst->cap, src->cap, sizeof(*dst->slot)))
		return -ENOMEM;
	for (size_t v = 0; v < src->cap; v++)
		dst->slot[v] += src->slot[v];
	dst->over += src->over;
	xspan_merge(&dst->s, &src->s);
	return 0;
}

void bt_lat_free(struct bt_lat_hist *h)
{
	free(h->slot);
	h->slot = NULL;
	h->base = h->len = 0;
}

void bt_calls_free(struct bt_calls_hist *h)
{
	free(h->slot);
	h->slot = NULL;
	h->cap = 0;
}

int bt_tidset_add(struct bt_tidset *s, uint32_t tid)
{
	if (s->n && s->v[s->n - 1] == tid)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i] == tid) {
			/* Keep the latest at the end: the next root is most likely on it. */
			s->v[i] = s->v[s->n - 1];
			s->v[s->n - 1] = tid;
			return 0;
		}
	}
	if (!bt_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return -ENOMEM;
	s->v[s->n++] = tid;
	return 0;
}

void bt_tidset_free(struct bt_tidset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
