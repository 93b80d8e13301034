// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's per-connection exchange state machine (bpf/exchange_step.h,
 * the very code exchange.bpf.h runs) on synthetic call sequences: a
 * client's request and response, a request or a response in several
 * calls, pipelined requests, a server whose next request was already
 * there, end of file mid-request, a server-first protocol, roles from the
 * first writer, two connections interleaved on one thread, a TCP pool's
 * response stepped after the next request (the send sequence tells), and
 * the calls the machine ignores (errors, peeks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "exchange_step.h"

#define TID	7

/* A connection whose role the handshake (or accept/connect) told. */
static struct bt_conn conn_as(__u8 role)
{
	struct bt_conn cn = { .role = role, .role_src = BT_ROLE_SRC_SYSCALL };

	return cn;
}

/* One call; returns its latency if it completed an exchange, else -1. */
static long long call(struct bt_conn *cn, __u8 dir, __u64 bytes, __u32 tid, __u64 now)
{
	__u64 lat = 0xdead;

	if (!bt_exchange_step(cn, dir, bytes, tid, now, &lat)) {
		assert_int_equal(lat, 0xdead);	/* untouched when nothing completed */
		return -1;
	}
	return (long long)lat;
}

static long long snd(struct bt_conn *cn, __u64 bytes, __u64 now)
{
	return call(cn, BT_DIR_SEND, bytes, TID, now);
}

static long long rcv(struct bt_conn *cn, __u64 bytes, __u64 now)
{
	return call(cn, BT_DIR_RECV, bytes, TID, now);
}

static void client_request_response(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(snd(&cn, 100, 1000), -1);
	assert_int_equal(cn.phase, BT_PHASE_REQUEST);
	assert_int_equal(cn.req_ns, 1000);
	assert_int_equal(cn.req_tid, TID);
	assert_int_equal(rcv(&cn, 40, 1500), 500);	/* response time - request start */
	assert_int_equal(cn.phase, BT_PHASE_RESPONSE);
	assert_int_equal(cn.exchanges, 1);
	/* The next request starts at its own first send. */
	assert_int_equal(snd(&cn, 10, 2000), -1);
	assert_int_equal(cn.req_ns, 2000);
	assert_int_equal(rcv(&cn, 5, 2600), 600);
	assert_int_equal(cn.exchanges, 2);
	assert_int_equal(cn.sent, 110);
	assert_int_equal(cn.rcvd, 45);
	assert_int_equal(cn.role, BT_ROLE_CLIENT);
	assert_int_equal(cn.role_src, BT_ROLE_SRC_SYSCALL);
}

/* A request in several sends starts at the first, on the thread that sent it. */
static void request_in_several_sends(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(call(&cn, BT_DIR_SEND, 10, 3, 1000), -1);
	assert_int_equal(call(&cn, BT_DIR_SEND, 10, 4, 1100), -1);
	assert_int_equal(cn.req_ns, 1000);
	assert_int_equal(cn.req_tid, 3);
	assert_int_equal(call(&cn, BT_DIR_RECV, 1, 4, 1300), 300);
	assert_int_equal(cn.exchanges, 1);
}

/*
 * Pipelining: two requests written before the first response are one
 * exchange (docs/ARCHITECTURE.md, what exchanges cannot see), timed from
 * the first request; the second response is more of the first.
 */
static void pipelined_requests_are_one_exchange(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(snd(&cn, 20, 1000), -1);
	assert_int_equal(snd(&cn, 20, 1200), -1);
	assert_int_equal(rcv(&cn, 8, 1500), 500);
	assert_int_equal(rcv(&cn, 8, 1700), -1);
	assert_int_equal(cn.exchanges, 1);
	assert_int_equal(cn.phase, BT_PHASE_RESPONSE);
}

/* A response read in several calls completes one exchange, at the first. */
static void response_in_several_reads(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(snd(&cn, 20, 1000), -1);
	assert_int_equal(rcv(&cn, 4096, 1400), 400);
	assert_int_equal(rcv(&cn, 4096, 1410), -1);
	assert_int_equal(rcv(&cn, 100, 1420), -1);
	assert_int_equal(cn.exchanges, 1);
	assert_int_equal(cn.rcvd, 8292);
}

/*
 * The server's side: service time is request's first read -> response's
 * first send. Its next request was already queued when it sent the
 * response: that request starts at the read that takes it, not when it
 * arrived (the machine sees calls, not arrivals).
 */
static void server_next_request_already_there(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_SERVER);

	(void)state;
	assert_int_equal(call(&cn, BT_DIR_RECV, 30, 11, 1000), -1);
	assert_int_equal(cn.phase, BT_PHASE_REQUEST);
	assert_int_equal(cn.req_tid, 11);
	assert_int_equal(call(&cn, BT_DIR_SEND, 60, 11, 1300), 300);
	assert_int_equal(call(&cn, BT_DIR_SEND, 60, 11, 1310), -1);	/* more of it */
	assert_int_equal(call(&cn, BT_DIR_RECV, 30, 12, 1311), -1);
	assert_int_equal(cn.req_ns, 1311);
	assert_int_equal(cn.req_tid, 12);
	assert_int_equal(call(&cn, BT_DIR_SEND, 60, 12, 1400), 89);
	assert_int_equal(cn.exchanges, 2);
}

