/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A one-hop tree (struct bt_onehop_key in boundtrace.h) as both sides
 * sum it: the kernel counting pipe conversations and, with
 * BOUNDTRACE_ONEHOP=sockets, connections (exchange.bpf.h's count_onehop,
 * meet_take), and userspace pairing a connection's two records as they
 * come (user/analyze/onehop_pairs.c). Pure functions, one definition, so
 * a tree counted either way is summed the same way.
 */
#ifndef BOUNDTRACE_ONEHOP_H
#define BOUNDTRACE_ONEHOP_H

#include "boundtrace.h"
#include "exchange_step.h"	/* BT_STEP_INLINE, bool */
#include "lat_slot.h"

/* One end of the tree, as its exchange record names it. */
struct bt_onehop_end {
	__u32 pid, tid, req_tid;
	__u64 req_ns, resp_ns;
	const char *comm;	/* BT_COMM_LEN bytes */
};

/*
 * Whether the server's exchange sv answered the client's exchange cl,
 * the client's previous response on the connection at prev_resp_ns: it
 * read its request after that response and answered before this one (an
 * answer to an earlier exchange, seen after its client read it, does
 * not).
 */
BT_STEP_INLINE bool bt_onehop_answered(const struct bt_onehop_end *cl,
				       const struct bt_onehop_end *sv, __u64 prev_resp_ns)
{
	return sv->req_ns > prev_resp_ns && sv->req_ns < cl->resp_ns && sv->resp_ns <= cl->resp_ns;
}

/*
 * The tree's key in *k (zeroed first), its latency and service in *lat
 * and *svc; false when the window would not take its records as they
 * are (a process or thread unknown, an end before its start): they are
 * then sent, or folded, as records.
 */
BT_STEP_INLINE bool bt_onehop_key(struct bt_onehop_key *k, __u64 *lat, __u64 *svc,
				  const struct bt_onehop_end *cl, const struct bt_onehop_end *sv,
				  __u8 kind, __u64 chan, __u64 peer)
{
	if (!cl->pid || !sv->pid || !cl->tid || !sv->tid || !cl->req_tid || !sv->req_tid ||
	    cl->resp_ns < cl->req_ns || sv->resp_ns < sv->req_ns)
		return false;
	*lat = cl->resp_ns - cl->req_ns;
	*svc = sv->resp_ns - sv->req_ns;
	__builtin_memset(k, 0, sizeof(*k));
	k->client = cl->pid;
	k->client_tid = cl->tid;
	k->req_tid = cl->req_tid;
	k->srv = sv->pid;
	k->srv_tid = sv->tid;
	k->slot = bt_lat_slot(*lat);
	k->kind = kind;
	k->chan = chan;
	k->peer = peer;
	__builtin_memcpy(k->client_comm, cl->comm, sizeof(k->client_comm));
	__builtin_memcpy(k->srv_comm, sv->comm, sizeof(k->srv_comm));
	return true;
}

/* One tree of latency lat and service svc added to v (the service counts at most the latency). */
BT_STEP_INLINE void bt_onehop_add(struct bt_onehop_val *v, __u64 lat, __u64 svc)
{
	if (!v->calls || lat < v->min_ns)
		v->min_ns = lat;
	if (lat > v->max_ns)
		v->max_ns = lat;
	v->lat_ns += lat;
	v->svc_ns += svc < lat ? svc : lat;
	v->calls++;
}

#endif
