// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Hidden synchronous chains on synthetic episodes: the three-tier case,
 * negative cases, a futex hop, bad input, cycles, caps, fan-out, and a
 * million random episodes for the invariants.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/chains.h"
#include "chain_assert.h"

#define US 1000ull
#define MS 1000000ull

#define FE	100	/* frontend */
#define MID	200	/* middle */
#define BE	300	/* backend: never blocks */
#define CACHE	400

static const char *comm_of(uint32_t pid, void *ctx)
{
	(void)ctx;
	switch (pid) {
	case FE:
		return "frontend";
	case MID:
		return "middle";
	case BE:
		return "backend";
	case CACHE:
		return "cache";
	case 500:
		return "app";
	case 600:
		return "producer";
	}
	return NULL;
}

struct epv {
	struct bt_episode *v;
	size_t n, cap;
};

static struct bt_episode *add(struct epv *a, uint32_t pid, uint32_t tid, unsigned int kind,
			      unsigned int dir, const char *chan, uint64_t start, uint64_t wake,
			      uint64_t end, uint32_t wpid, uint32_t wtid)
{
	struct bt_episode *e;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		assert_non_null(a->v);
	}
	e = &a->v[a->n++];
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->tid = tid;
	e->kind = kind;
	e->dir = dir;
	snprintf(e->channel, sizeof(e->channel), "%s", chan);
	e->start_ns = start;
	e->wake_ns = wake;
	e->end_ns = end;
	e->waker_pid = wpid;
	e->waker_tid = wtid;
	return e;
}

/*
 * Request r: frontend blocks on the unix socket from t0; middle works
 * 1 ms, then makes k[r] calls to backend 3 ms apart (2.5 ms until the
 * wake, 0.3 ms queueing), works 0.7 ms more and wakes frontend, which
 * runs 0.5 ms later. Frontend blocks 3K + 2 ms.
 */
static void three_tier(struct epv *a, uint32_t fe_tid, uint64_t base, unsigned int n,
		       const unsigned int *k)
{
	for (unsigned int r = 0; r < n; r++) {
		uint64_t t0 = base + r * 100 * MS, wake = t0 + 3 * k[r] * MS + 1500 * US;

		add(a, FE, fe_tid, BT_KIND_UNIX_STREAM, BT_DIR_RECV, "unix:/tmp/mid.sock",
		    t0, wake, wake + 500 * US, MID, MID);
		for (unsigned int c = 0; c < k[r]; c++) {
			uint64_t s = t0 + 1 * MS + c * 3 * MS;

			add(a, MID, MID, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:7000",
			    s, s + 2500 * US, s + 2800 * US, BE, BE);
		}
	}
}

/* The same chains, field by field (windows change nothing a test can see). */
static void assert_same(const struct bt_chains *a, const struct bt_chains *b)
{
	assert_int_equal(a->nchains, b->nchains);
	assert_memory_equal(&a->counts, &b->counts, sizeof(a->counts));
	assert_int_equal(a->duration_ns, b->duration_ns);
	for (size_t i = 0; i < a->nchains; i++) {
		const struct bt_chain *x = &a->chains[i], *y = &b->chains[i];

		assert_int_equal(x->nhops, y->nhops);
		assert_int_equal(x->episodes, y->episodes);
		assert_int_equal(x->blocked_ns, y->blocked_ns);
		assert_int_equal(x->root_threads, y->root_threads);
		assert_true(x->share == y->share);
		assert_int_equal(x->cycle, y->cycle);
		assert_int_equal(x->cut, y->cut);
		for (unsigned int k = 0; k < x->nhops; k++)
			assert_same_hop(&x->hops[k], &y->hops[k]);
	}
}

/* By end, then by input position (qsort is not stable). */
struct by_end {
	uint64_t end;
	size_t i;
};

static int cmp_end(const void *pa, const void *pb)
{
	const struct by_end *a = pa, *b = pb;

	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * Feeds the episodes (in the order they ended), folding after every
 * episode whose index is a multiple of every (0: never) and after episode
 * at (if below n), with a horizon four times the longest wait (a root
 * stays in the window that long after its waits end): the chains must be
 * those of one batch. The most the window held.
 */
static size_t feed_windows(const struct bt_episode *v, size_t n, const struct bt_chain_opts *o,
			   size_t every, size_t at, const struct bt_chains *batch)
{
	uint64_t longest = 0;
	struct bt_chains *c;
	struct bt_eagg *a;
	size_t most = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].end_ns >= v[i].start_ns && v[i].end_ns - v[i].start_ns > longest)
			longest = v[i].end_ns - v[i].start_ns;
	a = bt_eagg_new(4 * (longest + 1), o);
	assert_non_null(a);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(bt_eagg_add(a, &v[i]), 0);
		if ((every && i % every == 0) || i == at) {
			/* An interval table's look changes nothing: what is pending stays so. */
			struct bt_chains *now = bt_eagg_folded(a, o);

			assert_non_null(now);
			assert_int_equal(now->counts.late, 0);
			bt_chains_free(now);
			assert_int_equal(bt_eagg_fold(a), 0);
		}
		if (bt_eagg_window(a) > most)
			most = bt_eagg_window(a);
	}
	c = bt_eagg_chains(a, o);
	assert_non_null(c);
	assert_int_equal(c->counts.late, 0);
	assert_same(c, batch);
	bt_chains_free(c);
	bt_eagg_free(a);
	return most;
}

/*
 * The episodes folded in windows, in the order they ended: one fold at
 * every point (the first 64) when every is 1, and a fold after every
 * every-th episode, with roots nested or not. The most the window held.
 */
