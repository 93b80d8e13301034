// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A sorted key to many elements (lib/keyidx.h). */
#include <stdlib.h>
#include <string.h>
#include "lib/keyidx.h"
#include "lib/vec.h"

int bt_keyidx_add(struct bt_keyidx *ix, const void *key, size_t len, uint32_t a, uint32_t b)
{
	struct bt_keyidx_ent *e;

	if (len > BT_KEYIDX_KEY || !bt_grow((void **)&ix->v, &ix->cap, ix->n + 1, sizeof(*ix->v)))
		return -1;
	e = &ix->v[ix->n++];
	memset(e->key, 0, sizeof(e->key));
	memcpy(e->key, key, len);
	e->a = a;
	e->b = b;
	return 0;
}

static int cmp_ent(const void *x, const void *y)
{
	const struct bt_keyidx_ent *p = x, *q = y;
	int c = memcmp(p->key, q->key, sizeof(p->key));

	if (c)
		return c;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

void bt_keyidx_sort(struct bt_keyidx *ix)
{
	if (ix->n)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_ent);
	/* Built: it grows no more, and doubling left up to half of it unused. */
	bt_fit((void **)&ix->v, &ix->cap, ix->n, sizeof(*ix->v));
}

/* The first entry whose key is at least key (after = 0) or above it (after = 1). */
static size_t bound(const struct bt_keyidx *ix, const uint8_t *key, int after)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ix->v[mid].key, key, BT_KEYIDX_KEY);

		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t bt_keyidx_find(const struct bt_keyidx *ix, const void *key, size_t len, size_t *end)
{
	uint8_t k[BT_KEYIDX_KEY] = { 0 };

	memcpy(k, key, len < sizeof(k) ? len : sizeof(k));
	*end = bound(ix, k, 1);
	return bound(ix, k, 0);
}

void bt_keyidx_free(struct bt_keyidx *ix)
{
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}
