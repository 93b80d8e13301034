/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Far ends named at event time, included by boundtrace.bpf.c after the
 * descriptor classification. No /proc scan can see a connection that
 * lives a millisecond; the kernel can:
 *
 *  - sk_owner: a socket's last user, by socket id, from every traced
 *    crossing and from accept(), connect(), bind() and socketpair() of
 *    any process (rare calls, so hooking them system-wide costs little).
 *    A socket freshly made by a connection (the unix embryo, the TCP
 *    child) is cleared when made, so a reused address names no one.
 *  - accepted_by: the process that accepted a connection, by the inode
 *    of the connecting socket: the worker behind a listener, named even
 *    when the client wrote before the accept and closed before a scan.
 *  - inet_peers: TCP 4-tuple -> socket id and role, from
 *    inet_sock_set_state (ESTABLISHED from SYN_SENT: client; from
 *    SYN_RECV: server), deleted at CLOSE; UDP sockets bound without a
 *    peer are entered at bind() as servers. The mirrored tuple names the
 *    far socket, sk_owner its process.
 *  - futex_links: which word a futex wake ended a wait on, in the
 *    wakee's address space (a shared futex has another address in each
 *    process), so a futex edge carries the wait on that word only.
 *
 * A socket id is the struct sock address: stable from connect to close
 * and across accept (the embryo becomes the accepted socket), and known
 * without a helper call (a cookie would need one, and the embryo has none
 * yet). It never leaves the kernel.
 */
#ifndef BT_PEERS_BPF_H
#define BT_PEERS_BPF_H

#define TCP_ESTABLISHED	1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_CLOSE	7
#define EINPROGRESS	115

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct bt_sk_owner);
} sk_owner SEC(".maps");

struct bt_tuple {
	__u8 laddr[16];		/* v4 as ::ffff:a.b.c.d */
	__u8 raddr[16];
	__u16 lport;		/* host order */
	__u16 rport;
	__u8 proto;
	__u8 pad[3];
	/*
	 * The network namespace: two namespaces' tuples are not each other's
	 * (each container has its own 127.0.0.1; a veth pair is a wire).
	 */
	__u32 netns;
};

struct bt_tuple_val {
	__u64 sock;		/* socket id */
	__u64 ino;		/* its inode, 0 none yet (a child before accept) */
	__u8 role;		/* enum bt_role */
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct bt_sk_owner);
} accepted_by SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct bt_tuple);
	__type(value, struct bt_tuple_val);
} inet_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);	/* resized with stats */
	__type(key, struct bt_futex_link_key);
	__type(value, __u64);
} futex_links SEC(".maps");

/* Scratch tuples for peers_fill_info, off the stack the crossing already fills. */
struct tuple_pair {
	struct bt_tuple own, far;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tuple_pair);
} tuple_scratch SEC(".maps");

/* tp->far = the mirror of tp->own. */
static __always_inline void tuple_mirror(struct tuple_pair *tp)
{
	__builtin_memcpy(tp->far.laddr, tp->own.raddr, 16);
	__builtin_memcpy(tp->far.raddr, tp->own.laddr, 16);
	tp->far.lport = tp->own.rport;
	tp->far.rport = tp->own.lport;
	tp->far.proto = tp->own.proto;
	tp->far.netns = tp->own.netns;
}

/*
 * --peers: the channels a target has crossed (pipe inodes; sockets by id,
 * with their peer sockets), so the far end's crossings on them count from
 * the first byte, before a scan has found and followed that process.
 * Full: the mark is not set, counted in lost.map_full.
 */
const volatile bool count_marked = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);	/* resized with stats */
	__type(key, __u64);
	__type(value, __u8);
} marked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct bt_seen);
} seen SEC(".maps");

/* The first count of a process on a marked channel: keep its name and parent. */
static __always_inline void seen_process(struct task_struct *task)
{
	struct bt_seen s = {};
	__u32 tgid = task->tgid;

	if (bpf_map_lookup_elem(&seen, &tgid))
		return;
	s.ppid = task->real_parent->tgid;
	bpf_probe_read_kernel_str(s.comm, sizeof(s.comm), task->group_leader->comm);
	bpf_map_update_elem(&seen, &tgid, &s, BPF_NOEXIST);
}

