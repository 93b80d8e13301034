// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pairing at scale, through the indexes of one analysis: thousands of
 * rows whose keys collide (one 4-tuple reused by later connections, many
 * sockets on one port, many rows per process) must each pair with exactly
 * the process a scan of every row would name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/peers.h"
#include "analyze/services.h"
#include "discover/procscan.h"
#include "testutil.h"

#define TCP_CONNS	1000	/* traced at both ends: 2,000 rows */
#define TCP_REUSE	500	/* connection i and i + 500 share one 4-tuple */
#define TCP_UNTRACED	100	/* server end known from sock_diag and /proc only */
#define UNIX_PAIRS	200
#define PIPES		200	/* the second half with no reader row: /proc holders */

#define CLIENT_CH(i)	(100000u + (i))
#define SERVER_CH(i)	(200000u + (i))
#define UNTRACED_CH(i)	(300000u + (i))
#define UNIX_A(k)	(500000u + (k))
#define UNIX_B(k)	(600000u + (k))
#define PIPE_INO(k)	(700000u + (k))

static uint32_t tcp_client(unsigned int i) { return 100 + (i / 100) % 10; }
static uint32_t tcp_server(unsigned int i) { return 200 + (i / 250) % 4; }
static uint32_t unix_a(unsigned int k) { return 300 + k % 5; }
static uint32_t unix_b(unsigned int k) { return 400 + k % 7; }
static uint32_t pipe_writer(unsigned int k) { return 500 + k % 3; }
static uint32_t pipe_reader(unsigned int k) { return 600 + k % 4; }
#define UNTRACED_SERVER	700

static void build_model(struct bt_model *m)
{
	struct bt_stats st = tu_stats(1, 64, 0);
	struct bt_chan_info u = tu_unix(BT_KIND_UNIX_STREAM, 0, "");
	char name[16];

	for (uint32_t pid = 100; pid <= UNTRACED_SERVER; pid++) {
		snprintf(name, sizeof(name), "p%u", pid);
		tu_proc(m, pid, name);
	}
	for (unsigned int i = 0; i < TCP_CONNS; i++) {
		unsigned int port = 10000 + i % TCP_REUSE;
		struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", port,
						"127.0.0.1", 5000);
		struct bt_chan_info s = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 5000,
						"127.0.0.1", port);

		/* The kernel's word on the far socket tells the reused tuples apart. */
		c.peer_ino = SERVER_CH(i);
		s.peer_ino = CLIENT_CH(i);
		tu_row(m, tcp_client(i), BT_KIND_TCP, BT_DIR_SEND, CLIENT_CH(i), &st, &c);
		tu_row(m, tcp_server(i), BT_KIND_TCP, BT_DIR_RECV, SERVER_CH(i), &st, &s);
	}
	/* A listener on the untraced server's port is not the other end of anything. */
	tu_sock_inet(m, 399999, IPPROTO_TCP, AF_INET, "0.0.0.0", 6000, "0.0.0.0", 0);
	tu_holder(m, 399999, UNTRACED_SERVER + 1, BT_FD_SOCKET, 0);
	for (unsigned int i = 0; i < TCP_UNTRACED; i++) {
		struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 20000 + i,
						"127.0.0.1", 6000);

		tu_row(m, tcp_client(i), BT_KIND_TCP, BT_DIR_SEND, UNTRACED_CH(i), &st, &c);
		tu_sock_inet(m, 400000 + i, IPPROTO_TCP, AF_INET, "127.0.0.1", 6000,
			     "127.0.0.1", 20000 + i);
		tu_holder(m, 400000 + i, UNTRACED_SERVER, BT_FD_SOCKET, 0);
	}
	for (unsigned int k = 0; k < UNIX_PAIRS; k++) {
		struct bt_chan_info a = tu_unix(BT_KIND_UNIX_STREAM, UNIX_B(k), "");

		/* b's row knows no peer: sock_diag's fact on its socket does. */
		tu_row(m, unix_a(k), BT_KIND_UNIX_STREAM, BT_DIR_SEND, UNIX_A(k), &st, &a);
		tu_row(m, unix_b(k), BT_KIND_UNIX_STREAM, BT_DIR_RECV, UNIX_B(k), &st, &u);
		tu_sock_unix(m, UNIX_B(k), UNIX_A(k));
	}
	for (unsigned int k = 0; k < PIPES; k++) {
		tu_row(m, pipe_writer(k), BT_KIND_PIPE, BT_DIR_SEND, PIPE_INO(k), &st, NULL);
		if (k < PIPES / 2)
			tu_row(m, pipe_reader(k), BT_KIND_PIPE, BT_DIR_RECV, PIPE_INO(k), &st,
			       NULL);
		else
			tu_holder(m, PIPE_INO(k), pipe_reader(k), BT_FD_PIPE, BT_END_READ);
	}
}

