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

static bool has_row(const struct bt_proc *q, unsigned int kind, uint64_t chan, int dir)
{
	for (size_t j = 0; j < q->nrows; j++) {
		const struct bt_row *o = &q->rows[j];

		if (o->key.kind == kind && o->key.chan == chan && (dir < 0 || o->key.dir == dir))
			return true;
	}
	return false;
}

/* Processes that hold inode ino (of type) per /proc, in the wanted pipe end. */
static void holders_of(const struct bt_model *m, uint64_t ino, uint8_t type, uint8_t end,
		       uint32_t except, struct bt_peer *out, size_t *n, size_t max)
{
	for (size_t i = 0; i < m->nholders; i++) {
		const struct bt_holder *h = &m->holders[i];

		if (h->ino != ino || h->type != type || h->pid == except)
			continue;
		if (end && !(h->mode & end))
			continue;
		add_peer(out, n, max, m, h->pid);
	}
}

static size_t pipe_peers(const struct bt_model *m, const struct bt_proc *p,
			 const struct bt_row *r, struct bt_peer *out, size_t max)
{
	int want = r->key.dir == BT_DIR_SEND ? BT_DIR_RECV : BT_DIR_SEND;
	size_t n = 0;

	/* A process using both ends of one pipe (a self-pipe) is its own peer. */
	for (size_t i = 0; i < m->nprocs; i++)
		if (has_row(&m->procs[i], BT_KIND_PIPE, r->key.chan, want))
			add_peer(out, &n, max, m, m->procs[i].pid);
	if (!n)
		holders_of(m, r->key.chan, FD_PIPE,
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
	if (r->has_info && r->info.peer_ino)
		return r->info.peer_ino;
	for (size_t i = 0; i < m->nsocks; i++)
		if (m->socks[i].ino == r->key.chan)
			return m->socks[i].peer_ino;
	return 0;
}

static size_t unix_peers(const struct bt_model *m, const struct bt_proc *p,
			 const struct bt_row *r, struct bt_peer *out, size_t max)
{
	uint64_t peer = unix_peer_ino(m, r);
	size_t n = 0;

	for (size_t i = 0; peer && i < m->nprocs; i++)
		if (has_row(&m->procs[i], r->key.kind, peer, -1))
			add_peer(out, &n, max, m, m->procs[i].pid);
	if (!n)
		kernel_named(m, r, out, &n, max);
	if (!n && peer)
		holders_of(m, peer, FD_SOCKET, 0, p->pid, out, &n, max);
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

static size_t inet_peers(const struct bt_model *m, const struct bt_proc *p,
			 const struct bt_row *r, struct bt_peer *out, size_t max)
{
	const struct bt_chan_info *a = &r->info;
	uint8_t proto = r->key.kind == BT_KIND_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	size_t n = 0;

	if (!r->has_info)
		return 0;
	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t j = 0; j < m->procs[i].nrows; j++)
			if (bt_inet_mirror(r, &m->procs[i].rows[j]))
				add_peer(out, &n, max, m, m->procs[i].pid);
	if (!n)
		kernel_named(m, r, out, &n, max);
	/* Untraced far end on this machine: its socket is local R with remote L (or any, udp). */
	for (size_t i = 0; !n && i < m->nsocks; i++) {
		const struct bt_sockfact *s = &m->socks[i];

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
		holders_of(m, s->ino, FD_SOCKET, 0, p->pid, out, &n, max);
	}
	if (!n && max) {
		memset(out, 0, sizeof(*out));
		bt_inet_format(a->family, a->raddr, a->rport, out->addr, sizeof(out->addr));
		n = 1;
	}
	return n;
}

/* Futex far ends: whom this process's wakes woke, or who woke its waits. */
static size_t futex_peers(const struct bt_model *m, const struct bt_proc *p,
			  const struct bt_row *r, struct bt_peer *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nwakes; i++) {
		const struct bt_wake_key *k = &m->wakes[i].key;

		if (k->kind != BT_KIND_FUTEX)
			continue;
		if (k->dir != BT_DIR_WAKE)
			continue;	/* a wakeup during a wait is not the futex's */
		if (r->key.dir == BT_DIR_WAKE && k->waker == p->pid && k->chan == r->key.chan)
			add_peer(out, &n, max, m, k->wakee);
		/* Another process's address for a shared futex differs: match by process. */
		else if (r->key.dir == BT_DIR_WAIT && k->wakee == p->pid &&
			 (k->waker != p->pid || k->chan == r->key.chan))
			add_peer(out, &n, max, m, k->waker);
	}
	return n;
}

size_t bt_row_peers(const struct bt_model *m, const struct bt_proc *p,
		    const struct bt_row *r, struct bt_peer *out, size_t max)
{
	switch (r->key.kind) {
	case BT_KIND_PIPE:
		return pipe_peers(m, p, r, out, max);
	case BT_KIND_UNIX_STREAM:
	case BT_KIND_UNIX_DGRAM:
		return unix_peers(m, p, r, out, max);
	case BT_KIND_TCP:
	case BT_KIND_UDP:
		return inet_peers(m, p, r, out, max);
	case BT_KIND_FUTEX:
		return futex_peers(m, p, r, out, max);
	}
	return 0;
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
