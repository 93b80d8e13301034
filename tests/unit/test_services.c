// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The map at service scale on hand-built models: rows grouped into
 * services (ephemeral ports folded, listening ports kept, the kernel's
 * role first), pools folded into one node, the two ends of a connection
 * checked against each other, the far end the kernel named.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/services.h"
#include "analyze/peers.h"
#include "discover/procscan.h"
#include "model/hist.h"
#include "testutil.h"

static void expect_service(struct bt_model *m, struct bt_row *r, const char *want)
{
	char buf[BT_CHANNEL_LEN];

	bt_row_service(m, r, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_service_names(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 1, 0);
	struct bt_chan_info path = tu_unix(BT_KIND_UNIX_STREAM, 2, "/run/php/fpm.sock");
	struct bt_chan_info abstract = tu_unix(BT_KIND_UNIX_STREAM, 2, "@bus");
	struct bt_chan_info pair = tu_unix(BT_KIND_UNIX_STREAM, 2, "");
	/* The client's ephemeral port is a connection; 80 is the service. */
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40001, "127.0.0.1", 80);
	struct bt_chan_info s = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 80, "127.0.0.1", 40001);
	struct bt_chan_info v6 = tu_inet(BT_KIND_TCP, AF_INET6, "::1", 50000, "::1", 5432);
	/* Both ports ephemeral: the kernel saw the handshake, its role decides. */
	struct bt_chan_info eph = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 45000, "127.0.0.1",
					  38000);
	/* Both below the range: the lower one serves. */
	struct bt_chan_info low = tu_inet(BT_KIND_UDP, AF_INET, "127.0.0.1", 5353, "127.0.0.1", 53);

	tu_proc(m, 1, "p");
	expect_service(m, tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 1, &st, &path),
		       "unix:/run/php/fpm.sock");
	expect_service(m, tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 3, &st, &abstract),
		       "unix:@bus");
	expect_service(m, tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 4, &st, &pair),
		       "unix:socketpair");
	expect_service(m, tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 5, &st, &c), "tcp:127.0.0.1:80");
	expect_service(m, tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 6, &st, &s), "tcp:127.0.0.1:80");
	expect_service(m, tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 7, &st, &v6), "tcp:[::1]:5432");
	eph.role = BT_ROLE_CLIENT;
	expect_service(m, tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 8, &st, &eph),
		       "tcp:127.0.0.1:38000");
	eph.role = BT_ROLE_SERVER;
	expect_service(m, tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 9, &st, &eph),
		       "tcp:127.0.0.1:45000");
	expect_service(m, tu_row(m, 1, BT_KIND_UDP, BT_DIR_SEND, 10, &st, &low),
		       "udp:127.0.0.1:53");
	expect_service(m, tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 11, &st, NULL), "pipe:[11]");
	expect_service(m, tu_row(m, 1, BT_KIND_FUTEX, BT_DIR_WAKE, 0x40, &st, NULL), "futex:0x40");
}

/* A listener sock_diag saw on a port in the ephemeral range keeps it a service. */
static void test_listening_port_kept(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats st = tu_stats(1, 1, 0);
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 33000, "127.0.0.1",
					50123);
	struct bt_chan_info s = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 50123, "127.0.0.1",
					33000);

	tu_proc(m, 1, "client");
	tu_proc(m, 2, "server");
	/* Without facts the lower port would win: 33000. */
	expect_service(m, tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 1, &st, &c), "tcp:127.0.0.1:33000");
	tu_sock_inet(m, 60, IPPROTO_TCP, AF_INET, "0.0.0.0", 50123, "0.0.0.0", 0);
	expect_service(m, &bt_model_find(m, 1)->rows[0], "tcp:127.0.0.1:50123");
	expect_service(m, tu_row(m, 2, BT_KIND_TCP, BT_DIR_SEND, 2, &st, &s), "tcp:127.0.0.1:50123");
}

/*
 * 100 client connections from ephemeral ports to one server port fold
 * into one edge each way, their connections listed beneath; each reply
 * row pairs with its own request row.
 */
