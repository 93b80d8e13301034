/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the BPF programs (bpf/boundtrace.bpf.c) and userspace.
 * Everything here is fixed-size so the kernel can aggregate without
 * allocating and userspace can read the maps without translation.
 */
#ifndef BOUNDTRACE_H
#define BOUNDTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>	/* userspace; BPF gets the types from vmlinux.h */
#include <linux/bpf.h>	/* struct bpf_spin_lock */
#endif

/* Largest pid the kernel can hand out on 64-bit (PID_MAX_LIMIT). */
#define BT_PID_MAX		(4u * 1024 * 1024)
#define BT_HIST_SLOTS		32	/* log2 buckets: slot i holds [2^i, 2^(i+1)) */
#define BT_COMM_LEN		16
#define BT_PATH_LEN		64	/* unix socket paths are cut here */
#define BT_MMSG_MAX		64	/* mmsghdr entries summed per call */
#define BT_WAKEES_MAX		4	/* distinct processes one crossing can wake */
#define BT_MSG_PEEK		2	/* MSG_PEEK: a peek copies bytes but consumes none */
#define BT_ROW_WAKEES		2	/* wakees counted inside an aggregate row */

/*
 * The boundary kinds. user/kinds.c holds the one table that names them;
 * add a kind there and here, nowhere else.
 */
enum bt_kind {
	BT_KIND_NONE = 0,	/* not a boundary: regular file, tty, ... */
	BT_KIND_PIPE,		/* anonymous pipe or named FIFO */
	BT_KIND_UNIX_STREAM,	/* SOCK_STREAM and SOCK_SEQPACKET */
	BT_KIND_UNIX_DGRAM,
	BT_KIND_TCP,
	BT_KIND_UDP,
	BT_KIND_FUTEX,
	BT_KIND_MAX,
};

enum bt_dir {
	BT_DIR_SEND = 0,	/* bytes leave the caller */
	BT_DIR_RECV,		/* bytes arrive at the caller */
	BT_DIR_WAIT,		/* futex wait / lock */
	BT_DIR_WAKE,		/* futex wake / unlock / requeue */
	BT_DIR_MAX,
};

/*
 * Aggregation key: one row per (process, kind, channel, direction).
 *   pipe:   chan = pipe inode, peer = 0
 *   unix:   chan = own socket inode, peer = 0 (the peer's inode is in
 *           bt_chan_info: it must outlive the peer's close)
 *   tcp/udp:chan = own socket inode, peer = remote port << 48 ^ folded addr,
 *           so an unconnected UDP socket gets one row per remote
 *   futex:  chan = user address of the futex word, peer = 0
 */
struct bt_key {
	__u32 tgid;
	__u8 kind;
	__u8 dir;
	__u16 pad;
	__u64 chan;
	__u64 peer;
	/*
	 * --stacks: the stack-trace map ids of the call site (user) and the
	 * kernel path, so a row is per unique stack; BT_STACK_NONE without
	 * --stacks, BT_STACK_LOST when the stack could not be taken.
	 */
	__s32 ustack;
	__s32 kstack;
	/*
	 * --stacks: the return address on top of the user stack when it
	 * follows a call instruction. A libc syscall wrapper makes no frame,
	 * so the frame-pointer walk skips its caller; this restores it.
	 */
	__u64 ucaller;
};

#define BT_STACK_NONE	(-1)
#define BT_STACK_LOST	(-2)
#define BT_STACK_DEPTH	127	/* frames kept per stack (PERF_MAX_STACK_DEPTH) */