/* The one far end that row (pid, kind, dir, chan) pairs with. */
static uint32_t peer_of(struct bt_model *m, uint32_t pid, unsigned int kind, unsigned int dir,
			uint64_t chan)
{
	const struct bt_proc *p = bt_model_find(m, pid);
	struct bt_peer peers[BT_PEERS_MAX];

	assert_non_null(p);
	for (size_t j = 0; j < p->nrows; j++) {
		const struct bt_row *r = &p->rows[j];

		if (r->key.kind != kind || r->key.dir != dir || r->key.chan != chan)
			continue;
		assert_int_equal(bt_row_peers(m, p, r, peers, BT_PEERS_MAX), 1);
		return peers[0].pid;
	}
	fail_msg("no row %llu in pid %u", (unsigned long long)chan, pid);
	return 0;
}

static void test_many_rows_pair_exactly(void **state)
{
	struct bt_model *m = *state;
	struct bt_edges e;
	uint64_t tcp = 0, unix_conns = 0, pipes = 0;

	build_model(m);
	assert_int_equal(bt_peer_index_begin(m), 0);
	assert_int_equal(bt_peer_index_begin(m), -EBUSY);
	for (unsigned int i = 0; i < TCP_CONNS; i++) {
		assert_int_equal(peer_of(m, tcp_client(i), BT_KIND_TCP, BT_DIR_SEND, CLIENT_CH(i)),
				 tcp_server(i));
		assert_int_equal(peer_of(m, tcp_server(i), BT_KIND_TCP, BT_DIR_RECV, SERVER_CH(i)),
				 tcp_client(i));
	}
	for (unsigned int i = 0; i < TCP_UNTRACED; i++)
		assert_int_equal(peer_of(m, tcp_client(i), BT_KIND_TCP, BT_DIR_SEND,
					 UNTRACED_CH(i)), UNTRACED_SERVER);
	for (unsigned int k = 0; k < UNIX_PAIRS; k++) {
		assert_int_equal(peer_of(m, unix_a(k), BT_KIND_UNIX_STREAM, BT_DIR_SEND, UNIX_A(k)),
				 unix_b(k));
		assert_int_equal(peer_of(m, unix_b(k), BT_KIND_UNIX_STREAM, BT_DIR_RECV, UNIX_B(k)),
				 unix_a(k));
	}
	for (unsigned int k = 0; k < PIPES; k++)
		assert_int_equal(peer_of(m, pipe_writer(k), BT_KIND_PIPE, BT_DIR_SEND, PIPE_INO(k)),
				 pipe_reader(k));

	/* Every sending row is one connection of exactly one edge. */
	assert_int_equal(bt_edges_build(m, &e), 0);
	bt_peer_index_end();
	for (size_t i = 0; i < e.n; i++) {
		for (size_t c = 0; c < e.v[i].nconns; c++)
			assert_int_equal(e.v[i].conns[c].from, e.v[i].from);
		if (e.v[i].kind == BT_KIND_TCP)
			tcp += e.v[i].nconns;
		else if (e.v[i].kind == BT_KIND_UNIX_STREAM)
			unix_conns += e.v[i].nconns;
		else if (e.v[i].kind == BT_KIND_PIPE)
			pipes += e.v[i].nconns;
	}
	assert_int_equal(tcp, TCP_CONNS + TCP_UNTRACED);
	assert_int_equal(unix_conns, UNIX_PAIRS);
	assert_int_equal(pipes, PIPES);
	bt_edges_free(&e);
}

/* Outside an analysis each question indexes the model as it is now. */
static void test_without_an_analysis_the_model_may_change(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 64, 0);

	tu_proc(m, 1, "w");
	tu_proc(m, 2, "r");
	tu_proc(m, 3, "r2");
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 9, &st, NULL);
	tu_holder(m, 9, 3, BT_FD_PIPE, BT_END_READ);
	assert_int_equal(peer_of(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 9), 3);
	tu_row(m, 2, BT_KIND_PIPE, BT_DIR_RECV, 9, &st, NULL);
	assert_int_equal(peer_of(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 9), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_many_rows_pair_exactly, tu_model_setup,
						tu_model_teardown),
		cmocka_unit_test_setup_teardown(test_without_an_analysis_the_model_may_change,
						tu_model_setup, tu_model_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
