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
#include "lib/hmap.h"
#include "lib/vec.h"

#define BT_CHANNEL_LEN	192

/*
 * A socket's life as the socket censuses saw it (bt_chan_info.conn):
 * one of NEW/OLD from the census at the trace's start, one of ALIVE/GONE
 * from the census at its end; neither of a pair: not known (a pipe, a
 * socket of another network namespace, a recording cut before the end).
 */
enum bt_conn_seen {
	BT_CONN_NEW = 1,	/* not there at the start: opened during the trace */
	BT_CONN_OLD = 2,	/* there when the trace began */
	BT_CONN_ALIVE = 4,	/* still there at the end */
	BT_CONN_GONE = 8,	/* gone by the end: closed (or its process exited) */
};

/* What a folded row had when its channel came back (see struct bt_row). */
struct bt_row_final {
	struct bt_stats st;
	uint64_t lost_calls;
};

struct bt_row {
	struct bt_key key;
	struct bt_stats st;
	struct bt_chan_info info;
	bool has_info;
	/*
	 * Folded: the kernel's row was taken out of its maps for good while
	 * tracing (its process had closed the channel), so collections keep
	 * it (bt_proc_clear_rows) instead of reading it again.
	 */
	bool final;
	/*
	 * A final row the kernel counted again (its process got the channel
	 * back, e.g. passed over a unix socket): what it had when folded,
	 * restored by the next clear; NULL otherwise (bt_model_fold_row).
	 */
	struct bt_row_final *fin;
	/* Calls the kernel could not count here (its map was full): the row is partial. */
	uint64_t lost_calls;
	/*
	 * The channel's name (model/channel.h), at most BT_CHANNEL_LEN - 1
	 * bytes, held at its own length: most are 20 to 40 bytes, and a
	 * trace of short connections holds a row per connection and
	 * direction. Owned by the row (set by the model's adders).
	 */
	char *channel;
};

#define BT_EXE_LEN	256
/*
 * A process's name in the model: the kernel's comm (BT_COMM_LEN), or in
 * recordings merged from several hosts "host:comm" (record/merge.c).
 */
#define BT_PROC_NAME_LEN	80

/*
 * Merged recordings keep every host's pids and inodes apart: host h's pid
 * is h * BT_HOST_PID_STRIDE + pid (pids stay below 2^22), its pipe and
 * socket inodes h << BT_HOST_INO_SHIFT | ino. A live trace is host 0.
 */
#define BT_HOST_PID_STRIDE	10000000u
#define BT_HOST_INO_SHIFT	48
static inline uint32_t bt_host_of_pid(uint32_t pid)
{
	return pid / BT_HOST_PID_STRIDE;
}

/* A process is (pid, start time): after pid reuse the model holds two. */
struct bt_proc {
	uint32_t pid;
	uint64_t start_ns;	/* ns since boot, whole clock ticks (bt_proc_start_ns); 0 unknown */
	char comm[BT_PROC_NAME_LEN];
	char exe[BT_EXE_LEN];	/* captured while alive, "" unknown */
	bool exited;
	bool harvested;		/* rows were taken from the kernel at exit: final */
	bool target;		/* traced (named, followed or found as a peer) */
	int hop;		/* peer-following distance from a named target */
	uint32_t ppid;		/* parent at the first sight, 0 unknown */
	bool child;		/* a followed child of a target (not named, not a peer) */
	/*
	 * --peers: some of its calls were counted on a marked channel before
	 * it was followed, without their blocked time (their entry was not
	 * stamped: it was not a target then). Its blocked times are partial.
	 */
	bool untimed;
	int exit_code;		/* wait status, valid when exited */
	struct bt_row *rows;
	size_t nrows, cap;
	struct bt_hmap row_idx;	/* rows by key: kept by the functions below */
};

/* Wakeup causality: waker, inside a crossing on a channel, woke wakee. */
struct bt_wake {
	struct bt_wake_key key;
	uint64_t count;
	/* Folded with its row (bt_model_fold_wake): the part a clear keeps. */
	uint64_t fin;
	bool final;
};

