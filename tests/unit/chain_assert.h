/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One hop of two chains, field by field: the episode and the exchange
 * chain tests both check that folding in windows changes nothing a
 * report shows. Include after <cmocka.h>.
 */
#ifndef BT_CHAIN_ASSERT_H
#define BT_CHAIN_ASSERT_H

#include "analyze/chains.h"

static inline void assert_same_hop(const struct bt_chain_hop *p, const struct bt_chain_hop *q)
{
	assert_string_equal(p->channel, q->channel);
	assert_int_equal(p->kind, q->kind);
	assert_int_equal(p->from.pid, q->from.pid);
	assert_string_equal(p->from.comm, q->from.comm);
	assert_int_equal(p->from.threads, q->from.threads);
	assert_int_equal(p->to.pid, q->to.pid);
	assert_string_equal(p->to.comm, q->to.comm);
	assert_int_equal(p->to.threads, q->to.threads);
	assert_int_equal(p->calls, q->calls);
	assert_int_equal(p->ambiguous, q->ambiguous);
	assert_true(p->calls_per_episode == q->calls_per_episode);
	assert_int_equal(p->calls_min, q->calls_min);
	assert_int_equal(p->calls_p50, q->calls_p50);
	assert_int_equal(p->calls_max, q->calls_max);
	assert_int_equal(p->blocked_ns, q->blocked_ns);
	assert_int_equal(p->p50_ns, q->p50_ns);
	assert_int_equal(p->queue_ns, q->queue_ns);
	assert_int_equal(p->wait_ns, q->wait_ns);
	assert_int_equal(p->other_ns, q->other_ns);
	assert_int_equal(p->self_ns, q->self_ns);
	assert_int_equal(p->fanout_calls, q->fanout_calls);
	assert_int_equal(p->fanout_save_ns, q->fanout_save_ns);
	assert_int_equal(p->fanout_max_peers, q->fanout_max_peers);
}

#endif /* BT_CHAIN_ASSERT_H */
