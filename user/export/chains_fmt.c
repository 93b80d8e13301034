// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The human line of a chain:
 *   fe[100] ⇢ unix:/tmp/mid.sock ⇢ mid[200] ⇢ tcp:127.0.0.1:7000 ⇢ be[300]   81% of fe's
 *   wall time blocked (200 episodes, 8.1 s); per episode: 1 call to mid (p50 40.0 ms),
 *   3 sequential calls to be (p50 900 us each); mid self 4%, be self 91%, queueing 5%
 * (one line; wrapped here).
 */
#include <stdio.h>
#include "analyze/chains.h"
#include "lib/escape.h"
#include "lib/linebuf.h"
#include "lib/units.h"

/*
 * Names from other processes, escaped for a terminal. Each returns its
 * own static buffer: a bt_linebuf_put() takes at most one of each.
 */
static const char *comm(const struct bt_chain_end *e)
{
	static char buf[BT_ESCAPED_MAX(sizeof(((struct bt_chain_end *)0)->comm)) + 1];

	return e->comm[0] ? bt_escape_term(e->comm, buf, sizeof(buf)) : "?";
}

static const char *channel(const char *ch)
{
	static char buf[BT_ESCAPED_MAX(BT_EPISODE_CHANNEL_LEN) + 1];

	return bt_escape_term(ch, buf, sizeof(buf));
}

