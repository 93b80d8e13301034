// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's one-hop counts (struct bt_onehop_key, boundtrace.h) give
 * the chains the fold of the records they stand for would: the latency
 * slot both sides use (lat_slot.h) is the one the histograms used, a
 * slot's samples added at once are those samples added one by one, and
 * ping-pong conversations folded from their records, from the counts of
 * their exchanges, or from both, are one result field by field
 * (bt_chains_diff), which tells a difference in words.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/exchains.h"
#include "analyze/exchist.h"
#include "lat_slot.h"

/* ---- the latency slot ---------------------------------------------------- */

/* The histograms' slot before lat_slot.h, with the compiler's count of leading zeros. */
static uint32_t clz_slot(uint64_t v)
{
	int o;

	if (v < 64)
		return (uint32_t)v;
	o = 63 - __builtin_clzll(v);
	return (uint32_t)(o - 6 + 1) * 64 + (uint32_t)((v >> (o - 6)) & 63);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

/* xorshift64: the same sequence every run. */
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_lat_slot_clz(void **state)
{
	(void)state;
	for (uint64_t v = 0; v <= 200; v++)
		assert_int_equal(bt_lat_slot(v), clz_slot(v));
	for (int b = 0; b < 64; b++) {
		uint64_t p = 1ull << b;

		assert_int_equal(bt_lat_slot(p), clz_slot(p));
		assert_int_equal(bt_lat_slot(p - 1), clz_slot(p - 1));
		assert_int_equal(bt_lat_slot(p + 1), clz_slot(p + 1));
		/* The last slot of each power of two, and the next one's first. */
		assert_int_equal(bt_lat_slot(p | (p - 1)), clz_slot(p | (p - 1)));
	}
	/* Every magnitude: a random word shifted down by a random amount. */
	for (int i = 0; i < 200000; i++) {
		uint64_t r = rnd(), v = r >> (rnd() % 64);

		assert_int_equal(bt_lat_slot(v), clz_slot(v));
	}
	assert_int_equal(bt_lat_slot(UINT64_MAX), BT_LAT_SLOTS - 1);
	assert_true(bt_lat_slot(UINT64_MAX) < BT_LAT_SLOTS);
}

/* ---- a slot's samples at once --------------------------------------------- */

/* The same distribution: count, min, max and percentiles. */
static void assert_same_lat(const struct bt_lat_hist *a, const struct bt_lat_hist *b)
{
	static const double q[] = { 0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1 };

	assert_int_equal(a->s.n, b->s.n);
	assert_int_equal(a->s.min, b->s.min);
	assert_int_equal(a->s.max, b->s.max);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		assert_int_equal(bt_lat_pct(a, q[i]), bt_lat_pct(b, q[i]));
}

/* The first value of slot s (the inverse of bt_lat_slot at a slot's start). */
static uint64_t slot_low(uint32_t s)
{
	uint32_t o = s / 64 + 5;

	return s < 64 ? s : (uint64_t)(64 + s % 64) << (o - 6);
}

static void test_lat_add_slot(void **state)
{
	/* Slots below 64 (one value each) and above, far apart: the held range grows both ways. */
	static const uint64_t at[] = { 5000, 7, 123456789, 64, 1000, 63, 1ull << 40, 0, 999999 };
	struct bt_lat_hist one = { 0 }, many = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		uint32_t s = bt_lat_slot(at[i]);
		uint64_t lo = slot_low(s), width = slot_low(s + 1) - lo;
		uint64_t n = 1 + rnd() % 50, min = UINT64_MAX, max = 0;

		assert_int_equal(bt_lat_slot(lo), s);
		assert_int_equal(bt_lat_slot(lo + width - 1), s);
		for (uint64_t k = 0; k < n; k++) {
			uint64_t v = lo + rnd() % width;

			assert_int_equal(bt_lat_add(&one, v), 0);
			min = v < min ? v : min;
			max = v > max ? v : max;
		}
		assert_int_equal(bt_lat_add_slot(&many, s, n, min, max), 0);
		assert_same_lat(&one, &many);
		/* And some one by one in between: either way mixes with the other. */
		assert_int_equal(bt_lat_add(&one, at[i] + 1), 0);
		assert_int_equal(bt_lat_add(&many, at[i] + 1), 0);
		assert_same_lat(&one, &many);
	}
	bt_lat_free(&one);
	bt_lat_free(&many);
}

