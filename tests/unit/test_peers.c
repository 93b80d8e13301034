// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pairing on hand-built models: the far ends of each row (traced rows,
 * /proc holders, sock_diag facts, wakeups) and the edges between
 * processes that follow from them.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/peers.h"
#include "discover/procscan.h"
#include "testutil.h"

/* The row of pid with kind/dir/chan: must exist. */
static const struct bt_row *row_of(struct bt_model *m, uint32_t pid, unsigned int kind,
				   unsigned int dir, uint64_t chan, const struct bt_proc **pp)
{
	const struct bt_proc *p = bt_model_find(m, pid);

	assert_non_null(p);
	for (size_t i = 0; i < p->nrows; i++) {
		const struct bt_row *r = &p->rows[i];

		if (r->key.kind == kind && r->key.dir == dir && r->key.chan == chan) {
			*pp = p;
			return r;
		}
	}
	fail_msg("no row %u/%u/%llu in pid %u", kind, dir, (unsigned long long)chan, pid);
	return NULL;
}

/*
 * The peers of that row must be exactly the pids in want (0-terminated),
 * in order; each local one carries its model process (or NULL if the
 * model has none), and none has an address.
 */
static void expect_peers(struct bt_model *m, uint32_t pid, unsigned int kind, unsigned int dir,
			 uint64_t chan, const uint32_t *want)
{
	struct bt_peer peers[BT_PEERS_MAX];
	const struct bt_proc *p;
	const struct bt_row *r = row_of(m, pid, kind, dir, chan, &p);
	size_t n = bt_row_peers(m, p, r, peers, BT_PEERS_MAX), nwant = 0;

	while (want[nwant])
		nwant++;
	if (n != nwant)
		fail_msg("pid %u %s: %zu peers, want %zu", pid, r->channel, n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(peers[i].pid, want[i]);
		assert_ptr_equal(peers[i].proc, bt_model_find(m, want[i]));
		assert_string_equal(peers[i].addr, "");
	}
}

/* The row's one far end is an address, not a process. */
static void expect_addr(struct bt_model *m, uint32_t pid, unsigned int kind, unsigned int dir,
			uint64_t chan, const char *addr)
{
	struct bt_peer peers[BT_PEERS_MAX];
	const struct bt_proc *p;
	const struct bt_row *r = row_of(m, pid, kind, dir, chan, &p);

	memset(peers, 0x55, sizeof(peers));
	assert_int_equal(bt_row_peers(m, p, r, peers, BT_PEERS_MAX), 1);
	assert_int_equal(peers[0].pid, 0);
	assert_null(peers[0].proc);
	assert_string_equal(peers[0].addr, addr);
}

#define PEERS(...) ((const uint32_t[]){ __VA_ARGS__, 0 })
#define NO_PEERS ((const uint32_t[]){ 0 })

static struct bt_edges build(struct bt_model *m)
{
	struct bt_edges e;

	assert_int_equal(bt_edges_build(m, &e), 0);
	return e;
}

static void expect_hist(const __u64 *h, int slot, uint64_t count)
{
	for (int i = 0; i < BT_HIST_SLOTS; i++)
		assert_int_equal(h[i], i == slot ? count : 0);
}

static void expect_hist_empty(const __u64 *h)
{
	expect_hist(h, -1, 0);
}

/* ---- pipes -------------------------------------------------------------- */

static void test_pipe_two_processes(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats send = tu_stats(10, 800, 0), recv = tu_stats(5, 800, 3000), other;
	struct bt_edges e;

	tu_proc(m, 100, "writer");
	tu_proc(m, 200, "reader");
	send.errors = 2;
	send.size_hist[6] = 8;
	send.blocked_hist[0] = 10;	/* the sender's own blocking is not the edge's */
	recv.blocked_hist[10] = 5;
	recv.size_hist[7] = 5;
	tu_row(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 7, &send, NULL);
	tu_row(m, 200, BT_KIND_PIPE, BT_DIR_RECV, 7, &recv, NULL);
	/* The reader's other pipe is not this edge's blocking. */
	other = tu_stats(1, 1, 999999);
	other.blocked_hist[19] = 1;
	tu_row(m, 200, BT_KIND_PIPE, BT_DIR_RECV, 8, &other, NULL);
	/* A holder of the read end does not count while a traced reader is known. */
	tu_holder(m, 7, 999, BT_FD_PIPE, BT_END_READ);
	/*
	 * The writer's crossings on the pipe woke the reader 4 + 100 times:
	 * on a byte channel a wakeup in either direction counts.
	 */
	tu_wake(m, 100, 200, BT_KIND_PIPE, BT_DIR_SEND, 7, 4);
	tu_wake(m, 100, 200, BT_KIND_PIPE, BT_DIR_RECV, 7, 100);
	tu_wake(m, 100, 200, BT_KIND_PIPE, BT_DIR_SEND, 8, 1000);

	expect_peers(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 7, PEERS(200));
	expect_peers(m, 200, BT_KIND_PIPE, BT_DIR_RECV, 7, PEERS(100));
	expect_peers(m, 200, BT_KIND_PIPE, BT_DIR_RECV, 8, NO_PEERS);

	e = build(m);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].from, 100);
	assert_int_equal(e.v[0].to, 200);
	assert_int_equal(e.v[0].kind, BT_KIND_PIPE);
	assert_string_equal(e.v[0].service, "pipe:[7]");
	assert_int_equal(e.v[0].nconns, 1);
	assert_string_equal(e.v[0].conns[0].channel, "pipe:[7]");
	assert_int_equal(e.v[0].calls, 8);	/* 10 calls, 2 failed */
	assert_int_equal(e.v[0].bytes, 800);
	assert_int_equal(e.v[0].wakeups, 104);
	assert_int_equal(e.v[0].blocked_ns, 3000);
	expect_hist(e.v[0].blocked_hist, 10, 5);
	expect_hist(e.v[0].size_hist, 6, 8);
	bt_edges_free(&e);
	assert_null(e.v);
	assert_int_equal(e.n, 0);
}