static const char *thread(const struct bt_chain_end *e)
{
	static char buf[BT_ESCAPED_MAX(sizeof(((struct bt_chain_end *)0)->thread)) + 1];

	return e->thread[0] ? bt_escape_term(e->thread, buf, sizeof(buf)) : "?";
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/*
 * "name[pid]", a pool as the map shows it ("name[p1,p2,+N]": the
 * processes seen on the hop), and the thread when one other than its
 * process's main thread did it all. An exchange chain's end without
 * threads was named from the map: its side of these calls was not traced
 * (found later, or never; for the clients, the server's end timed them).
 */
static void put_end(struct bt_linebuf *o, const struct bt_chain *c, const struct bt_chain_end *e)
{
	uint32_t one = e->procs == 1 ? e->pids[0] : e->pid;

	if (e->procs > 1) {
		bt_linebuf_put(o, "%s[", comm(e));
		for (uint32_t i = 0; i < e->procs && i < BT_CHAIN_PIDS; i++)
			bt_linebuf_put(o, "%s%u", i ? "," : "", e->pids[i]);
		if (e->procs > BT_CHAIN_PIDS)
			bt_linebuf_put(o, ",+%u", e->procs - BT_CHAIN_PIDS);
		bt_linebuf_put(o, "]");
	} else {
		bt_linebuf_put(o, "%s[%u]", comm(e), one);
	}
	if (e->threads == 1 && e->tid != one)
		bt_linebuf_put(o, " (thread %s[%u])", thread(e), e->tid);
	else if (e->threads > 1 && e->threads > e->procs)	/* a pool of one thread each: no news */
		bt_linebuf_put(o, " (%s%u threads)", e->threads == BT_CHAIN_THREADS ? ">=" : "", e->threads);
	if (c->exchanges && e->pid && !e->threads)
		bt_linebuf_put(o, " (not traced)");
}

static void put_hops(struct bt_linebuf *o, const struct bt_chain *c)
{
	if (!c->hops[0].from.pid)
		bt_linebuf_put(o, "(clients not traced)");
	else
		put_end(o, c, &c->hops[0].from);
	for (unsigned int i = 0; i < c->nhops; i++) {
		bt_linebuf_put(o, " ⇢ %s ⇢ ", channel(c->hops[i].channel));
		put_end(o, c, &c->hops[i].to);
	}
}

/* "3 sequential calls to be (p50 900 us each)", or a range when K varies. */
static void put_calls(struct bt_linebuf *o, const struct bt_chain_hop *h)
{
	char ns[32];

	fmt_ns(h->p50_ns, ns, sizeof(ns));
	if (h->calls_min == h->calls_max && h->calls_max <= 1)
		bt_linebuf_put(o, "%u call to %s (p50 %s)", h->calls_max, comm(&h->to), ns);
	else if (h->calls_min == h->calls_max)
		bt_linebuf_put(o, "%u sequential calls to %s (p50 %s each)", h->calls_max,
		    comm(&h->to), ns);
	else
		bt_linebuf_put(o, "%.1f sequential calls to %s (%u..%u, p50 %u; p50 %s each)",
		    h->calls_per_episode, comm(&h->to), h->calls_min, h->calls_max,
		    h->calls_p50, ns);
	/* Calls per request are then a guess: say how much of it. */
	if (h->ambiguous)
		bt_linebuf_put(o, ", %llu ambiguous", (unsigned long long)h->ambiguous);
}

static void put_attribution(struct bt_linebuf *o, const struct bt_chain *c)
{
	uint64_t queue = 0, other = 0;

	for (unsigned int i = 0; i < c->nhops; i++) {
		const struct bt_chain_hop *h = &c->hops[i];

		bt_linebuf_put(o, "%s%s self %.0f%%", i ? ", " : "; ", comm(&h->to),
		    pct(h->self_ns, c->blocked_ns));
		queue += h->queue_ns;
		other += h->other_ns;
	}
	if (other)
		bt_linebuf_put(o, ", other waits %.0f%%", pct(other, c->blocked_ns));
	bt_linebuf_put(o, ", queueing %.0f%%", pct(queue, c->blocked_ns));
}

static void put_fanout(struct bt_linebuf *o, const struct bt_chain *c)
{
	char ns[32];

	for (unsigned int i = 0; i < c->nhops; i++) {
		const struct bt_chain_hop *h = &c->hops[i];

		if (!h->fanout_calls)
			continue;
		fmt_ns(h->fanout_save_ns, ns, sizeof(ns));
		bt_linebuf_put(o, "; serial fan-out: %s called up to %u peers one after the other"
		    " in %llu of %llu calls (parallel could save %s)", comm(&h->to),
		    h->fanout_max_peers, (unsigned long long)h->fanout_calls,
		    (unsigned long long)h->calls, ns);
	}
}

int bt_chains_format_line(const struct bt_chain *c, char *buf, size_t len)
{
	struct bt_linebuf o;
	char ns[32];

	bt_linebuf_init(&o, buf, len);
	if (!c || !c->nhops)
		return 0;
	put_hops(&o, c);
	if (c->exchanges) {
		char p50[32], p99[32];

		fmt_ns(c->p50_ns, p50, sizeof(p50));
		fmt_ns(c->p99_ns, p99, sizeof(p99));
		fmt_ns(c->blocked_ns, ns, sizeof(ns));
		bt_linebuf_put(&o, "   %llu request%s, latency p50 %s p99 %s (%s",
		    (unsigned long long)c->requests, c->requests == 1 ? "" : "s", p50, p99, ns);
		/*
		 * Clients not traced: their wall time is not known. An event
		 * loop's requests overlap: how many it had out, not a share.
		 */
		if (c->in_flight > 1)
			bt_linebuf_put(&o, ", %.1f in flight on average", c->in_flight);
		else if (c->hops[0].from.threads)
			bt_linebuf_put(&o, ", %.0f%% of %s's wall time", c->share * 100, comm(&c->hops[0].from));
		if (c->root_threads > 1)
			bt_linebuf_put(&o, ", %u threads", c->root_threads);
		bt_linebuf_put(&o, "); per request: ");
	} else {
		fmt_ns(c->blocked_ns, ns, sizeof(ns));
		bt_linebuf_put(&o, "   %.0f%% of %s's wall time blocked (%llu episode%s, %s",
		    c->share * 100, comm(&c->hops[0].from), (unsigned long long)c->episodes,
		    c->episodes == 1 ? "" : "s", ns);
		if (c->root_threads > 1)
			bt_linebuf_put(&o, ", %u threads", c->root_threads);
		bt_linebuf_put(&o, "); per episode: ");
	}
	for (unsigned int i = 0; i < c->nhops; i++) {
		if (i)
			bt_linebuf_put(&o, ", ");
		put_calls(&o, &c->hops[i]);
	}
	put_attribution(&o, c);
	put_fanout(&o, c);
	if (c->cycle)
		bt_linebuf_put(&o, "; cycle: a waker was already waiting in this chain (not followed)");
	if (c->cut)
		bt_linebuf_put(&o, "; deeper waits not followed (depth or node cap)");
	return (int)o.pos;
}
