/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internals of the chain analysis, shared by chains.c and chains_tab.c. */
#ifndef BT_CHAINS_PRIV_H
#define BT_CHAINS_PRIV_H

#include "analyze/chains.h"
#include "analyze/exchist.h"
#include "lib/hmap.h"
#include "lib/strtab.h"

#define NONE		UINT32_MAX
#define F_CYCLE		1
#define F_CUT		2

/* Window episodes (struct ep .st): kept by the dedup, then counted (root or not). */
#define EP_KEPT		1
#define EP_COUNTED	2
#define EP_NEW		4	/* in its first pass */

/* A kept episode: the sort and the walks touch only these bytes. */
struct ep {
	uint64_t start, end;
	uint64_t wake;		/* in [start, end]; end when unknown */
	uint32_t tid, pid;
	uint32_t waker_tid, waker_pid;
	uint32_t name;		/* interned (kind, channel) */
	uint32_t src;		/* arrival order: the last tie-break */
	uint8_t st;		/* EP_* */
};

/* Start and end alone, dense, for the binary searches. */
struct span {
	uint64_t start, end;
};

/* The waker's episodes inside an episode's window: ep[lo .. hi). */
struct range {
	uint32_t lo, hi;
};

struct thread {
	uint32_t tid, pid;
	uint32_t lo, hi;	/* its episodes, ep[lo .. hi) */
};

/* A hop sequence, stored as its last hop and the sequence before it. */
struct tnode {
	uint32_t parent;	/* NONE at depth 0 */
	uint32_t from, to;	/* pids */
	uint32_t name;
	uint32_t depth;
};

/* One trie node's part of the current root's tree. */
struct slot {
	uint32_t trie;
	uint32_t count;
	uint64_t blocked, queue;
	uint64_t childdur;	/* children's time, or the window if not followed */
	uint64_t fan_calls, fan_save;
	uint32_t fan_peers;
	uint32_t first_dur;	/* list through durs[].next */
	uint8_t flags;
	bool has_child;
};

/* A value in a singly linked list inside one pool (no malloc per list). */
struct link {
	uint64_t v;
	uint32_t next;
};

struct kid {
	uint32_t trie, ep;
	uint64_t ns;
};

/* One hop of one chain, summed over the chain's roots (merges across windows). */
struct hagg {
	uint64_t calls, blocked, queue, childdur;
	uint64_t fan_calls, fan_save;
	uint32_t fan_peers;
	struct bt_calls_hist per_root;	/* calls per root */
	struct bt_lat_hist each;	/* each call's time */
};

struct cagg {
	uint32_t trie;		/* the chain's last hop */
	uint32_t h;		/* its hops: hg[h .. h + nhops) */
	unsigned int nhops;
	uint64_t episodes, blocked;
	struct bt_tidset threads;
	uint8_t flags;
};

/* A thread seen in the episodes, over the whole trace. */
struct tstate {
	uint32_t tid, pid;
	/* Its last kept episode that left the window (its dedup goes on from there). */
	bool tail;
	uint64_t tail_start, tail_end;
	uint32_t tail_name;
};

struct bt_chains_mem {
	struct bt_strtab names;	/* the hops' channels */
	struct bt_chain_hop *hops;
	struct bt_chains *extra;	/* another result whose hops some chains point into */
};

struct ctx {
	const struct bt_chain_opts *o;
	unsigned int max_depth, max_nodes;
	bool nested_roots;	/* opts->nested_roots */
	bool skip_stream_roots;	/* bt_eagg_skip_stream_roots */
	struct bt_chain_counts *cnt;

	/* The window: ep[0 .. npass) this pass's, sorted; ep[npass .. nep) later ones. */
	struct ep *ep;
	size_t nep, epcap, npass;
	uint32_t seq;
	struct tstate *ts;
	size_t nts, tscap;
	struct bt_hmap tstab;	/* threads by tid */
	uint32_t ts_recent[2];	/* the last two found (+ 1; 0: none) */
	bool partial;		/* the current root's tree missed episodes already freed */
	struct span *span;
	struct range *kids_of;
	struct thread *th;
	size_t nth, thcap;
	/*
	 * A pass's arrays, kept from pass to pass (each with its room): a
	 * pass twice a second over tens of thousands of episodes would
	 * otherwise map, fault in and unmap them every time. spare: the
	 * window's previous array, where the next pass's sort goes.
	 */
	struct rkey *key, *keytmp;
	struct ep *spare;
	int64_t *diff;
	uint32_t *before;
	uint8_t *nested;
	size_t spancap, kidscap, keycap, keytmpcap, sparecap, diffcap, beforecap, nestedcap;

	struct bt_strtab names;	/* (kind, channel) of the episodes */

