// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * boundtrace kernel side: counts every pipe, unix socket, TCP/UDP and futex
 * crossing of the traced processes, aggregated per (process, kind, channel,
 * direction) in a per-CPU hash.
 *
 * Two tp_btf programs carry the data path: sys_enter stamps the entry time
 * of the syscalls we care about, sys_exit classifies the descriptor (the
 * arguments are still in pt_regs there) and aggregates. tp_btf needs no
 * tracefs and is the cheapest syscall hook this kernel allows (fentry is
 * refused). Process lifecycle comes from the sched_process_* tracepoints.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "boundtrace.h"
#include "syscalls.h"
#include "pipe_step.h"	/* struct bt_pipe_thread in the in-flight slot */
#include "inet_end.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define SOCK_SEQPACKET	5
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define S_IFIFO		0010000
#define FMODE_WRITE	0x2
#define PF_KTHREAD	0x00200000
#define EEXIST		17
#define E2BIG		7
#define ENOMEM		12
#define BT_MSG_DONTWAIT	0x40	/* this call only is non-blocking */
#define EINTR		4
#define ERESTARTSYS		512	/* kernel-internal: restart unless a handler without SA_RESTART runs */
#define ERESTARTNOINTR		513	/* always restarted */
#define ERESTART_RESTARTBLOCK	516	/* restarted through restart_syscall; EINTR if a handler runs */
#define SA_RESTART	0x10000000

/* Configured by userspace before load. */
const volatile bool trace_all = false;
const volatile bool follow_forks = false;
/* --stacks: take user and kernel stacks of every crossing. */
const volatile bool with_stacks = false;
/* Chain mode: crossings blocked this long become episodes (0: off). */
const volatile __u64 min_block_ns = 0;
/*
 * The row cache (struct bt_pending): set by userspace when it can read
 * the pending rows safely (not with --stacks, whose rows are per stack).
 */
const volatile bool cache_rows = false;
/*
 * --sockets-only: no hook on every syscall of the machine (the real
 * servers' floor, docs/BENCHMARKS.md): socket calls are counted at the
 * socket layer (sock_send_length, sock_recv_length), without pipes,
 * futexes, blocked time or episodes.
 */
const volatile bool sockets_only = false;

/*
 * The target set: one bit per tgid. A bitmap in .bss is one memory load,
 * no helper call, and userspace flips bits through the mmap'd section.
 */
__u64 targets[BT_PID_MAX / 64];

/* Loss counters, indexed by enum bt_loss. */
__u64 losses[BT_LOSS_MAX];

/*
 * Rows made in stats and stats_spill (counted on the new-row path only,
 * which a channel takes once per direction), and the count at which
 * userspace wants its poll woken to fold the rows of closed channels out
 * of the maps (0: not wanted). See user/live/tracer.c.
 */
__u64 rows_made;
__u64 fold_at;
/*
 * Of those, rows made in stats_spill, and the count at which userspace
 * wants a fold to empty it (a burst of new rows can spill more than the
 * map fills).
 */
__u64 spill_made;
__u64 spill_fold_at;

/* Per-thread state of the crossing in progress (enter -> exit). */
struct inflight {
	__u32 tid;			/* owner of the slot; another tid: not ours */
	__u32 nwake;			/* distinct wakee processes seen */
	__u64 ts;
	__u64 nr;
	__u32 wakee[BT_WAKEES_MAX];	/* their tgids */
	/* Chain mode: who woke this thread while it was blocked in the call. */
	__u64 wake_ns;
	__u32 waker_pid;
	__u32 waker_tid;
	/* --stacks: the waker's user stack then. */
	__s32 waker_ustack;
	__u32 pad;
	__u64 waker_ucaller;
	/* Left by the socket tracepoints (exchange.bpf.h) for sys_exit's row. */
	__u8 exch_role;		/* enum bt_role, 0: no stream socket moved data */
	__u8 exch_dir;
	bool exch_done;		/* the call completed an exchange */
	bool exch_owed;		/* and a pipe conversation's earlier one is counted with it */
	__u64 exch_ns;		/* its latency / service time */
	__u64 exch_owed_ns;	/* the earlier one's */
	/*
	 * The clock the socket tracepoint read in this call (0: none): late
	 * in the call, so sys_exit takes it as the call's end instead of
	 * reading the clock again (a clock read is 25-30 ns on this kind of
	 * VM, the largest single cost of a crossing's hooks).
	 */
	__u64 sock_ns;
	/* Chain mode: this thread's pipe conversations (pipe_step.h). */
	struct bt_pipe_thread pipe;
	/*
	 * A call the kernel interrupted for a signal (ERESTART*) is counted
	 * at its exit as an error, like the EINTR a handler may make of it.
	 * If the kernel restarts it instead, the restarted call's entry takes
	 * the count back from its row and keeps the first entry's stamp: one
	 * call, timed from the start. The exit notes every call in last_*
	 * (plain stores: a branch there would double the verifier's walk of
	 * sys_exit); the next entry moves an interrupted one to pend_* (a
	 * handler's own calls may come between); signal_deliver drops it
	 * when a handler makes it EINTR.
	 */
	__u64 last_ts;		/* 0: none */
	__u64 last_nr;
	__s64 last_ret;
	__u64 last_blocked;	/* | 1 when counted in last_key's row; 0 not counted */
	struct bt_key last_key;
	__u64 pend_ts;		/* 0: nothing pending */
	__u64 pend_nr;
	__u64 pend_blocked;
	struct bt_key pend_key;
	/*
	 * sk_owner[owner_sk] was owner_tgid when peers.bpf.h's owner_writes
	 * was owner_gen: while it still is, this thread's next crossing on
	 * that socket skips the map (see sock_used_by).
	 */
	__u64 owner_sk;
	__u64 owner_gen;
	__u32 owner_tgid;
	__u32 flink_wakee;	/* see flink_waker_addr */
	/*
	 * --peers: the channel (its key in `marked`) this thread's last send
	 * found marked, when peers.bpf.h's marks_dropped was mark_gen: while
	 * it still is, the mark stands and the next send on it skips the
	 * lookup (see mark_before_send). 0: none.
	 */
	__u64 mark_id;
	__u64 mark_gen;
	/*
	 * The futex link (peers.bpf.h's futex_links) this thread's last wake
	 * made or found, with flink_wakee: while its next wake is the same,
	 * the map is not asked again (a link is a fact, not a count; no one
	 * deletes it). flink_wakee 0: none.
	 */
	__u64 flink_waker_addr;
	__u64 flink_wakee_addr;
};

/*
 * In-flight slots indexed by tid: an array lookup is inlined by the
 * verifier (no helper call, unlike task storage), which matters on a path
 * taken twice per syscall. Two traced threads whose tids collide modulo
 * the size and are inside a syscall at the same time lose one entry
 * stamp: the exit sees a foreign tid and counts it as no_entry.
 */
#define INFLIGHT_SLOTS	(1u << 16)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INFLIGHT_SLOTS);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

static __always_inline struct inflight *inflight_slot(__u32 tid)
{
	__u32 idx = tid & (INFLIGHT_SLOTS - 1);

	return bpf_map_lookup_elem(&inflight, &idx);
}

/* The slot of tid if it holds tid's crossing in progress, else NULL. */
static __always_inline struct inflight *inflight_of(__u32 tid)
{
	struct inflight *st = inflight_slot(tid);

	return st && st->tid == tid && st->ts ? st : NULL;
}

/* The slot goes to another thread: what its last owner left is not this one's. */
static __always_inline void slot_new_owner(struct inflight *st)
{
	st->last_ts = 0;	/* the previous owner's, never restarted */
	st->pend_ts = 0;
	st->mark_id = 0;
	st->flink_wakee = 0;
	st->pipe = (struct bt_pipe_thread){};
}

/* Thread tid's call nr begins in its slot: what the last call left is cleared. */
static __always_inline void slot_call_begins(struct inflight *st, __u32 tid, long nr)
{
	st->tid = tid;
	st->nr = nr;
	st->nwake = 0;
	st->exch_role = 0;
	st->exch_done = false;
	st->sock_ns = 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	/*
	 * Not preallocated: rows are made once per channel, so memory
	 * follows what is traced, not --map-size (the limit).
	 */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);	/* resized by userspace (--map-size) */
	__type(key, struct bt_key);
	__type(value, struct bt_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);	/* resized with stats */
	__type(key, struct bt_chan_key);
	__type(value, struct bt_chan_info);
} chans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);	/* resized with stats */
	__type(key, struct bt_wake_key);
	__type(value, __u64);
} wakes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* --stacks only; sized by userspace (--stack-map-size). */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, BT_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* --stacks only; sized with stats. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct bt_wakestack_key);
	__type(value, struct bt_wakestack_val);
} wakestacks SEC(".maps");

/* Chain mode only; sized by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} episodes SEC(".maps");

/*
 * Calls that found the stats map full, per row key (value: calls), so
 * the row they belong to is shown partial, with the count. Sized like
 * stats; when it is full too, the call is counted in calls_unplaced.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);	/* resized by userspace (--map-size) */
	__type(key, struct bt_key);
	__type(value, __u64);
} lostcalls SEC(".maps");

/* A zeroed row to create new aggregate entries from (too big for the stack). */
static const struct bt_stats zero_stats;

/*
 * Rows the stats map could not make. Its values are per-CPU and not
 * preallocated: the kernel takes each new row's per-CPU memory from a
 * small atomic reserve that a worker refills later, so a burst of new
 * rows (a server's short connections: four rows each) finds it empty
 * (-ENOMEM). And a burst faster than folds run fills it (-E2BIG) while
 * a fold or a discovery round holds userspace's loop. Such a row is made
 * here instead (preallocated, shared by the CPUs, the same atomic adds)
 * and userspace adds it to the stats map's row of the same key; a
 * quarter of it made wakes a fold. Only both full lose calls.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct bt_key);
	__type(value, struct bt_stats);
} stats_spill SEC(".maps");

static __always_inline void lose(enum bt_loss what)
{
	if (what < BT_LOSS_MAX)
		__sync_fetch_and_add(&losses[what], 1);
}

/*
 * An insert its map could not keep: full (-E2BIG), or no memory for the
 * entry (-ENOMEM: most maps are not preallocated). -EEXIST kept nothing
 * new and lost nothing.
 */
static __always_inline bool not_kept(long err)
{
	return err && err != -EEXIST;
}

/*
 * Word index of a tgid in targets[]. The mask is done in asm: clang drops
 * a C mask after the range check, and the verifier then loses the bound.
 */
static __always_inline __u64 target_word(__u32 tgid)
{
	__u64 idx = tgid / 64;

	asm volatile("%[idx] &= %[mask]" : [idx] "+r"(idx) : [mask] "i"(BT_PID_MAX / 64 - 1));
	return idx;
}

/*
 * The first thing every hook does, for every task on the machine: one
 * load and a branch. With -a userspace sets every bit before load, so
 * there is no mode test here; a tgid is below PID_MAX_LIMIT (BT_PID_MAX)
 * by construction, and the mask keeps the verifier sure of it.
 */
static __always_inline bool tgid_bit(const __u64 *bits, __u32 tgid)
{
	return bits[target_word(tgid)] & (1ULL << (tgid % 64));
}

static __always_inline bool is_target(__u32 tgid)
{
	return tgid_bit(targets, tgid);
}