static void test_connections_fold_into_a_service(void **state)
{
	struct bt_model *m = *state;
	struct bt_edges e;

	tu_proc(m, 10, "client");
	tu_proc(m, 20, "server");
	for (unsigned int i = 0; i < 100; i++) {
		struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000 + i,
						"127.0.0.1", 6379);
		struct bt_chan_info s = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 6379,
						"127.0.0.1", 40000 + i);
		struct bt_stats req = tu_stats(2, 30, 0), rep = tu_stats(2, 10, 100 + i);

		tu_row(m, 10, BT_KIND_TCP, BT_DIR_SEND, 1000 + i, &req, &c);
		tu_row(m, 10, BT_KIND_TCP, BT_DIR_RECV, 1000 + i, &rep, &c);
		tu_row(m, 20, BT_KIND_TCP, BT_DIR_RECV, 2000 + i, &req, &s);
		tu_row(m, 20, BT_KIND_TCP, BT_DIR_SEND, 2000 + i, &rep, &s);
	}
	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.v[0].from, 10);
	assert_string_equal(e.v[0].service, "tcp:127.0.0.1:6379");
	assert_int_equal(e.v[0].nconns, 100);
	assert_int_equal(e.v[0].calls, 200);
	assert_int_equal(e.v[0].bytes, 3000);
	assert_int_equal(e.v[0].unseen_bytes, 0);
	assert_string_equal(e.v[0].conns[0].channel, "tcp:127.0.0.1:40000->127.0.0.1:6379");
	assert_true(e.v[0].conns[0].recv_known);
	assert_int_equal(e.v[0].conns[0].recv_bytes, 30);
	assert_int_equal(e.v[1].from, 20);
	assert_string_equal(e.v[1].service, "tcp:127.0.0.1:6379");
	assert_int_equal(e.v[1].nconns, 100);
	assert_int_equal(e.v[1].bytes, 1000);
	/* The client's waits for the replies: 100 + 101 + ... + 199. */
	assert_int_equal(e.v[1].blocked_ns, 100 * 100 + 99 * 100 / 2);
	bt_edges_free(&e);
}

/*
 * The agreement check: a receiver traced late read less than its one
 * sender sent on that connection; the difference is unseen, per edge and
 * in total. A datagram socket and a pipe with two readers are not
 * checked (loss and sharing are theirs by design).
 */
static void test_unseen_bytes(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info a = tu_unix(BT_KIND_UNIX_STREAM, 32, "/s");
	struct bt_chan_info b = tu_unix(BT_KIND_UNIX_STREAM, 31, "/s");
	struct bt_chan_info da = tu_unix(BT_KIND_UNIX_DGRAM, 42, "/d");
	struct bt_chan_info db = tu_unix(BT_KIND_UNIX_DGRAM, 41, "/d");
	struct bt_stats sent = tu_stats(10, 1000, 0), got = tu_stats(4, 400, 0);
	struct bt_edges e;

	tu_proc(m, 1, "client");
	tu_proc(m, 2, "backend");
	tu_proc(m, 3, "reader2");
	tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 31, &sent, &a);
	tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 32, &got, &b);
	tu_row(m, 1, BT_KIND_UNIX_DGRAM, BT_DIR_SEND, 41, &sent, &da);
	tu_row(m, 2, BT_KIND_UNIX_DGRAM, BT_DIR_RECV, 42, &got, &db);
	/* A pipe read by two: each reader's share is its own business. */
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 7, &sent, NULL);
	tu_row(m, 2, BT_KIND_PIPE, BT_DIR_RECV, 7, &got, NULL);
	tu_row(m, 3, BT_KIND_PIPE, BT_DIR_RECV, 7, &got, NULL);
	/* A pipe between two: checked, and they agree. */
	tu_row(m, 1, BT_KIND_PIPE, BT_DIR_SEND, 8, &got, NULL);
	tu_row(m, 3, BT_KIND_PIPE, BT_DIR_RECV, 8, &got, NULL);
	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 5);
	/* 1 -> 2: pipe 7, unix stream, unix dgram; 1 -> 3: pipes 7 and 8. */
	assert_int_equal(e.v[0].to, 2);
	assert_int_equal(e.v[0].kind, BT_KIND_PIPE);
	assert_false(e.v[0].conns[0].recv_known);
	assert_int_equal(e.v[0].unseen_bytes, 0);
	assert_int_equal(e.v[1].kind, BT_KIND_UNIX_STREAM);
	assert_true(e.v[1].conns[0].recv_known);
	assert_int_equal(e.v[1].conns[0].recv_bytes, 400);
	assert_int_equal(e.v[1].unseen_bytes, 600);
	assert_int_equal(e.v[2].kind, BT_KIND_UNIX_DGRAM);
	assert_false(e.v[2].conns[0].recv_known);
	assert_int_equal(e.v[2].unseen_bytes, 0);
	assert_int_equal(e.v[3].to, 3);
	assert_string_equal(e.v[3].service, "pipe:[7]");
	assert_false(e.v[3].conns[0].recv_known);
	assert_string_equal(e.v[4].service, "pipe:[8]");
	assert_true(e.v[4].conns[0].recv_known);
	assert_int_equal(e.v[4].unseen_bytes, 0);
	assert_int_equal(e.unseen_bytes, 600);
	bt_edges_free(&e);
}

