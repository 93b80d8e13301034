// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Edges grouped by service (analyze/services.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "analyze/peers.h"
#include "analyze/services.h"
#include "lib/keyidx.h"
#include "lib/vec.h"
#include "model/channel.h"
#include "model/hist.h"

/*
 * Linux's default ip_local_port_range: a port in it was most likely
 * handed out to a connect(), a port below it was chosen by a server.
 * Only the last resort (no role from the kernel, no listener seen).
 */
#define EPHEMERAL_LO	32768
#define EPHEMERAL_HI	60999

static bool ephemeral(unsigned int port)
{
	return port >= EPHEMERAL_LO && port <= EPHEMERAL_HI;
}

static bool addr_any(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, family == AF_INET ? 4 : 16);
}

/* Whether sock_diag saw a listener (tcp) or an unconnected bound socket (udp) on port. */
static bool listening_on(const struct bt_model *m, uint8_t proto, unsigned int port)
{
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct bt_sockfact *s = &m->socks[i];

		if (s->proto == proto && s->lport == port && !s->rport &&
		    addr_any(s->family, s->raddr))
			return true;
	}
	return false;
}

/*
 * Which end of an inet connection serves: the kernel's word when it saw
 * the handshake (info.role), else a listening socket on one of the two
 * ports, else the port that is not ephemeral, else the lower one.
 */
static bool inet_local_serves(const struct bt_model *m, const struct bt_row *r)
{
	const struct bt_chan_info *i = &r->info;
	uint8_t proto = r->key.kind == BT_KIND_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	bool l, rr;

	if (i->role == BT_ROLE_SERVER || (!i->role && r->st.role == BT_ROLE_SERVER))
		return true;
	if (i->role == BT_ROLE_CLIENT || (!i->role && r->st.role == BT_ROLE_CLIENT))
		return false;
	l = listening_on(m, proto, i->lport);
	rr = listening_on(m, proto, i->rport);
	if (l != rr)
		return l;
	if (ephemeral(i->lport) != ephemeral(i->rport))
		return !ephemeral(i->lport);
	return i->lport <= i->rport;
}

void bt_row_service(const struct bt_model *m, const struct bt_row *r, char *buf, size_t len)
{
	const struct bt_chan_info *i = &r->info;
	const char *kind = r->key.kind == BT_KIND_TCP ? "tcp" : "udp";
	char a[64];

	switch (r->key.kind) {
	case BT_KIND_UNIX_STREAM:
	case BT_KIND_UNIX_DGRAM:
		if (r->has_info && i->path[0])
			snprintf(buf, len, "unix:%.*s", (int)sizeof(i->path), i->path);
		else
			snprintf(buf, len, "unix:socketpair");
		return;
	case BT_KIND_TCP:
	case BT_KIND_UDP:
		if (!r->has_info || !i->rport)
			break;
		if (inet_local_serves(m, r))
			bt_inet_format(i->family, i->laddr, i->lport, a, sizeof(a));
		else
			bt_inet_format(i->family, i->raddr, i->rport, a, sizeof(a));
		snprintf(buf, len, "%s:%s", kind, a);
		return;
	}
	/* A pipe and a futex word are their own service. */
	snprintf(buf, len, "%s", r->channel);
}

/* ---- pools -------------------------------------------------------------- */

/* Whether one of a's channels has b at its far end (as the kernel named it). */
static bool talks_to(const struct bt_proc *a, const struct bt_proc *b)
{
	for (size_t i = 0; i < a->nrows; i++)
		if (a->rows[i].has_info && a->rows[i].info.peer_tgid == b->pid)
			return true;
	return false;
}

/* Whether two server or client rows name one service: a port, or a unix path. */
static bool same_service(const struct bt_chan_info *c, const struct bt_chan_info *s)
{
	if (c->family != s->family)
		return false;
	if (c->family == AF_UNIX)
		return c->path[0] && !strncmp(c->path, s->path, sizeof(c->path));
	return (c->family == AF_INET || c->family == AF_INET6) && c->rport == s->lport &&
	       !memcmp(c->raddr, s->laddr, sizeof(c->raddr));
}