/* The process of struct pid p (a thread group's), if it still has one: its name kept (seen). */
static __always_inline void seen_pid(struct pid *p)
{
	__u64 first = kernel_word(&p->tasks[PIDTYPE_PID].first);

	if (first)
		seen_process(bpf_rdonly_cast((void *)(first - bpf_core_field_offset(struct task_struct,
										 pid_links)),
					     bpf_core_type_id_kernel(struct task_struct)));
}

/*
 * Set (never cleared) before the first mark is inserted: until then no
 * channel is marked, so no process can be counted by a mark, and a
 * process that is not a target skips sys_exit_marked's descriptor walk
 * at each of its reads and writes (a target that has crossed nothing
 * yet, an idle daemon, costs the rest of the machine no more than with
 * --peers 0). One load where it is tested.
 */
__u64 marks_made;

/*
 * Marks have a filter in front: every non-target read and write on the
 * machine asks whether its channel is marked, and a clear bit (of 2^18,
 * by a hash of the key: a pipe's inode, a socket's address) answers
 * without a hash lookup. A bit is set before its mark is inserted and
 * never cleared, so a clear bit proves the channel unmarked (a socket's
 * mark dropped with its connection leaves its bit set: a lookup more,
 * never a count less). A socket's key is its address, a pointer, which
 * the verifier lets no program multiply: it is hashed as the number
 * kernel_word() reads back from where it was put.
 */
#define MARK_BITS	18
__u64 mark_bits[(1u << MARK_BITS) / 64];

/* The word of mark_bits holding key's bit, and the bit in *bit. */
static __always_inline __u64 *mark_word(__u64 key, __u64 *bit)
{
	__u32 slot = (key * 0x9E3779B97F4A7C15ULL) >> (64 - MARK_BITS);

	*bit = 1ULL << (slot % 64);
	return &mark_bits[slot / 64];
}

/* False: key is certainly not marked (key a number, see mark_bits). */
static __always_inline bool maybe_marked(__u64 key)
{
	__u64 bit;

	return *mark_word(key, &bit) & bit;
}

static __always_inline void mark(__u64 id)
{
	__u8 one = 1;
	__u64 key = id, bit;

	if (!count_marked || !id)
		return;
	if (!*(volatile __u64 *)&marks_made)
		marks_made = 1;
	__sync_fetch_and_or(mark_word(kernel_word(&key), &bit), bit);
	if (not_kept(bpf_map_update_elem(&marked, &id, &one, BPF_NOEXIST)))
		lose(BT_LOSS_MAP_FULL);
}

/* The first row of a channel marks it: a pipe by inode, a socket and its peer by id. */
__noinline int mark_channel(__u64 pipe_ino, __u64 sk_addr, __u64 peer_addr)
{
	mark(pipe_ino);
	mark(sk_addr);
	mark(peer_addr);
	return 0;
}

static __always_inline bool is_marked(__u64 id)
{
	return id && bpf_map_lookup_elem(&marked, &id);
}

/*
 * Whether channel key (a number, see mark_bits) is marked: the filter
 * first, as most channels of the machine are not, then the map.
 */
static __always_inline bool channel_marked(__u64 key)
{
	return maybe_marked(key) && is_marked(key);
}

static __always_inline __u64 sock_id(const struct sock *sk)
{
	return (__u64)sk;
}

/* The owner socket id's entry names, or 0 if it is another socket's (see bt_sk_owner.ino). */
static __always_inline __u32 owner_if(const struct bt_sk_owner *o, __u64 ino)
{
	if (!o || (o->ino && ino && o->ino != (__u32)ino))
		return 0;
	return o->tgid;
}

/* The process the kernel credits sk to: its last user, 0 unknown. */
static __always_inline __u32 sock_owner(const struct sock *sk)
{
	__u64 id = sock_id(sk);

	if (!id)
		return 0;
	return owner_if(bpf_map_lookup_elem(&sk_owner, &id), sock_ino((struct sock *)sk));
}

/*
 * Writes and deletes of the owner maps, counted AFTER each (an LRU
 * eviction happens inside a write, so it is counted too). A thread that
 * read the count as G, then found or wrote sk_owner[sk] == tgid, knows
 * it still holds while the count is G: see sock_used_by. (Counting
 * before the write would let a reader see the new count and the old
 * value.)
 */
