// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interned strings (lib/strtab.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "lib/strtab.h"
#include "lib/vec.h"

static bool str_eq(const void *ctx, uint32_t e, const void *key)
{
	return !strcmp(((char *const *)ctx)[e], key);
}

uint32_t bt_strtab_id(struct bt_strtab *t, const char *s)
{
	uint64_t h = bt_hash(s, strlen(s));
	uint32_t e = bt_hmap_get(&t->idx, h, str_eq, t->v, s);
	char *c;

	if (e != BT_HMAP_NONE)
		return e;
	if (t->n >= BT_HMAP_MAX_ELEM || !bt_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return BT_HMAP_NONE;
	c = strdup(s);
	if (!c)
		return BT_HMAP_NONE;
	if (bt_hmap_put(&t->idx, h, (uint32_t)t->n)) {
		free(c);
		return BT_HMAP_NONE;
	}
	t->v[t->n] = c;
	return (uint32_t)t->n++;
}

void bt_strtab_free(struct bt_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	bt_hmap_free(&t->idx);
	memset(t, 0, sizeof(*t));
}