/*
 * What /proc and sock_diag said while tracing, kept so a far end that
 * exits before the report is still named. See user/peers.c.
 */
/* One-hop trees of one key (struct bt_onehop_key) and their sums, without the lock. */
struct bt_onehop_row {
	struct bt_onehop_key key;
	struct bt_onehop_val val;
};

struct bt_holder {
	uint64_t ino;		/* pipe or socket inode */
	uint32_t pid;
	uint8_t type;		/* enum bt_fd_type */
	uint8_t mode;		/* pipes: enum bt_pipe_end */
};

struct bt_sockfact {
	uint64_t ino;
	uint64_t peer_ino;	/* unix: peer socket inode */
	uint8_t proto;		/* 0 unix, IPPROTO_TCP, IPPROTO_UDP */
	uint8_t family;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
};

/*
 * Futex links (struct bt_futex_link_key): the kernel keeps each once, with
 * count 1 (older recordings hold its wakes; only the key is read).
 */
struct bt_futex_link {
	struct bt_futex_link_key key;
	uint64_t count;
};

/* What a stack row counts. */
struct bt_stack_counts {
	uint64_t calls, bytes, errors, blocked_ns;
};

/* --stacks: one aggregate per (row, user stack, kernel stack). */
struct bt_stackrow {
	struct bt_key key;
	uint64_t calls, bytes, errors, blocked_ns;
	/* Folded with its row (bt_model_fold_stackrow): the part a clear keeps. */
	struct bt_stack_counts fin;
	bool final;
};

/* A resolved stack: frames root first, ';'-separated, sanitized. */
struct bt_stack {
	uint32_t pid;		/* user stacks belong to a process; 0 for kernel */
	int32_t id;
	uint64_t caller;	/* user: the wrapper's caller put back (bt_key.ucaller) */
	char *folded;
};

/* --stacks: a blocked crossing's stack and the stack of whoever woke it. */
struct bt_wakestack {
	struct bt_wakestack_key key;
	struct bt_wakestack_val val;
	/* Folded with its wakee's channel (bt_model_fold_wakestack): kept by clears. */
	struct bt_wakestack_val fin;
	bool final;
};

/*
 * Merged recordings (`report A.btrec B.btrec`): one per recording, in the
 * order given. Host 0's monotonic clock is the timeline; every other
 * host's episode times are moved onto it by its clock offset.
 */
struct bt_host {
	char name[64];			/* uname nodename */
	/* Wall clock minus monotonic clock at the recording's start: 0 unknown. */
	int64_t wall_minus_mono_ns;
	/* This host's monotonic clock minus host 0's, and how it was found. */
	int64_t clock_offset_ns;
	enum { BT_CLOCK_REFERENCE, BT_CLOCK_STITCHED, BT_CLOCK_WALL, BT_CLOCK_UNKNOWN } clock_from;
	uint64_t clock_error_ns;	/* STITCHED: the offset is within ± this */
	uint64_t clock_samples;		/* STITCHED: exchanges it came from */
};

enum bt_weight { BT_WEIGHT_CALLS = 0, BT_WEIGHT_BYTES, BT_WEIGHT_BLOCKED };

/*
 * Chain mode holds at most this many episodes, and this many exchanges
 * waiting to be folded (analyze/chain_input.h); the rest are counted
 * lost. A live trace folds twice a second, a recording writes them
 * every second (keep_records) and lets them go.
 */
#define BT_EPISODES_MAX	(1u << 20)

/* The chains folded as the trace goes (analyze/chain_input.c); opaque here. */
struct bt_chain_fold;

/*
 * What a live trace cost boundtrace itself, for the report's last line
 * (a recording keeps it; measured is false for one made before it was, and
 * for several recordings merged). CPU and peak RSS
 * are its own process's (its CPU clock, getrusage's peak); records are what the kernel sent it
 * through the ring buffers, by kind (each one accounted for); the BPF
 * programs' time only while kernel.bpf_stats_enabled is on, which times
 * every program on the machine (two clock reads a run), so boundtrace
 * never turns it on itself.
 */
