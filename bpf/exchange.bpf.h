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
 * target. Bytes in the request direction (client send, server receive)
 * start a request unless one is already moving; the first bytes the
 * other way while a request is moving complete the exchange (latency for
 * a client, service time for a server). An end of file while a request
 * is moving abandons it. A peek consumes nothing and is ignored.
 */
static __always_inline void exchange_sock(struct sock *sk, int ret, int flags, __u8 dir)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct exch_chan c = {};
	struct inflight *st;
	struct bt_conn *cn;
	bool request;
	__u64 now;

	if (!is_target(task->tgid) || ret < 0 || (dir == BT_DIR_RECV && (flags & BT_MSG_PEEK)))
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
	if (!ret) {
		if (dir == BT_DIR_RECV)
			cn->phase = BT_PHASE_IDLE;	/* end of file */
		goto out;
	}
	if (cn->role == BT_ROLE_UNKNOWN) {
		cn->role = dir == BT_DIR_SEND ? BT_ROLE_CLIENT : BT_ROLE_SERVER;
		cn->role_src = BT_ROLE_SRC_FIRST;
	}
	if (dir == BT_DIR_SEND)
		cn->sent += ret;
	else
		cn->rcvd += ret;
	now = bpf_ktime_get_ns();
	request = (cn->role == BT_ROLE_CLIENT) == (dir == BT_DIR_SEND);
	if (request) {
		if (cn->phase != BT_PHASE_REQUEST) {
			cn->phase = BT_PHASE_REQUEST;
			cn->req_ns = now;
			cn->req_tid = task->pid;
		}
		goto out;
	}
	/* More of a response, or a server speaking first (a greeting). */
	if (cn->phase != BT_PHASE_REQUEST)
		goto out;
	cn->phase = BT_PHASE_RESPONSE;
	cn->exchanges++;
	if (st) {
		st->exch_done = true;
		st->exch_ns = now - cn->req_ns;
	}
	if (exchange_records)
		emit_exchange(sk, &c, cn, task->tgid, task->pid, now);
out:
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

/* After a write: the pipe holds that write's bytes and nothing else. */
static __always_inline bool pipe_holds_only(struct file *file, __u64 bytes)
{
	struct pipe_inode_info *pipe = file->f_inode->i_pipe;
	struct pipe_buffer *bufs;
	unsigned int tail, mask, len = 0;

	if (!pipe || pipe->head - pipe->tail != 1 || !pipe->ring_size)
		return false;
	tail = pipe->tail;
	mask = pipe->ring_size - 1;
	bufs = pipe->bufs;
	if (bpf_probe_read_kernel(&len, sizeof(len), &bufs[tail & mask].len))
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

static __always_inline void pipe_step(struct endpoint *c, struct crossing *x)
{
	struct pipe_handoff *h;
	struct pipe_call me = { .tid = (__u32)bpf_get_current_pid_tgid(), .tgid = x->tgid };

	if (!exchange_records || c->kind != BT_KIND_PIPE || !x->bytes || !c->file ||
	    (x->dir != BT_DIR_SEND && x->dir != BT_DIR_RECV))
		return;
	me.ns = x->end ? x->end : bpf_ktime_get_ns();
	h = bpf_map_lookup_elem(&pipes, &c->chan);
	if (!h) {
		/*
		 * Start where both offsets are known to agree: a write that left
		 * exactly its own bytes in the pipe (no read of them has ended,
		 * so none was counted). A read that drained the pipe would not
		 * do: a write it took from may not have been counted yet.
		 */
		if (x->dir != BT_DIR_SEND || !pipe_holds_only(c->file, x->bytes))
			return;
		if (bpf_map_update_elem(&pipes, &c->chan, &zero_pipe, BPF_NOEXIST) == -E2BIG)
			lose(BT_LOSS_EXCHANGES);
		h = bpf_map_lookup_elem(&pipes, &c->chan);
		if (!h)
			return;
	}
	if (x->dir == BT_DIR_SEND)
		pipe_write(h, c->chan, &me, x->bytes);
	else
		pipe_read(h, c->chan, &me, x->bytes);
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