/* Per-CPU value of an aggregate row; userspace sums the CPUs. */
struct bt_stats {
	__u64 calls;		/* completed syscalls (and error returns) */
	__u64 bytes;		/* successful byte counts */
	__u64 errors;		/* calls returning < 0 */
	__u64 woken;		/* futex wakes: waiters woken (return value) */
	__u64 blocked_ns;	/* sum of entry -> exit time */
	__u64 max_blocked_ns;
	__u64 size_hist[BT_HIST_SLOTS];	  /* successful sizes, log2 bytes */
	__u64 blocked_hist[BT_HIST_SLOTS]; /* entry -> exit, log2 ns */
	/*
	 * Wakeup causality, kept in the row itself (no second map lookup on
	 * the hot path): the first BT_ROW_WAKEES processes this row's
	 * crossings woke, and how often. Others go to the wakes map.
	 */
	__u32 wakee[BT_ROW_WAKEES];	/* tgids, 0 free */
	__u64 wakee_n[BT_ROW_WAKEES];
	/*
	 * Exchanges (request and response on a connection, see struct
	 * bt_conn), counted in the row of the crossing that completed one:
	 * a client's receive of the response's first bytes (latency: the
	 * request's first send -> that receive) or a server's send of the
	 * response's first bytes (service time: the request's first
	 * receive -> that send).
	 */
	__u32 role;		/* enum bt_role of the channel, as last seen */
	__u32 pad_role;
	__u64 exchanges;
	__u64 exch_ns;		/* summed latency / service time */
	__u64 max_exch_ns;
	__u64 exch_hist[BT_HIST_SLOTS];	/* log2 ns */
};

/*
 * The exchange counters at the end of struct bt_stats (role to
 * exch_hist), as one type: the kernel counts an exchange into a row of
 * the stats map or into a thread's pending row (below) through it.
 */
struct bt_exch_sum {
	__u32 role;
	__u32 pad_role;
	__u64 exchanges;
	__u64 exch_ns;
	__u64 max_exch_ns;
	__u64 exch_hist[BT_HIST_SLOTS];
};

/* Both sides count and read an exchange through it, in a stats row too. */
_Static_assert(sizeof(struct bt_stats) - __builtin_offsetof(struct bt_stats, role) ==
	       sizeof(struct bt_exch_sum), "struct bt_exch_sum is the tail of struct bt_stats");
_Static_assert(__builtin_offsetof(struct bt_stats, exch_hist) -
	       __builtin_offsetof(struct bt_stats, role) ==
	       __builtin_offsetof(struct bt_exch_sum, exch_hist), "same layout");

/*
 * The row cache: a thread's crossings on the row it crossed last in a
 * direction are counted in thread-owned memory (the pending map, an
 * array of BT_PENDING_SLOTS slots picked by tid, memory-mapped by
 * userspace), not in the shared stats map: no hash lookup and no atomic
 * add. The first crossing on a row is counted in stats as before (it
 * makes the row and its channel facts), the next ones here, until the
 * thread crosses another row in that direction or BT_PENDING_MAX_CALLS
 * are held: the pending row is then added to stats (a flush). Userspace
 * adds the pending rows to the stats rows of the same key at every
 * collection, while the kernel leaves them alone (rows_collecting).
 */
#define BT_PENDING_SLOTS	8192
/* A u8 histogram slot cannot wrap: at most 2 exchanges a call (one owed). */
#define BT_PENDING_MAX_CALLS	127

struct bt_pending_row {
	struct bt_key key;		/* tgid 0: none */
	__u32 calls;			/* 0: nothing held */
	__u32 errors;
	__u64 bytes;
	__u64 woken;
	__u64 blocked_ns;
	__u64 max_blocked_ns;
	__u32 wakee[BT_ROW_WAKEES];
	__u64 wakee_n[BT_ROW_WAKEES];
	__u8 size_hist[BT_HIST_SLOTS];
	__u8 blocked_hist[BT_HIST_SLOTS];
	struct bt_exch_sum exch;
};

struct bt_pending {
	__u32 tid;			/* the thread that writes the rows; 0: free */
	__u32 pad;
	struct bt_pending_row row[2];	/* by direction & 1: send and wait, receive and wake */
};

/* Which end of a connection a socket is. */
enum bt_role {
	BT_ROLE_UNKNOWN = 0,
	BT_ROLE_CLIENT,		/* sends requests, reads responses */
	BT_ROLE_SERVER,		/* reads requests, sends responses */
};