static void test_lat_add_slot_invalid(void **state)
{
	struct bt_lat_hist h = { 0 };
	uint32_t s = bt_lat_slot(1000);	/* [1000, 1008) */

	(void)state;
	assert_int_equal(bt_lat_add(&h, 1003), 0);
	assert_int_equal(bt_lat_add_slot(&h, s, 2, 999, 1004), -EINVAL);
	assert_int_equal(bt_lat_add_slot(&h, s, 2, 1000, 1008), -EINVAL);
	assert_int_equal(bt_lat_add_slot(&h, s, 2, 1005, 1001), -EINVAL);
	assert_int_equal(bt_lat_add_slot(&h, BT_LAT_SLOTS, 2, 1000, 1000), -EINVAL);
	assert_int_equal(bt_lat_add_slot(&h, UINT32_MAX, 2, 1000, 1000), -EINVAL);
	assert_int_equal(bt_lat_add_slot(&h, 5, 1, 6, 6), -EINVAL);
	/* No samples: nothing to say, whatever the rest. */
	assert_int_equal(bt_lat_add_slot(&h, BT_LAT_SLOTS + 7, 0, 9, 1), 0);
	assert_int_equal(bt_lat_add_slot(&h, s, 0, 1, 1), 0);
	/* None of those touched it. */
	assert_int_equal(h.s.n, 1);
	assert_int_equal(h.s.min, 1003);
	assert_int_equal(h.s.max, 1003);
	assert_int_equal(bt_lat_pct(&h, 0.5), 1003);
	/* The last slot, up to the largest latency. */
	assert_int_equal(bt_lat_add_slot(&h, BT_LAT_SLOTS - 1, 3, UINT64_MAX - 5, UINT64_MAX), 0);
	assert_int_equal(h.s.n, 4);
	assert_int_equal(h.s.max, UINT64_MAX);
	bt_lat_free(&h);
}

/* ---- conversations: records, counts, or both ------------------------------- */

/*
 * A ping-pong: a client thread of cpid (rtid sends, ctid reads) calls a
 * server thread stid of spid on one connection (ea, eb), n times one
 * after the other from t0.
 */
struct conv {
	uint32_t cpid, ctid, rtid, spid, stid;
	uint8_t kind;
	const char *channel, *cthread, *sthread;
	uint64_t ea, eb, t0;
	unsigned int n;
	/* Every so many requests (0: none) the server calls a backend first: a two-hop tree. */
	unsigned int call_every;
};

static const struct conv convs[] = {
	/* Two threads of one client to two threads of one server, one service: one chain. */
	{ 100, 10, 10, 300, 30, BT_KIND_UNIX_STREAM, "unix:/run/a.sock", "cli-a", "srv-a",
	  1, 2, 1000000, 40, 4 },
	{ 100, 11, 11, 300, 31, BT_KIND_UNIX_STREAM, "unix:/run/a.sock", "cli-b", "srv-a2",
	  3, 4, 1000100, 35 },
	/* Sent by one thread, read by another. */
	{ 100, 12, 13, 301, 40, BT_KIND_TCP, "tcp:10.0.0.1:80", "reader", "web",
	  5, 6, 1000200, 30 },
	/* Another client to the same server and service. */
	{ 101, 20, 20, 301, 41, BT_KIND_TCP, "tcp:10.0.0.1:80", "other", "web",
	  7, 8, 1000300, 33 },
	/* The same client thread to another service of another server. */
	{ 101, 20, 20, 302, 50, BT_KIND_TCP, "tcp:10.0.0.2:5432", "other", "db",
	  9, 10, 900000000, 25 },
	/* Another thread of it to the first service's other server (a pool with 301). */
	{ 101, 21, 21, 303, 60, BT_KIND_TCP, "tcp:10.0.0.1:80", "other2", "web",
	  11, 12, 1000400, 20 },
};
#define NCONV	(sizeof(convs) / sizeof(convs[0]))

/* One exchange's two records: the client's and its server's, strictly inside. */
struct pair {
	struct bt_xchg c, s;
	unsigned int conv;
	bool first;	/* the first of its conversation */
	/* The server called a backend (cc, its record; cs, the backend's): no one-hop tree. */
	bool call;
	struct bt_xchg cc, cs;
};

static struct bt_xchg record(uint32_t pid, uint32_t tid, uint32_t req_tid, uint8_t role,
			     uint8_t kind, uint64_t ea, uint64_t eb, const char *thread,
			     const char *channel, uint64_t req, uint64_t resp)
{
	struct bt_xchg x = { .pid = pid, .tid = tid, .req_tid = req_tid, .role = role,
			     .kind = kind, .end_a = ea, .end_b = eb,
			     .req_ns = req, .resp_ns = resp };

	strncpy(x.thread, thread, sizeof(x.thread) - 1);
	strncpy(x.channel, channel, sizeof(x.channel) - 1);
	return x;
}