static void test_self_pipe(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats send = tu_stats(3, 3, 0), recv = tu_stats(3, 3, 700);
	struct bt_edges e;

	tu_proc(m, 50, "loop");
	recv.blocked_hist[9] = 3;
	tu_row(m, 50, BT_KIND_PIPE, BT_DIR_SEND, 9, &send, NULL);
	tu_row(m, 50, BT_KIND_PIPE, BT_DIR_RECV, 9, &recv, NULL);
	/* /proc shows it holding both ends: still no one else. */
	tu_holder(m, 9, 50, BT_FD_PIPE, BT_END_BOTH);

	expect_peers(m, 50, BT_KIND_PIPE, BT_DIR_SEND, 9, PEERS(50));
	expect_peers(m, 50, BT_KIND_PIPE, BT_DIR_RECV, 9, PEERS(50));
	e = build(m);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].from, 50);
	assert_int_equal(e.v[0].to, 50);
	assert_int_equal(e.v[0].calls, 3);
	assert_int_equal(e.v[0].bytes, 3);
	assert_int_equal(e.v[0].blocked_ns, 700);
	expect_hist(e.v[0].blocked_hist, 9, 3);
	bt_edges_free(&e);
}

static void test_pipe_untraced_ends_from_holders(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats s = tu_stats(4, 400, 0);
	struct bt_edges e;

	tu_proc(m, 100, "writer");
	tu_row(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 11, &s, NULL);
	tu_holder(m, 11, 301, BT_FD_PIPE, BT_END_WRITE);	/* another writer: no */
	tu_holder(m, 11, 300, BT_FD_PIPE, BT_END_READ);		/* the reader */
	tu_holder(m, 11, 100, BT_FD_PIPE, BT_END_BOTH);		/* itself: no */
	tu_holder(m, 11, 302, BT_FD_SOCKET, 0);			/* a socket inode: no */
	tu_holder(m, 12, 303, BT_FD_PIPE, BT_END_READ);		/* another pipe: no */
	tu_holder(m, 11, 304, BT_FD_PIPE, BT_END_BOTH);		/* both ends: yes */
	/* Seen once per end (two fds): the ends merge into one holder. */
	tu_holder(m, 11, 305, BT_FD_PIPE, BT_END_WRITE);
	tu_holder(m, 11, 305, BT_FD_PIPE, BT_END_READ);
	assert_int_equal(m->nholders, 7);

	expect_peers(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 11, PEERS(300, 304, 305));

	/* A reader whose writer is untraced: the write-end holders. */
	tu_proc(m, 400, "reader");
	tu_row(m, 400, BT_KIND_PIPE, BT_DIR_RECV, 13, &s, NULL);
	tu_holder(m, 13, 401, BT_FD_PIPE, BT_END_READ);
	tu_holder(m, 13, 402, BT_FD_PIPE, BT_END_WRITE);
	expect_peers(m, 400, BT_KIND_PIPE, BT_DIR_RECV, 13, PEERS(402));

	/* Edges go to untraced pids too; no blocking is known there. */
	e = build(m);
	assert_int_equal(e.n, 3);
	for (size_t i = 0; i < e.n; i++) {
		assert_int_equal(e.v[i].from, 100);
		assert_int_equal(e.v[i].calls, 4);
		assert_int_equal(e.v[i].bytes, 400);
		assert_int_equal(e.v[i].blocked_ns, 0);
		expect_hist_empty(e.v[i].blocked_hist);
	}
	assert_int_equal(e.v[0].to, 300);
	assert_int_equal(e.v[1].to, 304);
	assert_int_equal(e.v[2].to, 305);
	bt_edges_free(&e);
}

static void test_pipe_write_holder_not_a_reader(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats s = tu_stats(1, 1, 0);
	struct bt_edges e;

	tu_proc(m, 100, "writer");
	tu_row(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 11, &s, NULL);
	tu_holder(m, 11, 301, BT_FD_PIPE, BT_END_WRITE);
	expect_peers(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 11, NO_PEERS);
	e = build(m);
	assert_int_equal(e.n, 0);
	bt_edges_free(&e);
}

/* ---- unix sockets ------------------------------------------------------- */