/* How a role was learned, most certain first (enum order is trust order). */
enum bt_role_src {
	BT_ROLE_SRC_NONE = 0,
	BT_ROLE_SRC_FIRST,	/* who moved data first: send -> client (last resort) */
	BT_ROLE_SRC_ADDR,	/* unix: bound address; tcp: the listener's bind locks */
	BT_ROLE_SRC_SYSCALL,	/* accept() / connect() seen */
};

enum bt_phase {
	BT_PHASE_IDLE = 0,	/* no request seen yet, or closed mid-request */
	BT_PHASE_REQUEST,	/* request bytes moving, no response yet */
	BT_PHASE_RESPONSE,	/* response bytes moving */
};

/*
 * A unix connection's last send as its far end was told of it
 * (bt_conn.queued): when the send began (its syscall's entry) and the
 * thread that made it.
 */
struct bt_send_stamp {
	__u64 ns;
	__u32 tid;
	__u32 pad;
};

/*
 * Per-connection exchange state: BPF_MAP_TYPE_SK_STORAGE, freed with the
 * socket. An exchange is a request (what the client writes) and its
 * response (what the server writes back): the request starts at the
 * first send (client) / receive (server) after a response, the response
 * at the first bytes the other way. Whether a call blocked does not
 * matter. Owned by the exchange model (bpf/exchange.bpf.h); the service
 * map work may add fields at the end.
 */
struct bt_conn {
	__u8 role;		/* enum bt_role */
	__u8 role_src;		/* enum bt_role_src */
	__u8 phase;		/* enum bt_phase */
	/*
	 * A server's response queued, a client's request counted, whose
	 * send's step is still to come (exchange_step.h: the pool races).
	 */
	__u8 owed;
	__u32 req_tid;		/* thread that sent (client) / read (server) the request */
	__u64 req_ns;		/* request start (exit of that call) */
	__u64 sent, rcvd;	/* bytes each way */
	__u64 exchanges;	/* completed on this connection */
	/* The last completed (or owed) exchange's request: start and thread. */
	__u64 done_req_ns;
	__u32 done_req_tid;
	__u32 wseq;		/* TCP: the socket's send sequence at the last step */
	/*
	 * unix: the far end's last send to this socket, stamped in the
	 * sender's context as the bytes are queued, before this end is
	 * woken (exchange.bpf.h's sk_data_ready); the far end's receives
	 * read it.
	 */
	struct bt_send_stamp queued;
	__u64 resp_ns;		/* the last completed exchange's response: its start */
	/*
	 * Chain mode: the calls of the thread that began the request
	 * (struct bt_pipe_thread's) then: a server's exchange is a leaf when
	 * they did not change by its answer.
	 */
	__u32 req_calls;
	/*
	 * Chain mode: a server's answers in a row left in meets
	 * (exchange.bpf.h) that no client took; a client's responses in a
	 * row that found none there. At MEET_MISSES the end stops looking.
	 */
	__u8 meet_misses;
};

enum bt_xrec_type {
	BT_XREC_EXCHANGE = 0,	/* a request and its response */
	/*
	 * A hand-off: a thread read from a pipe what another thread of its
	 * process wrote there (a job for a worker). tid read it at resp_ns,
	 * req_tid wrote it at req_ns; chan is the pipe.
	 */
	BT_XREC_HANDOFF,
};

/*
 * Chain mode: one record per completed exchange (and per hand-off),
 * through the exchanges ring buffer. end_a names this end of the
 * connection, end_b the far end, so userspace pairs a client's record
 * (a, b) with the server's (b, a): unix: the socket inodes; tcp: address
 * and port folded.
 */
struct bt_exchange_ev {
	__u32 pid;		/* tgid */
	__u32 tid;		/* thread that completed it (client: read the response; server: sent it) */
	__u32 req_tid;		/* thread that started it (client: sent; server: read the request) */
	__u8 role;		/* enum bt_role */
	__u8 kind;
	__u8 type;		/* enum bt_xrec_type */
	/*
	 * BT_XREC_COUNTED: the check mode's copy of an exchange the kernel
	 * also counted in onehops (never in a recording: it keeps every
	 * record and nothing is counted).
	 */
	__u8 flags;
	__u64 chan;		/* as in struct bt_key */
	__u64 peer;
	__u64 end_a, end_b;
	__u64 req_ns;		/* request's first send (client) / receive (server) */
	__u64 resp_ns;		/* response's first receive (client) / send (server) */
	char comm[BT_COMM_LEN];	/* the name of thread tid */
};