/* A latency of 3 ns to a few ms, spread over the powers of two: many slots, some shared. */
static uint64_t some_latency(void)
{
	return 3 + rnd() % (1ull << (1 + rnd() % 22));
}

/* Every conversation's exchanges; *longest: the longest latency. */
static struct pair *make_pairs(size_t *n, uint64_t *longest)
{
	size_t total = 0, k = 0;
	struct pair *p;

	for (size_t i = 0; i < NCONV; i++)
		total += convs[i].n;
	p = calloc(total, sizeof(*p));
	assert_non_null(p);
	rnd_state = 0x2545f4914f6cdd1dull;	/* the same exchanges for every test */
	*longest = 0;
	for (unsigned int i = 0; i < NCONV; i++) {
		const struct conv *v = &convs[i];
		uint64_t t = v->t0;

		for (unsigned int j = 0; j < v->n; j++) {
			bool call = v->call_every && j % v->call_every == v->call_every - 1;
			uint64_t lat = call ? 2000 + rnd() % 100000 : some_latency();
			uint64_t in = 1 + rnd() % (call ? 100 : (lat - 1) / 2);
			uint64_t out = 1 + rnd() % (call ? 100 : (lat - 1) / 2);

			assert_true(in + out < lat);
			p[k].c = record(v->cpid, v->ctid, v->rtid, BT_ROLE_CLIENT, v->kind, v->ea,
					v->eb, v->cthread, v->channel, t, t + lat);
			p[k].s = record(v->spid, v->stid, v->stid, BT_ROLE_SERVER, v->kind, v->eb,
					v->ea, v->sthread, v->channel, t + in, t + lat - out);
			p[k].conv = i;
			p[k].first = !j;
			p[k].call = call;
			if (call) {
				uint64_t q = (lat - in - out) / 4;

				p[k].cc = record(v->spid, v->stid, v->stid, BT_ROLE_CLIENT, BT_KIND_TCP,
						 13, 14, v->sthread, "tcp:10.0.0.9:6379",
						 t + in + q, t + lat - out - q);
				p[k].cs = record(400, 70, 70, BT_ROLE_SERVER, BT_KIND_TCP, 14, 13,
						 "redis", "tcp:10.0.0.9:6379", p[k].cc.req_ns + 1,
						 p[k].cc.resp_ns - 1);
			}
			if (lat > *longest)
				*longest = lat;
			k++;
			t += lat + 1 + rnd() % 5000;	/* the client thinks a while */
		}
	}
	*n = total;
	return p;
}

/* The kernel's key of a pair's tree (struct bt_onehop_key): the rest is summed. */
static bool same_key(const struct bt_onehop *o, const struct bt_onehop *k)
{
	return o->from_pid == k->from_pid && o->from_tid == k->from_tid &&
	       o->root_tid == k->root_tid && o->to_pid == k->to_pid && o->to_tid == k->to_tid &&
	       o->kind == k->kind && o->slot == k->slot &&
	       !memcmp(o->from_thread, k->from_thread, sizeof(o->from_thread)) &&
	       !memcmp(o->to_thread, k->to_thread, sizeof(o->to_thread)) &&
	       !memcmp(o->channel, k->channel, sizeof(o->channel));
}

/* Counts pair p as the kernel would: into its key's entry of o[0 .. *n). */
static void count_pair(struct bt_onehop *o, size_t *n, const struct pair *p)
{
	uint64_t lat = p->c.resp_ns - p->c.req_ns, svc = p->s.resp_ns - p->s.req_ns;
	struct bt_onehop k = {
		.from_pid = p->c.pid, .from_tid = p->c.tid, .root_tid = p->c.req_tid,
		.to_pid = p->s.pid, .to_tid = p->s.tid, .kind = p->c.kind,
		.slot = bt_lat_slot(lat),
	};
	size_t i;

	memcpy(k.from_thread, p->c.thread, sizeof(k.from_thread));
	memcpy(k.to_thread, p->s.thread, sizeof(k.to_thread));
	memcpy(k.channel, p->c.channel, sizeof(k.channel));
	for (i = 0; i < *n && !same_key(&o[i], &k); i++)
		;
	if (i == *n) {
		o[(*n)++] = k;
		o[i].min_ns = UINT64_MAX;
	}
	o[i].calls++;
	o[i].lat_ns += lat;
	o[i].svc_ns += svc < lat ? svc : lat;
	if (lat < o[i].min_ns)
		o[i].min_ns = lat;
	if (lat > o[i].max_ns)
		o[i].max_ns = lat;
}

