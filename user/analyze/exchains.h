/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Synchronous chains from exchanges (request and response on one
 * connection, see struct bt_conn in boundtrace.h): a request a client
 * sends is the downstream call of the request its thread is serving.
 *
 * Input: every completed exchange, from both ends when both are traced,
 * plus hand-offs (a thread of a process woken by another thread of the
 * same process, through a pipe or a futex). Pure userspace.
 *
 * Definitions:
 *   read event   what a thread last received before it sent: a request
 *                it read (server record: req_tid at req_ns), a response
 *                it read (client record: tid at resp_ns), or a hand-off
 *                (woken at end_ns by waker_tid, which stands for the
 *                waker's own last read event before wake_ns).
 *   parent       of a client exchange C: the last read event of C's
 *                sending thread before C's request went out, followed
 *                through responses (a second call belongs where the
 *                first did) and hand-offs (at most 4) to a request read
 *                S of the same process. Kept only when the trace agrees:
 *                S's request came in before C's went out and S's response
 *                went out after C's came back; otherwise C is a root
 *                (counted as rejected). This is the thread rule (vPath,
 *                DeepFlow) and, for an event loop interleaving requests,
 *                nesting by channel and time: a loop reads B's response
 *                before it sends A's next call or A's response.
 *   open         the server exchanges of C's process whose request C's
 *                sending thread read before C went out and answered
 *                after C came back. When S (read by that thread) is
 *                contradicted, the one open request is the parent; with
 *                several open and none contradicted, C stays in S (or the
 *                open one read last) and is ambiguous: an event loop's
 *                batch of reads does not say which request a write serves.
 *   pairs        a client record (a, b) and the server record (b, a) on
 *                the same connection: of the server exchanges that read
 *                their request before the client had the response and
 *                answered after the client had its previous response, the
 *                last that answered before the client's read, else (the
 *                two ends' clocks race by microseconds) the one that
 *                answered closest to it. One request at a time puts a
 *                whole round trip between exchanges; a server that reads
 *                the tail of a request after it answered begins its next
 *                exchange early, and a client slow to read would be
 *                nearer that one's answer than its own.
 *   root         a client exchange without parent (its sender serves no
 *                traced request: the entry tier), or a server exchange no
 *                traced client record pairs with (the client is not
 *                traced: the entry tier is the server, its hop comes
 *                from pid 0).
 *   hop          (from pid, kind, channel, to pid); channel is the
 *                service (unix path, server address), so connections of
 *                one service are one hop. to is 0 when the far end is
 *                not traced; an unpaired call whose request made a
 *                paired one to the same service takes that one's server
 *                (a server followed in the middle of the request).
 *   named        the result shows each hop's ends as opts->node names
 *                them (a pool of processes as one node, an untraced far
 *                end as the map's, a server root's clients as the map's
 *                far end of the server); chains alike once so named are one,
 *                their sums and distributions merged. The aggregate
 *                keeps the pids: a later report may name them otherwise.
 *   time         per call: latency = response - request at the client;
 *                service = the server's response - request read (the
 *                latency when the far end is not traced); queue =
 *                latency - service (transport, waiting to be read, and
 *                waiting in a hand-off for a worker: the first call's
 *                hand-off, from the job's write to its pick-up);
 *                its calls' latencies go to wait (on this chain's next
 *                hop) or other; self = service - calls (clamped at 0).
 */
#ifndef BT_EXCHAINS_H
#define BT_EXCHAINS_H

#include "analyze/chains.h"

struct bt_xchg {
	uint32_t pid, tid, req_tid;	/* see struct bt_exchange_ev */
	uint8_t role, kind;
	uint64_t end_a, end_b;
	uint64_t req_ns, resp_ns;
	char thread[BT_COMM_LEN];	/* name of the thread tid */
	char channel[BT_EPISODE_CHANNEL_LEN];	/* the service's name */
};

struct bt_handoff {
	uint32_t pid, tid, waker_tid;
	uint64_t wake_ns, end_ns;
};

/*
 * The chains aggregated as the trace goes. Records are added as they come
 * (in about the order they completed); bt_xagg_fold folds every tree
 * whose root completed at least horizon_ns before the newest record, and
 * frees the records that nothing later looks back at: memory follows what
 * is in flight, not the trace's length. A request longer than the horizon
 * whose calls were folded before it came, or a record later than the
 * horizon, is counted in xcounts.late (its nesting may be partial).
 */
