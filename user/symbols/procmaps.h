/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * /proc/PID/maps parsing. The parser reads text (a buffer or a FILE *)
 * rather than a pid so that tests can feed fixture lines, and so that the
 * symbolizer can keep a process's layout after the process is gone.
 */
#ifndef BT_PROCMAPS_H
#define BT_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	BT_MAP_R = 1 << 0,
	BT_MAP_W = 1 << 1,
	BT_MAP_X = 1 << 2,
	BT_MAP_SHARED = 1 << 3,
	/* The path ended in " (deleted)"; the suffix is not part of path. */
	BT_MAP_DELETED = 1 << 4,
};

/* Memory bounds: a little above the kernel's default vm.max_map_count. */
#define BT_MAPS_MAX_ENTRIES 70000
#define BT_MAPS_MAX_POOL (16u << 20)

struct bt_map {
	uint64_t start, end;	/* [start, end) */
	uint64_t pgoff;		/* file offset of start */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	uint32_t flags;		/* BT_MAP_* */
	uint32_t path;		/* offset in bt_maps.pool; "" when anonymous */
};

/* Mappings sorted by start; paths live in one pool to keep allocations few. */
struct bt_maps {
	struct bt_map *v;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
	size_t skipped;		/* malformed or over-limit lines */
};

void bt_maps_init(struct bt_maps *m);
void bt_maps_free(struct bt_maps *m);
/*
 * Parses one line (without or with its '\n'); 0 on success, -1 when the
 * line is malformed. *path and *pathlen point into line.
 */
int bt_maps_parse_line(const char *line, size_t len, struct bt_map *out,
		       const char **path, size_t *pathlen);
/* Append every line of text/f to m, then sort; 0 or -ENOMEM. */
int bt_maps_parse(struct bt_maps *m, const char *text, size_t len);
int bt_maps_read(struct bt_maps *m, FILE *f);
/* The mapping holding addr, or NULL. */
const struct bt_map *bt_maps_find(const struct bt_maps *m, uint64_t addr);

static inline const char *bt_maps_path(const struct bt_maps *m, const struct bt_map *e)
{
	return m->pool + e->path;
}

#endif
