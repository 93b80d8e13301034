/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Hidden synchronous chains: A blocks on channel X until B wakes it, and
 * while A waited B itself blocked on Y until C woke it, and so on. From
 * the blocking episodes of every thread (and who woke each one), build
 * the chains A ⇢X B ⇢Y C ..., aggregate identical ones and say where A's
 * blocked time went: B working, B waiting on C, or nobody running yet.
 *
 * Pure userspace: no BPF here. The caller turns the kernel's records into
 * struct bt_episode (the channel string already formatted) and adds them
 * to an aggregate as they come (bt_eagg_*, folded window by window as the
 * trace goes), or calls bt_chains_analyze() on all of them at once (one
 * window): the two give the same chains.
 *
 * Input: truncated episodes are counted, not analysed (a partial wait
 * has no window). A thread is in one syscall at a time, so of its
 * episodes that overlap only the first (the longest of equal starts) is
 * kept; exact copies count as duplicates, the rest as overlaps. A waker
 * of 0 or the thread itself is unknown: the chain ends there.
 *
 * Definitions (every number below follows from these):
 *   window(E)  [E.start_ns, E.wake_ns]; E.end_ns when the wake time is
 *              unknown or outside [start, end].
 *   child      F is a child of E when F belongs to E's waker thread and
 *              lies inside window(E): E.start <= F.start, F.end <= wake.
 *              Children are what the waker did before it woke E.
 *   nested     a child of an episode ordered before it (by start, then
 *              the longer, then tid: only identical spans need the
 *              tie-break); reported inside that episode's chain, never
 *              as a chain of its own.
 *   root       a kept episode that is not nested and whose waker is known
 *              (with opts->nested_roots: any kept episode whose waker is known).
 *   hop        (from pid, kind, channel name, to pid): the blocked
 *              process, the channel it blocked on, the process of its
 *              waker (waker_pid; if 0, the pid on the waker thread's own
 *              episodes; else its tid). Threads of one process share hops.
 *   cycle      a node whose waker thread is already on its path (so was
 *              blocked in an ancestor the whole time) is not followed.
 *   chain      a maximal sequence of hops in one root's tree (root, one
 *              child, one grandchild, ...; a path that is the prefix of a
 *              longer one in the same root is not reported alone). A root
 *              whose waker fanned out to two peers counts in both chains.
 *              Identical hop sequences over all roots are one chain.
 *   hop d's episodes  in the roots of a chain, every tree node at depth d
 *              whose hops from the root match the chain's first d + 1.
 *
 * Attribution, per hop d over that hop's episodes F:
 *   queue_ns   sum of F.end - F.wake (woken, not yet back on a CPU)
 *   wait_ns    the to-thread blocked on the next hop: hop d+1's blocked_ns
 *              (0 on the last hop)
 *   other_ns   the to-thread blocked on anything else: children off this
 *              chain, children whose waker is unknown, or windows that
 *              were not followed (cycle, depth or node budget)
 *   self_ns    the rest of the windows: the to-thread running, runnable,
 *              or blocked for less than the tracer's --min-block
 * so blocked_ns = queue + wait + other + self on every hop, and over a
 * chain sum(queue + other + self of every hop) = the root's blocked_ns.
 *
 * share = root blocked_ns / (duration_ns * root_threads): the fraction of
 * the wall time of the threads that were roots of this chain spent
 * blocked in it. For the whole process divide blocked_ns by the
 * process's thread count instead.
 *
 * Percentiles are lower medians: calls per root exactly; times from a
 * log-linear histogram (exchist.h), within 0.8% of the sample.
 */
#ifndef BT_CHAINS_H
#define BT_CHAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "boundtrace.h"

/* Fits every name user/channel.c makes (IPv6 tuples, 64-byte unix paths). */
#define BT_EPISODE_CHANNEL_LEN	128
/* Hops per chain: deeper waits are not followed (and the chain says so). */
#define BT_CHAINS_MAX_DEPTH	8
/* Tree nodes visited per root episode unless the options say otherwise. */
#define BT_CHAINS_DEF_NODES	4096

