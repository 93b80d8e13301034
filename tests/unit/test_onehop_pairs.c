// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * onehop_pairs: a connection's server leaf and its client's root pair as
 * their records come, summed as the kernel's one-hop counts are; a half
 * that cannot pair goes back to be folded, never lost, never twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/onehop_pairs.h"
#include "lat_slot.h"

#define CLIENT_END	111
#define SERVER_END	222

/*
 * A half of a one-hop tree on the connection: a client's root (request
 * sent at req, response read at resp, ns) or its server's leaf (the
 * request read at req, answered at resp).
 */
static struct bt_exchange_ev half(bool client, uint64_t req, uint64_t resp)
{
	struct bt_exchange_ev e = {
		.pid = client ? 10 : 20, .tid = client ? 11 : 21, .req_tid = client ? 11 : 21,
		.role = client ? BT_ROLE_CLIENT : BT_ROLE_SERVER, .kind = BT_KIND_UNIX_STREAM,
		.type = BT_XREC_EXCHANGE, .flags = client ? BT_XREC_ROOT : BT_XREC_LEAF,
		.chan = client ? 5 : 6, .end_a = client ? CLIENT_END : SERVER_END,
		.end_b = client ? SERVER_END : CLIENT_END, .req_ns = req, .resp_ns = resp,
	};

	strcpy(e.comm, client ? "client" : "server");
	return e;
}

static struct bt_exchange_ev root(uint64_t req, uint64_t resp)
{
	return half(true, req, resp);
}

static struct bt_exchange_ev leaf(uint64_t req, uint64_t resp)
{
	return half(false, req, resp);
}

static int offer(struct bt_pairs *p, struct bt_exchange_ev e, bool *spilled,
		 struct bt_exchange_ev *spill)
{
	return bt_pairs_offer(p, &e, spill, spilled);
}

static void test_leaf_then_root_pair(void **state)
{
	struct bt_pairs *p = bt_pairs_new();
	struct bt_exchange_ev spill;
	const struct bt_onehop_row *r;
	bool spilled;
	size_t n;

	(void)state;
	assert_non_null(p);
	/*
	 * Two pairs: 1000 ns and 3000 ns of latency, 400 and 900 of service;
	 * a leaf between them answered after its root's response.
	 */
	assert_int_equal(offer(p, leaf(1100, 1500), &spilled, &spill), 1);
	assert_false(spilled);
	assert_int_equal(offer(p, root(1000, 2000), &spilled, &spill), 1);
	assert_false(spilled);
	assert_int_equal(offer(p, leaf(3000, 8000), &spilled, &spill), 1);
	assert_int_equal(offer(p, root(2500, 5500), &spilled, &spill), 0);
	/* That leaf answered after this response: not this exchange's, folded both. */
	assert_true(spilled);
	assert_int_equal(spill.req_ns, 3000);
	assert_int_equal(offer(p, leaf(6000, 6900), &spilled, &spill), 1);
	assert_int_equal(offer(p, root(5800, 8800), &spilled, &spill), 1);
	r = bt_pairs_rows(p, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].key.client, 10);
	assert_int_equal(r[0].key.client_tid, 11);
	assert_int_equal(r[0].key.srv, 20);
	assert_int_equal(r[0].key.srv_tid, 21);
	assert_int_equal(r[0].key.chan, 5);
	assert_int_equal(r[0].key.slot, bt_lat_slot(1000));
	assert_string_equal(r[0].key.client_comm, "client");
	assert_string_equal(r[0].key.srv_comm, "server");
	assert_int_equal(r[0].val.calls, 1);
	assert_int_equal(r[0].val.lat_ns, 1000);
	assert_int_equal(r[0].val.svc_ns, 400);
	assert_int_equal(r[1].key.slot, bt_lat_slot(3000));
	assert_int_equal(r[1].val.lat_ns, 3000);
	assert_int_equal(r[1].val.svc_ns, 900);
	assert_int_equal(bt_pairs_count(p), 2);
	/* Taken into the chains: the sums start again, the count stays. */
	bt_pairs_taken(p);
	bt_pairs_rows(p, &n);
	assert_int_equal(n, 0);
	assert_int_equal(bt_pairs_count(p), 2);
	bt_pairs_free(p);
}

