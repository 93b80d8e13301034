/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pipe hand-offs and pipe conversations (chain mode), their per-pipe
 * state and its steps as pure functions: no BPF helper, no kernel type,
 * so the unit tests run the very code the kernel runs (tests/unit/
 * test_pipe_step.c). exchange.bpf.h's pipe_track finds the state, takes
 * the pipes' lock, calls these, releases it and sends what they decided
 * (struct bt_pipe_out): the two ends of a pipe finish their calls on two
 * CPUs at once, and every field below is read and written by both.
 *
 * What a write tells is taken at its ENTRY (pipe_write_entered), before
 * its first byte is in the pipe; what a read tells, at its exit, after
 * its bytes are out. So every read's step comes after the step of each
 * write it took bytes from, on whichever CPUs they ran: the order of the
 * data itself, not of the two exits. A `write`'s byte count is taken at
 * its entry too (the bytes asked for), and its exit takes back what it
 * did not write (short or failed); a `writev`'s waits for its exit.
 */
#ifndef BOUNDTRACE_PIPE_STEP_H
#define BOUNDTRACE_PIPE_STEP_H

#include "exchange_step.h"

/*
 * Hand-offs: a thread pool's dispatcher writes a job to a pipe, a worker
 * reads it, whether or not the worker blocked. Per pipe: how many bytes
 * were written and read since the state was made (at the entry of a
 * write that found the pipe empty: every earlier byte was out of it, so
 * the offsets agree from there), and who wrote the last HANDOFF_WRITES
 * writes. A read whose first byte a thread of the same process wrote is
 * a hand-off.
 */
#define HANDOFF_WRITES	8
#define HANDOFF_READS	4

/* One side's call on the pipe: where its bytes end (write) or start (read). */
struct pipe_call {
	__u64 off;
	__u64 ns;
	__u32 tid, tgid;
};

/*
 * A reader on another CPU can take a writev's bytes before the writer's
 * sys_exit counts them: such a read waits in r[] until the write that
 * covers it is counted.
 */
struct pipe_handoff {
	__u64 made_ns;		/* the entry of the write that made it */
	__u64 wr_off, rd_off;
	__u32 nw, nr;
	struct pipe_call w[HANDOFF_WRITES];	/* off: end of the write */
	struct pipe_call r[HANDOFF_READS];	/* off: start of the read; ns 0: free */
};

/*
 * Pipes as request/response channels. A pipe has one direction, so a
 * conversation is a pair: the client writes its request on pipe W and
 * reads the response from pipe X, which the server writes after reading
 * W. Each thread remembers the pipe of its last request read and the
 * pipe it last wrote (struct bt_pipe_thread); each pipe:
 *   as a request pipe: the client's request (phase, first write), and
 *     the server's last request read from it (first read of a request:
 *     a read after the reading thread wrote a pipe, or of another pipe);
 *   as a response pipe: which request pipe it answers (the writing
 *     thread's last request read) and the first write of the answer.
 * A read of X by a thread that last wrote W, where X answers W, is a
 * response read: with W's request moving, the exchange is complete and
 * both ends' records go out. Any other read is a request read. So a pair
 * is recognised by the traffic: one process writes W and reads X, the
 * other reads W and writes X, in that order. A write's step runs at its
 * entry: the answer is known before the client can read a byte of it,
 * whichever CPU's exit comes first (taken at the write's exit, a client
 * whose read exited first took the answer for a request, and read the
 * pair backwards from then on).
 */
