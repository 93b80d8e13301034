/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Interned strings: each distinct (kind, string) held once and named by a
 * small number. For names many elements share (a service's name over all
 * its connections, a channel's over all its episodes), so each element
 * keeps 4 bytes instead of its own copy. The kind is the caller's: the
 * chain analysis tells a pipe and a socket of one name apart by it; 0
 * when there is none. Any length, or cut where the caller's buffer ends.
 */
#ifndef BT_STRTAB_H
#define BT_STRTAB_H

#include <stddef.h>
#include <stdint.h>
#include "lib/hmap.h"

struct bt_strtab {
	char **v;		/* v[id]: the kind byte, then the string, NUL-terminated */
	size_t n, cap;
	struct bt_hmap idx;	/* by (kind, bytes) */
	uint32_t recent[2];	/* the last two ids found, + 1: names come in runs of a few */
};

/*
 * The number of (kind, s) (added if new), or BT_HMAP_NONE when out of
 * memory. s is read up to its NUL or max - 1 bytes (max >= 1): a caller's
 * buffer may be full, and the name is then its first max - 1 bytes.
 */
uint32_t bt_strtab_kind_id(struct bt_strtab *t, uint8_t kind, const char *s, size_t max);

/* The number of s, whole, of kind 0. */
static inline uint32_t bt_strtab_id(struct bt_strtab *t, const char *s)
{
	return bt_strtab_kind_id(t, 0, s, SIZE_MAX);
}

static inline const char *bt_strtab_str(const struct bt_strtab *t, uint32_t id)
{
	return t->v[id] + 1;
}

static inline uint8_t bt_strtab_kind(const struct bt_strtab *t, uint32_t id)
{
	return (uint8_t)t->v[id][0];
}

void bt_strtab_free(struct bt_strtab *t);

#endif
