// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "model/channel.h"
#include "model/hist.h"
#include "analyze/peers.h"
#include "lib/keyidx.h"
#include "lib/vec.h"

/* Pipe ends as /proc reports them (procscan.h keeps the same values). */
#define END_READ	1
#define END_WRITE	2
#define FD_PIPE		1
#define FD_SOCKET	2

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Addresses as 16 bytes, v4 as ::ffff:a.b.c.d, so v4 and mapped v6 compare equal. */
static void addr16(int family, const uint8_t *a, uint8_t out[16])
{
	if (family == AF_INET) {
		memcpy(out, v4mapped, 12);
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
}

static bool addr_eq(int fa, const uint8_t *a, int fb, const uint8_t *b)
{
	uint8_t x[16], y[16];

	addr16(fa, a, x);
	addr16(fb, b, y);
	return !memcmp(x, y, 16);
}

static bool addr_any(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, family == AF_INET ? 4 : 16);
}

static bool add_peer(struct bt_peer *out, size_t *n, size_t max, const struct bt_model *m,
		     uint32_t pid)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i].pid == pid)
			return true;
	if (*n >= max)
		return false;
	memset(&out[*n], 0, sizeof(out[*n]));
	out[*n].pid = pid;
	out[*n].proc = bt_model_find((struct bt_model *)m, pid);
	(*n)++;
	return true;
}

/*
 * The pairing indexes of one model, built once per analysis so that
 * pairing a row looks up its candidates instead of scanning every row:
 * rows by channel, traced inet rows by tuple, socket facts by (proto,
 * local port), holders by inode (the model keys socket facts by inode). Each lists its elements in
 * the model's order, so the far ends come out as a scan would find them.
 */
struct bt_peer_index {
	const struct bt_model *m;
	struct bt_keyidx chan;		/* (kind, chan) -> (proc, row) */
	struct bt_keyidx tuple;		/* inet (kind, lport, rport, laddr, raddr) -> (proc, row) */
	struct bt_keyidx upeer;		/* unix (kind, peer socket's inode) -> (proc, row) */
	struct bt_keyidx sock_port;	/* (proto, lport) -> sock */
	struct bt_keyidx holder;	/* ino -> holder */
	struct bt_keyidx wake_pair;	/* (waker, wakee, kind, chan, peer) -> wake */
	struct bt_keyidx futex_from;	/* futex wakes by a wake call: (waker, chan) -> wake */
	struct bt_keyidx futex_into;	/* the same across processes: wakee -> wake */
	struct bt_keyidx link;		/* futex links: (waker, wakee, waker_addr) -> link */
};

/* The index of the analysis running in this thread (bt_peer_index_begin). */
static _Thread_local struct bt_peer_index *active;

static size_t chan_key(uint8_t *k, unsigned int kind, uint64_t chan)
{
	k[0] = (uint8_t)kind;
	memcpy(k + 1, &chan, sizeof(chan));
	return 1 + sizeof(chan);
}

/* Row (kind, lport, rport, laddr, raddr); a mirror's lookup swaps the two ends. */
static size_t tuple_key(uint8_t *k, unsigned int kind, const struct bt_chan_info *a, bool mirror)
{
	uint16_t lport = mirror ? a->rport : a->lport, rport = mirror ? a->lport : a->rport;

	k[0] = (uint8_t)kind;
	memcpy(k + 1, &lport, 2);
	memcpy(k + 3, &rport, 2);
	addr16(a->family, mirror ? a->raddr : a->laddr, k + 5);
	addr16(a->family, mirror ? a->laddr : a->raddr, k + 21);
	return 37;
}

/* A wake's key without its direction (wake_count sums the directions it wants). */
static size_t wake_pair_key(uint8_t *k, uint32_t waker, uint32_t wakee, unsigned int kind,
			    uint64_t chan, uint64_t peer)
{
	memcpy(k, &waker, 4);
	memcpy(k + 4, &wakee, 4);
	k[8] = (uint8_t)kind;
	memcpy(k + 9, &chan, 8);
	memcpy(k + 17, &peer, 8);
	return 25;
}

