/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the BPF programs (bpf/boundtrace.bpf.c) and userspace.
 * Everything here is fixed-size so the kernel can aggregate without
 * allocating and userspace can read the maps without translation.
 */
#ifndef BOUNDTRACE_H
#define BOUNDTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>	/* userspace; BPF gets the types from vmlinux.h */
#endif

/* Largest pid the kernel can hand out on 64-bit (PID_MAX_LIMIT). */
#define BT_PID_MAX		(4u * 1024 * 1024)
#define BT_HIST_SLOTS		32	/* log2 buckets: slot i holds [2^i, 2^(i+1)) */
#define BT_COMM_LEN		16
#define BT_PATH_LEN		64	/* unix socket paths are cut here */
#define BT_MMSG_MAX		64	/* mmsghdr entries summed per call */
#define BT_WAKEES_MAX		4	/* distinct processes one crossing can wake */
#define BT_ROW_WAKEES		2	/* wakees counted inside an aggregate row */

/*
 * The boundary kinds. user/kinds.c holds the one table that names them;
 * add a kind there and here, nowhere else.
 */
enum bt_kind {
	BT_KIND_NONE = 0,	/* not a boundary: regular file, tty, ... */
	BT_KIND_PIPE,		/* anonymous pipe or named FIFO */
	BT_KIND_UNIX_STREAM,	/* SOCK_STREAM and SOCK_SEQPACKET */
	BT_KIND_UNIX_DGRAM,
	BT_KIND_TCP,
	BT_KIND_UDP,
	BT_KIND_FUTEX,
	BT_KIND_MAX,
};

enum bt_dir {
	BT_DIR_SEND = 0,	/* bytes leave the caller */
	BT_DIR_RECV,		/* bytes arrive at the caller */
	BT_DIR_WAIT,		/* futex wait / lock */
	BT_DIR_WAKE,		/* futex wake / unlock / requeue */
	BT_DIR_MAX,
};

/*
 * Aggregation key: one row per (process, kind, channel, direction).
 *   pipe:   chan = pipe inode, peer = 0
 *   unix:   chan = own socket inode, peer = 0 (the peer's inode is in
 *           bt_chan_info: it must outlive the peer's close)
 *   tcp/udp:chan = own socket inode, peer = remote port << 48 ^ folded addr,
 *           so an unconnected UDP socket gets one row per remote
 *   futex:  chan = user address of the futex word, peer = 0
 */
struct bt_key {
	__u32 tgid;
	__u8 kind;
	__u8 dir;
	__u16 pad;
	__u64 chan;
	__u64 peer;
	/*
	 * --stacks: the stack-trace map ids of the call site (user) and the
	 * kernel path, so a row is per unique stack; BT_STACK_NONE without
	 * --stacks, BT_STACK_LOST when the stack could not be taken.
	 */
	__s32 ustack;
	__s32 kstack;
	/*
	 * --stacks: the return address on top of the user stack when it
	 * follows a call instruction. A libc syscall wrapper makes no frame,
	 * so the frame-pointer walk skips its caller; this restores it.
	 */
	__u64 ucaller;
};

#define BT_STACK_NONE	(-1)
#define BT_STACK_LOST	(-2)
#define BT_STACK_DEPTH	127	/* frames kept per stack (PERF_MAX_STACK_DEPTH) */

/* Per-CPU value of an aggregate row; userspace sums the CPUs. */
struct bt_stats {
	__u64 calls;		/* completed syscalls (and error returns) */
	__u64 bytes;		/* successful byte counts */
	__u64 errors;		/* calls returning < 0 */
	__u64 woken;		/* futex wakes: waiters woken (return value) */
	__u64 blocked_ns;	/* sum of entry -> exit time */
	__u64 max_blocked_ns;
	__u64 size_hist[BT_HIST_SLOTS];	  /* successful sizes, log2 bytes */
	__u64 blocked_hist[BT_HIST_SLOTS]; /* entry -> exit, log2 ns */
	/*
	 * Wakeup causality, kept in the row itself (no second map lookup on
	 * the hot path): the first BT_ROW_WAKEES processes this row's
	 * crossings woke, and how often. Others go to the wakes map.
	 */
	__u32 wakee[BT_ROW_WAKEES];	/* tgids, 0 free */
	__u64 wakee_n[BT_ROW_WAKEES];
};

/*
 * Address facts of a channel, written once when its first row is made
 * (never on the hot path), so userspace can print a readable channel
 * even after the socket is gone.
 */
