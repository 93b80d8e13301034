// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chains from exchanges on synthetic records: the thread rule, an event
 * loop interleaving two clients' requests on one thread (a call with
 * several requests open counted ambiguous), a response
 * already there before the next request is read, a nesting the trace
 * contradicts, a thread-pool hand-off, a server whose clients are
 * not traced (the entry tier is the server), and a pool's workers named
 * as one node.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/exchains.h"
#include "chain_assert.h"

#define FE	100
#define MID	200
#define BE	300

/* Connection ends: a-side numbers for client ends, b-side for servers. */
static struct bt_xchg cli(uint32_t pid, uint32_t tid, uint64_t a, uint64_t b, const char *ch,
			  uint64_t req, uint64_t resp)
{
	struct bt_xchg x = { .pid = pid, .tid = tid, .req_tid = tid, .role = BT_ROLE_CLIENT,
			     .kind = BT_KIND_TCP, .end_a = a, .end_b = b,
			     .req_ns = req, .resp_ns = resp };

	strcpy(x.channel, ch);
	return x;
}

static struct bt_xchg srv(uint32_t pid, uint32_t tid, uint64_t a, uint64_t b, const char *ch,
			  uint64_t req, uint64_t resp)
{
	struct bt_xchg x = cli(pid, tid, a, b, ch, req, resp);

	x.role = BT_ROLE_SERVER;
	return x;
}

static const struct bt_chain *find(const struct bt_chains *c, unsigned int nhops)
{
	for (size_t i = 0; i < c->nchains; i++)
		if (c->chains[i].nhops == nhops)
			return &c->chains[i];
	return NULL;
}

/* The same chains, field by field (windows change nothing a test can see). */
static void assert_same(const struct bt_chains *a, const struct bt_chains *b)
{
	assert_int_equal(a->nchains, b->nchains);
	assert_memory_equal(&a->xcounts, &b->xcounts, sizeof(a->xcounts));
	assert_int_equal(a->duration_ns, b->duration_ns);
	for (size_t i = 0; i < a->nchains; i++) {
		const struct bt_chain *x = &a->chains[i], *y = &b->chains[i];

		assert_int_equal(x->nhops, y->nhops);
		assert_int_equal(x->requests, y->requests);
		assert_int_equal(x->blocked_ns, y->blocked_ns);
		assert_int_equal(x->root_threads, y->root_threads);
		assert_int_equal(x->p50_ns, y->p50_ns);
		assert_int_equal(x->p99_ns, y->p99_ns);
		for (unsigned int k = 0; k < x->nhops; k++)
			assert_same_hop(&x->hops[k], &y->hops[k]);
	}
}

static int cmp_resp(const void *pa, const void *pb)
{
	const struct bt_xchg *a = pa, *b = pb;

	return a->resp_ns < b->resp_ns ? -1 : a->resp_ns > b->resp_ns;
}

/* The services of records added with a tag (bt_xagg_add_later), by tag. */
struct tags {
	char (*name)[BT_EPISODE_CHANNEL_LEN];
	uint32_t n;
};

static uint32_t tag_of(struct tags *t, const char *channel)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], channel))
			return i;
	memcpy(t->name[t->n], channel, sizeof(t->name[0]));
	return t->n++;
}

static void tag_name(void *ctx, uint32_t tag, char *buf)
{
	const struct tags *t = ctx;

	assert_true(tag < t->n);
	memcpy(buf, t->name[tag], sizeof(t->name[0]));
}

/* Names the records added with a tag, as a live trace does before each fold. */
static void name_tags(struct bt_xagg *a, struct tags *t)
{
	assert_int_equal(bt_xagg_name_later(a, t->n, tag_name, t), 0);
	t->n = 0;
}

/*
 * Feeds the records in the order they complete (hand-offs when they
 * happen), folding after every record in fold_at (a bit per record, 64
 * at most, or all when every is set), with a horizon just longer than the
 * longest exchange: the chains must be those of one batch. later: every
 * record is added with its service to be named (a live trace's way),
 * named before each fold.
 */
static size_t feed_windows(const struct bt_xchg *in, size_t n, const struct bt_handoff *h,
			   size_t nh, uint64_t fold_at, bool every, bool later,
			   const struct bt_chains *batch)
{
	size_t most = 0;
	struct bt_xchg *x = malloc(n * sizeof(*x));
	struct tags tags = { malloc((n ? n : 1) * sizeof(*tags.name)), 0 };
	uint64_t horizon = 1;
	struct bt_xagg *a;
	struct bt_chains *c;
	size_t k = 0;

	assert_non_null(x);
	assert_non_null(tags.name);
	memcpy(x, in, n * sizeof(*x));
	qsort(x, n, sizeof(*x), cmp_resp);
	for (size_t i = 0; i < n; i++)
		if (x[i].resp_ns >= x[i].req_ns && x[i].resp_ns - x[i].req_ns >= horizon)
			horizon = x[i].resp_ns - x[i].req_ns + 1;
	a = bt_xagg_new(horizon);
	assert_non_null(a);
	for (size_t i = 0; i < n; i++) {
		for (; k < nh && h[k].end_ns <= x[i].resp_ns; k++)
			assert_int_equal(bt_xagg_add_handoff(a, &h[k]), 0);
		if (later)
			assert_int_equal(bt_xagg_add_later(a, &x[i], tag_of(&tags, x[i].channel)), 0);
		else
			assert_int_equal(bt_xagg_add(a, &x[i]), 0);
		if (every || (i < 64 && (fold_at >> i & 1))) {
			struct bt_chains *now;

			/* Not named yet: no hop can be made of it. */
			if (tags.n)
				assert_int_equal(bt_xagg_fold(a), -EINVAL);
			name_tags(a, &tags);
			/* An interval table's look changes nothing: what is pending stays so. */
			now = bt_xagg_folded(a, NULL);
			assert_non_null(now);
			assert_int_equal(now->xcounts.late, 0);
			bt_chains_free(now);
			assert_int_equal(bt_xagg_fold(a), 0);
		}
		if (bt_xagg_window(a) > most)
			most = bt_xagg_window(a);
	}
	for (; k < nh; k++)
		assert_int_equal(bt_xagg_add_handoff(a, &h[k]), 0);
	name_tags(a, &tags);
	c = bt_xagg_chains(a, NULL);
	assert_non_null(c);
	assert_int_equal(c->xcounts.late, 0);
	assert_same(c, batch);
	bt_chains_free(c);
	bt_xagg_free(a);
	free(tags.name);
	free(x);
	return most;
}

