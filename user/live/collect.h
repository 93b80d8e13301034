/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reads the kernel aggregates into the model (summing the per-CPU values). */
#ifndef BT_COLLECT_H
#define BT_COLLECT_H

#include "model/model.h"

struct bt_maps {
	int stats_fd;		/* per-CPU aggregate rows */
	int chans_fd;		/* channel facts */
	int wakes_fd;		/* wakeup causality counts */
	int wakestacks_fd;	/* --stacks: waker stacks (-1: none) */
	int seen_fd;		/* tgid -> name and parent of a process counted unfollowed */
	int accepted_fd;	/* connecting socket's inode -> who accepted it (-1: none) */
	int futex_links_fd;	/* futex wake -> the word it ended a wait on (-1: none) */
	const __u64 *losses;	/* kernel loss counters (mmap'd .bss) */
};

/*
 * Adds (sums) every row and wake into m and copies the loss counters.
 * Returns 0, or -errno.
 */
int bt_collect(struct bt_model *m, const struct bt_maps *maps);

/*
 * A process exited: move its rows from the kernel into the model for
 * good (they are deleted from the map, so a process that later reuses
 * the pid starts from zero). Returns 0, or -errno.
 */
int bt_collect_harvest(struct bt_model *m, const struct bt_maps *maps, __u32 tgid);

#endif