static size_t pid_chan_key(uint8_t *k, uint32_t pid, uint64_t chan)
{
	memcpy(k, &pid, 4);
	memcpy(k + 4, &chan, 8);
	return 12;
}

static size_t link_key(uint8_t *k, uint32_t waker, uint32_t wakee, uint64_t waker_addr)
{
	memcpy(k, &waker, 4);
	memcpy(k + 4, &wakee, 4);
	memcpy(k + 8, &waker_addr, 8);
	return 16;
}

static size_t port_key(uint8_t *k, uint8_t proto, uint16_t lport)
{
	k[0] = proto;
	memcpy(k + 1, &lport, 2);
	return 3;
}

static void index_free(struct bt_peer_index *x)
{
	if (!x)
		return;
	bt_keyidx_free(&x->chan);
	bt_keyidx_free(&x->tuple);
	bt_keyidx_free(&x->upeer);
	bt_keyidx_free(&x->sock_port);
	bt_keyidx_free(&x->holder);
	bt_keyidx_free(&x->wake_pair);
	bt_keyidx_free(&x->futex_from);
	bt_keyidx_free(&x->futex_into);
	bt_keyidx_free(&x->link);
	free(x);
}

static uint64_t unix_peer_ino(const struct bt_model *m, const struct bt_row *r);

static int index_rows(struct bt_peer_index *x, const struct bt_model *m)
{
	uint8_t k[BT_KEYIDX_KEY];

	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t j = 0; j < m->procs[i].nrows; j++) {
			const struct bt_row *r = &m->procs[i].rows[j];

			if (bt_keyidx_add(&x->chan, k, chan_key(k, r->key.kind, r->key.chan),
					  (uint32_t)i, (uint32_t)j))
				return -1;
			if ((r->key.kind == BT_KIND_TCP || r->key.kind == BT_KIND_UDP) &&
			    r->has_info &&
			    bt_keyidx_add(&x->tuple, k, tuple_key(k, r->key.kind, &r->info, false),
					  (uint32_t)i, (uint32_t)j))
				return -1;
			if ((r->key.kind == BT_KIND_UNIX_STREAM || r->key.kind == BT_KIND_UNIX_DGRAM) &&
			    unix_peer_ino(m, r) &&
			    bt_keyidx_add(&x->upeer, k, chan_key(k, r->key.kind, unix_peer_ino(m, r)),
					  (uint32_t)i, (uint32_t)j))
				return -1;
		}
	return 0;
}

static int index_wakes(struct bt_peer_index *x, const struct bt_model *m)
{
	uint8_t k[BT_KEYIDX_KEY];

	for (size_t i = 0; i < m->nwakes; i++) {
		const struct bt_wake_key *w = &m->wakes[i].key;

		if (bt_keyidx_add(&x->wake_pair, k, wake_pair_key(k, w->waker, w->wakee, w->kind,
								  w->chan, w->peer),
				  (uint32_t)i, 0))
			return -1;
		/* A wakeup during a futex wait is not the futex's: wake calls only. */
		if (w->kind != BT_KIND_FUTEX || w->dir != BT_DIR_WAKE)
			continue;
		if (bt_keyidx_add(&x->futex_from, k, pid_chan_key(k, w->waker, w->chan),
				  (uint32_t)i, 0) ||
		    (w->waker != w->wakee &&
		     bt_keyidx_add(&x->futex_into, &w->wakee, sizeof(w->wakee), (uint32_t)i, 0)))
			return -1;
	}
	for (size_t i = 0; i < m->nfutexlinks; i++) {
		const struct bt_futex_link_key *l = &m->futexlinks[i].key;

		if (bt_keyidx_add(&x->link, k, link_key(k, l->waker, l->wakee, l->waker_addr),
				  (uint32_t)i, 0))
			return -1;
	}
	return 0;
}

