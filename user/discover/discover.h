/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Peer discovery from /proc and sock_diag: which processes hold the other
 * end of the targets' pipes and sockets. It records what it saw in the
 * model (holders, socket facts) so the far end is named in the report even
 * if it exits first, and, for peer following (--peers N), returns the far
 * processes to add as targets.
 */
#ifndef BT_DISCOVER_H
#define BT_DISCOVER_H

#include <stdbool.h>
#include <stdint.h>
#include "discover/netdiag.h"
#include "discover/procscan.h"
#include "model/model.h"

/* Called for each far process found at hop <= max_hops; 0 on success. */
typedef int (*bt_add_target_fn)(void *ctx, uint32_t pid, int hop);

/*
 * Called for each listening socket a target holds, with its key in the
 * kernel's marked-channel map (BT_MARK_UNIX_LISTENER, BT_MARK_TCP_LISTENER
 * in bpf/boundtrace.h): a process that connects to it counts from its
 * first byte, though the target listened before the trace.
 */
typedef void (*bt_listener_fn)(void *ctx, uint64_t key);

/*
 * What the rounds of one trace remember: the question the last scan of
 * every process answered (the targets, their pipe and socket fds, every
 * process's rows) and how many rounds may pass before the next one when
 * the question stays the same. Zeroed: the first round scans.
 */
struct bt_discovery {
	uint64_t question;
	unsigned int idle;	/* rounds left that may skip the scan of every process */
	unsigned int span;	/* rounds between such scans while nothing changes */
	/*
	 * The inet tables as a round last read them (sock_diag), sorted by
	 * inode, and their indexes by local port: a round reads them again
	 * only when a target's inet socket is not settled in them
	 * (bt_discover_round). Counted: reads and rounds that did without.
	 */
	struct bt_inet_sock *inet;
	size_t ninet, capinet;
	uint32_t *by_lport;
	size_t capby;
	uint64_t inet_reads, inet_reused;
};

/*
 * A scan of every process at least this often (in rounds: 8 s at a round
 * every 500 ms) while nothing a target holds or does changes: what else
 * can name a far end (a far process forking a child that holds the same
 * pipe) is rare, and the kernel counts its crossings on the targets'
 * channels meanwhile (--peers marks; its rows change the question).
 */
#define BT_DISCOVER_MAX_SPAN	16

/*
 * One round over the live targets of m. Far ends of targets at hop
 * < max_hops are passed to add (unless already targets), the targets'
 * listeners to listener (when not NULL); tick (when not NULL) between
 * the processes of its scan of all processes (bt_scan_all_fds), where it
 * holds nothing of m (tick may add to m). The scan of all processes (and
 * the socket tables) is skipped while d says the question it answered is
 * unchanged and not due again; force scans anyway. Returns the number of
 * targets added, or -errno.
 */
int bt_discover_round(struct bt_model *m, struct bt_discovery *d, bool force, int max_hops,
		      bt_add_target_fn add, bt_listener_fn listener, bt_tick_fn tick, void *ctx);

/* What d holds (the inet tables); d is zeroed, as for a new trace. */
void bt_discovery_free(struct bt_discovery *d);

#endif
