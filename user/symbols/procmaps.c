// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "symbols/procmaps.h"
#include "lib/vec.h"

#define DELETED_SUFFIX " (deleted)"

void bt_maps_init(struct bt_maps *m)
{
	memset(m, 0, sizeof(*m));
}

void bt_maps_free(struct bt_maps *m)
{
	free(m->v);
	free(m->pool);
	bt_maps_init(m);
}

/*
 * Lines are not NUL-terminated inside a buffer, so every scan is bounded
 * by end. A NULL p (an earlier field failed) passes through, so that the
 * fields of a line chain without a check after each.
 */
static const char *parse_hex(const char *p, const char *end, uint64_t *val)
{
	uint64_t v = 0;
	const char *start = p;

	if (!p)
		return NULL;
	for (; p < end; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (v >> 60)
			return NULL;
		v = v << 4 | (uint64_t)d;
	}
	if (p == start)
		return NULL;
	*val = v;
	return p;
}

static const char *parse_dec(const char *p, const char *end, uint64_t *val)
{
	uint64_t v = 0;
	const char *start = p;

	if (!p)
		return NULL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == start)
		return NULL;
	*val = v;
	return p;
}

static const char *expect(const char *p, const char *end, char c)
{
	return p && p < end && *p == c ? p + 1 : NULL;
}

static const char *parse_perms(const char *p, const char *end, uint32_t *flags)
{
	if (!p || end - p < 4)
		return NULL;
	*flags = 0;
	if (p[0] == 'r')
		*flags |= BT_MAP_R;
	if (p[1] == 'w')
		*flags |= BT_MAP_W;
	if (p[2] == 'x')
		*flags |= BT_MAP_X;
	if (p[3] == 's')
		*flags |= BT_MAP_SHARED;
	return p + 4;
}

int bt_maps_parse_line(const char *line, size_t len, struct bt_map *out,
		       const char **path, size_t *pathlen)
{
	const char *p = line, *end = line + len;
	uint64_t major = 0, minor = 0;
	size_t slen = strlen(DELETED_SUFFIX);

	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	memset(out, 0, sizeof(*out));
	p = parse_hex(p, end, &out->start);
	p = parse_hex(expect(p, end, '-'), end, &out->end);
	p = parse_perms(expect(p, end, ' '), end, &out->flags);
	p = parse_hex(expect(p, end, ' '), end, &out->pgoff);
	p = parse_hex(expect(p, end, ' '), end, &major);
	p = parse_hex(expect(p, end, ':'), end, &minor);
	p = parse_dec(expect(p, end, ' '), end, &out->inode);
	if (!p || out->end <= out->start || major > UINT32_MAX || minor > UINT32_MAX)
		return -1;
	if (p < end && *p != ' ')
		return -1;
	out->dev_major = (uint32_t)major;
	out->dev_minor = (uint32_t)minor;
	while (p < end && *p == ' ')
		p++;
	if ((size_t)(end - p) > slen && !memcmp(end - slen, DELETED_SUFFIX, slen)) {
		end -= slen;
		out->flags |= BT_MAP_DELETED;
	}
	*path = p;
	*pathlen = (size_t)(end - p);
	return 0;
}

/* Consecutive mappings of one file share its path in the pool. */
static int intern_path(struct bt_maps *m, const char *path, size_t len, uint32_t *off)
{
	if (m->n && m->pool) {
		const char *last = m->pool + m->v[m->n - 1].path;

		if (strlen(last) == len && !memcmp(last, path, len)) {
			*off = m->v[m->n - 1].path;
			return 0;
		}
	}
	if (!len && m->pool) {
		*off = 0;
		return 0;
	}
	if (m->pool_len + len + 1 > BT_MAPS_MAX_POOL)
		return -E2BIG;
	if (!m->pool_len) {
		/* Offset 0 is always "", the path of anonymous mappings. */
		if (!bt_grow((void **)&m->pool, &m->pool_cap, 1, 1))
			return -ENOMEM;
		m->pool[0] = 0;
		m->pool_len = 1;
		if (!len) {
			*off = 0;
			return 0;
		}
	}
	if (!bt_grow((void **)&m->pool, &m->pool_cap, m->pool_len + len + 1, 1))
		return -ENOMEM;
	memcpy(m->pool + m->pool_len, path, len);
	m->pool[m->pool_len + len] = 0;
	*off = (uint32_t)m->pool_len;
	m->pool_len += len + 1;
	return 0;
}

static int add_line(struct bt_maps *m, const char *line, size_t len)
{
	struct bt_map e;
	const char *path;
	size_t plen;
	int err;

	if (!len || (len == 1 && line[0] == '\n'))
		return 0;
	if (bt_maps_parse_line(line, len, &e, &path, &plen) || m->n >= BT_MAPS_MAX_ENTRIES) {
		m->skipped++;
		return 0;
	}
	err = intern_path(m, path, plen, &e.path);
	if (err == -E2BIG) {
		m->skipped++;
		return 0;
	}
	if (err || !bt_grow((void **)&m->v, &m->cap, m->n + 1, sizeof(*m->v)))
		return -ENOMEM;
	m->v[m->n++] = e;
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct bt_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The kernel prints maps sorted; fixture text need not be. */
static void sort_maps(struct bt_maps *m)
{
	size_t i;

	for (i = 1; i < m->n; i++) {
		if (m->v[i - 1].start > m->v[i].start) {
			qsort(m->v, m->n, sizeof(*m->v), cmp_start);
			return;
		}
	}
}

int bt_maps_parse(struct bt_maps *m, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (add_line(m, p, l))
			return -ENOMEM;
		p += l + (nl ? 1 : 0);
	}
	sort_maps(m);
	return 0;
}

int bt_maps_read(struct bt_maps *m, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = 0;

	while ((n = getline(&line, &cap, f)) > 0) {
		if (add_line(m, line, (size_t)n)) {
			err = -ENOMEM;
			break;
		}
	}
	free(line);
	sort_maps(m);
	return err;
}

const struct bt_map *bt_maps_find(const struct bt_maps *m, uint64_t addr)
{
	/* The last mapping starting at or below addr is the only candidate. */
	size_t lo = bt_upper_bound_u64(m->v, m->n, sizeof(*m->v), offsetof(struct bt_map, start),
				       addr);

	if (!lo || addr >= m->v[lo - 1].end)
		return NULL;
	return &m->v[lo - 1];
}
