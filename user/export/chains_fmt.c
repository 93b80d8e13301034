// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The human line of a chain:
 *   fe[100] ⇢ unix:/tmp/mid.sock ⇢ mid[200] ⇢ tcp:127.0.0.1:7000 ⇢ be[300]   81% of fe's
 *   wall time blocked (200 episodes, 8.1 s); per episode: 1 call to mid (p50 40.0 ms),
 *   3 sequential calls to be (p50 900 us each); mid self 4%, be self 91%, queueing 5%
 * (one line; wrapped here).
 */
#include <stdarg.h>
#include <stdio.h>
#include "analyze/chains.h"
#include "lib/escape.h"
#include "lib/units.h"

/* snprintf that keeps going past a full buffer, counting what it skipped. */
struct out {
	char *buf;
	size_t len, pos;
};

/* A cut line must stay valid UTF-8: drop a partial last character. */
static void trim_utf8(char *s, size_t n)
{
	size_t i = n, need;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (!i || (unsigned char)s[i - 1] < 0xc0)
		return;
	need = (unsigned char)s[i - 1] >= 0xf0 ? 4 : (unsigned char)s[i - 1] >= 0xe0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = 0;
}

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (room && (size_t)n >= room)
		trim_utf8(o->buf, o->len - 1);
	o->pos += (size_t)n;
}

/*
 * Names from other processes, escaped for a terminal. Each returns its
 * own static buffer: a put() takes at most one of each.
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
static void put_end(struct out *o, const struct bt_chain *c, const struct bt_chain_end *e)
{
	uint32_t one = e->procs == 1 ? e->pids[0] : e->pid;

	if (e->procs > 1) {
		put(o, "%s[", comm(e));
		for (uint32_t i = 0; i < e->procs && i < BT_CHAIN_PIDS; i++)
			put(o, "%s%u", i ? "," : "", e->pids[i]);
		if (e->procs > BT_CHAIN_PIDS)
			put(o, ",+%u", e->procs - BT_CHAIN_PIDS);
		put(o, "]");
	} else {
		put(o, "%s[%u]", comm(e), one);
	}
	if (e->threads == 1 && e->tid != one)
		put(o, " (thread %s[%u])", thread(e), e->tid);
	else if (e->threads > 1 && e->threads > e->procs)	/* a pool of one thread each: no news */
		put(o, " (%s%u threads)", e->threads == BT_CHAIN_THREADS ? ">=" : "", e->threads);
	if (c->exchanges && e->pid && !e->threads)
		put(o, " (not traced)");
}

static void put_hops(struct out *o, const struct bt_chain *c)
{
	if (!c->hops[0].from.pid)
		put(o, "(clients not traced)");
	else
		put_end(o, c, &c->hops[0].from);
	for (unsigned int i = 0; i < c->nhops; i++) {
		put(o, " ⇢ %s ⇢ ", channel(c->hops[i].channel));
		put_end(o, c, &c->hops[i].to);
	}
}

/* "3 sequential calls to be (p50 900 us each)", or a range when K varies. */
static void put_calls(struct out *o, const struct bt_chain_hop *h)
{
	char ns[32];

	fmt_ns(h->p50_ns, ns, sizeof(ns));
	if (h->calls_min == h->calls_max && h->calls_max <= 1)
		put(o, "%u call to %s (p50 %s)", h->calls_max, comm(&h->to), ns);
	else if (h->calls_min == h->calls_max)
		put(o, "%u sequential calls to %s (p50 %s each)", h->calls_max,
		    comm(&h->to), ns);
	else
		put(o, "%.1f sequential calls to %s (%u..%u, p50 %u; p50 %s each)",
		    h->calls_per_episode, comm(&h->to), h->calls_min, h->calls_max,
		    h->calls_p50, ns);
	/* Calls per request are then a guess: say how much of it. */
	if (h->ambiguous)
		put(o, ", %llu ambiguous", (unsigned long long)h->ambiguous);
}

static void put_attribution(struct out *o, const struct bt_chain *c)
{
	uint64_t queue = 0, other = 0;

	for (unsigned int i = 0; i < c->nhops; i++) {
		const struct bt_chain_hop *h = &c->hops[i];

		put(o, "%s%s self %.0f%%", i ? ", " : "; ", comm(&h->to),
		    pct(h->self_ns, c->blocked_ns));
		queue += h->queue_ns;
		other += h->other_ns;
	}
	if (other)
		put(o, ", other waits %.0f%%", pct(other, c->blocked_ns));
	put(o, ", queueing %.0f%%", pct(queue, c->blocked_ns));
}

static void put_fanout(struct out *o, const struct bt_chain *c)
{
	char ns[32];

	for (unsigned int i = 0; i < c->nhops; i++) {
		const struct bt_chain_hop *h = &c->hops[i];

		if (!h->fanout_calls)
			continue;
		fmt_ns(h->fanout_save_ns, ns, sizeof(ns));
		put(o, "; serial fan-out: %s called up to %u peers one after the other"
		    " in %llu of %llu calls (parallel could save %s)", comm(&h->to),
		    h->fanout_max_peers, (unsigned long long)h->fanout_calls,
		    (unsigned long long)h->calls, ns);
	}
}

int bt_chains_format_line(const struct bt_chain *c, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	char ns[32];

	if (len)
		buf[0] = 0;
	if (!c || !c->nhops)
		return 0;
	put_hops(&o, c);
	if (c->exchanges) {
		char p50[32], p99[32];

		fmt_ns(c->p50_ns, p50, sizeof(p50));
		fmt_ns(c->p99_ns, p99, sizeof(p99));
		fmt_ns(c->blocked_ns, ns, sizeof(ns));
		put(&o, "   %llu request%s, latency p50 %s p99 %s (%s",
		    (unsigned long long)c->requests, c->requests == 1 ? "" : "s", p50, p99, ns);
		/*
		 * Clients not traced: their wall time is not known. An event
		 * loop's requests overlap: how many it had out, not a share.
		 */
		if (c->in_flight > 1)
			put(&o, ", %.1f in flight on average", c->in_flight);
		else if (c->hops[0].from.threads)
			put(&o, ", %.0f%% of %s's wall time", c->share * 100, comm(&c->hops[0].from));
		if (c->root_threads > 1)
			put(&o, ", %u threads", c->root_threads);
		put(&o, "); per request: ");
	} else {
		fmt_ns(c->blocked_ns, ns, sizeof(ns));
		put(&o, "   %.0f%% of %s's wall time blocked (%llu episode%s, %s",
		    c->share * 100, comm(&c->hops[0].from), (unsigned long long)c->episodes,
		    c->episodes == 1 ? "" : "s", ns);
		if (c->root_threads > 1)
			put(&o, ", %u threads", c->root_threads);
		put(&o, "); per episode: ");
	}
	for (unsigned int i = 0; i < c->nhops; i++) {
		if (i)
			put(&o, ", ");
		put_calls(&o, &c->hops[i]);
	}
	put_attribution(&o, c);
	put_fanout(&o, c);
	if (c->cycle)
		put(&o, "; cycle: a waker was already waiting in this chain (not followed)");
	if (c->cut)
		put(&o, "; deeper waits not followed (depth or node cap)");
	return (int)o.pos;
}
