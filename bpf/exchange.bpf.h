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
#include "pipe_step.h"
#include "onehop.h"

#define SOCK_BINDADDR_LOCK	4
#define SOCK_BINDPORT_LOCK	8

/* Chain mode: send one record per completed exchange. */
const volatile bool exchange_records = false;
/*
 * Chain mode: count one-hop exchanges in onehops instead of sending them
 * (not when recording: a recording keeps every record); with
 * onehop_check, send them too, marked (tests compare the two).
 */
const volatile bool onehop = false;
const volatile bool onehop_check = false;
/*
 * Sockets too (meets, below): off unless asked for. Their two ends meet
 * in a shared map, whose cache lines cross CPUs: measured on a unix
 * ping-pong it costs the traced threads about what it saves boundtrace.
 */
const volatile bool onehop_sockets = false;

/* Sized by userspace (1 without onehop); a key made at its first exchange. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct bt_onehop_key);
	__type(value, struct bt_onehop_val);
} onehops SEC(".maps");

/*
 * The processes that read what may be a request (a server-role socket's
 * receive, a pipe read that is no response), one bit per tgid as in
 * targets[]: a client exchange of a process without its bit is a root.
 * Set before the reading thread returns, so before any call or hand-off
 * the request's tree could hold; cleared when the process is gone.
 */
__u64 served[BT_PID_MAX / 64];

static __always_inline bool has_served(__u32 tgid)
{
	return tgid_bit(served, tgid);
}

/* Read first: the atomic write once per process, not at every request read. */
static __always_inline void mark_served(__u32 tgid)
{
	if (!has_served(tgid))
		set_tgid_bit(served, tgid, true);
}

static const struct bt_onehop_val zero_onehop;

/* count_onehop's key: too big for the stacks it is built on. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_onehop_key);
} onehop_keys SEC(".maps");

/*
 * A one-hop tree (struct bt_onehop_key: the caller knows the client's
 * exchange a root, the server's a leaf) counted in onehops; false to
 * send its records instead: records the window would not take as they
 * are (bt_onehop_key), or the map full.
 */
static __always_inline bool count_onehop(const struct bt_onehop_end *cl,
					 const struct bt_onehop_end *sv, __u8 kind, __u64 chan,
					 __u64 peer)
{
	struct bt_onehop_val *v;
	struct bt_onehop_key *k;
	__u64 lat, svc;
	__u32 zero = 0;

	k = bpf_map_lookup_elem(&onehop_keys, &zero);
	if (!k || !bt_onehop_key(k, &lat, &svc, cl, sv, kind, chan, peer))
		return false;
	v = bpf_map_lookup_elem(&onehops, k);
	if (!v) {
		if (not_kept(bpf_map_update_elem(&onehops, k, &zero_onehop, BPF_NOEXIST)))
			return false;
		v = bpf_map_lookup_elem(&onehops, k);
		if (!v)
			return false;
	}
	/* Its one writer is this thread (struct bt_onehop_val): no lock. */
	bt_onehop_add(v, lat, svc);
	return true;
}

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
		c->peer = 0;	/* emit_exchange's, read only for a record */
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

/*
 * The name of task, as bpf_get_current_comm() gives it, by two loads
 * rather than a helper call.
 */
static __always_inline void task_comm(struct task_struct *task, char comm[BT_COMM_LEN])
{
	__builtin_memcpy(comm, task->comm, BT_COMM_LEN);
}

/* This end's record of the exchange cn completed now, by task. */
static __always_inline void fill_exchange(struct sock *sk, struct exch_chan *c,
					  struct bt_conn *cn, struct task_struct *task, __u64 now,
					  struct bt_exchange_ev *e)
{
	e->pid = task->tgid;
	e->tid = task->pid;
	e->req_tid = cn->done_req_tid;
	e->role = cn->role;
	e->kind = c->kind;
	e->type = BT_XREC_EXCHANGE;
	e->flags = 0;
	e->chan = sock_ino(sk);
	e->peer = c->kind == BT_KIND_TCP ? fold_inet_peer(sk, c->family) : 0;
	exchange_ends(sk, c, e);
	e->req_ns = cn->done_req_ns;
	e->resp_ns = now;
	task_comm(task, e->comm);
}

/*
 * Built on the stack and copied by one helper call: reserve and submit
 * were two (a helper call costs 13 ns or more here, the copy of 80
 * bytes a few). No wakeup: userspace polls every 100 ms anyway, and
 * waking it per record (an irq_work each) was most of this program's
 * cost.
 */
static __always_inline void send_exchange(const struct bt_exchange_ev *e)
{
	if (bpf_ringbuf_output(&exchanges, (void *)e, sizeof(*e), BPF_RB_NO_WAKEUP))
		lose(BT_LOSS_EXCHANGES);
}