/*
 * Whether a is a client of a service b serves. The kernel names a far
 * end only when it knew it at the first crossing (talks_to): not on a
 * connection opened before the trace to a process traced later.
 */
static bool calls_service_of(const struct bt_proc *a, const struct bt_proc *b)
{
	const struct bt_chan_info *last = NULL;

	for (size_t i = 0; i < b->nrows; i++) {
		const struct bt_row *s = &b->rows[i];

		if (!s->has_info || s->st.role != BT_ROLE_SERVER)
			continue;
		/* A server's rows are mostly its one listener's connections: one pass each. */
		if (last && last->family == s->info.family && last->lport == s->info.lport &&
		    !memcmp(last->laddr, s->info.laddr, sizeof(last->laddr)) &&
		    !strncmp(last->path, s->info.path, sizeof(last->path)))
			continue;
		last = &s->info;
		for (size_t j = 0; j < a->nrows; j++) {
			const struct bt_row *c = &a->rows[j];

			if (c->has_info && c->st.role == BT_ROLE_CLIENT && same_service(&c->info, &s->info))
				return true;
		}
	}
	return false;
}

static bool same_pool(const struct bt_proc *a, const struct bt_proc *b)
{
	/*
	 * Workers of a pool share their name too; mesh-b and mesh-c do not.
	 * Services a service manager or init started (parent 1) are
	 * unrelated however alike: a pool's workers are a master's children.
	 */
	if (!a->ppid || a->ppid == 1 || a->ppid != b->ppid || strcmp(a->comm, b->comm))
		return false;
	/* Two tiers of one program (a front calling its back) are two nodes. */
	if (talks_to(a, b) || talks_to(b, a) || calls_service_of(a, b) || calls_service_of(b, a))
		return false;
	/*
	 * One whose executable was not read (it exited before discovery
	 * looked: a backend forked for one short connection) goes by its
	 * parent and name.
	 */
	if (a->exe[0] && b->exe[0])
		return !strcmp(a->exe, b->exe);
	return true;
}

uint32_t bt_node_of(const struct bt_model *m, uint32_t pid)
{
	const struct bt_proc *p;
	uint32_t node = pid;

	if (!m->group_exe)
		return pid;
	p = bt_model_find((struct bt_model *)m, pid);
	if (!p)
		return pid;
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid < node && same_pool(p, &m->procs[i]))
			node = m->procs[i].pid;
	return node;
}

size_t bt_node_members(const struct bt_model *m, uint32_t node, uint32_t *out, size_t max)
{
	size_t n = 0;

	if (!m->group_exe) {
		if (max)
			out[0] = node;
		return 1;
	}
	/* Procs are sorted by pid: the members come out ascending. */
	for (size_t i = 0; i < m->nprocs; i++) {
		if (bt_node_of(m, m->procs[i].pid) != node)
			continue;
		if (n && n <= max && out[n - 1] == m->procs[i].pid)
			continue;	/* a reused pid is one member */
		if (n < max)
			out[n] = m->procs[i].pid;
		n++;
	}
	return n;
}

/* ---- edges ------------------------------------------------------------- */

static struct bt_edge *edge_get(struct bt_edges *e, uint32_t from, uint32_t to,
				unsigned int kind, const char *service)
{
	struct bt_edge *x;

	for (size_t i = 0; i < e->n; i++) {
		x = &e->v[i];
		if (x->from == from && x->to == to && x->kind == kind &&
		    !strcmp(x->service, service))
			return x;
	}
	if (!bt_grow((void **)&e->v, &e->cap, e->n + 1, sizeof(*e->v)))
		return NULL;
	x = &e->v[e->n++];
	memset(x, 0, sizeof(*x));
	x->from = from;
	x->to = to;
	x->kind = kind;
	snprintf(x->service, sizeof(x->service), "%s", service);
	return x;
}

/*
 * A new connection of the edge (from's node -> to's node, kind, service),
 * row being its row at one end (its channel names it): NULL out of memory.
 */
static struct bt_svc_conn *conn_add(struct bt_edges *e, const struct bt_model *m, uint32_t from,
				    uint32_t to, const char *service, const struct bt_row *row,
				    struct bt_edge **edge)
{
	struct bt_edge *x = edge_get(e, bt_node_of(m, from), bt_node_of(m, to), row->key.kind,
				     service);
	struct bt_svc_conn *c;