/*
 * The agreement check from the receiving side: the server read 600 bytes
 * on a connection whose traced client has no send row there (its sends
 * were made before the channel was marked): a connection of the
 * client's edge with no sends, all 600 unseen. A receive from a process
 * that is only named (never traced) is not checked.
 */
static void test_unseen_from_the_receiving_side(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info srv = tu_unix(BT_KIND_UNIX_STREAM, 31, "/s");
	struct bt_chan_info cli = tu_unix(BT_KIND_UNIX_STREAM, 32, "/s");
	struct bt_chan_info other = tu_unix(BT_KIND_UNIX_STREAM, 41, "/s");
	struct bt_stats got = tu_stats(2, 600, 500), reply = tu_stats(1, 40, 0);
	struct bt_edges e;

	tu_proc(m, 1, "client")->target = true;
	tu_proc(m, 2, "server")->target = true;
	tu_proc(m, 3, "named");
	srv.peer_tgid = 1;
	cli.peer_tgid = 2;
	other.peer_tgid = 3;
	srv.conn = BT_CONN_NEW | BT_CONN_GONE;
	tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 32, &got, &srv);
	tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 32, &reply, &srv);
	tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 31, &reply, &cli);
	/* From a process nobody traced: its sends were never expected. */
	tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 42, &got, &other);
	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.v[0].from, 1);
	assert_int_equal(e.v[0].to, 2);
	assert_string_equal(e.v[0].service, "unix:/s");
	assert_int_equal(e.v[0].nconns, 1);
	assert_int_equal(e.v[0].calls, 0);
	assert_int_equal(e.v[0].bytes, 0);
	assert_int_equal(e.v[0].unseen_bytes, 600);
	assert_true(e.v[0].conns[0].recv_known);
	assert_int_equal(e.v[0].conns[0].recv_bytes, 600);
	assert_int_equal(e.v[0].blocked_ns, 500);
	assert_int_equal(e.v[0].opened, 1);
	assert_int_equal(e.v[0].closed, 1);
	/* The reply was seen at both ends. */
	assert_int_equal(e.v[1].from, 2);
	assert_int_equal(e.v[1].unseen_bytes, 0);
	assert_int_equal(e.unseen_bytes, 600);
	bt_edges_free(&e);
}

/*
 * A unix client that wrote before the accept saw no peer (its row says
 * ->0); the server's row names the client's socket: the two still pair,
 * so its bytes are checked, not counted as a receive nobody sent.
 */
static void test_unix_pairs_from_either_end(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info cli = tu_unix(BT_KIND_UNIX_STREAM, 0, "/s");
	struct bt_chan_info srv = tu_unix(BT_KIND_UNIX_STREAM, 50, "/s");
	struct bt_stats st = tu_stats(1, 544, 0);
	struct bt_edges e;

	tu_proc(m, 1, "nginx")->target = true;
	tu_proc(m, 2, "php-fpm")->target = true;
	cli.peer_tgid = 2;
	srv.peer_tgid = 1;
	tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 50, &st, &cli);
	tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 60, &st, &srv);
	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].nconns, 1);
	assert_true(e.v[0].conns[0].recv_known);
	assert_int_equal(e.v[0].conns[0].recv_bytes, 544);
	assert_int_equal(e.unseen_bytes, 0);
	bt_edges_free(&e);
}

/*
 * --group exe: workers of one executable under one parent are one node
 * (its lowest pid); the master (another parent) and a same-named process
 * elsewhere are not.
 */