/* One blocking crossing longer than --min-block, as the kernel saw it. */
struct bt_episode {
	uint32_t pid, tid;		/* the thread that blocked */
	uint8_t kind, dir;		/* enum bt_kind, enum bt_dir */
	bool truncated;			/* began before tracing or still open at the end */
	uint8_t waker_kind;		/* kind of the waker's crossing, 0 unknown */
	uint32_t waker_pid, waker_tid;	/* who woke it, 0 unknown */
	uint64_t chan;			/* channel id as in struct bt_key */
	uint64_t waker_chan;		/* the waker's crossing when it woke us, 0 unknown */
	uint64_t start_ns, end_ns;	/* syscall entry and exit (monotonic) */
	uint64_t wake_ns;		/* sched_wakeup of the thread, 0 unknown */
	char channel[BT_EPISODE_CHANNEL_LEN];	/* readable name, NUL-terminated */
};

struct bt_chain_opts {
	uint64_t duration_ns;	/* trace wall time; 0: span of the episodes */
	unsigned int max_depth;	/* hops per chain, 0 or above the cap: 8 */
	unsigned int max_nodes;	/* tree nodes per root episode, 0: 4096 */
	/*
	 * Every wait with a known waker is also the root of its own chain,
	 * nested or not. A server idle between requests waits across many
	 * of its clients' requests, and its wait would otherwise swallow
	 * their chains (they nest in it) and hide them.
	 */
	bool nested_roots;
	/* Process name for pid, or NULL; the result keeps a copy. */
	const char *(*comm)(uint32_t pid, void *ctx);
	/*
	 * Exchange chains: the node a hop's end is shown as (a pool of
	 * processes is one, named by its lowest pid, as the map shows it);
	 * for an end nobody traced (pid 0), the node the map names as the
	 * far end of service channel of kind from node from, or 0. Chains
	 * whose hops are alike once so named are one chain (their requests,
	 * calls and distributions summed). NULL: every process is its own
	 * node and an end not traced stays 0.
	 */
	uint32_t (*node)(uint32_t pid, uint32_t from, uint8_t kind, const char *channel,
			 void *ctx);
	/*
	 * Exchange chains: the processes node stands for (a pool's members,
	 * ascending) into out, at most max, and how many; asked for an end
	 * none of whose processes was traced. NULL: the node alone.
	 */
	size_t (*members)(uint32_t node, uint32_t *out, size_t max, void *ctx);
	void *ctx;
};

#define BT_CHAIN_PIDS		4

struct bt_chain_end {
	uint32_t pid;
	/* "" when unknown; host:comm in merged recordings (BT_PROC_NAME_LEN, model.h) */
	char comm[80];
	/*
	 * Exchange chains: the threads seen at this end of the hop (0:
	 * unknown, at most BT_CHAIN_THREADS counted); with one, its tid and
	 * name, so a thread pool reads as its threads.
	 */
	uint32_t threads;
	uint32_t tid;
	char thread[BT_COMM_LEN];
	/*
	 * Exchange chains: the processes this end stands for (a pool, see
	 * bt_chain_opts.node), how many and the first BT_CHAIN_PIDS of them
	 * ascending: those traced on the chain's calls, else (threads 0: not
	 * traced, named from the map) the members the map gives the node.
	 */
	uint32_t procs;
	uint32_t pids[BT_CHAIN_PIDS];
};

#define BT_CHAIN_THREADS	8

struct bt_chain_hop {
	struct bt_chain_end from, to;
	uint8_t kind;
	const char *channel;	/* owned by the result */
	uint64_t calls;		/* this hop's episodes in the chain's roots */
	/* Exchange chains: of calls, those nested by a guess (bt_xchg_counts.ambiguous) */
	uint64_t ambiguous;
	double calls_per_episode;	/* calls / chain episodes */
	uint32_t calls_min, calls_p50, calls_max;	/* calls in one root; 1 at hop 0 */
	uint64_t blocked_ns;	/* sum over the calls */
	uint64_t p50_ns;	/* of one call */
	uint64_t self_ns, wait_ns, other_ns, queue_ns;	/* see the top */
	/*
	 * Serial fan-out: calls of this hop in whose window the to-thread
	 * blocked, one after the other, on two or more different next hops,
	 * and what running those in parallel could have saved (the sum of
	 * the per-peer totals minus the largest).
	 */
	uint64_t fanout_calls;
	uint32_t fanout_max_peers;
	uint64_t fanout_save_ns;
};