/* The client read its response long after it arrived: latency ends at the read. */
static void client_response_read_late(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(snd(&cn, 20, 1000), -1);
	/* The response arrived at 1100; the client was busy until 5000. */
	assert_int_equal(rcv(&cn, 20, 5000), 4000);
	/* Its next request, sent at once, starts afresh. */
	assert_int_equal(snd(&cn, 20, 5001), -1);
	assert_int_equal(cn.req_ns, 5001);
	assert_int_equal(cn.phase, BT_PHASE_REQUEST);
}

/*
 * Closed mid-request: end of file (a receive of 0) abandons the request:
 * no exchange, phase idle, and what the server sends next is no response.
 */
static void server_eof_mid_request(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_SERVER);

	(void)state;
	assert_int_equal(rcv(&cn, 30, 1000), -1);
	assert_int_equal(rcv(&cn, 0, 1100), -1);
	assert_int_equal(cn.phase, BT_PHASE_IDLE);
	assert_int_equal(snd(&cn, 10, 1200), -1);
	assert_int_equal(cn.exchanges, 0);
	assert_int_equal(cn.rcvd, 30);
	assert_int_equal(cn.sent, 10);
}

/* The client's end: the request after an end of file is timed from its own start. */
static void client_eof_then_fresh_request(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(snd(&cn, 30, 1000), -1);
	assert_int_equal(rcv(&cn, 0, 1100), -1);
	assert_int_equal(cn.phase, BT_PHASE_IDLE);
	assert_int_equal(snd(&cn, 30, 2000), -1);
	assert_int_equal(cn.req_ns, 2000);
	assert_int_equal(rcv(&cn, 5, 2500), 500);
	assert_int_equal(cn.exchanges, 1);
}

/* A send of 0 bytes is no end of file: the request keeps moving. */
static void empty_send_is_not_eof(void **state)
{
	struct bt_conn cn = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(snd(&cn, 30, 1000), -1);
	assert_int_equal(snd(&cn, 0, 1100), -1);
	assert_int_equal(cn.phase, BT_PHASE_REQUEST);
	assert_int_equal(cn.req_ns, 1000);
	assert_int_equal(rcv(&cn, 5, 1500), 500);
}

/*
 * A server-first protocol (SMTP, MySQL, a redis replica's greeting...)
 * whose roles the handshake told: the greeting is no exchange on either
 * end; the request/response after it is one.
 */
static void server_first_greeting(void **state)
{
	struct bt_conn cli = conn_as(BT_ROLE_CLIENT), srv = conn_as(BT_ROLE_SERVER);

	(void)state;
	assert_int_equal(snd(&srv, 50, 100), -1);
	assert_int_equal(rcv(&cli, 50, 150), -1);
	assert_int_equal(cli.phase, BT_PHASE_IDLE);
	assert_int_equal(srv.phase, BT_PHASE_IDLE);
	assert_int_equal(cli.exchanges + srv.exchanges, 0);
	assert_int_equal(cli.role, BT_ROLE_CLIENT);
	assert_int_equal(srv.role, BT_ROLE_SERVER);

	assert_int_equal(snd(&cli, 10, 1000), -1);
	assert_int_equal(rcv(&srv, 10, 1050), -1);
	assert_int_equal(snd(&srv, 20, 1250), 200);
	assert_int_equal(rcv(&cli, 20, 1300), 300);
	assert_int_equal(cli.exchanges, 1);
	assert_int_equal(srv.exchanges, 1);
}