__u64 owner_writes;

/*
 * map[key] = tgid (and the caller's name; sk_owner: the socket's inode
 * ino), written only when that changes.
 */
static __always_inline void owner_put(void *map, __u64 key, __u32 tgid, __u32 ino)
{
	struct bt_sk_owner o = { .tgid = tgid, .ino = ino }, *have;

	if (!key)
		return;
	have = bpf_map_lookup_elem(map, &key);
	if (have && have->tgid == tgid && have->ino == ino)
		return;
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	bpf_map_update_elem(map, &key, &o, BPF_ANY);
	__sync_fetch_and_add(&owner_writes, 1);
}

/* A global function: one verified copy, not one per crossing call site. */
__noinline int sock_used_addr(__u64 sk_addr, __u32 tgid)
{
	owner_put(&sk_owner, sk_addr, tgid,
		  sock_ino(bpf_rdonly_cast((void *)sk_addr, bpf_core_type_id_kernel(struct sock))));
	return 0;
}

static __always_inline void sock_used(const struct sock *sk, __u32 tgid)
{
	owner_put(&sk_owner, sock_id(sk), tgid, sock_ino((struct sock *)sk));
}

static __always_inline void v4_mapped(__u8 out[16], __u32 a)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &a, 4);
}

static __always_inline void sk_tuple(const struct sock *sk, struct bt_tuple *t)
{
	__u16 family = sk->__sk_common.skc_family;

	t->lport = sk->__sk_common.skc_num;
	t->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	t->proto = sk->sk_protocol;
	t->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (family == AF_INET) {
		v4_mapped(t->laddr, sk->__sk_common.skc_rcv_saddr);
		v4_mapped(t->raddr, sk->__sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr);
	}
}

/*
 * Marks deleted, counted AFTER each delete (the only way a mark goes): a
 * thread that read the count as G, then found a channel marked, knows it
 * still is while the count is G (see mark_before_send).
 */
__u64 marks_dropped;

/* A socket made by a connection: whatever the address named before is gone. */
static __always_inline void sock_fresh(const struct sock *sk, bool unmark)
{
	__u64 id = sock_id(sk);

	if (!id)
		return;
	bpf_map_delete_elem(&sk_owner, &id);
	__sync_fetch_and_add(&owner_writes, 1);
	/* A mark on a freed socket's address is not this socket's. */
	if (unmark && !bpf_map_delete_elem(&marked, &id))
		__sync_fetch_and_add(&marks_dropped, 1);
}

static __always_inline void tuple_put(struct bt_tuple *t, const struct sock *sk, __u8 role)
{
	struct bt_tuple_val v = { .sock = sock_id(sk), .ino = sock_ino((struct sock *)sk),
				  .role = role };

	if (not_kept(bpf_map_update_elem(&inet_peers, t, &v, BPF_ANY)))
		lose(BT_LOSS_MAP_FULL);
}

/*
 * --peers: a TCP connection made to a listener a target holds, or by a
 * target's marked socket, is marked at its handshake, before either end's
 * first byte (a client that writes before the server accepts counts from
 * it). The client's end is established first (SYN_SENT), the server's
 * child when the client's ACK comes (SYN_RECV), which also marks the
 * client's end under the mirrored tuple. The tuples are on the stack:
 * this runs in softirq, which may interrupt a syscall's use of
 * tuple_scratch on this CPU.
 */
