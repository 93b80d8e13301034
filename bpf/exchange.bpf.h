/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Exchanges: requests and their responses on every stream connection
 * (TCP, unix stream), tracked per socket in the kernel (struct bt_conn
 * in boundtrace.h has the model). Included by boundtrace.bpf.c after
 * the in-flight slots and struct crossing.
 *
 * The state machine runs in tp_btf/sock_send_length and sock_recv_length:
 * they fire in sock_sendmsg / sock_recvmsg, in the caller's context, for
 * every way data reaches a socket (write, send*, splice, sendfile), with
 * the struct sock as a trusted pointer, which bpf_sk_storage_get needs
 * (the sock sys_exit finds through the fd table is not trusted). What it
 * learns for the aggregate row (role, a completed exchange and its
 * latency) is left in the thread's in-flight slot; sys_exit adds it to
 * the row it counts the crossing in. TCP roles come from
 * inet_sock_set_state (SYN_SENT -> ESTABLISHED: client; SYN_RECV ->
 * ESTABLISHED: server), read from peers.bpf.h's inet_peers.
 */
#ifndef BOUNDTRACE_EXCHANGE_BPF_H
#define BOUNDTRACE_EXCHANGE_BPF_H

#include "exchange_step.h"

#define SOCK_BINDADDR_LOCK	4
#define SOCK_BINDPORT_LOCK	8

/* Chain mode: send one record per completed exchange. */
const volatile bool exchange_records = false;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bt_conn);
} conns SEC(".maps");

/* Chain mode only; sized by userspace (one page otherwise). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} exchanges SEC(".maps");

/* A connected stream socket as a channel, the way classify() names it. */
struct exch_chan {
	__u8 kind;
	__u8 family;
	__u64 chan, peer;
	struct sock *peer_sk;
};

static __always_inline bool exch_chan_of(struct sock *sk, struct exch_chan *c)
{
	c->family = sk->__sk_common.skc_family;
	if (c->family == AF_UNIX) {
		struct unix_sock *us = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct unix_sock));
		__u16 type = sk->sk_type;

		if (type != SOCK_STREAM && type != SOCK_SEQPACKET)
			return false;
		c->kind = BT_KIND_UNIX_STREAM;
		c->peer_sk = us->peer;
		c->peer = 0;
		return true;
	}
	if ((c->family == AF_INET || c->family == AF_INET6) && sk->sk_protocol == IPPROTO_TCP) {
		c->kind = BT_KIND_TCP;
		c->peer_sk = NULL;
		c->peer = fold_inet_peer(sk, c->family);
		return true;
	}
	return false;
}

/*
 * A connection whose setup we did not see: a unix server end inherits
 * the listener's bound address, the client end usually has none; a TCP
 * server end inherits the listener's bind locks (explicit address or
 * port), a client that did not bind has none.
 */
static __always_inline void conn_role_from_addr(struct bt_conn *cn, struct sock *sk,
						 struct exch_chan *c)
{
	if (c->family == AF_UNIX) {
		struct unix_sock *us = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct unix_sock));
		bool own = us->addr, far = false;

		if (c->peer_sk) {
			struct unix_sock *peer = bpf_rdonly_cast(c->peer_sk,
						bpf_core_type_id_kernel(struct unix_sock));

			far = peer->addr;
		}
		if (own == far)
			return;	/* socketpair, or both bound: who sends first decides */
		cn->role = own ? BT_ROLE_SERVER : BT_ROLE_CLIENT;
	} else {
		cn->role = sk->sk_userlocks & (SOCK_BINDADDR_LOCK | SOCK_BINDPORT_LOCK) ?
			   BT_ROLE_SERVER : BT_ROLE_CLIENT;
	}
	cn->role_src = BT_ROLE_SRC_ADDR;
}

