/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The map at service scale: one edge per (sender, receiver, kind, service,
 * direction), the connections it folds kept beneath it.
 *
 * A service is what a connection is a connection *to*: a unix socket's
 * bound path (or abstract name, or "socketpair"), a TCP/UDP server's
 * address and port (the client's ephemeral port names a connection, not a
 * service), a pipe, a futex word. With model->group_exe the processes of
 * one pool (one executable under one parent: php-fpm workers, database
 * backends, nginx workers) are one node, named by its lowest pid.
 */
#ifndef BT_SERVICES_H
#define BT_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

/* One connection folded into a service edge: one sending row. */
struct bt_svc_conn {
	uint32_t from;			/* the sending process (a pool member) */
	const char *channel;		/* as the sender names it: row->channel */
	uint64_t calls;			/* successful sends (futex: wake calls) */
	uint64_t bytes;
	/*
	 * What the far end of this connection received, when the far end
	 * was traced and reads from this sender alone (a stream socket, a
	 * pipe with one writer): the two must agree.
	 */
	bool recv_known;
	uint64_t recv_bytes;
	uint8_t conn;			/* enum bt_conn_seen: opened, closed, alive */
	const struct bt_row *row;	/* the sending row */
};

/* One direction of traffic between two nodes over one service. */
struct bt_edge {
	uint32_t from, to;	/* from: the sender (futex: the waker); pool: lowest pid */
	uint8_t kind;
	char service[BT_CHANNEL_LEN];
	uint64_t calls;		/* the sender's successful sends (futex: wake calls) */
	uint64_t bytes;
	uint64_t wakeups;	/* times a crossing of from woke to */
	uint64_t blocked_ns;	/* time to spent blocked receiving (waiting) on it */
	uint64_t max_blocked_ns;
	__u64 blocked_hist[BT_HIST_SLOTS];
	__u64 size_hist[BT_HIST_SLOTS];
	/*
	 * Bytes one end of a connection moved that the other end's trace did
	 * not see (both ends traced, they disagree): a far end traced late.
	 */
	uint64_t unseen_bytes;
	/*
	 * The connections' lives (sockets only; see enum bt_conn_seen): how
	 * many were opened during the trace, closed during it, alive at its
	 * end. A count is known only when every connection's is (*_known).
	 */
	uint64_t opened, closed, alive;
	bool opened_known, ended_known;
	/*
	 * Request/response exchanges completed on these connections as the
	 * sender's end counted them (struct bt_stats): a client's latency, a
	 * server's service time. The histograms are summed, never the
	 * percentiles: p50/p99 come from the merged buckets.
	 */
	uint64_t exchanges, exch_ns, max_exch_ns;
	__u64 exch_hist[BT_HIST_SLOTS];
	uint8_t role;		/* enum bt_role of the sender's end, as last seen */
	struct bt_svc_conn *conns;	/* the connections, in the order met */
	size_t nconns, capconns;
};

struct bt_edges {
	struct bt_edge *v;
	size_t n, cap;
	uint64_t unseen_bytes;	/* summed over the edges */
};

/* Builds every edge of the model, sorted (from, to, kind, service). 0 or -ENOMEM. */
int bt_edges_build(const struct bt_model *m, struct bt_edges *out);
void bt_edges_free(struct bt_edges *e);

/* The service row r of p is a connection to (see above), into buf. */
void bt_row_service(const struct bt_model *m, const struct bt_row *r, char *buf, size_t len);

/*
 * With m->group_exe, the node pid belongs to: the lowest pid of its pool
 * (same executable, same known parent); else pid itself.
 */
uint32_t bt_node_of(const struct bt_model *m, uint32_t pid);
/* The members of pid's node, ascending, into out (at most max); how many there are. */
size_t bt_node_members(const struct bt_model *m, uint32_t node, uint32_t *out, size_t max);

/*
 * Whether a report lists p: it crossed a boundary, is an end of an edge,
 * or was named on the command line. The shell that started a service or
 * a followed `sleep` with nothing on a traced channel is left out.
 */
bool bt_proc_listed(const struct bt_model *m, const struct bt_edges *e, const struct bt_proc *p);
/* "target" (named), "child" (followed), "peer" (found or named as a far end). */
const char *bt_proc_role(const struct bt_proc *p);

#endif