/* Bit tgid of a bitmap laid out as targets[] (served[] too), set or cleared at once. */
static __always_inline void set_tgid_bit(__u64 *bits, __u32 tgid, bool on)
{
	__u64 idx = target_word(tgid), bit = 1ULL << (tgid % 64);

	if (on)
		__sync_fetch_and_or(&bits[idx], bit);
	else
		__sync_fetch_and_and(&bits[idx], ~bit);
}

/*
 * The calling task's tgid without a helper call, for the early exit of
 * sys_enter and sys_exit. On this kind of CPU (return-thunk mitigations)
 * a helper call costs 13 ns or more, and bpf_get_current_task_btf() is not
 * inlined: called by every syscall of every task, it was most of what a
 * bystander pays above the empty-program floor. The pt_regs those
 * tracepoints hand over sit at the top of the task's own kernel stack, so
 * their address names the task while it lives: a direct-mapped cache from
 * that address to the tgid, filled by the task's first syscall (one helper
 * call) and emptied by the task's exit (proc_exit), before its stack can
 * be another task's. The address is taken as its distance from this array
 * (a pointer minus a pointer is the one arithmetic the verifier turns into
 * a number); bits 14-26 pick the slot, bits 3-13 and 27-56 are the tag,
 * so two live stacks never share slot and tag. One 64-bit word a slot
 * (valid bit, tag, tgid below 2^22 = BT_PID_MAX), written and read whole:
 * a racing writer of the same slot can only make a miss.
 */
#define TGID_CACHE_SLOTS	8192
#define TGID_BITS		22
__u64 tgid_cache[TGID_CACHE_SLOTS];
/*
 * The thread's tid the same way, for a target's hooks: the address names
 * the thread (each has its own kernel stack), so a read, a futex or any
 * call that walks no descriptor needs no bpf_get_current_task_btf() at
 * all. A word of its own (tag and tid, below 2^22 as the tgid), filled
 * with the tgid's and emptied with it; apart, so the early exit of every
 * other task reads one word only. exec() empties it too: the thread
 * that execs in a multithreaded process takes the leader's tid.
 */
__u64 tid_cache[TGID_CACHE_SLOTS];

struct tgid_slot {
	__u32 idx;
	__u64 tag;	/* with the valid bit, as the word's top 42 bits */
};

/* The slot and tag of the pt_regs at distance s from tgid_cache. */
static __always_inline struct tgid_slot tgid_slot_at(__u64 s)
{
	struct tgid_slot ts;

	ts.idx = (s >> 14) & (TGID_CACHE_SLOTS - 1);
	ts.tag = 1ULL << 41 | ((s >> 27) & ((1ULL << 30) - 1)) << 11 | ((s >> 3) & 0x7ff);
	return ts;
}

static __always_inline __u64 regs_distance(const struct pt_regs *regs)
{
	__u64 s;

	asm volatile("%[s] = %[r]; %[s] -= %[b]"
		     : [s] "=&r"(s) : [r] "r"(regs), [b] "r"(&tgid_cache[0]));
	return s;
}

static __always_inline struct tgid_slot tgid_slot_of(const struct pt_regs *regs)
{
	return tgid_slot_at(regs_distance(regs));
}

/*
 * The same caches from a hook that is handed no pt_regs (the socket
 * tracepoints, sched_waking), for the early exit of every other task
 * without a helper call: this BPF frame is on the calling task's kernel
 * stack, below its pt_regs, and kernel stacks are aligned to their size
 * (THREAD_SIZE, 16 KiB on x86-64 and arm64; a vmalloc'd one to
 * THREAD_ALIGN, a multiple), so the pt_regs are the first address above
 * the frame (r10) that is at the pt_regs' place modulo KSTACK_ALIGN.
 * That place is learned, not assumed: each fill (a task's first syscall)
 * notes its pt_regs' distance from tgid_cache modulo KSTACK_ALIGN in
 * kstack_phase, and the stack's cache is read only once KSTACK_TRUST
 * fills agreed and none disagreed (then never: KSTACK_DISAGREE). A
 * frame on another stack (an interrupt's) names an address no fill
 * wrote: a miss, as is a task whose first syscall is yet to come; a miss
 * takes the helper call, and never fills (only a hook handed the task's
 * own pt_regs does). A larger THREAD_SIZE (KASAN) only misses more.
 */
#define KSTACK_ALIGN		16384
#define KSTACK_COUNT_SHIFT	16
#define KSTACK_TRUST		3
#define KSTACK_DISAGREE		(1ULL << 63)
__u64 kstack_phase;

static __always_inline void note_kstack_phase(__u64 s)
{
	__u64 p = kstack_phase, r = s & (KSTACK_ALIGN - 1), n = p >> KSTACK_COUNT_SHIFT;

	if (p & KSTACK_DISAGREE)
		return;
	if (n && (p & (KSTACK_ALIGN - 1)) != r)
		n = KSTACK_DISAGREE;
	else if (n < KSTACK_TRUST)
		n = r | (n + 1) << KSTACK_COUNT_SHIFT;
	else
		return;
	/* Lost to another fill's at once: its vote is as good (or its disagreement). */
	__sync_val_compare_and_swap(&kstack_phase, p, n);
}

#define TGID_MASK	((1u << TGID_BITS) - 1)

/* Both words of a slot filled from the task itself: one helper call. */
static __always_inline struct task_struct *fill_ids(struct tgid_slot ts)
{
	struct task_struct *task = bpf_get_current_task_btf();

	tgid_cache[ts.idx] = ts.tag << TGID_BITS | (task->tgid & TGID_MASK);
	tid_cache[ts.idx] = ts.tag << TGID_BITS | (task->pid & TGID_MASK);
	return task;
}

/* The id cache (tgid_cache, or tid_cache if tid) holds for the caller's slot. */
static __always_inline __u32 cached_id(const struct pt_regs *regs, const __u64 *cache, bool tid)
{
	__u64 s = regs_distance(regs);
	struct tgid_slot ts = tgid_slot_at(s);
	__u64 w = cache[ts.idx];
	struct task_struct *task;

	if (w >> TGID_BITS == ts.tag)
		return w & TGID_MASK;
	task = fill_ids(ts);
	note_kstack_phase(s);
	return tid ? task->pid : task->tgid;
}

/*
 * The id caches' slot of the calling task from a hook handed no pt_regs
 * (see kstack_phase); false when the phase is not known.
 */
static __always_inline bool stack_slot(struct tgid_slot *ts)
{
	__u64 p = kstack_phase, s;

	if ((p & KSTACK_DISAGREE) || (p >> KSTACK_COUNT_SHIFT) < KSTACK_TRUST)
		return false;
	asm volatile("%[s] = r10; %[s] -= %[b]" : [s] "=&r"(s) : [b] "r"(&tgid_cache[0]));
	/* Up to the place's next address: (phase - s) mod KSTACK_ALIGN above the frame. */
	s += (p - s) & (KSTACK_ALIGN - 1);
	*ts = tgid_slot_at(s);
	return true;
}

/* The calling task's tgid by its stack_slot ts, 0 when the cache cannot say. */
static __always_inline __u32 stack_tgid(struct tgid_slot *ts)
{
	__u64 w;

	if (!stack_slot(ts))
		return 0;
	w = tgid_cache[ts->idx];
	return w >> TGID_BITS == ts->tag ? w & TGID_MASK : 0;
}

/*
 * Its tid, from the slot stack_tgid found its tgid in, 0 when the cache
 * cannot say (the two are filled together and emptied together).
 */
static __always_inline __u32 stack_tid(const struct tgid_slot *ts)
{
	__u64 w = tid_cache[ts->idx];

	return w >> TGID_BITS == ts->tag ? w & TGID_MASK : 0;
}

/* Whether the caller is certainly no target, by its stack_slot: no helper call. */
static __always_inline bool surely_bystander(void)
{
	struct tgid_slot ts;
	__u32 tgid = stack_tgid(&ts);

	return tgid && !is_target(tgid);
}

/*
 * The calling task's ids for a hook handed no pt_regs: from the stack's
 * caches, else from the task (one helper call, left in task; NULL when
 * the caches said). False when the caller is no target: one the caches
 * know leaves with no helper call.
 */
struct caller {
	__u32 tgid, tid;
	struct task_struct *task;
};

static __always_inline bool target_caller(struct caller *c)
{
	struct tgid_slot ts;

	c->task = NULL;
	c->tgid = stack_tgid(&ts);
	if (c->tgid && !is_target(c->tgid))
		return false;
	c->tid = c->tgid ? stack_tid(&ts) : 0;
	if (!c->tid) {
		c->task = bpf_get_current_task_btf();
		c->tgid = c->task->tgid;
		c->tid = c->task->pid;
	}
	return is_target(c->tgid);
}

static __always_inline __u32 current_tgid(const struct pt_regs *regs)
{
	return cached_id(regs, tgid_cache, false);
}

/* The calling thread's tid, as current_tgid() its tgid. */
static __always_inline __u32 current_tid(const struct pt_regs *regs)
{
	return cached_id(regs, tid_cache, true);
}

/*
 * A task exits: its kernel stack, and the address its cache slot names,
 * may be reused. Or it execs: its tid may become the leader's.
 */
static __always_inline void forget_ids(struct task_struct *p)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(p);
	struct tgid_slot ts;

	if (!regs)
		return;
	ts = tgid_slot_of(regs);
	if (tgid_cache[ts.idx] >> TGID_BITS == ts.tag)
		tgid_cache[ts.idx] = 0;
	if (tid_cache[ts.idx] >> TGID_BITS == ts.tag)
		tid_cache[ts.idx] = 0;
}

static __always_inline void set_target(__u32 tgid, bool on)
{
	if (tgid >= BT_PID_MAX) {
		lose(BT_LOSS_TARGETS_FULL);
		return;
	}
	set_tgid_bit(targets, tgid, on);
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xFFFFFFFFULL) << 5; v >>= s; r |= s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r < BT_HIST_SLOTS ? r : BT_HIST_SLOTS - 1;
}

/* ---- descriptor classification ---------------------------------------- */

struct endpoint {
	__u8 kind;
	__u8 family;
	__u64 chan;
	__u64 peer;
	struct file *file;
	struct sock *sk;
	struct sock *peer_sk;	/* unix: the connected peer, if any */
};

/*
 * Walking task -> files -> fdtable -> file -> inode / socket with direct
 * BTF loads (fault-safe, a few ns each) instead of one bpf_probe_read
 * helper call per hop: this runs on every traced syscall, twice for a
 * write in chain mode.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * A word of kernel memory as a number, by a direct load rather than a
 * bpf_probe_read_kernel() call (each helper returns through the costly
 * SRSO return thunk here): since 6.12 a struct fd is one word, so the
 * address read as one is a fault-safe BTF load (bpf_rdonly_cast is no
 * call: the verifier makes it a move). A number, not a pointer: a
 * pointer there doubles the states the verifier walks in sys_exit, and
 * allows no arithmetic (so also a pointer as a number, for a global
 * function's scalar argument). Older kernels keep the helper (words_load()).
 */
static __always_inline bool words_load(void)
{
	return bpf_core_field_exists(struct fd, word) &&
	       bpf_core_field_size(struct fd, word) == sizeof(__u64) &&
	       bpf_core_field_offset(struct fd, word) == 0;
}

static __always_inline __u64 kernel_word(const void *addr)
{
	__u64 v = 0;

	if (words_load()) {
		struct fd *w = bpf_rdonly_cast(addr, bpf_core_type_id_kernel(struct fd));

		return w->word;
	}
	bpf_probe_read_kernel(&v, sizeof(v), addr);
	return v;
}