static void test_pool_folding(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c[3], s[3];
	struct bt_stats st = tu_stats(1, 100, 0);
	struct bt_edges e;
	uint32_t pids[8];
	struct bt_proc *p;

	p = tu_proc(m, 100, "php-fpm8.2");
	snprintf(p->exe, sizeof(p->exe), "/usr/sbin/php-fpm8.2");
	p->ppid = 1;
	for (uint32_t pid = 101; pid <= 103; pid++) {
		p = tu_proc(m, pid, "php-fpm8.2");
		snprintf(p->exe, sizeof(p->exe), "/usr/sbin/php-fpm8.2");
		p->ppid = 100;
	}
	p = tu_proc(m, 104, "php-fpm8.2");	/* exited before its exe was read */
	p->ppid = 100;
	p = tu_proc(m, 200, "php-fpm8.2");	/* another pool's worker */
	snprintf(p->exe, sizeof(p->exe), "/usr/sbin/php-fpm8.2");
	p->ppid = 199;
	p = tu_proc(m, 50, "nginx");
	p->ppid = 49;
	for (int i = 0; i < 3; i++) {
		c[i] = tu_unix(BT_KIND_UNIX_STREAM, 300 + i, "/run/fpm.sock");
		s[i] = tu_unix(BT_KIND_UNIX_STREAM, 400 + i, "/run/fpm.sock");
		tu_row(m, 50, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 400 + i, &st, &c[i]);
		tu_row(m, 101 + i, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 300 + i, &st, &s[i]);
	}
	bt_model_sort(m);

	/* Off by default: every process is its own node. */
	assert_int_equal(bt_node_of(m, 103), 103);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 3);
	bt_edges_free(&e);

	m->group_exe = true;
	assert_int_equal(bt_node_of(m, 101), 101);
	assert_int_equal(bt_node_of(m, 102), 101);
	assert_int_equal(bt_node_of(m, 103), 101);
	assert_int_equal(bt_node_of(m, 104), 101);
	assert_int_equal(bt_node_of(m, 100), 100);
	assert_int_equal(bt_node_of(m, 200), 200);
	assert_int_equal(bt_node_of(m, 50), 50);
	assert_int_equal(bt_node_members(m, 101, pids, 8), 4);
	assert_int_equal(pids[0], 101);
	assert_int_equal(pids[1], 102);
	assert_int_equal(pids[2], 103);
	assert_int_equal(pids[3], 104);
	assert_int_equal(bt_node_members(m, 101, pids, 2), 4);	/* counted past max */
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].from, 50);
	assert_int_equal(e.v[0].to, 101);
	assert_string_equal(e.v[0].service, "unix:/run/fpm.sock");
	assert_int_equal(e.v[0].nconns, 3);
	assert_int_equal(e.v[0].bytes, 300);
	assert_int_equal(e.v[0].unseen_bytes, 0);
	bt_edges_free(&e);
}

/*
 * --group exe does not fold what a user knows are separate services: two
 * tiers of one program under one shell, the front connected to the back
 * (its row names the back as the far end), and two services of one
 * program that init or a service manager started (parent 1).
 */
static void test_pool_not_tiers_or_services(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000, "127.0.0.1",
					47001);
	struct bt_stats st = tu_stats(1, 100, 0);
	struct bt_proc *p;

	for (uint32_t pid = 300; pid <= 301; pid++) {	/* back, front: children of a shell */
		p = tu_proc(m, pid, "node");
		snprintf(p->exe, sizeof(p->exe), "/usr/bin/node");
		p->ppid = 299;
	}
	for (uint32_t pid = 400; pid <= 401; pid++) {	/* two services under init */
		p = tu_proc(m, pid, "node");
		snprintf(p->exe, sizeof(p->exe), "/usr/bin/node");
		p->ppid = 1;
	}
	m->group_exe = true;
	bt_model_sort(m);
	/* Alike and not talking: one pool, as a master's workers. */
	assert_int_equal(bt_node_of(m, 301), 300);
	c.peer_tgid = 300;
	tu_row(m, 301, BT_KIND_TCP, BT_DIR_SEND, 500, &st, &c);
	bt_model_sort(m);
	assert_int_equal(bt_node_of(m, 301), 301);
	assert_int_equal(bt_node_of(m, 300), 300);
	assert_int_equal(bt_node_of(m, 401), 401);
	assert_int_equal(bt_node_of(m, 400), 400);
}

/*
 * Two tiers whose connection the kernel could not name (opened before the
 * trace, the far end traced later): a client of a service the other
 * serves is not its pool mate either.
 */
