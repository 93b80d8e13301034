/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Turns the kernel's stack ids into folded frame strings, once, with the
 * one symbolizer (user/symbolize.c), so the model carries text that
 * outlives the trace (and the recording needs no binaries).
 */
#ifndef BT_STACKS_H
#define BT_STACKS_H

#include "model/model.h"
#include "symbols/symbolize.h"

/*
 * Resolves every stack the model's stack rows use from the stack-trace
 * map. User frames are looked up in the process's maps as registered
 * with sym. 0, or -ENOMEM.
 */
int bt_stacks_resolve(struct bt_model *m, int stacks_fd, struct bt_sym *sym);

/*
 * Reads kallsyms once for the kernel's syscall path and the hook's own
 * frames (what a stack taken at a syscall's exit holds). 0, or -errno.
 */
int bt_stacks_preload(struct bt_sym *sym);

/*
 * Folds ips (leaf first, as the kernel gives them) root first into buf;
 * caller (user stacks), when not 0, is put back after the leaf.
 */
void bt_stacks_fold(struct bt_sym *sym, uint32_t pid, bool kernel, const __u64 *ips,
		    size_t n, __u64 caller, char *buf, size_t len);

#endif