/* No role known (a socketpair): the first to move data is the client. */
static void first_writer_is_client(void **state)
{
	struct bt_conn a = { 0 }, b = { 0 };

	(void)state;
	assert_int_equal(snd(&a, 10, 1000), -1);
	assert_int_equal(a.role, BT_ROLE_CLIENT);
	assert_int_equal(a.role_src, BT_ROLE_SRC_FIRST);
	assert_int_equal(a.phase, BT_PHASE_REQUEST);
	/* The other end's first call is a receive: it is the server. */
	assert_int_equal(rcv(&b, 10, 1010), -1);
	assert_int_equal(b.role, BT_ROLE_SERVER);
	assert_int_equal(b.role_src, BT_ROLE_SRC_FIRST);
	assert_int_equal(b.phase, BT_PHASE_REQUEST);
	assert_int_equal(snd(&b, 10, 1200), 190);
	assert_int_equal(rcv(&a, 10, 1250), 250);
}

/* An end of file decides no role; a known role is never overwritten. */
static void role_kept(void **state)
{
	struct bt_conn unknown = { 0 }, srv = conn_as(BT_ROLE_SERVER);

	(void)state;
	assert_int_equal(rcv(&unknown, 0, 1000), -1);
	assert_int_equal(unknown.role, BT_ROLE_UNKNOWN);
	assert_int_equal(unknown.role_src, BT_ROLE_SRC_NONE);
	assert_int_equal(snd(&srv, 10, 1000), -1);	/* a greeting */
	assert_int_equal(srv.role, BT_ROLE_SERVER);
	assert_int_equal(srv.role_src, BT_ROLE_SRC_SYSCALL);
	assert_int_equal(srv.phase, BT_PHASE_IDLE);
}

/*
 * An event loop: one thread interleaves two connections' requests; each
 * connection keeps its own request and times its own exchange.
 */
static void interleaved_on_one_thread(void **state)
{
	struct bt_conn a = conn_as(BT_ROLE_CLIENT), b = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(snd(&a, 10, 100), -1);
	assert_int_equal(snd(&b, 10, 200), -1);
	assert_int_equal(rcv(&b, 10, 350), 150);
	assert_int_equal(snd(&b, 10, 360), -1);	/* b's second request */
	assert_int_equal(rcv(&a, 10, 400), 300);
	assert_int_equal(rcv(&b, 10, 500), 140);
	assert_int_equal(a.exchanges, 1);
	assert_int_equal(b.exchanges, 2);
}

/*
 * A receive as exchange.bpf.h makes it on TCP (unstepped_send): the
 * sequence first if asked (wstamp: the socket's last transmission), then
 * the step.
 */
static long long tcp_rcv_at(struct bt_conn *cn, __u32 write_seq, __u64 wstamp, __u32 tid,
			    __u64 now)
{
	struct bt_send_stamp sent = { bt_exchange_sent_within(cn, wstamp, now), tid, 0 };
	long long lat;

	if (bt_exchange_asks(cn, BT_DIR_RECV) && bt_exchange_seq_moved(cn, write_seq))
		bt_exchange_unstepped(cn, &sent);
	lat = call(cn, BT_DIR_RECV, 10, tid, now);
	cn->wseq = write_seq;
	return lat;
}

static long long tcp_rcv(struct bt_conn *cn, __u32 write_seq, __u32 tid, __u64 now)
{
	return tcp_rcv_at(cn, write_seq, 0, tid, now);
}

static long long tcp_snd(struct bt_conn *cn, __u32 write_seq, __u32 tid, __u64 now)
{
	long long lat = call(cn, BT_DIR_SEND, 10, tid, now);

	cn->wseq = write_seq;
	return lat;
}

/*
 * A pool on TCP: the main thread (1) reads, a worker (2) answers. The
 * worker's send of the first response queued its 10 bytes (sequence
 * 5000 -> 5010) but is stepped late, after the client read it, sent its
 * next request and the main thread read that at 1300: the sequence moved
 * since the last step, so the response is owed, counted at its late step
 * with the first request's start and thread, and the read at 1300 is the
 * second request, answered at 1500.
 */
