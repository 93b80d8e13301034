/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What userspace reads from /proc about a process. */
#ifndef BT_PROC_H
#define BT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool bt_proc_exists(uint32_t pid);
/*
 * comm from /proc/PID/comm and the start time (ns since boot, from
 * /proc/PID/stat field 22, at clock-tick resolution); 0 on success, -1 if
 * the process is gone.
 */
int bt_proc_read_identity(uint32_t pid, char *comm, size_t commlen, uint64_t *start_ns);
/*
 * The kernel's start time of a process (task start_boottime: ns since
 * boot, suspend included) as /proc/PID/stat gives it: whole clock ticks.
 * One clock and one resolution for every start_ns in the model.
 */
uint64_t bt_proc_start_ns(uint64_t boot_ns);
/* The executable's path (readlink /proc/PID/exe); "" when unreadable. */
void bt_proc_read_exe(uint32_t pid, char *buf, size_t len);
/* The parent pid (/proc/PID/stat field 4); 0 if the process is gone. */
uint32_t bt_proc_read_ppid(uint32_t pid);
struct bt_proc;
/*
 * The process's name, start time and executable, read into its model
 * entry while it is alive to be read; -1 if it is gone.
 */
int bt_proc_read_image(struct bt_proc *p);
/* Parses the start time (clock ticks) out of a /proc/PID/stat line; 0 on success. */
int bt_proc_parse_stat_start(const char *stat, unsigned long long *ticks);
/*
 * The state letter ('Z' zombie, 'X' dead) and the flags (PF_KTHREAD:
 * a kernel thread) of /proc/PID/stat text, or of a live pid. 0 or -1.
 */
#define BT_PF_KTHREAD 0x00200000ul
int bt_proc_parse_stat_state(const char *stat, char *state, unsigned long *flags);
int bt_proc_read_state(uint32_t pid, char *state, unsigned long *flags);

#endif