/*
 * Sockets in chain mode: where a connection's two ends meet to count a
 * one-hop exchange (they finish it on two CPUs, and a TCP end cannot
 * reach its far socket), under the connection as its client names it
 * (its end, the server's; struct bt_exchange_ev's end_a, end_b). The
 * server's answer, a leaf, is left in it instead of sent; the client
 * takes it when its response comes, and counts the two or sends both
 * records. An answer no client took goes out with the server's next one,
 * or at the trace's end (userspace takes what is left once the programs
 * are detached). Sized by userspace (1 without onehop); full: the
 * records go.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct bt_meet_key);
	__type(value, struct bt_meet);
} meets SEC(".maps");

/* A meet's record out of the lock (too big for the stacks it is taken on). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_exchange_ev);
} meet_recs SEC(".maps");

static const struct bt_meet idle_meet;

/* A server's answers in a row no client took, before it stops leaving them. */
#define MEET_MISSES	4

/*
 * The server's answer e, a leaf: left for its client to take (true),
 * else to be sent. An answer still there was not taken: it goes now (its
 * client read the response before the server's step came, or is not
 * traced). After MEET_MISSES of those in a row (*misses, the
 * connection's) the connection is left alone: a server's untraced
 * clients cost it a few lookups, not one an answer.
 */
static __always_inline bool meet_leave(const struct bt_meet_key *k, const struct bt_exchange_ev *e,
				       __u8 *misses)
{
	struct bt_meet *m = bpf_map_lookup_elem(&meets, k);
	struct bt_exchange_ev *late;
	bool untaken = false, left = true;
	__u32 zero = 0;

	if (!m) {
		/* Another CPU may make it meanwhile: either entry will do. */
		bpf_map_update_elem(&meets, k, &idle_meet, BPF_NOEXIST);
		m = bpf_map_lookup_elem(&meets, k);
	}
	late = bpf_map_lookup_elem(&meet_recs, &zero);
	if (!m || !late)
		return false;
	bpf_spin_lock(&m->lock);
	if (m->state == BT_MEET_READY) {
		*late = m->srv;
		untaken = true;
	}
	if (untaken && *misses + 1 >= MEET_MISSES) {
		m->state = BT_MEET_IDLE;
		left = false;
	} else {
		m->srv = *e;
		m->state = BT_MEET_READY;
	}
	bpf_spin_unlock(&m->lock);
	*misses = untaken ? *misses + 1 : 0;
	if (untaken)
		send_exchange(late);
	return left;
}

/*
 * The client's exchange c completed: with the server's answer left for
 * it, the two are counted as one hop when c is a root (its process served
 * nothing) and the answer answered c, else both records go; without one,
 * c's record alone.
 * *misses: the connection's responses in a row without one (its server
 * untraced, or no leaf): at MEET_MISSES the client stops looking.
 */
static __always_inline void meet_take(const struct bt_meet_key *k, const struct bt_exchange_ev *c,
				      __u64 prev_resp_ns, __u8 *misses, bool root)
{
	struct bt_meet *m = bpf_map_lookup_elem(&meets, k);
	struct bt_exchange_ev *s;
	struct bt_onehop_end cl, sv;
	bool took = false;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&meet_recs, &zero);
	if (!m || !s) {
		*misses += 1;
		send_exchange(c);
		return;
	}
	bpf_spin_lock(&m->lock);
	if (m->state == BT_MEET_READY) {
		*s = m->srv;
		m->state = BT_MEET_IDLE;
		took = true;
	}
	bpf_spin_unlock(&m->lock);
	*misses = took ? 0 : *misses + 1;
	if (took && root) {
		cl = (struct bt_onehop_end){ c->pid, c->tid, c->req_tid, c->req_ns, c->resp_ns,
					     c->comm };
		sv = (struct bt_onehop_end){ s->pid, s->tid, s->req_tid, s->req_ns, s->resp_ns,
					     s->comm };
		if (bt_onehop_answered(&cl, &sv, prev_resp_ns) &&
		    count_onehop(&cl, &sv, c->kind, c->chan, c->peer)) {
			if (onehop_check) {
				struct bt_exchange_ev e = *c;

				e.flags = s->flags = BT_XREC_COUNTED;
				send_exchange(&e);
				send_exchange(s);
			}
			return;
		}
	}
	send_exchange(c);
	if (took)
		send_exchange(s);
}

/*
 * When this end's last send that the far end of a unix connection (peer,
 * not trusted: unix_sock.peer) was told of began, and its thread: its
 * bt_conn.queued, read through its storage's cache
 * (bpf_sk_storage_get takes only a trusted socket), where the far end's
 * sk_data_ready lookups leave it. Zero when it cannot be read (no state;
 * the cache slot taken by another map): the race is then not seen. Only
 * on the rare paths bt_exchange_asks_sent and bt_exchange_asks_asked.
 */