static __always_inline void mark_handshake(const struct sock *sk, struct tuple_pair *tp,
					   int oldstate)
{
	struct bt_tuple_val *far;
	bool to_marked;

	if (oldstate == TCP_SYN_SENT) {
		if (is_marked(BT_MARK_TCP_LISTENER(tp->own.netns, tp->own.rport)))
			mark(sock_id(sk));
		return;
	}
	tuple_mirror(tp);
	far = bpf_map_lookup_elem(&inet_peers, &tp->far);
	to_marked = is_marked(BT_MARK_TCP_LISTENER(tp->own.netns, tp->own.lport));
	if (!to_marked && !(far && is_marked(far->sock)))
		return;
	mark(sock_id(sk));
	if (far)
		mark(far->sock);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct tuple_pair tp = {};

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_ESTABLISHED) {
		sk_tuple(sk, &tp.own);
		if (oldstate == TCP_SYN_RECV)
			sock_fresh(sk, true);
		tuple_put(&tp.own, sk, oldstate == TCP_SYN_SENT ? BT_ROLE_CLIENT : BT_ROLE_SERVER);
		if (count_marked)
			mark_handshake(sk, &tp, oldstate);
	} else if (newstate == TCP_CLOSE) {
		sk_tuple(sk, &tp.own);
		/*
		 * tcp_set_state() releases the port (inet_put_port: skc_num
		 * = 0) before it stores TCP_CLOSE, which is when this runs:
		 * the source port is still in inet_sport. (Read from skc_num,
		 * the delete missed nearly every closed connection: 9,184 of
		 * 10,000 ends of 5,000 were left, and the map filled.)
		 */
		if (!tp.own.lport)
			tp.own.lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
		bpf_map_delete_elem(&inet_peers, &tp.own);
	}
	return 0;
}

/* The connection of the socket with inode ino is served by tgid (accepted_by). */
static __always_inline void served_by(__u64 ino, __u32 tgid)
{
	owner_put(&accepted_by, ino, tgid, 0);
}

/*
 * A process counted by a mark (not a target) used c: its socket's user,
 * and the process serving a unix connection (a daemon that accepts and
 * forks a backend, postgres, hands it on; the backend is the far end).
 */
static __always_inline void marked_end_used(const struct endpoint *c, __u32 tgid)
{
	if (c->sk)
		sock_used(c->sk, tgid);
	if (c->peer_sk)
		served_by(sock_ino(c->peer_sk), tgid);
}

/* The socket at the other end of an inet connection: its mirrored tuple's. */
static __always_inline struct bt_tuple_val *inet_other_end(const struct sock *sk)
{
	struct tuple_pair *tp;
	__u32 zero = 0;

	tp = bpf_map_lookup_elem(&tuple_scratch, &zero);
	if (!tp)
		return NULL;
	__builtin_memset(tp, 0, sizeof(*tp));
	sk_tuple(sk, &tp->own);
	tuple_mirror(tp);
	return bpf_map_lookup_elem(&inet_peers, &tp->far);
}

/* The connecting socket behind a socket accept() returned was accepted by tgid. */
static __always_inline void accepted(struct endpoint *c, __u32 tgid)
{
	__u64 ino = 0;

	/*
	 * barrier_var: without it clang merges the two loads of ino (one
	 * through a kernel pointer, one from a map value) into one
	 * instruction, which the verifier refuses ("same insn cannot be
	 * used with different pointers").
	 */
	if (c->family == AF_UNIX) {
		if (c->peer_sk) {
			ino = sock_ino(c->peer_sk);
			barrier_var(ino);
		}
	} else {
		struct bt_tuple_val *v = inet_other_end(c->sk);

		if (v) {
			ino = v->ino;
			barrier_var(ino);
		}
	}
	served_by(ino, tgid);
}

/*
 * --peers: a target's connect() or accept() marks both ends of the new
 * connection before either's first byte, so a far end that writes first
 * (a server's greeting) counts from it; so does any process's connect()
 * to a listener a target holds (connection_marks, mark_handshake), so a
 * client that writes before the target accepts counts from its first byte.
 */
static __always_inline void mark_connection(struct endpoint *c)
{
	struct bt_tuple_val *v;

	mark(sock_id(c->sk));
	if (c->family == AF_UNIX) {
		if (c->peer_sk)
			mark(sock_id(c->peer_sk));
		return;
	}
	v = inet_other_end(c->sk);
	if (v)
		mark(v->sock);
}

/* A listening socket as its key in `marked`; 0 for other sockets. */
static __always_inline __u64 listener_key(const struct endpoint *c)
{
	struct sock *sk = c->sk;

	if (c->kind == BT_KIND_UNIX_STREAM)
		return BT_MARK_UNIX_LISTENER(c->chan);
	if (c->kind == BT_KIND_TCP)
		return BT_MARK_TCP_LISTENER(BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum),
					    sk->__sk_common.skc_num);
	return 0;
}