static void tcp_pool_response_told_by_send_sequence(void **state)
{
	struct bt_conn srv = conn_as(BT_ROLE_SERVER);

	(void)state;
	assert_int_equal(tcp_rcv(&srv, 5000, 1, 1000), -1);
	assert_int_equal(tcp_rcv(&srv, 5010, 1, 1300), -1);
	assert_int_equal(srv.owed, 1);
	assert_int_equal(srv.req_ns, 1300);
	assert_int_equal(tcp_snd(&srv, 5010, 2, 1310), 310);	/* the late step */
	assert_int_equal(srv.done_req_ns, 1000);
	assert_int_equal(srv.done_req_tid, 1);
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.phase, BT_PHASE_REQUEST);
	assert_int_equal(tcp_snd(&srv, 5020, 2, 1500), 200);
	assert_int_equal(srv.done_req_ns, 1300);
	assert_int_equal(srv.done_req_tid, 1);
	assert_int_equal(srv.exchanges, 2);
}

/*
 * Not the race: a request read in two calls with nothing sent between,
 * and a protocol that reads the end of its request after answering it
 * (php-fpm's FastCGI): the answer was stepped, the sequence did not move
 * since, the next request's reads are more of the request the late read
 * began (as without the sequence). A client never asks, nor a server
 * with a response owed already.
 */
static void tcp_sequence_still_is_more_of_the_request(void **state)
{
	struct bt_conn srv = conn_as(BT_ROLE_SERVER), cli = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(tcp_rcv(&srv, 100, 1, 110), -1);
	assert_int_equal(tcp_rcv(&srv, 100, 1, 120), -1);	/* more of it */
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.req_ns, 110);
	assert_int_equal(tcp_snd(&srv, 110, 1, 200), 90);
	assert_int_equal(tcp_rcv(&srv, 110, 1, 210), -1);	/* the request's end, late */
	assert_int_equal(tcp_rcv(&srv, 110, 1, 300), -1);	/* the next request */
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.req_ns, 210);
	assert_int_equal(tcp_snd(&srv, 120, 1, 400), 190);
	assert_int_equal(srv.exchanges, 2);
	assert_false(bt_exchange_asks_sent(&cli, BT_DIR_RECV));
	assert_false(bt_exchange_asks_sent(&srv, BT_DIR_SEND));
	srv.owed = 1;
	srv.phase = BT_PHASE_REQUEST;
	assert_false(bt_exchange_asks_sent(&srv, BT_DIR_RECV));
}

/*
 * A server's receive as exchange.bpf.h makes it on a unix socket:
 * queued_ns is when the far end was last told of this end's bytes (its
 * bt_conn.queued, stamped by sk_data_ready as the send queues them),
 * read only if asked.
 */
static long long unix_rcv_by(struct bt_conn *cn, __u64 queued_ns, __u32 queued_tid, __u32 tid,
			     __u64 now)
{
	struct bt_send_stamp sent = { queued_ns, queued_tid, 0 };

	if (bt_exchange_asks(cn, BT_DIR_RECV) && bt_exchange_queued_since(cn, queued_ns))
		bt_exchange_unstepped(cn, &sent);
	return call(cn, BT_DIR_RECV, 10, tid, now);
}

static long long unix_rcv(struct bt_conn *cn, __u64 queued_ns, __u32 tid, __u64 now)
{
	return unix_rcv_by(cn, queued_ns, 0, tid, now);
}

/*
 * The pool on a unix socket: the worker's send of the first response was
 * told to the client at 1100 (its sk_data_ready), after the request began
 * at 1000, and is stepped late, after the main thread read the next
 * request at 1300: owed, counted at the late step with the first
 * request's start and thread; the read at 1300 is the second request.
 */
static void unix_pool_response_told_by_far_ends_stamp(void **state)
{
	struct bt_conn srv = conn_as(BT_ROLE_SERVER);

	(void)state;
	assert_int_equal(unix_rcv(&srv, 0, 1, 1000), -1);
	assert_int_equal(unix_rcv(&srv, 1100, 1, 1300), -1);
	assert_int_equal(srv.owed, 1);
	assert_int_equal(srv.req_ns, 1300);
	assert_int_equal(call(&srv, BT_DIR_SEND, 10, 2, 1310), 310);	/* the late step */
	assert_int_equal(srv.done_req_ns, 1000);
	assert_int_equal(srv.done_req_tid, 1);
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.phase, BT_PHASE_REQUEST);
	/* The second response, stamped at 1450: its step is in time. */
	assert_int_equal(call(&srv, BT_DIR_SEND, 10, 2, 1500), 200);
	assert_int_equal(srv.done_req_ns, 1300);
	assert_int_equal(srv.exchanges, 2);
	/* The third request read after that step: not asked. */
	assert_int_equal(unix_rcv(&srv, 1450, 1, 1600), -1);
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.req_ns, 1600);
}

