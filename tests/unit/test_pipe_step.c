// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's pipe steps (bpf/pipe_step.h, the very code exchange.bpf.h
 * runs under its lock) on synthetic call sequences, in the orders two
 * CPUs can count them. A write's conversation step is taken at its
 * entry and a read's at its exit, so a SEND step below is a write's
 * entry. A pipe conversation in order; an answer read before its
 * write's exit (the order that read pairs backwards when writes were
 * taken at their exit); an answer the trace did not see written; a
 * trace that starts while the pair runs; a middle tier's nested
 * conversation; a pipeline stage and a job pipe (no conversation);
 * hand-offs in order, a read counted before its write, the state made
 * at a write's entry with the worker's read exiting before that write's
 * exit, a read of bytes from before the state, two jobs taken by two
 * workers, and the reads that are no hand-off (the writer itself,
 * another process).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "pipe_step.h"

/* Request pipe W, response pipe X; a second pair W2/X2 to a backend. */
enum { W = 100, X = 101, W2 = 200, X2 = 201 };
enum { CLIENT = 10, SERVER = 20, BACKEND = 30 };

struct pipes {
	struct pipe_conv conv[4];
};

static struct pipe_conv *conv_of(struct pipes *p, __u64 ino)
{
	switch (ino) {
	case W: return &p->conv[0];
	case X: return &p->conv[1];
	case W2: return &p->conv[2];
	case X2: return &p->conv[3];
	}
	return NULL;
}

/*
 * One conversation step the way pipe_track makes it; returns the output.
 * A write's exit then counts it among the thread's calls, as sys_exit does.
 */
static struct bt_pipe_out step(struct pipes *p, struct bt_pipe_thread *th, __u32 tgid,
			       __u32 tid, __u8 dir, __u64 ino, __u64 now)
{
	struct pipe_op op = { .ino = ino, .now = now, .bytes = 1, .tgid = tgid, .tid = tid,
			      .dir = dir };
	struct bt_pipe_out out;
	__u64 w = dir == BT_DIR_SEND ? th->rd : th->wr;

	memset(&out, 0x5a, sizeof(out));
	bt_pipe_out_reset(&out);
	snprintf(out.comm, sizeof(out.comm), "t%u", tid);
	if (dir == BT_DIR_SEND)
		bt_pipe_conv_write(&op, th, conv_of(p, ino), w && w != ino ? conv_of(p, w) : NULL,
				   &out);
	else
		bt_pipe_conv_read(&op, th, conv_of(p, ino), w && w != ino ? conv_of(p, w) : NULL,
				  &out);
	if (dir == BT_DIR_SEND)
		th->calls++;
	return out;
}

static void assert_pair(const struct bt_pipe_out *o, __u64 w, __u64 x, __u32 client_tid,
			__u64 req_ns, __u64 done_ns, __u32 srv_tid, __u64 srv_req_ns,
			__u64 resp_ns)
{
	char name[BT_COMM_LEN];

	assert_true(o->pair);
	assert_int_equal(o->w, w);
	assert_int_equal(o->x, x);
	assert_int_equal(o->client_tid, client_tid);
	assert_int_equal(o->req_ns, req_ns);
	assert_int_equal(o->done_ns, done_ns);
	assert_int_equal(o->resp_tid, srv_tid);
	assert_int_equal(o->resp_req_ns, srv_req_ns);
	assert_int_equal(o->resp_ns, resp_ns);
	snprintf(name, sizeof(name), "t%u", client_tid);
	assert_string_equal(o->client_comm, name);
	snprintf(name, sizeof(name), "t%u", srv_tid);
	assert_string_equal(o->srv_comm, name);
}