static __always_inline void far_stamp(struct sock *peer, struct bt_send_stamp *f)
{
	struct bpf_local_storage_map *smap;
	struct bpf_local_storage_data *sd;
	struct bpf_local_storage *ls;
	__u16 idx;

	if (!peer)
		return;
	ls = peer->sk_bpf_storage;
	smap = bpf_rdonly_cast(&conns, bpf_core_type_id_kernel(struct bpf_local_storage_map));
	idx = smap->cache_idx;
	if (!ls || idx >= sizeof(ls->cache) / sizeof(ls->cache[0]))
		return;
	if (bpf_probe_read_kernel(&sd, sizeof(sd), (void *)((__u64)ls +
			bpf_core_field_offset(struct bpf_local_storage, cache) + idx * sizeof(sd))) ||
	    !sd)
		return;
	sd = bpf_rdonly_cast(sd, bpf_core_type_id_kernel(struct bpf_local_storage_data));
	if ((void *)sd->smap != (void *)smap)
		return;
	if (bpf_probe_read_kernel(f, sizeof(*f), (void *)((__u64)sd +
			bpf_core_field_offset(struct bpf_local_storage_data, data) +
			__builtin_offsetof(struct bt_conn, queued))))
		f->ns = 0;
}

#define SEND_SHUTDOWN	2

/*
 * The pool races (exchange_step.h), before a receive's step: a send of
 * this end's, queued and not stepped yet, that the receive must not
 * swallow. A server's is its response (owed); a client's its request,
 * sent when the kind can tell (TCP: the socket's last transmission,
 * tcp_wstamp_ns, within the response's start and now; unix: the stamp)
 * by the thread that sent it (TCP cannot tell: this one).
 */
static __always_inline void unstepped_send(struct sock *sk, struct bt_conn *cn,
					   const struct exch_chan *c, __u32 wseq, __u8 dir,
					   __u32 tid, __u64 now)
{
	struct bt_send_stamp f = { .tid = tid };
	struct tcp_sock *tp;

	if (!bt_exchange_asks(cn, dir))
		return;
	if (c->kind == BT_KIND_TCP) {
		/* A FIN advances write_seq too: an end shut for sending sends nothing more. */
		if (!bt_exchange_seq_moved(cn, wseq) || (sk->sk_shutdown & SEND_SHUTDOWN))
			return;
		tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
		f.ns = bt_exchange_sent_within(cn, bpf_core_field_exists(tp->tcp_wstamp_ns) ?
						   tp->tcp_wstamp_ns : 0, now);
	} else {
		far_stamp(c->peer_sk, &f);
		if (!bt_exchange_queued_since(cn, f.ns))
			return;
	}
	bt_exchange_unstepped(cn, &f);
}

/*
 * Chain mode with one-hop trees (counted here or paired by userspace), a
 * target's socket receive: a request read marks its process (served[])
 * and keeps its thread's calls.
 */
static __always_inline void note_request_read(struct bt_conn *cn, const struct caller *me,
				      const struct inflight *st, __u8 dir, __u64 now)
{
	if (cn->role != BT_ROLE_SERVER || dir != BT_DIR_RECV)
		return;
	mark_served(me->tgid);
	if (cn->phase == BT_PHASE_REQUEST && cn->req_ns == now &&
	    cn->req_tid == me->tid)
		cn->req_calls = st ? st->pipe.calls : ~0u;
}

/*
 * The exchange this call completed, its record: sent, marked as the half
 * of a one-hop tree it may be (BT_XREC_ROOT, BT_XREC_LEAF) for userspace
 * to pair; or, with the kernel counting connections (onehop_sockets), a
 * server's leaf answer left for its client, a client's response met with
 * it (meet_take). A server's exchange is a leaf when the thread that read
 * the request answered it in the normal way (not a response found queued
 * by another thread: owed) and made no call in between (struct
 * bt_pipe_thread's calls).
 */
static __always_inline void exchange_done(struct sock *sk, struct exch_chan *c,
					  struct bt_conn *cn, const struct caller *me,
					  const struct inflight *st, __u64 now, bool owed,
					  __u64 prev_resp_ns)
{
	struct bt_exchange_ev e;
	struct bt_meet_key k;
	__u8 half = 0;

	fill_exchange(sk, c, cn, me->task ? me->task : bpf_get_current_task_btf(), now, &e);
	/* The half of a one-hop tree it may be: both ends named, served[] and req_calls kept. */
	if (onehop && e.end_a && e.end_b) {
		if (cn->role == BT_ROLE_CLIENT && !has_served(e.pid))
			half = BT_XREC_ROOT;
		else if (cn->role == BT_ROLE_SERVER && !owed && st && cn->done_req_tid == me->tid &&
			 cn->done_req_ns == cn->req_ns && cn->req_calls == st->pipe.calls)
			half = BT_XREC_LEAF;
	}
	if (!onehop_sockets || !e.end_a || !e.end_b) {
		e.flags = half;	/* userspace pairs the halves */
		send_exchange(&e);
		return;
	}
	/* The kernel counts them here: what it sends is not userspace's to pair (flags 0). */
	k.client_end = cn->role == BT_ROLE_CLIENT ? e.end_a : e.end_b;
	k.server_end = cn->role == BT_ROLE_CLIENT ? e.end_b : e.end_a;
	if (cn->role == BT_ROLE_CLIENT) {
		if (cn->meet_misses < MEET_MISSES)
			meet_take(&k, &e, prev_resp_ns, &cn->meet_misses, half == BT_XREC_ROOT);
		else
			send_exchange(&e);
		return;
	}
	if (half == BT_XREC_LEAF && cn->meet_misses < MEET_MISSES &&
	    meet_leave(&k, &e, &cn->meet_misses))
		return;
	send_exchange(&e);
}