static void test_unix_stream_pair(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info a = tu_unix(BT_KIND_UNIX_STREAM, 22, "/run/x.sock");
	struct bt_chan_info b = tu_unix(BT_KIND_UNIX_STREAM, 21, "/run/x.sock");
	struct bt_chan_info lone = tu_unix(BT_KIND_UNIX_STREAM, 0, "");
	struct bt_stats send = tu_stats(6, 600, 0), recv = tu_stats(6, 600, 1200);
	struct bt_edges e;

	tu_proc(m, 10, "client");
	tu_proc(m, 20, "server");
	recv.blocked_hist[8] = 6;
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 21, &send, &a);
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 21, &recv, &a);
	tu_row(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 22, &recv, &b);
	tu_row(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 22, &send, &b);
	/* No peer inode, no facts: unknown. */
	tu_row(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 23, &send, &lone);
	/* A dgram socket with the peer's inode is another kind: not a match. */
	tu_proc(m, 30, "dgram");
	tu_row(m, 30, BT_KIND_UNIX_DGRAM, BT_DIR_RECV, 21, &recv, NULL);

	expect_peers(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 21, PEERS(20));
	expect_peers(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 21, PEERS(20));
	expect_peers(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 22, PEERS(10));
	expect_peers(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 22, PEERS(10));
	expect_peers(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 23, NO_PEERS);

	e = build(m);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.v[0].from, 10);
	assert_int_equal(e.v[0].to, 20);
	assert_int_equal(e.v[0].kind, BT_KIND_UNIX_STREAM);
	assert_string_equal(e.v[0].service, "unix:/run/x.sock");
	assert_string_equal(e.v[0].conns[0].channel, "unix:/run/x.sock[21->22]");
	assert_int_equal(e.v[0].calls, 6);
	assert_int_equal(e.v[0].bytes, 600);
	assert_int_equal(e.v[0].blocked_ns, 1200);
	expect_hist(e.v[0].blocked_hist, 8, 6);
	assert_int_equal(e.v[1].from, 20);
	assert_int_equal(e.v[1].to, 10);
	assert_string_equal(e.v[1].service, "unix:/run/x.sock");
	assert_string_equal(e.v[1].conns[0].channel, "unix:/run/x.sock[22->21]");
	assert_int_equal(e.v[1].blocked_ns, 1200);
	bt_edges_free(&e);
}

static void test_unix_peer_from_sockfacts(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info nopeer = tu_unix(BT_KIND_UNIX_STREAM, 0, "/tmp/s");
	struct bt_stats s = tu_stats(2, 20, 0);
	struct bt_edges e;

	tu_proc(m, 10, "client");
	/* No channel facts at all: the peer inode comes from sock_diag. */
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 31, &s, NULL);
	tu_sock_unix(m, 31, 32);
	tu_holder(m, 32, 400, BT_FD_SOCKET, 0);
	tu_holder(m, 32, 401, BT_FD_PIPE, BT_END_READ);	/* a pipe inode: no */
	tu_holder(m, 31, 402, BT_FD_SOCKET, 0);		/* shares our end: no */
	/* Facts without a peer inode (peer closed first): sock_diag again. */
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 33, &s, &nopeer);
	tu_sock_unix(m, 33, 34);
	tu_holder(m, 34, 403, BT_FD_SOCKET, 0);
	/* The process itself holding the peer inode is not its own peer. */
	tu_holder(m, 34, 10, BT_FD_SOCKET, 0);
	/* sock_diag knows the socket but not a peer: unknown. */
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 35, &s, NULL);
	tu_sock_unix(m, 35, 0);

	expect_peers(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 31, PEERS(400));
	expect_peers(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 33, PEERS(403));
	expect_peers(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 35, NO_PEERS);

	e = build(m);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.v[0].to, 400);
	assert_string_equal(e.v[0].service, "unix:socketpair");
	assert_int_equal(e.v[1].to, 403);
	assert_string_equal(e.v[1].service, "unix:/tmp/s");
	bt_edges_free(&e);
}

/* ---- tcp and udp --------------------------------------------------------- */

static void test_tcp_mirrored_v4(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000,
					"127.0.0.1", 5000);
	struct bt_chan_info s = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 5000,
					"127.0.0.1", 40000);
	struct bt_chan_info other = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 5000,
					    "127.0.0.1", 40001);
	struct bt_stats send = tu_stats(9, 90000, 0), recv = tu_stats(9, 90000, 4000);
	struct bt_edges e;

	tu_proc(m, 1, "client");
	tu_proc(m, 2, "server");
	tu_proc(m, 3, "server2");
	tu_proc(m, 4, "udp");
	recv.blocked_hist[11] = 9;
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, &send, &c);
	tu_row(m, 2, BT_KIND_TCP, BT_DIR_RECV, 2001, &recv, &s);
	/* Another client's connection to the same server port. */
	tu_row(m, 3, BT_KIND_TCP, BT_DIR_RECV, 3001, &recv, &other);
	/* The same tuple over udp is another conversation. */
	s.kind = BT_KIND_UDP;
	tu_row(m, 4, BT_KIND_UDP, BT_DIR_RECV, 4001, &recv, &s);

	expect_peers(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, PEERS(2));
	expect_peers(m, 2, BT_KIND_TCP, BT_DIR_RECV, 2001, PEERS(1));
	expect_addr(m, 3, BT_KIND_TCP, BT_DIR_RECV, 3001, "127.0.0.1:40001");
	expect_addr(m, 4, BT_KIND_UDP, BT_DIR_RECV, 4001, "127.0.0.1:40000");

	e = build(m);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].from, 1);
	assert_int_equal(e.v[0].to, 2);
	assert_int_equal(e.v[0].kind, BT_KIND_TCP);
	assert_string_equal(e.v[0].service, "tcp:127.0.0.1:5000");
	assert_string_equal(e.v[0].conns[0].channel, "tcp:127.0.0.1:40000->127.0.0.1:5000");
	assert_int_equal(e.v[0].calls, 9);
	assert_int_equal(e.v[0].bytes, 90000);
	assert_int_equal(e.v[0].blocked_ns, 4000);
	expect_hist(e.v[0].blocked_hist, 11, 9);
	bt_edges_free(&e);
}