static int cmp_resp(const void *pa, const void *pb)
{
	const struct bt_xchg *a = pa, *b = pb;

	return a->resp_ns < b->resp_ns ? -1 : a->resp_ns > b->resp_ns;
}

/* How a pair reaches the chains. */
enum how { AS_RECORDS, AS_COUNTS };

/*
 * The chains of the pairs, each as records (added in the order they
 * completed, folded every fold_every records, 0: once at the end) or as
 * the kernel's counts, as how(i) says.
 */
static struct bt_chains *chains_of(const struct pair *p, size_t n, uint64_t horizon,
				   enum how (*how)(const struct pair *p, size_t i),
				   size_t fold_every, const struct bt_chain_opts *opts)
{
	struct bt_xchg *x = calloc(4 * n, sizeof(*x));
	struct bt_onehop *o = calloc(n, sizeof(*o));
	struct bt_xagg *a = bt_xagg_new(horizon);
	struct bt_chains *c;
	size_t nx = 0, no = 0;

	assert_non_null(x);
	assert_non_null(o);
	assert_non_null(a);
	for (size_t i = 0; i < n; i++) {
		/* The kernel counts a tree of one hop only: one with a call comes as records. */
		if (!p[i].call && how(&p[i], i) == AS_COUNTS) {
			count_pair(o, &no, &p[i]);
			continue;
		}
		x[nx++] = p[i].c;
		x[nx++] = p[i].s;
		if (p[i].call) {
			x[nx++] = p[i].cc;
			x[nx++] = p[i].cs;
		}
	}
	/* Counts first: a live trace reads the map whenever it likes. */
	for (size_t i = 0; i < no; i++)
		assert_int_equal(bt_xagg_add_onehop(a, &o[i]), 0);
	qsort(x, nx, sizeof(*x), cmp_resp);
	for (size_t i = 0; i < nx; i++) {
		assert_int_equal(bt_xagg_add(a, &x[i]), 0);
		if (fold_every && i % fold_every == fold_every - 1)
			assert_int_equal(bt_xagg_fold(a), 0);
	}
	c = bt_xagg_chains(a, opts);
	assert_non_null(c);
	bt_xagg_free(a);
	free(o);
	free(x);
	return c;
}

static enum how all_records(const struct pair *p, size_t i)
{
	(void)p;
	(void)i;
	return AS_RECORDS;
}

static enum how all_counts(const struct pair *p, size_t i)
{
	(void)p;
	(void)i;
	return AS_COUNTS;
}

/* What the kernel does: a conversation's first exchange comes as records, then it counts. */
static enum how first_records(const struct pair *p, size_t i)
{
	(void)i;
	return p->first ? AS_RECORDS : AS_COUNTS;
}

/* Any mix (a full map sends records for a while). */
static enum how some_records(const struct pair *p, size_t i)
{
	(void)p;
	return (i * 2654435761u) >> 7 & 1 ? AS_RECORDS : AS_COUNTS;
}

static const char *comm_of(uint32_t pid, void *ctx)
{
	(void)ctx;
	return pid == 100 ? "client" : pid == 101 ? "client2" : pid >= 300 ? "server" : NULL;
}

/* 301 and 303 one pool, named 301: their chains are one when their hops are. */
static uint32_t node_of(uint32_t pid, uint32_t from, uint8_t kind, const char *channel,
			void *ctx)
{
	(void)from;
	(void)kind;
	(void)channel;
	(void)ctx;
	return pid == 303 ? 301 : pid;
}

/* No difference, and why says nothing. */
static void assert_no_diff(const struct bt_chains *a, const struct bt_chains *b)
{
	char why[160] = "x";

	if (bt_chains_diff(a, b, why, sizeof(why)))
		fail_msg("the chains differ: %s", why);
	assert_string_equal(why, "");
}

/*
 * The pairs as records, folded at once or as the trace goes, as counts,
 * and mixed: one result. nchains: how many the records make.
 */
static void check_equivalent(const struct bt_chain_opts *opts, size_t nchains,
			     struct bt_chains **out)
{
	enum how (*const mixes[])(const struct pair *, size_t) = {
		all_counts, first_records, some_records,
	};
	uint64_t longest;
	size_t n;
	struct pair *p = make_pairs(&n, &longest);
	uint64_t horizon = longest + 1;
	struct bt_chains *ref = chains_of(p, n, horizon, all_records, 0, opts), *c;
	size_t calls = 0, deep = 0;