static void conversation_in_order(void **state)
{
	struct pipes p = {};
	struct bt_pipe_thread cl = {}, sv = {};
	struct bt_pipe_out o;

	(void)state;
	for (__u64 t = 0; t < 3000; t += 1000) {
		o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, t + 10);
		assert_false(o.pair);
		o = step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, t + 20);
		assert_false(o.pair);
		assert_true(o.served);	/* it read what may be a request */
		/* The server's read is idle once the pair carried an exchange. */
		assert_int_equal(o.exch_role, t ? BT_ROLE_SERVER : 0);
		o = step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, t + 30);
		assert_false(o.pair);
		/*
		 * The server's row: the pair is known from the first
		 * exchange's end on; that one is counted with the second.
		 */
		assert_int_equal(o.exch_done, t > 0);
		assert_int_equal(o.owed_done, t == 1000);
		if (t) {
			assert_int_equal(o.exch_role, BT_ROLE_SERVER);
			assert_int_equal(o.exch_dir, BT_DIR_SEND);
			assert_int_equal(o.exch_ns, 10);
			if (o.owed_done)
				assert_int_equal(o.owed_ns, 10);
		}
		o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, t + 40);
		assert_int_equal(o.exch_role, BT_ROLE_CLIENT);
		assert_int_equal(o.exch_dir, BT_DIR_RECV);
		assert_true(o.exch_done);
		assert_int_equal(o.exch_ns, 30);
		assert_false(o.owed_done);
		assert_false(o.served);	/* a response */
		assert_pair(&o, W, X, CLIENT, t + 10, t + 40, SERVER, t + 20, t + 30);
		/* One hop: the server called nobody; the first exchange names the pipes. */
		assert_true(o.srv_leaf);
		assert_int_equal(o.first, t == 0);
	}
}

/*
 * The interleaving that read pairs backwards when a write was taken at
 * its exit: the client's read of the answer exits (CPU 1) before the
 * server's write does (CPU 0). Taken at the write's entry, the answer is
 * known before its first byte can be read: every round pairs forward,
 * and the request pipe never seems to answer the response pipe.
 */
static void answer_read_before_the_writes_exit(void **state)
{
	struct pipes p = {};
	struct bt_pipe_thread cl = {}, sv = {};
	struct bt_pipe_out o;

	(void)state;
	for (__u64 t = 0; t < 3000; t += 1000) {
		step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, t + 10);
		o = step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, t + 20);
		assert_false(o.pair);
		/* The server's write enters at t + 30 and exits at t + 50, after the client's read. */
		step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, t + 30);
		o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, t + 40);
		assert_true(o.exch_done);
		assert_int_equal(o.exch_ns, 30);
		assert_pair(&o, W, X, CLIENT, t + 10, t + 40, SERVER, t + 20, t + 30);
		assert_int_equal(conv_of(&p, W)->answers, 0);
	}
}

/*
 * An answer whose write the trace did not see (the server thread's
 * in-flight slot was another thread's): the client's read of the last
 * exchange's answer is no exchange, and ends its request.
 */
static void answer_not_seen_written(void **state)
{
	struct pipes p = {};
	struct bt_pipe_thread cl = {}, sv = {};
	struct bt_pipe_out o;

	(void)state;
	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 10);
	step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, 20);
	step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, 30);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 40);
	assert_true(o.pair);
	/* The server's read and write of this round are not seen. */
	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 1010);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 1040);
	assert_false(o.pair);
	assert_false(o.exch_done);
	assert_int_equal(o.exch_role, BT_ROLE_CLIENT);
	assert_int_equal(conv_of(&p, W)->phase, BT_PHASE_IDLE);
	/* The next round is whole again, timed from its own request. */
	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 2010);
	step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, 2020);
	step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, 2030);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 2040);
	assert_pair(&o, W, X, CLIENT, 2010, 2040, SERVER, 2020, 2030);
}

/*
 * The trace starts while the pair runs and sees the server only from its
 * second round on (--peers follows it late): the client's first read of
 * an answer looks like a request read, so its next request seems to
 * answer the response pipe. The first forward exchange takes that back:
 * the server's next read of a request is no response read.
 */
