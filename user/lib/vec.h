/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Growable arrays and lookups in sorted ones: the containers of user/
 * (the model, symbol tables, /proc/PID/maps, socket lists) share them.
 */
#ifndef BT_VEC_H
#define BT_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Room for need elements of elem bytes in *arr, by doubling from 16; the
 * new room is zeroed. False when out of memory (the array is kept).
 */
bool bt_grow(void **arr, size_t *cap, size_t need, size_t elem);
/*
 * As bt_grow, but the new room is left as the allocator gives it (see
 * bt_resize_raw): for a log whose elements are written before they are
 * read, which holds then only what it used of its doubled room.
 */
bool bt_grow_raw(void **arr, size_t *cap, size_t need, size_t elem);
/*
 * Gives back the room past the first n elements (a list that will not
 * grow again: doubling leaves up to half of it unused). Kept as it is
 * when the allocator cannot.
 */
void bt_fit(void **arr, size_t *cap, size_t n, size_t elem);

/*
 * Room for exactly cap_want elements of elem bytes in *arr, growing or
 * shrinking it (the new room is zeroed): for arrays whose size follows a
 * load that comes and goes. False when out of memory (the array is kept).
 */
bool bt_resize(void **arr, size_t *cap, size_t cap_want, size_t elem);
/*
 * As bt_resize, but the new room is left as the allocator gives it: pages
 * never written cost no memory, so an array whose elements are written
 * before they are read holds only as much as it used.
 */
bool bt_resize_raw(void **arr, size_t *cap, size_t cap_want, size_t elem);

/* qsort/bsearch order of uint64_t values. */
int bt_cmp_u64(const void *a, const void *b);

/*
 * Sorts the n elements of base (elem bytes each) with cmp, which orders
 * them by the uint64_t at byte off first, and keeps the first of each run
 * with the same key: how many are left, at the front.
 */
size_t bt_sort_unique_u64(void *base, size_t n, size_t elem, size_t off,
			  int (*cmp)(const void *, const void *));

/*
 * How many of the n elements of base (elem bytes each, sorted by the
 * uint64_t at byte off of each) have that key at or below key: the one
 * before that index is the last starting at or below key.
 */
static inline size_t bt_upper_bound_u64(const void *base, size_t n, size_t elem, size_t off,
					uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;

		memcpy(&v, (const char *)base + mid * elem + off, sizeof(v));
		if (v <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index of the first of the n elements (sorted as above) whose key is key or more. */
static inline size_t bt_lower_bound_u64(const void *base, size_t n, size_t elem, size_t off,
					uint64_t key)
{
	return key ? bt_upper_bound_u64(base, n, elem, off, key - 1) : 0;
}

/* Whether the sorted array v of n values holds x. */
static inline bool bt_sorted_has_u64(const uint64_t *v, size_t n, uint64_t x)
{
	size_t i = bt_upper_bound_u64(v, n, sizeof(*v), 0, x);

	return i && v[i - 1] == x;
}

#endif
