// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chains through the model (user/report_chains.c): episodes as the kernel
 * sends them, their channels named from the rows, `-f chains`, the JSON
 * `chains` list and the table's section; and the waker inferred for a
 * receive woken from softirq. The analysis itself is test_chains.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model/model.h"
#include "export/report.h"
#include "analyze/chain_input.h"
#include "export/report_chains.h"
#include "testutil.h"

#define US 1000ull
#define MS 1000000ull

#define FE	100	/* frontend */
#define MID	200	/* middle */
#define BE	300	/* backend */
#define LOG	400	/* logger: waits on a futex, nobody known wakes it */

#define FE_SOCK		11	/* frontend's unix socket, peer of MID_SOCK */
#define MID_SOCK	12
#define MID_TCP		21	/* 127.0.0.1:40000 -> 127.0.0.1:7000 */
#define BE_TCP		31	/* the mirror */
#define LOG_FUTEX	0x7f0000001000ull

#define UNIX_CHAN	"unix:/tmp/mid.sock[11->12]"
#define TCP_CHAN	"tcp:127.0.0.1:40000->127.0.0.1:7000"

static struct bt_proc *proc(struct bt_model *m, uint32_t pid, const char *comm)
{
	struct bt_proc *p = tu_proc(m, pid, comm);

	p->target = true;
	return p;
}

/* The channel facts of the three tiers: frontend, middle (unix), middle (tcp), backend. */
struct tier_chans {
	struct bt_chan_info fe, mid, mt, bt;
};

static struct tier_chans tier_chans(void)
{
	struct tier_chans t = {
		.fe = tu_unix(BT_KIND_UNIX_STREAM, MID_SOCK, "/tmp/mid.sock"),
		.mid = tu_unix(BT_KIND_UNIX_STREAM, FE_SOCK, "/tmp/mid.sock"),
		.mt = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000, "127.0.0.1", 7000),
		.bt = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 7000, "127.0.0.1", 40000),
	};

	return t;
}

/*
 * frontend asks middle over a unix socket and blocks 8.5 ms (woken at
 * 9 ms, running at 9.5); meanwhile middle asks backend over loopback TCP
 * twice, blocking 2.8 ms each (0.3 ms of it queueing). The backend's
 * wakeups of middle are given as tcp_waker_pid/tid (0: softirq).
 */
static void build_tiers(struct bt_model *m, uint32_t tcp_waker_pid, uint32_t tcp_waker_tid)
{
	struct tier_chans t = tier_chans();
	struct bt_stats req = tu_stats(1, 100, 0), fe_wait = tu_stats(1, 10, 8500 * US);
	struct bt_stats mid_wait = tu_stats(2, 20, 5600 * US), lw = tu_stats(1, 0, 3 * MS);

	bt_model_init(m);
	m->chain_mode = true;
	m->duration_ns = 17 * MS;
	proc(m, FE, "frontend");
	tu_row(m, FE, BT_KIND_UNIX_STREAM, BT_DIR_SEND, FE_SOCK, &req, &t.fe);
	tu_row(m, FE, BT_KIND_UNIX_STREAM, BT_DIR_RECV, FE_SOCK, &fe_wait, &t.fe);
	proc(m, MID, "middle");
	tu_row(m, MID, BT_KIND_UNIX_STREAM, BT_DIR_RECV, MID_SOCK, &req, &t.mid);
	tu_row(m, MID, BT_KIND_UNIX_STREAM, BT_DIR_SEND, MID_SOCK, &req, &t.mid);
	tu_row(m, MID, BT_KIND_TCP, BT_DIR_SEND, MID_TCP, &req, &t.mt);
	tu_row(m, MID, BT_KIND_TCP, BT_DIR_RECV, MID_TCP, &mid_wait, &t.mt);
	proc(m, BE, "backend");
	tu_row(m, BE, BT_KIND_TCP, BT_DIR_RECV, BE_TCP, &req, &t.bt);
	tu_row(m, BE, BT_KIND_TCP, BT_DIR_SEND, BE_TCP, &req, &t.bt);
	proc(m, LOG, "logger");
	tu_row(m, LOG, BT_KIND_FUTEX, BT_DIR_WAIT, LOG_FUTEX, &lw, NULL);

	tu_episode(m, FE, FE, BT_KIND_UNIX_STREAM, BT_DIR_RECV, FE_SOCK,
		1 * MS, 9 * MS, 9500 * US, MID, MID);
	tu_episode(m, MID, MID, BT_KIND_TCP, BT_DIR_RECV, MID_TCP,
		2 * MS, 4500 * US, 4800 * US, tcp_waker_pid, tcp_waker_tid);
	tu_episode(m, MID, MID, BT_KIND_TCP, BT_DIR_RECV, MID_TCP,
		5 * MS, 7500 * US, 7800 * US, tcp_waker_pid, tcp_waker_tid);
	tu_episode(m, LOG, LOG, BT_KIND_FUTEX, BT_DIR_WAIT, LOG_FUTEX,
		12 * MS, 0, 15 * MS, 0, 0);
	bt_model_sort(m);
}