#define BT_XREC_COUNTED	1
/*
 * A connection's exchange as one half of a one-hop tree, when the kernel
 * does not count connections itself (chain mode, BOUNDTRACE_ONEHOP unset
 * or "check"): BT_XREC_ROOT on a client's whose process never read a
 * request (served[]); BT_XREC_LEAF on a server's whose thread read the
 * request and answered it, calling nobody and waking no thread of its
 * process in between. Userspace pairs the two as they come
 * (user/analyze/onehop_pairs.c) and adds the pair as the kernel's counts
 * are added, instead of folding both records in the chain window.
 */
#define BT_XREC_ROOT	2
#define BT_XREC_LEAF	4

/*
 * Chain mode: the exchanges whose tree is one hop, counted in the kernel
 * instead of sent as two records (the map onehops). Such a tree is a
 * client exchange that is a root (its process never read a request: no
 * request it serves can be its parent) and its server's exchange, a leaf
 * (the thread that read the request answered it, and made no call and
 * woke no thread of its process in between: no call can be its child).
 * The chain analysis adds each key's counts to its chains as the fold of
 * the two records would have (bt_xagg_add_onehop, user/analyze/
 * exchains.h). One key per latency slot (lat_slot.h), so the distribution
 * merges exactly. A full map sends the records instead: nothing is lost.
 */
struct bt_onehop_key {
	__u32 client;		/* tgid */
	__u32 client_tid;	/* the thread that read the response */
	__u32 req_tid;		/* the thread that sent the request: the root's thread */
	__u32 srv;		/* tgid */
	__u32 srv_tid;		/* the thread that read the request and answered it */
	__u32 slot;		/* the latency's, bt_lat_slot() */
	__u8 kind;
	__u8 pad[7];
	__u64 chan, peer;	/* the client's record's: its row names the service */
	char client_comm[BT_COMM_LEN];	/* thread client_tid's name */
	char srv_comm[BT_COMM_LEN];	/* thread srv_tid's name */
};

/*
 * Sockets: where a connection's two ends meet to count a one-hop exchange
 * (bpf/exchange.bpf.h's meets), under the connection as its client names
 * it (struct bt_exchange_ev's end_a, end_b of the client's record).
 */
enum bt_meet_state {
	BT_MEET_IDLE = 0,
	BT_MEET_READY,		/* the server's answer waits for its client, in srv */
};

struct bt_meet_key {
	__u64 client_end, server_end;
};

struct bt_meet {
	struct bpf_spin_lock lock;
	__u32 state;		/* enum bt_meet_state */
	struct bt_exchange_ev srv;	/* BT_MEET_READY: the server's record, as it would have gone */
};

/*
 * One writer: the key's client thread (client_tid), which counts its
 * exchange as it reads the response, so no lock. A read while it writes
 * may see one exchange in one field and not yet in another: the counts
 * only grow, and what the next read adds makes the sums whole.
 */
struct bt_onehop_val {
	__u64 calls;
	__u64 lat_ns;		/* sum: the client's response - request */
	__u64 svc_ns;		/* sum: the server's answer - request read, each at most its latency */
	__u64 min_ns, max_ns;	/* of the latency */
};

/*
 * Address facts of a channel, written once when its first row is made
 * (never on the hot path), so userspace can print a readable channel
 * even after the socket is gone.
 */
struct bt_chan_key {
	__u64 chan;
	__u64 peer;
};