enum bt_self_record {
	BT_SELF_EVENTS,		/* process lifecycle: fork, exec, exit, fold */
	BT_SELF_EPISODES,	/* blocking episodes (chain mode) */
	BT_SELF_EXCHANGES,	/* exchange records, one per end (chain mode) */
	BT_SELF_HANDOFFS,	/* hand-offs (chain mode) */
	BT_SELF_RECORDS_MAX
};

struct bt_self_cost {
	bool measured;
	uint64_t load_cpu_ns;	/* from its start to the attach: probes, BPF verification */
	uint64_t cpu_ns;	/* from the attach to the report, user + system */
	uint64_t max_rss_kib;
	uint64_t records[BT_SELF_RECORDS_MAX];
	uint64_t record_bytes;
	bool bpf_stats;		/* kernel.bpf_stats_enabled was on at the report */
	uint64_t bpf_ns, bpf_runs;	/* its programs' run time and runs since the attach */
	/*
	 * Of cpu_ns, the chain folds' (their windows' passes): the rest is
	 * the records' intake, the collections, discovery, the output.
	 */
	uint64_t chain_cpu_ns;
	/*
	 * Chain mode: exchanges the kernel counted as one-hop trees instead
	 * of sending their two records (struct bt_onehop_key).
	 */
	uint64_t exchanges_counted;
	/*
	 * Chain mode: connections' exchanges whose two records userspace
	 * paired as they came, one-hop trees summed without the chain
	 * window's passes (user/analyze/onehop_pairs.h).
	 */
	uint64_t exchanges_paired;
};

struct bt_model {
	struct bt_proc *procs;
	size_t nprocs, cap;
	bool chain_mode;		/* episodes were recorded (--chains) */
	/*
	 * BOUNDTRACE_ONEHOP=check (tests): the kernel also sends the
	 * exchanges it counts, marked; the chains of all records are
	 * compared with those of the counts (bt_model_onehop_check).
	 */
	bool onehop_check;
	bool stack_mode;		/* stacks were taken (--stacks) */
	/*
	 * --sockets-only: socket calls counted at the socket layer; no
	 * pipe, futex or blocked time was measured.
	 */
	bool sockets_only;
	enum bt_weight weight;		/* folded/svg weight (--weight) */
	bool group_exe;			/* --group exe: pools fold into one node */
	bool connections;		/* --connections: the table lists them */
	/* -f openmetrics and --serve: label choices (export/metrics.h) */
	bool metrics_pid;		/* --metrics-pid: pid labels too */
	uint32_t max_series;		/* --max-series, 0: the default */
	struct bt_stackrow *stackrows;
	size_t nstackrows, capstackrows;
	struct bt_stack *stacks;
	size_t nstacks, capstacks;
	struct bt_wakestack *wakestacks;
	size_t nwakestacks, capwakestacks;
	struct bt_episode_ev *episodes;
	size_t nepisodes, capepisodes;
	uint64_t episodes_over;		/* beyond BT_EPISODES_MAX */
	struct bt_exchange_ev *exchanges;	/* chain mode: completed exchanges not folded yet */
	size_t nexchanges, capexchanges;
	uint64_t exchanges_over;	/* beyond BT_EPISODES_MAX */
	/*
	 * The last collection (bt_model_collected): the first exchanges_named
	 * of the exchanges came before it, so its rows name them; the rest
	 * wait for the next one (and so does every record until the next fold).
	 */
	size_t exchanges_named;
	bool collected;
	/*
	 * A recording is made: every episode and exchange record waits in
	 * the model for the next snapshot, which writes those that came since
	 * the one before; then they are folded into the chains (a report
	 * beside the recording) or dropped (bt_model_drop_records), so the
	 * model holds a second of them, not the trace.
	 */
	bool keep_records;
	/*
	 * keep_records: the first this many of each log went into the last
	 * snapshot; the fold or the drop after it takes those, and those that
	 * came while it was written wait for the next.
	 */
	size_t episodes_written, exchanges_written;
	/*
	 * What was folded into the chains and freed, and episodes summed
	 * there and freed (they count among the episodes seen); fold_free
	 * frees it with the model.
	 */
	struct bt_chain_fold *fold;
	void (*fold_free)(struct bt_chain_fold *f);
	uint64_t episodes_folded;
	/*
	 * The trace goes on (an interval table is printed): the chains are
	 * those folded by then; a request still open stays pending, not late.
	 */
	bool chains_open;
	struct bt_wake *wakes;
	size_t nwakes, capwakes;
	struct bt_holder *holders;
	size_t nholders, capholders;
	struct bt_sockfact *socks;
	size_t nsocks, capsocks;
	struct bt_futex_link *futexlinks;
	size_t nfutexlinks, capfutexlinks;
	/*
	 * Chain mode: the exchanges the kernel counted instead of sending
	 * (its onehops map), as last collected: cumulative, one per key,
	 * only ever added. The chain fold adds what each gained since it
	 * last looked (analyze/chain_input.c).
	 */
	struct bt_onehop_row *onehops;
	size_t nonehops, caponehops;
	uint64_t duration_ns;
	struct bt_self_cost self;
	uint64_t lost[BT_LOSS_MAX];
	struct bt_host *hosts;		/* merged recordings only, else NULL */
	size_t nhosts;
	/*
	 * Every list held once per key is indexed by it (lib/hmap.h). Only
	 * the functions below add, remove or reorder elements, and they keep
	 * the indexes true; code that changes the arrays itself must not.
	 */
	struct bt_hmap proc_idx;	/* pid: the newest process with it */
	struct bt_hmap wake_idx, stackrow_idx, wakestack_idx, stack_idx, holder_idx, sock_idx;
	struct bt_hmap futexlink_idx, onehop_idx;
};