/* Whether l, a unix listener, is a target's (marked by listen, accept or discovery). */
static __always_inline bool unix_listener_marked(struct sock *l)
{
	return is_marked(BT_MARK_UNIX_LISTENER(sock_ino(l)));
}

/*
 * Whether sk is a unix embryo (the peer connect() made) waiting on a
 * marked listener's queue: once the target accepts it, the accept marked
 * it, and it names no listener any more.
 */
static __always_inline bool queued_at_marked_listener(struct sock *sk)
{
	struct unix_sock *embryo = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct unix_sock));
	struct sock *l;

	if (!bpf_core_field_exists(embryo->listener))
		return false;
	l = embryo->listener;
	return l && unix_listener_marked(l);
}

/* A unix stream connect() reached a listener a target holds. */
static __always_inline bool unix_to_marked(const struct endpoint *c)
{
	if (c->kind != BT_KIND_UNIX_STREAM || !c->peer_sk)
		return false;
	return is_marked(sock_id(c->peer_sk)) || queued_at_marked_listener(c->peer_sk);
}

/*
 * --peers, at the exit of listen(), connect(), accept() and accept4():
 * a target's listener is marked (at listen, and at each accept, for one
 * listening since before the trace that no scan has seen yet); a
 * target's new connection, and any process's unix connection to a
 * marked listener, is marked at both ends. A global function, called
 * from sys_exit_marked: verified once.
 */
__noinline int connection_marks(long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	bool target = is_target(task->tgid);
	long nr = BT_REGS_NR(regs);
	struct endpoint c = {};

	if (nr == BT_NR_connect) {
		if (ret < 0 && ret != -EINPROGRESS)
			return 0;
		classify(task, BT_REGS_ARG1(regs), &c);
		if (c.sk && c.kind != BT_KIND_NONE && (target || unix_to_marked(&c)))
			mark_connection(&c);
		return 0;
	}
	if (!target || ret < 0)
		return 0;
	/* listen(fd, backlog); accept(fd, ...): fd is the listener. */
	classify(task, BT_REGS_ARG1(regs), &c);
	if (c.sk)
		mark(listener_key(&c));
	if (nr == BT_NR_listen)
		return 0;
	__builtin_memset(&c, 0, sizeof(c));
	classify(task, ret, &c);
	if (c.sk && c.kind != BT_KIND_NONE)
		mark_connection(&c);
	return 0;
}

/* The descriptor a sending call writes to; -1 for the other calls. */
static __always_inline long sent_fd(long nr, struct pt_regs *regs)
{
	switch (nr) {
	case BT_NR_write: case BT_NR_writev: case BT_NR_sendto: case BT_NR_sendmsg:
	case BT_NR_sendmmsg: case BT_NR_vmsplice: case BT_NR_sendfile:
		return BT_REGS_ARG1(regs);
	case BT_NR_splice:	/* splice(fd_in, off_in, fd_out, ...) */
		return BT_REGS_ARG3(regs);
	case BT_NR_tee:		/* tee(fd_in, fd_out, ...) */
		return BT_REGS_ARG2(regs);
	}
	return -1;
}

/*
 * --peers, at the ENTRY of a target's sending call: the channel is marked
 * before the first byte is in it. Marked at the exit, a reader the write
 * woke could finish its read on another CPU first (or, under a write
 * larger than the pipe, many reads): neither counted nor seen unseen.
 * c is the call's descriptor, classified once by the entry (send_entered)
 * for this and the pipe's conversation step; one lookup unless this
 * thread's last send found the same channel marked and no mark was
 * dropped since (the thread's slot st remembers: mark_id, mark_gen).
 */
static __always_inline void mark_before_send(struct endpoint *c, struct inflight *st)
{
	__u64 gen = *(volatile __u64 *)&marks_dropped;
	__u64 id;

	if (c->kind == BT_KIND_PIPE)
		id = c->chan;
	else if (c->sk && c->kind != BT_KIND_NONE)
		id = sock_id(c->sk);
	else
		return;
	if (st && st->mark_id == id && st->mark_gen == gen)
		return;
	if (is_marked(id)) {
		if (st) {
			st->mark_id = id;
			st->mark_gen = gen;
		}
		return;
	}
	if (c->kind == BT_KIND_PIPE)
		mark(id);
	else
		mark_connection(c);
}