/*
 * The TCP handshake says which end is which: an active open goes
 * SYN_SENT -> ESTABLISHED, a passive one SYN_RECV -> ESTABLISHED.
 * peers.bpf.h's inet_state keeps that role per 4-tuple in inet_peers for
 * every connection; it is read here once, when a target's socket gets
 * its state. (Creating the state at the handshake instead, in softirq
 * before the owner is known, cost every TCP connection on the machine a
 * socket-storage allocation.) The entry must name this very socket: a
 * tuple can be reused once its old socket closed.
 */
static __always_inline bool conn_role_from_handshake(struct bt_conn *cn, struct sock *sk,
						     struct exch_chan *c)
{
	struct bt_tuple t = {};
	struct bt_tuple_val *v;

	if (c->kind != BT_KIND_TCP)
		return false;
	sk_tuple(sk, &t);
	v = bpf_map_lookup_elem(&inet_peers, &t);
	if (!v || v->sock != sock_id(sk) || !v->role)
		return false;
	cn->role = v->role;
	cn->role_src = BT_ROLE_SRC_SYSCALL;
	return true;
}

static __always_inline void exchange_ends(struct sock *sk, struct exch_chan *c,
					  struct bt_exchange_ev *e)
{
	if (c->family == AF_UNIX) {
		e->end_a = e->chan;
		e->end_b = c->peer_sk ? sock_ino(c->peer_sk) : 0;
	} else if (c->family == AF_INET) {
		e->end_a = inet_end(sk->__sk_common.skc_rcv_saddr, sk->__sk_common.skc_num);
		e->end_b = inet_end(sk->__sk_common.skc_daddr, bpf_ntohs(sk->__sk_common.skc_dport));
	} else {
		e->end_a = inet_end(in6_fold(sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32),
				    sk->__sk_common.skc_num);
		e->end_b = inet_end(in6_fold(sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32),
				    bpf_ntohs(sk->__sk_common.skc_dport));
	}
}

static __always_inline void emit_exchange(struct sock *sk, struct exch_chan *c,
					  struct bt_conn *cn, __u32 tgid, __u32 tid, __u64 now)
{
	struct bt_exchange_ev *e;

	e = bpf_ringbuf_reserve(&exchanges, sizeof(*e), 0);
	if (!e) {
		lose(BT_LOSS_EXCHANGES);
		return;
	}
	e->pid = tgid;
	e->tid = tid;
	e->req_tid = cn->req_tid;
	e->role = cn->role;
	e->kind = c->kind;
	e->type = BT_XREC_EXCHANGE;
	e->pad = 0;
	e->chan = sock_ino(sk);
	e->peer = c->peer;
	exchange_ends(sk, c, e);
	e->req_ns = cn->req_ns;
	e->resp_ns = now;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/*
	 * No wakeup: userspace polls every 100 ms anyway, and waking it per
	 * record (an irq_work each) was most of this program's cost.
	 */
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/*
 * The exchange state machine, once per socket send or receive of a
 * target: the step itself (what starts and completes an exchange) is
 * bt_exchange_step in exchange_step.h, pure so the unit tests run it.
 */
static __always_inline void exchange_sock(struct sock *sk, int ret, int flags, __u8 dir)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct exch_chan c = {};
	struct inflight *st;
	struct bt_conn *cn;
	__u64 now, lat_ns;

	if (!is_target(task->tgid) || bt_exchange_ignored(ret, flags, dir))
		return;
	if (!exch_chan_of(sk, &c))
		return;
	cn = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!cn) {
		lose(BT_LOSS_EXCHANGES);
		return;
	}
	if (cn->role_src == BT_ROLE_SRC_NONE && !conn_role_from_handshake(cn, sk, &c))
		conn_role_from_addr(cn, sk, &c);
	st = inflight_of(task->pid);
	now = bpf_ktime_get_ns();
	if (bt_exchange_step(cn, dir, ret, task->pid, now, &lat_ns)) {
		if (st) {
			st->exch_done = true;
			st->exch_ns = lat_ns;
		}
		if (exchange_records)
			emit_exchange(sk, &c, cn, task->tgid, task->pid, now);
	}
	if (st) {
		st->exch_role = cn->role;
		st->exch_dir = dir;
	}
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length, struct sock *sk, int ret, int flags)
{
	exchange_sock(sk, ret, flags, BT_DIR_SEND);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length, struct sock *sk, int ret, int flags)
{
	exchange_sock(sk, ret, flags, BT_DIR_RECV);
	return 0;
}

