// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Merged recordings on hand-built models: each host's pids and inodes
 * kept apart, names host:comm, a TCP connection between hosts stitched by
 * its mirrored tuples while two hosts' loopback connections are not, the
 * clock offset found from stitched receives (and only from the wall
 * clocks when there are none), and the refusals: one host twice, two
 * format versions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyze/clocks.h"
#include "analyze/peers.h"
#include "model/model.h"
#include "record/merge.h"
#include "record/record.h"
#include "testutil.h"

#define ERRLEN 512
/* Host b's monotonic clock runs this far ahead of a's. */
#define SKEW 5000000ll

static void write_rec(const char *path, const char *host, const struct bt_model *m,
		      uint64_t wall, uint64_t mono)
{
	struct bt_rec_info info = { .start_ns = wall, .mono_ns = mono };
	struct bt_rec_writer *w;
	char err[ERRLEN];

	snprintf(info.host, sizeof(info.host), "%s", host);
	snprintf(info.version, sizeof(info.version), "test");
	w = bt_rec_open(path, true, &info, err, sizeof(err));
	if (!w)
		fail_msg("%s", err);
	assert_int_equal(bt_rec_write_model(w, m, err, sizeof(err)), 0);
	assert_int_equal(bt_rec_close(w, err, sizeof(err)), 0);
}

static void episode(struct bt_model *m, uint32_t pid, uint64_t chan, uint64_t start,
		    uint64_t end)
{
	struct bt_episode_ev e = { .pid = pid, .tid = pid, .kind = BT_KIND_TCP,
				   .dir = BT_DIR_RECV, .chan = chan, .start_ns = start,
				   .end_ns = end };

	assert_int_equal(bt_model_add_episode(m, &e), 0);
}

/*
 * Host a: client[100] on 10.0.0.1:40000 -> 10.0.0.2:80 (socket inode 7),
 * and a loopback pair 127.0.0.1:5000 <-> :6000 of its own (pid 101).
 * Host b: server[100] (same pid!) on the mirrored tuple (inode 7 too),
 * and its own loopback 127.0.0.1:6000 -> :5000 (pid 102).
 * Ping-pong: the client's receives end at 1000, 2000, ... (a's clock);
 * the server's at 1500, 2500, ... on a's timeline, i.e. + SKEW on b's.
 */
static void build(struct bt_model *a, struct bt_model *b, int episodes)
{
	struct bt_chan_info ca = tu_inet(BT_KIND_TCP, AF_INET, "10.0.0.1", 40000, "10.0.0.2", 80);
	struct bt_chan_info cb = tu_inet(BT_KIND_TCP, AF_INET, "10.0.0.2", 80, "10.0.0.1", 40000);
	struct bt_chan_info la = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 5000, "127.0.0.1", 6000);
	struct bt_chan_info lb = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 6000, "127.0.0.1", 5000);
	struct bt_stats req = tu_stats(10, 1000, 0), rep = tu_stats(10, 100, 0);

	bt_model_init(a);
	bt_model_init(b);
	tu_proc(a, 100, "client")->target = true;
	tu_proc(a, 101, "cache")->target = true;
	tu_proc(b, 100, "server")->target = true;
	tu_proc(b, 102, "agent")->target = true;
	tu_row(a, 100, BT_KIND_TCP, BT_DIR_SEND, 7, &req, &ca);
	tu_row(a, 100, BT_KIND_TCP, BT_DIR_RECV, 7, &rep, &ca);
	tu_row(b, 100, BT_KIND_TCP, BT_DIR_RECV, 7, &req, &cb);
	tu_row(b, 100, BT_KIND_TCP, BT_DIR_SEND, 7, &rep, &cb);
	tu_row(a, 101, BT_KIND_TCP, BT_DIR_SEND, 8, &req, &la);
	tu_row(b, 102, BT_KIND_TCP, BT_DIR_SEND, 9, &req, &lb);
	for (int k = 1; k <= episodes; k++) {
		episode(a, 100, 7, k * 1000 - 400, k * 1000);
		episode(b, 100, 7, k * 1000 + 100 + SKEW, k * 1000 + 500 + SKEW);
	}
	a->duration_ns = b->duration_ns = 1000000;
	bt_model_sort(a);
	bt_model_sort(b);
}