static int index_facts(struct bt_peer_index *x, const struct bt_model *m)
{
	uint8_t k[BT_KEYIDX_KEY];

	for (size_t i = 0; i < m->nsocks; i++)
		if (bt_keyidx_add(&x->sock_port, k,
				  port_key(k, m->socks[i].proto, m->socks[i].lport), (uint32_t)i, 0))
			return -1;
	for (size_t i = 0; i < m->nholders; i++)
		if (bt_keyidx_add(&x->holder, &m->holders[i].ino, sizeof(m->holders[i].ino),
				  (uint32_t)i, 0))
			return -1;
	return 0;
}

static struct bt_peer_index *index_build(const struct bt_model *m)
{
	struct bt_peer_index *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->m = m;
	if (index_rows(x, m) || index_facts(x, m) || index_wakes(x, m)) {
		index_free(x);
		return NULL;
	}
	bt_keyidx_sort(&x->chan);
	bt_keyidx_sort(&x->tuple);
	bt_keyidx_sort(&x->upeer);
	bt_keyidx_sort(&x->sock_port);
	bt_keyidx_sort(&x->holder);
	bt_keyidx_sort(&x->wake_pair);
	bt_keyidx_sort(&x->futex_from);
	bt_keyidx_sort(&x->futex_into);
	bt_keyidx_sort(&x->link);
	return x;
}

int bt_peer_index_begin(const struct bt_model *m)
{
	if (active)
		return -EBUSY;
	active = index_build(m);
	return active ? 0 : -ENOMEM;
}

void bt_peer_index_end(void)
{
	index_free(active);
	active = NULL;
}

/*
 * The index for m: the analysis's, or one built for this one question
 * (a caller outside an analysis, whose model may have changed since).
 */
static const struct bt_peer_index *index_for(const struct bt_model *m, struct bt_peer_index **own)
{
	*own = NULL;
	if (active && active->m == m)
		return active;
	*own = index_build(m);
	return *own;
}

/* Processes with a row on (kind, chan), in direction dir (any if dir < 0). */
static void procs_with_row(const struct bt_peer_index *x, unsigned int kind, uint64_t chan,
			   int dir, struct bt_peer *out, size_t *n, size_t max)
{
	const struct bt_model *m = x->m;
	uint8_t k[BT_KEYIDX_KEY];
	size_t end, i = bt_keyidx_find(&x->chan, k, chan_key(k, kind, chan), &end);

	for (; i < end; i++) {
		const struct bt_proc *q = &m->procs[x->chan.v[i].a];

		if (dir < 0 || q->rows[x->chan.v[i].b].key.dir == dir)
			add_peer(out, n, max, m, q->pid);
	}
}

/* Processes that hold inode ino (of type) per /proc, in the wanted pipe end. */
static void holders_of(const struct bt_peer_index *x, uint64_t ino, uint8_t type, uint8_t end,
		       uint32_t except, struct bt_peer *out, size_t *n, size_t max)
{
	const struct bt_model *m = x->m;
	size_t last, i = bt_keyidx_find(&x->holder, &ino, sizeof(ino), &last);

	for (; i < last; i++) {
		const struct bt_holder *h = &m->holders[x->holder.v[i].a];

		if (h->ino != ino || h->type != type || h->pid == except)
			continue;
		if (end && !(h->mode & end))
			continue;
		add_peer(out, n, max, m, h->pid);
	}
}

static size_t pipe_peers(const struct bt_peer_index *x, const struct bt_proc *p,
			 const struct bt_row *r, struct bt_peer *out, size_t max)
{
	int want = r->key.dir == BT_DIR_SEND ? BT_DIR_RECV : BT_DIR_SEND;
	size_t n = 0;

	/* A process using both ends of one pipe (a self-pipe) is its own peer. */
	procs_with_row(x, BT_KIND_PIPE, r->key.chan, want, out, &n, max);
	if (!n)
		holders_of(x, r->key.chan, FD_PIPE,
			   r->key.dir == BT_DIR_SEND ? END_READ : END_WRITE, p->pid, out, &n, max);
	return n;
}