	if (!x || !bt_grow((void **)&x->conns, &x->capconns, x->nconns + 1, sizeof(*x->conns)))
		return NULL;
	c = &x->conns[x->nconns++];
	memset(c, 0, sizeof(*c));
	c->from = from;
	c->channel = row->channel;
	c->row = row;
	c->conn = row->has_info ? row->info.conn : 0;
	*edge = x;
	return c;
}

/* The receiver's waits on one of its rows of the edge. */
static void edge_add_wait(struct bt_edge *x, const struct bt_stats *st)
{
	x->blocked_ns += st->blocked_ns;
	if (st->max_blocked_ns > x->max_blocked_ns)
		x->max_blocked_ns = st->max_blocked_ns;
	bt_hist_add(x->blocked_hist, st->blocked_hist);
}

/*
 * The receiving side's blocked time on the far end of r, if traced; and
 * what it received there, when it is r's one reader and reads from p
 * alone (a stream socket, a pipe between two processes).
 */
/* The receive rows some send row was checked against (struct bt_edges' build only). */
struct matched {
	const struct bt_row **v;
	size_t n, cap;
	bool nomem;	/* one was not kept: the check from the receiving side cannot run */
	uint32_t *far;	/* add_receiver's far end rows (row numbers of one process) */
	size_t nfar, capfar;
};

static void add_receiver(const struct bt_model *m, const struct bt_proc *p,
			 const struct bt_row *r, const struct bt_proc *q, bool one_reader,
			 struct bt_edge *x, struct bt_svc_conn *c, struct matched *seen)
{
	int want = r->key.kind == BT_KIND_FUTEX ? BT_DIR_WAIT : BT_DIR_RECV;
	struct bt_peer back[BT_PEERS_MAX];
	bool alone = true, any = false;

	seen->nfar = 0;
	if (bt_far_end_rows(m, p->pid, r, q, want, &seen->far, &seen->nfar, &seen->capfar))
		seen->nomem = true;
	for (size_t j = 0; j < seen->nfar; j++) {
		const struct bt_row *o = &q->rows[seen->far[j]];
		bool pairs = false;
		size_t nb;

		nb = bt_row_peers(m, q, o, back, BT_PEERS_MAX);
		for (size_t k = 0; k < nb; k++)
			pairs |= back[k].pid == p->pid;
		if (!pairs)
			continue;
		alone &= nb == 1;
		any = true;
		if (bt_grow((void **)&seen->v, &seen->cap, seen->n + 1, sizeof(*seen->v)))
			seen->v[seen->n++] = o;
		else
			seen->nomem = true;
		c->recv_bytes += o->st.bytes;
		edge_add_wait(x, &o->st);
	}
	/* Datagrams may be dropped by design; a stream's two ends must agree. */
	c->recv_known = any && alone && one_reader && r->key.kind != BT_KIND_FUTEX &&
			r->key.kind != BT_KIND_UNIX_DGRAM && r->key.kind != BT_KIND_UDP;
	if (c->recv_known && c->recv_bytes != c->bytes)
		x->unseen_bytes += c->recv_bytes > c->bytes ? c->recv_bytes - c->bytes
							    : c->bytes - c->recv_bytes;
}

static int edges_of_row(const struct bt_model *m, const struct bt_proc *p,
			const struct bt_row *r, struct bt_edges *e, struct matched *seen)
{
	struct bt_peer peers[BT_PEERS_MAX];
	char service[BT_CHANNEL_LEN];
	size_t n;

	if (r->key.dir != BT_DIR_SEND && r->key.dir != BT_DIR_WAKE)
		return 0;
	n = bt_row_peers(m, p, r, peers, BT_PEERS_MAX);
	if (n)
		bt_row_service(m, r, service, sizeof(service));
	for (size_t i = 0; i < n; i++) {
		struct bt_edge *x;
		struct bt_svc_conn *c;

		if (!peers[i].pid)
			continue;	/* an address off this machine: no process edge */
		c = conn_add(e, m, p->pid, peers[i].pid, service, r, &x);
		if (!c)
			return -ENOMEM;
		c->calls = r->st.calls - r->st.errors;
		c->bytes = r->st.bytes;
		x->calls += c->calls;
		x->bytes += c->bytes;
		bt_hist_add(x->size_hist, r->st.size_hist);
		x->wakeups += bt_wake_count(m, p->pid, peers[i].pid, r);
		if (peers[i].proc)
			add_receiver(m, p, r, peers[i].proc, n == 1, x, c, seen);
	}
	return 0;
}