static size_t check_windows(const struct bt_episode *in, size_t n, const struct bt_chain_opts *opts,
			    size_t every)
{
	struct bt_episode *v = malloc((n ? n : 1) * sizeof(*v));
	struct by_end *k = malloc((n ? n : 1) * sizeof(*k));
	size_t most = 0;

	assert_non_null(v);
	assert_non_null(k);
	for (size_t i = 0; i < n; i++)
		k[i] = (struct by_end){ in[i].end_ns, i };
	qsort(k, n, sizeof(*k), cmp_end);
	for (size_t i = 0; i < n; i++)
		v[i] = in[k[i].i];
	for (int nested = 0; nested < 2; nested++) {
		struct bt_chain_opts o = *opts;
		struct bt_chains *batch;

		o.nested_roots = nested ? !opts->nested_roots : opts->nested_roots;
		batch = bt_chains_analyze(in, n, &o);
		assert_non_null(batch);
		for (size_t i = 0; every == 1 && i < n && i < 64; i++)
			feed_windows(v, n, &o, 0, i, batch);
		most = feed_windows(v, n, &o, every, n, batch);
		bt_chains_free(batch);
	}
	free(k);
	free(v);
	return most;
}

/* The batch analysis, checked against the same episodes in windows (small inputs). */
static struct bt_chains *analyze(const struct epv *a, uint64_t duration)
{
	struct bt_chain_opts o = { .duration_ns = duration, .comm = comm_of };
	struct bt_chains *r = bt_chains_analyze(a->v, a->n, &o);

	assert_non_null(r);
	if (a->n <= 2000)
		check_windows(a->v, a->n, &o, 1);
	return r;
}

static void assert_near(double a, double b)
{
	if (fabs(a - b) > 1e-9)
		fail_msg("%.12f != %.12f", a, b);
}

/*
 * A time percentile: the middle of the histogram slot of the exact
 * sample (exchist.h), so within half a slot, 1/128 of it.
 */
static void assert_p50(uint64_t got, uint64_t exact)
{
	uint64_t d = got > exact ? got - exact : exact - got;

	if (d > exact / 128)
		fail_msg("p50 %llu is not within 0.8%% of %llu", (unsigned long long)got,
			 (unsigned long long)exact);
}

/* What must hold for every result, whatever the input. */
static void check_invariants(const struct bt_chains *r)
{
	const struct bt_chain_counts *c = &r->counts;
	uint64_t in_chains = 0;

	assert_int_equal(c->episodes, c->invalid + c->truncated + c->duplicates + c->overlaps +
				      c->roots + c->nested + c->no_waker);
	for (size_t i = 0; i < r->nchains; i++) {
		const struct bt_chain *ch = &r->chains[i];
		uint64_t sum = 0;

		assert_true(ch->nhops >= 1 && ch->nhops <= BT_CHAINS_MAX_DEPTH);
		assert_true(ch->episodes > 0);
		assert_true(ch->share >= 0 && ch->share <= 1);
		assert_int_equal(ch->hops[0].calls, ch->episodes);
		assert_int_equal(ch->hops[0].blocked_ns, ch->blocked_ns);
		if (i)
			assert_true(r->chains[i - 1].blocked_ns >= ch->blocked_ns);
		for (unsigned int d = 0; d < ch->nhops; d++) {
			const struct bt_chain_hop *h = &ch->hops[d];
			uint64_t next = d + 1 < ch->nhops ? ch->hops[d + 1].blocked_ns : 0;

			assert_int_equal(h->blocked_ns,
					 h->self_ns + h->wait_ns + h->other_ns + h->queue_ns);
			assert_int_equal(h->wait_ns, next);
			if (d)
				assert_int_equal(h->from.pid, ch->hops[d - 1].to.pid);
			assert_true(h->calls_min <= h->calls_p50 && h->calls_p50 <= h->calls_max);
			assert_true(h->calls >= ch->episodes);
			assert_non_null(h->channel);
			sum += h->self_ns + h->other_ns + h->queue_ns;
		}
		assert_int_equal(sum, ch->blocked_ns);
		in_chains += ch->episodes;
	}
	assert_true(in_chains >= c->roots);
}

static const struct bt_chain *find_chain(const struct bt_chains *r, uint32_t root_pid,
					 unsigned int nhops)
{
	for (size_t i = 0; i < r->nchains; i++)
		if (r->chains[i].hops[0].from.pid == root_pid && r->chains[i].nhops == nhops)
			return &r->chains[i];
	return NULL;
}

static void check_three_tier_chain(const struct bt_chain *c)
{
	const struct bt_chain_hop *h0 = &c->hops[0], *h1 = &c->hops[1];

	assert_int_equal(c->nhops, 2);
	assert_int_equal(c->episodes, 4);
	assert_int_equal(c->blocked_ns, 44 * MS);
	assert_int_equal(c->root_threads, 1);
	assert_near(c->share, 0.11);
	assert_false(c->cycle);
	assert_false(c->cut);

	assert_int_equal(h0->from.pid, FE);
	assert_string_equal(h0->from.comm, "frontend");
	assert_int_equal(h0->to.pid, MID);
	assert_string_equal(h0->to.comm, "middle");
	assert_int_equal(h0->kind, BT_KIND_UNIX_STREAM);
	assert_string_equal(h0->channel, "unix:/tmp/mid.sock");
	assert_int_equal(h0->calls, 4);
	assert_near(h0->calls_per_episode, 1);
	assert_int_equal(h0->calls_min, 1);
	assert_int_equal(h0->calls_max, 1);
	assert_int_equal(h0->blocked_ns, 44 * MS);
	assert_int_equal(h0->p50_ns, 11 * MS);
	assert_int_equal(h0->queue_ns, 2 * MS);
	assert_int_equal(h0->wait_ns, 33600 * US);
	assert_int_equal(h0->other_ns, 0);
	assert_int_equal(h0->self_ns, 8400 * US);
	assert_int_equal(h0->fanout_calls, 0);

	assert_int_equal(h1->from.pid, MID);
	assert_int_equal(h1->to.pid, BE);
	assert_string_equal(h1->to.comm, "backend");
	assert_int_equal(h1->kind, BT_KIND_TCP);
	assert_string_equal(h1->channel, "tcp:127.0.0.1:7000");
	assert_int_equal(h1->calls, 12);
	assert_near(h1->calls_per_episode, 3);
	assert_int_equal(h1->blocked_ns, 33600 * US);
	assert_int_equal(h1->p50_ns, 2800 * US);
	assert_int_equal(h1->queue_ns, 3600 * US);
	assert_int_equal(h1->wait_ns, 0);
	assert_int_equal(h1->other_ns, 0);
	assert_int_equal(h1->self_ns, 30 * MS);
}

