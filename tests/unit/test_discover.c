// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * discover: a round scans every process only when its question (the
 * targets, their fds, the model's rows) changed, or when the rounds it
 * waits (twice as many after each scan that found nothing new) are over.
 * The test process is the target; a scan shows as ticks (one a process).
 * The inet tables are read again only while a target's inet socket is
 * not settled in the last ones read.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "discover/discover.h"

static int added;

static int add(void *ctx, uint32_t pid, int hop)
{
	(void)ctx;
	(void)pid;
	(void)hop;
	added++;
	return 0;
}

static void tick(void *ctx)
{
	(*(int *)ctx)++;
}

/* One round with the test process as the target; whether it scanned every process. */
static bool round_scanned(struct bt_model *m, struct bt_discovery *d, bool force)
{
	int ticks = 0;

	assert_int_equal(bt_discover_round(m, d, force, 1, add, NULL, tick, &ticks), 0);
	return ticks > 0;
}

static void test_scan_waits_while_nothing_changes(void **state)
{
	/* Scanned (1) or skipped (0), round after round, with nothing new. */
	static const bool want[] = { 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct bt_discovery d = { 0 };
	struct bt_model m;
	struct bt_proc *p;
	int fds[2], more[2];

	(void)state;
	bt_model_init(&m);
	p = bt_model_proc(&m, (uint32_t)getpid());
	assert_non_null(p);
	p->target = true;
	/* A pipe the target holds both ends of: its own far end, nothing to follow. */
	assert_int_equal(pipe(fds), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(round_scanned(&m, &d, false), want[i]);
	/* The wait is at most BT_DISCOVER_MAX_SPAN rounds. */
	for (int i = 1; i < BT_DISCOVER_MAX_SPAN; i++)
		assert_false(round_scanned(&m, &d, false));
	assert_true(round_scanned(&m, &d, false));
	/* Forced: the last round of a trace. */
	assert_false(round_scanned(&m, &d, false));
	assert_true(round_scanned(&m, &d, true));
	/* A new fd is a new question: the next round scans, and the one after. */
	assert_false(round_scanned(&m, &d, false));
	assert_int_equal(pipe(more), 0);
	assert_true(round_scanned(&m, &d, false));
	assert_true(round_scanned(&m, &d, false));
	assert_false(round_scanned(&m, &d, false));
	/* So is a closed one. */
	close(more[0]);
	close(more[1]);
	assert_true(round_scanned(&m, &d, false));
	assert_int_equal(added, 0);
	close(fds[0]);
	close(fds[1]);
	bt_discovery_free(&d);
	bt_model_free(&m);
}

/* A TCP socket on 127.0.0.1: listening (port 0: any) or connected to port. */
static int tcp_socket(bool listening, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listening) {
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(fd, 4), 0);
	} else {
		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

/* A forced round (every process scanned); the inet tables' reads so far. */
static uint64_t inet_reads_after_round(struct bt_model *m, struct bt_discovery *d)
{
	assert_true(round_scanned(m, d, true));
	return d->inet_reads;
}

static void test_inet_tables_read_until_settled(void **state)
{
	struct bt_discovery d = { 0 };
	struct bt_model m;
	struct bt_proc *p;
	int lfd, cfd, afd, bare;

	(void)state;
	bt_model_init(&m);
	p = bt_model_proc(&m, (uint32_t)getpid());
	assert_non_null(p);
	p->target = true;
	/* A listener alone: read once, then settled. */
	lfd = tcp_socket(true, 0);
	assert_int_equal(inet_reads_after_round(&m, &d), 1);
	assert_int_equal(inet_reads_after_round(&m, &d), 1);
	assert_int_equal(d.inet_reused, 1);
	/* A connection not accepted yet: its far socket has no file, read each round. */
	cfd = tcp_socket(false, port_of(lfd));
	assert_int_equal(inet_reads_after_round(&m, &d), 2);
	assert_int_equal(inet_reads_after_round(&m, &d), 3);
	/* Accepted: both ends are there with their files, settled. */
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(inet_reads_after_round(&m, &d), 4);
	assert_int_equal(inet_reads_after_round(&m, &d), 4);
	assert_int_equal(inet_reads_after_round(&m, &d), 4);
	assert_int_equal(d.inet_reused, 3);
	/* A socket not connected yet is never settled. */
	bare = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(bare >= 0);
	assert_int_equal(inet_reads_after_round(&m, &d), 5);
	assert_int_equal(inet_reads_after_round(&m, &d), 6);
	close(bare);
	assert_int_equal(inet_reads_after_round(&m, &d), 6);
	assert_int_equal(added, 0);
	close(afd);
	close(cfd);
	close(lfd);
	bt_discovery_free(&d);
	assert_null(d.inet);
	bt_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_waits_while_nothing_changes),
		cmocka_unit_test(test_inet_tables_read_until_settled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