	struct tnode *tn;
	uint32_t *stamp, *slot_of, *chain_of;	/* per trie node */
	size_t ntn, tncap;
	struct bt_hmap trietab;	/* trie nodes by (parent, hop) */

	/* the current root's tree */
	uint32_t serial;
	uint32_t path[BT_CHAINS_MAX_DEPTH];	/* from-thread of each hop */
	unsigned int budget;
	struct slot *slots;
	size_t nslots, slotcap;
	struct link *durs;
	size_t ndurs, durcap;
	struct kid *kids;
	size_t nkids, kidcap;

	/* the chains */
	struct cagg *ch;
	size_t nch, chcap;
	struct hagg *hg;
	size_t nhg, hgcap;
};

/* A sort record: radix-sorted by k, stable; idx and aux ride along. */
struct rkey {
	uint64_t k;
	uint32_t idx, aux;
};

/*
 * A window's budget of records (chains_tab.c): the one rule of both
 * windows (the exchanges', exchains.c, and the episodes', chains.c). A
 * fold's horizon h is the one whose records, at the rate they came since
 * the last fold (by their own times, not the clock's: a recording read
 * back folds the same), the window keeps within the budget: a window
 * holds about rate x (h + BT_WINDOW_CONTEXT(h)), what completed since the
 * cutoff and the folded records kept for later ones to look back at.
 * Between BT_WINDOW_HORIZON_FLOOR and the window's own horizon; it grows
 * back only as the records' time goes. No budget: the horizon, always.
 */
/*
 * How far before a fold's cutoff (horizon h) folded records stay for
 * later ones to look back at: a later one that starts before that is a
 * call (or a wait) already longer than the horizon and this, counted
 * late. A quarter of the horizon keeps the window small.
 */
#define BT_WINDOW_CONTEXT(h)	((h) / 4)
struct bt_budget {
	size_t budget;			/* records; 0: none */
	size_t n_folded;		/* the window's records after the last fold */
	uint64_t horizon;		/* the window's own */
	uint64_t hi_folded;		/* the newest record's time then */
	uint64_t eff, eff_min;		/* the horizon the last fold used, the shortest */
	uint64_t keep;			/* what the folds freed is older (never moves back) */
};
/* Where the next fold cuts (0: nothing to fold) and what it frees: older than keep. */
struct bt_fold_at {
	uint64_t horizon, cutoff, keep;
};
void bt_budget_init(struct bt_budget *b, uint64_t horizon);
/*
 * The next fold of a window of n records, from lo to hi (the newest), its
 * last cutoff that (folded_once: there was one). cutoff is 0 when it would
 * not move on.
 */
struct bt_fold_at bt_budget_next(const struct bt_budget *b, size_t n, uint64_t lo, uint64_t hi,
				 uint64_t cutoff, bool folded_once);
/* The fold at (NULL: none, nothing to fold) left n records, the newest at hi. */
void bt_budget_done(struct bt_budget *b, size_t n, uint64_t hi, const struct bt_fold_at *at);
/* Records added since the last fold to a window of n now. */
size_t bt_budget_added(const struct bt_budget *b, size_t n);
/* The horizon the last fold used (the window's own before the first); the shortest in *shortest. */
uint64_t bt_budget_horizon(const struct bt_budget *b, uint64_t *shortest);
/*
 * What the window keeps at a final fold (every root folded) whose newest
 * record is at hi: its own horizon and the context before it, for what
 * may still come.
 */
uint64_t bt_budget_final_keep(const struct bt_budget *b, uint64_t hi);
/* The room for n elements of a window array: a quarter to spare. */
size_t bt_window_room(size_t n);
/*
 * Gives back the room of *p beyond what a window of n needs, when it is
 * more than twice that: a window's arrays follow what is in flight (a
 * burst passes), not the largest it ever was.
 */
void bt_window_trim(void **p, size_t *cap, size_t n, size_t elem);

/* chains_tab.c */
/* A hop's end: pid and the process name opts->comm gives (pid 0: none). */
void bt_chain_end_set(const struct bt_chain_opts *o, struct bt_chain_end *end, uint32_t pid);
/* Stable LSD radix sort of v[0 .. n) by k, ascending (n < 2^32); tmp holds n too. */
void bt_chains_radix(struct rkey *v, struct rkey *tmp, size_t n);
/* Room for one more element at index n; 0 or -ENOMEM. */
int bt_chains_grow(void **v, size_t *cap, size_t n, size_t elem);
/* The trie node of e's hop below parent (NONE: a root); NONE on ENOMEM. */
uint32_t bt_chains_tnode(struct ctx *x, uint32_t parent, const struct ep *e);
void bt_chains_tab_free(struct ctx *x);
/* An empty result with its private memory, for either analysis; NULL and errno ENOMEM. */
struct bt_chains *bt_chains_new(void);

#endif