/*
 * --sockets-only, --peers: a target's send reached sk, a unix socket, and
 * its reader is about to be woken (sk_data_ready): sk and its peer are
 * marked now, as mark_before_send marks at a sending call's entry. The
 * filter's clear bit says "not marked" without a lookup; a set one, after
 * the connection's first send, ends it (a bit another socket set leaves
 * the mark to the send's own count, a moment later).
 */
static __always_inline void mark_receiver(struct sock *sk)
{
	struct endpoint c = {};

	classify_sock(sk, 0, &c);
	if (c.kind == BT_KIND_NONE || maybe_marked(kernel_word(&c.sk)))
		return;
	mark_connection(&c);
}

/*
 * --sockets-only, --peers: a process that is no target sends to sk, a
 * unix socket, whose reader is about to be woken (sk_data_ready). If sk
 * is marked, or is a connection a marked listener (a target's, marked by
 * discovery) has not accepted yet, the sender's own end is marked now,
 * so its send is counted at its count a moment later (sock_count_marked):
 * a client that writes before the target accepts counts from its first
 * byte, as connection_marks makes it with the syscall hooks. The
 * sender's end's filter bit, once set, ends it at one load.
 */
static __always_inline void mark_sender(struct sock *sk)
{
	struct unix_sock *us = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct unix_sock));
	struct sock *own = us->peer;
	__u64 key = kernel_word(&sk), own_key;

	if (!own)
		return;
	own_key = kernel_word(&own);
	if (maybe_marked(own_key))
		return;
	if (!channel_marked(key)) {
		if (!queued_at_marked_listener(sk))
			return;
		mark(key);
	}
	mark(own_key);
}

/*
 * --sockets-only, --peers: a process that is no target connected to l, a
 * unix listener, and l is told (sk_data_ready, in the connecting
 * process). A marked listener's (a target's) new connection is the last
 * on its queue: it and the connecting end are marked, so a client whose
 * connection is accepted before its first send counts from that send
 * (mark_sender covers the other order). Another connect may queue in
 * between, or the target accept it first: then this one is not marked,
 * and the far end's first bytes show as unseen. A unix connect of any
 * process pays the listener's lookup.
 */
static __always_inline void mark_connecting(struct sock *l)
{
	struct sk_buff *skb;
	struct unix_sock *embryo;

	if (!l->sk_receive_queue.qlen || !unix_listener_marked(l))
		return;
	skb = bpf_rdonly_cast((void *)kernel_word(&l->sk_receive_queue.prev),
			      bpf_core_type_id_kernel(struct sk_buff));
	embryo = bpf_rdonly_cast(skb->sk, bpf_core_type_id_kernel(struct unix_sock));
	if (!embryo->peer)
		return;
	mark(kernel_word(&skb->sk));
	mark(kernel_word(&embryo->peer));
}

/* socketpair(domain, type, protocol, sv[2]): both ends are the caller's. */
static __always_inline void socketpair_made(struct task_struct *task, const int *sv)
{
	int fds[2] = { -1, -1 };

	if (!sv || bpf_probe_read_user(fds, sizeof(fds), sv))
		return;
	for (int i = 0; i < 2; i++) {
		struct endpoint c = {};

		classify(task, fds[i], &c);
		if (c.sk) {
			sock_fresh(c.sk, true);
			sock_used(c.sk, task->tgid);
		}
	}
}

/*
 * socket(), accept(), connect(), bind() and socketpair() of any process: who holds
 * the socket. A UDP socket bound with no peer is a server its clients'
 * mirrored tuples will not find: it is entered under its local address.
 */