struct bt_chain {
	struct bt_chain_hop *hops;	/* owned by the result */
	unsigned int nhops;
	uint64_t episodes;	/* root episodes */
	uint64_t blocked_ns;	/* their blocked time */
	uint32_t root_threads;	/* distinct threads among the roots */
	double share;		/* 0..1, see the top */
	bool cycle;		/* a hop led back to a thread already waiting */
	bool cut;		/* depth or node budget reached: waits not followed */
	/*
	 * Chains from exchanges (analyze/exchains.h): the entry tier's
	 * requests (= episodes) and their latency percentiles.
	 */
	bool exchanges;
	uint64_t requests;
	uint64_t p50_ns, p99_ns;
	/*
	 * Exchange chains whose clients were traced: the requests a root
	 * thread had out on average (blocked_ns / (duration * root_threads),
	 * share uncapped): above 1, an event loop's concurrent requests,
	 * whose latencies overlap; 0 otherwise.
	 */
	double in_flight;
};

/* Exchange chains: every exchange record lands in one of these. */
struct bt_xchg_counts {
	uint64_t exchanges, invalid;
	uint64_t nested;	/* client exchanges with a parent */
	uint64_t roots;		/* client roots + unpaired server roots */
	uint64_t rejected;	/* a parent the trace contradicts: made a root */
	/*
	 * Nested, but several requests of the sending thread were open around
	 * the call and the trace contradicts none: the thread rule's pick (an
	 * event loop's batch of reads does not say which request a write serves).
	 */
	uint64_t ambiguous;
	uint64_t paired;	/* client exchanges whose server end was found */
	/* longer than the window's horizon, or later than it: nesting may be partial */
	uint64_t late;
};

/* Every input record lands in exactly one of invalid .. no_waker. */
struct bt_chain_counts {
	uint64_t episodes;	/* input records */
	uint64_t invalid;	/* tid 0 or end before start */
	uint64_t truncated;	/* not analysed: a partial wait has no window */
	uint64_t truncated_ns;
	uint64_t duplicates;	/* same thread, times and channel as a kept one */
	uint64_t overlaps;	/* overlaps a kept one of its thread */
	uint64_t roots;
	uint64_t nested;
	uint64_t no_waker;	/* neither nested nor with a known waker */
	uint64_t cycles;	/* tree nodes not followed: waker already waiting */
	uint64_t cut;		/* tree nodes not followed: depth or node budget */
	/*
	 * Windows (bt_eagg): episodes whose nesting may be partial, among the
	 * counts above: a root whose tree would hold episodes that had left
	 * the window, an episode that came after a fold whose cutoff it ended
	 * before, and one that overlaps an episode of its thread already folded.
	 */
	uint64_t late;
};

struct bt_chains_mem;

/* A process's blocking episodes by what they waited for (enum bt_wait). */
struct bt_proc_waits {
	uint32_t pid;
	uint64_t n[BT_WAIT_MAX], ns[BT_WAIT_MAX];
};

struct bt_chains {
	/* By blocked_ns, largest first; then more episodes; then by the hops. */
	struct bt_chain *chains;
	size_t nchains;
	uint64_t duration_ns;		/* the one the shares used */
	struct bt_chain_counts counts;
	struct bt_xchg_counts xcounts;
	/*
	 * The shortest horizon the exchange window folded with (its budget
	 * shortens it at a high rate): a request longer than that which made
	 * calls may be in xcounts.late. 0: no exchange window.
	 */
	uint64_t horizon_ns;
	/* The same for the episode window: a wait longer than that may be in counts.late. */
	uint64_t episodes_horizon_ns;
	struct bt_proc_waits *waits;	/* by pid; set by bt_model_chains */
	size_t nwaits;
	struct bt_chains_mem *mem;	/* private */
};

/*
 * The episode chains aggregated as the trace goes, as bt_xagg does for
 * exchanges (exchains.h). Episodes are added as they come, in about the
 * order they ended. A root's tree (the waits inside its window) ended
 * before the root did, so bt_eagg_fold folds every root that ended at
 * least horizon_ns before the newest episode, counts the episodes that
 * are no root, and frees the counted ones that ended a quarter of the
 * horizon before that (a later root holding them would be a wait longer
 * than that: counted late). Memory follows the last horizon and a quarter
 * of episodes, not the trace's length; with records in the order they
 * ended and no wait longer than a quarter of the horizon, the result is
 * bt_chains_analyze's, field by field. The node budget (below) is per
 * fold. opts: max_depth, max_nodes and nested_roots are taken here (NULL:
 * the defaults); duration and names at bt_eagg_chains.
 */