static void test_pool_not_a_client_of_the_other(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000, "127.0.0.1",
					47001);
	struct bt_chan_info sv = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 47001, "127.0.0.1",
					 40000);
	struct bt_stats cst = tu_stats(1, 100, 0), sst = tu_stats(1, 100, 0);
	struct bt_proc *p;

	for (uint32_t pid = 500; pid <= 501; pid++) {
		p = tu_proc(m, pid, "node");
		snprintf(p->exe, sizeof(p->exe), "/usr/bin/node");
		p->ppid = 499;
	}
	m->group_exe = true;
	cst.role = BT_ROLE_CLIENT;
	sst.role = BT_ROLE_SERVER;
	/* The back serves 47001; the front's row there is a server's too: alike. */
	tu_row(m, 500, BT_KIND_TCP, BT_DIR_SEND, 600, &sst, &sv);
	bt_model_sort(m);
	assert_int_equal(bt_node_of(m, 501), 500);
	tu_row(m, 501, BT_KIND_TCP, BT_DIR_SEND, 601, &cst, &c);
	bt_model_sort(m);
	assert_int_equal(bt_node_of(m, 501), 501);
	assert_int_equal(bt_node_of(m, 500), 500);
}

/* The far end the kernel named at the first crossing, when nothing else pairs. */
static void test_kernel_named_far_end(void **state)
{
	struct bt_model *m = *state;
	struct bt_chan_info u = tu_unix(BT_KIND_UNIX_STREAM, 0, "/run/redis.sock");
	struct bt_chan_info t = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 41000, "127.0.0.1",
					6379);
	struct bt_stats st = tu_stats(3, 30, 0);
	struct bt_peer peers[BT_PEERS_MAX];
	struct bt_proc *p;

	p = tu_proc(m, 10, "client");
	u.peer_tgid = 77;
	t.peer_tgid = 78;
	t.role = BT_ROLE_CLIENT;
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 1, &st, &u);
	tu_row(m, 10, BT_KIND_TCP, BT_DIR_SEND, 2, &st, &t);
	/* The process named is in the model, untraced, for its name. */
	tu_proc(m, 77, "redis-server");
	bt_model_sort(m);
	p = bt_model_find(m, 10);
	assert_int_equal(bt_row_peers(m, p, &p->rows[0], peers, BT_PEERS_MAX), 1);
	assert_int_equal(peers[0].pid, 77);
	assert_string_equal(peers[0].proc->comm, "redis-server");
	assert_int_equal(bt_row_peers(m, p, &p->rows[1], peers, BT_PEERS_MAX), 1);
	assert_int_equal(peers[0].pid, 78);
	assert_null(peers[0].proc);
	/* Roles: named on the command line, a followed child, else a peer. */
	assert_string_equal(bt_proc_role(p), "peer");
	p->target = true;
	assert_string_equal(bt_proc_role(p), "target");
	p->child = true;
	assert_string_equal(bt_proc_role(p), "child");
}

/*
 * A service line's connections: opened during the trace, closed during
 * it, alive at its end, from each socket's census flags; a count is
 * stated only when every connection's is known.
 */
static void test_connection_lives(void **state)
{
	struct bt_model *m = *state;
	static const uint8_t conn[4] = {
		BT_CONN_NEW | BT_CONN_GONE, BT_CONN_NEW | BT_CONN_GONE,
		BT_CONN_NEW | BT_CONN_ALIVE, BT_CONN_OLD | BT_CONN_ALIVE,
	};
	struct bt_stats st = tu_stats(1, 10, 0);
	struct bt_edges e;

	tu_proc(m, 10, "client");
	tu_proc(m, 20, "server");
	for (unsigned int i = 0; i < 4; i++) {
		struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000 + i,
						"127.0.0.1", 80);

		c.role = BT_ROLE_CLIENT;
		c.peer_tgid = 20;
		c.conn = conn[i];
		tu_row(m, 10, BT_KIND_TCP, BT_DIR_SEND, 1000 + i, &st, &c);
	}
	/* A second service whose last connection's end the census did not see. */
	for (unsigned int i = 0; i < 2; i++) {
		struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 41000 + i,
						"127.0.0.1", 81);

		c.role = BT_ROLE_CLIENT;
		c.peer_tgid = 20;
		c.conn = i ? BT_CONN_NEW : BT_CONN_NEW | BT_CONN_GONE;
		tu_row(m, 10, BT_KIND_TCP, BT_DIR_SEND, 2000 + i, &st, &c);
	}
	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.v[0].service, "tcp:127.0.0.1:80");
	assert_true(e.v[0].opened_known && e.v[0].ended_known);
	assert_int_equal(e.v[0].opened, 3);
	assert_int_equal(e.v[0].closed, 2);
	assert_int_equal(e.v[0].alive, 2);
	assert_string_equal(e.v[1].service, "tcp:127.0.0.1:81");
	assert_true(e.v[1].opened_known);
	assert_int_equal(e.v[1].opened, 2);
	assert_false(e.v[1].ended_known);
	bt_edges_free(&e);
}