static __always_inline void peers_exit(struct task_struct *task, struct pt_regs *regs, long ret)
{
	long nr = BT_REGS_NR(regs), fd;
	struct endpoint c = {};

	if (nr == BT_NR_accept || nr == BT_NR_accept4) {
		if (ret < 0)
			return;
		fd = ret;
	} else if (nr == BT_NR_connect) {
		if (ret < 0 && ret != -EINPROGRESS)
			return;
		fd = BT_REGS_ARG1(regs);
	} else if (nr == BT_NR_bind) {
		if (ret < 0)
			return;
		fd = BT_REGS_ARG1(regs);
	} else if (nr == BT_NR_socketpair) {
		if (!ret)
			socketpair_made(task, (const int *)BT_REGS_ARG4(regs));
		return;
	} else if (nr == BT_NR_socket) {
		/* A new socket: what its address named before is gone. */
		if (ret >= 0) {
			classify(task, ret, &c);
			if (c.sk)
				sock_fresh(c.sk, true);
		}
		return;
	} else {
		return;
	}
	classify(task, fd, &c);
	if (!c.sk || c.kind == BT_KIND_NONE)
		return;
	sock_used(c.sk, task->tgid);
	if (nr == BT_NR_accept || nr == BT_NR_accept4)
		accepted(&c, task->tgid);
	else if (nr == BT_NR_connect && c.family == AF_UNIX && c.kind == BT_KIND_UNIX_STREAM)
		/*
		 * The embryo connect() just made. A target's is marked by
		 * sys_exit_marked, which may run before this: keep that mark.
		 */
		sock_fresh(c.peer_sk, !(count_marked && is_target(task->tgid)));
	if (nr == BT_NR_bind && c.kind == BT_KIND_UDP) {
		struct bt_tuple t = {};

		sk_tuple(c.sk, &t);
		if (!t.rport)
			tuple_put(&t, c.sk, BT_ROLE_SERVER);
	}
}

/* The calls peers_exit looks at; sys_exit tests this before calling it. */
static __always_inline bool is_peers_nr(long nr)
{
	switch (nr) {
	case BT_NR_accept: case BT_NR_accept4: case BT_NR_connect: case BT_NR_bind:
	case BT_NR_socketpair: case BT_NR_socket:
		return true;
	}
	return false;
}

/* A global function: verified once, not inside the crossing program's paths. */
__noinline int peers_on_exit(long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();

	peers_exit(task, (struct pt_regs *)bpf_task_pt_regs(task), ret);
	return 0;
}

/*
 * The far socket of an inet socket (own tuple in tp->own): the mirrored
 * tuple, else a UDP server's bind.
 */
static __always_inline struct bt_tuple_val *inet_far(struct tuple_pair *tp,
						     struct bt_chan_info *info)
{
	struct bt_tuple_val *v;

	if (!tp->own.rport && info->rport) {
		/* Unconnected UDP: the remote of this call. */
		tp->own.rport = info->rport;
		if (info->family == AF_INET) {
			__u32 a;

			__builtin_memcpy(&a, info->raddr, 4);
			v4_mapped(tp->own.raddr, a);
		} else {
			__builtin_memcpy(tp->own.raddr, info->raddr, 16);
		}
	}
	tuple_mirror(tp);
	v = bpf_map_lookup_elem(&inet_peers, &tp->far);
	if (v || tp->own.proto != IPPROTO_UDP)
		return v;
	/* A UDP server bound to that address, then to the wildcard. */
	__builtin_memset(tp->far.raddr, 0, 16);
	tp->far.rport = 0;
	v = bpf_map_lookup_elem(&inet_peers, &tp->far);
	if (v)
		return v;
	__builtin_memset(tp->far.laddr, 0, 16);
	return bpf_map_lookup_elem(&inet_peers, &tp->far);
}

static __always_inline __u32 pid_number(struct pid *pid)
{
	return pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
}

/*
 * The channel facts' far end, once, when its first row is made: the role
 * of this end and the process the kernel credits the far socket to.
 * A global function, verified once rather than at each of the crossing's
 * call sites; the sockets come as plain addresses (sk_addr, peer_addr).
 */