static void server_seen_late_pairs_forward(void **state)
{
	struct pipes p = {};
	struct bt_pipe_thread cl = {}, sv = {};
	struct bt_pipe_out o;

	(void)state;
	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 10);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 40);
	assert_false(o.pair);
	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 1010);
	assert_int_equal(conv_of(&p, W)->answers, X);
	step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, 1020);
	step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, 1030);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 1040);
	assert_pair(&o, W, X, CLIENT, 1010, 1040, SERVER, 1020, 1030);
	assert_int_equal(conv_of(&p, W)->answers, 0);
	for (__u64 t = 2000; t < 5000; t += 1000) {
		step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, t + 10);
		o = step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, t + 20);
		assert_false(o.pair);
		assert_int_equal(o.exch_role, BT_ROLE_SERVER);
		assert_int_equal(o.exch_dir, BT_DIR_RECV);
		step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, t + 30);
		o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, t + 40);
		assert_pair(&o, W, X, CLIENT, t + 10, t + 40, SERVER, t + 20, t + 30);
	}
}

/* frontend -> middle -> backend: the middle is a server on W, a client on W2. */
static void middle_tier_nested(void **state)
{
	struct pipes p = {};
	struct bt_pipe_thread fe = {}, mid = {}, be = {};
	struct bt_pipe_out o;

	(void)state;
	for (__u64 t = 0; t < 3000; t += 1000) {
		step(&p, &fe, CLIENT, CLIENT, BT_DIR_SEND, W, t + 1);
		step(&p, &mid, SERVER, SERVER, BT_DIR_RECV, W, t + 2);
		for (__u64 k = 0; k < 3; k++) {
			__u64 c = t + 10 + 10 * k;

			/* A call the middle makes while serving W is no answer to W. */
			o = step(&p, &mid, SERVER, SERVER, BT_DIR_SEND, W2, c);
			assert_false(o.exch_done);
			step(&p, &be, BACKEND, BACKEND, BT_DIR_RECV, W2, c + 1);
			step(&p, &be, BACKEND, BACKEND, BT_DIR_SEND, X2, c + 2);
			o = step(&p, &mid, SERVER, SERVER, BT_DIR_RECV, X2, c + 3);
			assert_pair(&o, W2, X2, SERVER, c, c + 3, BACKEND, c + 1, c + 2);
			assert_true(o.srv_leaf);
		}
		/* The middle's answer to W: its last request read, not the backend's reply. */
		step(&p, &mid, SERVER, SERVER, BT_DIR_SEND, X, t + 50);
		assert_int_equal(conv_of(&p, X)->answers, W);
		o = step(&p, &fe, CLIENT, CLIENT, BT_DIR_RECV, X, t + 60);
		assert_pair(&o, W, X, CLIENT, t + 1, t + 60, SERVER, t + 2, t + 50);
		/* Its calls to the backend: the middle's exchange is no leaf. */
		assert_false(o.srv_leaf);
	}
}

/*
 * A server's exchange is a leaf only when the thread that read the
 * request answered it with no call in between: a wake of another thread
 * of its process (sched_waking counts it), or another thread answering,
 * may hand the request on.
 */
static void leaf_only_without_calls_or_other_threads(void **state)
{
	struct pipes p = {};
	struct bt_pipe_thread cl = {}, sv = {}, sv2 = {};
	struct bt_pipe_out o;

	(void)state;
	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 10);
	step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, 20);
	sv.calls++;	/* a wake of a thread of its process */
	step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, 30);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 40);
	assert_pair(&o, W, X, CLIENT, 10, 40, SERVER, 20, 30);
	assert_false(o.srv_leaf);

	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 110);
	step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, 120);
	step(&p, &sv, SERVER, SERVER, BT_DIR_SEND, X, 130);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 140);
	assert_pair(&o, W, X, CLIENT, 110, 140, SERVER, 120, 130);
	assert_true(o.srv_leaf);
	assert_false(o.first);

	/* Read by one thread, answered by another (it read W too, earlier). */
	sv2.rd = W;
	step(&p, &cl, CLIENT, CLIENT, BT_DIR_SEND, W, 210);
	step(&p, &sv, SERVER, SERVER, BT_DIR_RECV, W, 220);
	step(&p, &sv2, SERVER, SERVER + 1, BT_DIR_SEND, X, 230);
	o = step(&p, &cl, CLIENT, CLIENT, BT_DIR_RECV, X, 240);
	assert_true(o.pair);
	assert_int_equal(o.resp_tid, SERVER + 1);
	assert_false(o.srv_leaf);
}