/*
 * Exchanges on a service line: each connection's histogram summed into
 * the edge (a client counts them on its receive rows), and p50/p99 taken
 * from the merged buckets, never averaged from the connections' own.
 */
static void test_exchanges_summed(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats req = tu_stats(3, 30, 0), a = tu_stats(3, 30, 0), b = tu_stats(1, 10, 0);
	__u64 merged[BT_HIST_SLOTS] = { 0 };
	struct bt_edges e;

	tu_proc(m, 10, "client");
	tu_proc(m, 20, "server");
	/* Connection A: 3 exchanges of 1-2 µs; B: 1 of about 1 ms. */
	a.role = b.role = BT_ROLE_CLIENT;
	a.exchanges = 3;
	a.exch_ns = 3 * 1500;
	a.max_exch_ns = 1600;
	a.exch_hist[10] = 3;
	b.exchanges = 1;
	b.exch_ns = 1100000;
	b.max_exch_ns = 1100000;
	b.exch_hist[20] = 1;
	for (unsigned int i = 0; i < 2; i++) {
		struct bt_chan_info c = tu_unix(BT_KIND_UNIX_STREAM, 500 + i, "/run/s.sock");

		c.peer_tgid = 20;
		tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 100 + i, &req, &c);
		tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 100 + i, i ? &b : &a, &c);
	}
	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].service, "unix:/run/s.sock");
	assert_int_equal(e.v[0].nconns, 2);
	assert_int_equal(e.v[0].exchanges, 4);
	assert_int_equal(e.v[0].exch_ns, 3 * 1500 + 1100000);
	merged[10] = 3;
	merged[20] = 1;
	assert_memory_equal(e.v[0].exch_hist, merged, sizeof(merged));
	assert_int_equal(e.v[0].max_exch_ns, 1100000);
	assert_int_equal(e.v[0].role, BT_ROLE_CLIENT);
	/*
	 * p50 in the 1-2 µs bucket, p99 in the 1 ms one: from the merged
	 * buckets (an average of A's and B's own p99s would be about 0.5 ms).
	 */
	assert_int_equal(bt_hist_percentile_max(e.v[0].exch_hist, 0.50, e.v[0].max_exch_ns),
			 bt_hist_percentile_max(merged, 0.50, 1100000));
	assert_in_range(bt_hist_percentile_max(e.v[0].exch_hist, 0.50, e.v[0].max_exch_ns),
			1024, 2047);
	assert_in_range(bt_hist_percentile_max(e.v[0].exch_hist, 0.99, e.v[0].max_exch_ns),
			1 << 20, 1100000);
	bt_edges_free(&e);
}

/*
 * Both ends traced on thousands of connections (a recording of a busy
 * service): each sending row is checked against exactly its own far end
 * (the pairing indexes find it; a scan found it too, at rows x rows), so
 * every figure is exact: bytes each end saw, the receiver's waits summed
 * once per connection, the wakeups of each connection, the unseen bytes
 * of the few connections whose ends disagree. A unix client that wrote
 * before the accept (its row names no peer) is found from the server's
 * row.
 */
#define MANY	3000