/*
 * One fold at every possible point, and a fold after every record: the
 * most the window held then.
 */
static size_t check_windows(const struct bt_xchg *x, size_t n, const struct bt_handoff *h,
			    size_t nh)
{
	size_t most;

	struct bt_chains *batch = bt_exchains_analyze(x, n, h, nh, NULL);

	assert_non_null(batch);
	for (size_t i = 0; i < n && i < 64; i++)
		feed_windows(x, n, h, nh, 1ull << i, false, i % 2, batch);
	most = feed_windows(x, n, h, nh, 0, true, false, batch);
	assert_int_equal(feed_windows(x, n, h, nh, 0, true, true, batch), most);
	bt_chains_free(batch);
	return most;
}

/* A blocking middle: request in, two calls, response out, twice. */
static void test_thread_rule(void **state)
{
	struct bt_xchg x[] = {
		/* frontend conn 1<->2, middle->backend conn 3<->4 */
		cli(FE, 10, 1, 2, "unix:/m", 100, 1000),
		srv(MID, 20, 2, 1, "unix:/m", 110, 990),
		cli(MID, 20, 3, 4, "tcp:be", 200, 400),
		srv(BE, 30, 4, 3, "tcp:be", 210, 390),
		cli(MID, 20, 3, 4, "tcp:be", 500, 700),
		srv(BE, 30, 4, 3, "tcp:be", 510, 690),
		cli(FE, 10, 1, 2, "unix:/m", 2000, 2500),
		srv(MID, 20, 2, 1, "unix:/m", 2010, 2490),
		cli(MID, 20, 3, 4, "tcp:be", 2100, 2200),
		srv(BE, 30, 4, 3, "tcp:be", 2110, 2190),
		cli(MID, 20, 3, 4, "tcp:be", 2300, 2400),
		srv(BE, 30, 4, 3, "tcp:be", 2310, 2390),
	};
	struct bt_chains *c = bt_exchains_analyze(x, 12, NULL, 0, NULL);
	const struct bt_chain *ch;

	(void)state;
	check_windows(x, 12, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->nchains, 1);
	ch = &c->chains[0];
	assert_int_equal(ch->nhops, 2);
	assert_int_equal(ch->requests, 2);
	assert_int_equal(ch->hops[0].from.pid, FE);
	assert_int_equal(ch->hops[0].to.pid, MID);
	assert_int_equal(ch->hops[1].to.pid, BE);
	assert_int_equal(ch->hops[1].calls, 4);
	assert_int_equal(ch->hops[1].calls_min, 2);
	assert_int_equal(ch->hops[1].calls_max, 2);
	assert_int_equal(c->xcounts.nested, 4);
	assert_int_equal(c->xcounts.paired, 6);
	/* latency 900 + 500; middle serves 880 + 480, its calls take 200+200+100+100 */
	assert_int_equal(ch->blocked_ns, 1400);
	assert_int_equal(ch->hops[0].queue_ns, 40);
	assert_int_equal(ch->hops[0].wait_ns, 600);
	assert_int_equal(ch->hops[0].self_ns, 1360 - 600);
	bt_chains_free(c);
}

/*
 * One event-loop thread: A's request in, A's call out, B's request in,
 * B's call out, A's call's response (already there, read without
 * blocking), A's second call, B's call's response, B's response, A's
 * second response, A's response. Each call nests under its own request.
 */
static void test_event_loop_interleaved(void **state)
{
	struct bt_xchg x[] = {
		srv(MID, 20, 2, 1, "unix:/m", 100, 900),	/* A: client not traced */
		cli(MID, 20, 3, 4, "tcp:be", 110, 300),		/* A call 1 */
		srv(MID, 20, 6, 5, "unix:/m", 200, 700),	/* B */
		cli(MID, 20, 7, 8, "tcp:be", 210, 400),		/* B call 1 */
		cli(MID, 20, 3, 4, "tcp:be", 310, 600),		/* A call 2 */
		/* the loop read B's call's response at 400, then answered B */
	};
	struct bt_chains *c = bt_exchains_analyze(x, 5, NULL, 0, NULL);
	const struct bt_chain *ch;

	(void)state;
	check_windows(x, 5, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->xcounts.nested, 3);
	assert_int_equal(c->xcounts.rejected, 0);
	ch = find(c, 2);
	assert_non_null(ch);
	assert_int_equal(ch->requests, 2);		/* A and B, roots at the server */
	assert_int_equal(ch->hops[0].from.pid, 0);	/* not traced */
	assert_int_equal(ch->hops[1].calls, 3);
	assert_int_equal(ch->hops[1].calls_min, 1);	/* B */
	assert_int_equal(ch->hops[1].calls_max, 2);	/* A */
	/* B's call and A's second went out with both open: the thread rule's guess. */
	assert_int_equal(c->xcounts.ambiguous, 2);
	assert_int_equal(ch->hops[1].ambiguous, 2);
	bt_chains_free(c);
}

/*
 * The chains of n records, the same at every fold point, with nested
 * calls nested, ambiguous of them ambiguous and none rejected.
 */
static struct bt_chains *nest_checked(const struct bt_xchg *x, size_t n, uint64_t nested,
				      uint64_t ambiguous)
{
	struct bt_chains *c = bt_exchains_analyze(x, n, NULL, 0, NULL);

	check_windows(x, n, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->xcounts.nested, nested);
	assert_int_equal(c->xcounts.rejected, 0);
	assert_int_equal(c->xcounts.ambiguous, ambiguous);
	return c;
}

/*
 * An event loop reads two requests in one batch, then runs their
 * callbacks: A's call and B's call both go out after B's read, so the
 * thread's last read says B for both. Neither is contradicted (both
 * requests are open around both calls): nested, but ambiguous.
 */
static void test_event_loop_batch_ambiguous(void **state)
{
	struct bt_xchg x[] = {
		srv(MID, 20, 2, 1, "unix:/m", 100, 900),	/* A */
		srv(MID, 20, 6, 5, "unix:/m", 110, 800),	/* B */
		cli(MID, 20, 3, 4, "tcp:be", 120, 500),		/* A's call */
		cli(MID, 20, 7, 8, "tcp:be", 130, 600),		/* B's call */
	};
	struct bt_chains *c = nest_checked(x, 4, 2, 2);
	const struct bt_chain *ch = find(c, 2);

	(void)state;
	assert_non_null(ch);
	assert_int_equal(ch->hops[1].calls, 2);		/* the total stays exact */
	assert_int_equal(ch->hops[1].ambiguous, 2);
	bt_chains_free(c);
}