	for (size_t i = 0; i < n; i++)
		calls += p[i].call;
	/* What the tests below compare is there to compare. */
	assert_true(calls >= 5);
	assert_int_equal(ref->nchains, nchains);
	assert_int_equal(ref->xcounts.exchanges, 2 * n + 2 * calls);
	assert_int_equal(ref->xcounts.roots, n);
	assert_int_equal(ref->xcounts.paired, n + calls);
	assert_int_equal(ref->xcounts.nested, calls);
	for (size_t i = 0; i < ref->nchains; i++) {
		/* The trees with a call: their first hop is the one-hop trees' path. */
		if (ref->chains[i].nhops == 2) {
			assert_int_equal(ref->chains[i].requests, calls);
			assert_int_equal(ref->chains[i].hops[0].from.pid, 100);
			assert_int_equal(ref->chains[i].hops[0].to.pid, 300);
			deep++;
			continue;
		}
		assert_int_equal(ref->chains[i].nhops, 1);
		assert_true(ref->chains[i].hops[0].self_ns > 0);
		assert_true(ref->chains[i].hops[0].queue_ns > 0);
		/* Many slots: the percentiles are not the extremes. */
		assert_true(ref->chains[i].p50_ns < ref->chains[i].p99_ns);
	}
	/* Folded as the trace goes, the records give it too. */
	c = chains_of(p, n, horizon, all_records, 7, opts);
	assert_no_diff(ref, c);
	bt_chains_free(c);
	for (size_t m = 0; m < sizeof(mixes) / sizeof(mixes[0]); m++) {
		c = chains_of(p, n, horizon, mixes[m], 0, opts);
		assert_no_diff(ref, c);
		bt_chains_free(c);
		c = chains_of(p, n, horizon, mixes[m], 5, opts);
		assert_no_diff(ref, c);
		bt_chains_free(c);
	}
	assert_int_equal(deep, 1);
	free(p);
	*out = ref;
}

/* The chain whose first hop goes from pid from to pid to, or NULL. */
static const struct bt_chain *chain_to(const struct bt_chains *c, uint32_t from, uint32_t to)
{
	for (size_t i = 0; i < c->nchains; i++)
		if (c->chains[i].hops[0].from.pid == from && c->chains[i].hops[0].to.pid == to)
			return &c->chains[i];
	return NULL;
}

static void test_counts_as_records(void **state)
{
	struct bt_chain_opts o = { .duration_ns = 2000000000ull, .comm = comm_of };
	struct bt_chains *ref;
	const struct bt_chain *ch;

	(void)state;
	check_equivalent(&o, 6, &ref);
	/* Two client threads to two server threads: one chain, both threads at each end. */
	ch = chain_to(ref, 100, 300);
	assert_non_null(ch);
	if (ch->nhops == 2)
		ch++;	/* the one-hop chain, next to it (fewer requests) */
	assert_int_equal(ch->nhops, 1);
	assert_int_equal(ch->requests, 40 - 10 + 35);
	assert_int_equal(ch->root_threads, 2);
	assert_int_equal(ch->hops[0].from.threads, 2);
	assert_int_equal(ch->hops[0].to.threads, 2);
	/* Sent by 13, read by 12: the root is the sender, the hop's end the reader. */
	ch = chain_to(ref, 100, 301);
	assert_non_null(ch);
	assert_int_equal(ch->requests, 30);
	assert_int_equal(ch->root_threads, 1);
	assert_int_equal(ch->hops[0].from.tid, 12);
	assert_string_equal(ch->hops[0].from.thread, "reader");
	assert_string_equal(ch->hops[0].from.comm, "client");
	bt_chains_free(ref);
}

/* Named as a pool: chains of two servers merge, their threads and distributions too. */
static void test_counts_as_records_named(void **state)
{
	struct bt_chain_opts o = { .duration_ns = 2000000000ull, .comm = comm_of,
				   .node = node_of };
	struct bt_chains *ref;
	const struct bt_chain *ch;

	(void)state;
	check_equivalent(&o, 5, &ref);
	ch = chain_to(ref, 101, 301);
	assert_non_null(ch);
	assert_int_equal(ch->requests, 33 + 20);
	assert_int_equal(ch->root_threads, 2);
	assert_int_equal(ch->hops[0].to.procs, 2);
	assert_int_equal(ch->hops[0].to.pids[0], 301);
	assert_int_equal(ch->hops[0].to.pids[1], 303);
	assert_int_equal(ch->hops[0].to.threads, 2);
	bt_chains_free(ref);
}

