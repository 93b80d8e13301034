/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pairing: the two ends of each channel, as processes. Traced rows pair
 * with each other (same pipe inode, a unix socket and its peer inode,
 * mirrored inet tuples); a far end that was not traced is named from the
 * /proc and sock_diag facts recorded while tracing (model holders/socks);
 * an inet far end off this machine stays an address. Futex ends come from
 * wakeup causality: who woke whom.
 */
#ifndef BT_PEERS_H
#define BT_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

#define BT_PEERS_MAX	8

struct bt_peer {
	uint32_t pid;		/* 0: not a local process, see addr */
	const struct bt_proc *proc;	/* NULL if not in the model */
	char addr[64];		/* remote address when pid is 0 */
};

/* The far ends of one row; returns how many (at most max). */
size_t bt_row_peers(const struct bt_model *m, const struct bt_proc *p,
		    const struct bt_row *r, struct bt_peer *out, size_t max);

/*
 * Whether TCP/UDP row o is the other end of row r: mirrored tuples (and,
 * in merged recordings, not two hosts' loopback connections).
 */
bool bt_inet_mirror(const struct bt_row *r, const struct bt_row *o);

/* One direction of traffic between two processes over one channel. */
struct bt_edge {
	uint32_t from, to;	/* from: the sender (futex: the waker) */
	uint8_t kind;
	char channel[BT_CHANNEL_LEN];	/* as the sender names it */
	uint64_t calls;		/* the sender's successful sends (futex: wake calls) */
	uint64_t bytes;
	uint64_t wakeups;	/* times a crossing of from woke to */
	uint64_t blocked_ns;	/* time to spent blocked receiving (waiting) on it */
	uint64_t max_blocked_ns;
	__u64 blocked_hist[BT_HIST_SLOTS];
	__u64 size_hist[BT_HIST_SLOTS];
};

struct bt_edges {
	struct bt_edge *v;
	size_t n, cap;
};

/* Builds every edge of the model, sorted (from, to, kind, channel). 0 or -ENOMEM. */
int bt_edges_build(const struct bt_model *m, struct bt_edges *out);
void bt_edges_free(struct bt_edges *e);

#endif