static int cmp_edge(const void *pa, const void *pb)
{
	const struct bt_edge *a = pa, *b = pb;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->service, b->service);
}

static bool socket_kind(unsigned int kind)
{
	return kind == BT_KIND_UNIX_STREAM || kind == BT_KIND_UNIX_DGRAM ||
	       kind == BT_KIND_TCP || kind == BT_KIND_UDP;
}

/* Opened, closed and alive over the edge's connections (sockets only). */
static void count_lives(struct bt_edge *x)
{
	if (!socket_kind(x->kind))
		return;
	x->opened_known = x->ended_known = true;
	for (size_t i = 0; i < x->nconns; i++) {
		uint8_t c = x->conns[i].conn;

		x->opened_known &= !!(c & (BT_CONN_NEW | BT_CONN_OLD));
		x->ended_known &= !!(c & (BT_CONN_ALIVE | BT_CONN_GONE));
		x->opened += !!(c & BT_CONN_NEW);
		x->closed += !!(c & BT_CONN_GONE);
		x->alive += !!(c & BT_CONN_ALIVE);
	}
}

/* A connection's key: the sending process, its socket and peer. */
static size_t conn_key(uint8_t *k, uint32_t pid, const struct bt_row *r)
{
	memcpy(k, &pid, sizeof(pid));
	k[4] = (uint8_t)r->key.kind;
	memcpy(k + 5, &r->key.chan, sizeof(r->key.chan));
	memcpy(k + 13, &r->key.peer, sizeof(r->key.peer));
	return 13 + sizeof(r->key.peer);
}

/* Every edge's connections by conn_key, (edge, connection) in order. */
static int index_conns(const struct bt_edges *e, struct bt_keyidx *ix)
{
	uint8_t k[BT_KEYIDX_KEY];

	for (size_t i = 0; i < e->n; i++)
		for (size_t c = 0; c < e->v[i].nconns; c++)
			if (bt_keyidx_add(ix, k, conn_key(k, e->v[i].conns[c].from,
							  e->v[i].conns[c].row),
					  (uint32_t)i, (uint32_t)c))
				return -ENOMEM;
	bt_keyidx_sort(ix);
	return 0;
}

/*
 * The edge whose connection row o (of pid) is one end of: the same socket
 * and peer (the first edge listing it).
 */
static struct bt_edge *edge_of_conn(struct bt_edges *e, const struct bt_keyidx *conns,
				    uint32_t pid, const struct bt_row *o)
{
	uint8_t k[BT_KEYIDX_KEY];
	size_t end, i = bt_keyidx_find(conns, k, conn_key(k, pid, o), &end);

	return i < end ? &e->v[conns->v[i].a] : NULL;
}

static void edge_add_exchanges(struct bt_edge *x, const struct bt_stats *s)
{
	x->exchanges += s->exchanges;
	x->exch_ns += s->exch_ns;
	if (s->max_exch_ns > x->max_exch_ns)
		x->max_exch_ns = s->max_exch_ns;
	bt_hist_add(x->exch_hist, s->exch_hist);
	if (s->role)
		x->role = s->role;
}

/*
 * Each row's exchanges into the edge of its connection, once: a client
 * counts them on its receive rows (the response's first bytes), a server
 * on its send rows, so both directions' rows of the sender are looked at.
 */
static int add_exchanges(const struct bt_model *m, struct bt_edges *e)
{
	struct bt_keyidx conns = { 0 };

	if (index_conns(e, &conns)) {
		bt_keyidx_free(&conns);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		for (size_t j = 0; j < p->nrows; j++) {
			const struct bt_row *o = &p->rows[j];
			struct bt_edge *x;

			if (!o->st.exchanges)
				continue;
			x = edge_of_conn(e, &conns, p->pid, o);
			if (x)
				edge_add_exchanges(x, &o->st);
		}
	}
	bt_keyidx_free(&conns);
	return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;

	return x < y ? -1 : x > y;
}

