/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Syscall numbers and argument registers, per architecture, for the
 * syscalls boundtrace hooks. The BPF side sees raw numbers in sys_enter /
 * sys_exit, and the build headers of an older distribution may lack the
 * newest futex calls, so they are spelled out here once.
 */
#ifndef BOUNDTRACE_SYSCALLS_H
#define BOUNDTRACE_SYSCALLS_H

#if defined(__TARGET_ARCH_x86) || (!defined(__bpf__) && defined(__x86_64__))
#define BT_NR_read		0
#define BT_NR_write		1
#define BT_NR_readv		19
#define BT_NR_writev		20
#define BT_NR_sendfile		40
#define BT_NR_sendto		44
#define BT_NR_recvfrom		45
#define BT_NR_sendmsg		46
#define BT_NR_recvmsg		47
#define BT_NR_futex		202
#define BT_NR_splice		275
#define BT_NR_tee		276
#define BT_NR_vmsplice		278
#define BT_NR_recvmmsg		299
#define BT_NR_sendmmsg		307
#define BT_NR_futex_waitv	449
#define BT_NR_futex_wake	454
#define BT_NR_futex_wait	455
#define BT_NR_futex_requeue	456
/* Where a thread woken by IPC may be waiting besides the crossings. */
#define BT_NR_poll		7
#define BT_NR_select		23
#define BT_NR_epoll_wait	232
#define BT_NR_pselect6		270
#define BT_NR_ppoll		271
#define BT_NR_epoll_pwait	281
#define BT_NR_io_uring_enter	426
#define BT_NR_epoll_pwait2	441
#define BT_NR_accept		43
#define BT_NR_connect		42
#define BT_NR_accept4		288
#define BT_NR_connect		42
#define BT_NR_bind		49
#define BT_NR_listen		50
#define BT_NR_socketpair	53
#define BT_NR_socket		41
#define BT_NR_restart_syscall	219

/*
 * At sys_exit the user registers still hold the arguments; the syscall
 * number is in orig_ax (ax holds the return value by then).
 */
#define BT_REGS_NR(r)		((r)->orig_ax)
#define BT_REGS_ARG1(r)		((r)->di)
#define BT_REGS_ARG2(r)		((r)->si)
#define BT_REGS_ARG3(r)		((r)->dx)
#define BT_REGS_ARG4(r)		((r)->r10)
#define BT_REGS_ARG5(r)		((r)->r8)
#define BT_REGS_SP(r)		((r)->sp)

#elif defined(__TARGET_ARCH_arm64) || (!defined(__bpf__) && defined(__aarch64__))
#define BT_NR_read		63
#define BT_NR_write		64
#define BT_NR_readv		65
#define BT_NR_writev		66
#define BT_NR_sendfile		71
#define BT_NR_vmsplice		75
#define BT_NR_splice		76
#define BT_NR_tee		77
#define BT_NR_futex		98
#define BT_NR_sendto		206
#define BT_NR_recvfrom		207
#define BT_NR_sendmsg		211
#define BT_NR_recvmsg		212
#define BT_NR_recvmmsg		243
#define BT_NR_sendmmsg		269
#define BT_NR_futex_waitv	449
#define BT_NR_futex_wake	454
#define BT_NR_futex_wait	455
#define BT_NR_futex_requeue	456
/* Where a thread woken by IPC may be waiting besides the crossings. */
#define BT_NR_epoll_pwait	22
#define BT_NR_pselect6		72
#define BT_NR_ppoll		73
#define BT_NR_accept		202
#define BT_NR_connect		203
#define BT_NR_accept4		242
#define BT_NR_connect		203
#define BT_NR_bind		200
#define BT_NR_listen		201
#define BT_NR_socketpair	199
#define BT_NR_socket		198
#define BT_NR_restart_syscall	128
#define BT_NR_io_uring_enter	426
#define BT_NR_epoll_pwait2	441
#define BT_NR_poll		(-1)	/* no such syscalls here */
#define BT_NR_select		(-2)
#define BT_NR_epoll_wait	(-3)

/* x0 is overwritten by the return value; the first argument survives in orig_x0. */
#define BT_REGS_NR(r)		((r)->syscallno)
#define BT_REGS_ARG1(r)		((r)->orig_x0)
#define BT_REGS_ARG2(r)		((r)->regs[1])
#define BT_REGS_ARG3(r)		((r)->regs[2])
#define BT_REGS_ARG4(r)		((r)->regs[3])
#define BT_REGS_ARG5(r)		((r)->regs[4])
#define BT_REGS_SP(r)		((r)->sp)

#else
#error "boundtrace: unsupported architecture (add its syscall numbers here)"
#endif

#endif /* BOUNDTRACE_SYSCALLS_H */
