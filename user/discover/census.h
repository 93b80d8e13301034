/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket censuses: every socket of boundtrace's network namespace (unix
 * from sock_diag, TCP and UDP from /proc/net), by inode, once before the
 * programs attach and once when the trace ends. A connection whose
 * socket the first census lacks was opened during the trace; one the
 * last census lacks was closed (its last descriptor closed, or its
 * process exited: a TCP socket in TIME_WAIT has no inode any more).
 * Two reads of the tables per trace: nothing in the kernel's hot path.
 */
#ifndef BT_CENSUS_H
#define BT_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

struct bt_census {
	uint64_t *ino;		/* socket inodes, sorted, unique */
	size_t n, cap;
	uint32_t netns;		/* the namespace read (its inode number) */
	bool taken;		/* false: the tables could not be read */
};

/* Reads the census into c (emptied first); 0 or -errno (c->taken false). */
int bt_census_take(struct bt_census *c);
void bt_census_free(struct bt_census *c);
bool bt_census_has(const struct bt_census *c, uint64_t ino);

/*
 * Sets each socket row's bt_chan_info.conn from the censuses (end may be
 * NULL or not taken yet: ALIVE/GONE left unknown). Rows of sockets in
 * another network namespace, and pipes and futexes, stay unknown.
 */
void bt_census_mark(struct bt_model *m, const struct bt_census *start,
		    const struct bt_census *end);

#endif