/* Whether a stream's two ends must agree on what crossed it (datagrams may be dropped). */
static bool agreement_kind(unsigned int kind)
{
	return kind == BT_KIND_UNIX_STREAM || kind == BT_KIND_TCP || kind == BT_KIND_PIPE;
}

/*
 * The agreement check from the receiving side: a traced process's
 * receive row whose one sender was traced (or counted) too, but whose
 * bytes no send row of that sender accounts for. Its sends there were
 * missed (made before the channel was marked, or before the sender was
 * followed): a connection of the sender's edge with no sends, all it
 * delivered unseen, never left out.
 */
static int unmatched_receives(const struct bt_model *m, struct bt_edges *e,
			      struct matched *seen)
{
	if (seen->n)
		qsort(seen->v, seen->n, sizeof(*seen->v), cmp_ptr);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *q = &m->procs[i];

		for (size_t j = 0; q->target && j < q->nrows; j++) {
			const struct bt_row *o = &q->rows[j];
			char service[BT_CHANNEL_LEN];
			struct bt_peer peer;
			const struct bt_proc *p;
			struct bt_svc_conn *c;
			struct bt_edge *x;

			if (o->key.dir != BT_DIR_RECV || !agreement_kind(o->key.kind) ||
			    !o->st.bytes ||
			    (seen->n && bsearch(&o, seen->v, seen->n, sizeof(*seen->v), cmp_ptr)))
				continue;
			if (bt_row_peers(m, q, o, &peer, 1) != 1 || !peer.pid || !peer.proc)
				continue;
			p = peer.proc;
			if (!p->target && !p->nrows)
				continue;	/* named only: nobody counted its sends */
			bt_row_service(m, o, service, sizeof(service));
			/* Named as the receiver names it: the sender has no row on it. */
			c = conn_add(e, m, p->pid, q->pid, service, o, &x);
			if (!c)
				return -ENOMEM;
			c->recv_known = true;
			c->recv_bytes = o->st.bytes;
			x->unseen_bytes += o->st.bytes;
			edge_add_wait(x, &o->st);
		}
	}
	return 0;
}

static int build_edges(const struct bt_model *m, struct bt_edges *out)
{
	struct matched seen = { 0 };

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		for (size_t j = 0; j < p->nrows; j++)
			if (edges_of_row(m, p, &p->rows[j], out, &seen))
				goto nomem;
	}
	free(seen.far);
	seen.far = NULL;
	if (seen.nomem || unmatched_receives(m, out, &seen))
		goto nomem;
	free(seen.v);
	seen.v = NULL;
	if (add_exchanges(m, out))
		goto nomem;
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_edge);
	for (size_t i = 0; i < out->n; i++) {
		out->unseen_bytes += out->v[i].unseen_bytes;
		count_lives(&out->v[i]);
	}
	return 0;
nomem:
	free(seen.v);
	free(seen.far);
	bt_edges_free(out);
	return -ENOMEM;
}

int bt_edges_build(const struct bt_model *m, struct bt_edges *out)
{
	/* Pairing looks its candidates up: index m once, unless the report did. */
	int err = bt_peer_index_begin(m), ret;

	if (err && err != -EBUSY) {
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	ret = build_edges(m, out);
	if (!err)
		bt_peer_index_end();
	return ret;
}

void bt_edges_free(struct bt_edges *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].conns);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

bool bt_proc_listed(const struct bt_model *m, const struct bt_edges *e, const struct bt_proc *p)
{
	uint32_t node = bt_node_of(m, p->pid);

	if (p->nrows || !strcmp(bt_proc_role(p), "target"))
		return true;
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].from == node || e->v[i].to == node)
			return true;
	return false;
}

const char *bt_proc_role(const struct bt_proc *p)
{
	if (p->child)
		return "child";
	if (p->target && !p->hop)
		return "target";
	return "peer";
}