/*
 * The far end the kernel named (bt_chan_info.peer_tgid): the process that
 * accepted the connection, else the peer socket's user at the first
 * crossing, else (unix) SO_PEERCRED.
 */
static void kernel_named(const struct bt_model *m, const struct bt_row *r, struct bt_peer *out,
			 size_t *n, size_t max)
{
	if (r->has_info && r->info.peer_tgid)
		add_peer(out, n, max, m, r->info.peer_tgid);
}

static uint64_t unix_peer_ino(const struct bt_model *m, const struct bt_row *r)
{
	const struct bt_sockfact *s;

	if (r->has_info && r->info.peer_ino)
		return r->info.peer_ino;
	s = bt_model_find_sock(m, r->key.chan);
	return s ? s->peer_ino : 0;
}

static size_t unix_peers(const struct bt_peer_index *x, const struct bt_proc *p,
			 const struct bt_row *r, struct bt_peer *out, size_t max)
{
	uint64_t peer = unix_peer_ino(x->m, r);
	size_t n = 0;

	if (peer)
		procs_with_row(x, r->key.kind, peer, -1, out, &n, max);
	if (!n)
		kernel_named(x->m, r, out, &n, max);
	if (!n && peer)
		holders_of(x, peer, FD_SOCKET, 0, p->pid, out, &n, max);
	return n;
}

static bool addr_loopback(int family, const uint8_t *a)
{
	static const uint8_t v6_one[16] = { [15] = 1 };
	uint8_t x[16];

	addr16(family, a, x);
	return !memcmp(x, v6_one, 16) || (!memcmp(x, v4mapped, 12) && x[12] == 127);
}

/*
 * Merged recordings: two hosts' loopback connections are not each
 * other's, however their tuples look; other addresses pair across hosts.
 */
static bool same_host_or_routed(uint32_t pid, uint32_t other, const struct bt_chan_info *a)
{
	return bt_host_of_pid(pid) == bt_host_of_pid(other) || !addr_loopback(a->family, a->raddr);
}

/* Whether traced row o is the mirror (R->L) of row r (L->R). */
static bool inet_mirror(const struct bt_row *r, const struct bt_row *o)
{
	const struct bt_chan_info *a = &r->info, *b = &o->info;

	if (!o->has_info || o->key.kind != r->key.kind || a->lport != b->rport ||
	    a->rport != b->lport || !addr_eq(a->family, a->laddr, b->family, b->raddr) ||
	    !addr_eq(a->family, a->raddr, b->family, b->laddr))
		return false;
	/*
	 * The same 4-tuple used again by a later connection (the client's
	 * port free again, the server's TIME_WAIT socket taken over by the
	 * new SYN) is another connection: the far socket's inode, where the
	 * kernel knew it (tcp), tells them apart.
	 */
	return (!a->peer_ino || a->peer_ino == o->key.chan) &&
	       (!b->peer_ino || b->peer_ino == r->key.chan);
}

bool bt_inet_mirror(const struct bt_row *r, const struct bt_row *o)
{
	return r->has_info && inet_mirror(r, o) && same_host_or_routed(r->key.tgid, o->key.tgid,
								    &r->info);
}