void bt_model_init(struct bt_model *m);
void bt_model_free(struct bt_model *m);
/*
 * Drop the rows and wakes that the next collection refills; rows
 * harvested at a process's exit, and rows and wakes folded while
 * tracing, are final and stay.
 */
void bt_model_clear_rows(struct bt_model *m);
/* The newest process with pid, or NULL. */
struct bt_proc *bt_model_find(const struct bt_model *m, uint32_t pid);
/* Find (newest) or add; NULL only when out of memory. */
struct bt_proc *bt_model_proc(struct bt_model *m, uint32_t pid);
/* Always add: a new process that reuses a pid. */
struct bt_proc *bt_model_new_proc(struct bt_model *m, uint32_t pid);
/* Sum a wake count into the model. */
int bt_model_add_wake(struct bt_model *m, const struct bt_wake_key *key, uint64_t count);
/*
 * A wake folded out of the kernel with its row: count adds to its folded
 * part (what a collection read before is dropped); final, kept by clears.
 */
int bt_model_fold_wake(struct bt_model *m, const struct bt_wake_key *key, uint64_t count);
/* Sum one per-stack aggregate into the model. */
int bt_model_add_stackrow(struct bt_model *m, const struct bt_key *key, const struct bt_stats *st);
/*
 * A stack row folded out of the kernel with its row (as bt_model_fold_wake):
 * st adds to its folded part; final, kept by clears.
 */
int bt_model_fold_stackrow(struct bt_model *m, const struct bt_key *key,
			   const struct bt_stats *st);
/* Sum one waker-stack aggregate into the model. */
int bt_model_add_wakestack(struct bt_model *m, const struct bt_wakestack_key *key,
			   const struct bt_wakestack_val *val);
/* The same, folded out of the kernel (its wakee closed the channel): final. */
int bt_model_fold_wakestack(struct bt_model *m, const struct bt_wakestack_key *key,
			    const struct bt_wakestack_val *val);
/*
 * Forget the wakes one process caused (before its final snapshot), but
 * for the folded part of those folded while tracing (the kernel has them
 * no more).
 */
