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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

#define BT_PEERS_MAX	8

struct bt_peer {
	uint32_t pid;		/* 0: not a local process, see addr */
	const struct bt_proc *proc;	/* NULL if not in the model */
	char addr[64];		/* remote address when pid is 0 */
};

/*
 * The pairing indexes of m for one analysis in this thread: until
 * bt_peer_index_end, bt_row_peers and bt_far_end_row on m look their
 * candidates up instead of scanning every row (m must not change
 * meanwhile). Without them each call indexes m for itself. 0, -EBUSY if
 * one is active already, or -ENOMEM.
 */
int bt_peer_index_begin(const struct bt_model *m);
void bt_peer_index_end(void);

/* The far ends of one row; returns how many (at most max). */
size_t bt_row_peers(const struct bt_model *m, const struct bt_proc *p,
		    const struct bt_row *r, struct bt_peer *out, size_t max);

/*
 * Whether o, a row of another process, is on the far end of r's channel
 * (pipe: the same inode; unix: r's peer socket, or o's peer is r; inet:
 * the mirrored tuple; futex: any, the wakes pair those).
 */
bool bt_far_end_row(const struct bt_model *m, const struct bt_row *r, const struct bt_row *o);

/*
 * How often waker's crossings on r's channel (r: a row of waker) woke
 * wakee: any direction on a byte channel, a futex in r's direction only.
 */
uint64_t bt_wake_count(const struct bt_model *m, uint32_t waker, uint32_t wakee,
		       const struct bt_row *r);

/*
 * The rows of q in direction dir on the far end of r, a row of process
 * pid, appended to *out (n, cap: grown with bt_grow) as q's row numbers,
 * ascending, each once: those bt_far_end_row pairs with r; for a futex,
 * the wait rows on the words the kernel's futex links say r's word wakes
 * in q (without links, the same word in one process). Looked up in the
 * pairing indexes, not scanned. 0, or -ENOMEM (nothing appended).
 */
int bt_far_end_rows(const struct bt_model *m, uint32_t pid, const struct bt_row *r,
		    const struct bt_proc *q, int dir, uint32_t **out, size_t *n, size_t *cap);

/*
 * Whether TCP/UDP row o is the other end of row r: mirrored tuples (and,
 * in merged recordings, not two hosts' loopback connections).
 */
bool bt_inet_mirror(const struct bt_row *r, const struct bt_row *o);

#endif