/*
 * The exchange state machine, once per socket send or receive of a
 * target: the step itself (what starts and completes an exchange) is
 * bt_exchange_step in exchange_step.h, pure so the unit tests run it.
 * records: whether this program sends exchange records (chain mode);
 * false, their code and its stack are left out of it (--sockets-only).
 */
static __always_inline void exchange_sock(const struct caller *me, struct sock *sk, int ret,
					  int flags, __u8 dir, bool records)
{
	struct exch_chan c = {};
	struct inflight *st;
	struct bt_conn *cn;
	__u64 now, lat_ns, prev_resp_ns;
	__u32 wseq = 0;
	bool step, owed;

	if (bt_exchange_ignored(ret, flags, dir))
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
	/*
	 * TCP's send sequence is read once, before the step: a send another
	 * thread queues while this one steps is found at the next look, not
	 * taken into wseq unstepped.
	 */
	if (c.kind == BT_KIND_TCP)
		wseq = ((struct tcp_sock *)bpf_rdonly_cast(sk,
				bpf_core_type_id_kernel(struct tcp_sock)))->write_seq;
	now = bpf_ktime_get_ns();
	unstepped_send(sk, cn, &c, wseq, dir, me->tid, now);
	st = inflight_of(me->tid);
	owed = cn->owed;
	prev_resp_ns = cn->resp_ns;
	step = bt_exchange_step(cn, dir, ret, me->tid, now, &lat_ns);
	cn->wseq = wseq;
	if (onehop)
		note_request_read(cn, me, st, dir, now);
	if (step) {
		if (st) {
			st->exch_done = true;
			st->exch_ns = lat_ns;
			st->exch_owed = false;
		}
		if (records && exchange_records)
			exchange_done(sk, &c, cn, me, st, now, owed, prev_resp_ns);
	}
	if (st) {
		st->exch_role = cn->role;
		st->exch_dir = dir;
		st->sock_ns = now;	/* the call's end for sys_exit: one clock read less */
	}
}

/*
 * A unix connection's sends, as the far end sees them (bt_conn.queued).
 * sock_def_readable's tracepoint runs in the sender's
 * context as each skb reaches the far end's queue, before that end's
 * reader is woken: before the send's own sock_send_length step by a whole
 * return from the syscall, time enough for the far end to answer and
 * another thread of this end to take the answer (the pool races,
 * exchange_step.h). sk is the far end; a target's send stamps it, making
 * its state if it has none (an end not traced), with the sending thread
 * and the send's entry (its in-flight slot's: an inlined array lookup
 * instead of a clock read, 32-60 ns here). A response's send begins after its
 * request's first read, a request's after the response it follows began,
 * as bt_exchange_queued_since needs. Every socket's data is ready here, a
 * TCP one's in softirq: the family is the first and cheapest exit.
 */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(sk_data_ready, struct sock *sk)
{
	struct caller me;
	struct inflight *st;
	struct bt_conn *cn;

	if (sk->__sk_common.skc_family != AF_UNIX)
		return 0;
	if (!target_caller(&me)) {
		/* --sockets-only: no connect() or accept() to mark at. */
		if (sockets_only && count_marked) {
			if (sk->__sk_common.skc_state == TCP_LISTEN)
				mark_connecting(sk);
			else
				mark_sender(sk);
		}
		return 0;
	}
	/* --sockets-only has no sending call's entry to mark at: here, before the reader wakes. */
	if (sockets_only && count_marked)
		mark_receiver(sk);
	/* A connection's end (not a listener told of a connect; not a datagram). */
	if (sk->__sk_common.skc_state == TCP_LISTEN ||
	    (sk->sk_type != SOCK_STREAM && sk->sk_type != SOCK_SEQPACKET))
		return 0;
	cn = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!cn)
		return 0;
	st = inflight_of(me.tid);
	cn->queued.ns = st ? st->ts : bpf_ktime_get_ns();	/* no syscall: io_uring */
	cn->queued.tid = me.tid;
	return 0;
}