static size_t inet_peers(const struct bt_peer_index *x, const struct bt_proc *p,
			 const struct bt_row *r, struct bt_peer *out, size_t max)
{
	const struct bt_model *m = x->m;
	const struct bt_chan_info *a = &r->info;
	uint8_t proto = r->key.kind == BT_KIND_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	uint8_t k[BT_KEYIDX_KEY];
	size_t n = 0, i, end;

	if (!r->has_info)
		return 0;
	/* Traced rows whose tuple mirrors r's; bt_inet_mirror still judges each. */
	i = bt_keyidx_find(&x->tuple, k, tuple_key(k, r->key.kind, a, true), &end);
	for (; i < end; i++) {
		const struct bt_proc *q = &m->procs[x->tuple.v[i].a];

		if (bt_inet_mirror(r, &q->rows[x->tuple.v[i].b]))
			add_peer(out, &n, max, m, q->pid);
	}
	if (!n)
		kernel_named(m, r, out, &n, max);
	/* Untraced far end on this machine: its socket is local R with remote L (or any, udp). */
	i = bt_keyidx_find(&x->sock_port, k, port_key(k, proto, a->rport), &end);
	for (; !n && i < end; i++) {
		const struct bt_sockfact *s = &m->socks[x->sock_port.v[i].a];

		/* A server bound to the wildcard address serves every local one. */
		if (!same_host_or_routed(p->pid, (uint32_t)(s->ino >> BT_HOST_INO_SHIFT) *
					 BT_HOST_PID_STRIDE, a))
			continue;
		if (s->proto != proto || s->lport != a->rport ||
		    (!addr_any(s->family, s->laddr) &&
		     !addr_eq(s->family, s->laddr, a->family, a->raddr)))
			continue;
		if (s->rport || !addr_any(s->family, s->raddr)) {
			if (s->rport != a->lport || !addr_eq(s->family, s->raddr, a->family, a->laddr))
				continue;
		} else if (proto == IPPROTO_TCP) {
			continue;	/* a listener is not the other end */
		}
		holders_of(x, s->ino, FD_SOCKET, 0, p->pid, out, &n, max);
	}
	if (!n && max) {
		memset(out, 0, sizeof(*out));
		bt_inet_format(a->family, a->raddr, a->rport, out->addr, sizeof(out->addr));
		n = 1;
	}
	return n;
}

/*
 * Futex far ends: whom this process's wake calls on the word woke, or who
 * woke its waits (another process by process: its address for a shared
 * futex differs; itself on this word). The wakes come in the model's
 * order, merged from the two lists a wait has.
 */
static size_t futex_peers(const struct bt_peer_index *x, const struct bt_proc *p,
			  const struct bt_row *r, struct bt_peer *out, size_t max)
{
	const struct bt_model *m = x->m;
	uint8_t k[BT_KEYIDX_KEY];
	size_t n = 0, end, i = bt_keyidx_find(&x->futex_from, k, pid_chan_key(k, p->pid, r->key.chan),
					      &end);
	size_t oend, o = 0;

	if (r->key.dir == BT_DIR_WAKE) {
		for (; i < end; i++)
			add_peer(out, &n, max, m, m->wakes[x->futex_from.v[i].a].key.wakee);
		return n;
	}
	if (r->key.dir != BT_DIR_WAIT)
		return 0;
	o = bt_keyidx_find(&x->futex_into, &p->pid, sizeof(p->pid), &oend);
	while (i < end || o < oend) {
		uint32_t self = BT_HMAP_NONE, other = BT_HMAP_NONE;

		for (; i < end; i++) {
			if (m->wakes[x->futex_from.v[i].a].key.wakee == p->pid) {
				self = x->futex_from.v[i].a;
				break;
			}
		}
		if (o < oend)
			other = x->futex_into.v[o].a;
		if (self == BT_HMAP_NONE && other == BT_HMAP_NONE)
			break;
		if (self < other) {
			add_peer(out, &n, max, m, m->wakes[self].key.waker);
			i++;
		} else {
			add_peer(out, &n, max, m, m->wakes[other].key.waker);
			o++;
		}
	}
	return n;
}