/*
 * The thread's last read is B's request, but B was answered before the
 * call came back: the trace contradicts B, and A, the one other request
 * open on the thread, is the only one it allows. Nested in A, exactly.
 */
static void test_contradicted_other_open_request(void **state)
{
	struct bt_xchg x[] = {
		srv(MID, 20, 2, 1, "unix:/m", 100, 900),	/* A */
		srv(MID, 20, 6, 5, "unix:/m", 200, 300),	/* B: no call */
		cli(MID, 20, 3, 4, "tcp:be", 250, 500),		/* after B's read: A's */
	};
	struct bt_chains *c = nest_checked(x, 3, 1, 0);
	const struct bt_chain *ch = find(c, 2);

	(void)state;
	assert_non_null(ch);
	assert_int_equal(ch->requests, 1);		/* A */
	assert_int_equal(ch->hops[1].calls, 1);
	assert_int_equal(ch->hops[1].ambiguous, 0);
	ch = find(c, 1);
	assert_non_null(ch);
	assert_int_equal(ch->requests, 1);		/* B, with no call */
	bt_chains_free(c);
}

/* A call whose response came back after the request was answered is not its call. */
static void test_contradiction_rejected(void **state)
{
	struct bt_xchg x[] = {
		srv(MID, 20, 2, 1, "unix:/m", 100, 200),
		cli(MID, 20, 3, 4, "tcp:be", 150, 300),	/* async: outlives the request */
	};
	struct bt_chains *c = bt_exchains_analyze(x, 2, NULL, 0, NULL);

	(void)state;
	check_windows(x, 2, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->xcounts.rejected, 1);
	assert_int_equal(c->xcounts.nested, 0);
	assert_int_equal(c->xcounts.roots, 2);
	assert_null(find(c, 2));
	bt_chains_free(c);
}

/* The main thread reads the request; a worker woken through a pipe makes the call. */
static void test_pool_handoff(void **state)
{
	struct bt_xchg x[] = {
		srv(MID, 20, 2, 1, "unix:/m", 100, 900),
		cli(MID, 21, 3, 4, "tcp:be", 300, 500),
	};
	struct bt_handoff h[] = { { MID, 21, 20, 150, 200 } };
	struct bt_chains *c;

	(void)state;
	x[0].tid = 21;	/* the worker sent the response */
	check_windows(x, 2, h, 1);
	c = bt_exchains_analyze(x, 2, h, 1, NULL);
	assert_non_null(c);
	assert_int_equal(c->xcounts.nested, 1);
	assert_non_null(find(c, 2));
	bt_chains_free(c);
	/* Without the hand-off, the worker's call is a root of its own. */
	c = bt_exchains_analyze(x, 2, NULL, 0, NULL);
	assert_non_null(c);
	assert_int_equal(c->xcounts.nested, 0);
	assert_null(find(c, 2));
	bt_chains_free(c);
}

/*
 * A request passed on through a relay of worker threads (20 wakes 21,
 * 21 wakes 22, ...) before the last makes the call: it nests through up
 * to four hand-offs, not through five; the same in every window.
 */
static void test_handoff_relay(void **state)
{
	for (uint32_t hops = 1; hops <= 5; hops++) {
		struct bt_xchg x[] = {
			srv(MID, 20, 2, 1, "unix:/m", 100, 900),
			cli(MID, 20 + hops, 3, 4, "tcp:be", 400, 500),
		};
		struct bt_handoff h[5];
		struct bt_chains *c;

		(void)state;
		for (uint32_t k = 0; k < hops; k++)
			h[k] = (struct bt_handoff){ MID, 21 + k, 20 + k, 150 + k * 40,
						    170 + k * 40 };
		x[0].tid = 20 + hops;	/* the last worker sent the response */
		check_windows(x, 2, h, hops);
		c = bt_exchains_analyze(x, 2, h, hops, NULL);
		assert_non_null(c);
		assert_int_equal(c->xcounts.nested, hops <= 4);
		bt_chains_free(c);
	}
}

/*
 * A pool's main thread 20 hands requests to workers 21..23 in turn while
 * two other threads hand off to each other all along (a futex
 * ping-pong): every worker's call nests in its request through its own
 * hand-off, the wakers' searches interleaved; the same in every window.
 */
static void test_pool_handoffs_interleaved(void **state)
{
	enum { R = 30, NOISE = 8 };
	struct bt_xchg x[R * 3];
	struct bt_handoff h[R * (NOISE + 1)];
	size_t n = 0, nh = 0;
	struct bt_chains *c;

	(void)state;
	for (uint32_t r = 0; r < R; r++) {
		uint64_t t = 1000 + r * 1000;
		uint32_t worker = 21 + r % 3;

		x[n++] = srv(MID, worker, 12, 11, "unix:/m", t, t + 500);
		x[n - 1].req_tid = 20;
		x[n++] = cli(MID, worker, 3, 4, "tcp:be", t + 100, t + 200);
		x[n++] = srv(BE, 30, 4, 3, "tcp:be", t + 110, t + 190);
		for (uint32_t k = 0; k < NOISE; k++) {
			uint64_t w = t + 5 + k * 100;

			/* In end order: the worker's after the noise that ended first. */
			if (k == 1)
				h[nh++] = (struct bt_handoff){ MID, worker, 20, t + 10, t + 20 };
			h[nh++] = (struct bt_handoff){ MID, 40 + k % 2, 41 - k % 2, w, w + 8 };
		}
	}
	check_windows(x, n, h, nh);
	c = bt_exchains_analyze(x, n, h, nh, NULL);
	assert_non_null(c);
	assert_int_equal(c->xcounts.nested, R);
	bt_chains_free(c);
}

/* The server read the request before the client's send returned: still paired. */
static void test_pairing_clock_order(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 120, 1000),
		srv(MID, 20, 2, 1, "unix:/m", 110, 1005),
		cli(FE, 10, 1, 2, "unix:/m", 1100, 2000),
		srv(MID, 20, 2, 1, "unix:/m", 1095, 1990),
	};
	struct bt_chains *c = bt_exchains_analyze(x, 4, NULL, 0, NULL);

	(void)state;
	check_windows(x, 4, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->xcounts.paired, 2);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].requests, 2);
	assert_int_equal(c->chains[0].hops[0].to.pid, MID);
	bt_chains_free(c);
}

/*
 * The client reads its response late (starved 5 ms, as nginx on a busy
 * machine), and the server starts its next exchange early (it read the
 * tail of the request after it answered, as php-fpm does): that next one
 * answered nearer the client's late read, but after it. Each call still
 * pairs with the exchange that answered it, and its calls nest there.
 */
