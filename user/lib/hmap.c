// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The keyed index; see hmap.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "lib/hmap.h"
#include "lib/vec.h"

#define DEAD	UINT32_MAX
#define MIN_CAP	16

/* splitmix64's finalizer: every input bit moves every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t seed(void)
{
	static uint64_t s;

	/* Once per process; a clock is still a secret of sorts if getrandom fails. */
	if (!s) {
		uint64_t v = 0;

		if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
			v = (uint64_t)time(NULL) ^ (uintptr_t)&s;
		s = v | 1;
	}
	return s;
}

uint64_t bt_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = mix64(seed() ^ len);

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = 0;

		memcpy(&v, b + i, len - i < 8 ? len - i : 8);
		h = mix64(h ^ v);
	}
	return h;
}

uint32_t bt_hmap_get(const struct bt_hmap *m, uint64_t h, bt_hmap_eq eq, const void *ctx,
		     const void *key)
{
	size_t mask = m->cap - 1;

	if (!m->cap)
		return BT_HMAP_NONE;
	/* Half full at most: an empty slot always ends the probe. */
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct bt_hslot *s = &m->slot[i];

		if (!s->val)
			return BT_HMAP_NONE;
		if (s->val != DEAD && s->hash == (uint32_t)h && eq(ctx, s->val - 1, key))
			return s->val - 1;
	}
}

/* The slot holding elem under h, or NULL. */
static struct bt_hslot *find_elem(const struct bt_hmap *m, uint64_t h, uint32_t elem)
{
	size_t mask = m->cap - 1;

	if (!m->cap)
		return NULL;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct bt_hslot *s = &m->slot[i];

		if (!s->val)
			return NULL;
		if (s->val == elem + 1 && s->hash == (uint32_t)h)
			return s;
	}
}

static void place(struct bt_hslot *slot, size_t cap, uint32_t hash, uint32_t val)
{
	size_t i = hash & (cap - 1);

	while (slot[i].val && slot[i].val != DEAD)
		i = (i + 1) & (cap - 1);
	slot[i].hash = hash;
	slot[i].val = val;
}

/*
 * Room for one more, at most half full counting tombstones: doubled
 * when the elements need it, else rebuilt at the same size without the
 * tombstones.
 */
static int reserve(struct bt_hmap *m)
{
	size_t ncap = m->cap ? m->cap : MIN_CAP;
	struct bt_hslot *ns;

	if ((m->n + m->dead + 1) * 2 <= m->cap)
		return 0;
	while ((m->n + 1) * 2 > ncap)
		ncap *= 2;
	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	/*
	 * The 32 bits kept pick the slot: a map of more than 2^32 slots
	 * would spread only over the first 2^32, which is still correct.
	 */
	for (size_t i = 0; i < m->cap; i++)
		if (m->slot[i].val && m->slot[i].val != DEAD)
			place(ns, ncap, m->slot[i].hash, m->slot[i].val);
	free(m->slot);
	m->slot = ns;
	m->cap = ncap;
	m->dead = 0;
	return 0;
}

int bt_hmap_put(struct bt_hmap *m, uint64_t h, uint32_t elem)
{
	size_t mask, i;

	if (elem > BT_HMAP_MAX_ELEM || reserve(m))
		return -1;
	mask = m->cap - 1;
	for (i = h & mask; m->slot[i].val && m->slot[i].val != DEAD; i = (i + 1) & mask)
		;
	if (m->slot[i].val == DEAD)
		m->dead--;
	m->slot[i].hash = (uint32_t)h;
	m->slot[i].val = elem + 1;
	m->n++;
	return 0;
}

bool bt_hmap_del(struct bt_hmap *m, uint64_t h, uint32_t elem)
{
	struct bt_hslot *s = find_elem(m, h, elem);

	if (!s)
		return false;
	s->val = DEAD;
	m->n--;
	m->dead++;
	return true;
}

bool bt_hmap_move(struct bt_hmap *m, uint64_t h, uint32_t from, uint32_t to)
{
	struct bt_hslot *s = find_elem(m, h, from);

	if (!s || to > BT_HMAP_MAX_ELEM)
		return false;
	s->val = to + 1;
	return true;
}

void bt_hmap_clear(struct bt_hmap *m)
{
	if (m->cap)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
	m->dead = 0;
}

void bt_hmap_free(struct bt_hmap *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

uint32_t bt_hmap_intern(struct bt_hmap *m, void **v, size_t *n, size_t *cap, size_t elem,
			size_t max, bt_hmap_eq eq, const void *key, size_t keylen,
			uint32_t recent[2])
{
	uint64_t h;
	uint32_t e;

	for (int i = 0; i < 2; i++)
		if (recent[i] && eq(*v, recent[i] - 1, key))
			return recent[i] - 1;
	h = bt_hash(key, keylen);
	e = bt_hmap_get(m, h, eq, *v, key);
	if (e == BT_HMAP_NONE) {
		if (*n >= max || *n >= BT_HMAP_MAX_ELEM || !bt_grow(v, cap, *n + 1, elem) ||
		    bt_hmap_put(m, h, (uint32_t)*n))
			return BT_HMAP_NONE;
		memcpy((char *)*v + *n * elem, key, elem);
		e = (uint32_t)(*n)++;
	}
	recent[1] = recent[0];
	recent[0] = e + 1;
	return e;
}