static size_t row_peers(const struct bt_peer_index *x, const struct bt_proc *p,
			const struct bt_row *r, struct bt_peer *out, size_t max)
{
	switch (r->key.kind) {
	case BT_KIND_PIPE:
		return pipe_peers(x, p, r, out, max);
	case BT_KIND_UNIX_STREAM:
	case BT_KIND_UNIX_DGRAM:
		return unix_peers(x, p, r, out, max);
	case BT_KIND_TCP:
	case BT_KIND_UDP:
		return inet_peers(x, p, r, out, max);
	case BT_KIND_FUTEX:
		return futex_peers(x, p, r, out, max);
	}
	return 0;
}

size_t bt_row_peers(const struct bt_model *m, const struct bt_proc *p,
		    const struct bt_row *r, struct bt_peer *out, size_t max)
{
	struct bt_peer_index *own;
	const struct bt_peer_index *x = index_for(m, &own);
	size_t n = x ? row_peers(x, p, r, out, max) : 0;

	index_free(own);
	return n;
}

/*
 * Whether o, a row of the far process, is on the far end of r's channel
 * (not another channel between the same two processes). Futex words have
 * another address in each process: the wakes alone pair those.
 */
bool bt_far_end_row(const struct bt_model *m, const struct bt_row *r, const struct bt_row *o)
{
	switch (r->key.kind) {
	case BT_KIND_PIPE:
		return o->key.chan == r->key.chan;
	case BT_KIND_UNIX_STREAM:
	case BT_KIND_UNIX_DGRAM:
		/*
		 * Either end may not know the other's inode yet: a client that
		 * wrote before the accept saw no peer (its row says ->0).
		 */
		return o->key.chan == unix_peer_ino(m, r) ||
		       (r->key.chan && unix_peer_ino(m, o) == r->key.chan);
	case BT_KIND_TCP:
	case BT_KIND_UDP:
		return bt_inet_mirror(r, o);
	}
	return true;
}

uint64_t bt_wake_count(const struct bt_model *m, uint32_t waker, uint32_t wakee,
		       const struct bt_row *r)
{
	struct bt_peer_index *own;
	const struct bt_peer_index *x = index_for(m, &own);
	uint8_t k[BT_KEYIDX_KEY];
	size_t end, i;
	uint64_t n = 0;

	if (!x)
		return 0;
	i = bt_keyidx_find(&x->wake_pair, k, wake_pair_key(k, waker, wakee, r->key.kind,
							   r->key.chan, r->key.peer), &end);
	for (; i < end; i++) {
		const struct bt_wake *w = &m->wakes[x->wake_pair.v[i].a];

		/*
		 * Any crossing of the waker on a byte channel counts: a unix
		 * reader freeing buffer space wakes the peer's waiters too,
		 * and that wakeup is often the one that lets the peer run. A
		 * futex wakes only in its wake calls (a wakeup during a wait
		 * is an interrupt's, not the futex's).
		 */
		if (w->key.kind != BT_KIND_FUTEX || w->key.dir == r->key.dir)
			n += w->count;
	}
	index_free(own);
	return n;
}

/*
 * Whether wait row o of the wakee is the futex r (a wake row of waker)
 * wakes: the same word in one process; across processes the kernel's
 * futex links (waker's address -> wakee's address) say which.
 */
static bool futex_pairs(const struct bt_peer_index *x, uint32_t waker, const struct bt_row *r,
			uint32_t wakee, const struct bt_row *o)
{
	uint8_t k[BT_KEYIDX_KEY];
	size_t end, i = bt_keyidx_find(&x->link, k, link_key(k, waker, wakee, r->key.chan), &end);

	for (size_t j = i; j < end; j++)
		if (x->m->futexlinks[x->link.v[j].a].key.wakee_addr == o->key.chan)
			return true;
	/* No link recorded (a recording from before links): the same word in one process. */
	return i == end && waker == wakee && o->key.chan == r->key.chan;
}