static void test_pairing_slow_client_read(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 1000, 7000),
		srv(MID, 20, 2, 1, "unix:/m", 900, 1500),
		cli(MID, 20, 3, 4, "tcp:be", 1100, 1200),
		srv(MID, 20, 2, 1, "unix:/m", 1510, 7600),
		cli(MID, 20, 3, 4, "tcp:be", 7400, 7500),
		cli(FE, 10, 1, 2, "unix:/m", 7300, 7650),
	};
	struct bt_chains *c = bt_exchains_analyze(x, 6, NULL, 0, NULL);

	(void)state;
	check_windows(x, 6, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->xcounts.paired, 2);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].requests, 2);
	assert_int_equal(c->chains[0].nhops, 2);
	assert_int_equal(c->chains[0].hops[1].calls, 2);
	assert_int_equal(c->chains[0].hops[1].calls_min, 1);
	assert_int_equal(c->chains[0].hops[1].calls_max, 1);
	bt_chains_free(c);
}

/* An event loop with two requests out at once: 2 in flight, the share capped at 1. */
static void test_in_flight(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 100, 1100),
		srv(MID, 20, 2, 1, "unix:/m", 110, 1090),
		cli(FE, 10, 5, 6, "unix:/m", 200, 1200),
		srv(MID, 21, 6, 5, "unix:/m", 210, 1190),
	};
	struct bt_chain_opts o = { .duration_ns = 1000 };
	struct bt_chains *c = bt_exchains_analyze(x, 4, NULL, 0, &o);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].blocked_ns, 2000);
	assert_true(c->chains[0].in_flight == 2.0);
	assert_true(c->chains[0].share == 1.0);
	bt_chains_free(c);
	/* The clients not traced: no one's wall time, nothing in flight said. */
	c = bt_exchains_analyze(x + 1, 1, NULL, 0, &o);
	assert_non_null(c);
	assert_true(c->chains[0].in_flight == 0);
	bt_chains_free(c);
}

/*
 * The backend was followed during a request: its first call has no server
 * record, the next two do. The request's three calls are one hop to BE.
 */
static void test_server_followed_mid_request(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 100, 1000),
		srv(MID, 20, 2, 1, "unix:/m", 110, 990),
		cli(MID, 20, 3, 4, "tcp:be", 200, 300),
		cli(MID, 20, 3, 4, "tcp:be", 400, 500),
		srv(BE, 30, 4, 3, "tcp:be", 410, 490),
		cli(MID, 20, 3, 4, "tcp:be", 600, 700),
		srv(BE, 30, 4, 3, "tcp:be", 610, 690),
	};
	struct bt_chains *c = bt_exchains_analyze(x, 7, NULL, 0, NULL);

	(void)state;
	check_windows(x, 7, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].requests, 1);
	assert_int_equal(c->chains[0].hops[1].to.pid, BE);
	assert_int_equal(c->chains[0].hops[1].calls, 3);
	assert_int_equal(c->chains[0].hops[1].calls_min, 3);
	bt_chains_free(c);
}

/* The middle calls the backend, then a cache, one after the other: serial fan-out. */
static void test_serial_fanout(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 100, 1000),
		srv(MID, 20, 2, 1, "unix:/m", 110, 990),
		cli(MID, 20, 3, 4, "tcp:be", 200, 500),		/* 300 */
		srv(BE, 30, 4, 3, "tcp:be", 210, 490),
		cli(MID, 20, 5, 6, "tcp:cache", 600, 700),	/* 100 */
		srv(400, 40, 6, 5, "tcp:cache", 610, 690),
	};
	struct bt_chains *c = bt_exchains_analyze(x, 6, NULL, 0, NULL);

	(void)state;
	check_windows(x, 6, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->nchains, 2);	/* fe -> mid -> be, fe -> mid -> cache */
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(c->chains[i].requests, 1);
		assert_int_equal(c->chains[i].hops[0].fanout_calls, 1);
		assert_int_equal(c->chains[i].hops[0].fanout_max_peers, 2);
		assert_int_equal(c->chains[i].hops[0].fanout_save_ns, 100);
	}
	bt_chains_free(c);
}

/*
 * A server (php-fpm) that reads the last record of request 1 after it
 * answered: the kernel starts its exchange 2 there, before the client's
 * response 1 was read. Each call still pairs with its own exchange.
 */
static void test_request_tail_read_late(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 100, 1000),
		srv(MID, 20, 2, 1, "unix:/m", 110, 990),
		srv(MID, 20, 2, 1, "unix:/m", 995, 1900),	/* began with request 1's tail */
		cli(FE, 10, 1, 2, "unix:/m", 1200, 1910),
		srv(MID, 20, 2, 1, "unix:/m", 1905, 2800),
		cli(FE, 10, 1, 2, "unix:/m", 2100, 2810),
	};
	struct bt_chains *c = bt_exchains_analyze(x, 6, NULL, 0, NULL);

	(void)state;
	check_windows(x, 6, NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->xcounts.paired, 3);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].requests, 3);
	bt_chains_free(c);
}

/*
 * Forty requests through three tiers, 1 to 3 backend calls each, an
 * untraced client's requests and hand-offs to a worker in between:
 * folded in many windows (each request shorter than the horizon, the
 * trace many horizons long), the same chains as one batch, exactly.
 */
static void test_many_windows(void **state)
{
	struct bt_xchg x[40 * 8];
	struct bt_handoff h[40];
	size_t n = 0, nh = 0;
	struct bt_chains *c;

	(void)state;
	for (uint64_t r = 0; r < 40; r++) {
		uint64_t t = 1000 + r * 700, calls = 1 + r % 3;

		if (r % 5 == 4) {
			/* untraced client; the middle's worker 21 takes it from thread 20 */
			x[n++] = srv(MID, 21, 12, 11, "unix:/m", t, t + 500);
			x[n - 1].req_tid = 20;
			h[nh++] = (struct bt_handoff){ MID, 21, 20, t + 10, t + 20 };
			x[n++] = cli(MID, 21, 3, 4, "tcp:be", t + 100, t + 200);
			x[n++] = srv(BE, 30, 4, 3, "tcp:be", t + 110, t + 190);
			continue;
		}
		x[n++] = cli(FE, 10, 1, 2, "unix:/m", t, t + 600);
		x[n++] = srv(MID, 20, 2, 1, "unix:/m", t + 10, t + 590);
		for (uint64_t k = 0; k < calls; k++) {
			uint64_t u = t + 100 + k * 150;

			x[n++] = cli(MID, 20, 3, 4, "tcp:be", u, u + 100);
			x[n++] = srv(BE, 30, 4, 3, "tcp:be", u + 10, u + 90);
		}
	}
	/* What is in flight and a horizon or two of context: not the trace. */
	assert_true(check_windows(x, n, h, nh) < 40);
	c = bt_exchains_analyze(x, n, h, nh, NULL);
	assert_non_null(c);
	assert_int_equal(c->xcounts.roots, 40);
	assert_int_equal(c->nchains, 2);
	bt_chains_free(c);
}