/*
 * hop 0: 8.5 ms, 0.5 queueing, 5.6 waiting on hop 1, 2.4 middle's own;
 * hop 1: 2 x 2.8 ms, 0.6 queueing, 5.0 backend's own. 8.5 of 17 ms: 50%.
 */
#define CHAIN_LINE \
	"frontend[100] \u21e2 " UNIX_CHAN " \u21e2 middle[200] \u21e2 " TCP_CHAN \
	" \u21e2 backend[300]   50% of frontend's wall time blocked (1 episode, 8.5 ms); " \
	"per episode: 1 call to middle (p50 8.5 ms), 2 sequential calls to backend " \
	"(p50 2.8 ms each); middle self 28%, backend self 59%, queueing 13%"

static const char chain_line[] = CHAIN_LINE;

/*
 * middle's own two waits on backend are a chain of their own too (every
 * wait with a known waker is a root): 5.6 of 17 ms, 0.6 of it queueing.
 */
#define MID_CHAIN_LINE \
	"middle[200] \u21e2 " TCP_CHAN " \u21e2 backend[300]   33% of middle's wall time " \
	"blocked (2 episodes, 5.6 ms); per episode: 1 call to backend (p50 2.8 ms); " \
	"backend self 89%, queueing 11%"

static const char chains_json[] =
	"\"episodes\":4,\"chains\":[{\"hops\":["
	"{\"from\":{\"pid\":100,\"comm\":\"frontend\"},\"to\":{\"pid\":200,\"comm\":\"middle\"},"
	"\"kind\":\"unix_stream\",\"channel\":\"" UNIX_CHAN "\",\"calls\":1,"
	"\"calls_per_episode\":1,\"calls_min\":1,\"calls_p50\":1,\"calls_max\":1,"
	"\"blocked_ns\":8500000,\"p50_ns\":8500000,\"self_ns\":2400000,\"wait_ns\":5600000,"
	"\"other_ns\":0,\"queue_ns\":500000,\"fanout_calls\":0,\"fanout_save_ns\":0},"
	"{\"from\":{\"pid\":200,\"comm\":\"middle\"},\"to\":{\"pid\":300,\"comm\":\"backend\"},"
	"\"kind\":\"tcp\",\"channel\":\"" TCP_CHAN "\",\"calls\":2,"
	"\"calls_per_episode\":2,\"calls_min\":2,\"calls_p50\":2,\"calls_max\":2,"
	"\"blocked_ns\":5600000,\"p50_ns\":2800000,\"self_ns\":5000000,\"wait_ns\":0,"
	"\"other_ns\":0,\"queue_ns\":600000,\"fanout_calls\":0,\"fanout_save_ns\":0}],"
	"\"episodes\":1,\"blocked_ns\":8500000,\"share\":0.5,\"cycle\":false,\"cut\":false,\"source\":\"episodes\"},"
	"{\"hops\":["
	"{\"from\":{\"pid\":200,\"comm\":\"middle\"},\"to\":{\"pid\":300,\"comm\":\"backend\"},"
	"\"kind\":\"tcp\",\"channel\":\"" TCP_CHAN "\",\"calls\":2,"
	"\"calls_per_episode\":1,\"calls_min\":1,\"calls_p50\":1,\"calls_max\":1,"
	"\"blocked_ns\":5600000,\"p50_ns\":2800000,\"self_ns\":5000000,\"wait_ns\":0,"
	"\"other_ns\":0,\"queue_ns\":600000,\"fanout_calls\":0,\"fanout_save_ns\":0}],"
	"\"episodes\":2,\"blocked_ns\":5600000,\"share\":0.329412,\"cycle\":false,"
	"\"cut\":false,\"source\":\"episodes\"}],"
	"\"waits\":[{\"pid\":100,\"blocked\":{\"count\":1,\"blocked_ns\":8500000},"
	"\"dependency\":{\"count\":0,\"blocked_ns\":0},\"idle\":{\"count\":0,\"blocked_ns\":0},"
	"\"timeout\":{\"count\":0,\"blocked_ns\":0},\"signal\":{\"count\":0,\"blocked_ns\":0}},";