static void test_tcp_v4_vs_mapped_v6(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000,
					"127.0.0.1", 5000);
	struct bt_chan_info s = tu_inet(BT_KIND_TCP, AF_INET6, "::ffff:127.0.0.1", 5000,
					"::ffff:127.0.0.1", 40000);
	struct bt_chan_info c6 = tu_inet(BT_KIND_TCP, AF_INET6, "::1", 40002, "::1", 6000);
	struct bt_chan_info s6 = tu_inet(BT_KIND_TCP, AF_INET6, "::1", 6000, "::1", 40002);
	/* ::1 is not 127.0.0.1. */
	struct bt_chan_info c4 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40002, "127.0.0.1",
					 6000);
	struct bt_stats st = tu_stats(1, 1, 0);

	tu_proc(m, 1, "v4client");
	tu_proc(m, 2, "v6server");
	tu_proc(m, 3, "v4client2");
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, &st, &c);
	tu_row(m, 2, BT_KIND_TCP, BT_DIR_RECV, 2001, &st, &s);
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1002, &st, &c6);
	tu_row(m, 2, BT_KIND_TCP, BT_DIR_RECV, 2002, &st, &s6);
	tu_row(m, 3, BT_KIND_TCP, BT_DIR_SEND, 3001, &st, &c4);

	expect_peers(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, PEERS(2));
	expect_peers(m, 2, BT_KIND_TCP, BT_DIR_RECV, 2001, PEERS(1));
	expect_peers(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1002, PEERS(2));
	expect_peers(m, 2, BT_KIND_TCP, BT_DIR_RECV, 2002, PEERS(1));
	expect_addr(m, 3, BT_KIND_TCP, BT_DIR_SEND, 3001, "127.0.0.1:6000");
}

static void test_tcp_untraced_far_end(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "10.0.0.5", 40000, "10.0.0.6", 5432);
	struct bt_stats st = tu_stats(3, 300, 0);
	struct bt_edges e;

	tu_proc(m, 1, "psql");
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, &st, &c);
	/* The listener on that port is not the other end. */
	tu_sock_inet(m, 50, IPPROTO_TCP, AF_INET, "10.0.0.6", 5432, "0.0.0.0", 0);
	tu_holder(m, 50, 500, BT_FD_SOCKET, 0);
	/* A udp socket with the mirrored tuple neither. */
	tu_sock_inet(m, 52, IPPROTO_UDP, AF_INET, "10.0.0.6", 5432, "10.0.0.5", 40000);
	tu_holder(m, 52, 502, BT_FD_SOCKET, 0);
	/* Another connection to the listener: other client port. */
	tu_sock_inet(m, 53, IPPROTO_TCP, AF_INET, "10.0.0.6", 5432, "10.0.0.5", 40001);
	tu_holder(m, 53, 503, BT_FD_SOCKET, 0);
	/* The accepted socket, as a mapped v6 one: its holder is. */
	tu_sock_inet(m, 51, IPPROTO_TCP, AF_INET6, "::ffff:10.0.0.6", 5432, "::ffff:10.0.0.5",
		     40000);
	tu_holder(m, 51, 501, BT_FD_SOCKET, 0);
	tu_holder(m, 51, 1, BT_FD_SOCKET, 0);	/* never itself */

	expect_peers(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, PEERS(501));
	e = build(m);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].from, 1);
	assert_int_equal(e.v[0].to, 501);
	assert_int_equal(e.v[0].calls, 3);
	assert_int_equal(e.v[0].bytes, 300);
	assert_int_equal(e.v[0].blocked_ns, 0);
	bt_edges_free(&e);
}

static void test_tcp_off_machine(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "192.168.1.10", 40000,
					"10.1.2.3", 443);
	struct bt_chan_info c6 = tu_inet(BT_KIND_TCP, AF_INET6, "2001:db8::2", 40000,
					 "2001:db8::1", 443);
	struct bt_stats st = tu_stats(3, 300, 0);
	struct bt_peer peers[BT_PEERS_MAX];
	const struct bt_proc *p;
	const struct bt_row *r;
	struct bt_edges e;

	tu_proc(m, 1, "curl");
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, &st, &c);
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_RECV, 1002, &st, &c6);
	/* A listener on the same port here is not that server. */
	tu_sock_inet(m, 50, IPPROTO_TCP, AF_INET, "0.0.0.0", 443, "0.0.0.0", 0);
	tu_holder(m, 50, 500, BT_FD_SOCKET, 0);

	expect_addr(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, "10.1.2.3:443");
	expect_addr(m, 1, BT_KIND_TCP, BT_DIR_RECV, 1002, "[2001:db8::1]:443");
	/* No room: nothing written. */
	r = row_of(m, 1, BT_KIND_TCP, BT_DIR_RECV, 1002, &p);
	memset(peers, 0x55, sizeof(peers));
	assert_int_equal(bt_row_peers(m, p, r, peers, 0), 0);
	assert_int_equal(peers[0].pid, 0x55555555);

	/* An address is no process: no edge. */
	e = build(m);
	assert_int_equal(e.n, 0);
	bt_edges_free(&e);
}