/* A stage that reads one pipe and writes another never reads an answer: no exchange. */
static void pipeline_stage_is_no_conversation(void **state)
{
	struct pipes p = {};
	struct bt_pipe_thread src = {}, stage = {}, sink = {};
	struct bt_pipe_out o;

	(void)state;
	for (__u64 t = 0; t < 5000; t += 1000) {
		step(&p, &src, CLIENT, CLIENT, BT_DIR_SEND, W, t + 1);
		step(&p, &stage, SERVER, SERVER, BT_DIR_RECV, W, t + 2);
		step(&p, &stage, SERVER, SERVER, BT_DIR_SEND, X, t + 3);
		o = step(&p, &sink, BACKEND, BACKEND, BT_DIR_RECV, X, t + 4);
		assert_false(o.pair);
		assert_int_equal(o.exch_role, 0);
		assert_false(o.exch_done);
	}
}

/* Hand-offs: the pipe's counted writes and reads. */
static struct pipe_call call_of(__u32 tgid, __u32 tid, __u64 ns)
{
	struct pipe_call c = { .ns = ns, .tid = tid, .tgid = tgid };

	return c;
}

/*
 * One call's exit on the pipe's hand-off state (a read that can have
 * copied since began, 0 not known); returns what it decided.
 */
static struct bt_pipe_out handoff(struct pipe_handoff *h, __u8 dir, __u32 tgid, __u32 tid,
				  __u64 ns, __u64 bytes, __u64 began)
{
	struct pipe_call me = call_of(tgid, tid, ns);
	struct bt_pipe_out out;

	bt_pipe_out_reset(&out);
	if (dir == BT_DIR_SEND)
		bt_pipe_handoff_write(h, &me, bytes, &out);
	else
		bt_pipe_handoff_read(h, &me, bytes, began, &out);
	return out;
}

#define hwrite(h, tgid, tid, ns, bytes)	handoff(h, BT_DIR_SEND, tgid, tid, ns, bytes, 0)
#define hread(h, tgid, tid, ns, bytes)	handoff(h, BT_DIR_RECV, tgid, tid, ns, bytes, 0)
#define hread_since(h, tgid, tid, ns, bytes, began) \
	handoff(h, BT_DIR_RECV, tgid, tid, ns, bytes, began)

static void assert_handoff(const struct bt_pipe_out *o, __u32 i, __u32 reader, __u64 read_ns,
			   __u32 writer, __u64 write_ns)
{
	assert_true(i < o->nhandoff);
	assert_int_equal(o->reader[i].tid, reader);
	assert_int_equal(o->reader[i].ns, read_ns);
	assert_int_equal(o->writer[i].tid, writer);
	assert_int_equal(o->writer[i].ns, write_ns);
}

static void handoff_in_order(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;

	(void)state;
	o = hwrite(&h, 1, 1, 10, 8);
	assert_int_equal(o.nhandoff, 0);
	o = hread(&h, 1, 2, 20, 8);
	assert_int_equal(o.nhandoff, 1);
	assert_handoff(&o, 0, 2, 20, 1, 10);
}