static void test_many_connections_both_ends_traced(void **state)
{
	struct bt_model *m = *state;
	uint64_t sent = 0, waits = 0, wakeups = 0, unseen = 0;
	struct bt_edges e;

	tu_proc(m, 1, "client")->target = true;
	tu_proc(m, 2, "server")->target = true;
	for (unsigned int i = 0; i < MANY; i++) {
		struct bt_chan_info c = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 20000 + i,
						"127.0.0.1", 5432);
		struct bt_chan_info s = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 5432,
						"127.0.0.1", 20000 + i);
		struct bt_chan_info uc = tu_unix(BT_KIND_UNIX_STREAM, 0, "/s");
		struct bt_chan_info us = tu_unix(BT_KIND_UNIX_STREAM, 300000 + i, "/s");
		/* One connection in a hundred lost 3 bytes at the receiving end. */
		uint64_t lost = i % 100 == 7 ? 3 : 0;
		struct bt_stats req = tu_stats(1, 100 + i, 0), got = tu_stats(1, 100 + i - lost, i + 1);
		struct bt_stats reply = tu_stats(1, 10, 0), ans = tu_stats(1, 10, 2);
		struct bt_stats u = tu_stats(1, 50, 1);

		tu_row(m, 1, BT_KIND_TCP, BT_DIR_SEND, 100000 + i, &req, &c);
		tu_row(m, 1, BT_KIND_TCP, BT_DIR_RECV, 100000 + i, &ans, &c);
		tu_row(m, 2, BT_KIND_TCP, BT_DIR_RECV, 200000 + i, &got, &s);
		tu_row(m, 2, BT_KIND_TCP, BT_DIR_SEND, 200000 + i, &reply, &s);
		uc.peer_tgid = 2;
		tu_row(m, 1, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 300000 + i, &u, &uc);
		tu_row(m, 2, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 400000 + i, &u, &us);
		if (i % 5)
			tu_wake(m, 1, 2, BT_KIND_TCP, BT_DIR_SEND, 100000 + i, i % 5);
		sent += 100 + i;
		waits += i + 1;
		wakeups += i % 5;
		unseen += lost;
	}
	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 3);
	/* 1 -> 2 over the unix socket: the server's rows named the client's sockets. */
	assert_int_equal(e.v[0].kind, BT_KIND_UNIX_STREAM);
	assert_int_equal(e.v[0].nconns, MANY);
	assert_int_equal(e.v[0].blocked_ns, MANY);
	assert_int_equal(e.v[0].unseen_bytes, 0);
	for (size_t k = 0; k < e.v[0].nconns; k++) {
		assert_true(e.v[0].conns[k].recv_known);
		assert_int_equal(e.v[0].conns[k].recv_bytes, 50);
	}
	assert_int_equal(e.v[1].from, 1);
	assert_int_equal(e.v[1].kind, BT_KIND_TCP);
	assert_string_equal(e.v[1].service, "tcp:127.0.0.1:5432");
	assert_int_equal(e.v[1].nconns, MANY);
	assert_int_equal(e.v[1].bytes, sent);
	assert_int_equal(e.v[1].blocked_ns, waits);
	assert_int_equal(e.v[1].wakeups, wakeups);
	assert_int_equal(e.v[1].unseen_bytes, unseen);
	assert_int_equal(unseen, 3 * (MANY / 100));
	for (size_t k = 0; k < e.v[1].nconns; k++) {
		const struct bt_svc_conn *c = &e.v[1].conns[k];
		uint64_t i = c->row->key.chan - 100000;

		assert_true(c->recv_known);
		assert_int_equal(c->bytes, 100 + i);
		assert_int_equal(c->recv_bytes, 100 + i - (i % 100 == 7 ? 3 : 0));
	}
	/* The replies: both ends agree on every one. */
	assert_int_equal(e.v[2].from, 2);
	assert_int_equal(e.v[2].to, 1);
	assert_int_equal(e.v[2].nconns, MANY);
	assert_int_equal(e.v[2].bytes, 10 * MANY);
	assert_int_equal(e.v[2].blocked_ns, 2 * MANY);
	assert_int_equal(e.v[2].unseen_bytes, 0);
	assert_int_equal(e.unseen_bytes, unseen);
	bt_edges_free(&e);
}

#define WORDS	2000
#define WAKER_A	0x7f0000000000ull	/* the words as the waker maps them */
#define WAITER_B 0x7e0000000000ull	/* the same words in the waiter */
#define POOL_C	0x7d0000000000ull	/* a thread pool's own words */

/*
 * Futex wakes across thousands of words: each edge (one per word) carries
 * the waiter's wait on that word only, found through the kernel's link
 * for a shared word (another address in the waiter) and by the word
 * itself within a thread pool; wakeups counted per word. A wait woken by
 * several processes names them in the order their wakes were recorded.
 */