/*
 * Hand-offs through pipes (chain mode): a thread pool's dispatcher writes a
 * job to a pipe, a worker reads it, whether or not the worker blocked. Per
 * pipe: how many bytes were written and read since the state was made
 * (made by a write into an empty pipe, so the offsets agree), and who wrote
 * the last HANDOFF_WRITES writes. A read whose first byte a thread of the
 * same process wrote is a hand-off. Bounded: a full map counts in lost.
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
 * A reader on another CPU can take a write's bytes before the writer's
 * sys_exit counts them: such a read waits in reads[] until the write that
 * covers it is counted.
 */
struct pipe_handoff {
	__u64 wr_off, rd_off;
	__u32 nw, nr;
	struct pipe_call w[HANDOFF_WRITES];	/* off: end of the write */
	struct pipe_call r[HANDOFF_READS];	/* off: start of the read; ns 0: free */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pipe_handoff);
} pipes SEC(".maps");

/* A new pipe's state (too big for the stack). */
static const struct pipe_handoff zero_pipe;

/* After a write: the pipe (an address) holds that write's bytes and nothing else. */
static __always_inline bool pipe_holds_only(__u64 pipe_addr, __u64 bytes)
{
	struct pipe_inode_info *pipe = (struct pipe_inode_info *)pipe_addr;
	struct pipe_buffer *bufs;
	unsigned int head, tail, size, len = 0;

	if (!pipe)
		return false;
	head = BPF_CORE_READ(pipe, head);
	tail = BPF_CORE_READ(pipe, tail);
	size = BPF_CORE_READ(pipe, ring_size);
	if (head - tail != 1 || !size)
		return false;
	bufs = BPF_CORE_READ(pipe, bufs);
	if (bpf_probe_read_kernel(&len, sizeof(len), &bufs[tail & (size - 1)].len))
		return false;
	return len == bytes;
}