static void test_inet_without_facts(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 1, 0);

	tu_proc(m, 1, "lost");
	/* Channel facts lost (map full): nothing to pair on. */
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, &st, NULL);
	tu_row(m, 1, BT_KIND_UDP, BT_DIR_SEND, 1002, &st, NULL);
	expect_peers(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1001, NO_PEERS);
	expect_peers(m, 1, BT_KIND_UDP, BT_DIR_SEND, 1002, NO_PEERS);
}

static void test_udp_unconnected_server(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c = tu_inet(BT_KIND_UDP, AF_INET, "127.0.0.1", 40000, "127.0.0.1", 53);
	struct bt_chan_info t = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000, "127.0.0.1", 53);
	struct bt_stats st = tu_stats(5, 250, 0);
	struct bt_edges e;

	tu_proc(m, 1, "dig");
	tu_row(m, 1, BT_KIND_UDP, BT_DIR_SEND, 1001, &st, &c);
	/* A connected udp socket elsewhere on the port talks to someone else. */
	tu_sock_inet(m, 59, IPPROTO_UDP, AF_INET, "127.0.0.1", 53, "127.0.0.1", 9999);
	tu_holder(m, 59, 599, BT_FD_SOCKET, 0);
	/* The server's socket: bound, unconnected (remote 0): it is the far end. */
	tu_sock_inet(m, 60, IPPROTO_UDP, AF_INET, "127.0.0.1", 53, "0.0.0.0", 0);
	tu_holder(m, 60, 600, BT_FD_SOCKET, 0);
	expect_peers(m, 1, BT_KIND_UDP, BT_DIR_SEND, 1001, PEERS(600));

	/* The same tuple over tcp: that socket is udp, so the address stays. */
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1002, &st, &t);
	expect_addr(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1002, "127.0.0.1:53");

	e = build(m);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].to, 600);
	assert_int_equal(e.v[0].kind, BT_KIND_UDP);
	assert_string_equal(e.v[0].service, "udp:127.0.0.1:53");
	assert_int_equal(e.v[0].calls, 5);
	assert_int_equal(e.v[0].bytes, 250);
	bt_edges_free(&e);
}

/* ---- futex --------------------------------------------------------------- */

#define FUTEX_A	0x7f0000001000ull	/* the shared word as the waker maps it */
#define FUTEX_B	0x7e0000002000ull	/* the same word in the waiter's process */

static void test_futex_wakes(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats wake = tu_stats(6, 0, 60), wait = tu_stats(4, 0, 5000);
	struct bt_stats other_wait = tu_stats(1, 0, 777777), other_wake = tu_stats(1, 0, 0);
	struct bt_edges e;

	tu_proc(m, 700, "producer");
	tu_proc(m, 701, "consumer");
	wake.errors = 1;
	wake.woken = 5;
	wait.blocked_hist[12] = 4;
	tu_row(m, 700, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A, &wake, NULL);
	/* The waiting thread is in another process, at another address. */
	tu_row(m, 701, BT_KIND_FUTEX, BT_DIR_WAIT, FUTEX_B, &wait, NULL);
	/*
	 * It also waits on another word, which 700 wakes through FUTEX_A + 8:
	 * that wait belongs to the other edge, not to FUTEX_A's.
	 */
	tu_row(m, 701, BT_KIND_FUTEX, BT_DIR_WAIT, FUTEX_B + 8, &other_wait, NULL);
	tu_row(m, 700, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A + 8, &other_wake, NULL);
	tu_wake(m, 700, 701, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A + 8, 1);
	/* The kernel saw which word each wake ended the wait on. */
	tu_futex_link(m, 700, FUTEX_A, 701, FUTEX_B);
	tu_futex_link(m, 700, FUTEX_A + 8, 701, FUTEX_B + 8);
	tu_wake(m, 700, 701, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A, 3);
	tu_wake(m, 700, 702, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A, 2);	/* untraced */
	/* Not counted: another direction, another word, another kind. */
	tu_wake(m, 700, 701, BT_KIND_FUTEX, BT_DIR_WAIT, FUTEX_A, 50);
	tu_wake(m, 700, 704, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A + 4, 8);
	tu_wake(m, 700, 705, BT_KIND_PIPE, BT_DIR_WAKE, FUTEX_A, 9);
	/* Summed with the first entry, as a second collection would. */
	tu_wake(m, 700, 701, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A, 1);
	assert_int_equal(m->nwakes, 6);

	expect_peers(m, 700, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_A, PEERS(701, 702));
	expect_peers(m, 701, BT_KIND_FUTEX, BT_DIR_WAIT, FUTEX_B, PEERS(700));

	e = build(m);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.v[0].from, 700);
	assert_int_equal(e.v[0].to, 701);
	assert_int_equal(e.v[0].kind, BT_KIND_FUTEX);
	assert_string_equal(e.v[0].service, "futex:0x7f0000001000");
	/* Only the wait on the word this futex is in 701: not 777777 more. */
	assert_int_equal(e.v[0].calls, 5);
	assert_int_equal(e.v[0].bytes, 0);
	assert_int_equal(e.v[0].wakeups, 4);
	assert_int_equal(e.v[0].blocked_ns, 5000);
	expect_hist(e.v[0].blocked_hist, 12, 4);
	assert_string_equal(e.v[1].service, "futex:0x7f0000001008");
	assert_int_equal(e.v[1].to, 701);
	assert_int_equal(e.v[1].wakeups, 1);
	assert_int_equal(e.v[1].blocked_ns, 777777);
	assert_int_equal(e.v[2].from, 700);
	assert_int_equal(e.v[2].to, 702);
	assert_int_equal(e.v[2].calls, 5);
	assert_int_equal(e.v[2].wakeups, 2);
	assert_int_equal(e.v[2].blocked_ns, 0);
	bt_edges_free(&e);
}