struct bt_eagg;
struct bt_eagg *bt_eagg_new(uint64_t horizon_ns, const struct bt_chain_opts *opts);
/* 0, or -ENOMEM; -EOVERFLOW when the window would pass 2^32 - 2 episodes. */
int bt_eagg_add(struct bt_eagg *a, const struct bt_episode *e);
/* Folds what the horizon says is complete; 0, or -ENOMEM. */
int bt_eagg_fold(struct bt_eagg *a);
/* Episodes the window holds. */
size_t bt_eagg_window(const struct bt_eagg *a);
/*
 * A budget of episodes (0, the default: none), as the exchange window's
 * (bt_xagg_set_budget, one rule for both): at a high rate a fold shortens
 * the horizon (never below BT_WINDOW_HORIZON_FLOOR) so that the window it
 * keeps is about the budget; the caller folds when bt_eagg_added reaches
 * it. A wait longer than the shortened horizon (and a quarter) that holds
 * others is counted in counts.late, as one longer than the horizon is.
 */
#define BT_WINDOW_HORIZON_FLOOR	(50 * 1000000ull)
void bt_eagg_set_budget(struct bt_eagg *a, size_t episodes);
/* Episodes added since the last fold. */
size_t bt_eagg_added(const struct bt_eagg *a);
/* The horizon the last fold used (the window's own before the first); the shortest in *shortest. */
uint64_t bt_eagg_horizon(const struct bt_eagg *a, uint64_t *shortest);
/* fn(ctx) is called between a fold's steps (a tracer empties its ring buffers), NULL: none. */
void bt_eagg_set_tick(struct bt_eagg *a, void (*fn)(void *ctx), void *ctx);
/*
 * From the next fold on, a wait on a stream connection (TCP, unix stream)
 * is no root: its chains are not made (those of the roots it nests in
 * still hold it). The caller's chains drop every chain with such a hop
 * once exchanges describe the connections (analyze/chain_input.c); a
 * chain that starts there was never shown, and walking its tree was most
 * of a fold on a traced ping-pong.
 */
void bt_eagg_skip_stream_roots(struct bt_eagg *a);
/*
 * Folds every root (the end of the trace: what comes later is folded as
 * late where it needs what was freed) and gives the chains. NULL with errno.
 */
struct bt_chains *bt_eagg_chains(struct bt_eagg *a, const struct bt_chain_opts *opts);
/* The chains folded so far, with nothing folded now (as bt_xagg_folded). NULL with errno. */
struct bt_chains *bt_eagg_folded(struct bt_eagg *a, const struct bt_chain_opts *opts);
void bt_eagg_free(struct bt_eagg *a);

/*
 * Analyses n episodes in any order, as one window; eps is not modified
 * and may be freed afterwards. opts may be NULL. Returns NULL with errno
 * set (EINVAL, EOVERFLOW beyond 2^32 - 2 episodes, ENOMEM). Time O(n log
 * n) plus the trees: all trees together visit at most max(8 n, 2^20) + 16
 * per root nodes (past that, trees are cut and say so). Memory O(n).
 */
struct bt_chains *bt_chains_analyze(const struct bt_episode *eps, size_t n,
				    const struct bt_chain_opts *opts);
void bt_chains_free(struct bt_chains *c);

/*
 * Whether two results differ, field by field: the counts, and every chain
 * in order with its hops and their ends (what pointers point to, not the
 * pointers). 0 when they are the same; else 1, and the first difference
 * in why (when len > 0), e.g. "chain 2 hop 0: calls 10 vs 9". Doubles
 * must be equal, not close: both sides compute them from the same
 * integers. A check that two ways to the chains (every record folded, or
 * records and the kernel's counts) give one result, and the tests'.
 */
int bt_chains_diff(const struct bt_chains *a, const struct bt_chains *b, char *why, size_t len);

/*
 * One human line for a chain: the hops, three spaces, the facts. Returns
 * what snprintf would (the untruncated length); buf is always terminated
 * when len > 0.
 */
int bt_chains_format_line(const struct bt_chain *c, char *buf, size_t len);

#endif