/* m's heaviest chain, formatted; the other is middle's own (MID_CHAIN_LINE). */
static void only_chain_line(const struct bt_model *m, char *buf, size_t len)
{
	struct bt_chains *c = bt_model_chains(m, NULL);
	char mid[2048];

	assert_non_null(c);
	assert_int_equal(c->nchains, 2);
	assert_true(bt_chains_format_line(&c->chains[1], mid, sizeof(mid)) < (int)sizeof(mid));
	assert_string_equal(mid, MID_CHAIN_LINE);
	assert_true(bt_chains_format_line(&c->chains[0], buf, len) < (int)len);
	bt_chains_free(c);
}

static void test_chains_output(void **state)
{
	struct bt_model m;
	char line[2048], *out;

	(void)state;
	build_tiers(&m, BE, BE);
	m.lost[BT_LOSS_EPISODES] = 2;
	only_chain_line(&m, line, sizeof(line));
	assert_string_equal(line, chain_line);
	out = tu_render(bt_report_chains, &m);
	assert_string_equal(out,
		"boundtrace: 4 blocking episodes in 17.0 ms; 2 synchronous chains\n"
		"\n" CHAIN_LINE "\n"
		"\n" MID_CHAIN_LINE "\n"
		/* The logger's wait: nobody known woke it. */
		"\n(1 episodes with no known waker, 0 cut by the trace's edges)\n"
		"\nwaits (blocking episodes by what they waited for):\n"
		"  frontend[100]: blocked 1 (8.5 ms)\n"
		"  middle[200]: blocked 2 (5.6 ms)\n"
		"  logger[400]: blocked 1 (3.0 ms)\n"
		"lost episodes: 2\n");
	free(out);
	bt_model_free(&m);
}

static void test_chains_json(void **state)
{
	struct bt_model m;
	char *out, *at;

	(void)state;
	build_tiers(&m, BE, BE);
	out = tu_render(bt_report_json, &m);
	at = strstr(out, "\"episodes\":4,\"chains\":");
	if (!at)
		fail_msg("no chains in:\n%s", out);
	assert_true(strncmp(at, chains_json, sizeof(chains_json) - 1) == 0);
	/* Just before the losses, after the edges. */
	assert_true(strstr(out, "\"edges\":[") < at);
	free(out);
	bt_model_free(&m);
}

static void test_chains_table(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_tiers(&m, BE, BE);
	out = tu_render(bt_report_table, &m);
	assert_non_null(strstr(out, "\nsynchronous chains (A \u21e2 B: A blocked until B answered), "
				    "heaviest first:\n  " CHAIN_LINE "\n  " MID_CHAIN_LINE "\n\n"));
	free(out);
	bt_model_free(&m);
}