/*
 * Pipes in chain mode: hand-offs (a thread pool's job pipe) and
 * conversations (a pair of pipes as a request/response channel), their
 * state and steps in pipe_step.h, one value a pipe: a call finds both
 * with one lookup. The hand-off part counts from the entry of a write
 * that found the pipe empty (made_ns; 0: not yet, whatever made the
 * value). Bounded: a full map counts in lost; a pipe's state is freed
 * at a read's end of file (no writer left).
 */
struct pipe_state {
	__u64 ino;		/* whose state it is (0: a free slot) */
	struct pipe_conv conv;
	struct pipe_handoff h;
};

/*
 * Where a pipe's state lives: its slot in pipe_slots, the inode number's
 * low bits (inode numbers of new pipes are consecutive), found by an
 * array lookup the verifier inlines; a pipe whose slot another live pipe
 * holds, in pipes, a hash lookup (a helper call and a hash: up to seven
 * a pipe conversation's round trip; the slots took 22 and 18 ns off
 * sys_enter's and sys_exit's run there). pipes_in_hash says whether any
 * is there: while none is, a miss in its slot is a miss. Userspace
 * leaves one slot without chain mode. Inode 0 is no pipe's (a free slot).
 */
#define PIPE_SLOTS	2048

/* Fewer slots (tests: BOUNDTRACE_PIPE_SLOTS) send more pipes to the hash. */
const volatile __u32 pipe_slot_mask = PIPE_SLOTS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PIPE_SLOTS);
	__type(key, __u32);
	__type(value, struct pipe_state);
} pipe_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pipe_state);
} pipes SEC(".maps");

/* A new state for pipes: ino set, the rest zero (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pipe_state);
} pipe_blank SEC(".maps");

__s64 pipes_in_hash;

/*
 * The two ends of a pipe finish their calls on two CPUs at once, and a
 * conversation's step changes two pipes' state (its request pipe's and
 * its response pipe's): one lock for every pipe's state makes each
 * call's steps whole. The locked part is a few loads and stores (no
 * helper may be called under it), so waiting for it is short.
 */
struct pipe_lock {
	struct bpf_spin_lock lock;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pipe_lock);
} pipe_locks SEC(".maps");