/*
 * A high rate of short requests (160,000 records a second, each request
 * 20 us through three tiers, with one call) and, at long, a request of
 * 200 ms with a call inside it (its own threads), fed as a live trace
 * does with a budget: a fold each time the budget's records came.
 */
#define BUDGET_REQS	24000	/* 0.6 s */
#define BUDGET		16384
static struct bt_chains *feed_budget(struct bt_xchg *x, size_t n, size_t budget,
				     uint64_t *horizon, size_t *most)
{
	struct bt_xagg *a = bt_xagg_new(500 * 1000000ull);
	struct bt_chains *c;

	assert_non_null(a);
	bt_xagg_set_budget(a, budget);
	qsort(x, n, sizeof(*x), cmp_resp);
	*most = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(bt_xagg_add(a, &x[i]), 0);
		if (bt_xagg_window(a) > *most)
			*most = bt_xagg_window(a);
		if (budget && bt_xagg_added(a) >= budget) {
			assert_int_equal(bt_xagg_fold(a), 0);
			/* Past the first fold (the rate known), the window kept is about the budget. */
			if (i >= 2 * budget)
				assert_true(bt_xagg_window(a) <= budget + budget / 8);
		}
	}
	bt_xagg_horizon(a, horizon);
	c = bt_xagg_chains(a, NULL);
	assert_non_null(c);
	assert_int_equal(c->horizon_ns, *horizon);
	bt_xagg_free(a);
	return c;
}

static size_t budget_stream(struct bt_xchg *x, bool long_request)
{
	size_t n = 0;

	for (uint64_t r = 0; r < BUDGET_REQS; r++) {
		uint64_t t = 1000000 + r * 25000;

		x[n++] = cli(FE, 10, 1, 2, "unix:/m", t, t + 20000);
		x[n++] = srv(MID, 20, 2, 1, "unix:/m", t + 1000, t + 19000);
		x[n++] = cli(MID, 20, 3, 4, "tcp:be", t + 5000, t + 15000);
		x[n++] = srv(BE, 30, 4, 3, "tcp:be", t + 6000, t + 14000);
	}
	if (long_request) {
		uint64_t t = 300 * 1000000ull, ms = 1000000;

		x[n++] = cli(FE, 11, 5, 6, "unix:/m", t, t + 200 * ms);
		x[n++] = srv(MID, 22, 6, 5, "unix:/m", t + 1000, t + 200 * ms - 1000);
		x[n++] = cli(MID, 22, 7, 8, "tcp:be", t + 10 * ms, t + 11 * ms);
		x[n++] = srv(BE, 31, 8, 7, "tcp:be", t + 10 * ms + 1000, t + 11 * ms - 1000);
	}
	return n;
}

/*
 * The window's budget: the stream of short requests folds with a horizon
 * shortened to keep about the budget (the window never twice the budget
 * and a bit), and the chains are one batch's, exactly, nothing late.
 */
static void test_budget_window(void **state)
{
	struct bt_xchg *x = malloc(BUDGET_REQS * 4 * sizeof(*x));
	struct bt_chains *batch, *c;
	uint64_t horizon;
	size_t n, most;

	(void)state;
	assert_non_null(x);
	n = budget_stream(x, false);
	batch = bt_exchains_analyze(x, n, NULL, 0, NULL);
	assert_non_null(batch);
	c = feed_budget(x, n, BUDGET, &horizon, &most);
	/* 16384 records at 160,000 a second: 82 ms, context included. */
	assert_true(horizon >= BT_XAGG_HORIZON_FLOOR && horizon < 100 * 1000000ull);
	assert_true(most <= 2 * BUDGET + BUDGET / 8);
	assert_int_equal(c->xcounts.late, 0);
	assert_int_equal(c->xcounts.roots, BUDGET_REQS);
	assert_same(c, batch);
	bt_chains_free(c);
	/* Without a budget: the full horizon, 0.5 s of records at once. */
	c = feed_budget(x, n, 0, &horizon, &most);
	assert_int_equal(horizon, 500 * 1000000ull);
	assert_true(most > 4 * BUDGET);
	assert_same(c, batch);
	bt_chains_free(c);
	bt_chains_free(batch);
	free(x);
}

/*
 * Records that requested after a fold's cutoff wait for a later fold
 * (bt_xagg's pass looks at those that requested by it): a fold every
 * few records, so that cutoffs land inside requests, must give one
 * batch's chains exactly. Among the records: a client whose request
 * went out after its server answered (the clocks race: its server is
 * due at a cutoff the client is not), hand-offs picked up before the
 * wake they record and after it, connections that lose their last
 * record and come back (renumbered), a request 30 ms long with calls in
 * it (its records come long after later-starting ones), and calls whose
 * parent is found through a hand-off.
 */