struct pipe_conv {
	/* as a request pipe */
	__u32 client, req_tid;		/* the client (tgid) and the thread that wrote */
	__u64 req_ns;			/* the request's first write */
	__u8 phase;			/* enum bt_phase: BT_PHASE_REQUEST while it moves */
	__u64 last_srv_req_ns;		/* the server read of the last exchange sent */
	bool confirmed;			/* an exchange completed: a conversation's request pipe */
	__u32 srv_req_tid;		/* the server's last request read from it */
	__u64 srv_req_ns;
	__u32 srv_req_calls;		/* its thread's calls then (struct bt_pipe_thread) */
	/* as a response pipe */
	__u64 answers;			/* the request pipe it answers, 0 none */
	__u32 srv, resp_tid;		/* the server (tgid) and the thread that wrote */
	__u64 resp_ns;			/* the answer's first write */
	__u32 resp_req_tid;		/* the request read it answers */
	__u64 resp_req_ns;
	/*
	 * The thread that read that request answered it, and made no call
	 * in between: its exchange is a leaf (struct bt_onehop_key).
	 */
	bool resp_leaf;
	char resp_comm[BT_COMM_LEN];	/* the name of thread resp_tid */
	/*
	 * The server's row counts an answer at its write once the pair is
	 * known (paired: a client read an answer of it as a response); the
	 * first exchange of a pair is known only at the client's read, and
	 * is counted at the server's next answer (owed).
	 */
	__u64 paired;			/* the request pipe it answered in an exchange, 0 none */
	bool resp_counted;		/* this answer was counted at its write */
	bool owed;			/* an exchange the server's row has not counted yet */
	__u64 owed_ns;			/* its service time */
};

/* A thread's side of its pipe conversations (in its in-flight slot; only it writes them). */
struct bt_pipe_thread {
	__u64 rd;	/* the pipe of its last request read, 0 none */
	__u64 wr;	/* the pipe it last wrote, 0 none */
	bool wrote;	/* it wrote a pipe since its last request read */
	/*
	 * Calls it made: every crossing that is no read (a send may be a
	 * request, a write a hand-off, a futex call a wake or a wait for a
	 * worker) and every wake of a thread of its process. Counted at the
	 * call's exit (sys_exit) and at the wake (sched_waking), so a
	 * request read's count and its answer's, taken at the answer write's
	 * entry, differ if anything in between can be a call or a hand-off
	 * of that request (bt_pipe_conv_write's resp_leaf).
	 */
	__u32 calls;
	/*
	 * The write in progress whose bytes its entry counted for hand-offs
	 * (bt_pipe_handoff_entered): its pipe (0: none), how many, and where
	 * they end. Its exit has nothing to do unless it wrote fewer.
	 */
	__u64 cnt_ino;
	__u64 cnt_bytes;
	__u64 cnt_end;
};

/* One pipe call, as pipe_track and the steps see it. */
struct pipe_op {
	__u64 ino;
	__u64 now;	/* a write's entry, a read's exit */
	__u64 bytes;	/* a write's entry: the bytes asked for; an exit: moved */
	/*
	 * A read: since when it can have copied bytes (its entry, or its
	 * last wakeup in the call if later); 0: not known (no entry stamp).
	 */
	__u64 began;
	__u32 tgid, tid;
	__u32 dir;
	__u8 eof;	/* a read that found no writer left */
	__u8 entry;	/* a write's entry (the conversation step, the hand-off state made) */
	__u8 empty;	/* a write's entry: the pipe held no byte */
	/*
	 * A write's entry: its bytes are known (a `write`, not a `writev`)
	 * and counted there. A write's exit: its entry counted them (the
	 * thread's cnt_*) and it wrote fewer, which are taken back.
	 */
	__u8 counted;
	/*
	 * The calling thread's name (pipe_track passes it on in
	 * bt_pipe_out.comm), read from its task by the caller: loads, not a
	 * bpf_get_current_comm() call in three of a round trip's pipe calls.
	 */
	char comm[BT_COMM_LEN];
};

/*
 * What one pipe call's steps decided, made while the lock is held and
 * sent once it is released (sending takes helper calls, which a BPF
 * program may not make under a spin lock). Per CPU in the kernel.
 */
