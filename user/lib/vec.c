// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdint.h>
#include <stdlib.h>
#include "lib/vec.h"

bool bt_grow_raw(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	return ncap <= SIZE_MAX / elem && bt_resize_raw(arr, cap, ncap, elem);
}

bool bt_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t old = *cap;

	if (need <= *cap)
		return true;
	if (!bt_grow_raw(arr, cap, need, elem))
		return false;
	memset((char *)*arr + old * elem, 0, (*cap - old) * elem);
	return true;
}

bool bt_resize_raw(void **arr, size_t *cap, size_t cap_want, size_t elem)
{
	void *p;

	if (cap_want == *cap)
		return true;
	if (!cap_want || cap_want > SIZE_MAX / elem)
		return false;
	p = realloc(*arr, cap_want * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = cap_want;
	return true;
}

bool bt_resize(void **arr, size_t *cap, size_t cap_want, size_t elem)
{
	size_t old = *cap;

	if (!bt_resize_raw(arr, cap, cap_want, elem))
		return false;
	if (cap_want > old)
		memset((char *)*arr + old * elem, 0, (cap_want - old) * elem);
	return true;
}

void bt_fit(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n >= *cap)
		return;
	if (n) {
		bt_resize(arr, cap, n, elem);	/* kept as it is when realloc cannot */
		return;
	}
	free(*arr);
	*arr = NULL;
	*cap = 0;
}

int bt_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t bt_sort_unique_u64(void *base, size_t n, size_t elem, size_t off,
			  int (*cmp)(const void *, const void *))
{
	char *v = base;
	size_t kept = 0;

	if (!n)
		return 0;
	qsort(v, n, elem, cmp);
	for (size_t i = 0; i < n; i++) {
		if (kept &&
		    !memcmp(v + (kept - 1) * elem + off, v + i * elem + off, sizeof(uint64_t)))
			continue;
		if (kept != i)
			memcpy(v + kept * elem, v + i * elem, elem);
		kept++;
	}
	return kept;
}