#define LATE_ROUNDS	1500
static size_t late_stream(struct bt_xchg *x, struct bt_handoff *h, size_t *nh)
{
	const uint64_t us = 1000, ms = 1000 * us;
	size_t n = 0;

	*nh = 0;
	for (uint64_t r = 0; r < LATE_ROUNDS; r++) {
		uint64_t t = 1000 * ms + r * 200 * us + r % 7;
		uint64_t be = r % 11 == 3 ? 5000 + r : 3;	/* a connection of its own */

		if (r % 3 == 0) {
			/* The server answered before the client's send returned. */
			x[n++] = srv(MID, 20, 2, 1, "unix:/m", t + 5 * us, t + 100 * us);
			x[n++] = cli(FE, 10, 1, 2, "unix:/m", t + 120 * us, t + 150 * us);
		} else {
			x[n++] = cli(FE, 10, 1, 2, "unix:/m", t, t + 150 * us);
			x[n++] = srv(MID, 20, 2, 1, "unix:/m", t + 10 * us, t + 140 * us);
			x[n++] = cli(MID, 20, be, be + 1, "tcp:be", t + 30 * us, t + 120 * us);
			x[n++] = srv(BE, 30, be + 1, be, "tcp:be", t + 40 * us, t + 110 * us);
		}
		if (r % 5 == 2) {
			/* Untraced client; worker 21 takes it from thread 22 through a hand-off. */
			uint64_t wake = t + 25 * us;

			/* Picked up before the wake it records: just before, or long before. */
			if (r % 10 == 2)
				wake = t + 60 * us;
			else if (r % 20 == 7)
				wake = t + 40 * ms;
			x[n++] = srv(MID, 21, 12, 11, "unix:/p", t + 20 * us, t + 180 * us);
			x[n - 1].req_tid = 22;
			h[(*nh)++] = (struct bt_handoff){ MID, 21, 22, wake, t + 50 * us };
			x[n++] = cli(MID, 21, 13, 14, "tcp:be", t + 70 * us, t + 170 * us);
			x[n++] = srv(BE, 31, 14, 13, "tcp:be", t + 80 * us, t + 160 * us);
		}
		if (r % 400 == 100) {
			/* 30 ms long, a call at its start and one at its end. */
			x[n++] = cli(FE, 11, 21, 22, "unix:/m", t + 1, t + 30 * ms);
			x[n++] = srv(MID, 23, 22, 21, "unix:/m", t + 2, t + 30 * ms - 1);
			x[n++] = cli(MID, 23, 23, 24, "tcp:be", t + 3, t + 1 * ms);
			x[n++] = srv(BE, 32, 24, 23, "tcp:be", t + 4, t + 1 * ms - 1);
			x[n++] = cli(MID, 23, 23, 24, "tcp:be", t + 29 * ms, t + 29 * ms + 3);
			x[n++] = srv(BE, 32, 24, 23, "tcp:be", t + 29 * ms + 1, t + 29 * ms + 2);
		}
	}
	return n;
}

static int cmp_handoff_end(const void *pa, const void *pb)
{
	const struct bt_handoff *a = pa, *b = pb;

	return a->end_ns < b->end_ns ? -1 : a->end_ns > b->end_ns;
}

/* Records by completion and hand-offs by pick-up, as they come; a fold every budget records. */
static struct bt_chains *feed_late(const struct bt_xchg *x, size_t n, const struct bt_handoff *h,
				   size_t nh, size_t budget)
{
	struct bt_xagg *a = bt_xagg_new(500 * 1000000ull);
	struct bt_chains *c;
	size_t j = 0;

	assert_non_null(a);
	bt_xagg_set_budget(a, budget);
	for (size_t i = 0; i < n; i++) {
		for (; j < nh && h[j].end_ns <= x[i].resp_ns; j++)
			assert_int_equal(bt_xagg_add_handoff(a, &h[j]), 0);
		assert_int_equal(bt_xagg_add(a, &x[i]), 0);
		if (budget && bt_xagg_added(a) >= budget)
			assert_int_equal(bt_xagg_fold(a), 0);
	}
	for (; j < nh; j++)
		assert_int_equal(bt_xagg_add_handoff(a, &h[j]), 0);
	c = bt_xagg_chains(a, NULL);
	assert_non_null(c);
	bt_xagg_free(a);
	return c;
}

static void test_late_starters_wait(void **state)
{
	static const size_t budgets[] = { 1, 3, 16, 64, 512 };
	struct bt_xchg *x = malloc(LATE_ROUNDS * 16 * sizeof(*x));
	struct bt_handoff *h = malloc(LATE_ROUNDS * sizeof(*h));
	struct bt_chains *batch, *c;
	size_t n, nh;

	(void)state;
	assert_non_null(x);
	assert_non_null(h);
	n = late_stream(x, h, &nh);
	qsort(x, n, sizeof(*x), cmp_resp);
	qsort(h, nh, sizeof(*h), cmp_handoff_end);
	batch = bt_exchains_analyze(x, n, h, nh, NULL);
	assert_non_null(batch);
	assert_int_equal(batch->xcounts.late, 0);
	/*
	 * Every request a root (4 long ones), the hand-offs' calls nested
	 * through them, but those after a wake 40 ms on: the waker's last
	 * read before it is another request's, which began after the call.
	 */
	assert_int_equal(batch->xcounts.roots, LATE_ROUNDS + nh + 4 + LATE_ROUNDS / 20);
	assert_true(batch->nchains >= 3);
	for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
		c = feed_late(x, n, h, nh, budgets[b]);
		assert_same(c, batch);
		bt_chains_free(c);
	}
	bt_chains_free(batch);
	free(h);
	free(x);
}

/*
 * The window's sorts take times that come nearly in order by insertion
 * and give up for the radix sort when they do not: records in reverse
 * (every one out of place) and in pairs swapped (a move each) make the
 * chains records in order make, exactly.
 */
static void test_sort_any_order(void **state)
{
	struct bt_xchg *x = malloc((BUDGET_REQS * 4 + 4) * sizeof(*x));
	struct bt_xchg *y = malloc((BUDGET_REQS * 4 + 4) * sizeof(*y));
	struct bt_chains *batch, *c;
	size_t n;

	(void)state;
	assert_non_null(x);
	assert_non_null(y);
	n = budget_stream(x, true);
	qsort(x, n, sizeof(*x), cmp_resp);
	batch = bt_exchains_analyze(x, n, NULL, 0, NULL);
	assert_non_null(batch);
	for (size_t i = 0; i < n; i++)
		y[i] = x[n - 1 - i];
	c = bt_exchains_analyze(y, n, NULL, 0, NULL);
	assert_non_null(c);
	assert_same(c, batch);
	bt_chains_free(c);
	for (size_t i = 0; i < n; i++)
		y[i] = x[i ^ 1];
	c = bt_exchains_analyze(y, n, NULL, 0, NULL);
	assert_non_null(c);
	assert_same(c, batch);
	bt_chains_free(c);
	bt_chains_free(batch);
	free(y);
	free(x);
}

/*
 * Thread names: three conversations' records interleaved (the window
 * remembers the last two names it interned), a name the length of the
 * whole field, and one with bytes after its NUL: each hop's ends show
 * their own thread's name.
 */
