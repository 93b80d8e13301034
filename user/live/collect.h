/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reads the kernel aggregates into the model (summing the per-CPU values). */
#ifndef BT_COLLECT_H
#define BT_COLLECT_H

#include <signal.h>
#include "model/model.h"

/* What the collector did, for -v and for the tests that bound its work. */
struct bt_collect_counters {
	uint64_t map_ops;	/* map syscalls by collections and harvests */
	uint64_t harvest_walks;	/* stats map walks made for exit harvests */
	uint64_t harvested;	/* processes harvested */
	uint64_t harvested_rows;	/* their stats and spill rows taken */
	uint64_t folds;		/* folds made (each: a walk of every row map) */
	uint64_t folded_rows;	/* stats and spill rows of closed channels taken */
	uint64_t fold_chans;	/* channel facts deleted: no row left on them */
	uint64_t rows_deleted;	/* stats and spill rows deleted (harvests and folds) */
};

struct bt_maps {
	int stats_fd;		/* per-CPU aggregate rows */
	int spill_fd;		/* rows stats had no per-CPU memory for, shared (-1: none) */
	int chans_fd;		/* channel facts */
	int wakes_fd;		/* wakeup causality counts */
	int wakestacks_fd;	/* --stacks: waker stacks (-1: none) */
	int lostcalls_fd;	/* calls not counted, per row key (-1: none) */
	int futex_links_fd;	/* futex wake -> the word it ended a wait on (-1: none) */
	int seen_fd;		/* tgid -> name and parent of a process counted unfollowed */
	int accepted_fd;	/* connecting socket's inode -> who accepted it (-1: none) */
	int onehops_fd;		/* chain mode: one-hop exchanges counted (-1: none) */
	int meets_fd;		/* sockets' meets (-1: none): bt_collect_unmet */
	const __u64 *losses;	/* kernel loss counters (mmap'd .bss) */
	/*
	 * The row cache (struct bt_pending), pending_fd -1 when off: the
	 * array of the pending slots (mapped while they are read), the bits
	 * of those that ever held a row, and the flag that keeps the kernel
	 * off them (both in .bss).
	 */
	int pending_fd;
	__u64 *pending_dirty;
	volatile __u32 *rows_collecting;
	struct bt_collect_counters *counters;
	/* Set by a signal: a harvest walk stops (its rows stay for the final collect). */
	const volatile sig_atomic_t *stop;
};

/*
 * Whether the kernel may hold rows per thread (the row cache): a
 * collection must wait out the programs that may be writing them, which
 * takes an RCU grace period (membarrier), not available everywhere.
 */
bool bt_collect_can_hold(void);

/*
 * Adds (sums) every row and wake into m and copies the loss counters.
 * Returns 0, or -errno.
 */
int bt_collect(struct bt_model *m, const struct bt_maps *maps);

/*
 * The answers servers left for their clients that no client took (the
 * trace ended between the two), as the records they would have been.
 * Only once the programs are detached (no client can take one then),
 * and before the collection that names the records (bt_model_collected):
 * bt_tracer_detach.
 * *n: how many. Returns 0 or -errno.
 */
int bt_collect_unmet(struct bt_model *m, const struct bt_maps *maps, size_t *n);

/*
 * Processes exited: move their rows from the kernel into the model for
 * good (they are deleted from the map, so a process that later reuses
 * the pid starts from zero). One walk of the map for all of them, so a
 * batch of exits costs the map once, not once per row. tgids is
 * reordered. Returns 0, -EINTR when *maps->stop was set, or -errno.
 */
int bt_collect_harvest(struct bt_model *m, const struct bt_maps *maps, __u32 *tgids, size_t n);

/*
 * Channels closed: moves the rows of every pipe and socket its process
 * no longer holds (its /proc/PID/fd has no descriptor on the inode) from
 * the kernel into the model for good, as final rows (with their wakes,
 * lost calls and channel facts), so a long trace of many short
 * connections keeps the kernel's maps bounded. Also deletes channel facts
 * no row uses any more. The far ends of folded rows are named by the
 * next collection. Returns 0 or -errno.
 */
int bt_collect_fold(struct bt_model *m, const struct bt_maps *maps);

#endif