struct bt_chan_info {
	__u8 kind;
	__u8 family;		/* AF_INET, AF_INET6, AF_UNIX or 0 */
	__u16 lport;		/* host order */
	__u16 rport;		/* host order */
	__u8 role;		/* enum bt_role: this end, from the kernel (inet: the handshake) */
	/*
	 * Userspace only (the kernel leaves it 0): enum bt_conn_seen, what
	 * the socket censuses at the trace's start and end said of this
	 * socket (user/discover/census.h).
	 */
	__u8 conn;
	__u8 laddr[16];		/* v4 in the first 4 bytes */
	__u8 raddr[16];
	/*
	 * unix: the connected peer's socket inode; tcp: the far socket's
	 * inode when the kernel knew it at the first crossing (an accepted
	 * socket's far end, the connecting socket, has one; a connecting
	 * socket's far end, not accepted yet, has none). 0 none.
	 */
	__u64 peer_ino;
	char path[BT_PATH_LEN];	/* unix: bound path of either end, '@' abstract */
	/*
	 * The far end's process, named by the kernel at the first crossing
	 * (no /proc scan): the last user of the peer socket (unix: the peer
	 * sock; loopback inet: the socket under the mirrored tuple), else
	 * for unix SO_PEERCRED (a connection not yet accepted: the process
	 * that listens). 0: unknown. The worker that accepts later is in
	 * the accepted_by map, under this socket's inode.
	 */
	__u32 peer_tgid;
	/*
	 * Sockets: the network namespace (its inode number), so userspace
	 * compares the socket only with its own namespace's census. 0: none.
	 */
	__u32 netns;
};

/*
 * A socket's user: by socket (map sk_owner: the last crossing, accept()
 * or connect() on it, traced or not), and by the inode of a connecting
 * socket, the process that accepted its connection (map accepted_by).
 */
struct bt_sk_owner {
	__u32 tgid;
	/*
	 * sk_owner: the socket's inode number (sockfs's are 32-bit), 0 not
	 * known. A struct sock's address is reused by a later socket: where
	 * no socket(), accept() or connect() cleared the entry (--sockets-only
	 * hooks none), an owner whose inode is not the socket's is not its own.
	 */
	__u32 ino;
	char comm[BT_COMM_LEN];	/* its leader's, for a far end gone before the report */
};

/*
 * --peers: a listener a target holds, as its key in the kernel's `marked`
 * map (written by the kernel at a target's listen() and accept(), and by
 * userspace for the listeners its scans find): a process connecting to it
 * counts from its first byte. Apart from the map's other keys, pipe
 * inodes (below 2^32) and socket addresses (kernel pointers): a unix
 * listener by its inode, a TCP listener by its network namespace and port.
 */
#define BT_MARK_UNIX_LISTENER(ino)	((1ULL << 56) | (__u64)(__u32)(ino))
#define BT_MARK_TCP_LISTENER(netns, port) \
	((2ULL << 56) | (__u64)(__u32)(netns) << 16 | (__u16)(port))

/*
 * A process counted on a marked channel before anyone followed it (map
 * seen, by tgid): its name and parent, for when it is gone before the
 * report (a short-lived client).
 */
struct bt_seen {
	__u32 ppid;
	__u32 pad;
	char comm[BT_COMM_LEN];
};

/*
 * Futex links: a traced waker's wake on its address woke a wakee waiting
 * on the wakee's address (another process maps the word elsewhere).
 * Value: a __u64 count.
 */
struct bt_futex_link_key {
	__u32 waker;
	__u32 wakee;
	__u64 waker_addr;
	__u64 wakee_addr;
};

/*
 * Wakeup causality: a traced thread, inside a crossing of kind/chan/dir,
 * woke a thread of process wakee (sched_waking while in the syscall).
 * Value: a __u64 count.
 */
struct bt_wake_key {
	__u32 waker;		/* tgid */
	__u32 wakee;		/* tgid */
	__u8 kind;
	__u8 dir;
	__u16 pad;
	__u32 pad2;
	__u64 chan;
	__u64 peer;
};

/*
 * --stacks: who woke a blocked crossing, by stack (offwaketime-style):
 * the wakee's crossing and stack, the waker's process and stack. Value:
 * struct bt_wakestack_val.
 */