/*
 * Wakes done inside a wait crossing (an interrupt while entering the
 * wait) are no one's wake traffic: neither a peer nor a wakeup.
 */
static void test_futex_only_wake_direction(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats wake = tu_stats(2, 0, 0), wait = tu_stats(2, 0, 100);
	struct bt_edges e;

	tu_proc(m, 10, "a");
	tu_proc(m, 20, "b");
	tu_row(m, 10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x1000, &wake, NULL);
	tu_row(m, 10, BT_KIND_FUTEX, BT_DIR_WAIT, 0x1000, &wait, NULL);
	tu_row(m, 20, BT_KIND_FUTEX, BT_DIR_WAIT, 0x2000, &wait, NULL);
	tu_wake(m, 10, 20, BT_KIND_FUTEX, BT_DIR_WAIT, 0x1000, 7);

	expect_peers(m, 10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x1000, NO_PEERS);
	expect_peers(m, 20, BT_KIND_FUTEX, BT_DIR_WAIT, 0x2000, NO_PEERS);
	e = build(m);
	assert_int_equal(e.n, 0);
	bt_edges_free(&e);
}

static void test_futex_threads_of_one_process(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats wake = tu_stats(10, 0, 0), wait = tu_stats(10, 0, 2048);
	struct bt_edges e;

	tu_proc(m, 10, "pool");
	tu_proc(m, 20, "other");
	wait.blocked_hist[7] = 10;
	tu_row(m, 10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x3000, &wake, NULL);
	tu_row(m, 10, BT_KIND_FUTEX, BT_DIR_WAIT, 0x3000, &wait, NULL);
	/* A private word of the process, woken by no one recorded. */
	tu_row(m, 10, BT_KIND_FUTEX, BT_DIR_WAIT, 0x4000, &wait, NULL);
	tu_wake(m, 10, 10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x3000, 6);

	expect_peers(m, 10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x3000, PEERS(10));
	expect_peers(m, 10, BT_KIND_FUTEX, BT_DIR_WAIT, 0x3000, PEERS(10));
	/* Its own wakes on one word say nothing about another. */
	expect_peers(m, 10, BT_KIND_FUTEX, BT_DIR_WAIT, 0x4000, NO_PEERS);
	e = build(m);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].from, 10);
	assert_int_equal(e.v[0].to, 10);
	assert_int_equal(e.v[0].calls, 10);
	assert_int_equal(e.v[0].wakeups, 6);
	assert_int_equal(e.v[0].blocked_ns, 2048);
	expect_hist(e.v[0].blocked_hist, 7, 10);
	bt_edges_free(&e);
}

/* ---- edges as a whole ------------------------------------------------------ */

static void test_edge_sort(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 1, 0);
	struct bt_chan_info u = tu_unix(BT_KIND_UNIX_STREAM, 902, "");
	struct bt_chan_info v = tu_unix(BT_KIND_UNIX_STREAM, 901, "");
	struct bt_edges e;
	static const struct {
		uint32_t from, to;
		unsigned int kind;
		const char *channel;
	} want[] = {
		{ 10, 20, BT_KIND_PIPE, "pipe:[100]" },	/* strcmp: "1" < "9" */
		{ 10, 20, BT_KIND_PIPE, "pipe:[9]" },
		{ 10, 20, BT_KIND_UNIX_STREAM, "unix:socketpair" },
		{ 10, 20, BT_KIND_FUTEX, "futex:0x10" },
		{ 10, 30, BT_KIND_PIPE, "pipe:[5]" },
		{ 20, 10, BT_KIND_UNIX_STREAM, "unix:socketpair" },
		{ 30, 10, BT_KIND_PIPE, "pipe:[6]" },
	};

	/* Processes and rows in no order: the model is not sorted. */
	tu_proc(m, 30, "c");
	tu_proc(m, 20, "b");
	tu_proc(m, 10, "a");
	tu_row(m, 30, BT_KIND_PIPE, BT_DIR_SEND, 6, &st, NULL);
	tu_row(m, 10, BT_KIND_PIPE, BT_DIR_RECV, 6, &st, NULL);
	tu_row(m, 10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x10, &st, NULL);
	tu_wake(m, 10, 20, BT_KIND_FUTEX, BT_DIR_WAKE, 0x10, 1);
	tu_row(m, 10, BT_KIND_PIPE, BT_DIR_SEND, 5, &st, NULL);
	tu_row(m, 30, BT_KIND_PIPE, BT_DIR_RECV, 5, &st, NULL);
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 901, &st, &u);
	tu_row(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 902, &st, &v);
	tu_row(m, 10, BT_KIND_PIPE, BT_DIR_SEND, 9, &st, NULL);
	tu_row(m, 10, BT_KIND_PIPE, BT_DIR_SEND, 100, &st, NULL);
	tu_row(m, 20, BT_KIND_PIPE, BT_DIR_RECV, 100, &st, NULL);
	tu_row(m, 20, BT_KIND_PIPE, BT_DIR_RECV, 9, &st, NULL);

	e = build(m);
	assert_int_equal(e.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < e.n; i++) {
		assert_int_equal(e.v[i].from, want[i].from);
		assert_int_equal(e.v[i].to, want[i].to);
		assert_int_equal(e.v[i].kind, want[i].kind);
		assert_string_equal(e.v[i].service, want[i].channel);
	}
	bt_edges_free(&e);
}

