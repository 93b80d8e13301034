/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reads the kernel aggregates into the model (summing the per-CPU values). */
#ifndef BT_COLLECT_H
#define BT_COLLECT_H

#include "model.h"

/*
 * stats_fd: the per-CPU aggregate map; chans_fd: channel facts;
 * losses: the kernel loss counters. Rows are added to (summed into) m.
 * Returns 0, or -errno.
 */
int bt_collect(struct bt_model *m, int stats_fd, int chans_fd, const __u64 *losses);

#endif