static void test_futex_wakes_across_many_words(void **state)
{
	struct bt_model *m = *state;
	struct bt_peer peers[BT_PEERS_MAX];
	struct bt_stats one = tu_stats(1, 0, 0);
	const struct bt_proc *p;
	struct bt_edges e;

	tu_proc(m, 700, "producer")->target = true;
	tu_proc(m, 701, "consumer")->target = true;
	tu_proc(m, 800, "pool")->target = true;
	for (unsigned int i = 0; i < WORDS; i++) {
		struct bt_stats wait = tu_stats(1, 0, 1000 + i), own = tu_stats(1, 0, 5 + i);

		tu_row(m, 700, BT_KIND_FUTEX, BT_DIR_WAKE, WAKER_A + 8 * i, &one, NULL);
		tu_row(m, 701, BT_KIND_FUTEX, BT_DIR_WAIT, WAITER_B + 16 * i, &wait, NULL);
		tu_futex_link(m, 700, WAKER_A + 8 * i, 701, WAITER_B + 16 * i);
		tu_wake(m, 700, 701, BT_KIND_FUTEX, BT_DIR_WAKE, WAKER_A + 8 * i, i % 4 + 1);
		/* A wakeup inside a wait is not the futex's: neither counted nor a peer. */
		tu_wake(m, 700, 701, BT_KIND_FUTEX, BT_DIR_WAIT, WAKER_A + 8 * i, 1000);
		tu_row(m, 800, BT_KIND_FUTEX, BT_DIR_WAKE, POOL_C + 8 * i, &one, NULL);
		tu_row(m, 800, BT_KIND_FUTEX, BT_DIR_WAIT, POOL_C + 8 * i, &own, NULL);
		tu_wake(m, 800, 800, BT_KIND_FUTEX, BT_DIR_WAKE, POOL_C + 8 * i, 1);
	}
	/*
	 * The pool's first word: the kernel linked its wakes to another
	 * word (a requeue, whose waits it never made), so the wait on the
	 * word itself is not that edge's: a link overrules the same word.
	 */
	tu_futex_link(m, 800, POOL_C, 800, POOL_C + 4);
	/* 900 waits on one word: woken by 901, by itself there, by 902. */
	tu_proc(m, 900, "w")->target = true;
	tu_row(m, 900, BT_KIND_FUTEX, BT_DIR_WAIT, 0x90, &one, NULL);
	tu_wake(m, 901, 900, BT_KIND_FUTEX, BT_DIR_WAKE, 0x10, 1);
	tu_wake(m, 900, 900, BT_KIND_FUTEX, BT_DIR_WAKE, 0x98, 1);	/* another word */
	tu_wake(m, 900, 900, BT_KIND_FUTEX, BT_DIR_WAKE, 0x90, 1);
	tu_wake(m, 902, 900, BT_KIND_FUTEX, BT_DIR_WAKE, 0x20, 1);
	p = bt_model_find(m, 900);
	assert_int_equal(bt_row_peers(m, p, &p->rows[0], peers, BT_PEERS_MAX), 3);
	assert_int_equal(peers[0].pid, 901);
	assert_int_equal(peers[1].pid, 900);
	assert_int_equal(peers[2].pid, 902);

	bt_model_sort(m);
	assert_int_equal(bt_edges_build(m, &e), 0);
	assert_int_equal(e.n, 2 * WORDS);
	for (size_t k = 0; k < WORDS; k++) {
		const struct bt_edge *x = &e.v[k];
		uint64_t i = (x->conns[0].row->key.chan - WAKER_A) / 8;

		assert_int_equal(x->from, 700);
		assert_int_equal(x->to, 701);
		assert_int_equal(x->nconns, 1);
		assert_int_equal(x->wakeups, i % 4 + 1);
		/* The wait on this word only, once. */
		assert_int_equal(x->blocked_ns, 1000 + i);
	}
	for (size_t k = WORDS; k < 2 * WORDS; k++) {
		const struct bt_edge *x = &e.v[k];
		uint64_t i = (x->conns[0].row->key.chan - POOL_C) / 8;

		assert_int_equal(x->from, 800);
		assert_int_equal(x->to, 800);
		assert_int_equal(x->wakeups, 1);
		assert_int_equal(x->blocked_ns, i ? 5 + i : 0);
	}
	bt_edges_free(&e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_model_setup, tu_model_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_service_names),
		T(test_listening_port_kept),
		T(test_connections_fold_into_a_service),
		T(test_unseen_bytes),
		T(test_unseen_from_the_receiving_side),
		T(test_unix_pairs_from_either_end),
		T(test_pool_folding),
		T(test_pool_not_tiers_or_services),
		T(test_pool_not_a_client_of_the_other),
		T(test_kernel_named_far_end),
		T(test_connection_lives),
		T(test_exchanges_summed),
		T(test_many_connections_both_ends_traced),
		T(test_futex_wakes_across_many_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