/*
 * The backend waiting for its next request (idle: a server with nothing
 * outstanding) across the frontend's whole wait, woken by the middle's
 * first call, is not a chain root and nests nothing; a timed futex wait
 * that timed out has no waker. Both show in the waits.
 */
static void test_idle_and_timeout_waits(void **state)
{
	struct bt_episode_ev idle = {
		.pid = BE, .tid = BE, .kind = BT_KIND_TCP, .dir = BT_DIR_RECV, .chan = BE_TCP,
		.start_ns = 0, .wake_ns = 2100 * US, .end_ns = 2200 * US,
		.waker_pid = MID, .waker_tid = MID, .wait = BT_WAIT_IDLE,
	};
	struct bt_episode_ev timeout = {
		.pid = LOG, .tid = LOG, .kind = BT_KIND_FUTEX, .dir = BT_DIR_WAIT,
		.chan = LOG_FUTEX, .start_ns = 15 * MS, .end_ns = 16 * MS,
		.wait = BT_WAIT_TIMEOUT, .ret = -110,
	};
	struct bt_model m;
	struct bt_chains *c;
	char line[2048];

	(void)state;
	build_tiers(&m, BE, BE);
	assert_int_equal(bt_model_add_episode(&m, &idle), 0);
	assert_int_equal(bt_model_add_episode(&m, &timeout), 0);
	c = bt_model_chains(&m, NULL);
	assert_non_null(c);
	assert_int_equal(c->nchains, 2);
	assert_true(bt_chains_format_line(&c->chains[0], line, sizeof(line)) < (int)sizeof(line));
	assert_string_equal(line, CHAIN_LINE);
	assert_int_equal(c->nwaits, 4);
	assert_int_equal(c->waits[2].pid, BE);
	assert_int_equal(c->waits[2].n[BT_WAIT_IDLE], 1);
	assert_int_equal(c->waits[2].ns[BT_WAIT_IDLE], 2200 * US);
	assert_int_equal(c->waits[3].pid, LOG);
	assert_int_equal(c->waits[3].n[BT_WAIT_TIMEOUT], 1);
	assert_int_equal(c->waits[3].n[BT_WAIT_BLOCKED], 1);
	bt_chains_free(c);
	bt_model_free(&m);
}

static void test_not_chain_mode(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_tiers(&m, BE, BE);
	m.chain_mode = false;
	out = tu_render(bt_report_chains, &m);
	assert_string_equal(out, "no chains: traced with --no-chains\n");
	free(out);
	out = tu_render(bt_report_json, &m);
	assert_null(strstr(out, "\"chains\""));
	assert_null(strstr(out, "\"episodes\":4"));
	free(out);
	out = tu_render(bt_report_table, &m);
	assert_null(strstr(out, "synchronous chains"));
	free(out);
	bt_model_free(&m);
}

/* The hops of m's heaviest chain (the frontend's), and where it ends. */
static unsigned int top_hops(const struct bt_model *m, uint32_t *last)
{
	struct bt_chains *c = bt_model_chains(m, NULL);
	unsigned int n;

	assert_non_null(c);
	assert_true(c->nchains >= 1);
	assert_int_equal(c->chains[0].hops[0].from.pid, FE);
	n = c->chains[0].nhops;
	*last = c->chains[0].hops[n - 1].to.pid;
	bt_chains_free(c);
	return n;
}

/*
 * Loopback TCP woken from softirq: no waker, or whatever task the softirq
 * interrupted. The receive row's single peer, traced and single-threaded,
 * sent the data: it is the waker, and the chain is the same.
 */
