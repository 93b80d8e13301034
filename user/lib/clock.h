/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The clocks userspace reads, as nanoseconds. */
#ifndef BT_CLOCK_H
#define BT_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC: the clock bpf_ktime_get_ns() reads. */
uint64_t bt_mono_ns(void);
/* The calling thread's CPU time (user and kernel). */
uint64_t bt_thread_cpu_ns(void);
/* The whole process's CPU time (user and kernel, every thread). */
uint64_t bt_process_cpu_ns(void);

#endif