static void test_three_tier(void **state)
{
	static const unsigned int k[] = { 3, 3, 3, 3 };
	struct epv a = { 0 };
	struct bt_chains *r;
	char line[512];
	int n;

	(void)state;
	three_tier(&a, FE, 0, 4, k);
	r = analyze(&a, 400 * MS);
	check_invariants(r);
	/* Middle's calls are inside frontend's waits: no chain of their own. */
	assert_int_equal(r->nchains, 1);
	assert_int_equal(r->counts.roots, 4);
	assert_int_equal(r->counts.nested, 12);
	assert_int_equal(r->duration_ns, 400 * MS);
	check_three_tier_chain(&r->chains[0]);
	assert_int_equal(r->chains[0].hops[1].calls_min, 3);
	assert_int_equal(r->chains[0].hops[1].calls_p50, 3);
	assert_int_equal(r->chains[0].hops[1].calls_max, 3);

	n = bt_chains_format_line(&r->chains[0], line, sizeof(line));
	assert_string_equal(line,
		"frontend[100] ⇢ unix:/tmp/mid.sock ⇢ middle[200] ⇢ tcp:127.0.0.1:7000 ⇢ backend[300]"
		"   11% of frontend's wall time blocked (4 episodes, 44.0 ms); per episode: "
		"1 call to middle (p50 11.0 ms), 3 sequential calls to backend (p50 2.8 ms each); "
		"middle self 19%, backend self 68%, queueing 13%");
	assert_int_equal(n, strlen(line));
	bt_chains_free(r);
	free(a.v);
}

static void test_calls_distribution(void **state)
{
	static const unsigned int k[] = { 1, 3, 5, 3 };
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain_hop *h;
	char line[512];

	(void)state;
	three_tier(&a, FE, 0, 4, k);
	r = analyze(&a, 400 * MS);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	/* 5 + 11 + 17 + 11 ms, the same total as K = 3 throughout. */
	assert_int_equal(r->chains[0].blocked_ns, 44 * MS);
	h = &r->chains[0].hops[1];
	assert_int_equal(h->calls, 12);
	assert_near(h->calls_per_episode, 3);
	assert_int_equal(h->calls_min, 1);
	assert_int_equal(h->calls_p50, 3);
	assert_int_equal(h->calls_max, 5);
	/* Lower median of 5, 11, 11, 17 ms. */
	assert_p50(r->chains[0].hops[0].p50_ns, 11 * MS);
	bt_chains_format_line(&r->chains[0], line, sizeof(line));
	assert_non_null(strstr(line, "3.0 sequential calls to backend "
				     "(1..5, p50 3; p50 2.8 ms each)"));
	bt_chains_free(r);
	free(a.v);
}

static void shuffle(struct epv *a, unsigned int seed)
{
	for (size_t i = a->n; i > 1; i--) {
		size_t j;
		struct bt_episode t;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % i;
		t = a->v[i - 1];
		a->v[i - 1] = a->v[j];
		a->v[j] = t;
	}
}

/* Lower medians over many values, shuffled, with and without repeats. */
static void check_p50(const uint64_t *dur, unsigned int n, uint64_t expected)
{
	struct epv a = { 0 };
	struct bt_chains *r;

	for (unsigned int i = 0; i < n; i++)
		add(&a, FE, FE, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[1]", i * 10 * MS, 0,
		    i * 10 * MS + dur[i], MID, MID);
	shuffle(&a, n);
	r = analyze(&a, 0);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	assert_p50(r->chains[0].hops[0].p50_ns, expected);
	bt_chains_free(r);
	free(a.v);
}

static void test_percentiles(void **state)
{
	static const unsigned int k[] = { 2, 7, 1, 1, 4, 6, 3, 5, 5, 2, 9, 1 };
	uint64_t dur[1001];
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain_hop *h;

	(void)state;
	for (unsigned int i = 0; i < 1001; i++)
		dur[i] = ((i * 7919) % 1001 + 1) * US;
	check_p50(dur, 1001, 501 * US);
	check_p50(dur, 1000, 501 * US);
	for (unsigned int i = 0; i < 1000; i++)
		dur[i] = i % 5 < 3 ? 5 * US : 7 * US;
	check_p50(dur, 1000, 5 * US);
	for (unsigned int i = 0; i < 1000; i++)
		dur[i] = i % 5 < 2 ? 5 * US : 7 * US;
	check_p50(dur, 1000, 7 * US);
	for (unsigned int i = 0; i < 1000; i++)
		dur[i] = 3 * US;
	check_p50(dur, 1000, 3 * US);

	/* Calls per root: 1 1 1 2 2 3 4 5 5 6 7 9, lower median 3. */
	three_tier(&a, FE, 0, 12, k);
	shuffle(&a, 3);
	r = analyze(&a, 0);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	h = &r->chains[0].hops[1];
	assert_int_equal(h->calls, 46);
	assert_int_equal(h->calls_min, 1);
	assert_int_equal(h->calls_p50, 3);
	assert_int_equal(h->calls_max, 9);
	assert_int_equal(h->p50_ns, 2800 * US);
	bt_chains_free(r);
	free(a.v);
}

/* Middle answers from its cache: frontend waits on middle alone. */
static void test_no_backend_inside(void **state)
{
	static const unsigned int k[] = { 0, 0, 0 };
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain *c;

	(void)state;
	three_tier(&a, FE, 0, 3, k);
	r = analyze(&a, 300 * MS);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	c = &r->chains[0];
	assert_int_equal(c->nhops, 1);
	assert_int_equal(c->episodes, 3);
	assert_int_equal(c->blocked_ns, 6 * MS);
	assert_int_equal(c->hops[0].self_ns, 4500 * US);
	assert_int_equal(c->hops[0].queue_ns, 1500 * US);
	assert_int_equal(c->hops[0].wait_ns, 0);
	assert_near(c->share, 0.02);
	bt_chains_free(r);
	free(a.v);
}

