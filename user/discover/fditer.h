/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pipe and socket fds of processes from a BPF task_file iterator
 * (bpf/fdscan.bpf.c): what procscan.c reads from /proc/PID/fd with a
 * readlink per fd and an fdinfo read per pipe, in one read() per page of
 * records. procscan.c uses it when it can be loaded (root, a kernel with
 * BTF and iterators) and /proc when not.
 */
#ifndef BT_FDITER_H
#define BT_FDITER_H

#include <stddef.h>
#include <stdint.h>
#include "discover/procscan.h"

struct bt_fditer;

/* Loads the iterator: 0 or -errno (*it NULL then). */
int bt_fditer_open(struct bt_fditer **it);
/*
 * Appends, as bt_scan_process_fds does, the pipe, FIFO and socket fds of
 * process pid (0: of every process, tick(ctx) between reads) to *arr.
 * 0 or -errno, *n as it was on error: -ESRCH for a pid that names no
 * process, -EOPNOTSUPP when this kernel cannot iterate one process alone
 * (before 6.1).
 */
int bt_fditer_scan(struct bt_fditer *it, uint32_t pid, struct bt_fdref **arr, size_t *n,
		   size_t *cap, bt_tick_fn tick, void *ctx);
void bt_fditer_close(struct bt_fditer *it);

#endif