void bt_model_drop_wakes(struct bt_model *m, uint32_t waker);
/* The same for its stack rows, and the waker stacks of its crossings. */
void bt_model_drop_stackrows(struct bt_model *m, uint32_t tgid);
/* Keep a resolved stack (folded is copied); the stack for (pid, id), or NULL. */
int bt_model_add_stack(struct bt_model *m, uint32_t pid, int32_t id, uint64_t caller,
		       const char *folded);
const char *bt_model_stack(const struct bt_model *m, uint32_t pid, int32_t id, uint64_t caller);
/* Keep one blocking episode (chain mode). */
int bt_model_add_episode(struct bt_model *m, const struct bt_episode_ev *e);
/*
 * The episode and exchange records written into a recording and wanted
 * no more (no report folds them): gone, the episodes still counted among
 * those seen. With keep_records the first episodes_written and
 * exchanges_written, else all.
 */
void bt_model_drop_records(struct bt_model *m);
/*
 * The first ne episodes (counted among those seen) and nx exchange
 * records go, the rest move up: what a fold or a snapshot took.
 */
void bt_model_drop_first(struct bt_model *m, size_t ne, size_t nx);
/* Keep one completed exchange (chain mode). */
int bt_model_add_exchange(struct bt_model *m, const struct bt_exchange_ev *e);
/* Record /proc facts, deduplicated. */
int bt_model_add_holder(struct bt_model *m, const struct bt_holder *h);
int bt_model_add_sockfact(struct bt_model *m, const struct bt_sockfact *s);
/* sock_diag's facts on socket ino, or NULL. */
const struct bt_sockfact *bt_model_find_sock(const struct bt_model *m, uint64_t ino);
/* One key of the kernel's one-hop counts: cumulative, it replaces what the model had. */
int bt_model_set_onehop(struct bt_model *m, const struct bt_onehop_key *k,
			const struct bt_onehop_val *v);
/* The kernel's futex links (the kernel's counts are cumulative: they replace). */
int bt_model_add_futex_link(struct bt_model *m, const struct bt_futex_link *l);
/* Add (or sum into) the row for key, of the newest process key->tgid; info may be NULL. */
struct bt_row *bt_model_add(struct bt_model *m, const struct bt_key *key,
			    const struct bt_stats *st, const struct bt_chan_info *info);
/* Process p's row of key (its kind, dir, chan and peer), or NULL. */
const struct bt_row *bt_proc_find_row(const struct bt_proc *p, const struct bt_key *key);
/* Names row r's channel name instead (a copy, cut to BT_CHANNEL_LEN - 1). 0 or -1 (no memory). */
int bt_row_set_channel(struct bt_row *r, const char *name);
/* bt_model_add for process p (after pid reuse, not always the newest). */
struct bt_row *bt_proc_add_row(struct bt_proc *p, const struct bt_key *key,
			       const struct bt_stats *st, const struct bt_chan_info *info);
/*
 * Forget p's rows (the next collection refills them), except the final
 * ones (folded), which go back to what they had when folded.
 */
void bt_proc_clear_rows(struct bt_proc *p);
/*
 * The kernel's row key is being taken out of its maps for good (its
 * channel closed): st is added to the row's folded part (what a
 * collection read there before is dropped) and the row is final, kept by
 * clears as it is. The row, or NULL when out of memory.
 */
struct bt_row *bt_model_fold_row(struct bt_model *m, const struct bt_key *key,
				 const struct bt_stats *st, const struct bt_chan_info *info);
/*
 * Report filters: keep the rows of these processes only (npids 0: all)
 * and of this kind only (BT_KIND_NONE: all). Processes stay, to name peers.
 */
void bt_model_filter(struct bt_model *m, const uint32_t *pids, int npids, unsigned int kind);
/*
 * Gives back the lists' unused room (a model read from a recording, or
 * about to be reported, grows no more); elements and indexes stay.
 */
void bt_model_fit(struct bt_model *m);
/* Sum b into a. */
void bt_stats_add(struct bt_stats *a, const struct bt_stats *b);
/* Processes by pid, rows by kind, channel, direction: stable output. */
void bt_model_sort(struct bt_model *m);

#endif