/* The worker's read exits on one CPU before the dispatcher's write on the other. */
static void handoff_read_counted_first(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;

	(void)state;
	hwrite(&h, 1, 1, 10, 8);
	hread(&h, 1, 2, 20, 8);
	o = hread(&h, 1, 3, 40, 8);
	assert_int_equal(o.nhandoff, 0);
	o = hwrite(&h, 1, 1, 30, 8);
	assert_int_equal(o.nhandoff, 1);
	assert_handoff(&o, 0, 3, 40, 1, 30);
	assert_int_equal(h.wr_off, h.rd_off);
}

/*
 * The pool's first job, the interleaving that lost it when the state was
 * made at a write's exit (by a write whose bytes were alone in the pipe):
 * the dispatcher's write enters an empty pipe at 10 (CPU 0), the worker
 * blocked in its read since 5 is woken at 12 and its read exits at 20
 * (CPU 1), the write exits at 30. Made at the write's entry, the state
 * is there for the read, which waits for the write to be counted.
 */
static void handoff_state_made_at_write_entry(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;

	(void)state;
	bt_pipe_handoff_made(&h, 10);
	o = hread_since(&h, 1, 2, 20, 8, 12);
	assert_int_equal(o.nhandoff, 0);
	o = hwrite(&h, 1, 1, 10, 8);
	assert_int_equal(o.nhandoff, 1);
	assert_handoff(&o, 0, 2, 20, 1, 10);
	/* A second write into the pipe, empty again, leaves the state as it was. */
	bt_pipe_handoff_made(&h, 40);
	assert_int_equal(h.made_ns, 10);
	o = hwrite(&h, 1, 1, 40, 8);
	o = hread_since(&h, 1, 3, 50, 8, 45);
	assert_handoff(&o, 0, 3, 50, 1, 40);
	assert_int_equal(h.wr_off, h.rd_off);
}

/*
 * A read that took the last bytes from before the state (it began at 5,
 * was not woken after 10) exits after the write that made it: those
 * bytes are no part of the offsets, and the next read is followed to the
 * write that made the state.
 */
static void read_of_bytes_from_before_the_state(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;

	(void)state;
	bt_pipe_handoff_made(&h, 10);
	o = hread_since(&h, 1, 2, 15, 8, 5);
	assert_int_equal(o.nhandoff, 0);
	assert_int_equal(h.rd_off, 0);
	hwrite(&h, 1, 1, 10, 8);
	o = hread_since(&h, 1, 3, 25, 8, 20);
	assert_handoff(&o, 0, 3, 25, 1, 10);
	assert_int_equal(h.wr_off, h.rd_off);
}

/* Two jobs queued, two workers: each job's reader is followed to its own write. */
static void two_jobs_two_workers(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;

	(void)state;
	hwrite(&h, 1, 1, 10, 8);
	hwrite(&h, 1, 1, 11, 8);
	o = hread(&h, 1, 3, 20, 8);
	assert_handoff(&o, 0, 3, 20, 1, 10);
	o = hread(&h, 1, 2, 21, 8);
	assert_handoff(&o, 0, 2, 21, 1, 11);
	/* Both reads counted before a write that covers them both. */
	hread(&h, 1, 2, 30, 8);
	hread(&h, 1, 3, 31, 8);
	o = hwrite(&h, 1, 1, 25, 16);
	assert_int_equal(o.nhandoff, 2);
	assert_handoff(&o, 0, 2, 30, 1, 25);
	assert_handoff(&o, 1, 3, 31, 1, 25);
}

/* A read of the writer's own bytes, or by another process, is no hand-off. */
static void handoff_only_between_threads_of_a_process(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;

	(void)state;
	hwrite(&h, 1, 1, 10, 8);
	o = hread(&h, 1, 1, 20, 8);
	assert_int_equal(o.nhandoff, 0);
	hwrite(&h, 1, 1, 30, 8);
	o = hread(&h, 2, 2, 40, 8);
	assert_int_equal(o.nhandoff, 0);
}