struct bt_pipe_out {
	char comm[BT_COMM_LEN];		/* in: the calling thread's name */
	/* A completed exchange on request pipe w, answered on pipe x: both ends. */
	bool pair;
	__u8 exch_role, exch_dir;	/* for the thread's wait class and row; 0: leave */
	/* For the call's row: an exchange it completed, and one owed to it. */
	bool exch_done, owed_done;
	__u64 exch_ns, owed_ns;
	__u32 client, client_tid, req_tid;
	__u32 srv, resp_tid, resp_req_tid;
	__u64 w, x;
	__u64 req_ns, done_ns;		/* client: request's first write, answer's first read */
	__u64 resp_req_ns, resp_ns;	/* server: request's first read, answer's first write */
	char client_comm[BT_COMM_LEN];
	char srv_comm[BT_COMM_LEN];
	/* The pair's: the server's exchange a leaf; the conversation's first exchange. */
	bool srv_leaf, first;
	/* The call read what may be a request (a pipe read that is no response). */
	bool served;
	/* Hand-offs: reader[i] read what writer[i] wrote. */
	__u32 nhandoff;
	struct pipe_call reader[HANDOFF_READS], writer[HANDOFF_READS];
};

/* Before a call's steps: nothing decided yet. */
BT_STEP_INLINE void bt_pipe_out_reset(struct bt_pipe_out *out)
{
	out->pair = false;
	out->exch_role = 0;
	out->exch_dir = 0;
	out->exch_done = false;
	out->owed_done = false;
	out->served = false;
	out->nhandoff = 0;
}

/* reader took what writer wrote: a hand-off when both are threads of one process. */
BT_STEP_INLINE void bt_pipe_handoff_found(struct bt_pipe_out *out, const struct pipe_call *reader,
					  const struct pipe_call *writer)
{
	__u32 n = out->nhandoff;

	if (reader->tgid != writer->tgid || reader->tid == writer->tid || n >= HANDOFF_READS)
		return;
	out->reader[n] = *reader;
	out->writer[n] = *writer;
	out->nhandoff = n + 1;
}

/* A write entered pipe h, empty, at now: the offsets start from there. */
BT_STEP_INLINE void bt_pipe_handoff_made(struct pipe_handoff *h, __u64 now)
{
	if (!h->made_ns)
		h->made_ns = now;
}

/* A write of `bytes` by me: counted, and the reads that took its bytes before it was. */
BT_STEP_INLINE void bt_pipe_handoff_write(struct pipe_handoff *h, struct pipe_call *me,
					  __u64 bytes, struct bt_pipe_out *out)
{
	__u64 from = h->wr_off;

	h->wr_off += bytes;
	me->off = h->wr_off;
	h->w[h->nw & (HANDOFF_WRITES - 1)] = *me;
	h->nw++;
	for (int i = 0; i < HANDOFF_READS; i++) {
		struct pipe_call *r = &h->r[i];

		if (!r->ns || r->off < from || r->off >= h->wr_off)
			continue;
		bt_pipe_handoff_found(out, r, me);
		r->ns = 0;
	}
}

/*
 * A write's entry, me (its entry's time), on pipe h, which held no byte
 * if empty: the state is made there if empty, and a write whose bytes
 * are known (a `write` asks for `bytes`) counts them there, before any
 * byte of it is in, so its exit has nothing to do unless it wrote fewer
 * (bt_pipe_handoff_unwrite): the exit's step, lock and lookup saved on
 * nearly every write. A read of its bytes can no longer come first, it
 * finds the write counted. Returns where its bytes end, 0 if not counted
 * (no state made yet, or a `writev`: counted at its exit).
 */
BT_STEP_INLINE __u64 bt_pipe_handoff_entered(struct pipe_handoff *h, struct pipe_call *me,
					     __u64 bytes, bool empty, bool counts,
					     struct bt_pipe_out *out)
{
	if (empty)
		bt_pipe_handoff_made(h, me->ns);
	if (!counts || !h->made_ns || !bytes)
		return 0;
	bt_pipe_handoff_write(h, me, bytes, out);
	return h->wr_off;
}