static void test_same_slot_sums(void **state)
{
	struct bt_pairs *p = bt_pairs_new();
	struct bt_exchange_ev spill;
	const struct bt_onehop_row *r;
	bool spilled;
	size_t n;

	(void)state;
	/* Latencies of 100,000-100,004 ns: one slot (1,024 ns wide there). */
	for (uint64_t t = 0; t < 5; t++) {
		uint64_t at = 1000000 * (t + 1);

		assert_int_equal(offer(p, leaf(at + 10, at + 20), &spilled, &spill), 1);
		assert_int_equal(offer(p, root(at, at + 100000 + t), &spilled, &spill), 1);
	}
	r = bt_pairs_rows(p, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].key.slot, bt_lat_slot(100000));
	assert_int_equal(r[0].val.calls, 5);
	assert_int_equal(r[0].val.lat_ns, 500010);
	assert_int_equal(r[0].val.svc_ns, 50);
	assert_int_equal(r[0].val.min_ns, 100000);
	assert_int_equal(r[0].val.max_ns, 100004);
	bt_pairs_free(p);
}

static void test_unpaired_halves_go_back(void **state)
{
	struct bt_pairs *p = bt_pairs_new();
	struct bt_exchange_ev spill, e;
	bool spilled;
	size_t n;

	(void)state;
	/* A root with no leaf held, an unmarked record: folded as they are. */
	assert_int_equal(offer(p, root(1000, 2000), &spilled, &spill), 0);
	assert_false(spilled);
	e = leaf(1100, 1500);
	e.flags = 0;
	assert_int_equal(offer(p, e, &spilled, &spill), 0);
	e = root(3000, 4000);
	e.flags = 0;
	assert_int_equal(offer(p, e, &spilled, &spill), 0);
	/* A leaf whose client is not traced: the next one sends it back. */
	assert_int_equal(offer(p, leaf(5000, 5100), &spilled, &spill), 1);
	assert_false(spilled);
	assert_int_equal(offer(p, leaf(6000, 6100), &spilled, &spill), 1);
	assert_true(spilled);
	assert_int_equal(spill.req_ns, 5000);
	/*
	 * A root the leaf answered (after the last root's response, 2000),
	 * but whose times no record would pass (its response before its
	 * request): both back.
	 */
	e = root(6500, 6400);
	assert_int_equal(offer(p, e, &spilled, &spill), 0);
	assert_true(spilled);
	assert_int_equal(spill.req_ns, 6000);
	/* Another connection's leaf never pairs with this one's root. */
	e = leaf(7000, 7100);
	e.end_a = 999;
	assert_int_equal(offer(p, e, &spilled, &spill), 1);
	assert_int_equal(offer(p, root(6900, 7200), &spilled, &spill), 0);
	assert_false(spilled);
	bt_pairs_rows(p, &n);
	assert_int_equal(n, 0);
	assert_int_equal(bt_pairs_count(p), 0);
	bt_pairs_free(p);
}

static int flushed_n;
static uint64_t flushed_req;

static int to_fold(void *ctx, const struct bt_exchange_ev *e)
{
	(void)ctx;
	flushed_n++;
	flushed_req = e->req_ns;
	return 0;
}

static void test_flush_folds_held_and_forgets_idle(void **state)
{
	struct bt_pairs *p = bt_pairs_new();
	struct bt_exchange_ev spill;
	bool spilled;

	(void)state;
	/* The client's previous response was at 2000. */
	assert_int_equal(offer(p, root(1000, 2000), &spilled, &spill), 0);
	assert_int_equal(offer(p, leaf(3000, 3100), &spilled, &spill), 1);
	/* At a fold, the held leaf goes to be folded (its root may have gone before it). */
	assert_int_equal(bt_pairs_flush(p, to_fold, NULL), 0);
	assert_int_equal(flushed_n, 1);
	assert_int_equal(flushed_req, 3000);
	/* Then the root finds nothing held. */
	assert_int_equal(offer(p, root(2900, 3300), &spilled, &spill), 0);
	assert_false(spilled);
	assert_int_equal(bt_pairs_flush(p, to_fold, NULL), 0);
	assert_int_equal(flushed_n, 1);
	/*
	 * Named since the flush before, the connection is kept: its last
	 * response (3300) still rules out a leaf read before it.
	 */
	assert_int_equal(offer(p, leaf(3200, 3250), &spilled, &spill), 1);
	assert_int_equal(offer(p, root(3400, 3500), &spilled, &spill), 0);
	assert_true(spilled);
	/* Two flushes without a record: forgotten, its response with it. */
	assert_int_equal(bt_pairs_flush(p, to_fold, NULL), 0);
	assert_int_equal(bt_pairs_flush(p, to_fold, NULL), 0);
	assert_int_equal(offer(p, leaf(3450, 3480), &spilled, &spill), 1);
	assert_int_equal(offer(p, root(3440, 3600), &spilled, &spill), 1);
	assert_int_equal(bt_pairs_count(p), 1);
	bt_pairs_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf_then_root_pair),
		cmocka_unit_test(test_same_slot_sums),
		cmocka_unit_test(test_unpaired_halves_go_back),
		cmocka_unit_test(test_flush_folds_held_and_forgets_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