static __always_inline struct file *fd_to_file(struct task_struct *task, long fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file **fds;
	__u64 file;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	/* The slot is a pointer to pointers, which BTF does not let the verifier walk. */
	fds = fdt->fd;
	file = kernel_word(&fds[fd]);
	if (!file)
		return NULL;
	return bpf_rdonly_cast((void *)file, bpf_core_type_id_kernel(struct file));
}

/*
 * Direct BTF loads, not BPF_CORE_READ: each hop of that is a probe-read
 * helper call, and these run per crossing. A load through a NULL or freed
 * pointer faults safely and reads 0, as the helper's failure did.
 */
static __always_inline __u64 sock_ino(struct sock *sk)
{
	return sk->sk_socket->file->f_inode->i_ino;
}

static __always_inline __u64 fold_inet_peer(struct sock *sk, __u8 family)
{
	__u16 port = bpf_ntohs(sk->__sk_common.skc_dport);

	if (family == AF_INET)
		return inet_end(sk->__sk_common.skc_daddr, port);
	return inet_end(in6_fold(sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32), port);
}

/*
 * Classify a socket whose file's inode number is ino (the channel); kind
 * NONE if it is no boundary. From a descriptor (classify) or from the
 * socket tracepoints (--sockets-only), so both name a socket alike.
 */
static __always_inline void classify_sock(struct sock *sk, __u64 ino, struct endpoint *c)
{
	c->sk = sk;
	c->family = sk->__sk_common.skc_family;
	c->chan = ino;
	if (c->family == AF_UNIX) {
		struct unix_sock *us = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct unix_sock));
		__u16 type = sk->sk_type;

		if (type == SOCK_STREAM || type == SOCK_SEQPACKET)
			c->kind = BT_KIND_UNIX_STREAM;
		else if (type == SOCK_DGRAM)
			c->kind = BT_KIND_UNIX_DGRAM;
		/*
		 * The row is keyed by our own inode only: once the peer
		 * closes, its inode is gone (sk_socket is orphaned) while we
		 * may still read the data it left. Its inode is taken once,
		 * into the channel facts, when the first row is made.
		 */
		c->peer = 0;
		c->peer_sk = us->peer;
	} else if (c->family == AF_INET || c->family == AF_INET6) {
		__u16 proto = sk->sk_protocol;

		if (proto == IPPROTO_TCP)
			c->kind = BT_KIND_TCP;
		else if (proto == IPPROTO_UDP)
			c->kind = BT_KIND_UDP;
		c->peer = fold_inet_peer(sk, c->family);
	}
}

/* Classify one descriptor of the current task; kind NONE if not a boundary. */
static __always_inline void classify(struct task_struct *task, long fd, struct endpoint *c)
{
	struct file *file;
	struct inode *inode;
	struct socket *sock;
	struct sock *sk;
	umode_t mode;

	c->kind = BT_KIND_NONE;
	file = fd_to_file(task, fd);
	c->file = file;
	if (!file)
		return;
	inode = file->f_inode;
	mode = inode->i_mode & S_IFMT;
	if (mode == S_IFIFO) {
		c->kind = BT_KIND_PIPE;
		c->chan = inode->i_ino;
		c->peer = 0;
		return;
	}
	if (mode != S_IFSOCK)
		return;
	sock = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
	sk = sock->sk;
	if (sk)
		classify_sock(sk, inode->i_ino, c);
}

/*
 * Unconnected datagram sockets name the remote per call (sendto's
 * dest_addr, recvfrom's src_addr, msghdr.msg_name): read it from user
 * memory so each remote gets its own row. Returns 0 if there is none.
 */
static __always_inline void inet_remote_from_user(const void *uaddr, struct endpoint *c,
						  struct bt_chan_info *info)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), uaddr))
		return;
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
		__u16 port = bpf_ntohs(s4->sin_port);

		if (c)
			c->peer = inet_end(s4->sin_addr.s_addr, port);
		if (info) {
			info->rport = port;
			__builtin_memcpy(info->raddr, &s4->sin_addr.s_addr, 4);
		}
	} else if (sa.sin6_family == AF_INET6) {
		__u32 *a = sa.sin6_addr.in6_u.u6_addr32;
		__u16 port = bpf_ntohs(sa.sin6_port);

		if (c)
			c->peer = inet_end(in6_fold(a), port);
		if (info) {
			info->rport = port;
			__builtin_memcpy(info->raddr, a, 16);
		}
	}
}

/* futex_waitv / futex_requeue take a vector: the first word names it. */
static __always_inline __u64 futex_vec_addr(const struct futex_waitv *v)
{
	__u64 uaddr = 0;

	if (v)
		bpf_probe_read_user(&uaddr, sizeof(uaddr), &v->uaddr);
	return uaddr;
}

/*
 * Where a task's user registers are saved: at a fixed distance from the
 * base of its kernel stack, the same for every task (THREAD_SIZE and the
 * architecture's padding). sched_waking reads the wakee's on every wakeup
 * of a target's crossing: bpf_task_pt_regs() once, to learn the distance,
 * then loads (a helper call is costly here: every return goes through the
 * SRSO return thunk).
 */
__u64 pt_regs_off;

static __always_inline struct pt_regs *task_regs(struct task_struct *p)
{
	__u64 off = pt_regs_off;

	if (!words_load())
		return (struct pt_regs *)bpf_task_pt_regs(p);
	if (!off) {
		struct task_struct *cur = bpf_get_current_task_btf();
		struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(cur);

		/* The pointer as a number (the verifier allows no arithmetic on it). */
		off = kernel_word(&r) - kernel_word(&cur->stack);
		pt_regs_off = off;
	}
	return bpf_rdonly_cast((void *)(kernel_word(&p->stack) + off),
			       bpf_core_type_id_kernel(struct pt_regs));
}

#include "peers.bpf.h"

/*
 * chan_facts' facts are made here, not on its stack: a program's frames
 * along a call chain hold 512 bytes at most, and --sockets-only's count
 * (sock_count) calls it from under the exchange step's frame. Only
 * crossings in process context make facts: nothing nests on a CPU's copy.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_chan_info);
} chan_info_scratch SEC(".maps");

/*
 * What chan_facts needs of an endpoint, as numbers: a global function's
 * pointer argument is plain memory, and a kernel pointer in it would be
 * a number there anyway.
 */
struct chan_facts_in {
	__u64 chan, peer;
	__u64 sk, peer_sk;	/* struct sock addresses, 0: none */
	__u64 uremote;		/* the call's user sockaddr, 0: none */
	__u8 kind, family;
};

/*
 * The channel facts (map chans) of a channel's first row. A global
 * function, verified once: inlined at account's four new-row sites it
 * was walked along every path that reaches them (15% of the instructions
 * the verifier processed for sys_exit). It runs once per channel and
 * process, so the call and its return cost no crossing.
 */
__noinline int chan_facts(const struct chan_facts_in *in)
{
	struct bt_chan_key ck;
	struct bt_chan_info *info;
	__u32 zero = 0;
	struct sock *sk;

	info = bpf_map_lookup_elem(&chan_info_scratch, &zero);
	if (!in || !info)
		return 0;
	__builtin_memset(info, 0, sizeof(*info));
	ck.chan = in->chan;
	ck.peer = in->peer;
	sk = bpf_rdonly_cast((void *)in->sk, bpf_core_type_id_kernel(struct sock));
	info->kind = in->kind;
	info->family = in->family;
	if (in->family == AF_UNIX) {
		struct unix_sock *us = bpf_rdonly_cast((void *)in->sk,
						       bpf_core_type_id_kernel(struct unix_sock));
		struct unix_address *addr = BPF_CORE_READ(us, addr);
		int len;

		if (in->peer_sk)
			info->peer_ino = sock_ino(bpf_rdonly_cast((void *)in->peer_sk,
							     bpf_core_type_id_kernel(struct sock)));
		if (!addr) {
			struct unix_sock *peer = (struct unix_sock *)BPF_CORE_READ(us, peer);

			if (peer)
				addr = BPF_CORE_READ(peer, addr);
		}
		if (addr) {
			len = BPF_CORE_READ(addr, len);
			/*
			 * sun_path starts after sa_family (2 bytes). An abstract
			 * name is len - 2 bytes, not NUL-terminated: read no more,
			 * or the bytes after it in kernel memory join its name.
			 */
			if (len > 2) {
				__u32 n = len - 2;

				if (n > sizeof(info->path) - 1)
					n = sizeof(info->path) - 1;
				/* In the register the call takes, so the verifier sees the bound. */
				asm volatile("%[n] &= 63" : [n] "+r"(n));
				bpf_probe_read_kernel(info->path, n, (char *)&addr->name[0].sun_path);
				if (info->path[0] == 0)
					info->path[0] = '@';
			}
		}
	} else if (in->family == AF_INET) {
		__u32 a;

		info->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		info->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(info->laddr, &a, 4);
		a = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(info->raddr, &a, 4);
		if (!a)
			inet_remote_from_user((const void *)in->uremote, NULL, info);
	} else if (in->family == AF_INET6) {
		info->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		info->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		BPF_CORE_READ_INTO(&info->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&info->raddr, sk, __sk_common.skc_v6_daddr);
		if (!info->rport)
			inet_remote_from_user((const void *)in->uremote, NULL, info);
	}
	peers_fill_info(in->sk, in->peer_sk, info);
	if (not_kept(bpf_map_update_elem(&chans, &ck, info, BPF_NOEXIST)))
		lose(BT_LOSS_MAP_FULL);
	return 0;
}

/*
 * Fill the channel facts once, when a channel's first row is created
 * (the endpoint's peer, from a sockaddr, was taken before: cross_fd).
 */
static __always_inline void record_chan(struct endpoint *c, const void *uremote)
{
	struct bt_chan_key ck = { .chan = c->chan, .peer = c->peer };
	struct chan_facts_in in = {
		.chan = c->chan, .peer = c->peer, .uremote = (__u64)uremote,
		.kind = c->kind, .family = c->family,
	};

	if (bpf_map_lookup_elem(&chans, &ck))
		return;
	in.sk = kernel_word(&c->sk);
	in.peer_sk = kernel_word(&c->peer_sk);
	if (count_marked)
		mark_channel(c->kind == BT_KIND_PIPE ? c->chan : 0, in.sk, in.peer_sk);
	chan_facts(&in);
}

/* ---- aggregation ------------------------------------------------------- */

struct crossing {
	__u32 tgid;
	__u8 dir;
	long ret;
	__u64 bytes;		/* successful bytes (ret, or summed for *mmsg) */
	__u64 blocked;
	const void *uremote;	/* user sockaddr naming the remote, or NULL */
	struct inflight *st;	/* the caller's in-flight state, or NULL */
	void *ctx;		/* the program's context, for stacks */
	__s32 ustack, kstack;	/* taken once per call (splice counts two fds) */
	__u64 ucaller;
	__u64 usp;		/* user stack pointer at the syscall */
	__u64 start;		/* entry time, 0 unknown */
	__u64 end;
	long nr;
	bool dontwait;		/* a receive that failed with MSG_DONTWAIT */
};

#include "exchange.bpf.h"

#define EINTR		4
#define EAGAIN		11
#define ETIMEDOUT	110
#define ERESTARTSYS	512
#define ERESTART_RESTARTBLOCK	516
#define O_NONBLOCK	04000