/* Where a call's steps leave what to send (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_pipe_out);
} pipe_outs SEC(".maps");

/* reader read at its ns what writer wrote at its ns (either may be counted first). */
static __always_inline void emit_handoff(__u64 ino, const struct pipe_call *reader,
					 const struct pipe_call *writer)
{
	struct bt_exchange_ev *e;

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

/* One end's exchange record e on response pipe x of request pipe w. */
static __always_inline void fill_pipe_exchange(struct bt_exchange_ev *e, __u32 pid, __u32 tid,
					       __u32 req_tid, __u8 role, __u64 w, __u64 x,
					       __u64 req_ns, __u64 resp_ns, const char *comm)
{
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
	__builtin_memcpy(e->comm, comm, sizeof(e->comm));
}

/*
 * A pipe exchange counted in the kernel when its tree is one hop, but
 * for the conversation's first exchange: its records tell userspace the
 * pipes are a conversation's, whose waits are no episodes.
 */
static __always_inline bool count_pipe_onehop(const struct bt_pipe_out *out)
{
	struct bt_onehop_end cl = { out->client, out->client_tid, out->req_tid, out->req_ns,
				    out->done_ns, out->client_comm };
	struct bt_onehop_end sv = { out->srv, out->resp_tid, out->resp_req_tid, out->resp_req_ns,
				    out->resp_ns, out->srv_comm };

	if (!onehop || out->first || !out->srv_leaf || has_served(out->client))
		return false;
	/* The client's record names the response pipe (fill_pipe_exchange). */
	return count_onehop(&cl, &sv, BT_KIND_PIPE, out->x, 0);
}

/*
 * Both ends' records of an exchange on a pipe conversation, client then
 * server, in one ring buffer sample: one reservation, not two (userspace
 * reads every record a sample holds). None when it is counted in the
 * kernel instead, unless the check mode wants them too.
 */
static __always_inline void emit_pipe_pair(const struct bt_pipe_out *out)
{
	bool counted = count_pipe_onehop(out);
	struct bt_exchange_ev *e;

	if (counted && !onehop_check)
		return;
	e = bpf_ringbuf_reserve(&exchanges, 2 * sizeof(*e), 0);

	if (!e) {
		lose(BT_LOSS_EXCHANGES);
		lose(BT_LOSS_EXCHANGES);
		return;
	}
	fill_pipe_exchange(&e[0], out->client, out->client_tid, out->req_tid, BT_ROLE_CLIENT,
			   out->w, out->x, out->req_ns, out->done_ns, out->client_comm);
	fill_pipe_exchange(&e[1], out->srv, out->resp_tid, out->resp_req_tid, BT_ROLE_SERVER,
			   out->w, out->x, out->resp_req_ns, out->resp_ns, out->srv_comm);
	if (counted)
		e[0].flags = e[1].flags = BT_XREC_COUNTED;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline struct pipe_state *pipe_slot(__u64 ino)
{
	__u32 idx = ino & pipe_slot_mask;

	return bpf_map_lookup_elem(&pipe_slots, &idx);
}

/* Pipe ino's state, or NULL if it has none. */
static __always_inline struct pipe_state *pipe_find(__u64 ino)
{
	struct pipe_state *v = pipe_slot(ino);

	if (!ino)
		return NULL;
	if (v && *(volatile __u64 *)&v->ino == ino)
		return v;
	if (!*(volatile __s64 *)&pipes_in_hash)
		return NULL;
	return bpf_map_lookup_elem(&pipes, &ino);
}

/* Pipe ino's state, made if it has none (a full map: lost.exchanges). */
static __always_inline struct pipe_state *pipe_state_of(__u64 ino)
{
	/* One state a pipe: one made in pipes while its slot was taken stays there. */
	struct pipe_state *v = pipe_find(ino), *b;
	__u32 zero = 0;
	__u64 owner;

	if (v || !ino)
		return v;
	v = pipe_slot(ino);
	if (v) {
		/* A free slot's state is zero (pipe_free); a racing maker of the same pipe shares it. */
		owner = __sync_val_compare_and_swap(&v->ino, 0, ino);
		if (!owner || owner == ino)
			return v;
	}
	b = bpf_map_lookup_elem(&pipe_blank, &zero);
	if (!b)
		return NULL;
	b->ino = ino;
	/* Counted before it is in: a lookup that finds it finds the count first. */
	__sync_fetch_and_add(&pipes_in_hash, 1);
	if (not_kept(bpf_map_update_elem(&pipes, &ino, b, BPF_NOEXIST))) {
		__sync_fetch_and_add(&pipes_in_hash, -1);
		lose(BT_LOSS_EXCHANGES);
		return NULL;
	}
	return bpf_map_lookup_elem(&pipes, &ino);
}

/*
 * Pipe ino's state freed (a read's end of file: no writer left). A slot
 * is zeroed and let go under the pipes' lock, so a step that found it
 * before and locks after sees another owner (pipe_track_op checks).
 */
static __always_inline void pipe_free(__u64 ino, struct pipe_lock *lk)
{
	struct pipe_state *v = pipe_slot(ino);

	if (!ino)
		return;
	if (v && *(volatile __u64 *)&v->ino == ino) {
		bpf_spin_lock(&lk->lock);
		if (v->ino == ino) {
			__builtin_memset(&v->conv, 0, sizeof(v->conv));
			__builtin_memset(&v->h, 0, sizeof(v->h));
			v->ino = 0;
		}
		bpf_spin_unlock(&lk->lock);
		return;
	}
	if (*(volatile __s64 *)&pipes_in_hash && !bpf_map_delete_elem(&pipes, &ino))
		__sync_fetch_and_add(&pipes_in_hash, -1);
}

/*
 * Chain mode: what a pipe call tells of hand-offs and conversations: a
 * write's entry (its conversation step; the hand-off state made, its
 * bytes counted), a write's exit (what its entry could not count), a
 * read's exit (both). Every state it needs is found first, the steps
 * (pipe_step.h) run under the pipes' lock, what they decided is sent
 * after it. Inlined at the write's entry (one site, in sys_enter: a
 * call and its return less on every pipe write); sys_exit calls it as
 * pipe_track below.
 */
static __always_inline int pipe_track_op(struct pipe_op *op)
{
	struct pipe_conv *cx = NULL, *cw = NULL;
	struct pipe_state *ps, *pw = NULL;
	struct pipe_handoff *h = NULL;
	struct inflight *st = NULL;
	bool conv, handoff;
	struct bt_pipe_out *out;
	struct pipe_lock *lk;
	struct pipe_call me;
	__u32 zero = 0, idx;
	__u64 end = 0, w = 0;

	if (!op || (!op->bytes && !op->eof && !op->counted))
		return 0;
	out = bpf_map_lookup_elem(&pipe_outs, &zero);
	lk = bpf_map_lookup_elem(&pipe_locks, &zero);
	if (!out || !lk)
		return 0;
	idx = op->tid & (INFLIGHT_SLOTS - 1);
	st = bpf_map_lookup_elem(&inflight, &idx);
	if (st && st->tid != op->tid)
		st = NULL;
	if (op->counted && !op->entry) {
		/* A write that wrote fewer bytes than its entry counted. */
		if (!st || st->pipe.cnt_ino != op->ino)
			return 0;
		st->pipe.cnt_ino = 0;
		ps = pipe_find(op->ino);
		if (!ps)
			return 0;
		bpf_spin_lock(&lk->lock);
		if (ps->ino == op->ino)
			bt_pipe_handoff_unwrite(&ps->h, op->tid, op->now, st->pipe.cnt_end,
						st->pipe.cnt_bytes, op->bytes);
		bpf_spin_unlock(&lk->lock);
		return 0;
	}
	/* A write's conversation step is at its entry alone. */
	conv = st && (op->entry || op->dir == BT_DIR_RECV);
	if (conv && op->eof) {
		/*
		 * No writer left and nothing in it: the pipe's state is done
		 * (a FIFO's next writer starts it again at its first write
		 * into the empty pipe).
		 */
		pipe_free(op->ino, lk);
		return 0;
	}
	/*
	 * Hand-offs: a read's bytes are counted at its exit, a write's at
	 * its entry if known there (bt_pipe_handoff_entered), else at its
	 * exit; at a write's entry the state is made (where both offsets
	 * are known to agree: the pipe empty, every byte before it out and
	 * none of it in yet; made at the write's exit instead, a worker
	 * whose read of it exited first would be lost to it).
	 */
	handoff = op->bytes && (!op->entry || op->empty || (op->counted && st));
	if (conv || (op->entry && op->empty)) {
		ps = pipe_state_of(op->ino);
	} else if (handoff) {
		ps = pipe_find(op->ino);
	} else {
		return 0;
	}
	if (!ps)
		return 0;
	if (conv) {
		/* The pipe this call may answer (a write) or be answered on (a read). */
		w = op->dir == BT_DIR_SEND ? st->pipe.rd : st->pipe.wr;
		cx = &ps->conv;
		/*
		 * A read needs w's state only if this pipe answers w (a
		 * response read; bt_pipe_conv_read): a server's request read
		 * skips the lookup. Read unlocked: the write whose bytes this
		 * read took set it at its entry, before its bytes were in.
		 */
		if (w && w != op->ino && (op->dir == BT_DIR_SEND || cx->answers == w)) {
			pw = pipe_find(w);
			if (pw)
				cw = &pw->conv;
		}
	}
	if (handoff)
		h = &ps->h;
	if (!cx && !h)
		return 0;
	bt_pipe_out_reset(out);
	/* The steps name this thread only in an answer or an exchange, both need cw. */
	if (cw)
		__builtin_memcpy(out->comm, op->comm, sizeof(out->comm));
	me.off = 0;
	me.ns = op->now;
	me.tid = op->tid;
	me.tgid = op->tgid;

	bpf_spin_lock(&lk->lock);
	/* A slot let go and taken again since it was found is another pipe's (pipe_free). */
	if (ps->ino != op->ino) {
		cx = NULL;
		h = NULL;
	}
	if (pw && pw->ino != w)
		cw = NULL;
	if (cx && st) {
		if (op->dir == BT_DIR_SEND)
			bt_pipe_conv_write(op, &st->pipe, cx, cw, out);
		else
			bt_pipe_conv_read(op, &st->pipe, cx, cw, out);
	}
	if (h) {
		if (op->entry)
			end = bt_pipe_handoff_entered(h, &me, op->bytes, op->empty,
						      op->counted && st, out);
		else if (!h->made_ns)
			;	/* no write entered it empty yet: the offsets are not known */
		else if (op->dir == BT_DIR_SEND)
			bt_pipe_handoff_write(h, &me, op->bytes, out);
		else
			bt_pipe_handoff_read(h, &me, op->bytes, op->began, out);
	}
	bpf_spin_unlock(&lk->lock);

	if (end && st) {
		st->pipe.cnt_ino = op->ino;
		st->pipe.cnt_bytes = op->bytes;
		st->pipe.cnt_end = end;
	}
	if (out->exch_role && st) {
		st->exch_role = out->exch_role;
		st->exch_dir = out->exch_dir;
		st->exch_done = out->exch_done;
		st->exch_ns = out->exch_ns;
		st->exch_owed = out->owed_done;
		st->exch_owed_ns = out->owed_ns;
	}
	if (out->served)
		mark_served(op->tgid);
	if (out->pair)
		emit_pipe_pair(out);
	for (int i = 0; i < HANDOFF_READS; i++) {
		if (i >= out->nhandoff)
			break;
		emit_handoff(op->ino, &out->reader[i], &out->writer[i]);
	}
	return 0;
}

/*
 * pipe_track_op at a pipe call's exit: a global function, verified once
 * rather than at each of sys_exit's crossing sites (inlined there, it
 * was a third of sys_exit's verification).
 */
__noinline int pipe_track(struct pipe_op *op)
{
	return pipe_track_op(op);
}

/* A pipe call's exit by task (a write's entry is pipe_write_entered's). */
static __always_inline void pipe_step(struct endpoint *c, struct crossing *x,
				      struct task_struct *task)
{
	struct pipe_op op;

	if (!exchange_records || c->kind != BT_KIND_PIPE || !c->file ||
	    (x->dir != BT_DIR_SEND && x->dir != BT_DIR_RECV))
		return;
	op.ino = c->chan;
	op.counted = 0;
	if (x->dir == BT_DIR_SEND && x->st && x->st->pipe.cnt_ino == op.ino) {
		/* Its entry counted its bytes: nothing to do if it wrote them all. */
		if (x->bytes == x->st->pipe.cnt_bytes) {
			x->st->pipe.cnt_ino = 0;
			return;
		}
		op.counted = 1;
	}
	op.now = x->end ? x->end : bpf_ktime_get_ns();
	op.bytes = x->bytes;
	op.began = 0;
	if (x->st) {
		op.began = x->st->wake_ns > x->start ? x->st->wake_ns : x->start;
		/* A write's time is its entry, as in its conversation step: before any read of it. */
		if (x->dir == BT_DIR_SEND)
			op.now = x->start;
	}
	op.tgid = x->tgid;
	op.tid = task->pid;	/* not bpf_get_current_pid_tgid(): a helper call less */
	op.dir = x->dir;
	op.eof = x->dir == BT_DIR_RECV && !x->ret;
	op.entry = 0;
	op.empty = 0;
	task_comm(task, op.comm);
	pipe_track(&op);
}

/*
 * Chain mode, at the entry of a target's write or writev of count bytes
 * into pipe file (its descriptor walked once by send_entered), at now:
 * the write's conversation step and, if the pipe is empty, its hand-off
 * state made (pipe_step.h says why at the entry). The pipe's ring is
 * read unlocked: a read that empties it at that moment only delays the
 * state to a later write.
 */
static __always_inline void pipe_write_entered(struct task_struct *task, struct file *file,
					       __u64 count, __u64 now, bool counts)
{
	struct inode *inode = file->f_inode;
	struct pipe_inode_info *pipe;
	struct pipe_op op;

	pipe = inode->i_pipe;
	if (!pipe)
		return;
	op.ino = inode->i_ino;
	op.now = now;
	op.bytes = count;
	op.began = 0;
	op.tgid = task->tgid;
	op.tid = task->pid;
	op.dir = BT_DIR_SEND;
	op.eof = 0;
	op.entry = 1;
	op.empty = pipe->head == pipe->tail;
	op.counted = counts;
	task_comm(task, op.comm);
	pipe_track_op(&op);
}

/* Atomic: a row of the stats map is shared (a pending row's is not, and pays it rarely). */
static __always_inline void exchange_add(struct bt_exch_sum *s, __u64 ns)
{
	__sync_fetch_and_add(&s->exchanges, 1);
	s->exch_ns += ns;
	s->exch_hist[log2_slot(ns)]++;
	if (ns > s->max_exch_ns)
		s->max_exch_ns = ns;
}

/*
 * What the socket tracepoints (or pipe_track, for a pipe conversation)
 * left in the thread's slot st, counted into the exchange counters s of
 * its crossing's row (in the stats map or pending) in direction dir.
 */
static __always_inline int exchange_account_in(struct bt_exch_sum *s, struct inflight *st,
					       __u32 dir)
{
	if (!s || !st || !st->exch_role || st->exch_dir != dir)
		return 0;
	s->role = st->exch_role;
	if (!st->exch_done)
		return 0;
	st->exch_done = false;
	exchange_add(s, st->exch_ns);
	if (st->exch_owed) {
		st->exch_owed = false;
		exchange_add(s, st->exch_owed_ns);
	}
	return 0;
}

/* exchange_account_in as a global function, verified once rather than at each crossing site. */
__noinline int exchange_account(struct bt_exch_sum *s, struct inflight *st, __u32 dir)
{
	return exchange_account_in(s, st, dir);
}

/*
 * inlined: the caller is verified once anyway (pending_try, itself a
 * global function), so the count of a thread's cached row takes no call.
 */
static __always_inline void account_exchange(__u8 kind, __u8 dir, struct inflight *st,
					     struct bt_exch_sum *s, bool inlined)
{
	/* Pipes: only pipe conversations, in chain mode. */
	if (kind != BT_KIND_TCP && kind != BT_KIND_UNIX_STREAM &&
	    (kind != BT_KIND_PIPE || !exchange_records))
		return;
	/*
	 * The global function only for a completed exchange (about one
	 * call in two of a conversation): a call to it and its return
	 * cost every other socket crossing as much as a helper call.
	 */
	if (st && st->exch_done && inlined)
		exchange_account_in(s, st, dir);
	else if (st && st->exch_done)
		exchange_account(s, st, dir);
	else if (st && st->exch_role && st->exch_dir == dir)
		s->role = st->exch_role;
}

#endif /* BOUNDTRACE_EXCHANGE_BPF_H */