static void test_thread_names(void **state)
{
	static const char *names[3][2] = {
		{ "front", "back" }, { "fifteen-chars-x", "back" }, { "front", "other" },
	};
	struct bt_xchg x[3 * 2 * 3];
	struct bt_chains *c;
	size_t n = 0;

	(void)state;
	for (uint64_t r = 0; r < 3; r++) {
		for (uint32_t k = 0; k < 3; k++) {
			uint64_t t = 1000 + r * 100 + k * 10;
			struct bt_xchg *cl = &x[n++], *sv = &x[n++];

			*cl = cli(FE + k, 10 + k, 1 + 2 * k, 2 + 2 * k, "unix:/m", t, t + 9);
			*sv = srv(MID + k, 20 + k, 2 + 2 * k, 1 + 2 * k, "unix:/m", t + 1, t + 8);
			strncpy(cl->thread, names[k][0], sizeof(cl->thread));
			strncpy(sv->thread, names[k][1], sizeof(sv->thread));
			if (k == 2)
				memcpy(sv->thread + 6, "junk", 4);	/* after "other"'s NUL */
		}
	}
	c = bt_exchains_analyze(x, n, NULL, 0, NULL);
	assert_non_null(c);
	assert_int_equal(c->nchains, 3);
	for (size_t i = 0; i < c->nchains; i++) {
		const struct bt_chain_hop *h = &c->chains[i].hops[0];
		uint32_t k = h->from.tid - 10;

		assert_true(k < 3);
		assert_int_equal(h->to.tid, 20 + k);
		assert_string_equal(h->from.thread, names[k][0]);
		assert_string_equal(h->to.thread, names[k][1]);
	}
	bt_chains_free(c);
}

/*
 * A request of 200 ms that makes a call, among the stream: longer than
 * the shortened horizon, its call is folded as a root before it comes,
 * and it is counted late (never silently). Without the budget (the
 * 500 ms horizon) it nests: nothing late, one more two-hop request.
 */
static void test_budget_long_request_late(void **state)
{
	struct bt_xchg *x = malloc((BUDGET_REQS * 4 + 4) * sizeof(*x));
	struct bt_chains *c;
	uint64_t horizon;
	size_t n, most;

	(void)state;
	assert_non_null(x);
	n = budget_stream(x, true);
	c = feed_budget(x, n, BUDGET, &horizon, &most);
	assert_true(horizon < 200 * 1000000ull);
	/* Its two records that came after the call was folded: the middle's and the front's. */
	assert_int_equal(c->xcounts.late, 2);
	bt_chains_free(c);
	c = feed_budget(x, n, 0, &horizon, &most);
	assert_int_equal(c->xcounts.late, 0);
	assert_int_equal(c->xcounts.roots, BUDGET_REQS + 1);
	assert_int_equal(find(c, 2)->requests, BUDGET_REQS + 1);
	bt_chains_free(c);
	free(x);
}

/*
 * Hand-offs alone for a second (a futex pool's wakes: 100,000 a second,
 * no exchange record): they fold by themselves at the budget, the window
 * never twice the budget; a pool's request that comes after them still
 * nests its worker's call through its own hand-off, as in one batch.
 */
static void test_budget_handoffs_alone(void **state)
{
	enum { NH = 100000 };
	struct bt_handoff *h = malloc((NH + 1) * sizeof(*h));
	uint64_t t = 2000 * 1000000ull;
	struct bt_xchg x[] = {
		srv(MID, 21, 2, 1, "unix:/m", t + 100, t + 900),
		cli(MID, 21, 3, 4, "tcp:be", t + 300, t + 500),
	};
	struct bt_xagg *a = bt_xagg_new(500 * 1000000ull);
	struct bt_chains *c, *batch;
	size_t most = 0;

	(void)state;
	assert_non_null(h);
	assert_non_null(a);
	bt_xagg_set_budget(a, BUDGET);
	for (size_t i = 0; i < NH; i++) {
		uint64_t w = 1000000 + i * 10000;

		h[i] = (struct bt_handoff){ MID, 40, 41, w, w + 5000 };
		assert_int_equal(bt_xagg_add_handoff(a, &h[i]), 0);
		if (bt_xagg_window(a) > most)
			most = bt_xagg_window(a);
		if (i % BUDGET == BUDGET - 1)
			assert_int_equal(bt_xagg_fold(a), 0);
	}
	assert_true(most <= 2 * BUDGET + BUDGET / 8);
	h[NH] = (struct bt_handoff){ MID, 21, 20, t + 150, t + 200 };
	x[0].req_tid = 20;	/* the main thread read it, the worker answered */
	assert_int_equal(bt_xagg_add_handoff(a, &h[NH]), 0);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(bt_xagg_add(a, &x[i]), 0);
	c = bt_xagg_chains(a, NULL);
	batch = bt_exchains_analyze(x, 2, h, NH + 1, NULL);
	assert_non_null(c);
	assert_non_null(batch);
	assert_int_equal(c->xcounts.late, 0);
	assert_int_equal(c->xcounts.nested, 1);
	assert_non_null(find(c, 2));
	assert_same(c, batch);
	bt_chains_free(c);
	bt_chains_free(batch);
	bt_xagg_free(a);
	free(h);
}

/*
 * An interval table while a request is open (its call came back, its
 * response not yet): the snapshot shows what was folded, nothing late,
 * and the request's call still nests in it at the end. Folding all at
 * that moment (as interval tables once did) makes the call a root of its
 * own and the request a chain of one hop.
 */
static void test_snapshot_open_request(void **state)
{
	struct bt_xchg x[] = {
		srv(BE, 30, 4, 3, "tcp:be", 210, 390),
		cli(MID, 20, 3, 4, "tcp:be", 200, 400),
		srv(MID, 20, 2, 1, "unix:/m", 110, 990),
		cli(FE, 10, 1, 2, "unix:/m", 100, 1000),
	};
	struct bt_xagg *a = bt_xagg_new(2000), *b = bt_xagg_new(2000);
	struct bt_chains *now, *c, *d;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(bt_xagg_add(a, &x[i]), 0);
		assert_int_equal(bt_xagg_add(b, &x[i]), 0);
	}
	now = bt_xagg_folded(a, NULL);
	assert_non_null(now);
	assert_int_equal(now->nchains, 0);
	assert_int_equal(now->xcounts.late, 0);
	assert_int_equal(bt_xagg_window(a), 2);
	bt_chains_free(now);
	bt_chains_free(bt_xagg_chains(b, NULL));
	for (int i = 2; i < 4; i++) {
		assert_int_equal(bt_xagg_add(a, &x[i]), 0);
		assert_int_equal(bt_xagg_add(b, &x[i]), 0);
	}
	c = bt_xagg_chains(a, NULL);
	assert_non_null(c);
	assert_int_equal(c->xcounts.late, 0);
	assert_int_equal(c->xcounts.roots, 1);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].nhops, 2);
	assert_int_equal(c->chains[0].hops[1].calls, 1);
	d = bt_xagg_chains(b, NULL);
	assert_non_null(d);
	assert_int_equal(d->xcounts.roots, 2);
	assert_int_equal(d->chains[0].nhops, 1);
	bt_chains_free(c);
	bt_chains_free(d);
	bt_xagg_free(a);
	bt_xagg_free(b);
}