/*
 * The exit of the write of tid entered at start whose entry counted
 * `counted` bytes ending at offset end: it wrote `bytes` (fewer: short,
 * failed or interrupted). The rest is taken back: the pipe's write
 * offset, its own end and every later write's end move back by it (a
 * write of no byte is no write: its record is dropped). A state made
 * after its entry (the old one freed) never counted it.
 */
BT_STEP_INLINE void bt_pipe_handoff_unwrite(struct pipe_handoff *h, __u32 tid, __u64 start,
					    __u64 end, __u64 counted, __u64 bytes)
{
	__u64 undo = counted - bytes;

	if (bytes >= counted || !h->made_ns || h->made_ns > start || end > h->wr_off ||
	    undo > end)
		return;
	h->wr_off -= undo;
	for (int i = 0; i < HANDOFF_WRITES; i++) {
		struct pipe_call *w = &h->w[i];

		if (!w->ns || w->off < end)
			continue;
		if (!bytes && w->off == end && w->tid == tid && w->ns == start)
			w->ns = 0;
		else
			w->off -= undo;
	}
}

/*
 * A read of `bytes` by me, which can have copied them since `began`: the
 * write its first byte came from, or wait for it. A read that began
 * before the state was made, and was not woken since, took bytes that
 * were in the pipe before (the pipe was empty at made_ns): they are no
 * part of the offsets.
 */
BT_STEP_INLINE void bt_pipe_handoff_read(struct pipe_handoff *h, struct pipe_call *me,
					 __u64 bytes, __u64 began, struct bt_pipe_out *out)
{
	const struct pipe_call *hit = 0;

	if (began && began < h->made_ns)
		return;
	me->off = h->rd_off;
	h->rd_off += bytes;
	if (me->off >= h->wr_off) {
		/* Its write is not counted yet: it will find this read. */
		h->r[h->nr & (HANDOFF_READS - 1)] = *me;
		h->nr++;
		return;
	}
	for (int i = 0; i < HANDOFF_WRITES; i++) {
		const struct pipe_call *w = &h->w[i];

		if (w->off > me->off && w->ns && (!hit || w->off < hit->off))
			hit = w;
	}
	if (hit)
		bt_pipe_handoff_found(out, me, hit);
}

/*
 * Both ends of the exchange of request pipe w (rq) answered on pipe x
 * (rs), the client's read of the answer by thread client_tid at done_ns.
 */
BT_STEP_INLINE void bt_pipe_pair(struct pipe_conv *rq, struct pipe_conv *rs, __u64 w,
				 __u64 x, __u32 client_tid, __u64 done_ns, const char *client_comm,
				 struct bt_pipe_out *out)
{
	out->pair = true;
	out->w = w;
	out->x = x;
	out->client = rq->client;
	out->client_tid = client_tid;
	out->req_tid = rq->req_tid;
	out->req_ns = rq->req_ns;
	out->done_ns = done_ns;
	__builtin_memcpy(out->client_comm, client_comm, BT_COMM_LEN);
	out->srv = rs->srv;
	out->resp_tid = rs->resp_tid;
	out->resp_req_tid = rs->resp_req_tid;
	out->resp_req_ns = rs->resp_req_ns;
	out->resp_ns = rs->resp_ns;
	__builtin_memcpy(out->srv_comm, rs->resp_comm, BT_COMM_LEN);
	out->srv_leaf = rs->resp_leaf;
	out->first = !rq->confirmed;
	rq->last_srv_req_ns = rs->resp_req_ns;
	rq->confirmed = true;
	/* A pair has one direction: w no longer answers x, if it ever seemed to. */
	if (rq->answers == x)
		rq->answers = 0;
	rs->paired = w;
	if (!rs->resp_counted) {
		rs->owed = true;
		rs->owed_ns = rs->resp_ns - rs->resp_req_ns;
	}
	rq->phase = BT_PHASE_IDLE;
}

/*
 * A write of thread th on pipe x (cx), at its entry: a request on x, and
 * maybe the answer to th's last request read, on pipe th->rd (cw, NULL
 * if it has no state), taken before the write.
 */