/*
 * Not the race on a unix socket: a request read in two calls whose
 * first began after the last response was told (1050 < 1100, and equal
 * times are not after: the clock does not order them), and php-fpm's
 * late read of its request's end (the answer stepped, the state not
 * waiting for one, whatever the stamp says). No stamp (0: the far end's
 * state unread) is never the race.
 */
static void unix_stamp_before_the_request_is_more_of_it(void **state)
{
	struct bt_conn srv = conn_as(BT_ROLE_SERVER);

	(void)state;
	assert_int_equal(unix_rcv(&srv, 1050, 1, 1100), -1);
	assert_int_equal(unix_rcv(&srv, 1100, 1, 1200), -1);	/* more of it */
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.req_ns, 1100);
	assert_int_equal(call(&srv, BT_DIR_SEND, 10, 1, 1300), 200);	/* told at 1290 */
	assert_int_equal(unix_rcv(&srv, 1290, 1, 1310), -1);	/* the request's end, late */
	assert_int_equal(unix_rcv(&srv, 1290, 1, 1400), -1);	/* the next request */
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.req_ns, 1310);
	assert_int_equal(call(&srv, BT_DIR_SEND, 10, 1, 1500), 190);
	assert_int_equal(unix_rcv(&srv, 0, 1, 1600), -1);
	assert_int_equal(unix_rcv(&srv, 0, 1, 1700), -1);
	assert_int_equal(srv.owed, 0);
	assert_int_equal(srv.exchanges, 2);
}

/*
 * The mirror on a unix socket: thread 1 sent the first request and its
 * response began at 200; thread 2's send of the second request began at
 * 250 (its stamp at the server's end) and is stepped late, after thread 3
 * read the answer at 300: the request is counted with the stamp's start
 * and thread, the read completes it, and the late step begins nothing.
 */
static void unix_client_request_told_by_far_ends_stamp(void **state)
{
	struct bt_conn cli = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(call(&cli, BT_DIR_SEND, 10, 1, 100), -1);
	assert_int_equal(unix_rcv_by(&cli, 0, 0, 3, 200), 100);
	assert_int_equal(cli.resp_ns, 200);
	assert_int_equal(unix_rcv_by(&cli, 250, 2, 3, 300), 50);
	assert_int_equal(cli.done_req_ns, 250);
	assert_int_equal(cli.done_req_tid, 2);
	assert_int_equal(cli.owed, 1);
	assert_int_equal(unix_rcv_by(&cli, 250, 2, 3, 320), -1);	/* more of it */
	assert_int_equal(call(&cli, BT_DIR_SEND, 10, 2, 330), -1);	/* the late step */
	assert_int_equal(cli.owed, 0);
	assert_int_equal(cli.phase, BT_PHASE_RESPONSE);
	assert_int_equal(call(&cli, BT_DIR_SEND, 10, 2, 400), -1);	/* the third */
	assert_int_equal(unix_rcv_by(&cli, 390, 2, 3, 500), 100);
	assert_int_equal(cli.exchanges, 3);
}

/*
 * Not the mirror: a response read in several calls, with a pipelined
 * request sent (and stepped) before the response began (its stamp 150,
 * before 200), or with no stamp; equal times are not after.
 */
static void unix_client_stamp_before_the_response_is_more_of_it(void **state)
{
	struct bt_conn cli = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(call(&cli, BT_DIR_SEND, 10, 1, 100), -1);
	assert_int_equal(call(&cli, BT_DIR_SEND, 10, 1, 150), -1);	/* pipelined: more of it */
	assert_int_equal(unix_rcv_by(&cli, 150, 1, 1, 200), 100);
	assert_int_equal(unix_rcv_by(&cli, 150, 1, 1, 210), -1);
	assert_int_equal(unix_rcv_by(&cli, 200, 1, 1, 220), -1);
	assert_int_equal(unix_rcv_by(&cli, 0, 0, 1, 230), -1);
	assert_int_equal(cli.owed, 0);
	assert_int_equal(cli.exchanges, 1);
	assert_false(bt_exchange_asks_asked(&cli, BT_DIR_SEND));
	cli.phase = BT_PHASE_REQUEST;
	assert_false(bt_exchange_asks_asked(&cli, BT_DIR_RECV));
}