/* A `write`'s entry, the way pipe_track takes it: made if empty, its bytes counted. */
static struct bt_pipe_out hentered(struct pipe_handoff *h, __u32 tgid, __u32 tid, __u64 ns,
				   __u64 bytes, bool empty, __u64 *end)
{
	struct pipe_call me = call_of(tgid, tid, ns);
	struct bt_pipe_out out;

	bt_pipe_out_reset(&out);
	*end = bt_pipe_handoff_entered(h, &me, bytes, empty, true, &out);
	return out;
}

/*
 * Bytes counted at a write's entry: the worker's read (woken at 12, on
 * another CPU) finds the write counted whether it exits before the
 * write's exit or after, and the exit of a write that wrote them all has
 * nothing to do. A write into a pipe with no state counts nothing.
 */
static void handoff_counted_at_write_entry(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;
	__u64 end;

	(void)state;
	o = hentered(&h, 1, 1, 5, 8, false, &end);
	assert_int_equal(end, 0);
	assert_int_equal(h.wr_off, 0);
	o = hentered(&h, 1, 1, 10, 8, true, &end);
	assert_int_equal(end, 8);
	assert_int_equal(o.nhandoff, 0);
	o = hread_since(&h, 1, 2, 20, 8, 12);
	assert_int_equal(o.nhandoff, 1);
	assert_handoff(&o, 0, 2, 20, 1, 10);
	/* Not empty, the state made: counted all the same. */
	hentered(&h, 1, 1, 30, 4, false, &end);
	assert_int_equal(end, 12);
	o = hread(&h, 1, 3, 40, 4);
	assert_handoff(&o, 0, 3, 40, 1, 30);
	assert_int_equal(h.wr_off, h.rd_off);
}

/*
 * A write that wrote fewer bytes than its entry counted: short (3 of 8,
 * with a later write counted before its exit), then failed (none of 4):
 * the offsets move back, the failed write is no write, and the next
 * reads are followed to the writes their bytes came from.
 */
static void write_short_of_its_entry_count(void **state)
{
	struct pipe_handoff h = {};
	struct bt_pipe_out o;
	__u64 end, end2;

	(void)state;
	hentered(&h, 1, 1, 10, 8, true, &end);
	hentered(&h, 1, 4, 11, 8, false, &end2);
	assert_int_equal(end2, 16);
	bt_pipe_handoff_unwrite(&h, 1, 10, end, 8, 3);
	assert_int_equal(h.wr_off, 11);
	o = hread(&h, 1, 2, 20, 3);
	assert_handoff(&o, 0, 2, 20, 1, 10);
	hentered(&h, 1, 1, 25, 4, false, &end);
	bt_pipe_handoff_unwrite(&h, 1, 25, end, 4, 0);
	assert_int_equal(h.wr_off, 11);
	o = hread(&h, 1, 3, 30, 8);
	assert_handoff(&o, 0, 3, 30, 4, 11);
	assert_int_equal(h.wr_off, h.rd_off);
	/* A state made after the write's entry never counted it. */
	h.made_ns = 40;
	bt_pipe_handoff_unwrite(&h, 1, 35, 11, 8, 0);
	assert_int_equal(h.wr_off, 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(conversation_in_order),
		cmocka_unit_test(leaf_only_without_calls_or_other_threads),
		cmocka_unit_test(answer_read_before_the_writes_exit),
		cmocka_unit_test(answer_not_seen_written),
		cmocka_unit_test(server_seen_late_pairs_forward),
		cmocka_unit_test(middle_tier_nested),
		cmocka_unit_test(pipeline_stage_is_no_conversation),
		cmocka_unit_test(handoff_in_order),
		cmocka_unit_test(handoff_read_counted_first),
		cmocka_unit_test(handoff_state_made_at_write_entry),
		cmocka_unit_test(read_of_bytes_from_before_the_state),
		cmocka_unit_test(two_jobs_two_workers),
		cmocka_unit_test(handoff_only_between_threads_of_a_process),
		cmocka_unit_test(handoff_counted_at_write_entry),
		cmocka_unit_test(write_short_of_its_entry_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