struct bt_chan_key {
	__u64 chan;
	__u64 peer;
};

struct bt_chan_info {
	__u8 kind;
	__u8 family;		/* AF_INET, AF_INET6, AF_UNIX or 0 */
	__u16 lport;		/* host order */
	__u16 rport;		/* host order */
	__u16 pad;
	__u8 laddr[16];		/* v4 in the first 4 bytes */
	__u8 raddr[16];
	__u64 peer_ino;		/* unix: the connected peer's socket inode, 0 none */
	char path[BT_PATH_LEN];	/* unix: bound path of either end, '@' abstract */
};

/*
 * Wakeup causality: a traced thread, inside a crossing of kind/chan/dir,
 * woke a thread of process wakee (sched_waking while in the syscall).
 * Value: a __u64 count.
 */
struct bt_wake_key {
	__u32 waker;		/* tgid */
	__u32 wakee;		/* tgid */
	__u8 kind;
	__u8 dir;
	__u16 pad;
	__u32 pad2;
	__u64 chan;
	__u64 peer;
};

/*
 * --stacks: who woke a blocked crossing, by stack (offwaketime-style):
 * the wakee's crossing and stack, the waker's process and stack. Value:
 * struct bt_wakestack_val.
 */
struct bt_wakestack_key {
	__u32 wakee;		/* tgid */
	__u32 waker;		/* tgid */
	__u8 kind;
	__u8 dir;
	__u16 pad;
	__s32 wakee_ustack;
	__u64 chan;
	__u64 peer;
	__u64 wakee_ucaller;
	__s32 waker_ustack;
	__u32 pad2;
	__u64 waker_ucaller;
};

struct bt_wakestack_val {
	__u64 count;
	__u64 blocked_ns;	/* the wakee's time in those crossings */
};

/* Counters of everything the kernel side could not record. */
enum bt_loss {
	BT_LOSS_MAP_FULL = 0,	/* channel facts, wakes or waker stacks had no room */
	BT_LOSS_EVENTS,		/* ring buffer full: an event was dropped */
	BT_LOSS_NO_ENTRY,	/* exit without a recorded entry (attached mid-call) */
	BT_LOSS_MMSG_TRUNC,	/* *mmsg call with more than BT_MMSG_MAX entries */
	BT_LOSS_TARGETS_FULL,	/* pid beyond BT_PID_MAX */
	BT_LOSS_WAKEES,		/* a crossing woke more than BT_WAKEES_MAX processes */
	BT_LOSS_EPISODES,	/* episode ring buffer full: a blocking episode was dropped */
	BT_LOSS_STACKS,		/* a stack could not be taken (map full, unreadable) */
	/*
	 * Calls not counted because the stats map had no room for their row
	 * (each is also in the lostcalls map under its row key, so the row
	 * shows as partial, unless that map is full too: calls_unplaced).
	 */
	BT_LOSS_CALLS,
	BT_LOSS_CALLS_UNPLACED,	/* of those, calls no row could be marked for */
	BT_LOSS_MAX,
};

/* Process lifecycle events, sent through the ring buffer (rare). */
enum bt_event_type {
	BT_EV_FORK = 1,
	BT_EV_EXEC,
	BT_EV_EXIT,
};

struct bt_event {
	__u32 type;
	__u32 pid;		/* tgid */
	__u32 ppid;		/* fork: parent tgid */
	__s32 exit_code;	/* exit: wait status */
	__u64 ts_ns;
	__u64 start_ns;		/* process start, ns since boot (start_boottime) */
	char comm[BT_COMM_LEN];
};

/*
 * A blocking episode (chain mode): a crossing that blocked at least
 * min_block_ns, with the thread that woke it. Sent through the episodes
 * ring buffer; userspace nests them into synchronous chains.
 */
struct bt_episode_ev {
	__u32 pid;		/* tgid of the blocked thread */
	__u32 tid;
	__u8 kind;
	__u8 dir;
	__u16 pad;
	__u32 waker_pid;	/* 0: not woken by a sched_waking we saw */
	__u64 chan;
	__u64 peer;
	__u64 start_ns;		/* syscall entry (CLOCK_MONOTONIC, bpf_ktime_get_ns) */
	__u64 end_ns;		/* syscall exit */
	__u64 wake_ns;		/* last wakeup while blocked, 0 none */
	__u32 waker_tid;
	__u32 pad2;
};

#endif /* BOUNDTRACE_H */