/* Rows of process number qi under key in ix into out. */
static int rows_under(const struct bt_keyidx *ix, const void *key, size_t len, uint32_t qi,
		      uint32_t **out, size_t *n, size_t *cap)
{
	size_t end, i = bt_keyidx_find(ix, key, len, &end);

	for (; i < end; i++) {
		if (ix->v[i].a != qi)
			continue;
		if (!bt_grow((void **)out, cap, *n + 1, sizeof(**out)))
			return -ENOMEM;
		(*out)[(*n)++] = ix->v[i].b;
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The candidates: a superset of the rows of q on r's far end, by kind. */
static int far_candidates(const struct bt_peer_index *x, uint32_t pid, const struct bt_row *r,
			  uint32_t qi, uint32_t **out, size_t *n, size_t *cap)
{
	const struct bt_model *m = x->m;
	uint8_t k[BT_KEYIDX_KEY];
	uint64_t peer;
	size_t end, i;

	switch (r->key.kind) {
	case BT_KIND_PIPE:
		return rows_under(&x->chan, k, chan_key(k, r->key.kind, r->key.chan), qi, out, n,
				  cap);
	case BT_KIND_UNIX_STREAM:
	case BT_KIND_UNIX_DGRAM:
		peer = unix_peer_ino(m, r);
		if (rows_under(&x->chan, k, chan_key(k, r->key.kind, peer), qi, out, n, cap))
			return -ENOMEM;
		return r->key.chan ? rows_under(&x->upeer, k, chan_key(k, r->key.kind, r->key.chan),
						qi, out, n, cap) : 0;
	case BT_KIND_TCP:
	case BT_KIND_UDP:
		if (!r->has_info)
			return 0;
		return rows_under(&x->tuple, k, tuple_key(k, r->key.kind, &r->info, true), qi, out,
				  n, cap);
	case BT_KIND_FUTEX:
		i = bt_keyidx_find(&x->link, k, link_key(k, pid, m->procs[qi].pid, r->key.chan),
				   &end);
		for (; i < end; i++) {
			uint8_t kk[BT_KEYIDX_KEY];

			if (rows_under(&x->chan, kk,
				       chan_key(kk, BT_KIND_FUTEX,
						m->futexlinks[x->link.v[i].a].key.wakee_addr),
				       qi, out, n, cap))
				return -ENOMEM;
		}
		return pid == m->procs[qi].pid ?
			       rows_under(&x->chan, k, chan_key(k, BT_KIND_FUTEX, r->key.chan), qi,
					  out, n, cap) : 0;
	}
	/* A kind with no index: every row of q. */
	for (size_t j = 0; j < m->procs[qi].nrows; j++) {
		if (!bt_grow((void **)out, cap, *n + 1, sizeof(**out)))
			return -ENOMEM;
		(*out)[(*n)++] = (uint32_t)j;
	}
	return 0;
}

int bt_far_end_rows(const struct bt_model *m, uint32_t pid, const struct bt_row *r,
		    const struct bt_proc *q, int dir, uint32_t **out, size_t *n, size_t *cap)
{
	struct bt_peer_index *own;
	const struct bt_peer_index *x = index_for(m, &own);
	size_t found = *n, kept = *n;
	int err;

	if (!x)
		return -ENOMEM;
	err = far_candidates(x, pid, r, (uint32_t)(q - m->procs), out, n, cap);
	if (!err && *n > found)
		qsort(*out + found, *n - found, sizeof(**out), cmp_u32);
	/* Each row once, in q's order, if it is what a scan of q's rows would keep. */
	for (size_t i = found; !err && i < *n; i++) {
		const struct bt_row *o = &q->rows[(*out)[i]];

		if (i > found && (*out)[i] == (*out)[i - 1])
			continue;
		if (o->key.kind != r->key.kind || o->key.dir != dir || !bt_far_end_row(m, r, o))
			continue;
		if (r->key.kind == BT_KIND_FUTEX && !futex_pairs(x, pid, r, q->pid, o))
			continue;
		(*out)[kept++] = (*out)[i];
	}
	*n = err ? found : kept;
	index_free(own);
	return err;
}
