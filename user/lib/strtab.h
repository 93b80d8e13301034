/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Interned strings: each distinct string held once and named by a small
 * number. For names many elements share (a service's name over all its
 * connections), so each element keeps 4 bytes instead of its own copy.
 * Any length (the chain analysis' bt_names holds display names cut to an
 * episode's channel length).
 */
#ifndef BT_STRTAB_H
#define BT_STRTAB_H

#include <stddef.h>
#include <stdint.h>
#include "lib/hmap.h"

struct bt_strtab {
	char **v;		/* v[id]: the string, NUL-terminated */
	size_t n, cap;
	struct bt_hmap idx;	/* by the string's bytes */
};

/* The number of s (added if new), or BT_HMAP_NONE when out of memory. */
uint32_t bt_strtab_id(struct bt_strtab *t, const char *s);

static inline const char *bt_strtab_str(const struct bt_strtab *t, uint32_t id)
{
	return t->v[id];
}

void bt_strtab_free(struct bt_strtab *t);

#endif
