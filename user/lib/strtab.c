// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interned strings (lib/strtab.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "lib/strtab.h"
#include "lib/vec.h"

/* A name looked up: s is not NUL-terminated at len (it may be cut there). */
struct key {
	const char *s;
	size_t len;
	uint8_t kind;
};

/* Whether the stored e is the key: its kind, its len bytes, then its end. */
static bool key_eq(const char *e, const struct key *k)
{
	return (uint8_t)e[0] == k->kind && !strncmp(e + 1, k->s, k->len) && !e[1 + k->len];
}

static bool entry_eq(const void *ctx, uint32_t e, const void *key)
{
	return key_eq(((char *const *)ctx)[e], key);
}

static uint32_t found(struct bt_strtab *t, uint32_t id)
{
	t->recent[1] = t->recent[0];
	t->recent[0] = id + 1;
	return id;
}

uint32_t bt_strtab_kind_id(struct bt_strtab *t, uint8_t kind, const char *s, size_t max)
{
	struct key k = { s, strnlen(s, max - 1), kind };
	uint64_t h;
	uint32_t e;
	char *c;

	/* Records come in runs: the last two names found need no hash. */
	for (int i = 0; i < 2; i++)
		if (t->recent[i] && key_eq(t->v[t->recent[i] - 1], &k))
			return t->recent[i] - 1;
	/* The kind moves the hash: one name of two kinds is two keys, in two slots. */
	h = bt_hash(s, k.len) ^ ((uint64_t)kind * 0x9e3779b97f4a7c15ULL);
	e = bt_hmap_get(&t->idx, h, entry_eq, t->v, &k);
	if (e != BT_HMAP_NONE)
		return found(t, e);
	if (t->n >= BT_HMAP_MAX_ELEM || !bt_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return BT_HMAP_NONE;
	c = malloc(k.len + 2);
	if (!c)
		return BT_HMAP_NONE;
	c[0] = (char)kind;
	memcpy(c + 1, s, k.len);
	c[1 + k.len] = 0;
	if (bt_hmap_put(&t->idx, h, (uint32_t)t->n)) {
		free(c);
		return BT_HMAP_NONE;
	}
	t->v[t->n] = c;
	return found(t, (uint32_t)t->n++);
}

void bt_strtab_free(struct bt_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	bt_hmap_free(&t->idx);
	memset(t, 0, sizeof(*t));
}