/* Middle calls backend after waking frontend: not part of its wait. */
static void test_backend_after_answer(void **state)
{
	static const unsigned int k[] = { 0, 0, 0 };
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain *c;

	(void)state;
	three_tier(&a, FE, 0, 3, k);
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t t0 = i * 100 * MS;

		/* After the wake (1.5 ms) but before frontend ran again (2 ms). */
		add(&a, MID, MID, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:7000",
		    t0 + 1600 * US, t0 + 2600 * US, t0 + 2700 * US, BE, BE);
		add(&a, MID, MID, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:7000",
		    t0 + 10 * MS, t0 + 12 * MS, t0 + 13 * MS, BE, BE);
	}
	r = analyze(&a, 300 * MS);
	check_invariants(r);
	for (size_t i = 0; i < r->nchains; i++)
		assert_int_equal(r->chains[i].nhops, 1);
	assert_int_equal(r->nchains, 2);
	assert_int_equal(r->counts.nested, 0);
	assert_int_equal(r->counts.roots, 9);
	c = find_chain(r, FE, 1);
	assert_non_null(c);
	assert_int_equal(c->episodes, 3);
	assert_int_equal(c->hops[0].self_ns, 4500 * US);
	c = find_chain(r, MID, 1);
	assert_non_null(c);
	assert_int_equal(c->episodes, 6);
	assert_int_equal(c->hops[0].to.pid, BE);
	assert_int_equal(c->blocked_ns, 3 * (1100 + 3000) * US);
	bt_chains_free(r);
	free(a.v);
}

/*
 * Thread 501 of app waits on a futex that thread 502 wakes; 502 was
 * blocked reading a pipe that producer filled. 501's waker pid is left
 * unknown: 502's own episodes say it belongs to app.
 */
static void test_futex_hop(void **state)
{
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain *c;
	char line[512];

	(void)state;
	add(&a, 500, 501, BT_KIND_FUTEX, BT_DIR_WAIT, "futex:0x7f0000001000",
	    0, 48 * MS, 50 * MS, 0, 502);
	add(&a, 500, 502, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[4242]",
	    5 * MS, 39 * MS, 40 * MS, 600, 601);
	r = analyze(&a, 100 * MS);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	c = &r->chains[0];
	assert_int_equal(c->nhops, 2);
	assert_int_equal(c->hops[0].kind, BT_KIND_FUTEX);
	assert_int_equal(c->hops[0].from.pid, 500);
	assert_int_equal(c->hops[0].to.pid, 500);
	assert_int_equal(c->hops[1].kind, BT_KIND_PIPE);
	assert_int_equal(c->hops[1].from.pid, 500);
	assert_int_equal(c->hops[1].to.pid, 600);
	assert_int_equal(c->hops[0].queue_ns, 2 * MS);
	assert_int_equal(c->hops[0].self_ns, 13 * MS);
	assert_int_equal(c->hops[0].wait_ns, 35 * MS);
	assert_int_equal(c->hops[1].queue_ns, 1 * MS);
	assert_int_equal(c->hops[1].self_ns, 34 * MS);
	assert_near(c->share, 0.5);
	bt_chains_format_line(c, line, sizeof(line));
	assert_string_equal(line,
		"app[500] ⇢ futex:0x7f0000001000 ⇢ app[500] ⇢ pipe:[4242] ⇢ producer[600]"
		"   50% of app's wall time blocked (1 episode, 50.0 ms); per episode: "
		"1 call to app (p50 50.0 ms), 1 call to producer (p50 35.0 ms); "
		"app self 26%, producer self 68%, queueing 6%");
	bt_chains_free(r);
	free(a.v);
}

/* Each chain's hops' kinds, as "futex,tcp": the chains in order, one per line. */
static void chain_kinds(const struct bt_chains *r, char *out, size_t len)
{
	size_t at = 0;

	out[0] = 0;
	for (size_t i = 0; i < r->nchains; i++)
		for (unsigned int h = 0; h < r->chains[i].nhops; h++)
			at += (size_t)snprintf(out + at, len - at, "%s%d%s", h ? "," : "",
					       r->chains[i].hops[h].kind,
					       h + 1 == r->chains[i].nhops ? "\n" : "");
}

/*
 * bt_eagg_skip_stream_roots: a wait on a connection starts no chain (its
 * caller drops those), yet stays in the chains of the roots it nests in:
 * a futex wait whose waker waited on a TCP response keeps both hops.
 */
static void test_stream_roots_skipped(void **state)
{
	struct bt_chain_opts o = { .duration_ns = 100 * MS, .comm = comm_of, .nested_roots = true };
	struct epv a = { 0 };
	char all[128], skipped[128], want[128];

	(void)state;
	add(&a, 500, 501, BT_KIND_FUTEX, BT_DIR_WAIT, "futex:0x7f0000001000",
	    0, 48 * MS, 50 * MS, 0, 502);
	add(&a, 500, 502, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:7000",
	    5 * MS, 39 * MS, 40 * MS, BE, BE);
	add(&a, CACHE, CACHE, BT_KIND_UNIX_STREAM, BT_DIR_RECV, "unix:/run/c.sock",
	    60 * MS, 69 * MS, 70 * MS, BE, BE);
	for (int skip = 0; skip < 2; skip++) {
		struct bt_eagg *g = bt_eagg_new(500 * MS, &o);
		struct bt_chains *r;

		assert_non_null(g);
		for (size_t i = 0; i < a.n; i++)
			assert_int_equal(bt_eagg_add(g, &a.v[i]), 0);
		if (skip)
			bt_eagg_skip_stream_roots(g);
		r = bt_eagg_chains(g, &o);
		assert_non_null(r);
		chain_kinds(r, skip ? skipped : all, sizeof(all));
		assert_int_equal(r->counts.late, 0);
		assert_int_equal(r->counts.no_waker, 0);
		bt_chains_free(r);
		bt_eagg_free(g);
	}
	/* Every wait with a waker is a root: the futex's two hops, the TCP wait, the unix one. */
	snprintf(want, sizeof(want), "%d,%d\n%d\n%d\n", BT_KIND_FUTEX, BT_KIND_TCP, BT_KIND_TCP,
		 BT_KIND_UNIX_STREAM);
	assert_string_equal(all, want);
	snprintf(want, sizeof(want), "%d,%d\n", BT_KIND_FUTEX, BT_KIND_TCP);
	assert_string_equal(skipped, want);
	free(a.v);
}