/* reader read at read_ns what writer wrote at write_ns (either may be counted first). */
static __always_inline void emit_handoff(__u64 ino, const struct pipe_call *reader,
					 const struct pipe_call *writer)
{
	struct bt_exchange_ev *e;

	if (reader->tgid != writer->tgid || reader->tid == writer->tid)
		return;
	e = bpf_ringbuf_reserve(&exchanges, sizeof(*e), 0);
	if (!e) {
		lose(BT_LOSS_EXCHANGES);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = BT_XREC_HANDOFF;
	e->kind = BT_KIND_PIPE;
	e->pid = reader->tgid;
	e->tid = reader->tid;
	e->req_tid = writer->tid;
	e->chan = ino;
	e->req_ns = writer->ns;
	e->resp_ns = reader->ns;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline void pipe_write(struct pipe_handoff *h, __u64 ino, struct pipe_call *me,
				       __u64 bytes)
{
	__u64 from = h->wr_off;

	h->wr_off += bytes;
	me->off = h->wr_off;
	h->w[h->nw & (HANDOFF_WRITES - 1)] = *me;
	h->nw++;
	/* Reads that took these bytes before this exit counted them. */
	for (int i = 0; i < HANDOFF_READS; i++) {
		struct pipe_call *r = &h->r[i];

		if (!r->ns || r->off < from || r->off >= h->wr_off)
			continue;
		emit_handoff(ino, r, me);
		r->ns = 0;
	}
}

static __always_inline void pipe_read(struct pipe_handoff *h, __u64 ino, struct pipe_call *me,
				      __u64 bytes)
{
	const struct pipe_call *hit = NULL;

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
		emit_handoff(ino, me, hit);
}

/*
 * Pipes as request/response channels (chain mode). A pipe has one
 * direction, so a conversation is a pair: the client writes its request
 * on pipe W and reads the response from pipe X, which the server writes
 * after reading W. Each thread remembers the pipe of its last request
 * read and the pipe it last wrote (struct inflight); each pipe, in
 * pipe_convs:
 *   as a request pipe: the client's request (phase, first write), and
 *     the server's last request read from it (first read of a request:
 *     a read after the reading thread wrote a pipe, or of another pipe);
 *   as a response pipe: which request pipe it answers (the writing
 *     thread's last request read) and the first write of the answer.
 * A read of X by a thread that last wrote W, where X answers W, is a
 * response read: with W's request moving, the exchange is complete and
 * both ends' records go out (the server's waits for its write's exit if
 * the read came first). Any other read is a request read. So a pair is
 * recognised by the traffic: one process writes W and reads X, the other
 * reads W and writes X, in that order. Freed at end of file (no writer
 * left); a full map counts in lost.exchanges.
 */
struct pipe_conv {
	/* as a request pipe */
	__u32 client, req_tid;		/* the client (tgid) and the thread that wrote */
	__u64 req_ns;			/* the request's first write */
	__u8 phase;			/* enum bt_phase: BT_PHASE_REQUEST while it moves */
	bool await_server;		/* the response was read before its write was counted */
	__u32 done_tid;			/* await_server: the client thread that read it, when */
	__u64 done_ns;
	__u64 last_srv_req_ns;		/* the server read of the last exchange sent */
	bool confirmed;			/* an exchange completed: a conversation's request pipe */
	__u32 srv_req_tid;		/* the server's last request read from it */
	__u64 srv_req_ns;
	/* as a response pipe */
	__u64 answers;			/* the request pipe it answers, 0 none */
	__u32 srv, resp_tid;		/* the server (tgid) and the thread that wrote */
	__u64 resp_ns;			/* the answer's first write */
	__u32 resp_req_tid;		/* the request read it answers */
	__u64 resp_req_ns;
	char resp_comm[BT_COMM_LEN];	/* the name of thread resp_tid */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pipe_conv);
} pipe_convs SEC(".maps");

/* A new pipe's conversation state (zero). */
static const struct pipe_conv zero_conv;

/* One pipe call, for pipe_track. */
struct pipe_op {
	__u64 ino;
	__u64 now;
	__u64 bytes;
	__u64 pipe;	/* its struct pipe_inode_info, as an address */
	__u32 tgid, tid;
	__u32 dir;
	__u32 eof;	/* a read that found no writer left */
};

/* One end's exchange record on response pipe x of request pipe w. */
static __always_inline void emit_pipe_exchange(__u32 pid, __u32 tid, __u32 req_tid, __u8 role,
					       __u64 w, __u64 x, __u64 req_ns, __u64 resp_ns,
					       const char *comm)
{
	struct bt_exchange_ev *e = bpf_ringbuf_reserve(&exchanges, sizeof(*e), 0);

	if (!e) {
		lose(BT_LOSS_EXCHANGES);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->tid = tid;
	e->req_tid = req_tid;
	e->role = role;
	e->kind = BT_KIND_PIPE;
	e->type = BT_XREC_EXCHANGE;
	e->chan = x;
	/* Client (request pipe, response pipe), server the mirror: they pair up. */
	e->end_a = role == BT_ROLE_CLIENT ? w : x;
	e->end_b = role == BT_ROLE_CLIENT ? x : w;
	e->req_ns = req_ns;
	e->resp_ns = resp_ns;
	if (comm)
		__builtin_memcpy(e->comm, comm, sizeof(e->comm));
	else
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* Both ends of the exchange of request pipe w (rq) answered on pipe x (rs). */
static __always_inline void emit_pipe_pair(struct pipe_conv *rq, struct pipe_conv *rs,
					   __u64 w, __u64 x, __u32 client_tid, __u64 done_ns)
{
	emit_pipe_exchange(rq->client, client_tid, rq->req_tid, BT_ROLE_CLIENT, w, x,
			   rq->req_ns, done_ns, NULL);
	emit_pipe_exchange(rs->srv, rs->resp_tid, rs->resp_req_tid, BT_ROLE_SERVER, w, x,
			   rs->resp_req_ns, rs->resp_ns, rs->resp_comm);
	rq->last_srv_req_ns = rs->resp_req_ns;
	rq->confirmed = true;
	rq->phase = BT_PHASE_IDLE;
	rq->await_server = false;
}

static __always_inline struct pipe_conv *pipe_conv_of(__u64 ino)
{
	struct pipe_conv *v = bpf_map_lookup_elem(&pipe_convs, &ino);

	if (v)
		return v;
	if (bpf_map_update_elem(&pipe_convs, &ino, &zero_conv, BPF_NOEXIST) == -E2BIG) {
		lose(BT_LOSS_EXCHANGES);
		return NULL;
	}
	return bpf_map_lookup_elem(&pipe_convs, &ino);
}

/* A write of thread st on pipe x: a request on x, and maybe the answer to st's last read. */
static __always_inline void pipe_conv_write(struct pipe_op *op, struct inflight *st,
					    struct pipe_conv *cx)
{
	__u64 w = st->pipe_rd;
	struct pipe_conv *cw;

	st->pipe_wr = op->ino;
	cx->client = op->tgid;
	if (cx->phase != BT_PHASE_REQUEST) {
		cx->phase = BT_PHASE_REQUEST;
		cx->req_ns = op->now;
		cx->req_tid = op->tid;
	}
	if (!w || w == op->ino)
		return;
	st->pipe_wrote = true;
	cw = bpf_map_lookup_elem(&pipe_convs, &w);
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
	bpf_get_current_comm(cx->resp_comm, sizeof(cx->resp_comm));
	/* Its client read this answer before this exit counted it. */
	if (cw->await_server && cw->phase == BT_PHASE_REQUEST)
		emit_pipe_pair(cw, cx, w, op->ino, cw->done_tid, cw->done_ns);
}

/* A read of thread st from pipe x: a response to st's last write, or a request. */
static __always_inline void pipe_conv_read(struct pipe_op *op, struct inflight *st,
					   struct pipe_conv *cx)
{
	__u64 w = st->pipe_wr;
	struct pipe_conv *cw;

	if (w && w != op->ino && cx->answers == w) {
		/* For the episode's wait class (wait_class): waiting on a response. */
		st->exch_role = BT_ROLE_CLIENT;
		st->exch_dir = BT_DIR_RECV;
		cw = bpf_map_lookup_elem(&pipe_convs, &w);
		if (!cw || cw->phase != BT_PHASE_REQUEST || cw->client != op->tgid ||
		    cw->await_server)
			return;
		if (cx->resp_req_ns == cw->last_srv_req_ns || cx->resp_ns < cw->req_ns) {
			/* The answer's write has not been counted yet: its exit sends both. */
			cw->await_server = true;
			cw->done_tid = op->tid;
			cw->done_ns = op->now;
			return;
		}
		emit_pipe_pair(cw, cx, w, op->ino, op->tid, op->now);
		return;
	}
	if (st->pipe_rd != op->ino || st->pipe_wrote || !cx->srv_req_ns) {
		cx->srv_req_ns = op->now;
		cx->srv_req_tid = op->tid;
	}
	st->pipe_rd = op->ino;
	st->pipe_wrote = false;
	/* A server of a conversation waiting for its next request is idle. */
	if (cx->confirmed) {
		st->exch_role = BT_ROLE_SERVER;
		st->exch_dir = BT_DIR_RECV;
	}
}

/* The conversation step of one pipe call (see struct pipe_conv). */
static __always_inline void pipe_conv(struct pipe_op *op)
{
	__u32 idx = op->tid & (INFLIGHT_SLOTS - 1);
	struct inflight *st = bpf_map_lookup_elem(&inflight, &idx);
	struct pipe_conv *cx;
	__u64 ino = op->ino;

	if (!st || st->tid != op->tid)
		return;
	if (op->eof) {
		bpf_map_delete_elem(&pipe_convs, &ino);
		return;
	}
	cx = pipe_conv_of(ino);
	if (!cx)
		return;
	if (op->dir == BT_DIR_SEND)
		pipe_conv_write(op, st, cx);
	else
		pipe_conv_read(op, st, cx);
}

/* The hand-off step of one pipe call that moved bytes (see struct pipe_handoff). */
static __always_inline void pipe_handoff_step(struct pipe_op *op)
{
	struct pipe_call me = { .ns = op->now, .tid = op->tid, .tgid = op->tgid };
	struct pipe_handoff *h;
	__u64 ino = op->ino;

	h = bpf_map_lookup_elem(&pipes, &ino);
	if (!h) {
		/*
		 * Start where both offsets are known to agree: a write that left
		 * exactly its own bytes in the pipe (no read of them has ended,
		 * so none was counted). A read that drained the pipe would not
		 * do: a write it took from may not have been counted yet.
		 */
		if (op->dir != BT_DIR_SEND || !pipe_holds_only(op->pipe, op->bytes))
			return;
		if (bpf_map_update_elem(&pipes, &ino, &zero_pipe, BPF_NOEXIST) == -E2BIG)
			lose(BT_LOSS_EXCHANGES);
		h = bpf_map_lookup_elem(&pipes, &ino);
		if (!h)
			return;
	}
	if (op->dir == BT_DIR_SEND)
		pipe_write(h, ino, &me, op->bytes);
	else
		pipe_read(h, ino, &me, op->bytes);
}

/*
 * Chain mode: what a pipe call tells of hand-offs and conversations. A
 * global function, verified once rather than at each of the crossing's
 * pipe call sites (inlined, they were a third of sys_exit's verification).
 */
__noinline int pipe_track(struct pipe_op *op)
{
	if (!op)
		return 0;
	if (op->bytes || op->eof)
		pipe_conv(op);
	if (op->bytes)
		pipe_handoff_step(op);
	return 0;
}

static __always_inline void pipe_step(struct endpoint *c, struct crossing *x)
{
	struct pipe_op op;

	if (!exchange_records || c->kind != BT_KIND_PIPE || !c->file ||
	    (x->dir != BT_DIR_SEND && x->dir != BT_DIR_RECV))
		return;
	op.ino = c->chan;
	op.now = x->end ? x->end : bpf_ktime_get_ns();
	op.bytes = x->bytes;
	/* Only a write can start a pipe's hand-off state (pipe_holds_only). */
	op.pipe = x->dir == BT_DIR_SEND ? addr_of((void *const *)&c->file->f_inode->i_pipe) : 0;
	op.tgid = x->tgid;
	op.tid = (__u32)bpf_get_current_pid_tgid();
	op.dir = x->dir;
	op.eof = x->dir == BT_DIR_RECV && !x->ret;
	pipe_track(&op);
}

/* Counts what the socket tracepoints left in the slot into the crossing's row. */
static __always_inline void account_exchange(struct endpoint *c, struct crossing *x,
					     struct bt_stats *s)
{
	struct inflight *st = x->st;

	if (!st || !st->exch_role || (c->kind != BT_KIND_TCP && c->kind != BT_KIND_UNIX_STREAM) ||
	    st->exch_dir != x->dir)
		return;
	s->role = st->exch_role;
	if (!st->exch_done)
		return;
	st->exch_done = false;
	__sync_fetch_and_add(&s->exchanges, 1);
	s->exch_ns += st->exch_ns;
	s->exch_hist[log2_slot(st->exch_ns)]++;
	if (st->exch_ns > s->max_exch_ns)
		s->max_exch_ns = st->exch_ns;
}

#endif /* BOUNDTRACE_EXCHANGE_BPF_H */
