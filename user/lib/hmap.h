/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one keyed index of user/ (the model's processes, rows and lists,
 * the chain analysis's tables): open addressing with linear probing over
 * element numbers. The elements stay in the caller's array; the map holds
 * (hash, element) pairs, so growing never rehashes a key and a probe
 * compares keys only when 32 bits of hash agree. Deleted slots become
 * tombstones, dropped at the next growth.
 *
 * One hash function, bt_hash(), seeded at random once per process: keys
 * read from a file cannot be aimed at one slot.
 */
#ifndef BT_HMAP_H
#define BT_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What bt_hmap_get returns for a key it does not hold. */
#define BT_HMAP_NONE	UINT32_MAX
/* Elements are numbered 0 .. BT_HMAP_MAX_ELEM. */
#define BT_HMAP_MAX_ELEM (UINT32_MAX - 2)

struct bt_hslot {
	uint32_t hash;		/* low 32 bits of the key's hash */
	uint32_t val;		/* element + 1; 0 empty; UINT32_MAX deleted */
};

struct bt_hmap {
	struct bt_hslot *slot;
	size_t cap;		/* slots, a power of two (0 before the first put) */
	size_t n;		/* elements held */
	size_t dead;		/* tombstones */
};

/* Whether element elem of the caller's array (ctx) has key. */
typedef bool (*bt_hmap_eq)(const void *ctx, uint32_t elem, const void *key);

/* The hash of len bytes. Equal bytes, equal hash (within one process). */
uint64_t bt_hash(const void *p, size_t len);

/* The element with key (hash h), or BT_HMAP_NONE. */
uint32_t bt_hmap_get(const struct bt_hmap *m, uint64_t h, bt_hmap_eq eq, const void *ctx,
		     const void *key);
/*
 * Files element elem under hash h (its key must not be in the map yet).
 * Grows the map to stay at most half full. 0, or -1 when out of memory.
 */
int bt_hmap_put(struct bt_hmap *m, uint64_t h, uint32_t elem);
/* Forgets element elem, filed under h. False if it was not there. */
bool bt_hmap_del(struct bt_hmap *m, uint64_t h, uint32_t elem);
/* Element from, filed under h, is now element to (it moved in the array). */
bool bt_hmap_move(struct bt_hmap *m, uint64_t h, uint32_t from, uint32_t to);
/*
 * An interning table: the number of key among the *n elements of elem
 * bytes of the caller's array *v (room *cap), appended (elem bytes
 * copied from key) when new. The hash is of key's first keylen bytes;
 * eq compares with ctx *v. recent: the two found last (+ 1, 0 none),
 * tried before hashing, since keys come in runs (a conversation's
 * records, alternating between its two ends). BT_HMAP_NONE when out of
 * memory or when a new key would make more than max.
 */
uint32_t bt_hmap_intern(struct bt_hmap *m, void **v, size_t *n, size_t *cap, size_t elem,
			size_t max, bt_hmap_eq eq, const void *key, size_t keylen,
			uint32_t recent[2]);
/* Forgets every element; keeps the memory for the next ones. */
void bt_hmap_clear(struct bt_hmap *m);
void bt_hmap_free(struct bt_hmap *m);

#endif