struct bt_wakestack_key {
	__u32 wakee;		/* tgid */
	__u32 waker;		/* tgid */
	__u8 kind;
	__u8 dir;
	__u16 pad;
	__s32 wakee_ustack;
	__u64 chan;
	__u64 peer;
	__u64 wakee_ucaller;
	__s32 waker_ustack;
	__u32 pad2;
	__u64 waker_ucaller;
};

struct bt_wakestack_val {
	__u64 count;
	__u64 blocked_ns;	/* the wakee's time in those crossings */
};

/* Counters of everything the kernel side could not record. */
enum bt_loss {
	BT_LOSS_MAP_FULL = 0,	/* channel facts, wakes or waker stacks had no room */
	BT_LOSS_EVENTS,		/* ring buffer full: an event was dropped */
	BT_LOSS_NO_ENTRY,	/* exit without a recorded entry (attached mid-call) */
	BT_LOSS_MMSG_TRUNC,	/* *mmsg call with more than BT_MMSG_MAX entries */
	BT_LOSS_TARGETS_FULL,	/* pid beyond BT_PID_MAX */
	BT_LOSS_WAKEES,		/* a crossing woke more than BT_WAKEES_MAX processes */
	BT_LOSS_EPISODES,	/* episode ring buffer full: a blocking episode was dropped */
	BT_LOSS_STACKS,		/* a stack could not be taken (map full, unreadable) */
	/*
	 * Calls not counted because the stats map had no room for their row
	 * (each is also in the lostcalls map under its row key, so the row
	 * shows as partial, unless that map is full too: calls_unplaced).
	 */
	BT_LOSS_CALLS,
	BT_LOSS_CALLS_UNPLACED,	/* of those, calls no row could be marked for */
	BT_LOSS_EXCHANGES,	/* exchange ring buffer full, or no socket storage */
	BT_LOSS_MAX,
};

/* Process lifecycle events, sent through the ring buffer (rare). */
enum bt_event_type {
	BT_EV_FORK = 1,
	BT_EV_EXEC,
	BT_EV_EXIT,
	/* Not a process event: rows_made reached fold_at (pid and the rest 0). */
	BT_EV_FOLD,
};

struct bt_event {
	__u32 type;
	__u32 pid;		/* tgid */
	__u32 ppid;		/* fork, exit: parent tgid */
	__s32 exit_code;	/* exit: wait status */
	__u64 ts_ns;
	__u64 start_ns;		/* process start, ns since boot (start_boottime) */
	char comm[BT_COMM_LEN];
};

/*
 * What a blocking episode waited for, told apart at its end. A timeout or
 * a signal has no waker (it is cleared); an idle wait is a server waiting
 * for its next request and never part of a chain.
 */
enum bt_wait {
	BT_WAIT_BLOCKED = 0,	/* not told apart: a pipe, a futex, a send on a full buffer */
	BT_WAIT_DEPENDENCY,	/* a client waiting for the response to its request */
	BT_WAIT_IDLE,		/* a server waiting for its next request */
	BT_WAIT_TIMEOUT,	/* futex -ETIMEDOUT, SO_RCVTIMEO, poll/select/epoll returning 0 */
	BT_WAIT_SIGNAL,		/* -EINTR or -ERESTART*: a signal ended it */
	BT_WAIT_MAX,
};

/*
 * A blocking episode (chain mode): a crossing that blocked at least
 * min_block_ns, with the thread that woke it. Sent through the episodes
 * ring buffer; userspace nests them into synchronous chains.
 */
struct bt_episode_ev {
	__u32 pid;		/* tgid of the blocked thread */
	__u32 tid;
	__u8 kind;
	__u8 dir;
	__u8 wait;		/* enum bt_wait */
	__u8 pad;
	__u32 waker_pid;	/* 0: not woken by a sched_waking we saw */
	__u64 chan;
	__u64 peer;
	__u64 start_ns;		/* syscall entry (CLOCK_MONOTONIC, bpf_ktime_get_ns) */
	__u64 end_ns;		/* syscall exit */
	__u64 wake_ns;		/* last wakeup while blocked, 0 none */
	__u32 waker_tid;
	__s32 ret;		/* the call's return value (errno negated) */
};

#endif /* BOUNDTRACE_H */