/* What an episode needs of its crossing, as plain values (episode_emit's argument). */
struct episode_in {
	__u64 chan, peer, start, end;
	long ret;
	__u32 tgid, tid;
	__u8 kind, dir;
	bool sock;		/* the descriptor is a socket */
	bool nonblock;		/* its file is O_NONBLOCK */
	bool dontwait;		/* a receive that failed with MSG_DONTWAIT */
};

/*
 * What an episode waited for (enum bt_wait). A blocked EAGAIN on a
 * blocking socket is SO_RCVTIMEO running out: a non-blocking miss returns
 * at once (and blocked less than min_block_ns). A poll, select or
 * epoll_wait is an episode only when it returned 0 (kind NONE): its
 * timeout ended it. A receive on a connection, or on a pipe of a pipe
 * conversation, is a dependency when this end is the client (a request
 * is outstanding) and idle when it is the server.
 */
static __always_inline __u8 wait_class(const struct episode_in *in, const struct inflight *st)
{
	if (in->ret == -EINTR || (in->ret <= -ERESTARTSYS && in->ret >= -ERESTART_RESTARTBLOCK))
		return BT_WAIT_SIGNAL;
	if (in->ret == -ETIMEDOUT || in->kind == BT_KIND_NONE)
		return BT_WAIT_TIMEOUT;
	if (in->sock && in->ret == -EAGAIN && !in->dontwait && !in->nonblock)
		return BT_WAIT_TIMEOUT;
	if (in->dir == BT_DIR_RECV && (in->kind == BT_KIND_TCP || in->kind == BT_KIND_UNIX_STREAM ||
				       in->kind == BT_KIND_PIPE)) {
		if (st->exch_role == BT_ROLE_CLIENT)
			return BT_WAIT_DEPENDENCY;
		if (st->exch_role == BT_ROLE_SERVER)
			return BT_WAIT_IDLE;
	}
	return BT_WAIT_BLOCKED;
}

/*
 * Chain mode: one episode record. A global function, verified once
 * rather than at each of the crossing's call sites (its branches made
 * most of sys_exit's verification in chain mode).
 */
__noinline int episode_emit(struct episode_in *in)
{
	struct bt_episode_ev *e;
	struct inflight *st;
	__u32 idx;
	__u8 wait;

	if (!in)
		return 0;
	idx = in->tid & (INFLIGHT_SLOTS - 1);
	st = bpf_map_lookup_elem(&inflight, &idx);
	if (!st || st->tid != in->tid)
		return 0;
	wait = wait_class(in, st);
	/*
	 * A call that was never woken never slept (every wakeup of a target
	 * in a crossing stamps wake_ns, which its entry cleared): it was long
	 * because it ran, or was preempted, not because it waited on anyone,
	 * and is no episode. A timeout or a signal ends a wait whatever woke
	 * it (a readiness wait's waker is never noted).
	 */
	if (!st->wake_ns && wait != BT_WAIT_TIMEOUT && wait != BT_WAIT_SIGNAL)
		return 0;
	e = bpf_ringbuf_reserve(&episodes, sizeof(*e), 0);
	if (!e) {
		lose(BT_LOSS_EPISODES);
		return 0;
	}
	e->pid = in->tgid;
	e->tid = in->tid;
	e->kind = in->kind;
	e->dir = in->dir;
	e->wait = wait;
	e->pad = 0;
	e->chan = in->chan;
	e->peer = in->peer;
	e->start_ns = in->start;
	e->end_ns = in->end;
	e->ret = in->ret;
	/* A timer or a signal ended it: whoever the interrupt hit did not. */
	if (wait == BT_WAIT_TIMEOUT || wait == BT_WAIT_SIGNAL) {
		e->wake_ns = 0;
		e->waker_pid = 0;
		e->waker_tid = 0;
	} else {
		e->wake_ns = st->wake_ns;
		e->waker_pid = st->waker_pid;
		e->waker_tid = st->waker_tid;
	}
	/* Userspace polls every 100 ms: a wakeup per record is an irq_work each. */
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* Chain mode: a crossing that blocked long enough is an episode. */
static __always_inline void emit_episode(struct endpoint *c, struct crossing *x)
{
	struct episode_in in;

	if (!min_block_ns || !x->st || x->blocked < min_block_ns)
		return;
	in.chan = c->chan;
	in.peer = c->peer;
	in.start = x->start;
	in.end = x->end;
	in.ret = x->ret;
	in.tgid = x->tgid;
	in.tid = x->st->tid;
	in.kind = c->kind;
	in.dir = x->dir;
	in.sock = c->sk != NULL;
	in.nonblock = c->file && (c->file->f_flags & O_NONBLOCK);
	in.dontwait = x->dontwait;
	episode_emit(&in);
}

/*
 * The processes the crossing in st woke, counted once per crossing on
 * the channel it went through (wk: its row), in the row's own slots
 * (wakee, wakee_n: a stats row's, shared: atomic adds, or a pending
 * row's, the thread's own) while one holds the wakee or is free, else in
 * the wakes map; cleared so a splice's second fd does not count them
 * again. Each of n wakeups of one wakee (a pending row's flush) the same.
 */
static __always_inline void add_wakees(struct bt_wake_key *wk, const __u32 *noted, __u32 n,
				       __u64 times, __u32 *wakee, __u64 *wakee_n, bool shared)
{
	__u64 *cnt;
	__u32 w;

	for (int i = 0; i < BT_WAKEES_MAX; i++) {
		if (i >= n)
			break;
		w = noted[i];
		if (!w)
			continue;
		/* The row's own slots first: a send usually wakes the one reader. */
		if (wakee[0] == w || !wakee[0]) {
			wakee[0] = w;
			if (shared)
				__sync_fetch_and_add(&wakee_n[0], times);
			else
				wakee_n[0] += times;
			continue;
		}
		if (wakee[1] == w || !wakee[1]) {
			wakee[1] = w;
			if (shared)
				__sync_fetch_and_add(&wakee_n[1], times);
			else
				wakee_n[1] += times;
			continue;
		}
		wk->wakee = w;
		cnt = bpf_map_lookup_elem(&wakes, wk);
		if (cnt)
			__sync_fetch_and_add(cnt, times);
		else if (not_kept(bpf_map_update_elem(&wakes, wk, &times, BPF_NOEXIST)))
			lose(BT_LOSS_MAP_FULL);
	}
}

/* The wakees noted in st, taken once (n: how many). */
static __always_inline __u32 take_wakees(struct inflight *st)
{
	__u32 n = st ? st->nwake : 0;

	if (n)
		st->nwake = 0;
	return n;
}

/* Those of crossing x on c into stats row s (its wakes key built here: see pending_in). */
static __always_inline void account_wakeups(struct endpoint *c, struct crossing *x,
					    struct bt_stats *s)
{
	struct bt_wake_key wk = {
		.waker = x->tgid, .kind = c->kind, .dir = x->dir,
		.chan = c->chan, .peer = c->peer,
	};
	__u32 n = take_wakees(x->st);

	if (n)
		add_wakees(&wk, x->st->wakee, n, 1, s->wakee, s->wakee_n, true);
}

/*
 * The word on top of the user stack is the syscall wrapper's return
 * address if the wrapper pushed nothing; trust it only when the 5 bytes
 * before it are a `call rel32` (0xe8), as a call to a PLT stub is.
 */
static __always_inline __u64 wrapper_caller(__u64 usp)
{
	__u64 ret = 0;
	__u8 op = 0;

#ifndef __TARGET_ARCH_x86
	return 0;	/* elsewhere the return address is in a register */
#endif
	if (!usp || bpf_probe_read_user(&ret, sizeof(ret), (void *)usp) || ret < 5)
		return 0;
	if (bpf_probe_read_user(&op, sizeof(op), (void *)(ret - 5)) || op != 0xe8)
		return 0;
	return ret;
}

/* Stack ids for --stacks, taken at most once per call; a failure is counted. */
static __always_inline void take_stacks(struct crossing *x)
{
	long id;

	if (x->ustack != BT_STACK_NONE || !x->ctx)
		return;
	id = bpf_get_stackid(x->ctx, &stacks, BPF_F_USER_STACK);
	x->ustack = id >= 0 ? id : BT_STACK_LOST;
	id = bpf_get_stackid(x->ctx, &stacks, 0);
	x->kstack = id >= 0 ? id : BT_STACK_LOST;
	x->ucaller = wrapper_caller(x->usp);
	if (x->ustack == BT_STACK_LOST || x->kstack == BT_STACK_LOST)
		lose(BT_LOSS_STACKS);
}

/* --stacks: this crossing was ended by a waker whose stack we hold. */
static __always_inline void account_wakestack(struct endpoint *c, struct crossing *x,
					      struct bt_key *key)
{
	struct bt_wakestack_key wk = {};
	struct bt_wakestack_val one = { .count = 1 }, *v;

	if (!with_stacks || !x->st || !x->st->waker_pid || x->st->waker_ustack == BT_STACK_NONE)
		return;
	wk.wakee = x->tgid;
	wk.waker = x->st->waker_pid;
	wk.kind = c->kind;
	wk.dir = x->dir;
	wk.chan = c->chan;
	wk.peer = c->peer;
	wk.wakee_ustack = key->ustack;
	wk.wakee_ucaller = key->ucaller;
	wk.waker_ustack = x->st->waker_ustack;
	wk.waker_ucaller = x->st->waker_ucaller;
	/* Once per call: splice's second descriptor was not what it waited on. */
	x->st->waker_ustack = BT_STACK_NONE;
	v = bpf_map_lookup_elem(&wakestacks, &wk);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->blocked_ns, x->blocked);
		return;
	}
	one.blocked_ns = x->blocked;
	if (not_kept(bpf_map_update_elem(&wakestacks, &wk, &one, BPF_NOEXIST)))
		lose(BT_LOSS_MAP_FULL);
}

/* The stats map is full: calls calls are lost, but counted under their row. */
static __always_inline void lose_calls(const struct bt_key *key, __u64 calls)
{
	__u64 *n;

	__sync_fetch_and_add(&losses[BT_LOSS_CALLS], calls);
	n = bpf_map_lookup_elem(&lostcalls, key);
	if (n) {
		__sync_fetch_and_add(n, calls);
		return;
	}
	if (!bpf_map_update_elem(&lostcalls, key, &calls, BPF_NOEXIST))
		return;
	n = bpf_map_lookup_elem(&lostcalls, key);	/* another CPU made it meanwhile */
	if (n)
		__sync_fetch_and_add(n, calls);
	else
		__sync_fetch_and_add(&losses[BT_LOSS_CALLS_UNPLACED], calls);
}

/*
 * A row was made: count it, and wake userspace's poll once when the count
 * reaches fold_at (an event, so a burst of new connections is folded
 * before it fills the map, not at the next 100 ms poll). A global
 * function: verified once, not at each of account()'s call sites.
 */