static void test_edge_sums_rows_of_one_channel(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info a = tu_inet(BT_KIND_UDP, AF_INET, "127.0.0.1", 4000, "127.0.0.1", 53);
	struct bt_stats s1 = tu_stats(2, 20, 0), s2 = tu_stats(3, 30, 0);
	struct bt_edges e;

	tu_proc(m, 1, "client");
	s1.size_hist[4] = 2;
	s2.size_hist[4] = 3;
	/* Two sockets, one after the other, on the same tuple: one channel name. */
	tu_row(m, 1, BT_KIND_UDP, BT_DIR_SEND, 1001, &s1, &a);
	tu_row(m, 1, BT_KIND_UDP, BT_DIR_SEND, 1003, &s2, &a);
	tu_sock_inet(m, 60, IPPROTO_UDP, AF_INET, "127.0.0.1", 53, "0.0.0.0", 0);
	tu_holder(m, 60, 2, BT_FD_SOCKET, 0);

	e = build(m);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].to, 2);
	assert_int_equal(e.v[0].calls, 5);
	assert_int_equal(e.v[0].bytes, 50);
	expect_hist(e.v[0].size_hist, 4, 5);
	bt_edges_free(&e);
}

/*
 * Two channels between the same two processes: each edge carries the
 * blocking of its own channel's far end, not of every channel between
 * them.
 */
static void test_edge_blocking_per_channel(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info ua = tu_unix(BT_KIND_UNIX_STREAM, 42, "");
	struct bt_chan_info ub = tu_unix(BT_KIND_UNIX_STREAM, 41, "");
	struct bt_chan_info ua2 = tu_unix(BT_KIND_UNIX_STREAM, 44, "");
	struct bt_chan_info ub2 = tu_unix(BT_KIND_UNIX_STREAM, 43, "");
	struct bt_chan_info c1 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40001, "127.0.0.1", 80);
	struct bt_chan_info s1 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 80, "127.0.0.1", 40001);
	struct bt_chan_info c2 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40002, "127.0.0.1", 80);
	struct bt_chan_info s2 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 80, "127.0.0.1", 40002);
	struct bt_stats send = tu_stats(1, 1, 0);
	struct bt_stats r1 = tu_stats(1, 1, 100), r2 = tu_stats(1, 1, 7000);
	struct bt_edges e;

	tu_proc(m, 1, "a");
	tu_proc(m, 2, "b");
	r1.blocked_hist[6] = 1;
	r2.blocked_hist[12] = 1;
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 7, &send, NULL);
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 8, &send, NULL);
	tu_row(m, 2, BT_KIND_PIPE, BT_DIR_RECV, 7, &r1, NULL);
	tu_row(m, 2, BT_KIND_PIPE, BT_DIR_RECV, 8, &r2, NULL);
	tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 41, &send, &ua);
	tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 43, &send, &ua2);
	tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 42, &r1, &ub);
	tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 44, &r2, &ub2);
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 51, &send, &c1);
	tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 52, &send, &c2);
	tu_row(m, 2, BT_KIND_TCP, BT_DIR_RECV, 61, &r1, &s1);
	tu_row(m, 2, BT_KIND_TCP, BT_DIR_RECV, 62, &r2, &s2);
	/* b also reads a pipe that a writes but that the kernel saw only via /proc. */
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 9, &send, NULL);
	tu_holder(m, 9, 2, BT_FD_PIPE, BT_END_READ);

	e = build(m);
	/*
	 * Pipes are each their own service; the two socketpairs fold into
	 * one, the two connections to port 80 into tcp:127.0.0.1:80, each
	 * connection bringing its own far end's blocking.
	 */
	assert_int_equal(e.n, 5);
	assert_string_equal(e.v[0].service, "pipe:[7]");
	assert_int_equal(e.v[0].blocked_ns, 100);
	expect_hist(e.v[0].blocked_hist, 6, 1);
	assert_string_equal(e.v[1].service, "pipe:[8]");
	assert_int_equal(e.v[1].blocked_ns, 7000);
	expect_hist(e.v[1].blocked_hist, 12, 1);
	/* No row of b on pipe 9: no blocking known for it. */
	assert_string_equal(e.v[2].service, "pipe:[9]");
	assert_int_equal(e.v[2].to, 2);
	assert_int_equal(e.v[2].blocked_ns, 0);
	expect_hist_empty(e.v[2].blocked_hist);
	assert_string_equal(e.v[3].service, "unix:socketpair");
	assert_int_equal(e.v[3].nconns, 2);
	assert_string_equal(e.v[3].conns[0].channel, "unix:[41->42]");
	assert_string_equal(e.v[3].conns[1].channel, "unix:[43->44]");
	assert_int_equal(e.v[3].blocked_ns, 7100);
	assert_string_equal(e.v[4].service, "tcp:127.0.0.1:80");
	assert_int_equal(e.v[4].nconns, 2);
	assert_int_equal(e.v[4].calls, 2);
	assert_string_equal(e.v[4].conns[0].channel, "tcp:127.0.0.1:40001->127.0.0.1:80");
	assert_string_equal(e.v[4].conns[1].channel, "tcp:127.0.0.1:40002->127.0.0.1:80");
	assert_int_equal(e.v[4].blocked_ns, 7100);
	assert_int_equal(e.v[4].blocked_hist[6], 1);
	assert_int_equal(e.v[4].blocked_hist[12], 1);
	bt_edges_free(&e);
}