/*
 * The mirror on TCP: the second request's bytes moved the sequence
 * (5010 -> 5020) and are not stepped when the answer is read at 300: the
 * request's start is the socket's last transmission (260) when it falls
 * within the response (200) and now, else the response's start; its
 * thread, this one (TCP cannot tell). A half-closed end is the glue's
 * (exchange.bpf.h), not the step's.
 */
static void tcp_client_request_told_by_send_sequence(void **state)
{
	struct bt_conn cli = conn_as(BT_ROLE_CLIENT);

	(void)state;
	assert_int_equal(tcp_snd(&cli, 5010, 1, 100), -1);
	assert_int_equal(tcp_rcv_at(&cli, 5010, 90, 3, 200), 100);
	assert_int_equal(tcp_rcv_at(&cli, 5020, 260, 3, 300), 40);
	assert_int_equal(cli.done_req_ns, 260);
	assert_int_equal(cli.done_req_tid, 3);
	assert_int_equal(tcp_snd(&cli, 5020, 2, 310), -1);	/* the late step */
	assert_int_equal(cli.owed, 0);
	assert_int_equal(tcp_snd(&cli, 5030, 2, 400), -1);
	assert_int_equal(tcp_rcv_at(&cli, 5030, 400, 3, 450), 50);
	/* A transmission stamp outside (response, now]: the response's start. */
	assert_int_equal(tcp_rcv_at(&cli, 5040, 999, 3, 500), 50);
	assert_int_equal(cli.done_req_ns, 450);
	assert_int_equal(tcp_snd(&cli, 5040, 2, 510), -1);
	assert_int_equal(tcp_rcv_at(&cli, 5040, 0, 3, 520), -1);	/* more of it */
	assert_int_equal(cli.exchanges, 4);
}

/* What the machine never sees: errors, and peeks (they consume nothing). */
static void ignored_calls(void **state)
{
	(void)state;
	assert_true(bt_exchange_ignored(-11, 0, BT_DIR_RECV));
	assert_true(bt_exchange_ignored(-32, 0, BT_DIR_SEND));
	assert_true(bt_exchange_ignored(10, BT_MSG_PEEK, BT_DIR_RECV));
	assert_true(bt_exchange_ignored(10, BT_MSG_PEEK | 0x40, BT_DIR_RECV));
	assert_false(bt_exchange_ignored(10, 0x40, BT_DIR_RECV));
	assert_false(bt_exchange_ignored(10, 0, BT_DIR_RECV));
	assert_false(bt_exchange_ignored(0, 0, BT_DIR_RECV));	/* end of file counts */
	assert_false(bt_exchange_ignored(10, BT_MSG_PEEK, BT_DIR_SEND));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(client_request_response),
		cmocka_unit_test(request_in_several_sends),
		cmocka_unit_test(pipelined_requests_are_one_exchange),
		cmocka_unit_test(response_in_several_reads),
		cmocka_unit_test(server_next_request_already_there),
		cmocka_unit_test(client_response_read_late),
		cmocka_unit_test(server_eof_mid_request),
		cmocka_unit_test(client_eof_then_fresh_request),
		cmocka_unit_test(empty_send_is_not_eof),
		cmocka_unit_test(server_first_greeting),
		cmocka_unit_test(first_writer_is_client),
		cmocka_unit_test(role_kept),
		cmocka_unit_test(interleaved_on_one_thread),
		cmocka_unit_test(tcp_pool_response_told_by_send_sequence),
		cmocka_unit_test(tcp_sequence_still_is_more_of_the_request),
		cmocka_unit_test(unix_pool_response_told_by_far_ends_stamp),
		cmocka_unit_test(unix_stamp_before_the_request_is_more_of_it),
		cmocka_unit_test(unix_client_request_told_by_far_ends_stamp),
		cmocka_unit_test(unix_client_stamp_before_the_response_is_more_of_it),
		cmocka_unit_test(tcp_client_request_told_by_send_sequence),
		cmocka_unit_test(ignored_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