static void test_softirq_waker_inferred(void **state)
{
	struct bt_model m;
	char line[2048];

	(void)state;
	build_tiers(&m, 0, 0);
	only_chain_line(&m, line, sizeof(line));
	assert_string_equal(line, chain_line);
	bt_model_free(&m);
	/* Interrupted an untraced task (not in the model). */
	build_tiers(&m, 999, 999);
	only_chain_line(&m, line, sizeof(line));
	assert_string_equal(line, chain_line);
	bt_model_free(&m);
	/* Interrupted a process that is in the model but not traced. */
	build_tiers(&m, 500, 500);
	tu_proc(&m, 500, "bystander");
	only_chain_line(&m, line, sizeof(line));
	assert_string_equal(line, chain_line);
	bt_model_free(&m);
}

static void test_softirq_waker_not_inferred(void **state)
{
	struct bt_model m;
	uint32_t last;

	(void)state;
	/* A traced waker is the answer, even if it is not the peer. */
	build_tiers(&m, LOG, LOG);
	assert_int_equal(top_hops(&m, &last), 2);
	assert_int_equal(last, LOG);
	bt_model_free(&m);

	/* The peer is not traced: nobody to name, the chain ends at middle. */
	build_tiers(&m, 0, 0);
	bt_model_find(&m, BE)->target = false;
	assert_int_equal(top_hops(&m, &last), 1);
	assert_int_equal(last, MID);
	bt_model_free(&m);

	/* The peer blocked in two threads: which one woke us is unknown. */
	build_tiers(&m, 0, 0);
	tu_episode(&m, BE, BE, BT_KIND_FUTEX, BT_DIR_WAIT, 0x10, 11 * MS, 0, 12 * MS, 0, 0);
	tu_episode(&m, BE, BE + 1, BT_KIND_FUTEX, BT_DIR_WAIT, 0x10, 13 * MS, 0, 14 * MS, 0, 0);
	assert_int_equal(top_hops(&m, &last), 1);
	assert_int_equal(last, MID);
	bt_model_free(&m);

	/* The same in one thread: inferred. */
	build_tiers(&m, 0, 0);
	tu_episode(&m, BE, BE, BT_KIND_FUTEX, BT_DIR_WAIT, 0x10, 11 * MS, 0, 12 * MS, 0, 0);
	tu_episode(&m, BE, BE, BT_KIND_FUTEX, BT_DIR_WAIT, 0x10, 13 * MS, 0, 14 * MS, 0, 0);
	assert_int_equal(top_hops(&m, &last), 2);
	assert_int_equal(last, BE);
	bt_model_free(&m);

	/* Two processes at the far end: no single sender. */
	build_tiers(&m, 0, 0);
	{
		struct bt_chan_info b2 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 7000,
						 "127.0.0.1", 40000);
		struct bt_stats st = tu_stats(1, 1, 0);

		proc(&m, 301, "backend2");
		tu_row(&m, 301, BT_KIND_TCP, BT_DIR_SEND, 41, &st, &b2);
		bt_model_sort(&m);
	}
	assert_int_equal(top_hops(&m, &last), 1);
	assert_int_equal(last, MID);
	bt_model_free(&m);
}

/* Only receives: a send that blocked was not woken by data from the peer. */
static void test_softirq_send_not_inferred(void **state)
{
	struct bt_model m;
	uint32_t last;

	(void)state;
	build_tiers(&m, 0, 0);
	for (size_t i = 0; i < m.nepisodes; i++)
		if (m.episodes[i].pid == MID)
			m.episodes[i].dir = BT_DIR_SEND;
	assert_int_equal(top_hops(&m, &last), 1);
	assert_int_equal(last, MID);
	bt_model_free(&m);
}

/* An empty chain-mode trace of duration_ns with frontend and middle traced. */
static void fe_mid_model(struct bt_model *m, uint64_t duration_ns)
{
	bt_model_init(m);
	m->chain_mode = true;
	m->duration_ns = duration_ns;
	proc(m, FE, "frontend");
	proc(m, MID, "middle");
}