__noinline int row_made(int spilled)
{
	struct bt_event *e;

	__sync_fetch_and_add(&rows_made, 1);
	if (spilled)
		__sync_fetch_and_add(&spill_made, 1);
	if ((!fold_at || rows_made < fold_at) &&
	    (!spill_fold_at || spill_made < spill_fold_at))
		return 0;
	/* One wakeup; userspace sets the next marks after the fold. */
	fold_at = 0;
	spill_fold_at = 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;	/* the poll's own check folds at its next turn */
	__builtin_memset(e, 0, sizeof(*e));
	e->type = BT_EV_FOLD;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * A crossing x of kind and direction dir counted into row s (a stats
 * row, or a pending row with plain_add). In a stats row the exact counters are atomic adds: the
 * per-CPU slot is ours, but a preemptible kernel can switch to another
 * thread of the same process mid-update. Times and histograms are
 * measurements, not counts: plain adds, a lost increment there is noise.
 */
#define shared_add(p, n)	__sync_fetch_and_add(p, n)
#define plain_add(p, n)		(*(p) += (n))
#define count_crossing(s, kind, dir, x, add)					\
	do {									\
		add(&(s)->calls, 1);						\
		if ((x)->ret < 0) {						\
			add(&(s)->errors, 1);					\
		} else if ((kind) == BT_KIND_FUTEX) {				\
			if ((dir) == BT_DIR_WAKE)				\
				add(&(s)->woken, (x)->ret);			\
		} else {							\
			add(&(s)->bytes, (x)->bytes);				\
			(s)->size_hist[log2_slot((x)->bytes)]++;		\
		}								\
		(s)->blocked_ns += (x)->blocked;				\
		(s)->blocked_hist[log2_slot((x)->blocked)]++;			\
		if ((x)->blocked > (s)->max_blocked_ns)				\
			(s)->max_blocked_ns = (x)->blocked;			\
	} while (0)

/*
 * The row cache (struct bt_pending in boundtrace.h). A thread writes only
 * the slot it holds (tid); a free slot is taken under a lock (no
 * compare-and-swap without BPF cpu v3 atomics), rarely: at a thread's
 * first crossing, and given back at its exit. Two live threads whose
 * tids share a slot: the second counts in stats, as without the cache.
 * Userspace sets rows_collecting, then waits for an RCU grace period
 * (every program that read it 0 has returned), reads and may empty the
 * pending rows, and clears it: meanwhile every crossing counts in stats.
 * pending_dirty: a bit for every slot that ever held a row (userspace
 * reads those only, and clears the bit of a slot it empties).
 */
__u32 rows_collecting;
__u64 pending_dirty[BT_PENDING_SLOTS / 64];

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BT_PENDING_SLOTS);	/* 1 when the cache is off */
	__type(key, __u32);
	__type(value, struct bt_pending);
} pending SEC(".maps");

struct pending_lock {
	struct bpf_spin_lock lock;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending_lock);
} pending_locks SEC(".maps");

/* Takes slot idx for thread tid if it is free; whether tid holds it. A global function: rare. */
__noinline int pending_claim(__u32 idx, __u32 tid)
{
	struct pending_lock *lk;
	struct bt_pending *p;
	__u64 *dirty, bit;
	__u32 zero = 0;
	int mine;

	p = bpf_map_lookup_elem(&pending, &idx);
	lk = bpf_map_lookup_elem(&pending_locks, &zero);
	if (!p || !lk)
		return 0;
	bpf_spin_lock(&lk->lock);
	if (!p->tid)
		p->tid = tid;
	mine = p->tid == tid;
	bpf_spin_unlock(&lk->lock);
	dirty = &pending_dirty[(idx / 64) & (BT_PENDING_SLOTS / 64 - 1)];
	bit = 1ULL << (idx % 64);
	if (mine && !(*dirty & bit))
		__sync_fetch_and_or(dirty, bit);
	return mine;
}

/*
 * What a crossing counts in its row, as plain values (pending_try's
 * argument): its row as a wakes key (the caller's stack: a global
 * function's own frame adds to sys_exit's, at most 512 bytes).
 */
struct pending_in {
	struct bt_wake_key wk;	/* waker: the tgid; wakee: filled per wakee */
	__u64 bytes, blocked;
	long ret;
};

_Static_assert(sizeof(struct bt_key) == 5 * sizeof(__u64), "same_key compares five words");

static __always_inline bool same_key(const struct bt_key *a, const struct bt_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/*
 * A pending row into its stats row (made again if a fold or a harvest
 * took it meanwhile; no room: its calls are lost, counted), then emptied
 * (its key stays). A global function: once per BT_PENDING_MAX_CALLS
 * crossings of a row at most, and verified once.
 */
__noinline int pending_flush(struct bt_pending_row *r)
{
	struct bt_wake_key wk;
	struct bt_stats *s;
	int err;

	if (!r || !r->calls)
		return 0;
	s = bpf_map_lookup_elem(&stats, &r->key);
	if (!s) {
		err = bpf_map_update_elem(&stats, &r->key, &zero_stats, BPF_NOEXIST);
		if (!err)
			row_made(0);
		s = bpf_map_lookup_elem(&stats, &r->key);
		if (!s && (err == -ENOMEM || err == -E2BIG)) {
			/*
			 * As a crossing's own row would (stats_spill): a burst
			 * of new rows empties the per-CPU reserve, and the
			 * flushes of the rows it evicts come in the same burst.
			 */
			err = bpf_map_update_elem(&stats_spill, &r->key, &zero_stats, BPF_NOEXIST);
			if (!err)
				row_made(1);
			s = bpf_map_lookup_elem(&stats_spill, &r->key);
		}
	}
	if (!s) {
		lose_calls(&r->key, r->calls);
		goto empty;
	}
	__sync_fetch_and_add(&s->calls, r->calls);
	__sync_fetch_and_add(&s->errors, r->errors);
	__sync_fetch_and_add(&s->bytes, r->bytes);
	__sync_fetch_and_add(&s->woken, r->woken);
	s->blocked_ns += r->blocked_ns;
	if (r->max_blocked_ns > s->max_blocked_ns)
		s->max_blocked_ns = r->max_blocked_ns;
	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		s->size_hist[i] += r->size_hist[i];
		s->blocked_hist[i] += r->blocked_hist[i];
		s->exch_hist[i] += r->exch.exch_hist[i];
	}
	if (r->exch.role)
		s->role = r->exch.role;
	__sync_fetch_and_add(&s->exchanges, r->exch.exchanges);
	s->exch_ns += r->exch.exch_ns;
	if (r->exch.max_exch_ns > s->max_exch_ns)
		s->max_exch_ns = r->exch.max_exch_ns;
	wk = (struct bt_wake_key){ .waker = r->key.tgid, .kind = r->key.kind, .dir = r->key.dir,
				   .chan = r->key.chan, .peer = r->key.peer };
	/* Each held wakee by itself: its count is its own. */
	add_wakees(&wk, &r->wakee[0], 1, r->wakee_n[0], s->wakee, s->wakee_n, true);
	add_wakees(&wk, &r->wakee[1], 1, r->wakee_n[1], s->wakee, s->wakee_n, true);
empty:
	r->calls = 0;
	r->errors = 0;
	r->bytes = 0;
	r->woken = 0;
	r->blocked_ns = 0;
	r->max_blocked_ns = 0;
	__builtin_memset(r->wakee, 0, sizeof(r->wakee));
	__builtin_memset(r->wakee_n, 0, sizeof(r->wakee_n));
	__builtin_memset(r->size_hist, 0, sizeof(r->size_hist));
	__builtin_memset(r->blocked_hist, 0, sizeof(r->blocked_hist));
	__builtin_memset(&r->exch, 0, sizeof(r->exch));
	return 0;
}

/*
 * The crossing in (of thread st, row key) into the thread's own pending
 * row of its direction when that row is key's: plain adds, no lookup,
 * and 1. Else 0, and the caller counts it in stats: the pending row is
 * flushed if it holds anything, and is key's from now on. 0 too when
 * the kernel may not touch pending rows (a collection) or the slot is
 * another live thread's. A global function, one call per crossing:
 * inlined at each of sys_exit's crossing sites, the program outgrew a
 * jump's range.
 */
__noinline int pending_try(struct inflight *st, struct bt_key *key, struct pending_in *in)
{
	struct bt_pending_row *r;
	struct bt_pending *p;
	__u32 tid, idx, n;

	if (!st || !key || !in || *(volatile __u32 *)&rows_collecting)
		return 0;
	tid = st->tid;
	idx = tid & (BT_PENDING_SLOTS - 1);
	p = bpf_map_lookup_elem(&pending, &idx);
	if (!p || (p->tid != tid && !pending_claim(idx, tid)))
		return 0;
	r = &p->row[in->wk.dir & 1];
	if (r->calls >= BT_PENDING_MAX_CALLS || !same_key(&r->key, key)) {
		if (r->calls)
			pending_flush(r);
		r->key = *key;
		return 0;
	}
	count_crossing(r, in->wk.kind, in->wk.dir, in, plain_add);
	account_exchange(in->wk.kind, in->wk.dir, st, &r->exch, true);
	n = take_wakees(st);
	if (n)
		add_wakees(&in->wk, st->wakee, n, 1, r->wakee, r->wakee_n, false);
	return 1;
}

/* A target thread exits: its slot is free (its rows stay for a flush or userspace). */
static __always_inline void pending_release(struct task_struct *p)
{
	__u32 idx = p->pid & (BT_PENDING_SLOTS - 1);
	struct bt_pending *slot;

	if (!cache_rows)
		return;
	slot = bpf_map_lookup_elem(&pending, &idx);
	if (slot && slot->tid == p->pid)
		slot->tid = 0;
}

static __always_inline void account(struct endpoint *c, struct crossing *x)
{
	struct bt_key key = {
		.tgid = x->tgid, .kind = c->kind, .dir = x->dir,
		.chan = c->chan, .peer = c->peer,
		.ustack = BT_STACK_NONE, .kstack = BT_STACK_NONE,
	};

	if (with_stacks) {
		take_stacks(x);
		key.ustack = x->ustack;
		key.kstack = x->kstack;
		key.ucaller = x->ucaller;
	}
	struct bt_stats *s;
	int err;

	if (cache_rows && x->st) {
		struct pending_in in = {
			.wk = { .waker = x->tgid, .kind = c->kind, .dir = x->dir,
				.chan = c->chan, .peer = c->peer },
			.bytes = x->bytes, .blocked = x->blocked, .ret = x->ret,
		};

		if (pending_try(x->st, &key, &in))
			goto counted;
	}
	s = bpf_map_lookup_elem(&stats, &key);
	if (!s) {
		err = bpf_map_update_elem(&stats, &key, &zero_stats, BPF_NOEXIST);
		if ((err == -ENOMEM || err == -E2BIG) && !with_stacks) {
			/*
			 * No per-CPU memory at hand, or no room left before the
			 * next fold empties the map (see stats_spill). Not with
			 * --stacks: the second map pointer doubles the states
			 * the verifier walks past here, over its limit; there
			 * the call is lost, counted. Each branch makes its own
			 * lookup: a flag joining them keeps the second map
			 * live in --stacks too (measured: over the limit).
			 */
			err = bpf_map_update_elem(&stats_spill, &key, &zero_stats, BPF_NOEXIST);
			if (err && err != -EEXIST) {
				lose_calls(&key, 1);
				record_chan(c, x->uremote);
				return;
			}
			if (!err)
				row_made(1);
			record_chan(c, x->uremote);
			s = bpf_map_lookup_elem(&stats_spill, &key);
		} else if (err && err != -EEXIST) {
			/*
			 * The channel's facts all the same (their own map, one
			 * entry a channel, not a row): the report names the
			 * lost calls' service, and the exchanges on the channel
			 * find it, instead of one chain per connection.
			 */
			lose_calls(&key, 1);
			record_chan(c, x->uremote);
			return;
		} else {
			if (!err)
				row_made(0);
			record_chan(c, x->uremote);
			s = bpf_map_lookup_elem(&stats, &key);
		}
		if (!s)
			return;
	}
	count_crossing(s, c->kind, x->dir, x, shared_add);
	account_exchange(c->kind, x->dir, x->st, (struct bt_exch_sum *)&s->role, false);
	account_wakeups(c, x, s);
counted:
	/* The row this call is counted in, should the kernel restart it (see struct inflight). */
	if (x->st) {
		x->st->last_key = key;
		x->st->last_blocked = x->blocked | 1;
		x->st->last_ts = x->start;
		x->st->last_ret = x->ret;
		x->st->last_nr = x->nr;
	}
	account_wakestack(c, x, &key);
	emit_episode(c, x);
}