__noinline int peers_fill_info(__u64 sk_addr, __u64 peer_addr, struct bt_chan_info *info)
{
	struct sock *sk = bpf_rdonly_cast((void *)sk_addr, bpf_core_type_id_kernel(struct sock));

	if (!sk_addr || !info)
		return 0;
	info->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (info->family == AF_UNIX) {
		struct unix_sock *us = bpf_rdonly_cast((void *)sk_addr,
						       bpf_core_type_id_kernel(struct unix_sock));
		struct unix_sock *peer;

		if (!peer_addr)
			return 0;
		peer = bpf_rdonly_cast((void *)peer_addr, bpf_core_type_id_kernel(struct unix_sock));
		/*
		 * The peer socket's user, else SO_PEERCRED of our end: the
		 * listener's process for a client (the worker that accepts
		 * is known once it does: accepted_by), the client for an
		 * accepted socket, the creator for a socketpair.
		 */
		info->peer_tgid = sock_owner((struct sock *)peer);
		if (!info->peer_tgid) {
			info->peer_tgid = pid_number(sk->sk_peer_pid);
			/*
			 * --sockets-only hooks no connect() to take the far
			 * end's name from: its process, while it lives, keeps
			 * it for a report written after it exited (seen).
			 */
			if (sockets_only && info->peer_tgid)
				seen_pid(sk->sk_peer_pid);
		}
		/* The peer still waiting in a listener's queue: we connected. */
		if (bpf_core_field_exists(peer->listener) && peer->listener)
			info->role = BT_ROLE_CLIENT;
		else if (us->addr && !peer->addr)
			info->role = BT_ROLE_SERVER;
		else if (!us->addr && peer->addr)
			info->role = BT_ROLE_CLIENT;
	} else if (info->family == AF_INET || info->family == AF_INET6) {
		struct bt_tuple_val *own, *far;
		struct tuple_pair *tp;
		struct bt_sk_owner *o;
		__u32 zero = 0;

		tp = bpf_map_lookup_elem(&tuple_scratch, &zero);
		if (!tp)
			return 0;
		__builtin_memset(tp, 0, sizeof(*tp));
		sk_tuple(sk, &tp->own);
		own = bpf_map_lookup_elem(&inet_peers, &tp->own);
		if (own)
			info->role = own->role;
		far = inet_far(tp, info);
		if (!far)
			return 0;
		/*
		 * The far socket's inode, where it has one yet (an accepted
		 * socket's far end, the connecting socket, does): a 4-tuple
		 * used again by a later connection is told apart by it.
		 */
		if (info->kind == BT_KIND_TCP)
			info->peer_ino = far->ino;
		mark(far->sock);
		if (!info->role)
			info->role = far->role == BT_ROLE_SERVER ? BT_ROLE_CLIENT : BT_ROLE_SERVER;
		o = bpf_map_lookup_elem(&sk_owner, &far->sock);
		if (owner_if(o, far->ino))
			info->peer_tgid = o->tgid;
	}
	return 0;
}

/*
 * A futex wake by a traced waker ended p's wait: which word, in p's
 * address space. A link is kept once per (waker, word, wakee, word): its
 * value is 1, the analysis asks only whether it exists. The waker's slot
 * st remembers the last link it made or found, so a thread that wakes
 * the same waiter on the same word again (a futex ping-pong, a pool's
 * condition variable) skips the hash lookup; the map is never deleted
 * from, so a remembered link is still there.
 */
static __always_inline void futex_link(struct inflight *st, struct task_struct *cur,
				       struct task_struct *p, struct pt_regs *wregs)
{
	struct pt_regs *cregs = task_regs(cur);
	struct bt_futex_link_key k = { .waker = cur->tgid, .wakee = p->tgid };
	long nr = BT_REGS_NR(wregs), cnr = BT_REGS_NR(cregs);
	__u64 one = 1;
	long err;

	if (cnr == BT_NR_futex_requeue || cnr == BT_NR_futex_waitv)
		k.waker_addr = futex_vec_addr((void *)BT_REGS_ARG1(cregs));
	else
		k.waker_addr = BT_REGS_ARG1(cregs);
	if (nr == BT_NR_futex_waitv)
		k.wakee_addr = futex_vec_addr((void *)BT_REGS_ARG1(wregs));
	else
		k.wakee_addr = BT_REGS_ARG1(wregs);
	if (st->flink_wakee == k.wakee && st->flink_waker_addr == k.waker_addr &&
	    st->flink_wakee_addr == k.wakee_addr)
		return;
	err = bpf_map_update_elem(&futex_links, &k, &one, BPF_NOEXIST);
	if (not_kept(err)) {
		lose(BT_LOSS_MAP_FULL);
		return;
	}
	st->flink_wakee = k.wakee;
	st->flink_waker_addr = k.waker_addr;
	st->flink_wakee_addr = k.wakee_addr;
}

#endif /* BT_PEERS_BPF_H */