BT_STEP_INLINE void bt_pipe_conv_write(const struct pipe_op *op, struct bt_pipe_thread *th,
				       struct pipe_conv *cx, struct pipe_conv *cw,
				       struct bt_pipe_out *out)
{
	__u64 w = th->rd;
	/*
	 * A request starts at a write into an idle pipe, or at the thread's
	 * first write since it read a request (the last one's answer was
	 * read unseen, or never came).
	 */
	bool first = cx->phase != BT_PHASE_REQUEST || (w && !th->wrote);

	th->wr = op->ino;
	cx->client = op->tgid;
	if (first) {
		cx->phase = BT_PHASE_REQUEST;
		cx->req_ns = op->now;
		cx->req_tid = op->tid;
	}
	if (!w || w == op->ino)
		return;
	th->wrote = true;
	if (!cw || !cw->srv_req_ns)
		return;
	if (cx->answers == w && cx->resp_req_ns == cw->srv_req_ns)
		return;		/* more of the same answer */
	cx->answers = w;
	cx->srv = op->tgid;
	cx->resp_tid = op->tid;
	cx->resp_ns = op->now;
	cx->resp_req_tid = cw->srv_req_tid;
	cx->resp_req_ns = cw->srv_req_ns;
	cx->resp_leaf = cw->srv_req_tid == op->tid && cw->srv_req_calls == th->calls;
	__builtin_memcpy(cx->resp_comm, out->comm, BT_COMM_LEN);
	/* An exchange in the server's row: an answer on a known pair. */
	cx->resp_counted = cx->paired == w;
	if (cx->resp_counted) {
		out->exch_role = BT_ROLE_SERVER;
		out->exch_dir = BT_DIR_SEND;
		out->exch_done = true;
		out->exch_ns = cx->resp_ns - cx->resp_req_ns;
		out->owed_done = cx->owed;
		out->owed_ns = cx->owed_ns;
		cx->owed = false;
	}
}

/*
 * A read of thread th from pipe x (cx): a response to th's last write,
 * on pipe th->wr (cw, NULL if it has no state), or a request.
 */
BT_STEP_INLINE void bt_pipe_conv_read(const struct pipe_op *op, struct bt_pipe_thread *th,
				      struct pipe_conv *cx, struct pipe_conv *cw,
				      struct bt_pipe_out *out)
{
	__u64 w = th->wr;

	if (w && w != op->ino && cx->answers == w) {
		/* For the episode's wait class (wait_class): waiting on a response. */
		out->exch_role = BT_ROLE_CLIENT;
		out->exch_dir = BT_DIR_RECV;
		if (!cw || cw->phase != BT_PHASE_REQUEST || cw->client != op->tgid)
			return;
		/*
		 * An answer older than the request: the server's write of
		 * this one was not seen (its entry came before the trace, or
		 * its thread's slot was taken), and what was read is no
		 * answer the trace can time.
		 */
		if (cx->resp_req_ns == cw->last_srv_req_ns || cx->resp_ns < cw->req_ns) {
			cw->phase = BT_PHASE_IDLE;
			return;
		}
		out->exch_done = true;
		out->exch_ns = op->now - cw->req_ns;
		bt_pipe_pair(cw, cx, w, op->ino, op->tid, op->now, out->comm, out);
		/* A read of x taken for a request read was a response: its next write answers nothing. */
		if (th->rd == op->ino)
			th->rd = 0;
		return;
	}
	if (th->rd != op->ino || th->wrote || !cx->srv_req_ns) {
		cx->srv_req_ns = op->now;
		cx->srv_req_tid = op->tid;
		cx->srv_req_calls = th->calls;
	}
	out->served = true;
	th->rd = op->ino;
	th->wrote = false;
	/* A server of a conversation waiting for its next request is idle. */
	if (cx->confirmed) {
		out->exch_role = BT_ROLE_SERVER;
		out->exch_dir = BT_DIR_RECV;
	}
}

#endif /* BOUNDTRACE_PIPE_STEP_H */