/* The check can fail: one call more in the counts is seen, and said. */
static void test_counts_differ(void **state)
{
	struct bt_chain_opts opts = { .duration_ns = 2000000000ull };
	uint64_t longest;
	size_t n;
	struct pair *p = make_pairs(&n, &longest);
	struct bt_chains *ref = chains_of(p, n, longest + 1, all_records, 0, &opts), *c;
	uint32_t s = bt_lat_slot(p[1].c.resp_ns - p[1].c.req_ns);
	struct bt_onehop one = {
		.from_pid = p[1].c.pid, .from_tid = p[1].c.tid, .root_tid = p[1].c.req_tid,
		.to_pid = p[1].s.pid, .to_tid = p[1].s.tid, .kind = p[1].c.kind, .slot = s,
		.calls = 1, .lat_ns = slot_low(s), .svc_ns = 0,
		.min_ns = slot_low(s), .max_ns = slot_low(s),
	};
	struct bt_xagg *a = bt_xagg_new(longest + 1);
	char why[160], want[160];

	(void)state;
	memcpy(one.from_thread, p[1].c.thread, sizeof(one.from_thread));
	memcpy(one.to_thread, p[1].s.thread, sizeof(one.to_thread));
	memcpy(one.channel, p[1].c.channel, sizeof(one.channel));
	assert_non_null(a);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(bt_xagg_add(a, &p[i].c), 0);
		assert_int_equal(bt_xagg_add(a, &p[i].s), 0);
		if (p[i].call) {
			assert_int_equal(bt_xagg_add(a, &p[i].cc), 0);
			assert_int_equal(bt_xagg_add(a, &p[i].cs), 0);
		}
	}
	assert_int_equal(bt_xagg_add_onehop(a, &one), 0);
	c = bt_xagg_chains(a, &opts);
	assert_non_null(c);
	assert_int_equal(bt_chains_diff(ref, c, why, sizeof(why)), 1);
	/* Two records more than were folded: the first field that differs. */
	snprintf(want, sizeof(want), "xcounts.exchanges %llu vs %llu",
		 (unsigned long long)ref->xcounts.exchanges,
		 (unsigned long long)ref->xcounts.exchanges + 2);
	assert_string_equal(why, want);
	/* Counted alike, its chain's calls still differ. */
	c->xcounts = ref->xcounts;
	assert_int_equal(bt_chains_diff(ref, c, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "episodes"));
	bt_chains_free(c);
	bt_chains_free(ref);
	bt_xagg_free(a);
	free(p);
}

/*
 * Two chains alike in all but the service (blocked time, requests,
 * hops' ends): in one order whichever service came first, as records or
 * as counts.
 */
static void test_tie_order(void **state)
{
	struct pair p[2];
	struct bt_chains *c[3];
	struct bt_onehop o[2];
	size_t no = 0;
	char why[160];

	(void)state;
	memset(o, 0, sizeof(o));
	for (int i = 0; i < 2; i++) {
		const char *ch = i ? "unix:/a" : "unix:/b";

		p[i].c = record(100, 10 + i, 10 + i, BT_ROLE_CLIENT, BT_KIND_UNIX_STREAM, 1 + 2 * i,
				2 + 2 * i, "cli", ch, 1000, 2000);
		p[i].s = record(300, 30 + i, 30 + i, BT_ROLE_SERVER, BT_KIND_UNIX_STREAM, 2 + 2 * i,
				1 + 2 * i, "srv", ch, 1100, 1900);
	}
	for (int k = 0; k < 2; k++) {
		struct bt_xagg *a = bt_xagg_new(10000);

		assert_non_null(a);
		for (int j = 0; j < 2; j++) {
			const struct pair *q = &p[k ? 1 - j : j];

			assert_int_equal(bt_xagg_add(a, &q->s), 0);
			assert_int_equal(bt_xagg_add(a, &q->c), 0);
		}
		c[k] = bt_xagg_chains(a, NULL);
		assert_non_null(c[k]);
		bt_xagg_free(a);
	}
	/* The second service first, as the kernel's counts. */
	{
		struct bt_xagg *a = bt_xagg_new(10000);

		assert_non_null(a);
		count_pair(o, &no, &p[1]);
		assert_int_equal(bt_xagg_add_onehop(a, &o[0]), 0);
		assert_int_equal(bt_xagg_add(a, &p[0].s), 0);
		assert_int_equal(bt_xagg_add(a, &p[0].c), 0);
		c[2] = bt_xagg_chains(a, NULL);
		assert_non_null(c[2]);
		bt_xagg_free(a);
	}
	assert_int_equal(c[0]->nchains, 2);
	assert_int_equal(c[0]->chains[0].blocked_ns, c[0]->chains[1].blocked_ns);
	assert_string_equal(c[0]->chains[0].hops[0].channel, "unix:/a");
	assert_string_equal(c[0]->chains[1].hops[0].channel, "unix:/b");
	for (int k = 1; k < 3; k++) {
		if (bt_chains_diff(c[0], c[k], why, sizeof(why)))
			fail_msg("order %d: %s", k, why);
	}
	for (int k = 0; k < 3; k++)
		bt_chains_free(c[k]);
}