struct bt_xagg;
struct bt_xagg *bt_xagg_new(uint64_t horizon_ns);
/* 0, or -ENOMEM. */
int bt_xagg_add(struct bt_xagg *a, const struct bt_xchg *x);
int bt_xagg_add_handoff(struct bt_xagg *a, const struct bt_handoff *h);
/*
 * A record whose service is not known yet (x->channel is not read): tag
 * (below BT_XAGG_TAGS) says which it is, and bt_xagg_name_later names
 * every such record before the next fold. A live trace adds records as
 * they come, when its rows may not name them yet. 0, or -ENOMEM.
 */
#define BT_XAGG_TAGS	(1u << 30)
int bt_xagg_add_later(struct bt_xagg *a, const struct bt_xchg *x, uint32_t tag);
/*
 * Names the records added with a tag since the last call: name(ctx, tag,
 * buf) writes tag's service into buf (BT_EPISODE_CHANNEL_LEN bytes),
 * once per tag below ntags. 0, or -ENOMEM (the records stay unnamed).
 */
int bt_xagg_name_later(struct bt_xagg *a, uint32_t ntags,
		       void (*name)(void *ctx, uint32_t tag, char *buf), void *ctx);
/*
 * Exchanges the kernel counted instead of sending their two records
 * (struct bt_onehop_key, boundtrace.h): calls one-hop trees, a root
 * client exchange of from_pid (thread root_tid sent the request,
 * from_tid read the response) and its server's of to_pid (thread to_tid
 * read the request and answered it, calling nobody), their latencies all
 * in slot (bt_lat_slot), lat_ns and svc_ns their sums (the service time
 * each at most its latency). Added to the chains as the fold of the
 * records would have: two exchanges each, a root, paired.
 */
struct bt_onehop {
	uint32_t from_pid, from_tid, root_tid, to_pid, to_tid;
	uint8_t kind;
	uint32_t slot;
	uint64_t calls, lat_ns, svc_ns, min_ns, max_ns;
	char from_thread[BT_COMM_LEN], to_thread[BT_COMM_LEN];
	char channel[BT_EPISODE_CHANNEL_LEN];	/* the client's service */
};

/*
 * 0, -ENOMEM, or -EINVAL (sums or latencies that no calls could have:
 * svc above lat, min or max not in slot, lat not between calls * min and
 * calls * max; or a pid or thread 0, as an invalid record): then nothing
 * of it is added.
 */
int bt_xagg_add_onehop(struct bt_xagg *a, const struct bt_onehop *o);
/* Folds what the horizon says is complete; 0, or -ENOMEM (or -EINVAL: a record not named). */
int bt_xagg_fold(struct bt_xagg *a);
/*
 * A budget of records (0, the default: none): when records come faster
 * than the budget over the horizon and a quarter, a fold shortens the
 * horizon (never below BT_XAGG_HORIZON_FLOOR) so that the window it keeps
 * is about the budget, from the rate the records came at since the last
 * fold; the caller folds when bt_xagg_added reaches the budget. The window
 * then holds about twice the budget at most, not a horizon of records. A
 * request longer than the shortened horizon that makes calls is counted
 * in xcounts.late, as one longer than the horizon is.
 */
#define BT_XAGG_HORIZON_FLOOR	BT_WINDOW_HORIZON_FLOOR
void bt_xagg_set_budget(struct bt_xagg *a, size_t records);
/* Records added since the last fold. */
size_t bt_xagg_added(const struct bt_xagg *a);
/* The horizon the last fold used (the window's own before the first); the shortest in *shortest. */
uint64_t bt_xagg_horizon(const struct bt_xagg *a, uint64_t *shortest);
/* tick(ctx) is called between the steps of a fold (NULL: none). */
void bt_xagg_set_tick(struct bt_xagg *a, void (*tick)(void *ctx), void *ctx);
/* Records and hand-offs the window holds. */
size_t bt_xagg_window(const struct bt_xagg *a);
/*
 * Folds every tree (the end of the trace; records that come later are
 * still folded, as late ones where they look back too far) and gives the
 * chains, as bt_exchains_analyze. NULL with errno.
 */
struct bt_chains *bt_xagg_chains(struct bt_xagg *a, const struct bt_chain_opts *opts);
/*
 * The chains folded so far, as bt_xagg_chains gives them, with nothing
 * folded now: what is pending (a request still open) stays pending, for
 * the next fold. NULL with errno.
 */
struct bt_chains *bt_xagg_folded(struct bt_xagg *a, const struct bt_chain_opts *opts);
void bt_xagg_free(struct bt_xagg *a);

/*
 * Chains from n exchanges and nh hand-offs, in the order and the types of
 * bt_chains_analyze (episodes = requests: the roots), in one window.
 * NULL with errno.
 */
struct bt_chains *bt_exchains_analyze(const struct bt_xchg *x, size_t n,
				      const struct bt_handoff *h, size_t nh,
				      const struct bt_chain_opts *opts);

#endif
