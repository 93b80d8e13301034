/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The in-memory model every exporter reads: processes and their boundary
 * rows (one per kind, channel and direction), plus what was lost. Built
 * from the kernel maps by collect.c; exporters never look at BPF.
 */
#ifndef BT_MODEL_H
#define BT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "boundtrace.h"

#define BT_CHANNEL_LEN	192

struct bt_row {
	struct bt_key key;
	struct bt_stats st;
	struct bt_chan_info info;
	bool has_info;
	char channel[BT_CHANNEL_LEN];
};

struct bt_proc {
	uint32_t pid;
	uint64_t start_ns;	/* kernel start time of the process, 0 unknown */
	char comm[BT_COMM_LEN];
	bool exited;
	int exit_code;		/* wait status, valid when exited */
	struct bt_row *rows;
	size_t nrows, cap;
};

struct bt_model {
	struct bt_proc *procs;
	size_t nprocs, cap;
	uint64_t duration_ns;
	uint64_t lost[BT_LOSS_MAX];
};

void bt_model_init(struct bt_model *m);
void bt_model_free(struct bt_model *m);
/* Drop every row but keep the processes (interval snapshots refill them). */
void bt_model_clear_rows(struct bt_model *m);
struct bt_proc *bt_model_find(struct bt_model *m, uint32_t pid);
/* Find or add; NULL only when out of memory. */
struct bt_proc *bt_model_proc(struct bt_model *m, uint32_t pid);
/* Add (or sum into) the row for key; info may be NULL. */
struct bt_row *bt_model_add(struct bt_model *m, const struct bt_key *key,
			    const struct bt_stats *st, const struct bt_chan_info *info);
/* Sum b into a. */
void bt_stats_add(struct bt_stats *a, const struct bt_stats *b);
/* Processes by pid, rows by kind, channel, direction: stable output. */
void bt_model_sort(struct bt_model *m);

#endif