/*
 * A target's crossing names its socket's last user (sk_owner). The map
 * lookup that finds it unchanged cost each socket crossing 45-95 ns; the
 * thread's slot remembers the last socket it found or wrote, and the
 * owner_writes count then (read BEFORE the lookup: any write from then on,
 * this one's included, makes the note stale). The same socket, process
 * and count: sk_owner still says so, nothing to do. (Pointer and scalar
 * compared, a pointer kept in a map value: allowed to a privileged
 * loader, which boundtrace always is.)
 */
static __always_inline void sock_used_by(struct inflight *st, struct endpoint *c, __u32 tgid)
{
	__u64 gen = *(volatile __u64 *)&owner_writes;

	if (st && st->owner_sk == (__u64)c->sk && st->owner_tgid == tgid && st->owner_gen == gen)
		return;
	sock_used_addr(kernel_word(&c->sk), tgid);
	if (st) {
		st->owner_sk = (__u64)c->sk;
		st->owner_tgid = tgid;
		st->owner_gen = gen;
	}
}

/*
 * The task is taken here, where a descriptor is walked: a futex's
 * crossing needs none (its ids come from current_tid's cache).
 */
static __always_inline void cross_fd(long fd, struct crossing *x)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct endpoint c = {};

	classify(task, fd, &c);
	if (c.kind == BT_KIND_NONE)
		return;
	if (c.sk)
		sock_used_by(x->st, &c, x->tgid);
	if (x->uremote && (c.kind == BT_KIND_UDP || c.kind == BT_KIND_TCP) &&
	    !(c.peer >> 48))
		inet_remote_from_user(x->uremote, &c, NULL);
	pipe_step(&c, x, task);
	account(&c, x);
}

/* vmsplice moves data into or out of a pipe depending on which end fd is. */
static __always_inline void cross_vmsplice(long fd, struct crossing *x)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct endpoint c = {};
	struct file *file;

	classify(task, fd, &c);
	if (c.kind == BT_KIND_NONE)
		return;
	file = c.file;
	x->dir = (file->f_mode & FMODE_WRITE) ? BT_DIR_SEND : BT_DIR_RECV;
	account(&c, x);
}

/* Sum msg_len over the messages a sendmmsg/recvmmsg call handled. */
static __always_inline __u64 mmsg_bytes(const struct mmsghdr *vec, long n)
{
	__u64 sum = 0;
	__u32 len;

	if (n > BT_MMSG_MAX) {
		lose(BT_LOSS_MMSG_TRUNC);
		n = BT_MMSG_MAX;
	}
	for (int i = 0; i < BT_MMSG_MAX; i++) {
		if (i >= n)
			break;
		if (bpf_probe_read_user(&len, sizeof(len), &vec[i].msg_len))
			break;
		sum += len;
	}
	return sum;
}

static __always_inline const void *msghdr_name(const struct user_msghdr *msg)
{
	void *name = NULL;

	if (msg)
		bpf_probe_read_user(&name, sizeof(name), &msg->msg_name);
	return name;
}

/* ---- futex ------------------------------------------------------------- */

#define FUTEX_WAIT		0
#define FUTEX_WAKE		1
#define FUTEX_FD		2
#define FUTEX_REQUEUE		3
#define FUTEX_CMP_REQUEUE	4
#define FUTEX_WAKE_OP		5
#define FUTEX_LOCK_PI		6
#define FUTEX_UNLOCK_PI		7
#define FUTEX_TRYLOCK_PI	8
#define FUTEX_WAIT_BITSET	9
#define FUTEX_WAKE_BITSET	10
#define FUTEX_WAIT_REQUEUE_PI	11
#define FUTEX_CMP_REQUEUE_PI	12
#define FUTEX_LOCK_PI2		13
#define FUTEX_CMD_MASK		0x7f
#define FUTEX_PRIVATE_FLAG	128	/* FUTEX2_PRIVATE has the same value */

static __always_inline int futex_dir(long op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_WAIT_REQUEUE_PI:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_TRYLOCK_PI:
		return BT_DIR_WAIT;
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
	case FUTEX_WAKE_OP:
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_CMP_REQUEUE_PI:
	case FUTEX_UNLOCK_PI:
		return BT_DIR_WAKE;
	}
	return -1;
}

static __always_inline void cross_futex(__u64 uaddr, struct crossing *x)
{
	struct endpoint c = { .kind = BT_KIND_FUTEX, .chan = uaddr };

	account(&c, x);
}

/* ---- syscall hooks ----------------------------------------------------- */

/*
 * Waits for readiness: not crossings (the read or accept after them is),
 * but in chain mode one that returns 0 waited until its timeout and is a
 * `timeout` episode; what it returns otherwise the exchanges account for.
 */
static __always_inline bool is_readiness_nr(long nr)
{
	switch (nr) {
	case BT_NR_poll: case BT_NR_select: case BT_NR_epoll_wait: case BT_NR_pselect6:
	case BT_NR_ppoll: case BT_NR_epoll_pwait: case BT_NR_epoll_pwait2:
		return true;
	}
	return false;
}

/* The calls sys_exit_marked marks connections and listeners at (connection_marks). */
static __always_inline bool is_connection_nr(long nr)
{
	return nr == BT_NR_connect || nr == BT_NR_accept || nr == BT_NR_accept4 ||
	       nr == BT_NR_listen;
}

/* The calls sys_exit_marked counts for a process that is not a target. */
static __always_inline bool is_marked_nr(long nr)
{
	switch (nr) {
	case BT_NR_write: case BT_NR_writev: case BT_NR_sendmsg: case BT_NR_sendto:
	case BT_NR_read: case BT_NR_readv: case BT_NR_recvmsg: case BT_NR_recvfrom:
		return true;
	}
	return false;
}

static __always_inline bool is_crossing_nr(long nr)
{
	switch (nr) {
	case BT_NR_read: case BT_NR_write: case BT_NR_readv: case BT_NR_writev:
	case BT_NR_sendto: case BT_NR_recvfrom: case BT_NR_sendmsg: case BT_NR_recvmsg:
	case BT_NR_sendmmsg: case BT_NR_recvmmsg: case BT_NR_splice: case BT_NR_vmsplice:
	case BT_NR_tee: case BT_NR_sendfile: case BT_NR_futex: case BT_NR_futex_waitv:
	case BT_NR_futex_wake: case BT_NR_futex_wait: case BT_NR_futex_requeue:
		return true;
	}
	return false;
}

/*
 * --peers: a process that is not (yet) a target crossed a channel a
 * target marked: counted from its first byte, before a scan finds and
 * follows it. Calls and bytes of the plain read/write/send/recv calls; no
 * blocked time (its entry was not stamped), no wakeups or stacks. A
 * program of its own (loaded only with --peers): its stack and
 * verification stay out of the targets' program. Not attached: sys_exit
 * tail-calls it (marked_exit) for the calls it looks at, so the other
 * syscalls of every process pay no second program dispatch (about 75 ns
 * a crossing of a pinned pipe ping-pong, end to end). At any process's
 * connect, accept or listen it marks connections and listeners instead
 * (connection_marks).
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_marked, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct crossing x = { .ret = ret, .ustack = BT_STACK_NONE, .kstack = BT_STACK_NONE };
	struct endpoint c = {};
	long nr = BT_REGS_NR(regs);
	__u64 key;

	if (!count_marked)
		return 0;
	if (is_connection_nr(nr)) {
		connection_marks(ret);
		return 0;
	}
	if (is_target(task->tgid) || !is_crossing_nr(nr))
		return 0;
	switch (nr) {
	case BT_NR_write: case BT_NR_writev: case BT_NR_sendmsg: case BT_NR_sendto:
		x.dir = BT_DIR_SEND;
		break;
	case BT_NR_read: case BT_NR_readv: case BT_NR_recvmsg: case BT_NR_recvfrom:
		x.dir = BT_DIR_RECV;
		break;
	default:
		return 0;
	}
	classify(task, BT_REGS_ARG1(regs), &c);
	if (c.kind == BT_KIND_NONE)
		return 0;
	/* A pipe's mark is its inode, a socket's its address (mark_channel). */
	key = c.kind == BT_KIND_PIPE ? c.chan : kernel_word(&c.sk);
	if (!channel_marked(key))
		return 0;
	x.tgid = task->tgid;
	seen_process(task);
	x.bytes = ret > 0 ? ret : 0;
	if ((nr == BT_NR_recvfrom && (BT_REGS_ARG4(regs) & BT_MSG_PEEK)) ||
	    (nr == BT_NR_recvmsg && (BT_REGS_ARG3(regs) & BT_MSG_PEEK)))
		x.bytes = 0;
	marked_end_used(&c, x.tgid);
	account(&c, &x);
	return 0;
}

/*
 * The interrupted call was counted at its exit; the kernel restarts it, so
 * its row gives the call, the error and the blocked time back (another
 * CPU's slot may go below zero: userspace sums the CPUs, modulo 2^64).
 */
static __always_inline void uncount_restarted(struct inflight *st)
{
	__u64 blocked = st->pend_blocked & ~1ull;
	struct bt_stats *s;

	if (!st->pend_blocked)
		return;
	s = bpf_map_lookup_elem(&stats, &st->pend_key);
	if (!s)
		return;
	__sync_fetch_and_add(&s->calls, -1);
	__sync_fetch_and_add(&s->errors, -1);
	s->blocked_ns -= blocked;
	s->blocked_hist[log2_slot(blocked)]--;
}

static __always_inline bool is_restart(long ret)
{
	return ret >= -ERESTART_RESTARTBLOCK && ret <= -ERESTARTSYS;
}

/*
 * At the entry of a target's sending call nr on descriptor fd (count
 * bytes, entered at now), st its slot: the descriptor is walked once,
 * for --peers' mark (mark_before_send) and, on a pipe, for a write's
 * conversation step (pipe_write_entered, chain mode). first: the call's
 * own entry, not a restart of it (which only marks). Inlined, once, in
 * sys_enter: a global function cost every pipe write in chain mode a
 * call, its return and a second bpf_get_current_task_btf().
 */
static __always_inline void send_entered(struct task_struct *task, struct inflight *st, long fd,
					 long nr, __u64 count, __u64 now, bool first)
{
	struct endpoint c = {};

	classify(task, fd, &c);
	if (count_marked)
		mark_before_send(&c, st);
	if (first && exchange_records && c.kind == BT_KIND_PIPE &&
	    (nr == BT_NR_write || nr == BT_NR_writev))
		pipe_write_entered(task, c.file, count, now, nr == BT_NR_write);
}

/*
 * Whether a sending call's entry walks its descriptor (send_entered):
 * for --peers' mark, and in chain mode for a pipe write's step.
 */