static void test_peers_max(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 10, 0);
	struct bt_peer peers[BT_PEERS_MAX + 4];
	const struct bt_proc *p;
	const struct bt_row *r;
	struct bt_edges e;

	tu_proc(m, 1, "fanout");
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 80, &st, NULL);
	for (uint32_t pid = 100; pid < 100 + BT_PEERS_MAX + 4; pid++)
		tu_row(m, pid, BT_KIND_PIPE, BT_DIR_RECV, 80, &st, NULL);
	/* Untraced readers of another pipe, as many. */
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 81, &st, NULL);
	for (uint32_t pid = 200; pid < 200 + BT_PEERS_MAX + 4; pid++)
		tu_holder(m, 81, pid, BT_FD_PIPE, BT_END_READ);

	memset(peers, 0, sizeof(peers));
	r = row_of(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 80, &p);
	assert_int_equal(bt_row_peers(m, p, r, peers, BT_PEERS_MAX), BT_PEERS_MAX);
	for (size_t i = 0; i < BT_PEERS_MAX; i++)
		assert_int_equal(peers[i].pid, 100 + i);
	/* Nothing past max is written. */
	assert_int_equal(peers[BT_PEERS_MAX].pid, 0);
	assert_int_equal(bt_row_peers(m, p, r, peers, 3), 3);
	assert_int_equal(peers[2].pid, 102);

	r = row_of(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 81, &p);
	assert_int_equal(bt_row_peers(m, p, r, peers, BT_PEERS_MAX), BT_PEERS_MAX);
	assert_int_equal(peers[BT_PEERS_MAX - 1].pid, 200 + BT_PEERS_MAX - 1);
	assert_null(peers[0].proc);

	/* Edges follow the cap: BT_PEERS_MAX per sending row. */
	e = build(m);
	assert_int_equal(e.n, 2 * BT_PEERS_MAX);
	for (size_t i = 0; i < BT_PEERS_MAX; i++) {
		assert_int_equal(e.v[i].from, 1);
		assert_int_equal(e.v[i].to, 100 + i);
		assert_int_equal(e.v[BT_PEERS_MAX + i].to, 200 + i);
	}
	bt_edges_free(&e);
}

static void test_unknown_kind_and_empty_model(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 1, 0);
	struct bt_peer peers[BT_PEERS_MAX];
	const struct bt_proc *p;
	const struct bt_row *r;
	struct bt_edges e;

	e = build(m);
	assert_int_equal(e.n, 0);
	assert_null(e.v);
	bt_edges_free(&e);

	tu_row(m, 1, BT_KIND_NONE, BT_DIR_SEND, 5, &st, NULL);
	tu_holder(m, 5, 2, BT_FD_PIPE, BT_END_READ);
	r = row_of(m, 1, BT_KIND_NONE, BT_DIR_SEND, 5, &p);
	assert_int_equal(bt_row_peers(m, p, r, peers, BT_PEERS_MAX), 0);
	e = build(m);
	assert_int_equal(e.n, 0);
	bt_edges_free(&e);
}

static void test_pid_reuse_peer_is_newest(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 1, 0);
	struct bt_proc *old, *newer;

	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 7, &st, NULL);
	old = tu_proc(m, 2, "old");
	old->exited = true;
	newer = bt_model_new_proc(m, 2);
	assert_non_null(newer);
	strcpy(newer->comm, "new");
	tu_row(m, 2, BT_KIND_PIPE, BT_DIR_RECV, 7, &st, NULL);
	/* pointers into m->procs moved: look again */
	expect_peers(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 7, PEERS(2));
	{
		struct bt_peer peers[BT_PEERS_MAX];
		const struct bt_proc *p;
		const struct bt_row *r = row_of(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 7, &p);

		assert_int_equal(bt_row_peers(m, p, r, peers, BT_PEERS_MAX), 1);
		assert_string_equal(peers[0].proc->comm, "new");
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_model_setup, tu_model_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pipe_two_processes),
		T(test_self_pipe),
		T(test_pipe_untraced_ends_from_holders),
		T(test_pipe_write_holder_not_a_reader),
		T(test_unix_stream_pair),
		T(test_unix_peer_from_sockfacts),
		T(test_tcp_mirrored_v4),
		T(test_tcp_v4_vs_mapped_v6),
		T(test_tcp_untraced_far_end),
		T(test_tcp_off_machine),
		T(test_inet_without_facts),
		T(test_udp_unconnected_server),
		T(test_futex_wakes),
		T(test_futex_only_wake_direction),
		T(test_futex_threads_of_one_process),
		T(test_edge_sort),
		T(test_edge_sums_rows_of_one_channel),
		T(test_edge_blocking_per_channel),
		T(test_peers_max),
		T(test_unknown_kind_and_empty_model),
		T(test_pid_reuse_peer_is_newest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