static void merge_two(struct tu_tmp *t, struct bt_model *m, int episodes, int64_t wall_skew)
{
	const char *paths[2];
	char pa[128], pb[128], warn[ERRLEN], err[ERRLEN];
	struct bt_model a, b;

	build(&a, &b, episodes);
	snprintf(pa, sizeof(pa), "%s", tu_in_dir(t, "a.btrec"));
	snprintf(pb, sizeof(pb), "%s", tu_in_dir(t, "b.btrec"));
	/* The same wall instant; b's monotonic clock SKEW ahead (wall_skew: the wall clocks disagree). */
	write_rec(pa, "host-a", &a, 1000000000000ull, 1000);
	write_rec(pb, "host-b", &b, 1000000000000ull + wall_skew, 1000 + SKEW);
	bt_model_free(&a);
	bt_model_free(&b);
	paths[0] = pa;
	paths[1] = pb;
	bt_model_init(m);
	if (bt_rec_merge(paths, 2, m, warn, sizeof(warn), err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(warn, "");
	assert_int_equal(bt_clocks_align(m), 0);
	bt_model_sort(m);
}

static const struct bt_proc *named(const struct bt_model *m, const char *comm)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (!strcmp(m->procs[i].comm, comm))
			return &m->procs[i];
	fail_msg("no process %s", comm);
	return NULL;
}

static void test_hosts_apart_and_stitched(void **state)
{
	struct bt_peer peers[BT_PEERS_MAX];
	const struct bt_proc *client, *server, *cache;
	struct bt_model m;
	struct bt_edges e;

	merge_two(*state, &m, 0, 0);
	assert_int_equal(m.nhosts, 2);
	assert_string_equal(m.hosts[0].name, "host-a");
	assert_string_equal(m.hosts[1].name, "host-b");
	client = named(&m, "host-a:client");
	server = named(&m, "host-b:server");
	cache = named(&m, "host-a:cache");
	/* Both were pid 100 on their hosts. */
	assert_int_equal(client->pid, 100);
	assert_int_equal(server->pid, BT_HOST_PID_STRIDE + 100);
	/* Both sockets were inode 7: kept apart, named as their hosts wrote them. */
	assert_int_not_equal(client->rows[0].key.chan, server->rows[0].key.chan);
	assert_string_equal(client->rows[0].channel, "tcp:10.0.0.1:40000->10.0.0.2:80");
	/* The mirrored tuple pairs across hosts... */
	assert_int_equal(bt_row_peers(&m, client, &client->rows[0], peers, BT_PEERS_MAX), 1);
	assert_int_equal(peers[0].pid, server->pid);
	/* ...two hosts' loopback connections do not: each stays an address. */
	assert_int_equal(bt_row_peers(&m, cache, &cache->rows[0], peers, BT_PEERS_MAX), 1);
	assert_int_equal(peers[0].pid, 0);
	assert_string_equal(peers[0].addr, "127.0.0.1:6000");
	assert_int_equal(bt_edges_build(&m, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.v[0].from, client->pid);
	assert_int_equal(e.v[0].to, server->pid);
	assert_int_equal(e.v[0].bytes, 1000);
	assert_int_equal(e.v[1].from, server->pid);
	assert_int_equal(e.v[1].bytes, 100);
	bt_edges_free(&e);
	/* No episodes: the wall clocks alone, and the report says so. */
	assert_int_equal(m.hosts[1].clock_from, BT_CLOCK_WALL);
	assert_int_equal(m.hosts[1].clock_offset_ns, SKEW);
	bt_model_free(&m);
}

/*
 * Each server receive ends between two client receive ends: 1500 + SKEW
 * lies in (1000, 2000) + θ, so θ in (SKEW - 500, SKEW + 500) from every
 * exchange; the middle is SKEW exactly.
 */
static void test_clock_from_stitched_receives(void **state)
{
	struct bt_model m;

	merge_two(*state, &m, 20, 0);
	assert_int_equal(m.hosts[0].clock_from, BT_CLOCK_REFERENCE);
	assert_int_equal(m.hosts[1].clock_from, BT_CLOCK_STITCHED);
	assert_int_equal(m.hosts[1].clock_offset_ns, SKEW);
	assert_int_equal(m.hosts[1].clock_error_ns, 500);
	assert_true(m.hosts[1].clock_samples >= 19);
	/* b's episodes are on a's timeline now. */
	for (size_t i = 0; i < m.nepisodes; i++)
		if (bt_host_of_pid(m.episodes[i].pid) == 1)
			assert_true(m.episodes[i].end_ns % 1000 == 500);
	bt_model_free(&m);
}

/* Wall clocks 200 ns apart (within an exchange): the receives still find SKEW. */
static void test_clock_despite_wall_skew(void **state)
{
	struct bt_model m;

	merge_two(*state, &m, 20, 200);
	assert_int_equal(m.hosts[1].clock_from, BT_CLOCK_STITCHED);
	assert_int_equal(m.hosts[1].clock_offset_ns, SKEW);
	bt_model_free(&m);
}

static void test_refusals(void **state)
{
	struct tu_tmp *t = *state;
	char pa[128], pb[128], warn[ERRLEN], err[ERRLEN], msg[2 * ERRLEN];
	const char *paths[2] = { pa, pb };
	struct bt_model a, b, m;

	build(&a, &b, 0);
	snprintf(pa, sizeof(pa), "%s", tu_in_dir(t, "one.btrec"));
	snprintf(pb, sizeof(pb), "%s", tu_in_dir(t, "two.btrec"));
	write_rec(pa, "same", &a, 1, 1);
	write_rec(pb, "same", &b, 1, 1);
	bt_model_init(&m);
	assert_int_equal(bt_rec_merge(paths, 2, &m, warn, sizeof(warn), err, sizeof(err)), -1);
	snprintf(msg, sizeof(msg), "%s and %s were both recorded on host same: merge recordings "
		 "of different hosts", pa, pb);
	assert_string_equal(err, msg);
	assert_null(strchr(err, '\n'));
	bt_model_free(&m);
	/* A file that is not a recording: the reader's one-line error. */
	snprintf(pb, sizeof(pb), "%s", tu_in_dir(t, "junk.btrec"));
	{
		FILE *f = fopen(pb, "w");

		assert_non_null(f);
		fputs("not a recording\n", f);
		fclose(f);
	}
	bt_model_init(&m);
	assert_int_equal(bt_rec_merge(paths, 2, &m, warn, sizeof(warn), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "junk.btrec"));
	assert_null(strchr(err, '\n'));
	bt_model_free(&m);
	bt_model_free(&a);
	bt_model_free(&b);
}

static int setup(void **state)
{
	return tu_tmp_setup(state, "/tmp/bt-merge-XXXXXX");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hosts_apart_and_stitched, setup,
						tu_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_clock_from_stitched_receives, setup,
						tu_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_clock_despite_wall_skew, setup,
						tu_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, tu_tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