static __always_inline bool walks_at_entry(long nr)
{
	return count_marked || (exchange_records && (nr == BT_NR_write || nr == BT_NR_writev));
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct inflight *st;
	__u64 count;
	bool first;
	long fd;
	__u32 tid;

	if (!is_target(current_tgid(regs)))
		return 0;
	if (!is_crossing_nr(id) && id != BT_NR_restart_syscall &&
	    !(min_block_ns && is_readiness_nr(id)))
		return 0;
	tid = current_tid(regs);
	fd = walks_at_entry(id) ? sent_fd(id, regs) : -1;
	st = inflight_slot(tid);
	if (!st)
		return 0;
	if (st->tid != tid) {
		slot_new_owner(st);
	} else if (st->last_ts && is_restart(st->last_ret)) {
		/* The last call was interrupted: pending until its restart enters. */
		st->pend_ts = st->last_ts;
		st->pend_nr = st->last_nr;
		st->pend_blocked = st->last_blocked;
		st->pend_key = st->last_key;
		st->last_ts = 0;
	}
	if (st->tid == tid && st->pend_ts &&
	    (id == st->pend_nr || id == BT_NR_restart_syscall)) {
		/* The kernel restarts the call it interrupted: still one call. */
		uncount_restarted(st);
		st->nr = st->pend_nr;
		st->ts = st->pend_ts;
		st->pend_ts = 0;
		st->sock_ns = 0;
		if (!count_marked || fd < 0)
			return 0;
		first = false;	/* only marks */
		count = 0;
		goto walk;
	}
	if (id == BT_NR_restart_syscall)
		return 0;
	slot_call_begins(st, tid, id);
	/* A write whose exit was not seen: its count is no longer in progress. */
	if (exchange_records)
		st->pipe.cnt_ino = 0;
	/* Only the modes that read who woke us pay for clearing it. */
	if (min_block_ns || with_stacks) {
		st->wake_ns = 0;
		st->waker_pid = 0;
		st->waker_tid = 0;
		st->waker_ustack = BT_STACK_NONE;
	}
	st->ts = bpf_ktime_get_ns();
	if (fd < 0)
		return 0;
	first = true;
	count = BT_REGS_ARG3(regs);
walk:
	/* One site: inlined twice, the walk would be verified twice. */
	send_entered(bpf_get_current_task_btf(), st, fd, id, count, st->ts, first);
	return 0;
}

/*
 * A crossing syscall nr ended with ret: classify its descriptor(s) and
 * count it. regs holds its arguments.
 */
static __always_inline void end_crossing(void *ctx, __u32 tgid, __u32 tid,
					 struct pt_regs *regs, long nr, long ret)
{
	struct crossing x = { .ret = ret, .ctx = ctx,
			      .ustack = BT_STACK_NONE, .kstack = BT_STACK_NONE };
	struct inflight *st;
	int dir;

	x.tgid = tgid;
	x.nr = nr;
	x.usp = BT_REGS_SP(regs);
	st = inflight_of(tid);
	if (st && st->nr == nr) {
		x.end = st->sock_ns ?: bpf_ktime_get_ns();
		st->sock_ns = 0;
		x.start = st->ts;
		x.blocked = x.end - x.start;
		st->ts = 0;
		x.st = st;
	} else {
		lose(BT_LOSS_NO_ENTRY);
	}
	x.bytes = ret > 0 ? ret : 0;

	switch (nr) {
	case BT_NR_write: case BT_NR_writev: case BT_NR_sendmsg: case BT_NR_sendto:
		x.dir = BT_DIR_SEND;
		if (nr == BT_NR_sendto)
			x.uremote = (const void *)BT_REGS_ARG5(regs);
		else if (nr == BT_NR_sendmsg)
			x.uremote = msghdr_name((void *)BT_REGS_ARG2(regs));
		cross_fd(BT_REGS_ARG1(regs), &x);
		break;
	case BT_NR_read: case BT_NR_readv: case BT_NR_recvmsg: case BT_NR_recvfrom:
		x.dir = BT_DIR_RECV;
		if (nr == BT_NR_recvfrom && ret >= 0)
			x.uremote = (const void *)BT_REGS_ARG5(regs);
		else if (nr == BT_NR_recvmsg && ret >= 0)
			x.uremote = msghdr_name((void *)BT_REGS_ARG2(regs));
		if ((nr == BT_NR_recvfrom && (BT_REGS_ARG4(regs) & BT_MSG_PEEK)) ||
		    (nr == BT_NR_recvmsg && (BT_REGS_ARG3(regs) & BT_MSG_PEEK)))
			x.bytes = 0;
		/* A miss of this call alone is no timeout (see wait_class). */
		if (ret == -EAGAIN)
			x.dontwait = (nr == BT_NR_recvfrom && (BT_REGS_ARG4(regs) & BT_MSG_DONTWAIT)) ||
				     (nr == BT_NR_recvmsg && (BT_REGS_ARG3(regs) & BT_MSG_DONTWAIT));
		cross_fd(BT_REGS_ARG1(regs), &x);
		break;
	case BT_NR_sendmmsg: case BT_NR_recvmmsg:
		x.dir = nr == BT_NR_sendmmsg ? BT_DIR_SEND : BT_DIR_RECV;
		x.bytes = ret > 0 ? mmsg_bytes((void *)BT_REGS_ARG2(regs), ret) : 0;
		if (nr == BT_NR_recvmmsg && (BT_REGS_ARG4(regs) & BT_MSG_PEEK))
			x.bytes = 0;
		if (ret > 0)
			x.uremote = msghdr_name((void *)BT_REGS_ARG2(regs));
		cross_fd(BT_REGS_ARG1(regs), &x);
		break;
	case BT_NR_vmsplice:
		cross_vmsplice(BT_REGS_ARG1(regs), &x);
		break;
	case BT_NR_splice:	/* splice(fd_in, off_in, fd_out, off_out, len, flags) */
		x.dir = BT_DIR_RECV;
		cross_fd(BT_REGS_ARG1(regs), &x);
		x.dir = BT_DIR_SEND;
		cross_fd(BT_REGS_ARG3(regs), &x);
		break;
	case BT_NR_tee:		/* tee(fd_in, fd_out, len, flags) */
		x.dir = BT_DIR_RECV;
		cross_fd(BT_REGS_ARG1(regs), &x);
		x.dir = BT_DIR_SEND;
		cross_fd(BT_REGS_ARG2(regs), &x);
		break;
	case BT_NR_sendfile:	/* sendfile(out_fd, in_fd, offset, count) */
		x.dir = BT_DIR_SEND;
		cross_fd(BT_REGS_ARG1(regs), &x);
		x.dir = BT_DIR_RECV;
		cross_fd(BT_REGS_ARG2(regs), &x);
		break;
	case BT_NR_futex:
		dir = futex_dir(BT_REGS_ARG2(regs));
		if (dir < 0)
			break;
		x.dir = dir;
		cross_futex(BT_REGS_ARG1(regs), &x);
		break;
	case BT_NR_futex_wait:
		x.dir = BT_DIR_WAIT;
		cross_futex(BT_REGS_ARG1(regs), &x);
		break;
	case BT_NR_futex_wake:
		x.dir = BT_DIR_WAKE;
		cross_futex(BT_REGS_ARG1(regs), &x);
		break;
	case BT_NR_futex_waitv:
		x.dir = BT_DIR_WAIT;
		cross_futex(futex_vec_addr((void *)BT_REGS_ARG1(regs)), &x);
		break;
	case BT_NR_futex_requeue:
		x.dir = BT_DIR_WAKE;
		cross_futex(futex_vec_addr((void *)BT_REGS_ARG1(regs)), &x);
		break;
	}
	/* Anything but a read may be a call or a hand-off (struct bt_pipe_thread's calls). */
	if (x.st && x.dir != BT_DIR_RECV)
		x.st->pipe.calls++;
}

/*
 * Chain mode: a readiness wait (is_readiness_nr) ended. Returning 0, it
 * waited for its timeout: an episode of kind NONE, waker cleared. One the
 * kernel will restart keeps its stamp, so the restart's exit times it all.
 */
static __always_inline void end_readiness_wait(__u32 tgid, __u32 tid, long nr, long ret)
{
	struct endpoint c = { .kind = BT_KIND_NONE };
	struct crossing x = { .ret = ret, .dir = BT_DIR_WAIT, .tgid = tgid, .nr = nr };
	struct inflight *st = inflight_of(tid);

	if (!st || st->nr != nr || is_restart(ret))
		return;
	x.start = st->ts;
	st->ts = 0;
	/*
	 * Ready or failed: no episode, and no clock read (a server's
	 * epoll_wait returns ready once per request or batch of them).
	 */
	if (ret)
		return;
	x.end = bpf_ktime_get_ns();
	x.blocked = x.end - x.start;
	x.st = st;
	emit_episode(&c, &x);
}

/* sys_exit_marked, tail-called from sys_exit; filled by userspace after load. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} marked_exit SEC(".maps");

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	long nr = BT_REGS_NR(regs);
	struct inflight *st;
	__u32 tgid, tid;

	/*
	 * Any process's socket, accept, connect or bind names a socket's
	 * holder. The call number is tested here, not in the global
	 * function: every syscall on the machine passes this point, and the
	 * call and its two helpers cost it more than a few compares.
	 */
	if (is_peers_nr(nr))
		peers_on_exit(ret);
	/*
	 * --peers: what sys_exit_marked looks at, the one way there (a tail
	 * call does not come back; none of these calls is counted below): any
	 * process's connect, accept or listen, a non-target's read, write,
	 * send or receive.
	 */
	if (count_marked && is_connection_nr(nr))
		bpf_tail_call(ctx, &marked_exit, 0);
	tgid = current_tgid(regs);
	if (!is_target(tgid)) {
		if (count_marked && is_marked_nr(nr) && *(volatile __u64 *)&marks_made)
			bpf_tail_call(ctx, &marked_exit, 0);
		return 0;
	}
	tid = current_tid(regs);
	if (nr == BT_NR_restart_syscall) {
		/* The restart of an interrupted call: the registers still hold its arguments. */
		st = inflight_of(tid);
		if (!st)
			return 0;
		nr = st->nr;
	}
	if (is_crossing_nr(nr))
		end_crossing(ctx, tgid, tid, regs, nr, ret);
	else if (min_block_ns && is_readiness_nr(nr))
		end_readiness_wait(tgid, tid, nr, ret);
	return 0;
}

/* ---- the socket layer ---------------------------------------------------- */

/*
 * --sockets-only: a target thread's socket call begins at its tracepoint.
 * The thread's in-flight slot is claimed as sys_enter claims it (the row
 * cache and the exchange's outcome live there) and stamped 1, not a
 * time: no one reads when it began. sock_call ends it (ts 0), so
 * sk_data_ready, outside it, takes its own clock.
 */
static __always_inline struct inflight *sock_call_slot(__u32 tid)
{
	struct inflight *st = inflight_slot(tid);

	if (!st)
		return NULL;
	if (st->tid != tid)
		slot_new_owner(st);
	slot_call_begins(st, tid, 0);
	st->ts = 1;
	return st;
}

/* sock_count's dir: a receive that left the bytes queued (MSG_PEEK). */
#define SOCK_PEEKED	0x100

/*
 * --sockets-only: one socket-layer send or receive of sk (its address,
 * sk_addr) by process tgid, ret its bytes or error, dir its direction
 * (| SOCK_PEEKED), counted in its row as sys_exit counts a call: the same
 * key (classify_sock), no blocked time. st is the thread's slot (NULL: a
 * far end counted by its mark). A sendmmsg or recvmmsg is one count a
 * message; an interrupted call restarted is two. A global function: its
 * frame is apart from the exchange step's, which the same program holds
 * (both inlined, the chain down to peers_fill_info was 528 bytes, over
 * BPF's 512), and it is verified once.
 */