/* ---- the counts' checks ---------------------------------------------------- */

static struct bt_onehop good_onehop(void)
{
	struct bt_onehop o = {
		.from_pid = 100, .from_tid = 10, .root_tid = 10, .to_pid = 300, .to_tid = 30,
		.kind = BT_KIND_TCP, .slot = bt_lat_slot(1000),
		.calls = 2, .lat_ns = 2003, .svc_ns = 1500, .min_ns = 1000, .max_ns = 1003,
	};

	strcpy(o.from_thread, "cli");
	strcpy(o.to_thread, "srv");
	strcpy(o.channel, "tcp:10.0.0.1:80");
	return o;
}

/* Counts no calls could have: refused, and nothing of them stays. */
static void test_onehop_invalid(void **state)
{
	struct bt_xagg *a = bt_xagg_new(1000000);
	struct bt_onehop o = good_onehop();
	struct bt_chains *c;

	(void)state;
	assert_non_null(a);
	o.svc_ns = o.lat_ns + 1;	/* served longer than it took */
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.min_ns = 1002;	/* the mean, 1001, below the least */
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.lat_ns = 2 * 1004;	/* the mean above the most */
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	/* The sums exactly, not the mean rounded down: 2007 is above 2 * 1003, 1999 below 2 * 1000. */
	o = good_onehop();
	o.lat_ns = 2 * 1003 + 1;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o.lat_ns = 2 * 1000 - 1;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	/* Latencies past 2^63 cannot sum in 64 bits. */
	o = good_onehop();
	o.slot = BT_LAT_SLOTS - 1;
	o.min_ns = o.max_ns = UINT64_MAX;
	o.lat_ns = UINT64_MAX;
	o.svc_ns = 0;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.from_pid = 0;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	/* A thread 0 makes an invalid record: no chain either. */
	o = good_onehop();
	o.from_tid = 0;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.root_tid = 0;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.to_tid = 0;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.to_pid = 0;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.max_ns = 1008;	/* the next slot */
	o.lat_ns = 2008;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.slot++;	/* min and max not in it */
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	o = good_onehop();
	o.slot = BT_LAT_SLOTS;
	assert_int_equal(bt_xagg_add_onehop(a, &o), -EINVAL);
	/* No calls: nothing to add, nothing to check. */
	o = good_onehop();
	o.calls = 0;
	o.from_pid = 0;
	assert_int_equal(bt_xagg_add_onehop(a, &o), 0);
	c = bt_xagg_chains(a, NULL);
	assert_non_null(c);
	assert_int_equal(c->nchains, 0);
	assert_int_equal(c->xcounts.exchanges, 0);
	assert_int_equal(c->xcounts.roots, 0);
	bt_chains_free(c);
	/* The good one is taken; so is one at each end of what sums can be. */
	o = good_onehop();
	assert_int_equal(bt_xagg_add_onehop(a, &o), 0);
	o.lat_ns = 2 * 1000;
	assert_int_equal(bt_xagg_add_onehop(a, &o), 0);
	o.lat_ns = 2 * 1003;
	assert_int_equal(bt_xagg_add_onehop(a, &o), 0);
	c = bt_xagg_chains(a, NULL);
	assert_non_null(c);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].requests, 6);
	assert_int_equal(c->chains[0].blocked_ns, 2003 + 2000 + 2006);
	assert_int_equal(c->chains[0].hops[0].queue_ns, 2003 + 2000 + 2006 - 3 * 1500);
	assert_int_equal(c->chains[0].hops[0].self_ns, 3 * 1500);
	assert_int_equal(c->chains[0].hops[0].from.tid, 10);
	assert_string_equal(c->chains[0].hops[0].to.thread, "srv");
	/* The slot [1000, 1008)'s middle, 1004, within the largest, 1003. */
	assert_int_equal(c->chains[0].p50_ns, 1003);
	assert_int_equal(c->xcounts.exchanges, 12);
	assert_int_equal(c->xcounts.roots, 6);
	assert_int_equal(c->xcounts.paired, 6);
	bt_chains_free(c);
	bt_xagg_free(a);
}