/* One exchange record: tid completed it, req_tid started it (times in us). */
static void exchange(struct bt_model *m, uint32_t pid, uint32_t tid, uint32_t req_tid,
		     uint8_t role, uint8_t kind, uint64_t chan, uint64_t end_a, uint64_t end_b,
		     uint64_t req_us, uint64_t resp_us)
{
	struct bt_exchange_ev e = {
		.pid = pid, .tid = tid, .req_tid = req_tid, .role = role, .kind = kind,
		.type = BT_XREC_EXCHANGE, .chan = chan, .end_a = end_a, .end_b = end_b,
		.req_ns = req_us * US, .resp_ns = resp_us * US,
	};

	assert_int_equal(bt_model_add_exchange(m, &e), 0);
}

/* The kernel followed a pipe read: tid read at read_us what writer wrote at write_us. */
static void pipe_handoff(struct bt_model *m, uint32_t pid, uint32_t tid, uint32_t writer,
			 uint64_t chan, uint64_t write_us, uint64_t read_us)
{
	struct bt_exchange_ev e = {
		.pid = pid, .tid = tid, .req_tid = writer, .kind = BT_KIND_PIPE,
		.type = BT_XREC_HANDOFF, .chan = chan, .req_ns = write_us * US,
		.resp_ns = read_us * US,
	};

	assert_int_equal(bt_model_add_exchange(m, &e), 0);
}

/*
 * A pool middle (pid MID): its main thread MID reads two frontend
 * threads' requests and writes a job for each to a pipe; worker MID+1
 * takes the first and, leaving the second in the pipe, wakes worker
 * MID+2 (the kernel wakes the next reader), which takes the second. Each
 * worker makes one backend call and answers. The pipe records say who
 * wrote each job: MID+2's wakeup by MID+1 is no hand-off, and both
 * requests have their call.
 */
static void test_pool_next_reader_wake_is_no_handoff(void **state)
{
	struct tier_chans t = tier_chans();
	struct bt_stats one = tu_stats(1, 1, 0);
	const uint64_t pipe = 50;
	struct bt_chains *c;
	struct bt_model m;

	(void)state;
	fe_mid_model(&m, 2 * MS);
	proc(&m, BE, "backend");
	for (uint64_t i = 0; i < 2; i++) {
		tu_row(&m, FE, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 11 + 2 * i, &one, &t.fe);
		tu_row(&m, MID, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 12 + 2 * i, &one, &t.mid);
		tu_row(&m, MID, BT_KIND_TCP, BT_DIR_RECV, 21 + i, &one, &t.mt);
		tu_row(&m, BE, BT_KIND_TCP, BT_DIR_SEND, 31 + i, &one, &t.bt);
	}
	/* Requests from frontend threads FE and FE+1, read by MID at 20 and 40. */
	exchange(&m, FE, FE, FE, BT_ROLE_CLIENT, BT_KIND_UNIX_STREAM, 11, 11, 12, 0, 1000);
	exchange(&m, FE, FE + 1, FE + 1, BT_ROLE_CLIENT, BT_KIND_UNIX_STREAM, 13, 13, 14, 10, 1100);
	exchange(&m, MID, MID + 1, MID, BT_ROLE_SERVER, BT_KIND_UNIX_STREAM, 12, 12, 11, 20, 900);
	exchange(&m, MID, MID + 2, MID, BT_ROLE_SERVER, BT_KIND_UNIX_STREAM, 14, 14, 13, 40, 1050);
	/* Jobs written at 30 and 50; MID+1 reads at 60, waking MID+2, which reads at 70. */
	pipe_handoff(&m, MID, MID + 1, MID, pipe, 30, 60);
	pipe_handoff(&m, MID, MID + 2, MID, pipe, 50, 70);
	tu_episode(&m, MID, MID + 2, BT_KIND_PIPE, BT_DIR_RECV, pipe, 0, 60 * US, 70 * US,
		   MID, MID + 1);
	/* Each worker's backend call, on its own connection. */
	exchange(&m, MID, MID + 1, MID + 1, BT_ROLE_CLIENT, BT_KIND_TCP, 21, 21, 31, 100, 800);
	exchange(&m, BE, BE, BE, BT_ROLE_SERVER, BT_KIND_TCP, 31, 31, 21, 110, 790);
	exchange(&m, MID, MID + 2, MID + 2, BT_ROLE_CLIENT, BT_KIND_TCP, 22, 22, 32, 200, 1000);
	exchange(&m, BE, BE, BE, BT_ROLE_SERVER, BT_KIND_TCP, 32, 32, 22, 210, 990);
	bt_model_sort(&m);
	c = bt_model_chains(&m, NULL);
	assert_non_null(c);
	assert_true(c->nchains >= 1);
	assert_int_equal(c->chains[0].nhops, 2);
	assert_int_equal(c->chains[0].hops[0].from.pid, FE);
	assert_int_equal(c->chains[0].hops[1].to.pid, BE);
	assert_int_equal(c->chains[0].requests, 2);
	assert_int_equal(c->chains[0].hops[1].calls, 2);
	assert_int_equal(c->chains[0].hops[1].calls_min, 1);
	assert_int_equal(c->chains[0].hops[1].calls_max, 1);
	for (size_t i = 1; i < c->nchains; i++)
		assert_false(c->chains[i].exchanges);
	bt_chains_free(c);
	bt_model_free(&m);
}