__noinline int sock_count(__u64 sk_addr, int ret, __u32 dir, __u32 tgid, struct inflight *st)
{
	struct crossing x = { .tgid = tgid, .dir = dir & 0xff, .ret = ret, .st = st,
			      .ustack = BT_STACK_NONE, .kstack = BT_STACK_NONE };
	struct sock *sk = bpf_rdonly_cast((void *)sk_addr, bpf_core_type_id_kernel(struct sock));
	struct endpoint c = {};

	classify_sock(sk, sock_ino(sk), &c);
	if (c.kind == BT_KIND_NONE)
		return 0;
	if (ret > 0 && !(dir & SOCK_PEEKED))
		x.bytes = ret;
	if (st) {
		sock_used_by(st, &c, tgid);
		if (count_marked)
			mark_before_send(&c, st);
	} else {
		marked_end_used(&c, tgid);
	}
	account(&c, &x);
	return 0;
}

static __always_inline __u32 sock_how(int flags, __u8 dir)
{
	return dir | (dir == BT_DIR_RECV && (flags & BT_MSG_PEEK) ? SOCK_PEEKED : 0);
}

/*
 * --sockets-only, --peers: a process that is not (yet) a target moved
 * data on a socket a target marked: counted from then on, as
 * sys_exit_marked counts it. Every other socket call of the machine
 * pays the marks_made test, then the filter's bit.
 */
static __always_inline void sock_count_marked(const struct caller *me, struct sock *sk, int ret,
					      int flags, __u8 dir)
{
	struct task_struct *task;
	__u64 key;

	if (!*(volatile __u64 *)&marks_made)
		return;
	key = kernel_word(&sk);
	if (!channel_marked(key))
		return;
	task = me->task ? me->task : bpf_get_current_task_btf();
	seen_process(task);
	sock_count(key, ret, sock_how(flags, dir), task->tgid, NULL);
}

/*
 * Every socket send and receive: the exchange step (exchange.bpf.h) of a
 * target's.
 */
SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length, struct sock *sk, int ret, int flags)
{
	struct caller me;

	if (target_caller(&me))
		exchange_sock(&me, sk, ret, flags, BT_DIR_SEND, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length, struct sock *sk, int ret, int flags)
{
	struct caller me;

	if (target_caller(&me))
		exchange_sock(&me, sk, ret, flags, BT_DIR_RECV, true);
	return 0;
}

/*
 * --sockets-only loads these instead: a target's step and count, a far
 * end's count by its mark.
 */
static __always_inline void sock_call(struct sock *sk, int ret, int flags, __u8 dir)
{
	struct inflight *st;
	struct caller me;

	if (!target_caller(&me)) {
		if (count_marked)
			sock_count_marked(&me, sk, ret, flags, dir);
		return;
	}
	st = sock_call_slot(me.tid);
	exchange_sock(&me, sk, ret, flags, dir, false);
	sock_count(kernel_word(&sk), ret, sock_how(flags, dir), me.tgid, st);
	if (st)
		st->ts = 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_count, struct sock *sk, int ret, int flags)
{
	sock_call(sk, ret, flags, BT_DIR_SEND);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_count, struct sock *sk, int ret, int flags)
{
	sock_call(sk, ret, flags, BT_DIR_RECV);
	return 0;
}

/*
 * A signal is delivered to a thread whose call was interrupted with
 * ERESTART*: a handler without SA_RESTART (or any handler, for
 * ERESTARTNOHAND and ERESTART_RESTARTBLOCK) makes the program see EINTR:
 * the error counted at the exit stands; otherwise the kernel restarts it.
 */
SEC("tp_btf/signal_deliver")
int BPF_PROG(signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inflight *st;
	__u64 handler, flags;
	long r;

	if (!is_target(task->tgid))
		return 0;
	st = inflight_slot(task->pid);
	if (!st || st->tid != task->pid || !st->last_ts || !is_restart(st->last_ret))
		return 0;
	handler = (__u64)BPF_CORE_READ(ka, sa.sa_handler);
	if (handler <= 1)	/* SIG_DFL, SIG_IGN: no handler runs here */
		return 0;
	flags = BPF_CORE_READ(ka, sa.sa_flags);
	r = st->last_ret;
	if (r == -ERESTARTNOINTR || (r == -ERESTARTSYS && (flags & SA_RESTART)))
		return 0;	/* restarted after the handler */
	/* The program sees EINTR: the error counted at the exit stands. */
	st->last_ts = 0;
	return 0;
}

/* ---- wakeup causality ------------------------------------------------- */

/*
 * sched_waking runs in the waker's context (sched_wakeup may run on the
 * wakee's CPU from an IPI). A wakeup counts only when the waker is a
 * target inside a crossing: that is boundary traffic; the rest is not.
 */
static __always_inline bool is_futex_nr(long nr)
{
	return nr == BT_NR_futex || nr == BT_NR_futex_wait || nr == BT_NR_futex_waitv;
}

/*
 * Whether waking p can be this crossing's doing: p must be waiting where
 * such a crossing ends waits. A timer or device interrupt that hits the
 * syscall wakes whatever it wakes on the interrupted task's time; those
 * wakees sleep elsewhere (nanosleep, a timed wait), and are not counted.
 */
static __always_inline bool wakee_waits_on_crossing(struct task_struct *p, struct pt_regs *regs,
						    long waker_nr, __u32 waker_tgid)
{
	long nr = BT_REGS_NR(regs);

	if (is_futex_nr(waker_nr)) {
		if (!is_futex_nr(nr))
			return false;
		/* Another process can only be woken through a shared futex. */
		if (p->tgid == waker_tgid || nr == BT_NR_futex_waitv)
			return true;
		if (nr == BT_NR_futex)
			return !(BT_REGS_ARG2(regs) & FUTEX_PRIVATE_FLAG);
		return !(BT_REGS_ARG4(regs) & FUTEX_PRIVATE_FLAG);	/* futex_wait flags */
	}
	if (is_crossing_nr(nr) && !is_futex_nr(nr))
		return true;
	switch (nr) {
	case BT_NR_poll: case BT_NR_select: case BT_NR_epoll_wait: case BT_NR_pselect6:
	case BT_NR_ppoll: case BT_NR_epoll_pwait: case BT_NR_epoll_pwait2:
	case BT_NR_io_uring_enter: case BT_NR_accept: case BT_NR_accept4:
		return true;
	}
	return false;
}

/*
 * Chain mode and --stacks: a blocked target learns who woke it (the
 * waker may be anyone) and, with stacks, from which code.
 */
static __always_inline void note_waker(void *ctx, struct task_struct *cur,
				       struct task_struct *p)
{
	struct inflight *st = inflight_of(p->pid);

	/*
	 * A readiness wait's waker is never read (a ready return is no
	 * episode, a timeout clears it, the next call's entry resets it):
	 * a server woken in epoll_wait by each request skips the clock.
	 */
	if (!st || is_readiness_nr(st->nr))
		return;
	st->wake_ns = bpf_ktime_get_ns();
	st->waker_pid = cur->tgid;
	st->waker_tid = cur->pid;
	if (with_stacks && !(cur->flags & PF_KTHREAD)) {
		long id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);

		st->waker_ustack = id >= 0 ? id : BT_STACK_LOST;
		st->waker_ucaller = wrapper_caller(
			BT_REGS_SP((struct pt_regs *)bpf_task_pt_regs(cur)));
	}
}

/* A target inside a crossing woke p: p's process is one its crossing reached. */
static __always_inline void note_wakee(struct task_struct *cur, struct task_struct *p)
{
	__u32 wakee = p->tgid;
	struct inflight *st;
	struct pt_regs *regs;
	__u32 n;

	/* A kernel thread woken by an interrupt that hit the syscall is no peer. */
	if (p->flags & PF_KTHREAD)
		return;
	st = inflight_of(cur->pid);
	if (!st)
		return;
	/* A wake of a thread of its own process may be a hand-off: a call (bt_pipe_thread). */
	if (p->tgid == cur->tgid)
		st->pipe.calls++;
	regs = task_regs(p);
	if (!wakee_waits_on_crossing(p, regs, st->nr, cur->tgid))
		return;
	if (is_futex_nr(st->nr))
		futex_link(st, cur, p, regs);
	n = st->nwake;
	for (int i = 0; i < BT_WAKEES_MAX; i++) {
		if (i >= n)
			break;
		if (st->wakee[i] == wakee)
			return;
	}
	if (n >= BT_WAKEES_MAX) {
		lose(BT_LOSS_WAKEES);
		return;
	}
	st->wakee[n & (BT_WAKEES_MAX - 1)] = wakee;
	st->nwake = n + 1;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking, struct task_struct *p)
{
	bool wakee = (min_block_ns || with_stacks) && is_target(p->tgid);
	struct task_struct *cur;

	/* Each side starts with its target test: the rest of the machine pays that alone. */
	if (!wakee && surely_bystander())
		return 0;
	cur = bpf_get_current_task_btf();
	if (wakee)
		note_waker(ctx, cur, p);
	if (is_target(cur->tgid))
		note_wakee(cur, p);
	return 0;
}

/* ---- process lifecycle ------------------------------------------------- */

/* Before 5.5 the boot-based start time was called real_start_time. */
struct task_struct___pre55 {
	__u64 real_start_time;
} __attribute__((preserve_access_index));

/*
 * A process's start in ns since boot, suspend included: the clock
 * /proc/PID/stat field 22 counts in ticks, so a process seen by both is
 * one process (start_time is monotonic: it drifts from it by every suspend).
 */
static __always_inline __u64 boot_start_ns(struct task_struct *t)
{
	if (bpf_core_field_exists(t->start_boottime))
		return BPF_CORE_READ(t, start_boottime);
	return BPF_CORE_READ((struct task_struct___pre55 *)t, real_start_time);
}

static __always_inline void emit(__u32 type, struct task_struct *p, __u32 ppid)
{
	struct bt_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		lose(BT_LOSS_EVENTS);
		return;
	}
	e->type = type;
	e->pid = p->tgid;
	e->ppid = ppid;
	e->exit_code = p->exit_code;
	e->ts_ns = bpf_ktime_get_ns();
	e->start_ns = boot_start_ns(p->group_leader);
	/* The process's name is its leader's: the last thread out may be a helper. */
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), p->group_leader->comm);
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	/* Threads share the parent's tgid and so its bit already. */
	if (child->pid != child->tgid || !is_target(parent->tgid))
		return 0;
	if (!trace_all) {
		if (!follow_forks)
			return 0;
		set_target(child->tgid, true);
	}
	emit(BT_EV_FORK, child, parent->tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p)
{
	forget_ids(p);
	if (is_target(p->tgid))
		emit(BT_EV_EXEC, p, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	forget_ids(p);
	if (!is_target(p->tgid))
		return 0;
	pending_release(p);
	/* signal->live reached 0 before this tracepoint when the group dies. */
	if (p->signal->live.counter != 0)
		return 0;
	/* The parent too: a process found late may be gone before /proc is read. */
	emit(BT_EV_EXIT, p, p->real_parent->tgid);
	/* A later process that reuses the pid is not a target, and has read no request. */
	if (!trace_all)
		set_target(p->tgid, false);
	if (onehop)
		set_tgid_bit(served, p->tgid, false);
	return 0;
}