/* Out of order, duplicated, overlapping, truncated, invalid: same chain. */
static void test_messy_input(void **state)
{
	static const unsigned int k[] = { 3, 3, 3, 3 };
	struct epv a = { 0 };
	struct bt_chains *r;
	struct bt_episode dup;

	(void)state;
	three_tier(&a, FE, 0, 4, k);
	/* a[0] is request 0's frontend wait, a[6] request 1's second call. */
	dup = a.v[0];
	a.v[a.n++] = dup;
	dup = a.v[6];
	add(&a, 0, 0, 0, 0, "", 0, 0, 0, 0, 0);
	a.v[a.n - 1] = dup;
	/* Starts inside request 0's first call (1 .. 3.8 ms). */
	add(&a, MID, MID, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[9]", 1500 * US, 0, 5 * MS, 7, 7);
	/* Starts with request 2's frontend wait, shorter: the longer stays. */
	add(&a, FE, FE, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[8]", 200 * MS, 0, 201 * MS, MID, MID);
	add(&a, FE, FE, BT_KIND_UNIX_STREAM, BT_DIR_RECV, "unix:/tmp/mid.sock",
	    400 * MS, 0, 410 * MS, 0, 0)->truncated = true;
	add(&a, MID, MID, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:7000",
	    395 * MS, 0, 399 * MS, BE, BE)->truncated = true;
	add(&a, FE, FE, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[1]", 50 * MS, 0, 49 * MS, MID, MID);
	add(&a, FE, 0, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[1]", 50 * MS, 0, 51 * MS, MID, MID);

	/* Whatever the order, the same result. */
	for (unsigned int seed = 1; seed <= 8; seed++) {
		shuffle(&a, seed);
		r = analyze(&a, 400 * MS);
		check_invariants(r);
		assert_int_equal(r->counts.episodes, 24);
		assert_int_equal(r->counts.invalid, 2);
		assert_int_equal(r->counts.truncated, 2);
		assert_int_equal(r->counts.truncated_ns, 14 * MS);
		assert_int_equal(r->counts.duplicates, 2);
		assert_int_equal(r->counts.overlaps, 2);
		assert_int_equal(r->counts.roots, 4);
		assert_int_equal(r->counts.nested, 12);
		assert_int_equal(r->counts.no_waker, 0);
		assert_int_equal(r->nchains, 1);
		check_three_tier_chain(&r->chains[0]);
		bt_chains_free(r);
	}
	free(a.v);
}

/* Middle also waits on a futex nobody is known to have woken. */
static void test_unknown_waker(void **state)
{
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain *c;

	(void)state;
	add(&a, FE, FE, BT_KIND_UNIX_STREAM, BT_DIR_RECV, "unix:/tmp/mid.sock",
	    0, 19 * MS, 20 * MS, MID, MID);
	add(&a, MID, MID, BT_KIND_FUTEX, BT_DIR_WAIT, "futex:0x10", 1 * MS, 0, 3 * MS, 0, 0);
	add(&a, MID, MID, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:7000",
	    4 * MS, 9 * MS, 10 * MS, BE, BE);
	/* A wait of frontend's own that nobody ended: no chain at all. */
	add(&a, FE, FE, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[1]", 50 * MS, 0, 60 * MS, 0, 0);
	r = analyze(&a, 100 * MS);
	check_invariants(r);
	assert_int_equal(r->counts.roots, 1);
	assert_int_equal(r->counts.nested, 2);
	assert_int_equal(r->counts.no_waker, 1);
	assert_int_equal(r->nchains, 1);
	c = &r->chains[0];
	assert_int_equal(c->nhops, 2);
	assert_int_equal(c->hops[0].queue_ns, 1 * MS);
	assert_int_equal(c->hops[0].wait_ns, 6 * MS);
	assert_int_equal(c->hops[0].other_ns, 2 * MS);
	assert_int_equal(c->hops[0].self_ns, 11 * MS);
	assert_int_equal(c->hops[1].self_ns, 5 * MS);
	assert_int_equal(c->hops[1].queue_ns, 1 * MS);
	bt_chains_free(r);
	free(a.v);
}

/* Middle calls backend, then cache: sequential, could have been parallel. */
static void test_serial_fanout(void **state)
{
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain *c;
	char line[1024];

	(void)state;
	add(&a, FE, FE, BT_KIND_UNIX_STREAM, BT_DIR_RECV, "unix:/tmp/mid.sock",
	    0, 19 * MS, 20 * MS, MID, MID);
	add(&a, MID, MID, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:7000",
	    1 * MS, 4500 * US, 5 * MS, BE, BE);
	add(&a, MID, MID, BT_KIND_TCP, BT_DIR_RECV, "tcp:127.0.0.1:6379",
	    6 * MS, 7800 * US, 8 * MS, CACHE, CACHE);
	r = analyze(&a, 40 * MS);
	check_invariants(r);
	assert_int_equal(r->nchains, 2);
	/* Equal totals: ordered by the hops, cache's port sorts first. */
	assert_int_equal(r->chains[0].hops[1].to.pid, CACHE);
	c = &r->chains[1];
	assert_int_equal(c->hops[1].to.pid, BE);
	assert_int_equal(c->episodes, 1);
	assert_int_equal(c->blocked_ns, 20 * MS);
	assert_near(c->share, 0.5);
	assert_int_equal(c->hops[0].fanout_calls, 1);
	assert_int_equal(c->hops[0].fanout_max_peers, 2);
	assert_int_equal(c->hops[0].fanout_save_ns, 2 * MS);
	assert_int_equal(c->hops[0].wait_ns, 4 * MS);
	assert_int_equal(c->hops[0].other_ns, 2 * MS);
	assert_int_equal(c->hops[0].self_ns, 13 * MS);
	assert_int_equal(c->hops[1].fanout_calls, 0);
	assert_int_equal(r->chains[0].hops[0].fanout_save_ns, 2 * MS);
	assert_int_equal(r->chains[0].hops[0].wait_ns, 2 * MS);
	bt_chains_format_line(c, line, sizeof(line));
	assert_non_null(strstr(line, "; serial fan-out: middle called up to 2 peers one after "
				     "the other in 1 of 1 calls (parallel could save 2.0 ms)"));
	bt_chains_free(r);
	free(a.v);
}

static void test_cycle(void **state)
{
	struct epv a = { 0 };
	struct bt_chains *r;
	const struct bt_chain *c;
	char line[512];

	(void)state;
	/* A and B each waiting on the other over the same span. */
	add(&a, 700, 700, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[1]", 0, 100 * MS, 100 * MS, 800, 800);
	add(&a, 800, 800, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[2]", 0, 100 * MS, 100 * MS, 700, 700);
	r = analyze(&a, 100 * MS);
	check_invariants(r);
	assert_int_equal(r->counts.roots, 1);
	assert_int_equal(r->counts.nested, 1);
	assert_int_equal(r->counts.cycles, 1);
	assert_int_equal(r->nchains, 1);
	c = &r->chains[0];
	assert_true(c->cycle);
	assert_int_equal(c->nhops, 2);
	assert_int_equal(c->hops[0].from.pid, 700);
	assert_int_equal(c->hops[1].to.pid, 700);
	assert_int_equal(c->hops[0].wait_ns, 100 * MS);
	assert_int_equal(c->hops[1].other_ns, 100 * MS);
	bt_chains_format_line(c, line, sizeof(line));
	assert_non_null(strstr(line, "; cycle: "));
	bt_chains_free(r);

	/* A ⇢ B ⇢ C ⇢ A, each inside the previous one's wait. */
	a.n = 0;
	add(&a, 700, 700, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[1]", 0, 99 * MS, 100 * MS, 800, 800);
	add(&a, 800, 800, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[2]",
	    10 * MS, 89 * MS, 90 * MS, 900, 900);
	add(&a, 900, 900, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[3]",
	    20 * MS, 79 * MS, 80 * MS, 700, 700);
	r = analyze(&a, 100 * MS);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	c = &r->chains[0];
	assert_true(c->cycle);
	assert_int_equal(c->nhops, 3);
	assert_int_equal(c->hops[2].to.pid, 700);
	assert_int_equal(c->hops[2].other_ns, 59 * MS);
	bt_chains_free(r);
	free(a.v);
}

/* Twelve processes, each waiting on the next inside the previous wait. */
static void test_depth_and_node_caps(void **state)
{
	static const unsigned int k[] = { 3 };
	struct bt_chain_opts o = { .duration_ns = 200 * MS };
	struct epv a = { 0 };
	struct bt_chains *r;

	(void)state;
	for (uint32_t i = 0; i < 12; i++)
		add(&a, 1000 + i, 1000 + i, BT_KIND_PIPE, BT_DIR_RECV, "pipe:[5]",
		    i * MS, 0, (200 - i) * MS, 1001 + i, 1001 + i);
	r = bt_chains_analyze(a.v, a.n, &o);
	assert_non_null(r);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	assert_int_equal(r->chains[0].nhops, BT_CHAINS_MAX_DEPTH);
	assert_true(r->chains[0].cut);
	assert_int_equal(r->counts.cut, 1);
	assert_int_equal(r->chains[0].hops[7].other_ns, (200 - 14) * MS);
	bt_chains_free(r);

	o.max_depth = 3;
	r = bt_chains_analyze(a.v, a.n, &o);
	assert_non_null(r);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	assert_int_equal(r->chains[0].nhops, 3);
	assert_true(r->chains[0].cut);
	bt_chains_free(r);

	/* Three calls to backend, room for two: frontend ⇢ middle, cut. */
	a.n = 0;
	three_tier(&a, FE, 0, 1, k);
	o.max_depth = 0;
	o.max_nodes = 2;
	r = bt_chains_analyze(a.v, a.n, &o);
	assert_non_null(r);
	check_invariants(r);
	assert_int_equal(r->nchains, 1);
	assert_int_equal(r->chains[0].nhops, 1);
	assert_true(r->chains[0].cut);
	assert_int_equal(r->chains[0].hops[0].other_ns, 10500 * US);
	bt_chains_free(r);
	free(a.v);
}

/*
 * 200 clients of one server, served in turn: each client's wait holds the
 * server's calls for all the others, 600 per root, 6M tree nodes in all.
 * The shared budget (max(8 n, 2^20) + 16 per root) cuts most trees.
 */
static void test_shared_budget(void **state)
{
	const unsigned int clients = 200, rounds = 50;
	struct epv a = { 0 };
	struct bt_chains *r;
	uint64_t visited = 0, twohop = 0;

	(void)state;
	for (unsigned int j = 0; j < clients * rounds; j++) {
		uint64_t t0 = j * MS, served = t0 + 990 * US;
		uint64_t sent = j >= clients ? (j - clients) * MS + 995 * US : 0;
		uint32_t c = 2000 + j % clients;

		add(&a, c, c, BT_KIND_TCP, BT_DIR_RECV, "tcp:10.0.0.1:80", sent, served,
		    served + 2 * US, 3000, 3000);
		for (unsigned int k = 0; k < 3; k++)
			add(&a, 3000, 3000, BT_KIND_TCP, BT_DIR_RECV, "tcp:10.0.0.2:5432",
			    t0 + 100 * US + k * 300 * US, t0 + 290 * US + k * 300 * US,
			    t0 + 300 * US + k * 300 * US, BE, BE);
	}
	r = analyze(&a, clients * rounds * MS);
	check_invariants(r);
	assert_int_equal(r->counts.roots, clients * rounds);
	assert_int_equal(r->counts.nested, 3 * clients * rounds);
	assert_true(r->counts.cut > 0);
	for (size_t i = 0; i < r->nchains; i++) {
		for (unsigned int d = 1; d < r->chains[i].nhops; d++)
			visited += r->chains[i].hops[d].calls;
		twohop += r->chains[i].nhops == 2;
	}
	assert_true(twohop > 0);
	assert_true(visited <= (1u << 20) + 16 * r->counts.roots);
	bt_chains_free(r);
	free(a.v);
}

/* Two frontend threads; no duration given: the episodes' span is used. */
static void test_threads_and_span(void **state)
{
	static const unsigned int k[] = { 3, 3 };
	struct epv a = { 0 };
	struct bt_chains *r;

	(void)state;
	three_tier(&a, FE, 0, 2, k);
	three_tier(&a, FE + 1, 200 * MS, 2, k);
	r = analyze(&a, 0);
	check_invariants(r);
	assert_int_equal(r->duration_ns, 311 * MS);
	assert_int_equal(r->nchains, 1);
	assert_int_equal(r->chains[0].root_threads, 2);
	assert_int_equal(r->chains[0].episodes, 4);
	assert_near(r->chains[0].share, 44.0 / (311 * 2));
	bt_chains_free(r);
	free(a.v);
}

static void test_empty_and_errors(void **state)
{
	static const unsigned int k[] = { 3 };
	struct epv a = { 0 };
	struct bt_chains *r;
	const char *prefix = "?[100] ⇢ unix:/tmp/mid.sock ⇢ ?[200]";
	char buf[12];
	char full[512];
	int n;

	(void)state;
	r = bt_chains_analyze(NULL, 0, NULL);
	assert_non_null(r);
	assert_int_equal(r->nchains, 0);
	assert_int_equal(r->counts.episodes, 0);
	bt_chains_free(r);
	bt_chains_free(NULL);

	errno = 0;
	assert_null(bt_chains_analyze(NULL, 1, NULL));
	assert_int_equal(errno, EINVAL);

	/* No names known: "?" stands in; a short buffer stays terminated. */
	three_tier(&a, FE, 0, 1, k);
	r = bt_chains_analyze(a.v, a.n, NULL);
	assert_non_null(r);
	assert_int_equal(r->nchains, 1);
	assert_string_equal(r->chains[0].hops[0].from.comm, "");
	n = bt_chains_format_line(&r->chains[0], full, sizeof(full));
	assert_int_equal(n, strlen(full));
	assert_int_equal(strncmp(full, prefix, strlen(prefix)), 0);
	assert_int_equal(bt_chains_format_line(&r->chains[0], buf, sizeof(buf)), n);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	/* Any cut is a prefix and never splits a character (⇢ is 3 bytes). */
	for (size_t len = 1; len < 64; len++) {
		char cut[64];
		size_t got;

		assert_int_equal(bt_chains_format_line(&r->chains[0], cut, len), n);
		got = strlen(cut);
		assert_true(got < len && got + 3 >= len - 1);
		assert_int_equal(strncmp(cut, full, got), 0);
		assert_true(!got || ((unsigned char)full[got] & 0xc0) != 0x80);
	}
	assert_int_equal(bt_chains_format_line(&r->chains[0], NULL, 0), n);
	bt_chains_free(r);
	free(a.v);
}

/*
 * A high rate of short requests (80,000 episodes a second: the frontend
 * waits 20 us on the middle, which waits 10 us on the backend, every
 * 25 us) and, with long, a frontend wait of 200 ms holding a wait of the
 * middle's (their own threads), fed in the order they ended as a live
 * trace does with a budget: a fold each time the budget's episodes came.
 */
#define BUDGET_REQS	24000	/* 0.6 s */
#define BUDGET		8192
static size_t budget_stream(struct epv *a, bool long_wait)
{
	for (uint64_t r = 0; r < BUDGET_REQS; r++) {
		uint64_t t = 1 * MS + r * 25 * US;

		add(a, MID, 20, BT_KIND_TCP, BT_DIR_RECV, "tcp:be", t + 5 * US, t + 14 * US,
		    t + 15 * US, BE, 30);
		add(a, FE, 10, BT_KIND_UNIX_STREAM, BT_DIR_RECV, "unix:/m", t, t + 19 * US,
		    t + 20 * US, MID, 20);
		if (long_wait && t == 300 * MS) {
			add(a, MID, 22, BT_KIND_TCP, BT_DIR_RECV, "tcp:be", t + 10 * MS,
			    t + 10900 * US, t + 11 * MS, BE, 31);
			/* It ends 200 ms later: added with those that end then. */
		}
		if (long_wait && t == 500 * MS)
			add(a, FE, 11, BT_KIND_UNIX_STREAM, BT_DIR_RECV, "unix:/m", 300 * MS,
			    499 * MS, 500 * MS, MID, 22);
	}
	return a->n;
}

static struct bt_chains *feed_budget(const struct epv *e, size_t budget, uint64_t *horizon,
				     size_t *most)
{
	const struct bt_chain_opts o = { .nested_roots = true };
	struct bt_eagg *a = bt_eagg_new(500 * MS, &o);
	struct bt_chains *c;

	assert_non_null(a);
	bt_eagg_set_budget(a, budget);
	*most = 0;
	for (size_t i = 0; i < e->n; i++) {
		assert_int_equal(bt_eagg_add(a, &e->v[i]), 0);
		if (bt_eagg_window(a) > *most)
			*most = bt_eagg_window(a);
		if (budget && bt_eagg_added(a) >= budget) {
			assert_int_equal(bt_eagg_fold(a), 0);
			/* Past the first fold (the rate known), the window kept is about the budget. */
			if (i >= 2 * budget)
				assert_true(bt_eagg_window(a) <= budget + budget / 8);
		}
	}
	bt_eagg_horizon(a, horizon);
	c = bt_eagg_chains(a, &o);
	assert_non_null(c);
	assert_int_equal(c->episodes_horizon_ns, *horizon);
	bt_eagg_free(a);
	return c;
}

/*
 * The episode window's budget: the stream folds with a horizon shortened
 * to keep about the budget (the window never twice the budget and a bit),
 * and the chains are one batch's, exactly, nothing late. With long_wait,
 * a wait of 200 ms whose waker blocked inside it, among the stream:
 * longer than the shortened horizon, the waker's wait left the window
 * before it came, and it is counted late (never silently). Without the
 * budget, the full horizon (0.6 s of episodes at once): nothing late, the
 * long wait's tree whole, as in one batch.
 */
static void check_budget(bool long_wait)
{
	const struct bt_chain_opts o = { .nested_roots = true };
	struct epv e = { 0 };
	struct bt_chains *batch, *c;
	uint64_t horizon;
	size_t most;

	budget_stream(&e, long_wait);
	batch = bt_chains_analyze(e.v, e.n, &o);
	assert_non_null(batch);
	c = feed_budget(&e, BUDGET, &horizon, &most);
	/* 8192 episodes at 80,000 a second: 82 ms, context included. */
	assert_true(horizon >= BT_WINDOW_HORIZON_FLOOR && horizon < 100 * MS);
	assert_true(most <= 2 * BUDGET + BUDGET / 8);
	assert_int_equal(c->counts.late, long_wait);
	if (!long_wait)
		assert_same(c, batch);
	bt_chains_free(c);
	c = feed_budget(&e, 0, &horizon, &most);
	assert_int_equal(horizon, 500 * MS);
	assert_true(most > 4 * BUDGET);
	assert_int_equal(c->counts.late, 0);
	assert_same(c, batch);
	bt_chains_free(c);
	bt_chains_free(batch);
	free(e.v);
}

static void test_budget_window(void **state)
{
	(void)state;
	check_budget(false);
}

static void test_budget_long_wait_late(void **state)
{
	(void)state;
	check_budget(true);
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: fixed seed, same episodes every run. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* nthreads threads, 5 a process, per waits each, random wakers (known by tid alone). */
static void random_episodes(struct epv *a, unsigned int nthreads, unsigned int per)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;

	a->cap = (size_t)nthreads * per;
	a->v = malloc(a->cap * sizeof(*a->v));
	assert_non_null(a->v);
	for (unsigned int t = 0; t < nthreads; t++) {
		uint64_t now = rnd(&s) % MS;

		for (unsigned int i = 0; i < per && a->n < a->cap; i++) {
			uint64_t dur = 10 * US + rnd(&s) % (5 * MS);
			uint64_t q = rnd(&s) % (dur < 100 * US ? dur : 100 * US);
			uint32_t w = (uint32_t)(rnd(&s) % nthreads);
			unsigned int kind = 1 + rnd(&s) % (BT_KIND_MAX - 1);
			char chan[32];
			struct bt_episode *e;
			uint64_t start;

			now += rnd(&s) % (2 * MS);
			/* 1 in 200 starts too early: an overlap. */
			start = rnd(&s) % 200 || now < MS ? now : now - rnd(&s) % MS;
			snprintf(chan, sizeof(chan), "%s:[%u]",
				 kind == BT_KIND_FUTEX ? "futex" : "pipe",
				 (unsigned int)(rnd(&s) % 64));
			e = add(a, 1 + t / 5, 1 + t, kind, BT_DIR_RECV, chan, start,
				now + dur - q, now + dur, 0, rnd(&s) % 5 ? 1 + w : 0);
			e->truncated = rnd(&s) % 200 == 0;
			now += dur;
		}
	}
	/* Some duplicates. */
	for (size_t i = 0; i < a->n; i += 997)
		a->v[i] = a->v[i + 1 < a->n ? i + 1 : i];
}

/*
 * 40,000 random waits of 200 threads folded every 64 episodes, nested
 * roots or not: the batch's chains, and the window holds a few horizons.
 */
static void test_windows_random(void **state)
{
	struct bt_chain_opts o = { .comm = comm_of };
	struct epv a = { 0 };
	size_t most;

	(void)state;
	random_episodes(&a, 200, 200);
	most = check_windows(a.v, a.n, &o, 64);
	assert_true(most < a.n / 4);
	free(a.v);
}

/* 1000 threads in 200 processes, 1000 waits each, random wakers. */
static void test_million_random(void **state)
{
	struct epv a = { 0 };
	struct bt_chains *r;
	char line[4096];

	(void)state;
	random_episodes(&a, 1000, 1000);
	/* Any order. */
	shuffle(&a, 7);

	r = analyze(&a, 0);
	check_invariants(r);
	assert_int_equal(r->counts.episodes, a.n);
	assert_true(r->counts.roots > 0);
	assert_true(r->counts.nested > 0);
	assert_true(r->counts.duplicates > 0);
	assert_true(r->counts.overlaps > 0);
	assert_true(r->counts.truncated > 0);
	assert_true(r->nchains > 0);
	for (size_t i = 0; i < r->nchains && i < 3; i++) {
		assert_true(bt_chains_format_line(&r->chains[i], line, sizeof(line)) > 0);
		assert_true(strlen(line) > 0);
	}
	bt_chains_free(r);
	free(a.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_tier),
		cmocka_unit_test(test_calls_distribution),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_no_backend_inside),
		cmocka_unit_test(test_backend_after_answer),
		cmocka_unit_test(test_futex_hop),
		cmocka_unit_test(test_stream_roots_skipped),
		cmocka_unit_test(test_messy_input),
		cmocka_unit_test(test_unknown_waker),
		cmocka_unit_test(test_serial_fanout),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_depth_and_node_caps),
		cmocka_unit_test(test_shared_budget),
		cmocka_unit_test(test_threads_and_span),
		cmocka_unit_test(test_empty_and_errors),
		cmocka_unit_test(test_windows_random),
		cmocka_unit_test(test_budget_window),
		cmocka_unit_test(test_budget_long_wait_late),
		cmocka_unit_test(test_million_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