/* ---- the comparison itself ----------------------------------------------- */

static void test_diff_fields(void **state)
{
	uint64_t longest;
	size_t n, r;
	struct pair *p = make_pairs(&n, &longest);
	struct bt_chain_opts opts = { .duration_ns = 2000000000ull, .comm = comm_of };
	struct bt_chains *a = chains_of(p, n, longest + 1, all_records, 0, &opts);
	struct bt_chains *b = chains_of(p, n, longest + 1, all_records, 0, &opts);
	struct bt_chain_hop *h;
	char why[160], want[160], tiny[8];

	(void)state;
	assert_int_equal(a->nchains, 6);
	assert_int_equal(bt_chains_diff(a, a, why, sizeof(why)), 0);
	assert_int_equal(bt_chains_diff(a, b, NULL, 0), 0);
	assert_int_equal(bt_chains_diff(NULL, NULL, why, sizeof(why)), 0);
	assert_int_equal(bt_chains_diff(a, NULL, why, sizeof(why)), 1);
	assert_string_equal(why, "result some vs none");
	/* The chain of 100 (its thread 12) to 301 (its thread web). */
	r = (size_t)(chain_to(b, 100, 301) - b->chains);
	assert_true(r < b->nchains);
	h = &b->chains[r].hops[0];

	h->calls--;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	snprintf(want, sizeof(want), "chain %zu hop 0: calls 30 vs 29", r);
	assert_string_equal(why, want);
	/* Cut short, still terminated; no room, no words. */
	assert_int_equal(bt_chains_diff(a, b, tiny, sizeof(tiny)), 1);
	snprintf(want, sizeof(tiny), "chain %zu", r);
	assert_string_equal(tiny, want);
	assert_int_equal(bt_chains_diff(a, b, NULL, 0), 1);
	h->calls++;

	h->to.thread[0] ^= 1;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	snprintf(want, sizeof(want), "chain %zu hop 0 to: thread \"web\" vs \"veb\"", r);
	assert_string_equal(why, want);
	h->to.thread[0] ^= 1;
	/* What follows a name's NUL is not the name. */
	h->to.thread[sizeof(h->to.thread) - 1] = 'z';
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 0);
	h->to.thread[sizeof(h->to.thread) - 1] = 0;

	h->channel = "unix:/other";
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	snprintf(want, sizeof(want), "chain %zu hop 0: channel \"tcp:10.0.0.1:80\" vs \"unix:/other\"", r);
	assert_string_equal(why, want);
	/* The same name in another result's memory: no difference. */
	h->channel = a->chains[r].hops[0].channel;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 0);

	h->from.pids[0]++;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	snprintf(want, sizeof(want), "chain %zu hop 0 from: pids[0] 100 vs 101", r);
	assert_string_equal(why, want);
	h->from.pids[0]--;
	/* Past procs: not set, not compared. */
	h->from.pids[BT_CHAIN_PIDS - 1]++;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 0);
	h->from.pids[BT_CHAIN_PIDS - 1]--;

	b->chains[r].share += 1e-12;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	snprintf(want, sizeof(want), "chain %zu: share ", r);
	assert_true(!strncmp(why, want, strlen(want)));
	b->chains[r].share = a->chains[r].share;

	b->chains[4].p99_ns++;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	snprintf(want, sizeof(want), "chain 4: p99_ns %llu vs %llu",
		 (unsigned long long)a->chains[4].p99_ns, (unsigned long long)a->chains[4].p99_ns + 1);
	assert_string_equal(why, want);
	b->chains[4].p99_ns--;

	b->xcounts.late = 1;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	assert_string_equal(why, "xcounts.late 0 vs 1");
	b->xcounts.late = 0;

	b->nchains--;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 1);
	assert_string_equal(why, "nchains 6 vs 5");
	b->nchains++;
	assert_int_equal(bt_chains_diff(a, b, why, sizeof(why)), 0);
	bt_chains_free(a);
	bt_chains_free(b);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lat_slot_clz),
		cmocka_unit_test(test_lat_add_slot),
		cmocka_unit_test(test_lat_add_slot_invalid),
		cmocka_unit_test(test_counts_as_records),
		cmocka_unit_test(test_counts_as_records_named),
		cmocka_unit_test(test_counts_differ),
		cmocka_unit_test(test_tie_order),
		cmocka_unit_test(test_onehop_invalid),
		cmocka_unit_test(test_diff_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
