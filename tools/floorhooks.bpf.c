// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floorhooks: empty tp_btf programs on every tracepoint boundtrace's
 * default mode attaches, for `make bench`'s floor row: what any process
 * pays once these hooks exist at all (the syscall tracepoints put every
 * task on the slow syscall path, and each hook's dispatch runs), which
 * no tracer built on them can go below.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter) { return 0; }

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit) { return 0; }

SEC("tp_btf/sched_waking")
int BPF_PROG(floor_sched_waking) { return 0; }

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_sock_send_length) { return 0; }

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_sock_recv_length) { return 0; }

SEC("tp_btf/sk_data_ready")
int BPF_PROG(floor_sk_data_ready) { return 0; }

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_inet_sock_set_state) { return 0; }

SEC("tp_btf/signal_deliver")
int BPF_PROG(floor_signal_deliver) { return 0; }

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_sched_process_fork) { return 0; }

SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_sched_process_exec) { return 0; }

SEC("tp_btf/sched_process_exit")
int BPF_PROG(floor_sched_process_exit) { return 0; }