/* The pool MID, MID + 1 is one node; BE is the far end the map names for "tcp:be". */
static uint32_t pool_node(uint32_t pid, uint32_t from, uint8_t kind, const char *channel,
			  void *ctx)
{
	(void)kind;
	(void)ctx;
	if (!pid)
		return from == MID && !strcmp(channel, "tcp:be") ? BE : 0;
	return pid == MID + 1 ? MID : pid;
}

/*
 * Two requests through two workers of one pool: the first worker makes 1
 * call to BE, the second 3, to a BE not traced then (its records are
 * missing). Named as the map names them, the two are one chain, the
 * distributions merged; unnamed, two.
 */
static void test_pool_members_one_chain(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 100, 1000),
		srv(MID, 20, 2, 1, "unix:/m", 110, 990),
		cli(MID, 20, 3, 4, "tcp:be", 200, 400),
		srv(BE, 30, 4, 3, "tcp:be", 210, 390),
		cli(FE, 10, 5, 6, "unix:/m", 2000, 3000),
		srv(MID + 1, 21, 6, 5, "unix:/m", 2010, 2990),
		cli(MID + 1, 21, 7, 8, "tcp:be", 2100, 2200),
		cli(MID + 1, 21, 7, 8, "tcp:be", 2300, 2400),
		cli(MID + 1, 21, 7, 8, "tcp:be", 2500, 2600),
	};
	struct bt_chain_opts o = { .node = pool_node };
	struct bt_chains *c = bt_exchains_analyze(x, 9, NULL, 0, NULL);
	const struct bt_chain *ch;

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->nchains, 2);
	bt_chains_free(c);

	c = bt_exchains_analyze(x, 9, NULL, 0, &o);
	assert_non_null(c);
	assert_int_equal(c->nchains, 1);
	ch = &c->chains[0];
	assert_int_equal(ch->requests, 2);
	assert_int_equal(ch->blocked_ns, 900 + 1000);
	assert_int_equal(ch->root_threads, 1);
	assert_int_equal(ch->hops[0].from.pid, FE);
	assert_int_equal(ch->hops[0].from.procs, 1);
	assert_int_equal(ch->hops[0].to.pid, MID);
	assert_int_equal(ch->hops[0].to.procs, 2);
	assert_int_equal(ch->hops[0].to.pids[0], MID);
	assert_int_equal(ch->hops[0].to.pids[1], MID + 1);
	assert_int_equal(ch->hops[0].to.threads, 2);
	assert_int_equal(ch->hops[1].from.pid, MID);
	assert_int_equal(ch->hops[1].from.procs, 2);
	/* BE answered only the first worker's call as a traced process */
	assert_int_equal(ch->hops[1].to.pid, BE);
	assert_int_equal(ch->hops[1].to.procs, 1);
	assert_int_equal(ch->hops[1].to.pids[0], BE);
	assert_int_equal(ch->hops[1].calls, 4);
	assert_int_equal(ch->hops[1].calls_min, 1);
	assert_int_equal(ch->hops[1].calls_max, 3);
	/* the lower median of {1, 3} */
	assert_int_equal(ch->hops[1].calls_p50, 1);
	assert_int_equal(ch->hops[1].blocked_ns, 200 + 3 * 100);
	assert_int_equal(ch->hops[1].p50_ns, 100);
	bt_chains_free(c);
}

/* Two tiers of one program the pool rule took for one pool: a hop between them splits it. */
static void test_pool_of_two_tiers_split(void **state)
{
	struct bt_xchg x[] = {
		cli(FE, 10, 1, 2, "unix:/m", 100, 1000),
		srv(MID, 20, 2, 1, "unix:/m", 110, 990),
		cli(MID, 20, 3, 4, "tcp:be", 200, 400),
		srv(MID + 1, 21, 4, 3, "tcp:be", 210, 390),
	};
	struct bt_chain_opts o = { .node = pool_node };
	struct bt_chains *c = bt_exchains_analyze(x, 4, NULL, 0, &o);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->nchains, 1);
	assert_int_equal(c->chains[0].nhops, 2);
	assert_int_equal(c->chains[0].hops[0].to.pid, MID);
	assert_int_equal(c->chains[0].hops[1].from.pid, MID);
	assert_int_equal(c->chains[0].hops[1].to.pid, MID + 1);
	assert_int_equal(c->chains[0].hops[1].to.procs, 1);
	assert_int_equal(c->chains[0].hops[1].to.pids[0], MID + 1);
	bt_chains_free(c);
}

static void test_bad_input(void **state)
{
	struct bt_xchg x = cli(FE, 0, 1, 2, "unix:/m", 5, 1);
	struct bt_chains *c = bt_exchains_analyze(&x, 1, NULL, 0, NULL);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->xcounts.invalid, 1);
	assert_int_equal(c->nchains, 0);
	bt_chains_free(c);
	assert_null(bt_exchains_analyze(NULL, 1, NULL, 0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_rule),
		cmocka_unit_test(test_event_loop_interleaved),
		cmocka_unit_test(test_event_loop_batch_ambiguous),
		cmocka_unit_test(test_contradicted_other_open_request),
		cmocka_unit_test(test_contradiction_rejected),
		cmocka_unit_test(test_pool_handoff),
		cmocka_unit_test(test_handoff_relay),
		cmocka_unit_test(test_pool_handoffs_interleaved),
		cmocka_unit_test(test_pairing_clock_order),
		cmocka_unit_test(test_pairing_slow_client_read),
		cmocka_unit_test(test_in_flight),
		cmocka_unit_test(test_server_followed_mid_request),
		cmocka_unit_test(test_serial_fanout),
		cmocka_unit_test(test_request_tail_read_late),
		cmocka_unit_test(test_many_windows),
		cmocka_unit_test(test_budget_window),
		cmocka_unit_test(test_budget_long_request_late),
		cmocka_unit_test(test_budget_handoffs_alone),
		cmocka_unit_test(test_late_starters_wait),
		cmocka_unit_test(test_sort_any_order),
		cmocka_unit_test(test_thread_names),
		cmocka_unit_test(test_snapshot_open_request),
		cmocka_unit_test(test_pool_members_one_chain),
		cmocka_unit_test(test_pool_of_two_tiers_split),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
