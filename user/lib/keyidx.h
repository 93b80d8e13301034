/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A key to many elements, built once and then only read: analyses that
 * would otherwise scan every row for each row (pairing, edges) look their
 * candidates up here. Entries are (key, a, b), sorted by key then a then
 * b, so the elements under one key come out in the order a scan of the
 * caller's arrays (a outer, b inner) would meet them.
 */
#ifndef BT_KEYIDX_H
#define BT_KEYIDX_H

#include <stddef.h>
#include <stdint.h>

/* Longest key: a kind, two ports, two 16-byte addresses fit. */
#define BT_KEYIDX_KEY	40

struct bt_keyidx_ent {
	uint8_t key[BT_KEYIDX_KEY];	/* zero-padded */
	uint32_t a, b;
};

struct bt_keyidx {
	struct bt_keyidx_ent *v;
	size_t n, cap;
};

/* Files (a, b) under the first len bytes of key. 0, or -1 when out of memory. */
int bt_keyidx_add(struct bt_keyidx *ix, const void *key, size_t len, uint32_t a, uint32_t b);
/* Sorts the entries and gives back unused room: call once after the last add, before any find. */
void bt_keyidx_sort(struct bt_keyidx *ix);
/* The entries under key: index of the first, *end one past the last. */
size_t bt_keyidx_find(const struct bt_keyidx *ix, const void *key, size_t len, size_t *end);
void bt_keyidx_free(struct bt_keyidx *ix);

#endif