/*
 * A pipe conversation: frontend writes its request on pipe 60, middle
 * answers on pipe 61. Both ends' exchange records make the chain; the
 * frontend's blocked read of the answer (woken by middle) is that
 * exchange's wait, not a chain of its own.
 */
static void test_pipe_conversation_waits_are_its_exchanges(void **state)
{
	struct bt_stats one = tu_stats(1, 64, 0), wait = tu_stats(1, 64, 900 * US);
	struct bt_chains *c;
	struct bt_model m;

	(void)state;
	fe_mid_model(&m, 2 * MS);
	tu_row(&m, FE, BT_KIND_PIPE, BT_DIR_SEND, 60, &one, NULL);
	tu_row(&m, FE, BT_KIND_PIPE, BT_DIR_RECV, 61, &wait, NULL);
	tu_row(&m, MID, BT_KIND_PIPE, BT_DIR_RECV, 60, &one, NULL);
	tu_row(&m, MID, BT_KIND_PIPE, BT_DIR_SEND, 61, &one, NULL);
	exchange(&m, FE, FE, FE, BT_ROLE_CLIENT, BT_KIND_PIPE, 61, 60, 61, 0, 1000);
	exchange(&m, MID, MID, MID, BT_ROLE_SERVER, BT_KIND_PIPE, 61, 61, 60, 20, 980);
	tu_episode(&m, FE, FE, BT_KIND_PIPE, BT_DIR_RECV, 61, 10 * US, 980 * US, 1000 * US,
		   MID, MID);
	bt_model_sort(&m);
	c = bt_model_chains(&m, NULL);
	assert_non_null(c);
	assert_int_equal(c->nchains, 1);
	assert_true(c->chains[0].exchanges);
	assert_int_equal(c->chains[0].requests, 1);
	assert_int_equal(c->chains[0].nhops, 1);
	assert_int_equal(c->chains[0].hops[0].kind, BT_KIND_PIPE);
	assert_int_equal(c->chains[0].hops[0].to.pid, MID);
	bt_chains_free(c);
	bt_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chains_output),
		cmocka_unit_test(test_chains_json),
		cmocka_unit_test(test_chains_table),
		cmocka_unit_test(test_idle_and_timeout_waits),
		cmocka_unit_test(test_not_chain_mode),
		cmocka_unit_test(test_softirq_waker_inferred),
		cmocka_unit_test(test_softirq_waker_not_inferred),
		cmocka_unit_test(test_softirq_send_not_inferred),
		cmocka_unit_test(test_pool_next_reader_wake_is_no_handoff),
		cmocka_unit_test(test_pipe_conversation_waits_are_its_exchanges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
